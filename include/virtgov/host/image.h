/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk images: their backing chains (read from qcow2 headers, never by
 * running qemu-img), their SHA-256 (nettle: already in libvirt's own
 * dependencies through GnuTLS, small to load, SHA-NI accelerated), and the
 * stat fields that tell cheaply whether a trusted image is still the file
 * that was hashed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "virtgov/util/util.h"

#define IMAGE_CHAIN_MAX 16

typedef struct ImageStat {
        uint64_t size, dev, ino;
        int64_t mtime_ns, ctime_ns;
} ImageStat;

/* A trusted image as the library holds it: its hash, and the stat fields
 * that tell in one stat() whether the file is still the one hashed. */
typedef struct ImageRecord {
        const char *path, *sha256;
        ImageStat stat;          /* size, dev, ino, mtime_ns (ctime_ns is not kept: 0) */
        const char *trusted_by;
        int64_t time_us;         /* when it was trusted or last verified */
} ImageRecord;

/*
 * The backing chain of path, nearest first, as a NULL-terminated array of
 * absolute paths (relative names resolve against the image's directory).
 * A raw image, or a qcow2 with no backing file, gives an empty array. A
 * backing file that is not a local path (nbd://, json:) ends the chain
 * with that name as written. More than IMAGE_CHAIN_MAX links, or a loop,
 * is -ELOOP.
 */
int image_backing_chain(const char *path, char ***ret, VgError *err);
char **image_chain_free(char **chain);

/* The SHA-256 of the file's content as 64 lowercase hex digits, and its
 * size. */
int image_sha256(const char *path, char hex[static 65], uint64_t *ret_size, VgError *err);

int image_stat(const char *path, ImageStat *ret);
