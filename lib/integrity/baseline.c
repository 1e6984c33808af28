/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The baseline and its digests: taking the baseline, verifying it, the
 * events that change it (integrity/priv.h). Only this file reads the
 * recorded digests.
 *
 * Each event that changes the baseline carries data.digests: every
 * profile's digest (integrity_digest of its rows), those it changed
 * computed anew and the others carried over from the event before. A
 * check reads and digests the rows of the profiles it checks only (a
 * host profile's 10,000 rows beside the isolation profile's 400 cost an
 * isolation check 35 ms), `virtgov verify` every profile's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"
#include "virtgov/model/kinds.h"

/* Here, below every file that returns a result (take, check, accept). */
void integrity_result_clear(IntegrityResult *r) {
        for (size_t i = 0; i < r->n; i++)
                integrity_finding_clear(&r->findings[i]);
        free(r->findings);
        config_strv_free(r->unread);
        *r = (IntegrityResult) { 0 };
}

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

int integrity_baseline_time(Store *s, int64_t *ret, VgError *err) {
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

int integrity_baseline_event(Store *s, const char *kind, const IntegrityRequest *req, const char *const *touched,
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

json_t *integrity_names_json(char **names) {
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
        int r = integrity_profiles_of(s, c, req, &p, err);
        if (r == 0)
                r = integrity_scan(p.v, p.n, NULL, true, 0, &l, err);
        if (r == 0 && (r = store_begin(s, err)) == 0) {
                r = store_baseline_replace(s, (const char *const *) p.names, l, err);
                if (r == 0)
                        r = integrity_baseline_event(s, "integrity.baseline", req, (const char *const *) p.names,
                                                     json_pack("{s:o, s:I, s:I, s:I, s:o}", "profiles",
                                                               integrity_names_json(p.names), "scanned",
                                                               (json_int_t) l->n, "bytes",
                                                               (json_int_t) l->bytes_hashed, "unreadable",
                                                               (json_int_t) l->n_errors, "unread_domains",
                                                               integrity_names_json(p.unread)),
                                                     res->digest, err);
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
        integrity_profiles_clear(&p);
        return r;
}

void integrity_baseline_clear(Baseline *b) {
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

int integrity_baseline_load(Store *s, const Profiles *p, Baseline *b, char digest[FSCAN_SHA256_HEX],
                            VgError *err) {
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
                integrity_baseline_clear(b);
        return r;
}
