/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure half of kernel.h: the tables (statuses, taint flags) and the
 * parsers of /proc/modules and modules.dep. No I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-priv.h"

/* ---- statuses ---- */

static const char *const status_names[] = {
        "changed", "not-in-baseline", "missing", "unresolved", "out-of-tree", "unsigned", "forced",
        "proprietary", "staging", "not-from-a-package", "package-mismatch", "not-a-module",
};
_Static_assert(ELEMENTSOF(status_names) == __builtin_ctz(_KERNEL_STATUS_LAST) + 1, "a name per KernelStatus bit");

const char *kernel_status_name(unsigned bit) {
        if (!bit || (bit & (bit - 1)) || bit > _KERNEL_STATUS_LAST)
                return NULL;
        return status_names[__builtin_ctz(bit)];
}

char *kernel_status_words(unsigned status, char *buf, size_t n) {
        size_t k = 0;
        if (n)
                buf[0] = '\0';
        for (unsigned b = 1; b && b <= _KERNEL_STATUS_LAST; b <<= 1)
                if (status & b)
                        k += (size_t) snprintf(buf + k, k < n ? n - k : 0, "%s%s", k ? "," : "",
                                               kernel_status_name(b));
        if (!status && n)
                snprintf(buf, n, "ok");
        return buf;
}

bool kernel_module_finding(const KernelModule *m) {
        unsigned s = m->status;
        /* A file the package's MD5 vouches for needs no baseline row of
         * its own: the isolation profile watches the virtualization
         * modules only, and a host loads a hundred others. */
        if (m->package_verified)
                s &= ~(unsigned) KERNEL_NOT_IN_BASELINE;
        return s != 0;
}

const char *kernel_format_name(KernelFormat f) {
        static const char *const names[] = { "none", "elf", "xz", "zstd", "gzip", "other" };
        return (unsigned) f < ELEMENTSOF(names) ? names[f] : "other";
}

/* ---- taint ---- */

/* Documentation/admin-guide/tainted-kernels.rst, "Table for decoding
 * tainted state"; bit 19 (J) came with Linux 6.15. */
static const KernelTaintFlag taint_flags[] = {
        { 0, 'P', "proprietary module was loaded" },
        { 1, 'F', "module was force loaded" },
        { 2, 'S', "kernel running on an out of specification system" },
        { 3, 'R', "module was force unloaded" },
        { 4, 'M', "processor reported a Machine Check Exception (MCE)" },
        { 5, 'B', "bad page referenced or some unexpected page flags" },
        { 6, 'U', "taint requested by userspace application" },
        { 7, 'D', "kernel died recently, i.e. there was an OOPS or BUG" },
        { 8, 'A', "an ACPI table was overridden by user" },
        { 9, 'W', "kernel issued warning" },
        { 10, 'C', "staging driver was loaded" },
        { 11, 'I', "workaround for bug in platform firmware applied" },
        { 12, 'O', "externally-built (\"out-of-tree\") module was loaded" },
        { 13, 'E', "unsigned module was loaded" },
        { 14, 'L', "soft lockup occurred" },
        { 15, 'K', "kernel has been live patched" },
        { 16, 'X', "auxiliary taint, defined for and used by distros" },
        { 17, 'T', "kernel was built with the struct randomization plugin" },
        { 18, 'N', "an in-kernel test has been run" },
        { 19, 'J', "userspace used a mutating debug operation in fwctl" },
};

const KernelTaintFlag *kernel_taint_flag(unsigned bit) {
        return bit < ELEMENTSOF(taint_flags) ? &taint_flags[bit] : NULL;
}

char *kernel_taint_letters(uint64_t taint, char buf[static 65]) {
        size_t k = 0;
        for (unsigned b = 0; b < 64; b++)
                if (taint & (1ULL << b)) {
                        const KernelTaintFlag *f = kernel_taint_flag(b);
                        buf[k++] = f ? f->letter : '?';
                }
        buf[k] = '\0';
        return buf;
}

/* The letters a module's own taint may carry (module_flags_taint prints
 * those whose taint_flags[].module is set): each and its status. */
