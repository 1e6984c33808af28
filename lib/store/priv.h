/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store's inside, shared by its files and by nothing else (tests
 * included: they go through store.h and, for older schemas, raw SQL).
 * One file per job, each calling only the files listed before it, so
 * that no circle of calls runs between them (tests/test-layering.sh):
 *
 *   store/stmt.c     the statement catalog: every prepared statement's
 *                    SQL, preparing, stepping, SQLite errors to errnos
 *   store/authz-copy.c  the hook's copy of the authorization tables:
 *                    dropped before they change, made again after
 *   store/txn.c      transactions, whose end makes the copy again
 *   store/append.c   appending events, the domain row they update, the
 *                    hash chain and its verification
 *   store/events.c   event queries and counts
 *   store/domains.c  domain rows, their devices and totals
 *   store/authz.c    approvals, tickets and the trusted-image library
 *   store/procs.c    what replaced baseline rows held, the processes' status
 *   store/integrity.c  the integrity baseline and its open findings
 *   store/schema.c   the numbered migrations (their C steps: the files of
 *                    their tables, above)
 *   store.c          open (migrating, checking the copy), close,
 *                    integrity check, small keyed state
 */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/model/chain.h"
#include "virtgov/store/store.h"

/* The devices in the facts F (an SQL expression over "domains d") of the
 * domains where W holds: one row per disk and per interface, or one row
 * of kind 'invalid' when F is not JSON (store_devices reports it; failing
 * here would lose the write). Used by a migration and by the writer. */
#define DEVICES_FILL(F, W) \
        "INSERT INTO devices (uuid, kind, idx, type, source, target, mac, readonly, shareable, backing)" \
        " SELECT d.uuid, k.kind, j.key, json_extract(j.value, '$.type'), json_extract(j.value, '$.source')," \
        "  json_extract(j.value, '$.target'), json_extract(j.value, '$.mac')," \
        "  json_extract(j.value, '$.readonly'), json_extract(j.value, '$.shareable')," \
        "  json_extract(j.value, '$.backing')" \
        " FROM domains d, (SELECT 'disk' AS kind, '$.disks' AS path UNION ALL" \
        "                  SELECT 'interface', '$.interfaces') k," \
        "  json_each(CASE WHEN json_valid(" F ") THEN " F " END, k.path) j WHERE j.type = 'object' AND " W \
        " UNION ALL SELECT d.uuid, 'invalid', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL" \
        " FROM domains d WHERE " F " IS NOT NULL AND NOT json_valid(" F ") AND " W
/* The definition as the daemon saw it, else as the hook did. */
#define DEVICE_FACTS "coalesce(d.config_facts, d.facts)"
/* The type of a domain, from its facts (in an UPDATE of domains). */
#define DERIVED_TYPE \
        "CASE WHEN json_valid(coalesce(config_facts, facts))" \
        " THEN json_extract(coalesce(config_facts, facts), '$.type') END"

/* The schema version this program writes: the number of migrations in
 * store/schema.c, which checks it at compile time. A macro, for the files
 * below that one may not call store_schema_version(). */
#define STORE_SCHEMA_VERSION 15

/* The columns of an event that the hash chain covers, in chain.h's order. */
#define CHAIN_COLUMNS "time, ref, source, kind, host, domain, uuid, decision, reason, actor, data"

/* The prepared statements (their SQL: store/stmt.c). */
typedef enum StmtId {
        STMT_INSERT_EVENT,
        STMT_CHAIN_WALK,
        STMT_CHAIN_PREV,
        STMT_UPSERT_DOMAIN,
        STMT_UPDATE_DOMAIN,
        STMT_UPSERT_DOMAIN_FACTS,
        STMT_DEVICES_CLEAR,
        STMT_DEVICES_FILL,
        STMT_DERIVED_FRESH,
        STMT_LIST_DOMAINS,
        STMT_LIST_ALL_DOMAINS,
        STMT_LIST_DOMAINS_LEAN,
        STMT_LIST_ALL_DOMAINS_LEAN,
        STMT_HOST_DOMAINS,
        STMT_FIND_DOMAIN,
        STMT_CONFIG_FACTS,
        STMT_META_GET,
        STMT_META_SET,
        STMT_APPROVAL_PUT,
        STMT_APPROVAL_DELETE,
        STMT_APPROVALS_FOR,
        STMT_APPROVALS_ALL,
        STMT_DEVICES,
        STMT_DOMAIN_TOTALS,
        STMT_TICKET_PUT,
        STMT_TICKET_GET,
        STMT_TICKETS_SCAN,
        STMT_TICKETS_ALL,
        STMT_IMAGE_PUT,
        STMT_IMAGE_GET,
        STMT_IMAGES_ALL,
        STMT_BASELINE_ALL,
        STMT_BASELINE_PROFILE,
        STMT_BASELINE_PUT,
        STMT_BASELINE_DELETE,
        STMT_BASELINE_DELETE_PROFILE,
        STMT_FINDINGS_ALL,
        STMT_FINDING_PUT,
        STMT_FINDING_DELETE,
        STMT_FINDINGS_DELETE_PROFILE,
        STMT_DOMAIN_PATHS,
        STMT_BASELINE_OF,
        STMT_SUPERSEDED_PUT,
        STMT_SUPERSEDED_PUT_PROFILE,
        STMT_SUPERSEDED_PRUNE,
        STMT_SUPERSEDED_GET,
        STMT_PROCESSES_ALL,
        STMT_PROCESS_PUT,
        STMT_PROCESSES_CLEAR,
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        _STMT_MAX,
} StmtId;

