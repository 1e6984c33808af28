/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integrity monitoring in the daemon's loop: inotify on the directories
 * the profiles name, a debounced check after a change, a stat check and a
 * full check on timers. The checking itself is integrity_check's; this
 * module decides when, and says what went wrong.
 *
 * A check reads on a thread (offload.h), the loop records: the walk and
 * the hashing of the files, the reading of what runs, and dpkg's database
 * go to integrity_check_measure and integrity_measure_processes, on a
 * read-only connection of the thread's own; integrity_check_record and
 * integrity_record_processes then write through the recorder's, on the
 * loop. One job at a time: a check that comes due while one runs is
 * queued (one of each kind at most, a full one covering a stat one), and
 * runs when the running one has been recorded.
 *
 * The directories watched and which events count: integrity-watch.c.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "integrity-action.h"
#include "integrity-watch.h"
#include "integrity-schedule.h"
#include "log.h"
#include "offload.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/integrity/proc.h"
#include "virtgov/integrity/run.h"

/* Quiet after the last event before checking: an editor's save, a cp, dpkg
 * unpacking a package are bursts of events milliseconds apart, worth one
 * check after the burst, not one per event. */
#define SETTLE_MS 1000
/* A file written without a pause is still checked this soon after the
 * first event: a change is reported within seconds whatever follows it. */
#define SETTLE_MAX_MS 3000
/* A check the inventory refused for a writer (a CLI transaction) is tried
 * again this much later. */
#define BUSY_RETRY_MS 5000

/* A periodic check. Its interval can exceed what a libvirt timer holds
 * (int milliseconds: 24.8 days; integrity_full_interval_s goes to 31), so
 * the timer fires at most INT_MAX ms on and the due time decides. */
typedef struct Periodic {
        Integrityd *w;
        int timer;
        bool full;
        unsigned interval_s;  /* as armed; 0: off */
        int64_t due_us;       /* CLOCK_MONOTONIC */
} Periodic;

struct Integrityd {
        Daemon *d;
        IntegrityWatch watch;       /* its own inotify fd: an overflow there concerns only integrity */
        int handle, check_timer;
        Periodic stat, full;
        bool pending_full;
        int64_t pending_since_us;   /* the first change not checked yet; 0: none */
        char said[sizeof(((VgError *) 0)->text)];   /* the last problem said: said again only when it changes */
        char procs_said[sizeof(((VgError *) 0)->text)];   /* the same for the process checks */
        ProcCache *procs;           /* the mapped files' hashes, by inode and times, across checks;
                                     * the running job's thread's while one runs */
        Offload *worker;            /* where the checks run (made at start, or integrity is off) */
        /* Due while a job ran: a check of the files (full or not), of
         * every process; a reload's new profiles. */
        bool queued_files, queued_full, queued_procs, queued_reload;
        bool queue_said;            /* "queued" said once per running job */
};

/* One job: a check of the files (then of what runs, as a second job), or
 * of what runs (every process, or one domain's QEMU). Made on the loop,
 * its measuring on the worker's thread, its record on the loop. */
typedef struct CheckJob {
        Integrityd *w;              /* the loop's: not touched on the thread */
        Config *config;             /* a copy: a reload frees the loop's */
        bool full;
        char *domain;               /* processes of this domain only; NULL: all */
        int64_t t0;
        /* The thread's answer. */
        int r;
        VgError err;
        IntegrityRequest req;       /* its profiles the watch's (no refresh while a job runs) */
        IntegrityMeasured *measured;
        ProcRequest preq;
        ProcResult procs;
} CheckJob;

static int64_t mono_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- checking ---- */

/* A check that failed: said when it differs from the last problem said
 * (a check runs after every change; the same problem once). */
