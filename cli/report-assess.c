/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The assessment in the evidence bundle and the metrics: the latest run as
 * the ISM-1605 configuration document (JSON, and Markdown for people),
 * its history of regressions and fixes, and failed checks by severity.
 * The latest run is the one the daemon (or a root `virtgov assess`) kept
 * in the inventory; with none kept, the bundle runs one, unrecorded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/assess/assess.h"
#include "virtgov/util/cleanup.h"

#define LATEST_KEY "assess.latest"

/* The latest assessment's document: the stored one, else a run now. */
static json_t *latest(Report *r, bool *live) {
        _cleanup_free_ char *text = NULL;
        *live = false;
        if (store_meta_get(r->store, LATEST_KEY, &text, NULL) == 0) {
                json_t *j = json_loads(text, 0, NULL);
                if (j)
                        return j;
        }
        *live = true;
        AssessPaths p;
        if (assess_paths_init(&p, r->cli->config, NULL) < 0)
                return NULL;
        AssessExceptions *ex = NULL;
        (void) assess_exceptions_load(p.exceptions, p.now_us, &ex, NULL);
        AssessRun *run = NULL;
        json_t *doc = assess_run(&p, NULL, ex, &run, NULL) == 0 ? assess_run_to_json(run, r->host) : NULL;
        assess_run_free(run);
        assess_exceptions_free(ex);
        assess_paths_clear(&p);
        return doc;
}

static void md_cell(FILE *f, const char *s) {
        for (; s && *s; s++)
                if (*s == '|')
                        fputs("\\|", f);
                else if (*s == '\n' || ((unsigned char) *s < 0x20))
                        fputc(' ', f);
                else
                        fputc(*s, f);
}

/* The document for people: per check its status and, for what is not a
 * pass, each result with its place. */
static void write_md(FILE *f, const json_t *doc, bool live) {
        const json_t *counts = json_object_get(doc, "counts");
        fprintf(f, "# Host configuration: hardening assessment (ISM-1605)\n\nHost %s, assessed %s%s; digest %s.\n\n",
                json_string_value(json_object_get(doc, "host")), json_string_value(json_object_get(doc, "time")),
                live ? " (run for this bundle: none was recorded)" : " (the latest recorded run)",
                json_string_value(json_object_get(doc, "digest")));
        fprintf(f, "%lld pass, %lld fail, %lld error, %lld excepted, %lld not applicable.\n\n",
                (long long) json_integer_value(json_object_get(counts, "pass")),
                (long long) json_integer_value(json_object_get(counts, "fail")),
                (long long) json_integer_value(json_object_get(counts, "error")),
                (long long) json_integer_value(json_object_get(counts, "excepted")),
                (long long) json_integer_value(json_object_get(counts, "not-applicable")));
        fprintf(f, "| check | area | severity | status | title | found | where |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(doc, "checks"), i, c) {
                size_t k;
                json_t *res;
                json_array_foreach(json_object_get(c, "results"), k, res) {
                        fprintf(f, "| %s | %s | %s | %s | ", json_string_value(json_object_get(c, "id")),
                                json_string_value(json_object_get(c, "area")),
                                json_string_value(json_object_get(c, "severity")),
                                json_string_value(json_object_get(res, "status")));
                        md_cell(f, json_string_value(json_object_get(c, "title")));
                        fputs(" | ", f);
                        const char *dom = json_string_value(json_object_get(res, "domain"));
                        if (dom) {
                                fputs("domain ", f);
                                md_cell(f, dom);
                                fputs(": ", f);
                        }
                        md_cell(f, json_string_value(json_object_get(res, "found")));
                        const json_t *ex = json_object_get(res, "exception");
                        if (ex) {
                                fputs(" (excepted: ticket ", f);
                                md_cell(f, json_string_value(json_object_get(ex, "ticket")));
                                fputs(")", f);
                        }
                        fputs(" | ", f);
                        md_cell(f, json_string_value(json_object_get(res, "where")));
                        fputs(" |\n", f);
                }
        }
}

typedef struct History {
        json_t *events;
} History;

static int history_event(const Event *e, void *u) {
        json_array_append_new(((History *) u)->events, event_to_json(e));
        return 0;
}

