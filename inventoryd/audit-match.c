/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the audit stream's records are matched to (audit-priv.h): the
 * account watcher's diff events, which take their actor from the
 * shadow-utils record of the same change, and libvirt's domain events,
 * which take theirs from a VM command that named the domain.
 *
 * Matching is by what both sides name, never by time alone: an account
 * record names the account (acct=) or its uid/gid (id=), the diff event
 * the account and its ids; a command line names the domain. Time only
 * bounds how long a record waits.
 *
 * Below the reader: it hands records in and asks for claims once it has
 * read the stream to its end; nothing here calls back into it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit-priv.h"
#include "log.h"

/* ---- account records ---- */

static void pending_clear(AuditPending *p) {
        free(p->acct);
        free(p->account);
        json_decref(p->account_from);
        free(p->actor);
        free(p->op);
        json_decref(p->actor_obj);
}

/* to takes the account its command acts on from from, a record of the same command. */
static int account_copy(AuditPending *to, const AuditPending *from) {
        if (!(to->account = strdup(from->account)))
                return -ENOMEM;
        to->account_from = json_incref(from->account_from);
        return 0;
}

/* The name of the account p's command acts on, from p or from the
 * command's records before it (useradd names it in ADD_GROUP, before its
 * ADD_USER of the uid alone), and from p to those before it that lack it
 * (userdel's DEL_GROUP comes after its DEL_USER). One command is one pid,
 * as a claim takes them. */
static int account_share(AuditReader *a, AuditPending *p, const AuditEvent *ev) {
        const char *account = audit_command_account(ev);
        if (account) {
                char ref[48];
                if (!(p->account = strdup(account)) ||
                    !(p->account_from = json_pack("{s:s, s:s}", "record", ev->type_name, "audit",
                                                  audit_event_ref(ev, ref, sizeof(ref)))))
                        return -ENOMEM;
        }
        for (size_t i = 0; i + 1 < a->n_pending; i++) {
                AuditPending *q = &a->pending[i];
                if (q->pid != p->pid)
                        continue;
                if (p->account && !q->account && account_copy(q, p) < 0)
                        return -ENOMEM;
                if (!p->account && q->account && account_copy(p, q) < 0)
                        return -ENOMEM;
        }
        return 0;
}

void auditm_account_record(AuditReader *a, const AuditEvent *ev) {
        const char *kind = audit_account_kind(ev);
        if (!kind)
                return;   /* a failed attempt changed nothing */
        if (vg_grow((void **) &a->pending, &a->n_pending, sizeof(AuditPending)) < 0) {
                log_msg(LOG_ERR, "out of memory: an account record of the audit stream is not kept");
                return;
        }
        AuditPending *p = &a->pending[a->n_pending - 1];
        *p = (AuditPending) { .seen_us = vg_now_us(), .pid = ev->pid, .kind = kind, .id = ev->id };
        if ((ev->acct && !(p->acct = strdup(ev->acct))) || (ev->op && !(p->op = strdup(ev->op))) ||
            account_share(a, p, ev) < 0 || audit_actor(ev, a->d->accounts, &p->actor, &p->actor_obj) < 0) {
                pending_clear(p);
                a->n_pending--;
                log_msg(LOG_ERR, "out of memory: an account record of the audit stream is not kept");
        }
}

/* What a diff event is about: the account (or group) name and id it
 * names, from its data or the snapshots. */
typedef struct Target {
        const char *name;        /* data.user, or data.group */
        int64_t id;              /* its uid or gid, or -1 */
        bool group;              /* a group's own event (added, removed, changed) */
        bool member;             /* group.member-*: the user is what the record names */
} Target;

static int64_t uid_of(const Accounts *a, const char *name) {
        for (size_t i = 0; a && name && i < a->n_accounts; i++)
                if (!strcmp(a->accounts[i].name, name))
                        return a->accounts[i].uid;
        return -1;
}

static int64_t gid_of(const Accounts *a, const char *name) {
        for (size_t i = 0; a && name && i < a->n_groups; i++)
                if (!strcmp(a->groups[i].name, name))
                        return a->groups[i].gid;
        return -1;
}

