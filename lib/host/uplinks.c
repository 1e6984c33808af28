/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's bridges and their uplinks, from sysfs (uplinks.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtgov/host/uplinks.h"
#include "virtgov/util/cleanup.h"

/* sysfs attributes are a line; a uevent a few. */
#define ATTR_MAX 4096

/* root/name/attr, or false when the path would not fit. */
static bool attr_path(char *buf, size_t n, const char *root, const char *name, const char *attr) {
        int k = snprintf(buf, n, "%s/%s/%s", root, name, attr);
        return k > 0 && (size_t) k < n;
}

static bool attr_exists(const char *root, const char *name, const char *attr) {
        char p[4096];
        return attr_path(p, sizeof(p), root, name, attr) && access(p, F_OK) == 0;
}

/* The first line of root/name/attr, or NULL: a missing file, or one the
 * driver refuses to read (the speed of a port that is down: EINVAL). */
static char *attr_read(const char *root, const char *name, const char *attr) {
        char p[4096];
        char *buf = NULL;
        size_t len = 0;
        if (!attr_path(p, sizeof(p), root, name, attr) || vg_read_file(p, ATTR_MAX, &buf, &len) < 0)
                return NULL;
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

bool uplinks_is_guest_port(const char *name, bool tun) {
        static const char *const guest[] = { "vnet", "tap", "macvtap", "vif" };
        if (tun)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(guest); i++)
                if (!strncmp(name, guest[i], strlen(guest[i])))
                        return true;
        return false;
}

static const char *port_type(const char *root, const char *name) {
        if (attr_exists(root, name, "device"))
                return "physical";
        if (attr_exists(root, name, "bonding"))
                return "bond";
        _cleanup_free_ char *uevent = NULL;
        char p[4096];
        size_t len;
        if (attr_path(p, sizeof(p), root, name, "uevent") && vg_read_file(p, ATTR_MAX, &uevent, &len) == 0) {
                if (strstr(uevent, "DEVTYPE=vlan\n"))
                        return "vlan";
                if (strstr(uevent, "DEVTYPE=bridge\n"))
                        return "bridge";
                if (strstr(uevent, "DEVTYPE=bond\n"))
                        return "bond";
        }
        _cleanup_free_ char *ifindex = attr_read(root, name, "ifindex");
        _cleanup_free_ char *iflink = attr_read(root, name, "iflink");
        if (ifindex && iflink && strcmp(ifindex, iflink))
                return "veth";
        return "virtual";
}

static json_t *port_json(const char *root, const char *name) {
        _cleanup_free_ char *state = attr_read(root, name, "operstate");
        _cleanup_free_ char *speed = attr_read(root, name, "speed");
        char *end = NULL;
        long long mbps = speed ? strtoll(speed, &end, 10) : -1;
        bool known = speed && end != speed && *end == '\0' && mbps > 0;
        return json_pack("{s:s, s:s, s:s, s:o}", "name", name, "type", port_type(root, name), "state",
                         state && *state ? state : "unknown", "speed_mbps",
                         known ? json_integer(mbps) : json_null());
}

static int by_name(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The entries of dir but . and .., sorted; names of at most 255 bytes
 * (readdir's). */
static int list_dir(const char *dir, char ***ret, size_t *ret_n) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        char **names = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char *s = strdup(de->d_name);
                if (!s || vg_grow((void **) &names, &n, sizeof(*names)) < 0) {
                        free(s);
                        r = -ENOMEM;
                        break;
                }
                names[n - 1] = s;
                errno = 0;
        }
        if (!r && errno)
                r = -errno;
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        if (n)
                qsort(names, n, sizeof(*names), by_name);
        *ret = names;
        *ret_n = n;
        return 0;
}

static void names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* One bridge's object, or a negative errno with err naming its brif. */
static int bridge_json(const char *root, const char *br, json_t **ret, VgError *err) {
        char dir[4096];
        char **ports = NULL;
        size_t n = 0;
        if (!attr_path(dir, sizeof(dir), root, br, "brif"))
                return vg_error(err, -ENAMETOOLONG, "%s/%s/brif: path too long", root, br);
        int r = list_dir(dir, &ports, &n);
        if (r < 0)
                return vg_error(err, r, "%s: %s", dir, strerror(-r));
        json_t *uplinks = json_array();
        for (size_t i = 0; uplinks && i < n; i++) {
                if (uplinks_is_guest_port(ports[i], attr_exists(root, ports[i], "tun_flags")))
                        continue;
                if (json_array_append_new(uplinks, port_json(root, ports[i])) < 0) {
                        json_decref(uplinks);
                        uplinks = NULL;
                }
        }
        names_free(ports, n);
        _cleanup_free_ char *state = attr_read(root, br, "operstate");
        json_t *o = uplinks ? json_pack("{s:s, s:o}", "state", state && *state ? state : "unknown", "uplinks", uplinks)
                            : NULL;
        if (!o)
                return vg_error(err, -ENOMEM, "out of memory");
        *ret = o;
        return 0;
}

int uplinks_read(const char *root, json_t **ret, VgError *err) {
        char **names = NULL;
        size_t n = 0;
        int r = list_dir(root, &names, &n);
        if (r < 0)
                return vg_error(err, r, "%s: %s", root, strerror(-r));
        json_t *all = json_object();
        for (size_t i = 0; i < n && all && r == 0; i++) {
                if (!attr_exists(root, names[i], "bridge"))
                        continue;
                json_t *br = NULL;
                r = bridge_json(root, names[i], &br, err);
                if (r == -ENOENT && !attr_exists(root, names[i], "bridge"))
                        r = 0;   /* removed while read: not a bridge any more */
                else if (r == 0 && json_object_set_new(all, names[i], br) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
        }
        names_free(names, n);
        if (!all)
                return vg_error(err, -ENOMEM, "out of memory");
        if (r < 0) {
                json_decref(all);
                return r;
        }
        *ret = all;
        return 0;
}
