/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "metrics": the inventory's facts and counts in Prometheus text format,
 * for node_exporter's textfile collector; the per-domain, host, chain and
 * daemon facts are metrics-facts.c's (metrics.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "metrics.h"
#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/integrity/run.h"
#include "virtgov/store/spool.h"

static int process_status(const ProcessRecord *p, void *u) {
        static const char *const names[] = { "current", "unknown", "stale", "tampered" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (vg_streq(p->status, names[i]))
                        ((size_t *) u)[i]++;
        return 0;
}

static int finding_class(const IntegrityFinding *f, void *u) {
        ((size_t *) u)[f->cls]++;
        return 0;
}

/* Open integrity findings by class, and whether the baseline holds: a
 * baseline that no longer matches its digest is 0, as is none. */
static int integrity_metrics(Store *s, VgError *err) {
        size_t n[3] = { 0 };
        int r = store_findings(s, finding_class, n, err);
        if (r < 0)
                return r;
        VgError berr = { "" };
        int b = integrity_verify_baseline(s, NULL, &berr);
        if (b < 0 && b != -ENOENT && b != -EBADMSG && b != -EPROTO)
                return vg_error(err, b, "%s", berr.text);
        printf("# HELP virtgov_integrity_findings Open integrity findings of the hypervisor's files, by class.\n"
               "# TYPE virtgov_integrity_findings gauge\n");
        static const DriftClass classes[] = { DRIFT_UNEXPLAINED, DRIFT_CONFFILE_EDIT, DRIFT_PACKAGE_UPDATE };
        for (size_t i = 0; i < ELEMENTSOF(classes); i++)
                printf("virtgov_integrity_findings{class=\"%s\"} %zu\n", drift_class_name(classes[i]), n[classes[i]]);
        printf("# HELP virtgov_integrity_baseline_intact 1 when a baseline exists and matches its recorded digest.\n"
               "# TYPE virtgov_integrity_baseline_intact gauge\nvirtgov_integrity_baseline_intact %d\n", b == 0);
        size_t p[4] = { 0 };
        if ((r = store_processes(s, process_status, p, err)) < 0)
                return r;
        printf("# HELP virtgov_integrity_processes Running QEMU and libvirt processes by status at the last check.\n"
               "# TYPE virtgov_integrity_processes gauge\n");
        static const char *const st[] = { "current", "unknown", "stale", "tampered" };
        for (size_t i = 0; i < ELEMENTSOF(st); i++)
                printf("virtgov_integrity_processes{status=\"%s\"} %zu\n", st[i], p[i]);
        return 0;
}

typedef struct Metrics {
        Cli *cli;
        Store *store;
        bool verify;
} Metrics;

/* Every family, in one order: the facts a dashboard joins on first. */
static int write_metrics(void *u) {
        Metrics *m = u;
        VgError err = { "" };
        int r;
        if ((r = metrics_host(m->cli->config, m->store, &err)) < 0 ||
            (r = metrics_daemon(m->cli->config, m->store, &err)) < 0 ||
            (r = metrics_domains(m->store, &err)) < 0 ||
            (r = metrics_events(m->store, &err)) < 0 ||
            (r = metrics_chain(m->store, m->verify, &err)) < 0 ||
            (r = metrics_central(m->cli->config, m->store, &err)) < 0 ||
            (r = integrity_metrics(m->store, &err)) < 0)
                return cli_error("%s", err.text);
        metrics_assessment(m->store);
        size_t waiting = 0;
        spool_count(m->cli->config->spool_dir, &waiting);
        printf("# HELP virtgov_spool_pending Events the hook spooled, not yet in the inventory.\n"
               "# TYPE virtgov_spool_pending gauge\nvirtgov_spool_pending %zu\n", waiting);
        return EXIT_OK;
}

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_OUT = 256, OPT_VERIFY, OPT_JSON, OPT_HELP };
        static const struct option opts[] = {
                { "out", required_argument, NULL, OPT_OUT },
                { "verify", no_argument, NULL, OPT_VERIFY },
                { "json", no_argument, NULL, OPT_JSON },   /* refused below, with the reason */
                { "help", no_argument, NULL, OPT_HELP },
                { 0 },
        };
        const char *out = "-";
        Metrics m = { .cli = cli };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_OUT: out = optarg; break;
                case OPT_VERIFY: m.verify = true; break;
                case OPT_JSON: cli->json = true; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_metrics);
                default: return cli_usage_error(&cmd_metrics, "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(&cmd_metrics, "unexpected argument '%s'", argv[optind]);
        if (!*out)
                return cli_usage_error(&cmd_metrics, "--out needs a file name ('-': standard output)");
        if (cli->json)
                return cli_usage_error(&cmd_metrics, "metrics has no JSON form: it prints Prometheus text (the "
                                       "inventory as JSON: 'virtgov --json list', 'virtgov --json report ...')");
        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        m.store = s;
        /* node_exporter reads the file as another user: 0644. A failed run
         * leaves the last good file, never half a new one. */
        return !strcmp(out, "-") ? write_metrics(&m) : cli_to_file_whole(out, 0644, write_metrics, &m);
}

