/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gen-inventory DB DOMAINS EVENTS: a synthetic inventory of the given size,
 * through the same store_append_event every writer uses (so the domains
 * table and indexes are what a real host would have), in transactions of
 * 10,000 events.
 */
#include <stdio.h>
#include <stdlib.h>

#include "virtgov/store.h"

static const char *const kinds[] = { "domain.prepare", "domain.start", "domain.started", "domain.stopped",
                                     "domain.release", "domain.defined" };

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: gen-inventory DB DOMAINS EVENTS\n");
                return 2;
        }
        long domains = atol(argv[2]), events = atol(argv[3]);
        Store *s = NULL;
        VgError err = { "" };
        if (store_open(argv[1], STORE_CREATE, 5000, &s, &err) < 0) {
                fprintf(stderr, "%s\n", err.text);
                return 1;
        }
        int64_t t0 = vg_now_us() - events * 1000000LL;   /* one event a second, ending now */
        for (long i = 0; i < events; i++) {
                if (i % 10000 == 0 && store_begin(s, &err) < 0)
                        break;
                long d = i < domains ? i : random() % domains;
                char name[32], uuid[64];
                snprintf(name, sizeof(name), "vm-%06ld", d);
                snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012ld", d);
                Event *e = event_new("hook", i < domains ? "domain.defined" : kinds[i % 6]);
                vg_time_format(t0 + i * 1000000LL, e->time);
                event_set(&e->domain, name);
                event_set(&e->uuid, uuid);
                json_object_set_new(e->data, "facts", json_pack("{s:s, s:s, s:s, s:i, s:i, s:[{s:s, s:s, s:s}]}",
                        "name", name, "uuid", uuid, "owner", d % 7 ? "ops" : "dev", "vcpus", 2, "memory_kib", 2097152,
                        "disks", "type", "file", "device", "disk", "source", "/var/lib/libvirt/images/x.qcow2"));
                if (store_append_event(s, e, &err) < 0) {
                        fprintf(stderr, "%s\n", err.text);
                        return 1;
                }
                event_free(e);
                if (i % 10000 == 9999 || i == events - 1)
                        store_commit(s, &err);
        }
        store_close(s);
        return 0;
}
