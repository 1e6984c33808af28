/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt connections: open read-only (the daemon only watches), keepalive,
 * a close callback, every callback registered anew after each connect, and
 * a reconnect with backoff when the daemon at the other end goes away.
 * Events that happen while disconnected are lost by libvirt: reconcile()
 * after every connect finds what changed meanwhile.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conn.h"
#include "audit-reader.h"
#include "domevent.h"
#include "hostfacts.h"
#include "integrity-schedule.h"
#include "log.h"
#include "objects.h"
#include "reconcile.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/domxml.h"
#include "virtgov/policy/gate.h"
#include "virtgov/model/kinds.h"

#define BACKOFF_MAX_S 60

/* Names of libvirt's lifecycle events and details, checked against its enums
 * at compile time so a new libvirt cannot shift them silently. */
static const char *const lifecycle_kind[] = {
        "domain.defined", "domain.undefined", "domain.started", "domain.suspended",
        "domain.resumed", "domain.stopped", "domain.shutdown", "domain.pmsuspended",
        "domain.crashed",
};
static_assert(ELEMENTSOF(lifecycle_kind) == VIR_DOMAIN_EVENT_LAST, "lifecycle events changed");

static const char *detail_name(int event, int detail) {
        static const char *const defined[] = { "added", "updated", "renamed", "from-snapshot" };
        static const char *const undefined[] = { "removed", "renamed" };
        static const char *const started[] = { "booted", "migrated", "restored", "from-snapshot", "wakeup" };
        static const char *const suspended[] = { "paused", "migrated", "ioerror", "watchdog", "restored",
                                                 "from-snapshot", "api-error", "postcopy", "postcopy-failed" };
        static const char *const resumed[] = { "unpaused", "migrated", "from-snapshot", "postcopy",
                                               "postcopy-failed" };
        static const char *const stopped[] = { "shutdown", "destroyed", "crashed", "migrated", "saved",
                                               "failed", "from-snapshot" };
        static const char *const shutdown[] = { "finished", "guest", "host" };
        static const char *const pmsuspended[] = { "memory", "disk" };
        static const char *const crashed[] = { "panicked", "crashloaded" };
        static_assert(ELEMENTSOF(started) == VIR_DOMAIN_EVENT_STARTED_LAST, "started details changed");
        static_assert(ELEMENTSOF(stopped) == VIR_DOMAIN_EVENT_STOPPED_LAST, "stopped details changed");
        static const struct { const char *const *names; int n; } t[] = {
                { defined, ELEMENTSOF(defined) }, { undefined, ELEMENTSOF(undefined) },
                { started, ELEMENTSOF(started) }, { suspended, ELEMENTSOF(suspended) },
                { resumed, ELEMENTSOF(resumed) }, { stopped, ELEMENTSOF(stopped) },
                { shutdown, ELEMENTSOF(shutdown) }, { pmsuspended, ELEMENTSOF(pmsuspended) },
                { crashed, ELEMENTSOF(crashed) },
        };
        if (event < 0 || event >= (int) ELEMENTSOF(t) || detail < 0 || detail >= t[event].n)
                return "unknown";
        return t[event].names[detail];
}

/* ---- the policy.bypass cross-check ---- */

typedef struct HookSeen {
        bool seen;
} HookSeen;

static int hook_decision(const Event *e, void *userdata) {
        const EventKind *k = event_kind(e->kind);
        if (k && (k->flags & KIND_BEFORE_START) && !(e->decision && !strcmp(e->decision, "deny")))
                ((HookSeen *) userdata)->seen = true;
        return 0;
}

/*
 * The cross-check could not be made: the start is neither a bypass nor
 * allowed, it is unverified. Said once in the log and once as a
 * policy.error event (the policy could not be evaluated; not
 * daemon.degraded, which is about the daemon, not this domain's start),
 * so a report of the domain's activations shows the gap.
 */
