/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Appending events: each one hash-chained to the one before (chain.h) and
 * applied to its domain's row in the same transaction. Also the chain's
 * verification, which recomputes what the writer computed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/kinds.h"
#include "priv.h"

/* What is derived from a domain's facts (devices, type), from its facts
 * as they now are. */
static int derive_from_facts(Store *s, const char *uuid, VgError *err) {
        static const StmtId steps[] = { STMT_DEVICES_CLEAR, STMT_DEVICES_FILL, STMT_DERIVED_FRESH };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                sqlite3_stmt *st;
                int r = store_stmt(s, steps[i], &st, err);
                if (r < 0)
                        return r;
                bind_text(st, 1, uuid);
                if ((r = store_step_done(s, st, err, "deriving a domain's devices and type")) < 0)
                        return r;
        }
        return 0;
}

/* The parameters of STMT_UPSERT_DOMAIN (store/stmt.c) from e, of kind k;
 * facts and config: what e->data holds of them (NULL: nothing). */
static void bind_domain_event(sqlite3_stmt *st, const Event *e, const EventKind *k, const char *data,
                              json_t *facts, bool config) {
        bind_text(st, 1, e->uuid);
        bind_text(st, 2, e->domain);
        bind_text(st, 3, e->host);
        /* The state the kind leads to (NULL: as it was). */
        bind_text(st, 4, k->state);
        /* A define brings an unknown or undefined domain into being, off. */
        bind_text(st, 13, k->flags & KIND_DEFINES ? "shutoff" : NULL);
        /* What the daemon read from libvirt beats what the kind implies. */
        int persistent = k->persistent;
        json_t *p = json_object_get(e->data, "persistent");
        if (json_is_boolean(p))
                persistent = json_is_true(p);
        if (persistent >= 0)
                sqlite3_bind_int(st, 5, persistent);
        json_t *autostart = json_object_get(e->data, "autostart");
        if (json_is_boolean(autostart))
                sqlite3_bind_int(st, 14, json_is_true(autostart));
        if (config)
                bind_text(st, 15, data);
        if (facts) {
                bind_text(st, 6, json_string_value(json_object_get(facts, "owner")));
                bind_text(st, 7, json_string_value(json_object_get(facts, "ticket")));
                bind_text(st, 8, json_string_value(json_object_get(facts, "purpose")));
                bind_text(st, 9, data);
        }
        bind_text(st, 10, e->time);
        bind_text(st, 11, k->start ? e->time : NULL);
        bind_text(st, 12, k->stop ? e->time : NULL);
}

/* data: the event's data as insert_event stored it. SQLite takes the facts
 * out of that text (they are in it byte for byte) instead of jansson
 * dumping them a second time: 50,000 instructions fewer per hook run with
 * 1 KiB of facts, of 4.8 million.
 * An event without facts (most of them: started, stopped, the daemon's)
 * updates its domain's row, and only when there is none yet takes the
 * upsert: 5,200 instructions fewer per event, of 102,000 (bench/ingest
 * under callgrind). */
static int apply_to_domain(Store *s, const Event *e, const char *data, VgError *err) {
        if (!e->uuid || !e->domain || strncmp(e->kind, "domain.", 7))
                return 0;

        /* What the kind says about the domain's state (kinds.h). */
        static const EventKind none = { .persistent = -1 };
        const EventKind *k = event_kind(e->kind) ?: &none;
        json_t *facts = json_object_get(e->data, "facts");
        if (!json_is_object(facts))
                facts = NULL;
        bool config = json_is_object(json_object_get(e->data, "config_facts"));
        sqlite3_stmt *st;
        int r;
        if (!facts && !config) {
                if ((r = store_stmt(s, STMT_UPDATE_DOMAIN, &st, err)) < 0)
                        return r;
                bind_domain_event(st, e, k, data, NULL, false);
                if ((r = store_step_done(s, st, err, "updating the domain")) < 0 || sqlite3_changes(s->db) > 0)
                        return r;
        }

        r = store_stmt(s, facts || config ? STMT_UPSERT_DOMAIN_FACTS : STMT_UPSERT_DOMAIN, &st, err);
        if (r < 0)
                return r;
        bind_domain_event(st, e, k, data, facts, config);
        int rc = sqlite3_step(st);
        bool stale = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
        if (rc == SQLITE_ROW)
                rc = sqlite3_step(st);
        store_stmt_done(st);
        if (rc != SQLITE_DONE)
                return store_sql_fail(s, rc, err, "updating the domain");
        return stale ? derive_from_facts(s, e->uuid, err) : 0;
}

