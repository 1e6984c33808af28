/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "objects.h"
#include "virtgov/util/cleanup.h"

/* What a daemon.degraded of a snapshot tells the reader to do. */
#define RETRY_FIX "the next reconcile tries again; 'virtgov verify' checks the inventory"

static void record_with_detail(Recorder *rec, Event *e, const char *detail) {
        if (!e) {
                log_msg(LOG_ERR, "out of memory: a network or pool change (%s) NOT recorded", detail);
                return;
        }
        json_object_set_new(e->data, "detail", json_string(detail));
        recorder_record(rec, e);
}

char *objects_meta_key(const char *host, const char *type) {
        char *k = NULL;
        if (asprintf(&k, "%ss@%s", type, host) < 0)
                return NULL;
        return k;
}

int objects_snapshot_load(Recorder *rec, const char *host, const char *key, const char *type, json_t **ret, bool *ret_baseline) {
        _cleanup_free_ char *text = NULL;
        VgError err = { "" };
        char what[96];
        int r = store_meta_get(recorder_store(rec), key, &text, &err);
        if (r < 0 && r != -ENOENT) {
                snprintf(what, sizeof(what), "%ss not reconciled: their snapshot could not be read", type);
                recorder_degraded(rec, host, what, err.text[0] ? err.text : strerror(-r), RETRY_FIX);
                return -EIO;
        }
        json_error_t jerr;
        json_t *snap = r == 0 ? json_loads(text, 0, &jerr) : NULL;
        if (r == 0 && !json_is_object(snap)) {
                snprintf(what, sizeof(what), "the stored %s snapshot is damaged", type);
                recorder_degraded(rec, host, what, snap ? "not an object" : jerr.text,
                                  "a new one is taken: changes since the last are not recorded");
                json_decref(snap);
                snap = NULL;
        }
        *ret_baseline = !snap;
        *ret = snap ? snap : json_object();
        return *ret ? 0 : -ENOMEM;
}

void objects_snapshot_save(Recorder *rec, const char *host, const char *key, const char *type, json_t *snap) {
        _cleanup_free_ char *out = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS);
        VgError err = { "" };
        int r = out ? store_meta_set(recorder_store(rec), key, out, &err) : vg_error(&err, -ENOMEM, "out of memory");
        if (r < 0) {
                char what[96];
                snprintf(what, sizeof(what), "the %s snapshot could not be saved", type);
                recorder_degraded(rec, host, what, err.text,
                                  "the next reconcile may record the same changes again");
        }
}

void objects_note(Recorder *rec, const char *host, const char *type, const char *name, const char *uuid,
                  int active, int persistent) {
        _cleanup_free_ char *key = objects_meta_key(host, type);
        json_t *snap = NULL;
        bool baseline;
        if (!key || objects_snapshot_load(rec, host, key, type, &snap, &baseline) < 0)
                return;
        if (persistent == 0 && active != 1) {
                json_object_del(snap, uuid);
        } else {
                json_t *o = json_object_get(snap, uuid);
                if (!o) {
                        o = json_object();
                        json_object_set_new(snap, uuid, o);
                }
                json_object_set_new(o, "name", event_json_string(name));
                if (active >= 0)
                        json_object_set_new(o, "active", json_boolean(active));
                if (persistent >= 0)
                        json_object_set_new(o, "persistent", json_boolean(persistent));
        }
        objects_snapshot_save(rec, host, key, type, snap);
        json_decref(snap);
}

static void object_diff(Recorder *rec, const char *host, const char *type, json_t *was, json_t *now) {
        const char *uuid;
        json_t *o;
        json_object_foreach(now, uuid, o) {
                json_t *w = json_object_get(was, uuid);
                const char *verbs[2] = { NULL, NULL };
                if (!w && json_is_true(json_object_get(o, "persistent")))
                        verbs[0] = "defined";
                if (json_is_true(json_object_get(o, "active")) && !json_is_true(json_object_get(w, "active")))
                        verbs[1] = "started";
                if (!json_is_true(json_object_get(o, "active")) && json_is_true(json_object_get(w, "active")))
                        verbs[1] = "stopped";
                for (int i = 0; i < 2; i++) {
                        if (!verbs[i])
                                continue;
                        char kind[64];
                        snprintf(kind, sizeof(kind), "%s.%s", type, verbs[i]);
                        Event *e = event_new("reconcile", kind);
                        if (!e) {
                                record_with_detail(rec, NULL, "found after a gap");
                                continue;
                        }
                        event_set(&e->host, host);
                        json_object_set(e->data, type, json_object_get(o, "name"));
                        json_object_set_new(e->data, "uuid", json_string(uuid));
                        record_with_detail(rec, e, "found after a gap");
                }
        }
        json_object_foreach(was, uuid, o) {
                if (json_object_get(now, uuid))
                        continue;
                char kind[64];
                snprintf(kind, sizeof(kind), "%s.undefined", type);
                Event *e = event_new("reconcile", kind);
                if (!e) {
                        record_with_detail(rec, NULL, "vanished");
                        continue;
                }
                event_set(&e->host, host);
                json_object_set(e->data, type, json_object_get(o, "name"));
                json_object_set_new(e->data, "uuid", json_string(uuid));
                record_with_detail(rec, e, "vanished");
        }
}

static json_t *list_networks(virConnectPtr conn) {
        virNetworkPtr *nets = NULL;
        int n = virConnectListAllNetworks(conn, &nets, 0);
        if (n < 0)
                return NULL;
        json_t *snap = json_object();
        for (int i = 0; i < n; i++) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                if (virNetworkGetUUIDString(nets[i], uuid) == 0)
                        json_object_set_new(snap, uuid, json_pack("{s:o, s:b, s:b}",
                                "name", event_json_string(virNetworkGetName(nets[i])),
                                "active", virNetworkIsActive(nets[i]) == 1,
                                "persistent", virNetworkIsPersistent(nets[i]) == 1));
                virNetworkFree(nets[i]);
        }
        free(nets);
        return snap;
}

static json_t *list_pools(virConnectPtr conn) {
        virStoragePoolPtr *pools = NULL;
        int n = virConnectListAllStoragePools(conn, &pools, 0);
        if (n < 0)
                return NULL;
        json_t *snap = json_object();
        for (int i = 0; i < n; i++) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                if (virStoragePoolGetUUIDString(pools[i], uuid) == 0)
                        json_object_set_new(snap, uuid, json_pack("{s:o, s:b, s:b}",
                                "name", event_json_string(virStoragePoolGetName(pools[i])),
                                "active", virStoragePoolIsActive(pools[i]) == 1,
                                "persistent", virStoragePoolIsPersistent(pools[i]) == 1));
                virStoragePoolFree(pools[i]);
        }
        free(pools);
        return snap;
}

static void reconcile_type(Recorder *rec, const char *host, const char *type, json_t *now) {
        if (!now)
                return;
        _cleanup_free_ char *key = objects_meta_key(host, type);
        json_t *was = NULL;
        bool baseline;
        if (!key || objects_snapshot_load(rec, host, key, type, &was, &baseline) < 0) {
                json_decref(now);
                return;
        }
        /* The very first look is a baseline, not a change. */
        if (!baseline)
                object_diff(rec, host, type, was, now);
        objects_snapshot_save(rec, host, key, type, now);
        json_decref(was);
        json_decref(now);
}

void objects_reconcile(Recorder *rec, virConnectPtr conn, const char *host) {
        reconcile_type(rec, host, "network", list_networks(conn));
        reconcile_type(rec, host, "pool", list_pools(conn));
}
