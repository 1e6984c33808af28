/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integrity monitoring against the inventory: taking the baseline,
 * checking, accepting drift. The I/O around integrity.h's pure parts, one
 * place for the CLI and the daemon: the profiles the config names, what
 * the domains name, the baseline and findings in the store, the events.
 *
 * The baseline is a table of the inventory. Every act that changes it
 * (integrity.baseline, integrity.accepted, integrity.package-update) is an
 * event carrying the digest of the whole table afterwards (integrity.h),
 * in the same transaction: the events are hash-chained, so a baseline row
 * edited behind virtgov's back no longer matches the newest digest, and
 * every check and `virtgov verify` say so.
 */
#pragma once

#include <stdbool.h>

#include "virtgov/util/config.h"
#include "virtgov/integrity/integrity.h"
#include "virtgov/store/store.h"

typedef struct IntegrityResult {
        IntegrityFinding *findings;
        size_t n;
        size_t n_files;           /* files scanned */
        size_t n_hashed;          /* of them, read */
        size_t n_accepted;        /* package updates folded into the baseline */
        char digest[FSCAN_SHA256_HEX];   /* the baseline's, after the check */
        /* NULL-ended, or NULL: libvirt's domain files that could not be
         * read, each with why (domdefs.h); the files their domains name
         * may be missing from what was scanned. */
        char **unread;
} IntegrityResult;

void integrity_result_clear(IntegrityResult *r);

typedef struct IntegrityRequest {
        const char *const *profiles;  /* NULL: the config's integrity_profiles */
        bool full;                    /* read every file again */
        const char *actor;            /* who asked, for the events */
        const char *source;           /* event source: "cli" or "daemon" */
        /* The profiles, already loaded by integrity_profiles_load (the
         * daemon's watch has them), borrowed; NULL: load them here. */
        IntegrityProfile *const *loaded;
        size_t n_loaded;
} IntegrityRequest;

/*
 * The profiles named (NULL-ended) as checks load them: the isolation
 * profile with what the domains name (in the inventory, and in libvirt's
 * domain files: domdefs.h), the modules the kernel runs now and virtgov's
 * own files. What the daemon watches is what a check scans. Free with
 * integrity_profiles_free. *ret_unread (NULL-ended, the caller's; empty
 * when all were read) names each domain file that could not be read, with
 * why: a caller says so, for what its domain runs may not be watched.
 */
int integrity_profiles_load(Store *s, const Config *c, const char *const *names, IntegrityProfile ***ret,
                            size_t *n, char ***ret_unread, VgError *err);
void integrity_profiles_free(IntegrityProfile **v, size_t n);

/*
 * Takes the baseline of the profiles: a full scan, stored in place of
 * those profiles' rows in one transaction with its integrity.baseline
 * event (the old baseline stays whole until the new one is). Returns 0 and
 * the scan's figures in *res.
 */
int integrity_take_baseline(Store *s, const Config *c, const IntegrityRequest *req, IntegrityResult *res,
                            VgError *err);

/*
 * Checks the profiles against the baseline: scan (reading only what stat
 * shows changed, unless full), compare, classify against dpkg, fold
 * package updates in when the config says so, record an event for each
 * finding that is new and keep the findings in the inventory. -ENOENT
 * when there is no baseline; -EBADMSG when the baseline does not match
 * its newest digest (err says so: it was edited outside virtgov).
 */
int integrity_check(Store *s, const Config *c, const IntegrityRequest *req, IntegrityResult *res, VgError *err);

/*
 * The same check in its two halves, for a caller that must not wait on
 * the files (the daemon's event loop, whose libvirt connections are
 * dropped after 15 s without an answer). integrity_check_measure does
 * every step that reads files (walk, hash, dpkg's database) and reads the
 * inventory only: s may be a read-only connection, used from another
 * thread than the writer's. It keeps req's copy, whose pointers (the
 * loaded profiles, source, actor) must outlive *ret. Its errors are
 * integrity_check's. integrity_check_record then records as
 * integrity_check does, in one transaction on the writer's s (the
 * findings are compared with the last check's under its write lock), and
 * fills *res; a failure leaves m as it was, to be freed. Free m with
 * integrity_measured_free (NULL: a no-op; returns NULL).
 */
typedef struct IntegrityMeasured IntegrityMeasured;
int integrity_check_measure(Store *s, const Config *c, const IntegrityRequest *req, IntegrityMeasured **ret,
                            VgError *err);
int integrity_check_record(Store *s, const Config *c, IntegrityMeasured *m, IntegrityResult *res, VgError *err);
IntegrityMeasured *integrity_measured_free(IntegrityMeasured *m);
DEFINE_POINTER_CLEANUP(IntegrityMeasured, integrity_measured_free)

/*
 * Folds drift into the baseline: each path (or every open finding when
 * paths is NULL) is measured now and its baseline row replaced (removed,
 * when the file is gone), in one transaction with an integrity.accepted
 * event naming the actor, ticket and reason. A ticket must name a ticket
 * in the inventory whose window covers now; none is refused with -EPERM
 * when integrity_require_ticket. -ENOENT, naming it, for a path with no
 * open finding.
 */
int integrity_accept(Store *s, const Config *c, const char *const *paths, const char *ticket, const char *reason,
                     const char *actor, IntegrityResult *res, VgError *err);

/* The baseline as stored and whether it matches its newest digest: 0
 * when it does, -EBADMSG (err names both digests) when not, -ENOENT when
 * there is no baseline. ret (may be NULL) gets the loaded baseline. */
int integrity_verify_baseline(Store *s, FscanList **ret, VgError *err);
