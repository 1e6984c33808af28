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

typedef struct Context {
        Approval approvals[64];
        Ticket tickets[256];
        size_t n_approvals, n_tickets;
        char **strings;          /* every string the arrays point at */
        size_t n_strings;
} Context;

static const char *keep(Context *c, const char *s) {
        if (!s)
                return NULL;
        char **v = realloc(c->strings, (c->n_strings + 1) * sizeof(char *));
        if (!v)
                return NULL;
        c->strings = v;
        return v[c->n_strings++] = strdup(s);
}

static int64_t when(const char *s, int64_t fallback) {
        int64_t us;
        return s && vg_time_parse(s, 0, &us) == 0 ? us : fallback;
}

static int add_approval(const StoreRow *r, void *u) {
        Context *c = u;
        if (c->n_approvals >= ELEMENTSOF(c->approvals))
                return 0;
        c->approvals[c->n_approvals++] = (Approval) {
                .key = keep(c, r->f[APPROVAL_KEY]), .owner = keep(c, r->f[APPROVAL_OWNER]),
                .ticket = keep(c, r->f[APPROVAL_TICKET]), .approved_by = keep(c, r->f[APPROVAL_BY]),
                .until_us = when(r->f[APPROVAL_UNTIL], 0) };
        return 0;
}

static int add_ticket(const StoreRow *r, void *u) {
        Context *c = u;
        if (c->n_tickets >= ELEMENTSOF(c->tickets))
                return 0;
        c->tickets[c->n_tickets++] = (Ticket) {
                .id = keep(c, r->f[TICKET_ID]), .domain_glob = keep(c, r->f[TICKET_GLOB]),
                .action = keep(c, r->f[TICKET_ACTION]), .approved_by = keep(c, r->f[TICKET_APPROVED_BY]),
                .from_us = when(r->f[TICKET_FROM], INT64_MAX), .until_us = when(r->f[TICKET_UNTIL], 0) };
        return 0;
}

static void context_free(Context *c) {
        for (size_t i = 0; i < c->n_strings; i++)
                free(c->strings[i]);
        free(c->strings);
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

void gate_decide(const char *policy_path, Store *s, const char *store_error, const DomainFacts *f,
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

        Context c = { 0 };
        if (!f)
                set_error(&r, p, store_error ? store_error : "the domain XML could not be read");
        else if (!s) {
                char what[1200];
                snprintf(what, sizeof(what), "cannot consult the inventory: %s", store_error ? store_error : "unavailable");
                set_error(&r, p, what);
        } else if (store_approvals(s, f->name, f->uuid, add_approval, &c, &err) < 0 ||
                   store_tickets(s, f->name, f->ticket, add_ticket, &c, &err) < 0) {
                char what[1200];
                snprintf(what, sizeof(what), "cannot consult the inventory: %s", err.text);
                set_error(&r, p, what);
        } else {
                PolicyContext ctx = { .now_us = now_us, .op = op, .host = host,
                                      .approvals = c.approvals, .n_approvals = c.n_approvals,
                                      .tickets = c.tickets, .n_tickets = c.n_tickets };
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
        policy_free(p);
        *ret = r;
}

void gate_result_clear(GateResult *r) {
        free(r->rule);
        free(r->reason);
        json_decref(r->detail);
        *r = (GateResult) { 0 };
}
