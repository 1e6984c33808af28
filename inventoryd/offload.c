/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One job at a time off the loop (offload.h). A thread per job, not one
 * kept: the checks run minutes apart, a thread costs tens of
 * microseconds, and an idle daemon then holds no thread at all.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "log.h"
#include "offload.h"

struct Offload {
        const char *name;
        int efd, handle;
        bool busy;
        pthread_t thread;
        OffloadFn work, done;
        void *job;
};

static void *thread_main(void *u) {
        Offload *o = u;
        o->work(o->job);
        /* The eventfd's counter cannot overflow at one write per job; a
         * failed write would leave the job unrecorded, so say it loudly
         * enough to be found. EINTR cannot happen: the daemon's signals
         * are blocked in every thread (main.c's setup_signals). */
        uint64_t one = 1;
        if (write(o->efd, &one, sizeof(one)) != sizeof(one))
                abort();
        return NULL;
}

/* The loop's half: the thread has written, so its work is over. */
static void on_done(int watch, int fd, int events, void *opaque) {
        Offload *o = opaque;
        uint64_t n;
        if (read(fd, &n, sizeof(n)) != sizeof(n) || !o->busy)
                return;
        pthread_join(o->thread, NULL);
        o->busy = false;
        void *job = o->job;
        o->job = NULL;
        /* Last: done may start the next job. */
        o->done(job);
}

int offload_new(const char *name, Offload **ret) {
        Offload *o = calloc(1, sizeof(*o));
        if (!o) {
                log_msg(LOG_ERR, "%s: out of memory", name);
                return -ENOMEM;
        }
        *o = (Offload) { .name = name, .efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .handle = -1 };
        if (o->efd < 0) {
                int r = -errno;
                log_msg(LOG_ERR, "%s: eventfd: %s", name, strerror(-r));
                free(o);
                return r;
        }
        o->handle = virEventAddHandle(o->efd, VIR_EVENT_HANDLE_READABLE, on_done, o, NULL);
        if (o->handle < 0) {
                log_msg(LOG_ERR, "%s: cannot add to the event loop", name);
                close(o->efd);
                free(o);
                return -EIO;
        }
        *ret = o;
        return 0;
}

bool offload_busy(const Offload *o) {
        return o->busy;
}

int offload_run(Offload *o, OffloadFn work, OffloadFn done, void *job) {
        if (o->busy)
                return -EBUSY;
        *o = (Offload) { .name = o->name, .efd = o->efd, .handle = o->handle, .busy = true, .work = work,
                         .done = done, .job = job };
        int r = pthread_create(&o->thread, NULL, thread_main, o);
        if (r == 0)
                return 0;
        o->busy = false;
        o->job = NULL;
        log_msg(LOG_WARNING, "%s: no thread (%s): running on the event loop", o->name, strerror(r));
        work(job);
        done(job);
        return 0;
}

Offload *offload_free(Offload *o, OffloadFn discard) {
        if (!o)
                return NULL;
        if (o->busy) {
                log_msg(LOG_INFO, "%s: waiting for the running job to end", o->name);
                pthread_join(o->thread, NULL);
                if (discard)
                        discard(o->job);
        }
        virEventRemoveHandle(o->handle);
        /* libvirt's default loop may still poll the fd until its next
         * turn, which there is none of at shut-down. */
        close(o->efd);
        free(o);
        return NULL;
}
