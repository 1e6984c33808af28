/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hook's copy of the authorization tables (approvals, tickets, trusted
 * images: store/authz.c), INVENTORY-authz: removing it before they change,
 * making it again once a transaction has ended, and checking that a copy
 * is this inventory's.
 *
 * Below the transactions (store/txn.c), which call it when one ends: its
 * own read under the write lock is a bare BEGIN and ROLLBACK
 * (store_exec), which must not end in another copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "virtgov/util/cleanup.h"
#include "priv.h"

#define TEXT(st, i) ((const char *) sqlite3_column_text((st), (i)))

/*
 * The gate reads these three tables at every gated hook run, and reading
 * the inventory's whole schema to do so (23 statements parsed by SQLite at
 * every open) was a third of the hook's instructions at prepare. So they
 * are also kept, whole, in a database of their own, INVENTORY-authz, which
 * the hook reads instead when the policy needs nothing else.
 *
 * The copy never allows what the inventory does not. A change removes it,
 * and syncs the removal, holding the inventory's write lock and before its
 * transaction commits (so does a migration); the copy is made again once
 * the transaction has ended, under the write lock too, from what is
 * committed. So no writer can commit between the reading of a copy and its
 * rename into place, and a crash in between leaves no copy: the hook then
 * reads the inventory, and the next writer to open it makes the copy again.
 *
 * What does not go through here (an inventory restored from a backup or
 * replaced, rows edited by hand) is caught twice. The copy names the
 * inventory file it was made from (its device and inode, in the header's
 * application_id): the hook reads the inventory itself when that is not
 * the file it would read, and each writer's open (reading the copy's
 * header only) makes the copy again. And the copy holds a digest of its
 * rows: the daemon, at its start and at each periodic pass, reads the
 * inventory's rows again and makes the copy anew when they differ. (The
 * digest at every writer's open was 1.4M instructions, a sixth of a small
 * command.) Schema 15 keeps a virtgov that knows nothing of the copy from
 * writing at all.
 */

static const char *const authz_tables[] = { "approvals", "tickets", "images" };

char *store_authz_path(const char *inventory) {
        /* The file's own name, symlinks resolved: two paths to one
         * inventory have one copy. */
        _cleanup_free_ char *real = realpath(inventory, NULL);
        char *p = NULL;
        return real && asprintf(&p, "%s-authz", real) >= 0 ? p : NULL;
}

/* Which inventory file a copy is of: its device and inode, folded. */
static int32_t inventory_id(const char *inventory) {
        struct stat st;
        if (stat(inventory, &st) < 0)
                return 0;
        uint64_t h = (uint64_t) st.st_dev * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t) st.st_ino;
        h ^= h >> 32;
        return (int32_t) (uint32_t) (h ? h : 1);
}

int store_authz_drop(Store *s, VgError *err) {
        if (s->authz_changed)
                return 0;
        _cleanup_free_ char *copy = store_authz_path(s->path);
        if (!copy)
                return vg_error(err, errno == ENOMEM ? -ENOMEM : -errno, "inventory '%s': %s", s->path,
                                strerror(errno));
        if ((unlink(copy) < 0 && errno != ENOENT) || vg_fsync_parent(copy) < 0)
                return vg_error(err, -errno, "'%s': cannot remove it before changing what it copies: %s", copy,
                                strerror(errno));
        s->authz_changed = true;
        return 0;
}

/* The digest of the tables' rows as db has them: each value's type and
 * bytes, in each table's key order. */
static int rows_digest(sqlite3 *db, uint8_t out[CHAIN_HASH_SIZE]) {
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        int rc = SQLITE_OK;
        for (size_t t = 0; t < ELEMENTSOF(authz_tables) && rc == SQLITE_OK; t++) {
                char sql[64];
                sqlite3_stmt *st = NULL;
                snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1", authz_tables[t]);
                if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
                        break;
                while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                        for (int i = 0, n = sqlite3_column_count(st); i < n; i++) {
                                uint8_t type = (uint8_t) sqlite3_column_type(st, i);
                                const void *b = type == SQLITE_BLOB ? sqlite3_column_blob(st, i)
                                                                     : sqlite3_column_text(st, i);
                                uint32_t len = (uint32_t) sqlite3_column_bytes(st, i);
                                sha256_update(&ctx, 1, &type);
                                sha256_update(&ctx, sizeof(len), (const uint8_t *) &len);
                                sha256_update(&ctx, len, b);
                        }
                sqlite3_finalize(st);
                rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
                uint8_t end = 0xff;
                sha256_update(&ctx, 1, &end);
        }
        sha256_digest(&ctx, CHAIN_HASH_SIZE, out);
        return rc;
}

/* The tables' rows from s into db, a new database: their CREATE statements
 * as the inventory has them, then each row as it is, then the digest of
 * the rows and which inventory file they are of. */
