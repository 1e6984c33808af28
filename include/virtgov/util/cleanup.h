/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scope-bound cleanup, after systemd's cleanup-fundamental.h.
 *
 *   _cleanup_free_ char *s = strdup(x);     freed when s goes out of scope
 *   return TAKE_PTR(s);                     hand ownership to the caller
 *
 * Every *_free() in virtgov accepts NULL and returns NULL, so these helpers
 * are safe on every path.
 */
#pragma once

#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Return the pointer and clear the variable, so its cleanup does nothing. */
#define TAKE_PTR(p)                                                     \
        ({                                                              \
                __typeof__(p) _ptr_ = (p);                              \
                (p) = NULL;                                             \
                _ptr_;                                                  \
        })

#define TAKE_FD(fd)                                                     \
        ({                                                              \
                int _fd_ = (fd);                                        \
                (fd) = -1;                                              \
                _fd_;                                                   \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* DEFINE_POINTER_CLEANUP(Foo, foo_free) gives foo_freep() for _cleanup_. */
#define DEFINE_POINTER_CLEANUP(type, func)                              \
        static inline void func##p(type **p) {                          \
                if (*p)                                                 \
                        func(*p);                                       \
        }

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
