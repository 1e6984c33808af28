/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Accepting drift: an authorized change folded into the baseline, with
 * the ticket that authorized it (integrity/priv.h). The check folds
 * package updates in with integrity_accept_one too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

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

int integrity_accept_one(Store *s, const Profiles *p, const FscanList *base, const IntegrityFinding *f,
                         VgError *err) {
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

void integrity_touch(const char **touched, const IntegrityFinding *f) {
        size_t i = 0;
        for (; f->profile && touched[i]; i++)
                if (!strcmp(touched[i], f->profile))
                        return;
        touched[i] = f->profile;
}

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
                r = integrity_profiles_of(s, c, NULL, &p, err);
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
                        integrity_touch(touched, f);
                        if ((r = integrity_accept_one(s, &p, base, f, err)) == 0)
                                r = store_findings_remove(s, f->path, err);
                        json_array_append_new(accepted, event_json_string(f->path));
                        res->n_accepted++;
                }
                IntegrityRequest req = { .actor = actor, .source = "cli" };
                if (r == 0)
                        r = integrity_baseline_event(s, "integrity.accepted", &req, touched,
                                                     json_pack("{s:O, s:s?, s:s?}", "paths", accepted, "ticket",
                                                               ticket, "reason", reason), res->digest, err);
                if (r == 0)
                        r = store_commit(s, err);
                if (r < 0)
                        store_rollback(s);
        }
        json_decref(accepted);
        integrity_result_clear(&open);
        integrity_profiles_clear(&p);
        return r;
}
