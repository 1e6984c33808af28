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
        int r = store_append_event(s, e, NULL, &err);
        cr_assert_geq(r, 0, "%s", err.text);
        return r;
}

/* Runs sql on the inventory outside virtgov (as an older virtgov, or
 * someone editing it, would). */
static void raw_exec(const char *sql) {
        sqlite3 *raw;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        char *msg = NULL;
        int rc = sqlite3_exec(raw, sql, NULL, NULL, &msg);
        cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg);
        sqlite3_close(raw);
}

static int user_version(void) {
        sqlite3 *raw;
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        cr_assert_eq(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        int v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(raw);
        return v;
}

/* What migrations 8 -> 9 up to 12 -> 13 changed, taken back. (Back to 8:
 * all of them, the newest first.) */
#define UNDO_SCHEMA_9 \
        "DROP TABLE devices; ALTER TABLE domains DROP COLUMN derived_stale; ALTER TABLE domains DROP COLUMN type;" \
        "DROP INDEX events_kind; CREATE INDEX events_kind ON events(kind, time);"
#define UNDO_SCHEMA_10 "DROP INDEX domains_listing; CREATE INDEX domains_name_uuid ON domains(name, uuid);"
/* (Dropping integrity_files undoes 13 -> 14's rekeying of it too.) */
/* The images' numbers as decimal text again, as schema 10 kept them. */
#define UNDO_SCHEMA_13 "DROP TABLE integrity_superseded; DROP TABLE integrity_processes;"
#define UNDO_SCHEMA_12 UNDO_SCHEMA_13 "DROP TABLE integrity_files; DROP TABLE integrity_findings;"
#define UNDO_SCHEMA_11 UNDO_SCHEMA_12 \
        "CREATE TABLE images_old (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size TEXT NOT NULL," \
        " dev TEXT NOT NULL, ino TEXT NOT NULL, mtime_ns TEXT NOT NULL, trusted_by TEXT, time TEXT NOT NULL);" \
        "INSERT INTO images_old SELECT * FROM images; DROP TABLE images; ALTER TABLE images_old RENAME TO images;"

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

/* A listed row is borrowed from the query; a found one is the caller's.
 * Both show every column, the same way. */
typedef struct Listed {
        char text[2048];         /* the listed row's columns, one per line */
        char facts[512];         /* its facts_text */
} Listed;

static void row_text(const DomainRow *d, char *buf, size_t n) {
        snprintf(buf, n, "%s\n%s\n%s\n%s\n%d\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%d\n%s", d->uuid, d->name,
                 d->host ?: "(null)", d->state, d->persistent, d->owner ?: "(null)", d->ticket ?: "(null)",
                 d->purpose ?: "(null)", d->first_seen, d->last_seen, d->last_start ?: "(null)",
                 d->last_stop ?: "(null)", d->autostart, d->type ?: "(null)");
}

static int keep_row(const DomainRow *d, void *u) {
        Listed *l = u;
        row_text(d, l->text, sizeof(l->text));
        snprintf(l->facts, sizeof(l->facts), "%s", d->facts ?: "(null)");
        return 0;
}

Test(store, listed_and_found_rows_show_every_column) {
        Store *s = open_new();
        const char *u = "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41";
        Event *e = dom_event("domain.defined", "web-7", u, "2026-11-01T10:00:00.000000Z");
        event_set(&e->host, "kvm-3");
        json_object_set_new(e->data, "autostart", json_true());
        json_object_set_new(e->data, "config_facts", json_pack("{s:s}", "type", "kvm"));
        append(s, e);
        event_free(e);
        e = dom_event("domain.started", "web-7", u, "2026-11-01T10:01:00.000000Z");
        event_set(&e->host, "kvm-3");
        json_object_set_new(e->data, "facts", json_pack("{s:s, s:s, s:s, s:s}", "owner", "alice", "ticket", "CHG-1",
                                                        "purpose", "web front end", "type", "kvm"));
        append(s, e);
        event_free(e);

        Listed l = { 0 };
        cr_assert_eq(store_list_domains(s, LIST_FACTS_TEXT, keep_row, &l, NULL), 0);
        cr_assert_str_eq(l.text, "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41\nweb-7\nkvm-3\nrunning\n1\nalice\nCHG-1\n"
                                 "web front end\n2026-11-01T10:00:00.000000Z\n2026-11-01T10:01:00.000000Z\n"
                                 "2026-11-01T10:01:00.000000Z\n(null)\n1\nkvm");
        cr_assert(strstr(l.facts, "\"owner\":\"alice\""), "%s", l.facts);
        Listed lean = { 0 };
        cr_assert_eq(store_list_domains(s, 0, keep_row, &lean, NULL), 0);
        cr_assert_str_eq(lean.text, l.text);
        cr_assert_str_eq(lean.facts, "(null)");

        /* The found row outlives the store (ASan would see a borrowed one). */
        DomainRow *d = find(s, "web-7");
        store_close(s);
        char found[2048];
        row_text(d, found, sizeof(found));
        cr_assert_str_eq(found, l.text);
        cr_assert_str_eq(d->facts, l.facts, "the found row's facts, as stored, outlive the store");
        json_t *j = domain_row_to_json(d);
        cr_assert(json_is_null(json_object_get(j, "facts")), "its place, for show to decode or list to copy into");
        cr_assert_str_eq(json_string_value(json_object_get(j, "purpose")), "web front end");
        json_decref(j);
        domain_row_free(d);
}

typedef struct Page {
        char uuids[8][40];
        int n;
} Page;

static int page_row(const DomainRow *d, void *u) {
        Page *p = u;
        cr_assert_lt(p->n, 8);
        snprintf(p->uuids[p->n++], sizeof(p->uuids[0]), "%s", d->uuid);
        cr_assert_null(d->facts);
        return 0;
}

Test(store, host_domains_come_a_page_at_a_time_by_uuid) {
        Store *s = open_new();
        /* Five on h1 (appended out of UUID order), one undefined there, one on h2. */
        const char *uuids[] = { "u-5", "u-1", "u-4", "u-2", "u-3", "u-6", "u-0" };
        for (int i = 0; i < 7; i++) {
                Event *e = dom_event(i == 5 ? "domain.undefined" : "domain.defined", uuids[i], uuids[i], NULL);
                event_set(&e->host, i == 6 ? "h2" : "h1");
                append(s, e);
                event_free(e);
        }
        Page p = { 0 };
        cr_assert_eq(store_host_domains(s, "h1", NULL, 2, page_row, &p, NULL), 2);
        cr_assert_eq(store_host_domains(s, "h1", p.uuids[p.n - 1], 2, page_row, &p, NULL), 2);
        cr_assert_eq(store_host_domains(s, "h1", p.uuids[p.n - 1], 2, page_row, &p, NULL), 1, "the last page");
        cr_assert_eq(store_host_domains(s, "h1", p.uuids[p.n - 1], 2, page_row, &p, NULL), 0);
        cr_assert_eq(p.n, 5);
        for (int i = 0; i < 5; i++) {
                char want[8];
                snprintf(want, sizeof(want), "u-%d", i + 1);
                cr_assert_str_eq(p.uuids[i], want);
        }
        Page other = { 0 };
        cr_assert_eq(store_host_domains(s, "h2", "", 10, page_row, &other, NULL), 1);
        cr_assert_str_eq(other.uuids[0], "u-0");
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

/* A flag as the devices' text rows showed it: "1" when set. */
static const char *flag(bool set) {
        return set ? "1" : "(null)";
}

static int device_line(const DeviceRow *row, void *u) {
        char line[512];
        snprintf(line, sizeof(line), "%s %s type=%s source=%s target=%s mac=%s ro=%s shared=%s backing=%s\n",
                 row->domain, row->kind == DEVICE_DISK ? "disk" : "interface", row->type, row->source,
                 row->target, row->mac, flag(row->readonly), flag(row->shareable), row->backing);
        strcat(u, line);
        return 0;
}

static void define_with_facts(Store *s, const char *name, const char *uuid, const char *facts) {
        Event *e = dom_event("domain.defined", name, uuid, NULL);
        json_object_set_new(e->data, "facts", json_loads(facts, 0, NULL));
        append(s, e);
        event_free(e);
}

/* Devices come from the facts' JSON, a row per device kept by triggers:
 * every field lands in its slot, devices do not bleed into each other,
 * undefined domains are left out. */
Test(store, devices_one_row_each_by_name) {
        Store *s = open_new();
        define_with_facts(s, "b", "u-b", "{\"disks\": [{\"type\": \"file\", \"source\": \"/i/b.qcow2\","
                          " \"target\": \"vda\", \"backing\": [\"/i/base.raw\"]},"
                          " {\"type\": \"file\", \"source\": \"/i/x.iso\", \"target\": \"sda\", \"readonly\": true},"
                          " {\"type\": \"block\", \"source\": \"/dev/d\", \"shareable\": true}],"
                          " \"interfaces\": [{\"type\": \"network\", \"source\": \"prod\", \"mac\": \"52:54:00:00:00:02\"}]}");
        define_with_facts(s, "a", "u-a", "{\"interfaces\": [{\"type\": \"bridge\", \"source\": \"br0\","
                          " \"mac\": \"52:54:00:00:00:01\"}, {\"mac\": \"52:54:00:00:00:03\"}]}");
        define_with_facts(s, "c", "u-c", "{\"disks\": [{\"source\": \"/i/c.qcow2\"}]}");
        Event *e = dom_event("domain.undefined", "c", "u-c", NULL);
        append(s, e);
        event_free(e);

        char out[4096] = "";
        VgError err = { "" };
        cr_assert_eq(store_devices(s, device_line, out, &err), 0, "%s", err.text);
        cr_assert_str_eq(out,
                "a interface type=bridge source=br0 target=(null) mac=52:54:00:00:00:01 ro=(null) shared=(null)"
                " backing=(null)\n"
                "a interface type=(null) source=(null) target=(null) mac=52:54:00:00:00:03 ro=(null) shared=(null)"
                " backing=(null)\n"
                "b disk type=file source=/i/b.qcow2 target=vda mac=(null) ro=(null) shared=(null)"
                " backing=[\"/i/base.raw\"]\n"
                "b disk type=file source=/i/x.iso target=sda mac=(null) ro=1 shared=(null) backing=(null)\n"
                "b disk type=block source=/dev/d target=(null) mac=(null) ro=(null) shared=1 backing=(null)\n"
                "b interface type=network source=prod target=(null) mac=52:54:00:00:00:02 ro=(null) shared=(null)"
                " backing=(null)\n");
        store_close(s);

        /* Facts edited into something that is not JSON before the devices
         * were listed from them (at the migration that made the table):
         * the error names the domain. */
        raw_exec("UPDATE domains SET facts = '{\"disks\": [' WHERE name = 'b';" UNDO_SCHEMA_11 UNDO_SCHEMA_10 UNDO_SCHEMA_9 "PRAGMA user_version = 8");
        s = open_new();
        VgError e2 = { "" };
        cr_assert_eq(store_devices(s, device_line, out, &e2), -EBADMSG);
        cr_assert(strstr(e2.text, "domain 'b' (u-b)") && strstr(e2.text, "not JSON"), "%s", e2.text);
        store_close(s);
}

static void facts_event(Store *s, const char *kind, const char *key, const char *facts) {
        Event *e = dom_event(kind, "a", "u-a", NULL);
        json_object_set_new(e->data, key, json_loads(facts, 0, NULL));
        append(s, e);
        event_free(e);
}

static char *devices_text(Store *s) {
        static char out[4096];
        VgError err = { "" };
        out[0] = '\0';
        cr_assert_eq(store_devices(s, device_line, out, &err), 0, "%s", err.text);
        return out;
}

/* The devices follow the definition: replaced (not added to) when the
 * facts change, the daemon's definition before the hook's, and what a
 * later event with other facts does not change stays. */
Test(store, devices_follow_the_definition) {
        Store *s = open_new();
        facts_event(s, "domain.defined", "facts", "{\"disks\": [{\"source\": \"/i/one\"}, {\"source\": \"/i/two\"}]}");
        facts_event(s, "domain.prepare", "facts", "{\"disks\": [{\"source\": \"/i/one\"}, {\"source\": \"/i/two\"}]}");
        cr_assert(strstr(devices_text(s), "source=/i/one") && strstr(devices_text(s), "source=/i/two"));
        facts_event(s, "domain.defined", "facts", "{\"disks\": [{\"source\": \"/i/three\"}]}");
        cr_assert_str_eq(devices_text(s), "a disk type=(null) source=/i/three target=(null) mac=(null) ro=(null)"
                         " shared=(null) backing=(null)\n");
        /* The daemon's reading of the inactive definition wins over the
         * hook's facts, then and later. */
        facts_event(s, "domain.defined", "config_facts", "{\"interfaces\": [{\"mac\": \"52:54:00:00:00:09\"}]}");
        facts_event(s, "domain.prepare", "facts", "{\"disks\": [{\"source\": \"/i/four\"}]}");
        cr_assert_str_eq(devices_text(s), "a interface type=(null) source=(null) target=(null) mac=52:54:00:00:00:09"
                         " ro=(null) shared=(null) backing=(null)\n");
        /* The type, derived with the devices, from the same facts. */
        facts_event(s, "domain.defined", "config_facts", "{\"type\": \"lxc\", \"interfaces\": []}");
        DomainRow *d = NULL;
        VgError err = { "" };
        cr_assert_eq(store_find_domain(s, "u-a", &d, &err), 0, "%s", err.text);
        cr_assert_str_eq(d->type, "lxc");
        domain_row_free(d);
        cr_assert_str_eq(devices_text(s), "");
        facts_event(s, "domain.defined", "config_facts",
                    "{\"type\": \"kvm\", \"interfaces\": [{\"mac\": \"52:54:00:00:00:09\"}]}");
        /* An event older than what the row holds changes nothing. */
        Event *e = dom_event("domain.defined", "a", "u-a", "2020-01-01T00:00:00.000000Z");
        json_object_set_new(e->data, "config_facts", json_loads("{\"disks\": [{\"source\": \"/i/old\"}]}", 0, NULL));
        append(s, e);
        event_free(e);
        cr_assert(strstr(devices_text(s), "mac=52:54:00:00:00:09") && !strstr(devices_text(s), "/i/old"));
        store_close(s);
}

/* An inventory from before the devices table gets it filled from the
 * facts it holds. */
Test(store, migration_fills_devices_from_facts) {
        Store *s = open_new();
        define_with_facts(s, "m", "u-m", "{\"type\": \"qemu\", \"disks\": [{\"source\": \"/i/m\", \"readonly\": true}],"
                          " \"interfaces\": [{\"mac\": \"52:54:00:00:00:0m\"}]}");
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 UNDO_SCHEMA_10 UNDO_SCHEMA_9 "PRAGMA user_version = 8");
        s = open_new();   /* migrates */
        DomainRow *d = NULL;
        VgError err = { "" };
        cr_assert_eq(store_find_domain(s, "u-m", &d, &err), 0, "%s", err.text);
        cr_assert_str_eq(d->type, "qemu");
        domain_row_free(d);
        cr_assert_str_eq(devices_text(s),
                         "m disk type=(null) source=/i/m target=(null) mac=(null) ro=1 shared=(null) backing=(null)\n"
                         "m interface type=(null) source=(null) target=(null) mac=52:54:00:00:00:0m ro=(null)"
                         " shared=(null) backing=(null)\n");
        store_close(s);
}

static int count_int(void *u, int n, char **v, char **names) {
        (*(int *) u) += n == 1 && v[0] ? atoi(v[0]) : 0;
        return 0;
}

/* Schema 10 replaces the listing's index with one that carries the state. */
Test(store, migration_to_10_indexes_the_state_for_listings) {
        Store *s = open_new();
        define_with_facts(s, "m", "u-m", "{\"disks\": [{\"source\": \"/i/m\"}]}");
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 UNDO_SCHEMA_10 "PRAGMA user_version = 9");
        s = open_new();   /* migrates */
        store_close(s);
        cr_assert_eq(user_version(), store_schema_version());
        sqlite3 *raw;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        int old = 0, new = 0;
        sqlite3_exec(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'domains_name_uuid'", count_int, &old, NULL);
        sqlite3_exec(raw, "SELECT count(*) FROM pragma_index_info('domains_listing')"
                     " WHERE name IN ('name', 'uuid', 'state')", count_int, &new, NULL);
        sqlite3_close(raw);
        cr_assert(old == 0 && new == 3, "old index %d, new index's columns %d", old, new);
        s = open_new();
        cr_assert_str_eq(devices_text(s), "m disk type=(null) source=/i/m target=(null) mac=(null) ro=(null)"
                         " shared=(null) backing=(null)\n");
        store_close(s);
}

/* Capacity sums what the facts say, of defined domains, running or all. */
Test(store, domain_totals) {
        Store *s = open_new();
        define_with_facts(s, "a", "u-a", "{\"vcpus\": 2, \"memory_kib\": 1024}");
        define_with_facts(s, "b", "u-b", "{\"vcpus\": 4, \"memory_kib\": 2048}");
        define_with_facts(s, "c", "u-c", "{\"vcpus\": 8, \"memory_kib\": 4096}");
        Event *e = dom_event("domain.started", "a", "u-a", NULL);
        append(s, e);
        event_free(e);
        e = dom_event("domain.undefined", "c", "u-c", NULL);
        append(s, e);
        event_free(e);
        DomainTotals t;
        VgError err = { "" };
        cr_assert_eq(store_domain_totals(s, true, &t, &err), 0, "%s", err.text);
        cr_assert(t.n == 1 && t.vcpus == 2 && t.memory_kib == 1024, "%lld %lld %lld", t.n, t.vcpus, t.memory_kib);
        cr_assert_eq(store_domain_totals(s, false, &t, &err), 0, "%s", err.text);
        cr_assert(t.n == 2 && t.vcpus == 6 && t.memory_kib == 3072, "%lld %lld %lld", t.n, t.vcpus, t.memory_kib);
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

static void fill(Store *s, int n) {
        for (int i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "vm-%d", i);
                Event *e = dom_event("domain.started", name, "u-1", NULL);
                json_object_set_new(e->data, "n", json_integer(i));
                append(s, e);
                cr_assert_eq(strlen(e->hash), 64);
                event_free(e);
        }
}

static int verify(ChainVerify *v) {
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_READ, 1000, &s, &err), 0, "%s", err.text);
        int r = store_verify_chain(s, 1, v, &err);
        cr_assert_geq(r, 0, "%s", err.text);
        store_close(s);
        return r;
}

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

