/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtgov/host/dpkg.h"
#include "virtgov/model/event.h"
#include "virtgov/integrity/proc.h"

static const char *const status_names[] = { "current", "unknown", "stale", "tampered" };

const char *proc_status_name(ProcStatus s) {
        return s <= PROC_TAMPERED ? status_names[s] : "?";
}

static ProcStatus status_of(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(status_names); i++)
                if (vg_streq(name, status_names[i]))
                        return (ProcStatus) i;
        return PROC_UNKNOWN;
}

void proc_result_clear(ProcResult *r) {
        for (size_t i = 0; i < r->n; i++) {
                proc_image_clear(&r->v[i].image);
                free(r->v[i].why);
                json_decref(r->v[i].files);
        }
        free(r->v);
        *r = (ProcResult) { 0 };
}

/* ---- one file's verdict, once per content: twenty QEMUs map the same
 * libraries ---- */

typedef struct Verdict {
        const ProcMapping *m;     /* the first mapping seen with this path and content */
        ProcStatus status;
        bool in_baseline, superseded, ask_dpkg;
        int64_t replaced_us;
        char *why;
        char *package, *old_version, *new_version;
} Verdict;

typedef struct Verdicts {
        Verdict *v;
        size_t n;
} Verdicts;

static void verdicts_clear(Verdicts *vs) {
        for (size_t i = 0; i < vs->n; i++) {
                free(vs->v[i].why);
                free(vs->v[i].package);
                free(vs->v[i].old_version);
                free(vs->v[i].new_version);
        }
        free(vs->v);
}

static Verdict *verdict_of(Verdicts *vs, const ProcMapping *m) {
        for (size_t i = 0; i < vs->n; i++)
                if (!strcmp(vs->v[i].m->path, m->path) && !strcmp(vs->v[i].m->sha256, m->sha256) &&
                    vs->v[i].m->error == m->error)
                        return &vs->v[i];
        return NULL;
}

