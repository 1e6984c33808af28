/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "virtgov/domdefs.h"
#include "virtgov/dpkg.h"
#include "virtgov/integrity-run.h"
#include "virtgov/kinds.h"
#include "vg-paths.h"

void integrity_result_clear(IntegrityResult *r) {
        for (size_t i = 0; i < r->n; i++)
                integrity_finding_clear(&r->findings[i]);
        free(r->findings);
        config_strv_free(r->unread);
        *r = (IntegrityResult) { 0 };
}

/* ---- what is watched ---- */

typedef struct Profiles {
        IntegrityProfile **v;
        size_t n;
        bool borrowed;            /* v is the caller's (IntegrityRequest.loaded) */
        char **names;             /* NULL-ended, for the store */
        char **unread;            /* integrity_profiles_load's; NULL when borrowed */
} Profiles;

static void profiles_clear(Profiles *p) {
        if (!p->borrowed)
                integrity_profiles_free(p->v, p->n);
        config_strv_free(p->names);
        config_strv_free(p->unread);
        *p = (Profiles) { 0 };
}

void integrity_profiles_free(IntegrityProfile **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                integrity_profile_free(v[i]);
        free(v);
}

/* path added to the NULL-ended list *v of *n paths, unless it is there. */
static int path_add(char ***v, size_t *n, const char *path) {
        for (size_t i = 0; i < *n; i++)
                if (!strcmp((*v)[i], path))
                        return 0;
        char *copy = strdup(path);
        /* (two slots: the path, and the NULL after it) */
        if (!copy || vg_grow((void **) v, n, sizeof(char *)) < 0 || vg_grow((void **) v, n, sizeof(char *)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        (*n)--;
        (*v)[*n - 1] = copy;
        return 0;
}

/* What the domains name for QEMU to run: from the inventory, and from
 * libvirt's own files (domdefs.h). The inventory alone missed a domain
 * defined while the daemon was down; the files know every domain libvirt
 * holds here, the inventory what it learnt from other URIs too. Each
 * path once, the inventory's first. */
static int domain_paths(Store *s, const Config *c, char ***ret, size_t *n_ret, char ***ret_unread, VgError *err) {
        _cleanup_(config_strv_freep) char **dom = NULL, **files = NULL, **unread = NULL;
        char **all = NULL;
        size_t n_dom = 0, n = 0;
        int r = store_domain_paths(s, &dom, &n_dom, err);
        if (r < 0)
                return r;
        if (domdefs_paths(c->qemu_config_dir, c->qemu_run_dir, c->max_xml_bytes, &files, &unread) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && dom[i]; i++)
                r = path_add(&all, &n, dom[i]);
        for (size_t i = 0; r == 0 && files[i]; i++)
                r = path_add(&all, &n, files[i]);
        if (r == 0 && !all && !(all = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0) {
                config_strv_free(all);
                return vg_error(err, r, "out of memory");
        }
        *ret = all;
        *n_ret = n;
        *ret_unread = TAKE_PTR(unread);
        return 0;
}

/* The context of the isolation profile: what the domains name, what the
 * kernel runs now, virtgov's own files. */
int integrity_profiles_load(Store *s, const Config *c, const char *const *names, IntegrityProfile ***ret,
                            size_t *n_ret, char ***ret_unread, VgError *err) {
        char **dom = NULL, **unread = NULL;
        size_t n_dom = 0, n = 0;
        IntegrityProfile **v = NULL;
        int r = domain_paths(s, c, &dom, &n_dom, &unread, err);
        if (r < 0)
                return r;
        /* The running kernel's files where the kernel_* keys say (the
         * same ones 'integrity kernel' reads). */
        struct utsname u;
        const char *release = c->kernel_release && *c->kernel_release ? c->kernel_release
                            : uname(&u) == 0 ? u.release : NULL;
        char modules[4200] = "", kernel[4200] = "";
        if (release) {
                snprintf(modules, sizeof(modules), "%s/%s", c->kernel_modules_root, release);
                snprintf(kernel, sizeof(kernel), "%s/vmlinuz-%s", c->kernel_boot_dir, release);
        }
        const char *own[] = { c->hook_binary, VG_DEFAULT_BINDIR "/virtgov", VG_DEFAULT_SBINDIR "/virtgov-inventoryd",
                              c->path ? c->path : VG_DEFAULT_CONFIG, c->policy, c->integrity_dir, NULL };
        static const char *const nvram[] = { "/var/lib/libvirt/qemu/nvram", NULL };
        IntegrityContext ctx = { .domain_paths = (const char *const *) dom, .nvram_paths = nvram,
                                 .own_paths = own, .proc_modules = c->kernel_proc_modules,
                                 .modules_dir = modules[0] ? modules : NULL,
                                 .kernel_image = kernel[0] ? kernel : NULL };
        for (size_t i = 0; r == 0 && names[i]; i++) {
                IntegrityProfile *prof = NULL;
                r = integrity_profile_load(names[i], c->integrity_dir, &ctx, &prof, err);
                if (r == 0 && vg_grow((void **) &v, &n, sizeof(*v)) < 0) {
                        integrity_profile_free(prof);
                        r = vg_error(err, -ENOMEM, "out of memory");
                } else if (r == 0)
                        v[n - 1] = prof;
        }
        config_strv_free(dom);
        if (r < 0) {
                integrity_profiles_free(v, n);
                config_strv_free(unread);
                return r;
        }
        *ret = v;
        *n_ret = n;
        *ret_unread = unread;
        return 0;
}

/* The profiles the request names, else the config's; or those it
 * brings loaded. */
static int profiles_load(Store *s, const Config *c, const IntegrityRequest *req, Profiles *p, VgError *err) {
        const char *const *names = req ? req->profiles : NULL;
        *p = (Profiles) { 0 };
        if (req && req->loaded) {
                p->v = (IntegrityProfile **) req->loaded;
                p->n = req->n_loaded;
                p->borrowed = true;
                if (!(p->names = calloc(p->n + 1, sizeof(char *))))
                        return vg_error(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < p->n; i++)
                        if (!(p->names[i] = strdup(p->v[i]->name)))
                                return vg_error(err, -ENOMEM, "out of memory");
                return 0;
        }
        p->names = names ? NULL : config_split(c->integrity_profiles);
        if (names) {
                size_t n = 0;
                while (names[n])
                        n++;
                if (!(p->names = calloc(n + 1, sizeof(char *))))
                        return vg_error(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < n; i++)
                        if (!(p->names[i] = strdup(names[i])))
                                return vg_error(err, -ENOMEM, "out of memory");
        }
        if (!p->names || !p->names[0])
                return vg_error(err, -EINVAL, "no integrity profile: set integrity_profiles in %s",
                                c->path ? c->path : "the config");
        return integrity_profiles_load(s, c, (const char *const *) p->names, &p->v, &p->n, &p->unread, err);
}

/* ---- the baseline and its digests ----
 *
 * Each event that changes the baseline carries data.digests: every
 * profile's digest (integrity_digest of its rows), those it changed
 * computed anew and the others carried over from the event before. A
 * check reads and digests the rows of the profiles it checks only (a
 * host profile's 10,000 rows beside the isolation profile's 400 cost an
 * isolation check 35 ms), `virtgov verify` every profile's. */

/* The digests the newest event that changed the baseline recorded (a
 * new reference; NULL when no event did). *ret_legacy: that event is
 * older than per-profile digests (one data.digest for the whole table,
 * of another encoding): its rows cannot be verified, only retaken. */
static int recorded_digests(Store *s, json_t **ret, bool *ret_legacy, VgError *err) {
        int64_t best = 0;
        json_t *d = NULL;
        bool legacy = false;
        for (const EventKind *k = NULL; (k = event_kind_next(k, KIND_BASELINE));) {
                Event *e = NULL;
                int r = store_last_event(s, k->name, &e, err);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        json_decref(d);
                        return r;
                }
                if (e->id > best) {
                        best = e->id;
                        json_decref(d);
                        d = json_incref(json_object_get(e->data, "digests"));
                        legacy = !d && json_object_get(e->data, "digest");
                }
                event_free(e);
        }
        if (d && !json_is_object(d)) {
                json_decref(d);
                return vg_error(err, -EBADMSG, "the integrity baseline's newest event (id %lld) records its digests "
                                "as no object: it was changed outside virtgov", (long long) best);
        }
        *ret = d;
        *ret_legacy = legacy;
        return 0;
}

static int refuse_legacy(VgError *err) {
        return vg_error(err, -EPROTO, "the integrity baseline's digest was recorded by an older virtgov (one for "
                        "all profiles, not one each), which this one cannot verify: take the baseline again with "
                        "'virtgov integrity baseline'");
}

static size_t count_profile(const FscanList *l, const char *profile) {
        size_t n = 0;
        for (size_t i = 0; i < l->n; i++)
                n += vg_streq(l->files[i].tag, profile);
        return n;
}

/* Whether the rows of profile in l match its recorded digest. A profile
 * without rows and without a digest has no baseline: that matches. */
static int profile_verify(const FscanList *l, const char *profile, json_t *recorded, char have[FSCAN_SHA256_HEX],
                          VgError *err) {
        const char *want = json_string_value(json_object_get(recorded, profile));
        size_t n = count_profile(l, profile);
        integrity_digest(l, profile, have);
        if ((!want && !n) || (want && !strcmp(want, have)))
                return 0;
        return vg_error(err, -EBADMSG, "the integrity baseline of profile '%s' (%zu files) does not match its "
                        "newest recorded digest: %s recorded, %s now: it was changed outside virtgov", profile, n,
                        want ? want : "none", have);
}

/* When the newest baseline was taken: what a file added since is newer
 * than. A baseline taken on another host (an inventory copied over) says
 * nothing of this one's files: -EXDEV, naming both. */
static int baseline_time(Store *s, int64_t *ret, VgError *err) {
        Event *e = NULL;
        int r = store_last_event(s, "integrity.baseline", &e, err);
        *ret = 0;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        char host[256] = "";
        if (gethostname(host, sizeof(host)) == 0)
                host[sizeof(host) - 1] = '\0';
        if (e->host && host[0] && strcmp(e->host, host))
                r = vg_error(err, -EXDEV, "the integrity baseline was taken on host '%s', and this is '%s': take "
                             "one here with 'virtgov integrity baseline'", e->host, host);
        else if (vg_time_parse(e->time, 0, ret) < 0)
                *ret = 0;
        event_free(e);
        return r;
}

int integrity_verify_baseline(Store *s, FscanList **ret, VgError *err) {
        _cleanup_(fscan_list_freep) FscanList *base = NULL;
        json_t *rec = NULL;
        bool legacy = false;
        char have[FSCAN_SHA256_HEX];
        int r = recorded_digests(s, &rec, &legacy, err);
        if (r == 0 && legacy)
                r = refuse_legacy(err);
        if (r == 0)
                r = store_baseline_load(s, &base, err);
        if (r == 0 && !rec && !base->n)
                r = vg_error(err, -ENOENT, "no integrity baseline: take one with 'virtgov integrity baseline'");
        /* Every profile recorded, and every profile with rows: rows of a
         * profile that no event recorded were put there by hand. */
        const char *name;
        json_t *v;
        json_object_foreach(rec, name, v)
                if (r == 0)
                        r = profile_verify(base, name, rec, have, err);
        for (size_t i = 0; r == 0 && i < base->n_tags; i++)
                if (!json_object_get(rec, base->tags[i]))
                        r = profile_verify(base, base->tags[i], rec, have, err);
        /* Rows without a profile: the column is NOT NULL, but say so. */
        if (r == 0 && count_profile(base, NULL))
                r = vg_error(err, -EBADMSG, "the integrity baseline has rows of no profile: it was changed outside "
                             "virtgov");
        json_decref(rec);
        if (r == 0 && ret)
                *ret = TAKE_PTR(base);
        return r;
}

/* An event that changes the baseline of the profiles touched: it carries
 * their new digests (the first one's in digest) beside the others'
 * recorded before, so it must be appended after the rows change, in their
 * transaction. */
static int baseline_event(Store *s, const char *kind, const IntegrityRequest *req, const char *const *touched,
                          json_t *data, char digest[FSCAN_SHA256_HEX], VgError *err) {
        json_t *old = NULL, *digests = NULL;
        bool legacy = false;
        size_t files = 0;
        digest[0] = '\0';
        int r = recorded_digests(s, &old, &legacy, err);
        if (r == 0 && !(digests = old ? json_copy(old) : json_object()))
                r = vg_error(err, -ENOMEM, "out of memory");
        /* After an older virtgov's single digest, every profile's anew:
         * a baseline retaken is how such an inventory is brought over. */
        if (r == 0 && legacy) {
                _cleanup_(fscan_list_freep) FscanList *all = NULL;
                r = store_baseline_load(s, &all, err);
                for (size_t i = 0; r == 0 && i < all->n_tags; i++) {
                        char hex[FSCAN_SHA256_HEX];
                        integrity_digest(all, all->tags[i], hex);
                        json_object_set_new(digests, all->tags[i], json_string(hex));
                }
        }
        for (size_t i = 0; r == 0 && touched && touched[i]; i++) {
                _cleanup_(fscan_list_freep) FscanList *rows = NULL;
                char hex[FSCAN_SHA256_HEX];
                if ((r = store_baseline_load_profile(s, touched[i], &rows, err)) < 0)
                        break;
                integrity_digest(rows, touched[i], hex);
                json_object_set_new(digests, touched[i], json_string(hex));
                files += rows->n;
                if (!digest[0])
                        memcpy(digest, hex, FSCAN_SHA256_HEX);
        }
        json_decref(old);
        _cleanup_(event_freep) Event *e = r == 0 ? event_new(req->source ? req->source : "cli", kind) : NULL;
        if (r == 0 && !e)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r < 0) {
                json_decref(data);
                json_decref(digests);
                return r;
        }
        event_set(&e->actor, req->actor);
        json_object_update(e->data, data);
        json_decref(data);
        json_object_set_new(e->data, "digests", digests);
        json_object_set_new(e->data, "files", json_integer((json_int_t) files));
        r = store_append_event(s, e, NULL, err);
        return r < 0 ? r : 0;
}

static json_t *names_json(char **names) {
        json_t *a = json_array();
        for (size_t i = 0; names && names[i]; i++)
                json_array_append_new(a, json_string(names[i]));
        return a;
}

int integrity_take_baseline(Store *s, const Config *c, const IntegrityRequest *req, IntegrityResult *res,
                            VgError *err) {
        Profiles p;
        _cleanup_(fscan_list_freep) FscanList *l = NULL;
        *res = (IntegrityResult) { 0 };
        int r = profiles_load(s, c, req, &p, err);
        if (r == 0)
                r = integrity_scan(p.v, p.n, NULL, true, 0, &l, err);
        if (r == 0 && (r = store_begin(s, err)) == 0) {
                r = store_baseline_replace(s, (const char *const *) p.names, l, err);
                if (r == 0)
                        r = baseline_event(s, "integrity.baseline", req, (const char *const *) p.names,
                                           json_pack("{s:o, s:I, s:I, s:I, s:o}", "profiles", names_json(p.names),
                                                     "scanned", (json_int_t) l->n, "bytes",
                                                     (json_int_t) l->bytes_hashed, "unreadable",
                                                     (json_int_t) l->n_errors, "unread_domains",
                                                     names_json(p.unread)), res->digest, err);
                /* Its findings are answered: they were against the old one. */
                if (r == 0)
                        r = store_findings_replace(s, (const char *const *) p.names, NULL, 0, vg_now_us(), err);
                if (r == 0)
                        r = store_commit(s, err);
                if (r < 0)
                        store_rollback(s);
        }
        if (r == 0) {
                res->n_files = l->n;
                res->n_hashed = l->n_hashed;
                res->unread = TAKE_PTR(p.unread);
        }
        profiles_clear(&p);
        return r;
}

/* ---- checking ---- */

/* The baseline of the profiles checked: each one's rows, verified
 * against its recorded digest, and the view a check compares with. */
typedef struct Baseline {
        FscanList **lists;        /* one per profile checked, in p->names' order */
        size_t n;
        FscanList view;           /* borrows the lists' entries */
} Baseline;

static void baseline_clear(Baseline *b) {
        for (size_t i = 0; i < b->n; i++)
                fscan_list_free(b->lists[i]);
        free(b->lists);
        free(b->view.files);
        *b = (Baseline) { 0 };
}

/* The view: the profiles' rows in path order, a path in two of them
 * counted once, as its first profile's, as the scan takes it. */
static int baseline_merge(Baseline *b) {
        size_t total = 0;
        for (size_t i = 0; i < b->n; i++)
                total += b->lists[i]->n;
        _cleanup_free_ size_t *pos = calloc(b->n ? b->n : 1, sizeof(size_t));
        if (!pos || !(b->view.files = malloc((total ? total : 1) * sizeof(FscanFile))))
                return -ENOMEM;
        for (;;) {
                const FscanFile *min = NULL;
                for (size_t i = 0; i < b->n; i++) {
                        const FscanFile *f = pos[i] < b->lists[i]->n ? &b->lists[i]->files[pos[i]] : NULL;
                        if (f && (!min || strcmp(f->path, min->path) < 0))
                                min = f;
                }
                if (!min)
                        return 0;
                b->view.files[b->view.n++] = *min;
                for (size_t i = 0; i < b->n; i++)
                        if (pos[i] < b->lists[i]->n && !strcmp(b->lists[i]->files[pos[i]].path, min->path))
                                pos[i]++;
        }
}

static int baseline_load(Store *s, const Profiles *p, Baseline *b, char digest[FSCAN_SHA256_HEX], VgError *err) {
        json_t *rec = NULL;
        bool legacy = false;
        size_t total = 0;
        *b = (Baseline) { 0 };
        int r = recorded_digests(s, &rec, &legacy, err);
        if (r == 0 && legacy)
                r = refuse_legacy(err);
        for (size_t i = 0; r == 0 && p->names[i]; i++) {
                if (vg_grow((void **) &b->lists, &b->n, sizeof(*b->lists)) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
                else if ((r = store_baseline_load_profile(s, p->names[i], &b->lists[b->n - 1], err)) == 0)
                        total += b->lists[b->n - 1]->n;
        }
        if (r == 0 && !rec && !total)
                r = vg_error(err, -ENOENT, "no integrity baseline: take one with 'virtgov integrity baseline'");
        for (size_t i = 0; r == 0 && i < b->n; i++) {
                char have[FSCAN_SHA256_HEX];
                r = profile_verify(b->lists[i], p->names[i], rec, have, err);
                if (i == 0)
                        memcpy(digest, have, FSCAN_SHA256_HEX);
        }
        json_decref(rec);
        if (r == 0 && baseline_merge(b) < 0)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r < 0)
                baseline_clear(b);
        return r;
}

/* The baseline's row of path in profile, or NULL (a path may have one in
 * each of several profiles: store_baseline_load). */
static const FscanFile *baseline_entry(const FscanList *base, const char *path, const char *profile) {
        const FscanFile *f = fscan_find(base, path);
        if (!f)
                return NULL;
        while (f > base->files && !strcmp(f[-1].path, path))
                f--;
        for (; f < base->files + base->n && !strcmp(f->path, path); f++)
                if (vg_streq(f->tag, profile))
                        return f;
        return NULL;
}

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

/* The baseline row of path from the file as it is now: its rule's
 * attributes and profile, or removed when the file is gone. */
static int accept_one(Store *s, const Profiles *p, const FscanList *base, const IntegrityFinding *f, VgError *err) {
        const FscanFile *old = baseline_entry(base, f->path, f->profile);
        const char *profile = f->profile;
        unsigned attrs = old ? old->attrs : FSCAN_ALL;
        if (!old) {
                const char *pn = NULL;
                const IntegrityRule *rule = integrity_rule_for(p->v, p->n, f->path, &pn);
                if (rule)
                        attrs = rule->attrs;
        }
        FscanFile now;
        int r = fscan_file(f->path, attrs, &now);
        if (r == -ENOENT)
                return store_baseline_remove(s, f->path, profile, err);
        if (r < 0)
                return vg_error(err, r, "'%s': %s", f->path, strerror(-r));
        now.tag = profile;
        r = store_baseline_put(s, &now, err);
        fscan_file_clear(&now);
        return r;
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

/* Adds the finding's profile to touched (NULL-ended, room for one per
 * finding) unless it is there: the profiles whose digests change. */
static void touch(const char **touched, const IntegrityFinding *f) {
        size_t i = 0;
        for (; f->profile && touched[i]; i++)
                if (!strcmp(touched[i], f->profile))
                        return;
        touched[i] = f->profile;
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
                touch(touched, f);
                r = accept_one(s, p, base, f, err);
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
                r = baseline_event(s, "integrity.package-update", req, touched, json_pack("{s:o, s:O}", "paths", paths,
                                   "updates", files), res->digest, err);
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
                                      names_json(p->names), "full", req->full, "files", (json_int_t) scan->n,
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
 * 10,000-file check. */
typedef struct WalkJob {
        const Profiles *p;
        FscanList *l;
        VgError err;
        int r;
} WalkJob;

static void *walk_job(void *u) {
        WalkJob *j = u;
        j->r = integrity_walk(j->p->v, j->p->n, &j->l, &j->err);
        return NULL;
}

int integrity_check(Store *s, const Config *c, const IntegrityRequest *req, IntegrityResult *res, VgError *err) {
        Profiles p;
        _cleanup_(fscan_list_freep) FscanList *scan = NULL;
        Baseline base = { 0 };
        const FscanList *view = &base.view;
        Drift *drift = NULL;
        size_t n = 0;
        *res = (IntegrityResult) { 0 };
        int r = profiles_load(s, c, req, &p, err);
        WalkJob job = { .p = &p };
        pthread_t walker;
        bool threaded = r == 0 && pthread_create(&walker, NULL, walk_job, &job) == 0;
        if (r == 0 && !threaded)
                walk_job(&job);
        if (r == 0)
                r = baseline_load(s, &p, &base, res->digest, err);
        if (threaded)
                pthread_join(walker, NULL);
        scan = job.l;
        if (r == 0 && job.r < 0)
                r = vg_error(err, job.r, "%s", job.err.text);
        if (r == 0)
                r = integrity_measure(scan, view, req->full, 0, err);
        if (r == 0 && integrity_compare(view, scan, &drift, &n) < 0)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r == 0 && n && !(res->findings = calloc(n, sizeof(*res->findings))))
                r = vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++) {
                res->n++;
                if (finding_from(&drift[i], &res->findings[i]) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
                res->findings[i].is_new = true;
        }
        /* Classified before they are compared with the last check's
         * (check_record): a finding is the same one when its class is the
         * same too. */
        int64_t base_time = 0;
        if (r == 0)
                r = baseline_time(s, &base_time, err);
        if (r == 0)
                r = classify(c, view, base_time, res, err);
        if (r == 0)
                r = check_record(s, c, req, &p, view, res, scan, err);
        if (r == 0) {
                res->n_files = scan->n;
                res->n_hashed = scan->n_hashed;
                res->unread = TAKE_PTR(p.unread);
        }
        free(drift);
        baseline_clear(&base);
        profiles_clear(&p);
        if (r < 0)
                integrity_result_clear(res);
        return r;
}

/* ---- accepting ---- */

typedef struct TicketCheck {
        const char *id;
        int64_t now;
        bool found, current;
} TicketCheck;

/* Only the ticket named counts, and only a row a decision could use
 * (ticket_check): one that fails authorizes nothing here either. */
static int ticket_seen(const Ticket *t, void *u) {
        TicketCheck *tc = u;
        if (!vg_streq(t->id, tc->id) || ticket_check(t, NULL) < 0)
                return 0;
        tc->found = true;
        tc->current |= t->from_us <= tc->now && tc->now < t->until_us;
        return 0;
}

/* Reconciling drift with an authorized change: the ticket must be one the
 * inventory holds (virtgov ticket add|import), open now. */
static int ticket_valid(Store *s, const char *id, VgError *err) {
        TicketCheck tc = { .id = id, .now = vg_now_us() };
        int r = store_tickets(s, NULL, id, ticket_seen, &tc, err);
        if (r < 0)
                return r;
        if (!tc.found)
                return vg_error(err, -EPERM, "no ticket '%s' in the inventory: add it with 'virtgov ticket add'", id);
        if (!tc.current)
                return vg_error(err, -EPERM, "ticket '%s' does not cover now: its window is closed", id);
        return 0;
}

typedef struct Open {
        IntegrityResult *res;
} Open;

static int collect_open(const IntegrityFinding *f, void *u) {
        IntegrityResult *res = ((Open *) u)->res;
        if (vg_grow((void **) &res->findings, &res->n, sizeof(*res->findings)) < 0)
                return -ENOMEM;
        IntegrityFinding *c = &res->findings[res->n - 1];
        *c = *f;
        c->path = strdup(f->path);
        c->profile = f->profile ? strdup(f->profile) : NULL;
        c->detail = f->detail ? strdup(f->detail) : NULL;
        c->package = c->old_version = c->new_version = NULL;
        return c->path ? 0 : -ENOMEM;
}

static const IntegrityFinding *finding_of(const IntegrityResult *open, const char *path) {
        for (size_t i = 0; i < open->n; i++)
                if (!strcmp(open->findings[i].path, path))
                        return &open->findings[i];
        return NULL;
}

int integrity_accept(Store *s, const Config *c, const char *const *paths, const char *ticket, const char *reason,
                     const char *actor, IntegrityResult *res, VgError *err) {
        *res = (IntegrityResult) { 0 };
        if (!ticket && c->integrity_require_ticket)
                return vg_error(err, -EPERM, "an accept names the change ticket that authorized it (--ticket ID); "
                                "integrity_require_ticket = no in %s allows none", c->path ? c->path : "the config");
        Profiles p;
        _cleanup_(fscan_list_freep) FscanList *base = NULL;
        IntegrityResult open = { 0 };
        Open o = { &open };
        int r = ticket ? ticket_valid(s, ticket, err) : 0;
        /* Accepting into a baseline edited outside virtgov would launder
         * the edit: retake it instead. */
        if (r == 0)
                r = integrity_verify_baseline(s, &base, err);
        if (r == 0)
                r = store_findings(s, collect_open, &o, err);
        if (r == 0)
                r = profiles_load(s, c, NULL, &p, err);
        else
                p = (Profiles) { 0 };
        for (size_t i = 0; r == 0 && paths && paths[i]; i++)
                if (!finding_of(&open, paths[i]))
                        r = vg_error(err, -ENOENT, "'%s' has no open integrity finding (run 'virtgov integrity check')",
                                     paths[i]);
        if (r == 0 && !paths && !open.n)
                r = vg_error(err, -ENOENT, "no open integrity findings to accept");
        json_t *accepted = json_array();
        _cleanup_free_ const char **touched = calloc(open.n + 1, sizeof(char *));
        if (r == 0 && !touched)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r == 0 && (r = store_begin(s, err)) == 0) {
                for (size_t i = 0; r == 0 && i < open.n; i++) {
                        const IntegrityFinding *f = &open.findings[i];
                        bool wanted = !paths;
                        for (size_t k = 0; paths && paths[k] && !wanted; k++)
                                wanted = !strcmp(paths[k], f->path);
                        if (!wanted)
                                continue;
                        touch(touched, f);
                        if ((r = accept_one(s, &p, base, f, err)) == 0)
                                r = store_findings_remove(s, f->path, err);
                        json_array_append_new(accepted, event_json_string(f->path));
                        res->n_accepted++;
                }
                IntegrityRequest req = { .actor = actor, .source = "cli" };
                if (r == 0)
                        r = baseline_event(s, "integrity.accepted", &req, touched,
                                           json_pack("{s:O, s:s?, s:s?}", "paths", accepted, "ticket", ticket,
                                                     "reason", reason), res->digest, err);
                if (r == 0)
                        r = store_commit(s, err);
                if (r < 0)
                        store_rollback(s);
        }
        json_decref(accepted);
        integrity_result_clear(&open);
        profiles_clear(&p);
        return r;
}
