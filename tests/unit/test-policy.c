/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-driven: tests/data/policy/<case>/ holds policy.json, context.json
 * (the domain, by the name of a tests/data/domxml case, the time, op, host,
 * approvals, tickets and image states) and expected.json (verdict, and
 * optionally enforced, rule, reasons_contain, reason_count).
 * tests/data/policy-invalid/<case>/ holds a policy.json that must be
 * refused, and error.txt, a fragment the error must contain.
 */
#include <errno.h>
#include <sqlite3.h>

#include "test-helpers.h"
#include "virtgov/policy/gate.h"
#include "virtgov/policy/policy.h"
#include "virtgov/store/store.h"

static int64_t t(json_t *j, const char *key) {
        int64_t us = 0;
        const char *s = json_string_value(json_object_get(j, key));
        if (s)
                cr_assert_eq(vg_time_parse(s, 0, &us), 0, "bad time '%s'", s);
        return us;
}

static void run_case(const char *dir, const char *name) {
        char p[8192];
        snprintf(p, sizeof(p), "%s/%s/policy.json", dir, name);
        Policy *pol = NULL;
        VgError err = { "" };
        cr_assert_eq(policy_load(p, &pol, &err), 0, "case %s: %s", name, err.text);

        snprintf(p, sizeof(p), "%s/%s/context.json", dir, name);
        json_t *cj = json_load_file(p, 0, NULL);
        cr_assert_not_null(cj, "case %s: context.json", name);
        snprintf(p, sizeof(p), "%s/%s/expected.json", dir, name);
        json_t *ej = json_load_file(p, 0, NULL);
        cr_assert_not_null(ej, "case %s: expected.json", name);

        snprintf(p, sizeof(p), "%s/domxml/%s/input.xml", TEST_DATA_DIR,
                 json_string_value(json_object_get(cj, "domain")));
        size_t len;
        char *xml = read_data(p, &len);
        cr_assert_not_null(xml, "case %s: %s", name, p);
        DomainFacts *f = NULL;
        cr_assert_eq(domxml_parse(xml, len, &f, &err), 0, "%s", err.text);

        Approval ap[8] = { 0 };
        Ticket tk[8] = { 0 };
        ImageState im[8] = { 0 };
        IntegrityBlock ib[8] = { 0 };
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(cj, "approvals"), i, v)
                ap[i] = (Approval) { .key = json_string_value(json_object_get(v, "key")), .until_us = t(v, "until") };
        size_t n_ap = json_array_size(json_object_get(cj, "approvals"));
        json_array_foreach(json_object_get(cj, "tickets"), i, v)
                tk[i] = (Ticket) { .id = json_string_value(json_object_get(v, "id")),
                                   .domain_glob = json_string_value(json_object_get(v, "domain")),
                                   .action = json_string_value(json_object_get(v, "action")),
                                   .from_us = t(v, "from"), .until_us = t(v, "until") };
        size_t n_tk = json_array_size(json_object_get(cj, "tickets"));
        json_array_foreach(json_object_get(cj, "images"), i, v)
                im[i] = (ImageState) { .path = json_string_value(json_object_get(v, "path")),
                                       .trusted = json_is_true(json_object_get(v, "trusted")),
                                       .why = json_string_value(json_object_get(v, "why")) };
        size_t n_im = json_array_size(json_object_get(cj, "images"));
        json_array_foreach(json_object_get(cj, "integrity"), i, v)
                ib[i] = (IntegrityBlock) { .path = json_string_value(json_object_get(v, "path")),
                                           .why = json_string_value(json_object_get(v, "why")) };
        size_t n_ib = json_array_size(json_object_get(cj, "integrity"));
        PolicyContext ctx = { .now_us = t(cj, "now"), .op = json_string_value(json_object_get(cj, "op")),
                              .host = json_string_value(json_object_get(cj, "host")),
                              .approvals = ap, .n_approvals = n_ap, .tickets = tk, .n_tickets = n_tk,
                              .images = im, .n_images = n_im, .integrity = ib, .n_integrity = n_ib };

        Decision d;
        cr_assert_eq(policy_decide(pol, f, &ctx, &d), 0);
        char *got = json_dumps(d.reasons, 0);
        const char *want = json_string_value(json_object_get(ej, "verdict"));
        cr_expect_str_eq(d.verdict == VERDICT_ALLOW ? "allow" : "deny", want, "case %s: reasons %s", name, got);
        json_t *enforced = json_object_get(ej, "enforced");
        if (enforced)
                cr_expect_eq(d.enforced, json_is_true(enforced), "case %s: enforced", name);
        const char *rule = json_string_value(json_object_get(ej, "rule"));
        if (rule)
                cr_expect_str_eq(d.rule, rule, "case %s: rule", name);
        json_array_foreach(json_object_get(ej, "reasons_contain"), i, v) {
                bool found = false;
                size_t k;
                json_t *r;
                json_array_foreach(d.reasons, k, r)
                        found = found || strstr(json_string_value(r), json_string_value(v));
                cr_expect(found, "case %s: no reason contains '%s' in %s", name, json_string_value(v), got);
        }
        json_t *count = json_object_get(ej, "reason_count");
        if (count)
                cr_expect_eq(json_array_size(d.reasons), (size_t) json_integer_value(count), "case %s: %s", name, got);
        free(got);
        decision_clear(&d);
        domain_facts_free(f);
        free(xml);
        json_decref(cj);
        json_decref(ej);
        policy_free(pol);
}

