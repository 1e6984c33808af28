/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report html: one self-contained page for a person to look at. Every
 * report's findings with their counts, as the text form's tables, and
 * charts drawn as inline SVG from the inventory's events: domains defined
 * and running over time, activations per day (allowed, denied,
 * violations), denials by reason, privileged accounts over time, the
 * integrity findings and running processes by status, and the latest
 * hardening assessment's failed checks by severity.
 *
 * Nothing is fetched and nothing runs: no script, no external style,
 * image or font, and a Content-Security-Policy that forbids them should a
 * browser be asked to. Every text from the inventory (a domain named
 * "<script>", a path with control bytes) is escaped, and bytes that are
 * not UTF-8, controls and bidi controls (a U+202E that would draw a name
 * backwards) become U+FFFD. Printable: the page breaks between sections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/kinds.h"
#include "virtgov/util/text.h"

#define MAX_DAYS 366
#define DAY_US (86400LL * 1000000)

/* ---- escaping ---- */

/* s as HTML text or attribute value: markup characters as entities;
 * controls, bidi controls and what is not UTF-8 as U+FFFD (text.h). */
static void esc(FILE *f, const char *s) {
        vg_text_put_document(s, true, f);
}

/* ---- the series, from one pass over the window's events ---- */

typedef struct Series {
        int64_t day0_us;          /* midnight UTC of the first day */
        size_t days;
        long defined[MAX_DAYS], running[MAX_DAYS], privileged[MAX_DAYS];
        long allowed[MAX_DAYS], denied[MAX_DAYS], violations[MAX_DAYS];
        json_t *defined_set, *running_set, *privileged_set;   /* sets: key -> true */
        json_t *denial_reasons;   /* reason -> count */
        bool accounts_known;      /* an account baseline was seen: the privileged series holds */
} Series;

static size_t day_of(const Series *s, int64_t us) {
        int64_t d = (us - s->day0_us) / DAY_US;
        return d < 0 ? 0 : (size_t) d >= s->days ? s->days - 1 : (size_t) d;
}

static void set_put(json_t *set, const char *key, bool on) {
        if (!key)
                return;
        if (on)
                json_object_set_new(set, key, json_true());
        else
                json_object_del(set, key);
}

static int series_event(const Event *e, void *u) {
        Series *s = u;
        const EventKind *k = event_kind(e->kind);
        const char *key = e->uuid ? e->uuid : e->domain;
        if (k && k->persistent == 1)
                set_put(s->defined_set, key, true);
        else if (k && k->persistent == 0)
                set_put(s->defined_set, key, false);
        if (k && k->start)
                set_put(s->running_set, key, true);
        else if (k && k->stop)
                set_put(s->running_set, key, false);
        int64_t t = 0;
        vg_time_parse(e->time, 0, &t);
        size_t d = day_of(s, t);
        if (k && (k->flags & KIND_GATED) && e->decision) {
                if (!strcmp(e->decision, "allow"))
                        s->allowed[d]++;
                else if (!strcmp(e->decision, "deny")) {
                        s->denied[d]++;
                        const char *why = e->reason ? e->reason : "(no reason recorded)";
                        json_t *c = json_object_get(s->denial_reasons, why);
                        json_object_set_new(s->denial_reasons, why, json_integer(json_integer_value(c) + 1));
                }
        }
        if (!strcmp(e->kind, "policy.violation") || !strcmp(e->kind, "policy.bypass"))
                s->violations[d]++;
        /* Who is privileged, replayed from the account baseline on: a
         * user privileged two ways who loses one still counts. */
        const char *user = json_string_value(json_object_get(e->data, "$.user"));
        json_t *priv = json_object_get(e->data, "$.privileged");
        /* SQLite's json_extract gives a JSON true as the integer 1. */
        bool known = json_is_boolean(priv) || json_is_integer(priv);
        bool on = json_is_true(priv) || json_integer_value(priv) != 0;
        if (!strcmp(e->kind, "account.baseline")) {
                json_object_clear(s->privileged_set);
                size_t i;
                json_t *x;
                json_array_foreach(priv, i, x)
                        set_put(s->privileged_set, json_string_value(json_object_get(x, "user")), true);
                s->accounts_known = true;
        } else if (!strcmp(e->kind, "account.removed"))
                set_put(s->privileged_set, user, false);
        else if ((!strcmp(e->kind, "account.added") || !strcmp(e->kind, "account.changed")) && known)
                set_put(s->privileged_set, user, on);
        else if (!strcmp(e->kind, "group.member-added") && on)
                set_put(s->privileged_set, user, true);
        else if (!strcmp(e->kind, "group.member-removed") && on)
                set_put(s->privileged_set, user, false);
        /* The state at the end of the event's day (the last event of the
         * day writes last); days without events are filled in after. */
        s->defined[d] = (long) json_object_size(s->defined_set);
        s->running[d] = (long) json_object_size(s->running_set);
        s->privileged[d] = (long) json_object_size(s->privileged_set);
        return 0;
}

