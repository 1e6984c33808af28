/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "virtgov/chain.h"
#include "virtgov/cleanup.h"
#include "virtgov/kinds.h"
#include "virtgov/store.h"

typedef struct Store Store;
static int chain_existing_rows(Store *s, VgError *err);

/* The devices in the facts F (an SQL expression over "domains d") of the
 * domains where W holds: one row per disk and per interface, or one row
 * of kind 'invalid' when F is not JSON (store_devices reports it; failing
 * here would lose the write). */
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

/* Migration N brings the schema from version N to N + 1: its SQL, then
 * its C step if it has one. Append only: an inventory in the field has run
 * every earlier one. */
static const struct {
        const char *sql;
        int (*step)(Store *s, VgError *err);
} migrations[] = {
        /* 0 -> 1 */
        { "CREATE TABLE events ("
        "  id INTEGER PRIMARY KEY,"
        "  time TEXT NOT NULL,"
        "  ref TEXT NOT NULL UNIQUE,"
        "  source TEXT NOT NULL,"
        "  kind TEXT NOT NULL,"
        "  host TEXT,"
        "  domain TEXT,"
        "  uuid TEXT,"
        "  decision TEXT CHECK (decision IN ('allow', 'deny')),"
        "  reason TEXT,"
        "  actor TEXT,"
        "  data TEXT NOT NULL DEFAULT '{}');"
        "CREATE INDEX events_time ON events(time);"
        "CREATE INDEX events_domain ON events(domain, time);"
        "CREATE INDEX events_uuid ON events(uuid, time);"
        "CREATE INDEX events_kind ON events(kind, time);"
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
        "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
        "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
        "CREATE TABLE domains ("
        "  uuid TEXT PRIMARY KEY,"
        "  name TEXT NOT NULL,"
        "  host TEXT,"
        "  state TEXT NOT NULL,"
        "  persistent INTEGER,"
        "  owner TEXT, ticket TEXT, purpose TEXT,"
        "  facts TEXT,"
        "  first_seen TEXT NOT NULL,"
        "  last_seen TEXT NOT NULL,"
        "  last_start TEXT,"
        "  last_stop TEXT);"
        "CREATE INDEX domains_name ON domains(name);", NULL },
        /* 1 -> 2: what the daemon needs. config_facts: the facts of the
         * inactive XML as the daemon last saw them, to notice a changed
         * definition after a gap. meta: small keyed state (baselines,
         * cursors) as JSON text. */
        { "ALTER TABLE domains ADD COLUMN autostart INTEGER;"
        "ALTER TABLE domains ADD COLUMN config_facts TEXT;"
        "CREATE INDEX domains_host ON domains(host);"
        "CREATE INDEX events_host_kind ON events(host, kind, time);"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);", NULL },
        /* 2 -> 3: what authorizes an activation. Changed only through the
         * CLI, each change also an event with the acting user. */
        { "CREATE TABLE approvals ("
        "  key TEXT PRIMARY KEY,"          /* domain UUID or name */
        "  owner TEXT, ticket TEXT,"
        "  until TEXT,"                    /* NULL: no end */
        "  approved_by TEXT,"
        "  time TEXT NOT NULL);"
        "CREATE TABLE tickets ("
        "  id TEXT PRIMARY KEY,"
        "  domain_glob TEXT,"              /* NULL: only domains whose metadata names it */
        "  action TEXT,"                   /* start, define, any */
        "  valid_from TEXT NOT NULL,"
        "  valid_until TEXT NOT NULL,"
        "  approved_by TEXT,"
        "  added_by TEXT,"
        "  time TEXT NOT NULL);", NULL },
        /* 3 -> 4: the trusted-image library. The stat fields let the hook
         * tell in one stat() whether the file is still the one hashed. */
        { "CREATE TABLE images ("
        "  path TEXT PRIMARY KEY,"
        "  sha256 TEXT NOT NULL,"
        "  size TEXT NOT NULL, dev TEXT NOT NULL, ino TEXT NOT NULL, mtime_ns TEXT NOT NULL,"
        "  trusted_by TEXT,"
        "  time TEXT NOT NULL);", NULL },
        /* 4 -> 5: the hash chain (chain.h). Rows already there are chained
         * in id order by the C step, which lifts the append-only trigger
         * for that one transaction. */
        { "ALTER TABLE events ADD COLUMN prev_hash TEXT;"
          "ALTER TABLE events ADD COLUMN hash TEXT;", chain_existing_rows },
        /* 5 -> 6: list in (name, uuid) order straight from an index, with
         * no sort (at 100,000 domains the sort copied every row's facts). */
        { "CREATE INDEX IF NOT EXISTS domains_name_uuid ON domains(name, uuid);"
          "DROP INDEX IF EXISTS domains_name;", NULL },
        /* 6 -> 7: one index fewer to update per event. Its one query (the
         * newest host.software of a host, at each connect) is served by
         * events_kind: there are few such events. */
        { "DROP INDEX IF EXISTS events_host_kind;", NULL },
        /* 7 -> 8: the denied activations, for report sprawl. Partial: it
         * holds only denials, so an allowed event costs it one comparison.
         * Through events_kind the report read every prepare ever recorded
         * (150,000 rows and 0.2 s at 1,000,000 events) to find none. */
        { "CREATE INDEX IF NOT EXISTS events_denied ON events(kind, time) WHERE decision = 'deny';", NULL },
        /* 8 -> 9: what is derived from a domain's facts (the daemon's
         * config facts, else the hook's), kept beside them so that readers
         * need not parse them: its disks and interfaces as rows, for report
         * sprawl (1.4 s of its 2.8 s at 100,000 domains went to parsing
         * facts), and its type (kvm, qemu, lxc, ...), for the daemon's
         * reconcile (which decoded every domain's facts to learn it). The
         * writer derives them again when the facts change, which the upsert
         * flags in derived_stale: the hook rewrites a domain's row at every
         * operation, nearly always with the facts it has. (Triggers did the
         * same in SQL, but every hook exec then parsed and compiled them:
         * 1.4 million instructions, +30%.)
         * Also: events_kind gains the decision, so that metrics' counts by
         * kind and decision (and the newest time of each) come from the
         * index alone, not a scan of every row: 10 s -> 0.2 s at
         * 1,000,000 events. The kind queries scan a range of kinds, which
         * no order of these columns spares a sort. */
        { "DROP INDEX IF EXISTS events_kind;"
          "CREATE INDEX IF NOT EXISTS events_kind ON events(kind, decision, time);"
          "ALTER TABLE domains ADD COLUMN derived_stale INTEGER;"
          "ALTER TABLE domains ADD COLUMN type TEXT;"
          "UPDATE domains SET type = " DERIVED_TYPE ";"
          "CREATE TABLE devices ("
          "  uuid TEXT NOT NULL,"        /* the domain's */
          "  kind TEXT NOT NULL,"        /* disk, interface; invalid: its facts are not JSON */
          "  idx INTEGER NOT NULL,"      /* its place in the facts' array */
          "  type TEXT, source TEXT, target TEXT, mac TEXT,"
          "  readonly INTEGER, shareable INTEGER,"
          "  backing TEXT,"              /* the chain as a JSON array text, when the XML gave one */
          "  PRIMARY KEY (uuid, kind, idx)) WITHOUT ROWID;"
          DEVICES_FILL(DEVICE_FACTS, "1") ";", NULL },
        /* 9 -> 10: the listing order's index carries the state too, so
         * that a walk of the defined domains in name order reads no domain
         * row to learn whether it is undefined. report sprawl's walk of
         * every domain's devices read each row (and the facts on its pages)
         * for that alone: at 100,000 domains, 86,000 page reads, 52,000
         * without. Every upsert sets name and state, so the index is
         * rewritten no more often than before. */
        { "CREATE INDEX IF NOT EXISTS domains_listing ON domains(name, uuid, state);"
          "DROP INDEX IF EXISTS domains_name_uuid;", NULL },
};

