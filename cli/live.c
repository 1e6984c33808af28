/* SPDX-License-Identifier: GPL-2.0-or-later */
#define LIVE_IMPLEMENTATION
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "live.h"

#define LIVE_DEFINE(f) __typeof__(&f) live_##f;
LIVE_FUNCTIONS(LIVE_DEFINE)
#undef LIVE_DEFINE

int live_load(const char **why) {
        static void *lib;
        if (lib)
                return 0;
        /* RTLD_NOW: a missing symbol fails here, not in the middle of a report. */
        void *h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                *why = dlerror();
                return -ENOENT;
        }
#define LIVE_LOOKUP(f)                                                  \
        if (!(live_##f = (__typeof__(&f)) dlsym(h, #f))) {              \
                *why = "libvirt.so.0 lacks " #f;                        \
                dlclose(h);                                             \
                return -ENOENT;                                         \
        }
        LIVE_FUNCTIONS(LIVE_LOOKUP)
#undef LIVE_LOOKUP
        lib = h;
        return 0;
}