static int series_read(Report *r, Series *s, VgError *err) {
        int64_t first = r->since_us / DAY_US * DAY_US, last = r->now_us / DAY_US * DAY_US;
        if ((last - first) / DAY_US + 1 > MAX_DAYS)
                first = last - (MAX_DAYS - 1) * DAY_US;
        s->day0_us = first;
        s->days = (size_t) ((last - first) / DAY_US + 1);
        s->defined_set = json_object();
        s->running_set = json_object();
        s->privileged_set = json_object();
        s->denial_reasons = json_object();
        if (!s->defined_set || !s->running_set || !s->privileged_set || !s->denial_reasons)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < s->days; i++)
                s->defined[i] = s->running[i] = s->privileged[i] = -1;
        /* From the first event: the state at the window's start is what
         * the events before it made. Of each event's data only the two
         * fields the account series reads, taken out by SQLite. */
        static const char *const paths[] = { "$.user", "$.privileged", NULL };
        EventFilter f = { .until_us = r->now_us, .data_paths = paths };
        int k = store_query_events(r->store, &f, series_event, s, err);
        for (size_t i = 0; i < s->days; i++) {
                long *v[] = { s->defined, s->running, s->privileged };
                for (size_t j = 0; j < ELEMENTSOF(v); j++)
                        if (v[j][i] < 0)
                                v[j][i] = i ? v[j][i - 1] : 0;
        }
        return k;
}

static void series_free(Series *s) {
        json_decref(s->defined_set);
        json_decref(s->running_set);
        json_decref(s->privileged_set);
        json_decref(s->denial_reasons);
}

/* ---- charts ---- */

#define W 760
#define H 220
#define LEFT 48
#define BOTTOM 28
#define TOP 12

static long max_of(const long *const *v, size_t n_series, size_t n, bool stacked) {
        long m = 1;
        for (size_t i = 0; i < n; i++) {
                long sum = 0;
                for (size_t k = 0; k < n_series; k++) {
                        sum = stacked ? sum + v[k][i] : (v[k][i] > sum ? v[k][i] : sum);
                }
                if (sum > m)
                        m = sum;
        }
        return m;
}

static double y_of(long v, long max) {
        return TOP + (double) (H - TOP - BOTTOM) * (1.0 - (double) v / (double) max);
}

static void axes(FILE *f, const Series *s, long max) {
        fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' class='axis'/>", LEFT, H - BOTTOM, W - 4, H - BOTTOM);
        fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' class='axis'/>", LEFT, TOP, LEFT, H - BOTTOM);
        for (int t = 0; t <= 4; t++) {
                long v = max * t / 4;
                double y = y_of(v, max);
                fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='grid'/>"
                        "<text x='%d' y='%.1f' class='tick' text-anchor='end'>%ld</text>", LEFT, y, W - 4, y, LEFT - 6,
                        y + 4, v);
        }
        char a[VG_TIME_MAX], b[VG_TIME_MAX];
        vg_time_format(s->day0_us, a);
        vg_time_format(s->day0_us + (int64_t) (s->days - 1) * DAY_US, b);
        fprintf(f, "<text x='%d' y='%d' class='tick'>%.10s</text>", LEFT, H - 8, a);
        fprintf(f, "<text x='%d' y='%d' class='tick' text-anchor='end'>%.10s</text>", W - 4, H - 8, b);
}