static size_t each_case(const char *sub, void (*fn)(const char *, const char *)) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", TEST_DATA_DIR, sub);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "%s", dir);
        struct dirent *de;
        size_t n = 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        fn(dir, de->d_name);
                        n++;
                }
        closedir(d);
        return n;
}

Test(policy, decision_cases) {
        cr_assert_geq(each_case("policy", run_case), 21);
}

static void run_invalid(const char *dir, const char *name) {
        char p[8192];
        snprintf(p, sizeof(p), "%s/%s/error.txt", dir, name);
        char *want = read_data(p, NULL);
        cr_assert_not_null(want);
        want[strcspn(want, "\n")] = '\0';
        snprintf(p, sizeof(p), "%s/%s/policy.json", dir, name);
        Policy *pol = NULL;
        VgError err = { "" };
        cr_expect_eq(policy_load(p, &pol, &err), -EINVAL, "case %s was accepted", name);
        cr_expect(strstr(err.text, want), "case %s: '%s' lacks '%s'", name, err.text, want);
        policy_free(pol);
        free(want);
}

Test(policy, invalid_policies_are_refused_with_a_place) {
        cr_assert_geq(each_case("policy-invalid", run_invalid), 11);
}

Test(policy, missing_file) {
        Policy *pol = NULL;
        VgError err = { "" };
        cr_assert_eq(policy_load("/nonexistent/policy.json", &pol, &err), -ENOENT);
}

Test(policy, path_under) {
        cr_assert(policy_path_under("/var/lib/libvirt/images/a.qcow2", "/var/lib/libvirt/images"));
        cr_assert(policy_path_under("/var/lib/libvirt/images/a.qcow2", "/var/lib/libvirt/images/"));
        cr_assert(!policy_path_under("/var/lib/libvirt/images-evil/a", "/var/lib/libvirt/images"));
        cr_assert(!policy_path_under("/var/lib/libvirt/images/../../../etc/shadow", "/var/lib/libvirt/images"));
        cr_assert(!policy_path_under("/var/lib/libvirt/images/./a", "/var/lib/libvirt/images"));
        cr_assert(!policy_path_under("/var/lib/libvirt/images//a", "/var/lib/libvirt/images"));
        cr_assert(!policy_path_under("/var/lib/libvirt/images", "/var/lib/libvirt/images"));
        cr_assert(!policy_path_under("relative/a", "relative"));
}

/* policy_parse takes len bytes, not a C string: the error's place is still
 * found, and nothing past the buffer is read (ASan checks; the fuzzer
 * found the overread). */
Test(policy, parse_an_unterminated_buffer) {
        static const char text[] = "{ \"rules\": [ { \"name\": \"r\",\n  \"require\": { \"max_vcpu\": 2 } } ] }";
        size_t len = sizeof(text) - 1;
        char *buf = malloc(len);   /* exactly len: no NUL after it */
        memcpy(buf, text, len);
        Policy *p = NULL;
        VgError err = { "" };
        cr_assert_eq(policy_parse(buf, len, "buf.json", &p, &err), -EINVAL);
        cr_assert(strstr(err.text, "buf.json:2:16: rules[0].require: unknown key 'max_vcpu'"), "%s", err.text);
        free(buf);
}

