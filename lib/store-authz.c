/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What authorizes an activation: approvals, change tickets, and the
 * trusted-image library. Changed only through the CLI (each change also an
 * event naming who made it); read by the gate at every gated hook run.
 */
#include <errno.h>

#include "store-priv.h"

int store_approval_put(Store *s, const StoreRow *a, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_APPROVAL_PUT, &st, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 6; i++)
                bind_text(st, i + 1, a->f[i]);
        return store_step_done(s, st, err, "recording an approval");
}

int store_approval_delete(Store *s, const char *key, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_APPROVAL_DELETE, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        if ((r = store_step_done(s, st, err, "revoking an approval")) < 0)
                return r;
        return sqlite3_changes(s->db) ? 0 : vg_error(err, -ENOENT, "no approval for '%s'", key);
}

int store_ticket_put(Store *s, const StoreRow *t, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_TICKET_PUT, &st, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 8; i++)
                bind_text(st, i + 1, t->f[i]);
        return store_step_done(s, st, err, "recording a ticket");
}


int store_approvals(Store *s, const char *name, const char *uuid, RowCallback cb, void *u, VgError *err) {
        if (!name && !uuid)
                return store_walk_rows(s, STMT_APPROVALS_ALL, NULL, NULL, 6, cb, u, err, "reading authorizations");
        return store_walk_rows(s, STMT_APPROVALS_FOR, name, uuid ? uuid : name, 6, cb, u, err, "reading authorizations");
}

int store_tickets(Store *s, const char *name, const char *ticket_id, RowCallback cb, void *u, VgError *err) {
        if (!name && !ticket_id)
                return store_walk_rows(s, STMT_TICKETS_ALL, NULL, NULL, 8, cb, u, err, "reading authorizations");
        return store_walk_rows(s, STMT_TICKETS_FOR, ticket_id ? ticket_id : "", name ? name : "", 8, cb, u, err,
                         "reading authorizations");
}

int store_image_put(Store *s, const StoreRow *row, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_IMAGE_PUT, &st, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 8; i++)
                bind_text(st, i + 1, row->f[i]);
        return store_step_done(s, st, err, "recording a trusted image");
}

int store_images(Store *s, const char *path, RowCallback cb, void *u, VgError *err) {
        return store_walk_rows(s, path ? STMT_IMAGE_GET : STMT_IMAGES_ALL, path, NULL, 8, cb, u, err,
                         "reading trusted images");
}