typedef enum StmtId {
        STMT_INSERT_EVENT,
        STMT_CHAIN_WALK,
        STMT_CHAIN_PREV,
        STMT_UPSERT_DOMAIN,
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
        STMT_TICKETS_FOR,
        STMT_TICKETS_ALL,
        STMT_IMAGE_PUT,
        STMT_IMAGE_GET,
        STMT_IMAGES_ALL,
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        _STMT_MAX,
} StmtId;

#define CHAIN_COLUMNS "time, ref, source, kind, host, domain, uuid, decision, reason, actor, data"

#define DOMAIN_COLUMNS \
        "uuid, name, host, state, persistent, owner, ticket, purpose, facts, " \
        "first_seen, last_seen, last_start, last_stop, autostart, config_facts, type"
/* The same without the facts: a listing that does not show them does not
 * read their (overflow) pages. */
#define DOMAIN_COLUMNS_LEAN \
        "uuid, name, host, state, persistent, owner, ticket, purpose, NULL, " \
        "first_seen, last_seen, last_start, last_stop, autostart, NULL, type"

/* A domain's row from one event: see apply_to_domain. */
#define UPSERT_DOMAIN \
        "INSERT INTO domains (" DOMAIN_COLUMNS ", derived_stale)" \
        " VALUES (?1, ?2, ?3, coalesce(?4, ?13, 'unknown'), ?5, ?6, ?7, ?8, json_extract(?9, '$.facts')," \
        "         ?10, ?10, ?11, ?12, ?14, json_extract(?15, '$.config_facts'), NULL," \
        "         CASE WHEN ?9 IS NOT NULL OR ?15 IS NOT NULL THEN 1 END)" \
        " ON CONFLICT (uuid) DO UPDATE SET" \
        "  name = CASE WHEN ?10 >= last_seen THEN excluded.name ELSE name END," \
        "  host = coalesce(excluded.host, host)," \
        "  state = CASE WHEN ?10 < last_seen THEN state" \
        "               WHEN ?4 IS NOT NULL THEN ?4" \
        "               WHEN ?13 IS NOT NULL AND state IN ('undefined', 'unknown') THEN ?13" \
        "               ELSE state END," \
        "  persistent = CASE WHEN ?5 IS NOT NULL AND ?10 >= last_seen THEN ?5 ELSE persistent END," \
        "  owner = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN ?6 ELSE owner END," \
        "  ticket = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN ?7 ELSE ticket END," \
        "  purpose = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN ?8 ELSE purpose END," \
        "  facts = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN excluded.facts ELSE facts END," \
        "  first_seen = min(first_seen, ?10)," \
        "  last_seen = max(last_seen, ?10)," \
        "  last_start = CASE WHEN ?11 IS NOT NULL AND (last_start IS NULL OR ?11 > last_start)" \
        "                    THEN ?11 ELSE last_start END," \
        "  last_stop = CASE WHEN ?12 IS NOT NULL AND (last_stop IS NULL OR ?12 > last_stop)" \
        "                   THEN ?12 ELSE last_stop END," \
        "  autostart = CASE WHEN ?14 IS NOT NULL AND ?10 >= last_seen THEN ?14 ELSE autostart END," \
        "  config_facts = CASE WHEN ?15 IS NOT NULL AND ?10 >= last_seen THEN excluded.config_facts" \
        "                      ELSE config_facts END," \
        /* Whether this write changes the facts that devices and type \
         * derive from (a false alarm only costs deriving them again). \
         * Nothing carries over from an earlier write. */ \
        "  derived_stale = CASE WHEN ?10 >= last_seen AND" \
        "    ((?15 IS NOT NULL AND excluded.config_facts IS NOT coalesce(config_facts, facts)) OR" \
        "     (?9 IS NOT NULL AND ?15 IS NULL AND config_facts IS NULL AND excluded.facts IS NOT facts))" \
        "    THEN 1 END"

