/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events as journal entries (ship/journal.h). The fields are one table
 * below; the only I/O is sd_journal_sendv, and the only caller the daemon.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* No CODE_FILE, CODE_LINE, CODE_FUNC: they name this file, not the event. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/ship/journal.h"
#include "virtgov/store/eventlog.h"
#include "virtgov/model/kinds.h"

static const char *s_kind(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->kind; }
static const char *s_ref(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->ref; }
static const char *s_time(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->time[0] ? e->time : NULL; }
static const char *s_source(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->source; }
static const char *s_host(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->host; }
static const char *s_domain(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->domain; }
static const char *s_uuid(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->uuid; }
static const char *s_decision(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->decision; }
static const char *s_reason(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->reason; }
static const char *s_actor(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->actor; }
static const char *s_hash(const Event *e, char *b, size_t n) { (void) b, (void) n; return e->hash[0] ? e->hash : NULL; }

static const char *s_id(const Event *e, char *b, size_t n) {
        if (e->id <= 0)
                return NULL;
        snprintf(b, n, "%" PRId64, e->id);
        return b;
}

/* data decoded, for the two fields read from it: e->data, or e->data_text
 * parsed, only when it names the key at all (most events do not; a query
 * for the copy gives the stored text, not the tree). NULL: none. The
 * caller decrefs. */
static json_t *data_of(const Event *e, const char *key) {
        if (!e->data_text)
                return json_incref(e->data);
        char quoted[32];
        snprintf(quoted, sizeof(quoted), "\"%s\"", key);
        return strstr(e->data_text, quoted) ? json_loads(e->data_text, 0, NULL) : NULL;
}

/* The login uid of the person who acted, as audit_actor() put it in data. */
static const char *s_auid(const Event *e, char *b, size_t n) {
        json_t *data = data_of(e, "auid");
        json_t *auid = json_object_get(json_object_get(data, "actor"), "auid");
        const char *r = NULL;
        if (json_is_integer(auid)) {
                snprintf(b, n, "%" JSON_INTEGER_FORMAT, json_integer_value(auid));
                r = b;
        }
        json_decref(data);
        return r;
}

/* event_ticket's rule, as the ECS document has it too. */
static const char *s_ticket(const Event *e, char *b, size_t n) {
        json_t *data = data_of(e, "ticket");
        const char *t = event_ticket(data), *r = NULL;
        if (t && strlen(t) < n) {
                strcpy(b, t);
                r = b;
        }
        json_decref(data);
        return r;
}

typedef struct Field {
        const char *name;
        const char *(*value)(const Event *e, char *buf, size_t n);
} Field;

/* Every structured field, in the order they are written. A field whose
 * value is NULL is left out, never sent empty. */
static const Field fields[] = {
        { "VIRTGOV_KIND", s_kind },
        { "VIRTGOV_ID", s_id },
        /* The place in the hash chain: rows are chained in id order. */
        { "VIRTGOV_SEQ", s_id },
        { "VIRTGOV_REF", s_ref },
        { "VIRTGOV_TIME", s_time },
        { "VIRTGOV_SOURCE", s_source },
        { "VIRTGOV_HOST", s_host },
        { "VIRTGOV_DOMAIN", s_domain },
        { "VIRTGOV_UUID", s_uuid },
        { "VIRTGOV_DECISION", s_decision },
        { "VIRTGOV_REASON", s_reason },
        { "VIRTGOV_ACTOR", s_actor },
        { "VIRTGOV_AUID", s_auid },
        { "VIRTGOV_TICKET", s_ticket },
        { "VIRTGOV_HASH", s_hash },
};

/* Where each field starts in the memstream, and its length: the buffer
 * moves as it grows, so the iovecs are made only after fclose. */
typedef struct Builder {
        FILE *f;
        size_t off[EVENTLOG_JOURNAL_FIELDS_MAX], len[EVENTLOG_JOURNAL_FIELDS_MAX];
        size_t n;
} Builder;

