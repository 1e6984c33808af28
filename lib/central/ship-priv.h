/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipper's two halves (ship.h): ship.c runs the round and ships the
 * events; ship-state.c ships the state after them. ship.c calls
 * ship-state.c, never the other way; both use ship-params.c.
 */
#pragma once

#include "priv.h"
#include "virtgov/central/ship.h"
#include "virtgov/store/store.h"

/* Growing arrays of libpq's text parameters (NULL: SQL NULL), owned. */
typedef struct ShipParams {
        char **v;
        size_t n, cap;
} ShipParams;

/* Appends a copy of s (NULL stays NULL). 0 or -ENOMEM. */
int ship_param(ShipParams *p, const char *s);
int ship_paramf(ShipParams *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ship_params_clear(ShipParams *p);

/* PQexecParams over p, text in and out, that must return status: as
 * central_exec. */
int ship_exec(Central *c, const char *sql, const ShipParams *p, ExecStatusType status, const char *what,
              PGresult **ret, VgError *err);

/* The state, in the round's transaction (ship-state.c): the hosts row and
 * the head always, the domains, disks and interfaces when their digest
 * is not r->state_digest. head_id: the newest event shipped. */
int ship_state(Central *c, Store *s, ShipRound *r, VgError *err);
