/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XML DOM alone: what a tree holds and how it is read, and the hostile
 * input it refuses, each refusal naming the line and column.
 */
#include <errno.h>

#include "test-helpers.h"
#include "virtgov/model/xmldom.h"

/* Parses xml (its strlen) and asserts it succeeds. */
static XNode *parse_ok(const char *xml) {
        XNode *root = NULL;
        VgError err = { "" };
        int r = xmldom_parse(xml, strlen(xml), &root, &err);
        cr_assert_eq(r, 0, "%s: %s", xml, err.text);
        cr_assert_not_null(root);
        return root;
}

/* Parses len bytes of xml, asserts it fails with r and an error that holds
 * want, and that nothing was returned. */
static void parse_fails(const char *xml, size_t len, int r, const char *want) {
        XNode *sentinel = (XNode *) (void *) &sentinel, *root = sentinel;
        VgError err = { "" };
        cr_assert_eq(xmldom_parse(xml, len, &root, &err), r, "error was: %s", err.text);
        cr_assert_eq(root, sentinel, "a tree was returned on failure");
        cr_assert(strstr(err.text, want), "error '%s' lacks '%s'", err.text, want);
}

/* ---- what the tree holds ---- */

Test(xmldom, elements_attributes_and_text) {
        _cleanup_(xmldom_freep) XNode *root = parse_ok(
                "<?xml version='1.0'?>\n"
                "<domain type='kvm' xmlns:x='urn:x' x:hidden='no'>\n"
                "  <name>  web-7\n</name>\n"
                "  <!-- a comment --><?pi data?>\n"
                "  <disk device='disk'><source file='/a&amp;b'/></disk>\n"
                "  <disk device='cdrom'/>\n"
                "  <x:owner>alice</x:owner>\n"
                "</domain>");
        cr_assert(xnode_is(root, "domain", NULL));
        cr_assert_str_eq(xnode_name(root), "domain");
        cr_assert_eq(xnode_line(root), 2);
        cr_assert_str_eq(xnode_attr(root, "type"), "kvm");
        cr_assert_null(xnode_attr(root, "hidden"), "namespaced attributes are not kept");
        cr_assert_null(xnode_attr(root, "nope"));

        _cleanup_free_ char *name = xnode_text(xnode_child(root, "name"));
        cr_assert_str_eq(name, "web-7", "surrounding whitespace is trimmed");
        cr_assert_str_eq(xnode_attr(xnode_child(xnode_child(root, "disk"), "source"), "file"), "/a&b");

        const char *seen[8];
        size_t n = 0;
        XNODE_FOREACH(c, root) {
                cr_assert_lt(n, ELEMENTSOF(seen));
                seen[n++] = xnode_name(c);
        }
        cr_assert_eq(n, 4, "comments and processing instructions are not elements");
        cr_assert_str_eq(seen[0], "name");
        cr_assert_str_eq(seen[1], "disk");
        cr_assert_str_eq(seen[2], "disk");
        cr_assert_str_eq(seen[3], "owner");
        XNode *second = xnode_next(xnode_child(root, "disk"));
        cr_assert_str_eq(xnode_attr(second, "device"), "cdrom");
        cr_assert_eq(xnode_line(second), 7);

        cr_assert_null(xnode_child(root, "owner"), "xnode_child finds elements in no namespace only");
        XNode *owner = xnode_next(second);
        cr_assert(xnode_is(owner, "owner", "urn:x"));
        cr_assert_not(xnode_is(owner, "owner", NULL));
        cr_assert_not(xnode_is(owner, "owner", "urn:y"));
}

Test(xmldom, lookups_chain_through_null) {
        _cleanup_(xmldom_freep) XNode *root = parse_ok("<pool type='dir'/>");
        cr_assert_null(xnode_child(xnode_child(root, "target"), "path"));
        cr_assert_null(xnode_attr(xnode_child(root, "target"), "path"));
        cr_assert_null(xnode_text(xnode_child(root, "target")));
        cr_assert_null(xnode_first_child(root));
        cr_assert_null(xnode_next(root));
        cr_assert_null(xnode_first_child(NULL));
        cr_assert_null(xnode_next(NULL));
        cr_assert_not(xnode_is(NULL, "pool", NULL));
        cr_assert_null(xnode_name(NULL));
        cr_assert_eq(xnode_line(NULL), 0);
        _cleanup_free_ char *empty = xnode_text(root);
        cr_assert_str_eq(empty, "", "an element without text has the empty text");
        cr_assert_null(xmldom_free(NULL));
}

Test(xmldom, text_gathers_descendants_own_first) {
        _cleanup_(xmldom_freep) XNode *root = parse_ok(
                "<a>\n one <b>two</b><c><d> three </d></c><![CDATA[<four>]]>\n</a>");
        _cleanup_free_ char *all = xnode_text(root);
        cr_assert_str_eq(all, "one <four>\ntwo three");
        _cleanup_(xmldom_freep) XNode *refs = parse_ok("<a>&lt;&#x41;&#66;&gt;</a>");
        _cleanup_free_ char *expanded = xnode_text(refs);
        cr_assert_str_eq(expanded, "<AB>", "predefined entities and character references are expanded");
}

Test(xmldom, reads_no_further_than_len) {
        const char *xml = "<a/><b/>";
        XNode *root = NULL;
        cr_assert_eq(xmldom_parse(xml, 4, &root, NULL), 0);
        cr_assert(xnode_is(root, "a", NULL));
        xmldom_free(root);
}

/* ---- what it refuses ---- */

