/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events in the Elastic Common Schema (ecs.h). The categorization fields
 * take only the values ECS allows (ECS 8.11, "Categorization fields");
 * what ECS has no field for goes under virtgov.*.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "virtgov/model/kinds.h"
#include "virtgov/ship/ecs.h"
#include "virtgov/store/eventlog.h"
#include "virtgov/util/cleanup.h"

#define C(...) { __VA_ARGS__, NULL }
#define T(...) { __VA_ARGS__, NULL }

/* One row per kind of kinds.c (the unit test walks that table). A
 * guest's lifecycle is "host" (ECS: a host's lifecycle; the guest is one),
 * its definition "configuration"; the accounts are "iam"; a file of the
 * hypervisor that changed is "file"; what policy found is
 * "intrusion_detection". */
static const EcsKind table[] = {
        { "domain.defined", C("configuration"), T("creation") },
        { "domain.undefined", C("configuration"), T("deletion") },
        { "domain.metadata-changed", C("configuration"), T("change") },
        { "domain.device-added", C("configuration"), T("device", "creation") },
        { "domain.device-removed", C("configuration"), T("device", "deletion") },
        { "domain.prepare", C("host"), T("start") },
        { "domain.start", C("host"), T("start") },
        { "domain.started", C("host"), T("start") },
        { "domain.restore", C("host"), T("start") },
        { "domain.migrate", C("host"), T("start") },
        { "domain.resumed", C("host"), T("start") },
        { "domain.reconnect", C("host"), T("info") },
        { "domain.attach", C("host"), T("info") },
        { "domain.seen", C("host"), T("info") },
        { "domain.suspended", C("host"), T("change") },
        { "domain.pmsuspended", C("host"), T("change") },
        { "domain.reboot", C("host"), T("change") },
        { "domain.shutdown", C("host"), T("end") },
        { "domain.stopped", C("host"), T("end") },
        { "domain.release", C("host"), T("end") },
        { "domain.crashed", C("host"), T("end", "error") },

        { "network.defined", C("configuration", "network"), T("creation") },
        { "network.created", C("configuration", "network"), T("creation") },
        { "network.undefined", C("configuration", "network"), T("deletion") },
        { "network.deleted", C("configuration", "network"), T("deletion") },
        { "network.updated", C("configuration", "network"), T("change") },
        { "network.start", C("network"), T("start") },
        { "network.started", C("network"), T("start") },
        { "network.stopped", C("network"), T("end") },
        { "network.port-created", C("network"), T("connection", "creation") },
        { "network.port-deleted", C("network"), T("connection", "deletion") },

        { "pool.defined", C("configuration"), T("creation") },
        { "pool.created", C("configuration"), T("creation") },
        { "pool.undefined", C("configuration"), T("deletion") },
        { "pool.deleted", C("configuration"), T("deletion") },
        { "pool.started", C("configuration"), T("start") },
        { "pool.stopped", C("configuration"), T("end") },
        { "pool.usage", C("host"), T("info") },

        { "account.added", C("iam"), T("user", "creation") },
        { "account.removed", C("iam"), T("user", "deletion") },
        { "account.changed", C("iam"), T("user", "change") },
        { "account.password-changed", C("iam"), T("user", "change") },
        { "account.baseline", C("iam"), T("user", "info") },
        { "group.added", C("iam"), T("group", "creation") },
        { "group.removed", C("iam"), T("group", "deletion") },
        { "group.changed", C("iam"), T("group", "change") },
        { "group.member-added", C("iam"), T("group", "change") },
        { "group.member-removed", C("iam"), T("group", "change") },
        { "sudoers.changed", C("iam", "configuration"), T("admin", "change") },
        { "access.login", C("authentication", "session"), T("start") },
        { "access.logout", C("session"), T("end") },
        { "access.failed", C("authentication"), T("start") },
        { "access.sudo", C("authentication", "process"), T("start", "admin") },

        { "approval.granted", C("configuration", "iam"), T("admin", "creation") },
        { "approval.revoked", C("configuration", "iam"), T("admin", "deletion") },
        { "ticket.added", C("configuration"), T("creation") },
        { "ticket.replaced", C("configuration"), T("change") },
        { "image.trusted", C("configuration", "file"), T("creation") },
        { "image.changed", C("file"), T("change") },

        { "integrity.changed", C("file", "intrusion_detection"), T("change") },
        { "integrity.added", C("file", "intrusion_detection"), T("creation") },
        { "integrity.removed", C("file", "intrusion_detection"), T("deletion") },
        { "integrity.baseline", C("configuration", "file"), T("creation") },
        { "integrity.accepted", C("configuration", "file"), T("change") },
        { "integrity.package-update", C("package", "file"), T("installation", "change") },
        { "integrity.process", C("process", "intrusion_detection"), T("change") },
        { "integrity.action", C("process"), T("start") },
        { "integrity.action-failed", C("process"), T("start", "error") },
        { "host.software", C("host", "package"), T("change") },
        { "host.identity", C("host"), T("change") },
        { "host.capacity", C("host"), T("change") },
        { "host.uplinks", C("host"), T("change") },

        { "policy.violation", C("intrusion_detection"), T("denied") },
        { "policy.bypass", C("intrusion_detection"), T("indicator") },
        { "policy.error", C("configuration"), T("error") },
        { "assess.run", C("configuration"), T("info") },
        { "assess.regressed", C("configuration", "vulnerability"), T("change") },
        { "assess.fixed", C("configuration", "vulnerability"), T("change") },
        { "audit.enabled", C("configuration"), T("change") },
        { "audit.rules", C("configuration"), T("change") },
        { "audit.lost", C("host"), T("error") },

        { "daemon.started", C("process"), T("start") },
        { "daemon.stopped", C("process"), T("end") },
        { "daemon.connected", C("process"), T("connection", "start") },
        { "daemon.disconnected", C("process"), T("connection", "end") },
        { "daemon.degraded", C("process"), T("error") },
        { "central.conflict", C("database"), T("error") },
        { "daemon.reloaded", C("configuration"), T("change") },
        { "daemon.reload-failed", C("configuration"), T("error") },
};