static Target target_of(const Event *e, const Accounts *old, const Accounts *new) {
        Target t = { .id = -1 };
        json_t *id;
        if (!strncmp(e->kind, "account.", 8)) {
                t.name = json_string_value(json_object_get(e->data, "user"));
                id = json_object_get(e->data, "uid");
                t.id = json_is_integer(id) ? json_integer_value(id) : uid_of(new, t.name);
                if (t.id < 0)
                        t.id = uid_of(old, t.name);
        } else if (!strncmp(e->kind, "group.member-", 13)) {
                t.name = json_string_value(json_object_get(e->data, "user"));
                t.member = true;
        } else if (!strncmp(e->kind, "group.", 6)) {
                t.name = json_string_value(json_object_get(e->data, "group"));
                t.group = true;
                id = json_object_get(e->data, "gid");
                t.id = json_is_integer(id) ? json_integer_value(id) : gid_of(new, t.name);
                if (t.id < 0)
                        t.id = gid_of(old, t.name);
        }
        return t;
}

/* One diff's events are claimed within one loop iteration: microseconds
 * apart. A record claimed longer ago than this belongs to an earlier
 * diff, and must not name the person behind a later change (a vipw right
 * after a useradd). */
#define AUDIT_SAME_DIFF_US 50000

static bool matches(const AuditPending *p, const Target *t, int64_t now) {
        if (p->claimed && now - p->claimed_us > AUDIT_SAME_DIFF_US)
                return false;
        bool group_record = !strncmp(p->kind, "group.", 6) && strncmp(p->kind, "group.member-", 13);
        bool member_record = !strncmp(p->kind, "group.member-", 13);
        if (t->member)
                return member_record && p->acct && t->name && !strcmp(p->acct, t->name);
        if (group_record != t->group || member_record)
                return false;
        return (p->acct && t->name && !strcmp(p->acct, t->name)) || (p->id >= 0 && p->id == t->id);
}

static void set_unknown(Event *e, const char *why) {
        event_set(&e->actor, "unknown");
        json_object_set_new(e->data, "why", json_string(why));
}

void auditm_claim_account(AuditReader *a, Event *e, const Accounts *old, const Accounts *new, bool live) {
        if (!strncmp(e->kind, "account.baseline", 16))
                return;
        if (!live) {
                set_unknown(e, "changed while virtgov-inventoryd was not running: no audit record was read");
                return;
        }
        if (!a) {
                set_unknown(e, "the audit stream is not read ('audit = no')");
                return;
        }
        if (a->off) {
                set_unknown(e, "the audit stream cannot be read (see the daemon.degraded event)");
                return;
        }
        Target t = target_of(e, old, new);
        AuditPending *hit = NULL;
        int64_t now = vg_now_us();
        for (size_t i = 0; i < a->n_pending && !hit; i++)
                if (matches(&a->pending[i], &t, now))
                        hit = &a->pending[i];
        if (!hit) {
                if (a->status_known && !a->status.enabled)
                        set_unknown(e, "the kernel's audit is off: no record of who made this change");
                else if (!a->status_known && !a->records)
                        set_unknown(e, "no audit record of this change: made by a tool that sends none (vipw, an "
                                    "editor), or the kernel's audit is off (its status cannot be read)");
                else if (!strcmp(e->kind, "sudoers.changed"))
                        set_unknown(e, "sudoers files are edited with no account record (visudo, an editor)");
                else
                        set_unknown(e, "no audit record of this change: made by a tool that sends none (vipw, "
                                    "an editor, a tool built without audit)");
                return;
        }
        /* Every record of that command is explained: useradd's group
         * with its user, userdel's five records with the removal. */
        int64_t pid = hit->pid;
        for (size_t i = 0; i < a->n_pending; i++)
                if (a->pending[i].pid == pid && !a->pending[i].claimed) {
                        a->pending[i].claimed = true;
                        a->pending[i].claimed_us = now;
                }
        event_set(&e->actor, hit->actor);
        json_object_set(e->data, "actor", hit->actor_obj);
}

