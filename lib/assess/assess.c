/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The assessment's run: the paths, each check called once with the shared
 * context, the exceptions applied to its failures, each check's status (the
 * worst of its results), the digest, the JSON document and the drift
 * against the previous run.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include "priv.h"
#include "vg-paths.h"
#include "virtgov/model/kinds.h"
#include "virtgov/util/util.h"

const char *assess_status_name(AssessStatus s) {
        static const char *const n[] = { "pass", "not-applicable", "excepted", "error", "fail" };
        return s < _ASSESS_STATUS_N ? n[s] : "?";
}

const char *assess_severity_name(AssessSeverity s) {
        static const char *const n[] = { "low", "medium", "high", "critical" };
        return s < _SEV_N ? n[s] : "?";
}

/* Which status of two a check reports: a failure above an error (an error
 * may hide a pass), both above an excepted failure, that above a pass. */
static int rank(AssessStatus s) {
        static const int r[] = { [ASSESS_NA] = 0, [ASSESS_PASS] = 1, [ASSESS_EXCEPTED] = 2, [ASSESS_ERROR] = 3,
                                 [ASSESS_FAIL] = 4 };
        return r[s];
}

/* ---- paths ---- */

static int under(char **field, const char *root, const char *path) {
        if (!path)
                return 0;
        if (asprintf(field, "%s%s", root ? root : "", path) < 0) {
                *field = NULL;
                return -ENOMEM;
        }
        return 0;
}

int assess_paths_init(AssessPaths *p, const Config *c, const char *root) {
        memset(p, 0, sizeof(*p));
        /* With a root (a fixture tree), every path is the default under
         * it; else the configuration's. */
        const Config *k = root ? NULL : c;
        _cleanup_(config_freep) Config *dflt = config_new();
        if (!dflt)
                return -ENOMEM;
        if (!k)
                k = dflt;
        int r = 0;
        if (root && !(p->root = strdup(root)))
                r = -ENOMEM;
        r |= under(&p->libvirt_dir, root, "/etc/libvirt");
        r |= under(&p->run_libvirt, root, "/run/libvirt");
        r |= under(&p->proc_dir, root, k->proc_dir);
        r |= under(&p->sys_dir, root, "/sys");
        r |= under(&p->etc_dir, root, k->etc_dir);
        r |= under(&p->polkit_share, root, "/usr/share/polkit-1/rules.d");
        r |= under(&p->apt_lists, root, "/var/lib/apt/lists");
        r |= under(&p->dpkg_admindir, root, k->dpkg_admindir);
        r |= under(&p->boot_dir, root, k->kernel_boot_dir);
        r |= under(&p->modules_root, root, k->kernel_modules_root);
        r |= under(&p->hooks_dir, root, k->hooks_dir);
        r |= under(&p->inventory, root, k->inventory);
        r |= under(&p->policy, root, k->policy);
        r |= under(&p->config, root, c && c->path && !root ? c->path : VG_DEFAULT_CONFIG);
        r |= under(&p->exceptions, root, k->assess_exceptions);
        /* What is not a path (the running release, the lists of names)
         * is the configuration's even under a root: a fixture names them. */
        const Config *names = c ? c : dflt;
        if (r < 0 || !(p->release = strdup(names->kernel_release)) || !(p->image_dirs = config_split(names->image_dirs)) ||
            !(p->vm_admins = config_split(c ? c->assess_vm_admins : dflt->assess_vm_admins)) ||
            !(p->listen_allow = config_split(c ? c->assess_listen_allow : dflt->assess_listen_allow))) {
                assess_paths_clear(p);
                return -ENOMEM;
        }
        p->apt_max_age_days = 7;
        p->now_us = vg_now_us();
        return 0;
}

