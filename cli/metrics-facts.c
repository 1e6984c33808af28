/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The facts a fleet dashboard wants of each host's inventory (metrics.h):
 * its domains one series each, the host's software, the policy's
 * decisions, the hash chain and the daemon. Read from the inventory and,
 * for what it does not hold (the host's id, whether the daemon runs now,
 * the running kernel of this machine), from the host; nothing is guessed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "metrics.h"
#include "virtgov/central/ship.h"
#include "virtgov/host/identity.h"
#include "virtgov/model/kinds.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/util/text.h"

static void family(const char *name, const char *type, const char *help) {
        printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ,name="value" (or name="value" for the first label): the value escaped. */
static void label(FILE *f, bool first, const char *name, const char *value) {
        fprintf(f, "%s%s=\"", first ? "" : ",", name);
        vg_text_put_prom_label(value, f);
        putc('"', f);
}

/* ---- domains ---- */

/* The samples of the two per-domain families, gathered in one walk and
 * printed after the counts: a family's samples must be together. */
typedef struct DomainWalk {
        json_t *states;          /* state -> count, undefined domains too */
        FILE *info, *running;
} DomainWalk;

static int domain_row(const DomainRow *d, void *u) {
        DomainWalk *w = u;
        const char *state = d->state ? d->state : "";
        /* _nocheck: a key that is not UTF-8 is kept (the label rule makes
         * it printable), not dropped. */
        json_object_set_new_nocheck(w->states, state,
                                    json_integer(json_integer_value(json_object_get(w->states, state)) + 1));
        /* An undefined domain is history, not the host's: one series each
         * would grow without bound, and virtgov_domains counts them. */
        if (vg_streq(d->state, "undefined"))
                return 0;
        fputs("virtgov_domain_info{", w->info);
        label(w->info, true, "uuid", d->uuid);
        label(w->info, false, "name", d->name);
        label(w->info, false, "host", d->host);
        label(w->info, false, "owner", d->owner);
        label(w->info, false, "ticket", d->ticket);
        label(w->info, false, "state", d->state);
        fputs("} 1\n", w->info);
        fputs("virtgov_domain_running{", w->running);
        label(w->running, true, "uuid", d->uuid);
        label(w->running, false, "name", d->name);
        fprintf(w->running, "} %d\n", vg_streq(d->state, "running"));
        return ferror(w->info) || ferror(w->running) ? -ENOMEM : 0;
}

static void put_stream(FILE *f, char **buf) {
        fclose(f);
        fputs(*buf ? *buf : "", stdout);
        free(*buf);
        *buf = NULL;
}

int metrics_domains(Store *s, VgError *err) {
        char *info_buf = NULL, *running_buf = NULL;
        size_t info_len = 0, running_len = 0;
        DomainWalk w = { json_object(), open_memstream(&info_buf, &info_len),
                         open_memstream(&running_buf, &running_len) };
        int r = w.states && w.info && w.running ? store_list_domains(s, LIST_ALL, domain_row, &w, err) : -ENOMEM;
        if (r == 0) {
                family("virtgov_domains", "gauge", "Domains in the inventory by recorded state.");
                const char *state;
                json_t *v;
                json_object_foreach(w.states, state, v) {
                        fputs("virtgov_domains{", stdout);
                        label(stdout, true, "state", state);
                        printf("} %lld\n", (long long) json_integer_value(v));
                }
                family("virtgov_domain_info", "gauge", "A domain the inventory holds (not undefined), with its "
                       "owner, ticket and recorded state; always 1.");
        }
        if (w.info)
                r == 0 ? put_stream(w.info, &info_buf) : (void) fclose(w.info);
        if (r == 0)
                family("virtgov_domain_running", "gauge", "1 when the domain's recorded state is running, else 0.");
        if (w.running)
                r == 0 ? put_stream(w.running, &running_buf) : (void) fclose(w.running);
        free(info_buf);
        free(running_buf);
        json_decref(w.states);
        return r == -ENOMEM && !err->text[0] ? vg_error(err, r, "out of memory") : r;
}

/* ---- the host ---- */

/* The newest event of one kind for each host: hosts[host][key] is its
 * data[key] (versions, identity), hosts[host][key "_id"] its id. */
typedef struct Newest {
        json_t *hosts;
        const char *key;
} Newest;

static int newest_of(const Event *e, void *u) {
        Newest *n = u;
        const char *host = e->host ? e->host : "";
        char id_key[32];
        snprintf(id_key, sizeof(id_key), "%s_id", n->key);
        json_t *h = json_object_get(n->hosts, host);
        if (!h && json_object_set_new_nocheck(n->hosts, host, h = json_object()) < 0)
                return -ENOMEM;
        if (json_integer_value(json_object_get(h, id_key)) > e->id)
                return 0;   /* the newest by id wins, whatever the order */
        json_t *v = json_object_get(e->data, n->key);
        return json_object_set_new(h, id_key, json_integer(e->id)) < 0 ||
               json_object_set_new(h, n->key, json_is_object(v) ? json_incref(v) : json_null()) < 0 ? -ENOMEM : 0;
}

static const char *field(json_t *v, const char *key) {
        return json_string_value(json_object_get(v, key));
}

/* One host's sample: v its versions, ident its identity as recorded;
 * machine_id and kernel this machine's own (NULL for another host). */
static void host_sample(const char *host, json_t *v, json_t *ident, const char *machine_id, const char *kernel) {
        const char *driver = field(v, "driver");
        fputs("virtgov_host_info{", stdout);
        label(stdout, true, "host", host);
        label(stdout, false, "host_id", machine_id ? machine_id : field(ident, "machine_id"));
        label(stdout, false, "libvirt_uuid", field(ident, "libvirt_uuid"));
        label(stdout, false, "libvirt_version", field(v, "libvirt"));
        /* libvirt's hypervisor version is QEMU's only under its QEMU driver */
        label(stdout, false, "qemu_version", driver && !strcmp(driver, "QEMU") ? field(v, "hypervisor") : NULL);
        label(stdout, false, "kernel", field(v, "kernel") ? field(v, "kernel") : kernel);
        fputs("} 1\n", stdout);
}

int metrics_host(const Config *c, Store *s, VgError *err) {
        Newest n = { json_object(), "versions" };
        EventFilter f = { .kind = "host.software" };
        int r = n.hosts ? store_query_events(s, &f, newest_of, &n, err) : -ENOMEM;
        if (r == 0) {
                f.kind = "host.identity";
                n.key = "identity";
                r = store_query_events(s, &f, newest_of, &n, err);
        }
        if (r < 0) {
                json_decref(n.hosts);
                return r == -ENOMEM && !err->text[0] ? vg_error(err, r, "out of memory") : r;
        }
        /* The hook and the daemon file this machine's events under
         * gethostname(); its machine-id and running kernel, read now, are
         * facts of this machine only, never of a host it reaches over a
         * URI (whose host.identity has no machine-id). */
        char self[HOST_NAME_MAX + 1] = "";
        gethostname(self, sizeof(self) - 1);
        struct utsname u;
        const char *kernel = uname(&u) == 0 ? u.release : NULL;
        char idbuf[HOST_ID_SIZE];
        VgError iderr = { "" };
        const char *id = host_id_of(c, idbuf, &iderr) == 0 ? idbuf : NULL;
        if (!id)
                fprintf(stderr, "virtgov: warning: virtgov_host_info without host_id: %s\n", iderr.text);
        family("virtgov_host_info", "gauge", "A host of the inventory: its machine-id and libvirt's host UUID, and "
               "the libvirt, QEMU and kernel versions the daemon last recorded (empty: not known); always 1.");
        const char *host;
        json_t *h;
        json_object_foreach(n.hosts, host, h) {
                bool mine = !strcmp(host, self);
                host_sample(host, json_object_get(h, "versions"), json_object_get(h, "identity"), mine ? id : NULL,
                            mine ? kernel : NULL);
        }
        if (!json_object_get(n.hosts, self))
                host_sample(self, NULL, NULL, id, kernel);
        json_decref(n.hosts);
        return 0;
}

/* ---- events ---- */

/* The policy's decisions: those of the gated ops, as the hook took them
 * (a deny in audit mode is an allow there, with a policy.violation). */
typedef struct EventWalk {
        int64_t newest_us;
        int64_t decided[8][2];   /* by gated kind (event_kind_next order), allow and deny */
} EventWalk;

static int gated_index(const char *kind) {
        int i = 0;
        for (const EventKind *k = event_kind_next(NULL, KIND_GATED); k; k = event_kind_next(k, KIND_GATED), i++)
                if (i < 8 && !strcmp(k->name, kind))
                        return i;
        return -1;
}

static int event_count(const EventCount *c, void *u) {
        EventWalk *w = u;
        fputs("virtgov_events_total{", stdout);
        label(stdout, true, "kind", c->kind);
        label(stdout, false, "decision", c->decision);
        printf("} %lld\n", (long long) c->count);
        if (c->newest_us > w->newest_us)
                w->newest_us = c->newest_us;
        int i = c->kind && c->decision ? gated_index(c->kind) : -1;
        if (i >= 0 && (!strcmp(c->decision, "allow") || !strcmp(c->decision, "deny")))
                w->decided[i][!strcmp(c->decision, "deny")] += c->count;
        return 0;
}

int metrics_events(Store *s, VgError *err) {
        EventWalk w = { 0 };
        family("virtgov_events_total", "counter", "Events recorded, by kind and decision.");
        int r = store_event_counts(s, event_count, &w, err);
        if (r < 0)
                return r;
        family("virtgov_last_event_timestamp_seconds", "gauge", "Time of the newest event (0: none).");
        printf("virtgov_last_event_timestamp_seconds %lld\n", (long long) (w.newest_us / 1000000));
        /* Every gated op and both decisions, 0 too: increase() sees the
         * first deny only if the series was there before it. */
        family("virtgov_policy_decisions_total", "counter", "Decisions of the policy at the operations it gates "
               "(op: start, migrate, restore), as enforced: a deny in audit mode counts as allow.");
        int i = 0;
        for (const EventKind *k = event_kind_next(NULL, KIND_GATED); k && i < 8; k = event_kind_next(k, KIND_GATED), i++)
                for (int d = 0; d < 2; d++) {
                        fputs("virtgov_policy_decisions_total{", stdout);
                        label(stdout, true, "op", k->gate_op);
                        label(stdout, false, "decision", d ? "deny" : "allow");
                        printf("} %lld\n", (long long) w.decided[i][d]);
                }
        int64_t lost = 0;
        if ((r = store_audit_lost(s, &lost, err)) < 0)
                return r;
        family("virtgov_audit_lost_total", "counter", "Audit records lost (audit.lost events: their counts, 1 for "
               "one that could not count).");
        printf("virtgov_audit_lost_total %lld\n", (long long) lost);
        return 0;
}

/* ---- the chain and the daemon ---- */

int metrics_chain(Store *s, bool verify, VgError *err) {
        int64_t head = 0;
        char hex[CHAIN_HEX_SIZE];
        int r = store_chain_head(s, &head, hex, err);
        if (r < 0)
                return r;
        family("virtgov_chain_head_seq", "gauge", "Id of the newest event: the head of the hash chain.");
        printf("virtgov_chain_head_seq %lld\n", (long long) head);
        if (!verify)
                return 0;
        ChainVerify v;
        if ((r = store_verify_chain(s, 0, &v, err)) < 0)
                return r;
        family("virtgov_chain_verify_ok", "gauge", "1 when the whole hash chain verified (metrics --verify), 0 "
               "when an event was edited, deleted or reordered.");
        printf("virtgov_chain_verify_ok %d\n", r == 0);
        return 0;
}

/* ---- the central inventory ---- */

static int first_event(const Event *e, void *u) {
        int64_t *us = u;
        if (vg_time_parse(e->time, 0, us) < 0)
                *us = 0;
        return 0;
}

int metrics_central(const Config *c, Store *s, VgError *err) {
        if (!c->central_dsn)
                return 0;
        int64_t at = 0, head = 0, oldest = 0;
        char hex[CHAIN_HEX_SIZE];
        int r = store_meta_get_id(s, SHIP_CURSOR_KEY, &at, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if ((r = store_chain_head(s, &head, hex, err)) < 0)
                return r;
        EventFilter f = { .after_id = at > 0 ? at : -1, .limit = 1 };
        if (head > at && (r = store_query_events(s, &f, first_event, &oldest, err)) < 0)
                return r;
        int64_t lag = head > at && oldest ? (vg_now_us() - oldest) / 1000000 : 0;
        family("virtgov_central_pending_events", "gauge", "Events recorded here that the central inventory has not "
               "committed yet (hosts with a [central] section).");
        printf("virtgov_central_pending_events %lld\n", (long long) (head > at ? head - at : 0));
        family("virtgov_central_lag_seconds", "gauge", "Age of the oldest event the central inventory has not "
               "committed yet; 0 when none waits.");
        printf("virtgov_central_lag_seconds %lld\n", (long long) (lag > 0 ? lag : 0));
        return 0;
}

/* Whether a daemon holds the inventory's lock (inventoryd/pidlock.c: an
 * OFD write lock on "<inventory>.daemon.lock"): 1, 0, or a negative errno.
 * No lock file: no daemon ever ran on this inventory. */
static int daemon_locked(const char *inventory) {
        char path[PATH_MAX];
        if ((size_t) snprintf(path, sizeof(path), "%s.daemon.lock", inventory) >= sizeof(path))
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(fd, F_OFD_GETLK, &l) < 0)
                return -errno;
        return l.l_type != F_UNLCK;
}

static int count_event(const Event *e, void *u) {
        (void) e;
        ++*(size_t *) u;
        return 0;
}

int metrics_daemon(const Config *c, Store *s, VgError *err) {
        /* The lock file is the daemon's (0640): a reader it refuses gets
         * no virtgov_daemon_up rather than a wrong one, and is told. */
        int up = daemon_locked(c->inventory);
        if (up < 0 && up != -EACCES)
                return vg_error(err, up, "whether virtgov-inventoryd runs: '%s.daemon.lock': %s", c->inventory,
                                strerror(-up));
        if (up < 0)
                fprintf(stderr, "virtgov: virtgov_daemon_up left out: '%s.daemon.lock': %s\n", c->inventory,
                        strerror(-up));
        /* A daemon.degraded says a gap once and no event says it closed:
         * degraded holds until the daemon starts again (after the fix). */
        _cleanup_(event_freep) Event *started = NULL;
        int r = store_last_event(s, "daemon.started", &started, err);
        if (r < 0 && r != -ENOENT)
                return r;
        EventFilter f = { .kind = "daemon.degraded", .after_id = started ? started->id : -1 };
        size_t n = 0;
        if ((r = store_query_events(s, &f, count_event, &n, err)) < 0)
                return r;
        if (up >= 0) {
                family("virtgov_daemon_up", "gauge", "1 when virtgov-inventoryd holds the inventory's lock now.");
                printf("virtgov_daemon_up %d\n", up);
        }
        family("virtgov_daemon_degraded", "gauge", "1 when the daemon recorded daemon.degraded since it last started "
               "(cleared by its next start).");
        printf("virtgov_daemon_degraded %d\n", n > 0);
        return 0;
}
