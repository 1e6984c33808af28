/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hardened XML DOM (xmldom.h says what it keeps and what it refuses):
 * expat's events build the tree.
 *
 * expat, not libxml2: libxml2, as Debian builds it, drags ICU and libstdc++
 * into every program, and 60% of the hook's instructions went to relocating
 * them at each exec. expat needs nothing but libc.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "virtgov/model/xmldom.h"

/* expat names a namespaced element "uri<sep>local"; \x01 can be in
 * neither a URI nor a name, so the split is never ambiguous. */
#define NS_SEP '\x01'

/* One allocation per element (node_new): the node, then its attribute
 * pointers, then the strings they, name and ns point to. The hook builds a
 * tree at every start; a domain's ~50 elements and ~50 attributes were
 * ~250 allocations when each string had its own. */
struct XNode {
        const char *name, *ns;  /* local name; namespace URI or NULL */
        char **attrs;           /* name, value, ...; un-namespaced only; NULL-terminated */
        char *text;             /* this element's own character data, or NULL: its own allocation */
        size_t text_len, text_cap;
        int line;
        XNode *parent, *children, *last, *next;
};

typedef struct Builder {
        XML_Parser parser;
        XNode *root, *cur;
        unsigned depth, elements;
        /* Why the builder stopped the parser (0: it did not), in words,
         * and where: expat's own position is lost once it is stopped. */
        int stop_r;
        const char *stop;
        int stop_line, stop_column;
} Builder;

/* Frees n, its descendants and the siblings after it. Recursion is as
 * deep as the tree, which the parser bounds at XMLDOM_MAX_DEPTH. */
static void nodes_free(XNode *n) {
        while (n) {
                XNode *next = n->next;
                nodes_free(n->children);
                free(n->text);
                free(n);
                n = next;
        }
}

XNode *xmldom_free(XNode *root) {
        nodes_free(root);
        return NULL;
}

static void halt(Builder *b, int r, const char *why) {
        if (!b->stop_r) {
                b->stop_r = r;
                b->stop = why;
                b->stop_line = (int) XML_GetCurrentLineNumber(b->parser);
                b->stop_column = (int) XML_GetCurrentColumnNumber(b->parser) + 1;
        }
        XML_StopParser(b->parser, XML_FALSE);
}

/* Links n under the builder's current element (or as the root) and makes
 * it current. */
static void link_node(Builder *b, XNode *n) {
        n->parent = b->cur;
        if (!b->cur)
                b->root = n;
        else if (b->cur->last)
                b->cur->last = b->cur->last->next = n;
        else
                b->cur->children = b->cur->last = n;
        b->cur = n;
}

/* A node for the element expat names name ("uri<NS_SEP>local" when
 * namespaced), with its plain attributes, in one block; NULL when out of
 * memory. */
static XNode *node_new(const XML_Char *name, const XML_Char **attrs) {
        size_t na = 0, size = sizeof(XNode) + strlen(name) + 1;   /* "uri\0local\0" fits the same bytes */
        for (size_t i = 0; attrs[i]; i += 2)
                if (!strchr(attrs[i], NS_SEP)) {   /* xmlGetNoNsProp's rule: plain attributes only */
                        na++;
                        size += strlen(attrs[i]) + strlen(attrs[i + 1]) + 2;
                }
        size += (2 * na + 1) * sizeof(char *);
        XNode *n = malloc(size);
        if (!n)
                return NULL;
        *n = (XNode) { .attrs = (char **) (void *) (n + 1) };
        char *p = (char *) (n->attrs + 2 * na + 1);
        size_t k = 0;
        for (size_t i = 0; attrs[i]; i += 2)
                if (!strchr(attrs[i], NS_SEP)) {
                        n->attrs[k++] = p;
                        p = stpcpy(p, attrs[i]) + 1;
                        n->attrs[k++] = p;
                        p = stpcpy(p, attrs[i + 1]) + 1;
                }
        n->attrs[k] = NULL;
        const char *sep = strchr(name, NS_SEP);
        if (sep) {
                size_t ns_len = (size_t) (sep - name);
                n->ns = memcpy(p, name, ns_len);
                p[ns_len] = '\0';
                p += ns_len + 1;
                name = sep + 1;
        }
        n->name = p;
        strcpy(p, name);
        return n;
}

static void on_start(void *u, const XML_Char *name, const XML_Char **attrs) {
        Builder *b = u;
        if (++b->depth > XMLDOM_MAX_DEPTH)
                return halt(b, -EINVAL, "elements nested too deep");
        if (++b->elements > XMLDOM_MAX_ELEMENTS)
                return halt(b, -EINVAL, "too many elements for libvirt XML");
        XNode *n = node_new(name, attrs);
        if (!n)
                return halt(b, -ENOMEM, "out of memory");
        n->line = (int) XML_GetCurrentLineNumber(b->parser);
        link_node(b, n);
}

static void on_end(void *u, const XML_Char *name) {
        Builder *b = u;
        b->depth--;
        if (b->cur)
                b->cur = b->cur->parent;
}