void assess_paths_clear(AssessPaths *p) {
        char **s[] = { &p->root, &p->libvirt_dir, &p->run_libvirt, &p->proc_dir, &p->sys_dir, &p->etc_dir, &p->polkit_share,
                       &p->apt_lists, &p->dpkg_admindir, &p->boot_dir, &p->modules_root, &p->release,
                       &p->hooks_dir, &p->inventory, &p->policy, &p->config, &p->exceptions };
        for (size_t i = 0; i < ELEMENTSOF(s); i++) {
                free(*s[i]);
                *s[i] = NULL;
        }
        p->image_dirs = config_strv_free(p->image_dirs);
        p->vm_admins = config_strv_free(p->vm_admins);
        p->listen_allow = config_strv_free(p->listen_allow);
}

/* ---- results ---- */

/* The file a result's where names: "path:line" without ":line". */
static bool where_matches(const char *glob, const char *where) {
        if (!where)
                return false;
        char path[4096];
        snprintf(path, sizeof(path), "%s", where);
        char *colon = strrchr(path, ':');
        if (colon && colon[1] >= '0' && colon[1] <= '9')
                *colon = '\0';
        return fnmatch(glob, path, 0) == 0 || fnmatch(glob, where, 0) == 0;
}

static void apply_exceptions(AssessResult *res, const AssessExceptions *ex) {
        for (size_t i = 0; ex && i < ex->n; i++) {
                const AssessException *e = &ex->v[i];
                if (strcmp(e->id, res->check->id))
                        continue;
                if (e->domain_glob && (!res->domain || fnmatch(e->domain_glob, res->domain, 0)))
                        continue;
                if (e->path_glob && !where_matches(e->path_glob, res->where))
                        continue;
                res->status = ASSESS_EXCEPTED;
                res->ticket = vg_strdup0(e->ticket);
                res->reason = vg_strdup0(e->reason);
                res->expires_us = e->expires_us;
                return;
        }
}

static void digest_str(struct sha256_ctx *h, const char *s) {
        /* Each field ends with a NUL, NULL as 0xff: no two lists of
         * fields hash alike. */
        if (s)
                sha256_update(h, strlen(s) + 1, (const uint8_t *) s);
        else
                sha256_update(h, 1, (const uint8_t *) "\xff");
}

int assess_run(const AssessPaths *p, const char *const *only, const AssessExceptions *ex, AssessRun **ret,
               VgError *err) {
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        for (size_t i = 0; only && only[i]; i++)
                if (!assess_check_find(only[i]))
                        return vg_error(err, -EINVAL, "no check '%s' (see 'virtgov assess --list')", only[i]);
        _cleanup_(assess_run_freep) AssessRun *run = calloc(1, sizeof(*run));
        if (!run || !(run->status = calloc(n, sizeof(*run->status))) || !(run->ran = calloc(n, sizeof(*run->ran))))
                return vg_error(err, -ENOMEM, "out of memory");
        run->time_us = p->now_us ? p->now_us : vg_now_us();
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        AssessCtx x;
        assess_ctx_init(&x, p, run);
        for (size_t i = 0; i < n; i++) {
                const AssessCheck *c = &checks[i];
                bool want = !only;
                for (size_t k = 0; only && only[k]; k++)
                        want |= !strcmp(only[k], c->id);
                if (!want)
                        continue;
                size_t first = run->n;
                c->fn(&x, c);
                if (run->n == first)   /* a check that said nothing has not checked */
                        assess_add(&x, c, ASSESS_ERROR, NULL, NULL, "the check produced no result");
                AssessStatus worst = ASSESS_NA;
                for (size_t k = first; k < run->n; k++) {
                        if (run->results[k].status == ASSESS_FAIL)
                                apply_exceptions(&run->results[k], ex);
                        if (rank(run->results[k].status) > rank(worst))
                                worst = run->results[k].status;
                }
                if (run->n == first)
                        worst = ASSESS_ERROR;
                run->status[i] = worst;
                run->ran[run->n_ran++] = c;
                run->counts[worst]++;
                if (assess_status_bad(worst))
                        run->failed_by_severity[c->severity]++;
        }
        assess_ctx_clear(&x);
        if (x.oom < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        run->took_us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
        struct sha256_ctx h;
        sha256_init(&h);
        for (size_t i = 0; i < run->n; i++) {
                const AssessResult *r = &run->results[i];
                digest_str(&h, r->check->id);
                digest_str(&h, assess_status_name(r->status));
                digest_str(&h, r->found);
                digest_str(&h, r->where);
                digest_str(&h, r->domain);
        }
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_digest(&h, sizeof(d), d);
        vg_hex(d, sizeof(d), run->digest);
        *ret = TAKE_PTR(run);
        return 0;
}

AssessRun *assess_run_free(AssessRun *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                free(r->results[i].found);
                free(r->results[i].where);
                free(r->results[i].domain);
                free(r->results[i].ticket);
                free(r->results[i].reason);
        }
        free(r->results);
        free(r->status);
        free(r->ran);
        free(r);
        return NULL;
}

