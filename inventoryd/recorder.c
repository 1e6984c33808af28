/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The recorder (recorder.h). One thread, one loop: libvirt's callbacks,
 * inotify and the timers all run from virEventRunDefaultImpl, so nothing
 * here needs a lock.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <libvirt/libvirt.h>

#include "log.h"
#include "recorder.h"
#include "virtgov/host/identity.h"
#include "virtgov/ship/head.h"
#include "virtgov/ship/journal.h"
#include "virtgov/store/eventlog.h"
#include "virtgov/store/spool.h"
#include "virtgov/util/cleanup.h"

/* Events queued before a commit: a burst (a reconcile of many domains, a
 * fold) is committed every 1,000, one transaction each. */
#define RECORDER_BATCH 1000

struct Recorder {
        Store *store;
        const Config *config;    /* borrowed: main's, replaced on reload */
        /* Events recorded during one loop iteration, committed together at
         * its end (recorder_flush): one fsync per burst, not per event. */
        Event **queue;
        size_t n_queue;
        int flush_timer;
        /* A fold that failed (inventory locked, full, read-only) is tried
         * again after fold_retry_ms, doubling up to a minute. */
        int fold_retry_timer;
        unsigned fold_retry_ms;
        unsigned targets;        /* CONFIG_TO_* and TO_ACTION: where the copies go now */
        bool forward_stalled[3]; /* each copy's stall was said (sinks[]) */
        int64_t forward_at[3];   /* each copy's position as last read or kept; -1: read meta */
        bool forwarding;         /* in recorder_forward: a flush it causes forwards nothing */
        /* The authorization rows no decision can use, as last said (a
         * hash of their reasons; 0: none): said again only when they
         * change, not at every periodic pass. */
        uint64_t invalid_said;
        /* The chain heads' signature and host (head.h): the key made at
         * install, or here at the first start; read once. */
        HostKey key;
        bool have_key;
        char host_id[HOST_ID_SIZE];   /* "" when the machine-id cannot be read */
        void (*on_commit)(void *opaque);   /* recorder_on_commit */
        void *on_commit_opaque;
        int (*on_event)(void *opaque, const Event *e);   /* recorder_on_event */
        void *on_event_opaque;
};

/* The third copy, beside CONFIG_TO_JOURNAL and CONFIG_TO_SYSLOG: each event
 * to recorder_on_event's fn. */
#define TO_ACTION (1u << 8)
#define TO_LOGS (CONFIG_TO_JOURNAL | CONFIG_TO_SYSLOG)

static void on_flush(int timer, void *opaque);
static void on_fold_retry(int timer, void *opaque);
static void set_targets(Recorder *r);
static void keep_lazy_cursors(Recorder *r);

int recorder_new(Store *store, const Config *config, Recorder **ret) {
        Recorder *r = calloc(1, sizeof(*r));
        Event **queue = calloc(RECORDER_BATCH, sizeof(Event *));
        if (!r || !queue) {
                free(r);
                free(queue);
                store_close(store);
                return -ENOMEM;
        }
        *r = (Recorder) { .store = store, .config = config, .queue = queue, .forward_at = { -1, -1, -1 } };
        set_targets(r);
        /* (A timer that cannot be made, < 0, makes every record commit at
         * once and a failed fold wait for the next trigger: slower, not
         * wrong.) */
        r->flush_timer = virEventAddTimeout(-1, on_flush, r, NULL);
        r->fold_retry_timer = virEventAddTimeout(-1, on_fold_retry, r, NULL);
        /* Without the key the heads go out unsigned, and this says why
         * at every start: a collector then cannot tell them from forged
         * ones, but the chain is still anchored. */
        VgError err = { "" };
        int k = head_key_init(config->host_key, &r->key, &err);
        if (k < 0)
                log_msg(LOG_ERR, "chain heads go out unsigned: %s", err.text);
        else {
                r->have_key = true;
                if (k == 1)
                        log_msg(LOG_NOTICE, "made the host key %s", config->host_key);
        }
        if (host_id_of(config, r->host_id, &err) < 0)
                log_msg(LOG_ERR, "chain heads go out without the host's identity: %s", err.text);
        *ret = r;
        return 0;
}

