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

#include "test-helpers.h"
#include "virtgov/policy.h"

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
        PolicyContext ctx = { .now_us = t(cj, "now"), .op = json_string_value(json_object_get(cj, "op")),
                              .host = json_string_value(json_object_get(cj, "host")),
                              .approvals = ap, .n_approvals = n_ap, .tickets = tk, .n_tickets = n_tk,
                              .images = im, .n_images = n_im };

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