const EcsKind *ecs_kind(const char *kind) {
        for (size_t i = 0; kind && i < ELEMENTSOF(table); i++)
                if (!strcmp(table[i].kind, kind))
                        return &table[i];
        return NULL;
}

const EcsKind *ecs_kind_next(const EcsKind *prev) {
        const EcsKind *k = prev ? prev + 1 : table;
        return k < table + ELEMENTSOF(table) ? k : NULL;
}

static void set_str(json_t *o, const char *key, const char *v) {
        if (v)
                json_object_set_new(o, key, event_json_string(v));
}

/* o[key], made an object when absent. */
static json_t *sub(json_t *o, const char *key) {
        json_t *s = json_object_get(o, key);
        if (!s && json_object_set_new(o, key, s = json_object()) < 0)
                return NULL;
        return s;
}

/* A number of the data as ECS's keyword ids are: text. */
static void set_id(json_t *o, const char *key, json_t *v) {
        char buf[32];
        if (json_is_integer(v)) {
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                json_object_set_new(o, key, json_string(buf));
        }
}

static const char *level_name(int severity) {
        switch (severity) {
        case LOG_ERR: return "error";
        case LOG_WARNING: return "warning";
        case LOG_NOTICE: return "notice";
        default: return "info";
        }
}

static int put_event(json_t *doc, const Event *e, const EventKind *k) {
        json_t *ev = sub(doc, "event");
        if (!ev)
                return -ENOMEM;
        bool deny = vg_streq(e->decision, "deny"), allow = vg_streq(e->decision, "allow");
        bool alert = deny || event_kind_unauthorized(e->kind, e->decision) || (k && (k->flags & KIND_ALERT));
        json_object_set_new(ev, "kind", json_string(alert ? "alert" : "event"));
        const EcsKind *m = ecs_kind(e->kind);
        if (m) {
                json_t *cat = json_array(), *type = json_array();
                for (size_t i = 0; m->category[i]; i++)
                        json_array_append_new(cat, json_string(m->category[i]));
                for (size_t i = 0; m->type[i]; i++)
                        json_array_append_new(type, json_string(m->type[i]));
                if (deny || allow)
                        json_array_append_new(type, json_string(deny ? "denied" : "allowed"));
                json_object_set_new(ev, "category", cat);
                json_object_set_new(ev, "type", type);
        }
        set_str(ev, "action", e->kind);
        /* Only where the event is an attempt that succeeded or failed. */
        if (deny || (k && (k->flags & KIND_ERROR)) || vg_streq(e->kind, "access.failed"))
                json_object_set_new(ev, "outcome", json_string("failure"));
        else if (allow)
                json_object_set_new(ev, "outcome", json_string("success"));
        if (e->id > 0)
                json_object_set_new(ev, "sequence", json_integer(e->id));
        if (e->hash[0])
                json_object_set_new(ev, "hash", json_string(e->hash));
        set_str(ev, "id", e->ref);
        set_str(ev, "provider", e->source);
        set_str(ev, "reason", e->reason);
        int sev = eventlog_severity(e);
        json_object_set_new(ev, "severity", json_integer(sev));
        json_object_set_new(ev, "module", json_string("virtgov"));
        json_object_set_new(ev, "dataset", json_string("virtgov.events"));
        json_t *log = sub(doc, "log");
        if (!log)
                return -ENOMEM;
        json_object_set_new(log, "level", json_string(level_name(sev)));
        return 0;
}

