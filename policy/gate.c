/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Not part of the pure engine: this file does the reading (policy file,
 * inventory) around it. Kept in one place so the hook, the daemon and
 * "virtgov policy test" cannot drift apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/cleanup.h"
#include "virtgov/gate.h"
#include "virtgov/image.h"

/* What the engine is given, read from the inventory. The arrays grow with
 * what the store returns: its queries already keep to the domain's own
 * approvals and tickets, and a cap here once dropped the rest unseen (the
 * 257th ticket naming a domain was never considered). */
typedef struct Context {
        Approval *approvals;
        Ticket *tickets;
        ImageState *images;
        size_t n_approvals, n_tickets, n_images;
        char **strings;          /* every string the arrays point at */
        size_t n_strings;
        bool oom;                /* something could not be kept: decide nothing */
} Context;

static const char *keep(Context *c, const char *s) {
        if (!s)
                return NULL;
        char *copy = strdup(s);
        if (!copy || vg_grow((void **) &c->strings, &c->n_strings, sizeof(char *)) < 0) {
                free(copy);
                c->oom = true;
                return NULL;
        }
        return c->strings[c->n_strings - 1] = copy;
}

static int add_approval(const Approval *a, void *u) {
        Context *c = u;
        if (vg_grow((void **) &c->approvals, &c->n_approvals, sizeof(Approval)) < 0)
                return -ENOMEM;
        c->approvals[c->n_approvals - 1] = (Approval) {
                .key = keep(c, a->key), .owner = keep(c, a->owner), .ticket = keep(c, a->ticket),
                .approved_by = keep(c, a->approved_by), .until_us = a->until_us, .time_us = a->time_us };
        return c->oom ? -ENOMEM : 0;
}

static int add_ticket(const Ticket *t, void *u) {
        Context *c = u;
        if (vg_grow((void **) &c->tickets, &c->n_tickets, sizeof(Ticket)) < 0)
                return -ENOMEM;
        c->tickets[c->n_tickets - 1] = (Ticket) {
                .id = keep(c, t->id), .domain_glob = keep(c, t->domain_glob), .action = keep(c, t->action),
                .approved_by = keep(c, t->approved_by), .from_us = t->from_us, .until_us = t->until_us };
        return c->oom ? -ENOMEM : 0;
}

/* ---- images ---- */

static bool needs_images(const Policy *p) {
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].require.trusted_images || p->rules[i].require.image_dirs)
                        return true;
        return false;
}

/* libvirt's XML often lacks the backing chain (it is found at start, after
 * the prepare hook): read it from the images' own headers. */
static void complete_chains(DomainFacts *f) {
        for (size_t i = 0; i < f->n_disks; i++) {
                DiskFacts *d = &f->disks[i];
                char **chain = NULL;
                if (d->n_backing || !d->source || d->source[0] != '/' ||
                    image_backing_chain(d->source, &chain, NULL) < 0)
                        continue;
                size_t n = 0;
                while (chain[n])
                        n++;
                if (n) {
                        d->backing = chain;
                        d->n_backing = n;
                } else
                        image_chain_free(chain);
        }
}

typedef struct Lookup {
        bool found;
        ImageStat want;
} Lookup;

static int image_row(const ImageRecord *r, void *u) {
        Lookup *l = u;
        l->found = true;
        l->want = r->stat;
        return 0;
}

static void image_note(Context *c, Store *s, const char *path) {
        for (size_t i = 0; i < c->n_images; i++)
                if (!strcmp(c->images[i].path, path))
                        return;
        Lookup l = { false };
        ImageStat now;
        store_images(s, path, image_row, &l, NULL);
        const char *why = NULL;
        if (!l.found)
                why = "not in the trusted-image library";
        else if (image_stat(path, &now) < 0)
                why = "missing";
        else if (now.size != l.want.size || now.mtime_ns != l.want.mtime_ns || now.ino != l.want.ino ||
                 now.dev != l.want.dev)
                why = "changed since it was trusted: run 'virtgov image verify'";
        if (vg_grow((void **) &c->images, &c->n_images, sizeof(ImageState)) < 0) {
                c->oom = true;
                return;
        }
        c->images[c->n_images - 1] = (ImageState) { .path = keep(c, path), .trusted = !why, .why = why };
}

