/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts-priv.h"
#include "virtgov/host/accounts.h"
#include "virtgov/util/cleanup.h"

/* /etc/passwd of a large directory-less host is well under a MiB. */
#define ACCOUNTS_FILE_MAX (16 * 1024 * 1024)

/* ---- small helpers ---- */

static int push_str(char ***arr, size_t *n, const char *s) {
        char **a = realloc(*arr, (*n + 2) * sizeof(char *));
        if (!a)
                return -ENOMEM;
        *arr = a;
        if (!(a[*n] = strdup(s)))
                return -ENOMEM;
        a[++*n] = NULL;
        return 0;
}

/* Splits a line on ':' in place into at most max fields; returns the count. */
static size_t split_colon(char *line, char **fields, size_t max) {
        size_t n = 0;
        fields[n++] = line;
        for (char *p = line; *p && n < max; p++)
                if (*p == ':') {
                        *p = '\0';
                        fields[n++] = p + 1;
                }
        return n;
}

static bool parse_id(const char *s, uint32_t *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v > UINT32_MAX || s[0] == '-')
                return false;
        *ret = (uint32_t) v;
        return true;
}

/* Calls fn on every line of text (a copy, so fn may modify it). */
static int each_line(const char *text, int (*fn)(Accounts *, char *, void *), Accounts *a, void *u) {
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line[strcspn(line, "\r")] = '\0';
                int r = fn(a, line, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

Account *accounts_find(const Accounts *a, const char *name) {
        for (size_t i = 0; i < a->n_accounts; i++)
                if (!strcmp(a->accounts[i].name, name))
                        return &a->accounts[i];
        return NULL;
}

Group *accounts_find_group(const Accounts *a, const char *name) {
        for (size_t i = 0; i < a->n_groups; i++)
                if (!strcmp(a->groups[i].name, name))
                        return &a->groups[i];
        return NULL;
}

static bool has_str(char *const *arr, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (!strcmp(arr[i], s))
                        return true;
        return false;
}

/* ---- parsers ---- */

static int passwd_line(Accounts *a, char *line, void *u) {
        char *f[7];
        if (line[0] == '#' || line[0] == '+' || line[0] == '-' || split_colon(line, f, 7) != 7)
                return 0;
        uint32_t uid, gid;
        if (!*f[0] || !parse_id(f[2], &uid) || !parse_id(f[3], &gid) || accounts_find(a, f[0]))
                return 0;
        if (vg_grow((void **) &a->accounts, &a->n_accounts, sizeof(Account)) < 0)
                return -ENOMEM;
        Account *ac = &a->accounts[a->n_accounts - 1];
        ac->uid = uid;
        ac->gid = gid;
        ac->pw_status = '?';
        ac->pw_lastchg = -1;
        if (!(ac->name = strdup(f[0])) || !(ac->gecos = strdup(f[4])) || !(ac->home = strdup(f[5])) ||
            !(ac->shell = strdup(f[6])))
                return -ENOMEM;
        return 0;
}

int accounts_parse_passwd(Accounts *a, const char *text) {
        return each_line(text, passwd_line, a, NULL);
}

static int group_line(Accounts *a, char *line, void *u) {
        char *f[4];
        uint32_t gid;
        if (line[0] == '#' || line[0] == '+' || line[0] == '-' || split_colon(line, f, 4) != 4 ||
            !*f[0] || !parse_id(f[2], &gid) || accounts_find_group(a, f[0]))
                return 0;
        if (vg_grow((void **) &a->groups, &a->n_groups, sizeof(Group)) < 0)
                return -ENOMEM;
        Group *g = &a->groups[a->n_groups - 1];
        g->gid = gid;
        if (!(g->name = strdup(f[0])))
                return -ENOMEM;
        char *save = NULL;
        for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
                if (*m && !has_str(g->members, g->n_members, m) && push_str(&g->members, &g->n_members, m) < 0)
                        return -ENOMEM;
        return 0;
}

int accounts_parse_group(Accounts *a, const char *text) {
        return each_line(text, group_line, a, NULL);
}

/* FNV-1a over key and hash: not a cryptographic digest, and it need not be:
 * it lives in memory only, to notice that a hash changed. */
static uint64_t digest(uint64_t key, const char *s) {
        uint64_t h = 1469598103934665603ULL ^ key;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                h ^= *p;
                h *= 1099511628211ULL;
        }
        return h ? h : 1;
}

static int shadow_line(Accounts *a, char *line, void *u) {
        char *f[9];
        if (split_colon(line, f, 9) < 3)
                return 0;
        Account *ac = accounts_find(a, f[0]);
        if (!ac)
                return 0;
        const char *hash = f[1];
        ac->pw_status = !*hash ? 'N' : (hash[0] == '!' || hash[0] == '*') ? 'L' : 'P';
        char *end;
        long lc = strtol(f[2], &end, 10);
        ac->pw_lastchg = *f[2] && !*end ? lc : -1;
        ac->pw_digest = digest(*(uint64_t *) u, hash);
        /* Wipe our copy of the hash: it is not kept anywhere. */
        memset(f[1], 0, strlen(f[1]));
        return 0;
}

int accounts_parse_shadow(Accounts *a, const char *text, uint64_t digest_key) {
        return each_line(text, shadow_line, a, &digest_key);
}

/* sudoers: comments go, "\" continuations join, blanks collapse. "#include"
 * and "#includedir" are directives, not comments; "#1000" as a user is a uid
 * only after the first word, so a leading '#' followed by "include" is kept. */
int accounts_parse_sudoers(Accounts *a, const char *path, const char *text) {
        if (vg_grow((void **) &a->sudoers, &a->n_sudoers, sizeof(SudoersFile)) < 0)
                return -ENOMEM;
        SudoersFile *sf = &a->sudoers[a->n_sudoers - 1];
        if (!(sf->path = strdup(path)))
                return -ENOMEM;

        _cleanup_free_ char *joined = malloc(strlen(text) + 1);
        if (!joined)
                return -ENOMEM;
        /* join continuation lines */
        char *o = joined;
        for (const char *p = text; *p; p++) {
                if (p[0] == '\\' && p[1] == '\n') {
                        *o++ = ' ';
                        p++;
                } else
                        *o++ = *p;
        }
        *o = '\0';

        char *save = NULL;
        for (char *line = strtok_r(joined, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                while (*line == ' ' || *line == '\t')
                        line++;
                if (line[0] == '#' && strncmp(line, "#include", 8))
                        continue;
                /* collapse runs of blanks so that re-indenting is no change */
                char *w = line;
                bool blank = false;
                for (char *r = line; *r; r++) {
                        bool b = *r == ' ' || *r == '\t' || *r == '\r';
                        if (b && blank)
                                continue;
                        *w++ = b ? ' ' : *r;
                        blank = b;
                }
                while (w > line && w[-1] == ' ')
                        w--;
                *w = '\0';
                if (*line && push_str(&sf->lines, &sf->n_lines, line) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The host's files, as they are (accounts_read). */
static int host_read(void *u, const char *path, size_t max, char **ret) {
        return vg_read_file(path, max, ret, NULL);
}

static int host_list(void *u, const char *dir, char ***ret, size_t *ret_n) {
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return -errno;
        char **v = calloc((size_t) n + 1, sizeof(char *));
        int r = v ? 0 : -ENOMEM;
        for (int i = 0; i < n; i++) {
                if (r == 0 && !(v[i] = strdup(names[i]->d_name)))
                        r = -ENOMEM;
                free(names[i]);
        }
        free(names);
        if (r < 0) {
                for (int i = 0; v && i < n; i++)
                        free(v[i]);
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = (size_t) n;
        return 0;
}

static const AccountsIo host_io = { .read = host_read, .list = host_list };

static int read_one(const AccountsIo *io, const char *etc, const char *name, bool required, char **ret,
                    VgError *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", etc, name) < 0)
                return -ENOMEM;
        int r = io->read(io->userdata, path, ACCOUNTS_FILE_MAX, ret);
        /* shadow and sudoers are root's: a reader without them still gets
         * accounts, groups and privileges from group membership. */
        if ((r == -ENOENT || r == -EACCES) && !required) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, vg_read_error(r));
        return 0;
}

static int read_sudoers_d(const AccountsIo *io, Accounts *a, const char *etc, VgError *err) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/sudoers.d", etc) < 0)
                return -ENOMEM;
        char **names = NULL;
        size_t n = 0;
        if (io->list(io->userdata, dir, &names, &n) < 0)
                return 0;
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                const char *nm = names[i];
                /* sudo skips names with a '.' or ending in '~' */
                if (r == 0 && !strchr(nm, '.') && nm[strlen(nm) - 1] != '~') {
                        _cleanup_free_ char *rel = NULL, *text = NULL;
                        if (asprintf(&rel, "sudoers.d/%s", nm) < 0)
                                r = -ENOMEM;
                        else if ((r = read_one(io, etc, rel, false, &text, err)) == 0 && text)
                                r = accounts_parse_sudoers(a, rel, text);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int accounts_read(const char *etc, uint64_t key, Accounts **ret, VgError *err) {
        return accounts_read_via(&host_io, etc, key, ret, err);
}

int accounts_read_via(const AccountsIo *io, const char *etc, uint64_t key, Accounts **ret, VgError *err) {
        _cleanup_(accounts_freep) Accounts *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        static const char *const files[] = { "passwd", "group", "shadow", "sudoers" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                int r = read_one(io, etc, files[i], i < 2, &text, err);
                if (r < 0)
                        return r;
                if (!text)
                        continue;
                r = i == 0 ? accounts_parse_passwd(a, text)
                  : i == 1 ? accounts_parse_group(a, text)
                  : i == 2 ? accounts_parse_shadow(a, text, key)
                  : accounts_parse_sudoers(a, files[i], text);
                explicit_bzero(text, strlen(text));
                if (r < 0)
                        return vg_error(err, r, "out of memory");
        }
        int r = read_sudoers_d(io, a, etc, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

Accounts *accounts_free(Accounts *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n_accounts; i++) {
                free(a->accounts[i].name); free(a->accounts[i].gecos);
                free(a->accounts[i].home); free(a->accounts[i].shell);
        }
        free(a->accounts);
        for (size_t i = 0; i < a->n_groups; i++) {
                free(a->groups[i].name);
                for (size_t j = 0; j < a->groups[i].n_members; j++)
                        free(a->groups[i].members[j]);
                free(a->groups[i].members);
        }
        free(a->groups);
        for (size_t i = 0; i < a->n_sudoers; i++) {
                free(a->sudoers[i].path);
                for (size_t j = 0; j < a->sudoers[i].n_lines; j++)
                        free(a->sudoers[i].lines[j]);
                free(a->sudoers[i].lines);
        }
        free(a->sudoers);
        free(a);
        return NULL;
}
