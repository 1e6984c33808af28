/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What integrity watches: profiles (the built-in isolation and host ones,
 * and profile files), their rules and the glob patterns that expand them,
 * the kernel modules loaded now, and which rule covers a path. Scanning
 * the files and comparing them is integrity/scan.c's.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nettle/sha2.h>

#include "virtgov/host/elfdeps.h"
#include "virtgov/integrity/integrity.h"
#include "virtgov/util/util.h"

#define MAX_PROFILE_BYTES (1 << 20)
#define MAX_MODULES_BYTES (16 << 20)

const char *const integrity_builtin_profiles[] = { "isolation", "host", NULL };

IntegrityProfile *integrity_profile_free(IntegrityProfile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++)
                free(p->rules[i].path);
        free(p->rules);
        free(p->name);
        free(p);
        return NULL;
}

static int rule_add(IntegrityProfile *p, const char *path, bool recurse, bool exclude, unsigned attrs) {
        char *copy = strdup(path);
        if (!copy || vg_grow((void **) &p->rules, &p->n_rules, sizeof(*p->rules)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        p->rules[p->n_rules - 1] = (IntegrityRule) { copy, recurse, exclude, attrs };
        return 0;
}

/* ---- glob patterns, each directory listed once per profile load ----
 * glob(3) listed /usr/lib/x86_64-linux-gnu's 1,674 entries, and opened
 * every directory of /usr/lib, again for each of the five patterns that
 * start "/usr/lib/" "*" "/": about half the syscalls of an isolation
 * check. */

typedef struct ListEntry {
        size_t name;              /* offset in Listing.names */
        unsigned char type;       /* d_type */
} ListEntry;

/* The names one after another in one buffer: a copy of each was 1M of
 * an isolation check's instructions. */
typedef struct Listing {
        char *dir;
        char *names;
        size_t len, cap;
        ListEntry *v;
        size_t n;
} Listing;

static void listing_clear(Listing *l) {
        free(l->dir);
        free(l->names);
        free(l->v);
}

typedef struct Lister {
        Listing *v;
        size_t n;
} Lister;

static void lister_clear(Lister *ls) {
        for (size_t i = 0; i < ls->n; i++)
                listing_clear(&ls->v[i]);
        free(ls->v);
        *ls = (Lister) { 0 };
}

/* dir's entries, read on first use (one that cannot be read: none), as
 * an index into ls->v: a pointer would not survive the next listing
 * added (the array moves). */
static int lister_get(Lister *ls, const char *dir, size_t *ret) {
        for (size_t i = 0; i < ls->n; i++)
                if (!strcmp(ls->v[i].dir, dir)) {
                        *ret = i;
                        return 0;
                }
        Listing l = { .dir = strdup(dir) };
        int r = l.dir ? 0 : -ENOMEM;
        DIR *d = r == 0 ? opendir(dir) : NULL;
        for (struct dirent *de; d && r == 0 && (de = readdir(d));) {
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                size_t k = strlen(de->d_name) + 1;
                if (l.len + k > l.cap) {
                        size_t cap = l.cap ? 2 * l.cap : 4096;
                        char *b = cap >= l.len + k ? realloc(l.names, cap) : NULL;
                        if (!b) {
                                r = -ENOMEM;
                                break;
                        }
                        l.names = b;
                        l.cap = cap;
                }
                if (vg_grow((void **) &l.v, &l.n, sizeof(*l.v)) < 0) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(l.names + l.len, de->d_name, k);
                l.v[l.n - 1] = (ListEntry) { l.len, de->d_type };
                l.len += k;
        }
        if (d)
                closedir(d);
        if (r == 0 && vg_grow((void **) &ls->v, &ls->n, sizeof(*ls->v)) < 0)
                r = -ENOMEM;
        if (r < 0) {
                listing_clear(&l);
                return r;
        }
        ls->v[ls->n - 1] = l;
        *ret = ls->n - 1;
        return 0;
}

typedef int (*GlobFound)(const char *path, void *u);

static bool magic(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] == '*' || s[i] == '?' || s[i] == '[')
                        return true;
        return false;
}

