/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/ld.so.cache as ldconfig writes it since glibc 2.2 ("new" format,
 * the only one since 2.32): a 48-byte header, nlibs entries of 24 bytes,
 * then the strings. Learnt from glibc's sysdeps/generic/dl-cache.h:
 *
 *   header: "glibc-ld.so.cache" "1.1", u32 nlibs, u32 len_strings,
 *           u8 byte-order flag (2 little, 3 big, 0 unset), 3 pad,
 *           u32 extension offset, 3 x u32 unused
 *   entry:  i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap
 *
 * key (the soname) and value (the path) are offsets from the start of this
 * header. An older file has the "ld.so-1.7.0" table first (u32 nlibs at
 * 12, entries of 12 bytes from 16) and the new one after it, aligned to 8.
 * Entries are sorted so ld.so can bisect, by glibc's own comparison of
 * sonames; rather than model it, the usable entries are hashed by soname
 * when the cache is parsed, each chained to the next of the same soname
 * in file order: the same matches as a scan in file order. (A linear scan
 * per lookup was 5.5M of the 27M instructions of an isolation check.)
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elfdeps-priv.h"

#define MAGIC_OLD "ld.so-1.7.0"
#define MAGIC_NEW "glibc-ld.so.cache1.1"
#define HEADER_SIZE 48
#define ENTRY_SIZE 24
/* flags: the low byte is the library type, ELF for libc6 or plain ELF. */
#define FLAG_TYPE_MASK 0x00ff
#define FLAG_ELF 0x0001
#define FLAG_ELF_LIBC6 0x0003
#define NONE UINT32_MAX

struct LdCache {
        char *buf;          /* the whole file, NUL-terminated */
        size_t len;
        size_t base;        /* where the new header starts */
        uint32_t nlibs;
        bool swap;          /* the file's byte order is not ours */
        uint32_t *slots;    /* by soname hash: the first usable entry of each soname, or NONE */
        size_t mask;        /* slots - 1 (a power of two, at least twice the entries) */
        uint32_t *next;     /* per entry: the next usable entry of its soname, or NONE */
};

static uint32_t cache32(const LdCache *c, size_t off) {
        uint32_t v;
        memcpy(&v, c->buf + off, sizeof(v));
        return c->swap ? __builtin_bswap32(v) : v;
}

static uint64_t cache64(const LdCache *c, size_t off) {
        uint64_t v;
        memcpy(&v, c->buf + off, sizeof(v));
        return c->swap ? __builtin_bswap64(v) : v;
}

/* Where the new-format header starts: 0, or after an old-format table. */
static int find_base(const LdCache *c, size_t *ret, VgError *err) {
        if (c->len >= sizeof(MAGIC_NEW) - 1 && !memcmp(c->buf, MAGIC_NEW, sizeof(MAGIC_NEW) - 1)) {
                *ret = 0;
                return 0;
        }
        if (c->len < 16 || memcmp(c->buf, MAGIC_OLD, sizeof(MAGIC_OLD) - 1))
                return vg_error(err, -EINVAL, "not a glibc ld.so.cache");
        uint32_t old;
        memcpy(&old, c->buf + 12, sizeof(old));   /* native order: the old format has no flag */
        uint64_t end = 16 + (uint64_t) old * 12;
        end = (end + 7) & ~(uint64_t) 7;
        if (end > c->len || c->len - end < sizeof(MAGIC_NEW) - 1 ||
            memcmp(c->buf + end, MAGIC_NEW, sizeof(MAGIC_NEW) - 1))
                return vg_error(err, -EINVAL, "old-format ld.so.cache without the glibc 2.2 table");
        *ret = (size_t) end;
        return 0;
}

static int check_header(LdCache *c, VgError *err) {
        int rc = find_base(c, &c->base, err);
        if (rc < 0)
                return rc;
        if (c->len - c->base < HEADER_SIZE)
                return vg_error(err, -EINVAL, "ld.so.cache: truncated header");
        uint8_t order = (uint8_t) c->buf[c->base + 28];
        bool little = __BYTE_ORDER == __LITTLE_ENDIAN;
        if (order != 0 && order != 2 && order != 3)
                return vg_error(err, -EINVAL, "ld.so.cache: invalid byte order flag %u", order);
        /* A cache in the other byte order belongs to a foreign tree (a
         * root of another architecture): read it in its own order. */
        c->swap = order == (little ? 3 : 2);
        c->nlibs = cache32(c, c->base + 20);
        if ((uint64_t) c->nlibs * ENTRY_SIZE > c->len - c->base - HEADER_SIZE)
                return vg_error(err, -EINVAL, "ld.so.cache: %u entries do not fit in %zu bytes", c->nlibs, c->len);
        return 0;
}