struct Store {
        sqlite3 *db;
        char *path;
        StoreMode mode;
        int old_schema;          /* STORE_APPEND on an older schema: its version; else 0 */
        sqlite3_stmt *stmt[_STMT_MAX];
        /* The newest row's id and hash, read once per write transaction
         * (the write lock keeps it current until commit). */
        bool head_valid;
        int64_t head_id;
        uint8_t head[CHAIN_HASH_SIZE];
        /* This transaction changed approvals, tickets or trusted images:
         * their copy (store_authz_path) is gone, to be made again once it
         * has ended. */
        bool authz_changed;
};

/* ---- store/authz-copy.c ---- */

/* Removes the copy of the authorization tables (store_authz_path), synced,
 * before they change: in a transaction, once per transaction. */
int store_authz_drop(Store *s, VgError *err);
/* Makes the copy again, from what is committed (outside a transaction
 * only). Failing, it leaves no copy, which is safe: the hook then reads
 * the inventory. */
void store_authz_copy(Store *s);
/* Whether copy (NULL: none) is the copy of inventory, from its header
 * alone: 0 when it is, of this schema version; -ENOENT when there is no
 * copy; -ESTALE when it is of another schema or another file. */
int store_authz_current(const char *inventory, const char *copy);

/* ---- store/procs.c ---- */

/* Keeps what the baseline row of (path, profile) holds, unless it is
 * new_sha256 (NULL: the row goes), before it is replaced or removed. */
int store_superseded_keep(Store *s, const char *path, const char *profile, const char *new_sha256, VgError *err);
/* The same for every row of a profile about to be retaken; then, once the
 * new rows are in, store_superseded_prune drops what they hold again. */
int store_superseded_keep_profile(Store *s, const char *profile, VgError *err);
int store_superseded_prune(Store *s, VgError *err);

/* ---- store/stmt.c ---- */

/* SQLite's rc as the store's negative errno, with err naming the
 * inventory, what was being done (what) and SQLite's message. */
int store_sql_fail(Store *s, int rc, VgError *err, const char *what);

/* Statement id, prepared on first use and kept until store_close, reset
 * and with no bindings. */
int store_stmt(Store *s, StmtId id, sqlite3_stmt **ret, VgError *err);

/* Done with a statement of s->stmt until its next store_stmt: reset, and
 * its bindings cleared, for they point into the caller's memory
 * (bind_text). */
void store_stmt_done(sqlite3_stmt *st);

/* Runs a statement that returns no rows, and resets it for its next use. */
int store_step_done(Store *s, sqlite3_stmt *st, VgError *err, const char *what);

/* Runs statement id, which takes no parameters and returns no rows. */
int store_exec(Store *s, StmtId id, VgError *err);

/* The one text column of the one row statement id finds by key ?1
 * (a copy in *ret): -ENOENT when there is none. */
int store_get_text(Store *s, StmtId id, const char *key, char **ret, VgError *err, const char *what);

/* Not copied (SQLITE_STATIC): v must live until the statement is done
 * (store_stmt_done). Copying the ten fields and the data of an event cost
 * 8% of an append's instructions. */
static inline void bind_text(sqlite3_stmt *st, int i, const char *v) {
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, i);
}

/* Column i of the current row as a copy, NULL for NULL (or no memory). */
static inline char *col_text(sqlite3_stmt *st, int i) {
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *) t) : NULL;
}

/* What store_walk does with each row: reads it (into the caller's typed
 * row) and passes it on. A negative return stops the walk. */
typedef int (*StoreRowFn)(sqlite3_stmt *st, void *walk);

/* Steps st to its end, each row to fn, then resets st (store_stmt_done).
 * Returns 0, fn's negative return, or an error saying what failed. */
int store_walk(Store *s, sqlite3_stmt *st, StoreRowFn fn, void *walk, VgError *err, const char *what);

/* Binds a time (microseconds) as the inventory's RFC 3339 text, copied. */
void store_bind_time(sqlite3_stmt *st, int i, int64_t us);

/* Column i, an RFC 3339 time, in microseconds; fallback when it is NULL
 * or not a time. */
int64_t store_col_time(sqlite3_stmt *st, int i, int64_t fallback);

/* ---- store/schema.c ---- */

/* The integer a one-value PRAGMA query (sql) returns. */
int store_pragma_int(Store *s, const char *sql, int *ret, VgError *err);

/* Brings the schema to this program's version, as s->mode allows: a
 * reader refuses an older one, STORE_APPEND notes it (s->old_schema) and
 * leaves it, a writer migrates it. Any mode refuses a newer one. */
int store_migrate(Store *s, VgError *err);

/* ---- migration steps in C, each beside the code of its tables ---- */

/* 4 -> 5 (store/append.c): chain the rows written before the chain. */
int store_chain_existing_rows(Store *s, VgError *err);

/* 10 -> 11 (store/authz.c): the images' numbers from text to INTEGER. */
int store_images_to_integers(Store *s, VgError *err);