static void check_failed(Integrityd *w, int r, const VgError *err, bool full) {
        if (r == -EBUSY) {
                w->pending_full |= full;
                virEventUpdateTimeout(w->check_timer, BUSY_RETRY_MS);
        }
        const char *key = r == -ENOENT ? "no baseline" : err->text;
        if (!strcmp(w->said, key))
                return;
        snprintf(w->said, sizeof(w->said), "%s", key);
        if (r == -ENOENT)
                recorder_degraded(w->d->rec, NULL, "no integrity baseline", "the watched files have nothing to "
                                  "be compared with", "run 'virtgov integrity baseline'; changes are watched "
                                  "meanwhile and checked once it exists");
        else if (r == -EPROTO)
                recorder_degraded(w->d->rec, NULL, "integrity not checked: the baseline's digest is of an older "
                                  "virtgov", err->text, "retake it with 'virtgov integrity baseline'");
        else if (r == -EBADMSG)
                /* The record of what the hypervisor should be was edited
                 * behind virtgov: as loud as the daemon gets. */
                recorder_degraded(w->d->rec, NULL, "integrity not checked: the baseline was tampered with",
                                  err->text, "find out who changed it, then retake it with "
                                  "'virtgov integrity baseline'");
        else if (r == -EBUSY)
                log_msg(LOG_WARNING, "integrity check: %s; trying again in %d s", err->text, BUSY_RETRY_MS / 1000);
        else
                recorder_degraded(w->d->rec, NULL, "integrity not checked", err->text,
                                  "the next change or periodic check tries again");
}

/* The log's account of a check. Paths stay out of it (they may hold
 * newlines): the events carry them, and the recorder copies those to
 * syslog. */
static void check_done(Integrityd *w, const IntegrityResult *res, bool full, int64_t took_us) {
        size_t n_new = 0, n_unexplained = 0;
        for (size_t i = 0; i < res->n; i++) {
                const IntegrityFinding *f = &res->findings[i];
                if (!f->is_new || (f->cls == DRIFT_PACKAGE_UPDATE && w->d->config->integrity_accept_packages))
                        continue;
                n_new++;
                n_unexplained += f->cls == DRIFT_UNEXPLAINED;
        }
        if (w->said[0])
                log_msg(LOG_INFO, "integrity: checking again");
        w->said[0] = '\0';
        if (n_new)
                log_msg(LOG_WARNING, "integrity: %zu new finding(s), %zu unexplained: see 'virtgov integrity check'",
                        n_new, n_unexplained);
        if (res->n_accepted)
                log_msg(LOG_INFO, "integrity: %zu file(s) of package updates folded into the baseline",
                        res->n_accepted);
        log_msg(LOG_INFO, "integrity: %s check of %zu files (%zu read) in %lld ms, %zu finding(s)",
                full ? "full" : "stat", res->n_files, res->n_hashed, (long long) (took_us / 1000), res->n);
}

static CheckJob *job_free(CheckJob *j) {
        if (!j)
                return NULL;
        config_free(j->config);
        free(j->domain);
        integrity_measured_free(j->measured);
        proc_result_clear(&j->procs);
        free(j);
        return NULL;
}

static void job_discard(void *u) {
        job_free(u);
}

/* The inventory as the thread reads it: a connection of its own, for a
 * connection is not to be shared between threads, and read-only, for the
 * recorder's is the daemon's one writer (daemon.h). */
static int job_store(CheckJob *j, Store **ret) {
        return store_open(j->config->inventory, STORE_READ, j->config->busy_timeout_ms, ret, &j->err);
}

/* ---- the thread's half ---- */

static void measure_files(void *u) {
        CheckJob *j = u;
        _cleanup_(store_closep) Store *s = NULL;
        j->r = job_store(j, &s);
        if (j->r == 0)
                j->r = integrity_check_measure(s, j->config, &j->req, &j->measured, &j->err);
        /* -ENOENT is also a profile file that is missing: only the
         * baseline's own answer tells them apart. */
        VgError none = { "" };
        if (j->r == -ENOENT && s && integrity_verify_baseline(s, NULL, &none) != -ENOENT)
                j->r = -EINVAL;
}

static void measure_procs(void *u) {
        CheckJob *j = u;
        _cleanup_(store_closep) Store *s = NULL;
        j->r = job_store(j, &s);
        if (j->r == 0)
                j->r = integrity_measure_processes(s, j->config, &j->preq, &j->procs, &j->err);
}

/* ---- the loop's half ---- */

static void next_job(Integrityd *w);

/* The running processes (all of them, or one domain's QEMU): what they
 * map against the baseline, recorded. A mapping whose inode and times are
 * unchanged is not read again (the cache). A problem is said once. */
