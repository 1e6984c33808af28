/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile text for each medium (text.h): a terminal, a CSV cell, HTML,
 * and the JSON name that keeps its bytes. Each case is one a tester fed
 * virtgov (issue 28): an ESC sequence in a domain name, a formula as an
 * owner, U+202E in a path, two files whose names differ in a byte that is
 * not UTF-8. */
#include <errno.h>
#include <jansson.h>

#include "test-helpers.h"
#include "virtgov/model/event.h"
#include "virtgov/util/text.h"

typedef void (*Writer)(const char *s, FILE *f);

static char *written(Writer w, const char *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_not_null(f);
        w(s, f);
        fclose(f);
        return buf;
}

static void put_csv(const char *s, FILE *f) {
        vg_text_put_csv(s, f);
}

static void put_html(const char *s, FILE *f) {
        vg_text_put_document(s, true, f);
}

static void put_prom(const char *s, FILE *f) {
        vg_text_put_prom_label(s, f);
}

static void put_terminal(const char *s, FILE *f) {
        vg_text_put_terminal(s, f);
}

static const struct {
        const char *in, *csv;
} csv_cases[] = {
        { "web-7", "web-7" },
        { "café", "café" },
        { "a,b", "\"a,b\"" },
        { "say \"hi\"", "\"say \"\"hi\"\"\"" },
        { "two\nlines", "\"two\nlines\"" },
        /* formulas: OWASP's leading characters, made text with a ' */
        { "=HYPERLINK(\"http://evil/\",\"x\")", "\"'=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\"" },
        { "+cmd|\"/c calc\"!A1", "\"'+cmd|\"\"/c calc\"\"!A1\"" },
        { "-2+3", "\"'-2+3\"" },
        { "@SUM(A1:A9)", "\"'@SUM(A1:A9)\"" },
        { "\t=1", "\"'\t=1\"" },
        { "\r=1", "\"'\xEF\xBF\xBD=1\"" },
        /* a formula character inside a cell is text already */
        { "a=b", "a=b" },
        /* controls, C1, bidi controls and bytes that are not UTF-8 */
        { "vm\x1b]0;PWNED\x07\x1b[2J", "vm\xEF\xBF\xBD]0;PWNED\xEF\xBF\xBD\xEF\xBF\xBD[2J" },
        { "a\xC2\x9B" "31m", "a\xEF\xBF\xBD" "31m" },
        { "vm-\xE2\x80\xAEgnp.exe", "vm-\xEF\xBF\xBDgnp.exe" },
        { "x\xE2\x81\xA6y\xE2\x81\xA9", "x\xEF\xBF\xBDy\xEF\xBF\xBD" },
        { "caf\xE9", "caf\xEF\xBF\xBD" },
        { "", "" },
};

Test(text, csv_cells) {
        for (size_t i = 0; i < sizeof(csv_cases) / sizeof(csv_cases[0]); i++) {
                char *out = written(put_csv, csv_cases[i].in);
                cr_expect_str_eq(out, csv_cases[i].csv, "case %zu", i);
                free(out);
        }
        char *out = written(put_csv, NULL);
        cr_expect_str_eq(out, "");
        free(out);
}

/* A label value of `virtgov metrics`: the exposition format's three
 * escapes, and UTF-8 out whatever came in (node_exporter's textfile
 * collector refuses a whole file for one bad byte). */