/* The paths under base (path[0..len)) that rest matches, as glob(3)
 * without GLOB_PERIOD: a component with *, ? or [ is matched against its
 * directory's listing (a leading dot only by a dot), one without taken as
 * written; a match must exist (a dangling symlink does). */
static int expand(Lister *ls, char path[PATH_MAX], size_t len, const char *rest, GlobFound found, void *u) {
        rest += strspn(rest, "/");
        if (!*rest) {
                struct stat st;
                return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 ? found(path, u) : 0;
        }
        size_t n = strcspn(rest, "/");
        const char *next = rest + n;
        bool last = !next[strspn(next, "/")];
        if (!magic(rest, n)) {
                if (len + 1 + n >= PATH_MAX)
                        return 0;
                path[len] = '/';
                memcpy(path + len + 1, rest, n);
                path[len + 1 + n] = '\0';
                int r = expand(ls, path, len + 1 + n, next, found, u);
                path[len] = '\0';
                return r;
        }
        char comp[NAME_MAX + 1];
        if (n > NAME_MAX)
                return 0;
        memcpy(comp, rest, n);
        comp[n] = '\0';
        /* What precedes the first magic character is literal (unless a
         * backslash is in it): names without it are not fnmatch'ed, 1,674
         * of them in /usr/lib/x86_64-linux-gnu. */
        size_t lit = strcspn(comp, "*?[\\");
        size_t at;
        int r = lister_get(ls, len ? path : "/", &at);
        /* ls->v moves as expand() below lists more: through at, each time. */
        for (size_t i = 0; r == 0 && i < ls->v[at].n; i++) {
                const ListEntry *e = &ls->v[at].v[i];
                const char *name = ls->v[at].names + e->name;
                if (strncmp(name, comp, lit))
                        continue;
                size_t k = strlen(name);
                if (fnmatch(comp, name, FNM_PERIOD) != 0 || len + 1 + k >= PATH_MAX)
                        continue;
                /* Beneath it: a directory, or what may be one. */
                if (!last && e->type != DT_DIR && e->type != DT_LNK && e->type != DT_UNKNOWN)
                        continue;
                path[len] = '/';
                memcpy(path + len + 1, name, k + 1);
                r = last ? found(path, u) : expand(ls, path, len + 1 + k, next, found, u);
                path[len] = '\0';
        }
        return r;
}

/* Each path pattern names (glob(3)'s answer, unsorted); a pattern
 * without magic is itself, unlooked at. 0, or what found returned. */
static int glob_each(Lister *ls, const char *pattern, GlobFound found, void *u) {
        if (!magic(pattern, strlen(pattern)))
                return found(pattern, u);
        char path[PATH_MAX] = "";
        return expand(ls, path, 0, pattern, found, u);
}

typedef struct GlobRule {
        IntegrityProfile *p;
        bool recurse;
        unsigned attrs;
} GlobRule;

static int glob_rule(const char *path, void *u) {
        GlobRule *g = u;
        return rule_add(g->p, path, g->recurse, false, g->attrs);
}

/* Each path a glob matches (none: the pattern itself, so that a file that
 * appears later is drift, not silence; a pattern with magic that matches
 * nothing: nothing). */
static int rule_glob(Lister *ls, IntegrityProfile *p, const char *pattern, bool recurse, unsigned attrs) {
        GlobRule g = { p, recurse, attrs };
        return glob_each(ls, pattern, glob_rule, &g);
}

static bool name_valid(const char *name) {
        if (!*name || strlen(name) > 64)
                return false;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
                        return false;
        return true;
}

static IntegrityProfile *profile_new(const char *name) {
        IntegrityProfile *p = calloc(1, sizeof(*p));
        if (p && !(p->name = strdup(name)))
                p = integrity_profile_free(p);
        return p;
}

/* ---- profile files ---- */

