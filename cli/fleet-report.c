/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "fleet report": the findings only a fleet view has (central_findings,
 * lib/central/findings.c), as the host's reports print theirs: each
 * finding a row of report.c (its class the row's category, its detail
 * the why), so the table, JSON and CSV are report_print's; and one
 * self-contained HTML page of its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "report.h"
#include "virtgov/central/query.h"
#include "virtgov/util/text.h"

static const char *const columns[] = { "severity", "hosts", "subject", NULL };

static const ReportDef fleet_def = {
        .name = "fleet",
        .summary = "Findings across the hosts of the central inventory",
        .columns = columns,
        .offline = true,
};

static int add_finding(const CentralFinding *f, void *u) {
        report_add(u, f->class, true, REPORT_COLS(f->severity, f->hosts, f->subject), NULL, "%s",
                   f->detail ? f->detail : "");
        return 0;
}

static void esc(FILE *f, const char *s) {
        vg_text_put_document(s ? s : "", true, f);
}

static const char style[] =
        "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:80em;color:#1f2328}"
        "table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border:1px solid #d0d7de;padding:4px 8px;"
        "text-align:left;vertical-align:top}th{background:#f6f8fa}.meta{color:#555}"
        ".critical td.sev{background:#fdd;color:#8b0000;font-weight:bold}.high td.sev{background:#fee7d6}"
        ".medium td.sev{background:#fff5cc}.low td.sev{background:#eef}"
        "td.subject{font-family:ui-monospace,monospace;word-break:break-all}";

/* One page: a summary by class, then every finding; no script and
 * nothing fetched (the Content-Security-Policy says none may be). */
static int print_html(Report *r, unsigned hours) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return cli_error("out of memory");
        char now[VG_TIME_MAX];
        vg_time_format(r->now_us, now);
        fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
                "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                "<title>virtgov fleet report</title><style>%s</style></head><body>\n"
                "<header><h1>virtgov fleet report</h1><p class='meta'>Generated %s (UTC) from the central "
                "inventory; a host is silent after %u hours.</p></header>\n", style, now, hours);
        ReportCategories rc;
        if (report_categories(r, &rc) < 0) {
                fclose(f);
                free(buf);
                return cli_error("more than %zu classes of findings", ELEMENTSOF(rc.names));
        }
        fputs("<section id='summary'><h2>summary</h2><table><thead><tr><th>class</th><th>findings</th></tr></thead>"
              "<tbody>\n", f);
        for (const char *const *c = central_finding_classes; *c; c++) {
                size_t n = 0;
                for (size_t k = 0; k < rc.n; k++)
                        if (rc.names[k] == *c)
                                n = rc.counts[k];
                fprintf(f, "<tr id='class-%s'><td>%s</td><td>%zu</td></tr>\n", *c, *c, n);
        }
        fputs("</tbody></table></section>\n<section id='findings'><h2>findings</h2>", f);
        if (!r->n_rows)
                fputs("<p>No finding.</p>", f);
        else
                fputs("<table><thead><tr><th>class</th><th>severity</th><th>hosts</th><th>subject</th>"
                      "<th>detail</th></tr></thead><tbody>\n", f);
        for (size_t i = 0; i < r->n_rows; i++) {
                const ReportRow *row = &r->rows[i];
                fprintf(f, "<tr class='finding %s'><td class='class'>", row->cols[0] ? row->cols[0] : "");
                esc(f, row->category);
                fputs("</td><td class='sev'>", f);
                esc(f, row->cols[0]);
                fputs("</td><td class='hosts'>", f);
                esc(f, row->cols[1]);
                fputs("</td><td class='subject'>", f);
                esc(f, row->cols[2]);
                fputs("</td><td class='detail'>", f);
                esc(f, row->why);
                fputs("</td></tr>\n", f);
        }
        fprintf(f, "%s</section>\n<footer><p class='meta'>%zu finding(s). The same rows: virtgov fleet report "
                "--json.</p></footer>\n</body></html>\n", r->n_rows ? "</tbody></table>" : "", r->n_rows);
        if (fclose(f) != 0) {
                free(buf);
                return cli_error("out of memory");
        }
        int k = cli_write_out("-", buf, len, 0644);
        free(buf);
        return k;
}

int fleet_report(Cli *cli, const char *dsn, int argc, char **argv) {
        enum { OPT_SILENT = 0x100, OPT_JSON, OPT_CSV, OPT_HTML, OPT_HELP };
        static const struct option opts[] = {
                { "silent-hours", required_argument, NULL, OPT_SILENT },
                { "json", no_argument, NULL, OPT_JSON },
                { "csv", no_argument, NULL, OPT_CSV },
                { "html", no_argument, NULL, OPT_HTML },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        unsigned hours = 24;
        bool csv = false, html = false;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_SILENT: {
                        char *end;
                        errno = 0;
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || optarg[0] == '-' || n < 1 || n > 24 * 3660)
                                return cli_usage_error(&fleet_query_cmd, "--silent-hours takes hours, 1 to 87840, got '%s'",
                                                       optarg);
                        hours = (unsigned) n;
                        break;
                }
                case OPT_JSON: cli->json = true; break;
                case OPT_CSV: csv = true; break;
                case OPT_HTML: html = true; break;
                case 'h': case OPT_HELP: return cli_help(&fleet_query_cmd);
                default: return cli_usage_error(&fleet_query_cmd, "unknown option for fleet report");
                }
        }
        if (optind < argc)
                return cli_usage_error(&fleet_query_cmd, "unexpected argument '%s'", argv[optind]);
        if (cli->json + csv + html > 1)
                return cli_usage_error(&fleet_query_cmd, "--json, --csv and --html: choose one");

        _cleanup_(central_closep) Central *conn = NULL;
        int k = fleet_connect(cli, dsn, false, &conn);
        if (k != EXIT_OK)
                return k;
        Report r = { .cli = cli, .def = &fleet_def, .now_us = vg_now_us() };
        r.since_us = r.now_us - (int64_t) hours * 3600 * 1000000;
        snprintf(r.host, sizeof(r.host), "all hosts");
        VgError err = { "" };
        int q = central_findings(conn, hours, add_finding, &r, &err);
        if (q < 0) {
                report_rows_clear(&r);
                return cli_error("%s", err.text[0] ? err.text : strerror(-q));
        }
        if (r.rows_lost) {
                report_rows_clear(&r);
                return cli_error("out of memory: the report lost rows");
        }
        /* The JSON says where the rows came from: the centre, not this
         * host's inventory (report_print's "sources" by default). */
        r.sections = json_pack("{s:{s:s}, s:I}", "sources", "inventory", "central", "silent_hours",
                               (json_int_t) hours);
        if (html)
                k = print_html(&r, hours);
        else
                k = report_print(&r, csv, true);
        size_t findings = r.n_rows;
        report_rows_clear(&r);
        json_decref(r.sections);
        if (k == 3 || (k == EXIT_OK && findings))
                return EXIT_FAIL;
        return k;
}
