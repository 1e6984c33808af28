/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * durable FILE: the durable floor of a recording hook. Exec'd as the hook
 * is (the domain XML on stdin), it reads its input, appends one 500-byte
 * record to FILE and fdatasyncs it: the least any hook that records a call
 * before it returns can do. Dynamically linked to libc only, like noop.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
        static char buf[1 << 20];
        char rec[500];
        ssize_t n;
        size_t len = 0;
        if (argc != 2)
                return 2;
        while ((n = read(STDIN_FILENO, buf + len, sizeof(buf) - len)) > 0)
                len += (size_t) n;
        memset(rec, 'x', sizeof(rec));
        memcpy(rec, buf, len < 64 ? len : 64);
        rec[sizeof(rec) - 1] = '\n';
        int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, rec, sizeof(rec)) != (ssize_t) sizeof(rec) || fdatasync(fd) < 0)
                return 1;
        return close(fd) < 0;
}
