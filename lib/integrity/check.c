/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The check: the profiles walked and measured, compared with the
 * baseline, the drift classified against dpkg, package updates folded in
 * (accepted as integrity/accept.c does), the findings recorded
 * (integrity/priv.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"
#include "virtgov/host/dpkg.h"

static json_t *attr_value(const FscanFile *f, unsigned attr) {
        char buf[64];
        switch (attr) {
        case FSCAN_TYPE: snprintf(buf, sizeof(buf), "%c", f->type); return json_string(buf);
        case FSCAN_MODE: snprintf(buf, sizeof(buf), "%04o", f->mode); return json_string(buf);
        case FSCAN_UID: return json_integer(f->uid);
        case FSCAN_GID: return json_integer(f->gid);
        case FSCAN_SIZE: return json_integer((json_int_t) f->size);
        case FSCAN_INODE:
                snprintf(buf, sizeof(buf), "%llu:%llu", (unsigned long long) f->dev, (unsigned long long) f->ino);
                return json_string(buf);
        case FSCAN_MTIME: case FSCAN_CTIME: {
                char t[VG_TIME_MAX];
                vg_time_format((attr == FSCAN_MTIME ? f->mtime_ns : f->ctime_ns) / 1000, t);
                return json_string(t);
        }
        case FSCAN_TARGET: return event_json_string(f->target);
        case FSCAN_XATTRS: return event_json_string(f->xattrs);
        default: return f->sha256[0] ? json_string(f->sha256) : json_null();
        }
}

/* Each changed attribute's old and new value, as JSON text. */
static char *drift_detail(const Drift *d) {
        json_t *o = json_object();
        for (unsigned a = 1; a <= FSCAN_SHA256; a <<= 1)
                if (d->changed & a)
                        json_object_set_new(o, fscan_attr_name(a), json_pack("{s:o, s:o}", "was",
                                            attr_value(d->was, a), "now", attr_value(d->now, a)));
        if (d->now && d->now->error)
                json_object_set_new(o, "error", json_string(strerror(-d->now->error)));
        char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        return text;
}

static int finding_from(const Drift *d, IntegrityFinding *f) {
        const FscanFile *x = d->now ? d->now : d->was;
        *f = (IntegrityFinding) { .kind = d->kind, .cls = DRIFT_UNEXPLAINED, .changed = d->changed };
        f->path = strdup(x->path);
        f->profile = x->tag ? strdup(x->tag) : NULL;
        f->detail = drift_detail(d);
        return f->path && f->detail && (f->profile || !x->tag) ? 0 : -ENOMEM;
}

typedef struct Seen {
        IntegrityResult *res;
} Seen;

/* A finding the check before had too (same path, kind and class) is not
 * new: its event was recorded then. */
static int mark_old(const IntegrityFinding *old, void *u) {
        IntegrityResult *res = ((Seen *) u)->res;
        for (size_t i = 0; i < res->n; i++) {
                IntegrityFinding *f = &res->findings[i];
                if (!strcmp(f->path, old->path) && f->kind == old->kind && f->cls == old->cls) {
                        f->is_new = false;
                        f->first_seen_us = old->first_seen_us;
                }
        }
        return 0;
}

static int finding_event(Store *s, const IntegrityRequest *req, const IntegrityFinding *f, VgError *err) {
        char kind[64];
        snprintf(kind, sizeof(kind), "integrity.%s", drift_kind_name(f->kind));
        _cleanup_(event_freep) Event *e = event_new(req->source ? req->source : "cli", kind);
        if (!e)
                return vg_error(err, -ENOMEM, "out of memory");
        event_set(&e->actor, req->actor);
        json_t *changed = json_array();
        for (unsigned a = 1; a <= FSCAN_SHA256; a <<= 1)
                if (f->changed & a)
                        json_array_append_new(changed, json_string(fscan_attr_name(a)));
        char reason[600];
        snprintf(reason, sizeof(reason), "%s: %s%s", drift_class_name(f->cls), drift_kind_name(f->kind),
                 f->kind == DRIFT_CHANGED ? " (see data.changed)" : "");
        event_set(&e->reason, reason);
        event_json_set_name(e->data, "path", f->path);
        event_json_set_name(e->data, "profile", f->profile);
        json_object_set_new(e->data, "class", json_string(drift_class_name(f->cls)));
        json_object_set_new(e->data, "changed", changed);
        json_object_set_new(e->data, "detail", json_loads(f->detail, 0, NULL) ?: json_null());
        if (f->package)
                json_object_set_new(e->data, "package", json_pack("{s:s, s:s?, s:s?}", "name", f->package,
                                                                  "old_version", f->old_version, "new_version",
                                                                  f->new_version));
        int r = store_append_event(s, e, NULL, err);
        return r < 0 ? r : 0;
}

/* One finding against dpkg's database and log (dpkg.h's rules). */
static int classify_one(Dpkg *d, const FscanList *base, int64_t base_time, IntegrityFinding *f, VgError *err) {
        DpkgFile df;
        int r = dpkg_owner(d, f->path, &df, err);
        if (r < 0 || !df.package)
                return r;
        DpkgChange ch;
        r = dpkg_last_change(d, df.package, &ch, err);
        if (r < 0 && r != -ENOENT)
                return r;
        char md5[33];
        bool have = f->kind != DRIFT_REMOVED && dpkg_md5_file(f->path, md5, NULL) == 0;
        const FscanFile *was = fscan_find(base, f->path);
        DpkgFacts facts = { .path = f->path, .baseline_time_us = was && was->time_us ? was->time_us : base_time,
                            .current_md5 = have ? md5 : NULL, .file = &df, .change = r == 0 ? &ch : NULL };
        DpkgClassification c;
        dpkg_classify(&facts, &c);
        f->cls = c.verdict == DPKG_VERDICT_PACKAGE_UPDATE ? DRIFT_PACKAGE_UPDATE
               : c.verdict == DPKG_VERDICT_CONFFILE_EDIT ? DRIFT_CONFFILE_EDIT : DRIFT_UNEXPLAINED;
        if (f->cls == DRIFT_UNEXPLAINED)
                return 0;
        f->package = vg_strdup0(c.package);
        f->old_version = vg_strdup0(c.old_version);
        f->new_version = vg_strdup0(c.new_version);
        return (c.package && !f->package) || (c.old_version && !f->old_version) ||
               (c.new_version && !f->new_version) ? vg_error(err, -ENOMEM, "out of memory") : 0;
}

/* Each finding classified. dpkg's index is built for this check, only
 * when there is drift, of the drifted paths only, and dropped after it:
 * the daemon holds none between checks. A host without dpkg's database
 * leaves every finding unexplained. */
static int classify(const Config *c, const FscanList *base, int64_t base_time, IntegrityResult *res, VgError *err) {
        if (!res->n)
                return 0;
        _cleanup_(dpkg_freep) Dpkg *d = NULL;
        VgError derr = { "" };
        int r = dpkg_open(c->dpkg_admindir, c->dpkg_log, &d, &derr);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return vg_error(err, r, "classifying drift against dpkg: %s", derr.text);
        /* Only the drifted paths indexed: kilobytes, not 18 MiB. */
        _cleanup_free_ const char **paths = calloc(res->n, sizeof(char *));
        if (!paths)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < res->n; i++)
                paths[i] = res->findings[i].path;
        if (dpkg_restrict(d, paths, res->n) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < res->n; i++)
                r = classify_one(d, base, base_time, &res->findings[i], err);
        return r;
}

