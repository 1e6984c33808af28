/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The assessment in the daemon's loop: a timer every assess_interval_s, a
 * debounced run after a change to a file the checks read, and the record
 * of each run through the recorder. Its own inotify fd: an overflow there
 * concerns only the assessment, and the integrity watch's directories are
 * its profiles', not these.
 *
 * The run reads hundreds of files (libvirt's, sshd's, sudoers, apt's
 * lists, /proc): on a thread (offload.h), with its paths copied; its
 * drift and state are recorded on the loop. A run due while one runs is
 * queued, once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "assess-schedule.h"
#include "log.h"
#include "offload.h"
#include "virtgov/assess/assess.h"
#include "virtgov/util/cleanup.h"

/* Quiet after the last change before running: `virsh edit` and an
 * editor's save are bursts. A run takes tens of milliseconds; these
 * bound how often a busy directory can make it run. */
#define SETTLE_MS 2000
#define SETTLE_MAX_MS 10000

#define STATE_KEY "assess.state"
#define LATEST_KEY "assess.latest"

struct Assessd {
        Daemon *d;
        int fd, handle, run_timer, periodic_timer;
        unsigned interval_s;
        int64_t pending_since_us;
        int wd_etc;                   /* /etc itself: only group, passwd, sudoers count there */
        char said[sizeof(((VgError *) 0)->text)];   /* the last problem said */
        Offload *worker;              /* where a run runs */
        bool queued;                  /* a run came due while one ran */
};

/* One run: its inputs copied on the loop, its answer made on the thread. */
typedef struct AssessJob {
        Assessd *a;                   /* the loop's: not touched on the thread */
        AssessPaths p;
        int r;
        const char *failed;           /* what was not done, when r < 0 */
        VgError err;
        AssessExceptions *ex;
        AssessRun *run;
} AssessJob;

static int64_t mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say_once(Assessd *a, const char *what, const char *why) {
        if (!strcmp(a->said, why))
                return;
        snprintf(a->said, sizeof(a->said), "%s", why);
        recorder_degraded(a->d->rec, NULL, what, why, "fix it; the next change or periodic run tries again");
}

typedef struct Emit {
        Assessd *a;
        const char *host;
} Emit;

static int record(Event *e, void *u) {
        Emit *m = u;
        event_set(&e->host, m->host);
        recorder_record(m->a->d->rec, e);
        return 0;
}

static void job_free(void *u) {
        AssessJob *j = u;
        assess_paths_clear(&j->p);
        assess_exceptions_free(j->ex);
        assess_run_free(j->run);
        free(j);
}

/* The thread's half: the exceptions, then the checks. */
static void assess_work(void *u) {
        AssessJob *j = u;
        j->r = assess_exceptions_load(j->p.exceptions, j->p.now_us, &j->ex, &j->err);
        if (j->r < 0 && j->r != -ENOENT) {
                /* Without its exceptions every excepted check would read
                 * as a regression: no run until the file is fixed. */
                j->failed = "assessment not run: the exceptions file is invalid";
                return;
        }
        j->r = assess_run(&j->p, NULL, j->ex, &j->run, &j->err);
        if (j->r < 0)
                j->failed = "assessment not run";
}

static void run_assessment(Assessd *a);