static void bypass_unchecked(Conn *c, virDomainPtr dom, const char *detail, const char *why) {
        const char *name = virDomainGetName(dom);
        log_msg(LOG_ERR, "start of '%s' (%s) not verified: the policy.bypass cross-check failed: %s",
                name ? name : "?", detail, why);
        Event *e = domevent_new(dom, c->host, "daemon", "policy.error", -1);
        if (!e) {
                log_not_recorded("policy.error", name);
                return;
        }
        char reason[512];
        snprintf(reason, sizeof(reason), "started (%s), not verified: the policy.bypass cross-check failed: %s",
                 detail, why);
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "check", json_string("bypass"));
        json_object_set_new(e->data, "detail", json_string(detail));
        json_object_set_new(e->data, "error", event_json_string(why));
        recorder_record(c->d->rec, e);
}

/*
 * libvirt runs the hook, and the hook records (or spools) its decision,
 * before QEMU starts; so when libvirt reports a start, an allowing hook
 * event for that domain must already be there. If none is, the start was
 * not decided by virtgov: the hook is missing, libvirtd did not pick it up,
 * or it was tampered with. A check that cannot be made is said
 * (bypass_unchecked), never taken for "no bypass".
 */
static void check_bypass(Conn *c, virDomainPtr dom, const char *detail) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (!c->local)
                return;
        if (virDomainGetUUIDString(dom, uuid) < 0) {
                bypass_unchecked(c, dom, detail, virGetLastErrorMessage());
                return;
        }
        /* A hook that could not write the inventory spooled its decision. */
        bool unfolded = recorder_fold_spool(c->d->rec) < 0;
        HookSeen hs = { false };
        VgError err = { "" };
        EventFilter f = { .domain = uuid, .source = "hook", .kind_prefix = "domain.",
                          .since_us = vg_now_us() - (int64_t) c->d->config->bypass_window_s * 1000000 };
        int r = store_query_events(recorder_store(c->d->rec), &f, hook_decision, &hs, &err);
        if (r < 0) {
                bypass_unchecked(c, dom, detail, err.text[0] ? err.text : strerror(-r));
                return;
        }
        if (hs.seen)
                return;
        Event *e = domevent_new(dom, c->host, "daemon", "policy.bypass", -1);
        if (!e) {
                log_not_recorded("policy.bypass", virDomainGetName(dom));
                return;
        }
        char reason[384];
        snprintf(reason, sizeof(reason), "started (%s) with no hook decision in the last %u s: the hook is "
                 "missing, was not picked up by libvirtd, or was tampered with%s", detail,
                 c->d->config->bypass_window_s, unfolded ? "; or its decision waits in the spool, which "
                 "could not be folded" : "");
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "detail", json_string(detail));
        if (unfolded)
                json_object_set_new(e->data, "spool_unfolded", json_true());
        recorder_record(c->d->rec, e);
}

/* A decision event about the define, as the hook records its own. */
static void record_define_decision(Conn *c, virDomainPtr dom, const char *kind, const GateResult *g) {
        Event *e = domevent_new(dom, c->host, "daemon", kind, -1);
        if (!e) {
                log_not_recorded(kind, virDomainGetName(dom));
                return;
        }
        event_set(&e->decision, g->verdict == VERDICT_DENY ? "deny" : "allow");
        event_set(&e->reason, g->reason);
        json_object_set(e->data, "policy", g->detail);
        json_object_set_new(e->data, "op", json_string("define"));
        recorder_record(c->d->rec, e);
}

/*
 * A define cannot be blocked by a hook: libvirt has none for it. So the
 * daemon decides after the fact, as the hook would for a start, and records
 * a policy.violation when the policy would not have allowed it. A decision
 * it could not make (policy unreadable, definition or inventory unreadable)
 * is a policy.error, logged too: on_error may say allow, but not silently.
 */