static void add(Builder *b, const char *name, const char *value, size_t vlen) {
        if (b->n >= EVENTLOG_JOURNAL_FIELDS_MAX)
                return;
        long start = ftell(b->f);
        fprintf(b->f, "%s=", name);
        fwrite(value, 1, vlen, b->f);
        b->off[b->n] = (size_t) start;
        b->len[b->n++] = (size_t) (ftell(b->f) - start);
}

static void add_str(Builder *b, const char *name, const char *value) {
        if (value)
                add(b, name, value, strlen(value));
}

static int finish(const Builder *b, char *buf, JournalEntry *ret) {
        *ret = (JournalEntry) { .n = b->n, .buf = buf };
        for (size_t i = 0; i < b->n; i++)
                ret->iov[i] = (struct iovec) { buf + b->off[i], b->len[i] };
        return 0;
}

int eventlog_journal_entry(const Event *e, const char *host_id, JournalEntry *ret) {
        _cleanup_free_ char *line = NULL;
        int r = eventlog_format(e, &line);
        if (r < 0)
                return r;
        char *buf = NULL;
        size_t size = 0;
        Builder b = { .f = open_memstream(&buf, &size) };
        if (!b.f)
                return -ENOMEM;

        add_str(&b, "MESSAGE", line);
        const EventKind *k = event_kind(e->kind);
        if (k && k->message_id)
                add_str(&b, "MESSAGE_ID", k->message_id);
        char num[32];
        snprintf(num, sizeof(num), "%d", eventlog_severity(e));
        add_str(&b, "PRIORITY", num);
        add_str(&b, "SYSLOG_FACILITY", "3");
        add_str(&b, "SYSLOG_IDENTIFIER", "virtgov");
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                char scratch[256];
                add_str(&b, fields[i].name, fields[i].value(e, scratch, sizeof(scratch)));
        }
        add_str(&b, "VIRTGOV_HOST_ID", host_id && *host_id ? host_id : NULL);
        _cleanup_free_ char *dumped = e->data && !e->data_text && json_object_size(e->data) ?
                json_dumps(e->data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *data = e->data_text && strcmp(e->data_text, "{}") ? e->data_text : dumped;
        if (data && strlen(data) > EVENTLOG_JOURNAL_DATA_MAX) {
                add(&b, "VIRTGOV_DATA", data, EVENTLOG_JOURNAL_DATA_MAX - 4);
                fputs("...", b.f);
                b.len[b.n - 1] += 3;
        } else
                add_str(&b, "VIRTGOV_DATA", data);

        if (ferror(b.f) || fclose(b.f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        return finish(&b, buf, ret);
}

void eventlog_journal_entry_done(JournalEntry *j) {
        free(j->buf);
        *j = (JournalEntry) { .n = 0 };
}

int eventlog_journal_send(const Event *e, const char *host_id) {
        JournalEntry j;
        int r = eventlog_journal_entry(e, host_id, &j);
        if (r < 0)
                return r;
        r = sd_journal_sendv(j.iov, (int) j.n);
        eventlog_journal_entry_done(&j);
        return r;
}

int eventlog_journal_send_head(const Head *h, const char *line) {
        char seq[32];
        snprintf(seq, sizeof(seq), "%" PRId64, h->id);
        /* MESSAGE is the signed line, as syslog gets it: verify --heads
         * reads it from either. The fields are for the central log's
         * queries. */
        return sd_journal_send("MESSAGE=%s", line,
                               "MESSAGE_ID=" EVENTLOG_JOURNAL_HEAD_ID,
                               "PRIORITY=%d", LOG_NOTICE,
                               "SYSLOG_FACILITY=3",
                               "SYSLOG_IDENTIFIER=virtgov",
                               "VIRTGOV_KIND=chain.head",
                               "VIRTGOV_SEQ=%s", seq,
                               "VIRTGOV_HASH=%s", h->hash,
                               "VIRTGOV_HOST_ID=%s", h->host,
                               "VIRTGOV_TIME=%s", h->time,
                               NULL);
}

bool eventlog_journal_present(void) {
        return access(EVENTLOG_JOURNAL_SOCKET, F_OK) == 0;
}
