/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciliation: what libvirt has now against what the inventory believes.
 */
#pragma once

#include "conn.h"

/*
 * Records every difference between c's libvirt and the inventory's domains,
 * networks and pools of c's host as events of source "reconcile": after
 * every connect (libvirt loses events while nobody is connected) and
 * periodically. An inventory that is already right yields no event; a part
 * that could not be compared is said (log and daemon.degraded), never taken
 * for "no change". 0, or -ENOTCONN when c is not connected.
 */
int reconcile(Conn *c);