unsigned kernel_status_from(const char *taint, const KernelModinfo *info) {
        unsigned s = 0;
        for (const char *c = taint; c && *c; c++)
                s |= *c == 'O' ? KERNEL_OUT_OF_TREE : *c == 'E' ? KERNEL_UNSIGNED : *c == 'F' ? KERNEL_FORCED
                   : *c == 'P' ? KERNEL_PROPRIETARY : *c == 'C' ? KERNEL_STAGING : 0;
        if (!info)
                return s;
        /* Every module has a .modinfo (vermagic, at least). */
        if (info->format == KERNEL_FILE_OTHER || (info->format == KERNEL_FILE_ELF && !info->has_modinfo))
                s |= KERNEL_NOT_A_MODULE;
        /* The file is read only when it is ELF: a compressed one is
         * judged by the kernel's letters alone. */
        if (info->format == KERNEL_FILE_ELF && info->has_modinfo && !info->intree)
                s |= KERNEL_OUT_OF_TREE;
        if (info->format == KERNEL_FILE_ELF && !info->signature)
                s |= KERNEL_UNSIGNED;
        return s;
}

const char *kernel_flavour(const char *release) {
        for (const char *d = strchr(release, '-'); d; d = strchr(d + 1, '-'))
                if (!(d[1] >= '0' && d[1] <= '9'))
                        return d;
        return release + strlen(release);
}

void kernel_skip(KernelSkips *s, const char *file, size_t line, const char *why) {
        if (!s->n++)
                snprintf(s->first, sizeof(s->first), "%s:%zu: %s", file, line, why);
}

/* ---- /proc/modules ---- */

