/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shared libraries the dynamic loader would load for an ELF file (an
 * emulator, a daemon), found as glibc's ld.so finds them: PT_INTERP, then
 * breadth-first over DT_NEEDED, each name searched in DT_RPATH (of the
 * object and its loaders, only when the object has no DT_RUNPATH), then
 * DT_RUNPATH (the object's own), then /etc/ld.so.cache, then the default
 * directories. Everything is read from the files; nothing is run, and ldd
 * (which runs the binary under the loader) never is.
 *
 * Integrity monitoring watches what this returns, so it must not be
 * steerable by the caller's environment: LD_LIBRARY_PATH, LD_PRELOAD and
 * /etc/ld.so.preload are ignored (the daemon's environment is not QEMU's;
 * libvirt starts QEMU with a clean one). Not modelled: glibc-hwcaps and
 * legacy hwcap subdirectories (none on Debian 12 x86_64), secure-mode
 * (setuid) restrictions on $ORIGIN, relative or empty RPATH/RUNPATH
 * elements (they name the working directory, unknown here: dropped), and
 * dlopen()ed modules (QEMU's block and UI modules: a profile watches their
 * directory instead).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

/* A real closure is about 100 objects (qemu-system-x86_64 on Debian 12:
 * 50). More than this is a hostile or broken tree, and is an error. */
#define ELFDEPS_MAX_OBJECTS 1024

/* needed_by of an object that the resolved file itself needs. */
#define ELFDEPS_TOP ((size_t) -1)

typedef struct ElfdepsOptions {
        /* A directory that stands for "/" for every path read (the file,
         * its interpreter, ld.so.cache, the search directories); symlinks
         * resolve inside it, as in a chroot. NULL means "/". */
        const char *root;
        /* The loader's cache, under root. NULL means /etc/ld.so.cache, ""
         * means none. A missing cache is not an error (nor for ld.so). */
        const char *ld_cache;
        /* The last directories searched, NULL-terminated. NULL derives them
         * from the file's machine: /lib/<triplet>, /usr/lib/<triplet>,
         * /lib, /usr/lib, and for 64-bit /lib64, /usr/lib64. */
        const char *const *default_dirs;
        /* What $LIB and $PLATFORM expand to; NULL derives them from the
         * machine and the tree (lib/<triplet> where it exists, as Debian's
         * glibc does; else lib64 or lib; x86_64, i686, aarch64). */
        const char *lib;
        const char *platform;
        /* 0 means ELFDEPS_MAX_OBJECTS. */
        size_t max_objects;
        /* What earlier resolves with the same root learnt of the files
         * they opened, and ld.so.cache parsed: NULL, or a memo shared by
         * resolves of programs that share their libraries. */
        struct ElfdepsMemo *memo;
} ElfdepsOptions;

typedef enum ElfdepsStatus {
        ELFDEPS_FOUND,
        ELFDEPS_NOT_FOUND,   /* the loader would fail: "cannot open shared object" */
        ELFDEPS_BAD,         /* the search stopped at a file ld.so would refuse (problem says why) */
} ElfdepsStatus;

typedef enum ElfdepsSource {
        ELFDEPS_SOURCE_NONE,      /* not found */
        ELFDEPS_SOURCE_INTERP,    /* PT_INTERP */
        ELFDEPS_SOURCE_PATH,      /* a DT_NEEDED with a '/', opened as written */
        ELFDEPS_SOURCE_RPATH,
        ELFDEPS_SOURCE_RUNPATH,
        ELFDEPS_SOURCE_CACHE,
        ELFDEPS_SOURCE_DEFAULT,
} ElfdepsSource;

typedef struct ElfdepsEntry {
        char *name;       /* the DT_NEEDED string, or the PT_INTERP path */
        char *path;       /* as the loader opens it (under root); NULL unless found or bad */
        char *realpath;   /* path with every symlink resolved (under root); NULL when path is */
        char *problem;    /* why it is bad or was not found; NULL when found */
        size_t needed_by; /* index of the entry that first needed it, or ELFDEPS_TOP */
        unsigned depth;   /* 1 for what the file needs itself (and its interpreter) */
        ElfdepsStatus status;
        ElfdepsSource source;
} ElfdepsEntry;

typedef struct ElfdepsList {
        char *path, *realpath;   /* the file resolved, as given and canonical */
        ElfdepsEntry *entries;   /* the interpreter first, then breadth-first load order */
        size_t n;
        /* Set when ld.so.cache exists but could not be used (ld.so then
         * ignores it too); the defaults were searched without it. */
        char *cache_problem;
} ElfdepsList;

/*
 * Resolves the closure of the absolute path (under opt->root; opt may be
 * NULL for the defaults) into *ret: one entry per object the loader would
 * map, each once (matched by name, soname and file identity, as ld.so
 * does, so DT_NEEDED cycles end), with libraries of another ELF class,
 * byte order or machine skipped as ld.so skips them. A library that is
 * missing or invalid is an entry (NOT_FOUND, BAD), not a failure.
 *
 * Fails, setting err, when the file itself cannot be read or is not an ELF
 * file (a FIFO, device or directory is never opened for reading:
 * -EISDIR, -ENODEV), with -E2BIG past max_objects (a limit, said, never a
 * silent truncation), or -ENOMEM. Reads with pread, never mmap, so a file
 * truncated while it is read is an error, not a SIGBUS.
 */
int elfdeps_resolve(const char *path, const ElfdepsOptions *opt, ElfdepsList **ret, VgError *err);

/* Frees the list and every string in it; NULL is a no-op. Returns NULL. */
ElfdepsList *elfdeps_list_free(ElfdepsList *l);
DEFINE_POINTER_CLEANUP(ElfdepsList, elfdeps_list_free)

/*
 * A memo of the files resolves opened (their identity, ELF headers,
 * dynamic sections and real paths) and of the parsed ld.so.cache, for
 * the resolves of several programs at once: the isolation profile's ten
 * programs opened libc.so.6 ten times. It takes the files not to change
 * while it lives, so make one for one batch of resolves (a profile load)
 * and free it after. elfdeps_memo_free(NULL) is a no-op.
 */
typedef struct ElfdepsMemo ElfdepsMemo;
ElfdepsMemo *elfdeps_memo_new(void);
ElfdepsMemo *elfdeps_memo_free(ElfdepsMemo *m);
DEFINE_POINTER_CLEANUP(ElfdepsMemo, elfdeps_memo_free)

/* "interp", "path", "rpath", "runpath", "ld.so.cache", "default" or
 * "none": where an entry was found, for reports. */
const char *elfdeps_source_name(ElfdepsSource s);
