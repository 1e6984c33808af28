/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ECS mapping: every kind has a row, every value is one ECS allows,
 * and a document carries what a SIEM searches on. */
#include <criterion/criterion.h>
#include <string.h>

#include "virtgov/model/kinds.h"
#include "virtgov/ship/ecs.h"

/* ECS 8.11, "ECS Categorization Fields": the allowed values. */
static const char *const categories[] = { "api", "authentication", "configuration", "database", "driver", "email",
                                          "file", "host", "iam", "intrusion_detection", "library", "malware",
                                          "network", "package", "process", "registry", "session", "threat",
                                          "vulnerability", "web", NULL };
static const char *const types[] = { "access", "admin", "allowed", "change", "connection", "creation", "deletion",
                                     "denied", "device", "end", "error", "group", "indicator", "info",
                                     "installation", "protocol", "start", "user", NULL };

static bool in(const char *const *set, const char *v) {
        for (size_t i = 0; set[i]; i++)
                if (!strcmp(set[i], v))
                        return true;
        return false;
}

Test(ecs, every_kind_has_a_row_of_allowed_values) {
        size_t n = 0;
        for (const EventKind *k = event_kind_next(NULL, 0); k; k = event_kind_next(k, 0), n++) {
                const EcsKind *m = ecs_kind(k->name);
                cr_assert_not_null(m, "kind %s has no row in lib/ship/ecs.c", k->name);
                cr_assert_not_null(m->category[0], "%s: no category", k->name);
                cr_assert_not_null(m->type[0], "%s: no type", k->name);
                for (size_t i = 0; m->category[i]; i++)
                        cr_assert(in(categories, m->category[i]), "%s: category %s", k->name, m->category[i]);
                for (size_t i = 0; m->type[i]; i++)
                        cr_assert(in(types, m->type[i]), "%s: type %s", k->name, m->type[i]);
        }
        cr_assert_gt(n, 60);
}

Test(ecs, no_row_for_a_kind_that_is_not) {
        for (const EcsKind *m = ecs_kind_next(NULL); m; m = ecs_kind_next(m))
                cr_assert_not_null(event_kind(m->kind), "row %s names no kind of kinds.c", m->kind);
}

static Event *make(const char *kind, const char *decision, const char *data) {
        Event *e = event_new("hook", kind);
        cr_assert_not_null(e);
        event_set(&e->host, "kvm1");
        event_set(&e->domain, "web-7");
        event_set(&e->uuid, "6f3c1d2e-0000-4000-8000-000000000001");
        event_set(&e->decision, decision);
        e->id = 42;
        strcpy(e->hash, "e253fe75cfdc57a16507928e86ef4d0dd87b2d9b92389ebe8861f00634fd88d3");
        json_decref(e->data);
        e->data = json_loads(data, 0, NULL);
        cr_assert_not_null(e->data);
        return e;
}

static const char *str(json_t *doc, const char *path) {
        json_t *j = json_object_get(doc, path);
        return json_string_value(j);
}

Test(ecs, denied_start_is_an_alert_that_failed) {
        Event *e = make("domain.prepare", "deny", "{\"ticket\":\"CHG-1\"}");
        event_set(&e->reason, "no ticket");
        json_t *doc = ecs_event(e, NULL, "3d1219c7c4c5404aaa1f6d2a48adfda4");
        cr_assert_not_null(doc);
        json_t *ev = json_object_get(doc, "event");
        cr_assert_str_eq(str(ev, "kind"), "alert");
        cr_assert_str_eq(str(ev, "outcome"), "failure");
        cr_assert_str_eq(str(ev, "action"), "domain.prepare");
        cr_assert_str_eq(json_string_value(json_array_get(json_object_get(ev, "type"), 1)), "denied");
        cr_assert_eq(json_integer_value(json_object_get(ev, "sequence")), 42);
        cr_assert_str_eq(str(ev, "hash"), e->hash);
        cr_assert_str_eq(str(ev, "reason"), "no ticket");
        cr_assert_str_eq(str(json_object_get(doc, "host"), "id"), "3d1219c7c4c5404aaa1f6d2a48adfda4");
        json_t *vg = json_object_get(doc, "virtgov");
        cr_assert_str_eq(str(vg, "ticket"), "CHG-1");
        cr_assert_str_eq(str(vg, "decision"), "deny");
        cr_assert_str_eq(str(json_object_get(vg, "domain"), "name"), "web-7");
        cr_assert_str_eq(str(doc, "@timestamp"), e->time);
        cr_assert_not_null(strstr(str(doc, "message"), "reason=\"no ticket\""));
        json_decref(doc);
        event_free(e);
}

