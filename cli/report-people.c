/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report accounts and report activity: who holds power, who did what. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "virtgov/host/accounts.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/kinds.h"

/* ---- accounts ---- */

static const char *const accounts_columns[] = { "user", "uid", "privileges", "time", "kind", NULL };

static int change_event(const Event *e, void *u) {
        Report *r = u;
        const char *who = json_string_value(json_object_get(e->data, "user"));
        const char *group = json_string_value(json_object_get(e->data, "group"));
        const char *file = json_string_value(json_object_get(e->data, "file"));
        /* The why: what the columns (user, time, kind) do not say. */
        if (strcmp(e->kind, "account.baseline"))
                report_add(r, "changes", false, REPORT_COLS(who, NULL, NULL, e->time, e->kind), NULL, "%s%s%s%s%s%s",
                           group ? "group " : "", group ? group : "", file ? (group ? ", in " : "in ") : "",
                           file ? file : "", e->actor ? (group || file ? ", by " : "by ") : "",
                           e->actor ? e->actor : "");
        return 0;
}

/* How a privileged account can be logged into, which the privileges
 * column does not say (never the hash: only its state). */
static const char *login_state(const Account *ac, char *buf, size_t n) {
        char day[16] = "";
        if (ac->pw_lastchg > 0) {
                time_t t = (time_t) ac->pw_lastchg * 86400;
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        }
        switch (ac->pw_status) {
        case 'P': snprintf(buf, n, "password set%s%s", day[0] ? ", last changed " : "", day); break;
        case 'L': snprintf(buf, n, "password locked"); break;
        case 'N': snprintf(buf, n, "EMPTY password: anyone may log in as it"); break;
        default: snprintf(buf, n, "no shadow entry: password state unknown"); break;
        }
        return buf;
}

/* The roster: one account name per line; '#' comments; anything after the
 * name (a comment, a ticket) is ignored. */
json_t *report_read_roster(const char *path) {
        _cleanup_free_ char *text = NULL;
        int r = cli_read_input(path, 16 << 20, &text, NULL);
        if (r < 0) {
                cli_error("roster '%s': %s", path, cli_input_error(r));
                return NULL;
        }
        json_t *names = json_object();
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t");
                line[strcspn(line, " \t\r#")] = '\0';
                if (*line)
                        json_object_set_new(names, line, json_true());
        }
        return names;
}

static int accounts_run(Report *r) {
        Accounts *a = NULL;
        VgError err = { "" };
        if (accounts_read(r->cli->config->etc_dir, 0, &a, &err) < 0)
                return cli_error("%s", err.text);
        char **pg = config_split(r->cli->config->privileged_groups);
        json_t *roster = r->roster ? report_read_roster(r->roster) : NULL;
        int rc = r->roster && !roster ? -EINVAL : 0;

        for (size_t i = 0; rc == 0 && i < a->n_accounts; i++) {
                const Account *ac = &a->accounts[i];
                char state[128];
                json_t *why = accounts_privileges(a, ac->name, (const char *const *) pg);
                /* The reasons as a list in the JSON, joined in the text. */
                if (json_array_size(why))
                        report_add(r, "privileged", false, REPORT_COLS(ac->name),
                                   json_pack("{s:I, s:O}", "uid", (json_int_t) ac->uid, "privileges", why),
                                   "%s", login_state(ac, state, sizeof(state)));
                /* A person's account (uid >= 1000) or any privileged one must be
                 * on the roster; system accounts need not be. */
                bool person = ac->uid >= 1000 && ac->uid != 65534;
                if (roster && (person || json_array_size(why)) && !json_object_get(roster, ac->name))
                        report_add(r, "not_on_roster", true, REPORT_COLS(ac->name),
                                   json_pack("{s:I, s:O}", "uid", (json_int_t) ac->uid, "privileges", why),
                                   "not on the roster %s", r->roster);
                json_decref(why);
        }
        const char *name;
        json_t *v;
        json_object_foreach(roster, name, v) {
                bool found = false;
                for (size_t i = 0; i < a->n_accounts && !found; i++)
                        found = !strcmp(a->accounts[i].name, name);
                if (!found)
                        report_add(r, "roster_missing", true, REPORT_COLS(name), NULL,
                                   "'%s' is on the roster but has no account here", name);
        }
        static const char *const kinds[] = { "account.", "group.", "sudoers." };
        for (size_t k = 0; rc == 0 && k < 3; k++) {
                EventFilter f = { .kind_prefix = kinds[k], .since_us = r->since_us };
                if (store_query_events(r->store, &f, change_event, r, &err) < 0)
                        rc = cli_error("%s", err.text);
        }
        json_decref(roster);
        config_strv_free(pg);
        accounts_free(a);
        return rc;
}

