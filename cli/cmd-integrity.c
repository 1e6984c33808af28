/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "integrity baseline|check|accept|status|kernel": integrity monitoring
 * of the isolation layer (lib/integrity/ does the work; the kernel's
 * part is report-kernel.c over lib/integrity/kernel-run.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/integrity/proc.h"
#include "virtgov/integrity/run.h"

typedef struct Args {
        const char *profiles[17];     /* --profile, NULL-ended */
        size_t n_profiles;
        bool full, csv, fail, all;
        const char *ticket, *reason, *domain;
        char **paths;                 /* the operands after the verb */
        int n_paths;
} Args;

static int parse(Cli *cli, int argc, char **argv, Args *a) {
        enum { OPT_PROFILE = 0x100, OPT_FULL, OPT_JSON, OPT_CSV, OPT_FAIL, OPT_ALL, OPT_TICKET, OPT_REASON, OPT_DOMAIN,
               OPT_HELP };
        static const struct option opts[] = {
                { "profile", required_argument, NULL, OPT_PROFILE },
                { "full", no_argument, NULL, OPT_FULL },
                { "json", no_argument, NULL, OPT_JSON },
                { "csv", no_argument, NULL, OPT_CSV },
                { "fail-on-findings", no_argument, NULL, OPT_FAIL },
                { "all", no_argument, NULL, OPT_ALL },
                { "ticket", required_argument, NULL, OPT_TICKET },
                { "reason", required_argument, NULL, OPT_REASON },
                { "domain", required_argument, NULL, OPT_DOMAIN },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        int c;
        *a = (Args) { 0 };
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_PROFILE:
                        if (a->n_profiles + 1 >= ELEMENTSOF(a->profiles))
                                return cli_usage_error(&cmd_integrity, "at most %zu --profile options",
                                                       ELEMENTSOF(a->profiles) - 1);
                        a->profiles[a->n_profiles++] = optarg;
                        break;
                case OPT_FULL: a->full = true; break;
                case OPT_JSON: cli->json = true; break;
                case OPT_CSV: a->csv = true; break;
                case OPT_FAIL: a->fail = true; break;
                case OPT_ALL: a->all = true; break;
                case OPT_TICKET: a->ticket = optarg; break;
                case OPT_REASON: a->reason = optarg; break;
                case OPT_DOMAIN: a->domain = optarg; break;
                /* -1: done, the verb is not run (cli_help's EXIT_OK is 0). */
                case 'h': case OPT_HELP: cli_help(&cmd_integrity); return -1;
                default: return cli_usage_error(&cmd_integrity, "unknown option");
                }
        }
        if (a->csv && cli->json)
                return cli_usage_error(&cmd_integrity, "--json and --csv exclude each other");
        a->paths = argv + optind + 1;
        a->n_paths = argc - optind - 1;
        return 0;
}

static IntegrityRequest request(const Args *a) {
        return (IntegrityRequest) { .profiles = a->n_profiles ? a->profiles : NULL, .full = a->full,
                                    .actor = cli_actor(), .source = "cli" };
}

/* Each domain file of libvirt's that could not be read, on stderr (as
 * well as in the JSON): what its domain runs may be missing from the
 * scan, and nobody should learn that from its absence. */
static void warn_unread(const IntegrityResult *res) {
        for (size_t i = 0; res->unread && res->unread[i]; i++)
                fprintf(stderr, "virtgov: warning: not read: %s: the files its domain runs may not be watched\n",
                        res->unread[i]);
}

static json_t *unread_json(const IntegrityResult *res) {
        json_t *a = json_array();
        for (size_t i = 0; res->unread && res->unread[i]; i++)
                json_array_append_new(a, json_string(res->unread[i]));
        return a;
}

static int baseline(Cli *cli, const Args *a) {
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        IntegrityRequest req = request(a);
        IntegrityResult res;
        VgError err = { "" };
        if (integrity_take_baseline(s, cli->config, &req, &res, &err) < 0)
                return cli_error("%s", err.text);
        warn_unread(&res);
        int k = EXIT_OK;
        if (cli->json)
                k = out_json(json_pack("{s:I, s:I, s:s, s:o}", "files", (json_int_t) res.n_files, "hashed",
                                       (json_int_t) res.n_hashed, "digest", res.digest, "unread_domains",
                                       unread_json(&res)));
        else
                printf("baseline taken: %zu files, %zu read; digest %s\n", res.n_files, res.n_hashed, res.digest);
        integrity_result_clear(&res);
        return k;
}

