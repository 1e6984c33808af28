/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts from libvirt XML, read through the hardened DOM (xmldom.h), and
 * their JSON form, both ways.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/cleanup.h"
#include "virtgov/domxml.h"
#include "virtgov/xmldom.h"

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

DEFINE_POINTER_CLEANUP(DomainFacts, domain_facts_free)

int domxml_parse(const char *xml, size_t len, DomainFacts **ret, VgError *err) {
        _cleanup_(xmldom_freep) XNode *root = NULL;
        int r = xmldom_parse(xml, len, &root, err);
        if (r < 0)
                return r;
        if (!xnode_is(root, "domain", NULL))
                return vg_error(err, -EINVAL, "line %d: root element is <%s>, expected <domain>",
                                xnode_line(root), xnode_name(root));

        _cleanup_(domain_facts_freep) DomainFacts *f = calloc(1, sizeof(*f));
        if (!f)
                return vg_error(err, -ENOMEM, "out of memory");
        f->virt_type = prop(root, "type");
        XNODE_FOREACH(c, root)
                if ((r = parse_domain_child(f, c)) < 0)
                        return vg_error(err, r, "out of memory");
        if (!f->name || !*f->name)
                return vg_error(err, -EINVAL, "<domain> has no <name>");
        *ret = TAKE_PTR(f);
        return 0;
}

/* ---- network hookData ---- */

DEFINE_POINTER_CLEANUP(NetworkFacts, network_facts_free)

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

/* ---- freeing ---- */

DomainFacts *domain_facts_free(DomainFacts *f) {
        if (!f)
                return NULL;
        free(f->name); free(f->uuid); free(f->owner); free(f->ticket); free(f->purpose);
        free(f->virt_type); free(f->arch); free(f->machine); free(f->emulator);
        for (size_t i = 0; i < f->n_disks; i++) {
                DiskFacts *d = &f->disks[i];
                free(d->type); free(d->device); free(d->source); free(d->format); free(d->target);
                for (size_t j = 0; j < d->n_backing; j++)
                        free(d->backing[j]);
                free(d->backing);
        }
        free(f->disks);
        for (size_t i = 0; i < f->n_ifaces; i++) {
                free(f->ifaces[i].type); free(f->ifaces[i].source);
                free(f->ifaces[i].mac); free(f->ifaces[i].model);
        }
        free(f->ifaces);
        for (size_t i = 0; i < f->n_graphics; i++) {
                free(f->graphics[i].type); free(f->graphics[i].listen);
        }
        free(f->graphics);
        for (size_t i = 0; i < f->n_seclabels; i++) {
                free(f->seclabels[i].type); free(f->seclabels[i].model);
        }
        free(f->seclabels);
        free(f);
        return NULL;
}

NetworkFacts *network_facts_free(NetworkFacts *f) {
        if (!f)
                return NULL;
        free(f->name); free(f->uuid); free(f->bridge); free(f->forward);
        free(f->port_uuid); free(f->owner_name); free(f->owner_uuid); free(f->port_mac);
        free(f);
        return NULL;
}

/* ---- JSON ---- */

static void set_str(json_t *o, const char *key, const char *v) {
        if (v)
                json_object_set_new(o, key, json_string(v));
}

static json_t *disk_to_json(const DiskFacts *d) {
        json_t *o = json_object();
        set_str(o, "type", d->type);
        set_str(o, "device", d->device);
        set_str(o, "source", d->source);
        set_str(o, "format", d->format);
        set_str(o, "target", d->target);
        if (d->readonly)
                json_object_set_new(o, "readonly", json_true());
        if (d->shareable)
                json_object_set_new(o, "shareable", json_true());
        if (d->n_backing) {
                json_t *b = json_array();
                for (size_t j = 0; j < d->n_backing; j++)
                        json_array_append_new(b, json_string(d->backing[j]));
                json_object_set_new(o, "backing", b);
        }
        return o;
}

json_t *domain_facts_to_json(const DomainFacts *f) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        set_str(o, "name", f->name);
        set_str(o, "uuid", f->uuid);
        set_str(o, "owner", f->owner);
        set_str(o, "ticket", f->ticket);
        set_str(o, "purpose", f->purpose);
        set_str(o, "type", f->virt_type);
        set_str(o, "arch", f->arch);
        set_str(o, "machine", f->machine);
        set_str(o, "emulator", f->emulator);
        if (f->vcpus)
                json_object_set_new(o, "vcpus", json_integer(f->vcpus));
        if (f->memory_kib)
                json_object_set_new(o, "memory_kib", json_integer((json_int_t) f->memory_kib));
        json_object_set_new(o, "qemu_commandline", json_boolean(f->qemu_commandline));

        json_t *disks = json_array();
        for (size_t i = 0; i < f->n_disks; i++)
                json_array_append_new(disks, disk_to_json(&f->disks[i]));
        json_object_set_new(o, "disks", disks);

        json_t *ifs = json_array();
        for (size_t i = 0; i < f->n_ifaces; i++) {
                json_t *x = json_object();
                set_str(x, "type", f->ifaces[i].type);
                set_str(x, "source", f->ifaces[i].source);
                set_str(x, "mac", f->ifaces[i].mac);
                set_str(x, "model", f->ifaces[i].model);
                json_array_append_new(ifs, x);
        }
        json_object_set_new(o, "interfaces", ifs);

        json_t *gr = json_array();
        for (size_t i = 0; i < f->n_graphics; i++) {
                json_t *x = json_object();
                set_str(x, "type", f->graphics[i].type);
                set_str(x, "listen", f->graphics[i].listen);
                json_array_append_new(gr, x);
        }
        json_object_set_new(o, "graphics", gr);

        json_t *sl = json_array();
        for (size_t i = 0; i < f->n_seclabels; i++) {
                json_t *x = json_object();
                set_str(x, "type", f->seclabels[i].type);
                set_str(x, "model", f->seclabels[i].model);
                json_array_append_new(sl, x);
        }
        json_object_set_new(o, "seclabels", sl);
        return o;
}

