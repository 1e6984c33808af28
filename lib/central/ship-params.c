/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libpq's text parameters for the shipper (ship-priv.h): used by ship.c
 * and ship-state.c (and ship-integrity.c), calling none of them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ship-priv.h"
#include "virtgov/util/cleanup.h"

int ship_param(ShipParams *p, const char *s) {
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 64;
                char **v = realloc(p->v, cap * sizeof(char *));
                if (!v)
                        return -ENOMEM;
                p->v = v;
                p->cap = cap;
        }
        char *copy = NULL;
        if (s && !(copy = strdup(s)))
                return -ENOMEM;
        p->v[p->n++] = copy;
        return 0;
}

int ship_paramf(ShipParams *p, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *s = NULL;
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        return k < 0 ? -ENOMEM : ship_param(p, s);
}

void ship_params_clear(ShipParams *p) {
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i]);
        free(p->v);
        *p = (ShipParams) { 0 };
}

int ship_exec(Central *c, const char *sql, const ShipParams *p, ExecStatusType status, const char *what,
              PGresult **ret, VgError *err) {
        return central_result(c, PQexecParams(c->pg, sql, (int) p->n, NULL, (const char *const *) p->v, NULL, NULL, 0),
                              status, what, ret, err);
}

/* ---- rows sent by the page (ship-priv.h) ---- */

int ship_rows_flush(Rows *w) {
        if (!w->n)
                return 0;
        /* Each '@' becomes at most "$65535": 6 bytes more than it. */
        size_t row = 16;
        for (unsigned j = 0; j < w->ncols; j++)
                row += 2 + strlen(w->expr[j]) * 7;
        size_t cap = strlen(w->head) + 64 + w->n * row, len = 0;
        _cleanup_free_ char *sql = malloc(cap);
        if (!sql)
                return vg_error(w->err, -ENOMEM, "out of memory");
        len += (size_t) snprintf(sql, cap, "%s", w->head);
        for (size_t i = 0; i < w->n; i++) {
                len += (size_t) snprintf(sql + len, cap - len, "%s($1::text", i ? ", " : "");
                for (unsigned j = 0; j < w->ncols; j++) {
                        unsigned n = 2 + (unsigned) (i * w->ncols) + j;
                        len += (size_t) snprintf(sql + len, cap - len, ", ");
                        for (const char *e = w->expr[j]; *e; e++)
                                len += *e == '@' ? (size_t) snprintf(sql + len, cap - len, "$%u", n)
                                                 : (size_t) snprintf(sql + len, cap - len, "%c", *e);
                }
                len += (size_t) snprintf(sql + len, cap - len, ")");
        }
        int k = ship_exec(w->c, sql, &w->p, PGRES_COMMAND_OK, w->what, NULL, w->err);
        ship_params_clear(&w->p);
        w->n = 0;
        if (k >= 0 && ship_param(&w->p, w->r->host_id) < 0)
                k = vg_error(w->err, -ENOMEM, "out of memory");
        return k;
}

/* After a row's ncols parameters: sent when the page is full. */
int ship_rows_end(Rows *w, int k) {
        if (k)
                return vg_error(w->err, -ENOMEM, "out of memory");
        return ++w->n == STATE_ROWS ? ship_rows_flush(w) : 0;
}

int ship_rows_init(Rows *w, Central *c, const ShipRound *r, const char *head, const char *const *expr,
                   unsigned ncols, const char *what, VgError *err) {
        *w = (Rows) { .c = c, .r = r, .head = head, .expr = expr, .ncols = ncols, .what = what, .err = err };
        return ship_param(&w->p, r->host_id) < 0 ? vg_error(err, -ENOMEM, "out of memory") : 0;
}

/* FNV-1a: a digest to tell "changed" from "same", not a defence. */
void ship_digest_add(uint64_t *h, const char *s) {
        for (const char *p = s ? s : "\x1e"; *p; p++)
                *h = (*h ^ (uint8_t) *p) * UINT64_C(0x100000001b3);
        *h = (*h ^ 0x1f) * UINT64_C(0x100000001b3);
}

int ship_clear(Central *c, const char *host_id, const char *const *tables, size_t n, VgError *err) {
        _cleanup_(ship_params_clear) ShipParams p = { 0 };
        if (ship_param(&p, host_id) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                char sql[96], what[64];
                snprintf(sql, sizeof(sql), "DELETE FROM virtgov.%s WHERE host_id = $1", tables[i]);
                snprintf(what, sizeof(what), "replacing the host's %s", tables[i]);
                int k = ship_exec(c, sql, &p, PGRES_COMMAND_OK, what, NULL, err);
                if (k < 0)
                        return k;
        }
        return 0;
}
