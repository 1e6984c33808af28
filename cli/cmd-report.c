/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "report NAME": situational awareness, as tables, JSON or CSV. The
 * command only: its options, the live connection, which report runs, and
 * the evidence folder. The rows and their printing are report.c's; the
 * reports themselves are report-*.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/util/cleanup.h"

static const ReportDef *const reports[] = {
        &report_sprawl, &report_accounts, &report_activity, &report_capacity, &report_software, &report_integrity,
        &report_access,
};

/* libvirt's own error printing off: a report says what it skipped, once. */
static void silent(void *opaque, virErrorPtr e) {
}

/* A read-only libvirt connection for the live facts (pools, snapshots,
 * networks, host size); a report says what it skipped without one. */
static void live_open(Report *r) {
        const char *why = NULL;
        if (live_load(&why) < 0) {
                if (asprintf(&r->live_note, "cannot load libvirt: %s", why) < 0)
                        r->live_note = NULL;
                return;
        }
        virSetErrorFunc(NULL, silent);
        char **uris = config_split(r->cli->config->uris);
        const char *uri = uris && uris[0] ? uris[0] : "qemu:///system";
        r->conn = virConnectOpenReadOnly(uri);
        if (!r->conn && asprintf(&r->live_note, "cannot connect to '%s': %s", uri, virGetLastErrorMessage()) < 0)
                r->live_note = NULL;
        config_strv_free(uris);
}


/* ---- evidence: every report, the policy, the config, the events and the
 * inventory's own check, in one folder with an index mapping each file to
 * the control it supports. ---- */

/* Runs fn with stdout sent to dir/name. */
static int to_file(const char *dir, const char *name, int (*fn)(void *), void *u) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return cli_to_file(path, 0640, fn, u);
}

typedef struct Job {
        Report *r;
        bool csv;
} Job;

static int job_report(void *u) {
        Job *j = u;
        Report *r = j->r;
        report_rows_clear(r);
        json_decref(r->sections);
        r->sections = NULL;
        bool json = r->cli->json;
        r->cli->json = !j->csv;
        int k = r->def->run(r);
        int rc = k ? EXIT_FAIL : report_print(r, j->csv, false);
        r->cli->json = json;
        return rc;
}

static int job_events(void *u) {
        Report *r = u;
        EventFilter f = { .since_us = r->since_us };
        return events_print(r->store, &f, true, NULL);
}

static int job_verify(void *u) {
        Report *r = u;
        VgError err = { "" };
        char *text = NULL;
        ChainVerify v;
        /* Both: SQLite's check proves the file is sound, the hash chain
         * that no event was edited, deleted or reordered. */
        int rc = store_integrity_check(r->store, &text, &err);
        json_t *o = json_pack("{s:s, s:s, s:i}", "inventory", r->cli->config->inventory, "integrity_check",
                              rc == 0 ? text : err.text, "schema_version", store_schema_version());
        free(text);
        int k = store_verify_chain(r->store, 1, &v, &err);
        if (k < 0)
                json_object_set_new(o, "chain", json_pack("{s:s}", "error", err.text));
        else
                json_object_set_new(o, "chain", json_pack("{s:b, s:I, s:I, s:s, s:I, s:s}", "intact", k == 0,
                                                          "checked", (json_int_t) v.checked, "head_id",
                                                          (json_int_t) v.head_id, "head_hash", v.head_hash,
                                                          "broken_id", (json_int_t) (k ? v.broken_id : 0),
                                                          "problem", k ? v.problem : ""));
        out_json(o);
        return rc < 0 || k != 0 ? EXIT_FAIL : EXIT_OK;
}

static int copy_file(const char *from, const char *dir, const char *name) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (vg_read_file(from, 16 << 20, &text, &len) < 0)
                return 0;   /* no such file: nothing to copy, and the index says so */
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        VgError err = { "" };
        if (vg_write_file(path, text, len, 0640, &err) < 0) {
                cli_error("%s", err.text);
                return -EIO;
        }
        return 1;
}

typedef struct Index {
        const Report *r;
        const char *assessed;
        int has_policy, has_config;
} Index;

