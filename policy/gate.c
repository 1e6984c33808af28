/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Not part of the pure engine: this file does the reading (policy file,
 * inventory) around it. Kept in one place so the hook, the daemon and
 * "virtgov policy test" cannot drift apart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/authz/authz.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/policy/gate.h"
#include "virtgov/host/image.h"
#include "virtgov/integrity/integrity.h"

/* What the engine is given, read from the inventory. The arrays grow with
 * what the store returns: its queries already keep to the domain's own
 * approvals and tickets, and a cap here once dropped the rest unseen (the
 * 257th ticket naming a domain was never considered). */
typedef struct Context {
        Approval *approvals;
        Ticket *tickets;
        ImageState *images;
        IntegrityBlock *integrity;
        size_t n_approvals, n_tickets, n_images, n_integrity;
        char **strings;          /* every string the arrays point at */
        size_t n_strings;
        size_t skipped;          /* rows that fail their check (authz.h) */
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

/* A row that cannot be evaluated (authz.h) authorizes nothing: it is
 * skipped and counted, and the decision goes on with the others. */
static int add_approval(const Approval *a, void *u) {
        Context *c = u;
        if (authz_check_approval(a, NULL) < 0) {
                c->skipped++;
                return 0;
        }
        if (vg_grow((void **) &c->approvals, &c->n_approvals, sizeof(Approval)) < 0)
                return -ENOMEM;
        c->approvals[c->n_approvals - 1] = (Approval) {
                .key = keep(c, a->key), .owner = keep(c, a->owner), .ticket = keep(c, a->ticket),
                .approved_by = keep(c, a->approved_by), .until_us = a->until_us, .time_us = a->time_us };
        return c->oom ? -ENOMEM : 0;
}

static int add_ticket(const Ticket *t, void *u) {
        Context *c = u;
        if (ticket_check(t, NULL) < 0) {
                c->skipped++;
                return 0;
        }
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

/* ---- integrity ---- */

static bool needs_integrity(const Policy *p) {
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].require.integrity)
                        return true;
        return false;
}

