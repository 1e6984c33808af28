/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report access: who accessed the host, from where, how often; the failed
 * attempts; who is not on the roster. ISM-1605's "access logs: who has
 * accessed the servers over the past 6 months" (default window 180 days).
 *
 * The access.* events the daemon records from the audit stream are the
 * source. Before they begin (a new install, audit turned on late) the
 * window is read from wtmp (sessions) and btmp (failed logins) instead,
 * and every row says which source it came from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>

#include "report.h"
#include "virtgov/host/accounts.h"
#include "virtgov/util/cleanup.h"

static const char *const access_columns[] = { "user", "from", "method", "count", "first", "last", "source", NULL };

/* ISM-1605's auditors ask for six months. */
#define ACCESS_DEFAULT_DAYS 180

typedef struct Access {
        Report *r;
        const Accounts *accounts;
        json_t *rows;            /* "category\tuser\tfrom\tmethod\tsource" -> {count, first, last} */
        json_t *people;          /* who logged in -> true */
        int64_t audit_first_us;  /* the oldest access event: audit's history starts there; 0: none */
} Access;

static void tally(Access *a, const char *category, const char *user, const char *from, const char *method,
                  const char *source, const char *time) {
        char key[1200];
        snprintf(key, sizeof(key), "%s\t%s\t%s\t%s\t%s", category, user ? user : "", from ? from : "",
                 method ? method : "", source);
        json_t *o = json_object_get(a->rows, key);
        if (!o) {
                o = json_pack("{s:i, s:s, s:s}", "count", 0, "first", time, "last", time);
                json_object_set_new(a->rows, key, o);
        }
        json_object_set_new(o, "count", json_integer(json_integer_value(json_object_get(o, "count")) + 1));
        if (strcmp(time, json_string_value(json_object_get(o, "first"))) < 0)
                json_object_set_new(o, "first", json_string(time));
        if (strcmp(time, json_string_value(json_object_get(o, "last"))) > 0)
                json_object_set_new(o, "last", json_string(time));
        if (user && strcmp(category, "failed"))
                json_object_set_new(a->people, user, json_true());
}

static const char *str(const Event *e, const char *key) {
        return json_string_value(json_object_get(e->data, key));
}

static int access_event(const Event *e, void *u) {
        Access *a = u;
        const char *from = str(e, "addr") ? str(e, "addr") : str(e, "terminal");
        if (!strcmp(e->kind, "access.login"))
                tally(a, "logins", str(e, "user"), from, str(e, "method"), "audit", e->time);
        else if (!strcmp(e->kind, "access.sudo"))
                /* who (the person) became whom */
                tally(a, "sudo", e->actor, str(e, "user"), str(e, "method"), "audit", e->time);
        else if (!strcmp(e->kind, "access.failed"))
                tally(a, "failed", str(e, "user") ? str(e, "user") : "(no such account)", from, str(e, "method"),
                      "audit", e->time);
        return 0;
}

static int oldest_access(const Event *e, void *u) {
        int64_t *t = u;
        if (vg_time_parse(e->time, 0, t) < 0)
                *t = 0;
        return -ECANCELED;   /* the first is the oldest */
}

static bool is_account(const Accounts *a, const char *name) {
        for (size_t i = 0; a && i < a->n_accounts; i++)
                if (!strcmp(a->accounts[i].name, name))
                        return true;
        return false;
}

/* wtmp's sessions or btmp's failed logins from since_us up to until_us
 * (where audit's history starts; 0: now). A missing file is no rows. */
static void read_utmp(Access *a, const char *path, bool failed, int64_t since_us, int64_t until_us) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        struct utmp u;
        while (read(fd, &u, sizeof(u)) == (ssize_t) sizeof(u)) {
                if (u.ut_type != USER_PROCESS && !(failed && u.ut_type == LOGIN_PROCESS))
                        continue;
                int64_t t = (int64_t) u.ut_tv.tv_sec * 1000000 + u.ut_tv.tv_usec;
                if (t < since_us || (until_us && t >= until_us))
                        continue;
                char user[sizeof(u.ut_user) + 1], host[sizeof(u.ut_host) + 1], line[sizeof(u.ut_line) + 1];
                char time[VG_TIME_MAX];
                snprintf(user, sizeof(user), "%.*s", (int) sizeof(u.ut_user), u.ut_user);
                snprintf(host, sizeof(host), "%.*s", (int) sizeof(u.ut_host), u.ut_host);
                snprintf(line, sizeof(line), "%.*s", (int) sizeof(u.ut_line), u.ut_line);
                vg_time_format(t, time);
                /* btmp keeps whatever was typed as the name: a password,
                 * often. Only the host's account names are shown. */
                const char *who = !failed || is_account(a->accounts, user) ? user : "(no such account)";
                tally(a, failed ? "failed" : "logins", who, host[0] ? host : line, line[0] ? line : NULL,
                      failed ? "btmp" : "wtmp", time);
        }
        close(fd);
}

