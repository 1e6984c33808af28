/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inside of integrity/run.h, shared by its files and by nothing else
 * (tests included: they go through integrity/run.h). One file per job,
 * each calling only the files above it in this list, so that no two of
 * them call each other:
 *
 *   integrity/watched.c   what is watched: the profiles a request names,
 *                         with what the domains, the kernel and virtgov
 *                         itself add to them
 *   integrity/baseline.c  the baseline and its digests: taking it,
 *                         verifying it, the events that change it
 *   integrity/accept.c    accepting drift into the baseline, with a ticket
 *   integrity/check.c     the check: walk, compare, classify against dpkg,
 *                         record; package updates are accepted as an
 *                         accept does (integrity_accept_one), which is why
 *                         the check sits above accepting
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/integrity/run.h"

/* ---- integrity/watched.c ---- */

/* The profiles of one run. */
typedef struct Profiles {
        IntegrityProfile **v;
        size_t n;
        bool borrowed;            /* v is the caller's (IntegrityRequest.loaded) */
        char **names;             /* NULL-ended, for the store */
        char **unread;            /* integrity_profiles_load's; NULL when borrowed */
} Profiles;

/* The profiles the request names (req may be NULL), else the config's;
 * or those it brings loaded. Clear *p with integrity_profiles_clear,
 * whatever this returns. */
int integrity_profiles_of(Store *s, const Config *c, const IntegrityRequest *req, Profiles *p, VgError *err);
void integrity_profiles_clear(Profiles *p);

/* ---- integrity/baseline.c ---- */

/* An event that changes the baseline of the profiles touched: it carries
 * their new digests (the first one's in digest) beside the others'
 * recorded before, so it must be appended after the rows change, in their
 * transaction. Takes data (its fields go into the event's data). */
int integrity_baseline_event(Store *s, const char *kind, const IntegrityRequest *req, const char *const *touched,
                             json_t *data, char digest[FSCAN_SHA256_HEX], VgError *err);

/* The NULL-ended names (may be NULL) as a JSON array, a new reference. */
json_t *integrity_names_json(char **names);

/* When the newest baseline was taken: what a file added since is newer
 * than. A baseline taken on another host (an inventory copied over) says
 * nothing of this one's files: -EXDEV, naming both. */
int integrity_baseline_time(Store *s, int64_t *ret, VgError *err);

/* The baseline of the profiles checked: each one's rows, verified
 * against its recorded digest, and the view a check compares with. */
typedef struct Baseline {
        FscanList **lists;        /* one per profile checked, in p->names' order */
        size_t n;
        FscanList view;           /* borrows the lists' entries */
} Baseline;

/* The baseline of p's profiles, each verified against its recorded
 * digest (the first one's in digest): -ENOENT when there is none,
 * -EBADMSG when one does not match, -EPROTO when an older virtgov
 * recorded the digest. Clear *b with integrity_baseline_clear. */
int integrity_baseline_load(Store *s, const Profiles *p, Baseline *b, char digest[FSCAN_SHA256_HEX], VgError *err);
void integrity_baseline_clear(Baseline *b);

/* ---- integrity/accept.c ---- */

/* The baseline row of the finding's path from the file as it is now: its
 * rule's attributes and profile, or removed when the file is gone. In the
 * caller's transaction. */
int integrity_accept_one(Store *s, const Profiles *p, const FscanList *base, const IntegrityFinding *f,
                         VgError *err);

/* Adds the finding's profile to touched (NULL-ended, room for one per
 * finding) unless it is there: the profiles whose digests change. */
void integrity_touch(const char **touched, const IntegrityFinding *f);