Recorder *recorder_free(Recorder *r) {
        if (!r)
                return NULL;
        explicit_bzero(&r->key, sizeof(r->key));
        recorder_flush(r);
        keep_lazy_cursors(r);
        if (r->flush_timer >= 0)
                virEventRemoveTimeout(r->flush_timer);
        if (r->fold_retry_timer >= 0)
                virEventRemoveTimeout(r->fold_retry_timer);
        free(r->queue);
        store_close(r->store);
        free(r);
        return NULL;
}

void recorder_set_config(Recorder *r, const Config *config) {
        r->config = config;
        set_targets(r);
}

const char *recorder_targets(const Recorder *r) {
        switch (r->targets & TO_LOGS) {
        case CONFIG_TO_JOURNAL | CONFIG_TO_SYSLOG:
                return "the journal and syslog";
        case CONFIG_TO_JOURNAL:
                return "the journal";
        case CONFIG_TO_SYSLOG:
                return "syslog";
        default:
                return "nowhere";
        }
}

Store *recorder_store(Recorder *r) {
        recorder_flush(r);
        return r->store;
}

/* ---- the copies to the journal, to syslog and to integrity_action ---- */

/* One copy of the events: where it goes, and how far it has got (a
 * cursor in meta, one per copy, so that each resumes on its own). */
typedef struct Sink {
        const char *name;        /* said in the daemon's messages */
        const char *cursor;      /* the meta key */
        bool from_head;          /* no cursor yet: from the chain's head, not its start */
        /* The cursor kept only after an event the copy acted on (send
         * returned 1), and at the end: the others are read again after a
         * crash, harmlessly, rather than cost a commit each pass. */
        bool lazy;
        unsigned bit;            /* CONFIG_TO_* or TO_ACTION */
        int (*send)(const Recorder *r, const Event *e);
        const char *(*where)(const Recorder *r);
} Sink;

static int send_journal(const Recorder *r, const Event *e) {
        return eventlog_journal_send(e, r->host_id);
}

static const char *where_journal(const Recorder *r) {
        (void) r;
        return EVENTLOG_JOURNAL_SOCKET;
}

static int send_syslog(const Recorder *r, const Event *e) {
        _cleanup_free_ char *line = NULL;
        if (eventlog_format(e, &line) < 0)
                return -ENOMEM;
        return eventlog_send(r->config->syslog_socket, LOG_DAEMON | eventlog_severity(e), "virtgov", line);
}

static const char *where_syslog(const Recorder *r) {
        return r->config->syslog_socket;
}

static int send_action(const Recorder *r, const Event *e) {
        return r->on_event(r->on_event_opaque, e);
}

static const char *where_action(const Recorder *r) {
        (void) r;
        return "integrity_action";
}

/* integrity_action's copy sees every event whoever recorded it (the CLI's
 * checks too), once: from the head when it first runs, not the history. */
static const Sink sinks[] = {
        { "the journal", "journal_cursor", false, false, CONFIG_TO_JOURNAL, send_journal, where_journal },
        { "syslog", "syslog_cursor", false, false, CONFIG_TO_SYSLOG, send_syslog, where_syslog },
        { "integrity_action", "action_cursor", true, true, TO_ACTION, send_action, where_action },
};

/* Where the copies go now: asked at start and at each reload, as a
 * journald that starts later (or goes) changes what 'log = auto' means. */
static void set_targets(Recorder *r) {
        r->targets = config_log_targets(r->config, eventlog_journal_present()) | (r->on_event ? TO_ACTION : 0);
}

void recorder_on_event(Recorder *r, int (*fn)(void *opaque, const Event *e), void *opaque) {
        r->on_event = fn;
        r->on_event_opaque = opaque;
        set_targets(r);
}

typedef struct Forward {
        Recorder *r;
        const Sink *sink;
        int64_t last;       /* id of the last event sent */
        size_t n;
        bool acted;         /* send returned 1 for one of them */
        int unheard;        /* the journal or syslog socket refused one: -errno */
} Forward;

static int forward_one(const Event *e, void *userdata) {
        Forward *f = userdata;
        /* Nobody listening: stop here and retry from this event on the
         * next tick, rather than lose it for the central log. */
        int r = f->sink->send(f->r, e);
        if (r < 0) {
                f->unheard = r;
                return -EAGAIN;
        }
        f->acted |= r > 0;
        f->last = e->id;
        f->n++;
        return 0;
}

/*
 * A copy stalled (why) or, with why NULL, runs again. Said once per stall,
 * not at every one-second retry. An inventory that cannot be read or
 * cannot keep the cursor is also recorded (daemon.degraded); a journal or
 * syslog daemon not listening is not: the copy resumes where it stopped,
 * as documented, and the record itself is whole.
 */
