/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's bridges and their uplinks, read from sysfs (config
 * sys_class_net, /sys/class/net): what connects the guests on a bridge to
 * the world outside the host (BSI IT-Grundschutz M 4.349: the network
 * capacity of a virtualization host). A bridge is an interface with a
 * BRIDGE/bridge directory; its ports are the entries of BRIDGE/brif. A port is an
 * uplink unless it is a guest's: a tun/tap device (IF/tun_flags: libvirt's
 * vnetN, a tap of QEMU) or one named so (vnet*, tap*, macvtap*, vif*).
 */
#pragma once

#include <jansson.h>

#include "virtgov/util/util.h"

/*
 * Reads the bridges under root. *ret: a new object, one member per bridge
 * in name order,
 *   { "BR": { "state": operstate, "uplinks": [ { "name", "type", "state",
 *             "speed_mbps" }, ... ] } }
 * with uplinks in name order; type is "physical" (IF/device), "bond"
 * (IF/bonding), "vlan", "bridge" (the DEVTYPE of IF/uevent), "veth" (its
 * iflink is another interface) or "virtual"; state is the operstate
 * ("up", "down", "lowerlayerdown", ..., "unknown" when unreadable);
 * speed_mbps an integer, null when the driver does not say (a port that
 * is down, -1, or a file that cannot be read). Returns 0, or a negative
 * errno when root or a bridge's brif cannot be read, with err naming it:
 * what cannot be read is never reported as "no uplink".
 */
int uplinks_read(const char *root, json_t **ret, VgError *err);

/* Whether port name of a bridge is a guest's (the rule above), given
 * whether it has a tun_flags file. */
bool uplinks_is_guest_port(const char *name, bool tun);
