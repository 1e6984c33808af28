/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipper's round and its events (ship.h). Nothing here writes the
 * local inventory or logs: the round's result goes back to its caller.
 * Memory is one batch of rows at a time (central_batch events, their
 * strings copied from SQLite's row into libpq's parameters), never the
 * backlog.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ship-priv.h"
#include "virtgov/util/cleanup.h"

/* The columns a host sends; at is time again, parsed by the server. */
#define EVENT_COLUMNS "host_id, seq, time, at, ref, source, kind, host, domain, uuid, decision, reason, " \
        "actor, data, prev_hash, hash"
/* Parameters per row: all but host_id ($1, shared) and at (time's). */
#define ROW_PARAMS 14

static const char zero_hash[CHAIN_HEX_SIZE] =
        "0000000000000000000000000000000000000000000000000000000000000000";

void ship_cancel_init(ShipCancel *c) {
        pthread_mutex_init(&c->lock, NULL);
        c->fd = -1;
        c->stop = false;
}

void ship_cancel(ShipCancel *c) {
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        /* Not close: the fd is libpq's, and PQfinish on the round's thread
         * closes it. shutdown makes its blocked read return. */
        if (c->fd >= 0)
                (void) shutdown(c->fd, SHUT_RDWR);
        pthread_mutex_unlock(&c->lock);
}

/* Publishes the round's socket (fd), or withdraws it (-1); false when the
 * round is to stop. */
static bool cancel_set(ShipCancel *c, int fd) {
        if (!c)
                return true;
        pthread_mutex_lock(&c->lock);
        c->fd = c->stop ? -1 : fd;
        bool go = !c->stop;
        pthread_mutex_unlock(&c->lock);
        return go;
}

static bool stopped(ShipCancel *c) {
        if (!c)
                return false;
        pthread_mutex_lock(&c->lock);
        bool s = c->stop;
        pthread_mutex_unlock(&c->lock);
        return s;
}

/* ---- one batch ---- */

typedef struct Batch {
        ShipParams p;            /* $1 host_id, then ROW_PARAMS per row */
        int64_t *seq;            /* each row's */
        size_t n;
        char prev[CHAIN_HEX_SIZE];   /* the hash before the next row */
        int64_t last;
} Batch;

static int batch_row(const Event *e, void *u) {
        Batch *b = u;
        ShipParams *p = &b->p;
        int k = 0;
        k |= ship_paramf(p, "%lld", (long long) e->id);
        k |= ship_param(p, e->time);
        k |= ship_param(p, e->ref);
        k |= ship_param(p, e->source);
        k |= ship_param(p, e->kind);
        k |= ship_param(p, e->host);
        k |= ship_param(p, e->domain);
        k |= ship_param(p, e->uuid);
        k |= ship_param(p, e->decision);
        k |= ship_param(p, e->reason);
        k |= ship_param(p, e->actor);
        k |= ship_param(p, e->data_text ? e->data_text : "{}");
        k |= ship_param(p, b->prev);
        k |= ship_param(p, e->hash);
        if (k)
                return -ENOMEM;
        b->seq[b->n++] = e->id;
        memcpy(b->prev, e->hash, CHAIN_HEX_SIZE);
        b->last = e->id;
        return 0;
}

/* INSERT ... VALUES (...), (...) for n rows, each at with its time. */
static char *insert_sql(size_t n) {
        /* A row's text: 14 parameters of at most "$65535::text, " (16
         * bytes), at's cast again and the parentheses: under 320. */
        size_t cap = 256 + n * 320, len = 0;
        char *sql = malloc(cap);
        if (!sql)
                return NULL;
        len += (size_t) snprintf(sql, cap, "INSERT INTO virtgov.events (" EVENT_COLUMNS ") VALUES ");
        for (size_t i = 0; i < n; i++) {
                unsigned b = 2 + (unsigned) (i * ROW_PARAMS);
                len += (size_t) snprintf(sql + len, cap - len,
                                "%s($1::text, $%u::bigint, $%u::text, $%u::text::timestamptz, $%u::text, $%u::text, "
                                "$%u::text, $%u::text, $%u::text, $%u::text, $%u::text, $%u::text, $%u::text, "
                                "$%u::text, $%u::text, $%u::text)", i ? ", " : "",
                                b, b + 1, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10,
                                b + 11, b + 12, b + 13);
        }
        snprintf(sql + len, cap - len, " ON CONFLICT (host_id, seq) DO NOTHING RETURNING seq");
        return sql;
}