static void procs_done(void *u) {
        CheckJob *j = u;
        Integrityd *w = j->w;
        if (j->r == 0)
                j->r = integrity_record_processes(recorder_store(w->d->rec), &j->preq, &j->procs, &j->err);
        if (j->r < 0) {
                if (strcmp(w->procs_said, j->err.text)) {
                        snprintf(w->procs_said, sizeof(w->procs_said), "%s", j->err.text);
                        recorder_degraded(w->d->rec, NULL, "running processes not checked", j->err.text,
                                          "the next start or periodic check tries again");
                }
                job_free(j);
                next_job(w);
                return;
        }
        w->procs_said[0] = '\0';
        const ProcResult *res = &j->procs;
        size_t bad = 0;
        for (size_t i = 0; i < res->n; i++)
                bad += res->v[i].status != PROC_CURRENT;
        if (bad)
                log_msg(LOG_WARNING, "integrity: %zu of %zu process(es) not current: see 'virtgov report integrity'",
                        bad, res->n);
        const char *domain = j->domain;
        log_msg(LOG_INFO, "integrity: %zu process(es) checked%s%s in %lld ms, %zu mapped file(s) read",
                res->n, domain ? " for domain " : "", domain && vg_is_plain(domain) ? domain : "",
                (long long) ((mono_us() - j->t0) / 1000), res->hashed);
        job_free(j);
        /* A check with drift builds dpkg's index (lib/integrity/check.c's
         * classify) and drops it after, but in small blocks that glibc
         * kept: the daemon stayed 9.5 MiB above its 19.4 MiB after one
         * drift. Given back here, checks being rare. */
        malloc_trim(0);
        next_job(w);
}

static CheckJob *job_new(Integrityd *w) {
        CheckJob *j = calloc(1, sizeof(*j));
        if (j && !(j->config = config_dup(w->d->config)))
                j = job_free(j);
        if (!j)
                log_msg(LOG_ERR, "integrity: out of memory: check not run");
        else {
                j->w = w;
                j->t0 = mono_us();
        }
        return j;
}

/* Starts a job, or queues it when one runs. */
static void start_job(Integrityd *w, CheckJob *j, OffloadFn work, OffloadFn done) {
        /* What the thread reads includes every event recorded so far. */
        recorder_flush(w->d->rec);
        w->queue_said = false;
        if (offload_run(w->worker, work, done, j) < 0) {   /* not busy: next_job checked */
                log_msg(LOG_ERR, "integrity: check not run");
                job_free(j);
        }
}

static void check_processes(Integrityd *w, const char *domain) {
        if (offload_busy(w->worker)) {
                /* Every process then, which covers the domain's. */
                w->queued_procs = true;
                if (!w->queue_said)
                        log_msg(LOG_INFO, "integrity: a check is running: the processes are checked after it");
                w->queue_said = true;
                return;
        }
        if (!w->procs && !(w->procs = proc_cache_new())) {
                log_msg(LOG_ERR, "integrity: out of memory");
                return;
        }
        CheckJob *j = job_new(w);
        if (!j)
                return;
        if (domain && !(j->domain = strdup(domain))) {
                log_msg(LOG_ERR, "integrity: out of memory");
                job_free(j);
                return;
        }
        j->preq = (ProcRequest) { .domain = j->domain, .source = "daemon", .cache = w->procs };
        start_job(w, j, measure_procs, procs_done);
}

void integrityd_domain_started(Daemon *d, const char *name) {
        Integrityd *w = d->integrity;
        if (w && name && integrityd_configured(d->config))
                check_processes(w, name);
}

static void files_done(void *u) {
        CheckJob *j = u;
        Integrityd *w = j->w;
        IntegrityResult res;
        if (j->r == 0)
                j->r = integrity_check_record(recorder_store(w->d->rec), j->config, j->measured, &res, &j->err);
        if (j->r < 0) {
                check_failed(w, j->r, &j->err, j->full);
                job_free(j);
                next_job(w);
                return;
        }
        check_done(w, &res, j->full, mono_us() - j->t0);
        integrity_result_clear(&res);
        job_free(j);
        /* After the files: a package update folded in just now makes a
         * process that still maps the old version stale, not tampered. */
        if (integrityd_configured(w->d->config))
                check_processes(w, NULL);
}

