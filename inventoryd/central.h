/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The central shipper in the daemon's loop (issue 31): when config
 * [central] dsn is set, this host's events and state go to the fleet's
 * central inventory every central_interval_s and soon after the recorder
 * commits new events. Each round runs on a thread of its own (offload.h,
 * lib/central/ship.c's ship_round) with its own read-only connection to
 * the inventory; the loop then saves the position (meta central_cursor,
 * through the recorder) and records each conflict (central.conflict).
 * Shipping is never on the path of a recording: with the centre down the
 * backlog waits here, said once per outage. It calls the recorder and the
 * log, nothing above.
 */
#pragma once

#include "daemon.h"

/* Starts shipping when the config has a central dsn (else a no-op, 0):
 * the timers, the installation's id (meta central_instance, made once)
 * and a first round in the loop's next turn. <0 when it cannot (said). */
int centrald_start(Daemon *d);

/* After a reload: a dsn set or removed starts or stops shipping; the
 * interval may have changed; a round follows soon. */
void centrald_reload(Daemon *d);

/* Cancels a round in flight (its socket shut down) and joins it, within
 * libpq's connect_timeout (10 s) at worst; what it committed in the
 * centre is kept as after any round (the position saved, conflicts
 * recorded: call it before the last flush). Removes the timers. A no-op
 * when not started. */
void centrald_stop(Daemon *d);
