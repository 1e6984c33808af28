/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/host/accounts.h"

static const char *const priv[] = { "libvirt", "kvm", "sudo", "wheel", NULL };

#define PASSWD \
        "root:x:0:0:root:/root:/bin/bash\n" \
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" \
        "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n" \
        "# a comment\n" \
        "broken line without colons\n" \
        "baduid:x:notanumber:0::/:/bin/sh\n"
#define GROUP \
        "root:x:0:\n" \
        "sudo:x:27:alice\n" \
        "libvirt:x:120:\n" \
        "admins:x:500:carol\n" \
        "alice:x:1000:\n"
#define SHADOW \
        "root:$6$salt$ROOTHASHVALUE:19000:0:99999:7:::\n" \
        "daemon:*:19000:0:99999:7:::\n" \
        "alice:$y$j9T$SECRETHASH:19500:0:99999:7:::\n"

static Accounts *snap(const char *passwd, const char *group, const char *shadow, const char *sudoers) {
        Accounts *a = calloc(1, sizeof(*a));
        cr_assert_eq(accounts_parse_passwd(a, passwd), 0);
        cr_assert_eq(accounts_parse_group(a, group), 0);
        cr_assert_eq(accounts_parse_shadow(a, shadow, 42), 0);
        if (sudoers)
                cr_assert_eq(accounts_parse_sudoers(a, "sudoers", sudoers), 0);
        return a;
}

typedef struct Collected {
        json_t *events;
} Collected;

static int collect(Event *e, void *u) {
        Collected *c = u;
        json_array_append_new(c->events, json_pack("{s:s, s:O}", "kind", e->kind, "data", e->data));
        event_free(e);
        return 0;
}

static json_t *diff(const Accounts *a, const Accounts *b) {
        Collected c = { json_array() };
        cr_assert_eq(accounts_diff(a, b, priv, collect, &c), 0);
        return c.events;
}

static bool has_event(json_t *events, const char *kind, const char *key, const char *value) {
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e)
                if (!strcmp(json_string_value(json_object_get(e, "kind")), kind) &&
                    (!key || !strcmp(json_string_value(json_object_get(json_object_get(e, "data"), key)) ?: "", value)))
                        return true;
        return false;
}

Test(accounts, parse_skips_malformed_lines) {
        Accounts *a = snap(PASSWD, GROUP, SHADOW, NULL);
        cr_assert_eq(a->n_accounts, 3);
        cr_assert_eq(a->n_groups, 5);
        cr_assert_eq(a->accounts[0].pw_status, 'P');
        cr_assert_eq(a->accounts[1].pw_status, 'L');
        cr_assert_eq(a->accounts[2].pw_lastchg, 19500);
        cr_assert_neq(a->accounts[2].pw_digest, 0);
        accounts_free(a);
}

Test(accounts, no_hash_in_the_json_form) {
        Accounts *a = snap(PASSWD, GROUP, SHADOW, NULL);
        json_t *j = accounts_to_json(a);
        char *text = json_dumps(j, 0);
        cr_assert_null(strstr(text, "SECRETHASH"), "a password hash leaked into the baseline");
        cr_assert_null(strstr(text, "ROOTHASH"));
        cr_assert_null(strstr(text, "$y$"));
        Accounts *back = NULL;
        VgError err = { "" };
        cr_assert_eq(accounts_from_json(j, &back, &err), 0, "%s", err.text);
        json_t *events = diff(a, back);
        cr_assert_eq(json_array_size(events), 0, "a baseline round trip must show no change");
        json_decref(events);
        free(text);
        json_decref(j);
        accounts_free(a);
        accounts_free(back);
}

Test(accounts, privileges_name_every_reason) {
        Accounts *a = snap(PASSWD, GROUP, SHADOW,
                           "Defaults env_reset\n"
                           "User_Alias OPS = dave, %admins\n"
                           "root ALL=(ALL:ALL) ALL\n"
                           "OPS ALL=(ALL) /usr/bin/virsh\n");
        char *s;
        json_t *j;
        j = accounts_privileges(a, "root", priv);
        s = json_dumps(j, 0);
        json_decref(j);
        cr_assert_str_eq(s, "[\"uid 0\", \"sudoers\"]");
        free(s);
        j = accounts_privileges(a, "alice", priv);
        s = json_dumps(j, 0);
        json_decref(j);
        cr_assert_str_eq(s, "[\"group sudo\"]");
        free(s);
        j = accounts_privileges(a, "carol", priv);
        s = json_dumps(j, 0);
        json_decref(j);
        cr_assert_str_eq(s, "[\"sudoers\"]", "carol is in %%admins, which is in User_Alias OPS");
        free(s);
        j = accounts_privileges(a, "daemon", priv);
        s = json_dumps(j, 0);
        json_decref(j);
        cr_assert_str_eq(s, "[]");
        free(s);
        accounts_free(a);
}