/* index.md: each file of the evidence and the control it supports. */
static int job_index(void *u) {
        const Index *x = u;
        const Report *r = x->r;
        FILE *f = stdout;
        char now[VG_TIME_MAX], since[VG_TIME_MAX];
        vg_time_format(r->now_us, now);
        vg_time_format(r->since_us, since);
        fprintf(f, "# virtgov evidence: host %s\n\nGenerated %s (UTC) from the inventory '%s'; events since %s.\n"
                "Live libvirt facts: %s.\n\n"
                "| file | what it shows | supports |\n| --- | --- | --- |\n", r->host, now,
                r->cli->config->inventory, since, r->conn ? "included" : r->live_note ? r->live_note : "unavailable");
        fprintf(f, "| report-sprawl.json / .csv | VMs and images nobody accounts for; unauthorized activations | "
                "ISM-1605; IT-Grundschutz M 4.349; change reconciliation (detect) |\n"
                "| report-accounts.json / .csv | privileged accounts and why; account changes; roster | "
                "ISM-1605 (restrict privileged access); reduce and monitor privileged access |\n"
                "| report-activity.json / .csv | every activation and deactivation, matched to its approval or ticket | "
                "change management for every activation; reconcile every change with a ticket |\n"
                "| report-capacity.json / .csv | host resources against running and defined VMs | IT-Grundschutz M 4.349 |\n"
                "| report-software.json / .csv | libvirt, hypervisor and kernel versions over time | "
                "ISM-1605 (patching of the isolation layer) |\n"
                "| report-integrity.json / .csv | the hypervisor's files (QEMU, firmware, libvirt, its config and "
                "hooks, kernel modules) against their baseline: open drift, accepted drift with its ticket, package "
                "updates; the last check | ISM-1607 (integrity monitoring of the isolation layer); change "
                "reconciliation |\n"
                "| report-access.json / .csv | who accessed the host, from where and how often, failed attempts, "
                "accounts not on the roster (the audit stream; wtmp and btmp before it, each row naming its source); "
                "180 days unless --since | ISM-1605 (access logs: who accessed the servers, only authorised users, "
                "no unexpected attempts) |\n"
                "| report.html | every report above and charts over the window, one page to read and print | "
                "all of the above |\n"
                "| events.json | every recorded event in the window: the audit trail | ISM-1607 (event logging) |\n"
                "| assessment.json / .md | the host's configuration against its hardening checks (virtgov assess): "
                "%s | ISM-1605 (a configuration document showing how the server is configured) |\n"
                "| assessment-history.json | each check's regressions and fixes with their dates | ISM-1605 (scans "
                "showing timely fixes; settings audited to prevent drift) |\n"
                "| verification.json | the inventory's integrity check and its events' hash chain (virtgov verify) | ISM-1607 (integrity monitoring) |\n"
                "| policy.json | %s | configuration standards; trusted builds |\n"
                "| virtgov.conf | %s | ISM-1607 (what is logged and where) |\n",
                x->assessed, x->has_policy > 0 ? "the activation policy in force" : "(no policy file: everything is allowed and recorded)",
                x->has_config > 0 ? "the configuration in force" : "(no config file: compiled defaults)");
        return EXIT_OK;
}

