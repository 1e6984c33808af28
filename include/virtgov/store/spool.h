/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spool: events that wait to be folded into the inventory by a writer
 * (the daemon, as soon as they land; else any virtgov command run by who
 * may write the inventory). They wait in dir/journal, appended to by many
 * writers at once, one framed record per event:
 *
 *     RS "vg1 " CRC-32 (8 hex digits) " " LENGTH LF   the event's JSON   LF
 *
 * (RS is 0x1e, which JSON text never holds raw: a reader finds the next
 * record after a torn one.) A fold claims the journal by renaming it to
 * folding.PID.TIME, waits for the writers that still hold it open (a
 * shared flock each, an exclusive one for the fold), folds it and removes
 * it. Files named *.json holding one event each (older spools, and the
 * hook's timer) are folded too.
 *
 * Exactly once: a claimed journal or a file is removed only after the
 * transactions that appended its events have committed, and appending an
 * event whose ref is already in the inventory is a no-op. A fold that dies
 * between the two leaves the file, and the next fold finds its events
 * already recorded and simply removes it.
 */
#pragma once

#include <stddef.h>

#include "virtgov/model/event.h"
#include "virtgov/store/store.h"

/* Appends e to dir/journal durably (one write, fdatasync; the directory
 * synced too when this call created the journal), creating dir (mode
 * 0700) if it is missing. Safe to call from many processes at once. */
int spool_write(const char *dir, const Event *e, VgError *err);

/* The same for texts[0..n-1], each an event as event_render gives it, in
 * one write and one fdatasync: they are in the spool together or (torn by
 * a crash, and set aside by the fold) not at all. */
int spool_append(const char *dir, const char *const *texts, size_t n, VgError *err);

typedef struct SpoolStats {
        size_t folded;      /* appended to the inventory */
        size_t duplicates;  /* already there (an earlier fold died) */
        size_t rejected;    /* unreadable, moved to dir/rejected/ */
} SpoolStats;

/*
 * Appends every spooled event to s, in transactions of up to 512 events,
 * and removes each file once its events are committed. Malformed files are
 * moved aside to dir/rejected/ rather than deleted, and counted; so are
 * the bytes of a journal that are no intact record (rejected/NAME.OFFSET). A missing
 * dir is an empty spool. Stops at the first store error (nothing is lost:
 * what was not folded stays).
 */
int spool_fold(const char *dir, Store *s, SpoolStats *ret_stats, VgError *err);

/* How many events wait in dir (0 if dir is missing). */
int spool_count(const char *dir, size_t *ret);
