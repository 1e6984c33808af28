/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's status file (deb822 stanzas) and its diversions file. Only the
 * fields the checker needs are kept: Package, Architecture, Multi-Arch,
 * Version, Status and Conffiles; the rest (Description is most of the
 * bytes) is passed over. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dpkg-priv.h"

/* A slice of the buffer: the text is not NUL-terminated and may be any
 * bytes, so it is copied out only once it has passed its checks. */
typedef struct Slice {
        const char *p;
        size_t n;
} Slice;

typedef struct Stanza {
        size_t line;                  /* of its first field, for messages */
        Slice package, arch, multiarch, version, status;
        DpkgConffile *conffiles;
        size_t n_conffiles;
        bool in_conffiles;            /* continuation lines belong to Conffiles */
} Stanza;

static Slice trim(const char *p, size_t n) {
        while (n && (*p == ' ' || *p == '\t'))
                p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
        return (Slice) { p, n };
}

static bool slice_is(Slice s, const char *word) {
        return s.n == strlen(word) && !strncasecmp(s.p, word, s.n);
}

static void stanza_reset(Stanza *st) {
        for (size_t i = 0; i < st->n_conffiles; i++)
                free(st->conffiles[i].path);
        free(st->conffiles);
        *st = (Stanza) { 0 };
}

static bool is_md5(Slice s) {
        if (s.n != 32)
                return false;
        for (size_t i = 0; i < 32; i++)
                if (!isxdigit((unsigned char) s.p[i]))
                        return false;
        return true;
}

/* " /etc/foo 0123...ef [obsolete] [remove-on-upgrade]": as dpkg does, the
 * flags and the hash are taken from the end, so a path may hold spaces. */
static int add_conffile(Dpkg *d, Stanza *st, Slice line, const char *name, size_t lineno) {
        Slice rest = trim(line.p, line.n), word;
        unsigned flags = 0;
        for (;;) {
                const char *sp = memrchr(rest.p, ' ', rest.n);
                if (!sp)
                        return dpkg_skip(d, name, lineno, "a conffile line without path and hash");
                word = (Slice) { sp + 1, (size_t) (rest.p + rest.n - sp - 1) };
                rest = trim(rest.p, (size_t) (sp - rest.p));
                if (slice_is(word, "obsolete"))
                        flags |= DPKG_CONFFILE_OBSOLETE;
                else if (slice_is(word, "remove-on-upgrade"))
                        flags |= DPKG_CONFFILE_REMOVE_ON_UPGRADE;
                else
                        break;
        }
        bool newconffile = slice_is(word, "newconffile");
        if ((!is_md5(word) && !newconffile) || rest.n == 0 || rest.p[0] != '/')
                return dpkg_skip(d, name, lineno, "a conffile line without an absolute path and an MD5");
        if (vg_grow((void **) &st->conffiles, &st->n_conffiles, sizeof(DpkgConffile)) < 0)
                return -ENOMEM;
        DpkgConffile *c = &st->conffiles[st->n_conffiles - 1];
        if (!(c->path = strndup(rest.p, rest.n)))
                return -ENOMEM;
        c->flags = flags;
        for (size_t i = 0; !newconffile && i < 32; i++)
                c->md5[i] = (char) tolower((unsigned char) word.p[i]);
        return 0;
}

static const char *package_key(const Dpkg *d, uint32_t i) {
        return d->packages[i].qname;
}

/* The third word of "install ok installed". */
static Slice status_word(Slice s) {
        for (int k = 0; k < 2; k++) {
                /* A stanza without Status has no text at all. */
                const char *sp = s.p ? memchr(s.p, ' ', s.n) : NULL;
                if (!sp)
                        return (Slice) { NULL, 0 };
                s = trim(sp + 1, (size_t) (s.p + s.n - sp - 1));
        }
        return s;
}

static bool plain_word(Slice s) {
        for (size_t i = 0; i < s.n; i++)
                if ((unsigned char) s.p[i] <= ' ' || s.p[i] == 0x7f)
                        return false;
        return s.n > 0 && s.n < 256;
}

static int stanza_commit(Dpkg *d, Stanza *st, const char *name) {
        if (!st->package.p)
                return dpkg_skip(d, name, st->line, "a stanza without Package");
        Slice state = status_word(st->status);
        if (!plain_word(st->package) || (st->arch.p && !plain_word(st->arch)) ||
            (st->version.p && !plain_word(st->version)) || !plain_word(state))
                return dpkg_skip(d, name, st->line, "a stanza whose Package, Architecture, Version or Status is "
                                 "missing, empty, too long or holds blanks");
        /* Not installed: dpkg keeps the stanza for its selections only. */
        if (slice_is(state, "not-installed"))
                return 0;
        if (vg_grow((void **) &d->packages, &d->n_packages, sizeof(DpkgPackage)) < 0)
                return -ENOMEM;
        DpkgPackage *p = &d->packages[d->n_packages - 1];
        p->multiarch_same = slice_is(st->multiarch, "same");
        if (!(p->name = strndup(st->package.p, st->package.n)) || !(p->state = strndup(state.p, state.n)) ||
            !(p->arch = strndup(st->arch.p ?: "", st->arch.n)) ||
            !(p->version = strndup(st->version.p ?: "", st->version.n)))
                return -ENOMEM;
        int n = *p->arch ? asprintf(&p->qname, "%s:%s", p->name, p->arch) : ((p->qname = strdup(p->name)) ? 0 : -1);
        if (n < 0) {
                p->qname = NULL;
                return -ENOMEM;
        }
        p->conffiles = TAKE_PTR(st->conffiles);
        p->n_conffiles = st->n_conffiles;
        st->n_conffiles = 0;
        if (dpkg_map_get(d, &d->package_map, p->qname) != DPKG_NONE) {
                dpkg_skip(d, name, st->line, "a second stanza for the same package");
                for (size_t i = 0; i < p->n_conffiles; i++)
                        free(p->conffiles[i].path);
                free(p->conffiles); free(p->name); free(p->state); free(p->arch); free(p->version); free(p->qname);
                d->n_packages--;
                return 0;
        }
        d->package_map.key = package_key;
        return dpkg_map_put(d, &d->package_map, (uint32_t) (d->n_packages - 1));
}

