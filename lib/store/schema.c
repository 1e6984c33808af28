/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The schema: numbered migrations, applied in order by any writer that
 * opens an older inventory, inside one write transaction. Above the files
 * whose tables it migrates: a migration's C step lives beside the code of
 * its tables (store/append.c, store/authz.c), and only this file calls it.
 */
#include <errno.h>
#include <stdio.h>

#include "virtgov/util/cleanup.h"
#include "priv.h"

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
        "  domain_glob TEXT,"              /* NULL once meant: the domains whose metadata names
                                              * it; now such a row covers nothing (ticket_check) */
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
          "ALTER TABLE events ADD COLUMN hash TEXT;", store_chain_existing_rows },
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
        /* 10 -> 11: the trusted images' numbers as INTEGER columns, not
         * decimal text that every reader parsed back. SQLite cannot change
         * a column's type: the C step copies the rows into a new table,
         * converting each number in C, for an inode number can use all 64
         * bits and SQL's CAST stops at INT64_MAX (the store keeps the
         * int64 of the same bits, store/authz.c). */
        { "CREATE TABLE images_new ("
          "  path TEXT PRIMARY KEY,"
          "  sha256 TEXT NOT NULL,"
          "  size INTEGER NOT NULL, dev INTEGER NOT NULL, ino INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
          "  trusted_by TEXT,"
          "  time TEXT NOT NULL);", store_images_to_integers },
        /* 11 -> 12: integrity monitoring. The baseline, one row per watched
         * file (never its content; numbers as the int64 of their bits), and
         * the open findings of the last check. */
        { "CREATE TABLE integrity_files ("
          "  path TEXT NOT NULL,"
          "  profile TEXT NOT NULL,"
          "  type TEXT NOT NULL,"
          "  attrs INTEGER NOT NULL,"
          "  mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
          "  size INTEGER NOT NULL, ino INTEGER NOT NULL, dev INTEGER NOT NULL,"
          "  mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
          "  target TEXT, xattrs TEXT, sha256 TEXT,"
          "  error INTEGER NOT NULL DEFAULT 0,"
          "  time TEXT NOT NULL,"
          /* A file in two profiles has a row in each: a baseline of one
           * profile never takes over the other's. */
          "  PRIMARY KEY (path, profile)) WITHOUT ROWID;"
          "CREATE INDEX integrity_files_profile ON integrity_files(profile);"
          "CREATE TABLE integrity_findings ("
          "  path TEXT PRIMARY KEY,"
          "  profile TEXT,"
          "  kind TEXT NOT NULL CHECK (kind IN ('added', 'removed', 'changed')),"
          "  class TEXT NOT NULL,"
          "  changed INTEGER NOT NULL,"
          "  package TEXT, old_version TEXT, new_version TEXT,"
          "  detail TEXT,"
          "  first_seen TEXT NOT NULL,"
          "  last_seen TEXT NOT NULL);", NULL },
        /* 12 -> 13: what runs. The content a baseline row held before it
         * was replaced (a process still mapping it runs a version that was
         * once good: stale, not tampered), and the running processes'
         * status as the last check saw it (integrity/proc.h). */
        { "CREATE TABLE integrity_superseded ("
          "  path TEXT NOT NULL,"
          "  sha256 TEXT NOT NULL,"
          "  time TEXT NOT NULL,"
          "  PRIMARY KEY (path, sha256)) WITHOUT ROWID;"
          "CREATE TABLE integrity_processes ("
          "  pid INTEGER PRIMARY KEY,"
          "  start_ticks INTEGER NOT NULL,"
          "  role TEXT NOT NULL,"
          "  domain TEXT,"
          "  exe TEXT,"
          "  status TEXT NOT NULL CHECK (status IN ('current', 'unknown', 'stale', 'tampered')),"
          "  why TEXT,"
          "  detail TEXT,"
          "  since TEXT NOT NULL,"
          "  checked TEXT NOT NULL);", NULL },
        /* 13 -> 14: the integrity baseline keyed by profile, then path. A
         * check reads the rows of the profiles it checks only, and each
         * profile's rows are now one range of the table in path order:
         * through the index on profile they cost a lookup each, and a
         * check of 10,000 rows took 98M instructions to read them, not
         * 72M. That index is the key's prefix now, and goes. */
        { "CREATE TABLE integrity_files_new ("
          "  path TEXT NOT NULL,"
          "  profile TEXT NOT NULL,"
          "  type TEXT NOT NULL,"
          "  attrs INTEGER NOT NULL,"
          "  mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
          "  size INTEGER NOT NULL, ino INTEGER NOT NULL, dev INTEGER NOT NULL,"
          "  mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
          "  target TEXT, xattrs TEXT, sha256 TEXT,"
          "  error INTEGER NOT NULL DEFAULT 0,"
          "  time TEXT NOT NULL,"
          "  PRIMARY KEY (profile, path)) WITHOUT ROWID;"
          "INSERT INTO integrity_files_new (path, profile, type, attrs, mode, uid, gid, size, ino, dev, mtime_ns,"
          "  ctime_ns, target, xattrs, sha256, error, time)"
          "  SELECT path, profile, type, attrs, mode, uid, gid, size, ino, dev, mtime_ns, ctime_ns, target, xattrs,"
          "  sha256, error, time FROM integrity_files;"
          "DROP TABLE integrity_files;"
          "ALTER TABLE integrity_files_new RENAME TO integrity_files;"
          /* A path's rows whatever their profile: what a running process
           * maps, the hook's own-file check (integrity/proc.h, gate.c). */
          "CREATE INDEX integrity_files_path ON integrity_files(path);", NULL },
        /* 14 -> 15: the hook's copy of the approvals, tickets and trusted
         * images (store/authz-copy.c). No table changes: the new version keeps
         * a virtgov that does not keep the copy from writing the inventory
         * (an older one, after a downgrade) and leaving it stale. */
        { "", NULL },
};

