/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Storage pools' figures and the bridges' uplinks, recorded when they
 * change (capacity.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "capacity.h"
#include "log.h"
#include "objects.h"
#include "recorder.h"
#include "virtgov/host/uplinks.h"
#include "virtgov/model/domxml.h"
#include "virtgov/util/cleanup.h"

/* ---- storage pools ---- */

static const char *pool_state(int s) {
        switch (s) {
        case VIR_STORAGE_POOL_INACTIVE: return "inactive";
        case VIR_STORAGE_POOL_BUILDING: return "building";
        case VIR_STORAGE_POOL_RUNNING: return "running";
        case VIR_STORAGE_POOL_DEGRADED: return "degraded";
        case VIR_STORAGE_POOL_INACCESSIBLE: return "inaccessible";
        default: return "unknown";
        }
}

/* The sums of the capacity and of the allocation of pool's volumes into
 * *ret_cap and *ret_alloc, their count into *ret_n; -1 when they cannot be
 * listed (an inactive pool has none). */
static int volumes_sums(virStoragePoolPtr pool, unsigned long long *ret_cap, unsigned long long *ret_alloc,
                        int *ret_n) {
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(pool, &vols, 0);
        if (n < 0)
                return -1;
        unsigned long long sum = 0, alloc = 0;
        int r = 0;
        for (int i = 0; i < n; i++) {
                virStorageVolInfo vi;
                /* A volume removed meanwhile fails: the next pass counts
                 * without it, so this pass is not recorded half-counted. */
                if (virStorageVolGetInfo(vols[i], &vi) == 0) {
                        sum += vi.capacity;
                        alloc += vi.allocation;
                } else
                        r = -1;
                virStorageVolFree(vols[i]);
        }
        free(vols);
        if (r < 0)
                return r;
        *ret_cap = sum;
        *ret_alloc = alloc;
        *ret_n = n;
        return 0;
}

/* pool's figures as pool.usage's data, or NULL (said) when libvirt does
 * not give them. */
static json_t *pool_figures(Conn *c, virStoragePoolPtr pool, const char *uuid) {
        virStoragePoolInfo pi;
        const char *name = virStoragePoolGetName(pool);
        if (virStoragePoolGetInfo(pool, &pi) < 0) {
                log_msg(LOG_WARNING, "'%s': pool '%s': no figures (%s); tried again next reconcile", c->uri,
                        name ? name : uuid, virGetLastErrorMessage());
                return NULL;
        }
        unsigned long long vcap = 0, valloc = 0;
        int nvol = 0;
        bool vols = pi.state == VIR_STORAGE_POOL_RUNNING;
        if (vols && volumes_sums(pool, &vcap, &valloc, &nvol) < 0) {
                log_msg(LOG_WARNING, "'%s': pool '%s': its volumes could not be listed (%s); tried again next "
                        "reconcile", c->uri, name ? name : uuid, virGetLastErrorMessage());
                return NULL;
        }
        json_t *o = json_pack("{s:o, s:s, s:s, s:I, s:I, s:I}", "pool", event_json_string(name), "uuid", uuid,
                              "state", pool_state(pi.state), "capacity_bytes", (json_int_t) pi.capacity,
                              "allocation_bytes", (json_int_t) pi.allocation,
                              "available_bytes", (json_int_t) pi.available);
        if (o && vols) {
                json_object_set_new(o, "volumes", json_integer(nvol));
                json_object_set_new(o, "volumes_capacity_bytes", json_integer((json_int_t) vcap));
                /* libvirt keeps a pool's own figures from its last refresh
                 * (start, a volume made or deleted, pool-refresh), which a
                 * read-only connection cannot ask for; its volumes' are
                 * read now: what the guests wrote since shows here. */
                json_object_set_new(o, "volumes_allocation_bytes", json_integer((json_int_t) valloc));
                /* thin provisioning: what the volumes may grow to, against
                 * what the pool holds */
                json_object_set_new(o, "overcommit_ratio",
                                    pi.capacity ? json_real((double) vcap / (double) pi.capacity) : json_null());
        }
        return o;
}

static json_int_t figure(json_t *o, const char *key) {
        return json_integer_value(json_object_get(o, key));
}

/* Why now differs enough from was to be recorded, or NULL. */
static const char *pool_moved(json_t *was, json_t *now) {
        if (!was)
                return "first recorded";
        if (!json_equal(json_object_get(was, "state"), json_object_get(now, "state")))
                return "its state changed";
        json_int_t cap = figure(now, "capacity_bytes");
        static const char *const keys[] = { "capacity_bytes", "allocation_bytes", "available_bytes",
                                            "volumes_capacity_bytes", "volumes_allocation_bytes" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_int_t d = figure(now, keys[i]) - figure(was, keys[i]);
                if (d < 0)
                        d = -d;
                /* With no capacity (a pool not running), any change counts. */
                if (cap <= 0 ? d > 0 : d * 100 >= cap * CAPACITY_POOL_STEP_PCT)
                        return "a figure moved by 1% of its capacity or more";
        }
        return NULL;
}

static void note_pools(Conn *c) {
        virStoragePoolPtr *pools = NULL;
        int n = virConnectListAllStoragePools(c->conn, &pools, 0);
        if (n < 0)
                return;   /* a driver without pools: objects.c leaves it alone too */
        _cleanup_free_ char *key = objects_meta_key(c->host, "pool-usage");
        json_t *snap = NULL;
        bool baseline;
        if (!key || objects_snapshot_load(c->d->rec, c->host, key, "pool-usage", &snap, &baseline) < 0) {
                for (int i = 0; i < n; i++)
                        virStoragePoolFree(pools[i]);
                free(pools);
                return;
        }
        json_t *next = json_object();
        for (int i = 0; i < n; i++) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                bool named = virStoragePoolGetUUIDString(pools[i], uuid) == 0;
                json_t *now = named ? pool_figures(c, pools[i], uuid) : NULL;
                virStoragePoolFree(pools[i]);
                if (!named)
                        continue;
                json_t *was = json_object_get(snap, uuid);
                if (!now) {
                        /* unread: keep what was recorded, to compare next time */
                        if (was)
                                json_object_set(next, uuid, was);
                        continue;
                }
                const char *why = pool_moved(was, now);
                if (!why) {
                        json_object_set(next, uuid, was);
                        json_decref(now);
                        continue;
                }
                Event *e = event_new("daemon", "pool.usage");
                if (!e) {
                        /* compared with what was recorded again next time */
                        log_not_recorded("pool.usage", NULL);
                        if (was)
                                json_object_set(next, uuid, was);
                        json_decref(now);
                        continue;
                }
                event_set(&e->host, c->host);
                json_object_update(e->data, now);
                json_object_set_new(e->data, "detail", json_string(why));
                recorder_record(c->d->rec, e);
                json_object_set_new(next, uuid, now);
        }
        free(pools);
        /* Written only when it changed: not an inventory write per pass. */
        if (next && !json_equal(next, snap))
                objects_snapshot_save(c->d->rec, c->host, key, "pool-usage", next);
        json_decref(next);
        json_decref(snap);
}