static void legend(FILE *f, const char *const *names, const char *const *classes, size_t n) {
        fputs("<p class='legend'>", f);
        for (size_t k = 0; k < n; k++)
                fprintf(f, "<span class='key %s'></span>%s ", classes[k], names[k]);
        fputs("</p>", f);
}

static void chart_begin(FILE *f, const char *id, const char *title, const char *what) {
        fprintf(f, "<figure id='%s'><figcaption>%s</figcaption>"
                "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %d %d' width='%d' height='%d' role='img'"
                " aria-label='", id, title, W, H, W, H);
        esc(f, what);
        fputs("'>", f);
}

static void lines(FILE *f, const char *id, const char *title, const Series *s, const long *const *v,
                  const char *const *names, const char *const *classes, size_t n_series) {
        chart_begin(f, id, title, title);
        long max = max_of(v, n_series, s->days, false);
        axes(f, s, max);
        double step = s->days > 1 ? (double) (W - 4 - LEFT) / (double) (s->days - 1) : 0;
        for (size_t k = 0; k < n_series; k++) {
                fprintf(f, "<polyline class='%s' fill='none' points='", classes[k]);
                for (size_t i = 0; i < s->days; i++)
                        fprintf(f, "%.1f,%.1f ", LEFT + step * (double) i, y_of(v[k][i], max));
                fputs("'/>", f);
        }
        fputs("</svg>", f);
        legend(f, names, classes, n_series);
        fputs("</figure>\n", f);
}

static void stacked(FILE *f, const char *id, const char *title, const Series *s, const long *const *v,
                    const char *const *names, const char *const *classes, size_t n_series) {
        chart_begin(f, id, title, title);
        long max = max_of(v, n_series, s->days, true);
        axes(f, s, max);
        double w = (double) (W - 4 - LEFT) / (double) s->days;
        for (size_t i = 0; i < s->days; i++) {
                long base = 0;
                for (size_t k = 0; k < n_series; k++) {
                        if (!v[k][i])
                                continue;
                        double y0 = y_of(base, max), y1 = y_of(base + v[k][i], max);
                        fprintf(f, "<rect class='%s' x='%.1f' y='%.1f' width='%.1f' height='%.1f'><title>%ld %s</title>"
                                "</rect>", classes[k], LEFT + w * (double) i + 0.5, y1, w > 2 ? w - 1 : w, y0 - y1,
                                v[k][i], names[k]);
                        base += v[k][i];
                }
        }
        fputs("</svg>", f);
        legend(f, names, classes, n_series);
        fputs("</figure>\n", f);
}

/* Horizontal bars, one per label, the largest first, at most 10. */
static void hbars(FILE *f, const char *id, const char *title, json_t *counts, const char *empty) {
        const char *keys[10];
        long vals[10];
        size_t n = 0;
        const char *key;
        json_t *v;
        json_object_foreach(counts, key, v) {
                long c = (long) json_integer_value(v);
                size_t at = n < 10 ? n++ : 10;
                while (at > 0 && vals[at - 1] < c) {
                        if (at < 10) {
                                keys[at] = keys[at - 1];
                                vals[at] = vals[at - 1];
                        }
                        at--;
                }
                if (at < 10) {
                        keys[at] = key;
                        vals[at] = c;
                }
        }
        int h = n ? (int) n * 26 + 8 : 40;
        fprintf(f, "<figure id='%s'><figcaption>%s</figcaption><svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %d %d'"
                " width='%d' height='%d' role='img' aria-label='%s'>", id, title, W, h, W, h, title);
        if (!n)
                fprintf(f, "<text x='8' y='24' class='tick'>%s</text>", empty);
        long max = n ? vals[0] : 1;
        for (size_t i = 0; i < n; i++) {
                double len = (double) (W - 330) * (double) vals[i] / (double) (max ? max : 1);
                fprintf(f, "<text x='316' y='%zu' class='label' text-anchor='end'>", i * 26 + 22);
                /* a long reason cut, whole in its title */
                char cut[49];
                snprintf(cut, sizeof(cut), "%s", keys[i]);
                esc(f, cut);
                fputs(strlen(keys[i]) > 48 ? "\xe2\x80\xa6" : "", f);
                fprintf(f, "<title>");
                esc(f, keys[i]);
                fprintf(f, "</title></text><rect class='denied' x='322' y='%zu' width='%.1f' height='18'/>"
                        "<text x='%.1f' y='%zu' class='tick'>%ld</text>", i * 26 + 8, len, 326 + len, i * 26 + 22,
                        vals[i]);
        }
        fputs("</svg></figure>\n", f);
}