Test(accounts, useradd_usermod_userdel) {
        Accounts *a = snap(PASSWD, GROUP, SHADOW, NULL);
        Accounts *b = snap(PASSWD "bob:x:1001:1001::/home/bob:/bin/sh\n", GROUP "bob:x:1001:\n",
                           SHADOW "bob:!:19600:0:99999:7:::\n", NULL);
        json_t *ev = diff(a, b);
        cr_assert(has_event(ev, "account.added", "user", "bob"));
        cr_assert(has_event(ev, "group.added", "group", "bob"));
        cr_assert_eq(json_array_size(ev), 2);
        json_decref(ev);

        Accounts *c = snap(PASSWD "bob:x:1001:1001::/home/bob:/bin/sh\n",
                           "root:x:0:\nsudo:x:27:alice\nlibvirt:x:120:bob\nadmins:x:500:carol\nalice:x:1000:\nbob:x:1001:\n",
                           SHADOW "bob:!:19600:0:99999:7:::\n", NULL);
        ev = diff(b, c);
        cr_assert(has_event(ev, "group.member-added", "user", "bob"));
        cr_assert(has_event(ev, "account.changed", "user", "bob"), "privileges changed");
        json_t *e = json_array_get(ev, 0);
        cr_assert(json_is_true(json_object_get(json_object_get(e, "data"), "privileged")));
        json_decref(ev);

        ev = diff(c, a);
        cr_assert(has_event(ev, "account.removed", "user", "bob"));
        cr_assert(has_event(ev, "group.removed", "group", "bob"));
        cr_assert(has_event(ev, "group.member-removed", "user", "bob"));
        json_decref(ev);
        accounts_free(a);
        accounts_free(b);
        accounts_free(c);
}

Test(accounts, password_change_same_day_is_seen) {
        Accounts *a = snap(PASSWD, GROUP, SHADOW, NULL);
        Accounts *b = snap(PASSWD, GROUP,
                           "root:$6$salt$ROOTHASHVALUE:19000:0:99999:7:::\n"
                           "daemon:*:19000:0:99999:7:::\n"
                           "alice:$y$j9T$OTHERHASH:19500:0:99999:7:::\n", NULL);
        json_t *ev = diff(a, b);
        cr_assert_eq(json_array_size(ev), 1);
        cr_assert(has_event(ev, "account.password-changed", "user", "alice"));
        char *text = json_dumps(ev, 0);
        cr_assert_null(strstr(text, "HASH"));
        free(text);
        json_decref(ev);
        accounts_free(a);
        accounts_free(b);
}

Test(accounts, sudoers_changes_are_line_diffs) {
        Accounts *a = snap(PASSWD, GROUP, SHADOW, "root ALL=(ALL) ALL\n# comment\n");
        Accounts *b = snap(PASSWD, GROUP, SHADOW, "root    ALL=(ALL) ALL\nalice ALL=(ALL) \\\n  NOPASSWD: ALL\n");
        json_t *ev = diff(a, b);
        cr_assert_eq(json_array_size(ev), 2, "sudoers.changed and alice's new privilege");
        cr_assert(has_event(ev, "sudoers.changed", "change", "modified"));
        json_t *added = NULL;
        size_t i;
        json_t *e;
        json_array_foreach(ev, i, e)
                if (!strcmp(json_string_value(json_object_get(e, "kind")), "sudoers.changed"))
                        added = json_object_get(json_object_get(e, "data"), "added");
        cr_assert_eq(json_array_size(added), 1, "re-indenting is no change");
        cr_assert_str_eq(json_string_value(json_array_get(added, 0)), "alice ALL=(ALL) NOPASSWD: ALL");
        json_decref(ev);
        accounts_free(a);
        accounts_free(b);
}

Test(accounts, read_from_an_etc_directory) {
        char *dir = scratch_new();
        char *p;
        write_text(p = path_join(dir, "passwd"), PASSWD); free(p);
        write_text(p = path_join(dir, "group"), GROUP); free(p);
        write_text(p = path_join(dir, "shadow"), SHADOW); free(p);
        p = path_join(dir, "sudoers.d");
        mkdir(p, 0750);
        free(p);
        write_text(p = path_join(dir, "sudoers.d/ops"), "%libvirt ALL=(ALL) /usr/bin/virsh\n"); free(p);
        write_text(p = path_join(dir, "sudoers.d/skip.bak"), "alice ALL=(ALL) ALL\n"); free(p);
        Accounts *a = NULL;
        VgError err = { "" };
        cr_assert_eq(accounts_read(dir, 7, &a, &err), 0, "%s", err.text);
        cr_assert_eq(a->n_accounts, 3);
        cr_assert_eq(a->n_sudoers, 1, "names with a '.' are skipped, as sudo does");
        cr_assert_str_eq(a->sudoers[0].path, "sudoers.d/ops");
        accounts_free(a);

        p = path_join(dir, "passwd");
        unlink(p);
        free(p);
        cr_assert_eq(accounts_read(dir, 7, &a, &err), -ENOENT);
        cr_assert(strstr(err.text, "passwd"), "%s", err.text);
        scratch_remove(dir);
}
