/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov-inventoryd's shared state: types only, no functions, so that
 * sharing it makes no call into main.c. One loop (virEventRunDefaultImpl):
 * libvirt's callbacks, the signalfd, inotify and the timers all run from
 * it, so nothing here needs a lock. (The one other long-lived thread only
 * moves audit records from their socket into a queue of its own:
 * audit-queue.c says why. The checks that read files, integrity's and the
 * assessment's, read on a thread of their own (offload.c), which gets a
 * copy of the config and its own read-only connection to the inventory;
 * the loop records their results through the recorder, which stays the
 * one writer. The central shipper's rounds (central.c) likewise. None of these threads touches this state.)
 *
 * The modules, each calling only those below it:
 *   main.c       the loop: signals, reload, timers, start-up and shut-down
 *   conn.c       libvirt connections and their callbacks, the cross-checks
 *   hostfacts.c  at each connect, the host's software and identity, recorded
 *                when they change
 *   reconcile.c  libvirt's domains against the inventory's
 *   watch.c      inotify: the account files and the hook's spool
 *   integrity-schedule.c  when the integrity checks of the hypervisor's files run:
 *                on change, on timers
 *   integrity-watch.c  its inotify watches of the profiles' directories
 *   integrity-action.c  integrity_action: the program run on a finding, and its record
 *   assess-schedule.c  when the hardening assessment runs: on change, on a timer;
 *                its drift recorded
 *   capacity.c   pools' figures and the bridges' uplinks, when they changed
 *                (after each reconcile)
 *   central.c    the copy to the fleet's central inventory: when a round runs
 *                (on a thread), its position and conflicts recorded
 *   objects.c    networks' and pools' snapshots
 *   audit-reader.c  the kernel's audit stream: access events, the actor of a change
 *   audit-match.c   which account record or VM command names that actor
 *   domevent.c   a domain's event with its identity and facts
 *   recorder.c   the inventory's connection, the events' way into it, and the
 *                copy to syslog (the integrity, process and assessment runs
 *                write their own tables through the same connection)
 *   offload.c    one job at a time on a thread, its end handed back to the loop
 *   loopprobe.c  how late the loop's timer ticks (VIRTGOV_LOOP_PROBE_MS)
 *   pidlock.c, log.c
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "recorder.h"
#include "virtgov/host/accounts.h"
#include "virtgov/util/config.h"

typedef struct Conn Conn;
typedef struct Watchd Watchd;
typedef struct Integrityd Integrityd;
typedef struct Actiond Actiond;
typedef struct Assessd Assessd;
typedef struct AuditReader AuditReader;
typedef struct LoopProbe LoopProbe;
typedef struct Centrald Centrald;

typedef struct Daemon {
        Config *config;          /* replaced on SIGHUP (main.c's reload) */
        const char *config_path; /* --config, to reload on SIGHUP */
        Recorder *rec;
        bool foreground, quit;
        char **uris;             /* from --uri, else the config's uris */
        Conn *conns;
        size_t n_conns;
        char **priv_groups;

        /* The accounts as last read, with in-memory digests (never
         * stored): watch.c reads them and owns them, the audit stream
         * names people through them. NULL until watch_init. */
        Accounts *accounts;
        Watchd *watch;           /* watch.c's inotify watches and timer; NULL until watch_init */
        Integrityd *integrity;   /* integrity-schedule.c's watches and timers; NULL: off */
        Actiond *action;         /* integrity-action.c's runs; NULL until the first */
        Assessd *assess;         /* assess-schedule.c's watches and timers; NULL: off */
        AuditReader *audit;      /* audit-reader.c's stream; NULL: not read */
        LoopProbe *probe;        /* loopprobe.c's timer; NULL: not asked for */
        Centrald *central;       /* central.c's shipper; NULL: no [central] dsn */

        int periodic_timer, forward_timer;
        int signal_fd;
        int lock_fd;             /* the inventory's daemon lock (pidlock.h), held until exit */
} Daemon;