static int cmp_seq(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return x < y ? -1 : x > y;
}

/* Row i's parameter j (0: seq ... 13: hash). */
static const char *row_param(const Batch *b, size_t i, unsigned j) {
        return b->p.v[1 + i * ROW_PARAMS + j];
}

/* A row the centre holds with another hash: filed in conflicts (once:
 * the same row sent again is not filed again) and, when new, reported. */
static int file_conflict(Central *c, ShipRound *r, const Batch *b, size_t i, const char *held, VgError *err) {
        _cleanup_(ship_params_clear) ShipParams p = { 0 };
        int k = ship_param(&p, r->host_id) | ship_param(&p, row_param(b, i, 0)) | ship_param(&p, row_param(b, i, 13)) |
                ship_param(&p, held) | ship_param(&p, row_param(b, i, 12)) | ship_param(&p, row_param(b, i, 1)) |
                ship_param(&p, r->instance);
        if (k)
                return vg_error(err, -ENOMEM, "out of memory");
        _cleanup_(PQclearp) PGresult *res = NULL;
        k = ship_exec(c, "INSERT INTO virtgov.conflicts (host_id, seq, hash, held_hash, prev_hash, time, instance) "
                      "VALUES ($1, $2::bigint, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING seq",
                      &p, PGRES_TUPLES_OK, "filing a conflict", &res, err);
        if (k < 0 || PQntuples(res) == 0)
                return k;
        if (r->n_conflicts < SHIP_CONFLICTS_MAX) {
                ShipConflict *x = &r->conflicts[r->n_conflicts];
                x->seq = b->seq[i];
                snprintf(x->host_hash, sizeof(x->host_hash), "%s", row_param(b, i, 13));
                snprintf(x->central_hash, sizeof(x->central_hash), "%s", held);
        }
        r->n_conflicts++;
        return 0;
}

/* The rows the INSERT did not return were there: the same hash is a
 * replay, another one a conflict. */
static int check_held(Central *c, ShipRound *r, const Batch *b, const PGresult *ins, VgError *err) {
        size_t n_ins = (size_t) PQntuples(ins);
        r->n_new += n_ins;
        if (n_ins == b->n)
                return 0;
        int64_t *got = calloc(n_ins ? n_ins : 1, sizeof(int64_t));
        if (!got)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n_ins; i++)
                got[i] = strtoll(PQgetvalue(ins, (int) i, 0), NULL, 10);
        qsort(got, n_ins, sizeof(int64_t), cmp_seq);
        _cleanup_(PQclearp) PGresult *held = NULL;
        _cleanup_(ship_params_clear) ShipParams p = { 0 };
        int k = ship_param(&p, r->host_id) | ship_paramf(&p, "%lld", (long long) b->seq[0]) |
                ship_paramf(&p, "%lld", (long long) b->seq[b->n - 1]);
        if (!k)
                k = ship_exec(c, "SELECT seq, hash FROM virtgov.events WHERE host_id = $1 AND "
                              "seq BETWEEN $2::bigint AND $3::bigint ORDER BY seq",
                              &p, PGRES_TUPLES_OK, "reading the central inventory's hashes", &held, err);
        else
                k = vg_error(err, -ENOMEM, "out of memory");
        size_t h = 0, n_held = k < 0 ? 0 : (size_t) PQntuples(held);
        for (size_t i = 0; k >= 0 && i < b->n; i++) {
                if (bsearch(&b->seq[i], got, n_ins, sizeof(int64_t), cmp_seq))
                        continue;
                while (h < n_held && strtoll(PQgetvalue(held, (int) h, 0), NULL, 10) < b->seq[i])
                        h++;
                if (h == n_held || strtoll(PQgetvalue(held, (int) h, 0), NULL, 10) != b->seq[i]) {
                        k = vg_error(err, -EPROTO, "event %lld: neither inserted nor readable in the central "
                                     "inventory", (long long) b->seq[i]);
                        break;
                }
                const char *hash = PQgetvalue(held, (int) h, 1);
                if (!strcmp(hash, row_param(b, i, 13)))
                        r->n_replayed++;
                else
                        k = file_conflict(c, r, b, i, hash, err);
        }
        free(got);
        return k;
}