/* -ENOMEM when an image could not be noted (it would read as untrusted). */
static int collect_images(Context *c, Store *s, DomainFacts *f) {
        complete_chains(f);
        for (size_t i = 0; i < f->n_disks; i++) {
                const DiskFacts *d = &f->disks[i];
                if (d->source && d->source[0] == '/')
                        image_note(c, s, d->source);
                for (size_t b = 0; b < d->n_backing; b++)
                        if (d->backing[b][0] == '/')
                                image_note(c, s, d->backing[b]);
        }
        return c->oom ? -ENOMEM : 0;
}

static void context_free(Context *c) {
        for (size_t i = 0; i < c->n_strings; i++)
                free(c->strings[i]);
        free(c->strings);
        free(c->approvals);
        free(c->tickets);
        free(c->images);
}

static void set_error(GateResult *r, const Policy *p, const char *what) {
        r->error = true;
        /* With no readable policy there is no on_error and no mode: deny,
         * the safe default of DESIGN.md. In audit mode an error, like any
         * deny, is recorded but does not block. */
        r->verdict = p ? p->on_error : VERDICT_DENY;
        r->enforced = r->verdict == VERDICT_DENY && (!p || p->mode == POLICY_ENFORCE);
        r->rule = strdup("on_error");
        if (asprintf(&r->reason, "%s (on_error: %s)", what, r->verdict == VERDICT_ALLOW ? "allow" : "deny") < 0)
                r->reason = NULL;
        r->detail = json_pack("{s:s, s:s, s:[s]}", "rule", "on_error", "error", what, "reasons", what);
}

void gate_decide(const char *policy_path, Store *s, const char *store_error, DomainFacts *f,
                 const char *op, const char *host, int64_t now_us, GateResult *ret) {
        GateResult r = { .verdict = VERDICT_ALLOW };
        VgError err = { "" };
        Policy *p = NULL;

        int k = policy_load(policy_path, &p, &err);
        if (k == -ENOENT) {
                /* No policy: everything is allowed, and recorded as such. */
                r.rule = NULL;
                if (asprintf(&r.reason, "no policy at '%s'", policy_path) < 0)
                        r.reason = NULL;
                r.detail = json_pack("{s:n, s:s}", "rule", "reason", "no policy file");
                *ret = r;
                return;
        }
        r.have_policy = true;
        if (k < 0) {
                char what[1200];
                snprintf(what, sizeof(what), "policy unreadable: %s", err.text);
                set_error(&r, NULL, what);
                *ret = r;
                return;
        }

        gate_decide_policy(p, s, store_error, f, op, host, now_us, ret);
        policy_free(p);
}

void gate_decide_policy(const Policy *p, Store *s, const char *store_error, DomainFacts *f,
                        const char *op, const char *host, int64_t now_us, GateResult *ret) {
        GateResult r = { .verdict = VERDICT_ALLOW, .have_policy = true };
        VgError err = { "" };
        Context c = { 0 };
        if (!f) {
                char what[1200];
                snprintf(what, sizeof(what), "the domain XML could not be read: %s",
                         store_error && *store_error ? store_error : "no XML");
                set_error(&r, p, what);
        } else if (!s) {
                char what[1200];
                snprintf(what, sizeof(what), "cannot consult the inventory: %s", store_error ? store_error : "unavailable");
                set_error(&r, p, what);
        } else if (store_approvals(s, f->name, f->uuid, add_approval, &c, &err) < 0 ||
                   store_tickets(s, f->name, f->ticket, add_ticket, &c, &err) < 0) {
                char what[1200];
                snprintf(what, sizeof(what), "cannot consult the inventory: %s",
                         c.oom || !*err.text ? "out of memory" : err.text);
                set_error(&r, p, what);
        } else if (needs_images(p) && collect_images(&c, s, f) < 0) {
                set_error(&r, p, "out of memory while checking the disk images");
        } else {
                PolicyContext ctx = { .now_us = now_us, .op = op, .host = host,
                                      .approvals = c.approvals, .n_approvals = c.n_approvals,
                                      .tickets = c.tickets, .n_tickets = c.n_tickets,
                                      .images = c.images, .n_images = c.n_images };
                Decision d;
                if (policy_decide(p, f, &ctx, &d) < 0) {
                        set_error(&r, p, "out of memory while deciding");
                } else {
                        r.verdict = d.verdict;
                        r.enforced = d.enforced;
                        r.rule = strdup(d.rule);
                        r.reason = strdup(decision_reason(&d));
                        r.detail = decision_to_json(&d, p);
                        decision_clear(&d);
                }
        }
        context_free(&c);
        *ret = r;
}

void gate_result_clear(GateResult *r) {
        free(r->rule);
        free(r->reason);
        json_decref(r->detail);
        *r = (GateResult) { 0 };
}
