/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debian version ordering, as dpkg --compare-versions orders them
 * (deb-version(7)): [EPOCH:]UPSTREAM[-REVISION], each part compared
 * left to right in alternating runs of non-digits (letters before
 * anything else, '~' before even the end) and digits (as numbers).
 * Pure: no I/O, no allocation.
 */
#pragma once

/*
 * <0, 0 or >0 as a is older than, the same as or newer than b. NULL is
 * the empty version. A malformed epoch (not all digits before the first
 * ':') is compared as part of the upstream version, as dpkg does with
 * what it would refuse to install: the order stays total.
 */
int dpkg_version_compare(const char *a, const char *b);
