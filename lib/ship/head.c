/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signed chain heads (head.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/eddsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "virtgov/ship/head.h"
#include "virtgov/store/store.h"
#include "virtgov/util/cleanup.h"

#define PREFIX "chain.head id="

static int read_hex_key(const char *path, uint8_t out[static HEAD_KEY_SIZE], VgError *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = vg_read_file(path, 256, &buf, &len);
        if (r < 0)
                return r == -ENOENT ? r : vg_error(err, r, "%s: %s", path, vg_read_error(r));
        if (len < 2 * HEAD_KEY_SIZE || strspn(buf, "0123456789abcdef") != 2 * HEAD_KEY_SIZE ||
            (len > 2 * HEAD_KEY_SIZE && strcmp(buf + 2 * HEAD_KEY_SIZE, "\n")) ||
            vg_unhex(buf, HEAD_KEY_SIZE, out) < 0)
                return vg_error(err, -EINVAL, "%s: not a virtgov host key (64 lowercase hex digits)", path);
        return 0;
}

int head_key_load(const char *path, HostKey *k, VgError *err) {
        memset(k, 0, sizeof(*k));
        int r = read_hex_key(path, k->priv, err);
        if (r < 0)
                return r;
        ed25519_sha512_public_key(k->pub, k->priv);
        k->has_priv = true;
        return 0;
}

int head_key_load_public(const char *path, HostKey *k, VgError *err) {
        _cleanup_free_ char *pub = NULL;
        if (asprintf(&pub, "%s.pub", path) < 0)
                return -ENOMEM;
        memset(k, 0, sizeof(*k));
        int r = read_hex_key(pub, k->pub, err);
        if (r == -ENOENT && (r = head_key_load(path, k, err)) == 0) {
                memset(k->priv, 0, sizeof(k->priv));
                k->has_priv = false;
        }
        if (r == -ENOENT)
                return vg_error(err, r, "no host key: neither %s nor %s exists ('virtgov host-key --init' as root "
                                "makes it; the package does at install)", pub, path);
        return r;
}

void head_key_public_hex(const HostKey *k, char out[static 2 * HEAD_KEY_SIZE + 1]) {
        vg_hex(k->pub, HEAD_KEY_SIZE, out);
}

int head_key_init(const char *path, HostKey *k, VgError *err) {
        int r = head_key_load(path, k, err);
        bool made = false;
        if (r == -ENOENT) {
                uint8_t seed[HEAD_KEY_SIZE];
                char hex[2 * HEAD_KEY_SIZE + 2];
                if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
                        return vg_error(err, -errno, "no random bytes for the host key: %m");
                vg_hex(seed, sizeof(seed), hex);
                strcat(hex, "\n");
                explicit_bzero(seed, sizeof(seed));
                /* O_EXCL: two that make it at once keep one key. */
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0 && errno != EEXIST)
                        return vg_error(err, -errno, "%s: cannot make the host key: %m", path);
                if (fd >= 0) {
                        ssize_t w = write(fd, hex, strlen(hex));
                        explicit_bzero(hex, sizeof(hex));
                        if (w != (ssize_t) 2 * HEAD_KEY_SIZE + 1 || fsync(fd) < 0) {
                                r = w < 0 ? -errno : -EIO;
                                unlink(path);
                                return vg_error(err, r, "%s: cannot write the host key: %s", path, strerror(-r));
                        }
                        (void) vg_fsync_parent(path);
                        made = true;
                }
                if ((r = head_key_load(path, k, err)) < 0)
                        return r;
        } else if (r < 0)
                return r;
        char pubhex[2 * HEAD_KEY_SIZE + 2], *pub = NULL;
        head_key_public_hex(k, pubhex);
        strcat(pubhex, "\n");
        if (asprintf(&pub, "%s.pub", path) < 0)
                return -ENOMEM;
        r = vg_write_file(pub, pubhex, strlen(pubhex), 0644, err);
        free(pub);
        return r < 0 ? r : made;
}