/* One event per command and kind: userdel sends DEL_USER three times. */
static bool recorded_before(const AuditReader *a, size_t i) {
        for (size_t j = 0; j < i; j++)
                if (!a->pending[j].claimed && a->pending[j].pid == a->pending[i].pid &&
                    !strcmp(a->pending[j].kind, a->pending[i].kind))
                        return true;
        return false;
}

/* data.user (or group) of an account record on its own: its acct=, else
 * the name its command's other records give (data.user_from names that
 * record, for ausearch; a group record's name is the group's own), else
 * data.name_unknown says why there is none. An auditor searches by name:
 * a uid alone must say it is all there was. */
static void name_alone(const AuditPending *p, Event *e) {
        bool group = !strncmp(p->kind, "group.", 6) && strncmp(p->kind, "group.member-", 13);
        const char *key = group ? "group" : "user";
        if (p->acct) {
                json_object_set_new(e->data, key, event_json_string(p->acct));
                return;
        }
        if (p->account && strncmp(p->kind, "group.", 6)) {
                json_t *from = json_deep_copy(p->account_from);
                json_object_set_new(e->data, key, event_json_string(p->account));
                json_object_set_new(from, "how", json_string("a record of the same command names it: useradd and "
                                                             "userdel act on one account, and name its own group "
                                                             "after it"));
                json_object_set_new(e->data, "user_from", from);
                return;
        }
        json_object_set_new(e->data, "name_unknown", json_string(group ?
                "the audit record names the gid only, and no other record of its command names the group" :
                "the audit record names the uid only (shadow-utils logs id= once the uid is known), and no "
                "other record of its command names the account (useradd -g or -N adds no group of its name)"));
}

static void record_alone(AuditReader *a, const AuditPending *p) {
        Event *e = event_new("audit", p->kind);
        if (!e) {
                log_not_recorded(p->kind, NULL);
                return;
        }
        bool group = !strncmp(p->kind, "group.", 6) && strncmp(p->kind, "group.member-", 13);
        name_alone(p, e);
        if (p->id >= 0)
                json_object_set_new(e->data, group ? "gid" : "uid", json_integer(p->id));
        if (p->op)
                json_object_set_new(e->data, "op", event_json_string(p->op));
        json_object_set_new(e->data, "why", json_string("no change of the account files shows it: undone before "
                                                        "they settled, so only the audit record tells"));
        json_object_set(e->data, "actor", p->actor_obj);
        event_set(&e->actor, p->actor);
        event_set(&e->reason, "from the audit record alone");
        recorder_record(a->d->rec, e);
}

void auditm_sweep(AuditReader *a, bool force) {
        int64_t now = vg_now_us();
        size_t keep = 0;
        for (size_t i = 0; i < a->n_pending; i++) {
                AuditPending *p = &a->pending[i];
                if (!force && now - p->seen_us < AUDIT_HOLD_MS * 1000LL)
                        continue;
                if (!p->claimed && !recorded_before(a, i))
                        record_alone(a, p);
        }
        /* Then forget them, keeping the young ones (in order). */
        for (size_t i = 0; i < a->n_pending; i++) {
                if (force || now - a->pending[i].seen_us >= AUDIT_HOLD_MS * 1000LL)
                        pending_clear(&a->pending[i]);
                else
                        a->pending[keep++] = a->pending[i];
        }
        a->n_pending = keep;
}

/* ---- VM commands ---- */

static void command_clear(AuditCommand *c) {
        free(c->program);
        free(c->actor);
        json_decref(c->argv);
        json_decref(c->actor_obj);
        *c = (AuditCommand) { 0 };
}