Test(text, prometheus_label_values) {
        static const struct {
                const char *in, *label;
        } cases[] = {
                { "web-7", "web-7" },
                { "café", "café" },
                { "say \"hi\"", "say \\\"hi\\\"" },
                { "C:\\vm\\", "C:\\\\vm\\\\" },
                { "two\nlines", "two\\nlines" },
                /* the end of the value and a new series, spelled out */
                { "x\"} 1\nvirtgov_domain_running{uuid=\"y", "x\\\"} 1\\nvirtgov_domain_running{uuid=\\\"y" },
                { "tab\there", "tab\there" },
                { "cr\r", "cr\xEF\xBF\xBD" },
                { "caf\xE9", "caf\xEF\xBF\xBD" },
                { "\xFF\xFE", "\xEF\xBF\xBD\xEF\xBF\xBD" },
                { "vm-\xE2\x80\xAEgnp.exe", "vm-\xEF\xBF\xBDgnp.exe" },
                { "", "" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = written(put_prom, cases[i].in);
                cr_expect_str_eq(out, cases[i].label, "case %zu", i);
                cr_expect(vg_utf8_valid(out), "case %zu", i);
                free(out);
        }
        char *out = written(put_prom, NULL);
        cr_expect_str_eq(out, "");
        free(out);
}

Test(text, html_marks_bidi_controls) {
        static const struct {
                const char *in, *html;
        } cases[] = {
                { "<script>&'\"", "&lt;script&gt;&amp;&#39;&quot;" },
                { "invoice\xE2\x80\xAE" "fdp.exe", "invoice\xEF\xBF\xBD" "fdp.exe" },
                { "\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD\xE2\x81\xA6\xE2\x81\xA7\xE2\x81\xA8",
                  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
                /* the neighbours stay: LRM, and U+2065 (unassigned) */
                { "a\xE2\x80\x8E" "b\xE2\x81\xA5", "a\xE2\x80\x8E" "b\xE2\x81\xA5" },
                { "tab\there", "tab\there" },
                { "esc\x1b[31m\x7f", "esc\xEF\xBF\xBD[31m\xEF\xBF\xBD" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = written(put_html, cases[i].in);
                cr_expect_str_eq(out, cases[i].html, "case %zu", i);
                free(out);
        }
}

Test(text, terminal_is_printable_ascii) {
        char buf[64];
        cr_expect_str_eq(vg_text_terminal("vm\x1b]0;PWNED\x07\x1b[2J", buf, sizeof(buf)), "vm?]0;PWNED??[2J");
        cr_expect_str_eq(vg_text_terminal("r\xE2\x80\xAEl", buf, sizeof(buf)), "r???l");
        cr_expect_str_eq(vg_text_terminal(NULL, buf, sizeof(buf)), "-");
        cr_expect_str_eq(vg_text_terminal("abcdef", buf, 4), "abc");
        char *out = written(put_terminal, "a\nb\x9b" "c");
        cr_expect_str_eq(out, "a?b?c");
        free(out);
}

Test(text, utf8) {
        cr_expect(vg_utf8_valid("café \xF0\x9F\x98\x80"));
        cr_expect(vg_utf8_valid(NULL));
        cr_expect_not(vg_utf8_valid("caf\xE9"));
        cr_expect_not(vg_utf8_valid("\xC0\xAF"));            /* overlong '/' */
        cr_expect_not(vg_utf8_valid("\xED\xA0\x80"));        /* a surrogate */
        cr_expect_not(vg_utf8_valid("\xF4\x90\x80\x80"));    /* beyond U+10FFFF */
        cr_expect_not(vg_utf8_valid("\xE2\x82"));            /* cut short */
}

/* Two paths that differ only in a byte that is not UTF-8 read alike in
 * "path" and differ in "path_bytes", which gives the bytes back. */
Test(text, json_name_keeps_its_bytes) {
        json_t *a = json_object(), *b = json_object(), *c = json_object();
        cr_assert_eq(event_json_set_name(a, "path", "/srv/caf\xE9"), 0);
        cr_assert_eq(event_json_set_name(b, "path", "/srv/caf\xE8"), 0);
        cr_assert_eq(event_json_set_name(c, "path", "/srv/café"), 0);
        cr_expect_str_eq(json_string_value(json_object_get(a, "path")), "/srv/caf?");
        cr_expect_str_eq(json_string_value(json_object_get(b, "path")), "/srv/caf?");
        cr_expect_str_eq(json_string_value(json_object_get(a, "path_bytes")), "2f7372762f636166e9");
        cr_expect_str_eq(json_string_value(json_object_get(b, "path_bytes")), "2f7372762f636166e8");
        cr_expect_str_eq(json_string_value(json_object_get(c, "path")), "/srv/café");
        cr_expect_null(json_object_get(c, "path_bytes"), "a UTF-8 name needs no bytes");
        json_decref(a);
        json_decref(b);
        json_decref(c);

        char *hex = (char *) "untouched";
        cr_expect_eq(vg_text_bytes_hex("plain", &hex), 0);
        cr_expect_null(hex);
        cr_expect_eq(vg_text_bytes_hex("\x80\xff", &hex), 0);
        cr_expect_str_eq(hex, "80ff");
        free(hex);
}

/* Every string field of an event, as `events --json` prints it. */
Test(text, event_json_keeps_domain_bytes) {
        Event *e = event_new("hook", "domain.started");
        cr_assert_not_null(e);
        event_set(&e->domain, "vm-\xE9t\xE9");
        json_t *j = event_to_json(e);
        cr_expect_str_eq(json_string_value(json_object_get(j, "domain")), "vm-?t?");
        cr_expect_str_eq(json_string_value(json_object_get(j, "domain_bytes")), "766d2de974e9");
        cr_expect_null(json_object_get(j, "kind_bytes"));
        json_decref(j);
        event_free(e);
}
