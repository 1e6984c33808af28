/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host accounts: who can log in, who is privileged, and what changed.
 *
 * A snapshot is read from passwd, group, shadow, gshadow, sudoers and
 * sudoers.d/ under one etc directory. Password hashes are never kept: a
 * snapshot holds, per account, only whether a password is set, locked or
 * empty, the day it last changed (shadow's lastchg), and, in memory only, a
 * keyed 64-bit digest of the hash that makes a same-day change visible. The
 * JSON form (the persisted baseline) leaves the digest out.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/event.h"
#include "virtgov/util/util.h"

typedef struct Account {
        char *name, *gecos, *home, *shell;
        uint32_t uid, gid;
        char pw_status;          /* 'P' set, 'L' locked, 'N' empty, '?' no shadow entry */
        long pw_lastchg;         /* days since the epoch, -1 unknown */
        uint64_t pw_digest;      /* keyed digest, memory only; 0 unknown */
} Account;

typedef struct Group {
        char *name;
        uint32_t gid;
        char **members;          /* NULL-terminated */
        size_t n_members;
} Group;

typedef struct SudoersFile {
        char *path;              /* relative to the etc directory */
        char **lines;            /* normalized rules, comments and blanks removed */
        size_t n_lines;
} SudoersFile;

typedef struct Accounts {
        Account *accounts; size_t n_accounts;
        Group *groups; size_t n_groups;
        SudoersFile *sudoers; size_t n_sudoers;
} Accounts;

Accounts *accounts_free(Accounts *a);
DEFINE_POINTER_CLEANUP(Accounts, accounts_free)

/* Parsers of one file's text into a (partial) snapshot; used by
 * accounts_read and by the fuzzers. Malformed lines are skipped: a host's
 * files are what they are, and one bad line must not hide the others.
 * Return 0 or -ENOMEM. */
int accounts_parse_passwd(Accounts *a, const char *text);
int accounts_parse_group(Accounts *a, const char *text);
int accounts_parse_shadow(Accounts *a, const char *text, uint64_t digest_key);
int accounts_parse_sudoers(Accounts *a, const char *path, const char *text);

/*
 * Reads a snapshot from etc_dir (normally "/etc"). passwd and group must be
 * readable; shadow, gshadow, sudoers and sudoers.d are optional.
 */
int accounts_read(const char *etc_dir, uint64_t digest_key, Accounts **ret, VgError *err);

/* How accounts_read_via reaches the files: read reads one whole file (as
 * vg_read_file: 0 or a negative errno), list gives a directory's names
 * sorted (a malloc'd array of malloc'd strings). The assessment reads
 * them inside its --root this way. */
typedef struct AccountsIo {
        int (*read)(void *userdata, const char *path, size_t max, char **ret);
        int (*list)(void *userdata, const char *dir, char ***ret, size_t *ret_n);
        void *userdata;
} AccountsIo;

/* accounts_read, each file read and each directory listed through io. */
int accounts_read_via(const AccountsIo *io, const char *etc_dir, uint64_t digest_key, Accounts **ret, VgError *err);

/* The baseline's JSON form and back (without digests). */
json_t *accounts_to_json(const Accounts *a);
int accounts_from_json(const json_t *j, Accounts **ret, VgError *err);

/* The reasons name is privileged, as a JSON array of strings ("uid 0",
 * "group sudo", "sudoers"); empty when it is not. priv_groups is
 * NULL-terminated. */
json_t *accounts_privileges(const Accounts *a, const char *name, const char *const *priv_groups);

typedef int (*AccountsEventFn)(Event *e, void *userdata);   /* takes ownership of e */

/*
 * Calls emit once per change from old to new, as events of source
 * "accounts": account.added, account.removed, account.changed,
 * account.password-changed, group.added, group.removed, group.member-added,
 * group.member-removed, sudoers.changed. Stops at and returns the first
 * negative return of emit.
 */
int accounts_diff(const Accounts *old, const Accounts *new, const char *const *priv_groups,
                  AccountsEventFn emit, void *userdata);
