/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writers of small synthetic ELF objects and ld.so.cache files, so the
 * elfdeps tests control every tag (RPATH against RUNPATH, cycles,
 * thousands of DT_NEEDED, other classes and byte orders) and can break
 * any field. An object is: the ELF header, three program headers
 * (PT_LOAD of the whole file at FAKE_VADDR, PT_DYNAMIC, PT_INTERP), the
 * interpreter, the string table, the dynamic section.
 */
#pragma once

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-helpers.h"

#define FAKE_VADDR 0x400000u

typedef struct Fake {
        uint8_t cls, data;          /* 0: ELFCLASS64, ELFDATA2LSB */
        uint16_t machine;           /* 0: EM_X86_64 */
        const char *interp, *soname, *rpath, *runpath;
        const char *needed[8];      /* NULL-terminated */
        size_t extra_needed;        /* and this many more, "libextraN.so" */
        bool nodeflib;
} Fake;

typedef struct FakeBuf {
        uint8_t *b;
        size_t len;
        bool big, is64;
} FakeBuf;

static inline void fake_put(FakeBuf *f, size_t off, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++)
                f->b[off + (f->big ? n - 1 - i : i)] = (uint8_t) (v >> (8 * i));
}
#define FAKE_W(f) ((f)->is64 ? 8u : 4u)

static inline size_t fake_str(char *tab, size_t *n, const char *s) {
        size_t at = *n;
        strcpy(tab + at, s);
        *n += strlen(s) + 1;
        return at;
}

static inline void fake_phdr(FakeBuf *f, size_t at, uint32_t type, uint64_t off, uint64_t size) {
        fake_put(f, at, type, 4);
        if (f->is64) {
                fake_put(f, at + 8, off, 8);
                fake_put(f, at + 16, FAKE_VADDR + off, 8);
                fake_put(f, at + 32, size, 8);
                fake_put(f, at + 40, size, 8);
        } else {
                fake_put(f, at + 4, off, 4);
                fake_put(f, at + 8, FAKE_VADDR + off, 4);
                fake_put(f, at + 16, size, 4);
                fake_put(f, at + 20, size, 4);
        }
}

