/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The statement catalog: the SQL of every statement the store prepares,
 * in one table, so that a reader sees every query the inventory answers
 * and the indexes they lean on in one place. Statements are prepared on
 * first use (a hook run prepares only the few it needs), kept, and
 * finalized by store_close().
 */
#include <errno.h>
#include <string.h>

#include "priv.h"

/* A domain row's columns, in the order store/domains.c reads them. */
#define DOMAIN_COLUMNS \
        "uuid, name, host, state, persistent, owner, ticket, purpose, facts, " \
        "first_seen, last_seen, last_start, last_stop, autostart, config_facts, type"
/* The same without the facts: a listing that does not show them does not
 * read their (overflow) pages. */
#define DOMAIN_COLUMNS_LEAN \
        "uuid, name, host, state, persistent, owner, ticket, purpose, NULL, " \
        "first_seen, last_seen, last_start, last_stop, autostart, NULL, type"

/* What any event of a domain does to its row, the row there already: NAME
 * and HOST are the event's name and host. Each expression reads the row as
 * it was (SQLite's UPDATE), so the order does not matter. */
#define DOMAIN_SET_EVENT(NAME, HOST) \
        "  name = CASE WHEN ?10 >= last_seen THEN " NAME " ELSE name END," \
        "  host = coalesce(" HOST ", host)," \
        "  state = CASE WHEN ?10 < last_seen THEN state" \
        "               WHEN ?4 IS NOT NULL THEN ?4" \
        "               WHEN ?13 IS NOT NULL AND state IN ('undefined', 'unknown') THEN ?13" \
        "               ELSE state END," \
        "  persistent = CASE WHEN ?5 IS NOT NULL AND ?10 >= last_seen THEN ?5 ELSE persistent END," \
        "  first_seen = min(first_seen, ?10)," \
        "  last_seen = max(last_seen, ?10)," \
        "  last_start = CASE WHEN ?11 IS NOT NULL AND (last_start IS NULL OR ?11 > last_start)" \
        "                    THEN ?11 ELSE last_start END," \
        "  last_stop = CASE WHEN ?12 IS NOT NULL AND (last_stop IS NULL OR ?12 > last_stop)" \
        "                   THEN ?12 ELSE last_stop END," \
        "  autostart = CASE WHEN ?14 IS NOT NULL AND ?10 >= last_seen THEN ?14 ELSE autostart END,"

/* A domain's row from one event: see apply_to_domain (store/append.c). */
#define UPSERT_DOMAIN \
        "INSERT INTO domains (" DOMAIN_COLUMNS ", derived_stale)" \
        " VALUES (?1, ?2, ?3, coalesce(?4, ?13, 'unknown'), ?5, ?6, ?7, ?8, json_extract(?9, '$.facts')," \
        "         ?10, ?10, ?11, ?12, ?14, json_extract(?15, '$.config_facts'), NULL," \
        "         CASE WHEN ?9 IS NOT NULL OR ?15 IS NOT NULL THEN 1 END)" \
        " ON CONFLICT (uuid) DO UPDATE SET" \
        DOMAIN_SET_EVENT("excluded.name", "excluded.host") \
        "  owner = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN ?6 ELSE owner END," \
        "  ticket = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN ?7 ELSE ticket END," \
        "  purpose = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN ?8 ELSE purpose END," \
        "  facts = CASE WHEN ?9 IS NOT NULL AND ?10 >= last_seen THEN excluded.facts ELSE facts END," \
        "  config_facts = CASE WHEN ?15 IS NOT NULL AND ?10 >= last_seen THEN excluded.config_facts" \
        "                      ELSE config_facts END," \
        /* Whether this write changes the facts that devices and type \
         * derive from (a false alarm only costs deriving them again). \
         * Nothing carries over from an earlier write. */ \
        "  derived_stale = CASE WHEN ?10 >= last_seen AND" \
        "    ((?15 IS NOT NULL AND excluded.config_facts IS NOT coalesce(config_facts, facts)) OR" \
        "     (?9 IS NOT NULL AND ?15 IS NULL AND config_facts IS NULL AND excluded.facts IS NOT facts))" \
        "    THEN 1 END"

/* The integrity tables' columns, in the order store/integrity.c reads and
 * binds them. */
#define BASELINE_COLUMNS \
        "path, profile, type, attrs, mode, uid, gid, size, ino, dev, mtime_ns, ctime_ns, target, xattrs, sha256, error," \
        " time"
