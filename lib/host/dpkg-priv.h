/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dpkg's database inside: the parsed status file, the path index and the
 * log's changes, and the parse-from-buffer entry points the fuzzer and the
 * unit tests call. Not for other modules: they use virtgov/host/dpkg.h.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "virtgov/host/dpkg.h"

#define DPKG_NONE UINT32_MAX

typedef struct DpkgConffile {
        char *path;
        char md5[33];                 /* "" for "newconffile" */
        unsigned flags;               /* DPKG_CONFFILE_* */
} DpkgConffile;

typedef struct DpkgPackage {
        char *name, *arch, *qname;    /* qname: "name:arch" (name alone if no Architecture) */
        char *version, *state;
        bool multiarch_same;          /* its info files are named qname, not name */
        DpkgConffile *conffiles;
        size_t n_conffiles;
} DpkgPackage;

typedef struct DpkgDiversion {
        char *from, *to, *by;
} DpkgDiversion;

/* One path of one package. Records of the same path chain through next,
 * so the map holds one slot per path however many packages list it. */
typedef struct DpkgRecord {
        const char *path;             /* into a .list buffer or a conffile's path */
        uint32_t pkg;                 /* index into Dpkg.packages */
        uint32_t next;                /* next record of the same path, or DPKG_NONE */
        uint32_t conffile;            /* index into the package's conffiles, or DPKG_NONE */
        bool has_md5;
        uint8_t md5[16];
} DpkgRecord;

/* Open addressing over indexes into some array; the key of index i comes
 * from a callback, so the strings are stored once, in the array. */
typedef const char *(*DpkgKeyFn)(const Dpkg *d, uint32_t i);
typedef struct DpkgSlot {
        uint32_t index;               /* index + 1; 0 is empty */
        uint32_t hash;                /* the key's, so a probe compares strings only on a likely hit */
} DpkgSlot;
typedef struct DpkgMap {
        DpkgSlot *slots;
        size_t cap, n;
        DpkgKeyFn key;
} DpkgMap;

typedef struct DpkgLogEntry {
        char *package;
        DpkgChange change;
} DpkgLogEntry;

struct Dpkg {
        char *admindir, *logfile;
        bool usrmerge;

        DpkgPackage *packages;
        size_t n_packages;
        DpkgMap package_map;          /* qname -> package */
        DpkgDiversion *diversions;
        size_t n_diversions;
        DpkgMap divert_from, divert_to;

        bool index_loaded;
        bool restricted;              /* dpkg_restrict: only the wanted paths are indexed */
        char **wanted;                /* sorted */
        size_t n_wanted;
        char **arenas;                /* .list contents, paths point into them */
        size_t n_arenas;
        DpkgRecord *records;
        size_t n_records;
        DpkgMap path_map;             /* path -> first record */

        bool log_loaded;
        DpkgLogEntry *changes;
        size_t n_changes;
        DpkgMap change_map;           /* package -> change */

        DpkgStats stats;
};

/* One parsed line of dpkg.log. */
typedef struct DpkgLogLine {
        int64_t time_us;              /* dpkg logs local time; converted with mktime */
        DpkgAction action;
        char package[256];            /* "" for startup and conffile lines */
        char state[32];               /* status lines: the new state */
        char old_version[128], new_version[128];   /* "" for "<none>" */
} DpkgLogLine;

/* An empty database (no files read), for the parsers below. */
int dpkg_new(const char *admindir, const char *logfile, Dpkg **ret);

/* dpkg-map.c, below the loader and the parsers: */

/* Counts a skipped stanza or line and keeps the first as "file:line: why".
 * Returns 0, so a parser can `return dpkg_skip(...)` and go on. */
int dpkg_skip(Dpkg *d, const char *file, size_t line, const char *why);

/* The map: get returns the index or DPKG_NONE; put adds i (its key absent). */
uint32_t dpkg_map_get(const Dpkg *d, const DpkgMap *m, const char *key);
int dpkg_map_put(const Dpkg *d, DpkgMap *m, uint32_t i);
void dpkg_map_clear(DpkgMap *m);

/* Parsers of one file's bytes (any bytes: NULs, CRs, no final newline).
 * name is the file as errors name it. Malformed parts are skipped through
 * dpkg_skip. Return 0 or -ENOMEM. */
int dpkg_parse_status(Dpkg *d, const char *buf, size_t len, const char *name);
int dpkg_parse_diversions(Dpkg *d, const char *buf, size_t len, const char *name);
int dpkg_parse_log(Dpkg *d, const char *buf, size_t len, const char *name);
/* .list takes buf (malloc'd, len + 1 bytes) into the index's arenas, even on
 * error; .md5sums only reads it. */
/* Whether the index keeps path: every path, unless dpkg_restrict said
 * which. */
bool dpkg_wanted(const Dpkg *d, const char *path);
int dpkg_index_add_list(Dpkg *d, uint32_t pkg, char *buf, size_t len, const char *name);
int dpkg_index_add_md5sums(Dpkg *d, uint32_t pkg, const char *buf, size_t len, const char *name);
int dpkg_index_add_conffiles(Dpkg *d);

/* One log line (without its newline): 0, or -EINVAL for anything that is
 * not a line dpkg writes. */
int dpkg_log_parse_line(const char *line, size_t len, DpkgLogLine *ret);

/* Lines of a buffer: a final line without '\n' counts, a trailing "\r" is
 * cut (CRLF), and has_nul says the line holds a NUL byte. */
typedef struct DpkgLines {
        const char *p, *end;
        size_t lineno;
} DpkgLines;

static inline bool dpkg_next_line(DpkgLines *it, const char **ret_line, size_t *ret_len, bool *ret_has_nul) {
        if (it->p >= it->end)
                return false;
        const char *nl = memchr(it->p, '\n', (size_t) (it->end - it->p));
        const char *stop = nl ? nl : it->end;
        size_t len = (size_t) (stop - it->p);
        if (len > 0 && it->p[len - 1] == '\r')
                len--;
        *ret_line = it->p;
        *ret_len = len;
        *ret_has_nul = memchr(it->p, '\0', len) != NULL;
        it->p = nl ? nl + 1 : it->end;
        it->lineno++;
        return true;
}
