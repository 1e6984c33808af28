/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/host/image.h"
#include "virtgov/util/util.h"

/* qcow2: magic, version, then the backing file's offset and length. */
#define QCOW2_MAGIC 0x514649fbU
#define BACKING_NAME_MAX 1023

static int backing_of(const char *path, char **ret, VgError *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vg_error(err, -errno, "image '%s': %s", path, strerror(errno));
        unsigned char h[20];
        ssize_t n = pread(fd, h, sizeof(h), 0);
        *ret = NULL;
        uint32_t magic;
        memcpy(&magic, h, 4);
        if (n < (ssize_t) sizeof(h) || be32toh(magic) != QCOW2_MAGIC)
                return 0;   /* not qcow2: no backing file */
        uint64_t off;
        uint32_t len;
        memcpy(&off, h + 8, 8);
        memcpy(&len, h + 16, 4);
        off = be64toh(off);
        len = be32toh(len);
        if (off == 0 || len == 0)
                return 0;
        if (len > BACKING_NAME_MAX)
                return vg_error(err, -EINVAL, "image '%s': backing file name of %u bytes", path, len);
        char name[BACKING_NAME_MAX + 1];
        if (pread(fd, name, len, (off_t) off) != (ssize_t) len)
                return vg_error(err, -EINVAL, "image '%s': truncated backing file name", path);
        name[len] = '\0';
        if (memchr(name, '\0', len))
                return vg_error(err, -EINVAL, "image '%s': NUL in the backing file name", path);

        if (name[0] == '/' || strstr(name, ":") ) {
                *ret = strdup(name);
        } else {
                _cleanup_free_ char *copy = strdup(path);
                if (!copy || asprintf(ret, "%s/%s", dirname(copy), name) < 0)
                        return -ENOMEM;
        }
        return *ret ? 0 : -ENOMEM;
}

int image_backing_chain(const char *path, char ***ret, VgError *err) {
        char **chain = calloc(IMAGE_CHAIN_MAX + 1, sizeof(char *));
        if (!chain)
                return -ENOMEM;
        const char *cur = path;
        for (size_t n = 0;; n++) {
                char *next = NULL;
                int r = backing_of(cur, &next, err);
                if (r < 0) {
                        image_chain_free(chain);
                        return r;
                }
                if (!next)
                        break;
                bool loop = !strcmp(next, path);
                for (size_t i = 0; i < n && !loop; i++)
                        loop = !strcmp(chain[i], next);
                if (loop || n == IMAGE_CHAIN_MAX) {
                        free(next);
                        image_chain_free(chain);
                        return vg_error(err, -ELOOP, "image '%s': backing chain loops or is longer than %d",
                                        path, IMAGE_CHAIN_MAX);
                }
                chain[n] = next;
                if (next[0] != '/')
                        break;   /* a protocol or json: name: not a file we can follow */
                cur = next;
        }
        *ret = chain;
        return 0;
}

char **image_chain_free(char **chain) {
        for (size_t i = 0; chain && chain[i]; i++)
                free(chain[i]);
        free(chain);
        return NULL;
}

int image_sha256(const char *path, char hex[static 65], uint64_t *ret_size, VgError *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vg_error(err, -errno, "image '%s': %s", path, strerror(errno));
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        size_t bufsize = 1 << 20;
        _cleanup_free_ unsigned char *buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(fd, buf, bufsize);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return vg_error(err, -errno, "image '%s': %s", path, strerror(errno));
                }
                if (n == 0)
                        break;
                sha256_update(&ctx, (size_t) n, buf);
                total += (uint64_t) n;
        }
        unsigned char d[SHA256_DIGEST_SIZE];
        sha256_digest(&ctx, sizeof(d), d);
        vg_hex(d, sizeof(d), hex);
        if (ret_size)
                *ret_size = total;
        return 0;
}

int image_stat(const char *path, ImageStat *ret) {
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        *ret = (ImageStat) {
                .size = (uint64_t) st.st_size, .dev = (uint64_t) st.st_dev, .ino = (uint64_t) st.st_ino,
                .mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                .ctime_ns = (int64_t) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec,
        };
        return 0;
}
