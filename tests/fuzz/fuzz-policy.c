/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy file, and a decision under every policy that parses: a
 * policy that loads must never make the engine misbehave. */
#include <string.h>

#include "virtgov/policy/policy.h"

static const char domain[] =
        "<domain type='qemu'><name>web-7</name><uuid>4dea22b3-1d52-d8f3-2516-782e98a23fa0</uuid>"
        "<memory unit='KiB'>1048576</memory><vcpu>2</vcpu>"
        "<metadata><vg:governance xmlns:vg='urn:virtgov:1'><vg:owner>alice</vg:owner>"
        "<vg:ticket>CHG-1</vg:ticket></vg:governance></metadata>"
        "<devices><disk type='file' device='disk'><source file='/var/lib/libvirt/images/web-7.qcow2'/>"
        "<target dev='vda'/></disk><interface type='network'><source network='prod'/>"
        "<mac address='52:54:00:00:00:01'/></interface></devices></domain>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static DomainFacts *facts;
        VgError err = { "" };
        if (!facts && domxml_parse(domain, strlen(domain), &facts, &err) < 0)
                __builtin_trap();
        Policy *p = NULL;
        if (policy_parse((const char *) data, size, "fuzz.json", &p, &err) < 0)
                return 0;
        Approval a = { .key = "web-7", .owner = "alice", .until_us = 2000000000000000 };
        Ticket t = { .id = "CHG-1", .domain_glob = "web-*", .action = "start",
                     .from_us = 1000000000000000, .until_us = 3000000000000000 };
        ImageState img = { .path = "/var/lib/libvirt/images/web-7.qcow2", .trusted = false, .why = "not in the library" };
        static const char *const ops[] = { "start", "define", "migrate", "restore" };
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
                PolicyContext ctx = { .now_us = 1800000000000000, .op = ops[i], .host = "kvm1",
                                      .approvals = &a, .n_approvals = i & 1, .tickets = &t, .n_tickets = 1,
                                      .images = &img, .n_images = 1 };
                Decision d = { 0 };
                if (policy_decide(p, facts, &ctx, &d) == 0)
                        json_decref(decision_to_json(&d, p));
                decision_clear(&d);
        }
        policy_free(p);
        return 0;
}
