/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inventory's connection: open (modes, permissions, WAL, schema),
 * the hook's open of the authorization copy, close, SQLite's own integrity
 * check, and small keyed state (meta).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtgov/util/cleanup.h"
#include "priv.h"

/* A page fault costs about 11 us on this kind of machine (a VM): pcache1's
 * bulk allocation wrote a header into each of 20 pages at the first read,
 * 29 of the hook's 134 faults at prepare. The mutexes were 190k of its
 * 2.33M instructions. */
void store_init_short_lived(void) {
        (void) sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
        (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        (void) sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

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
                return store_sql_fail(s, rc, err, "opening");
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, (int) busy_timeout_ms);

        if (mode != STORE_READ) {
                /* WAL: readers never block the hook's write. FULL: a recorded
                 * event survives power loss once the hook has exited. */
                int r = 0;
                rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL",
                                  NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        return store_sql_fail(s, rc, err, "setting WAL mode");
                if ((r = store_migrate(s, err)) < 0)
                        return r;
                if (mode != STORE_APPEND)
                        store_authz_check(s, false);
        } else {
                int version, r = store_pragma_int(s, "PRAGMA user_version", &version, err);
                if (r < 0)
                        return r;
                if (version != STORE_SCHEMA_VERSION)
                        return store_migrate(s, err) ?: -EPROTO;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* Here, not beside the copy (store/authz-copy.c): the copy opens as any
 * inventory does (store_open), and store_open calls down into that file
 * (store_authz_check); from there this call would close a circle. */
int store_open_authz(const char *inventory, unsigned busy_timeout_ms, Store **ret) {
        _cleanup_free_ char *copy = store_authz_path(inventory);
        int r = store_authz_current(inventory, copy);
        return r < 0 ? r : store_open(copy, STORE_READ, busy_timeout_ms, ret, NULL);
}

int store_set_cache_kib(Store *s, unsigned kib, VgError *err) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%u", kib);
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_sql_fail(s, rc, err, "setting the cache size");
}

unsigned store_cache_kib(Store *s) {
        int v;
        /* Negative: KiB; positive: pages. */
        if (store_pragma_int(s, "PRAGMA cache_size", &v, NULL) < 0)
                return 0;
        return v < 0 ? (unsigned) -v : (unsigned) v * 4;
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

int store_meta_get(Store *s, const char *key, char **ret, VgError *err) {
        return store_get_text(s, STMT_META_GET, key, ret, err, "reading state");
}

int store_meta_get_id(Store *s, const char *key, int64_t *ret, VgError *err) {
        _cleanup_free_ char *text = NULL;
        int r = store_meta_get(s, key, &text, err);
        if (r < 0)
                return r;
        *ret = strtoll(text, NULL, 10);
        return 0;
}

int store_meta_set_id(Store *s, const char *key, int64_t id, VgError *err) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", (long long) id);
        return store_meta_set(s, key, buf, err);
}

int store_meta_set(Store *s, const char *key, const char *value, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_META_SET, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        bind_text(st, 2, value);
        return store_step_done(s, st, err, "writing state");
}

int store_integrity_check(Store *s, char **ret, VgError *err) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sql_fail(s, rc, err, "checking integrity");
        rc = sqlite3_step(st);
        char *v = rc == SQLITE_ROW ? col_text(st, 0) : NULL;
        sqlite3_finalize(st);
        if (!v)
                return store_sql_fail(s, rc, err, "checking integrity");
        *ret = v;
        return strcmp(v, "ok") ? vg_error(err, -EIO, "inventory '%s': %s", s->path, v) : 0;
}
