/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by elfdeps.c (the search), elfdeps-elf.c (one ELF file's dynamic
 * section) and elfdeps-cache.c (ld.so.cache), and exposed to the unit
 * tests and the fuzzer: the two parsers of files an attacker may plant.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "virtgov/host/elfdeps.h"

/* Caps on what one file may make us read: far above any real object
 * (qemu-system-x86_64: 1.2 KB of dynamic section, 60 KB of strings). */
#define ELF_PHDRS_MAX (1u << 20)
#define ELF_DYNAMIC_MAX (1u << 20)
#define ELF_STRTAB_MAX (16u << 20)
#define LDCACHE_MAX (64u << 20)

/* Where bytes come from: a memory buffer (buf set) or a file (fd, size). */
typedef struct ElfSource {
        const uint8_t *buf;
        int fd;
        uint64_t size;
} ElfSource;

/* What the loader needs of one object. The strings are copies. */
typedef struct ElfObject {
        uint8_t cls, data;        /* EI_CLASS, EI_DATA */
        uint16_t machine, type;   /* e_machine, e_type */
        char *interp;             /* PT_INTERP or NULL */
        char *soname, *rpath, *runpath;   /* NULL when absent */
        char **needed;            /* DT_NEEDED in file order */
        size_t n_needed;
        bool nodeflib;            /* DF_1_NODEFLIB: no cache, no default dirs */
} ElfObject;

/*
 * (Named elfdeps_elf_*: elf_* is libelf's namespace.)
 *
 * Parses the ELF header of src into the ident fields of *ret and, unless
 * header_only, its PT_INTERP and dynamic section. Returns 0, or -ENOEXEC
 * (not ELF, unsupported, truncated, offsets out of range, strings not
 * terminated) or -EIO/-ENOMEM with err saying which, prefixed by what.
 * *ret is zeroed first and must be released with elfdeps_elf_done().
 */
int elfdeps_elf_parse(const ElfSource *src, const char *what, bool header_only, ElfObject *ret, VgError *err);
void elfdeps_elf_done(ElfObject *o);
/* A deep copy of src into *dst (0, or -ENOMEM with *dst empty). */
int elfdeps_elf_copy(const ElfObject *src, ElfObject *dst);

/* The loader's search cache, parsed (glibc-ld.so.cache1.1). */
typedef struct LdCache LdCache;

/*
 * Parses a copy of buf (len bytes) as ld.so.cache: the new format alone or
 * after the old one. -EINVAL with err set on any inconsistency; ld.so
 * ignores such a cache, and so must the caller.
 */
int ldcache_parse(const void *buf, size_t len, LdCache **ret, VgError *err);
LdCache *ldcache_free(LdCache *c);
DEFINE_POINTER_CLEANUP(LdCache, ldcache_free)

/*
 * The next library path the cache gives for name (*pos 0 for the first,
 * then as this call left it, for the same name), in the cache's order;
 * NULL when there is none.
 * Only plain entries (no hwcap) of an ELF libc6 type are returned: the
 * caller checks the file's class and machine, as ld.so does.
 */
const char *ldcache_next(const LdCache *c, const char *name, size_t *pos);

/* The directory that stands for "/" (elfdeps-path.c). */
typedef struct ElfRoot {
        int fd;       /* O_PATH of the directory */
        char *path;   /* its realpath; "" for "/", so path + name is the host's path */
} ElfRoot;

/* Opens root (NULL for "/"); -errno with err set if it is not a directory. */
int elfroot_open(const char *root, ElfRoot *ret, VgError *err);
void elfroot_close(ElfRoot *r);

/*
 * Opens the absolute path inside root for reading, symlinks resolved
 * inside it: an fd, or -errno. Anything but a regular file is refused
 * before it is opened for reading (an O_PATH open and fstat first, then
 * the identity checked again): -EISDIR, -ENODEV for FIFOs, sockets and
 * devices, -EAGAIN if the file was swapped in between. *ret_st is the
 * file's stat.
 */
int elfroot_open_file(const ElfRoot *r, const char *path, struct stat *ret_st);

/* The canonical path (under root, as the loader would see it) of the file
 * open at fd, which was opened as path. */
int elfroot_realpath(const ElfRoot *r, int fd, const char *path, char **ret);

/* Whether path is a directory inside root. */
bool elfroot_is_dir(const ElfRoot *r, const char *path);

/* What the dynamic string tokens expand to; NULL makes an element that
 * uses the token unusable (ld.so drops it too). */
typedef struct ElfDst {
        const char *origin, *lib, *platform;
} ElfDst;

/*
 * Expands $ORIGIN, $LIB and $PLATFORM (bare, when followed by '/' or the
 * end, or in braces, as ld.so) in s; other '$' text is kept as written.
 * -ENOENT when a token has no value, -ENAMETOOLONG past PATH_MAX.
 */
int elfdst_expand(const char *s, const ElfDst *d, char **ret);

/*
 * Splits a DT_RPATH/DT_RUNPATH value at ':' and expands each element into
 * a NULL-terminated array of absolute directories. Elements that are
 * empty or relative (the working directory: unknown here) or that cannot
 * be expanded are dropped.
 */
int elfdst_split(const char *list, const ElfDst *d, char ***ret);

/* Frees a NULL-terminated array of strings; NULL is a no-op. */
void elfdeps_strv_free(char **v);
