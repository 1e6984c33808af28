/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * integrity_action in the daemon's loop (issue 18): the program the
 * configuration names is run on each new unexplained integrity finding
 * and each process that became tampered, whichever check recorded it (the
 * daemon's or the CLI's: the recorder hands over every event once, after
 * its commit), with the finding as JSON on stdin,
 * and each run is recorded: integrity.action when it exited 0 in time,
 * integrity.action-failed (an alert) when it did not, could not be
 * started, or was not run at all. How a program is run: virtgov/util/action.h.
 *
 * Runs are asynchronous: their output pipes and pidfds are handles of the
 * loop and their deadlines its timers, so a program that hangs holds up
 * nothing but itself. At most ACTIOND_MAX_RUNNING run at once; more wait
 * in order, up to ACTIOND_MAX_QUEUED, and a finding beyond that is
 * recorded as not run.
 */
#pragma once

#include <jansson.h>

#include "daemon.h"
#include "virtgov/model/event.h"

typedef struct Actiond Actiond;

/*
 * Runs integrity_action (nothing when none is configured) as `PROGRAM
 * kind` with finding, a JSON object ("integrity.finding",
 * "integrity.process"), on stdin; kind is added to it as "kind" and the
 * host as "host" when it has none. finding is borrowed. The run is
 * recorded when it ends, whatever the end.
 */
void actiond_run(Daemon *d, const char *kind, json_t *finding);

/* The daemon's cue for every event recorded (recorder_on_event), whoever
 * recorded it: actiond_run for a new unexplained file finding's event,
 * as kind "integrity.finding", and for a process that became tampered,
 * as "integrity.process"; each with the event's id, hash, kind and time.
 * Any other event: nothing. 1 when a run was queued (or recorded as not
 * run), 0 for nothing to do, -ENOMEM (the event is offered again). */
int actiond_event(Daemon *d, const Event *e);

/* Lets running programs finish (each within its timeout and the kill
 * grace after it) and records them; records those still waiting as not
 * run. Call before the last flush of the recorder. NULL d->action is a
 * no-op. */
void actiond_stop(Daemon *d);
