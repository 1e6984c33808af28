/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report capacity's storage pools and bridges (BSI IT-Grundschutz M 4.349,
 * issue 31). A pool's figures are libvirt's now when connected, else the
 * last pool.usage recorded; its days until full come from the pool.usage
 * events of the last CAPACITY_TREND_DAYS. The bridges are the last
 * host.uplinks recorded for this host (the daemon reads them from sysfs
 * every reconcile_interval_s). report-host.c calls it; it calls nothing
 * there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/util/trend.h"

#define CAPACITY_TREND_DAYS 30
/* A pool full within this many days at its trend is a finding. */
#define CAPACITY_FULL_SOON_DAYS 30
#define US_PER_DAY (86400LL * 1000000)

/* One pool as the report knows it: its last figures, and its trend. */
typedef struct PoolSeen {
        char uuid[64];
        json_t *last;          /* figures: pool.usage's data, or live */
        bool live;
        TrendPoint *points;    /* available bytes, in the window */
        size_t n_points;
} PoolSeen;

typedef struct PoolList {
        PoolSeen *p;
        size_t n;
        int64_t window_us;
        bool lost;
} PoolList;

static PoolSeen *pool_find(PoolList *l, const char *uuid, bool add) {
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->p[i].uuid, uuid))
                        return &l->p[i];
        if (!add || strlen(uuid) >= sizeof(l->p->uuid) || vg_grow((void **) &l->p, &l->n, sizeof(*l->p)) < 0)
                return NULL;
        PoolSeen *p = &l->p[l->n - 1];
        *p = (PoolSeen) { .last = NULL };
        strcpy(p->uuid, uuid);
        return p;
}

static int usage_event(const Event *e, void *u) {
        PoolList *l = u;
        const char *uuid = json_string_value(json_object_get(e->data, "uuid"));
        PoolSeen *p = uuid ? pool_find(l, uuid, true) : NULL;
        if (!p) {
                l->lost |= uuid != NULL;
                return 0;
        }
        json_decref(p->last);
        p->last = json_incref(e->data);
        int64_t t;
        json_t *avail = json_object_get(e->data, "available_bytes");
        /* Only a running pool's figures are a point: an inactive one says 0. */
        if (json_is_integer(avail) && vg_time_parse(e->time, 0, &t) == 0 && t >= l->window_us &&
            !strcmp(json_string_value(json_object_get(e->data, "state")) ?: "", "running")) {
                if (vg_grow((void **) &p->points, &p->n_points, sizeof(*p->points)) < 0) {
                        l->lost = true;
                        return 0;
                }
                p->points[p->n_points - 1] = (TrendPoint) { t, (double) json_integer_value(avail) };
        }
        return 0;
}

/* libvirt's figures of pool now, as pool.usage's data has them; NULL when
 * libvirt does not give them. */
static json_t *live_figures(virStoragePoolPtr pool) {
        virStoragePoolInfo pi;
        if (virStoragePoolGetInfo(pool, &pi) < 0)
                return NULL;
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "pool", virStoragePoolGetName(pool) ?: "",
                              "state", pi.state == VIR_STORAGE_POOL_RUNNING ? "running" : "not running",
                              "capacity_bytes", (json_int_t) pi.capacity, "allocation_bytes",
                              (json_int_t) pi.allocation, "available_bytes", (json_int_t) pi.available);
        virStorageVolPtr *vols = NULL;
        int n = pi.state == VIR_STORAGE_POOL_RUNNING ? virStoragePoolListAllVolumes(pool, &vols, 0) : -1;
        unsigned long long sum = 0, alloc = 0;
        bool all = n >= 0;
        for (int i = 0; i < n; i++) {
                virStorageVolInfo vi;
                if (virStorageVolGetInfo(vols[i], &vi) == 0) {
                        sum += vi.capacity;
                        alloc += vi.allocation;
                } else
                        all = false;
                virStorageVolFree(vols[i]);
        }
        free(vols);
        if (o && all) {
                json_object_set_new(o, "volumes", json_integer(n));
                json_object_set_new(o, "volumes_capacity_bytes", json_integer((json_int_t) sum));
                json_object_set_new(o, "volumes_allocation_bytes", json_integer((json_int_t) alloc));
        }
        return o;
}