static const char *const stmt_sql[_STMT_MAX] = {
        [STMT_INSERT_EVENT] =
                "INSERT INTO events (time, ref, source, kind, host, domain, uuid, decision, reason, actor, data,"
                " id, prev_hash, hash)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                " ON CONFLICT (ref) DO NOTHING",
        /* The columns in chain.h's order, then id, prev_hash, hash. */
        [STMT_CHAIN_WALK] = "SELECT " CHAIN_COLUMNS ", id, prev_hash, hash FROM events WHERE id >= ?1 ORDER BY id",
        /* The newest row below ?1 (INT64_MAX: the head). */
        [STMT_CHAIN_PREV] = "SELECT id, hash FROM events WHERE id < ?1 ORDER BY id DESC LIMIT 1",
        /* ?4 state (NULL keeps), ?5 persistent (NULL keeps), ?9 facts (NULL
         * keeps metadata and facts), ?10 the event's time, ?11 / ?12 start /
         * stop time, ?13 the state a define gives, ?14 autostart and ?15 config
         * facts (NULL keeps). A late event (a spooled one, folded after newer ones)
         * fills gaps but never overrides newer state. */
        [STMT_UPSERT_DOMAIN] = UPSERT_DOMAIN,
        /* With facts: whether the devices need a refill. Its own statement:
         * RETURNING costs 17,000 instructions per event (an ephemeral
         * table), which an event without facts need not pay. */
        [STMT_UPSERT_DOMAIN_FACTS] = UPSERT_DOMAIN " RETURNING derived_stale",
        [STMT_DEVICES_CLEAR] = "DELETE FROM devices WHERE uuid = ?1",
        [STMT_DEVICES_FILL] = DEVICES_FILL(DEVICE_FACTS, "d.uuid = ?1"),
        [STMT_DERIVED_FRESH] = "UPDATE domains SET derived_stale = NULL, type = " DERIVED_TYPE " WHERE uuid = ?1",
        [STMT_LIST_DOMAINS] =
                "SELECT " DOMAIN_COLUMNS " FROM domains WHERE state <> 'undefined' ORDER BY name, uuid",
        [STMT_LIST_ALL_DOMAINS] =
                "SELECT " DOMAIN_COLUMNS " FROM domains ORDER BY name, uuid",
        [STMT_LIST_DOMAINS_LEAN] =
                "SELECT " DOMAIN_COLUMNS_LEAN " FROM domains WHERE state <> 'undefined' ORDER BY name, uuid",
        [STMT_LIST_ALL_DOMAINS_LEAN] =
                "SELECT " DOMAIN_COLUMNS_LEAN " FROM domains ORDER BY name, uuid",
        /* Along the primary key from ?2 ("+host": not through domains_host,
         * which would sort all of the host's rows again for every page). */
        [STMT_HOST_DOMAINS] =
                "SELECT " DOMAIN_COLUMNS_LEAN " FROM domains"
                " WHERE uuid > ?2 AND +host = ?1 AND state <> 'undefined' ORDER BY uuid LIMIT ?3",
        [STMT_FIND_DOMAIN] =
                "SELECT " DOMAIN_COLUMNS " FROM domains WHERE uuid = ?1 OR name = ?1"
                " ORDER BY uuid = ?1 DESC, state = 'undefined', last_seen DESC LIMIT 1",
        [STMT_CONFIG_FACTS] = "SELECT config_facts FROM domains WHERE uuid = ?1 AND config_facts IS NOT NULL",
        [STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
        [STMT_META_SET] = ("INSERT INTO meta (key, value) VALUES (?1, ?2)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
        [STMT_APPROVAL_PUT] = "INSERT OR REPLACE INTO approvals (key, owner, ticket, until, approved_by, time)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [STMT_APPROVAL_DELETE] = "DELETE FROM approvals WHERE key = ?1",
        [STMT_APPROVALS_FOR] = "SELECT key, owner, ticket, until, approved_by, time FROM approvals"
                               " WHERE key = ?1 OR key = ?2",
        /* Through the (name, uuid, state) index alone, then a search of the
         * devices' primary key by uuid, which yields a domain's devices in key
         * order (kind, idx): sorting them again as well cost 0.15 s at
         * 100,000 domains. (The unit test of the order would notice a
         * plan that does not.) */
        [STMT_DEVICES] =
                "SELECT d.name, d.uuid, v.kind, v.type, v.source, v.target, v.mac, v.readonly, v.shareable, v.backing"
                " FROM domains d JOIN devices v ON v.uuid = d.uuid"
                " WHERE d.state <> 'undefined' ORDER BY d.name, d.uuid",
        /* Facts that are not JSON count as nothing. */
        [STMT_DOMAIN_TOTALS] =
                "SELECT count(*), sum(json_extract(f, '$.vcpus')), sum(json_extract(f, '$.memory_kib'))"
                " FROM (SELECT CASE WHEN json_valid(coalesce(facts, config_facts))"
                "        THEN coalesce(facts, config_facts) END AS f"
                "       FROM domains WHERE state <> 'undefined' AND (?1 = 0 OR state = 'running'))",
        [STMT_APPROVALS_ALL] = "SELECT key, owner, ticket, until, approved_by, time FROM approvals ORDER BY key",
        [STMT_TICKET_PUT] = "INSERT OR REPLACE INTO tickets (id, domain_glob, action, valid_from, valid_until,"
                            " approved_by, added_by, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        /* GLOB has fnmatch's *, ? and [...] and is case-sensitive like it. */
        [STMT_TICKETS_FOR] = "SELECT id, domain_glob, action, valid_from, valid_until, approved_by, added_by, time"
                             " FROM tickets WHERE id = ?1 OR (domain_glob IS NOT NULL AND ?2 GLOB domain_glob)",
        [STMT_TICKETS_ALL] = "SELECT id, domain_glob, action, valid_from, valid_until, approved_by, added_by, time"
                             " FROM tickets ORDER BY valid_from, id",
        [STMT_IMAGE_PUT] = "INSERT OR REPLACE INTO images (path, sha256, size, dev, ino, mtime_ns, trusted_by, time)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        [STMT_IMAGE_GET] = "SELECT path, sha256, size, dev, ino, mtime_ns, trusted_by, time FROM images WHERE path = ?1",
        [STMT_IMAGES_ALL] = "SELECT path, sha256, size, dev, ino, mtime_ns, trusted_by, time FROM images ORDER BY path",
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
};

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
};

int store_schema_version(void) {
        return (int) ELEMENTSOF(migrations);
}

/* SQLite result code to the negative errno of the store's contract. */
static int sql_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW:
                return 0;
        case SQLITE_BUSY: case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY: case SQLITE_PERM:
                return -EROFS;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_CONSTRAINT:
                return -EINVAL;
        default:
                return -EIO;
        }
}

