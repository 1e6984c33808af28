/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <string.h>

#include "virtgov/model/kinds.h"

/* The facts doc/ARCHITECTURE.md and libvirt fix, each read back through the table. */

Test(kinds, hook_ops_map_to_their_kinds) {
        static const char *const qemu[][2] = {
                { "prepare", "domain.prepare" }, { "start", "domain.start" }, { "started", "domain.started" },
                { "stopped", "domain.stopped" }, { "release", "domain.release" }, { "migrate", "domain.migrate" },
                { "restore", "domain.restore" }, { "reconnect", "domain.reconnect" }, { "attach", "domain.attach" },
        };
        for (size_t i = 0; i < sizeof(qemu) / sizeof(qemu[0]); i++) {
                const EventKind *k = event_kind_of_hook_op(false, qemu[i][0]);
                cr_assert(k, "qemu op %s", qemu[i][0]);
                cr_expect_str_eq(k->name, qemu[i][1]);
        }
        cr_expect_str_eq(event_kind_of_hook_op(true, "start")->name, "network.start");
        cr_expect_str_eq(event_kind_of_hook_op(true, "plugged")->name, "network.port-created");
        cr_expect_str_eq(event_kind_of_hook_op(true, "unplugged")->name, "network.port-deleted");
        cr_expect_null(event_kind_of_hook_op(true, "prepare"));
        cr_expect_null(event_kind_of_hook_op(false, "plugged"));
        cr_expect_null(event_kind_of_hook_op(false, "frobnicate"));
        cr_expect_null(event_kind_of_hook_op(false, NULL));
}

/* Only prepare, migrate and restore may block: never reconnect (that kills
 * a running guest), never anything of a network. */
Test(kinds, gated_kinds_are_the_three_libvirt_lets_block) {
        const char *seen[8];
        size_t n = 0;
        for (const EventKind *k = NULL; (k = event_kind_next(k, KIND_GATED));) {
                cr_assert_lt(n, 8);
                seen[n++] = k->name;
                cr_expect(k->gate_op);
        }
        cr_assert_eq(n, 3);
        cr_expect_str_eq(seen[0], "domain.prepare");
        cr_expect_str_eq(seen[1], "domain.migrate");
        cr_expect_str_eq(seen[2], "domain.restore");
        cr_expect_str_eq(event_kind("domain.prepare")->gate_op, "start");
        cr_expect_not(event_kind("domain.reconnect")->flags & KIND_GATED);
}

Test(kinds, unauthorized) {
        cr_expect(event_kind_unauthorized("domain.prepare", "deny"));
        cr_expect_not(event_kind_unauthorized("domain.prepare", "allow"));
        cr_expect_not(event_kind_unauthorized("domain.prepare", NULL));
        cr_expect(event_kind_unauthorized("policy.bypass", NULL));
        cr_expect(event_kind_unauthorized("policy.violation", "deny"));
        cr_expect_not(event_kind_unauthorized("policy.error", "deny"));
        cr_expect_not(event_kind_unauthorized("domain.started", "deny"));
        cr_expect_not(event_kind_unauthorized("no.such-kind", "deny"));
}

Test(kinds, states) {
        cr_expect_str_eq(event_kind("domain.started")->state, "running");
        cr_expect(event_kind("domain.started")->start);
        cr_expect(event_kind("domain.crashed")->stop);
        cr_expect_eq(event_kind("domain.undefined")->persistent, 0);
        cr_expect_eq(event_kind("domain.defined")->persistent, 1);
        cr_expect(event_kind("domain.defined")->flags & KIND_DEFINES);
        cr_expect_eq(event_kind("domain.prepare")->persistent, -1);
        cr_expect_null(event_kind("domain.prepare")->state);
        cr_expect_null(event_kind("domain.unknown"));
}

Test(kinds, transitions) {
        cr_expect_str_eq(event_kind_transition("shutoff", "running")->name, "domain.started");
        cr_expect_str_eq(event_kind_transition("paused", "running")->name, "domain.resumed");
        cr_expect_str_eq(event_kind_transition("pmsuspended", "running")->name, "domain.resumed");
        cr_expect_str_eq(event_kind_transition("running", "paused")->name, "domain.suspended");
        cr_expect_str_eq(event_kind_transition("running", "pmsuspended")->name, "domain.pmsuspended");
        cr_expect_str_eq(event_kind_transition("running", "crashed")->name, "domain.crashed");
        cr_expect_str_eq(event_kind_transition("running", "shutoff")->name, "domain.stopped");
}

/* Each kind once: a duplicate row would make event_kind's answer depend
 * on the order. */
Test(kinds, names_unique) {
        for (const EventKind *a = NULL; (a = event_kind_next(a, 0));)
                for (const EventKind *b = a; (b = event_kind_next(b, 0));)
                        cr_expect_str_neq(a->name, b->name);
}

/* What the syslog copy raises: findings at warning, failures to decide at
 * err (eventlog_severity reads these). */
Test(kinds, alerts_and_errors) {
        cr_expect(event_kind("integrity.changed")->flags & KIND_ALERT);
        cr_expect(event_kind("policy.bypass")->flags & KIND_ALERT);
        cr_expect(event_kind("daemon.degraded")->flags & KIND_ALERT);
        cr_expect(event_kind("policy.error")->flags & KIND_ERROR);
        cr_expect_not(event_kind("integrity.baseline")->flags & (KIND_ALERT | KIND_ERROR));
        cr_expect(event_kind("integrity.accepted")->flags & KIND_BASELINE);
        cr_expect_not(event_kind("integrity.changed")->flags & KIND_BASELINE);
}
