/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the store derives from events: the domains' rows, their devices,
 * capacity and config facts, and the migrations that fill them. */
#include <errno.h>
#include <sqlite3.h>

#include "store-fixture.h"

TestSuite(store_domains, .init = setup, .fini = teardown);

static DomainRow *find(Store *s, const char *key) {
        DomainRow *d = NULL;
        VgError err = { "" };
        cr_assert_eq(store_find_domain(s, key, &d, &err), 0, "%s", err.text);
        return d;
}

Test(store_domains, domain_state_follows_events) {
        Store *s = open_new();
        const char *u = "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41";
        Event *e = dom_event("domain.defined", "web-7", u, "2026-11-01T10:00:00.000000Z");
        append(s, e);
        event_free(e);
        DomainRow *d = find(s, "web-7");
        cr_assert_str_eq(d->state, "shutoff");
        cr_assert_eq(d->persistent, 1);
        domain_row_free(d);

        e = dom_event("domain.prepare", "web-7", u, "2026-11-01T10:01:00.000000Z");
        json_object_set_new(e->data, "facts", json_pack("{s:s, s:s}", "owner", "alice", "ticket", "CHG-1"));
        append(s, e);
        event_free(e);
        e = dom_event("domain.started", "web-7", u, "2026-11-01T10:01:01.000000Z");
        append(s, e);
        event_free(e);
        d = find(s, u);
        cr_assert_str_eq(d->state, "running");
        cr_assert_str_eq(d->owner, "alice");
        cr_assert_str_eq(d->ticket, "CHG-1");
        cr_assert_str_eq(d->last_start, "2026-11-01T10:01:01.000000Z");
        cr_assert_null(d->last_stop);
        domain_row_free(d);

        e = dom_event("domain.stopped", "web-7", u, "2026-11-01T11:00:00.000000Z");
        append(s, e);
        event_free(e);
        e = dom_event("domain.undefined", "web-7", u, "2026-11-01T12:00:00.000000Z");
        append(s, e);
        event_free(e);
        d = find(s, "web-7");
        cr_assert_str_eq(d->state, "undefined");
        cr_assert_eq(d->persistent, 0);
        cr_assert_str_eq(d->last_stop, "2026-11-01T11:00:00.000000Z");
        domain_row_free(d);
        store_close(s);
}

/* A listed row is borrowed from the query; a found one is the caller's.
 * Both show every column, the same way. */
typedef struct Listed {
        char text[2048];         /* the listed row's columns, one per line */
        char facts[512];         /* its facts_text */
} Listed;

static void row_text(const DomainRow *d, char *buf, size_t n) {
        snprintf(buf, n, "%s\n%s\n%s\n%s\n%d\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%d\n%s", d->uuid, d->name,
                 d->host ?: "(null)", d->state, d->persistent, d->owner ?: "(null)", d->ticket ?: "(null)",
                 d->purpose ?: "(null)", d->first_seen, d->last_seen, d->last_start ?: "(null)",
                 d->last_stop ?: "(null)", d->autostart, d->type ?: "(null)");
}

static int keep_row(const DomainRow *d, void *u) {
        Listed *l = u;
        row_text(d, l->text, sizeof(l->text));
        snprintf(l->facts, sizeof(l->facts), "%s", d->facts ?: "(null)");
        return 0;
}

