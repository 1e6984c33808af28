/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov-inventoryd: the second eye. Hooks see starts and stops but not
 * defines and undefines, and a hook can be missing or bypassed; this daemon
 * subscribes to libvirt's events, reconciles after every (re)connect, watches
 * the host's accounts, folds the hook's spool, cross-checks the two channels
 * and copies every event to the journal or syslog ('log').
 *
 * This file is the loop: signals, configuration reload, timers, start-up
 * and the order of shut-down. The work is in the modules below it
 * (daemon.h lists them); none of them calls back into it.
 */
#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/random.h>
#include <syslog.h>
#include <unistd.h>

#include "integrity-action.h"
#include "audit-reader.h"
#include "conn.h"
#include "assess-schedule.h"
#include "central.h"
#include "integrity-schedule.h"
#include "log.h"
#include "loopprobe.h"
#include "pidlock.h"
#include "reconcile.h"
#include "recorder.h"
#include "vg-paths.h"
#include "watch.h"

static void record_daemon_event(Daemon *d, const char *kind, const char *reason) {
        Event *e = event_new("daemon", kind);
        if (!e) {
                log_not_recorded(kind, NULL);
                return;
        }
        event_set(&e->reason, reason);
        json_t *uris = json_array();
        for (size_t i = 0; i < d->n_conns; i++)
                json_array_append_new(uris, json_string(d->conns[i].uri));
        json_object_set_new(e->data, "uris", uris);
        json_object_set_new(e->data, "version", json_string(VIRTGOV_VERSION));
        json_object_set_new(e->data, "pid", json_integer(getpid()));
        recorder_record(d->rec, e);
}

/* ---- signals and timers ---- */

static void reload(Daemon *d) {
        Config *c = NULL;
        VgError err = { "" };
        char **groups = NULL;
        if (config_load(d->config_path, &c, &err) == 0 && !(groups = config_split(c->privileged_groups)))
                vg_error(&err, -ENOMEM, "out of memory");
        if (!groups) {
                log_msg(LOG_ERR, "reload: %s; keeping the running configuration", err.text);
                record_daemon_event(d, "daemon.reload-failed", err.text);
                config_free(c);
                return;
        }
        if (strcmp(c->inventory, d->config->inventory) || strcmp(c->spool_dir, d->config->spool_dir) ||
            strcmp(c->uris, d->config->uris) || strcmp(c->etc_dir, d->config->etc_dir))
                log_msg(LOG_WARNING, "reload: inventory, spool_dir, uris and etc_dir take effect "
                        "only at restart");
        /* Keep the paths the open resources were made from. */
        config_set_path(&c->inventory, d->config->inventory);
        config_set_path(&c->spool_dir, d->config->spool_dir);
        config_set_path(&c->uris, d->config->uris);
        config_set_path(&c->etc_dir, d->config->etc_dir);
        config_free(d->config);
        d->config = c;
        recorder_set_config(d->rec, c);
        config_strv_free(d->priv_groups);
        d->priv_groups = groups;
        virEventUpdateTimeout(d->periodic_timer, (int) c->reconcile_interval_s * 1000);
        integrityd_reload(d);
        assessd_reload(d);
        centrald_reload(d);
        record_daemon_event(d, "daemon.reloaded", NULL);
        log_msg(LOG_INFO, "configuration reloaded; events copied to %s", recorder_targets(d->rec));
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
        (void) recorder_fold_spool(d->rec);   /* a failure is logged and retried */
        for (size_t i = 0; i < d->n_conns; i++)
                if (d->conns[i].conn)
                        reconcile(&d->conns[i]);
        recorder_forward(d->rec);
        recorder_anchor(d->rec);
        recorder_check_authz(d->rec);
}

/* Every event recorded, the CLI's too: integrity_action's cue. */
static int on_recorded(void *opaque, const Event *e) {
        return actiond_event(opaque, e);
}