static void block(Context *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void block(Context *c, const char *path, const char *fmt, ...) {
        char why[1200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        if (vg_grow((void **) &c->integrity, &c->n_integrity, sizeof(IntegrityBlock)) < 0) {
                c->oom = true;
                return;
        }
        c->integrity[c->n_integrity - 1] = (IntegrityBlock) { .path = keep(c, path), .why = keep(c, why) };
}

/* Where QEMU's firmware, ROMs and modules live: whatever changes there
 * may be what the domain loads. */
static const char *const firmware_dirs[] = { "/usr/share/qemu", "/usr/share/seabios", "/usr/share/OVMF",
                                             "/usr/lib/ipxe/qemu", "/usr/lib/qemu", NULL };

/* What a finding of path says about the domain's start, and as what:
 * its own files, QEMU's firmware, a library (the isolation profile has
 * libraries only because QEMU or libvirt loads them), the loader's
 * config, a kernel module, libvirt's daemons, modules and configuration.
 * Not the domain definitions under /etc/libvirt/qemu/: libvirt writes
 * them at every define, and virtgov records defines as events. NULL: not
 * relevant. */
static const char *role_of(const char *path, const DomainFacts *f) {
        if (vg_streq(path, f->emulator))
                return "emulator";
        if (vg_streq(path, f->loader))
                return "loader";
        if (vg_streq(path, f->kernel))
                return "kernel";
        if (vg_streq(path, f->initrd))
                return "initrd";
        for (size_t i = 0; firmware_dirs[i]; i++)
                if (policy_path_under(path, firmware_dirs[i]))
                        return "firmware";
        /* QEMU's modules (accelerators, display, block drivers):
         * /usr/lib/<triplet>/qemu/ on Debian. */
        const char *triplet_end = !strncmp(path, "/usr/lib/", 9) ? strchr(path + 9, '/') : NULL;
        if (triplet_end && !strncmp(triplet_end, "/qemu/", 6))
                return "QEMU module";
        if (!strncmp(path, "/etc/libvirt/qemu/", 18))
                return NULL;
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strstr(path, "libvirt") || !strncmp(base, "virt", 4))
                return "libvirt file";
        if (strstr(base, ".so"))
                return !strncmp(path, "/etc/", 5) ? "loader configuration" : "library";
        if (policy_path_under(path, "/usr/lib/modules") || policy_path_under(path, "/lib/modules"))
                return "kernel module";
        return NULL;
}

typedef struct FindingScan {
        Context *c;
        const DomainFacts *f;
        int64_t now_us;
} FindingScan;

static int integrity_finding(const IntegrityFinding *x, void *u) {
        FindingScan *fs = u;
        const char *role;
        if (x->cls != DRIFT_UNEXPLAINED || (x->first_seen_us && x->first_seen_us > fs->now_us) ||
            !(role = role_of(x->path, fs->f)))
                return 0;
        block(fs->c, x->path, "%s %s %s since the baseline (unexplained)", role, x->path,
              x->kind == DRIFT_CHANGED ? "changed" : drift_kind_name(x->kind));
        return fs->c->oom ? -ENOMEM : 0;
}

static int integrity_process(const ProcessRecord *p, void *u) {
        FindingScan *fs = u;
        if (vg_streq(p->role, "qemu") || !vg_streq(p->status, "tampered") ||
            (p->checked_us && p->since_us > fs->now_us))
                return 0;
        block(fs->c, p->exe, "libvirt's %s (pid %lld) is tampered: %s", p->role, (long long) p->pid,
              p->why ? p->why : "see 'virtgov report integrity'");
        return fs->c->oom ? -ENOMEM : 0;
}

/* The domain's own files against their baseline rows, by stat only: a
 * swap the daemon has not checked yet (or could not: it is down) is seen
 * at the start it matters for. */
static int own_file(Context *c, Store *s, const char *role, const char *path, VgError *err) {
        if (!path)
                return 0;
        _cleanup_(fscan_list_freep) FscanList *rows = NULL;
        int r = store_baseline_of(s, path, &rows, err);
        if (r < 0)
                return r;
        if (!rows->n) {
                block(c, path, "%s %s is not in the integrity baseline", role, path);
                return c->oom ? -ENOMEM : 0;
        }
        FscanFile now;
        r = fscan_file(path, FSCAN_ALL & ~FSCAN_SHA256, &now);
        if (r == -ENOENT) {
                block(c, path, "%s %s is missing", role, path);
                return c->oom ? -ENOMEM : 0;
        }
        unsigned diff = r < 0 ? FSCAN_TYPE
                      : fscan_diff(&rows->files[0], &now, FSCAN_TYPE | FSCAN_SIZE | FSCAN_INODE | FSCAN_MTIME |
                                   FSCAN_CTIME | FSCAN_MODE | FSCAN_UID | FSCAN_GID);
        if (r == 0)
                fscan_file_clear(&now);
        if (diff) {
                char what[128] = "";
                size_t k = 0;
                for (unsigned a = 1; a <= FSCAN_SHA256; a <<= 1)
                        if (diff & a)
                                k += (size_t) snprintf(what + k, k < sizeof(what) ? sizeof(what) - k : 0, "%s%s",
                                                       k ? ", " : "", fscan_attr_name(a));
                block(c, path, "%s %s changed since the baseline (%s), not yet checked", role, path, what);
        }
        return c->oom ? -ENOMEM : 0;
}

static int collect_integrity(Context *c, Store *s, const DomainFacts *f, int64_t now_us, VgError *err) {
        FindingScan fs = { c, f, now_us };
        const char *const own[][2] = { { "emulator", f->emulator }, { "loader", f->loader },
                                       { "kernel", f->kernel }, { "initrd", f->initrd } };
        if (!f->emulator)
                block(c, NULL, "the domain XML names no <emulator> to check against the integrity baseline");
        int r = store_findings(s, integrity_finding, &fs, err);
        if (r == 0)
                r = store_processes(s, integrity_process, &fs, err);
        /* A file the daemon's finding already names is said once. */
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(own); i++) {
                bool said = false;
                for (size_t k = 0; k < c->n_integrity && !said; k++)
                        said = vg_streq(c->integrity[k].path, own[i][1]);
                if (!said)
                        r = own_file(c, s, own[i][0], own[i][1], err);
        }
        return c->oom ? -ENOMEM : r;
}

