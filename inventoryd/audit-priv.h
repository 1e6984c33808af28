/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by audit-reader.c (the socket, the kernel's status, the parser)
 * and audit-match.c, below it (what waits to be matched: account records
 * for the watcher's diff, VM commands for libvirt's domain events). Not
 * for the daemon's other modules: audit-reader.h is theirs.
 */
#pragma once

#include "audit-reader.h"
#include "virtgov/audit/audit.h"

/* An account or group record waiting for the diff that explains it. */
typedef struct AuditPending {
        int64_t seen_us;         /* when it arrived */
        int64_t pid;             /* the command that sent it */
        const char *kind;        /* audit_account_kind's: a literal */
        char *acct;              /* the account or group named, or NULL */
        /* The account its command acts on, as a record of that command
         * names it (audit_command_account), or NULL; and that record's
         * {record, audit}. Carried to every record of the command as it
         * arrives: the records go at different sweeps. */
        char *account;
        json_t *account_from;
        int64_t id;              /* the uid or gid named, or -1 */
        char *actor;
        json_t *actor_obj;
        char *op;
        bool claimed;            /* a diff took it (or another record of its command) */
        int64_t claimed_us;      /* when: only the same diff may take it again */
} AuditPending;

/* audit-queue.c: the socket's reader thread and the records it holds
 * for the loop. */
typedef struct AuditQueue AuditQueue;
typedef struct AuditQueueLoss {
        uint64_t dropped;        /* the queue was full */
        uint64_t overflows;      /* the socket overflowed (ENOBUFS) */
} AuditQueueLoss;
typedef void (*AuditRecordFn)(int type, const char *text, size_t len, void *userdata);

/* Starts a thread that reads the bound socket fd into a queue of at most
 * max_bytes. 0 or a negative errno. */
int auditq_start(int fd, size_t max_bytes, AuditQueue **ret);
/* Readable (an eventfd) when records wait: for the loop's handle. */
int auditq_wake_fd(const AuditQueue *q);
/* Calls fn for every record waiting, in order, and says what was lost
 * since the last call; returns the last record's type (0: none). */
int auditq_take(AuditQueue *q, AuditRecordFn fn, void *userdata, AuditQueueLoss *loss);
/* Stops and joins the thread; frees what waits. NULL is a no-op. */
AuditQueue *auditq_stop(AuditQueue *q);

/* At most this much waits between the thread and the loop: a second of
 * 10,000 records a second of 300 bytes is 3 MiB; beyond it records are
 * dropped, and said (audit.lost). */
#define AUDIT_QUEUE_BYTES (16 * 1024 * 1024)

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
        AuditQueue *queue;       /* reads mcast_fd; NULL: not started */
        int mcast_watch, status_timer, flush_timer, sweep_timer, pace_timer;
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

/* audit-match.c, below the reader, which hands it the records and calls
 * its claims only once it has read the stream to its end: an account or
 * group record (taken: what it keeps it copies), a VM command, the sweep
 * of what no diff claimed. */
void auditm_account_record(AuditReader *a, const AuditEvent *ev);
void auditm_command(AuditReader *a, const AuditEvent *ev);
/* Records, on their own, the account records nobody claimed within
 * AUDIT_HOLD_MS (all of them with force), and forgets the old ones. */
void auditm_sweep(AuditReader *a, bool force);
void auditm_free(AuditReader *a);
/* auditr_claim_account and auditr_claim_domain (audit-reader.h) on the
 * records read so far; a is NULL when the stream is not read. */
void auditm_claim_account(AuditReader *a, Event *e, const Accounts *old, const Accounts *new, bool live);
void auditm_claim_domain(AuditReader *a, Event *e);

/* An account record no diff claimed after this long is an account change
 * the files never showed: the watcher diffs 300 ms after the last write,
 * and retries an unreadable file after a second. */
#define AUDIT_HOLD_MS 2000