static int sql_fail(Store *s, int rc, VgError *err, const char *what) {
        /* SQLite says "disk I/O error"; the errno behind it says which
         * (No space left on device, Read-only file system, ...). */
        int sys = s->db && (rc & 0xff) == SQLITE_IOERR ? sqlite3_system_errno(s->db) : 0;
        int r = sql_errno(rc) ?: -EIO;
        if (sys == ENOSPC || sys == EROFS || sys == EACCES)
                r = sys == ENOSPC ? -ENOSPC : -EROFS;
        return vg_error(err, r, "inventory '%s': %s: %s%s%s%s", s->path, what,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), sys ? " (" : "",
                        sys ? strerror(sys) : "", sys ? ")" : "");
}

/* Done with a statement of s->stmt until its next stmt_get: reset, and its
 * bindings cleared, for they point into the caller's memory (bind_text). */
static void stmt_done(sqlite3_stmt *st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
}

static int stmt_get(Store *s, StmtId id, sqlite3_stmt **ret, VgError *err) {
        *ret = NULL;
        if (!s->stmt[id]) {
                int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                            &s->stmt[id], NULL);
                if (rc != SQLITE_OK)
                        return sql_fail(s, rc, err, "preparing a statement");
        }
        stmt_done(s->stmt[id]);   /* after a path that did not */
        *ret = s->stmt[id];
        return 0;
}

/* Runs a statement that returns no rows, and resets it for its next use. */
static int step_done(Store *s, sqlite3_stmt *st, VgError *err, const char *what) {
        int rc = sqlite3_step(st);
        stmt_done(st);
        return rc == SQLITE_DONE ? 0 : sql_fail(s, rc, err, what);
}

static int exec_simple(Store *s, StmtId id, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, id, &st, err);
        if (r < 0)
                return r;
        return step_done(s, st, err, stmt_sql[id]);
}

int store_begin(Store *s, VgError *err) {
        s->head_valid = false;
        return exec_simple(s, STMT_BEGIN, err);
}
int store_commit(Store *s, VgError *err) { return exec_simple(s, STMT_COMMIT, err); }
void store_rollback(Store *s) {
        s->head_valid = false;
        if (!sqlite3_get_autocommit(s->db))
                exec_simple(s, STMT_ROLLBACK, NULL);
}

static int pragma_int(Store *s, const char *sql, int *ret, VgError *err) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, rc, err, "reading the schema version");
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : sql_fail(s, rc, err, "reading the schema version");
}

/* Brings the schema to this program's version, as s->mode allows: a
 * reader refuses an older one, STORE_APPEND notes it (old_schema) and
 * leaves it, a writer migrates it. Any mode refuses a newer one. */
static int migrate(Store *s, VgError *err) {
        int version, r;
        if ((r = pragma_int(s, "PRAGMA user_version", &version, err)) < 0)
                return r;
        if (version > store_schema_version())
                return vg_error(err, -EPROTO, "inventory '%s' has schema version %d, newer than this "
                                "virtgov understands (%d): upgrade virtgov", s->path, version,
                                store_schema_version());
        if (version == store_schema_version())
                return 0;
        if (s->mode == STORE_APPEND) {
                s->old_schema = version;   /* read as it is; appends refused */
                return 0;
        }
        if (s->mode == STORE_READ)
                return vg_error(err, -EPROTO, "inventory '%s' has schema version %d and needs an "
                                "upgrade to %d, which only a writer does: run any virtgov command as root once", s->path,
                                version, store_schema_version());

        if ((r = store_begin(s, err)) < 0)
                return r;
        /* Re-read under the write lock: another writer may have migrated. */
        if ((r = pragma_int(s, "PRAGMA user_version", &version, err)) < 0)
                goto fail;
        for (; version < store_schema_version(); version++) {
                char pragma[64];
                int rc = sqlite3_exec(s->db, migrations[version].sql, NULL, NULL, NULL);
                if (rc != SQLITE_OK) {
                        r = sql_fail(s, rc, err, "applying a schema migration");
                        goto fail;
                }
                if (migrations[version].step && (r = migrations[version].step(s, err)) < 0)
                        goto fail;
                snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
                rc = sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
                if (rc != SQLITE_OK) {
                        r = sql_fail(s, rc, err, "recording the schema version");
                        goto fail;
                }
        }
        return store_commit(s, err);
fail:
        store_rollback(s);
        return r;
}

DEFINE_POINTER_CLEANUP(Store, store_close)

