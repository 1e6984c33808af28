/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's audit stream: who did it.
 *
 * Records come from the audit netlink multicast group (inventoryd's
 * audit-reader.c) or from a test; each is given the "type=NAME msg=" prefix
 * auditd writes and fed to libauparse, audit's own parser of its record
 * format: it groups records by serial into events, splits the fields, and
 * interprets encoded ones (a hex acct, an EXECVE argument). Each complete
 * event is handed to the caller as an AuditEvent: the few fields virtgov
 * uses, copied out of auparse's state.
 *
 * What virtgov makes of an event is here too, pure (no I/O, no clock): the
 * actor (the person behind the login uid), the access.* event of a PAM
 * record, the family of an account record, and a command line with what
 * must never be kept taken out.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtgov/host/accounts.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/event.h"

/* The login uid of a process no one logged in to (a daemon, a boot
 * script, a root shell that never logged in): no person. */
#define VG_AUID_UNSET 4294967295u

/* At most this many EXECVE arguments are kept; a command line is cut to
 * AUDIT_ARGV_MAX_BYTES. (virsh's longest real commands are a few dozen
 * arguments; a find over a tree is not what the rules watch.) */
#define AUDIT_ARGV_MAX 64
#define AUDIT_ARGV_MAX_BYTES 4096

typedef struct AuditEvent {
        uint64_t serial;
        int64_t time_us;         /* the kernel's timestamp (ms precision) */
        int type;                /* the first record's type (AUDIT_USER_LOGIN, AUDIT_SYSCALL, ...) */
        char type_name[32];      /* its name: USER_LOGIN, SYSCALL, ... */
        unsigned n_records;
        uint32_t auid, uid;      /* VG_AUID_UNSET when absent */
        uint32_t ses;
        int64_t pid;             /* 0 when absent */
        int64_t id;              /* shadow-utils' id= (a uid or gid); -1 when absent */
        bool success;            /* res=success / res=1 / success=yes */
        char *op, *acct, *exe, *comm, *terminal, *addr, *hostname, *key;
        char **argv;             /* EXECVE's arguments, interpreted; NULL-terminated; NULL: none */
        size_t argc;
        bool argv_cut;           /* more than AUDIT_ARGV_MAX, or longer than AUDIT_ARGV_MAX_BYTES */
} AuditEvent;

typedef struct AuditParser AuditParser;

/* Called once per complete event, in the order they complete; ev is
 * borrowed for the call. */
typedef void (*AuditEventFn)(const AuditEvent *ev, void *userdata);

/* A parser that calls fn for each event. NULL on ENOMEM. */
AuditParser *audit_parser_new(AuditEventFn fn, void *userdata);
AuditParser *audit_parser_free(AuditParser *p);
DEFINE_POINTER_CLEANUP(AuditParser, audit_parser_free)

/*
 * One record as the kernel multicasts it: its netlink message type and
 * its text ("audit(1700000000.123:42): pid=... msg='...'"), without the
 * prefix auditd adds, which this adds. Text with a NUL or a newline inside
 * is cut there (a record is one line). Events complete as later records
 * arrive (a new serial, or an EOE); 0, -EINVAL for a type or text that is
 * not a record (counted, not fed), -ENOMEM.
 */
int audit_parser_feed(AuditParser *p, int type, const char *text, size_t len);

/* Completes every event fed so far (call it when the stream is idle: a
 * user message is one record, with no EOE after it). */
void audit_parser_flush(AuditParser *p);

/* Whether a record of this type may be followed by more of its event
 * (the records of a syscall: SYSCALL, PATH, CWD, EXECVE, PROCTITLE, ...,
 * up to an EOE). */
bool audit_type_continues(int type);

/* ---- what virtgov makes of an event ---- */

typedef enum AuditFamily {
        AUDIT_FAMILY_NONE,
        AUDIT_FAMILY_ACCOUNT,    /* shadow-utils and PAM on accounts: ADD_USER, USER_MGMT, ... */
        AUDIT_FAMILY_GROUP,      /* ADD_GROUP, DEL_GROUP, GRP_MGMT, GRP_CHAUTHTOK */
        AUDIT_FAMILY_ACCESS,     /* PAM sessions and logins: USER_START, USER_LOGIN, USER_AUTH, ... */
        AUDIT_FAMILY_EXEC,       /* a syscall event of virtgov's rules (key virtgov-vm) */
} AuditFamily;

AuditFamily audit_family(const AuditEvent *ev);

/*
 * The event kind an account or group record stands for when no change of
 * the account files explains it (it was undone before they settled):
 * account.added for ADD_USER, account.removed for DEL_USER, ... NULL for a
 * record of no account change (a failed one, or another family).
 */
const char *audit_account_kind(const AuditEvent *ev);

