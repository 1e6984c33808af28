/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading the central inventory (query.h): the single-row stream every
 * query goes through, the listings, and the chain check. The findings are
 * findings.c's. Nothing here prints. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"
#include "virtgov/central/query.h"
#include "virtgov/ship/head.h"

#define MAX_COLUMNS 32

const char *central_row_get(const CentralRow *row, const char *name) {
        for (size_t i = 0; i < row->n; i++)
                if (!strcmp(row->names[i], name))
                        return row->values[i];
        return NULL;
}

/* Reads what is left of a result after fn stopped or an error: libpq
 * wants every result read before the next query. */
static void drain(Central *c) {
        PGresult *res;
        while ((res = PQgetResult(c->pg)))
                PQclear(res);
}

int central_stream(Central *c, const char *sql, int n_params, const char *const *params, const char *what,
                   int (*fn)(const struct CentralRow *row, void *u), void *u, VgError *err) {
        if (!PQsendQueryParams(c->pg, sql, n_params, NULL, params, NULL, NULL, 0))
                return central_fail(c, NULL, what, err);
        if (!PQsetSingleRowMode(c->pg)) {
                drain(c);
                return central_fail(c, NULL, what, err);
        }
        int r = 0;
        PGresult *res;
        while ((res = PQgetResult(c->pg))) {
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_SINGLE_TUPLE && r == 0) {
                        int n = PQnfields(res);
                        const char *names[MAX_COLUMNS], *values[MAX_COLUMNS];
                        if (n > MAX_COLUMNS)
                                n = MAX_COLUMNS;
                        for (int i = 0; i < n; i++) {
                                names[i] = PQfname(res, i);
                                values[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
                        }
                        CentralRow row = { (size_t) n, names, values };
                        r = fn(&row, u);
                } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && r == 0)
                        r = central_fail(c, res, what, err);
                PQclear(res);
        }
        /* A connection lost mid-stream ends with no error result. */
        if (r == 0 && PQstatus(c->pg) != CONNECTION_OK)
                r = central_fail(c, NULL, what, err);
        return r;
}

int central_hosts(Central *c, CentralRowFn fn, void *u, VgError *err) {
        /* The newest event per host by the primary key, one index probe
         * each; a head time that is not a time shows no age rather than
         * failing the listing. */
        static const char sql[] =
                "SELECT h.host_id, h.host_group, h.hostname, e.seq AS last_seq, e.time AS last_time, "
                "h.shipped_seq, h.head_seq, "
                "CASE WHEN h.head_time ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$' "
                "THEN floor(extract(epoch FROM now() - h.head_time::timestamptz))::bigint END AS head_age_s, "
                "floor(extract(epoch FROM now() - coalesce(e.received, e.at)))::bigint AS lag_s, "
                "h.libvirt_version, h.qemu_version, h.kernel, h.degraded, "
                "to_char(h.updated AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated "
                "FROM virtgov.hosts h LEFT JOIN LATERAL (SELECT seq, time, at, received FROM virtgov.events "
                "WHERE host_id = h.host_id ORDER BY seq DESC LIMIT 1) e ON true ORDER BY h.host_id";
        return central_stream(c, sql, 0, NULL, "reading the fleet's hosts", fn, u, err);
}

int central_domains(Central *c, const char *host, CentralRowFn fn, void *u, VgError *err) {
        static const char sql[] =
                "SELECT host_id, name, uuid, state, owner, ticket, persistent, vcpus, memory_kib "
                "FROM virtgov.domains WHERE $1::text IS NULL OR host_id = $1 ORDER BY host_id, name, uuid";
        const char *params[] = { host };
        return central_stream(c, sql, 1, params, "reading the fleet's domains", fn, u, err);
}

