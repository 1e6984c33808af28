/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libpq's text parameters for the shipper (ship-priv.h): used by ship.c
 * and ship-state.c, calling neither. */
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