int store_open(const char *path, StoreMode mode, unsigned busy_timeout_ms, Store **ret, VgError *err) {
        _cleanup_(store_closep) Store *s = calloc(1, sizeof(*s));
        if (!s || !(s->path = strdup(path)))
                return vg_error(err, -ENOMEM, "out of memory");
        s->mode = mode;

        /* SQLite would happily create an empty database for a reader or a
         * plain writer; only STORE_CREATE may. */
        if (mode != STORE_CREATE && access(path, F_OK) < 0)
                return vg_error(err, -errno, "inventory '%s': %s", path, strerror(errno));

        /* A new inventory is 0640: readable by its directory's group (the
         * auditors' group, inherited from a setgid directory, see 'hooks
         * install'), never by others. SQLite gives -wal and -shm the mode and
         * owner of the database file. */
        if (mode == STORE_CREATE) {
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
                if (fd >= 0) {
                        (void) fchmod(fd, 0640);   /* whatever the umask */
                        close(fd);
                } else if (errno != EEXIST)
                        return vg_error(err, errno == EROFS || errno == EACCES ? -EROFS : -errno,
                                        "inventory '%s': cannot create it: %s", path, strerror(errno));
        }

        int flags = mode == STORE_READ ? SQLITE_OPEN_READONLY
                  : mode == STORE_CREATE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                  : SQLITE_OPEN_READWRITE;
        int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, rc, err, "opening");
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, (int) busy_timeout_ms);

        if (mode != STORE_READ) {
                /* WAL: readers never block the hook's write. FULL: a recorded
                 * event survives power loss once the hook has exited. */
                int r = 0;
                rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL",
                                  NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        return sql_fail(s, rc, err, "setting WAL mode");
                if ((r = migrate(s, err)) < 0)
                        return r;
        } else {
                int version, r = pragma_int(s, "PRAGMA user_version", &version, err);
                if (r < 0)
                        return r;
                if (version != store_schema_version())
                        return migrate(s, err) ?: -EPROTO;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int store_set_cache_kib(Store *s, unsigned kib, VgError *err) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%u", kib);
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : sql_fail(s, rc, err, "setting the cache size");
}

Store *store_close(Store *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                sqlite3_finalize(s->stmt[i]);
        sqlite3_close(s->db);
        free(s->path);
        free(s);
        return NULL;
}

/* ---- appending ---- */

/* Not copied (SQLITE_STATIC): v must live until the statement is done
 * (stmt_done). Copying the ten fields and the data of an event cost 8% of
 * an append's instructions. */
static void bind_text(sqlite3_stmt *st, int i, const char *v) {
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, i);
}

/* What is derived from a domain's facts (devices, type), from its facts
 * as they now are. */
static int derive_from_facts(Store *s, const char *uuid, VgError *err) {
        static const StmtId steps[] = { STMT_DEVICES_CLEAR, STMT_DEVICES_FILL, STMT_DERIVED_FRESH };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                sqlite3_stmt *st;
                int r = stmt_get(s, steps[i], &st, err);
                if (r < 0)
                        return r;
                bind_text(st, 1, uuid);
                if ((r = step_done(s, st, err, "deriving a domain's devices and type")) < 0)
                        return r;
        }
        return 0;
}

/* data: the event's data as insert_event stored it. SQLite takes the facts
 * out of that text (they are in it byte for byte) instead of jansson
 * dumping them a second time: 50,000 instructions fewer per hook run with
 * 1 KiB of facts, of 4.8 million. */
static int apply_to_domain(Store *s, const Event *e, const char *data, VgError *err) {
        if (!e->uuid || !e->domain || strncmp(e->kind, "domain.", 7))
                return 0;

        /* What the kind says about the domain's state (kinds.h). */
        static const EventKind none = { .persistent = -1 };
        const EventKind *k = event_kind(e->kind) ?: &none;
        int persistent = k->persistent;
        json_t *facts = json_object_get(e->data, "facts");
        if (!json_is_object(facts))
                facts = NULL;

        bool config = json_is_object(json_object_get(e->data, "config_facts"));
        sqlite3_stmt *st;
        int r = stmt_get(s, facts || config ? STMT_UPSERT_DOMAIN_FACTS : STMT_UPSERT_DOMAIN, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, e->uuid);
        bind_text(st, 2, e->domain);
        bind_text(st, 3, e->host);
        /* The state the kind leads to (NULL: as it was). */
        bind_text(st, 4, k->state);
        /* A define brings an unknown or undefined domain into being, off. */
        bind_text(st, 13, k->flags & KIND_DEFINES ? "shutoff" : NULL);
        /* What the daemon read from libvirt beats what the kind implies. */
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
        int rc = sqlite3_step(st);
        bool stale = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
        if (rc == SQLITE_ROW)
                rc = sqlite3_step(st);
        stmt_done(st);
        if (rc != SQLITE_DONE)
                return sql_fail(s, rc, err, "updating the domain");
        return stale ? derive_from_facts(s, e->uuid, err) : 0;
}

/* ---- the hash chain ---- */

/* The newest row below `before`: its id (0 when there is none) and its
 * stored hash as text ("" when none or NULL). The one lookup behind the
 * writer's head, verify --from, anchors and the daemon's chain.head. */
