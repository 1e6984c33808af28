/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spool-events DIR --each-kind: writes one event of every kind of the
 * table (lib/model/kinds.c) into the spool DIR, each with the fields the journal
 * copy carries (domain, uuid, decision, reason, actor and its login uid,
 * ticket), and prints "KIND MESSAGE_ID" for each on stdout.
 * spool-events DIR N: writes N domain.started events, in one write (a
 * burst, as a fold of many hook events is).
 * Used by tests/integration/test-journal.sh; the events go through the real
 * fold and the daemon's real copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/model/kinds.h"
#include "virtgov/store/spool.h"

static Event *each_kind(const EventKind *k, unsigned i) {
        Event *e = event_new("daemon", k->name);
        char name[64];
        snprintf(name, sizeof(name), "vg-j-%u", i);
        event_set(&e->domain, name);
        event_set(&e->uuid, "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41");
        event_set(&e->actor, "alice");
        event_set(&e->reason, "a reason with \"quotes\" and\na newline");
        if (k->flags & KIND_GATED)
                event_set(&e->decision, "deny");
        json_object_set_new(e->data, "actor", json_pack("{s:s, s:i}", "name", "alice", "auid", 1000));
        json_object_set_new(e->data, "facts", json_pack("{s:s}", "ticket", "CHG-1042"));
        return e;
}

int main(int argc, char **argv) {
        VgError err = { "" };
        if (argc != 3) {
                fprintf(stderr, "usage: spool-events DIR --each-kind | DIR N\n");
                return 2;
        }
        if (!strcmp(argv[2], "--each-kind")) {
                unsigned i = 0;
                for (const EventKind *k = NULL; (k = event_kind_next(k, 0)); i++) {
                        Event *e = each_kind(k, i);
                        if (spool_write(argv[1], e, &err) < 0) {
                                fprintf(stderr, "spool-events: %s\n", err.text);
                                return 1;
                        }
                        printf("%s %s\n", k->name, k->message_id ? k->message_id : "-");
                        event_free(e);
                }
                return 0;
        }
        long n = strtol(argv[2], NULL, 10);
        char **texts = calloc((size_t) n, sizeof(char *));
        for (long i = 0; texts && i < n; i++) {
                Event *e = event_new("libvirt", "domain.started");
                char name[32];
                snprintf(name, sizeof(name), "vm-%06ld", i);
                event_set(&e->domain, name);
                texts[i] = event_render(e, NULL);
                event_free(e);
                if (!texts[i])
                        return 1;
        }
        int r = !texts || spool_append(argv[1], (const char *const *) texts, (size_t) n, &err) < 0;
        if (r)
                fprintf(stderr, "spool-events: %s\n", err.text);
        for (long i = 0; texts && i < n; i++)
                free(texts[i]);
        free(texts);
        return r;
}