/* "all", "owner", or a comma list of fscan_attr_name names. */
static int parse_attrs(const char *word, unsigned *ret) {
        if (!strcmp(word, "all")) {
                *ret = FSCAN_ALL;
                return 0;
        }
        if (!strcmp(word, "owner")) {
                *ret = FSCAN_OWNER_ONLY;
                return 0;
        }
        unsigned attrs = 0;
        for (const char *w = word; *w;) {
                size_t n = strcspn(w, ",");
                unsigned bit = 0;
                for (unsigned b = 1; b <= FSCAN_SHA256 && !bit; b <<= 1) {
                        const char *name = fscan_attr_name(b);
                        if (name && strlen(name) == n && !strncmp(w, name, n))
                                bit = b;
                }
                if (!bit)
                        return -EINVAL;
                attrs |= bit;
                w += n + (w[n] == ',');
        }
        *ret = attrs | FSCAN_TYPE;   /* what a file is always counts */
        return attrs ? 0 : -EINVAL;
}

int integrity_profile_parse(const char *name, const char *text, size_t len, const char *file,
                            IntegrityProfile **ret, VgError *err) {
        _cleanup_(integrity_profile_freep) IntegrityProfile *p = profile_new(name);
        if (!p)
                return vg_error(err, -ENOMEM, "out of memory");
        unsigned line = 0;
        for (const char *s = text, *end = text + len; s < end; line++) {
                const char *nl = memchr(s, '\n', (size_t) (end - s));
                size_t n = nl ? (size_t) (nl - s) : (size_t) (end - s);
                char buf[4096 + 64];
                if (n >= sizeof(buf))
                        return vg_error(err, -EINVAL, "%s:%u: line too long", file, line + 1);
                memcpy(buf, s, n);
                buf[n] = '\0';
                s += n + 1;
                if (memchr(buf, '\0', n))
                        return vg_error(err, -EINVAL, "%s:%u: a NUL byte", file, line + 1);
                char *hash = strchr(buf, '#');
                if (hash)
                        *hash = '\0';
                char *save = NULL, *path = strtok_r(buf, " \t\r", &save), *attrs = strtok_r(NULL, " \t\r", &save);
                if (!path)
                        continue;
                if (strtok_r(NULL, " \t\r", &save))
                        return vg_error(err, -EINVAL, "%s:%u: expected 'PATH [ATTRIBUTES]'", file, line + 1);
                bool exclude = *path == '!', only = *path == '=';
                path += exclude || only;
                if (*path != '/')
                        return vg_error(err, -EINVAL, "%s:%u:%zu: '%s' is not an absolute path", file, line + 1,
                                        (size_t) (path - buf) + 1, path);
                unsigned a = FSCAN_ALL;
                if (attrs && (exclude || parse_attrs(attrs, &a) < 0))
                        return vg_error(err, -EINVAL, "%s:%u:%zu: '%s': %s", file, line + 1, (size_t) (attrs - buf) + 1,
                                        attrs, exclude ? "an excluded path takes no attributes"
                                        : "expected 'all', 'owner' or a comma list of type, mode, uid, gid, size, "
                                          "inode, mtime, ctime, target, xattrs, sha256");
                if (rule_add(p, path, !only, exclude, a) < 0)
                        return vg_error(err, -ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- the built-in profiles ---- */

/* Where QEMU, its firmware, libvirt and its config live on Debian. Globs
 * are expanded when the profile is loaded. */
static const char *const isolation_paths[] = {
        "/usr/bin/qemu-system-*", "/usr/bin/qemu-img", "/usr/bin/qemu-nbd", "/usr/lib/qemu", "/usr/lib/*/qemu",
        "/usr/libexec/qemu-bridge-helper",
        "/usr/share/qemu", "/usr/share/seabios", "/usr/share/OVMF", "/usr/lib/ipxe/qemu",
        "/usr/sbin/libvirtd", "/usr/sbin/virtqemud", "/usr/sbin/virtlogd", "/usr/sbin/virtlockd",
        "/usr/sbin/virtnetworkd", "/usr/sbin/virtproxyd", "/usr/lib/*/libvirt", "/usr/lib/*/libvirt.so*",
        "/usr/lib/*/libvirt-qemu.so*",
        "/etc/libvirt",
        "/usr/lib/systemd/system/libvirt*", "/usr/lib/systemd/system/virt*", "/etc/systemd/system/libvirt*",
        "/etc/systemd/system/virt*",
        "/usr/share/polkit-1/rules.d", "/etc/polkit-1/rules.d", "/usr/share/polkit-1/actions/org.libvirt.*",
        /* the name service modules every daemon loads to look a user up,
         * and the locale data and charset cache they map */
        "/etc/nsswitch.conf", "/usr/lib/*/libnss_*.so*", "/usr/lib/locale/C.utf8",
        "/usr/lib/*/gconv/gconv-modules.cache",
        NULL,
};

/* AIDE's default selection, roughly. */
static const char *const host_paths[] = { "/usr/bin", "/usr/sbin", "/usr/lib", "/etc", NULL };

/* What the dynamic loader reads for every program (a preloaded library
 * runs in every QEMU) and where it finds libraries besides the ones
 * elfdeps names: glibc also searches glibc-hwcaps/ and tls/ beneath each
 * library directory, where a planted copy would win. */
static const char *const loader_paths[] = {
        "/etc/ld.so.preload", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
        "/usr/lib/*/glibc-hwcaps", "/usr/lib/*/tls", NULL,
};

/* The programs whose shared libraries are watched too: QEMU and the
 * daemons that run it. */
static const char *const programs[] = {
        "/usr/bin/qemu-system-*", "/usr/sbin/libvirtd", "/usr/sbin/virtqemud", "/usr/sbin/virtlogd",
        "/usr/sbin/virtlockd", "/usr/sbin/virtnetworkd",
        /* and what they load at run time: libvirt's drivers (libxen*,
         * libdevmapper, libpcap come in through them) and QEMU's
         * accelerators, which every guest maps */
        "/usr/lib/*/libvirt/connection-driver/*.so", "/usr/lib/*/libvirt/storage-backend/*.so",
        "/usr/lib/*/libvirt/storage-file/*.so", "/usr/lib/*/libvirt/lock-driver/*.so", "/usr/lib/*/qemu/accel-*.so",
        NULL,
};

static int add_list(Lister *ls, IntegrityProfile *p, const char *const *paths, unsigned attrs);

/* The libraries that program loads, as ld.so would find them (elfdeps.h:
 * read from its ELF headers, never by running it), each as the loader
 * opens it (a symlink, usually) and as the file it resolves to. A
 * program that is not ELF (a script) or not there adds nothing: the
 * program's own rule shows it. */
static int add_libraries(IntegrityProfile *p, ElfdepsMemo *memo, const char *program) {
        _cleanup_(elfdeps_list_freep) ElfdepsList *l = NULL;
        ElfdepsOptions opt = { .memo = memo };
        if (elfdeps_resolve(program, &opt, &l, NULL) < 0)
                return 0;
        int r = 0;
        for (size_t i = 0; r == 0 && i < l->n; i++) {
                const ElfdepsEntry *e = &l->entries[i];
                if (e->status != ELFDEPS_FOUND)
                        continue;
                r = rule_add(p, e->path, false, false, FSCAN_ALL);
                if (r == 0 && e->realpath && strcmp(e->realpath, e->path))
                        r = rule_add(p, e->realpath, false, false, FSCAN_ALL);
        }
        return r;
}

typedef struct Programs {
        IntegrityProfile *p;
        ElfdepsMemo *memo;
} Programs;

static int program_found(const char *path, void *u) {
        Programs *pr = u;
        return add_libraries(pr->p, pr->memo, path);
}

/* The programs share most of their libraries: one memo for them all
 * opens and parses each once (libc.so.6 was read ten times). */
static int add_program_libraries(Lister *ls, IntegrityProfile *p, ElfdepsMemo *memo, const char *const *patterns) {
        Programs pr = { p, memo };
        int r = 0;
        for (size_t i = 0; r == 0 && patterns && patterns[i]; i++)
                r = glob_each(ls, patterns[i], program_found, &pr);
        return r;
}

static int add_list(Lister *ls, IntegrityProfile *p, const char *const *paths, unsigned attrs) {
        int r = 0;
        for (size_t i = 0; r == 0 && paths && paths[i]; i++)
                r = rule_glob(ls, p, paths[i], true, attrs);
        return r;
}

/* The programs' libraries, on a thread of their own while the paths are
 * globbed (13 and 7 ms of an isolation load, both waiting on the kernel),
 * into rules of their own that are then appended where they stood. */
typedef struct Libraries {
        IntegrityProfile p;
        const IntegrityContext *ctx;
        int r;
} Libraries;

static void *libraries_job(void *u) {
        Libraries *j = u;
        Lister ls = { 0 };
        _cleanup_(elfdeps_memo_freep) ElfdepsMemo *memo = elfdeps_memo_new();
        j->r = memo ? add_program_libraries(&ls, &j->p, memo, programs) : -ENOMEM;
        if (j->r == 0)
                j->r = add_program_libraries(&ls, &j->p, memo, j->ctx ? j->ctx->domain_paths : NULL);
        lister_clear(&ls);
        return NULL;
}

static int isolation(IntegrityProfile *p, const IntegrityContext *ctx, VgError *err) {
        Lister ls = { 0 };
        Libraries libs = { .ctx = ctx };
        pthread_t t;
        bool threaded = pthread_create(&t, NULL, libraries_job, &libs) == 0;
        if (!threaded)
                libraries_job(&libs);
        int r = add_list(&ls, p, isolation_paths, FSCAN_ALL);
        if (r == 0)
                r = add_list(&ls, p, loader_paths, FSCAN_ALL);
        if (r == 0)
                r = add_list(&ls, p, ctx ? ctx->domain_paths : NULL, FSCAN_ALL);
        if (threaded)
                pthread_join(t, NULL);
        r = r < 0 ? r : libs.r;
        for (size_t i = 0; i < libs.p.n_rules; i++)
                if (r < 0 || (r = vg_grow((void **) &p->rules, &p->n_rules, sizeof(*p->rules))) < 0)
                        free(libs.p.rules[i].path);
                else
                        p->rules[p->n_rules - 1] = libs.p.rules[i];
        free(libs.p.rules);
        if (r == 0)
                r = add_list(&ls, p, ctx ? ctx->own_paths : NULL, FSCAN_ALL);
        /* Guests write their nvram: that it exists and whose it is counts. */
        if (r == 0)
                r = add_list(&ls, p, ctx ? ctx->nvram_paths : NULL, FSCAN_OWNER_ONLY);
        lister_clear(&ls);
        if (r < 0)
                return vg_error(err, r, "out of memory");
        char **mods = NULL;
        size_t n = 0;
        if ((r = integrity_loaded_modules(ctx, &mods, &n, err)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (r == 0)
                        r = rule_add(p, mods[i], false, false, FSCAN_ALL);
                free(mods[i]);
        }
        free(mods);
        const char *kernel = ctx ? ctx->kernel_image : NULL;
        if (r == 0 && kernel)
                r = rule_add(p, kernel, false, false, FSCAN_ALL);
        return r < 0 ? vg_error(err, r, "out of memory") : 0;
}

int integrity_profile_load(const char *name, const char *dir, const IntegrityContext *ctx,
                           IntegrityProfile **ret, VgError *err) {
        if (!name_valid(name))
                return vg_error(err, -EINVAL, "'%s' is not a profile name: [a-z0-9_-], at most 64", name);
        if (!strcmp(name, "isolation") || !strcmp(name, "host")) {
                _cleanup_(integrity_profile_freep) IntegrityProfile *p = profile_new(name);
                if (!p)
                        return vg_error(err, -ENOMEM, "out of memory");
                Lister ls = { 0 };
                int r = !strcmp(name, "host") ? add_list(&ls, p, host_paths, FSCAN_ALL) : isolation(p, ctx, err);
                lister_clear(&ls);
                if (r < 0)
                        return r == -ENOMEM ? vg_error(err, r, "out of memory") : r;
                *ret = TAKE_PTR(p);
                return 0;
        }
        _cleanup_free_ char *file = NULL, *text = NULL;
        size_t len;
        if (asprintf(&file, "%s/%s.profile", dir, name) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        int r = vg_read_trusted_file(file, MAX_PROFILE_BYTES, &text, &len, err);
        if (r == -ENOENT)
                return vg_error(err, r, "no profile '%s': neither built in (isolation, host) nor '%s'", name, file);
        if (r < 0)
                return err && err->text[0] ? r : vg_error(err, r, "profile '%s': %s", file, strerror(-r));
        return integrity_profile_parse(name, text, len, file, ret, err);
}

/* ---- kernel modules ---- */

/* Virtualization modules: what the isolation of guests rests on. */
static bool virt_module(const char *m) {
        static const char *const prefixes[] = { "kvm", "vhost", "vfio", "irqbypass", "tun", "tap", "macvtap",
                                                "macvlan", "bridge", "veth", "nbd", "kvmgt", "mdev" };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (!strncmp(m, prefixes[i], strlen(prefixes[i])))
                        return true;
        return false;
}

/* modules.dep names a module's file by its name with '-' and '_' alike. */
static bool same_module(const char *file, size_t n, const char *name) {
        const char *base = memrchr(file, '/', n);
        base = base ? base + 1 : file;
        size_t k = 0;
        for (; name[k] && base + k < file + n; k++) {
                char a = base[k] == '-' ? '_' : base[k], b = name[k] == '-' ? '_' : name[k];
                if (a != b)
                        return false;
        }
        return !name[k] && base + k + 3 <= file + n && !strncmp(base + k, ".ko", 3);
}

static int push(char ***paths, size_t *n, char *p) {
        if (!p || vg_grow((void **) paths, n, sizeof(char *)) < 0) {
                free(p);
                return -ENOMEM;
        }
        (*paths)[*n - 1] = p;
        return 0;
}

int integrity_loaded_modules(const IntegrityContext *ctx, char ***paths, size_t *n, VgError *err) {
        const char *procmod = ctx && ctx->proc_modules ? ctx->proc_modules : "/proc/modules";
        const char *dir = ctx ? ctx->modules_dir : NULL;
        _cleanup_free_ char *mods = NULL, *dep = NULL, *deppath = NULL;
        int r = vg_read_file(procmod, MAX_MODULES_BYTES, &mods, NULL);
        if (r == -ENOENT)
                return 0;   /* a kernel built without modules */
        if (r < 0)
                return vg_error(err, r, "%s: %s", procmod, strerror(-r));
        if (!dir)
                return 0;
        if (asprintf(&deppath, "%s/modules.dep", dir) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        if ((r = vg_read_file(deppath, MAX_MODULES_BYTES, &dep, NULL)) < 0 && r != -ENOENT)
                return vg_error(err, r, "%s: %s", deppath, strerror(-r));
        char *save = NULL;
        for (char *line = strtok_r(mods, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line[strcspn(line, " ")] = '\0';
                if (!virt_module(line))
                        continue;
                char *found = NULL;
                /* modules.dep: "kernel/arch/x86/kvm/kvm.ko.xz: deps..." */
                for (const char *d = dep; d && *d && !found;) {
                        size_t len = strcspn(d, ":\n");
                        if (d[len] == ':' && same_module(d, len, line) && asprintf(&found, "%s/%.*s", dir, (int) len, d) < 0)
                                return vg_error(err, -ENOMEM, "out of memory");
                        d = strchr(d, '\n');
                        d = d ? d + 1 : NULL;
                }
                if (!found && asprintf(&found, "%s/%s.ko", dir, line) < 0)
                        return vg_error(err, -ENOMEM, "out of memory");
                if (push(paths, n, found) < 0)
                        return vg_error(err, -ENOMEM, "out of memory");
        }
        return 0;
}

static bool covers(const IntegrityRule *rule, const char *path) {
        size_t n = strlen(rule->path);
        if (strncmp(path, rule->path, n))
                return false;
        return !path[n] || ((rule->recurse || rule->exclude) && (path[n] == '/' || rule->path[n - 1] == '/'));
}

const IntegrityRule *integrity_rule_for(IntegrityProfile *const *profiles, size_t n, const char *path,
                                        const char **ret_profile) {
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < profiles[i]->n_rules; j++)
                        if (profiles[i]->rules[j].exclude && covers(&profiles[i]->rules[j], path))
                                return NULL;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < profiles[i]->n_rules; j++)
                        if (!profiles[i]->rules[j].exclude && covers(&profiles[i]->rules[j], path)) {
                                *ret_profile = profiles[i]->name;
                                return &profiles[i]->rules[j];
                        }
        return NULL;
}
