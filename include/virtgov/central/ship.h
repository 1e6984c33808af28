/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipper's round (issue 31, item 1): this host's events and current
 * state copied into the central inventory (central.h), exactly once.
 *
 * Events: from min(the local position, the centre's max(seq) for this
 * host) on, in id order, a batch per transaction, each one multi-row
 * INSERT ... ON CONFLICT (host_id, seq) DO NOTHING. A row the centre
 * already holds with the same hash is a replay (a crash before the local
 * position was saved, a position set back): nothing is written twice. A
 * row it holds with another hash is a conflict: the host's row goes to
 * virtgov.conflicts, the centre's row stays, and the round reports it (the
 * daemon records central.conflict). Never overwritten.
 *
 * State: the hosts row (shipped_seq, the signed head) whenever the round
 * shipped events, and the host's domains, disks and interfaces replaced in
 * the same transaction when their digest differs from the one last
 * shipped (0: none, as after a start); and likewise the host's integrity
 * baseline (with dpkg's package and version of each path), open findings,
 * processes, assessment results and tickets, under a digest of their own.
 *
 * A round runs on a thread of its own (the daemon's Offload): it opens its
 * own STORE_READ connection to the inventory and its own connection to
 * the centre, writes nothing locally and logs nothing; the caller saves
 * the new position (meta central_cursor) and records the conflicts.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtgov/model/chain.h"
#include "virtgov/ship/head.h"
#include "virtgov/util/util.h"

/* The local inventory's meta key for the position shipped (the newest
 * event id the centre has committed); the daemon keeps it. */
#define SHIP_CURSOR_KEY "central_cursor"

/* The most events per INSERT: 14 parameters each, libpq's 65,535 at most. */
#define SHIP_BATCH_MAX 4000
/* Conflicts reported per round; more are in virtgov.conflicts, counted. */
#define SHIP_CONFLICTS_MAX 64

typedef struct ShipConflict {
        int64_t seq;
        char host_hash[CHAIN_HEX_SIZE];
        char central_hash[CHAIN_HEX_SIZE];
} ShipConflict;

/* How another thread stops a round: ship_cancel shuts the round's socket
 * down, so that a query waiting on a silent server returns at once. */
typedef struct ShipCancel {
        pthread_mutex_t lock;
        int fd;                  /* the round's socket; -1: none now */
        bool stop;
} ShipCancel;

typedef struct ShipRound {
        /* in: copies, or the caller's and left alone while the round runs */
        const char *inventory;
        unsigned busy_timeout_ms;
        const char *dsn, *app;
        const char *host_id;          /* the id it writes as (host_id_of) */
        const char *host_group;
        const char *instance;         /* meta central_instance */
        const char *machine_id_file;  /* for hosts.machine_id */
        const char *qemu_conf;        /* its lock_manager; NULL: not read */
        const char *dpkg_admindir;    /* each baseline path's package and version; NULL: the default */
        const char *dpkg_log;         /* dpkg_open's; NULL: the default */
        const HostKey *key;           /* signs the head; NULL: unsigned, no host_key */
        unsigned batch;               /* events per transaction, 1..SHIP_BATCH_MAX */
        int64_t cursor;               /* the local position (meta central_cursor) */
        uint64_t state_digest;        /* of the state last shipped; 0: ship it */
        uint64_t integrity_digest;    /* of the integrity state last shipped; 0: ship it */
        ShipCancel *cancel;           /* may be NULL */
        /* out, whatever the result (a round may fail after some batches) */
        int64_t shipped_to;           /* the new position: cursor when nothing moved */
        size_t n_new;                 /* rows the centre did not have */
        size_t n_replayed;            /* rows it had, with the same hash */
        size_t n_conflicts;           /* rows it had with another hash, newly filed */
        ShipConflict conflicts[SHIP_CONFLICTS_MAX];   /* the first of them */
        uint64_t new_state_digest;    /* of the state now in the centre */
        bool state_shipped;           /* the domains, disks and interfaces replaced */
        uint64_t new_integrity_digest;   /* of the integrity state now in the centre */
        bool integrity_shipped;       /* the baseline, findings, processes, assessment, tickets replaced */
} ShipRound;

/*
 * Runs one round as its fields say and fills its out fields. 0; or a
 * negative errno with err set (central.h's: -ECONNREFUSED, -EACCES for a
 * role that may not write as host_id, -EPROTO; -ECANCELED after
 * ship_cancel; or the inventory's), the out fields saying how far it got
 * (each batch is committed or not at all).
 */
int ship_round(ShipRound *r, VgError *err);

/* The cancel handle's start (no round: fd -1). */
void ship_cancel_init(ShipCancel *c);

/* Stops the round using c, from any thread: the current query fails, no
 * further one starts. The round still has to be joined. */
void ship_cancel(ShipCancel *c);
