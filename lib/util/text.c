/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text from outside made safe for a terminal, a document (CSV, HTML) and
 * JSON: the rules are in text.h. The hook links this file statically and
 * prints its deny line through it, so it stays a few loops over bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/util/text.h"
#include "virtgov/util/util.h"

size_t vg_utf8_next(const unsigned char *s, uint32_t *cp) {
        size_t n;
        uint32_t v, min;
        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if (s[0] >= 0xC2 && s[0] <= 0xDF)
                n = 2, v = s[0] & 0x1Fu, min = 0x80;
        else if (s[0] >= 0xE0 && s[0] <= 0xEF)
                n = 3, v = s[0] & 0x0Fu, min = 0x800;
        else if (s[0] >= 0xF0 && s[0] <= 0xF4)
                n = 4, v = s[0] & 0x07u, min = 0x10000;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)   /* also stops at the NUL that ends s */
                        return 0;
                v = v << 6 | (s[i] & 0x3Fu);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                return 0;
        *cp = v;
        return n;
}

bool vg_utf8_valid(const char *s) {
        uint32_t cp;
        for (const unsigned char *p = (const unsigned char *) s; p && *p;) {
                size_t n = vg_utf8_next(p, &cp);
                if (!n)
                        return false;
                p += n;
        }
        return true;
}

/* What a terminal shows as it is: printable ASCII. Everything else may
 * start or continue an escape sequence (C0, DEL, C1 as a byte or in
 * UTF-8), or reorder the line (the bidi controls). */
static bool terminal_byte(char c) {
        return (unsigned char) c >= 0x20 && (unsigned char) c < 0x7f;
}

const char *vg_text_terminal(const char *s, char *buf, size_t n) {
        if (!s)
                return "-";
        size_t i = 0;
        for (; s[i] && i + 1 < n; i++)
                buf[i] = terminal_byte(s[i]) ? s[i] : '?';
        buf[i] = '\0';
        return buf;
}

void vg_text_put_terminal(const char *s, FILE *f) {
        if (!s)
                s = "-";
        for (;;) {
                size_t k = 0;
                while (terminal_byte(s[k]))
                        k++;
                fwrite(s, 1, k, f);
                if (!s[k])
                        return;
                putc('?', f);
                s += k + 1;
        }
}

/* Code points a document shows as U+FFFD: controls but TAB and LF (a CR
 * or an ESC in a cell reaches the terminal that cats the file), and the
 * bidi embeddings, overrides and isolates, which make a viewer draw
 * "vm-\u202Egnp.exe" as "vm-exe.png". */
static bool document_hidden(uint32_t cp) {
        return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) ||
               (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* How a document's markup writes a character of its own. */
typedef enum Markup { MARKUP_NONE, MARKUP_HTML, MARKUP_CSV_QUOTED, MARKUP_PROM_LABEL } Markup;

static const char *markup_entity(Markup m, uint32_t cp) {
        if (m == MARKUP_HTML)
                return cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" : cp == '"' ? "&quot;"
                     : cp == '\'' ? "&#39;" : NULL;
        if (m == MARKUP_PROM_LABEL)
                return cp == '\\' ? "\\\\" : cp == '"' ? "\\\"" : cp == '\n' ? "\\n" : NULL;
        return m == MARKUP_CSV_QUOTED && cp == '"' ? "\"\"" : NULL;
}

static void put_document(const char *s, Markup m, FILE *f) {
        uint32_t cp = 0;
        for (const unsigned char *p = (const unsigned char *) s; p && *p;) {
                size_t n = vg_utf8_next(p, &cp);
                const char *entity = !n || document_hidden(cp) ? "\xEF\xBF\xBD" : markup_entity(m, cp);
                if (entity)
                        fputs(entity, f);
                else
                        fwrite(p, 1, n, f);
                p += n ? n : 1;
        }
}

void vg_text_put_document(const char *s, bool html, FILE *f) {
        put_document(s, html ? MARKUP_HTML : MARKUP_NONE, f);
}

void vg_text_put_csv(const char *s, FILE *f) {
        if (!s)
                return;
        /* A spreadsheet runs a cell that starts with one of these as a
         * formula (=HYPERLINK(...), +cmd|' /c calc'!A1, @SUM(...)); a
         * leading ' makes it text, and the quotes keep the ' in the cell. */
        bool formula = s[0] && strchr("=+-@\t\r", s[0]);
        if (!formula && !strpbrk(s, ",\"\r\n")) {
                put_document(s, MARKUP_NONE, f);
                return;
        }
        fputs(formula ? "\"'" : "\"", f);
        put_document(s, MARKUP_CSV_QUOTED, f);
        putc('"', f);
}

void vg_text_put_prom_label(const char *s, FILE *f) {
        put_document(s, MARKUP_PROM_LABEL, f);
}

int vg_text_bytes_hex(const char *s, char **ret_hex) {
        if (vg_utf8_valid(s)) {
                *ret_hex = NULL;
                return 0;
        }
        size_t n = strlen(s);
        char *hex = malloc(2 * n + 1);
        if (!hex)
                return -ENOMEM;
        *ret_hex = vg_hex(s, n, hex);
        return 0;
}

void vg_text_put_hex(const char *s, FILE *f) {
        char hex[2 * 64 + 1];
        putc('"', f);
        for (size_t n = strlen(s), k; n; s += k, n -= k) {
                k = n < 64 ? n : 64;
                fputs(vg_hex(s, k, hex), f);
        }
        putc('"', f);
}

int vg_text_from_hex(const char *hex, char **ret) {
        size_t n = strlen(hex);
        if (n % 2)
                return -EINVAL;
        char *s = malloc(n / 2 + 1);
        if (!s)
                return -ENOMEM;
        /* A NUL byte would cut the name short: not a name's bytes. */
        if (vg_unhex(hex, n / 2, s) < 0 || memchr(s, '\0', n / 2)) {
                free(s);
                return -EINVAL;
        }
        s[n / 2] = '\0';
        *ret = s;
        return 0;
}