/* The drift that dpkg explains folded into the baseline, with one
 * integrity.package-update event saying which files and packages. */
static int fold_packages(Store *s, const IntegrityRequest *req, const Profiles *p, const FscanList *base,
                         IntegrityResult *res, VgError *err) {
        json_t *files = json_array();
        _cleanup_free_ const char **touched = calloc(res->n + 1, sizeof(char *));
        int r = touched ? 0 : vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < res->n; i++) {
                IntegrityFinding *f = &res->findings[i];
                if (f->cls != DRIFT_PACKAGE_UPDATE)
                        continue;
                integrity_touch(touched, f);
                r = integrity_accept_one(s, p, base, f, err);
                json_t *file = json_pack("{s:s?, s:s?, s:s?}", "package", f->package, "old_version",
                                         f->old_version, "new_version", f->new_version);
                event_json_set_name(file, "path", f->path);
                json_array_append_new(files, file);
                res->n_accepted++;
        }
        if (r == 0 && res->n_accepted) {
                json_t *paths = json_array(), *x;
                size_t i;
                json_array_foreach(files, i, x)
                        json_array_append(paths, json_object_get(x, "path"));
                r = integrity_baseline_event(s, "integrity.package-update", req, touched,
                                             json_pack("{s:o, s:O}", "paths", paths, "updates", files), res->digest,
                                             err);
        }
        json_decref(files);
        return r;
}

