/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciliation: compare what libvirt has now with what the inventory
 * believes, and record every difference as an event of source "reconcile".
 * It runs after every connect (events during a gap are lost by libvirt) and
 * periodically. An inventory that is already right yields no event.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "capacity.h"
#include "domevent.h"
#include "log.h"
#include "objects.h"
#include "reconcile.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/kinds.h"

/* libvirt's state as the inventory names it. */
static const char *state_name(int state) {
        switch (state) {
        case VIR_DOMAIN_RUNNING: case VIR_DOMAIN_BLOCKED: case VIR_DOMAIN_SHUTDOWN:
                return "running";
        case VIR_DOMAIN_PAUSED: return "paused";
        case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
        case VIR_DOMAIN_CRASHED: return "crashed";
        default: return "shutoff";
        }
}

/* What reconcile needs of a domain the inventory knows on this host: no
 * facts. At 100,000 domains, holding each one's decoded facts took the
 * daemon to 1 GB; holding even these for all of them took it to 32 MB, so
 * they come a page at a time (store_host_domains). */
typedef struct KnownDomain {
        char uuid[VIR_UUID_STRING_BUFLEN];
        char state[16];
        int persistent;
        char *name;
} KnownDomain;

#define RECONCILE_PAGE 1000

/* What a daemon.degraded of reconcile tells the reader to do. */
#define RETRY_FIX "the next reconcile tries again; 'virtgov verify' checks the inventory"

typedef struct Known {
        KnownDomain rows[RECONCILE_PAGE];   /* this page's, of the connection's driver */
        size_t n;
        char last[VIR_UUID_STRING_BUFLEN];  /* the page's last UUID, whatever its driver */
        const char *driver;                 /* virConnectGetType: "QEMU", "LXC", "Test", ... */
        /* The page's reads: a definition read for a domain of the page
         * cannot be changed by events recorded for the page's others. */
        Store *store;
        /* Definitions that could not be read from the inventory, over the
         * whole pass: said once at its end, not once per domain. */
        size_t n_unread;
        char unread[256];                   /* the first one's error */
} Known;

/* A domain libvirt has, and whether the inventory knows it. */
typedef struct Live {
        char uuid[VIR_UUID_STRING_BUFLEN];  /* "" when libvirt would not say */
        virDomainPtr dom;
        bool known;
} Live;

/* Is this domain one of the connection's driver? A host can run several
 * (qemu:///system and lxc:///): one must not declare the other's domains
 * vanished. The domain's <domain type=...> says: kvm and qemu are QEMU's;
 * other types name their driver. A domain whose type was never seen is
 * taken to be QEMU's, which is what the hooks record. */
static bool same_driver(const DomainRow *d, const char *driver) {
        bool qemu = !strcasecmp(driver ? driver : "QEMU", "QEMU");
        if (!d->type)
                return qemu;
        if (!strcmp(d->type, "kvm") || !strcmp(d->type, "qemu"))
                return qemu;
        return driver && !strcasecmp(d->type, driver);
}

static int collect_row(const DomainRow *d, void *userdata) {
        Known *k = userdata;
        snprintf(k->last, sizeof(k->last), "%s", d->uuid);
        if (!same_driver(d, k->driver) || k->n == RECONCILE_PAGE)
                return 0;
        char *name = strdup(d->name);
        if (!name)
                return -ENOMEM;
        KnownDomain *r = &k->rows[k->n++];
        *r = (KnownDomain) { .persistent = d->persistent, .name = name };
        snprintf(r->uuid, sizeof(r->uuid), "%s", d->uuid);
        snprintf(r->state, sizeof(r->state), "%s", d->state);
        return 0;
}

static int live_by_uuid(const void *a, const void *b) {
        return strcmp(((const Live *) a)->uuid, ((const Live *) b)->uuid);
}

static void record_with_detail(Conn *c, Event *e, const char *detail) {
        if (!e) {
                log_msg(LOG_ERR, "'%s': out of memory: a change found by reconcile (%s) NOT recorded",
                        c->uri, detail);
                return;
        }
        json_object_set_new(e->data, "detail", json_string(detail));
        recorder_record(c->d->rec, e);
}

