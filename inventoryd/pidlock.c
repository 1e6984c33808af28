/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidlock.h"
#include "virtgov/util/cleanup.h"

int pidlock_write_pid(int fd) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
        if (ftruncate(fd, 0) < 0)
                return -errno;
        ssize_t w = pwrite(fd, buf, (size_t) n, 0);
        if (w < 0)
                return -errno;
        return w == n ? 0 : -EIO;
}

/* The pid the holder wrote; 0 when there is none yet (it has the lock but
 * is still between fcntl() and pwrite()). */
static long read_pid(int fd) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        long pid = strtol(buf, NULL, 10);
        return pid > 0 ? pid : 0;
}

int pidlock_take(const char *inventory_path, int *ret_fd, VgError *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s.daemon.lock", inventory_path) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        /* Never unlinked: removing a lock file at exit lets a third daemon
         * lock a new file while a second still waits on the old one. */
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return vg_error(err, -errno, "inventory lock '%s': %s", path, strerror(errno));
        /* OFD, not POSIX, locks: a POSIX lock is the process's and would not
         * pass to daemon()'s child, and any close() of the file by the same
         * process would drop it. l_pid must be 0 for F_OFD_SETLK. */
        struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0, .l_pid = 0 };
        if (fcntl(fd, F_OFD_SETLK, &l) < 0) {
                int r = -errno;
                if (r != -EAGAIN && r != -EACCES)
                        return vg_error(err, r, "inventory lock '%s': %s", path, strerror(-r));
                long pid = read_pid(fd);
                if (pid)
                        return vg_error(err, -EBUSY, "inventory '%s' is in use by another virtgov-inventoryd, "
                                        "pid %ld (it holds '%s')", inventory_path, pid, path);
                return vg_error(err, -EBUSY, "inventory '%s' is in use by another virtgov-inventoryd "
                                "(it holds '%s'; its pid is not written yet)", inventory_path, path);
        }
        int r = pidlock_write_pid(fd);
        if (r < 0)
                return vg_error(err, r, "inventory lock '%s': %s", path, strerror(-r));
        *ret_fd = TAKE_FD(fd);
        return 0;
}
