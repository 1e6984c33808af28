/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "virtgov/cleanup.h"
#include "virtgov/domxml.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/*
 * ---- parsing, hardened ----
 *
 * expat builds a small tree of what libvirt's XML holds: elements with their
 * namespace, attributes and text. (libxml2, as Debian builds it, drags ICU
 * and libstdc++ into every program: 60% of the hook's instructions went to
 * relocating them at each exec. expat needs nothing but libc.)
 *
 * libvirt never sends a DOCTYPE, and a DOCTYPE is where entity bombs and
 * external entities live: the parser stops the moment one starts. Without
 * one, only the five predefined entities and character references exist,
 * and no external entity is ever loaded. Nesting and element count are
 * bounded; the caller bounds the size.
 */

#define NS_SEP '\x01'          /* expat's "uri<sep>local" for namespaced names */
#define MAX_DEPTH 256          /* libxml2's default limit */
#define MAX_ELEMENTS 200000    /* a domain has hundreds */

typedef struct XNode {
        char *name, *ns;        /* local name; namespace URI or NULL */
        char **attrs;           /* name, value, ...; un-namespaced only; NULL-terminated */
        char *text;             /* this element's own character data */
        size_t text_len;
        int line;
        struct XNode *parent, *children, *last, *next;
} XNode;

typedef struct Builder {
        XML_Parser parser;
        XNode *root, *cur;
        unsigned depth, elements;
        const char *stop;       /* why the builder stopped the parser */
} Builder;

static void xnode_free(XNode *n) {
        while (n) {
                XNode *next = n->next;
                xnode_free(n->children);
                free(n->name);
                free(n->ns);
                for (size_t i = 0; n->attrs && n->attrs[i]; i++)
                        free(n->attrs[i]);
                free(n->attrs);
                free(n->text);
                free(n);
                n = next;
        }
}

static void halt(Builder *b, const char *why) {
        if (!b->stop)
                b->stop = why;
        XML_StopParser(b->parser, XML_FALSE);
}

static void on_start(void *u, const XML_Char *name, const XML_Char **attrs) {
        Builder *b = u;
        if (++b->depth > MAX_DEPTH)
                return halt(b, "elements nested too deep");
        if (++b->elements > MAX_ELEMENTS)
                return halt(b, "too many elements for libvirt XML");
        XNode *n = calloc(1, sizeof(*n));
        if (!n)
                return halt(b, "out of memory");
        const char *sep = strchr(name, NS_SEP);
        n->name = strdup(sep ? sep + 1 : name);
        n->ns = sep ? strndup(name, (size_t) (sep - name)) : NULL;
        n->line = (int) XML_GetCurrentLineNumber(b->parser);
        size_t na = 0;
        while (attrs[na])
                na++;
        n->attrs = calloc(na + 1, sizeof(char *));
        /* link first: whatever was allocated is freed with the tree */
        n->parent = b->cur;
        if (!b->cur)
                b->root = n;
        else if (b->cur->last)
                b->cur->last = b->cur->last->next = n;
        else
                b->cur->children = b->cur->last = n;
        b->cur = n;
        if (!n->name || (sep && !n->ns) || !n->attrs)
                return halt(b, "out of memory");
        size_t k = 0;
        for (size_t i = 0; attrs[i]; i += 2) {
                if (strchr(attrs[i], NS_SEP))
                        continue;   /* xmlGetNoNsProp's rule: plain attributes only */
                if (!(n->attrs[k] = strdup(attrs[i])) || !(n->attrs[k + 1] = strdup(attrs[i + 1])))
                        return halt(b, "out of memory");
                k += 2;
        }
}

static void on_end(void *u, const XML_Char *name) {
        Builder *b = u;
        b->depth--;
        if (b->cur)
                b->cur = b->cur->parent;
}

static void on_text(void *u, const XML_Char *s, int len) {
        Builder *b = u;
        XNode *n = b->cur;
        if (!n || len <= 0)
                return;
        char *t = realloc(n->text, n->text_len + (size_t) len + 1);
        if (!t)
                return halt(b, "out of memory");
        memcpy(t + n->text_len, s, (size_t) len);
        n->text_len += (size_t) len;
        t[n->text_len] = '\0';
        n->text = t;
}

static void on_doctype(void *u, const XML_Char *name, const XML_Char *sys, const XML_Char *pub, int internal) {
        halt(u, "a DOCTYPE is not allowed in libvirt XML");
}

