/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What authorizes an activation: approvals, change tickets, and the
 * trusted-image library. Changed only through the CLI (each change also an
 * event naming who made it); read by the gate at every gated hook run.
 *
 * Each table's columns are read and bound in one place here, in the order
 * of its statements in store/stmt.c. The hook's copy of these tables, and
 * why it never allows what they do not: store/authz-copy.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "virtgov/authz/authz.h"
#include "virtgov/util/cleanup.h"
#include "priv.h"

/* A walk's caller: its typed callback and its data; for the tickets of a
 * domain, its name and the ticket its metadata names. */
typedef struct Walk {
        union {
                ApprovalCallback approval;
                TicketCallback ticket;
                ImageCallback image;
        } cb;
        void *u;
        const char *name, *ticket_id;
        Store *s;                /* for a read of its own, with err */
        VgError *err;
} Walk;

#define TEXT(st, i) ((const char *) sqlite3_column_text((st), (i)))

/* Before a change to the tables: in a transaction (the write lock held),
 * the copy gone for good. */
static int authz_change(Store *s, bool *ret_own, VgError *err) {
        int r;
        *ret_own = false;
        if (sqlite3_get_autocommit(s->db)) {
                if ((r = store_begin(s, err)) < 0)
                        return r;
                *ret_own = true;
        }
        if ((r = store_authz_drop(s, err)) < 0 && *ret_own)
                store_rollback(s);
        return r;
}

/* After it: r the change's result; a transaction begun for it ends here. */
static int authz_changed(Store *s, bool own, int r, VgError *err) {
        if (!own)
                return r;
        if (r == 0 && (r = store_commit(s, err)) == 0)
                return 0;
        store_rollback(s);
        return r;
}

/* ---- approvals: key, owner, ticket, until, approved_by, time ---- */

int store_approval_put(Store *s, const Approval *a, VgError *err) {
        sqlite3_stmt *st;
        bool own;
        int r = authz_check_approval(a, err);
        if (r < 0)
                return r;
        r = authz_change(s, &own, err);
        if (r < 0)
                return r;
        if ((r = store_stmt(s, STMT_APPROVAL_PUT, &st, err)) == 0) {
                bind_text(st, 1, a->key);
                bind_text(st, 2, a->owner);
                bind_text(st, 3, a->ticket);
                if (a->until_us)
                        store_bind_time(st, 4, a->until_us);
                bind_text(st, 5, a->approved_by);
                store_bind_time(st, 6, a->time_us);
                r = store_step_done(s, st, err, "recording an approval");
        }
        return authz_changed(s, own, r, err);
}

int store_approval_delete(Store *s, const char *key, VgError *err) {
        sqlite3_stmt *st;
        bool own;
        int r = authz_change(s, &own, err);
        if (r < 0)
                return r;
        if ((r = store_stmt(s, STMT_APPROVAL_DELETE, &st, err)) == 0) {
                bind_text(st, 1, key);
                if ((r = store_step_done(s, st, err, "revoking an approval")) == 0 && !sqlite3_changes(s->db))
                        r = vg_error(err, -ENOENT, "no approval for '%s'", key);
        }
        return authz_changed(s, own, r, err);
}

static int approval_row(sqlite3_stmt *st, void *walk) {
        Walk *w = walk;
        Approval a = { .key = TEXT(st, 0), .owner = TEXT(st, 1), .ticket = TEXT(st, 2),
                       .until_us = store_col_time(st, 3, 0), .approved_by = TEXT(st, 4), .time_us = store_col_time(st, 5, 0) };
        return w->cb.approval(&a, w->u);
}

int store_approvals(Store *s, const char *name, const char *uuid, ApprovalCallback cb, void *u, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, name || uuid ? STMT_APPROVALS_FOR : STMT_APPROVALS_ALL, &st, err);
        if (r < 0)
                return r;
        if (name || uuid) {
                bind_text(st, 1, name);
                bind_text(st, 2, uuid ? uuid : name);
        }
        Walk w = { .cb.approval = cb, .u = u };
        return store_walk(s, st, approval_row, &w, err, "reading authorizations");
}

/* ---- tickets: id, domain_glob, action, valid_from, valid_until,
 * approved_by, added_by, time ---- */

