/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Accounts snapshots: JSON form, privilege, and the diff that yields events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts-priv.h"
#include "virtgov/host/accounts.h"
#include "virtgov/util/cleanup.h"

/* ---- JSON ---- */

static json_t *str_array(char *const *a, size_t n) {
        json_t *j = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(j, event_json_string(a[i]));
        return j;
}

json_t *accounts_to_json(const Accounts *a) {
        json_t *accs = json_array(), *grps = json_array(), *sud = json_array();
        for (size_t i = 0; i < a->n_accounts; i++) {
                const Account *ac = &a->accounts[i];
                char st[2] = { ac->pw_status, 0 };
                json_array_append_new(accs, json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:s, s:I}",
                        "name", event_json_string(ac->name), "uid", (json_int_t) ac->uid,
                        "gid", (json_int_t) ac->gid, "gecos", event_json_string(ac->gecos),
                        "home", event_json_string(ac->home), "shell", event_json_string(ac->shell),
                        "pw_status", st, "pw_lastchg", (json_int_t) ac->pw_lastchg));
        }
        for (size_t i = 0; i < a->n_groups; i++)
                json_array_append_new(grps, json_pack("{s:o, s:I, s:o}",
                        "name", event_json_string(a->groups[i].name), "gid", (json_int_t) a->groups[i].gid,
                        "members", str_array(a->groups[i].members, a->groups[i].n_members)));
        for (size_t i = 0; i < a->n_sudoers; i++)
                json_array_append_new(sud, json_pack("{s:o, s:o}",
                        "path", event_json_string(a->sudoers[i].path),
                        "lines", str_array(a->sudoers[i].lines, a->sudoers[i].n_lines)));
        return json_pack("{s:o, s:o, s:o}", "accounts", accs, "groups", grps, "sudoers", sud);
}

static int strs_from_json(const json_t *j, char ***ret, size_t *n) {
        size_t i;
        json_t *v;
        *ret = calloc(json_array_size(j) + 1, sizeof(char *));
        if (!*ret)
                return -ENOMEM;
        json_array_foreach(j, i, v) {
                if (!json_is_string(v))
                        return -EINVAL;
                if (!((*ret)[(*n)++] = strdup(json_string_value(v))))
                        return -ENOMEM;
        }
        return 0;
}

