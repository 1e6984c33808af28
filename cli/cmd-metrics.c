/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "metrics": the inventory's counts in Prometheus text format, for
 * node_exporter's textfile collector. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/integrity/run.h"
#include "virtgov/store/spool.h"

static void label(const char *s) {
        /* Prometheus label values escape '\\', '"' and newlines. */
        for (; s && *s; s++) {
                if (*s == '\\' || *s == '"')
                        putchar('\\');
                if (*s == '\n') {
                        fputs("\\n", stdout);
                        continue;
                }
                putchar(*s);
        }
}

static int event_count(const EventCount *c, void *u) {
        int64_t *newest = u;
        fputs("virtgov_events_total{kind=\"", stdout);
        label(c->kind);
        fputs("\",decision=\"", stdout);
        label(c->decision);
        printf("\"} %lld\n", (long long) c->count);
        if (c->newest_us > *newest)
                *newest = c->newest_us;
        return 0;
}

typedef struct States {
        json_t *count;
} States;

static int domain_state(const DomainRow *d, void *u) {
        json_t *c = u;
        json_object_set_new(c, d->state, json_integer(json_integer_value(json_object_get(c, d->state)) + 1));
        return 0;
}

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

static int run(Cli *cli, int argc, char **argv) {
        if (argc > 1)
                return !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ? cli_help(&cmd_metrics)
                                                                            : cli_usage_error(&cmd_metrics, "no arguments");
        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        json_t *states = json_object();
        if (store_list_domains(s, LIST_ALL, domain_state, states, &err) < 0) {
                json_decref(states);
                return cli_error("%s", err.text);
        }
        printf("# HELP virtgov_domains Domains in the inventory by recorded state.\n# TYPE virtgov_domains gauge\n");
        const char *state;
        json_t *v;
        json_object_foreach(states, state, v) {
                fputs("virtgov_domains{state=\"", stdout);
                label(state);
                printf("\"} %lld\n", (long long) json_integer_value(v));
        }
        json_decref(states);
        printf("# HELP virtgov_events_total Events recorded, by kind and decision.\n# TYPE virtgov_events_total counter\n");
        int64_t newest = 0;
        if (store_event_counts(s, event_count, &newest, &err) < 0)
                return cli_error("%s", err.text);
        printf("# HELP virtgov_last_event_timestamp_seconds Time of the newest event.\n"
               "# TYPE virtgov_last_event_timestamp_seconds gauge\nvirtgov_last_event_timestamp_seconds %lld\n",
               (long long) (newest / 1000000));
        if (integrity_metrics(s, &err) < 0)
                return cli_error("%s", err.text);
        metrics_assessment(s);
        size_t waiting = 0;
        spool_count(cli->config->spool_dir, &waiting);
        printf("# HELP virtgov_spool_pending Events the hook spooled, not yet in the inventory.\n"
               "# TYPE virtgov_spool_pending gauge\nvirtgov_spool_pending %zu\n", waiting);
        return EXIT_OK;
}

const Command cmd_metrics = {
        .name = "metrics",
        .usage = "metrics",
        .summary = "Print the inventory's counts in Prometheus text format.",
        .help =
        "For node_exporter's textfile collector, e.g. from cron every minute:\n"
        "  virtgov metrics > /var/lib/node_exporter/virtgov.prom.$$ &&\n"
        "    mv /var/lib/node_exporter/virtgov.prom.$$ /var/lib/node_exporter/virtgov.prom\n"
        "\n"
        "virtgov_domains{state}, virtgov_events_total{kind,decision} (alert on\n"
        "policy.bypass, policy.violation, decision=\"deny\"), virtgov_last_event_timestamp_seconds\n"
        "(alert when recording stops), virtgov_spool_pending (alert when it grows),\n"
        "virtgov_integrity_findings{class} (alert on unexplained and conffile_edit) and\n"
        "virtgov_integrity_baseline_intact (alert on 0: none, or edited),\n"
        "virtgov_integrity_processes{status} (alert on tampered; stale asks for a restart),\n"
        "virtgov_assess_failed_checks{severity} (alert on critical and high) and\n"
        "virtgov_assess_last_run_timestamp_seconds (alert when assessments stop).\n",
        .run = run,
};
