/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checks of every defined domain, read from the definitions libvirt
 * keeps (libvirt_dir/qemu/NAME.xml) through the hardened DOM: what in a
 * guest's definition weakens the isolation between it and the host.
 * Each finding is a result of its own, filed under the domain, so an
 * exception can name a domain glob.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

typedef void (*DomJudge)(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *qemu, size_t *found);

static void each_domain(AssessCtx *x, const AssessCheck *c, DomJudge fn, bool need_qemu) {
        if (assess_domains(x, c) < 0)
                return;
        const Vconf *q = NULL;
        if (need_qemu && !(q = assess_qemu_conf(x, c)))
                return;
        if (!x->n_domains) {
                assess_add(x, c, ASSESS_NA, NULL, NULL, "no domain is defined");
                return;
        }
        for (size_t i = 0; i < x->n_domains; i++) {
                const DomainXml *d = &x->domains[i];
                if (!d->root) {
                        assess_add(x, c, ASSESS_ERROR, d->path, d->name, "%s", d->err);
                        continue;
                }
                size_t found = 0;
                fn(x, c, d, q, &found);
                if (!found)
                        assess_add(x, c, ASSESS_PASS, d->path, d->name, "none");
        }
}

static const char *at_node(char *buf, size_t n, const DomainXml *d, const XNode *e) {
        return assess_at(buf, n, d->path, (unsigned) xnode_line(e));
}

static void cmdline(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        (void) q;
        char at[4200];
        XNODE_FOREACH(e, d->root)
                if (xnode_is(e, "commandline", QEMU_NS) || xnode_is(e, "capabilities", QEMU_NS) ||
                    xnode_is(e, "override", QEMU_NS)) {
                        size_t args = 0;
                        XNODE_FOREACH(a, e)
                                args++;
                        assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, e), d->name,
                                   "<qemu:%s> with %zu item(s): QEMU runs what libvirt does not know of",
                                   xnode_name(e), args);
                        (*found)++;
                }
}

void assess_check_dom_commandline(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, cmdline, false);
}

static void seclabel_one(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const XNode *s, const char *where,
                         size_t *found) {
        char at[4200];
        const char *type = xnode_attr(s, "type"), *relabel = xnode_attr(s, "relabel");
        const char *model = xnode_attr(s, "model");
        if (vg_streq(type, "none") || vg_streq(relabel, "no")) {
                assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, s), d->name,
                           "%s<seclabel%s%s type='%s'%s>", where, model ? " model=" : "", model ? model : "",
                           type ? type : "", vg_streq(relabel, "no") ? " relabel='no'" : "");
                (*found)++;
        }
}

static void seclabel(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        (void) q;
        XNODE_FOREACH(e, d->root)
                if (xnode_is(e, "seclabel", NULL))
                        seclabel_one(x, c, d, e, "", found);
        /* A disk's own seclabel relabel='no' leaves the image unlabelled. */
        XNODE_FOREACH(dev, xnode_child(d->root, "devices"))
                if (xnode_is(dev, "disk", NULL))
                        XNODE_FOREACH(s, xnode_child(dev, "source"))
                                if (xnode_is(s, "seclabel", NULL) && vg_streq(xnode_attr(s, "relabel"), "no")) {
                                        char at[4200];
                                        assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, s), d->name,
                                                   "a disk's <seclabel relabel='no'>: the image is not confined");
                                        (*found)++;
                                }
}

void assess_check_dom_seclabel(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, seclabel, false);
}

/* The address a <graphics> listens on: its listen attribute, its
 * <listen type='address'>, none for a socket or 'none' listen, else
 * qemu.conf's default for the protocol. */
static const char *graphics_listen(const XNode *g, const Vconf *q, bool *socket) {
        *socket = false;
        XNODE_FOREACH(l, g)
                if (xnode_is(l, "listen", NULL)) {
                        const char *t = xnode_attr(l, "type");
                        if (vg_streq(t, "socket") || vg_streq(t, "none")) {
                                *socket = true;
                                return NULL;
                        }
                        if (vg_streq(t, "address") && xnode_attr(l, "address"))
                                return xnode_attr(l, "address");
                        if (vg_streq(t, "network"))
                                return "(a network's address)";
                }
        if (xnode_attr(g, "listen"))
                return xnode_attr(g, "listen");
        if (xnode_attr(g, "socket")) {
                *socket = true;
                return NULL;
        }
        char key[32];
        snprintf(key, sizeof(key), "%s_listen", xnode_attr(g, "type"));
        const VconfEntry *e = vconf_get(q, key);
        return e && e->value.type == VCONF_STRING ? e->value.str : "127.0.0.1";
}

