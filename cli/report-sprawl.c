/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report sprawl: what exists here that nobody accounts for. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#include "report.h"
#include "virtgov/accounts.h"
#include "virtgov/cleanup.h"
#include "virtgov/domxml.h"
#include "virtgov/image.h"

static const char *const columns[] = { "domain", "uuid", "path", NULL };

typedef struct Sprawl {
        Report *r;
        json_t *known_nets;      /* object: network name -> true; NULL without libvirt */
        json_t *used;            /* object: real path -> array of domain names */
        json_t *writers;         /* object: path -> array of domains writing it */
        json_t *macs;            /* object: mac -> array of domain names */
        Accounts *accounts;
} Sprawl;

static json_t *dom_fields(const char *name, const char *uuid, const char *path) {
        return json_pack("{s:o, s:o, s:o}", "domain", event_json_string(name), "uuid", event_json_string(uuid),
                         "path", path ? event_json_string(path) : json_null());
}

static void look_at_snapshots(Sprawl *s, const DomainRow *d);

static bool account_exists(Sprawl *s, const char *name) {
        for (size_t i = 0; s->accounts && i < s->accounts->n_accounts; i++)
                if (!strcmp(s->accounts->accounts[i].name, name))
                        return true;
        return false;
}

/* One domain at a time, as the store reads them, without its facts: the
 * devices come from store_devices. */
static int look_at_domain(const DomainRow *d, void *u) {
        Sprawl *s = u;
        Report *r = s->r;
        bool running = d->state && !strcmp(d->state, "running");

        if (!d->last_start && d->persistent != 0)
                report_row(r, "never_started", true, dom_fields(d->name, d->uuid, NULL), "defined, never started");
        int64_t t;
        if (d->last_start && !running && vg_time_parse(d->last_start, 0, &t) == 0 &&
            t < r->now_us - (int64_t) r->stale_days * 86400 * 1000000)
                report_row(r, "stale", true, dom_fields(d->name, d->uuid, NULL),
                           "last started %s, more than %u days ago", d->last_start, r->stale_days);
        if (!d->owner)
                report_row(r, "unowned", true, dom_fields(d->name, d->uuid, NULL),
                           "no owner in its urn:virtgov:1 metadata");
        else if (s->accounts && !account_exists(s, d->owner))
                report_row(r, "unowned", true, dom_fields(d->name, d->uuid, NULL),
                           "owner '%s' is no account on this host", d->owner);
        if (running && d->persistent == 0)
                report_row(r, "transient", true, dom_fields(d->name, d->uuid, NULL),
                           "running, never defined (virsh create)");
        look_at_snapshots(s, d);
        return 0;
}

static void push(json_t *map, const char *key, const char *name) {
        json_t *a = json_object_get(map, key);
        if (!a) {
                a = json_array();
                json_object_set_new(map, key, a);
        }
        json_array_append_new(a, json_string(name));
}

static void note_use(Sprawl *s, const char *path, const char *name) {
        char real[PATH_MAX];
        push(s->used, path, name);
        if (realpath(path, real) && strcmp(real, path))
                push(s->used, real, name);
}

/* A disk: missing, or an image in use (with its backing chain), a writer. */
static void look_at_disk(Sprawl *s, const StoreRow *disk) {
        const char *name = disk->f[DEVICE_DOMAIN], *src = disk->f[DEVICE_SOURCE], *type = disk->f[DEVICE_TYPE];
        if (!name || !src || src[0] != '/' || (type && strcmp(type, "file") && strcmp(type, "block")))
                return;
        struct stat st;
        if (stat(src, &st) < 0) {
                report_row(s->r, "missing_disks", true, dom_fields(name, disk->f[DEVICE_UUID], src), "disk %s: %s",
                           disk->f[DEVICE_TARGET] ?: "?", strerror(errno));
                return;
        }
        note_use(s, src, name);
        if (!vg_streq(disk->f[DEVICE_READONLY], "1") && !vg_streq(disk->f[DEVICE_SHAREABLE], "1"))
                push(s->writers, src, name);
        json_t *backing = disk->f[DEVICE_BACKING] ? json_loads(disk->f[DEVICE_BACKING], 0, NULL) : NULL, *b;
        size_t k;
        json_array_foreach(backing, k, b)
                if (json_is_string(b))
                        note_use(s, json_string_value(b), name);
        char **chain = NULL;
        if (!json_array_size(backing) && image_backing_chain(src, &chain, NULL) == 0)
                for (size_t c = 0; chain[c]; c++)
                        if (chain[c][0] == '/')
                                note_use(s, chain[c], name);
        image_chain_free(chain);
        json_decref(backing);
}

