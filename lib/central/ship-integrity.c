/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipper's integrity state (ship-priv.h): what this host knows of its
 * own files, processes, hardening and tickets, for the fleet's outlier
 * checks (findings-integrity.c). Called by ship-state.c inside the state's
 * transaction; calls only ship-params.c. Rows are read from the inventory
 * as they stream and sent by the page (Rows), never gathered, except the
 * baseline: dpkg is asked about exactly its paths (dpkg_restrict), which
 * keeps dpkg's index to kilobytes instead of the system's 18 MiB, and the
 * baseline is what every integrity check holds anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ship-priv.h"
#include "virtgov/host/dpkg.h"
#include "virtgov/util/cleanup.h"

/* Where `virtgov assess` and the daemon keep each check's last status
 * (assess.h: assess_state_text). */
#define ASSESS_STATE_KEY "assess.state"

/* ---- the digest ---- */

static int digest_finding(const IntegrityFinding *f, void *u) {
        const char *v[] = { f->path, f->profile, drift_kind_name(f->kind), drift_class_name(f->cls), f->package,
                            f->old_version, f->new_version };
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                ship_digest_add(u, v[i]);
        return 0;
}

static int digest_process(const ProcessRecord *p, void *u) {
        char pid[24];
        snprintf(pid, sizeof(pid), "%lld", (long long) p->pid);
        const char *v[] = { pid, p->role, p->domain, p->exe, p->status, p->why };
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                ship_digest_add(u, v[i]);
        return 0;
}

static int digest_ticket(const Ticket *t, void *u) {
        char w[48];
        snprintf(w, sizeof(w), "%lld %lld", (long long) t->from_us, (long long) t->until_us);
        const char *v[] = { t->id, t->domain_glob, t->action, w };
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                ship_digest_add(u, v[i]);
        return 0;
}