static void graphics(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        char at[4200];
        XNODE_FOREACH(g, xnode_child(d->root, "devices")) {
                if (!xnode_is(g, "graphics", NULL))
                        continue;
                const char *type = xnode_attr(g, "type");
                if (!vg_streq(type, "vnc") && !vg_streq(type, "spice"))
                        continue;
                bool socket;
                const char *addr = graphics_listen(g, q, &socket);
                if (socket || assess_loopback(addr))
                        continue;
                bool passwd = xnode_attr(g, "passwd") != NULL;
                char key[32];
                snprintf(key, sizeof(key), "%s_tls", type);
                const VconfEntry *t = vconf_get(q, key);
                bool tls = (t && t->value.type == VCONF_NUMBER && t->value.num == 1) ||
                           (vg_streq(type, "spice") && vg_streq(xnode_attr(g, "defaultMode"), "secure"));
                const VconfEntry *pw = vconf_get(q, !strcmp(type, "vnc") ? "vnc_password" : "spice_password");
                passwd |= pw && pw->value.type == VCONF_STRING && *pw->value.str;
                if (passwd || tls)
                        continue;
                assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, g), d->name,
                           "%s console on %s, with neither a password nor TLS: anyone who reaches it has the "
                           "guest's keyboard and screen", type, addr);
                (*found)++;
        }
}

void assess_check_dom_graphics(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, graphics, true);
}

static void hostdev(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        (void) q;
        char at[4200];
        XNODE_FOREACH(e, xnode_child(d->root, "devices"))
                if (xnode_is(e, "hostdev", NULL) ||
                    (xnode_is(e, "interface", NULL) && vg_streq(xnode_attr(e, "type"), "hostdev"))) {
                        assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, e), d->name,
                                   "<%s type='%s'> passes a host device through", xnode_name(e),
                                   xnode_attr(e, "type") ? xnode_attr(e, "type") : "?");
                        (*found)++;
                }
}

void assess_check_dom_hostdev(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, hostdev, false);
}

static void shmem(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        (void) q;
        char at[4200];
        XNODE_FOREACH(e, xnode_child(d->root, "devices"))
                if (xnode_is(e, "shmem", NULL)) {
                        assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, e), d->name,
                                   "<shmem name='%s'>: memory shared with the host or other guests",
                                   xnode_attr(e, "name") ? xnode_attr(e, "name") : "");
                        (*found)++;
                }
}

void assess_check_dom_shmem(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, shmem, false);
}

/* path under one of dirs, with no ".." to climb out. */
static bool under_dirs(char *const *dirs, const char *path) {
        if (strstr(path, "/../") || (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
                return false;
        for (size_t i = 0; dirs && dirs[i]; i++) {
                size_t l = strlen(dirs[i]);
                while (l > 1 && dirs[i][l - 1] == '/')
                        l--;
                if (!strncmp(path, dirs[i], l) && path[l] == '/')
                        return true;
        }
        return false;
}

static void disks(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        (void) q;
        char at[4200];
        XNODE_FOREACH(e, xnode_child(d->root, "devices")) {
                if (!xnode_is(e, "disk", NULL))
                        continue;
                const XNode *s = xnode_child(e, "source");
                const char *type = xnode_attr(e, "type");
                const char *path = vg_streq(type, "block") ? xnode_attr(s, "dev")
                                   : vg_streq(type, "dir")  ? xnode_attr(s, "dir")
                                   : vg_streq(type, "file") || !type ? xnode_attr(s, "file")
                                                                     : NULL;
                if (!path)
                        continue;   /* network, volume (a pool's), an empty cdrom */
                if (under_dirs(x->p->image_dirs, path))
                        continue;
                assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, e), d->name,
                           "%s disk %s is outside the image directories (image_dirs)",
                           xnode_attr(e, "device") ? xnode_attr(e, "device") : "disk", path);
                (*found)++;
        }
}

void assess_check_dom_disks(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, disks, false);
}

static void chardev(AssessCtx *x, const AssessCheck *c, const DomainXml *d, const Vconf *q, size_t *found) {
        (void) q;
        char at[4200];
        XNODE_FOREACH(e, xnode_child(d->root, "devices")) {
                if (!xnode_is(e, "serial", NULL) && !xnode_is(e, "console", NULL) && !xnode_is(e, "channel", NULL) &&
                    !xnode_is(e, "parallel", NULL))
                        continue;
                const char *type = xnode_attr(e, "type");
                if (!vg_streq(type, "tcp") && !vg_streq(type, "udp") && !vg_streq(type, "telnet"))
                        continue;
                XNODE_FOREACH(s, e) {
                        /* mode='bind' listens; 'connect' (TCP's default) dials out. */
                        if (!xnode_is(s, "source", NULL) || !vg_streq(xnode_attr(s, "mode"), "bind"))
                                continue;
                        const char *host = xnode_attr(s, "host");
                        if (assess_loopback(host))
                                continue;
                        assess_add(x, c, ASSESS_FAIL, at_node(at, sizeof(at), d, e), d->name,
                                   "<%s type='%s'> listens on %s:%s: the guest's console to the network",
                                   xnode_name(e), type, host ? host : "every address",
                                   xnode_attr(s, "service") ? xnode_attr(s, "service") : "?");
                        (*found)++;
                }
        }
}

void assess_check_dom_chardev(AssessCtx *x, const AssessCheck *c) {
        each_domain(x, c, chardev, false);
}