static void check_define(Conn *c, virDomainPtr dom) {
        _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        DomainFacts *f = NULL;
        VgError err = { "" };
        if (!xml)
                vg_error(&err, -EIO, "libvirt gave no definition: %s", virGetLastErrorMessage());
        else if (domxml_parse(xml, strlen(xml), &f, &err) < 0)
                f = NULL;
        GateResult g;
        gate_decide(c->d->config->policy, recorder_store(c->d->rec), err.text, f, "define", c->host, vg_now_us(),
                    &g);
        /* No policy file: everything is allowed (gate.h), and nothing to
         * record. Whether "no policy" can be believed (a dangling link, a
         * directory others could remove it from) is the gate's to judge,
         * through the one reader of trusted files. */
        if (!g.have_policy && !g.error) {
                gate_result_clear(&g);
                domain_facts_free(f);
                return;
        }
        if (g.error) {
                log_msg(LOG_ERR, "define of '%s' not decided: %s", virDomainGetName(dom),
                        g.reason ? g.reason : "policy error");
                record_define_decision(c, dom, "policy.error", &g);
        }
        if (g.verdict == VERDICT_DENY)
                record_define_decision(c, dom, "policy.violation", &g);
        gate_result_clear(&g);
        domain_facts_free(f);
}

/* ---- callbacks ---- */

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Conn *c = opaque;
        if (event < 0 || event >= VIR_DOMAIN_EVENT_LAST)
                return 0;
        /* Facts: the definition on define, what runs on start. */
        int xml_flags = event == VIR_DOMAIN_EVENT_DEFINED ? VIR_DOMAIN_XML_INACTIVE
                      : event == VIR_DOMAIN_EVENT_STARTED ? 0 : -1;
        Event *e = domevent_new(dom, c->host, "libvirt", lifecycle_kind[event], xml_flags);
        if (!e) {
                log_not_recorded(lifecycle_kind[event], virDomainGetName(dom));
                return 0;
        }
        const char *dn = detail_name(event, detail);
        json_object_set_new(e->data, "detail", json_string(dn));
        if (event == VIR_DOMAIN_EVENT_UNDEFINED)
                json_object_set_new(e->data, "persistent", json_false());
        if (c->local)   /* this host's audit stream names this host's people */
                auditr_claim_domain(c->d, e);
        recorder_record(c->d->rec, e);
        if (event == VIR_DOMAIN_EVENT_STARTED && detail != VIR_DOMAIN_EVENT_STARTED_WAKEUP) {
                check_bypass(c, dom, dn);
                integrityd_domain_started(c->d, virDomainGetName(dom));
        }
        if (event == VIR_DOMAIN_EVENT_DEFINED && detail != VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT)
                check_define(c, dom);
        return 0;
}

static void record_simple(Conn *c, virDomainPtr dom, const char *kind, const char *key, const char *value) {
        Event *e = domevent_new(dom, c->host, "libvirt", kind, -1);
        if (!e) {
                log_not_recorded(kind, virDomainGetName(dom));
                return;
        }
        if (key)
                json_object_set_new(e->data, key, event_json_string(value));
        recorder_record(c->d->rec, e);
}

static int on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque) {
        record_simple(opaque, dom, "domain.reboot", NULL, NULL);
        return 0;
}

static int on_device_added(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        record_simple(opaque, dom, "domain.device-added", "device", alias);
        return 0;
}

static int on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        record_simple(opaque, dom, "domain.device-removed", "device", alias);
        return 0;
}

static int on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri, void *opaque) {
        Conn *c = opaque;
        /* Persistent metadata changes the definition: carry the new facts
         * (owner, ticket) with it. */
        Event *e = domevent_new(dom, c->host, "libvirt", "domain.metadata-changed", VIR_DOMAIN_XML_INACTIVE);
        if (!e) {
                log_not_recorded("domain.metadata-changed", virDomainGetName(dom));
                return 0;
        }
        static const char *const types[] = { "description", "title", "element" };
        json_object_set_new(e->data, "type", json_string(type >= 0 && type < 3 ? types[type] : "unknown"));
        if (nsuri)
                json_object_set_new(e->data, "namespace", event_json_string(nsuri));
        recorder_record(c->d->rec, e);
        return 0;
}