void auditm_command(AuditReader *a, const AuditEvent *ev) {
        /* A command no person ran (no login uid) names nobody. */
        if (ev->auid == VG_AUID_UNSET || !ev->success || !ev->argc)
                return;
        AuditCommand *c = &a->commands[a->next_command];
        a->next_command = (a->next_command + 1) % AUDIT_COMMANDS;
        command_clear(c);
        const char *prog = audit_program(ev);
        c->time_us = ev->time_us;
        c->pid = ev->pid;
        c->auid = ev->auid;
        c->argv = audit_command_line(ev);
        audit_event_ref(ev, c->ref, sizeof(c->ref));
        if (!(c->program = strdup(prog ? prog : "?")) || !c->argv ||
            audit_actor(ev, a->d->accounts, &c->actor, &c->actor_obj) < 0) {
                command_clear(c);
                log_msg(LOG_ERR, "out of memory: a VM command of the audit stream is not kept");
        }
}

static bool names_domain(const AuditCommand *c, const Event *e) {
        size_t i;
        json_t *v;
        json_array_foreach(c->argv, i, v) {
                const char *s = json_string_value(v);
                if (i == 0 || !s)
                        continue;
                if (!strncmp(s, "--domain=", 9) || !strncmp(s, "--name=", 7))
                        s = strchr(s, '=') + 1;
                if ((e->domain && !strcmp(s, e->domain)) || (e->uuid && !strcasecmp(s, e->uuid)))
                        return true;
        }
        return false;
}

/* A command that defines a domain from a file, whose line names none:
 * virsh define/create FILE, virt-install, virt-clone. */
static bool defines_from_file(const AuditCommand *c) {
        if (!strcmp(c->program, "virt-install") || !strcmp(c->program, "virt-clone"))
                return true;
        if (strcmp(c->program, "virsh"))
                return false;
        size_t i;
        json_t *v;
        json_array_foreach(c->argv, i, v) {
                const char *s = json_string_value(v);
                if (i > 0 && s && (!strcmp(s, "define") || !strcmp(s, "create")))
                        return true;
        }
        return false;
}

static json_t *evidence(const AuditCommand *c, const char *how) {
        char t[VG_TIME_MAX];
        vg_time_format(c->time_us, t);
        return json_pack("{s:O, s:s, s:I, s:s, s:s, s:s}", "command", c->argv, "program", c->program, "pid",
                         (json_int_t) c->pid, "time", t, "audit", c->ref, "how", how);
}

void auditm_claim_domain(AuditReader *a, Event *e) {
        if (!a || a->off)
                return;
        int64_t now = vg_now_us(), window = (int64_t) a->d->config->audit_actor_window_s * 1000000;
        AuditCommand *named = NULL, *definer = NULL;
        bool named_two = false;
        size_t definers = 0;
        for (size_t i = 0; i < AUDIT_COMMANDS; i++) {
                AuditCommand *c = &a->commands[i];
                /* (a second of slack: the kernel's clock is read at the
                 * exec, ours at the event) */
                if (!c->program || c->time_us < now - window || c->time_us > now + 1000000)
                        continue;
                if (names_domain(c, e)) {
                        if (named && named->auid != c->auid)
                                named_two = true;
                        if (!named || c->time_us > named->time_us)
                                named = c;
                } else if (!c->defined && defines_from_file(c)) {
                        definers++;
                        definer = c;
                }
        }
        /* Two people's commands named it: which one did is not known. */
        if (named_two)
                return;
        AuditCommand *c = named;
        const char *how = "the command line names the domain";
        if (!c && definers == 1 && !strcmp(e->kind, "domain.defined")) {
                c = definer;
                c->defined = true;
                how = "the only define command in the window; its line names a file, not the domain";
        }
        if (!c)
                return;
        json_t *ev = evidence(c, how);
        if (!ev)
                return;
        event_set(&e->actor, c->actor);
        json_object_set(e->data, "actor", c->actor_obj);
        json_object_set_new(e->data, "actor_evidence", ev);
}

void auditm_free(AuditReader *a) {
        for (size_t i = 0; i < a->n_pending; i++)
                pending_clear(&a->pending[i]);
        free(a->pending);
        for (size_t i = 0; i < AUDIT_COMMANDS; i++)
                command_clear(&a->commands[i]);
}