static void emit_rows(Access *a, json_t *roster) {
        const char *key;
        json_t *o;
        json_object_foreach(a->rows, key, o) {
                char copy[1200];
                snprintf(copy, sizeof(copy), "%s", key);
                char *f[5] = { copy };
                for (int i = 1; i < 5; i++) {
                        f[i] = strchr(f[i - 1], '\t');
                        *f[i]++ = '\0';
                }
                char count[24];
                json_int_t n = json_integer_value(json_object_get(o, "count"));
                snprintf(count, sizeof(count), "%lld", (long long) n);
                const char *category = !strcmp(f[0], "logins") ? "logins" : !strcmp(f[0], "sudo") ? "sudo" : "failed";
                const char *first = json_string_value(json_object_get(o, "first")),
                           *last = json_string_value(json_object_get(o, "last"));
                report_add(a->r, category, !strcmp(category, "failed"),
                           REPORT_COLS(f[1], *f[2] ? f[2] : NULL, *f[3] ? f[3] : NULL, count, first, last, f[4]), NULL,
                           "%s %s%s%s%s: %lld time(s), last %s (from %s)",
                           !strcmp(category, "logins") ? "sessions of" : !strcmp(category, "sudo") ? "privileges taken by" :
                           "failed attempts for", f[1], *f[2] ? (!strcmp(category, "sudo") ? " as " : " from ") : "",
                           f[2], "", (long long) n, last, f[4]);
        }
        json_t *v;
        json_object_foreach(a->people, key, v)
                if (roster && !json_object_get(roster, key))
                        report_add(a->r, "not_on_roster", true, REPORT_COLS(key), NULL,
                                   "'%s' accessed the host and is not on the roster %s", key, a->r->roster);
}

static int access_run(Report *r) {
        VgError err = { "" };
        Accounts *accounts = NULL;
        (void) accounts_read(r->cli->config->etc_dir, 0, &accounts, &err);   /* none: names are not shown from btmp */
        json_t *roster = r->roster ? report_read_roster(r->roster) : NULL;
        if (r->roster && !roster) {
                accounts_free(accounts);
                return -EINVAL;
        }
        int64_t since = r->since_given ? r->since_us : r->now_us - ACCESS_DEFAULT_DAYS * 86400LL * 1000000;
        Access a = { r, accounts, json_object(), json_object(), 0 };
        int rc = 0;
        EventFilter first = { .kind_prefix = "access.", .source = "audit" };
        int k = store_query_events(r->store, &first, oldest_access, &a.audit_first_us, &err);
        if (k < 0 && k != -ECANCELED)
                rc = cli_error("%s", err.text);
        EventFilter f = { .kind_prefix = "access.", .since_us = since };
        if (!rc && store_query_events(r->store, &f, access_event, &a, &err) < 0)
                rc = cli_error("%s", err.text);
        /* Before audit's history: the login records. */
        if (!rc && (!a.audit_first_us || a.audit_first_us > since)) {
                read_utmp(&a, r->cli->config->wtmp, false, since, a.audit_first_us);
                read_utmp(&a, r->cli->config->btmp, true, since, a.audit_first_us);
        }
        if (!rc)
                emit_rows(&a, roster);
        char t[VG_TIME_MAX] = "";
        if (a.audit_first_us)
                vg_time_format(a.audit_first_us, t);
        r->sections = json_pack("{s:o, s:s, s:s}", "audit_history_since", a.audit_first_us ? json_string(t) : json_null(),
                                "wtmp", r->cli->config->wtmp, "btmp", r->cli->config->btmp);
        json_decref(a.rows);
        json_decref(a.people);
        json_decref(roster);
        accounts_free(accounts);
        return rc;
}

const ReportDef report_access = {
        .name = "access", .summary = "who accessed the host, from where, how often; failed attempts; roster",
        .columns = access_columns, .run = access_run, .offline = true,
};