/* Records what the check found, in one transaction. */
static int check_record(Store *s, const Config *c, const IntegrityRequest *req, const Profiles *p,
                        const FscanList *base, IntegrityResult *res, const FscanList *scan, VgError *err) {
        int64_t now = vg_now_us();
        bool fold = c->integrity_accept_packages;
        int r = store_begin(s, err);
        if (r < 0)
                return r;
        /* Which findings the check before had, read under the write lock:
         * a check of the CLI's and one of the daemon's at once must not
         * both record the same finding as new. */
        Seen seen = { res };
        r = store_findings(s, mark_old, &seen, err);
        if (r == 0 && fold)
                r = fold_packages(s, req, p, base, res, err);
        /* What was folded in is no finding; the rest stays open, an event
         * for each that the check before did not have. */
        _cleanup_free_ IntegrityFinding *open = calloc(res->n ? res->n : 1, sizeof(*open));
        size_t n_open = 0;
        if (!open && r == 0)
                r = vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < res->n; i++) {
                if (fold && res->findings[i].cls == DRIFT_PACKAGE_UPDATE)
                        continue;
                open[n_open++] = res->findings[i];
                if (res->findings[i].is_new)
                        r = finding_event(s, req, &res->findings[i], err);
        }
        if (r == 0)
                r = store_findings_replace(s, (const char *const *) p->names, open, n_open, now, err);
        if (r == 0) {
                size_t open_count = 0;
                for (size_t i = 0; i < n_open; i++)
                        open_count += open[i].cls != DRIFT_PACKAGE_UPDATE;
                char t[VG_TIME_MAX];
                vg_time_format(now, t);
                json_t *j = json_pack("{s:s, s:o, s:b, s:I, s:I, s:I, s:I}", "time", t, "profiles",
                                      integrity_names_json(p->names), "full", req->full, "files", (json_int_t) scan->n,
                                      "hashed", (json_int_t) scan->n_hashed, "findings", (json_int_t) res->n,
                                      "open", (json_int_t) open_count);
                _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
                json_decref(j);
                r = text ? store_meta_set(s, "integrity.last_check", text, err) : -ENOMEM;
        }
        if (r == 0)
                r = store_commit(s, err);
        if (r < 0)
                store_rollback(s);
        return r;
}

/* The walk of a check, on a thread of its own while the baseline is read
 * and digested: the walk waits on the kernel (an lstat per file), the
 * baseline on SQLite and SHA-256, and each took about half of a
 * 10,000-file check. A full check needs nothing of the baseline to read
 * every file, so that thread goes on to hash them. */
typedef struct WalkJob {
        const Profiles *p;
        bool full;
        FscanList *l;
        VgError err;
        int r;
} WalkJob;

static void *walk_job(void *u) {
        WalkJob *j = u;
        j->r = integrity_walk(j->p->v, j->p->n, &j->l, &j->err);
        if (j->r == 0 && j->full)
                j->r = integrity_measure(j->l, NULL, true, 0, &j->err);
        return NULL;
}

