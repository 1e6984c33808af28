/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report sprawl: what exists here that nobody accounts for. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/host/accounts.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/domxml.h"
#include "virtgov/host/image.h"
#include "virtgov/model/kinds.h"

static const char *const columns[] = { "domain", "uuid", "path", NULL };

/* (key, domain) pairs, sorted by key once all are in, then looked up or
 * grouped: at 100,000 domains a JSON object per key cost more than the
 * sort. */
typedef struct Pair {
        const char *key, *name;  /* one allocation, at key */
        size_t seq;              /* the order they came in, within a key */
} Pair;

typedef struct Pairs {
        Pair *v;
        size_t n;                /* grown by vg_grow */
} Pairs;

/* Where disks are. A directory is listed once LIST_AFTER disks have been
 * looked up in it: then a disk not in the listing is missing without a
 * syscall, and one in it is stat()ed through the listing's descriptor,
 * without a walk of the directory's path. At 100,000 domains
 * with their 300,000 disks gone, the failed stat()s were a third of the
 * report. A directory with fewer disks (one per domain) is never listed,
 * and costs a stat() per disk, as before. A few are kept, since one
 * domain's disks are often in several (a pool, a volume group, ISOs): with
 * only the last one kept, each disk of such domains cost an open() and a
 * close() besides its stat(). */
#define DISK_DIRS 8
#define LIST_AFTER 16

typedef struct DiskDir {
        char *path;              /* NULL: a free slot */
        uint64_t used;           /* Sprawl.tick at its last lookup */
        size_t lookups;
        DIR *d;                  /* once listed, open for fstatat() */
        char **names;            /* its entries, sorted */
        size_t n_names;          /* grown by vg_grow */
        int gone;                /* an errno: it could not be opened, nor can anything in it */
        bool unlistable;         /* opendir() failed otherwise (EACCES): stat() each disk */
} DiskDir;

typedef struct Sprawl {
        Report *r;
        json_t *known_nets;      /* object: network name -> true; NULL without libvirt */
        Pairs used;              /* path (and real path) -> a domain whose disk or chain it is */
        Pairs writers;           /* path -> a domain writing it */
        Pairs macs;              /* mac -> a domain with an interface of it */
        Accounts *accounts;
        DiskDir dirs[DISK_DIRS]; /* the directories of the disks looked at lately */
        uint64_t tick;           /* lookups so far, for the least recently used */
} Sprawl;

static void disk_dir_free(DiskDir *dd) {
        for (size_t i = 0; i < dd->n_names; i++)
                free(dd->names[i]);
        free(dd->names);
        if (dd->d)
                closedir(dd->d);
        free(dd->path);
        *dd = (DiskDir) { 0 };
}

