/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jsontext against jansson: any text jsontext accepts, jansson accepts,
 * and the two decode to the same value; any text jansson accepts,
 * jsontext accepts; and for the text as the inventory stores it (jansson's
 * compact form), jsontext writes exactly the bytes jansson writes. And
 * any text written as a JSON string is what jansson writes for it. And the
 * top-level scalars of an object are what jansson decodes of them. And
 * any text as a name (text.h) keeps its bytes, and as a CSV cell or HTML
 * is UTF-8 with no control, bidi control or formula left, and as a
 * Prometheus label value has only the format's escapes and unescapes to
 * the document's text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "virtgov/model/event.h"
#include "virtgov/util/jsontext.h"
#include "virtgov/util/text.h"

/* text as a name: its _bytes give it back, and as a document it is
 * UTF-8 without what text.h hides, and a CSV cell starts no formula. */
static void as_name(const char *text) {
        char *hex = NULL, *back = NULL;
        if (vg_text_bytes_hex(text, &hex) < 0)
                abort();
        if (!hex != vg_utf8_valid(text) || (hex && (vg_text_from_hex(hex, &back) < 0 || strcmp(back, text))))
                __builtin_trap();
        free(hex);
        free(back);
        for (int csv = 0; csv < 2; csv++) {
                char *out = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&out, &len);
                if (!f)
                        abort();
                if (csv)
                        vg_text_put_csv(text, f);
                else
                        vg_text_put_document(text, true, f);
                fclose(f);
                if (!vg_utf8_valid(out) || (csv && *out && strchr("=+-@\t\r", *out)))
                        __builtin_trap();
                uint32_t cp = 0;
                for (const unsigned char *p = (const unsigned char *) out; *p;) {
                        p += vg_utf8_next(p, &cp);   /* > 0: out is UTF-8 */
                        if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) ||
                            (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || (!csv && cp == '<'))
                                __builtin_trap();
                }
                free(out);
        }
}

static char *written(void (*put)(const char *, FILE *), const char *text) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                abort();
        put(text, f);
        fclose(f);
        return out;
}

static void put_plain(const char *s, FILE *f) {
        vg_text_put_document(s, false, f);
}

/* text as a Prometheus label value: no raw line feed or unescaped quote
 * (which would end the value or the sample), only the format's three
 * escapes, and unescaped it is the document's text of the same input. */
static void as_label(const char *text) {
        char *out = written(vg_text_put_prom_label, text), *doc = written(put_plain, text);
        char *back = malloc(strlen(out) + 1), *q = back;
        if (!back)
                abort();
        for (const char *p = out; *p; p++) {
                if (*p == '\n' || *p == '"')
                        __builtin_trap();
                if (*p != '\\') {
                        *q++ = *p;
                        continue;
                }
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n')
                        __builtin_trap();   /* an escape the format does not have, or a lone one at the end */
                *q++ = *p == 'n' ? '\n' : *p;
        }
        *q = '\0';
        if (!vg_utf8_valid(out) || strcmp(back, doc))
                __builtin_trap();
        free(back);
        free(doc);
        free(out);
}

static char *pretty(const char *text) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        int r = vg_json_text_pretty(text, 0, f);
        fclose(f);
        if (r < 0) {
                if (len)
                        __builtin_trap();   /* refused, yet wrote */
                free(buf);
                return NULL;
        }
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';   /* as SQLite hands it over: text up to a NUL */

        json_t *j = json_loads(text, 0, NULL);
        char *ours = pretty(text);
        if (!j != !ours)
                __builtin_trap();   /* one accepts what the other refuses */
        if (j) {
                /* What jsontext wrote decodes to the same value. */
                json_t *back = json_loads(ours, 0, NULL);
                if (!back || !json_equal(back, j))
                        __builtin_trap();
                json_decref(back);
                /* From the stored form: byte for byte. */
                char *stored = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
                json_t *s = stored ? json_loads(stored, 0, NULL) : NULL;
                char *want = s ? json_dumps(s, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
                char *got = want ? pretty(stored) : NULL;
                if (want && (!got || strcmp(got, want)))
                        __builtin_trap();
                json_decref(s);
                free(stored);
                free(want);
                free(got);
        }
        /* The top-level scalars: jansson's decoding, objects and arrays out. */
        json_t *sc = vg_json_text_scalars(text);
        if (!json_is_object(j) != !sc)
                __builtin_trap();   /* scalars of what is not an object, or none of one */
        if (sc) {
                const char *k;
                json_t *m;
                void *tmp;
                json_object_foreach_safe(j, tmp, k, m)
                        if (json_is_object(m) || json_is_array(m))
                                json_object_del(j, k);
                if (!json_equal(sc, j))
                        __builtin_trap();
                json_decref(sc);
        }
        json_decref(j);
        free(ours);

        char *str = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&str, &len);
        if (!f)
                abort();
        vg_json_string_write(text, f);
        fclose(f);
        json_t *js = event_json_string(text);
        char *want = js ? json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        if (want && strcmp(str, want))
                __builtin_trap();
        json_decref(js);
        free(want);
        free(str);
        as_name(text);
        as_label(text);
        free(text);
        return 0;
}