int store_ticket_put(Store *s, const Ticket *t, VgError *err) {
        sqlite3_stmt *st;
        bool own;
        int r = ticket_check(t, err);
        if (r < 0)
                return r;
        r = authz_change(s, &own, err);
        if (r < 0)
                return r;
        if ((r = store_stmt(s, STMT_TICKET_PUT, &st, err)) == 0) {
                bind_text(st, 1, t->id);
                bind_text(st, 2, t->domain_glob);
                bind_text(st, 3, t->action);
                store_bind_time(st, 4, t->from_us);
                store_bind_time(st, 5, t->until_us);
                bind_text(st, 6, t->approved_by);
                bind_text(st, 7, t->added_by);
                store_bind_time(st, 8, t->time_us);
                r = store_step_done(s, st, err, "recording a ticket");
        }
        return authz_changed(s, own, r, err);
}

static int ticket_row(sqlite3_stmt *st, void *walk) {
        Walk *w = walk;
        /* A window that cannot be read covers nothing. */
        Ticket t = { .id = TEXT(st, 0), .domain_glob = TEXT(st, 1), .action = TEXT(st, 2),
                     .from_us = store_col_time(st, 3, INT64_MAX), .until_us = store_col_time(st, 4, 0),
                     .approved_by = TEXT(st, 5), .added_by = TEXT(st, 6), .time_us = store_col_time(st, 7, 0) };
        return w->cb.ticket(&t, w->u);
}

/* A ticket of the domain w->name: its metadata names it, or its glob
 * matches the name. The scan gives ID and glob only, since most rows are
 * another domain's; a match is read whole by its ID. */
static int ticket_row_for(sqlite3_stmt *st, void *walk) {
        Walk *w = walk;
        Ticket t = { .id = TEXT(st, 0), .domain_glob = TEXT(st, 1) };
        if (!t.id || (!vg_streq(t.id, w->ticket_id) && !ticket_covers(&t, w->name)))
                return 0;
        sqlite3_stmt *get;
        int r = store_stmt(w->s, STMT_TICKET_GET, &get, w->err);
        if (r < 0)
                return r;
        bind_text(get, 1, t.id);
        Walk one = { .cb.ticket = w->cb.ticket, .u = w->u };
        return store_walk(w->s, get, ticket_row, &one, w->err, "reading authorizations");
}

/*
 * A domain's tickets come from a read of every ticket, each glob matched
 * in C: a glob is the row's, not the query's, so no index could find them
 * anyway (SQLite's GLOB scanned every row too). That is linear in the
 * tickets the inventory holds, about 1,000 instructions each (a row
 * stepped for two columns, one fnmatch): no more than SQLite's GLOB took
 * (at 10,000 tickets 'policy test' ran 13.8M instructions, 14.1M with
 * GLOB; at 3, 3.77M and 3.75M). So tens to thousands of tickets cost the
 * hook at prepare little beside its fsyncs. Tickets are never deleted: a
 * host with hundreds of thousands would want an index of the globs'
 * literal prefixes.
 */
int store_tickets(Store *s, const char *name, const char *ticket_id, TicketCallback cb, void *u, VgError *err) {
        sqlite3_stmt *st;
        StmtId id = name ? STMT_TICKETS_SCAN : ticket_id ? STMT_TICKET_GET : STMT_TICKETS_ALL;
        int r = store_stmt(s, id, &st, err);
        if (r < 0)
                return r;
        if (id == STMT_TICKET_GET)
                bind_text(st, 1, ticket_id);
        Walk w = { .cb.ticket = cb, .u = u, .name = name, .ticket_id = ticket_id, .s = s, .err = err };
        return store_walk(s, st, name ? ticket_row_for : ticket_row, &w, err, "reading authorizations");
}

/* ---- images: path, sha256, size, dev, ino, mtime_ns, trusted_by, time ----
 * The unsigned stat fields are stored as the int64 of the same bits:
 * SQLite's INTEGER is signed, and an inode number may use all 64. */

int store_image_put(Store *s, const ImageRecord *rec, VgError *err) {
        sqlite3_stmt *st;
        bool own;
        int r = authz_check_image(rec, err);
        if (r < 0)
                return r;
        r = authz_change(s, &own, err);
        if (r < 0)
                return r;
        if ((r = store_stmt(s, STMT_IMAGE_PUT, &st, err)) == 0) {
                bind_text(st, 1, rec->path);
                bind_text(st, 2, rec->sha256);
                sqlite3_bind_int64(st, 3, (int64_t) rec->stat.size);
                sqlite3_bind_int64(st, 4, (int64_t) rec->stat.dev);
                sqlite3_bind_int64(st, 5, (int64_t) rec->stat.ino);
                sqlite3_bind_int64(st, 6, rec->stat.mtime_ns);
                bind_text(st, 7, rec->trusted_by);
                store_bind_time(st, 8, rec->time_us);
                r = store_step_done(s, st, err, "recording a trusted image");
        }
        return authz_changed(s, own, r, err);
}