/* Whether the inventory holds a definition for this domain (0: none), and
 * whether cf is it (1) or not (2); -1 when it could not be read (k says
 * why). Its text is compared first: it is what the daemon stored from the
 * same rendering, so the equal case (nearly every domain at every
 * reconcile) decodes nothing. */
static int known_definition(Conn *c, Known *k, const char *uuid, const json_t *cf) {
        _cleanup_free_ char *known = NULL, *text = NULL;
        VgError err = { "" };
        int r = store_config_facts(k->store, uuid, &known, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                /* Not "none": that would record a domain.seen, and hide a
                 * changed definition. */
                if (!k->n_unread++)
                        snprintf(k->unread, sizeof(k->unread), "%s", err.text[0] ? err.text : strerror(-r));
                return -1;
        }
        if ((text = json_dumps(cf, JSON_COMPACT | JSON_SORT_KEYS)) && !strcmp(text, known))
                return 1;
        json_t *stored = json_loads(known, 0, NULL);
        r = stored && json_equal(cf, stored) ? 1 : 2;
        json_decref(stored);
        return r;
}

/* A change reconcile found in dom: an event of source "reconcile". */
static Event *found(Conn *c, virDomainPtr dom, const char *kind, int xml_flags) {
        return domevent_new(dom, c->host, "reconcile", kind, xml_flags);
}

static void reconcile_one(Conn *c, Known *k, virDomainPtr dom, const KnownDomain *row) {
        int state = 0, reason = 0;
        if (virDomainGetState(dom, &state, &reason, 0) < 0)
                return;
        const char *now = state_name(state);
        int persistent = virDomainIsPersistent(dom);
        bool active = strcmp(now, "shutoff") != 0;

        if (!row) {
                if (persistent == 1)
                        record_with_detail(c, found(c, dom, "domain.defined", VIR_DOMAIN_XML_INACTIVE), "appeared");
                if (active)
                        record_with_detail(c, found(c, dom, event_kind_transition("shutoff", now)->name, 0),
                                           "found running");
                return;
        }
        if (persistent == 1) {
                json_t *cf = domevent_facts(dom, VIR_DOMAIN_XML_INACTIVE);
                /* (No XML from libvirt: the domain went between the
                 * listing and now; its event says so.) */
                int known = cf ? known_definition(c, k, row->uuid, cf) : 1;
                if (known == 0)
                        /* Known from hooks only: the daemon's first look. */
                        record_with_detail(c, found(c, dom, "domain.seen", VIR_DOMAIN_XML_INACTIVE),
                                           "first seen by the daemon");
                else if (known == 2)
                        record_with_detail(c, found(c, dom, "domain.defined", VIR_DOMAIN_XML_INACTIVE),
                                           "definition changed");
                json_decref(cf);
        }
        if (strcmp(row->state, now) && !(strcmp(row->state, "unknown") == 0 && !active)) {
                char detail[96];
                snprintf(detail, sizeof(detail), "found %s, inventory said %s", now, row->state);
                record_with_detail(c, found(c, dom, event_kind_transition(row->state, now)->name, active ? 0 : -1),
                                   detail);
        }
}

/* What the inventory knows on this host and libvirt no longer has. */
static void vanished(Conn *c, const KnownDomain *r) {
        if (strcmp(r->state, "shutoff") && strcmp(r->state, "unknown")) {
                Event *e = event_new("reconcile", "domain.stopped");
                if (e) {
                        event_set(&e->host, c->host);
                        event_set(&e->domain, r->name);
                        event_set(&e->uuid, r->uuid);
                }
                record_with_detail(c, e, "vanished while running");
        }
        Event *e = event_new("reconcile", "domain.undefined");
        if (e) {
                event_set(&e->host, c->host);
                event_set(&e->domain, r->name);
                event_set(&e->uuid, r->uuid);
                json_object_set_new(e->data, "persistent", json_false());
        }
        record_with_detail(c, e, r->persistent == 0 ? "transient domain gone" : "vanished");
}

