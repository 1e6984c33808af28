/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt's config syntax (qemu.conf, libvirtd.conf, virtqemud.conf), read
 * as libvirt's own virconf.c reads it, so that the assessment judges the
 * setting the daemon uses: the first entry of a name wins (libvirt's
 * lookup walks the entries from the top), strings have no escapes, a
 * string does not span lines unless it is triple-quoted, names start with
 * a letter, and a syntax error anywhere makes libvirt refuse the whole
 * file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/assess/assess.h"

/* virconf.c's own cap on a config file (MAX_CONFIG_FILE_SIZE). */
#define VCONF_MAX_BYTES (10 * 1024 * 1024)
/* Lists nest in the syntax; libvirt's keys never do more than once. */
#define VCONF_MAX_DEPTH 16

typedef struct P {
        const char *s, *cur, *end, *path;
        unsigned line;
        const char *line_start;
        VgError *err;
} P;

static int fail(P *p, const char *what) {
        return vg_error(p->err, -EINVAL, "%s:%u:%u: %s", p->path, p->line, (unsigned) (p->cur - p->line_start) + 1,
                        what);
}

static bool at_end(const P *p) {
        return p->cur >= p->end;
}

static void skip_blanks(P *p) {
        while (!at_end(p) && (*p->cur == ' ' || *p->cur == '\t'))
                p->cur++;
}

static void newline(P *p) {
        p->line++;
        p->line_start = p->cur + 1;
}

static void skip_blanks_eol(P *p) {
        while (!at_end(p) && (*p->cur == ' ' || *p->cur == '\t' || *p->cur == '\n' || *p->cur == '\r')) {
                if (*p->cur == '\n')
                        newline(p);
                p->cur++;
        }
}

static void value_clear(VconfValue *v) {
        free(v->str);
        for (size_t i = 0; i < v->n_items; i++)
                value_clear(&v->items[i]);
        free(v->items);
        memset(v, 0, sizeof(*v));
}

/* An unterminated string is placed at its opening quote, where a person
 * looks (libvirt names the line it reached). */
static int unterminated(P *p, const char *open, unsigned line, const char *line_start) {
        p->cur = open;
        p->line = line;
        p->line_start = line_start;
        return fail(p, "unterminated string");
}

static int parse_string(P *p, VconfValue *v) {
        const char *base, *open = p->cur, *open_ls = p->line_start;
        unsigned open_line = p->line;
        if (p->end - p->cur >= 6 && !strncmp(p->cur, "\"\"\"", 3)) {
                p->cur += 3;
                base = p->cur;
                while (p->end - p->cur >= 3 && strncmp(p->cur, "\"\"\"", 3)) {
                        if (*p->cur == '\n')
                                newline(p);
                        p->cur++;
                }
                if (p->end - p->cur < 3)
                        return unterminated(p, open, open_line, open_ls);
                v->str = strndup(base, (size_t) (p->cur - base));
                p->cur += 3;
        } else {
                char q = *p->cur++;
                base = p->cur;
                while (!at_end(p) && *p->cur != q && *p->cur != '\n' && *p->cur != '\r')
                        p->cur++;
                if (at_end(p) || *p->cur != q)
                        return unterminated(p, open, open_line, open_ls);
                v->str = strndup(base, (size_t) (p->cur - base));
                p->cur++;
        }
        v->type = VCONF_STRING;
        return v->str ? 0 : -ENOMEM;
}