static void run_check(Integrityd *w, bool full) {
        if (!integrityd_configured(w->d->config))
                return;
        if (offload_busy(w->worker)) {
                w->queued_files = true;
                w->queued_full |= full;
                if (!w->queue_said)
                        log_msg(LOG_INFO, "integrity: a check is running: the next one follows it");
                w->queue_said = true;
                return;
        }
        integrityd_watch_refresh(&w->watch);
        CheckJob *j = job_new(w);
        if (!j)
                return;
        j->full = full;
        /* The profiles the watch has just read: what is checked is what
         * is watched, loaded once (a load resolves every emulator's
         * libraries). */
        j->req = (IntegrityRequest) { .full = full, .source = "daemon" };
        if (!w->watch.load_failed) {   /* else the check loads them, and says what is wrong */
                j->req.loaded = w->watch.profiles;
                j->req.n_loaded = w->watch.n_profiles;
        }
        start_job(w, j, measure_files, files_done);
}

static void reload_watch(Integrityd *w);

/* What came due while the last job ran, in the order they would have run. */
static void next_job(Integrityd *w) {
        if (w->queued_reload) {
                w->queued_reload = false;
                reload_watch(w);
        }
        if (offload_busy(w->worker))
                return;
        if (w->queued_files) {
                bool full = w->queued_full;
                w->queued_files = w->queued_full = false;
                run_check(w, full);
        } else if (w->queued_procs) {
                w->queued_procs = false;
                check_processes(w, NULL);
        }
}

/* ---- the timers ---- */

static void periodic_wait(Periodic *p) {
        int64_t left = (p->due_us - mono_us()) / 1000;
        virEventUpdateTimeout(p->timer, left > INT_MAX ? INT_MAX : left < 0 ? 0 : (int) left);
}

static void periodic_arm(Periodic *p, unsigned interval_s) {
        p->interval_s = interval_s;
        if (!interval_s) {
                virEventUpdateTimeout(p->timer, -1);
                return;
        }
        p->due_us = mono_us() + (int64_t) interval_s * 1000000;
        periodic_wait(p);
}

/* The intervals the configuration says, re-armed only when they changed:
 * a reload must not postpone a check that is due. */
static void arm_timers(Integrityd *w) {
        bool on = integrityd_configured(w->d->config);
        unsigned stat_s = on ? w->d->config->integrity_interval_s : 0;
        unsigned full_s = on ? w->d->config->integrity_full_interval_s : 0;
        if (stat_s != w->stat.interval_s)
                periodic_arm(&w->stat, stat_s);
        if (full_s != w->full.interval_s)
                periodic_arm(&w->full, full_s);
}

static void on_periodic(int timer, void *opaque) {
        Periodic *p = opaque;
        Integrityd *w = p->w;
        if (mono_us() < p->due_us) {
                periodic_wait(p);   /* a long interval, in steps */
                return;
        }
        periodic_arm(p, p->interval_s);
        run_check(w, p->full);
        /* A full check covers the stat check: the next one an interval on. */
        if (p->full)
                periodic_arm(&w->stat, w->stat.interval_s);
}

/* One check once the writes settle: SETTLE_MS of quiet, and no later than
 * SETTLE_MAX_MS after the first change. full: read every file (after an
 * overflow, when what changed is unknown). */
static void schedule(Integrityd *w, bool full) {
        int64_t now = mono_us();
        if (!w->pending_since_us)
                w->pending_since_us = now;
        w->pending_full |= full;
        int64_t left = SETTLE_MAX_MS - (now - w->pending_since_us) / 1000;
        virEventUpdateTimeout(w->check_timer, left < SETTLE_MS ? (left > 0 ? (int) left : 0) : SETTLE_MS);
}

static void on_check_timer(int timer, void *opaque) {
        Integrityd *w = opaque;
        bool full = w->pending_full;
        virEventUpdateTimeout(timer, -1);
        w->pending_full = false;
        w->pending_since_us = 0;
        run_check(w, full);
}

/* ---- inotify ---- */

