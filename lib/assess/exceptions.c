/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The exceptions file: a check's failures accepted for a scope, until a
 * time, under a ticket. An exception is a decision someone must own, so
 * the file is strict: an unknown key or check id is an error naming
 * file:line:column, an expired entry stops applying (the check fails
 * again) and is said as a warning with its position.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

#define EXCEPTIONS_MAX_BYTES (1024 * 1024)

typedef struct Pos {
        unsigned line, column;
} Pos;

/* jansson keeps no positions after parsing: the objects of the top-level
 * array are found again in the text (strings skipped), one per element. */
static size_t object_positions(const char *t, size_t len, Pos *pos, const char **at, size_t max) {
        unsigned line = 1, col = 1;
        int depth = 0;
        bool str = false, esc = false;
        size_t n = 0;
        for (size_t i = 0; i < len; i++, col++) {
                char ch = t[i];
                if (ch == '\n') {
                        line++;
                        col = 0;
                }
                if (str) {
                        if (esc)
                                esc = false;
                        else if (ch == '\\')
                                esc = true;
                        else if (ch == '"')
                                str = false;
                        continue;
                }
                if (ch == '"')
                        str = true;
                else if (ch == '[' || ch == '{') {
                        if (depth == 1 && n < max) {
                                pos[n] = (Pos) { line, col };
                                at[n++] = t + i;
                        }
                        depth++;
                } else if (ch == ']' || ch == '}')
                        depth--;
        }
        return n;
}

/* The position of "key" within the object that starts at from. */
static Pos key_pos(const char *t, size_t len, const char *from, Pos obj, const char *key) {
        char q[300];
        snprintf(q, sizeof(q), "\"%s\"", key);
        const char *hit = from ? memmem(from, len - (size_t) (from - t), q, strlen(q)) : NULL;
        if (!hit)
                return obj;
        Pos p = obj;
        for (const char *s = from; s < hit; s++) {
                if (*s == '\n') {
                        p.line++;
                        p.column = 0;
                }
                p.column++;
        }
        return p;
}

typedef struct Parse {
        const char *text, *path;
        size_t len;
        int64_t now_us;
        VgError *err;
} Parse;

static int warn(AssessExceptions *e, char *w) {
        if (!w || vg_grow((void **) &e->warnings, &e->n_warnings, sizeof(char *)) < 0) {
                free(w);
                return -ENOMEM;
        }
        e->warnings[e->n_warnings - 1] = w;
        return 0;
}

/* Entry i (its object o, which starts at 'at', at position p): checked
 * and, unless expired, added to e. */
static int parse_entry(const Parse *x, AssessExceptions *e, size_t i, json_t *o, const char *at, Pos p) {
        static const char *const known[] = { "id", "domain", "path", "ticket", "expires", "reason", NULL };
        if (!json_is_object(o))
                return vg_error(x->err, -EINVAL, "%s:%u:%u: exception %zu: expected an object", x->path, p.line,
                                p.column, i + 1);
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v) {
                bool ok = false;
                for (size_t k = 0; known[k]; k++)
                        ok |= !strcmp(known[k], key);
                Pos kp = key_pos(x->text, x->len, at, p, key);
                if (!ok)
                        return vg_error(x->err, -EINVAL, "%s:%u:%u: exception %zu: unknown key '%s' (known: id, "
                                        "domain, path, ticket, expires, reason)", x->path, kp.line, kp.column, i + 1,
                                        key);
                if (!json_is_string(v))
                        return vg_error(x->err, -EINVAL, "%s:%u:%u: exception %zu: '%s' must be a string", x->path,
                                        kp.line, kp.column, i + 1, key);
        }
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *ticket = json_string_value(json_object_get(o, "ticket"));
        const char *expires = json_string_value(json_object_get(o, "expires"));
        if (!id || !ticket || !*ticket)
                return vg_error(x->err, -EINVAL, "%s:%u:%u: exception %zu: needs an 'id' and a 'ticket' (an "
                                "exception is a decision someone owns)", x->path, p.line, p.column, i + 1);
        if (!assess_check_find(id)) {
                Pos kp = key_pos(x->text, x->len, at, p, "id");
                return vg_error(x->err, -EINVAL, "%s:%u:%u: exception %zu: no check '%s'", x->path, kp.line,
                                kp.column, i + 1, id);
        }
        int64_t until = 0;
        if (expires && vg_time_parse(expires, x->now_us, &until) < 0) {
                Pos kp = key_pos(x->text, x->len, at, p, "expires");
                return vg_error(x->err, -EINVAL, "%s:%u:%u: exception %zu: 'expires' is not a time: '%s' "
                                "(RFC 3339 or YYYY-MM-DD)", x->path, kp.line, kp.column, i + 1, expires);
        }
        if (expires && until <= x->now_us) {
                char *w;
                if (asprintf(&w, "%s:%u:%u: the exception of %s under ticket %s expired at %s: the check counts "
                             "again", x->path, p.line, p.column, id, ticket, expires) < 0)
                        w = NULL;
                return warn(e, w) < 0 ? vg_error(x->err, -ENOMEM, "out of memory") : 0;
        }
        if (vg_grow((void **) &e->v, &e->n, sizeof(*e->v)) < 0)
                return vg_error(x->err, -ENOMEM, "out of memory");
        AssessException *n = &e->v[e->n - 1];
        *n = (AssessException) { .id = strdup(id), .ticket = strdup(ticket),
                                 .domain_glob = vg_strdup0(json_string_value(json_object_get(o, "domain"))),
                                 .path_glob = vg_strdup0(json_string_value(json_object_get(o, "path"))),
                                 .reason = vg_strdup0(json_string_value(json_object_get(o, "reason"))),
                                 .expires_us = until, .line = p.line, .column = p.column };
        return n->id && n->ticket ? 0 : vg_error(x->err, -ENOMEM, "out of memory");
}