/*
 * The account a useradd or userdel run acts on, as this record of it names
 * it, or NULL. Those commands act on one account, their operand, and every
 * record they send with acct= names it: the account itself, or (ADD_GROUP,
 * DEL_GROUP) the user's own group, which they add and remove only under
 * the user's name. Their ADD_USER and DEL_USER name the uid alone (libaudit
 * drops the name when shadow-utils gives it an id), so the name of an
 * account the files never showed is learned from its sibling records.
 * NULL for a record without acct=, a failed one, and every other program:
 * usermod may rename, newusers and groupadd name other things.
 */
const char *audit_command_account(const AuditEvent *ev);

/*
 * The actor of ev: *ret_name is the person's account name (from accounts,
 * the host's snapshot; "uid N" when it has none), or "no login session"
 * for an unset login uid; *ret_obj the evidence: name, auid, uid, pid,
 * exe, terminal, addr, hostname, session, and the record's time and serial
 * (the audit log's own key to it). 0 or -ENOMEM.
 */
int audit_actor(const AuditEvent *ev, const Accounts *accounts, char **ret_name, json_t **ret_obj);

/* The "time:serial" of ev, as ausearch --event takes it (buf: 48 bytes). */
const char *audit_event_ref(const AuditEvent *ev, char *buf, size_t n);

typedef struct AuditAccessOptions {
        bool cron;               /* cron's sessions are access events too */
} AuditAccessOptions;

/*
 * The access.* event of a PAM or login record, source "audit": access.login
 * for a session opened (USER_START) by a login service, access.sudo for
 * one opened by sudo, su or runuser, access.logout for a login session
 * closed (USER_END), access.failed for a failed USER_AUTH, USER_LOGIN or
 * USER_ERR. *ret is NULL for a record that is none of these (CRED_ACQ,
 * USER_ACCT, sshd's USER_LOGIN that repeats its USER_START, cron unless
 * asked). A name tried in a failed attempt that is no account of the host
 * is not kept (people type passwords into the user field). 0 or -ENOMEM.
 */
int audit_access_event(const AuditEvent *ev, const Accounts *accounts, const AuditAccessOptions *opt, Event **ret);

/*
 * ev's command line (EXECVE) as a JSON array with what must never be kept
 * taken out: every argument after a secret-setting virsh verb, and any
 * argument naming a password, passphrase, secret or token (qemu-img's
 * --object secret,data=...). NULL when ev has no EXECVE record or on
 * ENOMEM.
 */
json_t *audit_command_line(const AuditEvent *ev);

/* The program ev ran, by its EXECVE argv[0]'s or exe's base name
 * ("virsh"), or NULL. */
const char *audit_program(const AuditEvent *ev);

/* ---- the rules virtgov wants ---- */

typedef struct AuditRule {
        const char *path;        /* a watch on this path */
        const char *perms;       /* "x" (its execution) or "wa" (writes, attribute changes) */
        const char *key;         /* virtgov-vm, virtgov-identity, virtgov-libvirt */
        const char *why;
} AuditRule;

/* The rules, as a table (NULL path ends it); etc_dir is where passwd and
 * libvirt's config live ("/etc"): paths under it follow it. */
const AuditRule *audit_rules(void);

/* The rules in auditctl's syntax (a rules.d file), for etc_dir; owned. */
char *audit_rules_text(const char *etc_dir);

/* The key of the rules whose execs name domains. */
#define AUDIT_KEY_VM "virtgov-vm"

/* ---- the kernel's audit control (netlink, unicast) ---- */

typedef struct AuditStatus {
        uint32_t enabled;        /* 0 off, 1 on, 2 on and locked until reboot */
        uint32_t lost;           /* records the kernel dropped since boot */
        uint32_t backlog, backlog_limit, rate_limit;
        uint32_t pid;            /* auditd's, 0: none registered */
} AuditStatus;

/*
 * The kernel's audit status, over fd (audit_open()), waiting at most a
 * second for the answer. Needs CAP_AUDIT_CONTROL in the initial user and
 * PID namespaces: -EPERM otherwise (-ECONNREFUSED in another user
 * namespace). 0 or a negative errno.
 */
int audit_kernel_status(int fd, AuditStatus *ret);

/* Turns audit on (or off). CAP_AUDIT_CONTROL. 0 or a negative errno. */
int audit_kernel_set_enabled(int fd, bool on);

/*
 * Loads audit_rules() for etc_dir into the kernel (remove false) or takes
 * them out (remove true), each as auditctl would; a rule already there
 * (or already gone) is no error. CAP_AUDIT_CONTROL. 0, or a negative
 * errno with err naming the rule.
 */
int audit_kernel_rules(int fd, const char *etc_dir, bool remove, VgError *err);
