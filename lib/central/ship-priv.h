/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipper's parts (ship.h): ship.c runs the round and ships the
 * events; ship-state.c ships the state after them, and in its transaction
 * ship-integrity.c the host's integrity and hardening state. Each calls
 * only those after it (ship.c, ship-state.c, ship-integrity.c); all use
 * ship-params.c.
 */
#pragma once

#include "priv.h"
#include "virtgov/central/ship.h"
#include "virtgov/host/identity.h"
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

/* Deletes host_id's rows from each table of schema virtgov named (its
 * state, before the round inserts it again): 0 or ship_exec's errno. */
int ship_clear(Central *c, const char *host_id, const char *const *tables, size_t n, VgError *err);

/* The host's facts for its row (ship-state.c). */
typedef struct HostFacts {
        char hostname[256];
        char machine_id[HOST_ID_SIZE];
        char *libvirt_uuid, *libvirt, *qemu, *kernel;
        char *lock_manager;      /* NULL: qemu.conf not read */
        long long cpus, memory_kib;   /* host.capacity's; -1: none recorded */
} HostFacts;

/* The state a round read: the host's facts and the digests of its
 * domains, disks and interfaces and of its integrity state, each to be
 * shipped when it differs from the round's (domains, integrity). */
typedef struct ShipState {
        HostFacts facts;
        uint64_t digest, integrity_digest;
        bool domains, integrity;
} ShipState;

/* Reads st from the inventory: 0 or a negative errno with err set. */
int ship_state_read(Store *s, const ShipRound *r, ShipState *st, VgError *err);
/* In the caller's transaction: the hosts row and the head (head: the
 * newest event the transaction ships), and the domains, disks and
 * interfaces and the integrity state when st says so. */
int ship_state_write(Central *c, Store *s, const ShipRound *r, const ShipState *st, int64_t head, VgError *err);
/* After the commit: the round's out digests. */
void ship_state_done(ShipRound *r, const ShipState *st);
void ship_state_clear(ShipState *st);

/* The state's digests: FNV-1a over each field, each ended by 0x1f (NULL
 * hashed as 0x1e); start from SHIP_DIGEST_SEED. */
#define SHIP_DIGEST_SEED UINT64_C(0xcbf29ce484222325)
void ship_digest_add(uint64_t *h, const char *s);

/* Rows per multi-row INSERT of the state: 200 rows of at most 13 columns
 * stay far below libpq's 65,535 parameters. */
#define STATE_ROWS 200

/* A multi-row INSERT: each column's expression, '@' for its parameter,
 * sent by the page of STATE_ROWS rows, so that what is shipped is never
 * held whole (ship-params.c). */
typedef struct Rows {
        Central *c;
        const ShipRound *r;
        const char *head;            /* "INSERT INTO ... (...) VALUES " */
        const char *const *expr;     /* per column after host_id */
        unsigned ncols;
        ShipParams p;                /* $1 host_id, then ncols per row */
        size_t n;
        const char *what;
        VgError *err;
} Rows;

/* w ready for head's rows, host_id its first parameter: 0 or -ENOMEM. The
 * caller clears w->p (ship_params_clear) whatever happens. */
int ship_rows_init(Rows *w, Central *c, const ShipRound *r, const char *head, const char *const *expr,
                   unsigned ncols, const char *what, VgError *err);
/* After a row's ncols parameters were appended (k: their ship_param
 * results OR-ed): the page sent when full. 0 or a negative errno. */
int ship_rows_end(Rows *w, int k);
/* Sends the rows not sent yet: 0 or ship_exec's errno. */
int ship_rows_flush(Rows *w);

/* The digest of the host's integrity and hardening state (never 0): its
 * baseline rows, open findings, processes, assessment results and
 * tickets, read as they stream. dpkg's versions are not in it: a package
 * update changes the baseline's digests, which ships them again. */
int ship_integrity_digest(Store *s, uint64_t *ret, VgError *err);

/* The host's integrity and hardening state (ship-integrity.c), in the
 * caller's transaction: its baseline (with dpkg's package and version of
 * each path), open findings, processes, assessment results and tickets,
 * deleted and inserted. 0 or a negative errno with err set. */
int ship_integrity(Central *c, Store *s, const ShipRound *r, VgError *err);