static int copy_tables(Store *s, sqlite3 *db) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, "SELECT sql FROM sqlite_schema WHERE tbl_name IN"
                                    " ('approvals', 'tickets', 'images') AND sql IS NOT NULL"
                                    " ORDER BY type = 'table' DESC", -1, &st, NULL);
        while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
                rc = sqlite3_exec(db, TEXT(st, 0), NULL, NULL, NULL);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return rc;
        for (size_t t = 0; t < ELEMENTSOF(authz_tables); t++) {
                char sql[128];
                sqlite3_stmt *get = NULL, *put = NULL;
                snprintf(sql, sizeof(sql), "SELECT * FROM %s", authz_tables[t]);
                rc = sqlite3_prepare_v2(s->db, sql, -1, &get, NULL);
                int n = rc == SQLITE_OK ? sqlite3_column_count(get) : 0;
                int k = snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?", authz_tables[t]);
                for (int i = 1; i < n && k < (int) sizeof(sql) - 4; i++)
                        k += snprintf(sql + k, sizeof(sql) - (size_t) k, ",?");
                snprintf(sql + k, sizeof(sql) - (size_t) k, ")");
                if (rc == SQLITE_OK)
                        rc = sqlite3_prepare_v2(db, sql, -1, &put, NULL);
                while (rc == SQLITE_OK && (rc = sqlite3_step(get)) == SQLITE_ROW) {
                        for (int i = 0; i < n; i++)
                                sqlite3_bind_value(put, i + 1, sqlite3_column_value(get, i));
                        rc = sqlite3_step(put);
                        sqlite3_reset(put);
                        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
                }
                sqlite3_finalize(get);
                sqlite3_finalize(put);
                if (rc != SQLITE_DONE)
                        return rc;
        }
        uint8_t digest[CHAIN_HASH_SIZE];
        char hex[CHAIN_HEX_SIZE], sql[256];
        if ((rc = rows_digest(db, digest)) != SQLITE_OK)
                return rc;
        chain_hex(digest, hex);
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE authz_copy (digest TEXT NOT NULL); INSERT INTO authz_copy VALUES ('%s');"
                 "PRAGMA user_version = %d; PRAGMA application_id = %d", hex, STORE_SCHEMA_VERSION,
                 (int) inventory_id(s->path));
        return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

void store_authz_copy(Store *s) {
        _cleanup_free_ char *copy = store_authz_path(s->path), *tmp = NULL;
        if (!copy || asprintf(&tmp, "%s.tmp", copy) < 0 || !sqlite3_get_autocommit(s->db))
                return;
        s->authz_changed = false;
        /* The write lock: nothing commits meanwhile. A bare BEGIN, not
         * store_begin: this transaction writes nothing, and its end must
         * not make another copy. */
        if (store_exec(s, STMT_BEGIN, NULL) < 0)
                return;
        /* Made 0600 before SQLite opens it: nobody else may hold it open. */
        (void) unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        int rc = fd >= 0 && close(fd) == 0 ? SQLITE_OK : SQLITE_CANTOPEN;
        sqlite3 *db = NULL;
        if (rc == SQLITE_OK)
                rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = copy_tables(s, db);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (sqlite3_close(db) != SQLITE_OK)
                rc = SQLITE_ERROR;
        /* Readable as the inventory is (its group: the auditors'), durable,
         * then in place. */
        struct stat inv;
        _cleanup_close_ int wfd = rc == SQLITE_OK ? open(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW) : -1;
        bool ok = wfd >= 0 && stat(s->path, &inv) == 0 &&
                  (fchown(wfd, (uid_t) -1, inv.st_gid) == 0 || geteuid() != 0) && fchmod(wfd, 0640) == 0 &&
                  fsync(wfd) == 0 && rename(tmp, copy) == 0 && vg_fsync_parent(copy) == 0;
        if (!ok) {
                (void) unlink(tmp);
                (void) unlink(copy);
        }
        if (!sqlite3_get_autocommit(s->db))   /* nothing was written to the inventory */
                (void) store_exec(s, STMT_ROLLBACK, NULL);
}

/* The copy's schema version and application_id, from its header (offsets
 * 60 and 68, big-endian): without opening it. */
static bool copy_header(const char *copy, int32_t *ret_version, int32_t *ret_id) {
        uint8_t h[72];
        _cleanup_close_ int fd = open(copy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || pread(fd, h, sizeof(h), 0) != (ssize_t) sizeof(h) ||
            memcmp(h, "SQLite format 3", 16) != 0)
                return false;
        *ret_version = (int32_t) ((uint32_t) h[60] << 24 | (uint32_t) h[61] << 16 | (uint32_t) h[62] << 8 | h[63]);
        *ret_id = (int32_t) ((uint32_t) h[68] << 24 | (uint32_t) h[69] << 16 | (uint32_t) h[70] << 8 | h[71]);
        return true;
}

/* Whether the copy's rows are the inventory's: their digests. */
static bool same_rows(Store *s, const char *copy) {
        sqlite3 *db = NULL;
        bool same = false;
        uint8_t mine[CHAIN_HASH_SIZE], theirs[CHAIN_HASH_SIZE];
        if (sqlite3_open_v2(copy, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
                sqlite3_stmt *st = NULL;
                same = sqlite3_prepare_v2(db, "SELECT digest FROM authz_copy", -1, &st, NULL) == SQLITE_OK &&
                       sqlite3_step(st) == SQLITE_ROW && chain_unhex(TEXT(st, 0), theirs) == 0 &&
                       rows_digest(s->db, mine) == SQLITE_OK && !memcmp(mine, theirs, sizeof(mine));
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return same;
}

int store_authz_current(const char *inventory, const char *copy) {
        int32_t version = 0, id = 0;
        if (!copy || !copy_header(copy, &version, &id))
                return -ENOENT;
        return version == STORE_SCHEMA_VERSION && id == inventory_id(inventory) ? 0 : -ESTALE;
}

int store_authz_check(Store *s, bool rows) {
        _cleanup_free_ char *copy = store_authz_path(s->path);
        if (store_authz_current(s->path, copy) == 0 && (!rows || same_rows(s, copy)))
                return 0;
        store_authz_copy(s);
        return 1;
}
