/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov-inventoryd: the second eye. Hooks see starts and stops but not
 * defines and undefines, and a hook can be missing or bypassed; this daemon
 * subscribes to libvirt's events, reconciles after every (re)connect, watches
 * the host's accounts, folds the hook's spool, cross-checks the two channels
 * and copies every event to syslog.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/random.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "pidlock.h"
#include "vg-paths.h"
#include "virtgov/cleanup.h"
#include "virtgov/eventlog.h"
#include "virtgov/spool.h"

void log_msg(Daemon *d, int priority, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (d->foreground) {
                fprintf(stderr, "virtgov-inventoryd: %s", priority <= LOG_ERR ? "error: " :
                        priority == LOG_WARNING ? "warning: " : "");
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        } else
                vsyslog(priority, fmt, ap);
        va_end(ap);
}

/* ---- recording ---- */

typedef struct Forward {
        Daemon *d;
        int64_t last;       /* id of the last event sent */
        size_t n;
        int unheard;        /* the syslog socket refused one: -errno */
} Forward;

static int forward_one(const Event *e, void *userdata) {
        Forward *f = userdata;
        _cleanup_free_ char *line = NULL;
        if (eventlog_format(e, &line) < 0)
                return -ENOMEM;
        /* No syslog daemon listening: stop here and retry from this event
         * on the next tick, rather than lose it for the central log. */
        int r = syslog_send(f->d->config->syslog_socket, LOG_DAEMON | eventlog_severity(e), "virtgov", line);
        if (r < 0) {
                f->unheard = r;
                return -EAGAIN;
        }
        f->last = e->id;
        f->n++;
        return 0;
}

/*
 * The copy to syslog stalled (why) or, with why NULL, runs again. Said once
 * per stall, not at every one-second retry. An inventory that cannot be
 * read or cannot keep the cursor is also recorded (daemon.degraded); a
 * syslog daemon not listening is not: the copy resumes where it stopped,
 * as documented, and the record itself is whole.
 */
static void forward_stalled(Daemon *d, const char *why, bool inventory) {
        if (!why) {
                if (d->forward_stalled)
                        log_msg(d, LOG_INFO, "the copy to syslog resumed");
                d->forward_stalled = false;
                return;
        }
        if (d->forward_stalled)
                return;
        d->forward_stalled = true;   /* first: daemon_degraded's record may forward */
        if (inventory)
                daemon_degraded(d, NULL, "the copy of events to syslog stalled", why,
                                "it resumes from the last event sent once the inventory can be read");
        else
                log_msg(d, LOG_WARNING, "the copy of events to syslog stalled: %s; it resumes from the last "
                        "event sent", why);
}

void daemon_forward(Daemon *d) {
        if (!d->config->syslog)
                return;
        _cleanup_free_ char *cursor = NULL;
        VgError err = { "" };
        int64_t after = 0;
        int r = store_meta_get(d->store, "syslog_cursor", &cursor, &err);
        if (r < 0 && r != -ENOENT) {
                forward_stalled(d, err.text, true);
                return;
        }
        if (r == 0)
                after = strtoll(cursor, NULL, 10);

        /* Batches of 1000 keep a first run over a large inventory from
         * holding the loop for long. The cursor is saved after each batch:
         * a crash re-sends at most one batch, never skips one. */
        for (;;) {
                EventFilter f = { .after_id = after > 0 ? after : -1, .limit = 1000 };
                Forward fw = { d, after, 0, 0 };
                r = store_query_events(d->store, &f, forward_one, &fw, &err);
                if (fw.last != after) {
                        char buf[32];
                        snprintf(buf, sizeof(buf), "%lld", (long long) fw.last);
                        VgError cerr = { "" };
                        if (store_meta_set(d->store, "syslog_cursor", buf, &cerr) < 0) {
                                /* What was sent is sent again next time. */
                                forward_stalled(d, cerr.text, true);
                                return;
                        }
                        after = fw.last;
                }
                if (fw.unheard) {
                        char why[PATH_MAX + 64];
                        snprintf(why, sizeof(why), "'%s': %s", d->config->syslog_socket, strerror(-fw.unheard));
                        forward_stalled(d, why, false);
                        return;
                }
                if (r < 0) {
                        forward_stalled(d, err.text[0] ? err.text : strerror(-r), true);
                        return;
                }
                if (fw.n < 1000)
                        break;
        }
        forward_stalled(d, NULL, false);
}