/* ---- the reports' tables ---- */

static void table(FILE *f, Report *r, const char *cat, size_t count, bool findings) {
        ReportField *fl = NULL;
        size_t n = 0;
        fprintf(f, "<h3 class='%s'>", findings ? "finding" : "plain");
        esc(f, cat);
        fprintf(f, " <span class='count'>%zu</span></h3>\n<table><thead><tr>", count);
        if (report_fields(r, cat, &fl, &n) < 0)
                n = 0;
        for (size_t k = 0; k < n; k++)
                fprintf(f, "<th%s>%s</th>", fl[k].right ? " class='num'" : "", fl[k].header);
        fputs("<th>WHY</th></tr></thead><tbody>\n", f);
        for (size_t i = 0; i < r->n_rows; i++) {
                const ReportRow *row = &r->rows[i];
                if (!report_in_category(row, cat))
                        continue;
                fprintf(f, "<tr%s>", row->finding ? " class='finding'" : "");
                for (size_t k = 0; k < n; k++) {
                        char buf[4096];
                        fprintf(f, "<td%s>", fl[k].right ? " class='num'" : "");
                        esc(f, report_cell(r, row, &fl[k], false, buf, sizeof(buf)));
                        fputs("</td>", f);
                }
                fputs("<td>", f);
                esc(f, row->why);
                fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table>\n", f);
        free(fl);
}

static int section(FILE *f, Report *r, const ReportDef *def, size_t *total_findings) {
        report_rows_clear(r);
        json_decref(r->sections);
        r->sections = NULL;
        r->def = def;
        fprintf(f, "<section id='report-%s'><h2>%s</h2><p class='summary'>", def->name, def->name);
        esc(f, def->summary);
        fputs("</p>\n", f);
        if (def->run(r) != 0) {
                fputs("<p class='error'>this report could not be made: see virtgov's error output</p></section>\n", f);
                return -EIO;
        }
        ReportCategories rc;
        if (report_categories(r, &rc) < 0)
                return -E2BIG;
        *total_findings += rc.findings;
        if (!rc.n)
                fputs("<p>nothing to report</p>\n", f);
        for (size_t k = 0; k < rc.n; k++)
                table(f, r, rc.names[k], rc.counts[k], rc.has_findings[k]);
        fputs("</section>\n", f);
        return 0;
}

typedef struct IntegrityCounts {
        json_t *by_class;
} IntegrityCounts;

static int count_finding(const IntegrityFinding *x, void *u) {
        json_t *o = ((IntegrityCounts *) u)->by_class;
        const char *c = drift_class_name(x->cls);
        json_object_set_new(o, c, json_integer(json_integer_value(json_object_get(o, c)) + 1));
        return 0;
}

static int count_process(const ProcessRecord *p, void *u) {
        json_t *o = ((IntegrityCounts *) u)->by_class;
        char key[64];
        snprintf(key, sizeof(key), "process %s", p->status);
        json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + 1));
        return 0;
}