/* The loop's half: the drift recorded, then the state. */
static void assess_record(AssessJob *j) {
        Assessd *a = j->a;
        Daemon *d = a->d;
        for (size_t i = 0; j->ex && i < j->ex->n_warnings; i++)
                log_msg(LOG_WARNING, "assess: %s", j->ex->warnings[i]);
        if (j->r < 0) {
                say_once(a, j->failed, j->err.text);
                return;
        }
        AssessRun *run = j->run;
        VgError err = { "" };
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        _cleanup_free_ char *prev = NULL;
        int r = store_meta_get(recorder_store(d->rec), STATE_KEY, &prev, &err);
        if (r < 0 && r != -ENOENT) {
                say_once(a, "assessment not recorded", err.text);
                return;
        }
        _cleanup_free_ char *state = assess_state_text(run, prev);
        json_t *doc = assess_run_to_json(run, host);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (!state || !text) {
                log_msg(LOG_ERR, "assess: out of memory");
                return;
        }
        Emit m = { a, host };
        assess_drift(run, prev, "daemon", record, &m);
        /* The events first (recorder_store commits them), then the state
         * that sums them up: it never runs ahead of the record. */
        Store *s = recorder_store(d->rec);
        if (store_meta_set(s, STATE_KEY, state, &err) < 0 || store_meta_set(s, LATEST_KEY, text, &err) < 0) {
                say_once(a, "assessment state not kept", err.text);
                return;
        }
        a->said[0] = '\0';
        log_msg(run->counts[ASSESS_FAIL] || run->counts[ASSESS_ERROR] ? LOG_WARNING : LOG_INFO,
                "assess: %zu checks, %zu fail, %zu error, %zu excepted in %lld ms",
                run->n_ran, run->counts[ASSESS_FAIL], run->counts[ASSESS_ERROR], run->counts[ASSESS_EXCEPTED],
                (long long) (run->took_us / 1000));
}

static void assess_done(void *u) {
        AssessJob *j = u;
        Assessd *a = j->a;
        assess_record(j);
        job_free(j);
        if (a->queued) {
                a->queued = false;
                run_assessment(a);
        }
}

static void run_assessment(Assessd *a) {
        if (offload_busy(a->worker)) {
                if (!a->queued)
                        log_msg(LOG_INFO, "assess: a run is going on: the next one follows it");
                a->queued = true;
                return;
        }
        AssessJob *j = calloc(1, sizeof(*j));
        if (!j || assess_paths_init(&j->p, a->d->config, NULL) < 0) {
                log_msg(LOG_ERR, "assess: out of memory");
                free(j);
                return;
        }
        j->a = a;
        if (offload_run(a->worker, assess_work, assess_done, j) < 0) {   /* not busy: checked */
                log_msg(LOG_ERR, "assess: not run");
                job_free(j);
        }
}

static void on_run_timer(int timer, void *opaque) {
        Assessd *a = opaque;
        virEventUpdateTimeout(timer, -1);
        a->pending_since_us = 0;
        run_assessment(a);
}

static void schedule(Assessd *a) {
        int64_t now = mono_ms();
        if (!a->pending_since_us)
                a->pending_since_us = now;
        int64_t left = SETTLE_MAX_MS - (now - a->pending_since_us);
        virEventUpdateTimeout(a->run_timer, left < SETTLE_MS ? (left > 0 ? (int) left : 0) : SETTLE_MS);
}

static void on_periodic(int timer, void *opaque) {
        Assessd *a = opaque;
        run_assessment(a);
}

static void arm_periodic(Assessd *a) {
        unsigned s = a->d->config->assess_interval_s;
        if (s == a->interval_s)
                return;
        a->interval_s = s;
        /* A libvirt timer holds int milliseconds: the key's cap (7 days)
         * fits. */
        virEventUpdateTimeout(a->periodic_timer, s ? (int) ((int64_t) s * 1000 > INT_MAX ? INT_MAX : s * 1000) : -1);
}

/* The directories whose files the checks read (a missing one is not
 * watched: its creation shows in its parent only when that is watched). */