/* The gate's decision through a real inventory: the reason it gives. */
static char *gate_reason(const Policy *p, Store *s, DomainFacts *f, int64_t now) {
        GateResult g;
        gate_decide_policy(p, s, NULL, f, "start", "kvm1", now, &g);
        cr_assert(!g.error, "%s", g.reason);
        cr_assert_eq(g.verdict, VERDICT_ALLOW, "denied: %s", g.reason);
        char *why = strdup(g.reason);
        gate_result_clear(&g);
        return why;
}

/* No silent limits: with 10,000 approvals and 10,000 tickets in the
 * inventory, the gate finds the one that authorizes. The approval of the
 * domain was put in the middle of the others; the store's query keeps to
 * the domain's own. Every ticket names the domain (a glob) and only the
 * last one put in covers now: the gate once read 256 tickets and stopped,
 * and denied here with "expired". */
Test(gate, finds_the_one_among_10000_approvals_and_tickets, .timeout = 60) {
        char *dir = scratch_new(), *db = path_join(dir, "inventory.db");
        char *xml = read_data(TEST_DATA_DIR "/domxml/full/input.xml", NULL);
        cr_assert_not_null(xml);
        DomainFacts *f = NULL;
        VgError err = { "" };
        cr_assert_eq(domxml_parse(xml, strlen(xml), &f, &err), 0, "%s", err.text);
        cr_assert_str_eq(f->name, "web-7");
        Policy *p = NULL;
        const char *text = "{ \"mode\": \"enforce\", \"default\": \"deny\", \"rules\": [] }";
        cr_assert_eq(policy_parse(text, strlen(text), "policy.json", &p, &err), 0, "%s", err.text);

        Store *s = NULL;
        cr_assert_eq(store_open(db, STORE_CREATE, 1000, &s, &err), 0, "%s", err.text);
        int64_t now = vg_now_us(), hour = 3600 * INT64_C(1000000);
        cr_assert_eq(store_begin(s, &err), 0, "%s", err.text);
        for (int i = 0; i < 10000; i++) {
                char key[32], id[32];
                snprintf(key, sizeof(key), "vm-%05d", i);
                Approval a = { .key = key, .approved_by = "root", .time_us = now };
                cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
                if (i == 5000) {
                        Approval mine = { .key = f->uuid, .approved_by = "judge", .time_us = now };
                        cr_assert_eq(store_approval_put(s, &mine, &err), 0, "%s", err.text);
                }
                snprintf(id, sizeof(id), "T-%05d", i);
                bool last = i == 9999;
                Ticket t = { .id = id, .domain_glob = "web-*", .action = "start", .added_by = "root",
                             .from_us = now - 2 * hour, .until_us = last ? now + hour : now - hour, .time_us = now };
                cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
        }
        cr_assert_eq(store_commit(s, &err), 0, "%s", err.text);

        char *why = gate_reason(p, s, f, now);
        cr_expect_str_eq(why, "approved by judge; no rule matches");
        free(why);
        cr_assert_eq(store_approval_delete(s, f->uuid, &err), 0, "%s", err.text);
        why = gate_reason(p, s, f, now);
        cr_expect_str_eq(why, "change ticket 'T-09999' covers now; no rule matches");
        free(why);

        store_close(s);
        policy_free(p);
        domain_facts_free(f);
        free(xml);
        free(db);
        scratch_remove(dir);
}


/* The gate's decision for f at now through the inventory s, as the hook's. */
static GateResult gate_at(const char *policy, Store *s, DomainFacts *f, int64_t now) {
        Policy *p = NULL;
        VgError err = { "" };
        cr_assert_eq(policy_parse(policy, strlen(policy), "policy.json", &p, &err), 0, "%s", err.text);
        GateResult g;
        gate_decide_policy(p, s, NULL, f, "start", "kvm1", now, &g);
        policy_free(p);
        return g;
}

