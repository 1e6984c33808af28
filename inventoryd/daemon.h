/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov-inventoryd's shared state. One thread, one loop
 * (virEventRunDefaultImpl): libvirt's callbacks, the signalfd, inotify and
 * the timers all run from it, so nothing here needs a lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The *_LAST enum values let the name tables be checked at compile time. */
#define VIR_ENUM_SENTINELS
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "virtgov/accounts.h"
#include "virtgov/config.h"
#include "virtgov/event.h"
#include "virtgov/store.h"

typedef struct Daemon Daemon;

/* One libvirt connection, kept open across daemon restarts of libvirtd. */
typedef struct Conn {
        Daemon *d;
        char *uri;
        virConnectPtr conn;      /* NULL while disconnected */
        char *host;              /* the host its events are filed under */
        bool local;              /* the hooks of this host write our inventory */
        int dom_cb[5];           /* domain callback ids, -1 when not registered */
        int net_cb, pool_cb;
        int retry_timer;         /* reconnect timer id */
        unsigned backoff_s;      /* next reconnect delay */
        bool lost;               /* the connection went away; logged once */
} Conn;

struct Daemon {
        Config *config;
        const char *config_path; /* --config, to reload on SIGHUP */
        Store *store;
        bool foreground, quit;
        char **uris;             /* from --uri, else the config's uris */
        Conn *conns;
        size_t n_conns;
        char **priv_groups;

        /* accounts */
        Accounts *accounts;      /* current snapshot, with in-memory digests */
        uint64_t digest_key;
        int inotify_fd, wd_etc, wd_sudoers, wd_spool;
        int accounts_timer;      /* debounce: tools write several files */
        unsigned accounts_failures;  /* reads failed in a row */
        int periodic_timer, forward_timer;
        bool forward_stalled;    /* the syslog copy's stall was said */
        /* Events recorded during one loop iteration, committed together at
         * its end (daemon_flush): one fsync per burst, not per event. */
        Event **queue;
        size_t n_queue;
        int flush_timer;
        /* A fold that failed (inventory locked, full, read-only) is tried
         * again after fold_retry_ms, doubling up to a minute. */
        int fold_retry_timer;
        unsigned fold_retry_ms;
        int signal_fd;
        int lock_fd;             /* the inventory's daemon lock (pidlock.h), held until exit */
};

/* Operational messages (not events): stderr in the foreground, syslog
 * otherwise. */
void log_msg(Daemon *d, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Records e (taking ownership). It is queued and committed with the rest of
 * this loop iteration's events by daemon_flush, which runs at the end of
 * the iteration (or at once when the queue holds DAEMON_BATCH events). An
 * event that cannot be written is spooled; one that cannot be spooled
 * either is logged whole. Never silently dropped.
 */
int daemon_record(Daemon *d, Event *e);

/* Commits the queue in one transaction, then forwards to syslog. Anything
 * that reads the inventory expecting the daemon's own events calls it first. */
void daemon_flush(Daemon *d);

/* Sends every event not yet forwarded to syslog (hook-written ones too). */
void daemon_forward(Daemon *d);

/* Folds the hook's spool into the inventory. */
void daemon_fold_spool(Daemon *d);

/* Something the daemon should do, and did not: what (one phrase), why
 * (the error), and fix (what the reader can do, or NULL). Said once in the
 * log (LOG_ERR) and recorded as a daemon.degraded event filed under host
 * (NULL: none), so an auditor sees the gap in the record itself. */
void daemon_degraded(Daemon *d, const char *host, const char *what, const char *why, const char *fix);

/* conn.c */
int conn_init(Daemon *d, Conn *c, const char *uri);
void conn_connect(Conn *c);          /* connects now or schedules a retry */
void conn_close(Conn *c);

/* reconcile.c: after every connect and periodically. */
int reconcile(Conn *c);
/* A domain event of source "libvirt" or "reconcile" with the domain's
 * identity and, when xml_flags >= 0, its facts. */
Event *domain_event(Conn *c, virDomainPtr dom, const char *source, const char *kind, int xml_flags);
/* The network and pool snapshots (meta) follow every lifecycle event. */
void objects_note(Conn *c, const char *type, const char *name, const char *uuid, int active, int persistent);

/* watch.c */
int watch_init(Daemon *d);           /* accounts baseline + inotify */
void watch_close(Daemon *d);
void accounts_rescan(Daemon *d);
