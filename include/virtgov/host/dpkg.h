/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What dpkg knows about a file: which package ships it, at which version,
 * the MD5 the package shipped it with, whether it is a conffile, and when
 * dpkg last touched that package. The integrity checker uses it to tell a
 * package update and a hand-edited conffile from unexplained drift.
 *
 * Everything is read from dpkg's own files, never by running dpkg:
 *   ADMINDIR/status           packages, versions, conffiles (and their MD5)
 *   ADMINDIR/info/P.list      the paths of package P
 *   ADMINDIR/info/P.md5sums   their MD5s (paths without the leading '/')
 *   ADMINDIR/diversions       three lines per diversion: from, to, package
 *   LOGFILE, LOGFILE.1, LOGFILE.N.gz   the transactions
 * P is "name:arch" for a Multi-Arch: same package and "name" otherwise, as
 * dpkg names its info files.
 *
 * All of it is untrusted text to the parser: malformed stanzas and lines are
 * skipped and counted (DpkgStats names the first one as file:line), so one
 * bad line does not hide the thousand good ones; only an unreadable status
 * file, or running out of memory, is an error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

#define DPKG_DEFAULT_ADMINDIR "/var/lib/dpkg"
#define DPKG_DEFAULT_LOGFILE "/var/log/dpkg.log"

typedef struct Dpkg Dpkg;

/* Conffile flags, the words after the MD5 in the status file's Conffiles. */
enum {
        DPKG_CONFFILE_OBSOLETE = 1 << 0,            /* no longer shipped; dpkg leaves it alone */
        DPKG_CONFFILE_REMOVE_ON_UPGRADE = 1 << 1,   /* dpkg removes it at the next upgrade */
};

/* What dpkg_owner found. Every pointer is borrowed from the Dpkg and valid
 * until dpkg_free. */
typedef struct DpkgFile {
        const char *package;          /* "libc6:amd64", "adduser:all", as dpkg.log names it; NULL: not packaged */
        const char *version;          /* installed version, from the status file */
        const char *state;            /* the status word: "installed", "config-files", ... */
        const char *listed_path;      /* the path as the package lists it: differs from the one asked
                                       * for when found through the merged-/usr alias */
        bool has_md5;                 /* the package's md5sums has the file */
        char md5[33];                 /* lowercase hex, "" when !has_md5 */
        bool conffile;
        char conffile_md5[33];        /* recorded by dpkg; "" while it is "newconffile" (mid-install) */
        unsigned conffile_flags;      /* DPKG_CONFFILE_* */
        unsigned n_owners;            /* packages listing the path (directories, Multi-Arch: same) */
        bool diverted;                /* the path is one end of a diversion */
        const char *diverted_from;    /* the path packages ship it under (when asked for the "to" end) */
        const char *diverted_to;      /* where packages' copies go (when asked for the "from" end) */
        const char *diverted_by;      /* the diverting package, or ":" for a local diversion */
} DpkgFile;

typedef enum DpkgAction {
        DPKG_ACTION_NONE,
        DPKG_ACTION_INSTALL,
        DPKG_ACTION_UPGRADE,
        DPKG_ACTION_REMOVE,
        DPKG_ACTION_PURGE,
        DPKG_ACTION_CONFIGURE,
        DPKG_ACTION_TRIGPROC,
        DPKG_ACTION_STATUS,
        DPKG_ACTION_STARTUP,
        DPKG_ACTION_CONFFILE,
        _DPKG_ACTION_MAX,
} DpkgAction;

/* The last transaction dpkg's log records for one package. */
typedef struct DpkgChange {
        DpkgAction action;            /* the last install, upgrade, remove or purge */
        int64_t time_us;              /* when that line was logged */
        char old_version[128];        /* "" for dpkg's "<none>" */
        char new_version[128];
        int64_t last_time_us;         /* the last install, upgrade, remove, purge or configure: dpkg
                                       * writes files at unpack and conffiles at configure */
} DpkgChange;

/* How much was read, and what was skipped. */
typedef struct DpkgStats {
        size_t n_packages, n_diversions;
        size_t n_paths, n_md5s;           /* 0 until the index is loaded */
        size_t n_log_lines;               /* 0 until the log is read */
        size_t n_skipped;                 /* malformed stanzas and lines, in every file */
        char first_skipped[512];          /* "file:line: why" of the first, "" if none */
        int64_t index_load_us;            /* how long the index took to build */
        size_t index_bytes;               /* memory the index holds */
} DpkgStats;

/*
 * Opens dpkg's database: reads ADMINDIR/status and ADMINDIR/diversions now
 * (a missing diversions file is none); the file index and the log are read
 * on first use. NULL admindir or logfile means the default. An unreadable
 * status file is an error naming it.
 */
int dpkg_open(const char *admindir, const char *logfile, Dpkg **ret, VgError *err);

/* Frees everything, including the strings DpkgFile pointed into. NULL is a
 * no-op; returns NULL. */
Dpkg *dpkg_free(Dpkg *d);
DEFINE_POINTER_CLEANUP(Dpkg, dpkg_free)

/*
 * Turns the merged-/usr alias on (the default: Debian 12 is merged) or off.
 * With it on, a path not listed as such is looked up under its other name:
 * /usr/bin/X as /bin/X and back, the same for sbin, lib, lib32, lib64 and
 * libx32, because packages still list files under /bin that now live in
 * /usr/bin (and a few the other way).
 */