static int chain_row_before(Store *s, int64_t before, int64_t *ret_id, char hex[CHAIN_HEX_SIZE], VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_CHAIN_PREV, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, before);
        int rc = sqlite3_step(st);
        const char *h = rc == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 1) : NULL;
        *ret_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        snprintf(hex, CHAIN_HEX_SIZE, "%s", h ? h : "");
        stmt_done(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_fail(s, rc, err, "reading the hash chain");
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
static int chain_existing_rows(Store *s, VgError *err) {
        int rc = sqlite3_exec(s->db, "DROP TRIGGER events_no_update", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, rc, err, "chaining existing events");
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
        return rc == SQLITE_OK ? 0 : sql_fail(s, rc, err, "chaining existing events");
}

/* Appends e with data, the text of its data (event_data_text). */
static int insert_event(Store *s, Event *e, const char *data, VgError *err) {
        sqlite3_stmt *st;
        int r = chain_head(s, err);
        if (r < 0 || (r = stmt_get(s, STMT_INSERT_EVENT, &st, err)) < 0)
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
        if ((r = step_done(s, st, err, "appending an event")) < 0)
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

int store_append_event(Store *s, Event *e, VgError *err) {
        return store_append_rendered(s, e, NULL, err);
}

int store_append_rendered(Store *s, Event *e, const char *data, VgError *err) {
        if (s->old_schema)
                return vg_error(err, -EPROTO, "inventory '%s' has schema version %d, older than this virtgov's %d: "
                                "the hook does not upgrade it (that can take longer than a hook may run); "
                                "'virtgov hooks install' or a restart of virtgov-inventoryd does",
                                s->path, s->old_schema, store_schema_version());
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

/* ---- queries ---- */

static char *col_text(sqlite3_stmt *st, int i) {
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *) t) : NULL;
}

static int row_to_event(sqlite3_stmt *st, Event *e, bool data_text) {
        /* id, time, ref, source, kind, host, domain, uuid, decision, reason, actor, data, hash */
        e->id = sqlite3_column_int64(st, 0);
        snprintf(e->time, sizeof(e->time), "%s", (const char *) sqlite3_column_text(st, 1));
        e->ref = col_text(st, 2);
        e->source = col_text(st, 3);
        e->kind = col_text(st, 4);
        e->host = col_text(st, 5);
        e->domain = col_text(st, 6);
        e->uuid = col_text(st, 7);
        e->decision = col_text(st, 8);
        e->reason = col_text(st, 9);
        e->actor = col_text(st, 10);
        const char *hash = (const char *) sqlite3_column_text(st, 12);
        snprintf(e->hash, sizeof(e->hash), "%s", hash ? hash : "");
        const char *data = (const char *) sqlite3_column_text(st, 11);
        if (data_text)
                e->data_text = data;
        e->data = data && !data_text ? json_loads(data, 0, NULL) : NULL;
        if (!e->data)
                e->data = json_object();
        return e->data ? 0 : -ENOMEM;
}

int store_query_events(Store *s, const EventFilter *f, EventCallback cb, void *userdata, VgError *err) {
        /* Built from the filter so that SQLite sees only the clauses in use
         * and can pick the index for each; values are always bound. */
        char data[512] = "data";
        size_t n_paths = 0;
        if (f->data_paths) {
                strcpy(data, "CASE WHEN json_valid(data) THEN json_object(");
                for (; f->data_paths[n_paths]; n_paths++) {
                        if (n_paths == 8)
                                return vg_error(err, -EINVAL, "querying events: more than 8 data paths");
                        size_t len = strlen(data);
                        snprintf(data + len, sizeof(data) - len, "%s?%zu, json_extract(data, ?%zu)",
                                 n_paths ? ", " : "", 11 + n_paths, 11 + n_paths);
                }
                strcat(data, ") END");
        }
        char sql[1024];
        snprintf(sql, sizeof(sql), "SELECT id, time, ref, source, kind, host, domain, uuid, decision, reason,"
                 " actor, %s, hash FROM events WHERE 1", data);
        if (f->domain)
                strcat(sql, " AND (domain = ?1 OR uuid = ?1)");
        if (f->kind_prefix)
                /* A range, not LIKE: LIKE is case-insensitive and its
                 * wildcards would need escaping. */
                strcat(sql, " AND kind >= ?2 AND kind < ?2 || x'ff'");
        if (f->source)
                strcat(sql, " AND source = ?3");
        if (f->host)
                strcat(sql, " AND host = ?8");
        /* 'deny' as a literal: SQLite uses a partial index (events_denied)
         * only when it can prove the query's rows are in it. */
        if (f->decision)
                strcat(sql, !strcmp(f->decision, "deny") ? " AND decision = 'deny'" : " AND decision = ?10");
        if (f->after_id)
                strcat(sql, " AND id > ?9");
        if (f->network)
                strcat(sql, " AND json_extract(data, '$.network') = ?4");
        if (f->since_us)
                strcat(sql, " AND time >= ?5");
        if (f->until_us)
                strcat(sql, " AND time < ?6");
        /* after_id walks in insertion order (a cursor); everything else in
         * time order, which is what a person reads. */
        const char *order = f->after_id ? "id" : "time, id";
        if (f->limit)
                strcat(sql, f->after_id ? " ORDER BY id LIMIT ?7" : " ORDER BY time DESC, id DESC LIMIT ?7");
        char full[1200];
        if (f->limit && !f->after_id)
                snprintf(full, sizeof(full), "SELECT * FROM (%s) ORDER BY %s", sql, order);
        else if (f->limit)
                snprintf(full, sizeof(full), "%s", sql);
        else
                snprintf(full, sizeof(full), "%s ORDER BY %s", sql, order);

        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, full, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, rc, err, "querying events");
        char since[VG_TIME_MAX], until[VG_TIME_MAX];
        bind_text(st, 1, f->domain);
        bind_text(st, 2, f->kind_prefix);
        bind_text(st, 3, f->source);
        bind_text(st, 4, f->network);
        if (f->since_us) {
                vg_time_format(f->since_us, since);
                bind_text(st, 5, since);
        }
        if (f->until_us) {
                vg_time_format(f->until_us, until);
                bind_text(st, 6, until);
        }
        if (f->limit)
                sqlite3_bind_int64(st, 7, f->limit);
        bind_text(st, 8, f->host);
        bind_text(st, 10, f->decision);
        if (f->after_id)
                sqlite3_bind_int64(st, 9, f->after_id);
        for (size_t i = 0; i < n_paths; i++)
                bind_text(st, (int) (11 + i), f->data_paths[i]);

        int r = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                Event e = { 0 };
                r = row_to_event(st, &e, f->data_text);
                if (r == 0)
                        r = cb(&e, userdata);
                free(e.ref); free(e.source); free(e.kind); free(e.host); free(e.domain);
                free(e.uuid); free(e.decision); free(e.reason); free(e.actor);
                json_decref(e.data);
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sql_fail(s, rc, err, "querying events");
        sqlite3_finalize(st);
        return r;
}

DomainRow *domain_row_free(DomainRow *d) {
        if (!d)
                return NULL;
        json_decref(d->facts);
        json_decref(d->config_facts);
        free(d);
        return NULL;
}

/* The row at st (DOMAIN_COLUMNS), borrowed from the statement: valid until
 * it steps again. No allocation: a listing reads 100,000 of them, and
 * copying each column cost a fifth of `list`. */
