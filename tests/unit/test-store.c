/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inventory itself: opening and its schema, events appended and
 * queried, the hash chain, the hook's append mode. */
#include <errno.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store-fixture.h"

TestSuite(store, .init = setup, .fini = teardown);

Test(store, read_and_write_modes_do_not_create) {
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_READ, 100, &s, &err), -ENOENT);
        cr_assert(strstr(err.text, "inventory.db"), "%s", err.text);
        cr_assert_eq(store_open(db, STORE_WRITE, 100, &s, &err), -ENOENT);
        cr_assert_eq(access(db, F_OK), -1);
}

Test(store, create_sets_schema_and_wal) {
        store_close(open_new());
        sqlite3 *raw;
        sqlite3_open(db, &raw);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_str_eq((const char *) sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int(st, 0), store_schema_version());
        sqlite3_finalize(st);
        sqlite3_close(raw);
}

Test(store, newer_schema_is_refused) {
        store_close(open_new());
        sqlite3 *raw;
        sqlite3_open(db, &raw);
        sqlite3_exec(raw, "PRAGMA user_version = 999", NULL, NULL, NULL);
        sqlite3_close(raw);
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_WRITE, 100, &s, &err), -EPROTO);
        cr_assert(strstr(err.text, "schema version 999"), "%s", err.text);
        cr_assert_eq(store_open(db, STORE_READ, 100, &s, &err), -EPROTO);
}

Test(store, not_a_database_is_eio) {
        write_text(db, "this is not sqlite, it is a text file long enough to have a header........"
                       "...............................................................");
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_WRITE, 100, &s, &err), -EIO);
        cr_assert(strstr(err.text, "inventory.db"), "%s", err.text);
}

Test(store, same_ref_twice_is_recorded_once) {
        Store *s = open_new();
        Event *e = dom_event("domain.prepare", "web-7", "u-1", NULL);
        cr_assert_eq(append(s, e), 0);
        cr_assert_gt(e->id, 0);
        e->id = 0;
        cr_assert_eq(append(s, e), 1);
        cr_assert_eq(e->id, 0);
        cr_assert_eq(count(s, (EventFilter) { 0 }), 1);
        event_free(e);
        store_close(s);
}

Test(store, events_are_append_only) {
        Store *s = open_new();
        Event *e = dom_event("domain.prepare", "web-7", "u-1", NULL);
        append(s, e);
        event_free(e);
        store_close(s);

        sqlite3 *raw;
        sqlite3_open(db, &raw);
        char *msg = NULL;
        cr_assert_neq(sqlite3_exec(raw, "UPDATE events SET kind = 'domain.x'", NULL, NULL, &msg), SQLITE_OK);
        cr_assert(strstr(msg, "append-only"), "%s", msg);
        sqlite3_free(msg);
        cr_assert_neq(sqlite3_exec(raw, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
}

Test(store, query_filters) {
        Store *s = open_new();
        const char *kinds[] = { "domain.prepare", "domain.started", "network.start", "domain.stopped" };
        const char *times[] = { "2026-11-01T10:00:00.000000Z", "2026-11-02T10:00:00.000000Z",
                                "2026-11-03T10:00:00.000000Z", "2026-11-04T10:00:00.000000Z" };
        for (int i = 0; i < 4; i++) {
                Event *e = i == 2 ? event_new("hook", kinds[i]) : dom_event(kinds[i], "web-7", "u-7", NULL);
                snprintf(e->time, sizeof(e->time), "%s", times[i]);
                if (i == 2)
                        json_object_set_new(e->data, "network", json_string("prod"));
                append(s, e);
                event_free(e);
        }
        Event *other = dom_event("domain.started", "db-1", "u-1", "2026-11-05T00:00:00.000000Z");
        append(s, other);
        event_free(other);

        cr_assert_eq(count(s, (EventFilter) { 0 }), 5);
        cr_assert_eq(count(s, (EventFilter) { .domain = "web-7" }), 3);
        cr_assert_eq(count(s, (EventFilter) { .domain = "u-7" }), 3);
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "domain." }), 4);
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "domain.st" }), 3);
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "network." }), 1);
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "DOMAIN." }), 0, "kinds are case-sensitive");
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "domain.%" }), 0, "no LIKE wildcards");
        cr_assert_eq(count(s, (EventFilter) { .network = "prod" }), 1);
        int64_t since, until;
        vg_time_parse("2026-11-02", 0, &since);
        vg_time_parse("2026-11-04", 0, &until);
        cr_assert_eq(count(s, (EventFilter) { .since_us = since, .until_us = until }), 2);
        cr_assert_eq(count(s, (EventFilter) { .limit = 2 }), 2);
        cr_assert_eq(count(s, (EventFilter) { .domain = "web-7'; DROP TABLE events; --" }), 0);
        cr_assert_eq(count(s, (EventFilter) { 0 }), 5);
        store_close(s);
}