/* What the reading half of a check hands to the recording half: the
 * profiles, the baseline as read, the scan, the findings classified. */
struct IntegrityMeasured {
        IntegrityRequest req;     /* the caller's, its pointers borrowed */
        Profiles p;
        Baseline base;
        FscanList *scan;
        IntegrityResult res;
};

IntegrityMeasured *integrity_measured_free(IntegrityMeasured *m) {
        if (!m)
                return NULL;
        integrity_result_clear(&m->res);
        fscan_list_free(m->scan);
        integrity_baseline_clear(&m->base);
        integrity_profiles_clear(&m->p);
        free(m);
        return NULL;
}

/* Every step that reads files, and the inventory only to read (the
 * baseline, its digests, the domains): the daemon runs it on a thread
 * with a connection of its own, off its event loop. */
static int measure(Store *s, const Config *c, IntegrityMeasured *m, VgError *err) {
        const FscanList *view = &m->base.view;
        IntegrityResult *res = &m->res;
        Drift *drift = NULL;
        size_t n = 0;
        int r = integrity_profiles_of(s, c, &m->req, &m->p, err);
        WalkJob job = { .p = &m->p, .full = m->req.full };
        pthread_t walker;
        bool threaded = r == 0 && pthread_create(&walker, NULL, walk_job, &job) == 0;
        if (r == 0 && !threaded)
                walk_job(&job);
        if (r == 0)
                r = integrity_baseline_load(s, &m->p, &m->base, res->digest, err);
        if (threaded)
                pthread_join(walker, NULL);
        m->scan = job.l;
        if (r == 0 && job.r < 0)
                r = vg_error(err, job.r, "%s", job.err.text);
        if (r == 0 && !m->req.full)
                r = integrity_measure(m->scan, view, false, 0, err);
        if (r == 0 && integrity_compare(view, m->scan, &drift, &n) < 0)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r == 0 && n && !(res->findings = calloc(n, sizeof(*res->findings))))
                r = vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++) {
                res->n++;
                if (finding_from(&drift[i], &res->findings[i]) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
                res->findings[i].is_new = true;
        }
        free(drift);
        /* Classified before they are compared with the last check's
         * (check_record): a finding is the same one when its class is the
         * same too. */
        int64_t base_time = 0;
        if (r == 0)
                r = integrity_baseline_time(s, &base_time, err);
        if (r == 0)
                r = classify(c, view, base_time, res, err);
        return r;
}

int integrity_check_measure(Store *s, const Config *c, const IntegrityRequest *req, IntegrityMeasured **ret,
                            VgError *err) {
        IntegrityMeasured *m = calloc(1, sizeof(*m));
        if (!m)
                return vg_error(err, -ENOMEM, "out of memory");
        m->req = *req;
        int r = measure(s, c, m, err);
        if (r < 0) {
                integrity_measured_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

int integrity_check_record(Store *s, const Config *c, IntegrityMeasured *m, IntegrityResult *res, VgError *err) {
        *res = (IntegrityResult) { 0 };
        int r = check_record(s, c, &m->req, &m->p, &m->base.view, &m->res, m->scan, err);
        if (r < 0)
                return r;
        m->res.n_files = m->scan->n;
        m->res.n_hashed = m->scan->n_hashed;
        m->res.unread = TAKE_PTR(m->p.unread);
        *res = m->res;
        m->res = (IntegrityResult) { 0 };
        return 0;
}

int integrity_check(Store *s, const Config *c, const IntegrityRequest *req, IntegrityResult *res, VgError *err) {
        _cleanup_(integrity_measured_freep) IntegrityMeasured *m = NULL;
        *res = (IntegrityResult) { 0 };
        int r = integrity_check_measure(s, c, req, &m, err);
        return r < 0 ? r : integrity_check_record(s, c, m, res, err);
}