static int status_field(Dpkg *d, Stanza *st, const char *line, size_t len, const char *name, size_t lineno) {
        const char *colon = memchr(line, ':', len);
        if (!colon || colon == line)
                return dpkg_skip(d, name, lineno, "neither a field nor a continuation line");
        Slice key = { line, (size_t) (colon - line) };
        Slice value = trim(colon + 1, (size_t) (line + len - colon - 1));
        if (!st->line)
                st->line = lineno;
        st->in_conffiles = slice_is(key, "Conffiles");
        Slice *slot = slice_is(key, "Package") ? &st->package : slice_is(key, "Architecture") ? &st->arch
                    : slice_is(key, "Multi-Arch") ? &st->multiarch : slice_is(key, "Version") ? &st->version
                    : slice_is(key, "Status") ? &st->status : NULL;
        if (slot && slot->p)
                return dpkg_skip(d, name, lineno, "a field given twice in one stanza; the first is kept");
        if (slot)
                *slot = value;
        return 0;
}

int dpkg_parse_status(Dpkg *d, const char *buf, size_t len, const char *name) {
        Stanza st = { 0 };
        DpkgLines it = { buf, buf + len, 0 };
        const char *line;
        size_t n;
        bool nul;
        int r = 0;
        while (r == 0 && dpkg_next_line(&it, &line, &n, &nul)) {
                if (nul)
                        dpkg_skip(d, name, it.lineno, "a NUL byte");
                else if (n == 0) {
                        if (st.line)
                                r = stanza_commit(d, &st, name);
                        stanza_reset(&st);
                } else if (line[0] == ' ' || line[0] == '\t') {
                        if (st.in_conffiles)
                                r = add_conffile(d, &st, (Slice) { line, n }, name, it.lineno);
                        else if (!st.line)
                                dpkg_skip(d, name, it.lineno, "a continuation line outside a stanza");
                } else
                        r = status_field(d, &st, line, n, name, it.lineno);
        }
        if (r == 0 && st.line)
                r = stanza_commit(d, &st, name);
        stanza_reset(&st);
        return r;
}

static const char *divert_from_key(const Dpkg *d, uint32_t i) {
        return d->diversions[i].from;
}

static const char *divert_to_key(const Dpkg *d, uint32_t i) {
        return d->diversions[i].to;
}

/* 1 if added, 0 if the path was diverted already, or -ENOMEM. */
static int add_diversion(Dpkg *d, const Slice l[3], const char *name, size_t lineno) {
        DpkgDiversion v = { strndup(l[0].p, l[0].n), strndup(l[1].p, l[1].n), strndup(l[2].p, l[2].n) };
        int r = 1;
        if (!v.from || !v.to || !v.by)
                r = -ENOMEM;
        else if (dpkg_map_get(d, &d->divert_from, v.from) != DPKG_NONE ||
                 dpkg_map_get(d, &d->divert_to, v.to) != DPKG_NONE)
                r = dpkg_skip(d, name, lineno, "a path diverted twice");
        else if (vg_grow((void **) &d->diversions, &d->n_diversions, sizeof(DpkgDiversion)) < 0)
                r = -ENOMEM;
        if (r <= 0) {
                free(v.from); free(v.to); free(v.by);
                return r;
        }
        d->diversions[d->n_diversions - 1] = v;
        return 1;
}

/* Three lines per diversion: the path packages ship, where it goes, and
 * the diverting package (":" for the admin's own, dpkg-divert --local). */
int dpkg_parse_diversions(Dpkg *d, const char *buf, size_t len, const char *name) {
        DpkgLines it = { buf, buf + len, 0 };
        Slice l[3];
        size_t k = 0;
        bool nul;
        d->divert_from.key = divert_from_key;
        d->divert_to.key = divert_to_key;
        while (dpkg_next_line(&it, &l[k].p, &l[k].n, &nul)) {
                if (nul || l[k].n == 0 || (k < 2 && l[k].p[0] != '/')) {
                        /* The triples are positional: after a bad line the
                         * rest cannot be trusted to line up. */
                        dpkg_skip(d, name, it.lineno, "a diversion line that is empty, holds a NUL or is not "
                                  "an absolute path; the rest of the file is ignored");
                        return 0;
                }
                if (++k < 3)
                        continue;
                k = 0;
                int r = add_diversion(d, l, name, it.lineno);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                uint32_t i = (uint32_t) (d->n_diversions - 1);
                if (dpkg_map_put(d, &d->divert_from, i) < 0 || dpkg_map_put(d, &d->divert_to, i) < 0)
                        return -ENOMEM;
        }
        if (k != 0)
                dpkg_skip(d, name, it.lineno, "the last diversion has fewer than three lines");
        return 0;
}