int assess_exceptions_parse(const char *text, size_t len, const char *path, int64_t now_us, AssessExceptions **ret,
                            VgError *err) {
        json_error_t jerr;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return vg_error(err, -EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        _cleanup_(assess_exceptions_freep) AssessExceptions *e = calloc(1, sizeof(*e));
        size_t n = json_is_array(root) ? json_array_size(root) : 0;
        Pos *pos = calloc(n + 1, sizeof(*pos));
        const char **at = calloc(n + 1, sizeof(*at));
        int r = 0;
        if (!e || !pos || !at || !(e->path = strdup(path)))
                r = vg_error(err, -ENOMEM, "out of memory");
        else if (!json_is_array(root))
                r = vg_error(err, -EINVAL, "%s:1:1: expected an array of exceptions", path);
        else {
                object_positions(text, len, pos, at, n);
                Parse x = { text, path, len, now_us, err };
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = parse_entry(&x, e, i, json_array_get(root, i), at[i],
                                        pos[i].line ? pos[i] : (Pos) { 1, 1 });
        }
        if (r == 0)
                *ret = TAKE_PTR(e);
        free(pos);
        free(at);
        json_decref(root);
        return r;
}

int assess_exceptions_load(const char *path, int64_t now_us, AssessExceptions **ret, VgError *err) {
        _cleanup_free_ char *t = NULL;
        size_t len;
        /* Run as root it must be root's alone: an exception silences a
         * finding. */
        int r = vg_read_trusted_file(path, EXCEPTIONS_MAX_BYTES, &t, &len, err);
        if (r == -EPERM)
                return r;
        if (r == -ENOENT)
                return vg_error(err, r, "%s: no such file", path);
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, strerror(-r));
        return assess_exceptions_parse(t, len, path, now_us, ret, err);
}

int assess_exceptions_load_paths(const AssessPaths *p, AssessExceptions **ret, VgError *err) {
        if (!p->root)
                return assess_exceptions_load(p->exceptions, p->now_us, ret, err);
        _cleanup_free_ char *t = NULL;
        size_t len;
        int r = assess_paths_read_file(p, p->exceptions, EXCEPTIONS_MAX_BYTES, &t, &len);
        if (r == -ENOENT)
                return vg_error(err, r, "%s: no such file", p->exceptions);
        if (r < 0)
                return vg_error(err, r, "%s: %s", p->exceptions, vg_read_error(r));
        return assess_exceptions_parse(t, len, p->exceptions, p->now_us, ret, err);
}

AssessExceptions *assess_exceptions_free(AssessExceptions *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n; i++) {
                free(e->v[i].id);
                free(e->v[i].domain_glob);
                free(e->v[i].path_glob);
                free(e->v[i].ticket);
                free(e->v[i].reason);
        }
        free(e->v);
        for (size_t i = 0; i < e->n_warnings; i++)
                free(e->warnings[i]);
        free(e->warnings);
        free(e->path);
        free(e);
        return NULL;
}
