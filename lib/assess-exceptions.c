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

#include "assess-priv.h"

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

static int parse_time(const char *s, int64_t now, int64_t *ret) {
        return vg_time_parse(s, now, ret);
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
        if (!e || !pos || !at || !(e->path = strdup(path))) {
                r = vg_error(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (!json_is_array(root)) {
                r = vg_error(err, -EINVAL, "%s:1:1: expected an array of exceptions", path);
                goto out;
        }
        object_positions(text, len, pos, at, n);
        static const char *const known[] = { "id", "domain", "path", "ticket", "expires", "reason", NULL };
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(root, i);
                Pos p = pos[i].line ? pos[i] : (Pos) { 1, 1 };
                if (!json_is_object(o)) {
                        r = vg_error(err, -EINVAL, "%s:%u:%u: exception %zu: expected an object", path, p.line,
                                     p.column, i + 1);
                        goto out;
                }
                const char *key;
                json_t *v;
                json_object_foreach(o, key, v) {
                        bool ok = false;
                        for (size_t k = 0; known[k]; k++)
                                ok |= !strcmp(known[k], key);
                        Pos kp = key_pos(text, len, at[i], p, key);
                        if (!ok) {
                                r = vg_error(err, -EINVAL, "%s:%u:%u: exception %zu: unknown key '%s' (known: id, "
                                             "domain, path, ticket, expires, reason)", path, kp.line, kp.column, i + 1,
                                             key);
                                goto out;
                        }
                        if (!json_is_string(v)) {
                                r = vg_error(err, -EINVAL, "%s:%u:%u: exception %zu: '%s' must be a string", path,
                                             kp.line, kp.column, i + 1, key);
                                goto out;
                        }
                }
                const char *id = json_string_value(json_object_get(o, "id"));
                const char *ticket = json_string_value(json_object_get(o, "ticket"));
                const char *expires = json_string_value(json_object_get(o, "expires"));
                if (!id || !ticket || !*ticket) {
                        r = vg_error(err, -EINVAL, "%s:%u:%u: exception %zu: needs an 'id' and a 'ticket' (an "
                                     "exception is a decision someone owns)", path, p.line, p.column, i + 1);
                        goto out;
                }
                if (!assess_check_find(id)) {
                        Pos kp = key_pos(text, len, at[i], p, "id");
                        r = vg_error(err, -EINVAL, "%s:%u:%u: exception %zu: no check '%s'", path, kp.line,
                                     kp.column, i + 1, id);
                        goto out;
                }
                int64_t until = 0;
                if (expires && parse_time(expires, now_us, &until) < 0) {
                        Pos kp = key_pos(text, len, at[i], p, "expires");
                        r = vg_error(err, -EINVAL, "%s:%u:%u: exception %zu: 'expires' is not a time: '%s' "
                                     "(RFC 3339 or YYYY-MM-DD)", path, kp.line, kp.column, i + 1, expires);
                        goto out;
                }
                if (expires && until <= now_us) {
                        char *w;
                        if (asprintf(&w, "%s:%u:%u: the exception of %s under ticket %s expired at %s: the check "
                                     "counts again", path, p.line, p.column, id, ticket, expires) < 0 ||
                            vg_grow((void **) &e->warnings, &e->n_warnings, sizeof(char *)) < 0) {
                                r = vg_error(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                        e->warnings[e->n_warnings - 1] = w;
                        continue;
                }
                if (vg_grow((void **) &e->v, &e->n, sizeof(*e->v)) < 0) {
                        r = vg_error(err, -ENOMEM, "out of memory");
                        goto out;
                }
                AssessException *x = &e->v[e->n - 1];
                x->id = strdup(id);
                x->ticket = strdup(ticket);
                x->domain_glob = vg_strdup0(json_string_value(json_object_get(o, "domain")));
                x->path_glob = vg_strdup0(json_string_value(json_object_get(o, "path")));
                x->reason = vg_strdup0(json_string_value(json_object_get(o, "reason")));
                x->expires_us = until;
                x->line = p.line;
                x->column = p.column;
                if (!x->id || !x->ticket) {
                        r = vg_error(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
        *ret = TAKE_PTR(e);
out:
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
