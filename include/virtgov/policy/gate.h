/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The gate: one decision procedure for the hook, the daemon and the CLI.
 * It loads the policy, gathers the context from the inventory (approvals and
 * tickets for the domain), asks the pure engine, and maps every failure to
 * the policy's on_error, so that the three programs decide identically.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "virtgov/model/domxml.h"
#include "virtgov/policy/policy.h"
#include "virtgov/store/store.h"

typedef struct GateResult {
        bool have_policy;        /* false: no policy file, everything allowed */
        bool error;              /* policy unreadable, or context unavailable */
        Verdict verdict;         /* what the policy (or on_error) says */
        bool enforced;           /* a deny blocks (enforce mode, or an error) */
        char *rule;              /* rule name, "default", "on_error", or NULL */
        char *reason;            /* one line for a person */
        json_t *detail;          /* {"mode","rule","reasons",...} for the event's data */
} GateResult;

/*
 * Decides whether op ("start", "migrate", "restore", "define") of the domain
 * with facts f may proceed on host at now_us. s may be NULL when the
 * inventory could not be opened; store_error then says why. f may be NULL
 * when the XML could not be parsed (store_error then says that). Never
 * fails: every problem becomes a decision with error set. When the policy
 * looks at images, disks whose XML lacks a backing chain get it from the
 * images' qcow2 headers (f is completed in place), and each image is
 * checked against the trusted-image library with one stat().
 */
void gate_decide(const char *policy_path, Store *s, const char *store_error, DomainFacts *f,
                 const char *op, const char *host, int64_t now_us, GateResult *ret);
void gate_result_clear(GateResult *r);

/* gate_decide in two steps, for a caller that opens the inventory only
 * once it knows the policy: gate_load gives 1 and *ret_p loaded (the
 * caller frees it), or 0 and *ret decided (no policy file: allowed;
 * unreadable: the error's decision). */
int gate_load(const char *policy_path, Policy **ret_p, GateResult *ret);
/* Whether deciding under p reads more of the inventory than approvals,
 * tickets and trusted images, which its copy (store_authz_path) holds. */
bool gate_needs_inventory(const Policy *p);

/* The same with the policy already loaded (p, never NULL), for a caller that
 * decides many times under one policy ("virtgov policy replay"). */
void gate_decide_policy(const Policy *p, Store *s, const char *store_error, DomainFacts *f,
                        const char *op, const char *host, int64_t now_us, GateResult *ret);