/* The daemon's reconcile compares a definition by its text first: the
 * stored config facts must be exactly what the daemon renders (compact,
 * keys sorted), non-ASCII, escapes and numbers included. */
Test(store, config_facts_are_stored_as_rendered) {
        Store *s = open_new();
        const char *cf = "{\"name\": \"caf\\u00e9 \\\"q\\\" \\u0001 \\ud83d\\ude00\", \"vcpus\": 4, \"ratio\": 0.1,"
                         " \"disks\": [{\"target\": \"vda\", \"backing\": [\"/a\", \"/b\"]}], \"nil\": null, \"on\": true}";
        facts_event(s, "domain.defined", "config_facts", cf);
        json_t *j = json_loads(cf, 0, NULL);
        char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS), *got = NULL;
        VgError err = { "" };
        cr_assert_eq(store_config_facts(s, "u-a", &got, &err), 0, "%s", err.text);
        cr_assert_str_eq(got, want);
        cr_assert_eq(store_config_facts(s, "u-none", &got, &err), -ENOENT);
        free(want);
        free(got);
        json_decref(j);
        store_close(s);
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

static int keep_image(const ImageRecord *r, void *u) {
        ImageRecord *out = u;
        *out = *r;
        out->path = out->sha256 = out->trusted_by = NULL;   /* the query's: gone after the walk */
        return 0;
}

