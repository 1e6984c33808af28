/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "assess": the host's hardening against ISM-1605 (lib/assess/ does the
 * work): a table grouped by area, JSON or CSV; a full run is recorded
 * (assess.run, and assess.regressed / assess.fixed against the last one)
 * when this user may write the inventory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "virtgov/assess/assess.h"
#include "virtgov/util/cleanup.h"

#define STATE_KEY "assess.state"
#define LATEST_KEY "assess.latest"

typedef struct Args {
        bool csv, fail, list, no_record;
        const char *exceptions, *root;
        const char *only[65];
        size_t n_only;
} Args;

static int parse(Cli *cli, int argc, char **argv, Args *a) {
        enum { OPT_JSON = 0x100, OPT_CSV, OPT_FAIL, OPT_CHECK, OPT_EXCEPTIONS, OPT_LIST, OPT_ROOT, OPT_NO_RECORD,
               OPT_HELP };
        static const struct option opts[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "csv", no_argument, NULL, OPT_CSV },
                { "fail-on-findings", no_argument, NULL, OPT_FAIL },
                { "check", required_argument, NULL, OPT_CHECK },
                { "exceptions", required_argument, NULL, OPT_EXCEPTIONS },
                { "list", no_argument, NULL, OPT_LIST },
                { "root", required_argument, NULL, OPT_ROOT },
                { "no-record", no_argument, NULL, OPT_NO_RECORD },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        int c;
        *a = (Args) { 0 };
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON: cli->json = true; break;
                case OPT_CSV: a->csv = true; break;
                case OPT_FAIL: a->fail = true; break;
                case OPT_CHECK:
                        if (a->n_only + 1 >= ELEMENTSOF(a->only))
                                return cli_usage_error(&cmd_assess, "at most %zu --check options",
                                                       ELEMENTSOF(a->only) - 1);
                        a->only[a->n_only++] = optarg;
                        break;
                case OPT_EXCEPTIONS: a->exceptions = optarg; break;
                case OPT_LIST: a->list = true; break;
                case OPT_ROOT: a->root = optarg; break;
                case OPT_NO_RECORD: a->no_record = true; break;
                case 'h': case OPT_HELP: cli_help(&cmd_assess); return -1;
                default: return cli_usage_error(&cmd_assess, "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(&cmd_assess, "unexpected argument '%s'", argv[optind]);
        if (cli->json && a->csv)
                return cli_usage_error(&cmd_assess, "--json and --csv exclude each other");
        return 0;
}

/* ---- output ---- */

static void print_csv(const AssessRun *r) {
        static const char *const head[] = { "id", "area", "severity", "check_status", "status", "title", "found",
                                            "where", "domain", "ticket", "expires", "expected", "remediation", "ism",
                                            "doc" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                out_csv_field(head[i], i + 1 == ELEMENTSOF(head));
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        for (size_t k = 0; k < r->n; k++) {
                const AssessResult *res = &r->results[k];
                const AssessCheck *c = res->check;
                char exp[VG_TIME_MAX] = "";
                if (res->expires_us)
                        vg_time_format(res->expires_us, exp);
                const char *row[] = { c->id, c->area, assess_severity_name(c->severity),
                                      assess_status_name(r->status[c - checks]), assess_status_name(res->status),
                                      c->title, res->found, res->where, res->domain, res->ticket, exp, c->expected,
                                      c->remediation, c->ism, c->doc };
                for (size_t i = 0; i < ELEMENTSOF(row); i++)
                        out_csv_field(row[i], i + 1 == ELEMENTSOF(row));
        }
}

/* The table: per area a heading, per check a row, and under each check
 * that is not a plain pass what was found and where. */
static void print_table(const AssessRun *r) {
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        int wid = 2, wsev = 8, wst = 6;
        for (size_t k = 0; k < r->n_ran; k++) {
                const AssessCheck *c = r->ran[k];
                int l = (int) strlen(c->id);
                wid = l > wid ? l : wid;
                l = (int) strlen(assess_status_name(r->status[c - checks]));
                wst = l > wst ? l : wst;
        }
        const char *area = NULL;
        char a[512], b[4096], d[512];
        for (size_t k = 0; k < r->n_ran; k++) {
                const AssessCheck *c = r->ran[k];
                AssessStatus st = r->status[c - checks];
                if (!area || strcmp(area, c->area)) {
                        printf("%s%s\n", area ? "\n" : "", c->area);
                        out_cells({ "  ID", wid + 2 }, { "SEVERITY", wsev }, { "STATUS", wst }, { "CHECK", 0 });
                        area = c->area;
                }
                char id[64];
                snprintf(id, sizeof(id), "  %s", c->id);
                out_cells({ id, wid + 2 }, { assess_severity_name(c->severity), wsev }, { assess_status_name(st), wst },
                          { c->title, 0 });
                if (st == ASSESS_PASS || st == ASSESS_NA)
                        continue;
                for (size_t i = 0; i < r->n; i++) {
                        const AssessResult *res = &r->results[i];
                        if (res->check != c || res->status == ASSESS_PASS || res->status == ASSESS_NA)
                                continue;
                        printf("      %s: %s%s%s%s%s", assess_status_name(res->status), res->domain ? "domain " : "",
                               res->domain ? out_safe(res->domain, d, sizeof(d)) : "", res->domain ? ": " : "",
                               out_safe(res->found, b, sizeof(b)), res->where ? " (" : "");
                        if (res->where)
                                printf("%s)", out_safe(res->where, a, sizeof(a)));
                        if (res->status == ASSESS_EXCEPTED) {
                                char exp[VG_TIME_MAX];
                                if (res->expires_us)
                                        vg_time_format(res->expires_us, exp);
                                printf(" [ticket %s%s%.10s]", out_safe(res->ticket, a, sizeof(a)),
                                       res->expires_us ? ", until " : "", res->expires_us ? exp : "");
                        }
                        putchar('\n');
                }
                if (assess_status_bad(st))
                        printf("      expected: %s\n      fix: %s\n", c->expected, c->remediation);
        }
        printf("\n%zu checks: %zu pass, %zu fail, %zu error, %zu excepted, %zu not applicable (%lld ms)\n", r->n_ran,
               r->counts[ASSESS_PASS], r->counts[ASSESS_FAIL], r->counts[ASSESS_ERROR], r->counts[ASSESS_EXCEPTED],
               r->counts[ASSESS_NA], (long long) (r->took_us / 1000));
}

static int list_checks(Cli *cli) {
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        if (cli->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s}",
                                                           "id", checks[i].id, "area", checks[i].area, "title",
                                                           checks[i].title, "severity",
                                                           assess_severity_name(checks[i].severity), "rationale",
                                                           checks[i].rationale, "ism", checks[i].ism, "srg",
                                                           checks[i].srg, "doc", checks[i].doc, "expected",
                                                           checks[i].expected, "remediation", checks[i].remediation));
                return out_json(a);
        }
        for (size_t i = 0; i < n; i++)
                out_cells({ checks[i].id, 12 }, { assess_severity_name(checks[i].severity), 8 }, { checks[i].area, 15 },
                          { checks[i].title, 0 });
        return EXIT_OK;
}

