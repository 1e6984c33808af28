/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XML DOM every XML virtgov reads goes through: domain XML on a hook's
 * stdin or from virDomainGetXMLDesc, a network hook's <hookData>, storage
 * pool and snapshot XML from libvirt. The input is untrusted, so the parser
 * is hardened once, here: it never touches the network, never loads or
 * expands an entity beyond the five predefined ones and character
 * references, refuses a DOCTYPE outright (libvirt never sends one, and it
 * is where entity bombs and external entities live), and bounds nesting
 * and the number of elements. The caller bounds the size.
 *
 * The tree holds what libvirt's XML needs and no more: elements with their
 * namespace, their plain (un-namespaced) attributes and their text.
 * Comments and processing instructions are dropped. Every node is owned by
 * the tree; pointers into it are valid until xmldom_free() of its root.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

/* Limits on what a document may hold; beyond them xmldom_parse fails. */
#define XMLDOM_MAX_DEPTH 256          /* libxml2's default */
#define XMLDOM_MAX_ELEMENTS 200000    /* a domain has hundreds */

typedef struct XNode XNode;

/*
 * Parses len bytes of xml (no NUL terminator needed; a NUL inside is an
 * error) into a tree and returns its root element in *ret_root. On failure
 * nothing is returned: -EINVAL for input that is not well-formed XML, has a
 * DOCTYPE, nests deeper than XMLDOM_MAX_DEPTH or holds more than
 * XMLDOM_MAX_ELEMENTS elements, and -ENOMEM or -EFBIG (over INT_MAX bytes),
 * with err saying what and where: "line L, column C: ..." (column counted
 * from 1), as expat reports the spot.
 */
int xmldom_parse(const char *xml, size_t len, XNode **ret_root, VgError *err);

/* Frees the tree whose root xmldom_parse returned; NULL is a no-op.
 * Returns NULL. Only a root may be passed: the nodes below belong to it. */
XNode *xmldom_free(XNode *root);
DEFINE_POINTER_CLEANUP(XNode, xmldom_free)   /* _cleanup_(xmldom_freep) XNode *root = NULL; */

/* True if n is an element with this local name and namespace URI (ns NULL:
 * an element in no namespace). False for a NULL n, so lookups chain. */
bool xnode_is(const XNode *n, const char *name, const char *ns);

/* The element's local name (never NULL for a node), and the line its start
 * tag is on (1-based), for error messages about the document's shape. */
const char *xnode_name(const XNode *n);
int xnode_line(const XNode *n);

/* The first child element of n and the next sibling of n, in document
 * order; NULL at the end, or when n is NULL. See XNODE_FOREACH. */
XNode *xnode_first_child(const XNode *n);
XNode *xnode_next(const XNode *n);

/* Every child element c of parent, in document order. */
#define XNODE_FOREACH(c, parent) for (XNode *c = xnode_first_child(parent); c; c = xnode_next(c))

/* The first child element of n named name in no namespace (libvirt's own
 * elements), or NULL; NULL for a NULL n, so paths chain:
 * xnode_child(xnode_child(root, "target"), "path"). */
XNode *xnode_child(const XNode *n, const char *name);

/* The value of n's plain attribute name, borrowed from the tree, or NULL
 * when n is NULL or has none. Namespaced attributes are not kept (the rule
 * of libxml2's xmlGetNoNsProp, which virtgov used before). */
const char *xnode_attr(const XNode *n, const char *name);

/* All text within n with surrounding whitespace trimmed: a new string the
 * caller frees. n's own text comes first, then each child's in turn (text
 * between children is not interleaved with theirs: libvirt's text elements
 * have no children). NULL when n is NULL or out of memory; "" for an
 * element without text. */
char *xnode_text(const XNode *n);