Test(store_domains, listed_and_found_rows_show_every_column) {
        Store *s = open_new();
        const char *u = "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41";
        Event *e = dom_event("domain.defined", "web-7", u, "2026-11-01T10:00:00.000000Z");
        event_set(&e->host, "kvm-3");
        json_object_set_new(e->data, "autostart", json_true());
        json_object_set_new(e->data, "config_facts", json_pack("{s:s}", "type", "kvm"));
        append(s, e);
        event_free(e);
        e = dom_event("domain.started", "web-7", u, "2026-11-01T10:01:00.000000Z");
        event_set(&e->host, "kvm-3");
        json_object_set_new(e->data, "facts", json_pack("{s:s, s:s, s:s, s:s}", "owner", "alice", "ticket", "CHG-1",
                                                        "purpose", "web front end", "type", "kvm"));
        append(s, e);
        event_free(e);

        Listed l = { 0 };
        cr_assert_eq(store_list_domains(s, LIST_FACTS_TEXT, keep_row, &l, NULL), 0);
        cr_assert_str_eq(l.text, "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41\nweb-7\nkvm-3\nrunning\n1\nalice\nCHG-1\n"
                                 "web front end\n2026-11-01T10:00:00.000000Z\n2026-11-01T10:01:00.000000Z\n"
                                 "2026-11-01T10:01:00.000000Z\n(null)\n1\nkvm");
        cr_assert(strstr(l.facts, "\"owner\":\"alice\""), "%s", l.facts);
        Listed lean = { 0 };
        cr_assert_eq(store_list_domains(s, 0, keep_row, &lean, NULL), 0);
        cr_assert_str_eq(lean.text, l.text);
        cr_assert_str_eq(lean.facts, "(null)");

        /* The found row outlives the store (ASan would see a borrowed one). */
        DomainRow *d = find(s, "web-7");
        store_close(s);
        char found[2048];
        row_text(d, found, sizeof(found));
        cr_assert_str_eq(found, l.text);
        cr_assert_str_eq(d->facts, l.facts, "the found row's facts, as stored, outlive the store");
        json_t *j = domain_row_to_json(d);
        cr_assert(json_is_null(json_object_get(j, "facts")), "its place, for show to decode or list to copy into");
        cr_assert_str_eq(json_string_value(json_object_get(j, "purpose")), "web front end");
        json_decref(j);
        domain_row_free(d);
}

typedef struct Page {
        char uuids[8][40];
        int n;
} Page;

static int page_row(const DomainRow *d, void *u) {
        Page *p = u;
        cr_assert_lt(p->n, 8);
        snprintf(p->uuids[p->n++], sizeof(p->uuids[0]), "%s", d->uuid);
        cr_assert_null(d->facts);
        return 0;
}

Test(store_domains, host_domains_come_a_page_at_a_time_by_uuid) {
        Store *s = open_new();
        /* Five on h1 (appended out of UUID order), one undefined there, one on h2. */
        const char *uuids[] = { "u-5", "u-1", "u-4", "u-2", "u-3", "u-6", "u-0" };
        for (int i = 0; i < 7; i++) {
                Event *e = dom_event(i == 5 ? "domain.undefined" : "domain.defined", uuids[i], uuids[i], NULL);
                event_set(&e->host, i == 6 ? "h2" : "h1");
                append(s, e);
                event_free(e);
        }
        Page p = { 0 };
        cr_assert_eq(store_host_domains(s, "h1", NULL, 2, page_row, &p, NULL), 2);
        cr_assert_eq(store_host_domains(s, "h1", p.uuids[p.n - 1], 2, page_row, &p, NULL), 2);
        cr_assert_eq(store_host_domains(s, "h1", p.uuids[p.n - 1], 2, page_row, &p, NULL), 1, "the last page");
        cr_assert_eq(store_host_domains(s, "h1", p.uuids[p.n - 1], 2, page_row, &p, NULL), 0);
        cr_assert_eq(p.n, 5);
        for (int i = 0; i < 5; i++) {
                char want[8];
                snprintf(want, sizeof(want), "u-%d", i + 1);
                cr_assert_str_eq(p.uuids[i], want);
        }
        Page other = { 0 };
        cr_assert_eq(store_host_domains(s, "h2", "", 10, page_row, &other, NULL), 1);
        cr_assert_str_eq(other.uuids[0], "u-0");
        store_close(s);
}

Test(store_domains, a_late_event_fills_gaps_but_does_not_override) {
        Store *s = open_new();
        Event *e = dom_event("domain.stopped", "db-1", "u-2", "2026-11-01T12:00:00.000000Z");
        append(s, e);
        event_free(e);
        /* folded from the spool later, but it happened earlier */
        e = dom_event("domain.started", "db-1", "u-2", "2026-11-01T09:00:00.000000Z");
        append(s, e);
        event_free(e);
        DomainRow *d = find(s, "db-1");
        cr_assert_str_eq(d->state, "shutoff");
        cr_assert_str_eq(d->last_start, "2026-11-01T09:00:00.000000Z");
        cr_assert_str_eq(d->first_seen, "2026-11-01T09:00:00.000000Z");
        cr_assert_str_eq(d->last_seen, "2026-11-01T12:00:00.000000Z");
        domain_row_free(d);
        store_close(s);
}