/* The object's bytes; free f->b. */
static inline FakeBuf fake_build(const Fake *o) {
        FakeBuf f = { .is64 = o->cls != ELFCLASS32, .big = o->data == ELFDATA2MSB };
        size_t nn = 0;
        while (o->needed[nn])
                nn++;
        size_t ehdr = f.is64 ? 64 : 52, phent = f.is64 ? 56 : 32, w = FAKE_W(&f);
        size_t ndyn = nn + o->extra_needed + 8;
        size_t long_strings = (o->soname ? strlen(o->soname) : 0) + (o->rpath ? strlen(o->rpath) : 0) +
                              (o->runpath ? strlen(o->runpath) : 0);
        char *tab = calloc(1, 4096 + 24 * o->extra_needed + long_strings);
        size_t tn = 1, strs[8], sonm = 0, rp = 0, rn = 0;
        for (size_t i = 0; i < nn; i++)
                strs[i] = fake_str(tab, &tn, o->needed[i]);
        size_t extra0 = tn;
        for (size_t i = 0; i < o->extra_needed; i++) {
                char name[32];
                snprintf(name, sizeof(name), "libextra%zu.so", i);
                fake_str(tab, &tn, name);
        }
        if (o->soname) sonm = fake_str(tab, &tn, o->soname);
        if (o->rpath) rp = fake_str(tab, &tn, o->rpath);
        if (o->runpath) rn = fake_str(tab, &tn, o->runpath);
        size_t interp_off = ehdr + 3 * phent, interp_len = o->interp ? strlen(o->interp) + 1 : 0;
        size_t tab_off = interp_off + interp_len, dyn_off = (tab_off + tn + 7) & ~(size_t) 7;
        f.len = dyn_off + ndyn * 2 * w;
        f.b = calloc(1, f.len);
        memcpy(f.b, ELFMAG, SELFMAG);
        f.b[EI_CLASS] = f.is64 ? ELFCLASS64 : ELFCLASS32;
        f.b[EI_DATA] = f.big ? ELFDATA2MSB : ELFDATA2LSB;
        f.b[EI_VERSION] = EV_CURRENT;
        fake_put(&f, 16, ET_DYN, 2);
        fake_put(&f, 18, o->machine ? o->machine : EM_X86_64, 2);
        fake_put(&f, f.is64 ? 32 : 28, ehdr, w);                  /* e_phoff */
        fake_put(&f, f.is64 ? 54 : 42, phent, 2);
        fake_put(&f, f.is64 ? 56 : 44, o->interp ? 3 : 2, 2);
        fake_phdr(&f, ehdr, PT_LOAD, 0, f.len);
        fake_phdr(&f, ehdr + phent, PT_DYNAMIC, dyn_off, ndyn * 2 * w);
        if (o->interp) {
                fake_phdr(&f, ehdr + 2 * phent, PT_INTERP, interp_off, interp_len);
                memcpy(f.b + interp_off, o->interp, interp_len);
        }
        memcpy(f.b + tab_off, tab, tn);
        size_t d = dyn_off;
#define DYN(tag, val) do { fake_put(&f, d, tag, w); fake_put(&f, d + w, val, w); d += 2 * w; } while (0)
        for (size_t i = 0; i < nn; i++)
                DYN(DT_NEEDED, strs[i]);
        for (size_t i = 0, at = extra0; i < o->extra_needed; i++, at += strlen(tab + at) + 1)
                DYN(DT_NEEDED, at);
        if (o->soname) DYN(DT_SONAME, sonm);
        if (o->rpath) DYN(DT_RPATH, rp);
        if (o->runpath) DYN(DT_RUNPATH, rn);
        if (o->nodeflib) DYN(DT_FLAGS_1, DF_1_NODEFLIB);
        DYN(DT_STRTAB, FAKE_VADDR + tab_off);
        DYN(DT_STRSZ, tn);
#undef DYN
        free(tab);
        return f;
}

static inline void write_bytes(const char *path, const void *b, size_t len) {
        FILE *fp = fopen(path, "we");
        cr_assert_not_null(fp, "fopen %s", path);
        cr_assert_eq(fwrite(b, 1, len, fp), len);
        fclose(fp);
}

/* Writes the object at dir/rel, making the directories on the way. */
static inline char *fake_write(const char *dir, const char *rel, const Fake *o) {
        char *path = path_join(dir, rel);
        char *parent = strdup(path);
        *strrchr(parent, '/') = '\0';
        cr_assert_eq(vg_mkdir_p(parent, 0755), 0, "mkdir %s", parent);
        free(parent);
        FakeBuf f = fake_build(o);
        write_bytes(path, f.b, f.len);
        free(f.b);
        return path;
}

/* An ld.so.cache (new format, little-endian) mapping keys[i] to values[i]. */
static inline void fake_cache(const char *path, const char *const *keys, const char *const *values, size_t n) {
        size_t strings = 48 + 24 * n, len = strings;
        for (size_t i = 0; i < n; i++)
                len += strlen(keys[i]) + strlen(values[i]) + 2;
        FakeBuf f = { .b = calloc(1, len), .len = len, .is64 = true };
        memcpy(f.b, "glibc-ld.so.cache1.1", 20);
        fake_put(&f, 20, n, 4);
        fake_put(&f, 24, len - strings, 4);
        f.b[28] = 2;
        for (size_t i = 0, at = strings; i < n; i++) {
                size_t e = 48 + 24 * i;
                fake_put(&f, e, 0x0303, 4);   /* ELF libc6, x86-64 */
                fake_put(&f, e + 4, at, 4);
                strcpy((char *) f.b + at, keys[i]);
                at += strlen(keys[i]) + 1;
                fake_put(&f, e + 8, at, 4);
                strcpy((char *) f.b + at, values[i]);
                at += strlen(values[i]) + 1;
        }
        write_bytes(path, f.b, f.len);
        free(f.b);
}
