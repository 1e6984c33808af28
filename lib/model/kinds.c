/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/kinds.h"

#define GATE(op) .gate_op = op, .flags = KIND_GATED
#define TO(s, p, st, sp) .state = s, .persistent = p, .start = st, .stop = sp

/*
 * Every kind of the vocabulary (doc/ARCHITECTURE.md: "extend, don't rename"). A kind
 * that says nothing of a domain's state has .persistent -1: every row
 * names it, for 0 would mean "undefined".
 */
static const EventKind kinds[] = {
        /* qemu hook ops, at which libvirt waits for the hook */
        { "domain.prepare",   "prepare",   GATE("start") | KIND_BEFORE_START | KIND_ACTIVATION, .persistent = -1 },
        { "domain.start",     "start",     .flags = KIND_BEFORE_START, .persistent = -1 },
        { "domain.migrate",   "migrate",   GATE("migrate") | KIND_BEFORE_START, .persistent = -1 },
        { "domain.restore",   "restore",   GATE("restore") | KIND_BEFORE_START, TO("running", -1, true, false) },
        { "domain.reconnect", "reconnect", TO("running", -1, false, false) },
        { "domain.attach",    "attach",    .persistent = -1 },
        { "domain.release",   "release",   .flags = KIND_DEACTIVATION, .persistent = -1 },
        /* both a hook op and a libvirt lifecycle event */
        { "domain.started",   "started",   TO("running", -1, true, false), .flags = KIND_LIFECYCLE },
        { "domain.stopped",   "stopped",   TO("shutoff", -1, false, true), .flags = KIND_LIFECYCLE },
        /* libvirt's domain events */
        { "domain.defined",     NULL, TO(NULL, 1, false, false), .flags = KIND_LIFECYCLE | KIND_DEFINES },
        { "domain.undefined",   NULL, TO("undefined", 0, false, false), .flags = KIND_LIFECYCLE },
        { "domain.resumed",     NULL, TO("running", -1, false, false), .flags = KIND_LIFECYCLE },
        { "domain.suspended",   NULL, TO("paused", -1, false, false), .flags = KIND_LIFECYCLE },
        { "domain.pmsuspended", NULL, TO("pmsuspended", -1, false, false), .flags = KIND_LIFECYCLE },
        { "domain.crashed",     NULL, TO("crashed", -1, false, true), .flags = KIND_LIFECYCLE },
        { "domain.shutdown",    NULL, .flags = KIND_LIFECYCLE, .persistent = -1 },
        { "domain.reboot",          NULL, .persistent = -1 },
        { "domain.device-added",    NULL, .persistent = -1 },
        { "domain.device-removed",  NULL, .persistent = -1 },
        { "domain.metadata-changed", NULL, .persistent = -1 },
        { "domain.seen",            NULL, .persistent = -1 },   /* reconcile: first sight of a running domain */
        /* network hook ops and libvirt's network events */
        { "network.start",        "start",        .persistent = -1 },
        { "network.started",      "started",      .persistent = -1 },
        { "network.stopped",      "stopped",      .persistent = -1 },
        { "network.port-created", "port-created", .persistent = -1 },
        { "network.port-deleted", "port-deleted", .persistent = -1 },
        { "network.updated",      "updated",      .persistent = -1 },
        /* policy */
        { "policy.violation", NULL, .flags = KIND_UNAUTHORIZED | KIND_ALERT, .persistent = -1 },
        { "policy.bypass",    NULL, .flags = KIND_UNAUTHORIZED | KIND_ALERT, .persistent = -1 },
        { "policy.error",     NULL, .flags = KIND_ERROR, .persistent = -1 },
        /* libvirt's network and storage pool lifecycle (the daemon) */
        { "network.defined",   NULL, .persistent = -1 },
        { "network.undefined", NULL, .persistent = -1 },
        { "network.created",   NULL, .persistent = -1 },
        { "network.deleted",   NULL, .persistent = -1 },
        { "pool.defined",   NULL, .persistent = -1 },
        { "pool.undefined", NULL, .persistent = -1 },
        { "pool.started",   NULL, .persistent = -1 },
        { "pool.stopped",   NULL, .persistent = -1 },
        { "pool.created",   NULL, .persistent = -1 },
        { "pool.deleted",   NULL, .persistent = -1 },
        /* host accounts (the daemon's watch of /etc) */
        { "account.baseline",         NULL, .persistent = -1 },
        { "account.added",            NULL, .persistent = -1 },
        { "account.removed",          NULL, .persistent = -1 },
        { "account.changed",          NULL, .persistent = -1 },
        { "account.password-changed", NULL, .persistent = -1 },
        { "group.added",              NULL, .persistent = -1 },
        { "group.removed",            NULL, .persistent = -1 },
        { "group.changed",            NULL, .persistent = -1 },
        { "group.member-added",       NULL, .persistent = -1 },
        { "group.member-removed",     NULL, .persistent = -1 },
        { "sudoers.changed",          NULL, .persistent = -1 },
        /* the host and the daemon itself */
        { "host.software",         NULL, .persistent = -1 },
        { "host.identity",         NULL, .persistent = -1 },
        { "daemon.started",        NULL, .persistent = -1 },
        { "daemon.stopped",        NULL, .persistent = -1 },
        { "daemon.connected",      NULL, .persistent = -1 },
        { "daemon.disconnected",   NULL, .persistent = -1 },
        { "daemon.reloaded",       NULL, .persistent = -1 },
        { "daemon.reload-failed",  NULL, .flags = KIND_ERROR, .persistent = -1 },
        { "daemon.degraded",       NULL, .flags = KIND_ALERT, .persistent = -1 },
        /* authorizations and trusted images (the CLI) */
        { "approval.granted", NULL, .persistent = -1 },
        { "approval.revoked", NULL, .persistent = -1 },
        { "ticket.added",     NULL, .persistent = -1 },
        { "ticket.replaced",  NULL, .persistent = -1 },
        { "image.trusted",    NULL, .persistent = -1 },
        { "image.changed",    NULL, .flags = KIND_ALERT, .persistent = -1 },
        /* integrity monitoring of the hypervisor */
        { "integrity.baseline",       NULL, .flags = KIND_BASELINE, .persistent = -1 },
        { "integrity.accepted",       NULL, .flags = KIND_BASELINE, .persistent = -1 },
        { "integrity.package-update", NULL, .flags = KIND_BASELINE, .persistent = -1 },
        { "integrity.changed",        NULL, .flags = KIND_ALERT, .persistent = -1 },
        { "integrity.added",          NULL, .flags = KIND_ALERT, .persistent = -1 },
        { "integrity.removed",        NULL, .flags = KIND_ALERT, .persistent = -1 },
        /* a running process's status changed (integrity/proc.h) */
        { "integrity.process",        NULL, .flags = KIND_ALERT, .persistent = -1 },
        /* integrity_action's runs: one that did not exit 0 in time means
         * nobody was paged */
        { "integrity.action",         NULL, .persistent = -1 },
        { "integrity.action-failed",  NULL, .flags = KIND_ALERT, .persistent = -1 },
        /* the hardening assessment (assess.h): a run, and each check that
         * turned bad or good since the one before */
        { "assess.run",       NULL, .persistent = -1 },
        { "assess.regressed", NULL, .flags = KIND_ALERT, .persistent = -1 },
        { "assess.fixed",     NULL, .persistent = -1 },
        /* the kernel's audit stream (inventoryd/audit-reader.c): sessions
         * on the host; records the kernel or the daemon dropped; audit
         * turned on by the daemon, rules loaded by the CLI */
        { "access.login",  NULL, .persistent = -1 },
        { "access.logout", NULL, .persistent = -1 },
        { "access.failed", NULL, .persistent = -1 },
        { "access.sudo",   NULL, .persistent = -1 },
        { "audit.lost",    NULL, .flags = KIND_ALERT, .persistent = -1 },
        { "audit.enabled", NULL, .persistent = -1 },
        { "audit.rules",   NULL, .persistent = -1 },
};