static int image_row(sqlite3_stmt *st, void *walk) {
        Walk *w = walk;
        ImageRecord rec = {
                .path = TEXT(st, 0), .sha256 = TEXT(st, 1),
                .stat = { .size = (uint64_t) sqlite3_column_int64(st, 2), .dev = (uint64_t) sqlite3_column_int64(st, 3),
                          .ino = (uint64_t) sqlite3_column_int64(st, 4), .mtime_ns = sqlite3_column_int64(st, 5) },
                .trusted_by = TEXT(st, 6), .time_us = store_col_time(st, 7, 0) };
        return w->cb.image(&rec, w->u);
}

int store_images(Store *s, const char *path, ImageCallback cb, void *u, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, path ? STMT_IMAGE_GET : STMT_IMAGES_ALL, &st, err);
        if (r < 0)
                return r;
        if (path)
                bind_text(st, 1, path);
        Walk w = { .cb.image = cb, .u = u };
        return store_walk(s, st, image_row, &w, err, "reading trusted images");
}

/* ---- rows no decision can use ---- */

typedef struct Invalid {
        AuthzInvalidCallback cb;
        void *u;
        size_t n;
} Invalid;

static int invalid_row(Invalid *v, const char *kind, const char *key, int k, const VgError *why) {
        char q[72];
        if (k == 0)
                return 0;
        v->n++;
        return v->cb(kind, authz_quote(key, q), why->text, v->u);
}

static int invalid_approval(const Approval *a, void *u) {
        VgError why = { "" };
        return invalid_row(u, "approval", a->key, authz_check_approval(a, &why), &why);
}

static int invalid_ticket(const Ticket *t, void *u) {
        VgError why = { "" };
        return invalid_row(u, "ticket", t->id, ticket_check(t, &why), &why);
}

static int invalid_image(const ImageRecord *r, void *u) {
        VgError why = { "" };
        return invalid_row(u, "trusted image", r->path, authz_check_image(r, &why), &why);
}

int store_authz_invalid(Store *s, AuthzInvalidCallback cb, void *u, size_t *ret_n, VgError *err) {
        Invalid v = { cb, u, 0 };
        int r = store_approvals(s, NULL, NULL, invalid_approval, &v, err);
        if (r == 0)
                r = store_tickets(s, NULL, NULL, invalid_ticket, &v, err);
        if (r == 0)
                r = store_images(s, NULL, invalid_image, &v, err);
        if (r == 0 && ret_n)
                *ret_n = v.n;
        return r;
}

/* A number as an older virtgov stored it (decimal text of a uint64, or
 * of an int64 for mtime_ns), as the int64 the store keeps now. A value
 * that is already an integer (a migration run twice) stays as it is. */
static int64_t text_number(sqlite3_stmt *st, int i, bool is_signed) {
        if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
                return sqlite3_column_int64(st, i);
        const char *t = (const char *) sqlite3_column_text(st, i);
        if (!t)
                return 0;
        return is_signed ? (int64_t) strtoll(t, NULL, 10) : (int64_t) strtoull(t, NULL, 10);
}

int store_images_to_integers(Store *s, VgError *err) {
        sqlite3_stmt *walk = NULL, *put = NULL;
        int rc = sqlite3_prepare_v2(s->db, "SELECT path, sha256, size, dev, ino, mtime_ns, trusted_by, time"
                                    " FROM images ORDER BY path", -1, &walk, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_prepare_v2(s->db, "INSERT INTO images_new (path, sha256, size, dev, ino, mtime_ns,"
                                        " trusted_by, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &put, NULL);
        while (rc == SQLITE_OK && (rc = sqlite3_step(walk)) == SQLITE_ROW) {
                for (int i = 0; i < 8; i++) {
                        if (i >= 2 && i <= 5)
                                sqlite3_bind_int64(put, i + 1, text_number(walk, i, i == 5));
                        else
                                sqlite3_bind_value(put, i + 1, sqlite3_column_value(walk, i));
                }
                rc = sqlite3_step(put);
                sqlite3_reset(put);
                rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(walk);
        sqlite3_finalize(put);
        if (rc == SQLITE_DONE)
                rc = sqlite3_exec(s->db, "DROP TABLE images; ALTER TABLE images_new RENAME TO images;",
                                  NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_sql_fail(s, rc, err, "converting the trusted images' numbers");
}