static void add_watches(Assessd *a) {
        AssessPaths p;
        if (assess_paths_init(&p, a->d->config, NULL) < 0)
                return;
        const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;
        char *dirs[16] = { 0 };
        size_t n = 0;
        _cleanup_free_ char *policy_dir = strdup(p.policy);
        char *slash = policy_dir ? strrchr(policy_dir, '/') : NULL;
        if (slash)
                *slash = '\0';
#define DIR_(...) (asprintf(&dirs[n], __VA_ARGS__) >= 0 ? (void) n++ : (void) 0)
        DIR_("%s", p.libvirt_dir);
        DIR_("%s/qemu", p.libvirt_dir);
        DIR_("%s/ssh", p.etc_dir);
        DIR_("%s/ssh/sshd_config.d", p.etc_dir);
        DIR_("%s/sudoers.d", p.etc_dir);
        DIR_("%s/polkit-1/rules.d", p.etc_dir);
        DIR_("%s/audit/rules.d", p.etc_dir);
        DIR_("%s/qemu.d", p.hooks_dir);
        DIR_("%s/network.d", p.hooks_dir);
        if (slash)
                DIR_("%s", policy_dir);
#undef DIR_
        size_t watched = 0;
        for (size_t i = 0; i < n; i++) {
                watched += inotify_add_watch(a->fd, dirs[i], mask | IN_ONLYDIR) >= 0;
                free(dirs[i]);
        }
        a->wd_etc = inotify_add_watch(a->fd, p.etc_dir, mask | IN_ONLYDIR);
        log_msg(LOG_INFO, "assess: watching %zu directories; every %u s", watched + (a->wd_etc >= 0),
                a->d->config->assess_interval_s);
        assess_paths_clear(&p);
}

static void on_inotify(int watch, int fd, int events, void *opaque) {
        Assessd *a = opaque;
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool run = false;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                run = true;
                                continue;
                        }
                        /* In /etc only the identity files count: the rest
                         * of /etc changes for reasons of its own. */
                        if (ev->wd == a->wd_etc)
                                run |= ev->len && (!strcmp(ev->name, "group") || !strcmp(ev->name, "passwd") ||
                                                   !strcmp(ev->name, "sudoers"));
                        else
                                run |= !ev->len || ev->name[0] != '.';
                }
        if (run)
                schedule(a);
}

int assessd_start(Daemon *d) {
        Assessd *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        *a = (Assessd) { .d = d, .fd = -1, .handle = -1, .run_timer = -1, .periodic_timer = -1, .wd_etc = -1 };
        d->assess = a;
        a->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (a->fd < 0)
                log_msg(LOG_WARNING, "assess: inotify: %s: runs on the timer only", strerror(errno));
        else
                a->handle = virEventAddHandle(a->fd, VIR_EVENT_HANDLE_READABLE, on_inotify, a, NULL);
        a->run_timer = virEventAddTimeout(-1, on_run_timer, a, NULL);
        a->periodic_timer = virEventAddTimeout(-1, on_periodic, a, NULL);
        if (offload_new("assess", &a->worker) < 0) {
                assessd_stop(d);
                return -EIO;
        }
        if (a->run_timer < 0 || a->periodic_timer < 0 || (a->fd >= 0 && a->handle < 0)) {
                log_msg(LOG_ERR, "assess: cannot add to the event loop");
                assessd_stop(d);
                return -EIO;
        }
        if (a->fd >= 0)
                add_watches(a);
        arm_periodic(a);
        /* A first run at start: what changed while nobody watched. */
        virEventUpdateTimeout(a->run_timer, 0);
        return 0;
}

void assessd_reload(Daemon *d) {
        Assessd *a = d->assess;
        if (!a)
                return;
        a->said[0] = '\0';
        arm_periodic(a);
        schedule(a);
}

void assessd_stop(Daemon *d) {
        Assessd *a = d->assess;
        if (!a)
                return;
        /* First: a run's result is not recorded at exit; the next start
         * runs one at once. */
        a->worker = offload_free(a->worker, job_free);
        if (a->handle >= 0)
                virEventRemoveHandle(a->handle);
        if (a->run_timer >= 0)
                virEventRemoveTimeout(a->run_timer);
        if (a->periodic_timer >= 0)
                virEventRemoveTimeout(a->periodic_timer);
        if (a->fd >= 0)
                close(a->fd);
        free(a);
        d->assess = NULL;
}
