/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integrity monitoring of the isolation layer (ISM-1607): profiles say
 * which files are watched and which of their attributes count; a baseline
 * is one scan of them (fscan.h), kept in the inventory; a check scans
 * again and compares. Pure but for reading profile files and /proc: the
 * scanning is fscan's, the storing the store's, the package knowledge
 * dpkg's.
 *
 * Profile files (integrity_dir/NAME.profile), one rule per line:
 *
 *     # a comment
 *     /etc/libvirt            all       a directory: it and all beneath it
 *     =/etc                   all       '=': the directory itself only
 *     /var/lib/libvirt/qemu/nvram owner existence, type, owner and group
 *     /opt/fw                 type,mode,uid,gid,sha256
 *     !/etc/libvirt/qemu/autostart      skipped, with all beneath it
 *
 * The attributes are those of fscan_attr_name, "all" (the default) or
 * "owner". A path under two rules takes the first one's attributes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/finding.h"
#include "virtgov/host/fscan.h"
#include "virtgov/util/util.h"

typedef struct IntegrityRule {
        char *path;
        bool recurse;
        bool exclude;
        unsigned attrs;           /* FscanAttr */
} IntegrityRule;

typedef struct IntegrityProfile {
        char *name;
        IntegrityRule *rules;
        size_t n_rules;
} IntegrityProfile;

IntegrityProfile *integrity_profile_free(IntegrityProfile *p);
DEFINE_POINTER_CLEANUP(IntegrityProfile, integrity_profile_free)

/* What the isolation profile is made of besides its fixed paths: what the
 * domains name and what the kernel runs now. Every path can be moved, for
 * tests (NULL: the default). */
typedef struct IntegrityContext {
        const char *const *domain_paths;  /* NULL-ended: emulators, loaders, kernels domains name */
        const char *const *nvram_paths;   /* NULL-ended: watched for existence and owner only */
        const char *const *own_paths;     /* NULL-ended: virtgov's binaries, config, policy */
        const char *proc_modules;         /* /proc/modules */
        const char *modules_dir;          /* /lib/modules/RELEASE (RELEASE: uname -r) */
        const char *kernel_image;         /* /boot/vmlinuz-RELEASE */
} IntegrityContext;

/* The profiles virtgov knows without a file: "isolation" and "host". */
extern const char *const integrity_builtin_profiles[];

/*
 * The profile name: a built-in one (isolation: its fixed paths plus what
 * ctx names, and every loaded virtualization module's file), else the file
 * dir/NAME.profile. -ENOENT when there is neither; -EINVAL with err naming
 * file:line for a bad line. A name is [a-z0-9_-]+.
 */
int integrity_profile_load(const char *name, const char *dir, const IntegrityContext *ctx,
                           IntegrityProfile **ret, VgError *err);

/* Parses profile text (file names it in errors). */
int integrity_profile_parse(const char *name, const char *text, size_t len, const char *file,
                            IntegrityProfile **ret, VgError *err);

/*
 * The module files of the virtualization modules loaded now (kvm,
 * kvm_intel, kvm_amd, vhost*, vfio*, tun, tap, macvtap, bridge, ...): each
 * /proc/modules name looked up in modules_dir/modules.dep. Appended to
 * *paths (a NULL-ended array grown here). A kernel without module support
 * (no /proc/modules) adds none and returns 0; a module that modules.dep
 * does not name is added as modules_dir/<name>.ko so that its absence is
 * seen.
 */
int integrity_loaded_modules(const IntegrityContext *ctx, char ***paths, size_t *n, VgError *err);

/* The rule that watches path: the first of the profiles' rules that
 * names it or a directory above it (NULL when none does, or an exclusion
 * does), with its profile's name in *ret_profile. */
const IntegrityRule *integrity_rule_for(IntegrityProfile *const *profiles, size_t n, const char *path,
                                        const char **ret_profile);

/* ---- scanning and comparing ---- */

/*
 * Scans the profiles together: their rules become fscan roots in profile
 * order, each file tagged with its profile's name (FscanFile.tag). With a
 * baseline, a file whose stat attributes are unchanged takes the
 * baseline's hash unread (unless full).
 */
int integrity_scan(IntegrityProfile *const *profiles, size_t n, const FscanList *baseline, bool full,
                   unsigned threads, FscanList **ret, VgError *err);

/* integrity_scan in its halves (fscan_walk, fscan_measure): the walk
 * needs no baseline, so a check reads the baseline while it runs. The
 * walk touches no store and no shared state: it may run on its own
 * thread. */
int integrity_walk(IntegrityProfile *const *profiles, size_t n, FscanList **ret, VgError *err);
int integrity_measure(FscanList *l, const FscanList *baseline, bool full, unsigned threads, VgError *err);

typedef struct Drift {
        DriftKind kind;
        const FscanFile *was;     /* the baseline's (NULL when added) */
        const FscanFile *now;     /* the scan's (NULL when removed) */
        unsigned changed;         /* FscanAttr that differ, among those that count */
} Drift;

/* The drift from baseline to now, in path order: both sorted lists
 * walked once. *ret points into both lists; free it with free(). */
int integrity_compare(const FscanList *baseline, const FscanList *now, Drift **ret, size_t *n_ret);

void integrity_finding_clear(IntegrityFinding *f);

/* The SHA-256 over every entry of l whose tag is profile (NULL: every
 * entry), all its fields, in order: what the events that change a
 * profile's baseline carry for it, so that an edited baseline row is
 * caught. */
void integrity_digest(const FscanList *l, const char *profile, char hex[FSCAN_SHA256_HEX]);