/* The check's findings, printed as report integrity prints them. */
static int check(Cli *cli, const Args *a) {
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        IntegrityRequest req = request(a);
        IntegrityResult res;
        VgError err = { "" };
        int k = integrity_check(s, cli->config, &req, &res, &err);
        if (k < 0)
                return cli_error("%s", err.text);
        warn_unread(&res);
        Report r = { .cli = cli, .def = &report_integrity, .store = s, .now_us = vg_now_us() };
        r.since_us = r.now_us;
        gethostname(r.host, sizeof(r.host));
        r.host[sizeof(r.host) - 1] = '\0';
        for (size_t i = 0; i < res.n; i++)
                report_integrity_finding(&r, &res.findings[i]);
        r.sections = json_pack("{s:I, s:I, s:I, s:s, s:o}", "files", (json_int_t) res.n_files, "hashed",
                               (json_int_t) res.n_hashed, "accepted_package_updates", (json_int_t) res.n_accepted,
                               "digest", res.digest, "unread_domains", unread_json(&res));
        k = report_print(&r, a->csv, a->fail);
        if (!cli->json && !a->csv)
                printf("\n%zu files checked, %zu read\n", res.n_files, res.n_hashed);
        report_rows_clear(&r);
        json_decref(r.sections);
        integrity_result_clear(&res);
        return k;
}

static int print_process(const ProcessRecord *p, void *u) {
        report_integrity_process(u, p);
        return 0;
}

/* Checks the running processes now, then prints every one the inventory
 * holds, as report integrity does. */
static int processes(Cli *cli, const Args *a) {
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        ProcRequest req = { .domain = a->domain, .source = "cli", .actor = cli_actor(), .full = a->full };
        ProcResult res;
        VgError err = { "" };
        if (integrity_check_processes(s, cli->config, &req, &res, &err) < 0)
                return cli_error("%s", err.text);
        Report r = { .cli = cli, .def = &report_integrity, .store = s, .now_us = vg_now_us() };
        r.since_us = r.now_us;
        gethostname(r.host, sizeof(r.host));
        r.host[sizeof(r.host) - 1] = '\0';
        int k = store_processes(s, print_process, &r, &err);
        if (k < 0) {
                report_rows_clear(&r);
                proc_result_clear(&res);
                return cli_error("%s", err.text);
        }
        r.sections = json_pack("{s:I, s:I, s:I}", "processes", (json_int_t) res.n, "hashed",
                               (json_int_t) res.hashed, "cached", (json_int_t) res.cached);
        k = report_print(&r, a->csv, a->fail);
        if (!cli->json && !a->csv)
                printf("\n%zu process(es) checked, %zu mapped file(s) read\n", res.n, res.hashed);
        report_rows_clear(&r);
        json_decref(r.sections);
        proc_result_clear(&res);
        return k;
}

static int accept(Cli *cli, const Args *a) {
        if (!a->all && !a->n_paths)
                return cli_usage_error(&cmd_integrity, "integrity accept needs PATH... or --all");
        if (a->all && a->n_paths)
                return cli_usage_error(&cmd_integrity, "integrity accept takes PATH... or --all, not both");
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        /* NULL-ended, as the library takes it. */
        _cleanup_free_ const char **paths = calloc((size_t) a->n_paths + 1, sizeof(char *));
        if (!paths)
                return cli_error("out of memory");
        for (int i = 0; i < a->n_paths; i++)
                paths[i] = a->paths[i];
        IntegrityResult res;
        VgError err = { "" };
        if (integrity_accept(s, cli->config, a->all ? NULL : paths, a->ticket, a->reason, cli_actor(), &res, &err) < 0)
                return cli_error("%s", err.text);
        if (cli->json)
                return out_json(json_pack("{s:I, s:s?, s:s}", "accepted", (json_int_t) res.n_accepted, "ticket",
                                          a->ticket, "digest", res.digest));
        printf("accepted %zu change(s) into the baseline%s%s; digest %s\n", res.n_accepted,
               a->ticket ? " under ticket " : "", a->ticket ? a->ticket : "", res.digest);
        integrity_result_clear(&res);
        return EXIT_OK;
}

typedef struct Counts {
        size_t by_class[3];
} Counts;

static int count(const IntegrityFinding *f, void *u) {
        ((Counts *) u)->by_class[f->cls]++;
        return 0;
}

