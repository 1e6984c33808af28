/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One walk over the text, twice: first only checking it (f NULL), then,
 * when it passed, writing it. Each rule below is jansson's (load.c, dump.c,
 * utf8.c of 2.14), so that what passes here is what json_loads accepts and
 * what is written is what json_dumpf writes.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/jsontext.h"
#include "virtgov/util/text.h"

#define MAX_DEPTH 2048   /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct Walk {
        const char *p;
        FILE *f;          /* NULL: only check */
        unsigned level;   /* added to the indent of every line break */
        unsigned depth;   /* values open, counted as jansson counts them */
} Walk;

static void put(Walk *w, const char *s, size_t n) {
        if (w->f && n)
                fwrite_unlocked(s, 1, n, w->f);
}

/* A line break and the indent of nesting level nest. */
static void newline(Walk *w, unsigned nest) {
        static const char spaces[] = "\n                                                                "
                                     "                                                                ";
        if (!w->f)
                return;
        size_t n = 2 * (size_t) (w->level + nest) + 1, chunk = sizeof(spaces) - 1;
        for (const char *s = spaces; n; s = spaces + 1, chunk = sizeof(spaces) - 2) {
                size_t k = n < chunk ? n : chunk;
                fwrite_unlocked(s, 1, k, w->f);
                n -= k;
        }
}

static void skip_ws(Walk *w) {
        while (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r')
                w->p++;
}

static int hex4(const unsigned char *s, uint32_t *ret) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                unsigned char c = s[i];   /* stops at the NUL that ends the text */
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -1;
        }
        *ret = v;
        return 0;
}

/* A code point as JSON_ENSURE_ASCII writes it. */
static void put_code_point(Walk *w, uint32_t cp) {
        static const char short_escape[] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f',
                                             ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\' };
        char buf[16];
        if (!w->f)
                return;
        if (cp < sizeof(short_escape) && short_escape[cp]) {
                putc_unlocked('\\', w->f);
                putc_unlocked(short_escape[cp], w->f);
        } else if (cp >= 0x20 && cp <= 0x7F)
                putc_unlocked((int) cp, w->f);
        else if (cp < 0x10000)
                put(w, buf, (size_t) snprintf(buf, sizeof(buf), "\\u%04X", (unsigned) cp));
        else {
                cp -= 0x10000;
                put(w, buf, (size_t) snprintf(buf, sizeof(buf), "\\u%04X\\u%04X", (unsigned) (0xD800 | cp >> 10),
                                              (unsigned) (0xDC00 | (cp & 0x3FF))));
        }
}

/* At the opening quote. Escapes are decoded and written again as jansson
 * writes them (\/ becomes /, \u00e9 becomes \u00E9). */
static int string(Walk *w) {
        const unsigned char *s = (const unsigned char *) w->p + 1;
        put(w, "\"", 1);
        for (;;) {
                const unsigned char *run = s;
                while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
                        s++;
                put(w, (const char *) run, (size_t) (s - run));
                uint32_t cp, lo;
                if (*s == '"')
                        break;
                if (*s < 0x20)
                        return -1;   /* a control character, or the end of the text */
                if (*s >= 0x80) {
                        size_t n = vg_utf8_next(s, &cp);
                        if (!n)
                                return -1;
                        s += n;
                } else if (s[1] != 'u') {
                        static const char letter[] = "\"\\/bfnrt", meaning[] = "\"\\/\b\f\n\r\t";
                        const char *e = s[1] ? strchr(letter, s[1]) : NULL;
                        if (!e)
                                return -1;
                        cp = (uint32_t) meaning[e - letter];
                        s += 2;
                } else {
                        if (hex4(s + 2, &cp) < 0)
                                return -1;
                        s += 6;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                if (s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                                        return -1;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                s += 6;
                        } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0)
                                return -1;   /* an unpaired surrogate; NUL (no JSON_ALLOW_NUL) */
                }
                put_code_point(w, cp);
        }
        put(w, "\"", 1);
        w->p = (const char *) s + 1;
        return 0;
}

static bool digit(char c) {
        return c >= '0' && c <= '9';
}

/* An integer must fit a long long and a real a double; both are written
 * again from their value, as jansson does ("-0" is 0, 1E2 is 100.0). */
