/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What running processes are checked against besides the baseline: the
 * content each baseline row held before it was replaced (a process
 * started before an update still maps it), and the processes' status as
 * the last check saw it, for the report, the metrics and the hook's
 * "require": { "integrity": true }.
 */
#include <errno.h>

#include "priv.h"

#define TEXT(st, i) ((const char *) sqlite3_column_text((st), (i)))

int store_superseded_keep(Store *s, const char *path, const char *profile, const char *new_sha256, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_SUPERSEDED_PUT, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, path);
        bind_text(st, 2, profile);
        bind_text(st, 3, new_sha256);
        store_bind_time(st, 4, vg_now_us());
        return store_step_done(s, st, err, "keeping what the integrity baseline held");
}

int store_superseded_keep_profile(Store *s, const char *profile, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_SUPERSEDED_PUT_PROFILE, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, profile);
        store_bind_time(st, 2, vg_now_us());
        return store_step_done(s, st, err, "keeping what the integrity baseline held");
}

int store_superseded_prune(Store *s, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_SUPERSEDED_PRUNE, &st, err);
        return r < 0 ? r : store_step_done(s, st, err, "keeping what the integrity baseline held");
}

static int time_row(sqlite3_stmt *st, void *walk) {
        *(int64_t *) walk = store_col_time(st, 0, 1);
        return 0;
}

int store_superseded_find(Store *s, const char *path, const char *sha256, int64_t *replaced_us, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_SUPERSEDED_GET, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, path);
        bind_text(st, 2, sha256);
        int64_t t = 0;
        r = store_walk(s, st, time_row, &t, err, "reading the integrity baseline's history");
        if (r < 0)
                return r;
        if (!t)
                return -ENOENT;
        if (replaced_us)
                *replaced_us = t;
        return 0;
}

/* ---- processes: pid, start_ticks, role, domain, exe, status, why,
 * detail, since, checked ---- */

typedef struct ProcessWalk {
        ProcessCallback cb;
        void *u;
} ProcessWalk;

static int process_row(sqlite3_stmt *st, void *walk) {
        ProcessWalk *w = walk;
        ProcessRecord p = {
                .pid = sqlite3_column_int64(st, 0), .start_ticks = (uint64_t) sqlite3_column_int64(st, 1),
                .role = TEXT(st, 2), .domain = TEXT(st, 3), .exe = TEXT(st, 4), .status = TEXT(st, 5),
                .why = TEXT(st, 6), .detail = TEXT(st, 7), .since_us = store_col_time(st, 8, 0),
                .checked_us = store_col_time(st, 9, 0),
        };
        return p.role && p.status ? w->cb(&p, w->u) : 0;
}

int store_processes(Store *s, ProcessCallback cb, void *u, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_PROCESSES_ALL, &st, err);
        if (r < 0)
                return r;
        ProcessWalk w = { cb, u };
        return store_walk(s, st, process_row, &w, err, "reading the processes' integrity");
}

int store_processes_clear(Store *s, const char *domain, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_PROCESSES_CLEAR, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, domain);
        return store_step_done(s, st, err, "writing the processes' integrity");
}

int store_process_put(Store *s, const ProcessRecord *p, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_PROCESS_PUT, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, p->pid);
        sqlite3_bind_int64(st, 2, (int64_t) p->start_ticks);
        bind_text(st, 3, p->role);
        bind_text(st, 4, p->domain);
        bind_text(st, 5, p->exe);
        bind_text(st, 6, p->status);
        bind_text(st, 7, p->why);
        bind_text(st, 8, p->detail);
        store_bind_time(st, 9, p->since_us);
        store_bind_time(st, 10, p->checked_us);
        return store_step_done(s, st, err, "writing the processes' integrity");
}
