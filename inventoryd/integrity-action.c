/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * integrity_action in the daemon's loop (integrity-action.h). Asynchronous rather
 * than a bounded wait in the check: a check with fifty new findings and a
 * pager that hangs would otherwise hold the loop, and with it libvirt's
 * events, the spool and the syslog copy, for fifty timeouts.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "integrity-action.h"
#include "log.h"
#include "virtgov/util/action.h"
#include "virtgov/util/cleanup.h"

/* Runs at once: a burst of findings (a package upgraded behind dpkg's
 * back) pages in parallel, not one timeout after another, without
 * starting hundreds of processes. */
#define ACTIOND_MAX_RUNNING 4
/* Findings waiting for a run; beyond, each is recorded as not run. */
#define ACTIOND_MAX_QUEUED 256

typedef struct Job Job;

struct Job {
        Actiond *a;
        Job *next;
        char *program, *kind, *input;
        unsigned timeout_ms;
        json_t *about;          /* the finding's kind, path and event, for the record */
        ActionRun *run;
        int fds[2], handles[2]; /* the run's descriptors and their loop handles; -1: none */
        int timer;
};

struct Actiond {
        Daemon *d;
        Job *running;           /* a list */
        Job *queue, **queue_tail;
        size_t n_running, n_queued;
};

static int64_t mono_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static Job *job_free(Job *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < 2; i++)
                if (j->handles[i] >= 0)
                        virEventRemoveHandle(j->handles[i]);
        if (j->timer >= 0)
                virEventRemoveTimeout(j->timer);
        action_free(j->run);
        json_decref(j->about);
        free(j->program);
        free(j->kind);
        free(j->input);
        free(j);
        return NULL;
}

/* ---- the record ---- */

/* One integrity.action event: res the run's result, or NULL with error
 * when it did not run. */
static void record(Actiond *a, const Job *j, const ActionResult *res, const char *error) {
        bool ok = res && action_result_ok(res);
        char how[256];
        if (res)
                action_result_describe(res, j->timeout_ms, how, sizeof(how));
        else
                snprintf(how, sizeof(how), "was not run: %s", error);
        if (!ok)
                log_msg(LOG_WARNING, "integrity action '%s' for %s %s", j->program, j->kind, how);
        Event *e = event_new("daemon", ok ? "integrity.action" : "integrity.action-failed");
        if (!e) {
                log_msg(LOG_ERR, "out of memory: integrity.action NOT recorded");
                return;
        }
        const char *path = json_string_value(json_object_get(j->about, "path"));
        char reason[1024];
        snprintf(reason, sizeof(reason), "'%s' %s (%s%s%s%s)", j->program, how, j->kind, path ? " '" : "",
                 path ? path : "", path ? "'" : "");
        event_set(&e->reason, reason);
        json_t *data = res ? action_result_json(res) : json_object();
        if (data) {
                json_object_update(e->data, data);
                json_decref(data);
        }
        json_object_set_new(e->data, "program", event_json_string(j->program));
        json_object_set(e->data, "finding", j->about);
        if (!res)
                json_object_set_new(e->data, "error", event_json_string(error));
        recorder_record(a->d->rec, e);
}

/* ---- running ---- */

static void start_next(Actiond *a);
static void on_fd(int watch, int fd, int events, void *opaque);
static void on_timer(int timer, void *opaque);

static void job_finish(Job *j) {
        Actiond *a = j->a;
        record(a, j, action_result(j->run), NULL);
        for (Job **p = &a->running; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        a->n_running--;
        job_free(j);
        start_next(a);
}

/* The loop's handles and timer to match what the run waits on now. */
static void job_watch(Job *j) {
        struct pollfd fds[2];
        size_t n = action_pollfds(j->run, fds);
        for (size_t i = 0; i < 2; i++) {
                bool still = false;
                for (size_t k = 0; k < n; k++)
                        still |= fds[k].fd == j->fds[i];
                if (j->handles[i] >= 0 && !still) {
                        virEventRemoveHandle(j->handles[i]);
                        j->handles[i] = j->fds[i] = -1;
                }
        }
        int64_t t = action_deadline_us(j->run);
        int ms = -1;
        if (t != INT64_MAX) {
                t = (t - mono_us() + 999) / 1000;
                ms = t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int) t;
        }
        virEventUpdateTimeout(j->timer, ms);
}

static void job_step(Job *j) {
        if (action_step(j->run))
                job_finish(j);
        else
                job_watch(j);
}

static void on_fd(int watch, int fd, int events, void *opaque) {
        job_step(opaque);
}

static void on_timer(int timer, void *opaque) {
        job_step(opaque);
}

/* Starts j, or records why it could not start (and frees it). */
static void job_start(Actiond *a, Job *j) {
        VgError err = { "" };
        ActionSpec spec = { .program = j->program, .kind = j->kind, .input = j->input, .timeout_ms = j->timeout_ms };
        int r = action_start(&spec, &j->run, &err);
        if (r < 0) {
                record(a, j, NULL, err.text[0] ? err.text : strerror(-r));
                job_free(j);
                return;
        }
        struct pollfd fds[2];
        size_t n = action_pollfds(j->run, fds);
        for (size_t i = 0; i < n; i++) {
                j->fds[i] = fds[i].fd;
                j->handles[i] = virEventAddHandle(fds[i].fd, VIR_EVENT_HANDLE_READABLE, on_fd, j, NULL);
        }
        j->timer = virEventAddTimeout(-1, on_timer, j, NULL);
        if (j->timer < 0 || (n > 0 && j->handles[0] < 0) || (n > 1 && j->handles[1] < 0)) {
                /* Not watched, it would run unbounded: waited for here,
                 * within its timeout, rather than not at all. */
                log_msg(LOG_WARNING, "integrity action: cannot add it to the event loop: waiting for it");
                action_wait(j->run);
                record(a, j, action_result(j->run), NULL);
                job_free(j);
                return;
        }
        j->next = a->running;
        a->running = j;
        a->n_running++;
        job_watch(j);
}

