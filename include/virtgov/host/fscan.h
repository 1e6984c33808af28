/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Measuring files for integrity monitoring: what a file is (type, mode,
 * owner, size, inode, times, symlink target, security.* extended
 * attributes) and the SHA-256 of its content. Never the content itself.
 *
 * A scan walks a list of roots (a file, or a directory and everything
 * beneath it, never following symlinks, never opening what is not a
 * regular file), then hashes the regular files on every core: hashing is
 * the whole cost of a baseline (one core hashes about 1.3 GB/s here), and
 * the walk is a few percent of it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

#define FSCAN_SHA256_HEX 65

/* Which attributes of a file count. A rule's mask: what changes in the
 * others is not drift. */
typedef enum FscanAttr {
        FSCAN_TYPE = 1 << 0,
        FSCAN_MODE = 1 << 1,
        FSCAN_UID = 1 << 2,
        FSCAN_GID = 1 << 3,
        FSCAN_SIZE = 1 << 4,
        FSCAN_INODE = 1 << 5,     /* inode and device */
        FSCAN_MTIME = 1 << 6,
        FSCAN_CTIME = 1 << 7,
        FSCAN_TARGET = 1 << 8,    /* a symlink's target */
        FSCAN_XATTRS = 1 << 9,    /* security.* */
        FSCAN_SHA256 = 1 << 10,   /* the content */
        /* Existence, type and owner: nvram files, which guests write. */
        FSCAN_OWNER_ONLY = FSCAN_TYPE | FSCAN_UID | FSCAN_GID,
        FSCAN_ALL = (1 << 11) - 1,
} FscanAttr;

/* One file as measured. Strings are owned by the list that holds it. */
typedef struct FscanFile {
        char *path;
        const char *tag;          /* its root's tag (a profile's name), held by the list; or NULL */
        char type;                /* f regular, d directory, l symlink, p FIFO, s socket, c, b devices */
        unsigned attrs;           /* FscanAttr: what counts for this file (its rule's) */
        uint32_t mode;            /* permission bits with setuid, setgid, sticky */
        uint32_t uid, gid;
        uint64_t size, ino, dev;
        int64_t mtime_ns, ctime_ns;
        int64_t time_us;          /* when it was measured (the scan's start) */
        char *target;             /* a symlink's target; NULL otherwise */
        char *xattrs;             /* "name=hexvalue\n" per security.* attribute, sorted; NULL: none */
        char sha256[FSCAN_SHA256_HEX];  /* "" when not hashed (not a regular file, not asked, or error) */
        int error;                /* 0, or the negative errno of measuring it (its content unreadable,
                                   * -ESTALE: it changed or was replaced while read) */
} FscanFile;

typedef struct FscanList {
        FscanFile *files;         /* sorted by path, byte order, unique */
        size_t n;
        size_t n_hashed;          /* files read and hashed in this scan */
        uint64_t bytes_hashed;
        size_t n_errors;          /* roots or directories that could not be read (FscanFile.error) */
        char **tags;              /* the distinct tags its files point to */
        size_t n_tags;
} FscanList;

FscanList *fscan_list_free(FscanList *l);
/* The list's copy of tag, made on first use: what FscanFile.tag points to.
 * NULL for NULL, or on ENOMEM. */
const char *fscan_list_tag(FscanList *l, const char *tag);
DEFINE_POINTER_CLEANUP(FscanList, fscan_list_free)

/* A root to scan: path (absolute), whether to descend, what counts. */
typedef struct FscanRoot {
        const char *path;
        bool recurse;
        unsigned attrs;           /* FscanAttr */
        const char *tag;          /* given to each file under it (copied); NULL: none */
} FscanRoot;

/* The file as it was measured before, when nothing that stat shows has
 * changed (type, size, inode, device, mtime and ctime); NULL to measure it
 * anew. Its hash, security.* attributes and symlink target are then taken
 * over without reading the file: changing an attribute changes the
 * ctime, and a symlink is never rewritten in place. */
typedef const FscanFile *(*FscanPrevious)(const FscanFile *cur, void *userdata);

typedef struct FscanOptions {
        const char *const *exclude;   /* NULL-ended absolute paths: skipped, with all beneath */
        unsigned threads;             /* hashing threads; 0: one per online CPU */
        FscanPrevious previous;       /* NULL: read every file's content and attributes */
        void *userdata;
} FscanOptions;

/*
 * Scans the roots: every path under them once (a path under two roots gets
 * the first root's rule). A root that does not exist is simply absent from
 * the list (a removed file is drift, not an error); any other failure to
 * read a root or a directory is an entry with error set, so that nothing
 * goes missing unsaid. Returns 0, or -ENOMEM.
 */
int fscan_scan(const FscanRoot *roots, size_t n_roots, const FscanOptions *opt, FscanList **ret, VgError *err);

/* fscan_scan in its two halves, so that a caller can prepare
 * opt->previous (read a baseline) while the walk runs: fscan_walk finds
 * every path and lstat()s it (opt->exclude counts, nothing else),
 * fscan_measure then hashes and reads the rest as fscan_scan would. */
int fscan_walk(const FscanRoot *roots, size_t n_roots, const FscanOptions *opt, FscanList **ret, VgError *err);
int fscan_measure(FscanList *l, const FscanOptions *opt, VgError *err);

/* Measures one path (no descent) as fscan_scan would, hashing it when attrs
 * has FSCAN_SHA256. -ENOENT when it does not exist. */
int fscan_file(const char *path, unsigned attrs, FscanFile *ret);

/* The SHA-256 of what fd reads from its offset to the end, as lowercase
 * hex. The one hashing loop of virtgov: scans and processes' mappings
 * (procscan.h) read through it. It reads into 128 KiB of its stack.
 * 0 or a negative errno. */
int fscan_hash_fd(int fd, char hex[FSCAN_SHA256_HEX]);

/* Frees the strings of f (not f itself). */
void fscan_file_clear(FscanFile *f);

/* The name of one FscanAttr bit ("mode", "sha256", ...), or NULL. */
const char *fscan_attr_name(unsigned attr);

/* The attributes in which a and b differ, among those mask counts. */
unsigned fscan_diff(const FscanFile *a, const FscanFile *b, unsigned mask);

/* The entry of path in l, or NULL (bsearch). */
const FscanFile *fscan_find(const FscanList *l, const char *path);
