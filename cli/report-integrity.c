/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report integrity: the hypervisor's files against their baseline, and
 * the running kernel's findings (report-kernel.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/integrity/run.h"

static const char *const columns[] = { "path", "profile", "kind", "changed", "package", "ticket", "actor", "time",
                                       "domain", "status", NULL };

/* "mode 0755 -> 4755, sha256": the short values shown, the long named. */
static void summary(const char *detail, char *buf, size_t n) {
        json_t *o = detail ? json_loads(detail, 0, NULL) : NULL, *v;
        const char *key;
        size_t k = 0;
        buf[0] = '\0';
        json_object_foreach(o, key, v) {
                /* A ctime changes with anything else: said only alone. */
                if (!strcmp(key, "ctime") && json_object_size(o) > 1)
                        continue;
                json_t *was = json_object_get(v, "was"), *now = json_object_get(v, "now");
                bool brief = strcmp(key, "sha256") && strcmp(key, "xattrs") && strcmp(key, "error") &&
                             strcmp(key, "mtime") && strcmp(key, "ctime");
                char a[96], b[96];
                snprintf(a, sizeof(a), "%s", json_is_string(was) ? json_string_value(was) : "");
                snprintf(b, sizeof(b), "%s", json_is_string(now) ? json_string_value(now) : "");
                if (json_is_integer(was))
                        snprintf(a, sizeof(a), "%lld", (long long) json_integer_value(was));
                if (json_is_integer(now))
                        snprintf(b, sizeof(b), "%lld", (long long) json_integer_value(now));
                if (!strcmp(key, "error"))
                        k += (size_t) snprintf(buf + k, k < n ? n - k : 0, "%sunreadable: %s", k ? ", " : "",
                                               json_string_value(v) ? json_string_value(v) : "?");
                else if (brief)
                        k += (size_t) snprintf(buf + k, k < n ? n - k : 0, "%s%s %s -> %s", k ? ", " : "", key, a, b);
                else
                        k += (size_t) snprintf(buf + k, k < n ? n - k : 0, "%s%s", k ? ", " : "", key);
        }
        json_decref(o);
}

void report_integrity_finding(Report *r, const IntegrityFinding *f) {
        char changed[256] = "", why[1024], first[VG_TIME_MAX];
        size_t k = 0;
        for (unsigned a = 1; a <= FSCAN_SHA256; a <<= 1)
                if (f->changed & a)
                        k += (size_t) snprintf(changed + k, k < sizeof(changed) ? sizeof(changed) - k : 0, "%s%s",
                                               k ? "," : "", fscan_attr_name(a));
        summary(f->detail, why, sizeof(why));
        vg_time_format(f->first_seen_us ? f->first_seen_us : r->now_us, first);
        /* Category names are literals: they outlive the report. */
        const char *cat = drift_class_name(f->cls);
        const char *kind = drift_kind_name(f->kind);
        if (f->kind == DRIFT_CHANGED)
                report_add(r, cat, f->cls != DRIFT_PACKAGE_UPDATE,
                           REPORT_COLS(f->path, f->profile, kind, changed, f->package, NULL, NULL, first), NULL,
                           "%s%s%s", why, f->package ? "; package " : "", f->package ? f->package : "");
        else
                report_add(r, cat, f->cls != DRIFT_PACKAGE_UPDATE,
                           REPORT_COLS(f->path, f->profile, kind, NULL, f->package, NULL, NULL, first), NULL,
                           "%s since the baseline", kind);
}

/* A running process as the last check saw it: every one is listed (a
 * running domain with its status); what is not current is a finding,
 * unknown included: what could not be verified is not "no findings". */