json_t *network_facts_to_json(const NetworkFacts *f) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        set_str(o, "network", f->name);
        set_str(o, "network_uuid", f->uuid);
        set_str(o, "bridge", f->bridge);
        set_str(o, "forward", f->forward);
        set_str(o, "port_uuid", f->port_uuid);
        set_str(o, "owner", f->owner_name);
        set_str(o, "owner_uuid", f->owner_uuid);
        set_str(o, "mac", f->port_mac);
        return o;
}

/* ---- back from JSON (the facts recorded on an event) ---- */

static char *jstr(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? strdup(s) : NULL;
}

int domain_facts_from_json(const json_t *j, DomainFacts **ret) {
        if (!json_is_object(j) || !json_is_string(json_object_get(j, "name")))
                return -EINVAL;
        json_t *o = (json_t *) j;
        _cleanup_(domain_facts_freep) DomainFacts *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->name = jstr(o, "name");
        f->uuid = jstr(o, "uuid");
        f->owner = jstr(o, "owner");
        f->ticket = jstr(o, "ticket");
        f->purpose = jstr(o, "purpose");
        f->virt_type = jstr(o, "type");
        f->arch = jstr(o, "arch");
        f->machine = jstr(o, "machine");
        f->emulator = jstr(o, "emulator");
        f->vcpus = (unsigned) json_integer_value(json_object_get(o, "vcpus"));
        f->memory_kib = (uint64_t) json_integer_value(json_object_get(o, "memory_kib"));
        f->qemu_commandline = json_is_true(json_object_get(o, "qemu_commandline"));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(o, "disks"), i, v) {
                if (vg_grow((void **) &f->disks, &f->n_disks, sizeof(DiskFacts)) < 0)
                        return -ENOMEM;
                DiskFacts *d = &f->disks[f->n_disks - 1];
                d->type = jstr(v, "type");
                d->device = jstr(v, "device");
                d->source = jstr(v, "source");
                d->format = jstr(v, "format");
                d->target = jstr(v, "target");
                d->readonly = json_is_true(json_object_get(v, "readonly"));
                d->shareable = json_is_true(json_object_get(v, "shareable"));
                json_t *b = json_object_get(v, "backing");
                if (json_array_size(b)) {
                        d->backing = calloc(json_array_size(b) + 1, sizeof(char *));
                        if (!d->backing)
                                return -ENOMEM;
                        for (size_t k = 0; k < json_array_size(b); k++)
                                if (json_is_string(json_array_get(b, k)))
                                        d->backing[d->n_backing++] = strdup(json_string_value(json_array_get(b, k)));
                }
        }
        json_array_foreach(json_object_get(o, "interfaces"), i, v) {
                if (vg_grow((void **) &f->ifaces, &f->n_ifaces, sizeof(InterfaceFacts)) < 0)
                        return -ENOMEM;
                InterfaceFacts *x = &f->ifaces[f->n_ifaces - 1];
                x->type = jstr(v, "type");
                x->source = jstr(v, "source");
                x->mac = jstr(v, "mac");
                x->model = jstr(v, "model");
        }
        json_array_foreach(json_object_get(o, "graphics"), i, v) {
                if (vg_grow((void **) &f->graphics, &f->n_graphics, sizeof(GraphicsFacts)) < 0)
                        return -ENOMEM;
                f->graphics[f->n_graphics - 1].type = jstr(v, "type");
                f->graphics[f->n_graphics - 1].listen = jstr(v, "listen");
        }
        json_array_foreach(json_object_get(o, "seclabels"), i, v) {
                if (vg_grow((void **) &f->seclabels, &f->n_seclabels, sizeof(SeclabelFacts)) < 0)
                        return -ENOMEM;
                f->seclabels[f->n_seclabels - 1].type = jstr(v, "type");
                f->seclabels[f->n_seclabels - 1].model = jstr(v, "model");
        }
        *ret = TAKE_PTR(f);
        return 0;
}
