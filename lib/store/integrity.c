/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integrity monitoring's tables: the baseline (one row per watched file,
 * never its content) and the open findings of the last check. The
 * baseline's digest lives in the events that change it (integrity/run.h),
 * not here: a row edited here no longer matches it.
 *
 * Each table's columns are read and bound in one place here, in the order
 * of its statements in store/stmt.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

#define TEXT(st, i) ((const char *) sqlite3_column_text((st), (i)))

/* ---- the baseline: path, profile, type, attrs, mode, uid, gid, size,
 * ino, dev, mtime_ns, ctime_ns, target, xattrs, sha256, error, time ----
 * The unsigned numbers are stored as the int64 of the same bits, as the
 * images' are. */

static int baseline_row(sqlite3_stmt *st, void *walk) {
        FscanList *l = walk;
        if (vg_grow((void **) &l->files, &l->n, sizeof(*l->files)) < 0)
                return -ENOMEM;
        FscanFile *f = &l->files[l->n - 1];
        const char *type = TEXT(st, 2);
        *f = (FscanFile) {
                .path = col_text(st, 0),
                .tag = fscan_list_tag(l, TEXT(st, 1)),
                .type = type && *type ? *type : '?',
                .attrs = (unsigned) sqlite3_column_int64(st, 3),
                .mode = (uint32_t) sqlite3_column_int64(st, 4),
                .uid = (uint32_t) sqlite3_column_int64(st, 5),
                .gid = (uint32_t) sqlite3_column_int64(st, 6),
                .size = (uint64_t) sqlite3_column_int64(st, 7),
                .ino = (uint64_t) sqlite3_column_int64(st, 8),
                .dev = (uint64_t) sqlite3_column_int64(st, 9),
                .mtime_ns = sqlite3_column_int64(st, 10),
                .ctime_ns = sqlite3_column_int64(st, 11),
                .target = col_text(st, 12),
                .xattrs = col_text(st, 13),
                .error = sqlite3_column_int(st, 15),
                .time_us = store_col_time(st, 16, 0),
        };
        const char *sha = TEXT(st, 14);
        size_t n = sha ? strnlen(sha, sizeof(f->sha256) - 1) : 0;
        memcpy(f->sha256, sha ? sha : "", n);
        f->sha256[n] = '\0';
        bool lost = !f->path || (TEXT(st, 1) && !f->tag) || (TEXT(st, 12) && !f->target) ||
                    (TEXT(st, 13) && !f->xattrs);
        return lost ? -ENOMEM : 0;
}

static int baseline_load(Store *s, StmtId id, const char *profile, FscanList **ret, VgError *err) {
        sqlite3_stmt *st;
        FscanList *l = calloc(1, sizeof(*l));
        if (!l)
                return vg_error(err, -ENOMEM, "out of memory");
        int r = store_stmt(s, id, &st, err);
        if (r == 0 && profile)
                bind_text(st, 1, profile);
        if (r == 0)
                r = store_walk(s, st, baseline_row, l, err, "reading the integrity baseline");
        if (r < 0) {
                fscan_list_free(l);
                return r == -ENOMEM && !(err && err->text[0]) ? vg_error(err, r, "out of memory") : r;
        }
        *ret = l;
        return 0;
}

int store_baseline_of(Store *s, const char *path, FscanList **ret, VgError *err) {
        return baseline_load(s, STMT_BASELINE_OF, path, ret, err);
}

int store_baseline_load(Store *s, FscanList **ret, VgError *err) {
        return baseline_load(s, STMT_BASELINE_ALL, NULL, ret, err);
}

int store_baseline_load_profile(Store *s, const char *profile, FscanList **ret, VgError *err) {
        return baseline_load(s, STMT_BASELINE_PROFILE, profile, ret, err);
}

int store_baseline_put(Store *s, const FscanFile *f, VgError *err) {
        sqlite3_stmt *st;
        int r = store_superseded_keep(s, f->path, f->tag, f->sha256[0] ? f->sha256 : NULL, err);
        if (r == 0)
                r = store_stmt(s, STMT_BASELINE_PUT, &st, err);
        if (r < 0)
                return r;
        char type[2] = { f->type, '\0' };
        bind_text(st, 1, f->path);
        bind_text(st, 2, f->tag);
        bind_text(st, 3, type);
        sqlite3_bind_int64(st, 4, f->attrs);
        sqlite3_bind_int64(st, 5, f->mode);
        sqlite3_bind_int64(st, 6, f->uid);
        sqlite3_bind_int64(st, 7, f->gid);
        sqlite3_bind_int64(st, 8, (int64_t) f->size);
        sqlite3_bind_int64(st, 9, (int64_t) f->ino);
        sqlite3_bind_int64(st, 10, (int64_t) f->dev);
        sqlite3_bind_int64(st, 11, f->mtime_ns);
        sqlite3_bind_int64(st, 12, f->ctime_ns);
        bind_text(st, 13, f->target);
        bind_text(st, 14, f->xattrs);
        bind_text(st, 15, f->sha256[0] ? f->sha256 : NULL);
        sqlite3_bind_int(st, 16, f->error);
        store_bind_time(st, 17, f->time_us ? f->time_us : vg_now_us());
        return store_step_done(s, st, err, "writing the integrity baseline");
}

