/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `virtgov events --format json|ecs [--follow] [--state FILE]`: the events
 * as they are stored, one JSON object a line, what a shipper tails when
 * journald is not wanted (README.md, "Shipping events").
 *
 * Exactly once across restarts: a batch is written and flushed, and only
 * then is its last id and hash written to the state file (atomically, with
 * fsync); a stop by signal ends between batches. A restart begins after
 * the state's event, and first checks that the inventory still holds it
 * with the same hash: an inventory rolled back, truncated or replaced is
 * refused, never shipped from a position that means something else. What
 * can repeat: a batch written when the process is killed (SIGKILL, power)
 * before its state is written; each line carries event.sequence and the
 * event's ref for a collector to drop it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "stream.h"
#include "virtgov/ship/ecs.h"
#include "virtgov/util/cleanup.h"

typedef struct Position {
        int64_t id;                    /* 0: none yet */
        char hash[CHAIN_HEX_SIZE];
} Position;

typedef struct Batch {
        const StreamOptions *o;
        Position last;
        size_t n;
        int error;                     /* -errno of a write to stdout */
} Batch;

/* "ID HASH\n"; ENOENT when there is none yet. */
static int state_read(const char *path, Position *p, VgError *err) {
        _cleanup_free_ char *buf = NULL;
        int r = vg_read_file(path, 4096, &buf, NULL);
        if (r < 0)
                return r == -ENOENT ? r : vg_error(err, r, "%s: %s", path, vg_read_error(r));
        char hash[CHAIN_HEX_SIZE + 1];
        int64_t id;
        int n = 0;
        if (sscanf(buf, "%" SCNd64 " %64[0-9a-f]%n", &id, hash, &n) != 2 || id < 1 || strlen(hash) != CHAIN_HEX_SIZE - 1 ||
            (buf[n] != '\n' && buf[n] != '\0'))
                return vg_error(err, -EINVAL, "%s: not a position of virtgov events (\"ID HASH\"): remove it to "
                                "start from --after-id, or from the first event", path);
        p->id = id;
        memcpy(p->hash, hash, CHAIN_HEX_SIZE);
        return 0;
}

static int state_write(const char *path, const Position *p, VgError *err) {
        char line[128];
        int n = snprintf(line, sizeof(line), "%" PRId64 " %s\n", p->id, p->hash);
        return vg_write_file(path, line, (size_t) n, 0640, err);
}

/* The state's event is still the inventory's event of that id. */
static int check_position(Store *s, const char *path, const Position *p, VgError *err) {
        char have[CHAIN_HEX_SIZE];
        int r = store_chain_hash(s, p->id, have, err);
        if (r == -ENOENT)
                return vg_error(err, -ESTALE, "%s: the inventory no longer holds event %" PRId64 " (hash %.16s...), the "
                                "last one shipped: it was rolled back, truncated or replaced. Check it with "
                                "'virtgov verify'; to ship from a new start, remove %s or pass --after-id",
                                path, p->id, p->hash, path);
        if (r < 0)
                return r;
        if (strcmp(have, p->hash))
                return vg_error(err, -ESTALE, "%s: event %" PRId64 " has hash %.16s... in the inventory, but "
                                "%.16s... was shipped: the inventory was replaced or edited. Check it with "
                                "'virtgov verify'; to ship from a new start, remove %s or pass --after-id",
                                path, p->id, have, p->hash, path);
        return 0;
}

static int emit(const Event *e, void *userdata) {
        Batch *b = userdata;
        _cleanup_free_ char *text = NULL;
        if (b->o->ecs) {
                json_t *doc = ecs_event(e, e->data_text, b->o->host_id);
                text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
                json_decref(doc);
        } else
                text = event_render(e, e->data_text ? e->data_text : "{}");
        if (!text)
                return -ENOMEM;
        if (fputs(text, stdout) == EOF || putchar('\n') == EOF) {
                b->error = -errno;
                return -EIO;
        }
        b->last.id = e->id;
        memcpy(b->last.hash, e->hash, CHAIN_HEX_SIZE);
        b->n++;
        return 0;
}

/* Signals that end a follow, read from a descriptor so that the wait
 * below ends on them; blocked so that they end it only there. */
static int stop_fd(void) {
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGINT);
        sigaddset(&m, SIGTERM);
        sigaddset(&m, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &m, NULL) < 0)
                return -errno;
        int fd = signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

/* Wakes on a write to the inventory's directory (its WAL, or the file
 * itself), and at the latest after poll_ms: a write the watch misses
 * (another mount namespace, a full inotify queue) waits at most that. */
static int watch_fd(const char *inventory) {
        _cleanup_free_ char *dir = strdup(inventory);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (inotify_add_watch(fd, slash ? dir : ".", IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* A stream killed in the middle of a line (SIGKILL, power) left the file
 * it appends to ending in a fragment; the batch written again after the
 * restart starts on a line of its own, or its first event would be part
 * of an invalid line. */
static void end_fragment(void) {
        struct stat st;
        char last;
        if (fstat(STDOUT_FILENO, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                return;
        /* stdout is open for appending only: read its end through a
         * descriptor of its own. */
        _cleanup_close_ int fd = open("/proc/self/fd/1", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
                putchar('\n');
}

static void drain(int fd) {
        char buf[4096];
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

int events_stream(Cli *cli, Store *s, const EventFilter *filter, const StreamOptions *o) {
        VgError err = { "" };
        Position pos = { .id = o->after_id };
        int r;
        if (o->state && o->after_id < 0) {
                r = state_read(o->state, &pos, &err);
                if (r == -ENOENT)
                        pos.id = 0;
                else if (r < 0 || (r = check_position(s, o->state, &pos, &err)) < 0)
                        return cli_error("%s", err.text);
        }
        if (pos.id < 0)
                pos.id = 0;
        end_fragment();

        _cleanup_close_ int sig = -1, watch = -1;
        if (o->follow) {
                /* A reader gone (the shipper stopped) is an error to
                 * report, not a signal that kills before the state is
                 * written. */
                signal(SIGPIPE, SIG_IGN);
                if ((sig = stop_fd()) < 0)
                        return cli_error("cannot wait for signals: %s", strerror(-sig));
                if ((watch = watch_fd(cli->config->inventory)) < 0)
                        return cli_error("cannot watch %s: %s", cli->config->inventory, strerror(-watch));
        }
        for (;;) {
                EventFilter f = *filter;
                f.after_id = pos.id > 0 ? pos.id : -1;
                f.data_text = true;
                Batch b = { .o = o, .last = pos };
                r = store_query_events(s, &f, emit, &b, &err);
                if (fflush(stdout) == EOF && !b.error)
                        b.error = -errno;
                if (b.error)
                        return cli_error("writing the events: %s%s", strerror(-b.error),
                                         o->state ? " (the state keeps the last event written before)" : "");
                if (r < 0)
                        return cli_error("%s", err.text[0] ? err.text : strerror(-r));
                if (b.n > 0) {
                        pos = b.last;
                        if (o->state && state_write(o->state, &pos, &err) < 0)
                                return cli_error("%s (the events up to %" PRId64 " were written; they will be "
                                                 "written again at the next start)", err.text, pos.id);
                }
                if (!o->follow)
                        return EXIT_OK;
                struct pollfd p[2] = { { .fd = sig, .events = POLLIN }, { .fd = watch, .events = POLLIN } };
                if (poll(p, 2, o->poll_ms) < 0 && errno != EINTR)
                        return cli_error("waiting for events: %m");
                if (p[0].revents & POLLIN)
                        return EXIT_OK;   /* between batches: the state is whole */
                drain(watch);
        }
}