static int evidence(Report *r, const char *dir) {
        int k = vg_mkdir_p(dir, 0750);
        if (k < 0)
                return cli_error("cannot create '%s': %s", dir, strerror(-k));
        int rc = EXIT_OK;
        for (size_t i = 0; i < ELEMENTSOF(reports); i++) {
                r->def = reports[i];
                char name[64];
                for (int csv = 0; csv < 2; csv++) {
                        Job j = { r, csv };
                        snprintf(name, sizeof(name), "report-%s.%s", reports[i]->name, csv ? "csv" : "json");
                        if (to_file(dir, name, job_report, &j) != EXIT_OK)
                                rc = EXIT_FAIL;
                }
        }
        if (to_file(dir, "events.json", job_events, r) != EXIT_OK || to_file(dir, "verification.json", job_verify, r) != EXIT_OK)
                rc = EXIT_FAIL;
        char html[4200];
        snprintf(html, sizeof(html), "%s/report.html", dir);
        if (report_html(r, reports, ELEMENTSOF(reports), html) != EXIT_OK)
                rc = EXIT_FAIL;
        int has_policy = copy_file(r->cli->config->policy, dir, "policy.json");
        int has_config = r->cli->config->path ? copy_file(r->cli->config->path, dir, "virtgov.conf") : 0;
        char assessed[512];
        if (report_assessment_evidence(r, dir, assessed, sizeof(assessed)) < 0)
                rc = EXIT_FAIL;

        Index x = { r, assessed, has_policy, has_config };
        if (to_file(dir, "index.md", job_index, &x) != EXIT_OK)
                rc = EXIT_FAIL;
        if (rc == EXIT_OK)
                printf("evidence written to %s (index.md lists each file and the control it supports)\n", dir);
        return rc;
}

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_JSON = 0x100, OPT_CSV, OPT_SINCE, OPT_FAIL, OPT_STALE, OPT_ROSTER, OPT_OFFLINE, OPT_OUT, OPT_HELP };
        static const struct option opts[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "csv", no_argument, NULL, OPT_CSV },
                { "since", required_argument, NULL, OPT_SINCE },
                { "fail-on-findings", no_argument, NULL, OPT_FAIL },
                { "stale-days", required_argument, NULL, OPT_STALE },
                { "roster", required_argument, NULL, OPT_ROSTER },
                { "no-libvirt", no_argument, NULL, OPT_OFFLINE },
                { "out", required_argument, NULL, OPT_OUT },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        Report r = { .cli = cli, .now_us = vg_now_us(), .stale_days = cli->config->stale_days };
        r.since_us = r.now_us - 30LL * 86400 * 1000000;
        bool csv = false, fail = false, offline = false;
        const char *out = NULL;
        int c, k;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON: cli->json = true; break;
                case OPT_CSV: csv = true; break;
                case OPT_SINCE:
                        if ((k = cli_parse_time(&cmd_report, "--since", optarg, &r.since_us)))
                                return k;
                        r.since_given = true;
                        break;
                case OPT_FAIL: fail = true; break;
                case OPT_STALE: {
                        char *end;
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (*end || !*optarg || n < 1 || n > 36500)
                                return cli_usage_error(&cmd_report, "--stale-days takes 1 to 36500, got '%s'", optarg);
                        r.stale_days = (unsigned) n;
                        break;
                }
                case OPT_ROSTER: r.roster = optarg; break;
                case OPT_OFFLINE: offline = true; break;
                case OPT_OUT: out = optarg; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_report);
                default: return cli_usage_error(&cmd_report, "unknown option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(&cmd_report, "name one report: sprawl, accounts, activity, capacity, software, integrity, access, "
                                       "evidence, html");
        if (csv && cli->json)
                return cli_usage_error(&cmd_report, "--json and --csv exclude each other");
        bool is_evidence = !strcmp(argv[optind], "evidence"), is_html = !strcmp(argv[optind], "html");
        if (is_evidence && (!out || !strcmp(out, "-")))
                return cli_usage_error(&cmd_report, "report evidence needs --out DIR (a directory, not '-')");
        if (is_html && !out)
                return cli_usage_error(&cmd_report, "report html needs --out FILE");
        for (size_t i = 0; i < ELEMENTSOF(reports); i++)
                if (!strcmp(reports[i]->name, argv[optind]))
                        r.def = reports[i];
        if (!r.def && !is_evidence && !is_html)
                return cli_usage_error(&cmd_report, "unknown report '%s'", argv[optind]);

        gethostname(r.host, sizeof(r.host));
        r.host[sizeof(r.host) - 1] = '\0';
        r.store = cli_open_store(cli);
        if (!r.store)
                return EXIT_FAIL;
        if (!offline && (is_evidence || is_html || !r.def->offline))
                live_open(&r);
        else
                r.live_note = strdup("--no-libvirt");
        int rc;
        if (is_evidence) {
                rc = evidence(&r, out);
        } else if (is_html) {
                rc = report_html(&r, reports, ELEMENTSOF(reports), out);
                if (rc == EXIT_OK)
                        printf("report written to %s\n", out);
        } else {
                k = r.def->run(&r);
                rc = k ? EXIT_FAIL : report_print(&r, csv, fail);
        }
        report_rows_clear(&r);
        json_decref(r.sections);
        if (r.conn)
                virConnectClose(r.conn);
        free(r.live_note);
        store_close(r.store);
        return rc;
}