static int say(Verdict *v, ProcStatus st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(Verdict *v, ProcStatus st, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        free(v->why);
        v->status = st;
        int r = vasprintf(&v->why, fmt, ap);
        va_end(ap);
        if (r < 0)
                v->why = NULL;
        return r < 0 ? -ENOMEM : 0;
}

/* What the inventory alone says: the baseline's row, or what it held
 * before. Sets ask_dpkg for what only the package can answer. */
static int against_baseline(Store *s, Verdict *v, VgError *err) {
        const ProcMapping *m = v->m;
        if (m->error)
                return say(v, PROC_UNKNOWN, "%s cannot be read through the process: %s", m->path,
                           strerror(-m->error));
        _cleanup_(fscan_list_freep) FscanList *rows = NULL;
        int r = store_baseline_of(s, m->path, &rows, err);
        if (r < 0)
                return r;
        v->in_baseline = rows->n > 0;
        for (size_t i = 0; i < rows->n; i++)
                if (!strcmp(rows->files[i].sha256, m->sha256))
                        return 0;
        r = store_superseded_find(s, m->path, m->sha256, &v->replaced_us, err);
        if (r < 0 && r != -ENOENT)
                return r;
        v->superseded = r == 0;
        v->ask_dpkg = true;
        return 0;
}

/* A mapping the baseline never held, whose path now holds the content its
 * package shipped, put there by a transaction of that package around the
 * time the mapped inode was unlinked (its ctime; dpkg logs at unpack,
 * which renames the new file over the old): the process runs the version
 * before, stale. Unverified, and said so: nothing recorded what that
 * version's content was. 1 when it was so (v said), 0 when not. */
static int replaced_by_package(Dpkg *d, const DpkgFile *df, Verdict *v) {
        const ProcMapping *m = v->m;
        DpkgChange ch;
        char md5[33];
        if (v->in_baseline || !m->replaced || !d || dpkg_last_change(d, df->package, &ch, NULL) < 0 ||
            (ch.action != DPKG_ACTION_UPGRADE && ch.action != DPKG_ACTION_INSTALL) ||
            llabs(ch.time_us - m->ctime_ns / 1000) > 600LL * 1000000 || dpkg_md5_file(m->path, md5, NULL) < 0 ||
            strcmp(md5, df->md5))
                return 0;
        v->package = strdup(df->package);
        v->old_version = strdup(ch.old_version);
        v->new_version = strdup(ch.new_version);
        if (!v->package || !v->old_version || !v->new_version)
                return -ENOMEM;
        int r = say(v, PROC_STALE, "%s %s of %s %s (unverified: not in the integrity baseline); %s replaced it: "
                    "restart it", m->exe ? "runs" : "maps", m->path, df->package,
                    ch.old_version[0] ? ch.old_version : "(an earlier version)",
                    ch.new_version[0] ? ch.new_version : "a later version");
        return r < 0 ? r : 1;
}

static int dpkg_verdict(Dpkg *d, const char *proc_dir, const ProcResult *res, Verdict *v, VgError *err) {
        const ProcMapping *m = v->m;
        DpkgFile df = { 0 };
        if (d) {
                int r = dpkg_owner(d, m->path, &df, err);
                if (r < 0)
                        return r;
        }
        char when[VG_TIME_MAX] = "";
        if (v->superseded) {
                vg_time_format(v->replaced_us, when);
                DpkgChange ch;
                if (df.package && dpkg_last_change(d, df.package, &ch, NULL) == 0 &&
                    (ch.action == DPKG_ACTION_UPGRADE || ch.action == DPKG_ACTION_INSTALL)) {
                        v->package = strdup(df.package);
                        v->old_version = strdup(ch.old_version);
                        v->new_version = strdup(ch.new_version);
                        if (!v->package || !v->old_version || !v->new_version)
                                return -ENOMEM;
                        return say(v, PROC_STALE, "%s %s of %s %s; %s has replaced it since: restart it",
                                   m->exe ? "runs" : "maps", m->path, df.package,
                                   ch.old_version[0] ? ch.old_version : "(an earlier version)",
                                   ch.new_version[0] ? ch.new_version : "a later version");
                }
                return say(v, PROC_STALE, "%s %s as the baseline held it until %s, when it was replaced: restart it",
                           m->exe ? "runs" : "maps", m->path, when);
        }
        if (df.package && df.has_md5) {
                char md5[33] = "";
                /* Through any process that maps it: the first may have
                 * ended since. */
                for (size_t i = 0; !md5[0] && i < res->n; i++) {
                        const ProcImage *p = &res->v[i].image;
                        for (size_t k = 0; !md5[0] && k < p->n_maps; k++) {
                                const ProcMapping *o = &p->maps[k];
                                if (o->error || strcmp(o->path, m->path) || strcmp(o->sha256, m->sha256))
                                        continue;
                                int fd = proc_mapping_open(proc_dir, p->target.pid, o);
                                if (fd >= 0 && dpkg_md5_fd(fd, md5) < 0)
                                        md5[0] = '\0';
                                if (fd >= 0)
                                        close(fd);
                        }
                }
                if (md5[0] && !strcmp(md5, df.md5))
                        return v->in_baseline ? say(v, PROC_CURRENT, "matches %s %s, not the baseline", df.package,
                                                    df.version ? df.version : "")
                                              : 0;
                if (!md5[0])
                        return say(v, PROC_UNKNOWN, "%s could not be read again to compare it with %s", m->path,
                                   df.package);
                int k = replaced_by_package(d, &df, v);
                if (k != 0)
                        return k < 0 ? k : 0;
                return say(v, PROC_TAMPERED, "%s %s matches neither the integrity baseline nor %s %s",
                           m->exe ? "its executable" : "the mapped", m->path, df.package, df.version ? df.version : "");
        }
        if (v->in_baseline)
                return say(v, PROC_TAMPERED, "%s %s does not match the integrity baseline%s",
                           m->exe ? "its executable" : "the mapped", m->path,
                           df.package ? ", and its package has no checksum for it" : ", and no package ships it");
        return say(v, PROC_UNKNOWN, "%s is not in the integrity baseline and no package ships it", m->path);
}

/* Every mapping of every process given its verdict. dpkg is asked only
 * about what the baseline does not answer, with only those paths indexed. */
static int classify(Store *s, const Config *c, ProcResult *res, Verdicts *vs, VgError *err) {
        size_t n_ask = 0;
        for (size_t i = 0; i < res->n; i++) {
                ProcImage *p = &res->v[i].image;
                for (size_t k = 0; k < p->n_maps; k++) {
                        if (verdict_of(vs, &p->maps[k]))
                                continue;
                        if (vg_grow((void **) &vs->v, &vs->n, sizeof(*vs->v)) < 0)
                                return vg_error(err, -ENOMEM, "out of memory");
                        Verdict *v = &vs->v[vs->n - 1];
                        *v = (Verdict) { .m = &p->maps[k] };
                        int r = against_baseline(s, v, err);
                        if (r < 0)
                                return r == -ENOMEM ? vg_error(err, r, "out of memory") : r;
                        n_ask += v->ask_dpkg;
                }
        }
        if (!n_ask)
                return 0;
        _cleanup_(dpkg_freep) Dpkg *d = NULL;
        VgError derr = { "" };
        int r = dpkg_open(c->dpkg_admindir, c->dpkg_log, &d, &derr);
        if (r < 0 && r != -ENOENT)
                return vg_error(err, r, "comparing running processes with dpkg: %s", derr.text);
        if (d) {
                _cleanup_free_ const char **paths = calloc(n_ask, sizeof(char *));
                if (!paths)
                        return vg_error(err, -ENOMEM, "out of memory");
                size_t k = 0;
                for (size_t i = 0; i < vs->n; i++)
                        if (vs->v[i].ask_dpkg)
                                paths[k++] = vs->v[i].m->path;
                if (dpkg_restrict(d, paths, k) < 0)
                        return vg_error(err, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; r >= 0 && i < vs->n; i++)
                if (vs->v[i].ask_dpkg)
                        r = dpkg_verdict(d, c->proc_dir, res, &vs->v[i], err);
        return r == -ENOMEM ? vg_error(err, r, "out of memory") : r < 0 ? r : 0;
}

/* A process's status: its worst mapping's, with every mapping that is not
 * current listed. */
static int judge(ProcVerdict *pv, Verdicts *vs) {
        ProcImage *p = &pv->image;
        pv->files = json_array();
        if (!pv->files)
                return -ENOMEM;
        if (p->error) {
                pv->status = PROC_UNKNOWN;
                pv->why = strdup(p->error_text ? p->error_text : strerror(-p->error));
                return pv->why ? 0 : -ENOMEM;
        }
        const Verdict *worst = NULL;
        for (size_t k = 0; k < p->n_maps; k++) {
                const Verdict *v = verdict_of(vs, &p->maps[k]);
                if (!v || (v->status == PROC_CURRENT && !v->why))
                        continue;
                const ProcMapping *m = &p->maps[k];
                /* A data file nothing vouches for (a cache a trigger
                 * generated: mime.cache, locale-archive) is listed; only
                 * code that cannot be verified makes the process unknown. */
                bool counts = v->status != PROC_UNKNOWN || m->executable || m->error;
                json_t *f = json_pack("{s:o, s:s, s:s?, s:s?, s:b, s:b, s:b, s:s?, s:s?, s:s?}", "path",
                                      event_json_string(m->path), "status", proc_status_name(v->status), "why",
                                      v->why, "sha256", m->sha256[0] ? m->sha256 : NULL, "exe", m->exe, "code",
                                      m->executable, "replaced",
                                      m->replaced, "package", v->package, "old_version", v->old_version,
                                      "new_version", v->new_version);
                if (!f || json_array_append_new(pv->files, f) < 0)
                        return -ENOMEM;
                if (counts && (!worst || v->status > worst->status))
                        worst = v;
        }
        if (!p->n_maps) {
                pv->status = PROC_UNKNOWN;
                pv->why = strdup("nothing it maps could be read");
                return pv->why ? 0 : -ENOMEM;
        }
        pv->status = worst ? worst->status : PROC_CURRENT;
        if (worst && worst->status != PROC_CURRENT && !(pv->why = strdup(worst->why ? worst->why : "")))
                return -ENOMEM;
        return 0;
}

/* ---- recording ---- */

typedef struct Held {
        ProcResult *res;
} Held;

/* What the inventory held for a process that still runs (same pid, same
 * start): a status that stays is not an event again. */
static int held_row(const ProcessRecord *p, void *u) {
        ProcResult *res = ((Held *) u)->res;
        for (size_t i = 0; i < res->n; i++) {
                ProcVerdict *v = &res->v[i];
                if (v->image.target.pid != p->pid || v->image.target.start_ticks != p->start_ticks)
                        continue;
                ProcStatus was = status_of(p->status);
                v->was = proc_status_name(was);
                v->changed = was != v->status;
                if (!v->changed)
                        v->since_us = p->since_us;
        }
        return 0;
}

static int process_event(Store *s, const ProcRequest *req, const ProcVerdict *v, VgError *err) {
        _cleanup_(event_freep) Event *e = event_new(req->source ? req->source : "cli", "integrity.process");
        if (!e)
                return vg_error(err, -ENOMEM, "out of memory");
        const ProcTarget *t = &v->image.target;
        event_set(&e->actor, req->actor);
        event_set(&e->domain, t->domain);
        char reason[800];
        snprintf(reason, sizeof(reason), "%s %d: %s%s%s", t->role, (int) t->pid, proc_status_name(v->status),
                 v->why ? ": " : "", v->why ? v->why : "");
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "pid", json_integer(t->pid));
        json_object_set_new(e->data, "role", json_string(t->role));
        json_object_set_new(e->data, "exe", v->image.exe ? event_json_string(v->image.exe) : json_null());
        json_object_set_new(e->data, "status", json_string(proc_status_name(v->status)));
        json_object_set_new(e->data, "was", v->was && *v->was ? json_string(v->was) : json_null());
        json_object_set_new(e->data, "why", v->why ? event_json_string(v->why) : json_null());
        json_object_set_new(e->data, "files", json_incref(v->files));
        int r = store_append_event(s, e, NULL, err);
        return r < 0 ? r : 0;
}

static int record(Store *s, const ProcRequest *req, ProcResult *res, VgError *err) {
        int64_t now = vg_now_us();
        int r = store_begin(s, err);
        if (r < 0)
                return r;
        /* Read under the write lock: the CLI's check and the daemon's do
         * not both record the same change. */
        for (size_t i = 0; i < res->n; i++) {
                res->v[i].was = "";
                res->v[i].changed = res->v[i].status != PROC_CURRENT;
        }
        Held h = { res };
        r = store_processes(s, held_row, &h, err);
        if (r == 0)
                r = store_processes_clear(s, req->domain, err);
        for (size_t i = 0; r == 0 && i < res->n; i++) {
                ProcVerdict *v = &res->v[i];
                const ProcTarget *t = &v->image.target;
                _cleanup_free_ char *detail = json_dumps(v->files, JSON_COMPACT);
                ProcessRecord rec = { .pid = t->pid, .start_ticks = t->start_ticks, .role = t->role,
                                      .domain = t->domain, .exe = v->image.exe,
                                      .status = proc_status_name(v->status), .why = v->why, .detail = detail,
                                      .since_us = v->since_us ? v->since_us : now, .checked_us = now };
                r = store_process_put(s, &rec, err);
                if (r == 0 && v->changed)
                        r = process_event(s, req, v, err);
        }
        if (r == 0)
                r = store_commit(s, err);
        if (r < 0)
                store_rollback(s);
        return r;
}

typedef struct Previous {
        Store *s;
        char sha256[FSCAN_SHA256_HEX];
} Previous;

/* The baseline as the cache's second level: a mapped file whose stat is
 * its baseline row's takes the row's hash unread. */
static const char *from_baseline(const ProcMapping *m, void *u) {
        Previous *p = u;
        _cleanup_(fscan_list_freep) FscanList *rows = NULL;
        if (store_baseline_of(p->s, m->path, &rows, NULL) < 0)
                return NULL;
        for (size_t i = 0; i < rows->n; i++) {
                const FscanFile *f = &rows->files[i];
                if (f->type == 'f' && f->sha256[0] && f->dev == m->dev && f->ino == m->ino && f->size == m->size &&
                    f->mtime_ns == m->mtime_ns && f->ctime_ns == m->ctime_ns) {
                        memcpy(p->sha256, f->sha256, sizeof(p->sha256));
                        return p->sha256;
                }
        }
        return NULL;
}

int integrity_measure_processes(Store *s, const Config *c, const ProcRequest *req, ProcResult *res,
                                VgError *err) {
        *res = (ProcResult) { 0 };
        ProcTargets t;
        int r = proc_targets_find(c->proc_dir, c->qemu_run_dir, req->domain, &t, err);
        if (r < 0)
                return r;
        _cleanup_(proc_cache_freep) ProcCache *own = req->cache ? NULL : proc_cache_new();
        ProcCache *cache = req->cache ? req->cache : own;
        size_t hashed0 = 0, hits0 = 0;
        uint64_t bytes;
        Previous prev = { .s = s };
        if (!cache)
                r = vg_error(err, -ENOMEM, "out of memory");
        else {
                proc_cache_stats(cache, &hashed0, &hits0, &bytes);
                proc_cache_previous(cache, req->full ? NULL : from_baseline, &prev);
        }
        if (r == 0 && t.n && !(res->v = calloc(t.n, sizeof(*res->v))))
                r = vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < t.n; i++) {
                if (proc_image_read(c->proc_dir, &t.v[i], cache, &res->v[i].image) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
                else
                        res->n++;
        }
        proc_targets_clear(&t);
        Verdicts vs = { 0 };
        if (r == 0)
                r = classify(s, c, res, &vs, err);
        for (size_t i = 0; r == 0 && i < res->n; i++)
                if (judge(&res->v[i], &vs) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
        verdicts_clear(&vs);
        if (r == 0 && cache) {
                size_t hashed, hits;
                proc_cache_stats(cache, &hashed, &hits, &bytes);
                res->hashed = hashed - hashed0;
                res->cached = hits - hits0;
        }
        if (cache)
                proc_cache_previous(cache, NULL, NULL);   /* prev is this call's */
        if (r < 0)
                proc_result_clear(res);
        return r;
}

int integrity_record_processes(Store *s, const ProcRequest *req, ProcResult *res, VgError *err) {
        return record(s, req, res, err);
}

int integrity_check_processes(Store *s, const Config *c, const ProcRequest *req, ProcResult *res, VgError *err) {
        int r = integrity_measure_processes(s, c, req, res, err);
        if (r == 0 && (r = integrity_record_processes(s, req, res, err)) < 0)
                proc_result_clear(res);
        return r;
}
