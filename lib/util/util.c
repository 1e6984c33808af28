/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

int vg_error(VgError *err, int r, const char *fmt, ...) {
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->text, sizeof(err->text), fmt, ap);
                va_end(ap);
        }
        return r;
}

int vg_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len) {
        size_t len = 0, cap = 0;
        _cleanup_free_ char *buf = NULL;

        for (;;) {
                if (cap - len < 1 + 1) {
                        /* Grow geometrically but never past max + 2: one byte
                         * to detect "too long", one for the NUL. */
                        size_t ncap = cap ? cap * 2 : 16384;
                        if (ncap > max + 2)
                                ncap = max + 2;
                        if (ncap <= cap)
                                return -EFBIG;
                        char *n = realloc(buf, ncap);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - len - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int vg_read_regular_fd(int fd, size_t max, char **ret_buf, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* A FIFO would wait for a writer that may never come, a device
         * or a socket is not a file's text: what a config names as a
         * file must be one. -EBADFD, as dpkg.c and kernel-modinfo.c say
         * it (fscan.c's hash_file refuses them the same way). */
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        /* Opened non-blocking only so that open() itself cannot wait; a
         * regular file's reads do not block, but some file systems
         * (FUSE, NFS) answer EAGAIN to a non-blocking read. */
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                return -errno;
        return vg_read_fd(fd, max, ret_buf, ret_len);
}

int vg_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        return vg_read_regular_fd(fd, max, ret_buf, ret_len);
}

const char *vg_read_error(int r) {
        return r == -EBADFD ? "not a regular file (a directory, FIFO, device or socket is not read)"
             : r == -EFBIG ? "too large"
                           : strerror(-r);
}

/* Who other than root could write through st, or NULL. */
static const char *untrusted(const struct stat *st, bool dir) {
        if (st->st_uid != 0)
                return "its owner is not root";
        bool sticky = dir && (st->st_mode & S_ISVTX);
        if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !sticky)
                return "its group may write it";
        if ((st->st_mode & S_IWOTH) && !sticky)
                return "anyone may write it";
        return NULL;
}

/* The one error: what is unsafe (the file, or dir above it), why, and the
 * owner and mode that make it so. */
static int refuse(const char *path, const char *dir, const char *why, const struct stat *st, VgError *err) {
        return vg_error(err, -EPERM, "%s: refusing it: %s%s%s%s (owner uid %u, group gid %u, mode %04o): a "
                        "user other than root could change what root reads; chown root: and chmod go-w it",
                        path, dir ? "its directory " : "", dir ? dir : "", dir ? " is not safe: " : "", why,
                        (unsigned) st->st_uid, (unsigned) st->st_gid, (unsigned) (st->st_mode & 07777));
}

/* Every directory from dir up to "/" (dir is changed in place). */
static int check_dirs(const char *path, char *dir, VgError *err) {
        struct stat st;
        for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
                slash[slash == dir ? 1 : 0] = '\0';
                if (stat(dir, &st) < 0)
                        return -errno;
                const char *why = untrusted(&st, true);
                if (why)
                        return refuse(path, dir, why, &st, err);
                if (slash == dir)
                        break;
        }
        return 0;
}

/* The trust rule of vg_read_trusted_file, on what fd has open (path: its
 * name, for the directories and the error). */
static int check_trusted_fd(int fd, const char *path, VgError *err) {
        if (geteuid() != 0)
                return 0;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        const char *why = untrusted(&st, false);
        if (why)
                return refuse(path, NULL, why, &st, err);
        /* The directories of the file itself, and, when the path goes
         * through a symlink, those of the link too: whoever can write
         * either can swap what root reads. */
        _cleanup_free_ char *real = realpath(path, NULL);
        _cleanup_free_ char *given = path[0] == '/' ? strdup(path) : NULL;
        int r;
        if (!real)
                return -errno;
        if ((r = check_dirs(path, real, err)) < 0)
                return r;
        if (given && strcmp(given, real) && (r = check_dirs(path, given, err)) < 0)
                return r;
        return 0;
}

/* See util.h. The directories checked are those that exist, from the
 * deepest up, as given and as resolved, as check_trusted_fd checks a
 * present file's. */
int vg_check_absent(const char *path, VgError *err) {
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
                char to[PATH_MAX];
                ssize_t n = readlink(path, to, sizeof(to) - 1);
                to[n < 0 ? 0 : n] = '\0';
                return vg_error(err, -EPERM, "%s: refusing it: a symlink to '%s', which does not exist", path, to);
        }
        if (geteuid() != 0)
                return -ENOENT;
        char cwd[PATH_MAX] = "";
        if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
                return -errno;
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s%s%s", cwd, *cwd ? "/" : "", path) < 0)
                return -ENOMEM;
        /* Up to the deepest directory that exists: dir is "/" at worst. */
        for (char *slash; (slash = strrchr(dir, '/'));) {
                slash[slash == dir ? 1 : 0] = '\0';
                if (stat(dir, &st) == 0)
                        break;
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
        }
        /* check_dirs checks from the parent of its argument up. */
        _cleanup_free_ char *given = NULL, *real_dir = realpath(dir, NULL), *real = NULL;
        if (!real_dir)
                return -errno;
        if (asprintf(&given, "%s/-", dir) < 0 || asprintf(&real, "%s/-", real_dir) < 0)
                return -ENOMEM;
        int r = check_dirs(path, given, err);
        if (r == 0)
                r = check_dirs(path, real, err);
        if (r == -EPERM && err) {
                char why[sizeof(err->text)];
                memcpy(why, err->text, sizeof(why));
                return vg_error(err, r, "%s; and it is missing, which that user could have made it", why);
        }
        return r < 0 ? r : -ENOENT;
}