static void live_pools(Report *r, PoolList *l) {
        virStoragePoolPtr *pools = NULL;
        int n = r->conn ? virConnectListAllStoragePools(r->conn, &pools, 0) : 0;
        for (int i = 0; i < n; i++) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                json_t *now = virStoragePoolGetUUIDString(pools[i], uuid) == 0 ? live_figures(pools[i]) : NULL;
                PoolSeen *p = now ? pool_find(l, uuid, true) : NULL;
                if (p) {
                        json_decref(p->last);
                        p->last = now;
                        p->live = true;
                } else
                        json_decref(now);
                virStoragePoolFree(pools[i]);
        }
        free(pools);
}

static json_t *mib(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        return json_is_integer(v) ? json_integer(json_integer_value(v) >> 20) : json_null();
}

static void pool_row(Report *r, PoolSeen *p) {
        json_t *o = p->last;
        json_int_t cap = json_integer_value(json_object_get(o, "capacity_bytes"));
        json_int_t alloc = json_integer_value(json_object_get(o, "allocation_bytes"));
        json_int_t avail = json_integer_value(json_object_get(o, "available_bytes"));
        json_t *vcap = json_object_get(o, "volumes_capacity_bytes");
        double used = cap > 0 ? (double) alloc / (double) cap : 0;
        double over = cap > 0 && vcap ? (double) json_integer_value(vcap) / (double) cap : 0;
        double days = 0;
        bool trend = trend_days_until_zero(p->points, p->n_points, (double) avail, &days) == 0;
        bool soon = trend && days < CAPACITY_FULL_SOON_DAYS;
        json_t *rest = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:s, s:I}", "capacity_mib",
                                 mib(o, "capacity_bytes"), "allocation_mib", mib(o, "allocation_bytes"),
                                 "available_mib", mib(o, "available_bytes"), "used_pct", (int) (used * 100 + 0.5),
                                 "volumes_capacity_mib", mib(o, "volumes_capacity_bytes"), "overcommit_ratio",
                                 cap > 0 && vcap ? json_real(over) : json_null(), "days_until_full",
                                 trend ? json_real(days) : json_string("n/a"), "figures",
                                 p->live ? "libvirt" : "recorded", "trend_points", (json_int_t) p->n_points);
        if (rest) {
                json_object_set_new(rest, "volumes_allocation_mib", mib(o, "volumes_allocation_bytes"));
                json_object_set_new(rest, "uuid", json_string(p->uuid));
        }
        const char *name = json_string_value(json_object_get(o, "pool"));
        const char *state = json_string_value(json_object_get(o, "state"));
        char why[256];
        if (used > 0.9)
                snprintf(why, sizeof(why), "over 90%% allocated: guests writing to it may stop");
        else if (soon && days < 1)
                snprintf(why, sizeof(why), "full in %.1f hours at the trend of the last %d days", days * 24,
                         CAPACITY_TREND_DAYS);
        else if (soon)
                snprintf(why, sizeof(why), "full in %.1f days at the trend of the last %d days", days,
                         CAPACITY_TREND_DAYS);
        else
                snprintf(why, sizeof(why), "room to grow");
        if (over > 1.0)
                snprintf(why + strlen(why), sizeof(why) - strlen(why),
                         "; thin-provisioned: its volumes may grow to %.2fx its capacity", over);
        if (!trend)
                snprintf(why + strlen(why), sizeof(why) - strlen(why), "; no trend (%zu point%s in %d days%s)",
                         p->n_points, p->n_points == 1 ? "" : "s", CAPACITY_TREND_DAYS,
                         p->n_points > 1 ? ", not falling" : "");
        const char *const cols[REPORT_MAX_COLUMNS] = { [0] = name ? name : p->uuid, [7] = state };
        report_add(r, "pool", used > 0.9 || soon, cols, rest, "%s", why);
}

int report_capacity_pools(Report *r) {
        PoolList l = { .window_us = r->now_us - CAPACITY_TREND_DAYS * US_PER_DAY };
        EventFilter f = { .kind = "pool.usage", .host = r->host };
        VgError err = { "" };
        int k = EXIT_OK;
        if (store_query_events(r->store, &f, usage_event, &l, &err) < 0)
                k = cli_error("report capacity: the pools' recorded figures could not be read: %s", err.text);
        else if (l.lost)
                k = cli_error("report capacity: out of memory reading the pools' trend");
        if (k == EXIT_OK)
                live_pools(r, &l);
        for (size_t i = 0; i < l.n; i++) {
                if (k == EXIT_OK)
                        pool_row(r, &l.p[i]);
                json_decref(l.p[i].last);
                free(l.p[i].points);
        }
        free(l.p);
        return k;
}