/* The files below this one know the version as STORE_SCHEMA_VERSION,
 * for they may not call up here: a migration appended here raises it. */
_Static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_VERSION,
               "STORE_SCHEMA_VERSION (store/priv.h) is not the number of migrations");

int store_schema_version(void) {
        return STORE_SCHEMA_VERSION;
}

int store_pragma_int(Store *s, const char *sql, int *ret, VgError *err) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sql_fail(s, rc, err, "reading the schema version");
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : store_sql_fail(s, rc, err, "reading the schema version");
}

/* Brings the schema to this program's version, as s->mode allows: a
 * reader refuses an older one, STORE_APPEND notes it (old_schema) and
 * leaves it, a writer migrates it. Any mode refuses a newer one. */
int store_migrate(Store *s, VgError *err) {
        int version, r;
        if ((r = store_pragma_int(s, "PRAGMA user_version", &version, err)) < 0)
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
        if ((r = store_pragma_int(s, "PRAGMA user_version", &version, err)) < 0)
                goto fail;
        /* A migration may change what the hook's copy of the authorization
         * tables holds: it goes first, and is made again after. */
        if (version < store_schema_version() && (r = store_authz_drop(s, err)) < 0)
                goto fail;
        for (; version < store_schema_version(); version++) {
                char pragma[64];
                int rc = sqlite3_exec(s->db, migrations[version].sql, NULL, NULL, NULL);
                if (rc != SQLITE_OK) {
                        r = store_sql_fail(s, rc, err, "applying a schema migration");
                        goto fail;
                }
                if (migrations[version].step && (r = migrations[version].step(s, err)) < 0)
                        goto fail;
                snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
                rc = sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
                if (rc != SQLITE_OK) {
                        r = store_sql_fail(s, rc, err, "recording the schema version");
                        goto fail;
                }
        }
        return store_commit(s, err);
fail:
        store_rollback(s);
        return r;
}
