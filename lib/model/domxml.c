/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts from libvirt XML, read through the hardened DOM (xmldom.h): a
 * domain's, a network hook's, a pool's directory, a snapshot's time.
 * Their JSON form, both ways, is facts.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/domxml.h"
#include "virtgov/model/xmldom.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* A plain attribute as a string of the facts' own; NULL when absent. */
static char *prop(const XNode *n, const char *attr) {
        return vg_strdup0(xnode_attr(n, attr));
}

static uint64_t to_kib(const char *value, const char *unit) {
        if (!value)
                return 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end)
                return 0;
        static const struct { const char *u; unsigned long long mul, div; } units[] = {
                { "b", 1, 1024 }, { "bytes", 1, 1024 },
                { "KB", 1000, 1024 }, { "k", 1, 1 }, { "K", 1, 1 }, { "KiB", 1, 1 },
                { "MB", 1000000, 1024 }, { "M", 1024, 1 }, { "MiB", 1024, 1 },
                { "GB", 1000000000, 1024 }, { "G", 1048576, 1 }, { "GiB", 1048576, 1 },
                { "TB", 1000000000000ULL, 1024 }, { "T", 1073741824, 1 }, { "TiB", 1073741824, 1 },
        };
        if (!unit)
                return v;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (!strcmp(unit, units[i].u)) {
                        if (v > UINT64_MAX / units[i].mul)
                                return UINT64_MAX;
                        return v * units[i].mul / units[i].div;
                }
        return 0;
}

/* ---- domain ---- */

/* The source of a disk or backing store, as one string per disk type. */
static char *disk_source(const XNode *disk) {
        const XNode *src = xnode_child(disk, "source");
        if (!src)
                return NULL;
        const char *type = xnode_attr(disk, "type"), *a = NULL, *b = NULL;
        char sep = 0;
        if (vg_streq(type, "network"))    /* "protocol:name" */
                a = xnode_attr(src, "protocol"), b = xnode_attr(src, "name"), sep = ':';
        else if (vg_streq(type, "volume"))   /* "pool/volume" */
                a = xnode_attr(src, "pool"), b = xnode_attr(src, "volume"), sep = '/';
        if (sep) {
                char *s = NULL;
                if (asprintf(&s, "%s%c%s", a ? a : "?", sep, b ? b : "") < 0)
                        return NULL;
                return s;
        }
        static const char *const attrs[] = { "file", "dev", "dir", "path", "name" };
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                const char *s = xnode_attr(src, attrs[i]);
                if (s)
                        return strdup(s);
        }
        return NULL;
}

static int parse_disk(DomainFacts *f, const XNode *n) {
        if (vg_grow((void **) &f->disks, &f->n_disks, sizeof(DiskFacts)) < 0)
                return -ENOMEM;
        DiskFacts *d = &f->disks[f->n_disks - 1];
        d->type = prop(n, "type");
        d->device = prop(n, "device");
        d->source = disk_source(n);
        d->format = prop(xnode_child(n, "driver"), "type");
        d->target = prop(xnode_child(n, "target"), "dev");
        d->readonly = xnode_child(n, "readonly") != NULL;
        d->shareable = xnode_child(n, "shareable") != NULL;

        /* <backingStore> nests one level per layer; an empty one ends it. */
        for (XNode *b = xnode_child(n, "backingStore"); b; b = xnode_child(b, "backingStore")) {
                char *s = disk_source(b);
                if (!s)
                        break;
                char **nb = realloc(d->backing, (d->n_backing + 2) * sizeof(char *));
                if (!nb) {
                        free(s);
                        return -ENOMEM;
                }
                d->backing = nb;
                d->backing[d->n_backing++] = s;
                d->backing[d->n_backing] = NULL;
        }
        return 0;
}

static int parse_device(DomainFacts *f, const XNode *n) {
        if (xnode_is(n, "disk", NULL))
                return parse_disk(f, n);
        if (xnode_is(n, "emulator", NULL)) {
                free(f->emulator);
                f->emulator = xnode_text(n);
                return 0;
        }
        if (xnode_is(n, "interface", NULL)) {
                if (vg_grow((void **) &f->ifaces, &f->n_ifaces, sizeof(InterfaceFacts)) < 0)
                        return -ENOMEM;
                InterfaceFacts *i = &f->ifaces[f->n_ifaces - 1];
                const XNode *src = xnode_child(n, "source");
                i->type = prop(n, "type");
                i->source = prop(src, "network");
                if (!i->source)
                        i->source = prop(src, "bridge");
                if (!i->source)
                        i->source = prop(src, "dev");
                i->mac = prop(xnode_child(n, "mac"), "address");
                i->model = prop(xnode_child(n, "model"), "type");
                return 0;
        }
        if (xnode_is(n, "graphics", NULL)) {
                if (vg_grow((void **) &f->graphics, &f->n_graphics, sizeof(GraphicsFacts)) < 0)
                        return -ENOMEM;
                GraphicsFacts *g = &f->graphics[f->n_graphics - 1];
                g->type = prop(n, "type");
                g->listen = prop(n, "listen");
                if (!g->listen)
                        g->listen = prop(xnode_child(n, "listen"), "address");
                if (!g->listen)
                        g->listen = prop(xnode_child(n, "listen"), "socket");
                return 0;
        }
        return 0;
}