/* ---- bridges and their uplinks ---- */

/* Adds each of c's networks that names a bridge to that bridge's
 * "networks" in bridges, as {name, forward, active}; a bridge that sysfs
 * does not show gets state "absent" (an inactive network's, or a host
 * bridge that is gone). -1 when the networks cannot be listed. */
static int add_networks(Conn *c, json_t *bridges) {
        virNetworkPtr *nets = NULL;
        int n = virConnectListAllNetworks(c->conn, &nets, 0);
        if (n < 0)
                return -1;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *xml = virNetworkGetXMLDesc(nets[i], 0);
                _cleanup_(network_facts_freep) NetworkFacts *f = NULL;
                VgError err = { "" };
                if (!xml || netxml_parse(xml, strlen(xml), &f, &err) < 0) {
                        log_msg(LOG_WARNING, "'%s': network '%s' left out of host.uplinks: %s", c->uri,
                                virNetworkGetName(nets[i]), xml ? err.text : virGetLastErrorMessage());
                } else if (f->bridge && vg_is_plain(f->bridge)) {
                        json_t *br = json_object_get(bridges, f->bridge);
                        if (!br) {
                                br = json_pack("{s:s, s:[]}", "state", "absent", "uplinks");
                                json_object_set_new(bridges, f->bridge, br);
                        }
                        json_t *list = json_object_get(br, "networks");
                        if (!list) {
                                list = json_array();
                                json_object_set_new(br, "networks", list);
                        }
                        json_array_append_new(list, json_pack("{s:o, s:o, s:b}", "name", event_json_string(f->name),
                                                              "forward", event_json_string(f->forward),
                                                              "active", virNetworkIsActive(nets[i]) == 1));
                }
                virNetworkFree(nets[i]);
        }
        free(nets);
        return 0;
}

static void note_uplinks(Conn *c) {
        json_t *now = NULL;
        VgError err = { "" };
        int r = uplinks_read(c->d->config->sys_class_net, &now, &err);
        if (r < 0) {
                recorder_degraded(c->d->rec, c->host, "the bridges' uplinks could not be read", err.text,
                                  "the next reconcile tries again");
                return;
        }
        if (add_networks(c, now) < 0)
                log_msg(LOG_WARNING, "'%s': host.uplinks without the networks using each bridge: %s", c->uri,
                        virGetLastErrorMessage());
        _cleanup_free_ char *key = objects_meta_key(c->host, "uplink");
        json_t *snap = NULL;
        bool baseline;
        if (!key || objects_snapshot_load(c->d->rec, c->host, key, "uplink", &snap, &baseline) < 0) {
                json_decref(now);
                return;
        }
        json_t *was = json_object_get(snap, "bridges");
        if (!was || !json_equal(was, now)) {
                Event *e = event_new("daemon", "host.uplinks");
                if (e) {
                        event_set(&e->host, c->host);
                        json_object_set(e->data, "bridges", now);
                        if (was)
                                json_object_set(e->data, "previous", was);
                        recorder_record(c->d->rec, e);
                        json_object_set(snap, "bridges", now);
                        objects_snapshot_save(c->d->rec, c->host, key, "uplink", snap);
                } else
                        log_not_recorded("host.uplinks", NULL);
        }
        json_decref(snap);
        json_decref(now);
}

void capacity_note(Conn *c) {
        if (!c->conn)
                return;
        note_pools(c);
        if (c->local)
                note_uplinks(c);
}