static void forward_stalled(Recorder *r, size_t i, const char *why, bool inventory) {
        bool *stalled = &r->forward_stalled[i];
        if (!why) {
                if (*stalled)
                        log_msg(LOG_INFO, "the copy to %s resumed", sinks[i].name);
                *stalled = false;
                return;
        }
        if (*stalled)
                return;
        *stalled = true;   /* first: recorder_degraded's record may forward */
        char what[64];
        snprintf(what, sizeof(what), "the copy of events to %s stalled", sinks[i].name);
        if (inventory)
                recorder_degraded(r, NULL, what, why,
                                  "it resumes from the last event sent once the inventory can be read");
        else
                log_msg(LOG_WARNING, "%s: %s; it resumes from the last event sent", what, why);
}

/* Where a copy starts: its cursor; a journal copy that has none yet starts
 * where the syslog copy got to, for on a systemd host those lines went
 * into the journal already (/dev/log is journald's). -errno, err set. */
static int forward_cursor(Recorder *r, const Sink *sink, int64_t *ret, VgError *err) {
        int64_t *at = &r->forward_at[sink - sinks];
        if (sink->lazy && *at >= 0) {
                *ret = *at;
                return 0;
        }
        *ret = 0;
        int k = store_meta_get_id(r->store, sink->cursor, ret, err);
        if (k == -ENOENT && sink->bit == CONFIG_TO_JOURNAL)
                k = store_meta_get_id(r->store, "syslog_cursor", ret, err);
        if (k < 0 && k != -ENOENT)
                return k;
        if (k == 0 || !sink->from_head) {
                *at = *ret;
                return 0;
        }
        /* Kept at once: from the head as it is now, not as it is when
         * the next event comes. */
        char hex[CHAIN_HEX_SIZE];
        if ((k = store_chain_head(r->store, ret, hex, err)) < 0 ||
            (k = store_meta_set_id(r->store, sink->cursor, *ret, err)) < 0)
                return k;
        *at = *ret;
        return 0;
}

static void forward_to(Recorder *r, size_t i) {
        const Sink *sink = &sinks[i];
        VgError err = { "" };
        int64_t after = 0;
        int k = forward_cursor(r, sink, &after, &err);
        if (k < 0) {
                forward_stalled(r, i, err.text, true);
                return;
        }

        /* Batches of 1000 keep a first run over a large inventory from
         * holding the loop for long. The cursor is saved after each batch
         * (a lazy copy's only after one it acted on): a crash re-sends at
         * most one batch, never skips one. */
        for (;;) {
                /* data as stored (data_text): both copies print that very
                 * text; no decoding and dumping it again per event. */
                EventFilter f = { .after_id = after > 0 ? after : -1, .limit = 1000, .data_text = true };
                Forward fw = { r, sink, after, 0, false, 0 };
                k = store_query_events(r->store, &f, forward_one, &fw, &err);
                if (fw.last != after && sink->lazy && !fw.acted) {
                        r->forward_at[i] = after = fw.last;
                } else if (fw.last != after) {
                        VgError cerr = { "" };
                        if (store_meta_set_id(r->store, sink->cursor, fw.last, &cerr) < 0) {
                                /* What was sent is sent again next time. */
                                forward_stalled(r, i, cerr.text, true);
                                return;
                        }
                        r->forward_at[i] = after = fw.last;
                }
                if (fw.unheard) {
                        char why[PATH_MAX + 64];
                        snprintf(why, sizeof(why), "'%s': %s", sink->where(r), strerror(-fw.unheard));
                        forward_stalled(r, i, why, false);
                        return;
                }
                if (k < 0) {
                        forward_stalled(r, i, err.text[0] ? err.text : strerror(-k), true);
                        return;
                }
                if (fw.n < 1000)
                        break;
        }
        forward_stalled(r, i, NULL, false);
}

/* At the end: where the lazy copies got to, so that the next start does
 * not read those events again. */
static void keep_lazy_cursors(Recorder *r) {
        for (size_t i = 0; i < ELEMENTSOF(sinks); i++) {
                if (!sinks[i].lazy || r->forward_at[i] < 0)
                        continue;
                VgError err = { "" };
                if (store_meta_set_id(r->store, sinks[i].cursor, r->forward_at[i], &err) < 0)
                        log_msg(LOG_WARNING, "%s's position not kept (%s): its events are read again at the "
                                "next start", sinks[i].name, err.text);
        }
}