#define FINDING_COLUMNS \
        "path, profile, kind, class, changed, package, old_version, new_version, detail, first_seen, last_seen"

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
        /* The same for an event without facts (?6 to ?9 and ?15 NULL), the
         * row there already: what the upsert's DO UPDATE does then, without
         * first building the row to insert and finding the conflict, nor
         * assigning the five columns only facts change. */
        [STMT_UPDATE_DOMAIN] = "UPDATE domains SET" DOMAIN_SET_EVENT("?2", "?3") "  derived_stale = NULL"
                               " WHERE uuid = ?1",
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
        /* Authorizations: each table's columns in one order for its put
         * and its reads, which store/authz.c binds and reads by position. */
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
        [STMT_TICKET_GET] = "SELECT id, domain_glob, action, valid_from, valid_until, approved_by, added_by, time"
                            " FROM tickets WHERE id = ?1",
        /* Every ticket's ID and glob, in no order: store_tickets matches
         * each glob in C (glob.h), not here: SQLite's GLOB is not fnmatch
         * ('[!x]' never matches), and one pattern it refuses ("too
         * complex") failed the whole query, so every decision. Two
         * columns, not eight: at 10,000 tickets the other six cost the
         * scan 7M instructions, more than the rest of 'policy test'. */
        [STMT_TICKETS_SCAN] = "SELECT id, domain_glob FROM tickets",
        [STMT_TICKETS_ALL] = "SELECT id, domain_glob, action, valid_from, valid_until, approved_by, added_by, time"
                             " FROM tickets ORDER BY valid_from, id",
        [STMT_IMAGE_PUT] = "INSERT OR REPLACE INTO images (path, sha256, size, dev, ino, mtime_ns, trusted_by, time)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        [STMT_IMAGE_GET] = "SELECT path, sha256, size, dev, ino, mtime_ns, trusted_by, time FROM images WHERE path = ?1",
        [STMT_IMAGES_ALL] = "SELECT path, sha256, size, dev, ino, mtime_ns, trusted_by, time FROM images ORDER BY path",
        /* By path, in byte order: fscan_find's bsearch relies on it. */
        [STMT_BASELINE_ALL] = "SELECT " BASELINE_COLUMNS " FROM integrity_files ORDER BY path, profile",
        [STMT_BASELINE_PROFILE] = "SELECT " BASELINE_COLUMNS " FROM integrity_files WHERE profile = ?1 ORDER BY path",
        [STMT_BASELINE_PUT] = "INSERT OR REPLACE INTO integrity_files (" BASELINE_COLUMNS ")"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        [STMT_BASELINE_DELETE] = "DELETE FROM integrity_files WHERE path = ?1 AND profile = ?2",
        [STMT_BASELINE_DELETE_PROFILE] = "DELETE FROM integrity_files WHERE profile = ?1",
        [STMT_FINDINGS_ALL] = "SELECT " FINDING_COLUMNS " FROM integrity_findings ORDER BY path",
        [STMT_FINDING_PUT] = "INSERT OR REPLACE INTO integrity_findings (" FINDING_COLUMNS ")"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        [STMT_FINDING_DELETE] = "DELETE FROM integrity_findings WHERE path = ?1",
        [STMT_FINDINGS_DELETE_PROFILE] = "DELETE FROM integrity_findings WHERE profile = ?1",
        /* The isolation profile watches what the domains run. */
        [STMT_DOMAIN_PATHS] = "SELECT DISTINCT j.value AS p FROM domains,"
                              " json_each(json_array(json_extract(coalesce(config_facts, facts), '$.emulator'),"
                              "  json_extract(coalesce(config_facts, facts), '$.loader'),"
                              "  json_extract(coalesce(config_facts, facts), '$.kernel'),"
                              "  json_extract(coalesce(config_facts, facts), '$.initrd'))) j"
                              " WHERE state != 'undefined' AND json_valid(coalesce(config_facts, facts))"
                              " AND j.type = 'text' ORDER BY p",
        [STMT_BASELINE_OF] = "SELECT " BASELINE_COLUMNS " FROM integrity_files WHERE path = ?1 ORDER BY profile",
        /* What a row held, kept before it is replaced (?3: the new hash,
         * NULL when removed) or its profile's rows retaken. */
        [STMT_SUPERSEDED_PUT] = "INSERT INTO integrity_superseded (path, sha256, time)"
                                " SELECT path, sha256, ?4 FROM integrity_files"
                                " WHERE path = ?1 AND profile = ?2 AND sha256 IS NOT NULL AND sha256 IS NOT ?3"
                                " ON CONFLICT DO UPDATE SET time = excluded.time",
        [STMT_SUPERSEDED_PUT_PROFILE] = "INSERT INTO integrity_superseded (path, sha256, time)"
                                        " SELECT path, sha256, ?2 FROM integrity_files"
                                        " WHERE profile = ?1 AND sha256 IS NOT NULL"
                                        " ON CONFLICT DO UPDATE SET time = excluded.time",
        /* Kept only while it differs from what the baseline holds now. */
        [STMT_SUPERSEDED_PRUNE] = "DELETE FROM integrity_superseded WHERE EXISTS (SELECT 1 FROM integrity_files f"
                                  " WHERE f.path = integrity_superseded.path AND f.sha256 = integrity_superseded.sha256)",
        [STMT_SUPERSEDED_GET] = "SELECT time FROM integrity_superseded WHERE path = ?1 AND sha256 = ?2",
        [STMT_PROCESSES_ALL] = "SELECT pid, start_ticks, role, domain, exe, status, why, detail, since, checked"
                               " FROM integrity_processes ORDER BY role = 'qemu', domain, pid",
        [STMT_PROCESS_PUT] = "INSERT OR REPLACE INTO integrity_processes"
                             " (pid, start_ticks, role, domain, exe, status, why, detail, since, checked)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        /* ?1: a domain's QEMU only; NULL: every process. */
        [STMT_PROCESSES_CLEAR] = "DELETE FROM integrity_processes WHERE ?1 IS NULL OR (role = 'qemu' AND domain = ?1)",
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
};

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

