/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy: what may be activated on this host.
 *
 *   {
 *     "mode": "enforce" | "audit",          audit: allow, but record a violation
 *     "default": "allow" | "deny",          when no rule matches; "deny" means
 *                                           deny unless approved or a ticket
 *                                           covers now (a ticket covers the
 *                                           domains its glob matches; one
 *                                           the metadata names and does not
 *                                           cover denies)
 *     "on_error": "deny" | "allow",         when the hook cannot evaluate
 *     "rules": [                            first match wins
 *       { "name": "lab", "match": { "name": "lab-*" }, "action": "allow" },
 *       { "name": "prod-needs-ticket",
 *         "match": { "name": "prod-*", "owner": "*", "host": "kvm*", "uuid": "*",
 *                    "ops": ["start", "migrate", "restore", "define"] },
 *         "require": { "approved": true, "owner": true, "ticket": true,
 *                      "image_dirs": ["/var/lib/libvirt/images"],
 *                      "trusted_images": true, "networks": ["prod"],
 *                      "max_vcpus": 8, "max_memory_mib": 16384,
 *                      "no_qemu_commandline": true, "no_seclabel_none": true,
 *                      "integrity": true } } ] }
 *
 * "integrity": the hypervisor the domain would run on is what its
 * integrity baseline says: no unexplained drift of the emulator, loader,
 * kernel or initrd the domain names, of QEMU's firmware and libraries, of
 * libvirt's daemons, modules and configuration, and no tampered libvirt
 * daemon (integrity/proc.h). The daemon's findings are read from the
 * inventory; the domain's own files are also compared by stat with their
 * baseline rows (nothing is hashed at start).
 *
 * The engine is pure: policy_decide() reads no file, no clock and logs
 * nothing. Whatever it needs from the world (the time, approvals, tickets,
 * the state of disk images) comes in the PolicyContext.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/authz/approval.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/domxml.h"
#include "virtgov/authz/ticket.h"
#include "virtgov/util/util.h"

typedef enum { VERDICT_ALLOW, VERDICT_DENY } Verdict;
typedef enum { POLICY_ENFORCE, POLICY_AUDIT } PolicyMode;

typedef struct PolicyRequire {
        bool approved, owner, ticket, trusted_images, no_qemu_commandline, no_seclabel_none, integrity;
        char **image_dirs;       /* NULL-terminated, or NULL: no restriction */
        char **networks;         /* NULL-terminated, or NULL: no restriction */
        unsigned max_vcpus;      /* 0: none */
        uint64_t max_memory_mib; /* 0: none */
} PolicyRequire;

typedef struct PolicyRule {
        char *name;
        char *match_name, *match_uuid, *match_owner, *match_host;   /* globs; NULL: any */
        char **match_ops;        /* NULL-terminated, or NULL: any op */
        bool has_action;
        Verdict action;
        PolicyRequire require;
} PolicyRule;

typedef struct Policy {
        char *path;
        PolicyMode mode;
        Verdict fallback;        /* "default" */
        Verdict on_error;
        PolicyRule *rules;
        size_t n_rules;
} Policy;

/* The state of one disk image, as found by the caller (stat against the
 * trusted-image library). */
typedef struct ImageState {
        const char *path;
        bool trusted;
        const char *why;         /* when not trusted: "not in the library", "changed since trusted" */
} ImageState;

/* One reason the hypervisor is not what its baseline says, as the
 * caller found it in the inventory ("emulator /usr/bin/qemu-system-x86_64
 * changed since the baseline (unexplained)"). */
typedef struct IntegrityBlock {
        const char *path;
        const char *why;
} IntegrityBlock;

typedef struct PolicyContext {
        int64_t now_us;
        const char *op;          /* start, migrate, restore, define */
        const char *host;
        const Approval *approvals; size_t n_approvals;
        const Ticket *tickets; size_t n_tickets;
        const ImageState *images; size_t n_images;
        const IntegrityBlock *integrity; size_t n_integrity;   /* "integrity": true */
} PolicyContext;

typedef struct Decision {
        Verdict verdict;         /* what the policy says */
        bool enforced;           /* false in audit mode: a deny does not block */
        char *rule;              /* the rule that decided, or "default" */
        json_t *reasons;         /* array of strings: every failed clause, or why allowed */
} Decision;

/*
 * Parses a policy. Errors name the file, line and column (jansson gives them
 * for syntax; for an unknown key or a bad value, the key's first place in
 * the text) and the JSON path: "policy.json:7:9: rules[1].require: unknown
 * key 'max_vcpu'". -EINVAL on any error, -ENOENT when the file is missing, -EPERM
 * when run as root and someone other than root could change the file
 * (vg_read_trusted_file).
 */
int policy_load(const char *path, Policy **ret, VgError *err);
int policy_parse(const char *text, size_t len, const char *path, Policy **ret, VgError *err);
Policy *policy_free(Policy *p);
DEFINE_POINTER_CLEANUP(Policy, policy_free)

/* Decides for facts f in context ctx. Fills *ret (clear it with
 * decision_clear). Returns 0 or -ENOMEM. */
int policy_decide(const Policy *p, const DomainFacts *f, const PolicyContext *ctx, Decision *ret);
void decision_clear(Decision *d);

/* The first reason, or "" (for the one-line message). */
const char *decision_reason(const Decision *d);

/* {"verdict", "enforced", "rule", "reasons", "mode"} */
json_t *decision_to_json(const Decision *d, const Policy *p);

/* True if path lies in dir (after refusing "..", "." and "//" tricks). */
bool policy_path_under(const char *path, const char *dir);