static int status(Cli *cli) {
        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        _cleanup_(fscan_list_freep) FscanList *base = NULL;
        int v = integrity_verify_baseline(s, &base, &err);
        if (v < 0 && v != -ENOENT && v != -EBADMSG && v != -EPROTO)
                return cli_error("%s", err.text);
        Counts n = { { 0 } };
        _cleanup_free_ char *last = NULL;
        Event *e = NULL;
        if (store_findings(s, count, &n, &err) < 0)
                return cli_error("%s", err.text);
        int k = store_meta_get(s, "integrity.last_check", &last, &err);
        if (k < 0 && k != -ENOENT)
                return cli_error("%s", err.text);
        k = store_last_event(s, "integrity.baseline", &e, &err);
        if (k < 0 && k != -ENOENT)
                return cli_error("%s", err.text);
        uint64_t bytes = 0;
        for (size_t i = 0; base && i < base->n; i++)
                bytes += base->files[i].size;
        json_t *profiles = json_object();
        for (size_t i = 0; base && i < base->n; i++) {
                const char *p = base->files[i].tag ? base->files[i].tag : "";
                json_object_set_new(profiles, p, json_integer(json_integer_value(json_object_get(profiles, p)) + 1));
        }
        json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:s?, s:{s:I, s:I, s:I}, s:o}",
                              "baseline", v == 0 ? "intact" : v == -ENOENT ? "none"
                                          : v == -EPROTO ? "recorded by an older virtgov: retake it"
                                          : "does not match its digest",
                              "profiles", profiles, "files", (json_int_t) (base ? base->n : 0), "bytes",
                              (json_int_t) bytes, "taken", e ? e->time : NULL, "findings", "unexplained",
                              (json_int_t) n.by_class[DRIFT_UNEXPLAINED], "conffile_edit",
                              (json_int_t) n.by_class[DRIFT_CONFFILE_EDIT], "package_update",
                              (json_int_t) n.by_class[DRIFT_PACKAGE_UPDATE], "last_check",
                              last ? json_loads(last, 0, NULL) ?: json_null() : json_null());
        event_free(e);
        if (v == -EBADMSG || v == -EPROTO)
                json_object_set_new(o, "problem", json_string(err.text));
        if (cli->json)
                return out_json(o) == EXIT_OK && v == 0 ? EXIT_OK : EXIT_FAIL;
        printf("baseline      %s\n", json_string_value(json_object_get(o, "baseline")));
        if (v == -EBADMSG || v == -EPROTO)
                printf("              %s\n", err.text);
        const char *p;
        json_t *x;
        json_object_foreach(profiles, p, x)
                printf("profile       %s: %lld files\n", p, (long long) json_integer_value(x));
        printf("files         %zu (%.1f MiB)\n", base ? base->n : 0, (double) bytes / 1048576);
        printf("taken         %s\n", json_string_value(json_object_get(o, "taken")) ?: "never");
        printf("findings      %zu unexplained, %zu conffile edits, %zu package updates\n",
               n.by_class[DRIFT_UNEXPLAINED], n.by_class[DRIFT_CONFFILE_EDIT], n.by_class[DRIFT_PACKAGE_UPDATE]);
        json_t *lc = json_object_get(o, "last_check");
        printf("last check    %s\n", json_string_value(json_object_get(lc, "time")) ?: "never");
        json_decref(o);
        return v == 0 ? EXIT_OK : EXIT_FAIL;
}

static int run(Cli *cli, int argc, char **argv) {
        Args a;
        int k = parse(cli, argc, argv, &a);
        if (k)
                return k < 0 ? EXIT_OK : k;
        const char *verb = optind < argc ? argv[optind] : NULL;
        if (!verb)
                return cli_usage_error(&cmd_integrity,
                                       "name a verb: baseline, check, accept, processes, kernel, status");
        bool takes_paths = !strcmp(verb, "accept");
        if (a.n_paths && !takes_paths)
                return cli_usage_error(&cmd_integrity, "integrity %s takes no operands", verb);
        if (!strcmp(verb, "baseline"))
                return baseline(cli, &a);
        if (!strcmp(verb, "check"))
                return check(cli, &a);
        if (!strcmp(verb, "accept"))
                return accept(cli, &a);
        if (!strcmp(verb, "status"))
                return status(cli);
        if (!strcmp(verb, "processes"))
                return processes(cli, &a);
        if (!strcmp(verb, "kernel"))
                return integrity_kernel(cli, a.csv, a.fail);
        return cli_usage_error(&cmd_integrity, "unknown verb '%s'", verb);
}

