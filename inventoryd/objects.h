/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Networks and storage pools: a snapshot per host and type in the
 * inventory's meta ("networks@host", "pools@host"), {uuid: {name, active,
 * persistent}}, kept by the lifecycle events and compared by reconcile.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "recorder.h"

/* The meta key of host's snapshot of type: "TYPEs@HOST". NULL: out of
 * memory. */
char *objects_meta_key(const char *host, const char *type);

/* The snapshot stored under key (of type's objects on host), into *ret: an
 * empty object and *ret_baseline true when there is none (or it is
 * unreadable, which is said). -EIO, said, when the inventory could not be
 * read: the caller then leaves the stored snapshot as it is, for the next
 * pass. capacity.c keeps its pools' figures and the uplinks the same way. */
int objects_snapshot_load(Recorder *rec, const char *host, const char *key, const char *type, json_t **ret,
                          bool *ret_baseline);
/* Stores snap under key; a failure is said (daemon.degraded). */
void objects_snapshot_save(Recorder *rec, const char *host, const char *key, const char *type, json_t *snap);

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