/* ---- JSON ---- */

static json_t *time_json(int64_t us) {
        char t[VG_TIME_MAX];
        vg_time_format(us, t);
        return json_string(t);
}

static json_t *counts_json(const AssessRun *r) {
        json_t *o = json_object();
        for (int s = 0; s < _ASSESS_STATUS_N; s++)
                json_object_set_new(o, assess_status_name((AssessStatus) s), json_integer((json_int_t) r->counts[s]));
        return o;
}

static json_t *severity_json(const AssessRun *r) {
        json_t *o = json_object();
        for (int s = 0; s < _SEV_N; s++)
                json_object_set_new(o, assess_severity_name((AssessSeverity) s),
                                    json_integer((json_int_t) r->failed_by_severity[s]));
        return o;
}

json_t *assess_run_to_json(const AssessRun *r, const char *host) {
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                const AssessCheck *c = &checks[i];
                bool ran = false;
                for (size_t k = 0; k < r->n_ran; k++)
                        ran |= r->ran[k] == c;
                if (!ran)
                        continue;
                json_t *results = json_array();
                for (size_t k = 0; k < r->n; k++) {
                        const AssessResult *res = &r->results[k];
                        if (res->check != c)
                                continue;
                        json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "status", assess_status_name(res->status),
                                              "found", event_json_string(res->found), "where",
                                              event_json_string(res->where), "domain", event_json_string(res->domain));
                        if (o && res->status == ASSESS_EXCEPTED)
                                json_object_set_new(o, "exception",
                                                    json_pack("{s:o, s:o, s:o}", "ticket",
                                                              event_json_string(res->ticket), "reason",
                                                              event_json_string(res->reason), "expires",
                                                              res->expires_us ? time_json(res->expires_us)
                                                                              : json_null()));
                        json_array_append_new(results, o);
                }
                json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s?, s:s}, s:s, s:s, "
                                                     "s:o}",
                                                     "id", c->id, "area", c->area, "title", c->title, "severity",
                                                     assess_severity_name(c->severity), "status",
                                                     assess_status_name(r->status[i]), "rationale", c->rationale,
                                                     "references", "ism", c->ism, "srg", c->srg, "doc", c->doc,
                                                     "expected", c->expected, "remediation", c->remediation,
                                                     "results", results));
        }
        return json_pack("{s:s?, s:o, s:s, s:I, s:o, s:o, s:o}", "host", host, "time", time_json(r->time_us), "digest",
                         r->digest, "took_ms", (json_int_t) (r->took_us / 1000), "counts", counts_json(r),
                         "failed_by_severity", severity_json(r), "checks", arr);
}

char *assess_state_text(const AssessRun *r, const char *prev) {
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        json_t *o = prev ? json_loads(prev, 0, NULL) : NULL;
        if (!json_is_object(o)) {
                json_decref(o);
                o = json_object();
        }
        for (size_t i = 0; o && i < n; i++)
                for (size_t k = 0; k < r->n_ran; k++)
                        if (r->ran[k] == &checks[i])
                                json_object_set_new(o, checks[i].id, json_string(assess_status_name(r->status[i])));
        char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        return t;
}

