/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Networks and storage pools: a snapshot per host and type in the
 * inventory's meta ("networks@host", "pools@host"), {uuid: {name, active,
 * persistent}}, kept by the lifecycle events and compared by reconcile.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "recorder.h"

/* After a lifecycle event of the network or pool (type "network" or
 * "pool") uuid named name on host: notes its state in the snapshot (active
 * and persistent: 1, 0, or -1 for unchanged; one neither persistent nor
 * active is dropped). A snapshot that cannot be read or written is said
 * (log and daemon.degraded). */
void objects_note(Recorder *rec, const char *host, const char *type, const char *name, const char *uuid,
                  int active, int persistent);

/* Compares conn's networks and pools with host's snapshots and records
 * each one defined, started, stopped or gone meanwhile (source
 * "reconcile"), then stores what is now. The first look is a baseline, not
 * a change. A driver without networks or pools is left alone. */
void objects_reconcile(Recorder *rec, virConnectPtr conn, const char *host);
