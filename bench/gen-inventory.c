/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gen-inventory DB DOMAINS EVENTS FACTS: a synthetic inventory of the given
 * size, through the same store_append_event every writer uses (so the
 * domains table and indexes are what a real host would have), in
 * transactions of 10,000 events. FACTS is a domain's facts (JSON) to copy
 * into every event, with the name, UUID, owner, disk paths and MACs made
 * the domain's own: reports read them, and their size is what costs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "virtgov/store/store.h"

static const char *const kinds[] = { "domain.prepare", "domain.start", "domain.started", "domain.stopped",
                                     "domain.release", "domain.defined" };

static json_t *facts_of(json_t *template, long d, const char *name, const char *uuid) {
        json_t *f = json_deep_copy(template), *v;
        size_t i;
        json_object_set_new(f, "name", json_string(name));
        json_object_set_new(f, "uuid", json_string(uuid));
        json_object_set_new(f, "owner", json_string(d % 7 ? "ops" : "dev"));
        json_array_foreach(json_object_get(f, "disks"), i, v) {
                char path[96];
                snprintf(path, sizeof(path), "/var/lib/libvirt/images/%s-%zu.qcow2", name, i);
                json_object_set_new(v, "source", json_string(path));
        }
        json_array_foreach(json_object_get(f, "interfaces"), i, v) {
                char mac[32];
                snprintf(mac, sizeof(mac), "52:54:%02zx:%02lx:%02lx:%02lx", i, (d >> 16) & 0xff, (d >> 8) & 0xff,
                         d & 0xff);
                json_object_set_new(v, "mac", json_string(mac));
        }
        return f;
}

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: gen-inventory DB DOMAINS EVENTS FACTS\n");
                return 2;
        }
        json_error_t jerr;
        json_t *template = json_load_file(argv[4], 0, &jerr);
        if (!json_is_object(template)) {
                fprintf(stderr, "%s:%d:%d: %s\n", argv[4], jerr.line, jerr.column, jerr.text);
                return 1;
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
                json_object_set_new(e->data, "facts", facts_of(template, d, name, uuid));
                if (store_append_event(s, e, NULL, &err) < 0) {
                        fprintf(stderr, "%s\n", err.text);
                        return 1;
                }
                event_free(e);
                if (i % 10000 == 9999 || i == events - 1)
                        store_commit(s, &err);
        }
        store_close(s);
        json_decref(template);
        return 0;
}