/* The chain head to syslog: with the hash on every forwarded event, it lets
 * `virtgov verify --anchor` catch a chain cut short or rebuilt on the host,
 * which is consistent in itself. Sent each reconcile interval and at exit. */
static void daemon_anchor(Daemon *d) {
        int64_t id;
        char hash[CHAIN_HEX_SIZE], line[160];
        VgError err = { "" };
        if (!d->config->syslog)
                return;
        if (store_chain_head(d->store, &id, hash, &err) < 0) {
                log_msg(d, LOG_WARNING, "chain head not sent to syslog: %s", err.text);
                return;
        }
        if (id == 0)
                return;
        snprintf(line, sizeof(line), "chain.head id=%lld hash=%s", (long long) id, hash);
        (void) syslog_send(d->config->syslog_socket, LOG_DAEMON | LOG_NOTICE, "virtgov", line);
}

#define DAEMON_BATCH 1000

static void spool_or_log(Daemon *d, Event *e, const char *why) {
        VgError serr = { "" };
        json_object_set_new(e->data, "spooled_because", event_json_string(why));
        if (spool_write(d->config->spool_dir, e, &serr) < 0)
                log_msg(d, LOG_ERR, "%s; and %s: event %s of '%s' NOT recorded", why, serr.text, e->kind,
                        e->domain ? e->domain : "-");
        else
                log_msg(d, LOG_WARNING, "%s; event spooled", why);
}

void daemon_flush(Daemon *d) {
        if (d->flush_timer >= 0)
                virEventUpdateTimeout(d->flush_timer, -1);
        if (!d->n_queue)
                return;
        VgError err = { "" };
        int r = store_begin(d->store, &err);
        for (size_t i = 0; r == 0 && i < d->n_queue; i++) {
                int k = store_append_event(d->store, d->queue[i], &err);
                r = k < 0 ? k : 0;
        }
        if (r == 0)
                r = store_commit(d->store, &err);
        if (r < 0) {
                /* Nothing of the batch is in: spool every one of them. */
                store_rollback(d->store);
                for (size_t i = 0; i < d->n_queue; i++)
                        spool_or_log(d, d->queue[i], err.text);
        }
        for (size_t i = 0; i < d->n_queue; i++)
                event_free(d->queue[i]);
        d->n_queue = 0;
        daemon_forward(d);
}

static void on_fold_retry(int timer, void *opaque) {
        daemon_fold_spool(opaque);
}

static void on_flush(int timer, void *opaque) {
        daemon_flush(opaque);
}

int daemon_record(Daemon *d, Event *e) {
        if (!d->queue && !(d->queue = calloc(DAEMON_BATCH, sizeof(Event *)))) {
                spool_or_log(d, e, "out of memory");
                event_free(e);
                return -ENOMEM;
        }
        d->queue[d->n_queue++] = e;
        if (d->n_queue == DAEMON_BATCH || d->flush_timer < 0)
                daemon_flush(d);
        else
                /* 0 ms: at the end of this loop iteration. */
                virEventUpdateTimeout(d->flush_timer, 0);
        return 0;
}

void daemon_fold_spool(Daemon *d) {
        daemon_flush(d);
        SpoolStats st = { 0 };
        VgError err = { "" };
        if (spool_fold(d->config->spool_dir, d->store, &st, &err) < 0) {
                d->fold_retry_ms = d->fold_retry_ms ? d->fold_retry_ms * 2 : 1000;
                if (d->fold_retry_ms > 60000)
                        d->fold_retry_ms = 60000;
                log_msg(d, LOG_WARNING, "folding the spool: %s; trying again in %u s", err.text,
                        d->fold_retry_ms / 1000);
                if (d->fold_retry_timer >= 0)
                        virEventUpdateTimeout(d->fold_retry_timer, (int) d->fold_retry_ms);
        } else {
                d->fold_retry_ms = 0;
                if (d->fold_retry_timer >= 0)
                        virEventUpdateTimeout(d->fold_retry_timer, -1);
        }
        if (st.rejected)
                log_msg(d, LOG_WARNING, "%zu malformed spool file(s) moved to '%s/rejected'", st.rejected,
                        d->config->spool_dir);
        if (st.folded)
                daemon_forward(d);
}

