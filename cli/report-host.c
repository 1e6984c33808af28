/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report software and report capacity: the host itself. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/util/cleanup.h"

/* ---- software ---- */

static const char *const software_columns[] = { "host", "time", "libvirt", "hypervisor", "kernel", NULL };

static int software_event(const Event *e, void *u) {
        Report *r = u;
        json_t *v = json_object_get(e->data, "versions"), *was = json_object_get(e->data, "previous");
#define V(k) json_string_value(json_object_get(v, k))
        const char *const *row = REPORT_COLS(e->host, e->time, V("libvirt"), V("hypervisor"), V("kernel"));
#undef V
        if (!was) {
                report_add(r, "software", false, row, NULL, "first recorded");
                return 0;
        }
        char why[512] = "";
        static const char *const keys[] = { "libvirt", "hypervisor", "kernel" };
        for (size_t i = 0; i < 3; i++) {
                const char *a = json_string_value(json_object_get(was, keys[i]));
                const char *b = json_string_value(json_object_get(v, keys[i]));
                if ((a || b) && (!a || !b || strcmp(a, b)))
                        snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s %s -> %s", *why ? ", " : "",
                                 keys[i], a ? a : "?", b ? b : "?");
        }
        report_add(r, "software", false, row, NULL, "%s", *why ? why : "changed");
        return 0;
}

static int software_run(Report *r) {
        /* The whole history: an update applied long ago still matters. */
        EventFilter f = { .kind_prefix = "host.software" };
        VgError err = { "" };
        return store_query_events(r->store, &f, software_event, r, &err) < 0 ? cli_error("%s", err.text) : 0;
}

const ReportDef report_software = {
        .name = "software", .summary = "libvirt, hypervisor and kernel versions over time",
        .columns = software_columns, .run = software_run,
};

/* ---- capacity ---- */

/* Sixteen, REPORT_MAX_COLUMNS: the host's rows use the first seven, a
 * pool's (report-capacity.c) name and state to days_until_full, a
 * bridge's name, state and uplinks. */
static const char *const capacity_columns[] = { "name", "domains", "cpus", "vcpus", "memory_mib", "cpu_ratio",
                                                "memory_ratio", "state", "capacity_mib", "allocation_mib",
                                                "available_mib", "used_pct", "volumes_capacity_mib",
                                                "overcommit_ratio", "days_until_full", "uplinks", NULL };

static void host_size(Report *r, long long *cpus, long long *mem_kib, const char **how) {
        virNodeInfo ni;
        if (r->conn && virNodeGetInfo(r->conn, &ni) == 0) {
                *cpus = ni.cpus;
                *mem_kib = (long long) ni.memory;
                *how = "libvirt";
                return;
        }
        /* Without libvirt, this machine's own count (the report runs on the host). */
        *cpus = sysconf(_SC_NPROCESSORS_ONLN);
        *mem_kib = (long long) sysconf(_SC_PHYS_PAGES) * (sysconf(_SC_PAGESIZE) / 1024);
        *how = "this machine";
}

static int capacity_run(Report *r) {
        long long cpus, mem;
        const char *how;
        host_size(r, &cpus, &mem, &how);
        report_add(r, "host", false, REPORT_COLS(r->host), json_pack("{s:I, s:I}", "cpus", cpus, "memory_mib", mem / 1024),
                   "the host's size, as %s reports it", how);
        for (int pass = 0; pass < 2; pass++) {
                DomainTotals s;
                VgError err = { "" };
                if (store_domain_totals(r->store, pass == 0, &s, &err) < 0)
                        return cli_error("%s", err.text);
                double cr = cpus ? (double) s.vcpus / (double) cpus : 0;
                double mr = mem ? (double) s.memory_kib / (double) mem : 0;
                const char *what = pass == 0 ? "running" : "defined";
                /* Overcommitted memory of running guests is a risk now;
                 * of all defined ones, a risk when they all start. */
                report_add(r, what, pass == 0 && mr > 1.0, REPORT_COLS(what), json_pack("{s:I, s:I, s:I, s:f, s:f}",
                           "domains", s.n, "vcpus", s.vcpus, "memory_mib", s.memory_kib / 1024, "cpu_ratio", cr,
                           "memory_ratio", mr),
                           "%s", mr > 1.0 ? (pass == 0 ? "memory overcommitted: the host may swap or kill guests now"
                                                       : "memory overcommitted if every defined domain starts")
                                 : cr > 1.0 ? "vCPUs overcommitted on the host's CPUs (time-shared)"
                                 : "within the host's size");
        }
        int k = report_capacity_pools(r);
        return k != EXIT_OK ? k : report_capacity_bridges(r);
}

const ReportDef report_capacity = {
        .name = "capacity", .summary = "host size against running and defined domains, pools and their trend, bridges' uplinks",
        .columns = capacity_columns, .run = capacity_run,
};