static void on_inotify(int watch, int fd, int events, void *opaque) {
        Integrityd *w = opaque;
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool check = false, full = false;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                /* Events were dropped: what changed is unknown. */
                                log_msg(LOG_WARNING, "integrity: inotify queue overflow: a full check follows");
                                check = full = w->watch.stale = true;
                                continue;
                        }
                        check |= integrityd_watch_event(&w->watch, ev);
                }
        }
        if (check && integrityd_configured(w->d->config))
                schedule(w, full);
}

/* ---- start, reload, stop ---- */

static void say_watching(Integrityd *w) {
        if (integrityd_configured(w->d->config))
                log_msg(LOG_INFO, "integrity: watching %zu directories for profile(s) '%s'",
                        integrityd_watch_count(&w->watch),
                        w->d->config->integrity_profiles);
        else
                log_msg(LOG_INFO, "integrity: off (integrity_profiles is empty)");
}

int integrityd_start(Daemon *d) {
        Integrityd *w = calloc(1, sizeof(*w));
        if (!w) {
                log_msg(LOG_ERR, "integrity: out of memory");
                return -ENOMEM;
        }
        *w = (Integrityd) { .d = d, .watch = { .d = d }, .handle = -1, .check_timer = -1,
                            .stat = { w, -1, false, 0, 0 }, .full = { w, -1, true, 0, 0 } };
        d->integrity = w;
        w->watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->watch.fd < 0) {
                int r = -errno;
                log_msg(LOG_ERR, "integrity: inotify: %s", strerror(-r));
                integrityd_stop(d);
                return r;
        }
        w->handle = virEventAddHandle(w->watch.fd, VIR_EVENT_HANDLE_READABLE, on_inotify, w, NULL);
        w->check_timer = virEventAddTimeout(-1, on_check_timer, w, NULL);
        w->stat.timer = virEventAddTimeout(-1, on_periodic, &w->stat, NULL);
        w->full.timer = virEventAddTimeout(-1, on_periodic, &w->full, NULL);
        if (offload_new("integrity", &w->worker) < 0) {
                integrityd_stop(d);
                return -EIO;
        }
        if (w->handle < 0 || w->check_timer < 0 || w->stat.timer < 0 || w->full.timer < 0) {
                log_msg(LOG_ERR, "integrity: cannot add to the event loop");
                integrityd_stop(d);
                return -EIO;
        }
        /* Watching first, checking in the loop's next turn: a change made
         * in between is seen by the check, and changes made while the
         * daemon was down by that first check, a full one: while nobody
         * watched, a file's size and times could have been put back. */
        w->watch.stale = true;
        w->pending_full = true;
        integrityd_watch_refresh(&w->watch);
        arm_timers(w);
        say_watching(w);
        if (integrityd_configured(d->config))
                virEventUpdateTimeout(w->check_timer, 0);
        return 0;
}

/* The watch's profiles read again after a reload, and a check when they
 * changed. Not while a job runs: it borrows them. */
static void reload_watch(Integrityd *w) {
        if (offload_busy(w->worker)) {
                w->queued_reload = true;
                return;
        }
        bool changed = integrityd_watch_refresh(&w->watch);
        say_watching(w);
        if (changed && integrityd_configured(w->d->config))
                schedule(w, false);
}

void integrityd_reload(Daemon *d) {
        Integrityd *w = d->integrity;
        if (!w)
                return;
        /* A reload is someone looking: a standing problem is said again. */
        w->said[0] = '\0';
        w->watch.limit_said = false;
        w->watch.unread_said = false;
        w->watch.stale = true;   /* the watch limit may have been raised */
        arm_timers(w);
        reload_watch(w);
}

void integrityd_stop(Daemon *d) {
        Integrityd *w = d->integrity;
        if (!w)
                return;
        /* First: the job's thread borrows the profiles and the cache. */
        w->worker = offload_free(w->worker, job_discard);
        if (w->handle >= 0)
                virEventRemoveHandle(w->handle);
        int timers[] = { w->check_timer, w->stat.timer, w->full.timer };
        for (size_t i = 0; i < ELEMENTSOF(timers); i++)
                if (timers[i] >= 0)
                        virEventRemoveTimeout(timers[i]);
        if (w->watch.fd >= 0)
                close(w->watch.fd);   /* removes every watch */
        integrityd_watch_clear(&w->watch);
        proc_cache_free(w->procs);
        free(w);
        d->integrity = NULL;
}
