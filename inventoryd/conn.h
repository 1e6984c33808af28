/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt connections: read-only, with keepalive and a close callback,
 * callbacks registered anew after each connect, a reconnect with backoff,
 * and the cross-checks made on libvirt's events (policy.bypass for a start
 * no hook decided, policy.violation for a define the policy would refuse).
 */
#pragma once

#include <stdbool.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "daemon.h"

/* One libvirt connection, kept open across restarts of libvirtd. */
struct Conn {
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
};

/* Sets c up for uri, disconnected, with its reconnect timer (libvirt's
 * event loop must be registered). 0, or -ENOMEM. */
int conn_init(Daemon *d, Conn *c, const char *uri);

/* Connects now, or schedules a retry with backoff; after each connect it
 * records daemon.connected and the host's software, folds the spool and
 * reconciles. */
void conn_connect(Conn *c);

/* Deregisters the callbacks, closes the connection and the timer: no
 * event of c arrives after it. Its uri stays, for daemon.stopped to name. */
void conn_close(Conn *c);

/* Frees what conn_init and the connects allocated, after conn_close. */
void conn_clear(Conn *c);
