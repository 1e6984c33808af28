/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events as syslog lines: one line per event, its fields as key=value, so
 * that journald or rsyslog carry a copy of the inventory to a central log
 * (ISM-1607) where an attacker on the host cannot edit it.
 */
#pragma once

#include "virtgov/model/event.h"

/*
 * "id=12 time=2026-... source=hook kind=domain.started host=kvm1 domain=web-7
 * uuid=... decision=- reason=- actor=- data={...}". Values that are not
 * plain ([A-Za-z0-9._:@+/-]) are double-quoted with '"', '\' and control
 * bytes escaped, so a hostile domain name cannot forge a field or a line.
 * data is compact JSON, cut at about 2 KiB. Caller frees *ret.
 */
int eventlog_format(const Event *e, char **ret);

/* The syslog severity for an event: warning for denials, violations and
 * bypasses, error for policy errors, notice otherwise. */
int eventlog_severity(const Event *e);

/*
 * Sends one message to the local syslog socket (normally /dev/log) as an
 * RFC 3164 datagram with the given facility|severity and ident. Returns 0 or
 * a negative errno (-ENOENT, -ECONNREFUSED when no syslog daemon listens).
 */
int eventlog_send(const char *socket_path, int priority, const char *ident, const char *msg);