int central_events(Central *c, const CentralEventFilter *f, CentralRowFn fn, void *u, VgError *err) {
        /* A kind ending in '.' is a prefix (as virtgov events --kind
         * domain.); starts_with, not LIKE: the text is never a pattern. */
        static const char sql[] =
                "SELECT host_id, seq, time, source, kind, host, domain, uuid, decision, reason, actor, data, hash "
                "FROM (SELECT * FROM virtgov.events WHERE ($1::text IS NULL OR host_id = $1) "
                "AND ($2::text IS NULL OR kind = $2 OR (right($2, 1) = '.' AND starts_with(kind, $2))) "
                "AND ($3::timestamptz IS NULL OR at >= $3::timestamptz) "
                "ORDER BY at DESC, host_id DESC, seq DESC LIMIT $4::bigint) e ORDER BY at, host_id, seq";
        char since[VG_TIME_MAX], limit[24];
        if (f->since_us)
                vg_time_format(f->since_us, since);
        snprintf(limit, sizeof(limit), "%u", f->limit);
        const char *params[] = { f->host, f->kind, f->since_us ? since : NULL, f->limit ? limit : NULL };
        return central_stream(c, sql, 4, params, "reading the fleet's events", fn, u, err);
}

/* ---- the chain check ---- */

static void set_bad(CentralChainCheck *v, int64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_bad(CentralChainCheck *v, int64_t seq, const char *fmt, ...) {
        if (v->bad_seq)
                return;
        v->bad_seq = seq;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->bad, sizeof(v->bad), fmt, ap);
        va_end(ap);
}

typedef struct Walk {
        CentralChainCheck *v;
        uint8_t prev[CHAIN_HASH_SIZE];
} Walk;

/* One row (seq, the eleven chained fields in chain.h's order, prev_hash,
 * hash) against the running chain. After a gap or a broken row the walk
 * goes on from the row's own stored hashes, so that one problem does not
 * hide the next. */
static int walk_row(const CentralRow *row, void *u) {
        Walk *w = u;
        CentralChainCheck *v = w->v;
        int64_t seq = strtoll(row->values[0], NULL, 10);
        const char *stored_prev = row->values[CHAIN_FIELDS + 1], *stored = row->values[CHAIN_FIELDS + 2];
        uint8_t want_prev[CHAIN_HASH_SIZE], want[CHAIN_HASH_SIZE], h[CHAIN_HASH_SIZE];
        bool after_gap = seq != v->last_seq + 1;
        if (after_gap) {
                if (!v->gap_from) {
                        v->gap_from = v->last_seq + 1;
                        v->gap_to = seq - 1;
                }
                v->missing += seq - v->last_seq - 1;
        }
        v->rows++;
        v->last_seq = seq;
        snprintf(v->last_hash, sizeof(v->last_hash), "%s", stored);
        if (chain_unhex(stored_prev, want_prev) < 0 || chain_unhex(stored, want) < 0) {
                set_bad(v, seq, "event %" PRId64 ": its prev_hash or hash is not 64 hex digits", seq);
                v->bad_rows++;
                memset(w->prev, 0xff, sizeof(w->prev));
                return 0;
        }
        bool broken = false;
        if (!after_gap && memcmp(want_prev, w->prev, CHAIN_HASH_SIZE)) {
                broken = true;
                set_bad(v, seq, seq == 1 ? "event 1: its prev_hash is not 32 zero bytes"
                        : "event %" PRId64 ": its prev_hash is not the hash of event %" PRId64
                          " (rows replaced or reordered)", seq, seq - 1);
        }
        ChainRow cr = { .id = seq };
        for (size_t i = 0; i < CHAIN_FIELDS; i++) {
                cr.field[i] = row->values[1 + i];
                cr.len[i] = cr.field[i] ? strlen(cr.field[i]) : 0;
        }
        chain_hash(want_prev, &cr, h);
        if (memcmp(h, want, CHAIN_HASH_SIZE)) {
                broken = true;
                set_bad(v, seq, "event %" PRId64 ": its content does not match its hash (edited)", seq);
        }
        v->bad_rows += broken;   /* one row, however many things are wrong with it */
        memcpy(w->prev, want, CHAIN_HASH_SIZE);
        return 0;
}

/* Every host verified (one, or the fleet) in three statements however many
 * hosts there are: the hosts with their keys and forks, then every held
 * head, then every event in (host_id, seq) order, one streaming pass. The
 * heads and events come in the hosts' order (one ORDER BY host_id, one
 * collation), so each row's host is the current one or a later one. */
typedef struct Slot {
        char *id;
        HostKey key;
        CentralChainCheck v;
} Slot;