const EventKind *event_kind(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(kinds); i++)
                if (!strcmp(name, kinds[i].name))
                        return &kinds[i];
        return NULL;
}

const EventKind *event_kind_of_hook_op(bool network, const char *op) {
        const char *prefix = network ? "network." : "domain.";
        if (!op)
                return NULL;
        /* names used before libvirt 6.0 */
        if (network && !strcmp(op, "plugged"))
                op = "port-created";
        else if (network && !strcmp(op, "unplugged"))
                op = "port-deleted";
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (kinds[i].hook_op && !strcmp(op, kinds[i].hook_op) &&
                    !strncmp(kinds[i].name, prefix, strlen(prefix)))
                        return &kinds[i];
        return NULL;
}

const EventKind *event_kind_next(const EventKind *prev, unsigned flags) {
        for (const EventKind *k = prev ? prev + 1 : kinds; k < kinds + ELEMENTSOF(kinds); k++)
                if ((k->flags & flags) == flags)
                        return k;
        return NULL;
}

bool event_kind_unauthorized(const char *name, const char *decision) {
        const EventKind *k = event_kind(name);
        if (!k)
                return false;
        if (k->flags & KIND_UNAUTHORIZED)
                return true;
        return (k->flags & KIND_GATED) && decision && !strcmp(decision, "deny");
}

const EventKind *event_kind_transition(const char *was, const char *now) {
        /* Back to running from a pause is a resume, not a start. */
        bool resume = !strcmp(now, "running") && (!strcmp(was, "paused") || !strcmp(was, "pmsuspended"));
        for (const EventKind *k = NULL; (k = event_kind_next(k, KIND_LIFECYCLE));)
                if (k->state && !strcmp(k->state, now) && k->start == (!strcmp(now, "running") && !resume))
                        return k;
        return event_kind("domain.stopped");
}
