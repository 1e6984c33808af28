/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jsontext against jansson itself: the same texts accepted, and the same
 * bytes written for them. */
#include <errno.h>
#include <jansson.h>

#include "test-helpers.h"
#include "virtgov/model/event.h"
#include "virtgov/util/jsontext.h"

/* Assertion messages show at most this much of a text (Criterion stalls
 * on very long ones). */
#define SHOWN 200

static const unsigned JANSSON_PRETTY = JSON_INDENT(2) | JSON_ENSURE_ASCII;

/* What vg_json_text_pretty writes for text at level, or NULL if it refused. */
static char *ours(const char *text, unsigned level) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_not_null(f);
        int r = vg_json_text_pretty(text, level, f);
        fclose(f);
        cr_assert(r == 0 || (r == -EINVAL && len == 0), "refused '%.*s' but wrote %zu bytes", SHOWN, text, len);
        if (r < 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* What jansson writes after decoding text, or NULL if it refused. */
static char *theirs(const char *text) {
        json_t *j = json_loads(text, 0, NULL);
        char *out = j ? json_dumps(j, JANSSON_PRETTY) : NULL;
        json_decref(j);
        return out;
}

static void same_as_jansson(const char *text) {
        char *a = ours(text, 0), *b = theirs(text);
        int n = SHOWN;
        if (!b)
                cr_assert_null(a, "jansson refuses '%.*s', jsontext wrote:\n%.*s", n, text, n, a);
        else {
                cr_assert_not_null(a, "jansson accepts '%.*s', jsontext refused it", n, text);
                cr_assert_str_eq(a, b, "for '%.*s'", n, text);
        }
        cr_assert_eq(vg_json_text_valid(text), b != NULL, "'%.*s'", n, text);
        free(a);
        free(b);
}

Test(jsontext, writes_what_jansson_writes) {
        static const char *const texts[] = {
                "{}", "[]", " { } ", "[{}, [], [[]], {\"a\": {}}]",
                "{\"b\":1,\"a\":[true,false,null],\"c\":{\"d\":\"e\"}}",
                "{\"op\":\"prepare\",\"facts\":{\"disks\":[{\"source\":\"/var/lib/a b.qcow2\",\"readonly\":false}]}}",
                /* escapes: written again as jansson writes them */
                "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\u0041\\u00e9\\u00E9\\u001f\\u007f\\u0080\"]",
                "[\"\\ud83d\\ude00\", \"\\uD83D\\uDE00\"]", "[\"a/b\", \"\x7f\"]",
                /* UTF-8, to \u escapes */
                "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"]",
                /* numbers: integers again from their value, reals as jansson formats them */
                "[0, -0, 7, -12, 9223372036854775807, -9223372036854775808]",
                "[0.1, 1.5, -2.25e3, 1E2, 1e-400, 5e-324, 1.7976931348623157e308, 0e0, 123456789.123456789]",
                /* whitespace anywhere between tokens */
                "\n\t[ 1 ,\r\n 2 ]\n", "{ \"a\" : 1 , \"b\" :\t[ ] }",
                /* refused by both */
                "", " ", "1", "\"s\"", "null", "{", "[", "[1,]", "{,}", "{\"a\"}", "{\"a\":}", "{1:2}", "[01]",
                "[1.]", "[.5]", "[1e]", "[1e+]", "[-]", "[+1]", "[0x10]", "[Infinity]", "[NaN]", "[tru]",
                "[truex]", "[nul]", "[1]x", "[1][2]", "{}}", "[\"\\u0000\"]", "[\"\\ud800\"]", "[\"\\udc00\"]",
                "[\"\\ud800\\u0041\"]", "[\"\\ud800x\"]", "[\"\\u12\"]", "[\"\\x\"]", "[\"\\'\"]", "[\"a\tb\"]",
                "[\"a\nb\"]", "[\"\x80\"]", "[\"\xc0\x80\"]", "[\"\xc3\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]",
                "[\"\xf8\x88\x80\x80\x80\"]", "[\"\xe2\x82\"]", "[\"unterminated", "[9223372036854775808]",
                "[-9223372036854775809]", "[1e400]", "[-1e400]", "/* c */ []", "['a']",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
                same_as_jansson(texts[i]);
}

/* jansson refuses nesting beyond 2048 values; so does jsontext, at the
 * same depth. */
Test(jsontext, nesting_limit_is_janssons) {
        for (int depth = 2046; depth <= 2050; depth++) {
                char *text = malloc(2 * (size_t) depth + 1);
                memset(text, '[', (size_t) depth);
                memset(text + depth, ']', (size_t) depth);
                text[2 * depth] = '\0';
                same_as_jansson(text);
                free(text);
        }
}

/* Every line after the first indented by level more levels: what the
 * value would look like one or more levels down in a larger document. */
Test(jsontext, level_indents_every_line_after_the_first) {
        const char *text = "{\"a\":[1,{\"b\":null}],\"c\":{}}";
        json_t *doc = json_pack("{s:{s:o}}", "x", "y", json_loads(text, 0, NULL));
        char *want = json_dumps(doc, JANSSON_PRETTY);
        json_decref(doc);
        char *inner = ours(text, 2);
        char *got = NULL;
        cr_assert(asprintf(&got, "{\n  \"x\": {\n    \"y\": %s\n  }\n}", inner) > 0);
        cr_assert_str_eq(got, want);
        free(inner);
        free(got);
        free(want);
}

/* Calls fn with the facts of each case of the domain XML suite
 * (tests/data/domxml/NAME/expected.json), theirs to keep; how many. */
static int each_domxml_facts(void (*fn)(json_t *facts, const char *name)) {
        DIR *d = opendir(TEST_DATA_DIR "/domxml");
        cr_assert_not_null(d);
        int n = 0;
        for (struct dirent *de; (de = readdir(d));) {
                char path[1024];
                snprintf(path, sizeof(path), TEST_DATA_DIR "/domxml/%s/expected.json", de->d_name);
                json_t *facts = de->d_name[0] == '.' ? NULL : json_load_file(path, 0, NULL);
                if (facts) {
                        fn(facts, de->d_name);
                        n++;
                }
        }
        closedir(d);
        return n;
}

/* Facts as the inventory stores them (compact, keys sorted), written as
 * jansson would. */
static void stored_facts(json_t *facts, const char *name) {
        char *stored = json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS);
        same_as_jansson(stored);
        free(stored);
        json_decref(facts);
}