const Command cmd_metrics = {
        .name = "metrics",
        .usage = "metrics [--out FILE] [--verify]",
        .summary = "Print the inventory's facts and counts in Prometheus text format.",
        .help =
        "The Prometheus text exposition format, for node_exporter's textfile collector.\n"
        "Run it from a timer, writing the file atomically with --out (contrib/prometheus/\n"
        "has a systemd service and timer that do), e.g. every minute:\n"
        "  virtgov metrics --verify --out /var/lib/prometheus/node-exporter/virtgov.prom\n"
        "which Debian's prometheus-node-exporter reads by default. The alert rules in\n"
        "contrib/prometheus/virtgov.rules.yml use these metrics.\n"
        "\n"
        "Per host: virtgov_host_info{host,host_id,libvirt_uuid,libvirt_version,\n"
        "qemu_version,kernel} 1 (host_id: the machine-id, this machine's from the\n"
        "machine_id_file key, another's as host.identity recorded it; libvirt's host UUID\n"
        "and the versions as the daemon recorded them, empty when it did not),\n"
        "virtgov_daemon_up (virtgov-inventoryd holds the inventory's lock),\n"
        "virtgov_daemon_degraded (a daemon.degraded since the daemon last started),\n"
        "virtgov_chain_head_seq (the newest event's id), virtgov_chain_verify_ok (with\n"
        "--verify),\n"
        "virtgov_policy_decisions_total{op,decision} (the gated ops: start, migrate,\n"
        "restore), virtgov_audit_lost_total, virtgov_events_total{kind,decision},\n"
        "virtgov_last_event_timestamp_seconds, virtgov_spool_pending,\n"
        "virtgov_integrity_findings{class}, virtgov_integrity_baseline_intact,\n"
        "virtgov_integrity_processes{status}, virtgov_assess_failed_checks{severity},\n"
        "virtgov_assess_last_run_timestamp_seconds; virtgov_domains{state}.\n"
        "With a [central] section: virtgov_central_pending_events (recorded here, not\n"
        "yet committed in the central inventory) and virtgov_central_lag_seconds (the\n"
        "oldest of them's age; 0 when none waits).\n"
        "Per domain (not undefined):\n"
        "virtgov_domain_info{uuid,name,host,owner,ticket,state} 1 and\n"
        "virtgov_domain_running{uuid,name}.\n"
        "\n"
        "Label values escape backslash, double quote and line feed, as the format asks;\n"
        "a byte that is not UTF-8, a control character or a bidi control becomes U+FFFD,\n"
        "for one bad byte makes node_exporter drop the whole file.\n"
        "\n"
        "Options:\n"
        "  --out FILE   write to FILE, replaced atomically (a temporary file, fsync,\n"
        "               rename) and mode 0644, only when every metric was read: a\n"
        "               failed run leaves the file as it was. '-': standard output\n"
        "               (the default)\n"
        "  --verify     also recompute the whole hash chain, as 'virtgov verify' does,\n"
        "               for virtgov_chain_verify_ok (its time grows with the events)\n"
        "\n"
        "The one query without --json: its output is the Prometheus format.\n"
        "\n"
        "Exit status: 0, or 1 when the inventory could not be read (nothing written).\n",
        .run = run,
};