static int parse_doc(const char *xml, size_t len, XNode **ret, VgError *err) {
        if (len == 0)
                return vg_error(err, -EINVAL, "empty input, expected XML");
        if (len > INT_MAX)
                return vg_error(err, -EFBIG, "input of %zu bytes is too large", len);

        Builder b = { .parser = XML_ParserCreateNS("UTF-8", NS_SEP) };
        if (!b.parser)
                return vg_error(err, -ENOMEM, "out of memory");
        XML_SetUserData(b.parser, &b);
        XML_SetElementHandler(b.parser, on_start, on_end);
        XML_SetCharacterDataHandler(b.parser, on_text);
        XML_SetStartDoctypeDeclHandler(b.parser, on_doctype);
        XML_SetParamEntityParsing(b.parser, XML_PARAM_ENTITY_PARSING_NEVER);

        int r = 0;
        if (XML_Parse(b.parser, xml, (int) len, XML_TRUE) != XML_STATUS_OK) {
                int line = (int) XML_GetCurrentLineNumber(b.parser);
                if (b.stop)
                        r = vg_error(err, !strcmp(b.stop, "out of memory") ? -ENOMEM : -EINVAL, "line %d: %s",
                                     line, b.stop);
                else
                        r = vg_error(err, -EINVAL, "line %d, column %d: %s", line,
                                     (int) XML_GetCurrentColumnNumber(b.parser) + 1,
                                     XML_ErrorString(XML_GetErrorCode(b.parser)));
        }
        XML_ParserFree(b.parser);
        if (r < 0) {
                xnode_free(b.root);
                return r;
        }
        *ret = b.root;
        return 0;
}

/* ---- tree helpers ---- */

static bool is_elem(const XNode *n, const char *name, const char *ns) {
        if (!n || strcmp(n->name, name))
                return false;
        if (!ns)
                return n->ns == NULL;
        return n->ns && !strcmp(n->ns, ns);
}

static XNode *child(const XNode *n, const char *name) {
        for (XNode *c = n ? n->children : NULL; c; c = c->next)
                if (is_elem(c, name, NULL))
                        return c;
        return NULL;
}

/* A plain attribute, malloc'd; NULL when absent. */
static char *prop(const XNode *n, const char *attr) {
        for (size_t i = 0; n && n->attrs[i]; i += 2)
                if (!strcmp(n->attrs[i], attr))
                        return strdup(n->attrs[i + 1]);
        return NULL;
}

/* All text within n, in document order (xmlNodeGetContent's rule). */
static int gather(const XNode *n, char **buf, size_t *len, size_t *cap) {
        /* own text first, then children's: libvirt's text elements have no
         * element children, so mixed content order does not arise */
        if (n->text_len) {
                if (*len + n->text_len + 1 > *cap) {
                        size_t nc = (*len + n->text_len + 1) * 2;
                        char *t = realloc(*buf, nc);
                        if (!t)
                                return -ENOMEM;
                        *buf = t;
                        *cap = nc;
                }
                memcpy(*buf + *len, n->text, n->text_len);
                *len += n->text_len;
                (*buf)[*len] = '\0';
        }
        for (XNode *c = n->children; c; c = c->next)
                if (gather(c, buf, len, cap) < 0)
                        return -ENOMEM;
        return 0;
}