/* path opened with flags, and held to the trust rule: an fd, or a
 * negative errno (-EPERM with err saying why). */
static int open_trusted(const char *path, int flags, VgError *err) {
        int fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? vg_check_absent(path, err) : -errno;
        int r = check_trusted_fd(fd, path, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int vg_read_trusted_file(const char *path, size_t max, char **ret_buf, size_t *ret_len, VgError *err) {
        _cleanup_close_ int fd = open_trusted(path, O_RDONLY | O_NOCTTY | O_NONBLOCK, err);
        if (fd < 0)
                return fd;
        return vg_read_regular_fd(fd, max, ret_buf, ret_len);
}

int vg_check_trusted(const char *path, VgError *err) {
        /* O_PATH: a program may be executable and not readable. */
        _cleanup_close_ int fd = open_trusted(path, O_PATH, err);
        return fd < 0 ? fd : 0;
}

char *vg_hex(const void *d, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";
        const unsigned char *b = d;
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[b[i] >> 4];
                out[2 * i + 1] = digits[b[i] & 15];
        }
        out[2 * n] = '\0';
        return out;
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int vg_unhex(const char *hex, size_t n, void *out) {
        unsigned char *b = out;
        for (size_t i = 0; i < n; i++) {
                int hi = hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);
                if (lo < 0)
                        return -EINVAL;
                b[i] = (unsigned char) (hi << 4 | lo);
        }
        return 0;
}

int vg_fsync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

/* A regular file, or nothing yet: a temporary file beside path, to be
 * renamed over it by vg_write_close, so that a reader sees the old file
 * or the new one, whole. */
static int open_replace(const char *path, unsigned mode, VgWrite *ret, VgError *err) {
        char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp.%ld", path, (long) getpid()) < 0)
                return -ENOMEM;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0) {
                int r = vg_error(err, -errno, "cannot create '%s': %s", tmp, strerror(errno));
                free(tmp);
                return r;
        }
        *ret = (VgWrite) { .fd = fd, .tmp = tmp, .path = path, .mode = mode };
        return 0;
}

/* What is at path and is not a regular file. The decision is made on
 * what open() reached (fstat of the descriptor), not on the lstat
 * before it: a path swapped in between cannot turn a write-through into
 * a write over a regular file. O_NONBLOCK: a FIFO nobody reads fails at
 * once (ENXIO) rather than hanging; it is cleared before writing. */