const Command cmd_report = {
        .name = "report",
        .usage = "report sprawl|accounts|activity|capacity|software|integrity|access [--json | --csv] [--since TIME]\n"
                 "                      [--fail-on-findings] [--stale-days N] [--roster FILE] [--no-libvirt]\n"
                 "       virtgov report evidence --out DIR [--since TIME] [--roster FILE]\n"
                 "       virtgov report html --out FILE [--since TIME] [--roster FILE]",
        .summary = "Situational awareness: sprawl, accounts, activity, capacity, software, integrity.",
        .help =
        "sprawl    domains never started, stale (not started for --stale-days, default\n"
        "          30), unowned (no owner, or the owner is no account here), transient,\n"
        "          orphan images (files in dir pools and image_dirs no disk or backing\n"
        "          chain uses), missing disks, shared writable images, duplicate MACs,\n"
        "          interfaces on unknown networks, snapshots, unauthorized activations\n"
        "accounts  privileged accounts and why, account changes since --since, and with\n"
        "          --roster FILE (one name per line; - reads standard input) accounts not on it and names on it\n"
        "          that do not exist\n"
        "activity  activations and deactivations per day and owner, each matched to the\n"
        "          approval or ticket that authorized it, or flagged unreconciled\n"
        "capacity  host CPUs and memory against running and defined domains\n"
        "          (overcommit); storage pools: capacity, allocation, available, the\n"
        "          volumes' capacity (thin overcommit) and days until full from the\n"
        "          recorded trend (pool.usage, 30 days); each bridge's uplinks, up or\n"
        "          down, and their speed (host.uplinks), a finding when a network in\n"
        "          forward mode bridge uses one with none up\n"
        "software  libvirt, hypervisor and kernel versions over time\n"
        "integrity the hypervisor's files against their baseline (virtgov integrity):\n"
        "          open findings (unexplained, conffile edits), drift accepted with its\n"
        "          ticket and package updates in the window, and the last check\n"
        "access    who accessed the host (logins, sudo), from where, how often; failed\n"
        "          attempts; with --roster, who accessed it and is not on the roster.\n"
        "          From the audit stream's access.* events, and from wtmp and btmp for\n"
        "          the part of the window before those begin (each row names its\n"
        "          source). Its window is 180 days unless --since says otherwise\n"
        "evidence  every report above (JSON and CSV), the events of the window, the\n"
        "          policy, the config and the inventory's integrity and hash-chain\n"
        "          check in --out DIR, with index.md mapping each file to the control\n"
        "          it supports (ISM-1605, ISM-1607, IT-Grundschutz M 4.349, change\n"
        "          reconciliation), and report.html\n"
        "html      one self-contained page to look at and print (no script, nothing\n"
        "          fetched): every report above with its findings and counts, and\n"
        "          charts over --since: domains defined and running, activations per\n"
        "          day (allowed, denied, violations), denials by reason, privileged\n"
        "          accounts, integrity findings and processes by status, and the\n"
        "          latest hardening assessment (virtgov assess) with its failed checks.\n"
        "          --out - writes it to standard output; a device or FIFO (/dev/stdout,\n"
        "          /dev/null) is written through, a regular file replaced whole\n"
        "\n"
        "Reports read the inventory. Live facts (pools, snapshots, networks, host size)\n"
        "come from a read-only libvirt connection (the first of the 'uris' key); without\n"
        "one the report says what it skipped. --no-libvirt skips them on purpose.\n"
        "\n"
        "  --json | --csv       JSON (with a summary per category) or CSV (RFC 4180; a cell\n"
        "                       that starts with = + - @ gets a leading ' so that a\n"
        "                       spreadsheet takes it as text, and control characters\n"
        "                       become U+FFFD)\n"
        "  --since TIME         the window for events (default 30 days)\n"
        "  --fail-on-findings   exit 3 when there is anything to act on (cron, monitoring)\n",
        .run = run,
};
