/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * elfdeps: the two parsers of files an attacker may plant where the
 * loader looks (a library in a search directory, /etc/ld.so.cache), fed
 * the same bytes: one ELF object's PT_INTERP and dynamic section, then the
 * tokens of its RPATH/RUNPATH, and the cache with a few lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/host/elfdeps-priv.h"

static void expand(const char *list) {
        ElfDst d = { .origin = "/usr/bin", .lib = "lib/x86_64-linux-gnu", .platform = "x86_64" };
        char **dirs = NULL;
        if (list && elfdst_split(list, &d, &dirs) == 0) {
                for (size_t i = 0; dirs[i]; i++)
                        if (dirs[i][0] != '/')
                                __builtin_trap();   /* only absolute directories are searched */
                elfdeps_strv_free(dirs);
        }
}

static void parse_elf(const uint8_t *data, size_t size) {
        ElfSource src = { .buf = data, .size = size };
        ElfObject o;
        VgError err = { "" };
        if (elfdeps_elf_parse(&src, "fuzz", false, &o, &err) < 0) {
                if (!err.text[0])
                        __builtin_trap();   /* every refusal says why */
                return;
        }
        for (size_t i = 0; i < o.n_needed; i++)
                if (!o.needed[i] || !o.needed[i][0])
                        __builtin_trap();
        expand(o.rpath);
        expand(o.runpath);
        elfdeps_elf_done(&o);
}

static void parse_cache(const uint8_t *data, size_t size) {
        LdCache *c = NULL;
        if (ldcache_parse(data, size, &c, NULL) < 0)
                return;
        static const char *const names[] = { "libc.so.6", "libz.so.1", "" };
        for (size_t i = 0; i < 3; i++) {
                size_t pos = 0;
                for (const char *p; (p = ldcache_next(c, names[i], &pos));)
                        if (p[0] != '/')
                                __builtin_trap();
        }
        ldcache_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        parse_elf(data, size);
        parse_cache(data, size);
        return 0;
}
