/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spool: events that could not be written to the inventory (locked past
 * the bound, read-only, missing, disk full) wait here as one JSON file each,
 * named after the event's ref, until a writer folds them in.
 *
 * Exactly once: a file is removed only after the transaction that appended
 * its event has committed, and appending an event whose ref is already in
 * the inventory is a no-op. A fold that dies between the two leaves a file
 * that the next fold finds already recorded and simply removes.
 */
#pragma once

#include <stddef.h>

#include "virtgov/event.h"
#include "virtgov/store.h"

/* Writes e to dir durably (temporary file, fsync, rename, fsync dir),
 * creating dir (mode 0700) if it is missing. */
int spool_write(const char *dir, const Event *e, VgError *err);

typedef struct SpoolStats {
        size_t folded;      /* appended to the inventory */
        size_t duplicates;  /* already there (an earlier fold died) */
        size_t rejected;    /* unreadable, moved to dir/rejected/ */
} SpoolStats;

/*
 * Appends every spooled event to s, in transactions of up to 512 events,
 * and removes the files of each batch once it is committed. Malformed files are
 * moved aside to dir/rejected/ rather than deleted, and counted. A missing
 * dir is an empty spool. Stops at the first store error (nothing is lost:
 * what was not folded stays).
 */
int spool_fold(const char *dir, Store *s, SpoolStats *ret_stats, VgError *err);

/* How many events wait in dir (0 if dir is missing). */
int spool_count(const char *dir, size_t *ret);
