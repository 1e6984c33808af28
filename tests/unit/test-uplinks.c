/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bridges' uplinks as read from a sysfs tree (uplinks.h): fixtures
 * under tests/data/uplinks/, laid out as /sys/class/net is. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "virtgov/host/uplinks.h"

#define DATA TEST_DATA_DIR "/uplinks/"

static json_t *read_ok(const char *root) {
        json_t *j = NULL;
        VgError err = { "" };
        int r = uplinks_read(root, &j, &err);
        cr_assert_eq(r, 0, "%s: %s", root, err.text);
        cr_assert(json_is_object(j));
        return j;
}

/* br0's uplink called name, or NULL. */
static json_t *uplink(json_t *all, const char *br, const char *name) {
        json_t *list = json_object_get(json_object_get(all, br), "uplinks"), *u;
        size_t i;
        json_array_foreach(list, i, u)
                if (!strcmp(json_string_value(json_object_get(u, "name")), name))
                        return u;
        return NULL;
}

static void expect_port(json_t *all, const char *name, const char *type, const char *state, json_int_t speed) {
        json_t *u = uplink(all, "br0", name);
        cr_assert(u, "br0 has no uplink %s", name);
        cr_expect_str_eq(json_string_value(json_object_get(u, "type")), type, "%s's type", name);
        cr_expect_str_eq(json_string_value(json_object_get(u, "state")), state, "%s's state", name);
        json_t *s = json_object_get(u, "speed_mbps");
        if (speed < 0)
                cr_expect(json_is_null(s), "%s: speed unknown, not %lld", name, (long long) json_integer_value(s));
        else
                cr_expect_eq(json_integer_value(s), speed, "%s's speed", name);
}

Test(uplinks, bridges_only_and_every_bridge) {
        json_t *all = read_ok(DATA "host");
        cr_expect_eq(json_object_size(all), 2, "br0 and virbr0, not eth0, eth1 or lo: %zu", json_object_size(all));
        cr_expect(json_object_get(all, "br0") && json_object_get(all, "virbr0"));
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(all, "br0"), "state")), "up");
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(all, "virbr0"), "state")), "down");
        json_decref(all);
}

Test(uplinks, each_port_with_type_state_and_speed) {
        json_t *all = read_ok(DATA "host");
        expect_port(all, "eth0", "physical", "up", 10000);
        expect_port(all, "bond0", "bond", "down", -1);           /* speed -1: unknown */
        expect_port(all, "veth0", "veth", "lowerlayerdown", -1); /* no speed file */
        expect_port(all, "vlan10", "vlan", "up", -1);            /* unreadable speed */
        /* in name order */
        json_t *list = json_object_get(json_object_get(all, "br0"), "uplinks");
        cr_expect_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "name")), "bond0");
        json_decref(all);
}

Test(uplinks, guests_ports_are_not_uplinks) {
        json_t *all = read_ok(DATA "host");
        cr_expect_null(uplink(all, "br0", "vnet0"), "a tun device (tun_flags) is a guest's");
        cr_expect_null(uplink(all, "br0", "tapx"), "tap* is a guest's");
        cr_expect_eq(json_array_size(json_object_get(json_object_get(all, "br0"), "uplinks")), 4);
        cr_expect_eq(json_array_size(json_object_get(json_object_get(all, "virbr0"), "uplinks")), 0,
                     "virbr0 has only a guest's port: no uplink");
        cr_expect(uplinks_is_guest_port("vnet12", false));
        cr_expect(uplinks_is_guest_port("macvtap0", false));
        cr_expect(uplinks_is_guest_port("eno1", true));
        cr_expect_not(uplinks_is_guest_port("eno1", false));
        json_decref(all);
}

Test(uplinks, unreadable_is_an_error_not_no_uplink) {
        json_t *j = NULL;
        VgError err = { "" };
        cr_expect_eq(uplinks_read(DATA "nobrif", &j, &err), -ENOENT);
        cr_expect(strstr(err.text, "br9/brif"), "names what it could not read: %s", err.text);
        cr_expect_null(j);
        err.text[0] = '\0';
        cr_expect_eq(uplinks_read(DATA "absent", &j, &err), -ENOENT);
        cr_expect(strstr(err.text, "absent"), "%s", err.text);
}

Test(uplinks, the_real_sysfs_reads) {
        /* Whatever this machine has: it must read without an error. */
        json_t *j = read_ok("/sys/class/net");
        json_decref(j);
}
