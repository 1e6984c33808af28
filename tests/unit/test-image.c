/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/host/image.h"

static char *dir;
static void setup(void) { dir = scratch_new(); }
static void teardown(void) { scratch_remove(dir); }
TestSuite(image, .init = setup, .fini = teardown);

/* A qcow2 header as far as the backing file name, which is all we read. */
static char *qcow2(const char *name, const char *backing) {
        char *path = path_join(dir, name);
        unsigned char h[512] = { 0 };
        uint32_t magic = htobe32(0x514649fb), version = htobe32(3);
        memcpy(h, &magic, 4);
        memcpy(h + 4, &version, 4);
        if (backing) {
                uint64_t off = htobe64(104);
                uint32_t len = htobe32((uint32_t) strlen(backing));
                memcpy(h + 8, &off, 8);
                memcpy(h + 16, &len, 4);
                memcpy(h + 104, backing, strlen(backing));
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert_eq(write(fd, h, sizeof(h)), (ssize_t) sizeof(h));
        close(fd);
        return path;
}

Test(image, chain_follows_qcow2_headers_relative_and_absolute) {
        char *base = path_join(dir, "base.raw");
        write_text(base, "raw bytes");
        char *mid = qcow2("mid.qcow2", base);
        char *top = qcow2("top.qcow2", "mid.qcow2");   /* relative to its directory */
        char **chain = NULL;
        VgError err = { "" };
        cr_assert_eq(image_backing_chain(top, &chain, &err), 0, "%s", err.text);
        cr_assert_str_eq(chain[0], mid);
        cr_assert_str_eq(chain[1], base);
        cr_assert_null(chain[2]);
        image_chain_free(chain);
        cr_assert_eq(image_backing_chain(base, &chain, &err), 0);
        cr_assert_null(chain[0], "a raw image has no backing file");
        image_chain_free(chain);
        free(base); free(mid); free(top);
}

Test(image, a_loop_is_eloop_and_a_protocol_ends_the_chain) {
        char *a = qcow2("a.qcow2", "b.qcow2");
        char *b = qcow2("b.qcow2", "a.qcow2");
        char **chain = NULL;
        VgError err = { "" };
        cr_assert_eq(image_backing_chain(a, &chain, &err), -ELOOP);
        cr_assert(strstr(err.text, "loops"), "%s", err.text);
        char *n = qcow2("n.qcow2", "nbd://10.0.0.1/export");
        cr_assert_eq(image_backing_chain(n, &chain, &err), 0);
        cr_assert_str_eq(chain[0], "nbd://10.0.0.1/export");
        cr_assert_null(chain[1]);
        image_chain_free(chain);
        free(a); free(b); free(n);
}

Test(image, sha256_of_known_content) {
        char *p = path_join(dir, "abc");
        write_text(p, "abc");
        char hex[65];
        uint64_t size = 0;
        cr_assert_eq(image_sha256(p, hex, &size, NULL), 0);
        cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        cr_assert_eq(size, 3);
        VgError err = { "" };
        cr_assert_eq(image_sha256("/nonexistent/x", hex, NULL, &err), -ENOENT);
        cr_assert(strstr(err.text, "/nonexistent/x"), "%s", err.text);
        free(p);
}