static int typeof_count(const char *sql) {
        sqlite3 *raw;
        int n = 0;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(raw, sql, count_int, &n, NULL), SQLITE_OK, "%s", sql);
        sqlite3_close(raw);
        return n;
}

/* Schema 11 keeps the images' numbers as INTEGER. An inventory of schema
 * 10, its numbers decimal text as the older virtgov wrote them (an inode
 * above INT64_MAX included), is converted by the first writer; events,
 * domains and the chain are left as they were; the hook's mode reads the
 * old text numbers as they are before that. */
Test(store, migration_to_11_makes_image_numbers_integers) {
        Store *s = open_new();
        fill(s, 3);
        define_with_facts(s, "m", "u-m", "{\"disks\": [{\"source\": \"/i/m\"}]}");
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 "PRAGMA user_version = 10;"
                 "INSERT INTO images VALUES ('/i/base', 'aa', '10737418240', '2049', '18446744073709551615',"
                 " '1763900000123456789', 'root', '2026-11-23T00:00:00.000000Z');"
                 "INSERT INTO images VALUES ('/i/m', 'bb', '4096', '64768', '131', '-5', NULL,"
                 " '2026-11-24T00:00:00.000000Z');");
        cr_assert_eq(typeof_count("SELECT count(*) FROM images WHERE typeof(size) = 'text'"), 2);

        VgError err = { "" };
        ImageRecord got = { 0 };
        cr_assert_eq(store_open(db, STORE_APPEND, 1000, &s, &err), 0, "%s", err.text);
        cr_assert_eq(store_images(s, "/i/m", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert(got.stat.size == 4096 && got.stat.dev == 64768 && got.stat.ino == 131 && got.stat.mtime_ns == -5);
        store_close(s);
        cr_assert_eq(user_version(), 10);

        s = open_new();   /* migrates */
        cr_assert_eq(user_version(), store_schema_version());
        cr_assert_eq(typeof_count("SELECT count(*) FROM images WHERE typeof(size) = 'integer' AND"
                                  " typeof(dev) = 'integer' AND typeof(ino) = 'integer' AND typeof(mtime_ns) = 'integer'"), 2);
        cr_assert_eq(store_images(s, "/i/base", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert_eq(got.stat.size, 10737418240ULL);
        cr_assert_eq(got.stat.dev, 2049);
        cr_assert_eq(got.stat.ino, UINT64_MAX);
        cr_assert_eq(got.stat.mtime_ns, 1763900000123456789LL);
        cr_assert_eq(got.time_us, 1795392000000000);
        cr_assert_eq(store_images(s, "/i/m", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert(got.stat.size == 4096 && got.stat.ino == 131 && got.stat.mtime_ns == -5);

        /* A new record round-trips every bit. */
        ImageRecord rec = { .path = "/i/new", .sha256 = "cc", .time_us = 1,
                            .stat = { .size = 1, .dev = UINT64_MAX - 1, .ino = 1ULL << 63, .mtime_ns = INT64_MIN } };
        cr_assert_eq(store_image_put(s, &rec, &err), 0, "%s", err.text);
        cr_assert_eq(store_images(s, "/i/new", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert(got.stat.dev == UINT64_MAX - 1 && got.stat.ino == 1ULL << 63 && got.stat.mtime_ns == INT64_MIN);
        cr_assert_eq(count(s, (EventFilter) { 0 }), 4);
        cr_assert_str_eq(devices_text(s), "m disk type=(null) source=/i/m target=(null) mac=(null) ro=(null)"
                         " shared=(null) backing=(null)\n");
        store_close(s);
        ChainVerify v;
        cr_assert_eq(verify(&v), 0, "%s", v.problem);
}

typedef struct Seen {
        char text[1024];
} Seen;

static int seen_approval(const Approval *a, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s %s %s %lld %s %lld;", a->key, a->owner, a->ticket,
                 (long long) a->until_us, a->approved_by, (long long) a->time_us);
        return 0;
}

static int seen_ticket(const Ticket *t, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s %s %s %lld %lld %s %s %lld;", t->id, t->domain_glob, t->action,
                 (long long) t->from_us, (long long) t->until_us, t->approved_by, t->added_by, (long long) t->time_us);
        return 0;
}

static int seen_count(const EventCount *c, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s %s %lld %d;", c->kind, c->decision ? c->decision : "-",
                 (long long) c->count, c->newest_us > 0);
        return 0;
}

/* Every field of the typed rows goes in and comes out as it was. */
Test(store, authorizations_and_counts_round_trip_typed) {
        Store *s = open_new();
        VgError err = { "" };
        Approval a = { .key = "u-7", .owner = "alice", .ticket = "CHG-1", .until_us = 2000000000000000,
                       .approved_by = "bob", .time_us = 1000000 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        Approval b = { .key = "web-9", .time_us = 2000000 };
        cr_assert_eq(store_approval_put(s, &b, &err), 0, "%s", err.text);
        Ticket t = { .id = "CHG-1", .domain_glob = "web-*", .action = "start", .from_us = 1000000,
                     .until_us = 3000000, .approved_by = "cab", .added_by = "carol", .time_us = 500000 };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);

        Seen seen = { "" };
        cr_assert_eq(store_approvals(s, "web-7", "u-7", seen_approval, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "u-7 alice CHG-1 2000000000000000 bob 1000000;");
        seen.text[0] = '\0';
        cr_assert_eq(store_approvals(s, NULL, NULL, seen_approval, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "u-7 alice CHG-1 2000000000000000 bob 1000000;web-9 (null) (null) 0 (null) 2000000;");
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, "web-7", NULL, seen_ticket, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "CHG-1 web-* start 1000000 3000000 cab carol 500000;");
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, "db-1", "CHG-2", seen_ticket, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "");

        Event *e = dom_event("domain.prepare", "web-7", "u-7", NULL);
        event_set(&e->decision, "deny");
        append(s, e);
        event_free(e);
        e = dom_event("domain.defined", "web-7", "u-7", NULL);
        append(s, e);
        event_free(e);
        seen.text[0] = '\0';
        cr_assert_eq(store_event_counts(s, seen_count, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "domain.defined - 1 1;domain.prepare deny 1 1;");
        store_close(s);
}

static int seen_ticket_id(const Ticket *t, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s;", t->id);
        return 0;
}

static void put_ticket(Store *s, const char *id, const char *glob) {
        VgError err = { "" };
        Ticket t = { .id = id, .domain_glob = glob, .action = "start", .from_us = 1000000, .until_us = 3000000,
                     .time_us = 1 };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
}

/* A ticket's glob means what a policy rule's does (fnmatch): SQLite's GLOB
 * never matched "vic[!x]*" (it wants "[^x]"), so such a ticket covered
 * nothing. */
Test(store, ticket_globs_match_as_fnmatch) {
        Store *s = open_new();
        put_ticket(s, "T-1", "vic[!x]*");
        put_ticket(s, "T-2", "vic[^x]*");
        put_ticket(s, "T-3", "VIC*");
        put_ticket(s, "T-4", "v?ctim");
        put_ticket(s, "T-5", "vic\\tim");
        put_ticket(s, "T-6", "vix*");
        Seen seen = { "" };
        VgError err = { "" };
        cr_assert_eq(store_tickets(s, "victim", NULL, seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-1;T-2;T-4;T-5;");
        /* The one its metadata names comes too, whatever its glob: the
         * engine says that claim is false (decide.c). */
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, "victim", "T-6", seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-1;T-2;T-4;T-5;T-6;");
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, NULL, "T-6", seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-6;");
        store_close(s);
}

/* A row with a glob SQLite's GLOB refuses ("LIKE or GLOB pattern too
 * complex", over 50,000 bytes) once failed the query of every domain's
 * tickets. Now it is read like any other; the bounds keep new ones out. */
Test(store, a_huge_glob_does_not_fail_the_query) {
        Store *s = open_new();
        put_ticket(s, "T-1", "web-*");
        store_close(s);
        raw_exec("INSERT INTO tickets (id, domain_glob, action, valid_from, valid_until, time)"
                 " VALUES ('T-LONG', printf('%.50001c', 'x'), 'start', '2020-01-01T00:00:00Z',"
                 " '2020-01-02T00:00:00Z', '2020-01-01T00:00:00Z')");
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, NULL), 0);
        Seen seen = { "" };
        VgError err = { "" };
        cr_assert_eq(store_tickets(s, "web-7", NULL, seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-1;");
        store_close(s);
}

typedef struct Bad {
        char text[2048];
} Bad;

static int seen_invalid(const char *kind, const char *key, const char *why, void *u) {
        Bad *b = u;
        size_t n = strlen(b->text);
        snprintf(b->text + n, sizeof(b->text) - n, "%s '%s': %s;", kind, key, why);
        return 0;
}

/* Bounds at input: a name, ID or glob over its bound is not stored. */
Test(store, authorizations_over_their_bounds_are_refused) {
        Store *s = open_new();
        VgError err = { "" };
        char big[2000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        Ticket t = { .id = "T-1", .domain_glob = big, .from_us = 1, .until_us = 2, .time_us = 1 };
        cr_expect_eq(store_ticket_put(s, &t, &err), -ENAMETOOLONG);
        cr_expect(strstr(err.text, "ticket 'T-1': its domain glob is 1999 bytes, over the limit of 1024"), "%s",
                  err.text);
        big[256] = '\0';
        t = (Ticket) { .id = big, .domain_glob = "web-*", .from_us = 1, .until_us = 2, .time_us = 1 };
        cr_expect_eq(store_ticket_put(s, &t, &err), -ENAMETOOLONG);
        Approval a = { .key = big, .time_us = 1 };
        cr_expect_eq(store_approval_put(s, &a, &err), -ENAMETOOLONG);
        a = (Approval) { .key = "web-7", .owner = big, .time_us = 1 };
        cr_expect_eq(store_approval_put(s, &a, &err), -ENAMETOOLONG);
        cr_expect(strstr(err.text, "the approval of 'web-7': its owner is 256 bytes"), "%s", err.text);
        ImageRecord im = { .path = "relative.qcow2", .sha256 = "ab", .time_us = 1 };
        cr_expect_eq(store_image_put(s, &im, &err), -EINVAL);
        big[255] = '\0';
        a = (Approval) { .key = big, .time_us = 1 };
        cr_expect_eq(store_approval_put(s, &a, &err), 0, "255 bytes is a name: %s", err.text);
        store_close(s);
}

/* Rows no check saw (an older virtgov's, or edited by hand) that no
 * decision can use are found, each with its key and why. */
Test(store, invalid_authorizations_are_found) {
        Store *s = open_new();
        put_ticket(s, "T-OK", "web-*");
        store_close(s);
        raw_exec("INSERT INTO tickets (id, domain_glob, action, valid_from, valid_until, time) VALUES"
                 " ('T-LONG', printf('%.50001c', 'x'), 'start', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', 'x'),"
                 " ('T-NOGLOB', NULL, 'start', '2020-01-01T00:00:00Z', '2099-01-02T00:00:00Z', 'x'),"
                 " ('T-BADTIME', 'web-*', 'start', 'yesterday', '2099-01-02T00:00:00Z', 'x');"
                 "INSERT INTO approvals (key, time) VALUES (printf('%.300c', 'k'), 'x');"
                 "INSERT INTO images (path, sha256, size, dev, ino, mtime_ns, time) VALUES ('rel', 'ab', 0, 0, 0, 0, 'x')");
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, NULL), 0);
        Bad bad = { "" };
        size_t n = 0;
        VgError err = { "" };
        cr_assert_eq(store_authz_invalid(s, seen_invalid, &bad, &n, &err), 0, "%s", err.text);
        cr_expect_eq(n, 5, "%s", bad.text);
        cr_expect(strstr(bad.text, "approval 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...': "
                                   "the approval of 'kkkk"), "%s", bad.text);
        cr_expect(strstr(bad.text, "ticket 'T-LONG': ticket 'T-LONG': its domain glob is 50001 bytes, over the "
                                   "limit of 1024;"), "%s", bad.text);
        cr_expect(strstr(bad.text, "ticket 'T-NOGLOB': ticket 'T-NOGLOB' needs a domain glob"), "%s", bad.text);
        cr_expect(strstr(bad.text, "ticket 'T-BADTIME': ticket 'T-BADTIME': its window ends before it starts"),
                  "%s", bad.text);
        cr_expect(strstr(bad.text, "trusted image 'rel': trusted image 'rel': not an absolute path"), "%s", bad.text);
        store_close(s);
}

static int seen_process(const ProcessRecord *p, void *u) {
        Seen *seen = u;
        size_t n = strlen(seen->text);
        snprintf(seen->text + n, sizeof(seen->text) - n, "%lld %s %s %s;", (long long) p->pid, p->role,
                 p->domain ? p->domain : "-", p->status);
        return 0;
}

/* What a baseline row held is kept when it is replaced or removed (a
 * process may still run it), and dropped once the baseline holds it again;
 * processes' statuses are replaced per domain or all at once. */
Test(store, superseded_hashes_and_process_statuses) {
        Store *s = open_new();
        VgError err = { "" };
        FscanFile f = { .path = "/usr/bin/qemu", .tag = "isolation", .type = 'f', .attrs = FSCAN_ALL,
                        .sha256 = "aa" };
        cr_assert_eq(store_baseline_put(s, &f, &err), 0, "%s", err.text);
        int64_t when = 0;
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", &when, &err), -ENOENT);
        snprintf(f.sha256, sizeof(f.sha256), "bb");
        cr_assert_eq(store_baseline_put(s, &f, &err), 0, "%s", err.text);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", &when, &err), 0, "%s", err.text);
        cr_assert_gt(when, 0);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "bb", NULL, &err), -ENOENT, "the current one is not");
        FscanList *rows = NULL;
        cr_assert_eq(store_baseline_of(s, "/usr/bin/qemu", &rows, &err), 0, "%s", err.text);
        cr_assert_eq(rows->n, 1);
        cr_assert_str_eq(rows->files[0].sha256, "bb");
        fscan_list_free(rows);
        /* Retaken with the first content again: it is current, not superseded. */
        snprintf(f.sha256, sizeof(f.sha256), "aa");
        FscanList l = { .files = &f, .n = 1 };
        const char *profiles[] = { "isolation", NULL };
        cr_assert_eq(store_baseline_replace(s, profiles, &l, &err), 0, "%s", err.text);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", NULL, &err), -ENOENT);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "bb", NULL, &err), 0, "%s", err.text);
        cr_assert_eq(store_baseline_remove(s, "/usr/bin/qemu", "isolation", &err), 0, "%s", err.text);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", NULL, &err), 0, "a removed row's content too");

        ProcessRecord p[] = {
                { .pid = 10, .start_ticks = 1, .role = "qemu", .domain = "web-7", .status = "stale", .since_us = 1,
                  .checked_us = 2 },
                { .pid = 11, .start_ticks = 1, .role = "qemu", .domain = "db-1", .status = "current", .since_us = 1,
                  .checked_us = 2 },
                { .pid = 5, .start_ticks = 1, .role = "virtqemud", .status = "tampered", .since_us = 1, .checked_us = 2 },
        };
        for (size_t i = 0; i < ELEMENTSOF(p); i++)
                cr_assert_eq(store_process_put(s, &p[i], &err), 0, "%s", err.text);
        Seen seen = { "" };
        cr_assert_eq(store_processes(s, seen_process, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "5 virtqemud - tampered;11 qemu db-1 current;10 qemu web-7 stale;");
        cr_assert_eq(store_processes_clear(s, "web-7", &err), 0, "%s", err.text);
        seen.text[0] = '\0';
        cr_assert_eq(store_processes(s, seen_process, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "5 virtqemud - tampered;11 qemu db-1 current;");
        cr_assert_eq(store_processes_clear(s, NULL, &err), 0, "%s", err.text);
        seen.text[0] = '\0';
        cr_assert_eq(store_processes(s, seen_process, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "");
        store_close(s);
}

/* The hook's copy of the authorization tables (store_authz_path): there
 * after every change, made from what was committed, and gone while a
 * change is being made, so that it never allows what the inventory does
 * not. */
static size_t copy_approvals(const char *copy, const char *name) {
        Store *c = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(copy, STORE_READ, 1000, &c, &err), 0, "%s", err.text);
        Seen seen = { "" };
        cr_assert_eq(store_approvals(c, name, NULL, seen_approval, &seen, &err), 0, "%s", err.text);
        store_close(c);
        size_t n = 0;
        for (const char *p = seen.text; (p = strchr(p, ';')); p++)
                n++;
        return n;
}

Test(store, authz_copy_follows_committed_changes_only) {
        Store *s = open_new();
        VgError err = { "" };
        char *copy = store_authz_path(db);
        struct stat st;
        cr_assert_eq(stat(copy, &st), 0, "no copy after creating the inventory");
        cr_expect_eq(st.st_mode & 0777, 0640);
        cr_expect_eq(copy_approvals(copy, "web-7"), 0);

        /* A change on its own (its own transaction): copied. */
        Approval a = { .key = "web-7", .approved_by = "bob", .time_us = 1000000 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1);
        Ticket t = { .id = "CHG-1", .domain_glob = "web-*", .from_us = 1, .until_us = 2, .time_us = 1 };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
        ImageRecord im = { .path = "/img/a.qcow2", .sha256 = "ab", .time_us = 1 };
        cr_assert_eq(store_image_put(s, &im, &err), 0, "%s", err.text);
        Store *c = NULL;
        cr_assert_eq(store_open(copy, STORE_READ, 1000, &c, &err), 0, "%s", err.text);
        Seen seen = { "" };
        cr_assert_eq(store_tickets(c, "web-7", NULL, seen_ticket, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "CHG-1 web-* (null) 1 2 (null) (null) 1;");
        store_close(c);

        /* Inside a transaction: no copy from the change until the commit. */
        cr_assert_eq(store_begin(s, &err), 0, "%s", err.text);
        cr_assert_eq(store_approval_delete(s, "web-7", &err), 0, "%s", err.text);
        cr_expect_eq(access(copy, F_OK), -1, "a copy still allows what is being revoked");
        cr_assert_eq(store_commit(s, &err), 0, "%s", err.text);
        cr_expect_eq(copy_approvals(copy, "web-7"), 0);

        /* Rolled back: the copy again, without what was not committed. */
        cr_assert_eq(store_begin(s, &err), 0, "%s", err.text);
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        cr_expect_eq(access(copy, F_OK), -1);
        store_rollback(s);
        cr_expect_eq(copy_approvals(copy, "web-7"), 0);

        /* Gone (a crash between the removal and the commit): the next
         * writer to open the inventory makes it again. */
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        store_close(s);
        cr_assert_eq(unlink(copy), 0);
        s = open_new();
        cr_expect_eq(copy_approvals(copy, "web-7"), 1);
        store_close(s);
        free(copy);
}

/* What did not go through the store: rows edited by hand (or a backup
 * restored in place) are caught by the daemon's check, a replaced file by
 * the hook's open of the copy and by the next writer's; a symlink to the
 * inventory has the same copy. */
Test(store, authz_copy_catches_what_went_around_it) {
        Store *s = open_new();
        VgError err = { "" };
        Approval a = { .key = "web-7", .time_us = 1000000 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        store_close(s);
        char *copy = store_authz_path(db);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1);

        sqlite3 *raw = NULL;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(raw, "DELETE FROM approvals", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1, "(the copy does not know yet)");
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, &err), 0, "%s", err.text);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1, "(nor does a writer's open, which reads its header)");
        cr_expect_eq(store_authz_check(s, true), 1, "the daemon's check did not see the rows differ");
        cr_expect_eq(copy_approvals(copy, "web-7"), 0, "the daemon's check did not make the copy again");
        cr_expect_eq(store_authz_check(s, true), 0, "the copy made again does not match");

        Store *c = NULL;
        cr_expect_eq(store_open_authz(db, 1000, &c), 0);
        store_close(c);
        store_close(s);
        /* The inventory replaced by another file: that copy is not its. */
        char *other = path_join(dir, "other.db");
        char cmd[8192];
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && mv '%s' '%s'", db, other, other, db);
        cr_assert_eq(system(cmd), 0);
        cr_expect_eq(store_open_authz(db, 1000, &c), -ESTALE);
        /* and a writer's open makes it the new file's */
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, &err), 0, "%s", err.text);
        store_close(s);
        cr_expect_eq(store_open_authz(db, 1000, &c), 0);
        store_close(c);

        char *link = path_join(dir, "link.db");
        cr_assert_eq(symlink(db, link), 0);
        char *via_link = store_authz_path(link);
        cr_expect_str_eq(via_link, copy);
        free(via_link);
        free(link);
        free(other);
        free(copy);
}
