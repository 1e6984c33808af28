/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every module: the error text carrier, bounded
 * reads, and time in the one form the inventory stores.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Equal strings, where NULL equals nothing (not even NULL). */
static inline bool vg_streq(const char *a, const char *b) {
        return a && b && !strcmp(a, b);
}

/*
 * Library functions return 0 or a negative errno and never print. When the
 * caller needs to tell a person what was wrong and where (file, line,
 * column, domain), the function also fills a VgError, which the program
 * prints once. A NULL VgError * is accepted everywhere and means "don't care".
 */
typedef struct VgError {
        char text[1024];
} VgError;

/* Sets err->text (if err is not NULL) and returns r, so a function can end
 * with `return vg_error(err, -EINVAL, "...")`. r must be negative. */
int vg_error(VgError *err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Reads fd until end of file, at most max bytes. On success *ret_buf holds
 * the bytes plus a terminating NUL that is not counted in *ret_len.
 * Returns -EFBIG if the input is longer than max (nothing is returned then),
 * or the negative errno of a failed read.
 */
int vg_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);

/*
 * Reads a whole regular file (symlinks followed); same contract as
 * vg_read_fd. What is not a regular file (a directory, a FIFO, a device,
 * a socket) is refused without a read, -EBADFD: a FIFO named as a config
 * file would otherwise block its reader forever (the open is
 * non-blocking, so it cannot wait either). /proc and /sys files are
 * regular.
 */
int vg_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* The same for a file the caller opened (with O_NONBLOCK, so that the
 * open could not block): refuses what is not regular, then reads it with
 * blocking reads. */
int vg_read_regular_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);

/* The words for a vg_read_file error: "not a regular file ...", "too
 * large", else strerror's. */
const char *vg_read_error(int r);

/*
 * vg_read_file for a file that steers a root process (the config, the
 * policy). Run as root, it refuses (-EPERM, err says who could write what)
 * a file that anyone but root could change: the file not owned by root or
 * writable by a group other than root's or by others, or the same for any
 * directory on its resolved path (a root-owned sticky directory such as
 * /tmp is fine: others cannot rename or remove root's entries in it). Not
 * run as root, the file is only as trusted as the user, and is read as is.
 * Other errors are returned as negative errnos, with err untouched.
 */
int vg_read_trusted_file(const char *path, size_t max, char **ret_buf, size_t *ret_len, VgError *err);

/*
 * Whether path's absence can be believed, for a file whose absence means
 * "none" (a missing policy allows every start): -ENOENT when it can;
 * -EPERM, err saying why, when path is a dangling symlink (it points
 * somewhere on purpose), or, run as root, when a directory on the way
 * that exists could be written by anyone but root (who could have removed
 * the file); another negative errno when it cannot be told. This is what
 * vg_read_trusted_file and vg_check_trusted return for a missing file.
 */
int vg_check_absent(const char *path, VgError *err);

/* The same rule for a file root runs rather than reads (integrity_action):
 * 0 when it is as trusted as vg_read_trusted_file asks, or not run as
 * root; -EPERM with err saying why; else the negative errno of the look. */
int vg_check_trusted(const char *path, VgError *err);

/*
 * Writes all of buf to path, the one way virtgov writes a file a person
 * named (--out and every file of the evidence, --hooks-dir, the audit rules):
 *   - a regular file, or nothing yet: replaced atomically (a temporary
 *     file beside it, fsync, rename, fsync of the directory), with mode;
 *   - a character device or a FIFO, or a symlink to one (/dev/null,
 *     /dev/stdout, /proc/self/fd/1): written through, left in place (a
 *     FIFO with no reader fails, -ENXIO, rather than waiting);
 *   - anything else (a directory, a block device, a socket, a symlink to a
 *     regular file or to a directory) is refused: -EISDIR or -EEXIST.
 * 0, or a negative errno with err saying what and why, naming path.
 */
int vg_write_file(const char *path, const void *buf, size_t len, unsigned mode, VgError *err);

/* vg_write_file in two steps, for output written as it is made (the
 * evidence's events.json, too large to hold): vg_write_open decides as
 * above and gives ret->fd to write to (a temporary file beside path, or
 * the device or FIFO itself); vg_write_close puts it in place, renamed
 * over path when keep, else removed, and closes fd. Every open is closed
 * once. Same errors as vg_write_file. */
typedef struct VgWrite {
        int fd;
        char *tmp;           /* the temporary file; NULL when written through */
        const char *path;    /* the caller's, kept until close */
        unsigned mode;
} VgWrite;
int vg_write_open(const char *path, unsigned mode, VgWrite *ret, VgError *err);
int vg_write_close(VgWrite *w, bool keep, VgError *err);

/* fsync of the directory that holds path: a rename or an unlink in it is
 * durable. 0 or a negative errno. */
int vg_fsync_parent(const char *path);

/* The n bytes at d as 2n lowercase hex digits and a NUL, into out, which
 * holds 2n + 1 bytes; returns out. Every digest, and every byte string,
 * virtgov writes as hex is written by it. */
char *vg_hex(const void *d, size_t n, char *out);

/* The 2n hex digits at hex (either case) as the n bytes they write, into
 * out: 0, or -EINVAL at anything that is not a hex digit (a NUL too: hex
 * shorter than 2n fails), out then partly written. The one reader of
 * what vg_hex writes. */
int vg_unhex(const char *hex, size_t n, void *out);

/* Creates dir (exactly mode) and its missing parents (0755). An existing
 * dir is fine and left as it is. */
int vg_mkdir_p(const char *dir, unsigned mode);

/* Grows the array *arr of *n elements of size bytes by one zeroed element
 * at the end. 0 or -ENOMEM (then *arr and *n are unchanged). Storage
 * doubles, its size following from *n, so an array must only ever have
 * been grown by vg_grow (and may shrink by lowering *n). */
int vg_grow(void **arr, size_t *n, size_t size);

/* strdup that returns NULL for NULL. */
char *vg_strdup0(const char *s);

/* True for strings made only of [A-Za-z0-9._:@+/-], the shape that is safe
 * to print unquoted in a table and in syslog key=value form. */
bool vg_is_plain(const char *s);

/* ---- time: the inventory stores RFC 3339 UTC with microseconds ---- */

/* "2026-11-22T17:55:41.123456Z" plus NUL */
#define VG_TIME_MAX 32

int64_t vg_now_us(void);

/* Formats microseconds since the epoch as RFC 3339 UTC with microseconds. */
void vg_time_format(int64_t us, char buf[static VG_TIME_MAX]);

/*
 * Parses what a person types for --since/--until: RFC 3339 with or without
 * fraction and offset ("2026-11-22T17:55:41Z", "...+10:00"), a date
 * ("2026-11-22", midnight UTC), "YYYY-MM-DD HH:MM[:SS]" (UTC), "now", or an
 * age such as "30s", "15m", "2h", "7d", "2w" meaning that long before now_us,
 * or "+2h" meaning that long after it.
 * Returns -EINVAL for anything else.
 */
int vg_time_parse(const char *s, int64_t now_us, int64_t *ret_us);