void report_integrity_process(Report *r, const ProcessRecord *p) {
        char since[VG_TIME_MAX];
        vg_time_format(p->since_us, since);
        json_t *files = p->detail ? json_loads(p->detail, 0, NULL) : NULL, *f;
        const char *package = NULL;
        size_t i;
        json_array_foreach(files, i, f)
                if (!package)
                        package = json_string_value(json_object_get(f, "package"));
        bool current = vg_streq(p->status, "current");
        report_add(r, "processes", !current,
                   REPORT_COLS(p->exe, p->role, NULL, NULL, package, NULL, NULL, since, p->domain, p->status),
                   json_pack("{s:I, s:o}", "pid", (json_int_t) p->pid, "files", files ? files : json_array()),
                   "%s", p->why ? p->why : current ? "runs what the baseline or its package vouches for" : "");
}

static int process_row(const ProcessRecord *p, void *u) {
        report_integrity_process(u, p);
        return 0;
}

static int open_finding(const IntegrityFinding *f, void *u) {
        report_integrity_finding(u, f);
        return 0;
}

/* What was folded into the baseline in the window, and on whose word:
 * accepted drift with its ticket, package updates with their versions. */
static int history(const Event *e, void *u) {
        Report *r = u;
        const char *ticket = json_string_value(json_object_get(e->data, "ticket"));
        const char *reason = json_string_value(json_object_get(e->data, "reason"));
        json_t *p;
        size_t i;
        if (!strcmp(e->kind, "integrity.package-update")) {
                json_array_foreach(json_object_get(e->data, "updates"), i, p) {
                        const char *pkg = json_string_value(json_object_get(p, "package"));
                        const char *was = json_string_value(json_object_get(p, "old_version"));
                        const char *now = json_string_value(json_object_get(p, "new_version"));
                        report_add(r, "package_updates", false,
                                   REPORT_COLS(json_string_value(json_object_get(p, "path")), NULL, NULL, NULL, pkg,
                                               NULL, e->actor, e->time), NULL,
                                   "matches what dpkg installed: %s %s -> %s", pkg ? pkg : "?",
                                   was && *was ? was : "(new)", now ? now : "?");
                }
                return 0;
        }
        json_array_foreach(json_object_get(e->data, "paths"), i, p)
                report_add(r, "accepted", false,
                           REPORT_COLS(json_string_value(p), NULL, NULL, NULL, NULL, ticket, e->actor, e->time), NULL,
                           "accepted%s%s", reason ? ": " : "", reason ? reason : "");
        return 0;
}

static int run(Report *r) {
        VgError err = { "" };
        int k = integrity_verify_baseline(r->store, NULL, &err);
        if (k == -ENOENT)
                report_add(r, "baseline", true, REPORT_COLS(NULL), NULL,
                           "no integrity baseline: nothing is monitored ('virtgov integrity baseline')");
        else if (k == -EBADMSG || k == -EPROTO)
                report_add(r, "baseline", true, REPORT_COLS(NULL), NULL, "%s", err.text);
        else if (k < 0)
                return cli_error("%s", err.text);
        if (store_findings(r->store, open_finding, r, &err) < 0)
                return cli_error("%s", err.text);
        if (store_processes(r->store, process_row, r, &err) < 0)
                return cli_error("%s", err.text);
        static const char *const kinds[] = { "integrity.accepted", "integrity.package-update" };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                EventFilter f = { .kind_prefix = kinds[i], .since_us = r->since_us };
                if (store_query_events(r->store, &f, history, r, &err) < 0)
                        return cli_error("%s", err.text);
        }
        report_integrity_kernel(r);
        _cleanup_free_ char *last = NULL;
        k = store_meta_get(r->store, "integrity.last_check", &last, &err);
        if (k < 0 && k != -ENOENT)
                return cli_error("%s", err.text);
        r->sections = json_pack("{s:o}", "last_check", last ? json_loads(last, 0, NULL) ?: json_null() : json_null());
        return 0;
}

const ReportDef report_integrity = {
        .name = "integrity",
        .summary = "the hypervisor's files and running processes against their baseline: open findings, "
                   "processes, accepted drift, package updates",
        .columns = columns,
        .run = run,
        .offline = true,
};