/* A domain the inventory knows: reconciled with libvirt's, or vanished. */
static void reconcile_known(Conn *c, Known *k, Live *live, size_t n, const KnownDomain *row) {
        Live key, *l;
        snprintf(key.uuid, sizeof(key.uuid), "%s", row->uuid);
        if ((l = bsearch(&key, live, n, sizeof(*live), live_by_uuid))) {
                l->known = true;
                reconcile_one(c, k, l->dom, row);
        } else {
                vanished(c, row);
        }
}

/* libvirt's domains, sorted by UUID, against the inventory's domains of
 * this host, read a page at a time: each row is reconciled with libvirt's
 * domain of its UUID or has vanished, and the domains of libvirt's that no
 * row named have appeared. */
/* libvirt's domains, sorted by UUID, into *ret; their number, or -1 after
 * saying why there are none to reconcile. */
static int list_live(Conn *c, Live **ret) {
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(c->conn, &doms, 0);
        if (n < 0) {
                recorder_degraded(c->d->rec, c->host, "domains not reconciled: libvirt did not list them",
                                  virGetLastErrorMessage(), RETRY_FIX);
                return -1;
        }
        Live *live = calloc((size_t) n + 1, sizeof(*live));
        for (int i = 0; i < n; i++) {
                if (live) {
                        live[i].dom = doms[i];
                        if (virDomainGetUUIDString(doms[i], live[i].uuid) < 0)
                                live[i].uuid[0] = '\0';
                } else
                        virDomainFree(doms[i]);
        }
        free(doms);
        if (!live) {
                recorder_degraded(c->d->rec, c->host, "domains not reconciled", "out of memory", RETRY_FIX);
                return -1;
        }
        qsort(live, (size_t) n, sizeof(*live), live_by_uuid);
        *ret = live;
        return n;
}

static void reconcile_domains(Conn *c) {
        _cleanup_free_ Known *k = calloc(1, sizeof(*k));
        if (!k) {
                recorder_degraded(c->d->rec, c->host, "domains not reconciled", "out of memory", RETRY_FIX);
                return;
        }
        Live *live = NULL;
        int n = list_live(c, &live);
        if (n < 0)
                return;
        k->driver = virConnectGetType(c->conn);

        VgError err = { "" };
        int r = 0;
        while (r == 0) {
                k->n = 0;
                /* Committed first: the queue may hold events of this
                 * iteration that changed what the rows say. */
                k->store = recorder_store(c->d->rec);
                r = store_host_domains(k->store, c->host, k->last, RECONCILE_PAGE, collect_row, k, &err);
                /* Each page is taken in whole before anything is recorded:
                 * no write interleaves with the read. */
                for (size_t j = 0; j < k->n; j++) {
                        if (r >= 0)
                                reconcile_known(c, k, live, (size_t) n, &k->rows[j]);
                        free(k->rows[j].name);
                }
                if (r >= 0)
                        r = r < RECONCILE_PAGE ? 1 : 0;
        }
        if (r < 0)
                /* Part of the rows unread: libvirt's domains not yet met
                 * might be known after all. What was met stays done. */
                recorder_degraded(c->d->rec, c->host, "domains not reconciled: the inventory's domains could not "
                                  "be read", err.text[0] ? err.text : strerror(-r), RETRY_FIX);
        if (k->n_unread) {
                char what[128];
                snprintf(what, sizeof(what), "%zu domain definition(s) not compared with the inventory's",
                         k->n_unread);
                recorder_degraded(c->d->rec, c->host, what, k->unread, RETRY_FIX);
        }
        for (int i = 0; i < n; i++) {
                if (r > 0 && !live[i].known)
                        reconcile_one(c, k, live[i].dom, NULL);
                virDomainFree(live[i].dom);
        }
        free(live);
}

int reconcile(Conn *c) {
        if (!c->conn)
                return -ENOTCONN;
        reconcile_domains(c);
        objects_reconcile(c->d->rec, c->conn, c->host);
        capacity_note(c);
        /* Its lists of every domain are freed: give the pages back rather
         * than hold the peak until the next one (24.7 -> 21 MB after a
         * reconcile of 100,000 domains). */
        malloc_trim(0);
        return 0;
}