static bool all_digits(const char *s, size_t n) {
        if (!n || n > 20)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* One line's fields, split on single spaces as m_show writes them. */
static const char *parse_line(const char *s, size_t n, KernelProcLine *l) {
        const char *f[8];
        size_t fl[8], nf = 0;
        for (size_t i = 0; i < n;) {
                if (s[i] == ' ') {
                        i++;
                        continue;
                }
                size_t j = i;
                while (j < n && s[j] != ' ')
                        j++;
                if (nf == ELEMENTSOF(f))
                        return "more than 7 fields";
                f[nf] = s + i;
                fl[nf++] = j - i;
                i = j;
        }
        if (nf < 6)
                return "expected 'NAME SIZE REFS DEPS STATE ADDRESS [(FLAGS)]'";
        /* MODULE_NAME_LEN is 56 with its NUL; the kernel writes '_' for '-'. */
        if (fl[0] > 55)
                return "a module name longer than 55";
        for (size_t i = 0; i < fl[0]; i++) {
                char c = f[0][i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        return "a module name of other than [A-Za-z0-9_]";
        }
        if (!all_digits(f[1], fl[1]))
                return "a size that is not a number";
        /* Without CONFIG_MODULE_UNLOAD: "- -". */
        if (!all_digits(f[2], fl[2]) && !(fl[2] == 1 && f[2][0] == '-'))
                return "a reference count that is not a number";
        static const char *const states[] = { "Live", "Loading", "Unloading" };
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(states) && !known; i++)
                known = fl[4] == strlen(states[i]) && !memcmp(f[4], states[i], fl[4]);
        if (!known)
                return "a state other than Live, Loading, Unloading";
        if (fl[5] < 3 || memcmp(f[5], "0x", 2))
                return "an address that is not 0x...";
        l->taint[0] = '\0';
        if (nf == 7) {
                /* "(OE)", with '+' while loading and '-' while unloading. */
                if (fl[6] < 3 || f[6][0] != '(' || f[6][fl[6] - 1] != ')' || fl[6] - 2 >= sizeof(l->taint))
                        return "flags that are not '(LETTERS)'";
                size_t k = 0;
                for (size_t i = 1; i + 1 < fl[6]; i++) {
                        char c = f[6][i];
                        if (c == '+' || c == '-')
                                continue;
                        if (c < 'A' || c > 'Z')
                                return "a flag that is not a capital letter";
                        l->taint[k++] = c;
                }
                l->taint[k] = '\0';
        }
        l->name = f[0];
        l->name_len = fl[0];
        l->size = strtoull(f[1], NULL, 10);
        memcpy(l->state, f[4], fl[4]);
        l->state[fl[4]] = '\0';
        return NULL;
}

int kernel_proc_modules_parse(const char *text, size_t len, const char *file, KernelSkips *skips,
                              int (*fn)(const KernelProcLine *l, void *u), void *u) {
        size_t line = 0;
        for (const char *s = text, *end = text + len; s < end;) {
                const char *nl = memchr(s, '\n', (size_t) (end - s));
                size_t n = nl ? (size_t) (nl - s) : (size_t) (end - s);
                line++;
                const char *why = memchr(s, '\0', n) ? "a NUL byte" : NULL;
                KernelProcLine l;
                if (!why && n)
                        why = parse_line(s, n, &l);
                s += n + 1;
                if (!n)
                        continue;
                if (why) {
                        kernel_skip(skips, file, line, why);
                        continue;
                }
                int r = fn(&l, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- modules.dep ---- */

size_t kernel_module_name_of(const char *path, size_t len, char *buf, size_t n) {
        const char *base = memrchr(path, '/', len);
        base = base ? base + 1 : path;
        size_t blen = (size_t) (path + len - base), k = 0;
        /* "kvm-intel.ko", "kvm-intel.ko.xz": the name ends at ".ko" that
         * ends the name or precedes one more suffix. */
        const char *ko = NULL;
        for (size_t i = 0; i + 3 <= blen; i++)
                if (!memcmp(base + i, ".ko", 3) && (i + 3 == blen || base[i + 3] == '.'))
                        ko = ko ? ko : base + i;
        if (!ko || ko == base || (size_t) (ko - base) >= n)
                return 0;
        for (; base + k < ko; k++)
                buf[k] = base[k] == '-' ? '_' : base[k];
        buf[k] = '\0';
        return k;
}

void kernel_dep_clear(KernelDep *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].name);
                free(d->v[i].path);
        }
        free(d->v);
        *d = (KernelDep) { 0 };
}

static int entry_cmp(const void *a, const void *b) {
        const KernelDepEntry *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        /* Twins: the earlier line first (qsort is not stable). */
        return c ? c : x->line < y->line ? -1 : x->line > y->line;
}

int kernel_dep_parse(const char *text, size_t len, const char *file, KernelDep *ret, KernelSkips *skips) {
        KernelDep d = { 0 };
        size_t line = 0;
        for (const char *s = text, *end = text + len; s < end;) {
                const char *nl = memchr(s, '\n', (size_t) (end - s));
                size_t n = nl ? (size_t) (nl - s) : (size_t) (end - s);
                const char *colon = memchr(s, ':', n);
                const char *at = s;
                line++;
                s += n + 1;
                if (!n)
                        continue;
                char name[64];
                const char *why = memchr(at, '\0', n) ? "a NUL byte"
                                : !colon || colon == at ? "expected 'FILE: DEPENDENCIES'"
                                : memchr(at, ' ', (size_t) (colon - at)) ? "a file name with a space"
                                : !kernel_module_name_of(at, (size_t) (colon - at), name, sizeof(name))
                                ? "a file that is not NAME.ko[.EXT]" : NULL;
                if (why) {
                        kernel_skip(skips, file, line, why);
                        continue;
                }
                if (vg_grow((void **) &d.v, &d.n, sizeof(*d.v)) < 0) {
                        kernel_dep_clear(&d);
                        return -ENOMEM;
                }
                KernelDepEntry *e = &d.v[d.n - 1];
                e->name = strdup(name);
                e->path = strndup(at, (size_t) (colon - at));
                e->line = line;
                if (!e->name || !e->path) {
                        kernel_dep_clear(&d);
                        return -ENOMEM;
                }
        }
        if (d.n)
                qsort(d.v, d.n, sizeof(*d.v), entry_cmp);
        *ret = d;
        return 0;
}

const char *kernel_dep_find(const KernelDep *d, const char *name) {
        char want[64];
        size_t n = strlen(name);
        if (n >= sizeof(want))
                return NULL;
        for (size_t i = 0; i <= n; i++)
                want[i] = name[i] == '-' ? '_' : name[i];
        size_t lo = 0, hi = d->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(d->v[mid].name, want) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < d->n && !strcmp(d->v[lo].name, want) ? d->v[lo].path : NULL;
}