Test(jsontext, stored_facts_of_every_domxml_case) {
        int n = each_domxml_facts(stored_facts);
        cr_assert_gt(n, 5, "only %d cases found", n);
}

/* What vg_json_text_scalars should give: jansson's decoding of text, its
 * objects and arrays taken out. NULL when it is not an object. */
static json_t *scalars_by_jansson(const char *text) {
        json_t *o = json_loads(text, 0, NULL), *m;
        if (!json_is_object(o)) {
                json_decref(o);
                return NULL;
        }
        const char *k;
        void *tmp;
        json_object_foreach_safe(o, tmp, k, m)
                if (json_is_object(m) || json_is_array(m))
                        json_object_del(o, k);
        return o;
}

static void same_scalars(const char *text) {
        json_t *a = vg_json_text_scalars(text), *b = scalars_by_jansson(text);
        int n = SHOWN;
        if (!b)
                cr_assert_null(a, "'%.*s': not an object json_loads accepts, yet scalars returned one", n, text);
        else {
                cr_assert_not_null(a, "'%.*s': an object, yet no scalars", n, text);
                char *x = json_dumps(a, JSON_SORT_KEYS), *y = json_dumps(b, JSON_SORT_KEYS);
                cr_assert(json_equal(a, b), "'%.*s': %s, jansson's: %s", n, text, x, y);
                free(x);
                free(y);
        }
        json_decref(a);
        json_decref(b);
}

Test(jsontext, scalars_are_janssons_top_level_scalars) {
        static const char *const texts[] = {
                "{}", " { } ", "[]", "[{\"a\": 1}]", "{\"a\": 1}x", "{\"a\": 1,}", "{,}", "{\"a\" 1}",
                "{\"a\": 1 \"b\": 2}", "{\"a\": [1,}", "{\"a\": \"\\u0000\"}", "{\"a\":\"\x80\"}", "{1: 2}",
                ("{\"op\":\"prepare\",\"subop\":\"begin\",\"facts\":{\"op\":\"x\",\"disks\":[{\"a\":1}]},"
                 "\"n\":null,\"t\":true,\"f\":false,\"i\":-12,\"r\":1.5e3,\"e\":[],\"o\":{}}"),
                "{ \"a\" :\t\"\\u00e9\\/\\ud83d\\ude00\" , \"b\" : [ ] }",
                /* a duplicate key: the last one decides, object or not */
                "{\"a\": 1, \"a\": 2}", "{\"a\": 1, \"a\": {}}", "{\"a\": [], \"a\": \"s\"}",
                "{\"a\": {\"deep\": [[[[1]]]]}, \"b\": \"kept\"}",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
                same_scalars(texts[i]);
        cr_assert_null(vg_json_text_scalars(NULL));
}

/* An event's data as the hook stores it: op and friends beside the facts. */
static void hook_data_scalars(json_t *facts, const char *name) {
        json_t *data = json_pack("{s:s, s:s, s:s, s:o}", "op", "prepare", "subop", "begin", "extra", "-",
                                 "facts", facts);
        char *stored = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
        same_scalars(stored);
        json_t *got = vg_json_text_scalars(stored);
        cr_assert_eq(json_object_size(got), 3, "%s", name);
        json_decref(got);
        free(stored);
        json_decref(data);
}

Test(jsontext, scalars_of_hook_data_for_every_domxml_case) {
        int n = each_domxml_facts(hook_data_scalars);
        cr_assert_gt(n, 5, "only %d cases found", n);
}

/* What vg_json_string_write writes for s. */
static char *string_written(const char *s) {
        char *got = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&got, &len);
        cr_assert_not_null(f);
        vg_json_string_write(s, f);
        fclose(f);
        return got;
}

/* A C string as event_json_string and jansson write it: escaped, UTF-8 as
 * \u escapes, and a string that is not UTF-8 kept with '?' for its high
 * bytes. */
Test(jsontext, string_write_is_event_json_string) {
        static const char *const strings[] = {
                "", "web-7", "a\"b\\c/d", "\b\f\n\r\t\x01\x1f\x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                "bad \xc3 utf8 \xe9 and \xc3\xa9", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
        };
        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
                char *got = string_written(strings[i]);
                json_t *j = event_json_string(strings[i]);
                char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
                cr_assert_str_eq(got, want, "string %zu", i);
                json_decref(j);
                free(want);
                free(got);
        }
        char *got = string_written(NULL);
        cr_assert_str_eq(got, "null");
        free(got);
}
