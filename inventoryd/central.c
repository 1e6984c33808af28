/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The central shipper's schedule (central.h). A round every
 * central_interval_s when something was recorded since the last one (else
 * every IDLE_ROUND_S), and one 200 ms after a commit of new events, both
 * coalesced: a commit during a round asks for one more after it, however
 * many there were. While the centre is down only the timer retries: a
 * burst of commits does not make a burst of failed connects.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include <libvirt/libvirt.h>

#include "central.h"
#include "log.h"
#include "offload.h"
#include "virtgov/central/ship.h"
#include "virtgov/host/identity.h"
#include "virtgov/util/cleanup.h"

#define INSTANCE_KEY "central_instance"
/* After a commit: long enough to take a loop turn's burst in one round. */
#define SOON_MS 200
/* An idle host (nothing recorded since the last round) connects only this
 * often: 5,000 idle hosts would otherwise open 500 connections a second
 * at the default interval, to find there is nothing to do. */
#define IDLE_ROUND_S 300

struct Centrald {
        Daemon *d;
        Offload *worker;
        int periodic_timer, soon_timer;
        unsigned interval_s;
        bool soon_armed, queued, stopping;
        HostKey key;
        bool have_key;
        char host_id[HOST_ID_SIZE];
        char instance[33];
        uint64_t state_digest;        /* of the state in the centre; 0: ship it */
        uint64_t integrity_digest;    /* of its integrity state; 0: ship it */
        int64_t last_round_us;        /* when the last round began */
        ShipCancel cancel;
        /* The outage as said: its errno (0: none), so that it is said once,
         * and again only when its reason changes. */
        int down;
        bool shipped_once;
};

typedef struct ShipJob {
        Centrald *cd;                 /* the loop's: not touched on the thread */
        ShipRound round;
        Config *config;               /* a copy: a reload may replace the loop's */
        char *qemu_conf;
        VgError err;
        int r;
} ShipJob;

static void job_free(ShipJob *j) {
        if (!j)
                return;
        config_free(j->config);
        free(j->qemu_conf);
        free(j);
}

static void ship_work(void *u) {
        ShipJob *j = u;
        j->r = ship_round(&j->round, &j->err);
}

/* Why the centre did not take the round, in the reader's terms. */
static void say_down(Centrald *cd, int r, const char *why) {
        /* Once per outage: a centre going down cuts a round (57P01, the
         * connection lost) before it refuses connections, one outage. A
         * refusal by the database is said apart: it needs another fix. */
        if (cd->down && (cd->down == -EACCES) == (r == -EACCES))
                return;
        cd->down = r;
        if (r == -EACCES)
                log_msg(LOG_ERR, "central inventory: refused by the database: the role in the dsn may not write as "
                        "host id '%s' (virtgov.host_roles maps each role to one host id; see 'host_id' in the "
                        "config): %s; events stay here and are recorded as usual", cd->host_id, why);
        else
                log_msg(LOG_ERR, "central inventory: not shipping: %s; events wait here and are shipped, oldest "
                        "first, when it is back (retried every %u s)", why, cd->interval_s);
}

static void record_conflicts(Centrald *cd, const ShipRound *sr) {
        size_t n = sr->n_conflicts < SHIP_CONFLICTS_MAX ? sr->n_conflicts : SHIP_CONFLICTS_MAX;
        for (size_t i = 0; i < n; i++) {
                const ShipConflict *x = &sr->conflicts[i];
                log_msg(LOG_ERR, "central inventory: event %lld is another in the centre (hash %s here, %s there): "
                        "filed in virtgov.conflicts, the centre's row kept", (long long) x->seq, x->host_hash,
                        x->central_hash);
                Event *e = event_new("daemon", "central.conflict");
                if (!e) {
                        log_not_recorded("central.conflict", NULL);
                        continue;
                }
                char reason[256];
                snprintf(reason, sizeof(reason), "event %lld differs from the central inventory's row for host "
                         "id '%s'", (long long) x->seq, cd->host_id);
                event_set(&e->reason, reason);
                json_object_set_new(e->data, "seq", json_integer(x->seq));
                json_object_set_new(e->data, "host_hash", json_string(x->host_hash));
                json_object_set_new(e->data, "central_hash", json_string(x->central_hash));
                json_object_set_new(e->data, "host_id", json_string(cd->host_id));
                recorder_record(cd->d->rec, e);
        }
        if (sr->n_conflicts > n)
                log_msg(LOG_ERR, "central inventory: %zu more conflicting events filed in virtgov.conflicts, not "
                        "recorded here one by one", sr->n_conflicts - n);
}

/* What a round did, kept: the position first (what the centre has), then
 * the conflicts, then what is said. */