/* The round's open transaction: what its caller restores when it is
 * rolled back. What a rolled-back batch counted is not what the centre
 * has: its conflicts are found again, and said, next time. */
typedef struct Txn {
        bool open;
        int64_t to;              /* the position when it commits */
        size_t n_new, n_replayed, n_conflicts;   /* the counts before it */
} Txn;

static int txn_begin(Central *c, ShipRound *r, Txn *t, VgError *err) {
        int k = central_exec(c, "BEGIN", PGRES_COMMAND_OK, "beginning a transaction", NULL, err);
        if (k < 0)
                return k;
        *t = (Txn) { .open = true, .to = r->shipped_to, .n_new = r->n_new, .n_replayed = r->n_replayed,
                     .n_conflicts = r->n_conflicts };
        return 0;
}

static int txn_end(Central *c, ShipRound *r, Txn *t, int k, VgError *err) {
        if (!t->open)
                return k;
        t->open = false;
        if (k >= 0 && (k = central_exec(c, "COMMIT", PGRES_COMMAND_OK, "committing", NULL, err)) >= 0) {
                r->shipped_to = t->to;
                return 0;
        }
        PQclear(PQexec(c->pg, "ROLLBACK"));
        r->n_new = t->n_new;
        r->n_replayed = t->n_replayed;
        r->n_conflicts = t->n_conflicts;
        return k;
}

/* One batch in the open transaction t. */
static int ship_batch(Central *c, ShipRound *r, const Batch *b, Txn *t, VgError *err) {
        _cleanup_free_ char *sql = insert_sql(b->n);
        if (!sql)
                return vg_error(err, -ENOMEM, "out of memory");
        _cleanup_(PQclearp) PGresult *ins = NULL;
        char what[96];
        snprintf(what, sizeof(what), "shipping events %lld to %lld", (long long) b->seq[0], (long long) b->last);
        int k = ship_exec(c, sql, &b->p, PGRES_TUPLES_OK, what, &ins, err);
        if (k >= 0 && (k = check_held(c, r, b, ins, err)) >= 0)
                t->to = b->last;
        return k;
}

/* The schema's version and the centre's newest seq of this host (0:
 * none), in the round's first statement. A database without virtgov's
 * schema fails it as undefined_table. */
static int central_position(Central *c, const char *host_id, int64_t *ret, VgError *err) {
        const char *const param[] = { host_id };
        PGresult *res = PQexecParams(c->pg, "SELECT (SELECT max(version) FROM virtgov.schema_version), "
                                     "(SELECT coalesce(max(seq), 0) FROM virtgov.events WHERE host_id = $1)", 1, NULL,
                                     param, NULL, NULL, 0);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state && !strcmp(state, "42P01")) {   /* undefined_table */
                PQclear(res);
                return central_schema_fits(0, err);
        }
        _cleanup_(PQclearp) PGresult *pos = NULL;
        int k = central_result(c, res, PGRES_TUPLES_OK, "reading the central inventory's position", &pos, err);
        if (k < 0 || (k = central_schema_fits((unsigned) strtoul(PQgetvalue(pos, 0, 0), NULL, 10), err)) < 0)
                return k;
        *ret = strtoll(PQgetvalue(pos, 0, 1), NULL, 10);
        return 0;
}

/* Every event after start up to the head the round began with, a
 * transaction per batch; the last one's left open in t, for the state. */