const ReportDef report_accounts = {
        .name = "accounts", .summary = "privileged accounts, changes, roster reconciliation",
        .columns = accounts_columns, .run = accounts_run,
};

/* ---- activity ---- */

static const char *const activity_columns[] = { "time", "domain", "owner", "authorized_by", NULL };

typedef struct Activity {
        Report *r;
        json_t *per_day, *per_owner;
} Activity;

static void count(json_t *map, const char *key, const char *what) {
        json_t *o = json_object_get(map, key);
        if (!o) {
                o = json_pack("{s:i, s:i, s:i}", "activations", 0, "deactivations", 0, "unreconciled", 0);
                json_object_set_new(map, key, o);
        }
        json_object_set_new(o, what, json_integer(json_integer_value(json_object_get(o, what)) + 1));
}

/* What authorized an activation, from the decision the hook recorded: an
 * approval, a ticket, or a rule's full set of requirements. NULL: nothing. */
static const char *authorized_by(const Event *e, char *buf, size_t n) {
        const char *first = e->reason ? e->reason : "";
        const char *ticket = json_string_value(json_object_get(e->data, "$.facts.ticket"));
        if (!strncmp(first, "approved", 8))
                return "approval";
        if (!strncmp(first, "change ticket '", 15)) {
                snprintf(buf, n, "ticket %.*s", (int) strcspn(first + 15, "'"), first + 15);
                return buf;
        }
        if (strstr(first, "every requirement of rule")) {
                snprintf(buf, n, "rule %s%s%s", json_string_value(json_object_get(e->data, "$.rule")) ?: "?",
                         ticket ? ", ticket " : "", ticket ? ticket : "");
                return buf;
        }
        return NULL;
}

static int activity_event(const Event *e, void *u) {
        Activity *a = u;
        const EventKind *k = event_kind(e->kind);
        bool start = k && (k->flags & KIND_ACTIVATION);
        if (!start && !(k && (k->flags & KIND_DEACTIVATION)))
                return 0;
        if (start && e->decision && !strcmp(e->decision, "deny"))
                return 0;   /* blocked: no activation happened */
        const char *owner = json_string_value(json_object_get(e->data, "$.facts.owner"));
        char day[11];
        snprintf(day, sizeof(day), "%.10s", e->time);
        count(a->per_day, day, start ? "activations" : "deactivations");
        count(a->per_owner, owner ? owner : "(none)", start ? "activations" : "deactivations");
        if (!start) {
                report_add(a->r, "deactivation", false, REPORT_COLS(e->time, e->domain, owner, NULL), NULL,
                           "stopped");
                return 0;
        }
        char buf[300];
        const char *by = authorized_by(e, buf, sizeof(buf));
        if (!by) {
                count(a->per_day, day, "unreconciled");
                count(a->per_owner, owner ? owner : "(none)", "unreconciled");
        }
        report_add(a->r, by ? "activation" : "unreconciled", !by, REPORT_COLS(e->time, e->domain, owner, by), NULL,
                   "%s", by ? "reconciled" : e->reason ? e->reason : "no decision recorded");
        return 0;
}

static int activity_run(Report *r) {
        Activity a = { r, json_object(), json_object() };
        int rc = 0;
        /* The two kinds it counts, each through the kind index: the hook
         * records five per start and stop, and decoding the others' data
         * was two thirds of the report's time (26 s at 1,000,000 events). */
        /* Of each event's data (its facts: 1 KiB and more), only these. */
        static const char *const paths[] = { "$.facts.owner", "$.facts.ticket", "$.rule", NULL };
        for (const EventKind *k = NULL; !rc && (k = event_kind_next(k, 0));) {
                if (!(k->flags & (KIND_ACTIVATION | KIND_DEACTIVATION)))
                        continue;
                EventFilter f = { .source = "hook", .kind_prefix = k->name, .since_us = r->since_us,
                                  .data_paths = paths };
                VgError err = { "" };
                if (store_query_events(r->store, &f, activity_event, &a, &err) < 0)
                        rc = cli_error("%s", err.text);
        }
        r->sections = json_pack("{s:o, s:o}", "per_day", a.per_day, "per_owner", a.per_owner);
        return rc;
}

const ReportDef report_activity = {
        .name = "activity", .summary = "activations and deactivations, reconciled with approvals and tickets",
        .columns = activity_columns, .run = activity_run,
};
