/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two parsers of outside input the assessment needs besides libvirt's
 * config syntax: the LZ4 frames apt keeps its lists in, and the lines of
 * /proc/net/{tcp,udp}[6]. Both are fuzzed (tests/fuzz/fuzz-assess.c).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/assess/assess.h"

#define LZ4_MAGIC 0x184D2204u
#define LZ4_SKIPPABLE_MASK 0xFFFFFFF0u
#define LZ4_SKIPPABLE 0x184D2A50u

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

typedef struct Out {
        char *buf;
        size_t len, cap, max;
} Out;

static int out_reserve(Out *o, size_t more) {
        if (more > o->max - o->len)
                return -EFBIG;
        if (o->len + more <= o->cap)
                return 0;
        size_t cap = o->cap ? o->cap : 65536;
        while (cap < o->len + more)
                cap = cap > o->max / 2 ? o->max : cap * 2;
        char *n = realloc(o->buf, cap + 1);
        if (!n)
                return -ENOMEM;
        o->buf = n;
        o->cap = cap;
        return 0;
}

/* One LZ4 block (the block format): sequences of literals and a match
 * into what was decoded before, within this frame (linked blocks reach
 * into earlier blocks, which the one output buffer holds). */
static int lz4_block(Out *o, size_t frame_start, const uint8_t *in, size_t len) {
        size_t i = 0;
        while (i < len) {
                uint8_t token = in[i++];
                size_t lit = token >> 4;
                if (lit == 15) {
                        uint8_t b;
                        do {
                                if (i >= len)
                                        return -EBADMSG;
                                b = in[i++];
                                lit += b;
                        } while (b == 255);
                }
                if (lit > len - i)
                        return -EBADMSG;
                int r = out_reserve(o, lit);
                if (r < 0)
                        return r;
                memcpy(o->buf + o->len, in + i, lit);
                o->len += lit;
                i += lit;
                if (i == len)
                        return 0;   /* the last sequence has literals only */
                if (len - i < 2)
                        return -EBADMSG;
                size_t off = (size_t) in[i] | (size_t) in[i + 1] << 8;
                i += 2;
                if (!off || off > o->len - frame_start)
                        return -EBADMSG;
                size_t m = (token & 15u) + 4;
                if ((token & 15u) == 15) {
                        uint8_t b;
                        do {
                                if (i >= len)
                                        return -EBADMSG;
                                b = in[i++];
                                m += b;
                        } while (b == 255);
                }
                if ((r = out_reserve(o, m)) < 0)
                        return r;
                if (off >= m) {
                        memcpy(o->buf + o->len, o->buf + o->len - off, m);
                        o->len += m;
                } else   /* overlapping: byte by byte, each copy feeding the next */
                        for (size_t k = 0; k < m; k++, o->len++)
                                o->buf[o->len] = o->buf[o->len - off];
        }
        return -EBADMSG;   /* an empty block */
}