static int keep_data(const Event *e, void *u) {
        *(char **) u = json_dumps(e->data, JSON_COMPACT | JSON_SORT_KEYS);
        return 0;
}

/* Only the asked parts of the data, each under its path; null when absent. */
Test(store, query_data_paths) {
        Store *s = open_new();
        Event *e = dom_event("domain.prepare", "a", "u-a", NULL);
        json_object_set_new(e->data, "facts", json_pack("{s:s, s:{s:i}}", "owner", "alice", "cpu", "n", 4));
        json_object_set_new(e->data, "rule", json_string("prod"));
        append(s, e);
        event_free(e);
        const char *const paths[] = { "$.facts.owner", "$.rule", "$.facts.cpu", "$.missing", NULL };
        char *got = NULL;
        VgError err = { "" };
        cr_assert_eq(store_query_events(s, &(EventFilter) { .data_paths = paths }, keep_data, &got, &err), 0, "%s",
                     err.text);
        cr_assert_str_eq(got, "{\"$.facts.cpu\":{\"n\":4},\"$.facts.owner\":\"alice\",\"$.missing\":null,"
                         "\"$.rule\":\"prod\"}");
        free(got);
        const char *const nine[] = { "$.a", "$.b", "$.c", "$.d", "$.e", "$.f", "$.g", "$.h", "$.i", NULL };
        cr_assert_eq(store_query_events(s, &(EventFilter) { .data_paths = nine }, keep_data, &got, &err), -EINVAL);
        store_close(s);
}

/* Denials are found through their own partial index, and only denials. */
Test(store, denials_by_kind) {
        Store *s = open_new();
        const char *decisions[] = { "allow", "deny", NULL, "deny", "allow" };
        for (int i = 0; i < 5; i++) {
                Event *e = dom_event(i == 3 ? "domain.migrate" : "domain.prepare", "web-7", "u-7", NULL);
                event_set(&e->decision, decisions[i]);
                append(s, e);
                event_free(e);
        }
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "domain.prepare", .decision = "deny" }), 1);
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "domain.", .decision = "deny" }), 2);
        cr_assert_eq(count(s, (EventFilter) { .kind_prefix = "domain.prepare", .decision = "allow" }), 2);
        cr_assert_eq(count(s, (EventFilter) { .decision = "maybe" }), 0);
        store_close(s);

        sqlite3 *raw;
        sqlite3_open(db, &raw);
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(raw, "SELECT count(*) FROM events INDEXED BY events_denied"
                                             " WHERE decision = 'deny' AND kind > ''", -1, &st, NULL), SQLITE_OK,
                     "%s", sqlite3_errmsg(raw));
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int(st, 0), 2);
        sqlite3_finalize(st);
        sqlite3_close(raw);
}

/* virtgov_audit_lost_total: the records each audit.lost counted, and one
 * for an event that could not count them (or whose data is not JSON). */