static int signed_text(const Head *h, char *out, size_t n) {
        int k = snprintf(out, n, PREFIX "%" PRId64 " hash=%s host=%s time=%s", h->id, h->hash, h->host, h->time);
        return k < 0 || (size_t) k >= n ? -ENAMETOOLONG : 0;
}

int head_format(const Head *h, const HostKey *k, char **ret) {
        char text[256], sighex[2 * HEAD_SIG_SIZE + 1];
        if (signed_text(h, text, sizeof(text)) < 0)
                return -EINVAL;
        if (!k || !k->has_priv)
                return asprintf(ret, "%s", text) < 0 ? -ENOMEM : 0;
        uint8_t sig[HEAD_SIG_SIZE];
        ed25519_sha512_sign(k->pub, k->priv, strlen(text), (const uint8_t *) text, sig);
        vg_hex(sig, sizeof(sig), sighex);
        return asprintf(ret, "%s sig=%s", text, sighex) < 0 ? -ENOMEM : 0;
}

int head_current(Store *s, const char *host_id, const HostKey *k, Head *h, char **ret, VgError *err) {
        *h = (Head) { 0 };
        int r = store_chain_head(s, &h->id, h->hash, err);
        if (r < 0)
                return r;
        if (h->id == 0)
                return -ENOENT;
        snprintf(h->host, sizeof(h->host), "%s", host_id && *host_id ? host_id : "unknown");
        vg_time_format(vg_now_us(), h->time);
        return head_format(h, k, ret) < 0 ? vg_error(err, -ENOMEM, "out of memory") : 0;
}

/* The value of KEY= in the token list s..end; a copy of at most n-1 bytes. */
static bool token(const char *s, const char *end, const char *key, char *out, size_t n) {
        size_t kl = strlen(key);
        for (const char *p = s; p < end; ) {
                const char *sp = memchr(p, ' ', (size_t) (end - p));
                const char *te = sp ? sp : end;
                if ((size_t) (te - p) > kl && !memcmp(p, key, kl) && p[kl] == '=') {
                        size_t vl = (size_t) (te - p) - kl - 1;
                        if (vl >= n)
                                return false;
                        memcpy(out, p + kl + 1, vl);
                        out[vl] = '\0';
                        return true;
                }
                p = te + 1;
        }
        return false;
}

int head_parse(const char *line, Head *h, VgError *err) {
        const char *s = strstr(line, PREFIX);
        if (!s)
                return 0;
        /* The head ends where its tokens do: the end of the line, or the
         * quote that closes a JSON string. */
        const char *end = s + strcspn(s, "\"\n\r");
        char id[24] = "", sig[2 * HEAD_SIG_SIZE + 2] = "";
        memset(h, 0, sizeof(*h));
        if (!token(s, end, "id", id, sizeof(id)) || !token(s, end, "hash", h->hash, sizeof(h->hash)) ||
            strspn(h->hash, "0123456789abcdef") != CHAIN_HEX_SIZE - 1)
                return vg_error(err, -EINVAL, "a chain head without its id or hash: %.80s", s);
        char *e;
        errno = 0;
        h->id = strtoll(id, &e, 10);
        if (errno || *e || h->id < 1)
                return vg_error(err, -EINVAL, "a chain head whose id is not one: %.80s", s);
        (void) token(s, end, "host", h->host, sizeof(h->host));
        (void) token(s, end, "time", h->time, sizeof(h->time));
        if (token(s, end, "sig", sig, sizeof(sig))) {
                if (strlen(sig) != 2 * HEAD_SIG_SIZE || vg_unhex(sig, HEAD_SIG_SIZE, h->sig) < 0)
                        return vg_error(err, -EINVAL, "chain head %" PRId64 ": its sig is not 128 hex digits", h->id);
                h->has_sig = true;
        }
        if (signed_text(h, h->signed_text, sizeof(h->signed_text)) < 0)
                return vg_error(err, -EINVAL, "chain head %" PRId64 ": too long", h->id);
        return 1;
}

bool head_verify(const Head *h, const HostKey *k) {
        return h->has_sig && ed25519_sha512_verify(k->pub, strlen(h->signed_text),
                                                   (const uint8_t *) h->signed_text, h->sig) == 1;
}
