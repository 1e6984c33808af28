/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The loop's lateness (loopprobe.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#include <libvirt/libvirt.h>

#include "log.h"
#include "loopprobe.h"

/* The goal a check on the loop broke (issue 29): a tick later than this
 * is counted. */
#define STALL_US 100000
/* Logged as it ends: a stall this long is worth a line of its own. */
#define STALL_SAY_US 1000000

struct LoopProbe {
        int timer, period_ms;
        int64_t last_us, max_us;
        unsigned long long ticks, stalls;
};

static int64_t mono_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_tick(int timer, void *opaque) {
        LoopProbe *p = opaque;
        int64_t now = mono_us();
        /* libvirt's loop arms the next tick a period after this one ran. */
        int64_t late = now - p->last_us - (int64_t) p->period_ms * 1000;
        p->last_us = now;
        p->ticks++;
        if (late > p->max_us)
                p->max_us = late;
        if (late > STALL_US)
                p->stalls++;
        if (late >= STALL_SAY_US)
                log_msg(LOG_WARNING, "loop: held for %lld ms", (long long) (late / 1000));
}

void loopprobe_start(Daemon *d) {
        const char *v = getenv("VIRTGOV_LOOP_PROBE_MS");
        if (!v || !*v)
                return;
        char *end;
        errno = 0;
        long ms = strtol(v, &end, 10);
        if (errno || *end || ms < 1 || ms > 1000) {
                log_msg(LOG_WARNING, "VIRTGOV_LOOP_PROBE_MS='%s': not a number of ms from 1 to 1000: no probe", v);
                return;
        }
        LoopProbe *p = calloc(1, sizeof(*p));
        if (!p) {
                log_msg(LOG_ERR, "loop probe: out of memory");
                return;
        }
        *p = (LoopProbe) { .period_ms = (int) ms, .last_us = mono_us() };
        p->timer = virEventAddTimeout(p->period_ms, on_tick, p, NULL);
        if (p->timer < 0) {
                log_msg(LOG_ERR, "loop probe: cannot add to the event loop");
                free(p);
                return;
        }
        d->probe = p;
        log_msg(LOG_INFO, "loop: probed every %d ms", p->period_ms);
}

void loopprobe_stop(Daemon *d) {
        LoopProbe *p = d->probe;
        if (!p)
                return;
        virEventRemoveTimeout(p->timer);
        log_msg(LOG_INFO, "loop: longest stall %lld ms, %llu tick(s) of %d ms, %llu over %d ms",
                (long long) (p->max_us / 1000), p->ticks, p->period_ms, p->stalls, STALL_US / 1000);
        free(p);
        d->probe = NULL;
}
