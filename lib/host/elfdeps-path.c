/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file-system side of elfdeps: opening inside a root as a chroot
 * would (openat2 RESOLVE_IN_ROOT, so an absolute symlink in a test tree
 * or a foreign root stays in it), and the dynamic string tokens.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "elfdeps-priv.h"
#include "virtgov/util/cleanup.h"

int elfroot_open(const char *root, ElfRoot *ret, VgError *err) {
        if (!root || !*root)
                root = "/";
        char *real = realpath(root, NULL);
        if (!real)
                return vg_error(err, -errno, "root '%s': %s", root, strerror(errno));
        int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                free(real);
                return vg_error(err, r, "root '%s': %s", root, strerror(-r));
        }
        if (!strcmp(real, "/"))
                real[0] = '\0';
        *ret = (ElfRoot) { .fd = fd, .path = real };
        return 0;
}

void elfroot_close(ElfRoot *r) {
        if (r->fd >= 0)
                close(r->fd);
        free(r->path);
        *r = (ElfRoot) { .fd = -1 };
}

static int open_in_root(const ElfRoot *r, const char *path, int flags) {
        const char *rel = path + strspn(path, "/");
        if (!*rel)
                rel = ".";
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, r->fd, rel, &how, sizeof(how));
        /* Before Linux 5.6 (or under a seccomp filter that hides openat2)
         * symlinks resolve as on the host: the same thing when root is "/". */
        if (fd < 0 && errno == ENOSYS)
                fd = openat(r->fd, rel, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int elfroot_open_file(const ElfRoot *r, const char *path, struct stat *ret_st) {
        struct stat st, again;
        int fd = open_in_root(r, path, O_PATH);
        if (fd < 0)
                return fd;
        int rc = fstat(fd, &st) < 0 ? -errno : 0;
        close(fd);
        if (rc < 0)
                return rc;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -ENODEV;   /* a FIFO would block, a device may act on open */
        fd = open_in_root(r, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fd;
        if (fstat(fd, &again) < 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
                close(fd);
                return -EAGAIN;
        }
        *ret_st = again;
        return fd;
}

int elfroot_realpath(const ElfRoot *r, int fd, const char *path, char **ret) {
        char link[64], buf[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, buf, sizeof(buf) - 1);
        _cleanup_free_ char *real = NULL;
        if (n > 0 && buf[0] == '/') {
                buf[n] = '\0';
                real = strdup(buf);
        } else {   /* no /proc: resolve the name again */
                _cleanup_free_ char *host = NULL;
                if (asprintf(&host, "%s%s", r->path, path) < 0)
                        return -ENOMEM;
                real = realpath(host, NULL);
                if (!real)
                        return -errno;
        }
        if (!real)
                return -ENOMEM;
        size_t l = strlen(r->path);
        if (l == 0 || (!strncmp(real, r->path, l) && real[l] == '/')) {
                *ret = strdup(real + l);
                return *ret ? 0 : -ENOMEM;
        }
        *ret = TAKE_PTR(real);   /* outside root (the openat fallback): as the host sees it */
        return 0;
}

bool elfroot_is_dir(const ElfRoot *r, const char *path) {
        int fd = open_in_root(r, path, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

/* The length of the token name at p (just after a '$'), 0 if it is not
 * that token: bare only when followed by '/' or the end, as ld.so. */
static size_t token_len(const char *p, const char *name) {
        size_t l = strlen(name);
        if (p[0] == '{')
                return !strncmp(p + 1, name, l) && p[1 + l] == '}' ? l + 2 : 0;
        return !strncmp(p, name, l) && (p[l] == '\0' || p[l] == '/') ? l : 0;
}

int elfdst_expand(const char *s, const ElfDst *d, char **ret) {
        char out[PATH_MAX];
        size_t n = 0;
        while (*s) {
                const char *value = NULL;
                size_t skip = 0;
                if (*s == '$') {
                        const char *names[] = { "ORIGIN", "LIB", "PLATFORM" };
                        const char *values[] = { d->origin, d->lib, d->platform };
                        for (size_t i = 0; i < ELEMENTSOF(names) && !skip; i++)
                                if ((skip = token_len(s + 1, names[i])))
                                        value = values[i];
                        if (skip && !value)
                                return -ENOENT;
                }
                const char *add = skip ? value : s;
                size_t len = skip ? strlen(value) : 1;
                if (n + len >= sizeof(out))
                        return -ENAMETOOLONG;
                memcpy(out + n, add, len);
                n += len;
                s += skip ? skip + 1 : 1;
        }
        out[n] = '\0';
        *ret = strdup(out);
        return *ret ? 0 : -ENOMEM;
}

void elfdeps_strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int elfdst_split(const char *list, const ElfDst *d, char ***ret) {
        _cleanup_free_ char *copy = strdup(list);
        if (!copy)
                return -ENOMEM;
        char **dirs = calloc(strlen(list) / 2 + 2, sizeof(char *));   /* at most one per "x:" */
        if (!dirs)
                return -ENOMEM;
        size_t n = 0;
        char *save = NULL;
        for (char *e = strtok_r(copy, ":", &save); e; e = strtok_r(NULL, ":", &save)) {
                char *dir = NULL;
                int r = elfdst_expand(e, d, &dir);
                if (r == -ENOMEM) {
                        elfdeps_strv_free(dirs);
                        return r;
                }
                if (r < 0 || dir[0] != '/') {
                        free(dir);
                        continue;
                }
                size_t l = strlen(dir);
                while (l > 1 && dir[l - 1] == '/')
                        dir[--l] = '\0';   /* "dir/" + "/" + name is the same file; keep paths tidy */
                dirs[n++] = dir;
        }
        *ret = dirs;
        return 0;
}