/* ---- recording ---- */

typedef struct Rec {
        Store *s;
        const char *host;
        VgError *err;
        int64_t run_id;
} Rec;

static int append(Event *e, void *u) {
        Rec *rec = u;
        event_set(&e->host, rec->host);
        event_set(&e->actor, cli_actor());
        int r = store_append_event(rec->s, e, NULL, rec->err);
        if (r >= 0 && !rec->run_id)
                rec->run_id = e->id;
        event_free(e);
        return r < 0 ? r : 0;
}

/* The run, its drift against the last one, and the state and document
 * the next run and `report evidence` read: one transaction. */
static int record(Cli *cli, const AssessRun *run, const char *host, int64_t *ret_id) {
        VgError err = { "" };
        _cleanup_(store_closep) Store *s = NULL;
        int r = store_open(cli->config->inventory, STORE_WRITE, cli->config->busy_timeout_ms, &s, &err);
        if (r < 0) {
                fprintf(stderr, "virtgov: not recorded (%s): run as root to keep the assessment's history\n", err.text);
                return 0;
        }
        if ((r = store_begin(s, &err)) < 0)
                return cli_error("%s", err.text);
        _cleanup_free_ char *prev = NULL, *state = NULL;
        r = store_meta_get(s, STATE_KEY, &prev, &err);
        if (r < 0 && r != -ENOENT)
                goto fail;
        state = assess_state_text(run, prev);
        Rec rec = { s, host, &err, 0 };
        json_t *doc = assess_run_to_json(run, host);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (!state || !text) {
                free(text);
                store_rollback(s);
                return cli_error("out of memory");
        }
        if ((r = assess_drift(run, prev, "cli", append, &rec)) < 0 || (r = store_meta_set(s, STATE_KEY, state, &err)) < 0 ||
            (r = store_meta_set(s, LATEST_KEY, text, &err)) < 0 || (r = store_commit(s, &err)) < 0) {
                free(text);
                goto fail;
        }
        free(text);
        *ret_id = rec.run_id;
        return 0;
fail:
        store_rollback(s);
        return cli_error("recording the assessment: %s", err.text[0] ? err.text : strerror(-r));
}