/* The element's text with surrounding whitespace trimmed, malloc'd. */
static char *text(const XNode *n) {
        if (!n)
                return NULL;
        _cleanup_free_ char *all = NULL;
        size_t len = 0, cap = 0;
        if (gather(n, &all, &len, &cap) < 0)
                return NULL;
        const char *b = all ? all : "";
        while (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r')
                b++;
        size_t l = strlen(b);
        while (l > 0 && (b[l - 1] == ' ' || b[l - 1] == '\n' || b[l - 1] == '\t' || b[l - 1] == '\r'))
                l--;
        return strndup(b, l);
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
static char *disk_source(XNode *disk) {
        XNode *src = child(disk, "source");
        if (!src)
                return NULL;
        _cleanup_free_ char *type = prop(disk, "type");
        if (type && !strcmp(type, "network")) {
                _cleanup_free_ char *proto = prop(src, "protocol"), *name = prop(src, "name");
                char *s = NULL;
                if (asprintf(&s, "%s:%s", proto ? proto : "?", name ? name : "") < 0)
                        return NULL;
                return s;
        }
        if (type && !strcmp(type, "volume")) {
                _cleanup_free_ char *pool = prop(src, "pool"), *vol = prop(src, "volume");
                char *s = NULL;
                if (asprintf(&s, "%s/%s", pool ? pool : "?", vol ? vol : "") < 0)
                        return NULL;
                return s;
        }
        static const char *const attrs[] = { "file", "dev", "dir", "path", "name" };
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                char *s = prop(src, attrs[i]);
                if (s)
                        return s;
        }
        return NULL;
}

static int parse_disk(DomainFacts *f, XNode *n) {
        if (vg_grow((void **) &f->disks, &f->n_disks, sizeof(DiskFacts)) < 0)
                return -ENOMEM;
        DiskFacts *d = &f->disks[f->n_disks - 1];
        d->type = prop(n, "type");
        d->device = prop(n, "device");
        d->source = disk_source(n);
        d->format = prop(child(n, "driver"), "type");
        d->target = prop(child(n, "target"), "dev");
        d->readonly = child(n, "readonly") != NULL;
        d->shareable = child(n, "shareable") != NULL;

        /* <backingStore> nests one level per layer; an empty one ends it. */
        for (XNode *b = child(n, "backingStore"); b; b = child(b, "backingStore")) {
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

static int parse_device(DomainFacts *f, XNode *n) {
        if (is_elem(n, "disk", NULL))
                return parse_disk(f, n);
        if (is_elem(n, "emulator", NULL)) {
                free(f->emulator);
                f->emulator = text(n);
                return 0;
        }
        if (is_elem(n, "interface", NULL)) {
                if (vg_grow((void **) &f->ifaces, &f->n_ifaces, sizeof(InterfaceFacts)) < 0)
                        return -ENOMEM;
                InterfaceFacts *i = &f->ifaces[f->n_ifaces - 1];
                XNode *src = child(n, "source");
                i->type = prop(n, "type");
                i->source = prop(src, "network");
                if (!i->source)
                        i->source = prop(src, "bridge");
                if (!i->source)
                        i->source = prop(src, "dev");
                i->mac = prop(child(n, "mac"), "address");
                i->model = prop(child(n, "model"), "type");
                return 0;
        }
        if (is_elem(n, "graphics", NULL)) {
                if (vg_grow((void **) &f->graphics, &f->n_graphics, sizeof(GraphicsFacts)) < 0)
                        return -ENOMEM;
                GraphicsFacts *g = &f->graphics[f->n_graphics - 1];
                g->type = prop(n, "type");
                g->listen = prop(n, "listen");
                if (!g->listen)
                        g->listen = prop(child(n, "listen"), "address");
                if (!g->listen)
                        g->listen = prop(child(n, "listen"), "socket");
                return 0;
        }
        return 0;
}

static void parse_metadata(DomainFacts *f, XNode *md) {
        for (XNode *g = md ? md->children : NULL; g; g = g->next) {
                if (!is_elem(g, "governance", VG_METADATA_NS))
                        continue;
                for (XNode *c = g->children; c; c = c->next) {
                        char **field = is_elem(c, "owner", VG_METADATA_NS)   ? &f->owner
                                     : is_elem(c, "ticket", VG_METADATA_NS)  ? &f->ticket
                                     : is_elem(c, "purpose", VG_METADATA_NS) ? &f->purpose
                                     : NULL;
                        if (field && !*field)
                                *field = text(c);
                }
        }
}

static int parse_domain_child(DomainFacts *f, XNode *c) {
        if (is_elem(c, "name", NULL) && !f->name)
                f->name = text(c);
        else if (is_elem(c, "uuid", NULL) && !f->uuid)
                f->uuid = text(c);
        else if (is_elem(c, "metadata", NULL))
                parse_metadata(f, c);
        else if (is_elem(c, "vcpu", NULL)) {
                _cleanup_free_ char *v = text(c);
                f->vcpus = v ? (unsigned) strtoul(v, NULL, 10) : 0;
        } else if (is_elem(c, "memory", NULL)) {
                _cleanup_free_ char *v = text(c), *unit = prop(c, "unit");
                f->memory_kib = to_kib(v, unit);
        } else if (is_elem(c, "os", NULL) && !f->arch && !f->machine) {
                /* the first <os>, as for name and uuid (found by the fuzzer: a
                 * second one leaked the first's strings) */
                XNode *t = child(c, "type");
                f->arch = prop(t, "arch");
                f->machine = prop(t, "machine");
        } else if (is_elem(c, "devices", NULL)) {
                for (XNode *d = c->children; d; d = d->next)
                        if (parse_device(f, d) < 0)
                                return -ENOMEM;
        } else if (is_elem(c, "seclabel", NULL)) {
                if (vg_grow((void **) &f->seclabels, &f->n_seclabels, sizeof(SeclabelFacts)) < 0)
                        return -ENOMEM;
                f->seclabels[f->n_seclabels - 1].type = prop(c, "type");
                f->seclabels[f->n_seclabels - 1].model = prop(c, "model");
        } else if (is_elem(c, "commandline", QEMU_NS))
                f->qemu_commandline = true;
        return 0;
}

DEFINE_POINTER_CLEANUP(DomainFacts, domain_facts_free)

int domxml_parse(const char *xml, size_t len, DomainFacts **ret, VgError *err) {
        XNode *root = NULL;
        int r = parse_doc(xml, len, &root, err);
        if (r < 0)
                return r;

        if (!root || !is_elem(root, "domain", NULL)) {
                r = vg_error(err, -EINVAL, "line %d: root element is <%s>, expected <domain>",
                             root ? root->line : 1, root ? root->name : "");
                xnode_free(root);
                return r;
        }

        _cleanup_(domain_facts_freep) DomainFacts *f = calloc(1, sizeof(*f));
        if (!f) {
                xnode_free(root);
                return vg_error(err, -ENOMEM, "out of memory");
        }
        f->virt_type = prop(root, "type");
        for (XNode *c = root->children; c && r == 0; c = c->next)
                r = parse_domain_child(f, c);
        xnode_free(root);
        if (r < 0)
                return vg_error(err, r, "out of memory");
        if (!f->name || !*f->name)
                return vg_error(err, -EINVAL, "<domain> has no <name>");
        *ret = TAKE_PTR(f);
        return 0;
}

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

/* ---- network hookData ---- */

DEFINE_POINTER_CLEANUP(NetworkFacts, network_facts_free)

int netxml_parse(const char *xml, size_t len, NetworkFacts **ret, VgError *err) {
        XNode *root = NULL;
        int r = parse_doc(xml, len, &root, err);
        if (r < 0)
                return r;

        /* A bare <network> is accepted too: it is what net-dumpxml prints. */
        XNode *net = root && is_elem(root, "network", NULL) ? root : child(root, "network");
        if (!root || !net || !(is_elem(root, "hookData", NULL) || root == net)) {
                r = vg_error(err, -EINVAL, "line %d: root element is <%s>, expected <hookData> with a <network>",
                             root ? root->line : 1, root ? root->name : "");
                xnode_free(root);
                return r;
        }

        _cleanup_(network_facts_freep) NetworkFacts *f = calloc(1, sizeof(*f));
        if (!f) {
                xnode_free(root);
                return vg_error(err, -ENOMEM, "out of memory");
        }
        f->name = text(child(net, "name"));
        f->uuid = text(child(net, "uuid"));
        f->bridge = prop(child(net, "bridge"), "name");
        f->forward = prop(child(net, "forward"), "mode");

        /* libvirt >= 6.0 sends <networkport>; older ones sent the plugged
         * <interface> and its <domain>. Read either. */
        XNode *port = root == net ? NULL : child(root, "networkport");
        if (port) {
                XNode *owner = child(port, "owner");
                f->port_uuid = text(child(port, "uuid"));
                f->owner_name = text(child(owner, "name"));
                f->owner_uuid = text(child(owner, "uuid"));
                f->port_mac = prop(child(port, "mac"), "address");
        } else if (root != net) {
                XNode *dom = child(root, "domain");
                f->owner_name = text(child(dom, "name"));
                f->owner_uuid = text(child(dom, "uuid"));
                f->port_mac = prop(child(child(root, "interface"), "mac"), "address");
        }
        xnode_free(root);
        if (!f->name || !*f->name)
                return vg_error(err, -EINVAL, "<network> has no <name>");
        *ret = TAKE_PTR(f);
        return 0;
}

NetworkFacts *network_facts_free(NetworkFacts *f) {
        if (!f)
                return NULL;
        free(f->name); free(f->uuid); free(f->bridge); free(f->forward);
        free(f->port_uuid); free(f->owner_name); free(f->owner_uuid); free(f->port_mac);
        free(f);
        return NULL;
}

/* ---- storage pool ---- */

int poolxml_dir(const char *xml, size_t len, char **ret, VgError *err) {
        XNode *root = NULL;
        int r = parse_doc(xml, len, &root, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *type = is_elem(root, "pool", NULL) ? prop(root, "type") : NULL;
        *ret = type && !strcmp(type, "dir") ? text(child(child(root, "target"), "path")) : NULL;
        xnode_free(root);
        return 0;
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