/* user.*, process.* and related.user from the actor and the data: the
 * person (audit's login uid), and the account an account event is about. */
static int put_people(json_t *doc, const Event *e, json_t *data) {
        json_t *related = json_array(), *actor = json_object_get(data, "actor");
        if (!related)
                return -ENOMEM;
        if (e->actor) {
                json_t *user = sub(doc, "user");
                if (!user)
                        return -ENOMEM;
                set_str(user, "name", e->actor);
                json_array_append_new(related, event_json_string(e->actor));
                if (json_is_object(actor)) {
                        set_id(user, "id", json_object_get(actor, "auid"));
                        json_t *uid = json_object_get(actor, "uid");
                        if (json_is_integer(uid))
                                set_id(sub(user, "effective"), "id", uid);
                        json_t *pid = json_object_get(actor, "pid"), *exe = json_object_get(actor, "exe");
                        if (json_is_integer(pid) || json_is_string(exe)) {
                                json_t *proc = sub(doc, "process");
                                if (json_is_integer(pid))
                                        json_object_set(proc, "pid", pid);
                                if (json_is_string(exe))
                                        json_object_set(proc, "executable", exe);
                        }
                }
        }
        const char *target = json_string_value(json_object_get(data, "user"));
        if (target && (!strncmp(e->kind, "account.", 8) || !strncmp(e->kind, "group.member-", 13))) {
                json_t *t = sub(sub(doc, "user"), "target");
                set_str(t, "name", target);
                json_array_append_new(related, event_json_string(target));
        }
        const char *group = json_string_value(json_object_get(data, "group"));
        if (group && !strncmp(e->kind, "group.", 6))
                set_str(sub(doc, "group"), "name", group);
        if (json_array_size(related))
                json_object_set_new(sub(doc, "related"), "user", related);
        else
                json_decref(related);
        return 0;
}

json_t *ecs_event(const Event *e, const char *data_text, const char *host_id) {
        json_auto_t *doc = json_object();
        json_auto_t *parsed = data_text ? json_loads(data_text, JSON_DECODE_ANY, NULL) : NULL;
        json_t *data = data_text ? parsed : e->data;
        /* The syslog line of the event with its data, which a stored
         * event read as text carries only in data_text. */
        Event with_data = *e;
        if (json_is_object(data))
                with_data.data = data;
        _cleanup_free_ char *line = NULL;
        if (!doc || eventlog_format(&with_data, &line) < 0)
                return NULL;
        json_object_set_new(doc, "@timestamp", json_string(e->time));
        json_object_set_new(doc, "message", event_json_string(line));
        json_object_set_new(sub(doc, "ecs"), "version", json_string(ECS_VERSION));
        if (put_event(doc, e, event_kind(e->kind)) < 0)
                return NULL;
        json_t *host = sub(doc, "host");
        set_str(host, "name", e->host);
        set_str(host, "id", host_id);
        if (put_people(doc, e, data) < 0)
                return NULL;

        json_t *vg = sub(doc, "virtgov");
        if (!vg)
                return NULL;
        if (e->domain || e->uuid) {
                json_t *d = sub(vg, "domain");
                event_json_set_name(d, "name", e->domain);
                set_str(d, "uuid", e->uuid);
        }
        set_str(vg, "decision", e->decision);
        set_str(vg, "ticket", event_ticket(data));
        if (json_is_object(data))
                json_object_set(vg, "data", data);
        else if (data_text)   /* not JSON: kept as it is, never dropped */
                set_str(vg, "data_text", data_text);
        return json_incref(doc);
}