void recorder_forward(Recorder *r) {
        /* A copy that records (integrity_action's runs) may flush: what
         * that commits goes out on this pass or the next, not in a second
         * pass inside this one, which would send again what this one has
         * sent but not yet counted. */
        if (r->forwarding)
                return;
        r->forwarding = true;
        for (size_t i = 0; i < ELEMENTSOF(sinks); i++)
                if (r->targets & sinks[i].bit)
                        forward_to(r, i);
        r->forwarding = false;
}

/* (It is consistent in itself: only the copy outside the host shows what
 * the chain was.) */
void recorder_anchor(Recorder *r) {
        Head h;
        VgError err = { "" };
        _cleanup_free_ char *line = NULL;
        if (!(r->targets & TO_LOGS))
                return;
        int k = head_current(r->store, r->host_id, r->have_key ? &r->key : NULL, &h, &line, &err);
        if (k == -ENOENT)
                return;
        if (k < 0) {
                log_msg(LOG_WARNING, "chain head not sent: %s", err.text);
                return;
        }
        if (r->targets & CONFIG_TO_JOURNAL)
                (void) eventlog_journal_send_head(&h, line);
        if (r->targets & CONFIG_TO_SYSLOG)
                (void) eventlog_send(r->config->syslog_socket, LOG_DAEMON | LOG_NOTICE, "virtgov", line);
}

typedef struct Invalid {
        char why[1024];          /* the first reasons, for the event */
        size_t len;
        uint64_t hash;           /* FNV-1a of every reason */
} Invalid;

static int invalid_row(const char *kind, const char *key, const char *why, void *u) {
        Invalid *v = u;
        for (const char *p = why; *p; p++)
                v->hash = (v->hash ^ (uint8_t) *p) * UINT64_C(0x100000001b3);
        if (v->len < sizeof(v->why))
                v->len += (size_t) snprintf(v->why + v->len, sizeof(v->why) - v->len, "%s%s '%s': %s",
                                            v->len ? "; " : "", kind, key, why);
        return 0;
}

/* Rows of the approvals, tickets and trusted images that no decision can
 * use (authz.h): the gate skips them, so they authorize nothing, and an
 * auditor should know they are there. Said once until they change. */
static void check_invalid_authz(Recorder *r) {
        Invalid v = { .hash = UINT64_C(0xcbf29ce484222325) };
        size_t n = 0;
        VgError err = { "" };
        if (store_authz_invalid(r->store, invalid_row, &v, &n, &err) < 0) {
                log_msg(LOG_WARNING, "the authorizations not checked: %s", err.text);
                return;
        }
        uint64_t said = n ? v.hash : 0;
        if (said == r->invalid_said)
                return;
        r->invalid_said = said;
        if (n) {
                char what[128];
                snprintf(what, sizeof(what), "%zu authorization row(s) skipped by every decision", n);
                recorder_degraded(r, NULL, what, v.why, "'virtgov verify' lists them; correct a ticket with "
                                  "'virtgov ticket add ID --replace', remove an approval with 'virtgov revoke'");
        }
}

void recorder_check_authz(Recorder *r) {
        if (store_authz_check(r->store, true) == 1)
                log_msg(LOG_WARNING, "the hook's copy of the approvals, tickets and trusted images was not what "
                        "the inventory holds (restored, replaced or edited by hand?): made again");
        check_invalid_authz(r);
}

/* ---- the queue ---- */

static void spool_or_log(Recorder *r, Event *e, const char *why) {
        VgError serr = { "" };
        json_object_set_new(e->data, "spooled_because", event_json_string(why));
        if (spool_write(r->config->spool_dir, e, &serr) < 0)
                log_msg(LOG_ERR, "%s; and %s: event %s of '%s' NOT recorded", why, serr.text, e->kind,
                        e->domain ? e->domain : "-");
        else
                log_msg(LOG_WARNING, "%s; event spooled", why);
}

void recorder_on_commit(Recorder *r, void (*fn)(void *opaque), void *opaque) {
        r->on_commit = fn;
        r->on_commit_opaque = opaque;
}

static void committed(Recorder *r) {
        if (r->on_commit)
                r->on_commit(r->on_commit_opaque);
}