/* ---- drift ---- */

static bool name_bad(const char *s) {
        return s && (!strcmp(s, "fail") || !strcmp(s, "error"));
}

/* What a check found now, in a few words for its event: its first
 * failing results' found. */
static json_t *found_now(const AssessRun *r, const AssessCheck *c) {
        json_t *a = json_array();
        for (size_t k = 0; k < r->n && json_array_size(a) < 10; k++) {
                const AssessResult *res = &r->results[k];
                if (res->check == c && (assess_status_bad(res->status) || res->status == ASSESS_EXCEPTED))
                        json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o}", "status",
                                                           assess_status_name(res->status), "found",
                                                           event_json_string(res->found), "where",
                                                           event_json_string(res->where), "domain",
                                                           event_json_string(res->domain)));
        }
        return a;
}

static int emit_check(const AssessRun *r, const AssessCheck *c, AssessStatus now, const char *was, const char *kind,
                      const char *source, AssessEmitFn emit, void *u) {
        Event *e = event_new(source, kind);
        if (!e)
                return -ENOMEM;
        char reason[512];
        snprintf(reason, sizeof(reason), "%s %s: %s (was %s)", c->id, kind + strlen("assess."),
                 assess_status_name(now), was);
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "check", json_string(c->id));
        json_object_set_new(e->data, "title", json_string(c->title));
        json_object_set_new(e->data, "severity", json_string(assess_severity_name(c->severity)));
        json_object_set_new(e->data, "was", json_string(was));
        json_object_set_new(e->data, "now", json_string(assess_status_name(now)));
        json_object_set_new(e->data, "found", found_now(r, c));
        return emit(e, u);
}

int assess_drift(const AssessRun *run, const char *prev, const char *source, AssessEmitFn emit, void *u) {
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        json_t *was = prev ? json_loads(prev, 0, NULL) : NULL;
        Event *e = event_new(source, "assess.run");
        if (!e) {
                json_decref(was);
                return -ENOMEM;
        }
        json_t *failed = json_array();
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < run->n_ran; k++)
                        if (run->ran[k] == &checks[i] && assess_status_bad(run->status[i]))
                                json_array_append_new(failed, json_string(checks[i].id));
        char reason[256];
        snprintf(reason, sizeof(reason), "%zu checks: %zu pass, %zu fail, %zu error, %zu excepted, %zu not applicable",
                 run->n_ran, run->counts[ASSESS_PASS], run->counts[ASSESS_FAIL], run->counts[ASSESS_ERROR],
                 run->counts[ASSESS_EXCEPTED], run->counts[ASSESS_NA]);
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "counts", counts_json(run));
        json_object_set_new(e->data, "failed_by_severity", severity_json(run));
        json_object_set_new(e->data, "digest", json_string(run->digest));
        json_object_set_new(e->data, "checks", json_integer((json_int_t) run->n_ran));
        json_object_set_new(e->data, "failed", failed);
        json_object_set_new(e->data, "took_ms", json_integer((json_int_t) (run->took_us / 1000)));
        int r = emit(e, u);
        for (size_t i = 0; r >= 0 && json_is_object(was) && i < n; i++) {
                bool ran = false;
                for (size_t k = 0; k < run->n_ran; k++)
                        ran |= run->ran[k] == &checks[i];
                if (!ran)
                        continue;
                const char *before = json_string_value(json_object_get(was, checks[i].id));
                bool now_bad = assess_status_bad(run->status[i]);
                /* A check new since the last run that fails is a
                 * regression too: it was not known to hold. */
                if (now_bad && !name_bad(before))
                        r = emit_check(run, &checks[i], run->status[i], before ? before : "unassessed",
                                       "assess.regressed", source, emit, u);
                else if (!now_bad && name_bad(before))
                        r = emit_check(run, &checks[i], run->status[i], before, "assess.fixed", source, emit, u);
        }
        json_decref(was);
        return r;
}