/* ---- the hash chain ---- */

/* The newest row below `before`: its id (0 when there is none) and its
 * stored hash as text ("" when none or NULL). The one lookup behind the
 * writer's head, verify --from, anchors and the daemon's chain.head. */
static int chain_row_before(Store *s, int64_t before, int64_t *ret_id, char hex[CHAIN_HEX_SIZE], VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_CHAIN_PREV, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, before);
        int rc = sqlite3_step(st);
        const char *h = rc == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 1) : NULL;
        *ret_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        snprintf(hex, CHAIN_HEX_SIZE, "%s", h ? h : "");
        store_stmt_done(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_fail(s, rc, err, "reading the hash chain");
}

/* The newest row's id and hash into s->head. A head hash that is not 64
 * hex digits (a damaged row) chains on from zeros: the event is still
 * recorded and `virtgov verify` names the damaged row. */
static int chain_head(Store *s, VgError *err) {
        if (s->head_valid)
                return 0;
        char hex[CHAIN_HEX_SIZE];
        int r = chain_row_before(s, INT64_MAX, &s->head_id, hex, err);
        if (r < 0)
                return r;
        if (chain_unhex(hex, s->head) < 0)
                memset(s->head, 0, sizeof(s->head));
        s->head_valid = true;
        return 0;
}

/* A row of CHAIN_COLUMNS starting at column col, as chain.h hashes it. */
static void chain_row_from(sqlite3_stmt *st, int col, int64_t id, ChainRow *row) {
        row->id = id;
        for (int i = 0; i < CHAIN_FIELDS; i++) {
                /* text before bytes: the pointer stays valid (SQLite's rule) */
                row->field[i] = (const char *) sqlite3_column_text(st, col + i);
                row->len[i] = (size_t) sqlite3_column_bytes(st, col + i);
        }
}