static void object_event(Conn *c, const char *type, const char *name, const char *uuid, int event) {
        static const char *const verbs[] = { "defined", "undefined", "started", "stopped", "created", "deleted" };
        if (event < 0 || event >= (int) ELEMENTSOF(verbs))
                return;
        char kind[64];
        snprintf(kind, sizeof(kind), "%s.%s", type, verbs[event]);
        Event *e = event_new("libvirt", kind);
        if (!e) {
                log_not_recorded(kind, name);
                return;
        }
        event_set(&e->host, c->host);
        json_object_set_new(e->data, type, event_json_string(name));
        json_object_set_new(e->data, "uuid", json_string(uuid));
        objects_note(c->d->rec, c->host, type, name, uuid, event == 2 ? 1 : event == 3 ? 0 : -1,
                     event == 0 ? 1 : event == 1 ? 0 : -1);
        recorder_record(c->d->rec, e);
}

static int on_network(virConnectPtr conn, virNetworkPtr net, int event, int detail, void *opaque) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virNetworkGetUUIDString(net, uuid) == 0)
                object_event(opaque, "network", virNetworkGetName(net), uuid, event);
        return 0;
}

static int on_pool(virConnectPtr conn, virStoragePoolPtr pool, int event, int detail, void *opaque) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virStoragePoolGetUUIDString(pool, uuid) == 0)
                object_event(opaque, "pool", virStoragePoolGetName(pool), uuid, event);
        return 0;
}

/* ---- connecting ---- */

/* Monitoring gaps are part of the record: an auditor must be able to see
 * when this host was not watched. */
static void record_link(Conn *c, const char *kind, const char *reason) {
        Event *e = event_new("daemon", kind);
        if (!e) {
                log_not_recorded(kind, NULL);
                return;
        }
        event_set(&e->host, c->host);
        json_object_set_new(e->data, "uri", json_string(c->uri));
        if (reason)
                event_set(&e->reason, reason);
        recorder_record(c->d->rec, e);
}

static void on_close(virConnectPtr conn, int reason, void *opaque) {
        Conn *c = opaque;
        static const char *const reasons[] = { "error", "end of file", "keepalive timeout", "client closed" };
        const char *why = reason >= 0 && reason < 4 ? reasons[reason] : "unknown";
        log_msg(LOG_WARNING, "lost '%s' (%s); reconnecting", c->uri, why);
        record_link(c, "daemon.disconnected", why);
        c->lost = true;
        c->backoff_s = 1;
        /* Not here: tearing down a connection inside its own close
         * callback is not allowed. The timer does it from the loop. */
        virEventUpdateTimeout(c->retry_timer, 0);
}

static void teardown(Conn *c) {
        if (!c->conn)
                return;
        for (size_t i = 0; i < ELEMENTSOF(c->dom_cb); i++)
                if (c->dom_cb[i] >= 0) {
                        virConnectDomainEventDeregisterAny(c->conn, c->dom_cb[i]);
                        c->dom_cb[i] = -1;
                }
        if (c->net_cb >= 0)
                virConnectNetworkEventDeregisterAny(c->conn, c->net_cb);
        if (c->pool_cb >= 0)
                virConnectStoragePoolEventDeregisterAny(c->conn, c->pool_cb);
        c->net_cb = c->pool_cb = -1;
        virConnectUnregisterCloseCallback(c->conn, on_close);
        virConnectClose(c->conn);
        c->conn = NULL;
}