typedef struct Verify {
        Slot *slots;
        size_t n, cur, done;
        uint8_t prev[CHAIN_HASH_SIZE];   /* the walk of slots[cur] */
        int (*fn)(const CentralChainCheck *v, void *u);
        void *u;
        VgError *err;
} Verify;

/* The slot of host id, the current one or a later one (which becomes
 * current); NULL, the current one kept, for a host not among them. */
static Slot *slot_of(Verify *vf, const char *id) {
        for (size_t i = vf->cur; i < vf->n; i++)
                if (!strcmp(vf->slots[i].id, id)) {
                        if (i != vf->cur)
                                memset(vf->prev, 0, sizeof(vf->prev));
                        vf->cur = i;
                        return &vf->slots[i];
                }
        return NULL;
}

static int out_of_order(Verify *vf, const char *id) {
        return vg_error(vf->err, -EPROTO, "host '%s' came out of the hosts' order (the collation of host_id?)", id);
}

/* Hands each host before slot upto its result. */
static int finish(Verify *vf, size_t upto) {
        for (; vf->done < upto; vf->done++) {
                CentralChainCheck *v = &vf->slots[vf->done].v;
                v->host_id = vf->slots[vf->done].id;
                v->ok = !v->missing && !v->bad_rows && !v->forks && !v->heads_bad;
                int r = vf->fn(v, vf->u);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* host_id, host_key, forks, the first fork's seq. */
static int host_slot(const CentralRow *row, void *u) {
        Verify *vf = u;
        char *id = strdup(row->values[0]);
        if (!id || vg_grow((void **) &vf->slots, &vf->n, sizeof(*vf->slots)) < 0) {
                free(id);
                return -ENOMEM;
        }
        Slot *s = &vf->slots[vf->n - 1];
        *s = (Slot) { .id = id };
        const char *key = row->values[1];
        s->v.forks = strtoll(row->values[2], NULL, 10);
        s->v.fork_seq = row->values[3] ? strtoll(row->values[3], NULL, 10) : 0;
        s->v.has_key = key && strlen(key) == 2 * HEAD_KEY_SIZE && vg_unhex(key, HEAD_KEY_SIZE, s->key.pub) == 0;
        return 0;
}

static void head_bad(CentralChainCheck *v, int64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void head_bad(CentralChainCheck *v, int64_t seq, const char *fmt, ...) {
        v->heads_bad++;
        if (v->head_bad_seq)
                return;
        v->head_bad_seq = seq;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->head_bad, sizeof(v->head_bad), fmt, ap);
        va_end(ap);
}

/* A held head: host_id, src ('heads' or 'hosts'), seq, hash, time, sig,
 * held (the events row's hash of that seq, NULL when there is none). */
static int head_row(const CentralRow *row, void *u) {
        Verify *vf = u;
        Slot *s = slot_of(vf, row->values[0]);
        if (!s)   /* a host with heads only: not one verify checks */
                return 0;
        CentralChainCheck *v = &s->v;
        const char *src = row->values[1], *hash = row->values[3], *time = row->values[4],
                   *sig = row->values[5], *held = row->values[6];
        int64_t seq = strtoll(row->values[2], NULL, 10);
        v->heads++;
        if (!held) {
                head_bad(v, seq, "head %" PRId64 " (%s): no event %" PRId64 " is held (the chain lost it)", seq,
                         src, seq);
                return 0;
        }
        if (!hash || strcmp(hash, held)) {
                head_bad(v, seq, "head %" PRId64 " (%s): its hash is not event %" PRId64 "'s", seq, src, seq);
                return 0;
        }
        if (!v->has_key || !sig || !*sig)
                return 0;
        /* The line the host signed (head.h), parsed back: its signed text
         * is rebuilt exactly as the host's was. */
        _cleanup_free_ char *line = NULL;
        Head h;
        VgError perr;
        if (asprintf(&line, "chain.head id=%" PRId64 " hash=%s host=%s time=%s sig=%s", seq, hash, s->id,
                     time ? time : "", sig) < 0)
                return -ENOMEM;
        if (head_parse(line, &h, &perr) != 1 || !head_verify(&h, &s->key))
                head_bad(v, seq, "head %" PRId64 " (%s): its signature is not the host key's", seq, src);
        else
                v->heads_signed++;
        return 0;
}

/* An event (walk_row's columns, then host_id): the hosts before its own
 * are done, so they are handed on as the stream goes. */
static int event_row(const CentralRow *row, void *u) {
        Verify *vf = u;
        const char *id = row->values[CHAIN_FIELDS + 3];
        Slot *s = slot_of(vf, id);
        if (!s)
                return out_of_order(vf, id);
        int r = finish(vf, vf->cur);
        if (r < 0)
                return r;
        Walk w = { .v = &s->v };
        memcpy(w.prev, vf->prev, sizeof(w.prev));
        r = walk_row(row, &w);
        memcpy(vf->prev, w.prev, sizeof(vf->prev));
        return r;
}

int central_verify(Central *c, const char *host, int (*fn)(const CentralChainCheck *v, void *u), void *u,
                   VgError *err) {
        /* The host ids with a hosts, events or conflicts row, whole (a few
         * thousand): those of events by a skip scan of its primary key,
         * one probe a host, not a read of every row. */
        static const char hosts[] =
                "WITH RECURSIVE ev AS ((SELECT host_id FROM virtgov.events WHERE $1::text IS NULL OR host_id = $1 "
                "ORDER BY host_id LIMIT 1) UNION ALL SELECT (SELECT e.host_id FROM virtgov.events e "
                "WHERE e.host_id > ev.host_id AND ($1::text IS NULL OR e.host_id = $1) ORDER BY e.host_id LIMIT 1) "
                "FROM ev WHERE ev.host_id IS NOT NULL), "
                "forks AS (SELECT host_id, count(*) AS n, min(seq) AS first FROM virtgov.conflicts "
                "WHERE $1::text IS NULL OR host_id = $1 GROUP BY host_id), "
                "ids AS (SELECT host_id FROM virtgov.hosts WHERE $1::text IS NULL OR host_id = $1 "
                "UNION SELECT host_id FROM ev WHERE host_id IS NOT NULL UNION SELECT host_id FROM forks) "
                "SELECT i.host_id, h.host_key, coalesce(f.n, 0), f.first FROM ids i "
                "LEFT JOIN virtgov.hosts h USING (host_id) LEFT JOIN forks f USING (host_id) ORDER BY 1";
        static const char heads[] =
                "SELECT h.host_id, 'heads' AS src, h.seq, h.hash, h.time, h.sig, e.hash AS held FROM virtgov.heads h "
                "LEFT JOIN virtgov.events e ON e.host_id = h.host_id AND e.seq = h.seq "
                "WHERE $1::text IS NULL OR h.host_id = $1 "
                "UNION ALL SELECT o.host_id, 'hosts', o.head_seq, o.head_hash, o.head_time, o.head_sig, e.hash "
                "FROM virtgov.hosts o LEFT JOIN virtgov.events e ON e.host_id = o.host_id AND e.seq = o.head_seq "
                "WHERE ($1::text IS NULL OR o.host_id = $1) AND o.head_seq IS NOT NULL ORDER BY 1, 3, 2";
        static const char events[] =
                "SELECT seq, time, ref, source, kind, host, domain, uuid, decision, reason, actor, data, "
                "prev_hash, hash, host_id FROM virtgov.events WHERE $1::text IS NULL OR host_id = $1 "
                "ORDER BY host_id, seq";
        Verify vf = { .fn = fn, .u = u, .err = err };
        const char *params[] = { host };
        int r = central_stream(c, hosts, 1, params, "reading the fleet's host ids", host_slot, &vf, err);
        if (r == 0 && host && !vf.n)
                r = vg_error(err, -ENOENT, "no host '%s' in the central inventory", host);
        if (r == 0 && vf.n) {
                r = central_stream(c, heads, 1, params, "reading the heads held", head_row, &vf, err);
                vf.cur = 0;
                memset(vf.prev, 0, sizeof(vf.prev));
        }
        if (r == 0 && vf.n)
                r = central_stream(c, events, 1, params, "reading the chains", event_row, &vf, err);
        if (r == 0)
                r = finish(&vf, vf.n);
        if (r == -ENOMEM && !err->text[0])
                r = vg_error(err, r, "out of memory");
        for (size_t i = 0; i < vf.n; i++)
                free(vf.slots[i].id);
        free(vf.slots);
        return r;
}