Test(xmldom, empty_input) {
        parse_fails("", 0, -EINVAL, "empty input");
}

Test(xmldom, doctype_with_entities_is_refused) {
        const char *xml = "<?xml version='1.0'?>\n"
                          "<!DOCTYPE d [ <!ENTITY xxe SYSTEM 'file:///etc/shadow'> ]>\n"
                          "<d>&xxe;</d>";
        parse_fails(xml, strlen(xml), -EINVAL, "line 2, column 13: a DOCTYPE is not allowed");
}

Test(xmldom, external_dtd_is_refused_not_fetched) {
        const char *xml = "<!DOCTYPE d SYSTEM 'http://192.0.2.1/x.dtd'><d/>";
        parse_fails(xml, strlen(xml), -EINVAL, "line 1, column ");
        parse_fails(xml, strlen(xml), -EINVAL, "a DOCTYPE is not allowed");
}

Test(xmldom, entity_bomb_is_refused_at_its_doctype) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/domxml/entity-bomb/input.xml", TEST_DATA_DIR);
        size_t len = 0;
        _cleanup_free_ char *xml = read_data(path, &len);
        cr_assert_not_null(xml);
        parse_fails(xml, len, -EINVAL, "line 2, column ");
        parse_fails(xml, len, -EINVAL, "a DOCTYPE is not allowed");
}

Test(xmldom, undeclared_entity_is_an_error) {
        const char *xml = "<d>\n  <name>&xxe;</name>\n</d>";
        parse_fails(xml, strlen(xml), -EINVAL, "line 2, column 9: undefined entity");
}

/* n elements <a> nested in each other */
static char *nested(size_t n) {
        char *xml = malloc(n * 7 + 1), *p = xml;
        cr_assert_not_null(xml);
        for (size_t i = 0; i < n; i++)
                p = stpcpy(p, "<a>");
        for (size_t i = 0; i < n; i++)
                p = stpcpy(p, "</a>");
        return xml;
}

Test(xmldom, depth_is_bounded) {
        _cleanup_free_ char *ok = nested(XMLDOM_MAX_DEPTH), *deep = nested(XMLDOM_MAX_DEPTH + 1);
        xmldom_free(parse_ok(ok));
        /* the start tag one too deep is at column 3 * 256 + 1 */
        parse_fails(deep, strlen(deep), -EINVAL, "line 1, column 769: elements nested too deep");
}

/* <r> holding n - 1 empty elements <e/>, one per line */
static char *flat(size_t n) {
        char *xml = malloc(n * 6 + 16), *p = xml;
        cr_assert_not_null(xml);
        p = stpcpy(p, "<r>\n");
        for (size_t i = 1; i < n; i++)
                p = stpcpy(p, "<e/>\n");
        strcpy(p, "</r>");
        return xml;
}

Test(xmldom, element_count_is_bounded) {
        _cleanup_free_ char *ok = flat(XMLDOM_MAX_ELEMENTS), *many = flat(XMLDOM_MAX_ELEMENTS + 1);
        xmldom_free(parse_ok(ok));
        /* the element over the limit is on the limit's line + 1 */
        char want[80];
        snprintf(want, sizeof(want), "line %d, column 1: too many elements", XMLDOM_MAX_ELEMENTS + 1);
        parse_fails(many, strlen(many), -EINVAL, want);
}

Test(xmldom, nul_byte_is_an_error) {
        const char xml[] = "<d>\n<name>a\0b</name></d>";
        parse_fails(xml, sizeof(xml) - 1, -EINVAL, "line 2, column 8: not well-formed (invalid token)");
}

Test(xmldom, invalid_utf8_is_an_error) {
        /* a lone continuation byte, an overlong '/', a surrogate, a bad
         * second byte: each at line 1, column 4, inside <d>'s text */
        static const char *const bad[] = {
                "<d>\x80</d>", "<d>\xc0\xaf</d>", "<d>\xed\xa0\x80</d>", "<d>\xc3\x28</d>",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                parse_fails(bad[i], strlen(bad[i]), -EINVAL, "line 1, column 4: not well-formed (invalid token)");
}

Test(xmldom, declared_encoding_does_not_change_the_bytes_read) {
        /* read as UTF-8 whatever it says: a Latin-1 byte is an error */
        const char *xml = "<?xml version='1.0' encoding='ISO-8859-1'?>\n<d>caf\xe9</d>";
        parse_fails(xml, strlen(xml), -EINVAL, "line 2, column ");
}

Test(xmldom, truncated_input_is_an_error) {
        const char *in_text = "<d>\n  <name>web";
        parse_fails(in_text, strlen(in_text), -EINVAL, "line 2, column 12: no element found");
        const char *in_tag = "<d>\n  <name attr='x";
        parse_fails(in_tag, strlen(in_tag), -EINVAL, "line 2, column 3: unclosed token");
}

Test(xmldom, other_malformed_input) {
        const char *two_roots = "<a/>\n<b/>";
        parse_fails(two_roots, strlen(two_roots), -EINVAL, "line 2, column 1: junk after document element");
        const char *bad_ref = "<d>&#0;</d>";
        parse_fails(bad_ref, strlen(bad_ref), -EINVAL, "line 1, column 4: reference to invalid character number");
        const char *mismatch = "<a>\n<b></a>";
        parse_fails(mismatch, strlen(mismatch), -EINVAL, "line 2, column 6: mismatched tag");
        const char *text_only = "just text";
        parse_fails(text_only, strlen(text_only), -EINVAL, "line 1, column 1: syntax error");
}
