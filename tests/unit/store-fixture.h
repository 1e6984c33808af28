/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's suites (test-store*.c): a fresh inventory for each test,
 * and the helpers more than one of them uses. Each suite names its own
 * TestSuite with setup and teardown. */
#pragma once

#include <sqlite3.h>

#include "test-helpers.h"
#include "virtgov/store/store.h"

static char *dir, *db;
static inline void setup(void) {
        dir = scratch_new();
        db = path_join(dir, "inventory.db");
}
static inline void teardown(void) {
        free(db);
        scratch_remove(dir);
}

static inline Store *open_new(void) {
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_CREATE, 1000, &s, &err), 0, "%s", err.text);
        return s;
}

static inline Event *dom_event(const char *kind, const char *name, const char *uuid, const char *time) {
        Event *e = event_new("hook", kind);
        event_set(&e->domain, name);
        event_set(&e->uuid, uuid);
        if (time)
                snprintf(e->time, sizeof(e->time), "%s", time);
        return e;
}

static inline int append(Store *s, Event *e) {
        VgError err = { "" };
        int r = store_append_event(s, e, NULL, &err);
        cr_assert_geq(r, 0, "%s", err.text);
        return r;
}

/* Runs sql on the inventory outside virtgov (as an older virtgov, or
 * someone editing it, would). */
static inline void raw_exec(const char *sql) {
        sqlite3 *raw;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        char *msg = NULL;
        int rc = sqlite3_exec(raw, sql, NULL, NULL, &msg);
        cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg);
        sqlite3_close(raw);
}

static inline int user_version(void) {
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

static inline int count_cb(const Event *e, void *u) {
        (*(int *) u)++;
        return 0;
}

static inline int count(Store *s, EventFilter f) {
        int n = 0;
        cr_assert_eq(store_query_events(s, &f, count_cb, &n, NULL), 0);
        return n;
}

/* A flag as the devices' text rows showed it: "1" when set. */
static inline const char *flag(bool set) {
        return set ? "1" : "(null)";
}

static inline int device_line(const DeviceRow *row, void *u) {
        char line[512];
        snprintf(line, sizeof(line), "%s %s type=%s source=%s target=%s mac=%s ro=%s shared=%s backing=%s\n",
                 row->domain, row->kind == DEVICE_DISK ? "disk" : "interface", row->type, row->source,
                 row->target, row->mac, flag(row->readonly), flag(row->shareable), row->backing);
        strcat(u, line);
        return 0;
}

static inline void define_with_facts(Store *s, const char *name, const char *uuid, const char *facts) {
        Event *e = dom_event("domain.defined", name, uuid, NULL);
        json_object_set_new(e->data, "facts", json_loads(facts, 0, NULL));
        append(s, e);
        event_free(e);
}

static inline char *devices_text(Store *s) {
        static char out[4096];
        VgError err = { "" };
        out[0] = '\0';
        cr_assert_eq(store_devices(s, device_line, out, &err), 0, "%s", err.text);
        return out;
}

static inline int count_int(void *u, int n, char **v, char **names) {
        (*(int *) u) += n == 1 && v[0] ? atoi(v[0]) : 0;
        return 0;
}

static inline void fill(Store *s, int n) {
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

static inline int verify(ChainVerify *v) {
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_READ, 1000, &s, &err), 0, "%s", err.text);
        int r = store_verify_chain(s, 1, v, &err);
        cr_assert_geq(r, 0, "%s", err.text);
        store_close(s);
        return r;
}

typedef struct Seen {
        char text[1024];
} Seen;