static void context_free(Context *c) {
        for (size_t i = 0; i < c->n_strings; i++)
                free(c->strings[i]);
        free(c->strings);
        free(c->approvals);
        free(c->tickets);
        free(c->images);
        free(c->integrity);
}

static void set_error(GateResult *r, const Policy *p, const char *what) {
        r->error = true;
        /* With no readable policy there is no on_error and no mode: deny,
         * the safe default (doc/ARCHITECTURE.md, fail closed). In audit
         * mode an error, like any deny, is recorded but does not block. */
        r->verdict = p ? p->on_error : VERDICT_DENY;
        r->enforced = r->verdict == VERDICT_DENY && (!p || p->mode == POLICY_ENFORCE);
        r->rule = strdup("on_error");
        if (asprintf(&r->reason, "%s (on_error: %s)", what, r->verdict == VERDICT_ALLOW ? "allow" : "deny") < 0)
                r->reason = NULL;
        r->detail = json_pack("{s:s, s:s, s:[s]}", "rule", "on_error", "error", what, "reasons", what);
}

int gate_load(const char *policy_path, Policy **ret_p, GateResult *ret) {
        GateResult r = { .verdict = VERDICT_ALLOW };
        VgError err = { "" };
        int k = policy_load(policy_path, ret_p, &err);
        if (k == 0)
                return 1;
        if (k == -ENOENT) {
                /* No policy: everything is allowed, and recorded as such. */
                r.rule = NULL;
                if (asprintf(&r.reason, "no policy at '%s'", policy_path) < 0)
                        r.reason = NULL;
                r.detail = json_pack("{s:n, s:s}", "rule", "reason", "no policy file");
                *ret = r;
                return 0;
        }
        r.have_policy = true;
        char what[1200];
        snprintf(what, sizeof(what), "policy unreadable: %s", err.text);
        set_error(&r, NULL, what);
        *ret = r;
        return 0;
}

bool gate_needs_inventory(const Policy *p) {
        return needs_integrity(p);
}

void gate_decide(const char *policy_path, Store *s, const char *store_error, DomainFacts *f,
                 const char *op, const char *host, int64_t now_us, GateResult *ret) {
        Policy *p = NULL;
        if (gate_load(policy_path, &p, ret) == 0)
                return;
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
        } else if (needs_integrity(p) && collect_integrity(&c, s, f, now_us, &err) < 0) {
                char what[1200];
                snprintf(what, sizeof(what), "cannot consult the integrity baseline: %s",
                         c.oom || !*err.text ? "out of memory" : err.text);
                set_error(&r, p, what);
        } else {
                PolicyContext ctx = { .now_us = now_us, .op = op, .host = host,
                                      .approvals = c.approvals, .n_approvals = c.n_approvals,
                                      .tickets = c.tickets, .n_tickets = c.n_tickets,
                                      .images = c.images, .n_images = c.n_images,
                                      .integrity = c.integrity, .n_integrity = c.n_integrity };
                Decision d;
                if (policy_decide(p, f, &ctx, &d) < 0) {
                        set_error(&r, p, "out of memory while deciding");
                } else {
                        r.verdict = d.verdict;
                        r.enforced = d.enforced;
                        r.rule = strdup(d.rule);
                        r.reason = strdup(decision_reason(&d));
                        r.detail = decision_to_json(&d, p);
                        if (c.skipped && r.detail)
                                json_object_set_new(r.detail, "skipped_rows", json_integer((json_int_t) c.skipped));
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