static void parse_metadata(DomainFacts *f, const XNode *md) {
        XNODE_FOREACH(g, md) {
                if (!xnode_is(g, "governance", VG_METADATA_NS))
                        continue;
                XNODE_FOREACH(c, g) {
                        char **field = xnode_is(c, "owner", VG_METADATA_NS)   ? &f->owner
                                     : xnode_is(c, "ticket", VG_METADATA_NS)  ? &f->ticket
                                     : xnode_is(c, "purpose", VG_METADATA_NS) ? &f->purpose
                                     : NULL;
                        if (field && !*field)
                                *field = xnode_text(c);
                }
        }
}

static int parse_domain_child(DomainFacts *f, const XNode *c) {
        if (xnode_is(c, "name", NULL) && !f->name)
                f->name = xnode_text(c);
        else if (xnode_is(c, "uuid", NULL) && !f->uuid)
                f->uuid = xnode_text(c);
        else if (xnode_is(c, "metadata", NULL))
                parse_metadata(f, c);
        else if (xnode_is(c, "vcpu", NULL)) {
                _cleanup_free_ char *v = xnode_text(c);
                f->vcpus = v ? (unsigned) strtoul(v, NULL, 10) : 0;
        } else if (xnode_is(c, "memory", NULL)) {
                _cleanup_free_ char *v = xnode_text(c);
                f->memory_kib = to_kib(v, xnode_attr(c, "unit"));
        } else if (xnode_is(c, "os", NULL) && !f->arch && !f->machine) {
                /* the first <os>, as for name and uuid (found by the fuzzer: a
                 * second one leaked the first's strings) */
                const XNode *t = xnode_child(c, "type");
                f->arch = prop(t, "arch");
                f->machine = prop(t, "machine");
                /* What QEMU is told to load besides its own firmware. */
                const XNode *k;
                if ((k = xnode_child(c, "loader")))
                        f->loader = xnode_text(k);
                if ((k = xnode_child(c, "kernel")))
                        f->kernel = xnode_text(k);
                if ((k = xnode_child(c, "initrd")))
                        f->initrd = xnode_text(k);
        } else if (xnode_is(c, "devices", NULL)) {
                XNODE_FOREACH(d, c)
                        if (parse_device(f, d) < 0)
                                return -ENOMEM;
        } else if (xnode_is(c, "seclabel", NULL)) {
                if (vg_grow((void **) &f->seclabels, &f->n_seclabels, sizeof(SeclabelFacts)) < 0)
                        return -ENOMEM;
                f->seclabels[f->n_seclabels - 1].type = prop(c, "type");
                f->seclabels[f->n_seclabels - 1].model = prop(c, "model");
        } else if (xnode_is(c, "commandline", QEMU_NS))
                f->qemu_commandline = true;
        return 0;
}


static int parse_domain(const XNode *dom, DomainFacts **ret, VgError *err) {
        _cleanup_(domain_facts_freep) DomainFacts *f = calloc(1, sizeof(*f));
        int r;
        if (!f)
                return vg_error(err, -ENOMEM, "out of memory");
        f->virt_type = prop(dom, "type");
        XNODE_FOREACH(c, dom)
                if ((r = parse_domain_child(f, c)) < 0)
                        return vg_error(err, r, "out of memory");
        if (!f->name || !*f->name)
                return vg_error(err, -EINVAL, "<domain> has no <name>");
        *ret = TAKE_PTR(f);
        return 0;
}

int domxml_parse(const char *xml, size_t len, DomainFacts **ret, VgError *err) {
        _cleanup_(xmldom_freep) XNode *root = NULL;
        int r = xmldom_parse(xml, len, &root, err);
        if (r < 0)
                return r;
        if (!xnode_is(root, "domain", NULL))
                return vg_error(err, -EINVAL, "line %d: root element is <%s>, expected <domain>",
                                xnode_line(root), xnode_name(root));
        return parse_domain(root, ret, err);
}

