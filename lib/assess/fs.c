/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one way the assessment reaches a file. Under --root the tree is a
 * copy of another host's files, and whatever is in it (an absolute
 * symlink qemu.conf -> /etc/shadow, an sshd "Include /etc/x", a "..")
 * must name a file of the tree: a copied tree is the input being judged,
 * not a key to the judge's own host. Every open is resolved by the
 * kernel inside the root (openat2 RESOLVE_IN_ROOT), the same walk for
 * each path component, so there is no check-then-open race and no second
 * resolver to keep in step. Without a root, paths are the host's and
 * open(2) takes them as they are.
 *
 * Nothing here judges or adds results; the callers say what an error
 * means for their check.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "priv.h"

/* path (one of root's, or the host's when root is NULL) opened inside
 * root through root_fd. */
static int open_in(const char *root, int root_fd, const char *path, int flags) {
        flags |= O_CLOEXEC;
        /* A read must not block in open(): a FIFO waits for a writer.
         * (openat2 refuses any flag but these few with O_PATH.) */
        if (!(flags & O_PATH))
                flags |= O_NOCTTY | (flags & O_DIRECTORY ? 0 : O_NONBLOCK);
        if (!root) {
                int fd = open(path, flags);
                return fd < 0 ? -errno : fd;
        }
        /* Every path of a root run is built from p->root; one that is not
         * is a bug, refused rather than read from the host. */
        size_t rl = strlen(root);
        if (strncmp(path, root, rl) || (path[rl] && path[rl] != '/'))
                return -EXDEV;
        const char *rel = path + rl;
        while (*rel == '/')
                rel++;
        struct open_how how = {
                .flags = (uint64_t) flags,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        /* glibc 2.36 has no wrapper. Linux before 5.6 has no openat2:
         * ENOSYS is returned as it is, and every read is an error. */
        long fd = syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof(how));
        return fd < 0 ? -errno : (int) fd;
}

int assess_open(AssessCtx *x, const char *path, int flags) {
        if (x->p->root && x->root_err)
                return x->root_err;
        return open_in(x->p->root, x->root_fd, path, flags);
}

int assess_paths_read_file(const AssessPaths *p, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int root_fd = p->root ? open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (p->root && root_fd < 0)
                return -errno;
        _cleanup_close_ int fd = open_in(p->root, root_fd, path, O_RDONLY);
        if (fd < 0)
                return fd;
        return vg_read_regular_fd(fd, max, ret, ret_len);
}

DIR *assess_opendir(AssessCtx *x, const char *path) {
        int fd = assess_open(x, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                errno = e;
        }
        return d;
}

int assess_stat(AssessCtx *x, const char *path, bool nofollow, struct stat *ret) {
        _cleanup_close_ int fd = assess_open(x, path, O_PATH | (nofollow ? O_NOFOLLOW : 0));
        if (fd < 0)
                return fd;
        return fstat(fd, ret) < 0 ? -errno : 0;
}

ssize_t assess_readlink(AssessCtx *x, const char *path, char *buf, size_t n) {
        _cleanup_close_ int fd = assess_open(x, path, O_PATH | O_NOFOLLOW);
        if (fd < 0)
                return fd;
        /* "" on an O_PATH fd: the link itself (Linux 2.6.39). */
        ssize_t l = readlinkat(fd, "", buf, n);
        return l < 0 ? -errno : l;
}

int assess_read_file(AssessCtx *x, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = assess_open(x, path, O_RDONLY);
        if (fd < 0)
                return fd;
        return vg_read_regular_fd(fd, max, ret, ret_len);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int assess_list(AssessCtx *x, const char *dir, char ***ret, size_t *ret_n) {
        DIR *d = assess_opendir(x, dir);
        if (!d)
                return -errno;
        char **v = NULL;
        size_t n = 0;
        int r = 0;
        for (struct dirent *de; r == 0 && (de = readdir(d));) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char *copy = strdup(de->d_name);
                if (!copy || vg_grow((void **) &v, &n, sizeof(char *)) < 0) {
                        free(copy);
                        r = -ENOMEM;
                } else
                        v[n - 1] = copy;
        }
        closedir(d);
        if (r < 0) {
                assess_glob_free(v, n);
                return r;
        }
        if (n)
                qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- glob ---- */

typedef struct Glob {
        char **v;
        size_t n;
} Glob;

static int glob_add(Glob *g, const char *path) {
        if (g->n >= ASSESS_GLOB_MAX)
                return -E2BIG;
        char *copy = strdup(path);
        if (!copy || vg_grow((void **) &g->v, &g->n, sizeof(char *)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        g->v[g->n - 1] = copy;
        return 0;
}

/* base (a path that exists, or the pattern's prefix) followed by the
 * components of rest, each matched against what assess_opendir lists. */
static int glob_walk(AssessCtx *x, const char *base, const char *rest, Glob *g) {
        while (*rest == '/')
                rest++;
        if (!*rest) {
                struct stat st;
                return assess_stat(x, base, false, &st) == 0 ? glob_add(g, base) : 0;
        }
        size_t cl = strcspn(rest, "/");
        char comp[NAME_MAX + 1];
        if (cl > NAME_MAX)
                return 0;   /* no name that long exists */
        memcpy(comp, rest, cl);
        comp[cl] = '\0';
        _cleanup_free_ char *next = NULL;
        if (!strpbrk(comp, "*?[")) {
                if (asprintf(&next, "%s/%s", base, comp) < 0)
                        return -ENOMEM;
                return glob_walk(x, next, rest + cl, g);
        }
        DIR *d = assess_opendir(x, base);
        if (!d)
                return 0;   /* glob(3): an unreadable directory matches nothing */
        int r = 0;
        for (struct dirent *de; r == 0 && (de = readdir(d));) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    fnmatch(comp, de->d_name, FNM_PERIOD) != 0)
                        continue;
                free(next);
                if (asprintf(&next, "%s/%s", base, de->d_name) < 0) {
                        next = NULL;
                        r = -ENOMEM;
                } else
                        r = glob_walk(x, next, rest + cl, g);
        }
        closedir(d);
        return r;
}

int assess_glob(AssessCtx *x, const char *pattern, char ***ret, size_t *ret_n) {
        Glob g = { 0 };
        /* The walk starts at the root (or "/") and takes the rest. */
        const char *start = x->p->root ? x->p->root : "";
        size_t sl = strlen(start);
        if (strncmp(pattern, start, sl) || (pattern[sl] && pattern[sl] != '/'))
                return -EXDEV;
        int r = glob_walk(x, sl ? start : "", pattern + sl, &g);
        if (r < 0) {
                assess_glob_free(g.v, g.n);
                return r;
        }
        if (g.n)
                qsort(g.v, g.n, sizeof(char *), cmp_str);
        *ret = g.v;
        *ret_n = g.n;
        return 0;
}

void assess_glob_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}