/* The latest hardening assessment (virtgov assess keeps it in the
 * inventory): its failed checks by severity as a chart, and every check
 * that did not pass with what was found, where, and the remediation. */
static void assessment(FILE *f, Report *r) {
        _cleanup_free_ char *text = NULL;
        json_t *doc = store_meta_get(r->store, "assess.latest", &text, NULL) == 0 ? json_loads(text, 0, NULL) : NULL;
        fputs("<section id='assessment'><h2>assessment</h2><p class='summary'>the host's hardening against ISM-1605"
              " (virtgov assess), as last recorded", f);
        if (!doc) {
                fputs("</p><p>no assessment recorded yet: run 'virtgov assess'</p>\n", f);
                hbars(f, "chart-assessment", "Failed checks by severity", NULL, "no assessment recorded");
                fputs("</section>\n", f);
                return;
        }
        fputs(": ", f);
        esc(f, json_string_value(json_object_get(doc, "time")));
        fputs(" (UTC)</p>\n", f);
        hbars(f, "chart-assessment", "Failed checks by severity", json_object_get(doc, "failed_by_severity"),
              "no failed check");
        fputs("<table><thead><tr><th>ID</th><th>SEVERITY</th><th>STATUS</th><th>CHECK</th><th>FOUND</th>"
              "<th>WHERE</th><th>REMEDIATION</th></tr></thead><tbody>\n", f);
        size_t i, k;
        json_t *c, *res;
        json_array_foreach(json_object_get(doc, "checks"), i, c) {
                const char *st = json_string_value(json_object_get(c, "status"));
                if (!st || !strcmp(st, "pass") || !strcmp(st, "not-applicable"))
                        continue;
                json_array_foreach(json_object_get(c, "results"), k, res) {
                        const char *rst = json_string_value(json_object_get(res, "status"));
                        if (rst && (!strcmp(rst, "pass") || !strcmp(rst, "not-applicable")))
                                continue;
                        const char *cells[] = { json_string_value(json_object_get(c, "id")),
                                                json_string_value(json_object_get(c, "severity")), rst,
                                                json_string_value(json_object_get(c, "title")),
                                                json_string_value(json_object_get(res, "found")),
                                                json_string_value(json_object_get(res, "where")),
                                                json_string_value(json_object_get(c, "remediation")) };
                        fprintf(f, "<tr%s>", rst && !strcmp(rst, "excepted") ? "" : " class='finding'");
                        for (size_t j = 0; j < ELEMENTSOF(cells); j++) {
                                fputs("<td>", f);
                                esc(f, cells[j]);
                                fputs("</td>", f);
                        }
                        fputs("</tr>\n", f);
                }
        }
        fputs("</tbody></table></section>\n", f);
        json_decref(doc);
}

static const char style[] =
        "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2329;padding:0 16px}"
        "h1{font-size:22px;margin-bottom:4px}h2{border-bottom:2px solid #1d2329;padding-bottom:2px;margin-top:32px}"
        "h3{font-size:15px;margin:18px 0 6px}h3.finding{color:#b3261e}.count{font-weight:normal;color:#555}"
        "table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:3px 8px;"
        "border-bottom:1px solid #ddd;vertical-align:top;overflow-wrap:anywhere}th{background:#f3f4f6}"
        ".num{text-align:right;white-space:nowrap}tr.finding td:last-child{color:#b3261e}"
        "figure{margin:16px 0;break-inside:avoid}figcaption{font-weight:600;margin-bottom:4px}"
        "svg{max-width:100%;height:auto;background:#fff}.axis{stroke:#333}.grid{stroke:#e5e7eb}"
        ".tick,.label{font-size:11px;fill:#333}polyline{stroke-width:2}"
        ".defined{stroke:#2563eb;fill:#2563eb}.running{stroke:#16a34a;fill:#16a34a}"
        ".allowed{fill:#16a34a;stroke:#16a34a}.denied{fill:#dc2626;stroke:#dc2626}"
        ".violations{fill:#f59e0b;stroke:#f59e0b}.privileged{stroke:#7c3aed;fill:#7c3aed}"
        ".legend{font-size:12px;margin:2px 0}.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;"
        "background:currentColor}.key.defined{color:#2563eb}.key.running{color:#16a34a}.key.allowed{color:#16a34a}"
        ".key.denied{color:#dc2626}.key.violations{color:#f59e0b}.key.privileged{color:#7c3aed}"
        ".meta{color:#555}.error{color:#b3261e}.totals td{font-size:14px}"
        "@media print{body{margin:0;max-width:none}section{break-before:page}a{color:inherit}}";

