/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a row that authorizes an activation (an approval, a change ticket,
 * a trusted image) may hold: its bounds, checked twice.
 *
 * At input (approve, ticket add and import, image trust, and the store's
 * puts under them), so that nothing is stored that a decision cannot
 * afford to read. And again wherever rows are read for a decision, for an
 * inventory may hold rows no check saw: written by an older virtgov, or
 * edited by hand. There a row that fails is skipped, so it authorizes
 * nothing, and reported (store_authz_invalid: the daemon's daemon.degraded,
 * 'virtgov verify'); it is never a reason to fail another domain's
 * decision. (One expired ticket with a 50,001-byte glob once failed every
 * decision on the host: SQLite's GLOB refused the pattern.)
 */
#pragma once

#include <stddef.h>

#include "virtgov/authz/approval.h"
#include "virtgov/host/image.h"
#include "virtgov/util/util.h"

/* A name: a domain's, a ticket's ID, an owner, a person. A persistent
 * domain's name is a file name to libvirt (/etc/libvirt/qemu/NAME.xml),
 * so no domain libvirt keeps has a name over NAME_MAX (255) bytes; a
 * change system's IDs and people are shorter still. */
#define AUTHZ_NAME_MAX 255
/* A ticket's domain glob: four bytes of pattern for every byte of the
 * longest name ("[a-z]" is five for one) is more than a pattern needs. */
#define AUTHZ_GLOB_MAX 1024
/* One ticket import. A ticket is at most about 1.7 KiB within the bounds
 * above, and typically 200 bytes: 16 MiB is some 80,000 tickets, more
 * than a year of a change system's export. */
#define AUTHZ_IMPORT_MAX (16 * 1024 * 1024)

/* -ENAMETOOLONG when s (NULL: fine) is longer than max bytes, with err
 * naming what (formatted from fmt: "ticket '%s': its domain glob") and
 * both lengths. The message is made only for a row that fails: decisions
 * check every row they read, and almost every row passes. */
int authz_check_length(const char *s, size_t max, VgError *err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* -EINVAL or -ENAMETOOLONG, with err saying why, when a cannot be
 * evaluated: no key, or a field over its bound. */
int authz_check_approval(const Approval *a, VgError *err);

/* The same for a trusted image's row: its path absolute and under
 * PATH_MAX (what stat(2) takes), trusted_by a name. */
int authz_check_image(const ImageRecord *r, VgError *err);

/* A name as an error message may quote it: s itself when short, else
 * its first 64 bytes and "..." in buf. */
const char *authz_quote(const char *s, char buf[static 72]);