/* An interface: its MAC, and whether its network exists. */
static void look_at_interface(Sprawl *s, const StoreRow *nic) {
        const char *name = nic->f[DEVICE_DOMAIN], *mac = nic->f[DEVICE_MAC], *net = nic->f[DEVICE_SOURCE];
        if (!name)
                return;
        if (mac)
                push(s->macs, mac, name);
        if (s->known_nets && vg_streq(nic->f[DEVICE_TYPE], "network") && net && !json_object_get(s->known_nets, net))
                report_row(s->r, "unknown_networks", true, dom_fields(name, nic->f[DEVICE_UUID], NULL),
                           "interface %s is on network '%s', which does not exist", mac ?: "?", net);
}

static int look_at_device(const StoreRow *dev, void *u) {
        if (vg_streq(dev->f[DEVICE_KIND], "disk"))
                look_at_disk(u, dev);
        else
                look_at_interface(u, dev);
        return 0;
}

/* ---- live: pools, networks, snapshots ---- */

static char *pool_dir(virStoragePoolPtr pool) {
        _cleanup_free_ char *xml = virStoragePoolGetXMLDesc(pool, 0);
        char *dir = NULL;
        if (!xml || poolxml_dir(xml, strlen(xml), &dir, NULL) < 0)
                return NULL;
        return dir;
}

static void scan_dir(Sprawl *s, const char *dir, const char *where) {
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char path[PATH_MAX], real[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                struct stat st;
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (json_object_get(s->used, path) || (realpath(path, real) && json_object_get(s->used, real)))
                        continue;
                report_row(s->r, "orphan_images", true, json_pack("{s:n, s:n, s:s}", "domain", "uuid", "path", path),
                           "in %s, used by no domain's disk or backing chain (%lld MiB)", where,
                           (long long) st.st_size / (1024 * 1024));
        }
        closedir(d);
}

static void scan_images(Sprawl *s) {
        json_t *dirs = json_object();
        char **cfg = config_split(s->r->cli->config->image_dirs);
        for (size_t i = 0; cfg && cfg[i]; i++)
                json_object_set_new(dirs, cfg[i], json_string("image_dirs"));
        config_strv_free(cfg);
        virStoragePoolPtr *pools = NULL;
        int n = s->r->conn ? virConnectListAllStoragePools(s->r->conn, &pools, 0) : 0;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *dir = pool_dir(pools[i]);
                char where[300];
                snprintf(where, sizeof(where), "pool '%s'", virStoragePoolGetName(pools[i]));
                if (dir)
                        json_object_set_new(dirs, dir, json_string(where));
                virStoragePoolFree(pools[i]);
        }
        free(pools);
        const char *dir;
        json_t *where;
        json_object_foreach(dirs, dir, where)
                scan_dir(s, dir, json_string_value(where));
        json_decref(dirs);
}

static json_t *known_networks(Report *r) {
        json_t *names = json_object();
        virNetworkPtr *nets = NULL;
        int n = r->conn ? virConnectListAllNetworks(r->conn, &nets, 0) : -1;
        for (int i = 0; i < n; i++) {
                json_object_set_new(names, virNetworkGetName(nets[i]), json_true());
                virNetworkFree(nets[i]);
        }
        free(nets);
        if (n >= 0)
                return names;
        /* No libvirt: the daemon's last snapshot of this host's networks. */
        _cleanup_free_ char *key = NULL, *text = NULL;
        if (asprintf(&key, "networks@%s", r->host) < 0 || store_meta_get(r->store, key, &text, NULL) < 0) {
                json_decref(names);
                return NULL;
        }
        json_t *snap = json_loads(text, 0, NULL), *v;
        const char *uuid;
        json_object_foreach(snap, uuid, v)
                json_object_set_new(names, json_string_value(json_object_get(v, "name")), json_true());
        json_decref(snap);
        return names;
}