static int name_order(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int name_key(const void *key, const void *name) {
        return strcmp(key, *(char *const *) name);
}

static void list_dir(DiskDir *dd) {
        dd->d = opendir(dd->path);   /* O_CLOEXEC, as glibc opens it */
        if (!dd->d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        dd->gone = errno;
                else
                        dd->unlistable = true;
                return;
        }
        struct dirent *de;
        errno = 0;
        while ((de = readdir(dd->d))) {
                char *name = strdup(de->d_name);
                if (!name || vg_grow((void **) &dd->names, &dd->n_names, sizeof(*dd->names)) < 0) {
                        free(name);
                        break;
                }
                dd->names[dd->n_names - 1] = name;
                errno = 0;
        }
        if (de || errno) {   /* out of memory, or the read failed: as if never listed */
                char *path = dd->path;
                dd->path = NULL;
                disk_dir_free(dd);
                *dd = (DiskDir) { .path = path, .unlistable = true };
                return;
        }
        if (dd->n_names)
                qsort(dd->names, dd->n_names, sizeof(*dd->names), name_order);
}

/* The directory of path (its first n bytes), found or taken in place of
 * the least recently used one; NULL when out of memory. */
static DiskDir *disk_dir(Sprawl *s, const char *path, size_t n) {
        DiskDir *dd = NULL;
        for (size_t i = 0; i < DISK_DIRS; i++) {
                DiskDir *t = &s->dirs[i];
                if (t->path && !strncmp(t->path, path, n) && !t->path[n]) {
                        t->used = ++s->tick;
                        return t;
                }
                if (!dd || t->used < dd->used)
                        dd = t;   /* the slot to take, so far: a free one's used is 0 */
        }
        disk_dir_free(dd);
        if (!(dd->path = strndup(path, n)))
                return NULL;
        dd->used = ++s->tick;
        return dd;
}

/* stat() of a disk, or the answer its directory's listing gives. */
static int stat_disk(Sprawl *s, const char *path, struct stat *st) {
        const char *slash = strrchr(path, '/');
        DiskDir *dd = slash && slash > path && slash[1] ? disk_dir(s, path, (size_t) (slash - path)) : NULL;
        if (dd && !dd->d && !dd->gone && !dd->unlistable && ++dd->lookups >= LIST_AFTER)
                list_dir(dd);
        if (dd && dd->gone)
                return errno = dd->gone, -1;
        if (!dd || !dd->d)
                return stat(path, st);
        if (!dd->n_names || !bsearch(slash + 1, dd->names, dd->n_names, sizeof(*dd->names), name_key))
                return errno = ENOENT, -1;
        return fstatat(dirfd(dd->d), slash + 1, st, 0);
}

static void pair_add(Sprawl *s, Pairs *p, const char *key, const char *name) {
        size_t k = strlen(key) + 1, n = strlen(name) + 1;
        char *block = malloc(k + n);
        if (!block || vg_grow((void **) &p->v, &p->n, sizeof(*p->v)) < 0) {
                free(block);
                s->r->rows_lost = true;   /* report_print says out of memory */
                return;
        }
        memcpy(block, key, k);
        memcpy(block + k, name, n);
        p->v[p->n - 1] = (Pair) { .key = block, .name = block + k, .seq = p->n - 1 };
}

static int pair_order(const void *a, const void *b) {
        const Pair *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int pair_key(const void *key, const void *pair) {
        return strcmp(key, ((const Pair *) pair)->key);
}

static void pairs_sort(Pairs *p) {
        if (p->n)
                qsort(p->v, p->n, sizeof(*p->v), pair_order);
}

static bool pairs_have(const Pairs *p, const char *key) {
        return p->n && bsearch(key, p->v, p->n, sizeof(*p->v), pair_key);
}

static void pairs_free(Pairs *p) {
        for (size_t i = 0; i < p->n; i++)
                free((char *) p->v[i].key);
        free(p->v);
}

/* A row's columns, in the order of columns[]. */
#define COLS(name, uuid, path) REPORT_COLS((name), (uuid), (path))

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
                report_add(r, "never_started", true, COLS(d->name, d->uuid, NULL), NULL, "defined, never started");
        int64_t t;
        if (d->last_start && !running && vg_time_parse(d->last_start, 0, &t) == 0 &&
            t < r->now_us - (int64_t) r->stale_days * 86400 * 1000000)
                report_add(r, "stale", true, COLS(d->name, d->uuid, NULL), NULL,
                           "last started %s, more than %u days ago", d->last_start, r->stale_days);
        if (!d->owner)
                report_add(r, "unowned", true, COLS(d->name, d->uuid, NULL), NULL,
                           "no owner in its urn:virtgov:1 metadata");
        else if (s->accounts && !account_exists(s, d->owner))
                report_add(r, "unowned", true, COLS(d->name, d->uuid, NULL), NULL,
                           "owner '%s' is no account on this host", d->owner);
        if (running && d->persistent == 0)
                report_add(r, "transient", true, COLS(d->name, d->uuid, NULL), NULL,
                           "running, never defined (virsh create)");
        look_at_snapshots(s, d);
        return 0;
}

static void note_use(Sprawl *s, const char *path, const char *name) {
        char real[PATH_MAX];
        pair_add(s, &s->used, path, name);
        if (realpath(path, real) && strcmp(real, path))
                pair_add(s, &s->used, real, name);
}

/* A disk: missing, or an image in use (with its backing chain), a writer. */
static void look_at_disk(Sprawl *s, const DeviceRow *disk) {
        const char *name = disk->domain, *src = disk->source, *type = disk->type;
        if (!name || !src || src[0] != '/' || (type && strcmp(type, "file") && strcmp(type, "block")))
                return;
        struct stat st;
        if (stat_disk(s, src, &st) < 0) {
                report_add(s->r, "missing_disks", true, COLS(name, disk->uuid, src), NULL, "disk %s: %s",
                           disk->target ?: "?", strerror(errno));
                return;
        }
        note_use(s, src, name);
        if (!disk->readonly && !disk->shareable)
                pair_add(s, &s->writers, src, name);
        json_t *backing = disk->backing ? json_loads(disk->backing, 0, NULL) : NULL, *b;
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
static void look_at_interface(Sprawl *s, const DeviceRow *nic) {
        const char *name = nic->domain, *mac = nic->mac, *net = nic->source;
        if (!name)
                return;
        if (mac)
                pair_add(s, &s->macs, mac, name);
        if (s->known_nets && vg_streq(nic->type, "network") && net && !json_object_get(s->known_nets, net))
                report_add(s->r, "unknown_networks", true, COLS(name, nic->uuid, NULL), NULL,
                           "interface %s is on network '%s', which does not exist", mac ?: "?", net);
}

static int look_at_device(const DeviceRow *dev, void *u) {
        if (dev->kind == DEVICE_DISK)
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
                if (pairs_have(&s->used, path) || (realpath(path, real) && pairs_have(&s->used, real)))
                        continue;
                report_add(s->r, "orphan_images", true, COLS(NULL, NULL, path), NULL,
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

/* The networks of this host, from libvirt, else from the daemon's last
 * snapshot of them. *ret is NULL when neither is there (the daemon never
 * ran here): unknown_networks is then not checked, as with no libvirt. */
static int known_networks(Report *r, json_t **ret, VgError *err) {
        json_t *names = json_object();
        virNetworkPtr *nets = NULL;
        int n = r->conn ? virConnectListAllNetworks(r->conn, &nets, 0) : -1;
        for (int i = 0; i < n; i++) {
                json_object_set_new(names, virNetworkGetName(nets[i]), json_true());
                virNetworkFree(nets[i]);
        }
        free(nets);
        *ret = names;
        if (n >= 0)
                return 0;
        _cleanup_free_ char *key = NULL, *text = NULL;
        if (asprintf(&key, "networks@%s", r->host) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        int rc = store_meta_get(r->store, key, &text, err);
        if (rc < 0) {
                json_decref(names);
                *ret = NULL;
                return rc == -ENOENT ? 0 : rc;
        }
        json_t *snap = json_loads(text, 0, NULL), *v;
        const char *uuid;
        json_object_foreach(snap, uuid, v)
                json_object_set_new(names, json_string_value(json_object_get(v, "name")), json_true());
        json_decref(snap);
        return 0;
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
                int64_t t = 0;
                VgError err = { "" };
                /* One unreadable snapshot is said, by name: left out of
                 * the age, it could hide the oldest. */
                if (xml && snapxml_creation_time(xml, strlen(xml), &t, &err) < 0) {
                        const char *name = virDomainSnapshotGetName(snaps[k]);
                        report_add(s->r, "snapshots", true, COLS(d->name, d->uuid, NULL),
                                   json_pack("{s:o}", "snapshot", event_json_string(name)),
                                   "snapshot '%s': unreadable XML: %s", name ? name : "?", err.text);
                } else if (t && (!oldest || t < oldest))
                        oldest = t;
                virDomainSnapshotFree(snaps[k]);
        }
        free(snaps);
        if (n > 0) {
                long long days = oldest ? (s->r->now_us / 1000000 - oldest) / 86400 : -1;
                report_add(s->r, "snapshots", days > (long long) s->r->stale_days, COLS(d->name, d->uuid, NULL),
                           json_pack("{s:i}", "count", n),
                           "%d snapshot(s), the oldest %lld day(s) old", n, days);
        }
        virDomainFree(dom);
}

static int unauthorized_event(const Event *e, void *u) {
        Report *r = u;
        if (event_kind_unauthorized(e->kind, e->decision))
                report_add(r, "unauthorized", true, COLS(e->domain, e->uuid, NULL),
                           json_pack("{s:o, s:s}", "kind", event_json_string(e->kind), "time", e->time),
                           "%s %s: %s", e->time, e->kind, e->reason ? e->reason : "");
        return 0;
}

/* A finding for each key that more than one pair has. */
static void pairs(Sprawl *s, Pairs *p, const char *category, const char *what) {
        pairs_sort(p);
        for (size_t i = 0, j; i < p->n; i = j) {
                for (j = i + 1; j < p->n && !strcmp(p->v[j].key, p->v[i].key); j++)
                        ;
                if (j - i < 2)
                        continue;
                json_t *names = json_array();
                for (size_t k = i; k < j; k++)
                        json_array_append_new(names, event_json_string(p->v[k].name));
                _cleanup_free_ char *list = json_dumps(names, JSON_COMPACT);
                json_decref(names);
                report_add(s->r, category, true, COLS(NULL, NULL, p->v[i].key), NULL,
                           "%s by %zu domains: %s", what, j - i, list ? list : "?");
        }
}

static int run(Report *r) {
        Sprawl s = { .r = r };
        VgError err = { "" };
        /* Each source a finding depends on is read, or the report fails
         * saying which: a missing one would be "no findings". */
        int listed = known_networks(r, &s.known_nets, &err);
        if (listed >= 0)
                listed = accounts_read(r->cli->config->etc_dir, 0, &s.accounts, &err);
        if (listed >= 0)
                listed = store_list_domains(r->store, 0, look_at_domain, &s, &err);
        if (listed >= 0)
                listed = store_devices(r->store, look_at_device, &s, &err);
        if (listed >= 0) {
                pairs_sort(&s.used);
                scan_images(&s);
                pairs(&s, &s.writers, "shared_images", "written");
                pairs(&s, &s.macs, "duplicate_macs", "used");
        }
        /* By kind, through the kind index: a window can hold millions of
         * events and only these few kinds matter. */
        for (const EventKind *k = NULL; listed >= 0 && (k = event_kind_next(k, 0));) {
                bool gated = k->flags & KIND_GATED;
                if (!gated && !(k->flags & KIND_UNAUTHORIZED))
                        continue;
                EventFilter f = { .since_us = r->since_us, .kind_prefix = k->name, .decision = gated ? "deny" : NULL };
                listed = store_query_events(r->store, &f, unauthorized_event, r, &err);
        }

        json_decref(s.known_nets);
        for (size_t i = 0; i < DISK_DIRS; i++)
                disk_dir_free(&s.dirs[i]);
        pairs_free(&s.used);
        pairs_free(&s.writers);
        pairs_free(&s.macs);
        accounts_free(s.accounts);
        return listed < 0 ? cli_error("%s", err.text) : 0;
}

const ReportDef report_sprawl = {
        .name = "sprawl",
        .summary = "domains and images nobody accounts for",
        .columns = columns,
        .run = run,
};
