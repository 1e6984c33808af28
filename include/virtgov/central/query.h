/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the central inventory (central.h): the hosts, domains and
 * events the fleet verbs list, each host's chain checked against the
 * events and heads held for it, and the findings only a fleet view has.
 *
 * Every query is a fixed statement with its parameters bound
 * (PQexecParams): no text a person typed becomes SQL. Rows are handed to
 * a callback one at a time, read in libpq's single-row mode, so that a
 * listing or a chain of millions of events is never held whole. Nothing
 * here prints. Errors: those of central.h, with the database's message in
 * err; a callback's negative return stops the query and is returned.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "virtgov/central/central.h"
#include "virtgov/model/chain.h"

/* One row: its columns' names and text (NULL for SQL NULL), valid during
 * the callback only. Booleans are "t" or "f", times RFC 3339 UTC. */
typedef struct CentralRow {
        size_t n;
        const char *const *names;
        const char *const *values;
} CentralRow;

typedef int (*CentralRowFn)(const CentralRow *row, void *u);

/* The text of column name, or NULL for SQL NULL or no such column. */
const char *central_row_get(const CentralRow *row, const char *name);

/* Each host, by host id: host_id, host_group, hostname, last_seq,
 * last_time (the newest event's), shipped_seq, head_seq, head_age_s (now
 * - its signed time; NULL without one), lag_s (now - the newest event's
 * received, else its time), libvirt_version, qemu_version, kernel,
 * degraded, updated. */
int central_hosts(Central *c, CentralRowFn fn, void *u, VgError *err);

/* Each domain (of host, NULL: every host), by host then name: host_id,
 * name, uuid, state, owner, ticket, persistent, vcpus, memory_kib. */
int central_domains(Central *c, const char *host, CentralRowFn fn, void *u, VgError *err);

typedef struct CentralEventFilter {
        const char *host;        /* NULL: every host */
        const char *kind;        /* a kind, or a prefix ending in '.' ("domain.") */
        int64_t since_us;        /* 0: from the first */
        unsigned limit;          /* 0: no limit; else the newest limit */
} CentralEventFilter;

/* The events f selects, oldest first (with a limit: the newest, still
 * oldest first): host_id, seq, time, source, kind, host, domain, uuid,
 * decision, reason, actor, data, hash. */
int central_events(Central *c, const CentralEventFilter *f, CentralRowFn fn, void *u, VgError *err);

/* One host's chain as held centrally. */
typedef struct CentralChainCheck {
        const char *host_id;
        int64_t rows;                    /* events rows read */
        int64_t last_seq;
        char last_hash[CHAIN_HEX_SIZE];
        int64_t gap_from, gap_to;        /* the first missing seqs; 0: none */
        int64_t missing;                 /* seqs missing in all */
        int64_t bad_seq;                 /* the first row whose hash or prev link is wrong; 0: none */
        char bad[256];                   /* what is wrong with it */
        int64_t bad_rows;
        int64_t forks, fork_seq;         /* conflicts rows, and the lowest seq among them */
        size_t heads, heads_signed;      /* heads held (heads, and hosts.head_*) and those verified */
        size_t heads_bad;                /* not the events row of its seq, or a signature that fails */
        int64_t head_bad_seq;
        char head_bad[256];              /* the first */
        bool has_key;                    /* hosts.host_key is a key */
        bool ok;
} CentralChainCheck;

/* Checks the chain of host (NULL: every host with a hosts or events
 * row): each events row in seq order against chain.h's rule from 32 zero
 * bytes (a gap is counted and the walk goes on from the row after it,
 * taking its prev_hash as given), the conflicts rows (forks), and every
 * head held against the events row of its seq and, when hosts.host_key
 * holds the host's Ed25519 key, its signature (head.h, host= the host
 * id). fn gets each host's result. -ENOENT for a host with no row. */
int central_verify(Central *c, const char *host, int (*fn)(const CentralChainCheck *v, void *u), void *u,
                   VgError *err);

/* A fleet finding (findings.c). class is one of central_finding_classes
 * (static storage: it outlives the call); severity "critical", "high",
 * "medium" or "low"; hosts comma-separated, sorted. */
typedef struct CentralFinding {
        const char *class;
        const char *severity;
        const char *hosts;
        const char *subject;
        const char *detail;
} CentralFinding;

extern const char *const central_finding_classes[];   /* NULL-terminated */

/* Runs every fleet check in the order of central_finding_classes, each
 * finding to fn. silent_hours: a host whose newest event and newest
 * update are older is silent. 0, fn's negative return, or an error. */
int central_findings(Central *c, unsigned silent_hours, int (*fn)(const CentralFinding *f, void *u), void *u,
                     VgError *err);