static void look_at_snapshots(Sprawl *s, const DomainRow *d) {
        if (!s->r->conn || !d->uuid)
                return;
        virDomainPtr dom = virDomainLookupByUUIDString(s->r->conn, d->uuid);
        if (!dom)
                return;
        virDomainSnapshotPtr *snaps = NULL;
        int n = virDomainListAllSnapshots(dom, &snaps, 0);
        long long oldest = 0;
        for (int k = 0; k < n; k++) {
                _cleanup_free_ char *xml = virDomainSnapshotGetXMLDesc(snaps[k], 0);
                char *ct = xml ? strstr(xml, "<creationTime>") : NULL;
                long long t = ct ? atoll(ct + 14) : 0;
                if (t && (!oldest || t < oldest))
                        oldest = t;
                virDomainSnapshotFree(snaps[k]);
        }
        free(snaps);
        if (n > 0) {
                json_t *f = dom_fields(d->name, d->uuid, NULL);
                json_object_set_new(f, "count", json_integer(n));
                long long days = oldest ? (s->r->now_us / 1000000 - oldest) / 86400 : -1;
                report_row(s->r, "snapshots", days > (long long) s->r->stale_days, f,
                           "%d snapshot(s), the oldest %lld day(s) old", n, days);
        }
        virDomainFree(dom);
}

static int unauthorized_event(const Event *e, void *u) {
        Report *r = u;
        bool hit = (!strcmp(e->kind, "domain.prepare") || !strcmp(e->kind, "domain.migrate") ||
                    !strcmp(e->kind, "domain.restore")) ? (e->decision && !strcmp(e->decision, "deny"))
                 : !strcmp(e->kind, "policy.violation") || !strcmp(e->kind, "policy.bypass");
        if (hit)
                report_row(r, "unauthorized", true, json_pack("{s:o, s:o, s:n, s:s, s:s}", "domain",
                           event_json_string(e->domain), "uuid", event_json_string(e->uuid), "path", "kind", e->kind,
                           "time", e->time), "%s %s: %s", e->time, e->kind, e->reason ? e->reason : "");
        return 0;
}

static void pairs(Sprawl *s, json_t *map, const char *category, const char *what) {
        const char *key;
        json_t *names;
        json_object_foreach(map, key, names) {
                if (json_array_size(names) < 2)
                        continue;
                _cleanup_free_ char *list = json_dumps(names, JSON_COMPACT);
                report_row(s->r, category, true, json_pack("{s:n, s:n, s:s}", "domain", "uuid", "path", key),
                           "%s by %zu domains: %s", what, json_array_size(names), list);
        }
}

static int run(Report *r) {
        Sprawl s = { .r = r, .used = json_object(), .writers = json_object(), .macs = json_object(),
                     .known_nets = known_networks(r) };
        VgError err = { "" };
        if (accounts_read(r->cli->config->etc_dir, 0, &s.accounts, NULL) < 0)
                s.accounts = NULL;
        int listed = store_list_domains(r->store, 0, look_at_domain, &s, &err);
        if (listed >= 0)
                listed = store_devices(r->store, look_at_device, &s, &err);
        if (listed >= 0) {
                scan_images(&s);
                pairs(&s, s.writers, "shared_images", "written");
                pairs(&s, s.macs, "duplicate_macs", "used");
        }
        /* By kind, through the kind index: a window can hold millions of
         * events and only these few kinds matter. */
        static const char *const kinds[] = { "domain.prepare", "domain.migrate", "domain.restore",
                                             "policy.violation", "policy.bypass" };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                EventFilter f = { .since_us = r->since_us, .kind_prefix = kinds[k], .decision = k < 3 ? "deny" : NULL };
                store_query_events(r->store, &f, unauthorized_event, r, NULL);
        }

        json_decref(s.known_nets);
        json_decref(s.used);
        json_decref(s.writers);
        json_decref(s.macs);
        accounts_free(s.accounts);
        return listed < 0 ? cli_error("%s", err.text) : 0;
}

const ReportDef report_sprawl = {
        .name = "sprawl",
        .summary = "domains and images nobody accounts for",
        .columns = columns,
        .run = run,
};