static void row_to_domain(sqlite3_stmt *st, DomainRow *d) {
#define T(i) ((const char *) sqlite3_column_text(st, (i)))
        *d = (DomainRow) {
                .uuid = T(0), .name = T(1), .host = T(2), .state = T(3),
                .persistent = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4),
                .owner = T(5), .ticket = T(6), .purpose = T(7),
                .first_seen = T(9), .last_seen = T(10), .last_start = T(11), .last_stop = T(12),
                .autostart = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 13),
                .type = T(15),
        };
#undef T
}

/* A DomainRow's strings, each once: what domain_row_dup copies. */
static const size_t domain_row_strings[] = {
        offsetof(DomainRow, uuid), offsetof(DomainRow, name), offsetof(DomainRow, host),
        offsetof(DomainRow, state), offsetof(DomainRow, owner), offsetof(DomainRow, ticket),
        offsetof(DomainRow, purpose), offsetof(DomainRow, first_seen), offsetof(DomainRow, last_seen),
        offsetof(DomainRow, last_start), offsetof(DomainRow, last_stop), offsetof(DomainRow, type),
};
#define ROW_STRING(row, i) (*(const char **) ((char *) (row) + domain_row_strings[i]))

/* A copy of the borrowed row b that owns its strings: one allocation. */
static DomainRow *domain_row_dup(const DomainRow *b) {
        size_t size = sizeof(DomainRow);
        for (size_t i = 0; i < ELEMENTSOF(domain_row_strings); i++)
                size += ROW_STRING(b, i) ? strlen(ROW_STRING(b, i)) + 1 : 0;
        DomainRow *d = malloc(size);
        if (!d)
                return NULL;
        *d = *b;
        char *p = (char *) (d + 1);
        for (size_t i = 0; i < ELEMENTSOF(domain_row_strings); i++)
                if (ROW_STRING(b, i)) {
                        ROW_STRING(d, i) = p;
                        p = stpcpy(p, ROW_STRING(b, i)) + 1;
                }
        d->facts = d->config_facts = NULL;
        d->facts_text = NULL;
        return d;
}

json_t *domain_row_to_json(const DomainRow *d) {
        json_t *o = json_object();
        if (!o)
                return NULL;
#define S(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
        S("name", d->name);
        S("uuid", d->uuid);
        S("host", d->host);
        S("state", d->state);
        json_object_set_new(o, "persistent", d->persistent < 0 ? json_null() : json_boolean(d->persistent));
        json_object_set_new(o, "autostart", d->autostart < 0 ? json_null() : json_boolean(d->autostart));
        S("owner", d->owner);
        S("ticket", d->ticket);
        S("purpose", d->purpose);
        S("first_seen", d->first_seen);
        S("last_seen", d->last_seen);
        S("last_start", d->last_start);
        S("last_stop", d->last_stop);
#undef S
        json_object_set(o, "facts", d->facts ? d->facts : json_null());
        return o;
}

/* Each row of st (DOMAIN_COLUMNS) to cb, borrowed. The number of rows, or
 * cb's negative return, or an error. */
static int walk_domains(Store *s, sqlite3_stmt *st, bool facts_text, DomainCallback cb, void *userdata,
                        VgError *err) {
        int rc, r = 0, n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                DomainRow d;
                row_to_domain(st, &d);
                if (facts_text)
                        d.facts_text = (const char *) sqlite3_column_text(st, 8);
                n++;
                if ((r = cb(&d, userdata)) < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sql_fail(s, rc, err, "listing domains");
        stmt_done(st);
        return r < 0 ? r : n;
}

int store_list_domains(Store *s, unsigned flags, DomainCallback cb, void *userdata, VgError *err) {
        sqlite3_stmt *st;
        StmtId id = flags & LIST_FACTS_TEXT ? (flags & LIST_ALL ? STMT_LIST_ALL_DOMAINS : STMT_LIST_DOMAINS)
                                       : (flags & LIST_ALL ? STMT_LIST_ALL_DOMAINS_LEAN : STMT_LIST_DOMAINS_LEAN);
        int r = stmt_get(s, id, &st, err);
        if (r < 0)
                return r;
        r = walk_domains(s, st, flags & LIST_FACTS_TEXT, cb, userdata, err);
        return r < 0 ? r : 0;
}

int store_host_domains(Store *s, const char *host, const char *after, unsigned limit, DomainCallback cb,
                       void *userdata, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_HOST_DOMAINS, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, host);
        bind_text(st, 2, after ? after : "");
        sqlite3_bind_int64(st, 3, limit);
        return walk_domains(s, st, false, cb, userdata, err);
}

int store_find_domain(Store *s, const char *key, DomainRow **ret, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_FIND_DOMAIN, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                stmt_done(st);
                return vg_error(err, -ENOENT, "no domain '%s' in the inventory", key);
        }
        if (rc != SQLITE_ROW) {
                r = sql_fail(s, rc, err, "finding a domain");
                stmt_done(st);
                return r;
        }
        DomainRow b;
        row_to_domain(st, &b);
        DomainRow *d = domain_row_dup(&b);
        if (d) {
                const char *f = (const char *) sqlite3_column_text(st, 8), *cf = (const char *) sqlite3_column_text(st, 14);
                d->facts = f ? json_loads(f, 0, NULL) : NULL;
                d->config_facts = cf ? json_loads(cf, 0, NULL) : NULL;
        }
        stmt_done(st);
        if (!d)
                return vg_error(err, -ENOMEM, "out of memory");
        *ret = d;
        return 0;
}

/* The one text column of the one row STMT id finds by key ?1: -ENOENT
 * when there is none. */