static int ship_events(Central *c, Store *s, ShipRound *r, int64_t start, int64_t head, Txn *t, VgError *err) {
        unsigned batch = r->batch < 1 ? 1 : r->batch > SHIP_BATCH_MAX ? SHIP_BATCH_MAX : r->batch;
        Batch b = { .seq = calloc(batch, sizeof(int64_t)) };
        if (!b.seq)
                return vg_error(err, -ENOMEM, "out of memory");
        int k = 0;
        if (start == 0)
                memcpy(b.prev, zero_hash, CHAIN_HEX_SIZE);
        else
                k = store_chain_hash(s, start, b.prev, err);
        for (int64_t after = start; k >= 0 && after < head;) {
                if (stopped(r->cancel)) {
                        k = vg_error(err, -ECANCELED, "shipping stopped: the daemon stops");
                        break;
                }
                b.n = 0;
                b.last = after;
                ship_params_clear(&b.p);
                if (ship_param(&b.p, r->host_id) < 0) {
                        k = vg_error(err, -ENOMEM, "out of memory");
                        break;
                }
                EventFilter f = { .after_id = after > 0 ? after : -1, .limit = batch, .data_text = true };
                k = store_query_events(s, &f, batch_row, &b, err);
                if (k == -ENOMEM)
                        vg_error(err, k, "out of memory");
                if (k < 0 || b.n == 0)
                        break;
                if ((k = txn_end(c, r, t, 0, err)) < 0 || (k = txn_begin(c, r, t, err)) < 0)
                        break;
                k = ship_batch(c, r, &b, t, err);
                after = b.last;
        }
        ship_params_clear(&b.p);
        free(b.seq);
        return k < 0 ? k : 0;
}

/* A round: the events, then the state in the last batch's transaction
 * (one commit when the events fit one batch, as they do but after an
 * outage); nothing written when nothing changed. */
static int round_run(Central *c, Store *s, ShipRound *r, VgError *err) {
        int64_t cmax = 0, head = 0;
        char head_hash[CHAIN_HEX_SIZE];
        int k = central_position(c, r->host_id, &cmax, err);
        if (k < 0 || (k = store_chain_head(s, &head, head_hash, err)) < 0)
                return k;
        /* From the older of the two: a centre restored from a backup gets
         * what it lost; a position lost in a crash costs replays, never a
         * gap. */
        int64_t start = r->cursor < cmax ? r->cursor : cmax;
        if (start > head)
                start = head;
        _cleanup_(ship_state_clear) ShipState st = { 0 };
        if ((k = ship_state_read(s, r, &st, err)) < 0 || (start == head && !st.domains && !st.integrity))
                return k;
        Txn t = { 0 };
        k = ship_events(c, s, r, start, head, &t, err);
        if (k >= 0 && !t.open)
                k = txn_begin(c, r, &t, err);
        if (k >= 0)
                k = ship_state_write(c, s, r, &st, t.to, err);
        if ((k = txn_end(c, r, &t, k, err)) >= 0)
                ship_state_done(r, &st);
        return k;
}

int ship_round(ShipRound *r, VgError *err) {
        r->shipped_to = r->cursor;
        r->n_new = r->n_replayed = r->n_conflicts = 0;
        r->new_state_digest = r->state_digest;
        r->state_shipped = false;
        r->new_integrity_digest = r->integrity_digest;
        r->integrity_shipped = false;
        _cleanup_(store_closep) Store *s = NULL;
        int k = store_open(r->inventory, STORE_READ, r->busy_timeout_ms, &s, err);
        if (k < 0)
                return k;
        _cleanup_(central_closep) Central *c = NULL;
        if (stopped(r->cancel))
                return vg_error(err, -ECANCELED, "shipping stopped: the daemon stops");
        if ((k = central_connect(r->dsn, r->app, &c, err)) < 0)
                return k;
        if (!cancel_set(r->cancel, PQsocket(c->pg)))
                return vg_error(err, -ECANCELED, "shipping stopped: the daemon stops");
        k = round_run(c, s, r, err);
        /* Withdrawn before central_close closes the fd: after that the
         * number may be another file's. */
        cancel_set(r->cancel, -1);
        if (k < 0 && stopped(r->cancel))
                return vg_error(err, -ECANCELED, "shipping stopped: the daemon stops");
        return k;
}