static DomainFacts *web7(void) {
        char *xml = read_data(TEST_DATA_DIR "/domxml/full/input.xml", NULL);
        cr_assert_not_null(xml);
        DomainFacts *f = NULL;
        VgError err = { "" };
        cr_assert_eq(domxml_parse(xml, strlen(xml), &f, &err), 0, "%s", err.text);
        free(xml);
        cr_assert_str_eq(f->name, "web-7");
        cr_assert_str_eq(f->ticket, "CHG-1042");
        return f;
}

/* One row no decision can use (an expired ticket with a 50,001-byte glob,
 * as an older virtgov stored it) once failed every domain's decision:
 * "reading authorizations: LIKE or GLOB pattern too complex", so on_error
 * for all. Now it concerns only the domains it matches; one that concerns
 * web-7 (its metadata's CHG-1042, with a glob over the bound) is skipped,
 * so authorizes nothing, and counted on the decision. */
Test(gate, one_bad_row_does_not_fail_every_decision) {
        char *dir = scratch_new(), *db = path_join(dir, "inventory.db");
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_CREATE, 1000, &s, &err), 0, "%s", err.text);
        DomainFacts *f = web7();
        Approval a = { .key = f->uuid, .approved_by = "judge", .time_us = 1 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        store_close(s);
        sqlite3 *raw = NULL;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(raw, "INSERT INTO tickets (id, domain_glob, action, valid_from, valid_until, time)"
                                  " VALUES ('T-LONG', printf('%.50001c', 'x'), 'start', '2020-01-01T00:00:00Z',"
                                  " '2020-01-02T00:00:00Z', '2020-01-01T00:00:00Z'), ('CHG-1042', printf('%.2000c', '*'),"
                                  " 'start', '2020-01-01T00:00:00Z', '2099-01-02T00:00:00Z', '2020-01-01T00:00:00Z')",
                                  NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
        cr_assert_eq(store_open(db, STORE_READ, 1000, &s, &err), 0, "%s", err.text);

        GateResult g = gate_at("{ \"mode\": \"enforce\", \"default\": \"deny\", \"on_error\": \"deny\" }", s, f,
                               vg_now_us());
        cr_expect(!g.error, "%s", g.reason);
        cr_expect_eq(g.verdict, VERDICT_ALLOW, "%s", g.reason);
        cr_expect_str_eq(g.reason, "approved by judge; no rule matches");
        cr_expect_eq(json_integer_value(json_object_get(g.detail, "skipped_rows")), 1);
        gate_result_clear(&g);

        store_close(s);
        domain_facts_free(f);
        free(db);
        scratch_remove(dir);
}

/* A ticket covers only the domains its glob matches: the metadata of web-7
 * naming a ticket for 'other' once borrowed it. The claim is denied,
 * naming both, even beside an approval; a ticket whose glob covers web-7
 * lets it through. */
Test(gate, a_ticket_named_in_metadata_covers_only_what_its_glob_matches) {
        char *dir = scratch_new(), *db = path_join(dir, "inventory.db");
        Store *s = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_CREATE, 1000, &s, &err), 0, "%s", err.text);
        DomainFacts *f = web7();
        int64_t now = vg_now_us(), hour = 3600 * INT64_C(1000000);
        Ticket t = { .id = "CHG-1042", .domain_glob = "other", .action = "start", .from_us = now - hour,
                     .until_us = now + hour, .time_us = now };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
        const char *policy = "{ \"mode\": \"enforce\", \"default\": \"deny\" }";
        GateResult g = gate_at(policy, s, f, now);
        cr_expect_eq(g.verdict, VERDICT_DENY, "%s", g.reason);
        cr_expect(strstr(g.reason, "its metadata names change ticket 'CHG-1042', which does not cover 'web-7' "
                                   "(its domains: 'other')"), "%s", g.reason);
        gate_result_clear(&g);

        Approval a = { .key = f->uuid, .approved_by = "judge", .time_us = 1 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        g = gate_at(policy, s, f, now);
        cr_expect_eq(g.verdict, VERDICT_DENY, "an approval does not make a false claim true: %s", g.reason);
        gate_result_clear(&g);

        t.domain_glob = "web-[!x]*";
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
        g = gate_at(policy, s, f, now);
        cr_expect_eq(g.verdict, VERDICT_ALLOW, "%s", g.reason);
        gate_result_clear(&g);

        store_close(s);
        domain_facts_free(f);
        free(db);
        scratch_remove(dir);
}