Test(store_domains, list_hides_undefined_unless_all) {
        Store *s = open_new();
        Event *e = dom_event("domain.defined", "a", "u-a", NULL);
        append(s, e);
        event_free(e);
        e = dom_event("domain.undefined", "b", "u-b", NULL);
        append(s, e);
        event_free(e);
        int n = 0;
        cr_assert_eq(store_list_domains(s, 0, (DomainCallback) count_cb, &n, NULL), 0);
        cr_assert_eq(n, 1);
        n = 0;
        cr_assert_eq(store_list_domains(s, LIST_ALL, (DomainCallback) count_cb, &n, NULL), 0);
        cr_assert_eq(n, 2);
        DomainRow *d = NULL;
        cr_assert_eq(store_find_domain(s, "nope", &d, NULL), -ENOENT);
        store_close(s);
}

/* Devices come from the facts' JSON, a row per device kept by triggers:
 * every field lands in its slot, devices do not bleed into each other,
 * undefined domains are left out. */
Test(store_domains, devices_one_row_each_by_name) {
        Store *s = open_new();
        define_with_facts(s, "b", "u-b", "{\"disks\": [{\"type\": \"file\", \"source\": \"/i/b.qcow2\","
                          " \"target\": \"vda\", \"backing\": [\"/i/base.raw\"]},"
                          " {\"type\": \"file\", \"source\": \"/i/x.iso\", \"target\": \"sda\", \"readonly\": true},"
                          " {\"type\": \"block\", \"source\": \"/dev/d\", \"shareable\": true}],"
                          " \"interfaces\": [{\"type\": \"network\", \"source\": \"prod\", \"mac\": \"52:54:00:00:00:02\"}]}");
        define_with_facts(s, "a", "u-a", "{\"interfaces\": [{\"type\": \"bridge\", \"source\": \"br0\","
                          " \"mac\": \"52:54:00:00:00:01\"}, {\"mac\": \"52:54:00:00:00:03\"}]}");
        define_with_facts(s, "c", "u-c", "{\"disks\": [{\"source\": \"/i/c.qcow2\"}]}");
        Event *e = dom_event("domain.undefined", "c", "u-c", NULL);
        append(s, e);
        event_free(e);

        char out[4096] = "";
        VgError err = { "" };
        cr_assert_eq(store_devices(s, device_line, out, &err), 0, "%s", err.text);
        cr_assert_str_eq(out,
                "a interface type=bridge source=br0 target=(null) mac=52:54:00:00:00:01 ro=(null) shared=(null)"
                " backing=(null)\n"
                "a interface type=(null) source=(null) target=(null) mac=52:54:00:00:00:03 ro=(null) shared=(null)"
                " backing=(null)\n"
                "b disk type=file source=/i/b.qcow2 target=vda mac=(null) ro=(null) shared=(null)"
                " backing=[\"/i/base.raw\"]\n"
                "b disk type=file source=/i/x.iso target=sda mac=(null) ro=1 shared=(null) backing=(null)\n"
                "b disk type=block source=/dev/d target=(null) mac=(null) ro=(null) shared=1 backing=(null)\n"
                "b interface type=network source=prod target=(null) mac=52:54:00:00:00:02 ro=(null) shared=(null)"
                " backing=(null)\n");
        store_close(s);

        /* Facts edited into something that is not JSON before the devices
         * were listed from them (at the migration that made the table):
         * the error names the domain. */
        raw_exec("UPDATE domains SET facts = '{\"disks\": [' WHERE name = 'b';" UNDO_SCHEMA_11 UNDO_SCHEMA_10 UNDO_SCHEMA_9 "PRAGMA user_version = 8");
        s = open_new();
        VgError e2 = { "" };
        cr_assert_eq(store_devices(s, device_line, out, &e2), -EBADMSG);
        cr_assert(strstr(e2.text, "domain 'b' (u-b)") && strstr(e2.text, "not JSON"), "%s", e2.text);
        store_close(s);
}

