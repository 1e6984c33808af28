/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deciding: pure. Every input is an argument; the output is the Decision. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/model/event.h"
#include "virtgov/util/glob.h"
#include "virtgov/policy/policy.h"

/* A rule's glob: NULL matches anything. */
static bool glob(const char *pattern, const char *s) {
        return !pattern || glob_match(pattern, s);
}

static bool in_list(char *const *list, const char *s) {
        for (size_t i = 0; list && list[i]; i++)
                if (s && !strcmp(list[i], s))
                        return true;
        return false;
}

static bool rule_matches(const PolicyRule *r, const DomainFacts *f, const PolicyContext *ctx) {
        if (!glob(r->match_name, f->name) || !glob(r->match_uuid, f->uuid) || !glob(r->match_host, ctx->host))
                return false;
        /* A rule about owners does not match a domain that has none. */
        if (r->match_owner && !glob(r->match_owner, f->owner))
                return false;
        return !r->match_ops || in_list(r->match_ops, ctx->op);
}

__attribute__((format(printf, 2, 3)))
static void reason(json_t *reasons, const char *fmt, ...) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        json_array_append_new(reasons, event_json_string(buf));
}

bool policy_path_under(const char *path, const char *dir) {
        if (!path || path[0] != '/' || strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//"))
                return false;
        size_t pl = strlen(path), dl = strlen(dir);
        if (pl >= 3 && !strcmp(path + pl - 3, "/.."))
                return false;
        while (dl > 1 && dir[dl - 1] == '/')
                dl--;
        return pl > dl && !strncmp(path, dir, dl) && path[dl] == '/';
}

static void fmt_time(int64_t us, char buf[static VG_TIME_MAX]) {
        vg_time_format(us, buf);
        /* Seconds are enough for a person. */
        strcpy(buf + 19, "Z");
}

/* ---- the clauses ---- */

/* The approval that holds now, or NULL after adding why not. */
static const Approval *check_approved(const DomainFacts *f, const PolicyContext *ctx, json_t *why) {
        const Approval *expired = NULL;
        for (size_t i = 0; i < ctx->n_approvals; i++) {
                const Approval *a = &ctx->approvals[i];
                if (strcmp(a->key, f->name) && (!f->uuid || strcmp(a->key, f->uuid)))
                        continue;
                if (!a->until_us || ctx->now_us < a->until_us)
                        return a;
                expired = a;
        }
        if (expired) {
                char t[VG_TIME_MAX];
                fmt_time(expired->until_us, t);
                reason(why, "its approval expired at %s", t);
        } else
                reason(why, "not approved (virtgov approve '%s')", f->name);
        return NULL;
}

static bool ticket_applies(const Ticket *t, const DomainFacts *f, const PolicyContext *ctx) {
        if (!ticket_covers(t, f->name))
                return false;
        /* A "start" ticket covers every way of activating: start, an
         * incoming migration, a restore. */
        bool define = !strcmp(ctx->op, "define");
        return !t->action || !strcmp(t->action, "any") || (define ? !strcmp(t->action, "define")
                                                                   : !strcmp(t->action, "start"));
}

/* The ticket the domain's metadata names, when the inventory has it. */
static const Ticket *named(const DomainFacts *f, const PolicyContext *ctx) {
        for (size_t i = 0; f->ticket && i < ctx->n_tickets; i++)
                if (!strcmp(ctx->tickets[i].id, f->ticket))
                        return &ctx->tickets[i];
        return NULL;
}

/*
 * The ticket the domain's metadata names, when that claim is false: the
 * ticket is in the inventory and does not cover the domain. Anyone who
 * may define a domain can write any ticket's ID into its metadata; taking
 * the claim at its word once let a ticket for 'other' start 'victim'. A
 * ticket not in the inventory is no claim to check (it covers nothing,
 * and is said so where tickets are wanted).
 */
static const Ticket *false_claim(const DomainFacts *f, const PolicyContext *ctx) {
        const Ticket *t = named(f, ctx);
        return t && !ticket_covers(t, f->name) ? t : NULL;
}

/* The ticket that covers now, or NULL after adding why none does. A false
 * claim in the metadata is a reason of its own, whatever else covers. */
static const Ticket *check_ticket(const DomainFacts *f, const PolicyContext *ctx, json_t *why) {
        const Ticket *claim = named(f, ctx);
        if (claim && !ticket_covers(claim, f->name)) {
                reason(why, "its metadata names change ticket '%s', which does not cover '%s' (its domains: '%s')",
                       claim->id, f->name, claim->domain_glob ? claim->domain_glob : "");
                return NULL;
        }
        const Ticket *late = NULL, *early = NULL;
        for (size_t i = 0; i < ctx->n_tickets; i++) {
                const Ticket *t = &ctx->tickets[i];
                if (!ticket_applies(t, f, ctx))
                        continue;
                if (ctx->now_us >= t->from_us && ctx->now_us < t->until_us)
                        return t;
                if (ctx->now_us >= t->until_us)
                        late = t;
                else
                        early = t;
        }
        char a[VG_TIME_MAX];
        if (late) {
                fmt_time(late->until_us, a);
                reason(why, "change ticket '%s' expired at %s", late->id, a);
        } else if (early) {
                fmt_time(early->from_us, a);
                reason(why, "change ticket '%s' window opens at %s", early->id, a);
        } else if (f->ticket && !claim)
                reason(why, "no approved change ticket covers now ('%s' from its metadata is not in the "
                       "inventory)", f->ticket);
        else if (claim)
                reason(why, "no approved change ticket covers now ('%s' from its metadata is for %s)", f->ticket,
                       claim->action ? claim->action : "start");
        else
                reason(why, "no approved change ticket covers now");
        return NULL;
}

static const ImageState *image_state(const PolicyContext *ctx, const char *path) {
        for (size_t i = 0; i < ctx->n_images; i++)
                if (!strcmp(ctx->images[i].path, path))
                        return &ctx->images[i];
        return NULL;
}

static void check_trusted(const PolicyContext *ctx, const char *path, const char *target, json_t *why) {
        const ImageState *st = image_state(ctx, path);
        if (!st || !st->trusted)
                reason(why, "disk %s: image '%s' is not trusted (%s)", target, path,
                       st && st->why ? st->why : "not in the trusted-image library");
}

static void check_disks(const PolicyRequire *req, const DomainFacts *f, const PolicyContext *ctx, json_t *why) {
        for (size_t i = 0; i < f->n_disks; i++) {
                const DiskFacts *d = &f->disks[i];
                const char *target = d->target ? d->target : "?";
                if (!d->source)
                        continue;   /* an empty cdrom drive */
                bool is_path = d->source[0] == '/';
                if (req->image_dirs) {
                        bool ok = false;
                        for (size_t k = 0; is_path && req->image_dirs[k] && !ok; k++)
                                ok = policy_path_under(d->source, req->image_dirs[k]);
                        if (!ok)
                                reason(why, "disk %s: '%s' is not under an approved image directory", target,
                                       d->source);
                        for (size_t b = 0; b < d->n_backing; b++) {
                                bool bok = false;
                                for (size_t k = 0; req->image_dirs[k] && !bok; k++)
                                        bok = policy_path_under(d->backing[b], req->image_dirs[k]);
                                if (!bok)
                                        reason(why, "disk %s: backing file '%s' is not under an approved "
                                               "image directory", target, d->backing[b]);
                        }
                }
                if (req->trusted_images) {
                        /* A writable overlay on a trusted base is the normal
                         * pattern: its top layer changes with every run. */
                        bool overlay = d->n_backing > 0 && !d->readonly;
                        if (!is_path)
                                reason(why, "disk %s: '%s' is not a file and cannot be a trusted image",
                                       target, d->source);
                        else if (!overlay)
                                check_trusted(ctx, d->source, target, why);
                        for (size_t b = 0; b < d->n_backing; b++)
                                check_trusted(ctx, d->backing[b], target, why);
                }
        }
}

static void check_require(const PolicyRequire *req, const DomainFacts *f, const PolicyContext *ctx, json_t *why) {
        if (req->approved)
                check_approved(f, ctx, why);
        if (req->owner && (!f->owner || !*f->owner))
                reason(why, "no owner in its urn:virtgov:1 metadata");
        if (req->ticket)
                check_ticket(f, ctx, why);
        check_disks(req, f, ctx, why);
        for (size_t i = 0; req->networks && i < f->n_ifaces; i++) {
                const InterfaceFacts *n = &f->ifaces[i];
                const char *src = n->source ? n->source : n->type;
                if (!in_list(req->networks, src))
                        reason(why, "interface %s on '%s' (%s) is not on an allowed network",
                               n->mac ? n->mac : "?", src ? src : "?", n->type ? n->type : "?");
        }
        if (req->max_vcpus && f->vcpus > req->max_vcpus)
                reason(why, "%u vCPUs exceed the limit of %u", f->vcpus, req->max_vcpus);
        if (req->max_memory_mib && f->memory_kib > req->max_memory_mib * 1024)
                reason(why, "%llu MiB of memory exceed the limit of %llu MiB",
                       (unsigned long long) (f->memory_kib / 1024), (unsigned long long) req->max_memory_mib);
        if (req->no_qemu_commandline && f->qemu_commandline)
                reason(why, "<qemu:commandline> passes arguments to QEMU unchecked");
        for (size_t i = 0; req->integrity && i < ctx->n_integrity; i++)
                reason(why, "%s", ctx->integrity[i].why);
        for (size_t i = 0; req->no_seclabel_none && i < f->n_seclabels; i++)
                if (f->seclabels[i].type && !strcmp(f->seclabels[i].type, "none"))
                        reason(why, "seclabel type='none'%s%s turns confinement off",
                               f->seclabels[i].model ? " model=" : "",
                               f->seclabels[i].model ? f->seclabels[i].model : "");
}

/*
 * No rule matched. "default": "deny" means deny unless authorized: an
 * approval that holds now, or a change ticket whose window covers now, lets
 * the activation through, unless the domain's metadata claims a ticket
 * that does not cover it (check_ticket): an approved domain is not let
 * through on a false claim either, so that no record shows a start under
 * a ticket that never covered it. "default": "allow" lets everything
 * through.
 */
static void default_decision(const Policy *p, const DomainFacts *f, const PolicyContext *ctx, Decision *d) {
        if (p->fallback == VERDICT_ALLOW) {
                d->verdict = VERDICT_ALLOW;
                reason(d->reasons, "no rule matches; the policy's default is allow");
                return;
        }
        json_t *why = json_array();
        const Approval *a = check_approved(f, ctx, why);
        const Ticket *t = check_ticket(f, ctx, why);
        if (a && !false_claim(f, ctx)) {
                d->verdict = VERDICT_ALLOW;
                reason(d->reasons, "approved%s%s; no rule matches", a->approved_by ? " by " : "",
                       a->approved_by ? a->approved_by : "");
        } else if (t) {
                d->verdict = VERDICT_ALLOW;
                reason(d->reasons, "change ticket '%s' covers now; no rule matches", t->id);
        } else {
                /* One line that says every reason, since it is what virsh
                 * shows. */
                char line[512] = "";
                size_t i, k = 0;
                json_t *v;
                d->verdict = VERDICT_DENY;
                json_array_foreach(why, i, v)
                        if (k < sizeof(line))
                                k += (size_t) snprintf(line + k, sizeof(line) - k, "%s%s", i ? "; " : "",
                                                       json_string_value(v));
                reason(d->reasons, "%s", line);
                reason(d->reasons, "no rule matches; the policy's default is deny");
        }
        json_decref(why);
}

int policy_decide(const Policy *p, const DomainFacts *f, const PolicyContext *ctx, Decision *ret) {
        Decision d = { .reasons = json_array(), .enforced = p->mode == POLICY_ENFORCE };
        if (!d.reasons)
                return -ENOMEM;
        const PolicyRule *r = NULL;
        for (size_t i = 0; i < p->n_rules && !r; i++)
                if (rule_matches(&p->rules[i], f, ctx))
                        r = &p->rules[i];
        if (!r) {
                d.rule = strdup("default");
                default_decision(p, f, ctx, &d);
        } else if (r->has_action) {
                d.verdict = r->action;
                d.rule = strdup(r->name);
                reason(d.reasons, "rule '%s' says %s", r->name, r->action == VERDICT_ALLOW ? "allow" : "deny");
        } else {
                d.rule = strdup(r->name);
                check_require(&r->require, f, ctx, d.reasons);
                d.verdict = json_array_size(d.reasons) ? VERDICT_DENY : VERDICT_ALLOW;
                if (d.verdict == VERDICT_ALLOW)
                        reason(d.reasons, "every requirement of rule '%s' is met", r->name);
        }
        if (!d.rule) {
                json_decref(d.reasons);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

void decision_clear(Decision *d) {
        free(d->rule);
        json_decref(d->reasons);
        *d = (Decision) { 0 };
}

const char *decision_reason(const Decision *d) {
        const char *s = json_string_value(json_array_get(d->reasons, 0));
        return s ? s : "";
}

json_t *decision_to_json(const Decision *d, const Policy *p) {
        return json_pack("{s:s, s:b, s:s, s:O, s:s}", "verdict", d->verdict == VERDICT_ALLOW ? "allow" : "deny",
                         "enforced", d->enforced, "rule", d->rule, "reasons", d->reasons,
                         "mode", p->mode == POLICY_ENFORCE ? "enforce" : "audit");
}
