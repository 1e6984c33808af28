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

/* ---- the journal's MESSAGE_IDs and the message catalog ---- */

#include "virtgov/ship/journal.h"
#include "virtgov/util/util.h"

#define CATALOG TEST_DATA_DIR "/../../contrib/virtgov.catalog"

static bool id128_form(const char *id) {
        if (!id || strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
                return false;
        return strspn(id, "0") != 32;
}

/* Every kind has an id of its own: journalctl MESSAGE_ID=... and the
 * catalog find one kind by it, never two. */
Test(kinds, each_kind_has_a_unique_message_id) {
        size_t n = 0;
        for (const EventKind *k = NULL; (k = event_kind_next(k, 0)); n++) {
                cr_expect(id128_form(k->message_id), "%s: MESSAGE_ID '%s' is not 32 lowercase hex digits", k->name,
                          k->message_id ? k->message_id : "(none)");
                cr_expect_str_neq(k->message_id, EVENTLOG_JOURNAL_HEAD_ID, "%s: the chain head's id", k->name);
                for (const EventKind *o = event_kind_next(k, 0); o && k->message_id; o = event_kind_next(o, 0))
                        cr_expect(!o->message_id || strcmp(k->message_id, o->message_id),
                                  "%s and %s share MESSAGE_ID %s", k->name, o->name, k->message_id);
        }
        cr_assert_gt(n, 80, "the whole table was walked (%zu kinds)", n);
}

/* The catalog's entry for id: from its "-- id" line to the next one; NULL
 * when it has none. Caller frees. */
static char *catalog_entry(const char *catalog, const char *id) {
        char head[40];
        snprintf(head, sizeof(head), "-- %s\n", id);
        const char *p = strstr(catalog, head);
        if (!p || (p != catalog && p[-1] != '\n'))
                return NULL;
        const char *end = strstr(p + strlen(head), "\n-- ");
        return strndup(p, end ? (size_t) (end - p) : strlen(p));
}

/* journalctl -x explains every kind (the catalog has an entry under its
 * id, with a subject naming the kind); those that call for action say
 * what to do, not "Nothing"; and the catalog has no entry for an id the
 * table does not hold (a kind's id edited in one place only). */
Test(kinds, the_catalog_covers_every_kind) {
        char *catalog = NULL;
        size_t len;
        cr_assert_eq(vg_read_file(CATALOG, 1 << 20, &catalog, &len), 0, "%s", CATALOG);
        size_t entries = 0;
        for (const EventKind *k = NULL; (k = event_kind_next(k, 0)); entries++) {
                char *e = catalog_entry(catalog, k->message_id);
                cr_expect(e, "%s: no catalog entry for MESSAGE_ID %s", k->name, k->message_id);
                if (!e)
                        continue;
                char subject[128];
                snprintf(subject, sizeof(subject), "\nSubject: virtgov %s: ", k->name);
                cr_expect(strstr(e, subject), "%s: the entry's subject does not name the kind", k->name);
                cr_expect(strstr(e, "\nWhat to do: "), "%s: the entry says nothing of what to do", k->name);
                /* (account.baseline is the first snapshot: nothing changed.) */
                bool must_act = (k->flags & (KIND_ALERT | KIND_ERROR | KIND_UNAUTHORIZED)) ||
                                (!strncmp(k->name, "account.", 8) && strcmp(k->name, "account.baseline"));
                if (must_act)
                        cr_expect_null(strstr(e, "\nWhat to do: Nothing"), "%s calls for action, its entry says none",
                                       k->name);
                free(e);
        }
        char *head = catalog_entry(catalog, EVENTLOG_JOURNAL_HEAD_ID);
        cr_expect(head, "no catalog entry for the chain head");
        free(head);
        entries++;
        size_t in_catalog = 0;
        for (const char *p = catalog; (p = strstr(p, "\n-- ")); p++)
                in_catalog++;
        cr_expect_eq(in_catalog, entries, "the catalog has %zu entries for %zu ids", in_catalog, entries);
        free(catalog);
}