static int run(Cli *cli, int argc, char **argv) {
        Args a;
        int k = parse(cli, argc, argv, &a);
        if (k)
                return k < 0 ? EXIT_OK : k;
        if (a.list)
                return list_checks(cli);
        AssessPaths p;
        if (assess_paths_init(&p, cli->config, a.root) < 0)
                return cli_error("out of memory");
        VgError err = { "" };
        _cleanup_(assess_exceptions_freep) AssessExceptions *ex = NULL;
        /* Under --root, the tree's own file, read inside the tree as
         * every input is: an absolute symlink there must not name a host
         * file (jansson's error would quote it). */
        int r = a.exceptions ? assess_exceptions_load(a.exceptions, p.now_us, &ex, &err)
                             : assess_exceptions_load_paths(&p, &ex, &err);
        if (r < 0 && !(r == -ENOENT && !a.exceptions)) {
                assess_paths_clear(&p);
                return cli_error("%s", err.text);
        }
        for (size_t i = 0; ex && i < ex->n_warnings; i++)
                fprintf(stderr, "virtgov: warning: %s\n", ex->warnings[i]);
        _cleanup_(assess_run_freep) AssessRun *res = NULL;
        r = assess_run(&p, a.n_only ? a.only : NULL, ex, &res, &err);
        assess_paths_clear(&p);
        if (r < 0)
                return r == -EINVAL ? cli_usage_error(&cmd_assess, "%s", err.text) : cli_error("%s", err.text);
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        /* Only a whole run of the host itself is history: a subset or a
         * fixture tree is a question, not a record. */
        int64_t id = 0;
        if (!a.n_only && !a.root && !a.no_record && (r = record(cli, res, host, &id)) != 0)
                return r;
        if (cli->json) {
                json_t *doc = assess_run_to_json(res, host);
                json_t *w = json_array();
                for (size_t i = 0; ex && i < ex->n_warnings; i++)
                        json_array_append_new(w, json_string(ex->warnings[i]));
                json_object_set_new(doc, "exception_warnings", w);
                json_object_set_new(doc, "recorded_event", id ? json_integer((json_int_t) id) : json_null());
                k = out_json(doc);
        } else if (a.csv)
                print_csv(res);
        else {
                print_table(res);
                if (id)
                        printf("recorded as event %lld (virtgov events --kind assess.)\n", (long long) id);
        }
        if (k == EXIT_OK && a.fail)
                for (size_t i = 0; i < res->n_ran; i++) {
                        size_t n;
                        const AssessCheck *checks = assess_checks(&n);
                        if (assess_status_bad(res->status[res->ran[i] - checks]))
                                return 3;
                }
        return k;
}