void recorder_flush(Recorder *r) {
        if (r->flush_timer >= 0)
                virEventUpdateTimeout(r->flush_timer, -1);
        if (!r->n_queue)
                return;
        VgError err = { "" };
        int k = store_begin(r->store, &err);
        for (size_t i = 0; k == 0 && i < r->n_queue; i++) {
                int a = store_append_event(r->store, r->queue[i], NULL, &err);
                k = a < 0 ? a : 0;
        }
        if (k == 0)
                k = store_commit(r->store, &err);
        if (k < 0) {
                /* Nothing of the batch is in: spool every one of them. */
                store_rollback(r->store);
                for (size_t i = 0; i < r->n_queue; i++)
                        spool_or_log(r, r->queue[i], err.text);
        } else
                committed(r);
        for (size_t i = 0; i < r->n_queue; i++)
                event_free(r->queue[i]);
        r->n_queue = 0;
        recorder_forward(r);
}

static void on_fold_retry(int timer, void *opaque) {
        (void) recorder_fold_spool(opaque);
}

static void on_flush(int timer, void *opaque) {
        recorder_flush(opaque);
}

void recorder_record(Recorder *r, Event *e) {
        r->queue[r->n_queue++] = e;
        if (r->n_queue == RECORDER_BATCH || r->flush_timer < 0)
                recorder_flush(r);
        else
                /* 0 ms: at the end of this loop iteration. */
                virEventUpdateTimeout(r->flush_timer, 0);
}

/* The page cache while folding. The daemon's usual 256 KiB (main.c) holds
 * the right edges of the events' indexes; a fold of many events also
 * inserts all over events_domain and updates domains rows here and there,
 * and with 64 pages SQLite spilled and re-read pages in every transaction:
 * 5,000 events/s through the daemon against 28,000/s with the default
 * cache (bench/run). Given back after the fold, and its heap with it. */
#define FOLD_CACHE_KIB 8192

int recorder_fold_spool(Recorder *r) {
        recorder_flush(r);
        SpoolStats st = { 0 };
        VgError err = { "" };
        size_t waiting = 0;
        unsigned cache = 0;
        if (spool_count(r->config->spool_dir, &waiting) == 0 && waiting > 64 &&
            (cache = store_cache_kib(r->store)) && cache < FOLD_CACHE_KIB)
                (void) store_set_cache_kib(r->store, FOLD_CACHE_KIB, NULL);
        else
                cache = 0;
        int k = spool_fold(r->config->spool_dir, r->store, &st, &err);
        if (cache) {
                (void) store_set_cache_kib(r->store, cache, NULL);
                malloc_trim(0);
        }
        if (k < 0) {
                r->fold_retry_ms = r->fold_retry_ms ? r->fold_retry_ms * 2 : 1000;
                if (r->fold_retry_ms > 60000)
                        r->fold_retry_ms = 60000;
                log_msg(LOG_WARNING, "folding the spool: %s; trying again in %u s", err.text,
                        r->fold_retry_ms / 1000);
                if (r->fold_retry_timer >= 0)
                        virEventUpdateTimeout(r->fold_retry_timer, (int) r->fold_retry_ms);
        } else {
                r->fold_retry_ms = 0;
                if (r->fold_retry_timer >= 0)
                        virEventUpdateTimeout(r->fold_retry_timer, -1);
        }
        if (st.rejected)
                log_msg(LOG_WARNING, "%zu malformed spool file(s) moved to '%s/rejected'", st.rejected,
                        r->config->spool_dir);
        if (st.folded) {
                committed(r);
                recorder_forward(r);
        }
        return k < 0 ? -EAGAIN : 0;
}

void recorder_degraded(Recorder *r, const char *host, const char *what, const char *why, const char *fix) {
        log_msg(LOG_ERR, "%s: %s%s%s", what, why, fix ? "; " : "", fix ? fix : "");
        Event *e = event_new("daemon", "daemon.degraded");
        if (!e) {
                log_msg(LOG_ERR, "out of memory: daemon.degraded NOT recorded");
                return;
        }
        char reason[1024];
        snprintf(reason, sizeof(reason), "%s: %s%s%s", what, why, fix ? "; " : "", fix ? fix : "");
        event_set(&e->reason, reason);
        event_set(&e->host, host);
        json_object_set_new(e->data, "what", event_json_string(what));
        json_object_set_new(e->data, "error", event_json_string(why));
        if (fix)
                json_object_set_new(e->data, "fix", event_json_string(fix));
        recorder_record(r, e);
}