static int open_through(const char *path, VgWrite *ret, VgError *err) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 && errno == ENXIO)
                return vg_error(err, -ENXIO, "cannot write '%s': no process reads it", path);
        if (fd < 0)
                return vg_error(err, -errno, "cannot write '%s': %s", path, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return vg_error(err, -errno, "cannot write '%s': %s", path, strerror(errno));
        if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
                return vg_error(err, -EEXIST, "not writing '%s': it is a symbolic link to a %s; name the file "
                                "itself (it is then replaced whole), or '-' for standard output", path,
                                S_ISREG(st.st_mode) ? "regular file" : S_ISDIR(st.st_mode) ? "directory"
                                : "block device or other special file");
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return vg_error(err, -errno, "cannot write '%s': %s", path, strerror(errno));
        *ret = (VgWrite) { .fd = TAKE_FD(fd), .path = path };
        return 0;
}

int vg_write_open(const char *path, unsigned mode, VgWrite *ret, VgError *err) {
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return vg_error(err, -errno, "cannot write '%s': %s", path, strerror(errno));
                return open_replace(path, mode, ret, err);
        }
        if (S_ISREG(st.st_mode))
                return open_replace(path, mode, ret, err);
        if (S_ISDIR(st.st_mode))
                return vg_error(err, -EISDIR, "cannot write '%s': it is a directory", path);
        if (S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
                return vg_error(err, -EEXIST, "not writing '%s': it is a %s", path,
                                S_ISBLK(st.st_mode) ? "block device" : "socket");
        /* A character device (/dev/null, a terminal), a FIFO, or a
         * symlink to one (/dev/stdout, /proc/self/fd/1): renaming over
         * it would replace the device node or the link by a file. */
        return open_through(path, ret, err);
}

int vg_write_close(VgWrite *w, bool keep, VgError *err) {
        bool replace = keep && w->tmp;
        int r = 0;
        /* fchmod: the mode given to open() is filtered by the umask. */
        if (replace && (fchmod(w->fd, w->mode) < 0 || fsync(w->fd) < 0))
                r = -errno;
        if (close(w->fd) < 0 && r == 0)
                r = -errno;
        w->fd = -1;
        if (replace && r == 0 && rename(w->tmp, w->path) < 0)
                r = -errno;
        if (replace && r == 0)
                r = vg_fsync_parent(w->path);
        if (w->tmp && (!keep || r < 0))
                unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
        return r < 0 ? vg_error(err, r, "cannot write '%s': %s", w->path, strerror(-r)) : 0;
}

static int write_all(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int vg_write_file(const char *path, const void *buf, size_t len, unsigned mode, VgError *err) {
        VgWrite w;
        int r = vg_write_open(path, mode, &w, err);
        if (r < 0)
                return r;
        r = write_all(w.fd, buf, len);
        if (r < 0) {
                vg_write_close(&w, false, NULL);
                return vg_error(err, r, "cannot write '%s': %s", path, strerror(-r));
        }
        return vg_write_close(&w, true, err);
}

int vg_mkdir_p(const char *dir, unsigned mode) {
        _cleanup_free_ char *p = strdup(dir);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0)
                return errno == EEXIST ? 0 : -errno;
        /* Exactly mode, whatever the umask, and without the setgid bit a
         * setgid parent would pass on (the spool stays root's alone). */
        return chmod(p, mode) < 0 ? -errno : 0;
}

int vg_grow(void **arr, size_t *n, size_t size) {
        /* The capacity is 8, then the power of two at or above *n: full
         * exactly when *n is 0 or a power of two from 8 on. */
        if (*n == 0 || (*n >= 8 && !(*n & (*n - 1)))) {
                void *a = reallocarray(*arr, *n ? 2 * *n : 8, size);
                if (!a)
                        return -ENOMEM;
                *arr = a;
        }
        memset((char *) *arr + *n * size, 0, size);
        (*n)++;
        return 0;
}

char *vg_strdup0(const char *s) {
        return s ? strdup(s) : NULL;
}

bool vg_is_plain(const char *s) {
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@+-/", *s))
                        return false;
        return true;
}