/* The string at offset off from the header, or NULL if out of range (the
 * NUL after the buffer bounds every string). */
static const char *cache_string(const LdCache *c, uint32_t off) {
        if (off >= c->len - c->base)
                return NULL;
        return c->buf + c->base + off;
}

/* Entry i's soname if ld.so would take its path: a plain entry (hwcap
 * entries are variants in glibc-hwcaps subdirectories, chosen by CPU at
 * run time: not modelled, see elfdeps.h) of an ELF type, with an absolute
 * path; else NULL. */
static const char *usable_key(const LdCache *c, uint32_t i) {
        size_t e = c->base + HEADER_SIZE + (size_t) i * ENTRY_SIZE;
        uint32_t type = cache32(c, e) & FLAG_TYPE_MASK;
        if ((type != FLAG_ELF && type != FLAG_ELF_LIBC6) || cache64(c, e + 16) != 0)
                return NULL;
        const char *key = cache_string(c, cache32(c, e + 4));
        const char *value = cache_string(c, cache32(c, e + 8));
        return key && value && value[0] == '/' ? key : NULL;
}

static const char *entry_value(const LdCache *c, uint32_t i) {
        return cache_string(c, cache32(c, c->base + HEADER_SIZE + (size_t) i * ENTRY_SIZE + 8));
}

static size_t hash_name(const char *s) {
        size_t h = 14695981039346656037ULL;   /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

/* The slot of name: its chain's, or the empty one where it would go. */
static size_t slot_of(const LdCache *c, const char *name) {
        size_t h = hash_name(name) & c->mask;
        while (c->slots[h] != NONE && strcmp(usable_key(c, c->slots[h]), name))
                h = (h + 1) & c->mask;
        return h;
}

/* Backwards, so that each chain ends up in file order. */
static int build_index(LdCache *c) {
        size_t n = 16;
        while (n < 2 * (size_t) c->nlibs)
                n *= 2;
        c->mask = n - 1;
        if (!(c->slots = malloc(n * sizeof(uint32_t))) || !(c->next = malloc((c->nlibs ? c->nlibs : 1) * sizeof(uint32_t))))
                return -ENOMEM;
        memset(c->slots, 0xff, n * sizeof(uint32_t));
        for (uint32_t i = c->nlibs; i-- > 0;) {
                const char *key = usable_key(c, i);
                if (!key)
                        continue;
                size_t h = slot_of(c, key);
                c->next[i] = c->slots[h];
                c->slots[h] = i;
        }
        return 0;
}

int ldcache_parse(const void *buf, size_t len, LdCache **ret, VgError *err) {
        if (len > LDCACHE_MAX)
                return vg_error(err, -EINVAL, "ld.so.cache of %zu bytes (more than %u)", len, LDCACHE_MAX);
        LdCache *c = calloc(1, sizeof(*c));
        if (!c || !(c->buf = malloc(len + 1))) {
                free(c);
                return -ENOMEM;
        }
        memcpy(c->buf, buf, len);
        c->buf[len] = '\0';   /* so a string that runs to the end still ends */
        c->len = len;
        int rc = check_header(c, err);
        if (rc == 0 && build_index(c) < 0)
                rc = -ENOMEM;
        if (rc < 0) {
                ldcache_free(c);
                return rc;
        }
        *ret = c;
        return 0;
}

LdCache *ldcache_free(LdCache *c) {
        if (c) {
                free(c->buf);
                free(c->slots);
                free(c->next);
        }
        free(c);
        return NULL;
}

const char *ldcache_next(const LdCache *c, const char *name, size_t *pos) {
        if (!c || *pos > c->nlibs)
                return NULL;
        uint32_t i = *pos == 0 ? c->slots[slot_of(c, name)] : c->next[*pos - 1];
        if (i == NONE) {
                *pos = (size_t) c->nlibs + 1;
                return NULL;
        }
        *pos = (size_t) i + 1;
        return entry_value(c, i);
}
