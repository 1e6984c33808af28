/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Work taken off the daemon's loop (issue 29): a check that reads files
 * (integrity of the files and of what runs, the assessment) takes seconds
 * to minutes on a host profile, and while the loop waits nothing else is
 * answered: libvirt's keepalive (5 s x 3) drops the connection, the spool
 * and the syslog copy stop. An Offload runs one job at a time on a thread
 * of its own and hands its end back to the loop through an eventfd watched
 * with virEventAddHandle, where the job's result is recorded through the
 * recorder, as before.
 *
 * The thread's half touches no Daemon state, no recorder and no log: it
 * gets what it needs in its job (a copy of the configuration, its own
 * read-only connection to the inventory). Only the loop's half records.
 * It calls the log and nothing above.
 */
#pragma once

#include <stdbool.h>

typedef struct Offload Offload;

/* A job's halves: work on the thread, done on the loop after work has
 * returned (the job is the caller's again then). */
typedef void (*OffloadFn)(void *job);

/* An idle Offload; name says which in the log. Its eventfd goes on the
 * loop: register libvirt's default event impl first. 0, or a negative
 * errno (logged). */
int offload_new(const char *name, Offload **ret);

/* Whether a job runs (from offload_run until its done has begun). */
bool offload_busy(const Offload *o);

/*
 * Starts work(job) on a thread; done(job) runs in a later turn of the
 * loop. -EBUSY while a job runs: the caller queues (one job at a time is
 * the point: a check due while the last one runs must not run twice).
 * When no thread can be started, the job runs here, on the loop, as it
 * did before there were threads, and this says so in the log: late is
 * better than not checked. 0 then too.
 */
int offload_run(Offload *o, OffloadFn work, OffloadFn done, void *job);

/*
 * Waits for a running job's work to end (it cannot be stopped midway: a
 * walk holds files, a hash, SQLite), then hands it to discard instead of
 * done, removes the eventfd and frees o. The daemon's stop: a job's result
 * is not recorded at exit, since the next start's first check is a full
 * one. NULL is a no-op; returns NULL.
 */
Offload *offload_free(Offload *o, OffloadFn discard);
