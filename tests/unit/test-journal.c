/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal entry of an event (ship/journal.h): every field read back. */
#include <criterion/criterion.h>
#include <string.h>
#include <syslog.h>

#include "virtgov/ship/journal.h"
#include "virtgov/model/kinds.h"

/* The value of field name in j ("NAME=value" iovecs), or NULL; a field
 * given twice fails the test. Caller frees. */
static char *field(const JournalEntry *j, const char *name) {
        char *found = NULL;
        size_t n = strlen(name);
        for (size_t i = 0; i < j->n; i++) {
                const char *b = j->iov[i].iov_base;
                if (j->iov[i].iov_len > n && !memcmp(b, name, n) && b[n] == '=') {
                        cr_assert_null(found, "%s given twice", name);
                        found = strndup(b + n + 1, j->iov[i].iov_len - n - 1);
                }
        }
        return found;
}

static void expect_field(const JournalEntry *j, const char *name, const char *want) {
        char *v = field(j, name);
        if (!want)
                cr_expect_null(v, "%s should be absent, is '%s'", name, v);
        else
                cr_expect(v && !strcmp(v, want), "%s: '%s', expected '%s'", name, v ? v : "(absent)", want);
        free(v);
}

Test(eventlog_journal, every_field_of_a_full_event) {
        Event *e = event_new("hook", "domain.prepare");
        e->id = 4242;
        event_set(&e->ref, "0192a3b4c5d6e7f8091a2b3c4d5e6f70");
        event_set(&e->host, "kvm1");
        event_set(&e->domain, "evil\" kind=forged\nVIRTGOV_KIND=policy.violation");
        event_set(&e->uuid, "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41");
        event_set(&e->decision, "deny");
        event_set(&e->reason, "no approval");
        event_set(&e->actor, "alice");
        strcpy(e->hash, "ab12");
        json_object_set_new(e->data, "actor", json_pack("{s:s, s:i}", "name", "alice", "auid", 1000));
        json_object_set_new(e->data, "facts", json_pack("{s:s}", "ticket", "CHG-1042"));
        JournalEntry j;
        cr_assert_eq(eventlog_journal_entry(e, "0123456789abcdef0123456789abcdef", &j), 0);

        expect_field(&j, "VIRTGOV_HOST_ID", "0123456789abcdef0123456789abcdef");
        expect_field(&j, "MESSAGE_ID", event_kind("domain.prepare")->message_id);
        expect_field(&j, "PRIORITY", "4");   /* a denial: warning */
        expect_field(&j, "SYSLOG_IDENTIFIER", "virtgov");
        expect_field(&j, "VIRTGOV_KIND", "domain.prepare");
        expect_field(&j, "VIRTGOV_ID", "4242");
        expect_field(&j, "VIRTGOV_SEQ", "4242");
        expect_field(&j, "VIRTGOV_REF", "0192a3b4c5d6e7f8091a2b3c4d5e6f70");
        expect_field(&j, "VIRTGOV_SOURCE", "hook");
        expect_field(&j, "VIRTGOV_HOST", "kvm1");
        expect_field(&j, "VIRTGOV_UUID", "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41");
        expect_field(&j, "VIRTGOV_DECISION", "deny");
        expect_field(&j, "VIRTGOV_REASON", "no approval");
        expect_field(&j, "VIRTGOV_ACTOR", "alice");
        expect_field(&j, "VIRTGOV_AUID", "1000");
        expect_field(&j, "VIRTGOV_TICKET", "CHG-1042");
        expect_field(&j, "VIRTGOV_HASH", "ab12");
        expect_field(&j, "VIRTGOV_TIME", e->time);
        /* The value as it is, in its own field (the native protocol carries
         * the newline): it forges no other field ... */
        expect_field(&j, "VIRTGOV_DOMAIN", "evil\" kind=forged\nVIRTGOV_KIND=policy.violation");
        /* ... and reaches MESSAGE only as the syslog line escapes it. */
        char *msg = field(&j, "MESSAGE");
        cr_assert(msg);
        cr_expect(strstr(msg, " domain=\"evil\\\" kind=forged\\x0aVIRTGOV_KIND=policy.violation\" "), "%s", msg);
        cr_expect_null(strchr(msg, '\n'), "MESSAGE is one line: %s", msg);
        free(msg);
        char *data = field(&j, "VIRTGOV_DATA");
        cr_expect(data && strstr(data, "\"auid\":1000"), "%s", data);
        free(data);
        eventlog_journal_entry_done(&j);
        event_free(e);
}