int accounts_from_json(const json_t *j, Accounts **ret, VgError *err) {
        _cleanup_(accounts_freep) Accounts *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(j, "accounts"), i, v) {
                const char *name, *gecos, *home, *shell, *st;
                json_int_t uid, gid, lastchg;
                if (json_unpack(v, "{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:I}", "name", &name, "uid", &uid,
                                "gid", &gid, "gecos", &gecos, "home", &home, "shell", &shell,
                                "pw_status", &st, "pw_lastchg", &lastchg) < 0)
                        return vg_error(err, -EINVAL, "accounts baseline: account %zu is malformed", i);
                if (vg_grow((void **) &a->accounts, &a->n_accounts, sizeof(Account)) < 0)
                        return -ENOMEM;
                Account *ac = &a->accounts[a->n_accounts - 1];
                ac->uid = (uint32_t) uid;
                ac->gid = (uint32_t) gid;
                ac->pw_status = st[0] ? st[0] : '?';
                ac->pw_lastchg = (long) lastchg;
                if (!(ac->name = strdup(name)) || !(ac->gecos = strdup(gecos)) ||
                    !(ac->home = strdup(home)) || !(ac->shell = strdup(shell)))
                        return -ENOMEM;
        }
        json_array_foreach(json_object_get(j, "groups"), i, v) {
                const char *name;
                json_int_t gid;
                json_t *members;
                if (json_unpack(v, "{s:s, s:I, s:o}", "name", &name, "gid", &gid, "members", &members) < 0)
                        return vg_error(err, -EINVAL, "accounts baseline: group %zu is malformed", i);
                if (vg_grow((void **) &a->groups, &a->n_groups, sizeof(Group)) < 0)
                        return -ENOMEM;
                Group *g = &a->groups[a->n_groups - 1];
                g->gid = (uint32_t) gid;
                if (!(g->name = strdup(name)) || strs_from_json(members, &g->members, &g->n_members) < 0)
                        return vg_error(err, -EINVAL, "accounts baseline: group '%s' is malformed", name);
        }
        json_array_foreach(json_object_get(j, "sudoers"), i, v) {
                const char *path;
                json_t *lines;
                if (json_unpack(v, "{s:s, s:o}", "path", &path, "lines", &lines) < 0)
                        return vg_error(err, -EINVAL, "accounts baseline: sudoers %zu is malformed", i);
                if (vg_grow((void **) &a->sudoers, &a->n_sudoers, sizeof(SudoersFile)) < 0)
                        return -ENOMEM;
                SudoersFile *sf = &a->sudoers[a->n_sudoers - 1];
                if (!(sf->path = strdup(path)) || strs_from_json(lines, &sf->lines, &sf->n_lines) < 0)
                        return vg_error(err, -EINVAL, "accounts baseline: sudoers '%s' is malformed", path);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- privilege ---- */

static bool in_group(const Accounts *a, const Account *ac, const char *name, const Group *g) {
        if (!g)
                return false;
        if (ac && ac->gid == g->gid)
                return true;
        for (size_t i = 0; i < g->n_members; i++)
                if (!strcmp(g->members[i], name))
                        return true;
        return false;
}

static bool is_keyword_line(const char *l) {
        static const char *const kw[] = { "Defaults", "User_Alias", "Runas_Alias", "Host_Alias",
                                          "Cmnd_Alias", "Cmd_Alias", "#include", "@include" };
        for (size_t i = 0; i < ELEMENTSOF(kw); i++)
                if (!strncmp(l, kw[i], strlen(kw[i])))
                        return true;
        return false;
}

/* Does one user-list entry ("alice", "%sudo", "ALL", "ADMINS") cover name? */
static bool entry_covers(const Accounts *a, const Account *ac, const char *name, const char *entry, int depth);

static bool alias_covers(const Accounts *a, const Account *ac, const char *name, const char *alias, int depth) {
        if (depth > 8)
                return false;
        size_t al = strlen(alias);
        for (size_t f = 0; f < a->n_sudoers; f++)
                for (size_t i = 0; i < a->sudoers[f].n_lines; i++) {
                        const char *l = a->sudoers[f].lines[i];
                        if (strncmp(l, "User_Alias ", 11))
                                continue;
                        l += 11;
                        if (strncmp(l, alias, al) || (l[al] != ' ' && l[al] != '='))
                                continue;
                        const char *eq = strchr(l, '=');
                        if (!eq)
                                continue;
                        _cleanup_free_ char *list = strdup(eq + 1);
                        char *save = NULL;
                        for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                                if (entry_covers(a, ac, name, t, depth + 1))
                                        return true;
                }
        return false;
}

static bool entry_covers(const Accounts *a, const Account *ac, const char *name, const char *entry, int depth) {
        if (!strcmp(entry, name) || !strcmp(entry, "ALL"))
                return true;
        if (entry[0] == '%')
                return in_group(a, ac, name, accounts_find_group(a, entry + 1));
        if (entry[0] == '#' && ac) {
                char uid[16];
                snprintf(uid, sizeof(uid), "%u", ac->uid);
                return !strcmp(entry + 1, uid);
        }
        if (entry[0] >= 'A' && entry[0] <= 'Z')
                return alias_covers(a, ac, name, entry, depth);
        return false;
}

static bool sudoers_grants(const Accounts *a, const Account *ac, const char *name) {
        for (size_t f = 0; f < a->n_sudoers; f++)
                for (size_t i = 0; i < a->sudoers[f].n_lines; i++) {
                        const char *l = a->sudoers[f].lines[i];
                        if (is_keyword_line(l))
                                continue;
                        _cleanup_free_ char *users = strndup(l, strcspn(l, " \t"));
                        char *save = NULL;
                        for (char *t = strtok_r(users, ",", &save); t; t = strtok_r(NULL, ",", &save))
                                if (entry_covers(a, ac, name, t, 0))
                                        return true;
                }
        return false;
}

json_t *accounts_privileges(const Accounts *a, const char *name, const char *const *priv_groups) {
        json_t *why = json_array();
        const Account *ac = accounts_find(a, name);
        if (ac && ac->uid == 0)
                json_array_append_new(why, json_string("uid 0"));
        for (size_t i = 0; priv_groups && priv_groups[i]; i++)
                if (in_group(a, ac, name, accounts_find_group(a, priv_groups[i]))) {
                        char buf[300];
                        snprintf(buf, sizeof(buf), "group %s", priv_groups[i]);
                        json_array_append_new(why, json_string(buf));
                }
        if (sudoers_grants(a, ac, name))
                json_array_append_new(why, json_string("sudoers"));
        return why;
}

/* ---- diff ---- */

typedef struct Emitter {
        AccountsEventFn fn;
        void *userdata;
} Emitter;

static int emit(Emitter *em, const char *kind, json_t *data) {
        Event *e = event_new("accounts", kind);
        if (!e) {
                json_decref(data);
                return -ENOMEM;
        }
        json_decref(e->data);
        e->data = data;
        return em->fn(e, em->userdata);
}

static void change(json_t *changes, const char *field, json_t *old, json_t *new) {
        if (json_equal(old, new)) {
                json_decref(old);
                json_decref(new);
                return;
        }
        json_object_set_new(changes, field, json_pack("{s:o, s:o}", "old", old, "new", new));
}

static int diff_account(const Accounts *oa, const Accounts *na, const Account *o, const Account *n,
                        const char *const *pg, Emitter *em) {
        json_t *privs = accounts_privileges(na, n->name, pg);
        bool privileged = json_array_size(privs) > 0;
        json_t *ch = json_object();
        change(ch, "uid", json_integer(o->uid), json_integer(n->uid));
        change(ch, "gid", json_integer(o->gid), json_integer(n->gid));
        change(ch, "gecos", event_json_string(o->gecos), event_json_string(n->gecos));
        change(ch, "home", event_json_string(o->home), event_json_string(n->home));
        change(ch, "shell", event_json_string(o->shell), event_json_string(n->shell));
        json_t *oldp = accounts_privileges(oa, o->name, pg);
        change(ch, "privileges", oldp, json_incref(privs));
        int r = 0;
        if (json_object_size(ch) > 0)
                r = emit(em, "account.changed", json_pack("{s:o, s:o, s:b, s:O}", "user",
                         event_json_string(n->name), "changes", ch, "privileged", privileged, "privileges", privs));
        else
                json_decref(ch);

        bool pw = (o->pw_digest && n->pw_digest && o->pw_digest != n->pw_digest) ||
                  o->pw_lastchg != n->pw_lastchg || o->pw_status != n->pw_status;
        if (r >= 0 && pw) {
                const char *st = n->pw_status == 'L' ? "locked" : n->pw_status == 'N' ? "empty"
                               : n->pw_status == 'P' ? "set" : "unknown";
                r = emit(em, "account.password-changed", json_pack("{s:o, s:s, s:b}", "user",
                         event_json_string(n->name), "password", st, "privileged", privileged));
        }
        json_decref(privs);
        return r;
}

static int diff_accounts(const Accounts *o, const Accounts *n, const char *const *pg, Emitter *em) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n->n_accounts; i++) {
                const Account *na = &n->accounts[i], *oa = accounts_find(o, na->name);
                if (oa) {
                        r = diff_account(o, n, oa, na, pg, em);
                        continue;
                }
                json_t *privs = accounts_privileges(n, na->name, pg);
                r = emit(em, "account.added", json_pack("{s:o, s:I, s:I, s:o, s:o, s:b, s:o}",
                         "user", event_json_string(na->name), "uid", (json_int_t) na->uid,
                         "gid", (json_int_t) na->gid, "home", event_json_string(na->home),
                         "shell", event_json_string(na->shell), "privileged", json_array_size(privs) > 0,
                         "privileges", privs));
        }
        for (size_t i = 0; r >= 0 && i < o->n_accounts; i++) {
                const Account *oa = &o->accounts[i];
                if (accounts_find(n, oa->name))
                        continue;
                json_t *privs = accounts_privileges(o, oa->name, pg);
                r = emit(em, "account.removed", json_pack("{s:o, s:I, s:b, s:o}", "user",
                         event_json_string(oa->name), "uid", (json_int_t) oa->uid,
                         "privileged", json_array_size(privs) > 0, "privileges", privs));
        }
        return r;
}