static void on_forward(int timer, void *opaque) {
        recorder_forward(((Daemon *) opaque)->rec);
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
                               "(policy.bypass), and copies every event to the journal or syslog.\n"
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

/* After daemonizing: the loop, the inventory and its recorder, the
 * signals. The event loop comes first: the recorder's timers go on it. */
static int setup_runtime(Daemon *d) {
        VgError err = { "" };
        if (virEventRegisterDefaultImpl() < 0) {
                log_msg(LOG_ERR, "cannot set up libvirt's event loop");
                return -EIO;
        }
        Store *s = NULL;
        if (store_open(d->config->inventory, STORE_CREATE, d->config->busy_timeout_ms, &s, &err) < 0) {
                log_msg(LOG_ERR, "%s", err.text);
                return -EIO;
        }
        /* Appending touches a few dozen pages (the right edge of each
         * index, a domain's row); SQLite's default 2 MiB cache only filled
         * up from the reconcile's scan of every domain. At 100,000 domains
         * 256 KiB took the daemon's peak RSS from 22.6 to 20.6 MB, its
         * folding rate unchanged (bench/run). */
        if (store_set_cache_kib(s, 256, &err) < 0)
                log_msg(LOG_WARNING, "%s", err.text);
        if (recorder_new(s, d->config, &d->rec) < 0) {
                log_msg(LOG_ERR, "out of memory");
                return -ENOMEM;
        }
        recorder_on_event(d->rec, on_recorded, d);
        int r = setup_signals(d);
        if (r < 0) {
                log_msg(LOG_ERR, "signals: %s", strerror(-r));
                return r;
        }
        return 0;
}

/* One Conn per URI, each connected (or retrying) by conn_connect. */
static int setup_conns(Daemon *d) {
        size_t n = 0;
        while (d->uris[n])
                n++;
        d->conns = calloc(n ? n : 1, sizeof(Conn));
        if (!d->conns) {
                log_msg(LOG_ERR, "out of memory");
                return -ENOMEM;
        }
        /* n_conns counts the ones set up: those are the ones to close. */
        for (; d->n_conns < n; d->n_conns++)
                if (conn_init(d, &d->conns[d->n_conns], d->uris[d->n_conns]) < 0) {
                        log_msg(LOG_ERR, "'%s': out of memory", d->uris[d->n_conns]);
                        conn_clear(&d->conns[d->n_conns]);
                        return -ENOMEM;
                }
        return 0;
}

/* Shut down in the order that loses nothing: first stop libvirt's
 * callbacks and inotify (no new events arrive), then fold what the hook
 * spooled meanwhile, then record that we stop, then commit and push it all
 * to the journal or syslog with the chain head; free_daemon closes the inventory after. */
static void stop_daemon(Daemon *d) {
        for (size_t i = 0; i < d->n_conns; i++)
                conn_close(&d->conns[i]);
        watch_close(d);
        /* After the watcher: what no diff will claim now is recorded alone. */
        auditr_stop(d);
        integrityd_stop(d);
        assessd_stop(d);
        /* After the checks (none starts another run) and before the
         * last flush: a page in flight ends, within its timeout, and is
         * recorded. Events recorded from here on get their runs at the
         * next start (action_cursor). */
        recorder_on_event(d->rec, NULL, NULL);
        actiond_stop(d);
        /* Before the last flush: a round in flight is cut and its
         * conflicts recorded. Its end waits for no server: the events
         * recorded from here on ship at the next start. */
        centrald_stop(d);
        (void) recorder_fold_spool(d->rec);
        record_daemon_event(d, "daemon.stopped", NULL);
        recorder_flush(d->rec);
        recorder_anchor(d->rec);
        loopprobe_stop(d);
        log_msg(LOG_INFO, "stopped");
}

/* Whatever was set up, however far the start-up went. */
static void free_daemon(Daemon *d) {
        for (size_t i = 0; i < d->n_conns; i++) {
                conn_close(&d->conns[i]);   /* (a no-op after stop_daemon's) */
                conn_clear(&d->conns[i]);
        }
        free(d->conns);
        integrityd_stop(d);   /* (a no-op after stop_daemon's) */
        assessd_stop(d);      /* (likewise) */
        centrald_stop(d);     /* (likewise) */
        if (d->rec) {
                recorder_on_event(d->rec, NULL, NULL);
                actiond_stop(d);      /* (likewise) */
        }
        auditr_stop(d);   /* (a no-op after stop_daemon's) */
        watch_free(d);   /* after the audit stream, which names people through it */
        loopprobe_stop(d);   /* (likewise) */
        config_strv_free(d->uris);
        config_strv_free(d->priv_groups);
        d->rec = recorder_free(d->rec);   /* closes the inventory */
        /* Released only now: a successor must not start while this one
         * still has the inventory open. */
        if (d->lock_fd >= 0)
                close(d->lock_fd);
        config_free(d->config);
        if (d->signal_fd >= 0)
                close(d->signal_fd);
}

/* A libvirt error is reported through our log, once, not on stderr by
 * libvirt's default handler. */
static void on_libvirt_error(void *opaque, virErrorPtr e) {
}

/* From a configured daemon to its end: start, the loop until SIGTERM or
 * SIGINT, the ordered stop. Exit status 0, or 1 when the start-up failed
 * (said). */
static int run(Daemon *d) {
        if (!d->foreground) {
                if (daemon(0, 0) < 0) {
                        perror("virtgov-inventoryd: daemon");
                        return 1;
                }
                /* The child holds the lock (it shares the open file); name
                 * it, not the parent that exited, to a second daemon. */
                int r = pidlock_write_pid(d->lock_fd);
                if (r < 0)
                        fprintf(stderr, "virtgov-inventoryd: the inventory lock: %s\n", strerror(-r));
        }
        log_open(d->foreground);
        if (setup_runtime(d) < 0 || setup_conns(d) < 0)
                return 1;

        record_daemon_event(d, "daemon.started", NULL);
        (void) recorder_fold_spool(d->rec);
        recorder_check_authz(d->rec);
        /* Before the account watcher: its first live diff must find the
         * records of the change it shows. */
        auditr_start(d);
        if (watch_init(d) < 0)
                log_msg(LOG_WARNING, "account and spool watching is off");
        if (integrityd_start(d) < 0)
                log_msg(LOG_WARNING, "integrity watching is off");
        if (assessd_start(d) < 0)
                log_msg(LOG_WARNING, "the periodic assessment is off");
        if (centrald_start(d) < 0)
                log_msg(LOG_WARNING, "shipping to the central inventory is off");
        d->periodic_timer = virEventAddTimeout((int) d->config->reconcile_interval_s * 1000, on_periodic, d, NULL);
        d->forward_timer = virEventAddTimeout(1000, on_forward, d, NULL);
        for (size_t i = 0; i < d->n_conns; i++)
                conn_connect(&d->conns[i]);
        log_msg(LOG_INFO, "started: inventory '%s', %zu connection(s), events copied to %s", d->config->inventory,
                d->n_conns, recorder_targets(d->rec));
        /* Last: what it times is the loop's turns, not the start-up. */
        loopprobe_start(d);

        while (!d->quit)
                if (virEventRunDefaultImpl() < 0)
                        log_msg(LOG_ERR, "event loop: %s", virGetLastErrorMessage());
        stop_daemon(d);
        return 0;
}

int main(int argc, char **argv) {
        Daemon d = { .signal_fd = -1, .periodic_timer = -1, .forward_timer = -1, .lock_fd = -1 };
        /* The daemon's size is its working set, not its biggest job's:
         * glibc raises both thresholds after the first large block is
         * freed (up to 32 MiB), and a thread's arena then keeps what its
         * biggest job needed (the shipper's held 3 MiB). Fixed, large
         * blocks are mapped and unmapped, and a heap's free top is given
         * back past 128 KiB. */
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
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
        int status = run(&d);
        free_daemon(&d);
        return status;
}