static void ship_record(ShipJob *j) {
        Centrald *cd = j->cd;
        ShipRound *sr = &j->round;
        if (sr->shipped_to != sr->cursor) {
                VgError err = { "" };
                if (store_meta_set_id(recorder_store(cd->d->rec), SHIP_CURSOR_KEY, sr->shipped_to, &err) < 0)
                        log_msg(LOG_WARNING, "central inventory: the position not kept (%s): the next round "
                                "sends those events again, which the centre finds it has", err.text);
        }
        record_conflicts(cd, sr);
        cd->state_digest = sr->new_state_digest;
        cd->integrity_digest = sr->new_integrity_digest;
        if (j->r == -ECANCELED)
                return;
        if (j->r < 0) {
                say_down(cd, j->r, j->err.text);
                return;
        }
        if (cd->down)
                log_msg(LOG_NOTICE, "central inventory reachable again: %zu events shipped", sr->n_new);
        else if (!cd->shipped_once)
                log_msg(LOG_INFO, "central inventory: shipping as host id '%s': %zu events shipped, %zu already "
                        "there", cd->host_id, sr->n_new, sr->n_replayed);
        cd->down = 0;
        cd->shipped_once = true;
}

static void run_round(Centrald *cd);

static void ship_done(void *u) {
        ShipJob *j = u;
        Centrald *cd = j->cd;
        ship_record(j);
        job_free(j);
        if (cd->queued && !cd->stopping && !cd->down) {
                cd->queued = false;
                run_round(cd);
        }
}

static void ship_discard(void *u) {
        ShipJob *j = u;
        ship_record(j);
        job_free(j);
}

static void run_round(Centrald *cd) {
        Daemon *d = cd->d;
        if (offload_busy(cd->worker)) {
                cd->queued = true;
                return;
        }
        cd->queued = false;
        VgError err = { "" };
        int64_t at = 0, head = 0;
        int k = store_meta_get_id(recorder_store(d->rec), SHIP_CURSOR_KEY, &at, &err);
        if (k < 0 && k != -ENOENT) {
                say_down(cd, k, err.text);
                return;
        }
        char hash[CHAIN_HEX_SIZE];
        if (cd->shipped_once && !cd->down && vg_now_us() - cd->last_round_us < (int64_t) IDLE_ROUND_S * 1000000 &&
            store_chain_head(recorder_store(d->rec), &head, hash, &err) == 0 && head == at)
                return;   /* nothing new since the last round */
        ShipJob *j = calloc(1, sizeof(*j));
        const char *qdir = d->config->qemu_config_dir;
        const char *slash = qdir ? strrchr(qdir, '/') : NULL;
        if (!j || !(j->config = config_dup(d->config)) ||
            (slash && asprintf(&j->qemu_conf, "%.*s/qemu.conf", (int) (slash - qdir), qdir) < 0)) {
                log_msg(LOG_ERR, "central inventory: out of memory: round not run");
                job_free(j);
                return;
        }
        const Config *c = j->config;
        j->cd = cd;
        j->round = (ShipRound) {
                .inventory = c->inventory, .busy_timeout_ms = c->busy_timeout_ms, .dsn = c->central_dsn,
                .app = "virtgov-inventoryd", .host_id = cd->host_id, .host_group = c->central_host_group,
                .instance = cd->instance, .machine_id_file = c->machine_id_file, .qemu_conf = j->qemu_conf,
                .dpkg_admindir = c->dpkg_admindir, .dpkg_log = c->dpkg_log,
                .key = cd->have_key ? &cd->key : NULL, .batch = c->central_batch,
                .cursor = at, .state_digest = cd->state_digest, .integrity_digest = cd->integrity_digest,
                .cancel = &cd->cancel,
        };
        cd->last_round_us = vg_now_us();
        if (offload_run(cd->worker, ship_work, ship_done, j) < 0) {   /* not busy: checked */
                log_msg(LOG_ERR, "central inventory: round not run");
                job_free(j);
        }
}

static void on_soon(int timer, void *opaque) {
        Centrald *cd = opaque;
        virEventUpdateTimeout(timer, -1);
        cd->soon_armed = false;
        run_round(cd);
}

static void on_periodic(int timer, void *opaque) {
        run_round(opaque);
}

/* The recorder committed events: a round soon, unless the centre is
 * down (the periodic retry finds out when it is back). */
static void on_commit(void *opaque) {
        Centrald *cd = opaque;
        if (cd->down || cd->stopping)
                return;
        if (offload_busy(cd->worker)) {
                cd->queued = true;
                return;
        }
        if (!cd->soon_armed) {
                cd->soon_armed = true;
                virEventUpdateTimeout(cd->soon_timer, SOON_MS);
        }
}