int assess_lz4_decode(const uint8_t *in, size_t len, size_t max, char **ret, size_t *ret_len) {
        Out o = { .max = max };
        size_t i = 0;
        int r = 0;
        while (i < len && r == 0) {
                if (len - i < 4) {
                        r = -EBADMSG;
                        break;
                }
                uint32_t magic = le32(in + i);
                if ((magic & LZ4_SKIPPABLE_MASK) == LZ4_SKIPPABLE) {
                        if (len - i < 8 || le32(in + i + 4) > len - i - 8) {
                                r = -EBADMSG;
                                break;
                        }
                        i += 8 + le32(in + i + 4);
                        continue;
                }
                if (magic != LZ4_MAGIC || len - i < 7) {
                        r = -EBADMSG;
                        break;
                }
                uint8_t flg = in[i + 4];
                if ((flg >> 6) != 1 || (flg & 0x02)) {   /* version 01, reserved bit clear */
                        r = -EBADMSG;
                        break;
                }
                bool block_sum = flg & 0x10, content_size = flg & 0x08, content_sum = flg & 0x04, dict = flg & 0x01;
                size_t hdr = 4 + 2 + (content_size ? 8 : 0) + (dict ? 4 : 0) + 1;
                if (len - i < hdr) {
                        r = -EBADMSG;
                        break;
                }
                /* The header checksum is xxHash32: not verified (no
                 * xxHash here); a damaged frame fails on its blocks. */
                i += hdr;
                size_t frame_start = o.len;
                for (;;) {
                        if (len - i < 4) {
                                r = -EBADMSG;
                                break;
                        }
                        uint32_t bs = le32(in + i);
                        i += 4;
                        if (bs == 0)
                                break;
                        bool raw = bs & 0x80000000u;
                        bs &= 0x7FFFFFFFu;
                        if (bs > len - i) {
                                r = -EBADMSG;
                                break;
                        }
                        if (raw) {
                                if ((r = out_reserve(&o, bs)) < 0)
                                        break;
                                memcpy(o.buf + o.len, in + i, bs);
                                o.len += bs;
                        } else if ((r = lz4_block(&o, frame_start, in + i, bs)) < 0)
                                break;
                        i += bs;
                        if (block_sum) {
                                if (len - i < 4) {
                                        r = -EBADMSG;
                                        break;
                                }
                                i += 4;
                        }
                }
                if (r == 0 && content_sum) {
                        if (len - i < 4)
                                r = -EBADMSG;
                        else
                                i += 4;
                }
        }
        if (r == 0 && out_reserve(&o, 0) == 0 && !o.buf)
                r = (o.buf = malloc(1)) ? 0 : -ENOMEM;
        if (r < 0) {
                free(o.buf);
                return r;
        }
        o.buf[o.len] = '\0';
        *ret = o.buf;
        *ret_len = o.len;
        return 0;
}

/* "0100007F:0016" (v4, the address as the kernel's u32 printed in host
 * order) or 32 hex digits (v6, four such u32s) then ":PORT". */
static bool parse_addr(const char *s, bool v6, AssessListener *l) {
        unsigned char a[16];
        size_t n = v6 ? 16 : 4;
        /* Hex digits only, ':' between: sscanf's %x would also take a
         * sign, a "0x" or blanks (a fuzzer's "-001" port was 2^32 - 1). */
        for (size_t i = 0; i < n * 2 + 5; i++)
                if (i == n * 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return false;
        for (size_t w = 0; w < n / 4; w++) {
                unsigned x;
                if (sscanf(s + w * 8, "%8x", &x) != 1)
                        return false;
                /* /proc prints each 32-bit word as the host sees it: on
                 * little-endian hosts the bytes come out reversed. */
                uint32_t word = (uint32_t) x;
                memcpy(a + w * 4, &word, 4);
        }
        if (s[n * 2] != ':')
                return false;
        unsigned port;
        if (sscanf(s + n * 2 + 1, "%4x", &port) != 1)
                return false;
        l->port = port;
        if (!v6) {
                snprintf(l->addr, sizeof(l->addr), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
                l->loopback = a[0] == 127;
        } else {
                static const unsigned char lo[16] = { [15] = 1 };
                static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
                size_t k = 0;
                for (size_t i = 0; i < 16; i += 2)
                        k += (size_t) snprintf(l->addr + k, sizeof(l->addr) - k, "%s%x", i ? ":" : "",
                                               (unsigned) (a[i] << 8 | a[i + 1]));
                l->loopback = !memcmp(a, lo, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
                if (!memcmp(a, (const unsigned char[16]) { 0 }, 16))
                        snprintf(l->addr, sizeof(l->addr), "::");
        }
        return true;
}

bool assess_proc_net_line(const char *line, bool v6, bool tcp, AssessListener *ret) {
        AssessListener l = { 0 };
        unsigned slot, state;
        char local[80], remote[80];
        uint64_t inode;
        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line, " %u: %79s %79s %x %*s %*s %*s %*u %*u %" SCNu64, &slot, local, remote, &state, &inode) != 5)
                return false;
        if (strlen(local) != (v6 ? 37u : 13u) || !parse_addr(local, v6, &l))
                return false;
        /* TCP: LISTEN (0x0A). UDP has no listen state: an unconnected
         * socket (0x07, CLOSE) bound to a port is what receives. */
        if (tcp ? state != 0x0A : state != 0x07)
                return false;
        l.inode = inode;
        *ret = l;
        return true;
}
