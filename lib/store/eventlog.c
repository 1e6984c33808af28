/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/store/eventlog.h"
#include "virtgov/model/kinds.h"

#define DATA_MAX 2048

/* Appends key=value to the open memstream, quoting when needed. */
static void put(FILE *f, const char *key, const char *v, bool first) {
        if (!first)
                fputc(' ', f);
        fprintf(f, "%s=", key);
        if (!v) {
                fputc('-', f);
                return;
        }
        if (vg_is_plain(v)) {
                fputs(v, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) v; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

int eventlog_format(const Event *e, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        char id[32];
        snprintf(id, sizeof(id), "%lld", (long long) e->id);
        put(f, "id", e->id > 0 ? id : NULL, true);
        put(f, "time", e->time, false);
        put(f, "source", e->source, false);
        put(f, "kind", e->kind, false);
        put(f, "host", e->host, false);
        put(f, "domain", e->domain, false);
        put(f, "uuid", e->uuid, false);
        put(f, "decision", e->decision, false);
        put(f, "reason", e->reason, false);
        put(f, "actor", e->actor, false);
        /* The stored text when the query gave it (the same compact, sorted
         * JSON): no decoding and dumping again for each line. */
        _cleanup_free_ char *dumped = e->data && !e->data_text ? json_dumps(e->data, JSON_COMPACT | JSON_SORT_KEYS)
                                                               : NULL;
        const char *data = e->data_text ? e->data_text : dumped;
        char cut[DATA_MAX];
        if (data && strlen(data) > DATA_MAX) {
                memcpy(cut, data, DATA_MAX - 4);
                strcpy(cut + DATA_MAX - 4, "...");
                data = cut;
        }
        put(f, "data", data, false);
        /* Its link in the hash chain: the central copy anchors the local one. */
        if (e->hash[0])
                put(f, "hash", e->hash, false);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int eventlog_severity(const Event *e) {
        const EventKind *k = event_kind(e->kind);
        unsigned flags = k ? k->flags : 0;
        if (flags & KIND_ERROR)
                return LOG_ERR;
        if ((flags & KIND_ALERT) || (e->decision && !strcmp(e->decision, "deny")))
                return LOG_WARNING;
        return LOG_NOTICE;
}

int eventlog_send(const char *socket_path, int priority, const char *ident, const char *msg) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;

        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
        _cleanup_free_ char *dgram = NULL;
        int n = asprintf(&dgram, "<%d>%s %s[%ld]: %s", priority, stamp, ident, (long) getpid(), msg);
        if (n < 0)
                return -ENOMEM;
        if (sendto(fd, dgram, (size_t) n, MSG_NOSIGNAL, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}
