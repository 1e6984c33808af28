/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How long the daemon's loop is held (issue 29): with VIRTGOV_LOOP_PROBE_MS
 * set to N (1 to 1000) in its environment, a timer every N ms notes how
 * late each tick came; at stop the log says the longest lateness, how
 * many ticks and how many came over 100 ms late, and each stall of a
 * second or more is logged as it ends. For bench/loop-stall.sh and for
 * whoever suspects the loop; unset, nothing runs. A tick's lateness is
 * the time nothing else on the loop was answered either: libvirt's
 * keepalive, its events, the spool, the signals.
 */
#pragma once

#include "daemon.h"

/* Starts the probe when the variable asks (an invalid value is said and
 * ignored). Needs libvirt's default event impl registered. */
void loopprobe_start(Daemon *d);

/* Says the figures and removes the timer; NULL d->probe is a no-op. */
void loopprobe_stop(Daemon *d);
