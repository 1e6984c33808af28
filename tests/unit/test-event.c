/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "test-helpers.h"
#include "virtgov/model/event.h"

Test(event, new_has_time_ref_and_empty_data) {
        Event *a = event_new("hook", "domain.prepare"), *b = event_new("hook", "domain.prepare");
        cr_assert_str_eq(a->source, "hook");
        cr_assert_eq(strlen(a->ref), 32);
        cr_assert_str_neq(a->ref, b->ref);
        cr_assert_eq(strlen(a->time), 27);
        cr_assert_eq(a->time[26], 'Z');
        cr_assert(json_is_object(a->data) && json_object_size(a->data) == 0);
        event_free(a);
        event_free(b);
        cr_assert_null(event_free(NULL));
}

/* A ref: the time in milliseconds as 12 hex digits, then 80 random bits as
 * 20; lowercase, so refs sort by time as text. */
Test(event, ref_is_the_time_then_random_bits_in_lowercase_hex) {
        int64_t before = vg_now_us() / 1000;
        Event *a = event_new("hook", "domain.prepare");
        int64_t after = vg_now_us() / 1000;
        cr_assert_eq(strspn(a->ref, "0123456789abcdef"), 32, "%s", a->ref);
        char ms[13];
        memcpy(ms, a->ref, 12);
        ms[12] = '\0';
        long long t = strtoll(ms, NULL, 16);
        cr_expect(t >= before && t <= after, "%s: %lld not in [%lld, %lld]", a->ref, t, (long long) before,
                  (long long) after);
        event_free(a);
        char hex[9];
        cr_expect_str_eq(vg_hex((const uint8_t[]) { 0x00, 0x9f, 0xa0, 0xff }, 4, hex), "009fa0ff");
        cr_expect_str_eq(vg_hex("", 0, hex), "");
        uint8_t back[4];
        cr_expect_eq(vg_unhex("009fA0ff", 4, back), 0);
        cr_expect(back[0] == 0x00 && back[1] == 0x9f && back[2] == 0xa0 && back[3] == 0xff);
        cr_expect_eq(vg_unhex("009g", 2, back), -EINVAL);
        cr_expect_eq(vg_unhex("00", 2, back), -EINVAL, "hex shorter than asked for");
}

Test(event, json_round_trip_keeps_every_field) {
        Event *e = event_new("hook", "domain.started");
        event_set(&e->domain, "web-7");
        event_set(&e->uuid, "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41");
        event_set(&e->decision, "allow");
        event_set(&e->reason, "approved");
        event_set(&e->actor, "alice");
        json_object_set_new(e->data, "op", json_string("started"));

        json_t *j = event_to_json(e);
        cr_assert_null(json_object_get(j, "id"), "an unstored event has no id");
        Event *back = NULL;
        VgError err = { "" };
        cr_assert_eq(event_from_json(j, &back, &err), 0, "%s", err.text);
        json_t *j2 = event_to_json(back);
        cr_assert(json_equal(j, j2));
        cr_assert_str_eq(back->time, e->time);
        json_decref(j);
        json_decref(j2);
        event_free(e);
        event_free(back);
}

/* The spool's text, rendered with the data's text given or not, is the
 * event's JSON; the data's text is exactly what the inventory stores. */
Test(event, render_is_the_json_with_the_data_text_spliced) {
        Event *e = event_new("hook", "domain.prepare");
        event_set(&e->domain, "web-\"7\"");
        event_set(&e->reason, "no ticket");
        /* every member of event_to_json's: id and hash when set, null for
         * what is not, UTF-8, and bytes that are not UTF-8 */
        event_set(&e->actor, "j\xc3\xbcrgen\n");
        event_set(&e->host, "h\xff\xc3\xbc");
        e->id = 42;
        snprintf(e->hash, sizeof(e->hash), "%064d", 7);
        json_object_set_new(e->data, "op", json_string("prepare"));
        json_object_set_new(e->data, "facts", json_pack("{s:[{s:s}], s:i}", "disks", "source", "/a b", "vcpus", 2));

        char *data = event_data_text(e);
        cr_assert_str_eq(data, "{\"facts\":{\"disks\":[{\"source\":\"/a b\"}],\"vcpus\":2},\"op\":\"prepare\"}");
        json_t *want = event_to_json(e);
        for (int given = 0; given < 2; given++) {
                char *text = event_render(e, given ? data : NULL);
                json_error_t jerr;
                json_t *got = json_loads(text, 0, &jerr);
                cr_assert_not_null(got, "%s: %s", text, jerr.text);
                cr_assert(json_equal(got, want), "%s", text);
                cr_assert_not_null(strstr(text, ",\"data\":{\"facts\""), "%s", text);
                json_decref(got);
                free(text);
        }
        json_decref(want);
        free(data);
        event_free(e);
}

