/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every parser of dpkg's files shares with the loader (dpkg.c): the
 * map from a name or path to its index, and the count of what was skipped.
 * It sits below both and calls neither, so the loader calls the parsers
 * and the parsers call this, one way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpkg-priv.h"

int dpkg_skip(Dpkg *d, const char *file, size_t line, const char *why) {
        if (d->stats.n_skipped++ == 0)
                snprintf(d->stats.first_skipped, sizeof(d->stats.first_skipped), "%s:%zu: %s", file, line, why);
        return 0;
}

/* FNV-1a, with a final mix: paths share long prefixes and differ in
 * their last bytes, which FNV leaves in the high bits only. */
static uint32_t hash_str(const char *s) {
        uint64_t h = 1469598103934665603ULL;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                h ^= *p;
                h *= 1099511628211ULL;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return (uint32_t) h;
}

uint32_t dpkg_map_get(const Dpkg *d, const DpkgMap *m, const char *key) {
        if (m->cap == 0)
                return DPKG_NONE;
        uint32_t h = hash_str(key);
        for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
                const DpkgSlot *s = &m->slots[i];
                if (s->index == 0)
                        return DPKG_NONE;
                if (s->hash == h && !strcmp(m->key(d, s->index - 1), key))
                        return s->index - 1;
        }
}

static void map_insert(DpkgMap *m, DpkgSlot slot) {
        size_t j = slot.hash & (m->cap - 1);
        while (m->slots[j].index)
                j = (j + 1) & (m->cap - 1);
        m->slots[j] = slot;
}

int dpkg_map_put(const Dpkg *d, DpkgMap *m, uint32_t i) {
        /* At most half full, so probes stay short. */
        if ((m->n + 1) * 2 > m->cap) {
                size_t ncap = m->cap ? m->cap * 2 : 1024;
                DpkgSlot *old = m->slots;
                size_t ocap = m->cap;
                if (!(m->slots = calloc(ncap, sizeof(DpkgSlot)))) {
                        m->slots = old;
                        return -ENOMEM;
                }
                m->cap = ncap;
                for (size_t j = 0; j < ocap; j++)
                        if (old[j].index)
                                map_insert(m, old[j]);
                free(old);
        }
        map_insert(m, (DpkgSlot) { i + 1, hash_str(m->key(d, i)) });
        m->n++;
        return 0;
}

void dpkg_map_clear(DpkgMap *m) {
        free(m->slots);
        m->slots = NULL;
        m->cap = m->n = 0;
}