static int parse_value(P *p, VconfValue *v, unsigned depth) {
        skip_blanks(p);
        if (at_end(p))
                return fail(p, "expecting a value");
        char c = *p->cur;
        if (c == '"' || c == '\'')
                return parse_string(p, v);
        if (c == '[') {
                if (depth >= VCONF_MAX_DEPTH)
                        return fail(p, "lists nested too deeply");
                v->type = VCONF_LIST;
                p->cur++;
                skip_blanks_eol(p);
                while (!at_end(p) && *p->cur != ']') {
                        if (v->n_items) {
                                if (*p->cur != ',')
                                        return fail(p, "expecting a separator in list");
                                p->cur++;
                                skip_blanks_eol(p);
                                if (!at_end(p) && *p->cur == ']')
                                        break;
                        }
                        if (vg_grow((void **) &v->items, &v->n_items, sizeof(*v->items)) < 0)
                                return -ENOMEM;
                        int r = parse_value(p, &v->items[v->n_items - 1], depth + 1);
                        if (r < 0)
                                return r;
                        skip_blanks_eol(p);
                }
                if (at_end(p))
                        return fail(p, "list is not closed with ]");
                p->cur++;
                return 0;
        }
        if (isdigit((unsigned char) c) || c == '-' || c == '+') {
                v->type = VCONF_NUMBER;
                v->negative = c == '-';
                if (c == '-' || c == '+')
                        p->cur++;
                if (at_end(p) || !isdigit((unsigned char) *p->cur))
                        return fail(p, "unterminated number");
                unsigned long long n = 0;
                /* Wraps past 2^64 as libvirt's does; nothing sane is that big. */
                while (!at_end(p) && isdigit((unsigned char) *p->cur))
                        n = n * 10 + (unsigned) (*p->cur++ - '0');
                v->num = v->negative ? -(long long) n : (long long) n;
                return 0;
        }
        return fail(p, "expecting a value");
}

static int parse_statement(P *p, Vconf *c) {
        skip_blanks_eol(p);
        if (at_end(p))
                return 0;
        if (*p->cur == '#') {
                while (!at_end(p) && *p->cur != '\n')
                        p->cur++;
                return 0;
        }
        skip_blanks(p);
        if (at_end(p) || !isalpha((unsigned char) *p->cur))
                return fail(p, "expecting a name");
        const char *name = p->cur;
        while (!at_end(p) && (isalnum((unsigned char) *p->cur) || *p->cur == '_'))
                p->cur++;
        size_t nlen = (size_t) (p->cur - name);
        unsigned line = p->line;
        skip_blanks(p);
        if (at_end(p) || *p->cur != '=')
                return fail(p, "expecting an assignment");
        p->cur++;
        VconfValue v = { 0 };
        int r = parse_value(p, &v, 0);
        if (r < 0) {
                value_clear(&v);
                return r;
        }
        skip_blanks(p);
        if (!at_end(p) && *p->cur == '#')
                while (!at_end(p) && *p->cur != '\n')
                        p->cur++;
        if (vg_grow((void **) &c->v, &c->n, sizeof(*c->v)) < 0 || !(c->v[c->n - 1].name = strndup(name, nlen))) {
                value_clear(&v);
                return -ENOMEM;
        }
        c->v[c->n - 1].value = v;
        c->v[c->n - 1].line = line;
        /* The separator: the end, a newline or ';'. */
        skip_blanks(p);
        if (at_end(p))
                return 0;
        if (*p->cur == '\n' || *p->cur == '\r' || *p->cur == ';') {
                if (*p->cur == ';')
                        p->cur++;
                return 0;
        }
        return fail(p, "expecting a separator");
}

int vconf_parse(const char *text, size_t len, const char *path, Vconf **ret, VgError *err) {
        if (len > VCONF_MAX_BYTES)
                return vg_error(err, -EFBIG, "%s: larger than libvirt reads (%d bytes)", path, VCONF_MAX_BYTES);
        _cleanup_(vconf_freep) Vconf *c = calloc(1, sizeof(*c));
        if (!c || !(c->path = strdup(path)))
                return vg_error(err, -ENOMEM, "out of memory");
        P p = { text, text, text + len, path, 1, text, err };
        while (!at_end(&p)) {
                int r = parse_statement(&p, c);
                if (r == -ENOMEM)
                        return vg_error(err, r, "out of memory");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

Vconf *vconf_free(Vconf *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].name);
                value_clear(&c->v[i].value);
        }
        free(c->v);
        free(c->path);
        free(c);
        return NULL;
}

const VconfEntry *vconf_get(const Vconf *c, const char *name) {
        for (size_t i = 0; c && i < c->n; i++)
                if (!strcmp(c->v[i].name, name))
                        return &c->v[i];
        return NULL;
}
