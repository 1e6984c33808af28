/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ingest DIR N: events per second through the daemon's two paths, against a
 * plain batched SQLite insert into a table of the same shape.
 *   event path: store_append_event, N events in transactions of 100 (a
 *               burst of a few VMs, committed at the end of the daemon's
 *               loop iteration) and again of 1,000 (DAEMON_BATCH: a burst
 *               that fills the daemon's queue), each into an inventory of
 *               its own; and, for reference, N / 10 in one transaction
 *               each;
 *   spool path: N / 5 spool files written, then spool_fold (batches of
 *               512): each file costs an unlink, so fewer of them;
 *   plain:      one prepared INSERT, N rows, one transaction, into a table
 *               with the events table's columns and indexes, each row's
 *               data rendered and hash-chained as the event path does.
 * N of 10,000 or more: at 2,000 the plain insert took 9-18 ms, and its
 * rate, the reference of every ratio, moved 2x from run to run. The event
 * paths and the reference take turns, 5 rounds of N each; each rate is
 * the median of its rounds. Each path's table grows by N rows a round, as
 * the reference's does: with both event paths in one inventory, the one
 * that was compared had twice the rows of the reference at each round,
 * and twice the pages in the indexes it inserts into all over (ref before
 * refs were in time order, events_domain still).
 * Prints one line of JSON.
 *
 * ingest --write-spool DIR N: only write N spool files into DIR (bench/run
 * moves them into a running daemon's spool).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/model/chain.h"
#include "virtgov/store/spool.h"
#include "virtgov/store/store.h"

static Event *make(long i) {
        Event *e = event_new("libvirt", "domain.started");
        char name[32];
        snprintf(name, sizeof(name), "vm-%06ld", i % 1000);
        event_set(&e->domain, name);
        event_set(&e->uuid, "00000000-0000-4000-8000-000000000001");
        json_object_set_new(e->data, "detail", json_string("booted"));
        return e;
}

/* Events first..first+n-1 appended, committed every batch. */
static void append_batched(Store *s, long first, long n, long batch) {
        for (long i = 0; i < n; i++) {
                if (i % batch == 0)
                        store_begin(s, NULL);
                Event *e = make(first + i);
                store_append_event(s, e, NULL, NULL);
                event_free(e);
                if (i % batch == batch - 1 || i == n - 1)
                        store_commit(s, NULL);
        }
}

static double rate(long n, int64_t us) {
        return us > 0 ? (double) n * 1e6 / (double) us : 0;
}

#define ROUNDS 5

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v) {
        qsort(v, ROUNDS, sizeof(double), cmp_double);
        return v[ROUNDS / 2];
}

/* The reference: the same rows into a table with the events table's
 * columns and indexes, their data rendered as the event path renders it
 * and hash-chained as it is, one transaction per call. */
typedef struct Plain {
        sqlite3 *db;
        sqlite3_stmt *ins;
        int64_t id;
        uint8_t head[CHAIN_HASH_SIZE];
} Plain;

static int plain_open(Plain *p, const char *path) {
        memset(p, 0, sizeof(*p));
        if (sqlite3_open(path, &p->db) != SQLITE_OK ||
            sqlite3_exec(p->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE events ("
                         " id INTEGER PRIMARY KEY, time TEXT NOT NULL, ref TEXT NOT NULL UNIQUE,"
                         " source TEXT NOT NULL, kind TEXT NOT NULL, host TEXT, domain TEXT, uuid TEXT,"
                         " decision TEXT, reason TEXT, actor TEXT, data TEXT NOT NULL, prev_hash TEXT, hash TEXT);"
                         "CREATE INDEX events_time ON events(time);"
                         "CREATE INDEX events_domain ON events(domain, time);"
                         "CREATE INDEX events_uuid ON events(uuid, time);"
                         "CREATE INDEX events_kind ON events(kind, decision, time);"
                         "CREATE INDEX events_denied ON events(kind, time) WHERE decision = 'deny';",
                         NULL, NULL, NULL) != SQLITE_OK)
                return -1;
        return sqlite3_prepare_v2(p->db, "INSERT INTO events (time, ref, source, kind, host, domain, uuid, decision,"
                                  " reason, actor, data, id, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                                  " ?8, ?9, ?10, ?11, ?12, ?13, ?14)", -1, &p->ins, NULL) == SQLITE_OK ? 0 : -1;
}

static void plain_insert(Plain *p, long first, long n) {
        sqlite3_exec(p->db, "BEGIN", NULL, NULL, NULL);
        for (long i = 0; i < n; i++) {
                Event *e = make(first + i);
                char *data = event_data_text(e);
                const char *field[CHAIN_FIELDS] = { e->time, e->ref, e->source, e->kind, e->host, e->domain,
                                                    e->uuid, e->decision, e->reason, e->actor, data };
                ChainRow row = { .id = ++p->id };
                for (int k = 0; k < CHAIN_FIELDS; k++) {
                        row.field[k] = field[k];
                        row.len[k] = field[k] ? strlen(field[k]) : 0;
                        if (field[k])
                                sqlite3_bind_text(p->ins, k + 1, field[k], (int) row.len[k], SQLITE_STATIC);
                        else
                                sqlite3_bind_null(p->ins, k + 1);
                }
                uint8_t h[CHAIN_HASH_SIZE];
                char prev_hex[CHAIN_HEX_SIZE], hex[CHAIN_HEX_SIZE];
                chain_hash(p->head, &row, h);
                chain_hex(p->head, prev_hex);
                chain_hex(h, hex);
                sqlite3_bind_int64(p->ins, 12, row.id);
                sqlite3_bind_text(p->ins, 13, prev_hex, -1, SQLITE_STATIC);
                sqlite3_bind_text(p->ins, 14, hex, -1, SQLITE_STATIC);
                sqlite3_step(p->ins);
                sqlite3_reset(p->ins);
                memcpy(p->head, h, sizeof(p->head));
                free(data);
                event_free(e);
        }
        sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL);
}

static void plain_close(Plain *p) {
        sqlite3_finalize(p->ins);
        sqlite3_close(p->db);
}

int main(int argc, char **argv) {
        if (argc == 4 && !strcmp(argv[1], "--write-spool")) {
                for (long i = 0; i < atol(argv[3]); i++) {
                        Event *e = make(i);
                        spool_write(argv[2], e, NULL);
                        event_free(e);
                }
                return 0;
        }
        if (argc == 4 && !strcmp(argv[1], "--fold")) {
                /* Only the fold of N spooled events into a new inventory
                 * (for a profiler): prints its rate. */
                char db[4096], spool[4096];
                snprintf(db, sizeof(db), "%s/fold.db", argv[2]);
                snprintf(spool, sizeof(spool), "%s/spool", argv[2]);
                Store *s = NULL;
                if (store_open(db, STORE_CREATE, 5000, &s, NULL) < 0)
                        return 1;
                long n = atol(argv[3]);
                for (long i = 0; i < n; i++) {
                        Event *e = make(i);
                        spool_write(spool, e, NULL);
                        event_free(e);
                }
                int64_t t = vg_now_us();
                SpoolStats st;
                spool_fold(spool, s, &st, NULL);
                printf("{\"folded\": %zu, \"per_s\": %.0f}\n", st.folded, rate(n, vg_now_us() - t));
                store_close(s);
                return 0;
        }
        if (argc != 3) {
                fprintf(stderr, "usage: ingest DIR N | ingest --write-spool DIR N\n");
                return 2;
        }
        long n = atol(argv[2]);
        char db[4096], db1000[4096], plain[4096], spool[4096];
        snprintf(db, sizeof(db), "%s/ingest.db", argv[1]);
        snprintf(db1000, sizeof(db1000), "%s/ingest-1000.db", argv[1]);
        snprintf(plain, sizeof(plain), "%s/plain.db", argv[1]);
        snprintf(spool, sizeof(spool), "%s/spool", argv[1]);
        Store *s = NULL, *s1000 = NULL;
        VgError err = { "" };
        if (store_open(db, STORE_CREATE, 5000, &s, &err) < 0 ||
            store_open(db1000, STORE_CREATE, 5000, &s1000, &err) < 0)
                return fprintf(stderr, "%s\n", err.text), 1;
        Plain pl;
        if (plain_open(&pl, plain) < 0)
                return fprintf(stderr, "%s: cannot set up the reference\n", plain), 1;

        /* The paths take turns, ROUNDS times, and each rate is the median
         * of its rounds: on this 2-core machine, shared with builds, the
         * reference's rate moved 2x between two runs of one minute apart. */
        double event_r[ROUNDS], event1000_r[ROUNDS], plain_r[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
                long first = (long) round * 3 * n;
                int64_t t = vg_now_us();
                append_batched(s, first, n, 100);
                event_r[round] = rate(n, vg_now_us() - t);
                t = vg_now_us();
                append_batched(s1000, first + n, n, 1000);
                event1000_r[round] = rate(n, vg_now_us() - t);
                t = vg_now_us();
                plain_insert(&pl, first + 2 * n, n);
                plain_r[round] = rate(n, vg_now_us() - t);
        }
        long single = n / 10;
        int64_t t = vg_now_us();
        for (long i = 0; i < single; i++) {
                Event *e = make(i);
                store_append_event(s, e, NULL, NULL);
                event_free(e);
        }
        int64_t single_us = vg_now_us() - t;

        long spooled = n / 5;
        for (long i = 0; i < spooled; i++) {
                Event *e = make(i);
                spool_write(spool, e, NULL);
                event_free(e);
        }
        t = vg_now_us();
        SpoolStats st;
        spool_fold(spool, s, &st, NULL);
        int64_t spool_us = vg_now_us() - t;
        store_close(s);
        store_close(s1000);
        plain_close(&pl);
        printf("{\"events\": %ld, \"event_path_per_s\": %.0f, \"event_path_1000_per_s\": %.0f,"
               " \"unbatched_per_s\": %.0f, \"spool_path_per_s\": %.0f, \"plain_batched_per_s\": %.0f,"
               " \"spool_folded\": %zu}\n", n, median(event_r), median(event1000_r), rate(single, single_us),
               rate(spooled, spool_us), median(plain_r), st.folded);
        return 0;
}