static int number(Walk *w) {
        const char *s = w->p;
        bool real = false;
        if (*s == '-')
                s++;
        if (*s == '0')
                s++;
        else if (digit(*s))
                while (digit(*s))
                        s++;
        else
                return -1;
        if (*s == '.') {
                real = true;
                if (!digit(*++s))
                        return -1;
                while (digit(*s))
                        s++;
        }
        if (*s == 'e' || *s == 'E') {
                real = true;
                s++;
                if (*s == '+' || *s == '-')
                        s++;
                if (!digit(*s))
                        return -1;
                while (digit(*s))
                        s++;
        }
        char *end;
        errno = 0;
        if (!real) {
                long long v = strtoll(w->p, &end, 10);
                if (errno == ERANGE || end != s)
                        return -1;
                if (w->f)
                        fprintf(w->f, "%lld", v);
        } else {
                double v = strtod(w->p, &end);
                if (((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE) || end != s)
                        return -1;
                if (w->f) {
                        /* Rare in the inventory: jansson formats it, exactly. */
                        json_t *j = json_real(v);
                        char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
                        json_decref(j);
                        if (!text)
                                return -1;
                        fputs(text, w->f);
                        free(text);
                }
        }
        w->p = s;
        return 0;
}

static int value(Walk *w, unsigned nest);

/* At the opening bracket: an object when close is '}', else an array. */
static int container(Walk *w, unsigned nest, char close) {
        put(w, w->p, 1);
        w->p++;
        skip_ws(w);
        if (*w->p == close) {
                put(w, w->p++, 1);
                return 0;
        }
        for (;;) {
                newline(w, nest + 1);
                if (close == '}') {
                        skip_ws(w);
                        if (*w->p != '"' || string(w) < 0)
                                return -1;
                        skip_ws(w);
                        if (*w->p != ':')
                                return -1;
                        w->p++;
                        put(w, ": ", 2);
                }
                if (value(w, nest + 1) < 0)
                        return -1;
                skip_ws(w);
                if (*w->p == close)
                        break;
                if (*w->p != ',')
                        return -1;
                put(w, w->p++, 1);
        }
        newline(w, nest);
        put(w, w->p++, 1);
        return 0;
}

static int word(Walk *w, const char *lit) {
        size_t n = strlen(lit);
        if (strncmp(w->p, lit, n))
                return -1;
        put(w, lit, n);
        w->p += n;
        return 0;
}

static int value(Walk *w, unsigned nest) {
        if (++w->depth > MAX_DEPTH)
                return -1;
        skip_ws(w);
        int r;
        switch (*w->p) {
        case '{': r = container(w, nest, '}'); break;
        case '[': r = container(w, nest, ']'); break;
        case '"': r = string(w); break;
        case 't': r = word(w, "true"); break;
        case 'f': r = word(w, "false"); break;
        case 'n': r = word(w, "null"); break;
        default: r = number(w); break;
        }
        w->depth--;
        return r;
}

static int walk(const char *text, unsigned level, FILE *f) {
        Walk w = { .p = text, .f = f, .level = level };
        skip_ws(&w);
        if (*w.p != '{' && *w.p != '[')
                return -EINVAL;   /* json_loads without JSON_DECODE_ANY */
        if (value(&w, 0) < 0)
                return -EINVAL;
        skip_ws(&w);
        return *w.p ? -EINVAL : 0;
}

bool vg_json_text_valid(const char *text) {
        return text && walk(text, 0, NULL) == 0;
}

int vg_json_text_pretty(const char *text, unsigned level, FILE *f) {
        if (!vg_json_text_valid(text))
                return -EINVAL;
        return walk(text, level, f);
}

json_t *vg_json_text_scalars(const char *text) {
        Walk w = { .p = text, .depth = 1 };   /* the object itself */
        if (!text)
                return NULL;
        skip_ws(&w);
        if (*w.p != '{')
                return NULL;
        /* Every member's key and, for a scalar, its text as it stands; an
         * object or array becomes [] and goes after decoding, so that a
         * duplicate key is decided as json_loads decides it (the last).
         * This can only be shorter than the whole. */
        _cleanup_free_ char *kept = malloc(strlen(text) + 3);
        if (!kept)
                return NULL;
        size_t n = 0;
        kept[n++] = '{';
        w.p++;
        skip_ws(&w);
        while (*w.p != '}') {
                const char *key = w.p;
                if (*w.p != '"' || string(&w) < 0)
                        return NULL;
                const char *key_end = w.p;
                skip_ws(&w);
                if (*w.p++ != ':')
                        return NULL;
                skip_ws(&w);
                const char *v = w.p;
                if (value(&w, 1) < 0)
                        return NULL;
                bool scalar = *v != '{' && *v != '[';
                if (n > 1)
                        kept[n++] = ',';
                memcpy(kept + n, key, (size_t) (key_end - key));
                n += (size_t) (key_end - key);
                kept[n++] = ':';
                memcpy(kept + n, scalar ? v : "[]", scalar ? (size_t) (w.p - v) : 2);
                n += scalar ? (size_t) (w.p - v) : 2;
                skip_ws(&w);
                if (*w.p == ',') {
                        w.p++;
                        skip_ws(&w);
                        if (*w.p == '}')
                                return NULL;   /* a trailing comma */
                } else if (*w.p != '}')
                        return NULL;
        }
        w.p++;
        skip_ws(&w);
        if (*w.p)
                return NULL;
        kept[n++] = '}';
        kept[n] = '\0';
        json_t *o = json_loads(kept, 0, NULL), *m;
        const char *k;
        void *tmp;
        json_object_foreach_safe(o, tmp, k, m)
                if (json_is_array(m))
                        json_object_del(o, k);
        return o;
}

void vg_json_string_write(const char *s, FILE *f) {
        Walk w = { .f = f };
        if (!s) {
                fputs("null", f);
                return;
        }
        bool utf8 = true;
        uint32_t cp = 0;
        for (const unsigned char *p = (const unsigned char *) s; *p && utf8;) {
                size_t n = *p < 0x80 ? 1 : vg_utf8_next(p, &cp);
                utf8 = n > 0;
                p += n;
        }
        putc_unlocked('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                const unsigned char *run = p;
                while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                        p++;
                put(&w, (const char *) run, (size_t) (p - run));
                if (!*p)
                        break;
                size_t n = *p < 0x80 ? 1 : utf8 ? vg_utf8_next(p, &cp) : 1;
                put_code_point(&w, *p < 0x80 ? *p : utf8 ? cp : '?');
                p += n;
        }
        putc_unlocked('"', f);
}
