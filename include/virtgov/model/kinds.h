/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event vocabulary: every kind virtgov records, and what each one means
 * to the programs that read it. One row per kind in lib/model/kinds.c; the hook,
 * the daemon, policy replay, the store and the reports all ask this table,
 * so adding a kind is one line there.
 */
#pragma once

#include <stdbool.h>

typedef enum EventKindFlag {
        /* The hook decides at it under policy, before QEMU runs
         * (EventKind.gate_op says as what). */
        KIND_GATED = 1 << 0,
        /* A hook op that runs before libvirt reports a start: an allowing
         * hook event of one of these must precede every start, or the start
         * is a policy.bypass. */
        KIND_BEFORE_START = 1 << 1,
        /* Always a finding of unauthorized activity (a gated kind is one
         * only when denied: event_kind_unauthorized). */
        KIND_UNAUTHORIZED = 1 << 2,
        /* report activity counts it as an activation, or a deactivation. */
        KIND_ACTIVATION = 1 << 3,
        KIND_DEACTIVATION = 1 << 4,
        /* One of libvirt's domain lifecycle events: what reconcile records
         * for a state change it finds after a gap. */
        KIND_LIFECYCLE = 1 << 5,
        /* It brings an unknown or undefined domain into being, shut off. */
        KIND_DEFINES = 1 << 6,
        /* Something to act on: the syslog copy goes out at warning (and so
         * does every denied decision). */
        KIND_ALERT = 1 << 7,
        /* Something could not be decided or checked: at err. */
        KIND_ERROR = 1 << 9,
        /* It changes the integrity baseline and carries the digest of the
         * whole baseline afterwards (integrity/run.h). */
        KIND_BASELINE = 1 << 8,
} EventKindFlag;

typedef struct EventKind {
        const char *name;        /* "domain.prepare" */
        const char *hook_op;     /* the op libvirt passes the qemu or network hook; NULL: none */
        const char *gate_op;     /* KIND_GATED: the policy's op ("start", "migrate", "restore") */
        const char *state;       /* the domain's state after it; NULL: unchanged */
        signed char persistent;  /* the domain is defined after it (1), not (0), or unchanged (-1) */
        bool start, stop;        /* it sets the domain's last start, or last stop */
        unsigned flags;          /* EventKindFlag */
        /* Its journal MESSAGE_ID: 32 lowercase hex digits, unique to the
         * kind and stable across releases (the message catalog and
         * journalctl MESSAGE_ID= matches rest on it). */
        const char *message_id;
} EventKind;

/* The row of kind name; NULL for a kind not in the table (domain.unknown,
 * a kind of a newer virtgov read from the inventory). */
const EventKind *event_kind(const char *name);

/* The kind the hook records for op, from the hook directory of domains
 * (network false: qemu.d) or networks; NULL for an op libvirt has no name
 * for here. The names libvirt used before 6.0 (plugged, unplugged) are
 * taken too. */
const EventKind *event_kind_of_hook_op(bool network, const char *op);

/* The kinds with every flag of flags set, one at a time: start with prev
 * NULL, then pass the last one returned; NULL after the last. */
const EventKind *event_kind_next(const EventKind *prev, unsigned flags);

/* Whether an event of this kind and decision is unauthorized activity: a
 * gated op that was denied, or a kind that is always a finding. */
bool event_kind_unauthorized(const char *name, const char *decision);

/* The lifecycle kind that takes a domain from state was to state now
 * (inventory names: running, paused, pmsuspended, crashed, shutoff), for
 * a change found after a gap. Never NULL: anything else is a stop. */
const EventKind *event_kind_transition(const char *was, const char *now);
