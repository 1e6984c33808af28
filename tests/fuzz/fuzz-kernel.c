/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernel: the parsers of what /proc/modules, depmod and a module file
 * hold, fed the same bytes: a module file's headers and .modinfo, then
 * the text as /proc/modules and as modules.dep, with lookups of each
 * module /proc/modules names.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/host/kernel-priv.h"

static void modinfo(const uint8_t *data, size_t size) {
        KernelModinfo m;
        kernel_modinfo_parse(data, size, &m);
        /* Every file that is not read whole says why. */
        if (!m.has_modinfo && !m.problem[0])
                __builtin_trap();
        if (m.format != KERNEL_FILE_ELF && (m.has_modinfo || m.signature))
                __builtin_trap();
        if (strlen(m.name) >= sizeof(m.name) || strlen(m.vermagic) >= sizeof(m.vermagic))
                __builtin_trap();
        (void) kernel_status_from("POEFC", &m);
}

static int lookup(const KernelProcLine *l, void *u) {
        char name[64];
        if (!l->name_len || l->name_len >= sizeof(name))
                __builtin_trap();
        memcpy(name, l->name, l->name_len);
        name[l->name_len] = '\0';
        const char *path = kernel_dep_find(u, name);
        if (path && !*path)
                __builtin_trap();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        modinfo(data, size);
        KernelSkips skips = { 0 };
        KernelDep dep;
        if (kernel_dep_parse((const char *) data, size, "modules.dep", &dep, &skips) < 0)
                return 0;
        for (size_t i = 0; i < dep.n; i++)
                if (!dep.v[i].name[0] || !kernel_dep_find(&dep, dep.v[i].name))
                        __builtin_trap();   /* each name found again */
        if (skips.n && !skips.first[0])
                __builtin_trap();
        kernel_proc_modules_parse((const char *) data, size, "modules", &skips, lookup, &dep);
        kernel_dep_clear(&dep);
        return 0;
}
