/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit-ctl: the kernel's audit for the integration test and the bench,
 * without auditd's userspace (the daemon must work without it).
 *
 *   audit-ctl status                    prints the enabled flag (0, 1, 2)
 *   audit-ctl lost                      prints the kernel's lost counter
 *   audit-ctl enable 0|1                sets it
 *   audit-ctl backlog N                 sets the backlog limit, prints the old one
 *   audit-ctl pam start|end|auth USER ADDR success|failed
 *                                       a PAM record as libpam sends it
 *                                       (audit_log_acct_message), from "sshd"
 *   audit-ctl flood RATE SECONDS        RATE USER_START records a second (bench),
 *                                       prints how many were sent
 *   audit-ctl wtmp FILE USER HOST AGE_S appends a login AGE_S seconds ago to FILE
 */
#include <errno.h>
#include <libaudit.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>

#include "virtgov/audit/audit.h"

static int status(int fd, AuditStatus *st) {
        int r = audit_kernel_status(fd, st);
        if (r < 0)
                fprintf(stderr, "audit-ctl: status: %s\n", strerror(-r));
        return r;
}

static int pam(int fd, const char *what, const char *user, const char *addr, const char *res) {
        int type = !strcmp(what, "start") ? AUDIT_USER_START : !strcmp(what, "end") ? AUDIT_USER_END : AUDIT_USER_AUTH;
        const char *op = type == AUDIT_USER_START ? "PAM:session_open" : type == AUDIT_USER_END ? "PAM:session_close"
                       : "PAM:authentication";
        int r = audit_log_acct_message(fd, type, "/usr/sbin/sshd", op, user, -1, addr, addr, "ssh",
                                       !strcmp(res, "success"));
        if (r <= 0)
                fprintf(stderr, "audit-ctl: pam: %s\n", strerror(errno));
        return r <= 0 ? 1 : 0;
}

static int64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Paced in 1 ms steps. Each record names its sequence number in acct, so a
 * reader can tell which ones it missed. */
static int flood(int fd, long rate, long seconds) {
        int64_t start = now_us();
        long sent = 0, total = rate * seconds;
        char user[32];
        while (sent < total) {
                int64_t due = (int64_t) ((double) (now_us() - start) / 1e6 * (double) rate);
                if (due > total)
                        due = total;
                for (; sent < due; sent++) {
                        snprintf(user, sizeof(user), "bench%ld", sent);
                        if (audit_log_acct_message(fd, AUDIT_USER_START, "/usr/sbin/sshd", "PAM:session_open", user,
                                                   -1, "192.0.2.1", "192.0.2.1", "ssh", 1) <= 0) {
                                fprintf(stderr, "audit-ctl: flood: %s\n", strerror(errno));
                                return 1;
                        }
                }
                usleep(1000);
        }
        printf("%ld\n", sent);
        return 0;
}

static int wtmp(const char *file, const char *user, const char *host, long age) {
        struct utmp u = { .ut_type = USER_PROCESS, .ut_pid = 1 };
        snprintf(u.ut_user, sizeof(u.ut_user), "%s", user);
        snprintf(u.ut_host, sizeof(u.ut_host), "%s", host);
        snprintf(u.ut_line, sizeof(u.ut_line), "pts/9");
        u.ut_tv.tv_sec = (int32_t) (time(NULL) - age);
        /* (updwtmp appends to an existing file only) */
        FILE *f = fopen(file, "ae");
        if (!f)
                return 1;
        fclose(f);
        updwtmp(file, &u);
        return 0;
}

int main(int argc, char **argv) {
        if (argc >= 6 && !strcmp(argv[1], "wtmp"))
                return wtmp(argv[2], argv[3], argv[4], atol(argv[5]));
        int fd = audit_open();
        if (fd < 0) {
                fprintf(stderr, "audit-ctl: %s\n", strerror(errno));
                return 1;
        }
        AuditStatus st;
        if (argc == 2 && !strcmp(argv[1], "status")) {
                if (status(fd, &st) < 0)
                        return 1;
                printf("%u\n", st.enabled);
                return 0;
        }
        if (argc == 2 && !strcmp(argv[1], "lost")) {
                if (status(fd, &st) < 0)
                        return 1;
                printf("%u\n", st.lost);
                return 0;
        }
        if (argc == 3 && !strcmp(argv[1], "enable")) {
                int r = audit_kernel_set_enabled(fd, atoi(argv[2]) != 0);
                if (r < 0)
                        fprintf(stderr, "audit-ctl: enable: %s\n", strerror(-r));
                return r < 0;
        }
        if (argc == 3 && !strcmp(argv[1], "backlog")) {
                if (status(fd, &st) < 0 || audit_set_backlog_limit(fd, (uint32_t) atol(argv[2])) <= 0)
                        return 1;
                printf("%u\n", st.backlog_limit);
                return 0;
        }
        if (argc == 6 && !strcmp(argv[1], "pam"))
                return pam(fd, argv[2], argv[3], argv[4], argv[5]);
        if (argc == 4 && !strcmp(argv[1], "flood"))
                return flood(fd, atol(argv[2]), atol(argv[3]));
        fprintf(stderr, "usage: audit-ctl status | enable 0|1 | backlog N | pam start|end|auth USER ADDR success|failed "
                "| flood RATE SECONDS | wtmp FILE USER HOST AGE_S\n");
        return 2;
}
