/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hardening assessment in the daemon's loop (issue 19, "Drift"): the
 * whole assessment every assess_interval_s, and soon after a file it reads
 * changes (inotify on their directories), each run recorded with its
 * drift against the last: assess.run, assess.regressed, assess.fixed.
 * The checking is lib/assess/'s; this module decides when. It calls the
 * recorder and the log, nothing above.
 */
#pragma once

#include "daemon.h"

/* Adds the watches and the timers to the loop and runs a first
 * assessment in its next turn. <0 when the loop refused them (said). */
int assessd_start(Daemon *d);
/* After a reload: the interval and the exceptions file may have changed. */
void assessd_reload(Daemon *d);
/* Removes it all; a no-op when not started. */
void assessd_stop(Daemon *d);