int domxml_parse_status(const char *xml, size_t len, DomainFacts **ret, VgError *err) {
        _cleanup_(xmldom_freep) XNode *root = NULL;
        int r = xmldom_parse(xml, len, &root, err);
        if (r < 0)
                return r;
        const XNode *dom = xnode_is(root, "domstatus", NULL) ? xnode_child(root, "domain") : NULL;
        if (!dom)
                return vg_error(err, -EINVAL, "line %d: root element is <%s>, expected <domstatus> with a <domain>",
                                xnode_line(root), xnode_name(root));
        return parse_domain(dom, ret, err);
}

/* ---- network hookData ---- */


/* The owner of a network port: libvirt >= 6.0 sends <networkport>; older
 * ones sent the plugged <interface> and its <domain>. Reads either. */
static void parse_port(NetworkFacts *f, const XNode *root) {
        const XNode *port = xnode_child(root, "networkport");
        if (port) {
                const XNode *owner = xnode_child(port, "owner");
                f->port_uuid = xnode_text(xnode_child(port, "uuid"));
                f->owner_name = xnode_text(xnode_child(owner, "name"));
                f->owner_uuid = xnode_text(xnode_child(owner, "uuid"));
                f->port_mac = prop(xnode_child(port, "mac"), "address");
        } else {
                const XNode *dom = xnode_child(root, "domain");
                f->owner_name = xnode_text(xnode_child(dom, "name"));
                f->owner_uuid = xnode_text(xnode_child(dom, "uuid"));
                f->port_mac = prop(xnode_child(xnode_child(root, "interface"), "mac"), "address");
        }
}

int netxml_parse(const char *xml, size_t len, NetworkFacts **ret, VgError *err) {
        _cleanup_(xmldom_freep) XNode *root = NULL;
        int r = xmldom_parse(xml, len, &root, err);
        if (r < 0)
                return r;

        /* A bare <network> is accepted too: it is what net-dumpxml prints. */
        bool bare = xnode_is(root, "network", NULL);
        const XNode *net = bare ? root : xnode_child(root, "network");
        if (!net || !(bare || xnode_is(root, "hookData", NULL)))
                return vg_error(err, -EINVAL,
                                "line %d: root element is <%s>, expected <hookData> with a <network>",
                                xnode_line(root), xnode_name(root));

        _cleanup_(network_facts_freep) NetworkFacts *f = calloc(1, sizeof(*f));
        if (!f)
                return vg_error(err, -ENOMEM, "out of memory");
        f->name = xnode_text(xnode_child(net, "name"));
        f->uuid = xnode_text(xnode_child(net, "uuid"));
        f->bridge = prop(xnode_child(net, "bridge"), "name");
        f->forward = prop(xnode_child(net, "forward"), "mode");
        if (!bare)
                parse_port(f, root);
        if (!f->name || !*f->name)
                return vg_error(err, -EINVAL, "<network> has no <name>");
        *ret = TAKE_PTR(f);
        return 0;
}

/* ---- storage pool ---- */

int poolxml_dir(const char *xml, size_t len, char **ret, VgError *err) {
        _cleanup_(xmldom_freep) XNode *root = NULL;
        int r = xmldom_parse(xml, len, &root, err);
        if (r < 0)
                return r;
        bool dir = xnode_is(root, "pool", NULL) && vg_streq(xnode_attr(root, "type"), "dir");
        *ret = dir ? xnode_text(xnode_child(xnode_child(root, "target"), "path")) : NULL;
        return 0;
}

/* ---- domain snapshot ---- */

int snapxml_creation_time(const char *xml, size_t len, int64_t *ret, VgError *err) {
        _cleanup_(xmldom_freep) XNode *root = NULL;
        int r = xmldom_parse(xml, len, &root, err);
        if (r < 0)
                return r;
        if (!xnode_is(root, "domainsnapshot", NULL))
                return vg_error(err, -EINVAL, "line %d: root element is <%s>, expected <domainsnapshot>",
                                xnode_line(root), xnode_name(root));
        const XNode *ct = xnode_child(root, "creationTime");
        _cleanup_free_ char *text = xnode_text(ct);
        if (ct && !text)
                return vg_error(err, -ENOMEM, "out of memory");
        char *end = NULL;
        errno = 0;
        long long t = text ? strtoll(text, &end, 10) : 0;
        if (!text || errno || end == text || *end || t <= 0)
                return vg_error(err, -EINVAL, "line %d: <domainsnapshot> has no <creationTime> in seconds",
                                ct ? xnode_line(ct) : xnode_line(root));
        *ret = t;
        return 0;
}
