/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/* One process, one destination: a global, as syslog's own state is. */
static bool to_syslog;

void log_open(bool foreground) {
        to_syslog = !foreground;
        if (to_syslog)
                openlog("virtgov-inventoryd", LOG_PID, LOG_DAEMON);
}

void log_not_recorded(const char *kind, const char *domain) {
        log_msg(LOG_ERR, "out of memory: event %s%s%s%s NOT recorded", kind, domain ? " of '" : "",
                domain ? domain : "", domain ? "'" : "");
}

void log_msg(int priority, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (to_syslog)
                vsyslog(priority, fmt, ap);
        else {
                fprintf(stderr, "virtgov-inventoryd: %s", priority <= LOG_ERR ? "error: " :
                        priority == LOG_WARNING ? "warning: " : "");
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        va_end(ap);
}