/* A file of the evidence, through vg_write_file like every path virtgov
 * writes: 0, or -EIO having said why. */
static int write_text(const char *path, const char *text, size_t len) {
        VgError err = { "" };
        if (vg_write_file(path, text, len, 0640, &err) < 0) {
                cli_error("%s", err.text);
                return -EIO;
        }
        return 0;
}

static int write_json(const json_t *j, const char *path) {
        _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2));
        return text ? write_text(path, text, strlen(text)) : -ENOMEM;
}

int report_assessment_evidence(Report *r, const char *dir, char *summary, size_t n) {
        bool live;
        json_t *doc = latest(r, &live);
        if (!doc) {
                snprintf(summary, n, "(the assessment could not be run)");
                return -ENOMEM;
        }
        char path[4200];
        snprintf(path, sizeof(path), "%s/assessment.json", dir);
        int rc = write_json(doc, path);
        snprintf(path, sizeof(path), "%s/assessment.md", dir);
        _cleanup_free_ char *md = NULL;
        size_t md_len = 0;
        FILE *f = open_memstream(&md, &md_len);
        if (f) {
                write_md(f, doc, live);
                if (fclose(f) == 0 && write_text(path, md, md_len) < 0)
                        rc = -EIO;
        } else
                rc = -ENOMEM;
        /* The history: every regression and fix ever recorded (proof of
         * timely fixes needs the dates of both), and the runs of the
         * window. */
        History h = { json_array() };
        EventFilter fr = { .kind_prefix = "assess.", .source = NULL };
        VgError err = { "" };
        if (store_query_events(r->store, &fr, history_event, &h, &err) < 0)
                rc = -EIO;
        size_t regressed = 0, fixed = 0, runs = 0;
        json_t *kept = json_array(), *e;
        size_t i;
        json_array_foreach(h.events, i, e) {
                const char *kind = json_string_value(json_object_get(e, "kind"));
                const char *t = json_string_value(json_object_get(e, "time"));
                char since[VG_TIME_MAX];
                vg_time_format(r->since_us, since);
                bool run = vg_streq(kind, "assess.run");
                if (run && t && strcmp(t, since) < 0)
                        continue;
                regressed += vg_streq(kind, "assess.regressed");
                fixed += vg_streq(kind, "assess.fixed");
                runs += run;
                json_array_append(kept, e);
        }
        json_decref(h.events);
        snprintf(path, sizeof(path), "%s/assessment-history.json", dir);
        if (write_json(kept, path) < 0)
                rc = -EIO;
        json_decref(kept);
        snprintf(summary, n, "%s assessment of %s (%s%s), with %zu run(s) in the window and %zu regression(s) and %zu "
                 "fix(es) recorded", live ? "a live" : "the latest recorded",
                 json_string_value(json_object_get(doc, "time")), json_string_value(json_object_get(doc, "digest")),
                 live ? ": none was recorded" : "", runs, regressed, fixed);
        json_decref(doc);
        return rc;
}

void metrics_assessment(Store *s) {
        _cleanup_free_ char *text = NULL;
        json_t *doc = store_meta_get(s, LATEST_KEY, &text, NULL) == 0 ? json_loads(text, 0, NULL) : NULL;
        printf("# HELP virtgov_assess_failed_checks Hardening checks failing or in error at the latest assessment, "
               "by severity.\n# TYPE virtgov_assess_failed_checks gauge\n");
        for (int sev = 0; sev < _SEV_N; sev++)
                printf("virtgov_assess_failed_checks{severity=\"%s\"} %lld\n", assess_severity_name((AssessSeverity) sev),
                       (long long) json_integer_value(json_object_get(json_object_get(doc, "failed_by_severity"),
                                                                      assess_severity_name((AssessSeverity) sev))));
        int64_t t = 0;
        const char *ts = json_string_value(json_object_get(doc, "time"));
        if (ts)
                vg_time_parse(ts, 0, &t);
        printf("# HELP virtgov_assess_last_run_timestamp_seconds Time of the latest recorded assessment (0: none).\n"
               "# TYPE virtgov_assess_last_run_timestamp_seconds gauge\nvirtgov_assess_last_run_timestamp_seconds %lld\n",
               (long long) (t / 1000000));
        json_decref(doc);
}