Test(ecs, the_person_and_the_account) {
        Event *e = make("account.password-changed", NULL,
                        "{\"user\":\"bob\",\"actor\":{\"name\":\"alice\",\"auid\":1000,\"uid\":0,\"pid\":77,"
                        "\"exe\":\"/usr/bin/passwd\"}}");
        event_set(&e->actor, "alice");
        json_t *doc = ecs_event(e, NULL, NULL);
        json_t *user = json_object_get(doc, "user");
        cr_assert_str_eq(str(user, "name"), "alice");
        cr_assert_str_eq(str(user, "id"), "1000");
        cr_assert_str_eq(str(json_object_get(user, "effective"), "id"), "0");
        cr_assert_str_eq(str(json_object_get(user, "target"), "name"), "bob");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "process"), "pid")), 77);
        json_t *related = json_object_get(json_object_get(doc, "related"), "user");
        cr_assert_eq(json_array_size(related), 2);
        cr_assert_str_eq(str(json_object_get(doc, "event"), "kind"), "event");
        cr_assert_null(json_object_get(json_object_get(doc, "event"), "outcome"));
        cr_assert_null(json_object_get(json_object_get(doc, "host"), "id"));
        json_decref(doc);
        event_free(e);
}

Test(ecs, stored_text_hostile_names_and_data_not_json) {
        Event *e = make("domain.defined", NULL, "{}");
        event_set(&e->domain, "web\xff\"7\n");
        json_t *doc = ecs_event(e, "{\"facts\":{\"owner\":\"ops\"}}", NULL);
        char *text = json_dumps(doc, JSON_COMPACT);
        cr_assert_not_null(text, "a name that is not UTF-8 still makes a document");
        json_t *d = json_object_get(json_object_get(doc, "virtgov"), "domain");
        cr_assert_not_null(str(d, "name_bytes"), "the name's bytes are kept");
        cr_assert_str_eq(str(json_object_get(json_object_get(json_object_get(doc, "virtgov"), "data"), "facts"),
                             "owner"), "ops");
        cr_assert_not_null(strstr(str(doc, "message"), "owner"), "the message carries the stored data");
        free(text);
        json_decref(doc);
        doc = ecs_event(e, "not json", NULL);
        cr_assert_str_eq(str(json_object_get(doc, "virtgov"), "data_text"), "not json");
        json_decref(doc);
        event_free(e);
}

Test(ecs, the_ticket_is_the_journals) {
        Event *e = make("domain.prepare", "allow", "{\"facts\":{\"ticket\":\"CHG-7\"}}");
        json_t *doc = ecs_event(e, NULL, NULL);
        cr_assert_str_eq(str(json_object_get(doc, "virtgov"), "ticket"), "CHG-7", "the domain's own ticket");
        cr_assert_str_eq(event_ticket(e->data), "CHG-7");
        json_decref(doc);
        event_free(e);
}

Test(ecs, unknown_kind_has_no_category) {
        Event *e = make("domain.newer-kind", NULL, "{}");
        json_t *doc = ecs_event(e, NULL, NULL);
        cr_assert_null(json_object_get(json_object_get(doc, "event"), "category"));
        cr_assert_str_eq(str(json_object_get(doc, "event"), "action"), "domain.newer-kind");
        json_decref(doc);
        event_free(e);
}