static void start_next(Actiond *a) {
        while (a->queue && a->n_running < ACTIOND_MAX_RUNNING) {
                Job *j = a->queue;
                a->queue = j->next;
                if (!a->queue)
                        a->queue_tail = &a->queue;
                a->n_queued--;
                j->next = NULL;
                job_start(a, j);
        }
}

static Actiond *actiond_get(Daemon *d) {
        if (!d->action && (d->action = calloc(1, sizeof(Actiond)))) {
                d->action->d = d;
                d->action->queue_tail = &d->action->queue;
        }
        return d->action;
}

void actiond_run(Daemon *d, const char *kind, json_t *finding) {
        const Config *c = d->config;
        if (!c->integrity_action)
                return;
        Actiond *a = actiond_get(d);
        Job *j = calloc(1, sizeof(*j));
        json_t *input = json_deep_copy(finding);
        if (input) {
                json_object_set_new(input, "kind", json_string(kind));
                char host[256] = "";
                if (gethostname(host, sizeof(host)) == 0)
                        host[sizeof(host) - 1] = '\0';
                if (!json_object_get(input, "host"))
                        json_object_set_new(input, "host", event_json_string(host));
        }
        if (!a || !j || !input) {
                log_msg(LOG_ERR, "out of memory: integrity action for %s NOT run", kind);
                free(j);
                json_decref(input);
                return;
        }
        *j = (Job) { .a = a, .fds = { -1, -1 }, .handles = { -1, -1 }, .timer = -1,
                     .timeout_ms = c->integrity_action_timeout_s * 1000 };
        j->program = strdup(c->integrity_action);
        j->kind = strdup(kind);
        j->input = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS);
        j->about = json_pack("{s:s, s:O?, s:O?}", "kind", kind, "path", json_object_get(finding, "path"),
                             "event", json_object_get(finding, "event"));
        json_decref(input);
        if (!j->program || !j->kind || !j->input || !j->about) {
                log_msg(LOG_ERR, "out of memory: integrity action for %s NOT run", kind);
                job_free(j);
                return;
        }
        if (a->n_queued >= ACTIOND_MAX_QUEUED) {
                char why[128];
                snprintf(why, sizeof(why), "%zu runs were waiting already", a->n_queued);
                record(a, j, NULL, why);
                job_free(j);
                return;
        }
        *a->queue_tail = j;
        a->queue_tail = &j->next;
        a->n_queued++;
        start_next(a);
}

void actiond_stop(Daemon *d) {
        Actiond *a = d->action;
        if (!a)
                return;
        /* First, so that a run ending below starts none of them. */
        while (a->queue) {
                Job *q = a->queue;
                a->queue = q->next;
                record(a, q, NULL, "the daemon stopped first");
                job_free(q);
        }
        a->n_queued = 0;
        a->queue_tail = &a->queue;
        /* Their deadlines are absolute: waiting for one after another
         * takes the longest one's time, not the sum. */
        while (a->running) {
                Job *j = a->running;
                action_wait(j->run);
                job_finish(j);
        }
        free(a);
        d->action = NULL;
}

/* ---- the events that ask for a run ---- */

/* A file finding's event (integrity.added, .removed, .changed) is
 * recorded only when the check had not had the finding; one that neither
 * dpkg nor an accept explains asks for a run. integrity.process is
 * recorded only when a process's status changes; tampered asks for one. */
int actiond_event(Daemon *d, const Event *e) {
        if (!d->config->integrity_action || strncmp(e->kind, "integrity.", 10))
                return 0;
        const char *what = e->kind + 10;
        bool file = !strcmp(what, "added") || !strcmp(what, "removed") || !strcmp(what, "changed");
        if (!file && strcmp(what, "process"))
                return 0;
        json_t *f = e->data_text ? json_loads(e->data_text, 0, NULL) : json_copy(e->data);
        const char *v = json_string_value(json_object_get(f, file ? "class" : "status"));
        if (!v || strcmp(v, file ? "unexplained" : "tampered")) {
                int r = json_is_object(f) ? 0 : -ENOMEM;   /* (stored data is an object: store_append_event) */
                json_decref(f);
                return r;
        }
        /* The program reads what the event says, and which event it was. */
        json_t *event = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t) e->id, "hash", e->hash, "kind",
                                  e->kind, "time", e->time);
        if (!event || json_object_set_new(f, "event", event) < 0 ||
            json_object_set_new(f, "time", json_string(e->time)) < 0 ||
            (file ? json_object_set_new(f, "change", json_string(what))
                  : json_object_set_new(f, "domain", e->domain ? event_json_string(e->domain) : json_null())) < 0) {
                json_decref(f);
                return -ENOMEM;
        }
        actiond_run(d, file ? "integrity.finding" : "integrity.process", f);
        json_decref(f);
        return 1;
}