static void arm_periodic(Centrald *cd) {
        unsigned s = cd->d->config->central_interval_s;
        if (s == cd->interval_s)
                return;
        cd->interval_s = s;
        int64_t ms = (int64_t) (s ? s : 1) * 1000;
        virEventUpdateTimeout(cd->periodic_timer, ms > INT_MAX ? INT_MAX : (int) ms);
}

/* meta central_instance: 128 random bits, made once per inventory. */
static int instance_init(Centrald *cd) {
        Store *s = recorder_store(cd->d->rec);
        VgError err = { "" };
        _cleanup_free_ char *v = NULL;
        int k = store_meta_get(s, INSTANCE_KEY, &v, &err);
        if (k == 0 && strlen(v) == 32) {
                snprintf(cd->instance, sizeof(cd->instance), "%s", v);
                return 0;
        }
        if (k < 0 && k != -ENOENT) {
                log_msg(LOG_ERR, "central inventory: %s: shipping is off", err.text);
                return k;
        }
        uint8_t b[16];
        if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
                log_msg(LOG_ERR, "central inventory: getrandom: %s: shipping is off", strerror(errno));
                return -EIO;
        }
        vg_hex(b, sizeof(b), cd->instance);
        if ((k = store_meta_set(s, INSTANCE_KEY, cd->instance, &err)) < 0) {
                log_msg(LOG_ERR, "central inventory: %s: shipping is off", err.text);
                return k;
        }
        return 0;
}

int centrald_start(Daemon *d) {
        if (!d->config->central_dsn || d->central)
                return 0;
        Centrald *cd = calloc(1, sizeof(*cd));
        if (!cd) {
                log_msg(LOG_ERR, "central inventory: out of memory: shipping is off");
                return -ENOMEM;
        }
        *cd = (Centrald) { .d = d, .periodic_timer = -1, .soon_timer = -1 };
        ship_cancel_init(&cd->cancel);
        d->central = cd;
        VgError err = { "" };
        if (host_id_of(d->config, cd->host_id, &err) < 0) {
                log_msg(LOG_ERR, "central inventory: %s: shipping is off", err.text);
                centrald_stop(d);
                return -EINVAL;
        }
        /* The recorder made the key (or said why not): its public half
         * goes to the centre, its signature on each head. */
        cd->have_key = head_key_load(d->config->host_key, &cd->key, &err) == 0;
        if (instance_init(cd) < 0 || offload_new("central", &cd->worker) < 0) {
                centrald_stop(d);
                return -EIO;
        }
        cd->periodic_timer = virEventAddTimeout(-1, on_periodic, cd, NULL);
        cd->soon_timer = virEventAddTimeout(-1, on_soon, cd, NULL);
        if (cd->periodic_timer < 0 || cd->soon_timer < 0) {
                log_msg(LOG_ERR, "central inventory: cannot add to the event loop: shipping is off");
                centrald_stop(d);
                return -EIO;
        }
        arm_periodic(cd);
        recorder_on_commit(d->rec, on_commit, cd);
        cd->soon_armed = true;
        virEventUpdateTimeout(cd->soon_timer, 0);
        log_msg(LOG_INFO, "central inventory: shipping as host id '%s' every %u s, %u events a batch", cd->host_id,
                cd->interval_s, d->config->central_batch);
        return 0;
}

void centrald_reload(Daemon *d) {
        Centrald *cd = d->central;
        if (!d->config->central_dsn) {
                if (cd)
                        log_msg(LOG_INFO, "central inventory: no dsn after the reload: shipping stops");
                centrald_stop(d);
                return;
        }
        if (!cd) {
                (void) centrald_start(d);
                return;
        }
        arm_periodic(cd);
        cd->down = 0;   /* the dsn may be mended: say again what fails */
        on_commit(cd);
}

void centrald_stop(Daemon *d) {
        Centrald *cd = d->central;
        if (!cd)
                return;
        cd->stopping = true;
        if (d->rec)
                recorder_on_commit(d->rec, NULL, NULL);
        /* First the round's socket, so that the join does not wait on a
         * silent server; what it committed is kept (ship_discard). */
        ship_cancel(&cd->cancel);
        cd->worker = offload_free(cd->worker, ship_discard);
        if (cd->periodic_timer >= 0)
                virEventRemoveTimeout(cd->periodic_timer);
        if (cd->soon_timer >= 0)
                virEventRemoveTimeout(cd->soon_timer);
        explicit_bzero(&cd->key, sizeof(cd->key));
        pthread_mutex_destroy(&cd->cancel.lock);
        free(cd);
        d->central = NULL;
}