Test(store, audit_lost_sums_the_counts) {
        Store *s = open_new();
        int64_t n = -1;
        cr_assert_eq(store_audit_lost(s, &n, NULL), 0);
        cr_assert_eq(n, 0);
        const char *data[] = { "{\"lost\": 7}", "{\"where\": \"socket\"}", "{\"lost\": 5}", "{\"lost\": \"x\"}" };
        for (size_t i = 0; i < 4; i++) {
                Event *e = event_new("audit", "audit.lost");
                json_decref(e->data);
                e->data = json_loads(data[i], 0, NULL);
                append(s, e);
                event_free(e);
        }
        Event *e = dom_event("domain.prepare", "web-7", "u-7", NULL);
        json_object_set_new(e->data, "lost", json_integer(100));
        append(s, e);
        event_free(e);
        cr_assert_eq(store_audit_lost(s, &n, NULL), 0);
        cr_assert_eq(n, 7 + 1 + 5 + 1);
        store_close(s);
}

static int first_kind(const Event *e, void *u) {
        if (!*(char **) u)
                *(char **) u = strdup(e->kind);
        return 0;
}

Test(store, limit_keeps_the_newest_in_time_order) {
        Store *s = open_new();
        for (int i = 0; i < 5; i++) {
                char kind[32], t[VG_TIME_MAX];
                snprintf(kind, sizeof(kind), "domain.k%d", i);
                snprintf(t, sizeof(t), "2026-11-0%dT00:00:00.000000Z", i + 1);
                Event *e = dom_event(kind, "a", "u", t);
                append(s, e);
                event_free(e);
        }
        char *k = NULL;
        EventFilter f = { .limit = 2 };
        cr_assert_eq(store_query_events(s, &f, first_kind, &k, NULL), 0);
        cr_assert_str_eq(k, "domain.k3");
        free(k);
        store_close(s);
}

Test(store, a_held_write_lock_is_ebusy_within_the_bound) {
        store_close(open_new());
        sqlite3 *raw;
        sqlite3_open(db, &raw);
        cr_assert_eq(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_WRITE, 200, &s, &err), 0, "%s", err.text);
        Event *e = dom_event("domain.prepare", "a", "u", NULL);
        cr_assert_eq(store_append_event(s, e, NULL, &err), -EBUSY);
        cr_assert(strstr(err.text, "locked"), "%s", err.text);
        sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
        cr_assert_eq(store_append_event(s, e, NULL, &err), 0, "%s", err.text);
        event_free(e);
        store_close(s);
        sqlite3_close(raw);
}

/* ---- the hash chain ---- */

/* What someone with the sqlite3 shell and write access would do. */
static void tamper(const char *sql) {
        sqlite3 *raw;
        char *msg = NULL;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        int rc = sqlite3_exec(raw, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;", NULL, NULL, &msg);
        cr_assert_eq(rc, SQLITE_OK, "%s", msg);
        rc = sqlite3_exec(raw, sql, NULL, NULL, &msg);
        cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg);
        cr_assert_eq(sqlite3_changes(raw), 1, "%s changed %d rows", sql, sqlite3_changes(raw));
        sqlite3_close(raw);
}