static bool is_priv_group(const char *name, const char *const *pg) {
        for (size_t i = 0; pg && pg[i]; i++)
                if (!strcmp(pg[i], name))
                        return true;
        return false;
}

static bool member_of(const Group *g, const char *user) {
        for (size_t i = 0; g && i < g->n_members; i++)
                if (!strcmp(g->members[i], user))
                        return true;
        return false;
}

static int diff_members(const Group *from, const Group *to, const char *kind, const char *const *pg, Emitter *em) {
        int r = 0;
        for (size_t i = 0; r >= 0 && from && i < from->n_members; i++)
                if (!member_of(to, from->members[i]))
                        r = emit(em, kind, json_pack("{s:o, s:o, s:b}", "group", event_json_string(from->name),
                                 "user", event_json_string(from->members[i]), "privileged",
                                 is_priv_group(from->name, pg)));
        return r;
}

static int diff_groups(const Accounts *o, const Accounts *n, const char *const *pg, Emitter *em) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n->n_groups; i++) {
                const Group *ng = &n->groups[i], *og = accounts_find_group(o, ng->name);
                if (!og)
                        r = emit(em, "group.added", json_pack("{s:o, s:I, s:o, s:b}", "group",
                                 event_json_string(ng->name), "gid", (json_int_t) ng->gid, "members",
                                 str_array(ng->members, ng->n_members), "privileged", is_priv_group(ng->name, pg)));
                else if (og->gid != ng->gid)
                        r = emit(em, "group.changed", json_pack("{s:o, s:{s:{s:I, s:I}}}", "group",
                                 event_json_string(ng->name), "changes", "gid", "old", (json_int_t) og->gid,
                                 "new", (json_int_t) ng->gid));
                if (r >= 0 && og)
                        r = diff_members(ng, og, "group.member-added", pg, em);
                if (r >= 0 && og)
                        r = diff_members(og, ng, "group.member-removed", pg, em);
        }
        for (size_t i = 0; r >= 0 && i < o->n_groups; i++)
                if (!accounts_find_group(n, o->groups[i].name))
                        r = emit(em, "group.removed", json_pack("{s:o, s:I, s:o}", "group",
                                 event_json_string(o->groups[i].name), "gid", (json_int_t) o->groups[i].gid,
                                 "members", str_array(o->groups[i].members, o->groups[i].n_members)));
        return r;
}