Test(event, from_json_names_the_bad_field) {
        static const struct { const char *json, *error; } cases[] = {
                { "[]", "must be a JSON object" },
                { "{\"ref\":\"r\",\"source\":\"hook\",\"kind\":\"domain.x\"}", "'time'" },
                { "{\"time\":\"yesterday\",\"ref\":\"r\",\"source\":\"hook\",\"kind\":\"domain.x\"}", "'time'" },
                { "{\"time\":\"2026-11-22T00:00:00Z\",\"source\":\"hook\",\"kind\":\"domain.x\"}", "'ref' is missing" },
                { "{\"time\":\"2026-11-22T00:00:00Z\",\"ref\":1,\"source\":\"hook\",\"kind\":\"domain.x\"}", "'ref' must be a string" },
                { "{\"time\":\"2026-11-22T00:00:00Z\",\"ref\":\"r\",\"source\":\"hook\",\"kind\":\"DROP TABLE\"}", "not a kind name" },
                { "{\"time\":\"2026-11-22T00:00:00Z\",\"ref\":\"r\",\"source\":\"hook\",\"kind\":\"a.b\",\"decision\":\"maybe\"}", "'decision'" },
                { "{\"time\":\"2026-11-22T00:00:00Z\",\"ref\":\"r\",\"source\":\"hook\",\"kind\":\"a.b\",\"data\":[]}", "'data' must be an object" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *j = json_loads(cases[i].json, 0, NULL);
                cr_assert_not_null(j, "case %zu", i);
                Event *e = NULL;
                VgError err = { "" };
                cr_expect_eq(event_from_json(j, &e, &err), -EINVAL, "case %zu", i);
                cr_expect(strstr(err.text, cases[i].error), "case %zu: '%s' lacks '%s'", i, err.text, cases[i].error);
                json_decref(j);
        }
}

Test(event, kind_names) {
        cr_assert(event_kind_valid("domain.started"));
        cr_assert(event_kind_valid("network.port-created"));
        cr_assert(!event_kind_valid("domain"));
        cr_assert(!event_kind_valid(".x"));
        cr_assert(!event_kind_valid("domain."));
        cr_assert(!event_kind_valid("Domain.Started"));
        cr_assert(!event_kind_valid("domain.x; rm -rf /"));
}

Test(event, invalid_utf8_is_kept_not_dropped) {
        Event *e = event_new("hook", "domain.prepare");
        event_set(&e->domain, "bad\xff\xfename");
        json_t *j = event_to_json(e);
        cr_assert_str_eq(json_string_value(json_object_get(j, "domain")), "bad??name");
        json_decref(j);
        event_free(e);
}

/* A name that is not UTF-8 (a path, a hostile domain name) goes into the
 * spool and comes back byte for byte: its JSON string is readable, with
 * '?', and its key_bytes says it exactly (issue 28). */
Test(event, names_not_utf8_round_trip_through_the_spool_text) {
        Event *e = event_new("hook", "domain.prepare");
        event_set(&e->domain, "caf\xe9");
        event_set(&e->actor, "j\xc3\xbcrgen");
        char *text = event_render(e, NULL);
        cr_assert_not_null(strstr(text, "\"domain\":\"caf?\",\"domain_bytes\":\"636166e9\""), "%s", text);
        cr_assert_null(strstr(text, "actor_bytes"), "%s", text);
        json_t *j = json_loads(text, 0, NULL);
        Event *back = NULL;
        cr_assert_eq(event_from_json(j, &back, NULL), 0);
        cr_expect_str_eq(back->domain, "caf\xe9");
        cr_expect_str_eq(back->actor, "j\xc3\xbcrgen");
        json_decref(j);
        free(text);
        event_free(back);
        event_free(e);
}