static int get_text(Store *s, StmtId id, const char *key, char **ret, VgError *err, const char *what) {
        sqlite3_stmt *st;
        int r = stmt_get(s, id, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                char *v = col_text(st, 0);
                stmt_done(st);
                if (!v)
                        return vg_error(err, -ENOMEM, "out of memory");
                *ret = v;
                return 0;
        }
        stmt_done(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        return sql_fail(s, rc, err, what);
}

int store_meta_get(Store *s, const char *key, char **ret, VgError *err) {
        return get_text(s, STMT_META_GET, key, ret, err, "reading state");
}

int store_config_facts(Store *s, const char *uuid, char **ret, VgError *err) {
        return get_text(s, STMT_CONFIG_FACTS, uuid, ret, err, "reading a domain's definition");
}

int store_meta_set(Store *s, const char *key, const char *value, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_META_SET, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        bind_text(st, 2, value);
        return step_done(s, st, err, "writing state");
}

/* ---- authorizations: approvals and tickets ---- */


int store_approval_put(Store *s, const StoreRow *a, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_APPROVAL_PUT, &st, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 6; i++)
                bind_text(st, i + 1, a->f[i]);
        return step_done(s, st, err, "recording an approval");
}

int store_approval_delete(Store *s, const char *key, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_APPROVAL_DELETE, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        if ((r = step_done(s, st, err, "revoking an approval")) < 0)
                return r;
        return sqlite3_changes(s->db) ? 0 : vg_error(err, -ENOENT, "no approval for '%s'", key);
}

int store_ticket_put(Store *s, const StoreRow *t, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_TICKET_PUT, &st, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 8; i++)
                bind_text(st, i + 1, t->f[i]);
        return step_done(s, st, err, "recording a ticket");
}

static int walk_rows(Store *s, StmtId id, const char *a, const char *b, int ncol, RowCallback cb, void *u,
                     VgError *err, const char *what) {
        sqlite3_stmt *st;
        int r = stmt_get(s, id, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, a);
        bind_text(st, 2, b);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreRow row = { 0 };
                for (int i = 0; i < ncol; i++)
                        row.f[i] = (const char *) sqlite3_column_text(st, i);
                if ((r = cb(&row, u)) < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sql_fail(s, rc, err, what);
        stmt_done(st);
        return r;
}

int store_approvals(Store *s, const char *name, const char *uuid, RowCallback cb, void *u, VgError *err) {
        if (!name && !uuid)
                return walk_rows(s, STMT_APPROVALS_ALL, NULL, NULL, 6, cb, u, err, "reading authorizations");
        return walk_rows(s, STMT_APPROVALS_FOR, name, uuid ? uuid : name, 6, cb, u, err, "reading authorizations");
}

int store_tickets(Store *s, const char *name, const char *ticket_id, RowCallback cb, void *u, VgError *err) {
        if (!name && !ticket_id)
                return walk_rows(s, STMT_TICKETS_ALL, NULL, NULL, 8, cb, u, err, "reading authorizations");
        return walk_rows(s, STMT_TICKETS_FOR, ticket_id ? ticket_id : "", name ? name : "", 8, cb, u, err,
                         "reading authorizations");
}

int store_image_put(Store *s, const StoreRow *row, VgError *err) {
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_IMAGE_PUT, &st, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 8; i++)
                bind_text(st, i + 1, row->f[i]);
        return step_done(s, st, err, "recording a trusted image");
}

int store_images(Store *s, const char *path, RowCallback cb, void *u, VgError *err) {
        return walk_rows(s, path ? STMT_IMAGE_GET : STMT_IMAGES_ALL, path, NULL, 8, cb, u, err,
                         "reading trusted images");
}

typedef struct DeviceWalk {
        Store *s;
        RowCallback cb;
        void *u;
        VgError *err;
} DeviceWalk;

static int device_row(const StoreRow *row, void *u) {
        DeviceWalk *w = u;
        if (vg_streq(row->f[DEVICE_KIND], "invalid"))
                return vg_error(w->err, -EBADMSG, "inventory '%s': domain '%s' (%s): its facts are not JSON"
                                " (edited outside virtgov?)", w->s->path, row->f[DEVICE_DOMAIN], row->f[DEVICE_UUID]);
        return w->cb(row, w->u);
}

int store_devices(Store *s, RowCallback cb, void *u, VgError *err) {
        DeviceWalk w = { s, cb, u, err };
        return walk_rows(s, STMT_DEVICES, NULL, NULL, 10, device_row, &w, err, "listing devices");
}

int store_event_counts(Store *s, RowCallback cb, void *u, VgError *err) {
        /* One pass over the kind index: cheap enough for a scrape. */
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "SELECT kind, count(*), max(time), coalesce(decision, '') FROM events"
                                    " GROUP BY kind, decision ORDER BY kind", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, rc, err, "counting events");
        int r = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreRow row = { { (const char *) sqlite3_column_text(st, 0), (const char *) sqlite3_column_text(st, 1),
                                   (const char *) sqlite3_column_text(st, 2), (const char *) sqlite3_column_text(st, 3) } };
                if ((r = cb(&row, u)) < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sql_fail(s, rc, err, "counting events");
        sqlite3_finalize(st);
        return r;
}

int store_domain_totals(Store *s, bool running_only, DomainTotals *ret, VgError *err) {
        *ret = (DomainTotals) { 0 };
        sqlite3_stmt *st;
        int r = stmt_get(s, STMT_DOMAIN_TOTALS, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, running_only);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = (DomainTotals) { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                        sqlite3_column_int64(st, 2) };
        stmt_done(st);
        return rc == SQLITE_ROW ? 0 : sql_fail(s, rc, err, "summing domains");
}

int store_integrity_check(Store *s, char **ret, VgError *err) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, rc, err, "checking integrity");
        rc = sqlite3_step(st);
        char *v = rc == SQLITE_ROW ? col_text(st, 0) : NULL;
        sqlite3_finalize(st);
        if (!v)
                return sql_fail(s, rc, err, "checking integrity");
        *ret = v;
        return strcmp(v, "ok") ? vg_error(err, -EIO, "inventory '%s': %s", s->path, v) : 0;
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
        if ((r = stmt_get(s, STMT_CHAIN_WALK, &st, err)) < 0)
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
        stmt_done(st);
        if (ok && rc != SQLITE_DONE)
                return sql_fail(s, rc, err, "reading the chain");
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