void dpkg_set_usrmerge(Dpkg *d, bool on);

/*
 * Who ships path (absolute, as the checker sees it). Builds the index of
 * every package's .list and .md5sums on first call (about 150,000 paths on
 * a desktop-sized host). Returns 0 with ret->package NULL for a path no
 * package lists; a diversion is reported either way:
 *  - asked for the "to" end (/usr/bin/pg_config.libpq-dev), the owner is the
 *    package that ships the "from" path and is not the diverter;
 *  - asked for the "from" end, the owner is the diverting package if it
 *    ships that path, else none (a local diversion holds the admin's file).
 * Where several packages list a path, a conffile owner that is not
 * obsolete wins, then one with an MD5, then the first in status order.
 * Errors: -ENOMEM, or reading info/ failed (err says which file).
 */
int dpkg_owner(Dpkg *d, const char *path, DpkgFile *ret, VgError *err);

/*
 * Before the first dpkg_owner: index only these paths (with their merged-
 * /usr aliases and the other ends of their diversions), for a caller that
 * will ask about a few. Every .list is still read, but only the wanted
 * lines are kept: a check that found a handful of drifted files holds
 * kilobytes instead of the whole system's 18 MiB (the daemon's budget).
 * dpkg_owner of any other path then answers "not packaged". -EBUSY once
 * the index is loaded.
 */
int dpkg_restrict(Dpkg *d, const char *const *paths, size_t n);

/*
 * The last transaction dpkg's log records for package ("name:arch", as
 * DpkgFile.package). Reads the log on first call: LOGFILE.N.gz (N from 2,
 * while they exist), LOGFILE.1, then LOGFILE, so later lines win. Missing
 * log files are not an error (a host may have rotated them all away).
 * -ENOENT if no line names the package.
 */
int dpkg_last_change(Dpkg *d, const char *package, DpkgChange *ret, VgError *err);

/* The counts so far (loads nothing). */
void dpkg_stats(const Dpkg *d, DpkgStats *ret);

/*
 * The MD5 of a regular file's content as 32 lowercase hex digits, as dpkg's
 * md5sums hold it. The path is opened O_PATH|O_NOFOLLOW first and only a
 * regular file is then opened for reading (through /proc/self/fd), so a
 * symlink (-ELOOP), FIFO, socket or device (-EBADFD) is never opened, and
 * nothing can swap the file in between.
 */
int dpkg_md5_file(const char *path, char hex[static 33], VgError *err);

/* The same for an fd the caller opened; -EBADFD unless it is a regular file. */
int dpkg_md5_fd(int fd, char hex[static 33]);

/* ---- classifying drift: pure, no I/O ---- */

typedef enum DpkgVerdict {
        DPKG_VERDICT_UNEXPLAINED,
        DPKG_VERDICT_PACKAGE_UPDATE,
        DPKG_VERDICT_CONFFILE_EDIT,
} DpkgVerdict;

typedef struct DpkgFacts {
        const char *path;
        int64_t baseline_time_us;     /* when the baseline's record of the file was taken */
        const char *current_md5;      /* of the content now; NULL: the file is gone or unreadable */
        const DpkgFile *file;         /* dpkg_owner's answer; NULL: not asked */
        const DpkgChange *change;     /* dpkg_last_change for file->package; NULL: none logged */
} DpkgFacts;

typedef struct DpkgClassification {
        DpkgVerdict verdict;
        const char *package;          /* package_update and conffile_edit: file->package */
        const char *old_version;      /* package_update: change->old_version ("" for a new install) */
        const char *new_version;      /* package_update: change->new_version */
        const char *reason;           /* one sentence, static: why this verdict */
} DpkgClassification;

/*
 * Classifies one file that drifted from its baseline. The rules, in order:
 *  1. Not packaged (file NULL or file->package NULL): unexplained.
 *  2. The package's MD5 for the file is the conffile MD5 for a conffile
 *     (when dpkg has recorded one) and the md5sums MD5 otherwise. If
 *     current_md5 equals it and the log has a transaction for the package
 *     whose last_time_us is after baseline_time_us: package_update, with
 *     change's old and new version. (The same content with no transaction
 *     since the baseline is unexplained: someone put the package's bytes
 *     back by hand, or the clock or log is wrong.)
 *  3. A conffile whose current content differs from dpkg's recorded MD5
 *     (or is gone): conffile_edit, whatever dpkg did since; an obsolete or
 *     remove-on-upgrade conffile counts too, as dpkg still records it.
 *  4. Anything else (content that matches no MD5 dpkg holds, a conffile
 *     still "newconffile", no current content): unexplained.
 * The baseline's own hash is not an input: dpkg keeps only the installed
 * version's MD5s, so an old hash can be compared with nothing dpkg has.
 * The result's strings point into facts' strings or are static.
 */
void dpkg_classify(const DpkgFacts *facts, DpkgClassification *ret);

const char *dpkg_verdict_to_string(DpkgVerdict v);     /* "unexplained", "package_update", "conffile_edit" */
const char *dpkg_action_to_string(DpkgAction a);       /* "install", ...; "none" */