static const SudoersFile *find_sudoers(const Accounts *a, const char *path) {
        for (size_t i = 0; i < a->n_sudoers; i++)
                if (!strcmp(a->sudoers[i].path, path))
                        return &a->sudoers[i];
        return NULL;
}

static json_t *lines_missing(const SudoersFile *from, const SudoersFile *in) {
        json_t *a = json_array();
        for (size_t i = 0; from && i < from->n_lines; i++) {
                bool found = false;
                for (size_t j = 0; in && !found && j < in->n_lines; j++)
                        found = !strcmp(from->lines[i], in->lines[j]);
                if (!found)
                        json_array_append_new(a, event_json_string(from->lines[i]));
        }
        return a;
}

static int sudoers_one(const char *path, const SudoersFile *o, const SudoersFile *n, Emitter *em) {
        json_t *added = lines_missing(n, o), *removed = lines_missing(o, n);
        if (json_array_size(added) == 0 && json_array_size(removed) == 0 && (o == NULL) == (n == NULL)) {
                json_decref(added);
                json_decref(removed);
                return 0;
        }
        return emit(em, "sudoers.changed", json_pack("{s:s, s:s, s:o, s:o}", "file", path,
                    "change", !o ? "created" : !n ? "deleted" : "modified", "added", added, "removed", removed));
}

static int diff_sudoers(const Accounts *o, const Accounts *n, Emitter *em) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n->n_sudoers; i++)
                r = sudoers_one(n->sudoers[i].path, find_sudoers(o, n->sudoers[i].path), &n->sudoers[i], em);
        for (size_t i = 0; r >= 0 && i < o->n_sudoers; i++)
                if (!find_sudoers(n, o->sudoers[i].path))
                        r = sudoers_one(o->sudoers[i].path, &o->sudoers[i], NULL, em);
        return r;
}

int accounts_diff(const Accounts *old, const Accounts *new, const char *const *priv_groups,
                  AccountsEventFn fn, void *userdata) {
        Emitter em = { fn, userdata };
        int r = diff_accounts(old, new, priv_groups, &em);
        if (r >= 0)
                r = diff_groups(old, new, priv_groups, &em);
        if (r >= 0)
                r = diff_sudoers(old, new, &em);
        return r < 0 ? r : 0;
}