/* meta assess.state's text; NULL (and 0) when never assessed. */
static int assess_state(Store *s, char **ret, VgError *err) {
        int k = store_meta_get(s, ASSESS_STATE_KEY, ret, err);
        if (k == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return k < 0 ? k : 0;
}

int ship_integrity_digest(Store *s, uint64_t *ret, VgError *err) {
        uint64_t h = SHIP_DIGEST_SEED;
        _cleanup_(fscan_list_freep) FscanList *l = NULL;
        _cleanup_free_ char *assess = NULL;
        int k = store_baseline_load(s, &l, err);
        if (k < 0)
                return k;
        for (size_t i = 0; i < l->n; i++) {
                ship_digest_add(&h, l->files[i].path);
                ship_digest_add(&h, l->files[i].tag);
                ship_digest_add(&h, l->files[i].sha256);
        }
        ship_digest_add(&h, "findings");
        if ((k = store_findings(s, digest_finding, &h, err)) < 0)
                return k;
        ship_digest_add(&h, "processes");
        if ((k = store_processes(s, digest_process, &h, err)) < 0)
                return k;
        ship_digest_add(&h, "tickets");
        if ((k = store_tickets(s, NULL, NULL, digest_ticket, &h, err)) < 0)
                return k;
        if ((k = assess_state(s, &assess, err)) < 0)
                return k;
        ship_digest_add(&h, assess);
        *ret = h | 1;   /* never 0, which asks for the state */
        return 0;
}

/* ---- the rows ---- */

static const char *const baseline_expr[] = { "@::text", "@::text", "@::text", "@::text", "@::text" };
static const char *const finding_expr[] = { "@::text", "@::text", "@::text", "@::text", "@::text", "@::text",
                                            "@::text", "@::text" };
static const char *const process_expr[] = { "@::bigint", "@::text", "@::text", "@::text", "@::text", "@::text" };
static const char *const assess_expr[] = { "@::text", "@::text" };
static const char *const ticket_expr[] = { "@::text", "@::text", "@::text", "@::text", "@::text" };

/* The baseline, each path with dpkg's owner and its version. dpkg not
 * readable (no dpkg on this host, a broken status file): the rows go
 * without package, and the fleet compares them by path alone. */
static int send_baseline(Central *c, Store *s, const ShipRound *r, VgError *err) {
        _cleanup_(fscan_list_freep) FscanList *l = NULL;
        _cleanup_(dpkg_freep) Dpkg *d = NULL;
        _cleanup_free_ const char **paths = NULL;
        int k = store_baseline_load(s, &l, err);
        if (k < 0)
                return k;
        if (!l->n)
                return 0;
        VgError derr = { "" };
        if (dpkg_open(r->dpkg_admindir, r->dpkg_log, &d, &derr) >= 0) {
                if (!(paths = calloc(l->n, sizeof(*paths))))
                        return vg_error(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < l->n; i++)
                        paths[i] = l->files[i].path;
                if (dpkg_restrict(d, paths, l->n) < 0)
                        return vg_error(err, -ENOMEM, "out of memory");
        }
        Rows w;
        k = ship_rows_init(&w, c, r, "INSERT INTO virtgov.baseline (host_id, path, profile, package, version, "
                           "sha256) VALUES ", baseline_expr, ELEMENTSOF(baseline_expr), "shipping the baseline",
                           err);
        for (size_t i = 0; k >= 0 && i < l->n; i++) {
                const FscanFile *f = &l->files[i];
                DpkgFile df = { 0 };
                if (d && (k = dpkg_owner(d, f->path, &df, err)) < 0)
                        break;
                ShipParams *p = &w.p;
                k = ship_rows_end(&w, ship_param(p, f->path) | ship_param(p, f->tag ? f->tag : "") |
                                              ship_param(p, df.package) | ship_param(p, df.package ? df.version : NULL) |
                                              ship_param(p, f->sha256));
        }
        if (k >= 0)
                k = ship_rows_flush(&w);
        ship_params_clear(&w.p);
        return k;
}

static int send_finding(const IntegrityFinding *f, void *u) {
        Rows *w = u;
        ShipParams *p = &w->p;
        char first[VG_TIME_MAX] = "";
        if (f->first_seen_us)
                vg_time_format(f->first_seen_us, first);
        return ship_rows_end(w, ship_param(p, f->path) | ship_param(p, f->profile ? f->profile : "") |
                                        ship_param(p, drift_class_name(f->cls)) | ship_param(p, drift_kind_name(f->kind)) |
                                        ship_param(p, f->package) | ship_param(p, f->old_version) |
                                        ship_param(p, f->new_version) | ship_param(p, first[0] ? first : NULL));
}

static int send_process(const ProcessRecord *r, void *u) {
        Rows *w = u;
        ShipParams *p = &w->p;
        return ship_rows_end(w, ship_paramf(p, "%lld", (long long) r->pid) | ship_param(p, r->role) |
                                        ship_param(p, r->domain) | ship_param(p, r->exe) | ship_param(p, r->status) |
                                        ship_param(p, r->why));
}

static int send_ticket(const Ticket *t, void *u) {
        Rows *w = u;
        ShipParams *p = &w->p;
        char from[VG_TIME_MAX] = "", until[VG_TIME_MAX] = "";
        /* as the store reads them: a from that is not a time is never */
        if (t->from_us != INT64_MAX)
                vg_time_format(t->from_us, from);
        if (t->until_us)
                vg_time_format(t->until_us, until);
        return ship_rows_end(w, ship_param(p, t->id) | ship_param(p, t->domain_glob ? t->domain_glob : "") |
                                        ship_param(p, t->action) | ship_param(p, from[0] ? from : NULL) |
                                        ship_param(p, until[0] ? until : NULL));
}

/* assess.state's {check: status} object, a row each. Not an object (an
 * older or damaged state): an error, so that the centre keeps the rows it
 * had rather than an empty assessment. */
static int send_assessment(Central *c, Store *s, const ShipRound *r, VgError *err) {
        _cleanup_free_ char *text = NULL;
        int k = assess_state(s, &text, err);
        if (k < 0 || !text)
                return k;
        json_error_t je;
        json_t *o = json_loads(text, 0, &je);
        if (!json_is_object(o)) {
                k = vg_error(err, -EINVAL, "inventory meta %s is not a JSON object (%s)", ASSESS_STATE_KEY,
                             o ? "another type" : je.text);
                json_decref(o);
                return k;
        }
        Rows w;
        k = ship_rows_init(&w, c, r, "INSERT INTO virtgov.assessment (host_id, check_id, result) VALUES ",
                           assess_expr, ELEMENTSOF(assess_expr), "shipping the assessment", err);
        const char *id;
        json_t *v;
        json_object_foreach(o, id, v) {
                if (k < 0)
                        break;
                if (json_is_string(v))
                        k = ship_rows_end(&w, ship_param(&w.p, id) | ship_param(&w.p, json_string_value(v)));
        }
        if (k >= 0)
                k = ship_rows_flush(&w);
        ship_params_clear(&w.p);
        json_decref(o);
        return k;
}

/* Each streamed table: its INSERT's head and columns, and the store's
 * reader that feeds it. */
typedef int (*Feed)(Store *s, Rows *w, VgError *err);

static int feed_findings(Store *s, Rows *w, VgError *err) {
        return store_findings(s, send_finding, w, err);
}
static int feed_processes(Store *s, Rows *w, VgError *err) {
        return store_processes(s, send_process, w, err);
}
static int feed_tickets(Store *s, Rows *w, VgError *err) {
        return store_tickets(s, NULL, NULL, send_ticket, w, err);
}

static const struct {
        const char *head, *what;
        const char *const *expr;
        unsigned ncols;
        Feed feed;
} streamed[] = {
        { "INSERT INTO virtgov.integrity_findings (host_id, path, profile, class, kind, package, old_version, "
          "new_version, first_seen) VALUES ", "shipping the integrity findings", finding_expr,
          ELEMENTSOF(finding_expr), feed_findings },
        { "INSERT INTO virtgov.processes (host_id, pid, role, domain, exe, status, why) VALUES ",
          "shipping the processes", process_expr, ELEMENTSOF(process_expr), feed_processes },
        { "INSERT INTO virtgov.tickets (host_id, id, domain_glob, action, valid_from, valid_until) VALUES ",
          "shipping the tickets", ticket_expr, ELEMENTSOF(ticket_expr), feed_tickets },
};

int ship_integrity(Central *c, Store *s, const ShipRound *r, VgError *err) {
        const char *const tables[] = { "baseline", "integrity_findings", "processes", "assessment", "tickets" };
        int k = ship_clear(c, r->host_id, tables, ELEMENTSOF(tables), err);
        if (k < 0)
                return k;
        k = send_baseline(c, s, r, err);
        for (size_t i = 0; k >= 0 && i < ELEMENTSOF(streamed); i++) {
                Rows w;
                if ((k = ship_rows_init(&w, c, r, streamed[i].head, streamed[i].expr, streamed[i].ncols,
                                        streamed[i].what, err)) >= 0 &&
                    (k = streamed[i].feed(s, &w, err)) >= 0)
                        k = ship_rows_flush(&w);
                ship_params_clear(&w.p);
        }
        return k < 0 ? k : send_assessment(c, s, r, err);
}