static void facts_event(Store *s, const char *kind, const char *key, const char *facts) {
        Event *e = dom_event(kind, "a", "u-a", NULL);
        json_object_set_new(e->data, key, json_loads(facts, 0, NULL));
        append(s, e);
        event_free(e);
}

/* The devices follow the definition: replaced (not added to) when the
 * facts change, the daemon's definition before the hook's, and what a
 * later event with other facts does not change stays. */
Test(store_domains, devices_follow_the_definition) {
        Store *s = open_new();
        facts_event(s, "domain.defined", "facts", "{\"disks\": [{\"source\": \"/i/one\"}, {\"source\": \"/i/two\"}]}");
        facts_event(s, "domain.prepare", "facts", "{\"disks\": [{\"source\": \"/i/one\"}, {\"source\": \"/i/two\"}]}");
        cr_assert(strstr(devices_text(s), "source=/i/one") && strstr(devices_text(s), "source=/i/two"));
        facts_event(s, "domain.defined", "facts", "{\"disks\": [{\"source\": \"/i/three\"}]}");
        cr_assert_str_eq(devices_text(s), "a disk type=(null) source=/i/three target=(null) mac=(null) ro=(null)"
                         " shared=(null) backing=(null)\n");
        /* The daemon's reading of the inactive definition wins over the
         * hook's facts, then and later. */
        facts_event(s, "domain.defined", "config_facts", "{\"interfaces\": [{\"mac\": \"52:54:00:00:00:09\"}]}");
        facts_event(s, "domain.prepare", "facts", "{\"disks\": [{\"source\": \"/i/four\"}]}");
        cr_assert_str_eq(devices_text(s), "a interface type=(null) source=(null) target=(null) mac=52:54:00:00:00:09"
                         " ro=(null) shared=(null) backing=(null)\n");
        /* The type, derived with the devices, from the same facts. */
        facts_event(s, "domain.defined", "config_facts", "{\"type\": \"lxc\", \"interfaces\": []}");
        DomainRow *d = NULL;
        VgError err = { "" };
        cr_assert_eq(store_find_domain(s, "u-a", &d, &err), 0, "%s", err.text);
        cr_assert_str_eq(d->type, "lxc");
        domain_row_free(d);
        cr_assert_str_eq(devices_text(s), "");
        facts_event(s, "domain.defined", "config_facts",
                    "{\"type\": \"kvm\", \"interfaces\": [{\"mac\": \"52:54:00:00:00:09\"}]}");
        /* An event older than what the row holds changes nothing. */
        Event *e = dom_event("domain.defined", "a", "u-a", "2020-01-01T00:00:00.000000Z");
        json_object_set_new(e->data, "config_facts", json_loads("{\"disks\": [{\"source\": \"/i/old\"}]}", 0, NULL));
        append(s, e);
        event_free(e);
        cr_assert(strstr(devices_text(s), "mac=52:54:00:00:00:09") && !strstr(devices_text(s), "/i/old"));
        store_close(s);
}

/* An inventory from before the devices table gets it filled from the
 * facts it holds. */
Test(store_domains, migration_fills_devices_from_facts) {
        Store *s = open_new();
        define_with_facts(s, "m", "u-m", "{\"type\": \"qemu\", \"disks\": [{\"source\": \"/i/m\", \"readonly\": true}],"
                          " \"interfaces\": [{\"mac\": \"52:54:00:00:00:0m\"}]}");
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 UNDO_SCHEMA_10 UNDO_SCHEMA_9 "PRAGMA user_version = 8");
        s = open_new();   /* migrates */
        DomainRow *d = NULL;
        VgError err = { "" };
        cr_assert_eq(store_find_domain(s, "u-m", &d, &err), 0, "%s", err.text);
        cr_assert_str_eq(d->type, "qemu");
        domain_row_free(d);
        cr_assert_str_eq(devices_text(s),
                         "m disk type=(null) source=/i/m target=(null) mac=(null) ro=1 shared=(null) backing=(null)\n"
                         "m interface type=(null) source=(null) target=(null) mac=52:54:00:00:00:0m ro=(null)"
                         " shared=(null) backing=(null)\n");
        store_close(s);
}

