/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integrity monitoring in the daemon's loop (issue 17, "The daemon"): the
 * directories the integrity profiles name are watched with inotify, and a
 * change is checked (integrity_check, source "daemon") once the writes
 * settle; a stat check every integrity_interval_s and a full one every
 * integrity_full_interval_s on timers. While nothing changes nothing runs.
 *
 * The prefix is integrityd_: integrity_ is the library's (integrity.h,
 * integrity/run.h), which this module calls and never duplicates, but
 * for the loading of the profiles it watches (integrity-watch.c).
 */
#pragma once

#include "daemon.h"

typedef struct Integrityd Integrityd;

/*
 * Starts watching the profiles the configuration names, and checks once
 * in the loop's next iteration (changes made while the daemon was down).
 * No profile configured (integrity_profiles empty) watches nothing until a
 * reload names some. A missing baseline or a tampered one is said (log,
 * daemon.degraded) and watching goes on. 0, or a negative errno when
 * inotify or the timers cannot be set up (logged; no integrity watching).
 */
int integrityd_start(Daemon *d);

/* After d->config was replaced (SIGHUP): the profiles read again, the
 * watches and the timers' intervals changed to match; a check follows
 * when the profiles changed. */
void integrityd_reload(Daemon *d);

/* A domain started: its QEMU checked now (integrity/proc.h), against
 * what the baseline says it should run; when a check runs, every process
 * is checked after it instead. */
void integrityd_domain_started(Daemon *d, const char *name);

/* Stops watching and removes the timers: no check runs after it. A
 * check still reading is waited for and its result dropped. NULL
 * d->integrity is a no-op. */
void integrityd_stop(Daemon *d);
