/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's operational messages (not events): stderr in the
 * foreground, syslog otherwise. The bottom of the daemon's modules: every
 * other one may log, and this one calls none of them.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

/* Where log_msg writes from now on: stderr (foreground) or syslog, opened
 * with the daemon's ident and LOG_PID. Call it once the process is the one
 * that will run (after daemon()); before, messages go to stderr. */
void log_open(bool foreground);

/* One message at priority (LOG_ERR, LOG_WARNING, LOG_INFO...), with no
 * trailing newline: the prefix and the newline are log_msg's. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An event of kind (about domain, or NULL) that could not even be made,
 * for want of memory: logged, since it cannot be recorded or spooled. */
void log_not_recorded(const char *kind, const char *domain);
