/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by audit-reader.c (the socket, the kernel's status, the parser)
 * and audit-match.c (what waits to be matched: account records for the
 * watcher's diff, VM commands for libvirt's domain events). Not for the
 * daemon's other modules: audit-reader.h is theirs.
 */
#pragma once

#include "audit-reader.h"
#include "virtgov/audit.h"

/* An account or group record waiting for the diff that explains it. */
typedef struct AuditPending {
        int64_t seen_us;         /* when it arrived */
        int64_t pid;             /* the command that sent it */
        const char *kind;        /* audit_account_kind's: a literal */
        char *acct;              /* the account or group named, or NULL */
        int64_t id;              /* the uid or gid named, or -1 */
        char *actor;
        json_t *actor_obj;
        char *op;
        bool claimed;            /* a diff took it (or another record of its command) */
} AuditPending;

/* A VM command of virtgov's rules, kept for the domain events after it. */
typedef struct AuditCommand {
        int64_t time_us;         /* the kernel's time of the exec */
        int64_t pid;
        uint32_t auid;
        char *program;
        json_t *argv;            /* audit_command_line's: secrets taken out */
        char *actor;
        json_t *actor_obj;
        char ref[48];
        bool defined;            /* it explained a define already */
} AuditCommand;

/* The last this many VM commands are kept (a burst of virsh calls in a
 * script is the most a window of seconds sees). */
#define AUDIT_COMMANDS 128

typedef struct AuditReader {
        Daemon *d;
        int mcast_fd, ctl_fd;    /* -1: none */
        int mcast_watch, status_timer, flush_timer, sweep_timer;
        AuditParser *parser;
        char *off;               /* why the stream is not read, or NULL */
        bool status_known, said_status, said_off;
        AuditStatus status;
        uint64_t records, events;
        AuditPending *pending;
        size_t n_pending;
        AuditCommand commands[AUDIT_COMMANDS];
        size_t next_command;
} AuditReader;

/* Reads what the socket holds now, without waiting, into the parser, and
 * completes the events it can: a claim sees every record sent before it. */
void auditr_drain(AuditReader *a);

/* audit-match.c: an account or group record (taken: what it keeps it
 * copies), a VM command, the sweep of what no diff claimed. */
void auditm_account_record(AuditReader *a, const AuditEvent *ev);
void auditm_command(AuditReader *a, const AuditEvent *ev);
/* Records, on their own, the account records nobody claimed within
 * AUDIT_HOLD_MS (all of them with force), and forgets the old ones. */
void auditm_sweep(AuditReader *a, bool force);
void auditm_free(AuditReader *a);

/* An account record no diff claimed after this long is an account change
 * the files never showed: the watcher diffs 300 ms after the last write,
 * and retries an unreadable file after a second. */
#define AUDIT_HOLD_MS 2000