int report_html(Report *r, const ReportDef *const *defs, size_t n_defs, const char *path) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return cli_error("out of memory");
        char now[VG_TIME_MAX], since[VG_TIME_MAX];
        vg_time_format(r->now_us, now);
        vg_time_format(r->since_us, since);
        fputs("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
              "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
              "<meta name='viewport' content='width=device-width, initial-scale=1'><title>virtgov: ", f);
        esc(f, r->host);
        fprintf(f, "</title><style>%s</style></head><body>\n<header><h1>virtgov report: host ", style);
        esc(f, r->host);
        fprintf(f, "</h1><p class='meta'>Generated %s (UTC) from the inventory ", now);
        esc(f, r->cli->config->inventory);
        fprintf(f, "; events since %s. Live libvirt facts: ", since);
        esc(f, r->conn ? "included" : r->live_note ? r->live_note : "unavailable");
        fputs(".</p></header>\n", f);

        VgError err = { "" };
        Series s = { 0 };
        int k = series_read(r, &s, &err);
        if (k < 0) {
                fclose(f);
                free(buf);
                series_free(&s);
                return cli_error("%s", err.text);
        }
        fputs("<section id='charts'><h2>over time</h2>\n", f);
        const long *dom[] = { s.defined, s.running };
        lines(f, "chart-domains", "Domains defined and running", &s, dom, (const char *const[]) { "defined", "running" },
              (const char *const[]) { "defined", "running" }, 2);
        const long *act[] = { s.allowed, s.denied, s.violations };
        stacked(f, "chart-activations", "Activations per day", &s, act,
                (const char *const[]) { "allowed", "denied", "violations" },
                (const char *const[]) { "allowed", "denied", "violations" }, 3);
        hbars(f, "chart-denials", "Denials by reason", s.denial_reasons, "no denial in the window");
        const long *priv[] = { s.privileged };
        lines(f, "chart-privileged", s.accounts_known ? "Privileged accounts"
                                     : "Privileged accounts (no account baseline recorded yet: the daemon records one)",
              &s, priv, (const char *const[]) { "privileged" }, (const char *const[]) { "privileged" }, 1);
        IntegrityCounts ic = { json_object() };
        if (store_findings(r->store, count_finding, &ic, &err) < 0 ||
            store_processes(r->store, count_process, &ic, &err) < 0) {
                json_decref(ic.by_class);
                series_free(&s);
                fclose(f);
                free(buf);
                return cli_error("%s", err.text);
        }
        hbars(f, "chart-integrity", "Integrity: open findings by class, running processes by status", ic.by_class,
              "no integrity finding and no process checked");
        json_decref(ic.by_class);
        series_free(&s);
        fputs("</section>\n", f);

        size_t findings = 0;
        int rc = EXIT_OK;
        const ReportDef *keep = r->def;
        for (size_t i = 0; i < n_defs; i++)
                if (section(f, r, defs[i], &findings) < 0)
                        rc = EXIT_FAIL;
        r->def = keep;
        assessment(f, r);
        fprintf(f, "<footer><p class='meta'>%zu finding(s) in all. Every table is the report's JSON"
                " (virtgov report NAME --json) as rows.</p></footer>\n</body></html>\n", findings);
        if (fclose(f) != 0) {
                free(buf);
                return cli_error("out of memory");
        }
        k = cli_write_out(path, buf, len, 0640);
        free(buf);
        return k != EXIT_OK ? k : rc;
}
