/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/store.h"

static char *dir, *db;
static void setup(void) {
        dir = scratch_new();
        db = path_join(dir, "inventory.db");
}
static void teardown(void) {
        free(db);
        scratch_remove(dir);
}
TestSuite(store, .init = setup, .fini = teardown);

static Store *open_new(void) {
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_CREATE, 1000, &s, &err), 0, "%s", err.text);
        return s;
}

static Event *dom_event(const char *kind, const char *name, const char *uuid, const char *time) {
        Event *e = event_new("hook", kind);
        event_set(&e->domain, name);
        event_set(&e->uuid, uuid);
        if (time)
                snprintf(e->time, sizeof(e->time), "%s", time);
        return e;
}

static int append(Store *s, Event *e) {
        VgError err = { "" };
        int r = store_append_event(s, e, &err);
        cr_assert_geq(r, 0, "%s", err.text);
        return r;
}

static int count_cb(const Event *e, void *u) {
        (*(int *) u)++;
        return 0;
}

static int count(Store *s, EventFilter f) {
        int n = 0;
        cr_assert_eq(store_query_events(s, &f, count_cb, &n, NULL), 0);
        return n;
}

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

static DomainRow *find(Store *s, const char *key) {
        DomainRow *d = NULL;
        VgError err = { "" };
        cr_assert_eq(store_find_domain(s, key, &d, &err), 0, "%s", err.text);
        return d;
}

Test(store, domain_state_follows_events) {
        Store *s = open_new();
        const char *u = "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41";
        Event *e = dom_event("domain.defined", "web-7", u, "2026-11-01T10:00:00.000000Z");
        append(s, e);
        event_free(e);
        DomainRow *d = find(s, "web-7");
        cr_assert_str_eq(d->state, "shutoff");
        cr_assert_eq(d->persistent, 1);
        domain_row_free(d);

        e = dom_event("domain.prepare", "web-7", u, "2026-11-01T10:01:00.000000Z");
        json_object_set_new(e->data, "facts", json_pack("{s:s, s:s}", "owner", "alice", "ticket", "CHG-1"));
        append(s, e);
        event_free(e);
        e = dom_event("domain.started", "web-7", u, "2026-11-01T10:01:01.000000Z");
        append(s, e);
        event_free(e);
        d = find(s, u);
        cr_assert_str_eq(d->state, "running");
        cr_assert_str_eq(d->owner, "alice");
        cr_assert_str_eq(d->ticket, "CHG-1");
        cr_assert_str_eq(d->last_start, "2026-11-01T10:01:01.000000Z");
        cr_assert_null(d->last_stop);
        domain_row_free(d);

        e = dom_event("domain.stopped", "web-7", u, "2026-11-01T11:00:00.000000Z");
        append(s, e);
        event_free(e);
        e = dom_event("domain.undefined", "web-7", u, "2026-11-01T12:00:00.000000Z");
        append(s, e);
        event_free(e);
        d = find(s, "web-7");
        cr_assert_str_eq(d->state, "undefined");
        cr_assert_eq(d->persistent, 0);
        cr_assert_str_eq(d->last_stop, "2026-11-01T11:00:00.000000Z");
        domain_row_free(d);
        store_close(s);
}

Test(store, a_late_event_fills_gaps_but_does_not_override) {
        Store *s = open_new();
        Event *e = dom_event("domain.stopped", "db-1", "u-2", "2026-11-01T12:00:00.000000Z");
        append(s, e);
        event_free(e);
        /* folded from the spool later, but it happened earlier */
        e = dom_event("domain.started", "db-1", "u-2", "2026-11-01T09:00:00.000000Z");
        append(s, e);
        event_free(e);
        DomainRow *d = find(s, "db-1");
        cr_assert_str_eq(d->state, "shutoff");
        cr_assert_str_eq(d->last_start, "2026-11-01T09:00:00.000000Z");
        cr_assert_str_eq(d->first_seen, "2026-11-01T09:00:00.000000Z");
        cr_assert_str_eq(d->last_seen, "2026-11-01T12:00:00.000000Z");
        domain_row_free(d);
        store_close(s);
}

Test(store, list_hides_undefined_unless_all) {
        Store *s = open_new();
        Event *e = dom_event("domain.defined", "a", "u-a", NULL);
        append(s, e);
        event_free(e);
        e = dom_event("domain.undefined", "b", "u-b", NULL);
        append(s, e);
        event_free(e);
        int n = 0;
        cr_assert_eq(store_list_domains(s, 0, (DomainCallback) count_cb, &n, NULL), 0);
        cr_assert_eq(n, 1);
        n = 0;
        cr_assert_eq(store_list_domains(s, LIST_ALL, (DomainCallback) count_cb, &n, NULL), 0);
        cr_assert_eq(n, 2);
        DomainRow *d = NULL;
        cr_assert_eq(store_find_domain(s, "nope", &d, NULL), -ENOENT);
        store_close(s);
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
        cr_assert_eq(store_append_event(s, e, &err), -EBUSY);
        cr_assert(strstr(err.text, "locked"), "%s", err.text);
        sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
        cr_assert_eq(store_append_event(s, e, &err), 0, "%s", err.text);
        event_free(e);
        store_close(s);
        sqlite3_close(raw);
}
