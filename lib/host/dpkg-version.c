/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's verrevcmp (lib/dpkg/version.c), on top of a split that needs no
 * copy: each part is a pointer and a length. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "virtgov/host/dpkg-version.h"

typedef struct Part {
        const char *p;
        size_t n;
} Part;

static bool digit(int c) {
        return c >= '0' && c <= '9';
}

static bool alpha(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The weight of one character in a non-digit run; 0 for the end. */
static int order(int c) {
        if (digit(c))
                return 0;
        if (alpha(c))
                return c;
        if (c == '~')
                return -1;
        return c ? c + 256 : 0;
}

static int verrevcmp(Part a, Part b) {
        size_t i = 0, j = 0;
#define AT(x, k) ((k) < (x).n ? (unsigned char) (x).p[k] : 0)
        while (i < a.n || j < b.n) {
                while ((i < a.n && !digit(AT(a, i))) || (j < b.n && !digit(AT(b, j)))) {
                        int ac = order(AT(a, i)), bc = order(AT(b, j));
                        if (ac != bc)
                                return ac - bc;
                        i++;
                        j++;
                }
                while (AT(a, i) == '0')
                        i++;
                while (AT(b, j) == '0')
                        j++;
                int first = 0;
                while (digit(AT(a, i)) && digit(AT(b, j))) {
                        if (!first)
                                first = AT(a, i) - AT(b, j);
                        i++;
                        j++;
                }
                if (digit(AT(a, i)))
                        return 1;
                if (digit(AT(b, j)))
                        return -1;
                if (first)
                        return first;
        }
#undef AT
        return 0;
}

typedef struct Version {
        unsigned long long epoch;
        Part upstream, revision;
} Version;

static Version split(const char *s) {
        Version v = { 0 };
        s = s ? s : "";
        const char *colon = strchr(s, ':');
        if (colon && colon > s) {
                bool ok = true;
                unsigned long long e = 0;
                for (const char *c = s; c < colon && ok; c++) {
                        ok = digit(*c) && e < 1ULL << 40;
                        e = e * 10 + (unsigned) (*c - '0');
                }
                if (ok) {
                        v.epoch = e;
                        s = colon + 1;
                }
        }
        const char *dash = strrchr(s, '-');
        v.upstream = (Part) { s, dash ? (size_t) (dash - s) : strlen(s) };
        v.revision = dash ? (Part) { dash + 1, strlen(dash + 1) } : (Part) { "", 0 };
        return v;
}

int dpkg_version_compare(const char *a, const char *b) {
        Version x = split(a), y = split(b);
        if (x.epoch != y.epoch)
                return x.epoch < y.epoch ? -1 : 1;
        int r = verrevcmp(x.upstream, y.upstream);
        return r ? r : verrevcmp(x.revision, y.revision);
}