/* Schema 10 replaces the listing's index with one that carries the state. */
Test(store_domains, migration_to_10_indexes_the_state_for_listings) {
        Store *s = open_new();
        define_with_facts(s, "m", "u-m", "{\"disks\": [{\"source\": \"/i/m\"}]}");
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 UNDO_SCHEMA_10 "PRAGMA user_version = 9");
        s = open_new();   /* migrates */
        store_close(s);
        cr_assert_eq(user_version(), store_schema_version());
        sqlite3 *raw;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        int old = 0, new = 0;
        sqlite3_exec(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'domains_name_uuid'", count_int, &old, NULL);
        sqlite3_exec(raw, "SELECT count(*) FROM pragma_index_info('domains_listing')"
                     " WHERE name IN ('name', 'uuid', 'state')", count_int, &new, NULL);
        sqlite3_close(raw);
        cr_assert(old == 0 && new == 3, "old index %d, new index's columns %d", old, new);
        s = open_new();
        cr_assert_str_eq(devices_text(s), "m disk type=(null) source=/i/m target=(null) mac=(null) ro=(null)"
                         " shared=(null) backing=(null)\n");
        store_close(s);
}

/* Capacity sums what the facts say, of defined domains, running or all. */
Test(store_domains, domain_totals) {
        Store *s = open_new();
        define_with_facts(s, "a", "u-a", "{\"vcpus\": 2, \"memory_kib\": 1024}");
        define_with_facts(s, "b", "u-b", "{\"vcpus\": 4, \"memory_kib\": 2048}");
        define_with_facts(s, "c", "u-c", "{\"vcpus\": 8, \"memory_kib\": 4096}");
        Event *e = dom_event("domain.started", "a", "u-a", NULL);
        append(s, e);
        event_free(e);
        e = dom_event("domain.undefined", "c", "u-c", NULL);
        append(s, e);
        event_free(e);
        DomainTotals t;
        VgError err = { "" };
        cr_assert_eq(store_domain_totals(s, true, &t, &err), 0, "%s", err.text);
        cr_assert(t.n == 1 && t.vcpus == 2 && t.memory_kib == 1024, "%lld %lld %lld", t.n, t.vcpus, t.memory_kib);
        cr_assert_eq(store_domain_totals(s, false, &t, &err), 0, "%s", err.text);
        cr_assert(t.n == 2 && t.vcpus == 6 && t.memory_kib == 3072, "%lld %lld %lld", t.n, t.vcpus, t.memory_kib);
        store_close(s);
}

/* The daemon's reconcile compares a definition by its text first: the
 * stored config facts must be exactly what the daemon renders (compact,
 * keys sorted), non-ASCII, escapes and numbers included. */
Test(store_domains, config_facts_are_stored_as_rendered) {
        Store *s = open_new();
        const char *cf = "{\"name\": \"caf\\u00e9 \\\"q\\\" \\u0001 \\ud83d\\ude00\", \"vcpus\": 4, \"ratio\": 0.1,"
                         " \"disks\": [{\"target\": \"vda\", \"backing\": [\"/a\", \"/b\"]}], \"nil\": null, \"on\": true}";
        facts_event(s, "domain.defined", "config_facts", cf);
        json_t *j = json_loads(cf, 0, NULL);
        char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS), *got = NULL;
        VgError err = { "" };
        cr_assert_eq(store_config_facts(s, "u-a", &got, &err), 0, "%s", err.text);
        cr_assert_str_eq(got, want);
        cr_assert_eq(store_config_facts(s, "u-none", &got, &err), -ENOENT);
        free(want);
        free(got);
        json_decref(j);
        store_close(s);
}