const Command cmd_integrity = {
        .name = "integrity",
        .usage = "integrity baseline [--profile P]...\n"
                 "       virtgov integrity check [--full] [--profile P]... [--json | --csv] [--fail-on-findings]\n"
                 "       virtgov integrity accept PATH... | --all  [--ticket ID] [--reason TEXT]\n"
                 "       virtgov integrity processes [--domain NAME] [--full] [--json | --csv] [--fail-on-findings]\n"
                 "       virtgov integrity kernel [--json | --csv] [--fail-on-findings]\n"
                 "       virtgov integrity status [--json]",
        .summary = "Integrity monitoring of the hypervisor: baseline, check, accept drift (ISM-1607).",
        .help =
        "baseline  reads every file of the profiles (the config's integrity_profiles, or\n"
        "          each --profile) and stores what it found as the baseline: type, mode,\n"
        "          owner, size, inode, times, symlink target, security.* attributes and\n"
        "          SHA-256, never the content. The old baseline of those profiles stays\n"
        "          until the new one is whole. An integrity.baseline event carries each\n"
        "          profile's digest, so an edited row is caught.\n"
        "check     compares now with the baseline: added, removed and changed files\n"
        "          (which attributes, old and new values), each classified unexplained,\n"
        "          conffile_edit or package_update. A file whose stat attributes are\n"
        "          unchanged is not read again; --full reads everything (it catches an\n"
        "          edit that put size and times back). Each new finding is an event;\n"
        "          the open findings stay in the inventory (report integrity).\n"
        "accept    folds reviewed drift into the baseline: each PATH, or --all open\n"
        "          findings. An integrity.accepted event names who accepted it, the\n"
        "          ticket (one in the inventory, whose window covers now) and the\n"
        "          reason. Without --ticket it is refused unless integrity_require_ticket\n"
        "          = no.\n"
        "processes checks what runs: each running domain's QEMU (its pid from\n"
        "          qemu_run_dir) and libvirt's daemons, their executable and every file\n"
        "          they map, read through /proc/PID/exe and map_files/ (the file the\n"
        "          process runs, even after it was replaced on disk). Each process is\n"
        "          current (matches the baseline or its package), stale (runs what the\n"
        "          baseline held before a package update or an accept replaced it:\n"
        "          restart it), tampered (matches neither) or unknown (nothing to\n"
        "          compare with, or unreadable). A change of status is an\n"
        "          integrity.process event. Needs root (CAP_SYS_PTRACE and\n"
        "          CAP_CHECKPOINT_RESTORE). A mapped file whose stat is its baseline\n"
        "          row's is not read (--full reads every one).\n"
        "status    profiles, baseline age and size, open findings by class, last check.\n"
        "kernel    the running kernel: its release against the newest installed one of\n"
        "          its flavour (Debian version order: a reboot pending), its taint flags\n"
        "          in words, and every loaded module (/proc/modules) resolved through\n"
        "          modules.dep to its file, with a status: ok, or changed (differs from\n"
        "          the baseline), not-in-baseline, missing, unresolved, out-of-tree\n"
        "          (taint O or no intree=Y), unsigned (taint E or no signature appended),\n"
        "          forced (F), proprietary (P), staging (C), not-from-a-package,\n"
        "          package-mismatch (its MD5 is not the package's), not-a-module.\n"
        "          Not-in-baseline alone is no finding when the package's MD5 vouches\n"
        "          for the file. Paths: the kernel_* keys. Read only: no event.\n"
        "\n"
        "Profiles: isolation (QEMU, its libraries and firmware, libvirt's daemons,\n"
        "drivers, config, hooks, units and polkit rules, what domains name, nvram files\n"
        "by owner, virtgov itself, the kernel image and loaded virtualization modules)\n"
        "and host (/usr/bin, /usr/sbin, /usr/lib, /etc) are built in; NAME reads\n"
        "integrity_dir/NAME.profile (PATH [ATTRIBUTES] lines).\n"
        "\n"
        "  --profile P          this profile (repeatable) instead of integrity_profiles\n"
        "  --full               read every file again (check, processes)\n"
        "  --json | --csv       JSON or CSV (RFC 4180) instead of a table\n"
        "  --fail-on-findings   exit 3 when there is an open finding\n"
        "  --domain NAME        processes: only that domain's QEMU\n"
        "  --ticket ID          the change ticket that authorizes an accept\n"
        "  --reason TEXT        why, recorded with the accept\n",
        .run = run,
};