const Command cmd_assess = {
        .name = "assess",
        .usage = "assess [--json | --csv] [--fail-on-findings] [--check ID]... [--exceptions FILE] [--list]",
        .summary = "Assess the host's hardening (ISM-1605): qemu.conf, libvirt, domains, kernel, services.",
        .help =
        "Runs the hardening checks of a KVM host run by libvirt and says, for each, what was\n"
        "found and where (file:line, sysctl, socket, domain), what is expected and the line\n"
        "that fixes it. Areas: qemu.conf; the config and sockets of the libvirt daemons that\n"
        "run (libvirtd or virtqemud); who can manage VMs (the socket's group, polkit, sudo):\n"
        "root by another name; every defined domain (its XML in /etc/libvirt/qemu); kernel\n"
        "settings and the CPU's mitigations; patching (apt's lists, read offline; a pending\n"
        "reboot; deleted binaries still running); listening services, sshd, auditd; virtgov\n"
        "itself. 'virtgov assess --list' names every check.\n"
        "\n"
        "Each check is pass, fail, error (an input could not be read: never a pass),\n"
        "excepted (a failure an exception covers) or not-applicable. libvirt's config files\n"
        "are read as libvirt reads them: the first of a key set twice counts, and a syntax\n"
        "error is an error naming file:line:column (libvirt refuses such a file).\n"
        "\n"
        "Options:\n"
        "  --json               every field of every check and result\n"
        "  --csv                one row per result (RFC 4180)\n"
        "  --fail-on-findings   exit 3 when any check fails or errs (for cron and monitoring)\n"
        "  --check ID           only this check (repeatable); not recorded\n"
        "  --exceptions FILE    instead of 'assess_exceptions' (default\n"
        "                       /etc/virtgov/assess-exceptions.json)\n"
        "  --list               the checks, with their severity and area\n"
        "  --no-record          do not record this run\n"
        "  --root DIR           read every input under DIR (a copy of a host's files); not recorded\n"
        "\n"
        "Exceptions: a JSON array of {\"id\", \"ticket\", \"domain\" (glob), \"path\" (glob),\n"
        "\"expires\" (RFC 3339 or a date), \"reason\"}. A failure in scope reports\n"
        "'excepted' with its ticket until the exception expires; then it fails again and a\n"
        "warning names the entry. Unknown keys and check ids are errors with\n"
        "file:line:column. The typical one, libvirt's NAT networks needing ip_forward:\n"
        "  [ { \"id\": \"VG-KRN-014\", \"ticket\": \"CHG-2041\", \"expires\": \"2027-06-30\",\n"
        "      \"reason\": \"the default NAT network\" } ]\n"
        "\n"
        "A whole run by a user who may write the inventory is recorded: an assess.run event\n"
        "(counts and a digest of the results), assess.regressed for each check that held at\n"
        "the last run and no longer does, assess.fixed for each that now holds. The daemon\n"
        "runs the same assessment every 'assess_interval_s' and when a file it reads\n"
        "changes. 'virtgov report evidence' writes the latest as the configuration document\n"
        "of ISM-1605, with the history; 'virtgov metrics' counts failed checks by severity.\n"
        "\n"
        "Configuration: assess_exceptions, assess_interval_s, assess_vm_admins (who may\n"
        "manage VMs), assess_listen_allow (PORT/PROTO that may listen beyond loopback),\n"
        "image_dirs (where domains' disks belong), etc_dir, proc_dir, hooks_dir.\n"
        "\n"
        "Exit status: 0, or 3 with --fail-on-findings and a failing check; 1 on an error,\n"
        "2 on a usage error.\n",
        .run = run,
};
