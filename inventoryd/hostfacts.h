/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the host is, recorded when it changes: its software (libvirt, the
 * hypervisor, the kernel: host.software), its identity (the
 * machine-id and libvirt's host UUID: host.identity) and its CPUs and
 * memory (host.capacity), each compared with the last event of its kind
 * for this host at every connect.
 */
#pragma once

#include "conn.h"

void hostfacts_note(Conn *c);