int store_sql_fail(Store *s, int rc, VgError *err, const char *what) {
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

/* Done with a statement of s->stmt until its next store_stmt: reset, and its
 * bindings cleared, for they point into the caller's memory (bind_text). */
void store_stmt_done(sqlite3_stmt *st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
}

int store_stmt(Store *s, StmtId id, sqlite3_stmt **ret, VgError *err) {
        *ret = NULL;
        if (!s->stmt[id]) {
                int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                            &s->stmt[id], NULL);
                if (rc != SQLITE_OK)
                        return store_sql_fail(s, rc, err, "preparing a statement");
        }
        store_stmt_done(s->stmt[id]);   /* after a path that did not */
        *ret = s->stmt[id];
        return 0;
}

/* Runs a statement that returns no rows, and resets it for its next use. */
int store_step_done(Store *s, sqlite3_stmt *st, VgError *err, const char *what) {
        int rc = sqlite3_step(st);
        store_stmt_done(st);
        return rc == SQLITE_DONE ? 0 : store_sql_fail(s, rc, err, what);
}

int store_exec(Store *s, StmtId id, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, id, &st, err);
        if (r < 0)
                return r;
        return store_step_done(s, st, err, stmt_sql[id]);
}

/* The one text column of the one row STMT id finds by key ?1: -ENOENT
 * when there is none. */
int store_get_text(Store *s, StmtId id, const char *key, char **ret, VgError *err, const char *what) {
        sqlite3_stmt *st;
        int r = store_stmt(s, id, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                char *v = col_text(st, 0);
                store_stmt_done(st);
                if (!v)
                        return vg_error(err, -ENOMEM, "out of memory");
                *ret = v;
                return 0;
        }
        store_stmt_done(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        return store_sql_fail(s, rc, err, what);
}

int store_walk(Store *s, sqlite3_stmt *st, StoreRowFn fn, void *walk, VgError *err, const char *what) {
        int rc, r = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if ((r = fn(st, walk)) < 0)
                        break;
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sql_fail(s, rc, err, what);
        store_stmt_done(st);
        return r;
}

void store_bind_time(sqlite3_stmt *st, int i, int64_t us) {
        char t[VG_TIME_MAX];
        vg_time_format(us, t);
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
}

int64_t store_col_time(sqlite3_stmt *st, int i, int64_t fallback) {
        const char *t = (const char *) sqlite3_column_text(st, i);
        int64_t us;
        return t && vg_time_parse(t, 0, &us) == 0 ? us : fallback;
}