void daemon_degraded(Daemon *d, const char *host, const char *what, const char *why, const char *fix) {
        log_msg(d, LOG_ERR, "%s: %s%s%s", what, why, fix ? "; " : "", fix ? fix : "");
        Event *e = event_new("daemon", "daemon.degraded");
        if (!e) {
                log_msg(d, LOG_ERR, "out of memory: daemon.degraded NOT recorded");
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
        daemon_record(d, e);
}

static void record_daemon_event(Daemon *d, const char *kind, const char *reason) {
        Event *e = event_new("daemon", kind);
        if (!e) {
                log_msg(d, LOG_ERR, "out of memory: %s NOT recorded", kind);
                return;
        }
        event_set(&e->reason, reason);
        json_t *uris = json_array();
        for (size_t i = 0; i < d->n_conns; i++)
                json_array_append_new(uris, json_string(d->conns[i].uri));
        json_object_set_new(e->data, "uris", uris);
        json_object_set_new(e->data, "version", json_string(VIRTGOV_VERSION));
        json_object_set_new(e->data, "pid", json_integer(getpid()));
        daemon_record(d, e);
}

/* ---- signals and timers ---- */

static void reload(Daemon *d) {
        Config *c = NULL;
        VgError err = { "" };
        char **groups = NULL;
        if (config_load(d->config_path, &c, &err) < 0 ||
            (!(groups = config_split(c->privileged_groups)) && vg_error(&err, -ENOMEM, "out of memory") < 0)) {
                log_msg(d, LOG_ERR, "reload: %s; keeping the running configuration", err.text);
                record_daemon_event(d, "daemon.reload-failed", err.text);
                config_free(c);
                return;
        }
        if (strcmp(c->inventory, d->config->inventory) || strcmp(c->spool_dir, d->config->spool_dir) ||
            strcmp(c->uris, d->config->uris) || strcmp(c->etc_dir, d->config->etc_dir))
                log_msg(d, LOG_WARNING, "reload: inventory, spool_dir, uris and etc_dir take effect "
                        "only at restart");
        /* Keep the paths the open resources were made from. */
        config_set_path(&c->inventory, d->config->inventory);
        config_set_path(&c->spool_dir, d->config->spool_dir);
        config_set_path(&c->uris, d->config->uris);
        config_set_path(&c->etc_dir, d->config->etc_dir);
        config_free(d->config);
        d->config = c;
        config_strv_free(d->priv_groups);
        d->priv_groups = groups;
        virEventUpdateTimeout(d->periodic_timer, (int) c->reconcile_interval_s * 1000);
        record_daemon_event(d, "daemon.reloaded", NULL);
        log_msg(d, LOG_INFO, "configuration reloaded");
}

static void on_signal(int watch, int fd, int events, void *opaque) {
        Daemon *d = opaque;
        struct signalfd_siginfo si;
        while (read(fd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGHUP)
                        reload(d);
                else
                        d->quit = true;
        }
}

static void on_periodic(int timer, void *opaque) {
        Daemon *d = opaque;
        daemon_fold_spool(d);
        for (size_t i = 0; i < d->n_conns; i++)
                if (d->conns[i].conn)
                        reconcile(&d->conns[i]);
        daemon_forward(d);
        daemon_anchor(d);
}

static void on_forward(int timer, void *opaque) {
        daemon_forward(opaque);
}

/* ---- start-up and shut-down ---- */

static int parse_argv(int argc, char **argv, Daemon *d, const char **db, char ***uris) {
        enum { OPT_CONFIG = 0x100, OPT_DB, OPT_URI, OPT_FOREGROUND, OPT_HELP, OPT_VERSION };
        static const struct option opts[] = {
                { "config", required_argument, NULL, OPT_CONFIG },
                { "db", required_argument, NULL, OPT_DB },
                { "uri", required_argument, NULL, OPT_URI },
                { "foreground", no_argument, NULL, OPT_FOREGROUND },
                { "help", no_argument, NULL, OPT_HELP },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        size_t n = 0;
        int c;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_CONFIG: d->config_path = optarg; break;
                case OPT_DB: *db = optarg; break;
                case OPT_URI: {
                        char **v = realloc(*uris, (n + 2) * sizeof(char *));
                        if (!v)
                                return -ENOMEM;
                        *uris = v;
                        v[n] = NULL;
                        if (!(v[n++] = strdup(optarg)))
                                return -ENOMEM;
                        v[n] = NULL;
                        break;
                }
                case 'f': case OPT_FOREGROUND: d->foreground = true; break;
                case 'h': case OPT_HELP:
                        printf("usage: virtgov-inventoryd [--config PATH] [--db PATH] [--uri URI]... [--foreground]\n"
                               "\n"
                               "Records libvirt's domain, network and storage-pool events and the host's\n"
                               "account changes into the virtgov inventory, reconciles after every\n"
                               "(re)connect, folds the hook's spool, reports starts no hook decided on\n"
                               "(policy.bypass), and copies every event to syslog.\n"
                               "\n"
                               "  --config PATH   configuration file (default $VIRTGOV_CONFIG, else\n"
                               "                  " VG_DEFAULT_CONFIG ")\n"
                               "  --db PATH       inventory (overrides the 'inventory' key)\n"
                               "  --uri URI       a libvirt URI to watch; repeat for several hosts\n"
                               "                  (default: the 'uris' key, qemu:///system). Remote:\n"
                               "                  qemu+ssh://host/system, qemu+tls://host/system\n"
                               "  -f, --foreground  stay in the foreground and log to stderr\n"
                               "\n"
                               "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT record\n"
                               "what is pending and exit.\n");
                        return 1;
                case OPT_VERSION: printf("virtgov-inventoryd %s\n", VIRTGOV_VERSION); return 1;
                default:
                        fprintf(stderr, "See 'virtgov-inventoryd --help'.\n");
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "virtgov-inventoryd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

static int setup_signals(Daemon *d) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* Blocked before any thread exists (libvirt starts none with the
         * default event impl, but keep it first), so only the fd sees them. */
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (d->signal_fd < 0)
                return -errno;
        return virEventAddHandle(d->signal_fd, VIR_EVENT_HANDLE_READABLE, on_signal, d, NULL) < 0 ? -EIO : 0;
}

/* What can fail because of the configuration is checked here, while
 * stderr still reaches whoever started us. */
static int setup_config(Daemon *d, const char *db, char **uris) {
        VgError err = { "" };
        if (config_load(d->config_path, &d->config, &err) < 0) {
                fprintf(stderr, "virtgov-inventoryd: %s\n", err.text);
                return -EINVAL;
        }
        if (db)
                config_set_path(&d->config->inventory, db);
        d->uris = uris ? uris : config_split(d->config->uris);
        d->priv_groups = config_split(d->config->privileged_groups);
        if (!d->uris || !d->priv_groups) {
                fprintf(stderr, "virtgov-inventoryd: out of memory\n");
                return -ENOMEM;
        }
        if (getrandom(&d->digest_key, sizeof(d->digest_key), 0) != sizeof(d->digest_key))
                d->digest_key = (uint64_t) vg_now_us() ^ (uint64_t) getpid();

        /* Before the inventory is opened: a second daemon must not even
         * migrate it under the first. */
        int r = pidlock_take(d->config->inventory, &d->lock_fd, &err);
        if (r < 0) {
                fprintf(stderr, "virtgov-inventoryd: %s\n", err.text);
                return r;
        }
        r = vg_mkdir_p(d->config->spool_dir, 0700);
        if (r < 0) {
                fprintf(stderr, "virtgov-inventoryd: spool '%s': %s\n", d->config->spool_dir, strerror(-r));
                return r;
        }
        Store *probe = NULL;
        if (store_open(d->config->inventory, STORE_CREATE, d->config->busy_timeout_ms, &probe, &err) < 0) {
                fprintf(stderr, "virtgov-inventoryd: %s\n", err.text);
                return -EIO;
        }
        /* Closed again: an SQLite connection must not cross fork(), since
         * the child would not hold the parent's POSIX locks and another
         * process could then delete the WAL under it. */
        store_close(probe);
        return 0;
}

/* After daemonizing: the inventory, the loop, the signals. */
static int setup_runtime(Daemon *d) {
        VgError err = { "" };
        if (store_open(d->config->inventory, STORE_CREATE, d->config->busy_timeout_ms, &d->store, &err) < 0) {
                log_msg(d, LOG_ERR, "%s", err.text);
                return -EIO;
        }
        /* Appending touches a few dozen pages (the right edge of each
         * index, a domain's row); SQLite's default 2 MiB cache only filled
         * up from the reconcile's scan of every domain. At 100,000 domains
         * 256 KiB took the daemon's peak RSS from 22.6 to 20.6 MB, its
         * folding rate unchanged (bench/run). */
        if (store_set_cache_kib(d->store, 256, &err) < 0)
                log_msg(d, LOG_WARNING, "%s", err.text);
        if (virEventRegisterDefaultImpl() < 0) {
                log_msg(d, LOG_ERR, "cannot set up libvirt's event loop");
                return -EIO;
        }
        int r = setup_signals(d);
        if (r < 0) {
                log_msg(d, LOG_ERR, "signals: %s", strerror(-r));
                return r;
        }
        return 0;
}

/* A libvirt error is reported through our log, once, not on stderr by
 * libvirt's default handler. */
static void on_libvirt_error(void *opaque, virErrorPtr e) {
}

int main(int argc, char **argv) {
        Daemon d = { .inotify_fd = -1, .wd_etc = -1, .wd_sudoers = -1, .wd_spool = -1, .signal_fd = -1,
                     .accounts_timer = -1, .periodic_timer = -1, .forward_timer = -1, .flush_timer = -1,
                     .fold_retry_timer = -1, .lock_fd = -1 };
        const char *db = NULL;
        char **uris = NULL;
        int r = parse_argv(argc, argv, &d, &db, &uris);
        if (r == -ENOMEM) {
                fprintf(stderr, "virtgov-inventoryd: out of memory\n");
                return 1;
        }
        if (r != 0)
                return r < 0 ? 2 : 0;

        virSetErrorFunc(NULL, on_libvirt_error);
        if (setup_config(&d, db, uris) < 0)
                return 1;
        if (!d.foreground) {
                if (daemon(0, 0) < 0) {
                        perror("virtgov-inventoryd: daemon");
                        return 1;
                }
                openlog("virtgov-inventoryd", LOG_PID, LOG_DAEMON);
                /* The child holds the lock (it shares the open file); name
                 * it, not the parent that exited, to a second daemon. */
                r = pidlock_write_pid(d.lock_fd);
                if (r < 0)
                        log_msg(&d, LOG_WARNING, "cannot write the pid into the inventory lock: %s", strerror(-r));
        }
        if (setup_runtime(&d) < 0)
                return 1;
        d.flush_timer = virEventAddTimeout(-1, on_flush, &d, NULL);
        d.fold_retry_timer = virEventAddTimeout(-1, on_fold_retry, &d, NULL);

        for (size_t i = 0; d.uris[i]; i++)
                d.n_conns++;
        d.conns = calloc(d.n_conns ? d.n_conns : 1, sizeof(Conn));
        if (!d.conns) {
                log_msg(&d, LOG_ERR, "out of memory");
                return 1;
        }
        for (size_t i = 0; i < d.n_conns; i++)
                if (conn_init(&d, &d.conns[i], d.uris[i]) < 0) {
                        log_msg(&d, LOG_ERR, "'%s': out of memory", d.uris[i]);
                        return 1;
                }

        record_daemon_event(&d, "daemon.started", NULL);
        daemon_fold_spool(&d);
        if (watch_init(&d) < 0)
                log_msg(&d, LOG_WARNING, "account and spool watching is off");
        d.periodic_timer = virEventAddTimeout((int) d.config->reconcile_interval_s * 1000, on_periodic, &d, NULL);
        d.forward_timer = virEventAddTimeout(1000, on_forward, &d, NULL);
        for (size_t i = 0; i < d.n_conns; i++)
                conn_connect(&d.conns[i]);
        log_msg(&d, LOG_INFO, "started: inventory '%s', %zu connection(s)", d.config->inventory, d.n_conns);

        while (!d.quit)
                if (virEventRunDefaultImpl() < 0)
                        log_msg(&d, LOG_ERR, "event loop: %s", virGetLastErrorMessage());

        /* Shut down in the order that loses nothing: first stop libvirt's
         * callbacks (no new events arrive), then fold what the hook spooled
         * meanwhile, then record that we stop, then push it all to syslog,
         * and only then close the inventory. */
        for (size_t i = 0; i < d.n_conns; i++)
                conn_close(&d.conns[i]);
        watch_close(&d);
        daemon_fold_spool(&d);
        record_daemon_event(&d, "daemon.stopped", NULL);
        daemon_flush(&d);
        daemon_anchor(&d);
        log_msg(&d, LOG_INFO, "stopped");

        for (size_t i = 0; i < d.n_conns; i++) {
                free(d.conns[i].uri);
                free(d.conns[i].host);
        }
        free(d.conns);
        accounts_free(d.accounts);
        free(d.queue);
        config_strv_free(d.uris);
        config_strv_free(d.priv_groups);
        store_close(d.store);
        /* Released only now: a successor must not start while this one
         * still has the inventory open. */
        if (d.lock_fd >= 0)
                close(d.lock_fd);
        config_free(d.config);
        if (d.signal_fd >= 0)
                close(d.signal_fd);
        return 0;
}
