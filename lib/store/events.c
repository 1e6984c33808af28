/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading events back: filtered walks and per-kind counts. */
#include <errno.h>
#include <stdio.h>

#include "priv.h"

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

/* The query for filter f into full (size bytes): built from the filter so
 * that SQLite sees only the clauses in use and can pick the index for
 * each; values are always bound (events_bind). */
static int events_sql(const EventFilter *f, char *full, size_t size, VgError *err) {
        char data[512] = "data";
        if (f->data_paths) {
                strcpy(data, "CASE WHEN json_valid(data) THEN json_object(");
                for (size_t n = 0; f->data_paths[n]; n++) {
                        if (n == 8)
                                return vg_error(err, -EINVAL, "querying events: more than 8 data paths");
                        size_t len = strlen(data);
                        snprintf(data + len, sizeof(data) - len, "%s?%zu, json_extract(data, ?%zu)",
                                 n ? ", " : "", 11 + n, 11 + n);
                }
                strcat(data, ") END");
        }
        char sql[1024];
        snprintf(sql, sizeof(sql), "SELECT id, time, ref, source, kind, host, domain, uuid, decision, reason,"
                 " actor, %s, hash FROM events WHERE 1", data);
        if (f->domain)
                strcat(sql, " AND (domain = ?1 OR uuid = ?1)");
        if (f->kind)
                strcat(sql, " AND kind = ?19");
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
        if (f->limit && !f->after_id)
                snprintf(full, size, "SELECT * FROM (%s) ORDER BY %s", sql, order);
        else if (f->limit)
                snprintf(full, size, "%s", sql);
        else
                snprintf(full, size, "%s ORDER BY %s", sql, order);
        return 0;
}

/* f's values into the parameters events_sql numbered. */
static void events_bind(sqlite3_stmt *st, const EventFilter *f) {
        bind_text(st, 1, f->domain);
        bind_text(st, 2, f->kind_prefix);
        bind_text(st, 3, f->source);
        bind_text(st, 4, f->network);
        if (f->since_us)
                store_bind_time(st, 5, f->since_us);
        if (f->until_us)
                store_bind_time(st, 6, f->until_us);
        if (f->limit)
                sqlite3_bind_int64(st, 7, f->limit);
        bind_text(st, 8, f->host);
        bind_text(st, 10, f->decision);
        if (f->after_id)
                sqlite3_bind_int64(st, 9, f->after_id);
        for (size_t i = 0; f->data_paths && f->data_paths[i]; i++)
                bind_text(st, (int) (11 + i), f->data_paths[i]);
        bind_text(st, 19, f->kind);
}

int store_query_events(Store *s, const EventFilter *f, EventCallback cb, void *userdata, VgError *err) {
        char sql[1200];
        int r = events_sql(f, sql, sizeof(sql), err);
        if (r < 0)
                return r;
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sql_fail(s, rc, err, "querying events");
        events_bind(st, f);
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
                r = store_sql_fail(s, rc, err, "querying events");
        sqlite3_finalize(st);
        return r;
}

static int take_copy(const Event *e, void *u) {
        json_t *j = event_to_json(e);
        int r = j ? event_from_json(j, u, NULL) : -ENOMEM;
        json_decref(j);
        if (r == 0)
                (*(Event **) u)->id = e->id;
        return r < 0 ? r : 0;
}

int store_last_event(Store *s, const char *kind, Event **ret, VgError *err) {
        EventFilter f = { .kind = kind, .limit = 1 };
        Event *e = NULL;
        int r = store_query_events(s, &f, take_copy, &e, err);
        if (r < 0) {
                event_free(e);
                return r == -ENOMEM && !(err && err->text[0]) ? vg_error(err, r, "out of memory") : r;
        }
        if (!e)
                return -ENOENT;
        *ret = e;
        return 0;
}

typedef struct CountWalk {
        EventCountCallback cb;
        void *u;
} CountWalk;

static int count_row(sqlite3_stmt *st, void *walk) {
        CountWalk *w = walk;
        EventCount c = { .kind = (const char *) sqlite3_column_text(st, 0), .count = sqlite3_column_int64(st, 1),
                         .newest_us = store_col_time(st, 2, 0), .decision = (const char *) sqlite3_column_text(st, 3) };
        return w->cb(&c, w->u);
}

int store_event_counts(Store *s, EventCountCallback cb, void *u, VgError *err) {
        /* One pass over the kind index: cheap enough for a scrape. Not a
         * kept statement: a scrape runs it once per process. */
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "SELECT kind, count(*), max(time), decision FROM events"
                                    " GROUP BY kind, decision ORDER BY kind", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sql_fail(s, rc, err, "counting events");
        CountWalk w = { cb, u };
        int r = store_walk(s, st, count_row, &w, err, "counting events");
        sqlite3_finalize(st);
        return r;
}

static int lost_row(sqlite3_stmt *st, void *walk) {
        *(int64_t *) walk = sqlite3_column_int64(st, 0);
        return 0;
}

int store_audit_lost(Store *s, int64_t *ret, VgError *err) {
        /* The kind index finds the rows; data is read only for them (CASE,
         * not AND, keeps json_type off data that is not JSON). An
         * event without a positive count (the daemon's socket overflowed,
         * nobody knows by how much) stands for the one record it is sure
         * of. */
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(CASE WHEN NOT json_valid(data) THEN 1"
                                    " WHEN json_type(data, '$.lost') = 'integer' AND json_extract(data, '$.lost') > 0"
                                    " THEN json_extract(data, '$.lost') ELSE 1 END), 0)"
                                    " FROM events WHERE kind = 'audit.lost'", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sql_fail(s, rc, err, "counting lost audit records");
        int64_t n = 0;
        int r = store_walk(s, st, lost_row, &n, err, "counting lost audit records");
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}
