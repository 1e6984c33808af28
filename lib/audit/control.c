/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's audit control through libaudit: status, on/off, rules. */
#include <errno.h>
#include <libaudit.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "virtgov/audit/audit.h"

int audit_kernel_status(int fd, AuditStatus *ret) {
        int r = audit_request_status(fd);
        if (r < 0)
                return r == -1 ? -errno : r;
        /* libaudit's blocking read waits forever for an answer that a
         * refused request never gets: poll with a bound instead. */
        for (int tries = 0; tries < 20; tries++) {
                struct pollfd p = { fd, POLLIN, 0 };
                if (poll(&p, 1, 50) < 0 && errno != EINTR)
                        return -errno;
                struct audit_reply rep;
                r = audit_get_reply(fd, &rep, GET_REPLY_NONBLOCKING, 0);
                if (r <= 0)
                        continue;
                if (rep.type == NLMSG_ERROR && rep.error->error)
                        return rep.error->error;
                if (rep.type != AUDIT_GET)
                        continue;
                *ret = (AuditStatus) { .enabled = rep.status->enabled, .lost = rep.status->lost,
                                       .backlog = rep.status->backlog, .backlog_limit = rep.status->backlog_limit,
                                       .rate_limit = rep.status->rate_limit, .pid = rep.status->pid };
                return 0;
        }
        return -ETIMEDOUT;
}

int audit_kernel_set_enabled(int fd, bool on) {
        int r = audit_set_enabled(fd, on ? 1 : 0);
        return r < 0 ? (r == -1 ? -errno : r) : 0;
}

static int perms_of(const char *p) {
        int perms = 0;
        for (; *p; p++)
                perms |= *p == 'x' ? AUDIT_PERM_EXEC : *p == 'w' ? AUDIT_PERM_WRITE : *p == 'a' ? AUDIT_PERM_ATTR :
                         *p == 'r' ? AUDIT_PERM_READ : 0;
        return perms;
}

int audit_kernel_rules(int fd, const char *etc_dir, bool remove, VgError *err) {
        for (const AuditRule *ar = audit_rules(); ar->path; ar++) {
                char path[PATH_MAX], key[64];
                snprintf(path, sizeof(path), "%s%s%s", ar->path[0] == '/' ? "" : etc_dir,
                         ar->path[0] == '/' ? "" : "/", ar->path);
                snprintf(key, sizeof(key), "key=%s", ar->key);
                struct stat st;
                /* As auditctl does: a directory is watched as a tree. */
                int type = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? AUDIT_DIR : AUDIT_WATCH;
                struct audit_rule_data *rule = audit_rule_create_data();
                if (!rule)
                        return vg_error(err, -ENOMEM, "out of memory");
                int r = audit_add_watch_dir(type, &rule, path);
                if (r >= 0)
                        r = audit_update_watch_perms(rule, perms_of(ar->perms));
                if (r >= 0)
                        r = audit_rule_fieldpair_data(&rule, key, AUDIT_FILTER_EXIT);
                if (r >= 0)
                        r = remove ? audit_delete_rule_data(fd, rule, AUDIT_FILTER_EXIT, AUDIT_ALWAYS)
                                   : audit_add_rule_data(fd, rule, AUDIT_FILTER_EXIT, AUDIT_ALWAYS);
                audit_rule_free_data(rule);
                if (r == -1)
                        r = -errno;
                if (r < 0 && r != -EEXIST && !(remove && r == -ENOENT))
                        return vg_error(err, r, "audit rule '-w %s -p %s -k %s': %s", path, ar->perms, ar->key,
                                        strerror(-r));
        }
        return 0;
}