/* Only what the event has: no empty fields, no "-" placeholders. */
Test(eventlog_journal, absent_values_are_absent_fields) {
        Event *e = event_new("daemon", "daemon.started");
        JournalEntry j;
        cr_assert_eq(eventlog_journal_entry(e, NULL, &j), 0);
        static const char *const absent[] = { "VIRTGOV_ID", "VIRTGOV_SEQ", "VIRTGOV_DOMAIN", "VIRTGOV_UUID",
                                              "VIRTGOV_DECISION", "VIRTGOV_REASON", "VIRTGOV_ACTOR", "VIRTGOV_AUID",
                                              "VIRTGOV_TICKET", "VIRTGOV_HASH", "VIRTGOV_DATA", "VIRTGOV_HOST_ID" };
        for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
                expect_field(&j, absent[i], NULL);
        for (size_t i = 0; i < j.n; i++)
                cr_expect(((const char *) j.iov[i].iov_base)[j.iov[i].iov_len - 1] != '=', "an empty field: %.*s",
                          (int) j.iov[i].iov_len, (const char *) j.iov[i].iov_base);
        expect_field(&j, "VIRTGOV_KIND", "daemon.started");
        expect_field(&j, "PRIORITY", "5");
        eventlog_journal_entry_done(&j);
        event_free(e);
}

/* PRIORITY follows eventlog_severity: the kinds that call for action are
 * above notice; a kind this virtgov does not know has no MESSAGE_ID. */
Test(eventlog_journal, priority_by_severity_and_unknown_kinds) {
        static const struct { const char *kind; const char *prio; } cases[] = {
                { "policy.violation", "4" }, { "integrity.changed", "4" }, { "audit.lost", "4" },
                { "daemon.degraded", "4" }, { "policy.error", "3" }, { "account.added", "5" },
                { "domain.started", "5" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Event *e = event_new("daemon", cases[i].kind);
                JournalEntry j;
                cr_assert_eq(eventlog_journal_entry(e, NULL, &j), 0);
                expect_field(&j, "PRIORITY", cases[i].prio);
                expect_field(&j, "MESSAGE_ID", event_kind(cases[i].kind)->message_id);
                eventlog_journal_entry_done(&j);
                event_free(e);
        }
        Event *e = event_new("daemon", "domain.teleported");
        JournalEntry j;
        cr_assert_eq(eventlog_journal_entry(e, NULL, &j), 0);
        expect_field(&j, "MESSAGE_ID", NULL);
        expect_field(&j, "VIRTGOV_KIND", "domain.teleported");
        eventlog_journal_entry_done(&j);
        event_free(e);
}

/* A data object larger than the cut is cut, with "...". */
Test(eventlog_journal, data_is_cut) {
        Event *e = event_new("cli", "integrity.baseline");
        char *big = malloc(EVENTLOG_JOURNAL_DATA_MAX * 2);
        memset(big, 'x', EVENTLOG_JOURNAL_DATA_MAX * 2 - 1);
        big[EVENTLOG_JOURNAL_DATA_MAX * 2 - 1] = '\0';
        json_object_set_new(e->data, "digests", json_string(big));
        JournalEntry j;
        cr_assert_eq(eventlog_journal_entry(e, NULL, &j), 0);
        char *data = field(&j, "VIRTGOV_DATA");
        cr_assert(data);
        cr_expect_eq(strlen(data), EVENTLOG_JOURNAL_DATA_MAX - 1);
        cr_expect_str_eq(data + strlen(data) - 3, "...");
        free(data);
        free(big);
        eventlog_journal_entry_done(&j);
        event_free(e);
}

/* The copy queries events with their data as stored (EventFilter.data_text,
 * not decoded): the entry is the very same, field for field. */
Test(eventlog_journal, stored_text_gives_the_same_entry) {
        Event *e = event_new("libvirt", "domain.defined");
        e->id = 7;
        event_set(&e->domain, "web-7");
        json_object_set_new(e->data, "actor", json_pack("{s:s, s:i}", "name", "bob", "auid", 1001));
        json_object_set_new(e->data, "facts", json_pack("{s:s, s:s}", "owner", "bob", "ticket", "CHG-7"));
        JournalEntry tree, text;
        cr_assert_eq(eventlog_journal_entry(e, NULL, &tree), 0);
        char *stored = json_dumps(e->data, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(e->data);
        e->data = NULL;
        e->data_text = stored;
        cr_assert_eq(eventlog_journal_entry(e, NULL, &text), 0);
        cr_assert_eq(tree.n, text.n);
        for (size_t i = 0; i < tree.n; i++)
                cr_expect(tree.iov[i].iov_len == text.iov[i].iov_len &&
                                  !memcmp(tree.iov[i].iov_base, text.iov[i].iov_base, tree.iov[i].iov_len),
                          "%.*s != %.*s", (int) tree.iov[i].iov_len, (const char *) tree.iov[i].iov_base,
                          (int) text.iov[i].iov_len, (const char *) text.iov[i].iov_base);
        expect_field(&text, "VIRTGOV_AUID", "1001");
        expect_field(&text, "VIRTGOV_TICKET", "CHG-7");
        eventlog_journal_entry_done(&tree);
        eventlog_journal_entry_done(&text);
        e->data_text = NULL;
        free(stored);
        event_free(e);
}
