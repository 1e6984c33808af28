/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by kernel.c (reading the facts), kernel-parse.c (/proc/modules,
 * modules.dep, the taint table), kernel-modinfo.c (module files) and
 * exposed to the unit tests and the fuzzer: the parsers of what the
 * kernel and depmod wrote, and of module files anyone root may drop.
 */
#pragma once

#include "virtgov/host/kernel.h"

/* Caps on what one input may make us hold: far above any real one
 * (/proc/modules with 200 modules: 12 KB; modules.dep: 600 KB; amdgpu.ko,
 * the largest in-tree module: 1,400 sections, 30 KB of names, 2 KB of
 * .modinfo). */
#define KERNEL_PROC_MODULES_MAX (4u << 20)
#define KERNEL_MODULES_DEP_MAX (64u << 20)
#define KERNEL_SHDRS_MAX (16u << 20)
#define KERNEL_SHSTRTAB_MAX (16u << 20)
#define KERNEL_MODINFO_MAX (1u << 20)

/* Lines not understood: how many, and the first as "file:line: why". */
typedef struct KernelSkips {
        size_t n;
        char first[512];
} KernelSkips;

void kernel_skip(KernelSkips *s, const char *file, size_t line, const char *why);

/* One line of /proc/modules, as parsed. Borrowed: points into the text. */
typedef struct KernelProcLine {
        const char *name;
        size_t name_len;
        uint64_t size;
        char state[12];
        char taint[16];
} KernelProcLine;

/*
 * Parses /proc/modules text: "NAME SIZE REFS DEPS STATE ADDRESS [(FLAGS)]"
 * a line. Calls fn for each good line (stops at its negative return,
 * which is returned); a bad one is counted in skips, naming file:line.
 */
int kernel_proc_modules_parse(const char *text, size_t len, const char *file, KernelSkips *skips,
                              int (*fn)(const KernelProcLine *l, void *u), void *u);

/* modules.dep, as a name -> file index. */
typedef struct KernelDepEntry {
        char *name;               /* the module's name: the file's base name to ".ko", '-' as '_' */
        char *path;               /* as modules.dep has it: relative to modules_dir, or absolute */
        size_t line;              /* its line: the first of twins wins */
} KernelDepEntry;

typedef struct KernelDep {
        KernelDepEntry *v;        /* sorted by name; the first line wins for a name given twice */
        size_t n;
} KernelDep;

void kernel_dep_clear(KernelDep *d);

/* Parses modules.dep ("FILE: DEP..." a line); bad lines go to skips.
 * -ENOMEM only. */
int kernel_dep_parse(const char *text, size_t len, const char *file, KernelDep *ret, KernelSkips *skips);

/* The file modules.dep names for a module (name as /proc/modules has
 * it, '-' and '_' alike), or NULL. */
const char *kernel_dep_find(const KernelDep *d, const char *name);

/* The module name of a file path: base name up to ".ko", '-' as '_'.
 * Returns the length written to buf (n bytes), 0 if it is no .ko name. */
size_t kernel_module_name_of(const char *path, size_t len, char *buf, size_t n);

/* Where module file bytes come from: a buffer, or an fd of size bytes. */
typedef struct KernelSource {
        const uint8_t *buf;
        int fd;
        uint64_t size;
} KernelSource;

void kernel_modinfo_read(const KernelSource *src, KernelModinfo *ret);

/* The status bits the per-module taint letters and the file's own
 * .modinfo and signature give. */
unsigned kernel_status_from(const char *taint, const KernelModinfo *info);