static int delete_by(Store *s, StmtId id, const char *key, VgError *err, const char *what) {
        sqlite3_stmt *st;
        int r = store_stmt(s, id, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        return store_step_done(s, st, err, what);
}

int store_baseline_remove(Store *s, const char *path, const char *profile, VgError *err) {
        sqlite3_stmt *st;
        int r = store_superseded_keep(s, path, profile, NULL, err);
        if (r == 0)
                r = store_stmt(s, STMT_BASELINE_DELETE, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, path);
        bind_text(st, 2, profile);
        return store_step_done(s, st, err, "writing the integrity baseline");
}

int store_baseline_replace(Store *s, const char *const *profiles, const FscanList *l, VgError *err) {
        int r = 0;
        for (size_t i = 0; r == 0 && profiles && profiles[i]; i++) {
                r = store_superseded_keep_profile(s, profiles[i], err);
                if (r == 0)
                        r = delete_by(s, STMT_BASELINE_DELETE_PROFILE, profiles[i], err,
                                      "writing the integrity baseline");
        }
        for (size_t i = 0; r == 0 && i < l->n; i++)
                r = store_baseline_put(s, &l->files[i], err);
        return r == 0 ? store_superseded_prune(s, err) : r;
}

/* ---- findings: path, profile, kind, class, changed, package,
 * old_version, new_version, detail, first_seen, last_seen ---- */

typedef struct FindingWalk {
        FindingCallback cb;
        void *u;
} FindingWalk;

static int parse_kind(const char *s) {
        return vg_streq(s, "added") ? DRIFT_ADDED : vg_streq(s, "removed") ? DRIFT_REMOVED : DRIFT_CHANGED;
}

/* Rows written before the class names took the JSON's spelling said
 * "package-update" and "conffile-edit"; each check rewrites its profile's
 * rows, so those last only until the next one. */
static int parse_class(const char *s) {
        return vg_streq(s, "package_update") || vg_streq(s, "package-update") ? DRIFT_PACKAGE_UPDATE
             : vg_streq(s, "conffile_edit") || vg_streq(s, "conffile-edit") ? DRIFT_CONFFILE_EDIT
                                                                           : DRIFT_UNEXPLAINED;
}

static int finding_row(sqlite3_stmt *st, void *walk) {
        FindingWalk *w = walk;
        /* Borrowed: valid during the callback (the strings are SQLite's). */
        IntegrityFinding f = {
                .path = (char *) TEXT(st, 0), .profile = (char *) TEXT(st, 1), .kind = parse_kind(TEXT(st, 2)),
                .cls = parse_class(TEXT(st, 3)), .changed = (unsigned) sqlite3_column_int64(st, 4),
                .package = (char *) TEXT(st, 5), .old_version = (char *) TEXT(st, 6),
                .new_version = (char *) TEXT(st, 7), .detail = (char *) TEXT(st, 8),
                .first_seen_us = store_col_time(st, 9, 0), .last_seen_us = store_col_time(st, 10, 0),
        };
        return f.path ? w->cb(&f, w->u) : 0;
}

int store_findings(Store *s, FindingCallback cb, void *u, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_FINDINGS_ALL, &st, err);
        if (r < 0)
                return r;
        FindingWalk w = { cb, u };
        return store_walk(s, st, finding_row, &w, err, "reading the integrity findings");
}

int store_findings_remove(Store *s, const char *path, VgError *err) {
        return delete_by(s, STMT_FINDING_DELETE, path, err, "writing the integrity findings");
}

int store_findings_replace(Store *s, const char *const *profiles, const IntegrityFinding *f, size_t n, int64_t now_us,
                           VgError *err) {
        int r = 0;
        for (size_t i = 0; r == 0 && profiles && profiles[i]; i++)
                r = delete_by(s, STMT_FINDINGS_DELETE_PROFILE, profiles[i], err, "writing the integrity findings");
        for (size_t i = 0; r == 0 && i < n; i++) {
                sqlite3_stmt *st;
                if ((r = store_stmt(s, STMT_FINDING_PUT, &st, err)) < 0)
                        break;
                bind_text(st, 1, f[i].path);
                bind_text(st, 2, f[i].profile);
                bind_text(st, 3, drift_kind_name(f[i].kind));
                bind_text(st, 4, drift_class_name(f[i].cls));
                sqlite3_bind_int64(st, 5, f[i].changed);
                bind_text(st, 6, f[i].package);
                bind_text(st, 7, f[i].old_version);
                bind_text(st, 8, f[i].new_version);
                bind_text(st, 9, f[i].detail);
                store_bind_time(st, 10, f[i].first_seen_us ? f[i].first_seen_us : now_us);
                store_bind_time(st, 11, now_us);
                r = store_step_done(s, st, err, "writing the integrity findings");
        }
        return r;
}

/* ---- what the domains name ---- */

typedef struct Paths {
        char ***v;
        size_t *n;
} Paths;

static int path_row(sqlite3_stmt *st, void *walk) {
        Paths *p = walk;
        char *path = col_text(st, 0);
        if (!path || vg_grow((void **) p->v, p->n, sizeof(char *)) < 0) {
                free(path);
                return -ENOMEM;
        }
        (*p->v)[*p->n - 1] = path;
        return 0;
}

int store_domain_paths(Store *s, char ***ret, size_t *n, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_DOMAIN_PATHS, &st, err);
        if (r < 0)
                return r;
        *ret = NULL;
        *n = 0;
        Paths p = { ret, n };
        r = store_walk(s, st, path_row, &p, err, "reading the domains' emulators");
        /* NULL-ended: one slot more. */
        if (r == 0 && vg_grow((void **) ret, n, sizeof(char *)) < 0)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r == 0)
                (*n)--;
        if (r < 0) {
                for (size_t i = 0; i < *n; i++)
                        free((*ret)[i]);
                free(*ret);
                *ret = NULL;
                *n = 0;
        }
        return r;
}
