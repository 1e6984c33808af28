/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/kinds.h"

#define GATE(op) .gate_op = op, .flags = KIND_GATED
#define TO(s, p, st, sp) .state = s, .persistent = p, .start = st, .stop = sp
/* The journal's MESSAGE_ID of the kind: made once (systemd-id128 new),
 * never changed, never reused; the message catalog (contrib/virtgov.catalog)
 * is keyed by it. */
#define MSGID(id) .message_id = id

/*
 * Every kind of the vocabulary (doc/ARCHITECTURE.md: "extend, don't rename"). A kind
 * that says nothing of a domain's state has .persistent -1: every row
 * names it, for 0 would mean "undefined".
 */
static const EventKind kinds[] = {
        /* qemu hook ops, at which libvirt waits for the hook */
        { "domain.prepare",   "prepare",   GATE("start") | KIND_BEFORE_START | KIND_ACTIVATION, .persistent = -1,
          MSGID("fc1a3eccb0e04ad2b0bf5df3e5451274") },
        { "domain.start",     "start",     .flags = KIND_BEFORE_START, .persistent = -1,
          MSGID("df11fea317f44c70ae6839e065c55bc5") },
        { "domain.migrate",   "migrate",   GATE("migrate") | KIND_BEFORE_START, .persistent = -1,
          MSGID("a9ec3695cc0842d29e490448b37e3ddf") },
        { "domain.restore",   "restore",   GATE("restore") | KIND_BEFORE_START, TO("running", -1, true, false),
          MSGID("4773ba7388cf41dc94da7456ac874614") },
        { "domain.reconnect", "reconnect", TO("running", -1, false, false),
          MSGID("6b1cedff4c3f4693a5be47341a9eb2f9") },
        { "domain.attach",    "attach",    .persistent = -1,
          MSGID("f8da7b99c6584d6ab733acaaaea7d867") },
        { "domain.release",   "release",   .flags = KIND_DEACTIVATION, .persistent = -1,
          MSGID("eaa8be6177c54f68b53b19fad7c43b11") },
        /* both a hook op and a libvirt lifecycle event */
        { "domain.started",   "started",   TO("running", -1, true, false), .flags = KIND_LIFECYCLE,
          MSGID("9a7a0ae76e984a93a2e391f39834f951") },
        { "domain.stopped",   "stopped",   TO("shutoff", -1, false, true), .flags = KIND_LIFECYCLE,
          MSGID("db3b382ed6b442d78dfd3ff486c6d166") },
        /* libvirt's domain events */
        { "domain.defined",     NULL, TO(NULL, 1, false, false), .flags = KIND_LIFECYCLE | KIND_DEFINES,
          MSGID("37da36bbb7fb4e21a94cccdfc7e8a5b5") },
        { "domain.undefined",   NULL, TO("undefined", 0, false, false), .flags = KIND_LIFECYCLE,
          MSGID("5d1785e13fe34982b2c8eb469099315a") },
        { "domain.resumed",     NULL, TO("running", -1, false, false), .flags = KIND_LIFECYCLE,
          MSGID("8c442be32be94940b572f0286cb88eae") },
        { "domain.suspended",   NULL, TO("paused", -1, false, false), .flags = KIND_LIFECYCLE,
          MSGID("1f1860c22dee4e758e346b06e79f2d77") },
        { "domain.pmsuspended", NULL, TO("pmsuspended", -1, false, false), .flags = KIND_LIFECYCLE,
          MSGID("136f18fe730147099c369e8c53643c32") },
        { "domain.crashed",     NULL, TO("crashed", -1, false, true), .flags = KIND_LIFECYCLE,
          MSGID("a0271f9ba0ab46a9a415f792cbf0dd20") },
        { "domain.shutdown",    NULL, .flags = KIND_LIFECYCLE, .persistent = -1,
          MSGID("c9205928a6374ffb881de5ae0cebbda5") },
        { "domain.reboot",          NULL, .persistent = -1,
          MSGID("2d58fbfaa9bf468c98117d1cb34ecd28") },
        { "domain.device-added",    NULL, .persistent = -1,
          MSGID("57d2447d23cc4395be9b8095478562c9") },
        { "domain.device-removed",  NULL, .persistent = -1,
          MSGID("6efabdff058247cab9b3194792437ec7") },
        { "domain.metadata-changed", NULL, .persistent = -1,
          MSGID("806fca447b9642b5b7cb44134e28d678") },
        { "domain.seen",            NULL, .persistent = -1,
          MSGID("e4f7b1f030b64a729df6fdacede0e8fa") },   /* reconcile: first sight of a running domain */
        /* network hook ops and libvirt's network events */
        { "network.start",        "start",        .persistent = -1,
          MSGID("d02f03a32bd142cb9a3039c5b7bbe077") },
        { "network.started",      "started",      .persistent = -1,
          MSGID("14d3b44d75244fa1943bfa29497a8b4d") },
        { "network.stopped",      "stopped",      .persistent = -1,
          MSGID("03663b319b204fb7bdeae2a1fd4203b5") },
        { "network.port-created", "port-created", .persistent = -1,
          MSGID("6f0ae5e09da04f1ebc897c5372d67ccd") },
        { "network.port-deleted", "port-deleted", .persistent = -1,
          MSGID("9329dfaac25a4870a705b5db8f76ed0a") },
        { "network.updated",      "updated",      .persistent = -1,
          MSGID("8df461fed1ab4c36ba8dfc1512fb7e3c") },
        /* policy */
        { "policy.violation", NULL, .flags = KIND_UNAUTHORIZED | KIND_ALERT, .persistent = -1,
          MSGID("b131c70f12134756a2cf5b83b9aaecc5") },
        { "policy.bypass",    NULL, .flags = KIND_UNAUTHORIZED | KIND_ALERT, .persistent = -1,
          MSGID("34aa1ab45b974e8a89543e1ec63fa98f") },
        { "policy.error",     NULL, .flags = KIND_ERROR, .persistent = -1,
          MSGID("9b7f1877a68b4899a0f14e6b2340b155") },
        /* libvirt's network and storage pool lifecycle (the daemon) */
        { "network.defined",   NULL, .persistent = -1,
          MSGID("6b5e78d930154648b313b5e7393b4d24") },
        { "network.undefined", NULL, .persistent = -1,
          MSGID("1566a95cbcb140f58ce1426c291f3b45") },
        { "network.created",   NULL, .persistent = -1,
          MSGID("f7dd773aa8514656924622f53d5b30e2") },
        { "network.deleted",   NULL, .persistent = -1,
          MSGID("ea4c18a1cc62481aa61c890637f38edf") },
        { "pool.defined",   NULL, .persistent = -1,
          MSGID("76eac1068e6a4ea1894541b860fba7ed") },
        { "pool.undefined", NULL, .persistent = -1,
          MSGID("10a7968f205c440eb45d4c3a1da0820f") },
        { "pool.started",   NULL, .persistent = -1,
          MSGID("0ba17eb215d947889bee8acf6223ffab") },
        { "pool.stopped",   NULL, .persistent = -1,
          MSGID("1f5dd21d602a485cb283779488c9e4ae") },
        { "pool.created",   NULL, .persistent = -1,
          MSGID("aa2186545f5a4e3d8b7f25617e81f8f5") },
        { "pool.deleted",   NULL, .persistent = -1,
          MSGID("10f59f4a73564ae08af0a953e235e87c") },
        /* a pool's figures (the daemon, when one moved by 1% of its
         * capacity or its state changed): the capacity report's trend */
        { "pool.usage",     NULL, .persistent = -1,
          MSGID("f32a5f9d10634737a16fb61a4c62bcf3") },
        /* host accounts (the daemon's watch of /etc) */
        { "account.baseline",         NULL, .persistent = -1,
          MSGID("6dba537ce19c4b1ab52be5d2a7e3f011") },
        { "account.added",            NULL, .persistent = -1,
          MSGID("e6333d26580e45729066bac7c166425e") },
        { "account.removed",          NULL, .persistent = -1,
          MSGID("49adc050cd7d464b953f6f2d33b8c8d3") },
        { "account.changed",          NULL, .persistent = -1,
          MSGID("8f893325ed3f461d9290cca55b1ca908") },
        { "account.password-changed", NULL, .persistent = -1,
          MSGID("5022f2cb7a4842899224b8974fac0a09") },
        { "group.added",              NULL, .persistent = -1,
          MSGID("0f793b5d891c4816bec663fbdfe25639") },
        { "group.removed",            NULL, .persistent = -1,
          MSGID("7c77764713c74488af70f4201c9ca928") },
        { "group.changed",            NULL, .persistent = -1,
          MSGID("712dfd97fb3b44f78ac58c706bf78a81") },
        { "group.member-added",       NULL, .persistent = -1,
          MSGID("b55afdb076624a4b9fb84587784a1243") },
        { "group.member-removed",     NULL, .persistent = -1,
          MSGID("b24270c39904466a88e83c2467e62ea9") },
        { "sudoers.changed",          NULL, .persistent = -1,
          MSGID("62f516c7c5274281b0bdad14ec22ba83") },
        /* the host and the daemon itself */
        { "host.software",         NULL, .persistent = -1,
          MSGID("9366887ba5654971b65b9f0c989af4d0") },
        { "host.identity",         NULL, .persistent = -1,
          MSGID("d9b6f15146fa4227b654505495a3b83e") },
        /* the host's CPUs and memory (virNodeGetInfo), when they change */
        { "host.capacity",         NULL, .persistent = -1,
          MSGID("ca1babb17a404859a5c585794f2c219a") },
        /* the bridges' uplinks (sysfs), when they change */
        { "host.uplinks",          NULL, .persistent = -1,
          MSGID("5da18b24eb6a4f659eead3770e50ba14") },
        { "daemon.started",        NULL, .persistent = -1,
          MSGID("ad6740e506644848ab477931754b6058") },
        { "daemon.stopped",        NULL, .persistent = -1,
          MSGID("1c90d3c282304116ac873d48eb82d95c") },
        { "daemon.connected",      NULL, .persistent = -1,
          MSGID("d110c9d8a0be4935b1066b2714c5281b") },
        { "daemon.disconnected",   NULL, .persistent = -1,
          MSGID("72ac46e0cb054c11bd3ca724ace0d7b1") },
        { "daemon.reloaded",       NULL, .persistent = -1,
          MSGID("4c372408f13348049bdb322ba2ee10c8") },
        { "daemon.reload-failed",  NULL, .flags = KIND_ERROR, .persistent = -1,
          MSGID("4a57dea89c664863adfa2b5d25d23592") },
        { "daemon.degraded",       NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("6954c4de22b24258ae6aef8c349454d0") },
        /* the copy to the fleet's central inventory (inventoryd/central.c) */
        { "central.conflict",      NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("9819da689edd4afaa9ad8e27ba14e8da") },
        /* authorizations and trusted images (the CLI) */
        { "approval.granted", NULL, .persistent = -1,
          MSGID("92de1c02ac2c4adcb83d6df1dd6e0fc7") },
        { "approval.revoked", NULL, .persistent = -1,
          MSGID("e7b142d2095444bcaf36f63756acdc78") },
        { "ticket.added",     NULL, .persistent = -1,
          MSGID("49d27f91ed314928b13cd8e35d74c5ee") },
        { "ticket.replaced",  NULL, .persistent = -1,
          MSGID("f7c5a3e520764c188b9a86767a3abce7") },
        { "image.trusted",    NULL, .persistent = -1,
          MSGID("63e999106ab04ca190d195bfb19850c6") },
        { "image.changed",    NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("7c403d53aacb48ba950fc98b82ce7fd8") },
        /* integrity monitoring of the hypervisor */
        { "integrity.baseline",       NULL, .flags = KIND_BASELINE, .persistent = -1,
          MSGID("0dc416af7b35400e9d1d9b44bae6e4aa") },
        { "integrity.accepted",       NULL, .flags = KIND_BASELINE, .persistent = -1,
          MSGID("0689f2b0b67143149977115386ac30d7") },
        { "integrity.package-update", NULL, .flags = KIND_BASELINE, .persistent = -1,
          MSGID("179a55b524864376975eeb0d85c8046b") },
        { "integrity.changed",        NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("322793fc35634436bf395db4a124ef13") },
        { "integrity.added",          NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("23879a7486b64173b5082139370653d2") },
        { "integrity.removed",        NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("85726d9f83a0439ab3fb265de1bd6315") },
        /* a running process's status changed (integrity/proc.h) */
        { "integrity.process",        NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("2db57874cd3941fe8fab891f2950c446") },
        /* integrity_action's runs: one that did not exit 0 in time means
         * nobody was paged */
        { "integrity.action",         NULL, .persistent = -1,
          MSGID("2955a19c0f7d4a3c86eca4e8e5ab2e13") },
        { "integrity.action-failed",  NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("e368b3a56fe242ad9fb823a5764aec62") },
        /* the hardening assessment (assess.h): a run, and each check that
         * turned bad or good since the one before */
        { "assess.run",       NULL, .persistent = -1,
          MSGID("e0c742a0079646ee884f43c1b5aa287d") },
        { "assess.regressed", NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("0069cbec44ce44c89b8175ebf3e4cbd3") },
        { "assess.fixed",     NULL, .persistent = -1,
          MSGID("5c88d0b0719e424cbb2c168082cdd786") },
        /* the kernel's audit stream (inventoryd/audit-reader.c): sessions
         * on the host; records the kernel or the daemon dropped; audit
         * turned on by the daemon, rules loaded by the CLI */
        { "access.login",  NULL, .persistent = -1,
          MSGID("2e04f4db33e64e128b2797750ff38927") },
        { "access.logout", NULL, .persistent = -1,
          MSGID("75875280272845b38a06ab922ecc48bf") },
        { "access.failed", NULL, .persistent = -1,
          MSGID("78700ae54e6a474bace260530ac12e16") },
        { "access.sudo",   NULL, .persistent = -1,
          MSGID("d9d32c2a6a444602b6f8333361856471") },
        { "audit.lost",    NULL, .flags = KIND_ALERT, .persistent = -1,
          MSGID("a0d6a5219e9940548734b1576c6c2e4b") },
        { "audit.enabled", NULL, .persistent = -1,
          MSGID("a24338b8688a449795ce9015c9d9792b") },
        { "audit.rules",   NULL, .persistent = -1,
          MSGID("3bf691cdcf6f486e9c5557dac26826d4") },
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