Test(store, chain_intact_then_each_single_edit_is_named) {
        static const struct { const char *sql; int64_t broken; const char *says; } cases[] = {
                { "UPDATE events SET kind = 'domain.stopped' WHERE id = 4", 4, "content does not match" },
                { "UPDATE events SET data = '{\"n\":9}' WHERE id = 1", 1, "content does not match" },
                { "UPDATE events SET actor = 'mallory' WHERE id = 7", 7, "content does not match" },
                { "UPDATE events SET time = '2020-01-01T00:00:00.000000Z' WHERE id = 5", 5, "content does not match" },
                { "UPDATE events SET host = NULL WHERE id = 2", 2, "content does not match" },
                { "DELETE FROM events WHERE id = 3", 3, "event 3 is missing" },
                { "DELETE FROM events WHERE id = 1", 1, "event 1 is missing" },
                { "UPDATE events SET hash = 'x' WHERE id = 6", 6, "not 64 hex digits" },
                { "UPDATE events SET hash = prev_hash WHERE id = 6", 6, "content does not match" },
                /* reordered: two rows swap ids */
                { "UPDATE events SET id = -2 WHERE id = 2; UPDATE events SET id = 2 WHERE id = 3;"
                  " UPDATE events SET id = 3 WHERE id = -2", 2, NULL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                unlink(db);
                Store *s = open_new();
                fill(s, 8);
                store_close(s);
                ChainVerify v;
                cr_assert_eq(verify(&v), 0, "untouched chain broken at %lld: %s", (long long) v.broken_id, v.problem);
                cr_assert_eq(v.checked, 8);
                cr_assert_eq(v.head_id, 8);

                sqlite3 *raw;
                sqlite3_open(db, &raw);
                sqlite3_exec(raw, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;", NULL, NULL, NULL);
                char *msg = NULL;
                cr_assert_eq(sqlite3_exec(raw, cases[i].sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg);
                cr_assert_geq(sqlite3_changes(raw), 1, "%s", cases[i].sql);
                sqlite3_close(raw);

                cr_assert_eq(verify(&v), 1, "%s: not detected", cases[i].sql);
                cr_assert_eq(v.broken_id, cases[i].broken, "%s: broken at %lld (%s), expected %lld", cases[i].sql,
                             (long long) v.broken_id, v.problem, (long long) cases[i].broken);
                if (cases[i].says)
                        cr_assert(strstr(v.problem, cases[i].says), "%s: %s", cases[i].sql, v.problem);
        }
}

Test(store, chain_continues_across_writers_and_skips_duplicates) {
        Store *s = open_new();
        fill(s, 3);
        Event *e = dom_event("domain.stopped", "vm-x", "u-2", NULL);
        append(s, e);
        char hash[CHAIN_HEX_SIZE];
        snprintf(hash, sizeof(hash), "%s", e->hash);
        /* the same ref again: nothing written, the chain does not move */
        cr_assert_eq(append(s, e), 1);
        cr_assert_str_empty(e->hash);
        event_free(e);
        store_close(s);
        s = open_new();   /* a second writer picks the head up from the table */
        fill(s, 2);
        char have[CHAIN_HEX_SIZE];
        cr_assert_eq(store_chain_hash(s, 4, have, NULL), 0);
        cr_assert_str_eq(have, hash);
        cr_assert_eq(store_chain_hash(s, 99, have, NULL), -ENOENT);
        store_close(s);
        ChainVerify v;
        cr_assert_eq(verify(&v), 0, "%s", v.problem);
        cr_assert_eq(v.checked, 6);
}

Test(store, chain_from_id_takes_the_row_before_as_given) {
        Store *s = open_new();
        fill(s, 6);
        store_close(s);
        tamper("UPDATE events SET reason = 'x' WHERE id = 2");
        cr_assert_eq(store_open(db, STORE_READ, 1000, &s, NULL), 0);
        ChainVerify v;
        cr_assert_eq(store_verify_chain(s, 3, &v, NULL), 0, "%s", v.problem);
        cr_assert_eq(v.first_id, 3);
        cr_assert_eq(v.checked, 4);
        cr_assert_eq(store_verify_chain(s, 2, &v, NULL), 1);
        cr_assert_eq(v.broken_id, 2);
        store_close(s);
}

Test(store, migration_chains_rows_written_before_the_chain) {
        Store *s = open_new();
        fill(s, 5);
        store_close(s);
        /* Back to schema 4: the rows as an older virtgov wrote them. */
        raw_exec("ALTER TABLE events DROP COLUMN prev_hash; ALTER TABLE events DROP COLUMN hash;" UNDO_SCHEMA_11 UNDO_SCHEMA_10 UNDO_SCHEMA_9
                 "PRAGMA user_version = 4");
        sqlite3 *raw;

        s = open_new();   /* migrates */
        fill(s, 1);
        store_close(s);
        ChainVerify v;
        cr_assert_eq(verify(&v), 0, "%s", v.problem);
        cr_assert_eq(v.checked, 6);
        /* and the append-only trigger is back */
        sqlite3_open(db, &raw);
        cr_assert_neq(sqlite3_exec(raw, "UPDATE events SET kind = 'x'", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
}

/* Edited, and its own hash recomputed the way virtgov does: the next row
 * still links to the original. */
Test(store, chain_edit_and_rehash_is_named_by_the_next_row) {
        Store *s = open_new();
        fill(s, 5);
        store_close(s);
        sqlite3 *raw;
        sqlite3_stmt *st;
        sqlite3_open(db, &raw);
        cr_assert_eq(sqlite3_prepare_v2(raw, "SELECT time, ref, source, kind, host, domain, uuid, decision, reason,"
                                        " actor, data, prev_hash FROM events WHERE id = 3", -1, &st, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        ChainRow row = { .id = 3 };
        char *vals[CHAIN_FIELDS] = { 0 };
        for (int i = 0; i < CHAIN_FIELDS; i++) {
                const char *t = (const char *) sqlite3_column_text(st, i);
                vals[i] = t ? strdup(t) : NULL;
        }
        free(vals[9]);
        vals[9] = strdup("mallory");   /* actor */
        for (int i = 0; i < CHAIN_FIELDS; i++) {
                row.field[i] = vals[i];
                row.len[i] = vals[i] ? strlen(vals[i]) : 0;
        }
        uint8_t prev[CHAIN_HASH_SIZE], h[CHAIN_HASH_SIZE];
        cr_assert_eq(chain_unhex((const char *) sqlite3_column_text(st, 11), prev), 0);
        sqlite3_finalize(st);
        chain_hash(prev, &row, h);
        char hex[CHAIN_HEX_SIZE], sql[256];
        chain_hex(h, hex);
        snprintf(sql, sizeof(sql), "UPDATE events SET actor = 'mallory', hash = '%s' WHERE id = 3", hex);
        sqlite3_close(raw);
        for (int i = 0; i < CHAIN_FIELDS; i++)
                free(vals[i]);
        tamper(sql);

        ChainVerify v;
        cr_assert_eq(verify(&v), 1);
        cr_assert_eq(v.broken_id, 4, "%s", v.problem);
        cr_assert(strstr(v.problem, "not the hash of event 3"), "%s", v.problem);
}

static int count_rows(const Approval *a, void *u) {
        (*(int *) u)++;
        return 0;
}

/* The hook's mode never upgrades: an older schema is read as it is (the
 * gate's approvals), appends are refused saying why, and the next writer
 * upgrades it. */
Test(store, append_mode_reads_an_older_schema_and_never_upgrades_it) {
        Store *s = open_new();
        Approval a = { .key = "web-7", .owner = "alice", .approved_by = "root", .time_us = 1795392000000000 };
        VgError err = { "" };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 UNDO_SCHEMA_10 UNDO_SCHEMA_9 "PRAGMA user_version = 8");

        cr_assert_eq(store_open(db, STORE_APPEND, 1000, &s, &err), 0, "%s", err.text);
        int n = 0;
        cr_assert_eq(store_approvals(s, "web-7", NULL, count_rows, &n, &err), 0, "%s", err.text);
        cr_assert_eq(n, 1);
        Event *e = dom_event("domain.prepare", "web-7", "u-7", NULL);
        cr_assert_eq(store_append_event(s, e, NULL, &err), -EPROTO);
        char older[128];
        snprintf(older, sizeof(older), "schema version 8, older than this virtgov's %d", store_schema_version());
        cr_assert(strstr(err.text, older), "%s", err.text);
        store_close(s);
        cr_assert_eq(user_version(), 8);

        s = open_new();   /* a writer upgrades it */
        cr_assert_eq(append(s, e), 0);
        store_close(s);
        cr_assert_eq(user_version(), store_schema_version());
        cr_assert_eq(store_open(db, STORE_APPEND, 1000, &s, &err), 0, "%s", err.text);
        cr_assert_eq(store_append_event(s, e, NULL, &err), 1, "the same ref: already there");
        store_close(s);
        event_free(e);
}
