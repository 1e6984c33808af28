/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the host has room for, recorded as it changes (BSI IT-Grundschutz
 * M 4.349, issue 31): each storage pool's figures (pool.usage) and each
 * bridge's uplinks (host.uplinks). Checked at every connect and every
 * reconcile_interval_s, and recorded only when they changed enough to
 * matter, so that the inventory holds a trend without an event a minute.
 */
#pragma once

#include "conn.h"

/* The percentage of a pool's capacity a figure must move by before it
 * is recorded again. */
#define CAPACITY_POOL_STEP_PCT 1

/*
 * Records pool.usage for each of c's pools that is new, changed state, or
 * whose capacity, allocation, available bytes or volumes' capacity or
 * allocation moved
 * by CAPACITY_POOL_STEP_PCT of its capacity since its last record (the
 * figures last recorded are kept in meta, "pool-usages@HOST"). Then, on a
 * local connection only (another host's sysfs is not ours to read),
 * host.uplinks when the bridges read from config sys_class_net, their
 * uplinks and the networks using each differ from the last recorded
 * ("uplinks@HOST"). What cannot be read is said (log and
 * daemon.degraded), never recorded as empty.
 */
void capacity_note(Conn *c);