/* Migration 4 -> 5: chain the rows written before the chain existed. */
int store_chain_existing_rows(Store *s, VgError *err) {
        int rc = sqlite3_exec(s->db, "DROP TRIGGER events_no_update", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_sql_fail(s, rc, err, "chaining existing events");
        sqlite3_stmt *walk = NULL, *set = NULL;
        rc = sqlite3_prepare_v2(s->db, "SELECT " CHAIN_COLUMNS ", id FROM events ORDER BY id", -1, &walk, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_prepare_v2(s->db, "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE id = ?3",
                                        -1, &set, NULL);
        uint8_t prev[CHAIN_HASH_SIZE] = { 0 };
        while (rc == SQLITE_OK && (rc = sqlite3_step(walk)) == SQLITE_ROW) {
                ChainRow row;
                uint8_t h[CHAIN_HASH_SIZE];
                char prev_hex[CHAIN_HEX_SIZE], hex[CHAIN_HEX_SIZE];
                chain_row_from(walk, 0, sqlite3_column_int64(walk, CHAIN_FIELDS), &row);
                chain_hash(prev, &row, h);
                chain_hex(prev, prev_hex);
                chain_hex(h, hex);
                sqlite3_bind_text(set, 1, prev_hex, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(set, 2, hex, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(set, 3, row.id);
                rc = sqlite3_step(set);
                sqlite3_reset(set);
                rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
                memcpy(prev, h, sizeof(prev));
        }
        sqlite3_finalize(walk);
        sqlite3_finalize(set);
        if (rc == SQLITE_DONE)
                rc = sqlite3_exec(s->db, "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
                                  "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;", NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_sql_fail(s, rc, err, "chaining existing events");
}

/* Appends e with data, the text of its data (event_data_text). */
static int insert_event(Store *s, Event *e, const char *data, VgError *err) {
        sqlite3_stmt *st;
        int r = chain_head(s, err);
        if (r < 0 || (r = store_stmt(s, STMT_INSERT_EVENT, &st, err)) < 0)
                return r;
        /* Exactly the bytes bound below are hashed. */
        const char *field[CHAIN_FIELDS] = { e->time, e->ref, e->source, e->kind, e->host, e->domain,
                                            e->uuid, e->decision, e->reason, e->actor, data };
        ChainRow row = { .id = s->head_id + 1 };
        uint8_t h[CHAIN_HASH_SIZE];
        char prev_hex[CHAIN_HEX_SIZE];
        for (int i = 0; i < CHAIN_FIELDS; i++) {
                row.field[i] = field[i];
                row.len[i] = field[i] ? strlen(field[i]) : 0;
                if (field[i])
                        sqlite3_bind_text(st, i + 1, field[i], (int) row.len[i], SQLITE_STATIC);
                else
                        sqlite3_bind_null(st, i + 1);
        }
        chain_hash(s->head, &row, h);
        chain_hex(s->head, prev_hex);
        chain_hex(h, e->hash);
        sqlite3_bind_int64(st, 12, row.id);
        bind_text(st, 13, prev_hex);
        bind_text(st, 14, e->hash);
        if ((r = store_step_done(s, st, err, "appending an event")) < 0)
                return r;
        if (sqlite3_changes(s->db) == 0) {
                e->hash[0] = '\0';
                return 1;   /* the ref is there already */
        }
        e->id = row.id;
        s->head_id = row.id;
        memcpy(s->head, h, sizeof(h));
        return 0;
}

int store_append_event(Store *s, Event *e, const char *data, VgError *err) {
        if (s->old_schema)
                return vg_error(err, -EPROTO, "inventory '%s' has schema version %d, older than this virtgov's %d: "
                                "the hook does not upgrade it (that can take longer than a hook may run); "
                                "'virtgov hooks install' or a restart of virtgov-inventoryd does",
                                s->path, s->old_schema, STORE_SCHEMA_VERSION);
        _cleanup_free_ char *own = data ? NULL : event_data_text(e);
        if (!data && !(data = own))
                return vg_error(err, -ENOMEM, "out of memory");
        bool own_txn = sqlite3_get_autocommit(s->db);
        int r;
        if (own_txn && (r = store_begin(s, err)) < 0)
                return r;
        r = insert_event(s, e, data, err);
        if (r == 0)
                r = apply_to_domain(s, e, data, err);
        if (r < 0) {
                if (own_txn)
                        store_rollback(s);
                return r;
        }
        if (own_txn) {
                int k = store_commit(s, err);
                if (k < 0) {
                        store_rollback(s);
                        return k;
                }
        }
        return r;
}

/* ---- verifying the chain ---- */

static void verify_fail(ChainVerify *v, int64_t id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void verify_fail(ChainVerify *v, int64_t id, const char *fmt, ...) {
        va_list ap;
        v->broken_id = id;
        va_start(ap, fmt);
        vsnprintf(v->problem, sizeof(v->problem), fmt, ap);
        va_end(ap);
}

/* One row against the running chain; false with v->problem set at the
 * first thing wrong. */
static bool verify_row(sqlite3_stmt *st, ChainVerify *v, int64_t *last_id, uint8_t prev[CHAIN_HASH_SIZE]) {
        int64_t id = sqlite3_column_int64(st, CHAIN_FIELDS);
        const char *stored_prev = (const char *) sqlite3_column_text(st, CHAIN_FIELDS + 1);
        const char *stored = (const char *) sqlite3_column_text(st, CHAIN_FIELDS + 2);
        uint8_t want_prev[CHAIN_HASH_SIZE], want[CHAIN_HASH_SIZE], h[CHAIN_HASH_SIZE];
        ChainRow row;

        if (*last_id >= 0 && id != *last_id + 1) {
                if (id - 1 == *last_id + 1)
                        verify_fail(v, *last_id + 1, "event %lld is missing (deleted)", (long long) (*last_id + 1));
                else
                        verify_fail(v, *last_id + 1, "events %lld to %lld are missing (deleted)",
                                    (long long) (*last_id + 1), (long long) (id - 1));
                return false;
        }
        if (chain_unhex(stored_prev, want_prev) < 0 || chain_unhex(stored, want) < 0) {
                verify_fail(v, id, "event %lld: its prev_hash or hash is not 64 hex digits (edited)", (long long) id);
                return false;
        }
        if (memcmp(want_prev, prev, CHAIN_HASH_SIZE)) {
                if (*last_id < 0)
                        verify_fail(v, id, "event %lld: its prev_hash does not match the hash of the event "
                                    "before it: an earlier event was changed or removed", (long long) id);
                else
                        verify_fail(v, id, "event %lld: its prev_hash is not the hash of event %lld: event %lld "
                                    "was edited and re-hashed, or rows were reordered", (long long) id,
                                    (long long) *last_id, (long long) *last_id);
                return false;
        }
        chain_row_from(st, 0, id, &row);
        chain_hash(prev, &row, h);
        if (memcmp(h, want, CHAIN_HASH_SIZE)) {
                verify_fail(v, id, "event %lld: its content does not match its hash (edited)", (long long) id);
                return false;
        }
        memcpy(prev, h, CHAIN_HASH_SIZE);
        *last_id = id;
        return true;
}

int store_verify_chain(Store *s, int64_t from_id, ChainVerify *v, VgError *err) {
        *v = (ChainVerify) { .first_id = 0 };
        uint8_t prev[CHAIN_HASH_SIZE] = { 0 };
        /* From the start, the first row must be event 1 and link to zeros;
         * from an id, the row before it is taken as given. */
        int64_t last_id = 0;
        sqlite3_stmt *st;
        int r;
        if (from_id > 1) {
                char hex[CHAIN_HEX_SIZE];
                if ((r = chain_row_before(s, from_id, &last_id, hex, err)) < 0)
                        return r;
                if (last_id > 0 && chain_unhex(hex, prev) < 0)
                        last_id = -1;   /* unreadable: check the link only from the next row */
        }
        if ((r = store_stmt(s, STMT_CHAIN_WALK, &st, err)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, from_id);
        int rc;
        bool ok = true;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (v->checked == 0)
                        v->first_id = sqlite3_column_int64(st, CHAIN_FIELDS);
                if (last_id < 0) {
                        /* the row before --from was unreadable: trust this row's prev_hash */
                        if (chain_unhex((const char *) sqlite3_column_text(st, CHAIN_FIELDS + 1), prev) == 0)
                                last_id = sqlite3_column_int64(st, CHAIN_FIELDS) - 1;
                }
                if (!(ok = verify_row(st, v, &last_id, prev)))
                        break;
                v->checked++;
        }
        store_stmt_done(st);
        if (ok && rc != SQLITE_DONE)
                return store_sql_fail(s, rc, err, "reading the chain");
        v->head_id = last_id > 0 ? last_id : 0;
        chain_hex(prev, v->head_hash);
        return ok ? 0 : 1;
}

int store_chain_hash(Store *s, int64_t id, char hex[CHAIN_HEX_SIZE], VgError *err) {
        int64_t got;
        int r = chain_row_before(s, id + 1, &got, hex, err);
        return r < 0 ? r : got == id && id > 0 ? 0 : -ENOENT;
}

int store_chain_head(Store *s, int64_t *id, char hex[CHAIN_HEX_SIZE], VgError *err) {
        return chain_row_before(s, INT64_MAX, id, hex, err);
}