/* expat hands text over in pieces: a line at a time, an entity reference
 * at a time, and the whitespace between each of an element's children. The
 * first piece gets what it needs; then the buffer doubles, so a parent of
 * 200,000 children is not copied once per child (test-xmldom's element
 * count case took 263 s under ASan, whose realloc always moves; 0.7 s
 * now). */
static void on_text(void *u, const XML_Char *s, int len) {
        Builder *b = u;
        XNode *n = b->cur;
        if (!n || len <= 0)
                return;
        size_t need = n->text_len + (size_t) len + 1;
        if (need > n->text_cap) {
                size_t cap = n->text_cap ? 2 * n->text_cap : 0;
                cap = cap > need ? cap : need;
                char *t = realloc(n->text, cap);
                if (!t)
                        return halt(b, -ENOMEM, "out of memory");
                n->text = t;
                n->text_cap = cap;
        }
        memcpy(n->text + n->text_len, s, (size_t) len);
        n->text_len += (size_t) len;
        n->text[n->text_len] = '\0';
}

/* A DOCTYPE is where entity bombs and external entities live, and libvirt
 * never sends one: the parse stops the moment one starts. Without one,
 * only the five predefined entities and character references exist. */
static void on_doctype(void *u, const XML_Char *name, const XML_Char *sys, const XML_Char *pub, int internal) {
        halt(u, -EINVAL, "a DOCTYPE is not allowed in libvirt XML");
}

int xmldom_parse(const char *xml, size_t len, XNode **ret_root, VgError *err) {
        if (len == 0)
                return vg_error(err, -EINVAL, "empty input, expected XML");
        if (len > INT_MAX)
                return vg_error(err, -EFBIG, "input of %zu bytes is too large", len);

        /* UTF-8 whatever the document declares: libvirt writes nothing else */
        Builder b = { .parser = XML_ParserCreateNS("UTF-8", NS_SEP) };
        if (!b.parser)
                return vg_error(err, -ENOMEM, "out of memory");
        XML_SetUserData(b.parser, &b);
        XML_SetElementHandler(b.parser, on_start, on_end);
        XML_SetCharacterDataHandler(b.parser, on_text);
        XML_SetStartDoctypeDeclHandler(b.parser, on_doctype);
        XML_SetParamEntityParsing(b.parser, XML_PARAM_ENTITY_PARSING_NEVER);

        int r = 0;
        if (XML_Parse(b.parser, xml, (int) len, XML_TRUE) != XML_STATUS_OK || b.stop_r) {
                if (b.stop_r)
                        r = vg_error(err, b.stop_r, "line %d, column %d: %s", b.stop_line, b.stop_column, b.stop);
                else
                        r = vg_error(err, -EINVAL, "line %d, column %d: %s",
                                     (int) XML_GetCurrentLineNumber(b.parser),
                                     (int) XML_GetCurrentColumnNumber(b.parser) + 1,
                                     XML_ErrorString(XML_GetErrorCode(b.parser)));
        }
        XML_ParserFree(b.parser);
        if (r < 0) {
                nodes_free(b.root);
                return r;
        }
        *ret_root = b.root;
        return 0;
}

/* ---- reading the tree ---- */

bool xnode_is(const XNode *n, const char *name, const char *ns) {
        if (!n || strcmp(n->name, name))
                return false;
        if (!ns)
                return n->ns == NULL;
        return n->ns && !strcmp(n->ns, ns);
}

const char *xnode_name(const XNode *n) {
        return n ? n->name : NULL;
}

int xnode_line(const XNode *n) {
        return n ? n->line : 0;
}

XNode *xnode_first_child(const XNode *n) {
        return n ? n->children : NULL;
}

XNode *xnode_next(const XNode *n) {
        return n ? n->next : NULL;
}

XNode *xnode_child(const XNode *n, const char *name) {
        for (XNode *c = n ? n->children : NULL; c; c = c->next)
                if (xnode_is(c, name, NULL))
                        return c;
        return NULL;
}

const char *xnode_attr(const XNode *n, const char *name) {
        for (size_t i = 0; n && n->attrs[i]; i += 2)
                if (!strcmp(n->attrs[i], name))
                        return n->attrs[i + 1];
        return NULL;
}

/* Appends the text of n and its descendants to *buf (xmlNodeGetContent's
 * rule, but n's own text first: see xnode_text). */
static int gather(const XNode *n, char **buf, size_t *len, size_t *cap) {
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

static bool is_space(char c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static char *trimmed(const char *s, size_t len) {
        while (len > 0 && is_space(*s))
                s++, len--;
        while (len > 0 && is_space(s[len - 1]))
                len--;
        return strndup(s, len);
}

char *xnode_text(const XNode *n) {
        if (!n)
                return NULL;
        /* A leaf, as nearly every text element is: trimmed straight from
         * the tree, one allocation (the hook reads dozens per start). */
        if (!n->children)
                return trimmed(n->text ? n->text : "", n->text_len);
        _cleanup_free_ char *all = NULL;
        size_t len = 0, cap = 0;
        if (gather(n, &all, &len, &cap) < 0)
                return NULL;
        return trimmed(all ? all : "", len);
}