/* ---- bridges ---- */

static int last_data(const Event *e, void *u) {
        json_t **ret = u;
        json_decref(*ret);
        *ret = json_pack("{s:O, s:s}", "bridges", json_object_get(e->data, "bridges"), "time", e->time);
        return 0;
}

/* The networks of a bridge in forward mode bridge that are active, joined
 * with ", " into buf ("" when none). */
static void bridged_networks(json_t *nets, char *buf, size_t n) {
        size_t i;
        json_t *v;
        *buf = '\0';
        json_array_foreach(nets, i, v) {
                const char *name = json_string_value(json_object_get(v, "name"));
                if (name && json_is_true(json_object_get(v, "active")) &&
                    !strcmp(json_string_value(json_object_get(v, "forward")) ?: "", "bridge"))
                        snprintf(buf + strlen(buf), n - strlen(buf), "%s'%s'", *buf ? ", " : "", name);
        }
}

static void bridge_row(Report *r, const char *name, json_t *br, const char *when) {
        json_t *ups = json_object_get(br, "uplinks"), *u;
        char list[1024] = "", bridged[512];
        size_t i, n_up = 0;
        json_array_foreach(ups, i, u) {
                const char *state = json_string_value(json_object_get(u, "state")) ?: "unknown";
                json_t *speed = json_object_get(u, "speed_mbps");
                char sp[32] = "speed unknown";
                if (json_is_integer(speed))
                        snprintf(sp, sizeof(sp), "%lld Mb/s", (long long) json_integer_value(speed));
                n_up += !strcmp(state, "up");
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s %s %s", *list ? ", " : "",
                         json_string_value(json_object_get(u, "name")) ?: "?", state, sp);
        }
        bridged_networks(json_object_get(br, "networks"), bridged, sizeof(bridged));
        /* Guests of a network in forward mode bridge reach the world through
         * the bridge's uplinks only; a NAT or routed network's go through
         * the host's routing, and its own bridge has none by design. */
        bool cut = *bridged && n_up == 0;
        json_t *rest = json_pack("{s:O, s:O, s:I, s:b, s:s}", "ports", ups ? ups : json_null(), "networks",
                                 json_object_get(br, "networks") ?: json_null(), "uplinks_up", (json_int_t) n_up,
                                 "no_uplink_up", cut, "recorded", when);
        const char *const cols[REPORT_MAX_COLUMNS] = { [0] = name, [7] = json_string_value(json_object_get(br, "state")),
                                                       [15] = list };
        if (cut)
                report_add(r, "bridge", true, cols, rest, "network %s uses it and none of its uplinks is up: its "
                           "guests reach nothing outside the host", bridged);
        else if (*bridged)
                report_add(r, "bridge", false, cols, rest, "%zu of %zu uplinks up, for network %s", n_up,
                           json_array_size(ups), bridged);
        else
                report_add(r, "bridge", false, cols, rest, "%zu of %zu uplinks up%s", n_up, json_array_size(ups),
                           json_array_size(ups) ? "" : " (no uplink: a host-only, NAT or routed network's bridge)");
}

int report_capacity_bridges(Report *r) {
        json_t *last = NULL;
        EventFilter f = { .kind = "host.uplinks", .host = r->host, .limit = 1 };
        VgError err = { "" };
        if (store_query_events(r->store, &f, last_data, &last, &err) < 0)
                return cli_error("report capacity: the bridges' recorded uplinks could not be read: %s", err.text);
        if (!last) {
                report_add(r, "bridge", false, REPORT_COLS(NULL), NULL, "no uplinks recorded for host '%s': "
                           "virtgov-inventoryd records them at its connect to libvirt", r->host);
                return EXIT_OK;
        }
        const char *name, *when = json_string_value(json_object_get(last, "time"));
        json_t *br;
        json_object_foreach(json_object_get(last, "bridges"), name, br)
                bridge_row(r, name, br, when);
        json_decref(last);
        return EXIT_OK;
}
