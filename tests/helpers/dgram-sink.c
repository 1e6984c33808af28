/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dgram-sink SOCKET FILE: a stand-in syslog daemon for the integration
 * tests. Binds a datagram socket at SOCKET and appends each message it
 * receives, as one line, to FILE, until killed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: dgram-sink SOCKET FILE\n");
                return 2;
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
        unlink(argv[1]);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("dgram-sink");
                return 1;
        }
        int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out < 0) {
                perror(argv[2]);
                return 1;
        }
        char buf[65536];
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        continue;
                buf[n++] = '\n';
                if (write(out, buf, (size_t) n) < 0)
                        return 1;
        }
}