static int register_callbacks(Conn *c) {
        static const struct { int id; virConnectDomainEventGenericCallback cb; } dom[] = {
                { VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle) },
                { VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot) },
                { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_added) },
                { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed) },
                { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata) },
        };
        static_assert(ELEMENTSOF(dom) == ELEMENTSOF(((Conn *) 0)->dom_cb), "one id slot per callback");
        for (size_t i = 0; i < ELEMENTSOF(dom); i++)
                if ((c->dom_cb[i] = virConnectDomainEventRegisterAny(c->conn, NULL, dom[i].id, dom[i].cb, c, NULL)) < 0)
                        return -EIO;
        c->net_cb = virConnectNetworkEventRegisterAny(c->conn, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                                      VIR_NETWORK_EVENT_CALLBACK(on_network), c, NULL);
        c->pool_cb = virConnectStoragePoolEventRegisterAny(c->conn, NULL, VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                                           VIR_STORAGE_POOL_EVENT_CALLBACK(on_pool), c, NULL);
        /* A driver without networks or pools (test:///, a remote LXC host)
         * is still worth watching for domains. */
        if (c->net_cb < 0 || c->pool_cb < 0)
                log_msg(LOG_INFO, "'%s': no network or pool events (%s)", c->uri, virGetLastErrorMessage());
        return 0;
}

static bool uri_is_local(const char *uri) {
        /* "qemu:///system" is local; "qemu+ssh://host/system" is not. */
        const char *p = strstr(uri, "://");
        return p && p[3] == '/';
}

static int try_connect(Conn *c) {
        c->conn = virConnectOpenReadOnly(c->uri);
        if (!c->conn)
                return -EIO;
        virConnectRegisterCloseCallback(c->conn, on_close, c, NULL);
        /* Notice a silent peer (a remote host gone) within 5 * 3 s. */
        virConnectSetKeepAlive(c->conn, 5, 3);

        free(c->host);
        c->local = uri_is_local(c->uri);
        if (c->local) {
                /* The hook files events under gethostname(); so do we, for
                 * the same host, or the cross-check would never match. */
                char h[256];
                gethostname(h, sizeof(h));
                h[sizeof(h) - 1] = '\0';
                c->host = strdup(h);
        } else
                c->host = virConnectGetHostname(c->conn);
        if (!c->host && c->local)
                log_msg(LOG_ERR, "'%s': out of memory", c->uri);
        if (!c->host || register_callbacks(c) < 0) {
                teardown(c);
                return -EIO;
        }
        return 0;
}

static void on_retry(int timer, void *opaque) {
        Conn *c = opaque;
        teardown(c);
        if (try_connect(c) < 0) {
                if (!c->lost) {
                        log_msg(LOG_WARNING, "cannot connect to '%s': %s; retrying", c->uri,
                                virGetLastErrorMessage());
                        c->lost = true;
                }
                virEventUpdateTimeout(timer, (int) c->backoff_s * 1000);
                c->backoff_s = c->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : c->backoff_s * 2;
                return;
        }
        virEventUpdateTimeout(timer, -1);
        c->backoff_s = 1;
        c->lost = false;
        log_msg(LOG_INFO, "connected to '%s' (host '%s')", c->uri, c->host);
        record_link(c, "daemon.connected", NULL);
        hostfacts_note(c);
        (void) recorder_fold_spool(c->d->rec);   /* a failure is logged and retried */
        reconcile(c);
}

int conn_init(Daemon *d, Conn *c, const char *uri) {
        *c = (Conn) { .d = d, .uri = strdup(uri), .net_cb = -1, .pool_cb = -1, .backoff_s = 1 };
        for (size_t i = 0; i < ELEMENTSOF(c->dom_cb); i++)
                c->dom_cb[i] = -1;
        c->retry_timer = virEventAddTimeout(-1, on_retry, c, NULL);
        return c->uri && c->retry_timer >= 0 ? 0 : -ENOMEM;
}

void conn_connect(Conn *c) {
        on_retry(c->retry_timer, c);
}

void conn_close(Conn *c) {
        if (c->retry_timer >= 0)
                virEventRemoveTimeout(c->retry_timer);
        c->retry_timer = -1;
        teardown(c);
}

void conn_clear(Conn *c) {
        free(c->uri);
        free(c->host);
        c->uri = c->host = NULL;
}
