/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a running process runs: the file its executable is and every file
 * it maps, each hashed as the process sees it. Not the path's content now:
 * /proc/PID/exe and /proc/PID/map_files/ open the very inode the process
 * mapped, even after the file was deleted or another was renamed over it
 * (a package update, or an attacker's swap). Comparing these hashes with
 * the integrity baseline is integrity/proc.h's.
 *
 * Reading another user's process (QEMU runs as libvirt-qemu) takes
 * CAP_SYS_PTRACE for exe and maps, and opening map_files/ takes
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN): root has them; the daemon's
 * unit grants them. Without them a mapping is measured with its error,
 * never skipped.
 *
 * Hashes are cached by what stat shows (device, inode, size, mtime,
 * ctime): twenty QEMU processes map the same hundred libraries, each
 * read once; a check with nothing changed opens and stats, never reads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/host/fscan.h"
#include "virtgov/util/util.h"

/* The processes whose files are checked: libvirt's daemons, found by
 * name, and the QEMU of each running domain, found by libvirt's pid file. */
typedef struct ProcTarget {
        pid_t pid;
        uint64_t start_ticks;     /* /proc/PID/stat's starttime: with the pid, names one process */
        char *role;               /* "qemu", "libvirtd", "virtqemud", "virtlogd", "virtlockd", ... */
        char *domain;             /* qemu: the domain's name; NULL otherwise */
} ProcTarget;

typedef struct ProcTargets {
        ProcTarget *v;
        size_t n;
} ProcTargets;

void proc_targets_clear(ProcTargets *t);

/* pid's starttime, field 22 of proc_dir/PID/stat (clock ticks since boot,
 * counted after the ')' that ends a name which may hold spaces): with the
 * pid, it names one process. 0, or a negative errno (gone, unreadable). */
int proc_start_ticks(const char *proc_dir, pid_t pid, uint64_t *ret);
/* The same from a stat file's text (the assessment reads it under its
 * root). */
int proc_stat_start_ticks(const char *stat_text, uint64_t *ret);
/* The same as seconds since the epoch (10 ms precision); 0 when unknown. */
double proc_start_time(const char *proc_dir, pid_t pid);

/*
 * The targets on this host: every process of proc_dir (/proc) whose name
 * is one of libvirt's daemons, and for each NAME.pid in qemu_run_dir
 * (/run/libvirt/qemu) the process it names, when it runs and its command
 * line is that domain's QEMU (-name guest=NAME). domain non-NULL: only
 * that domain's QEMU. A stale pid file is skipped; an unreadable run
 * directory is an error naming it (a missing one means no domain runs).
 */
int proc_targets_find(const char *proc_dir, const char *qemu_run_dir, const char *domain, ProcTargets *ret,
                      VgError *err);

/* One file a process maps (or runs), as measured through the process. */
typedef struct ProcMapping {
        char *path;               /* as the kernel names it, without " (deleted)" */
        bool exe;                 /* the executable itself */
        bool executable;          /* mapped executable somewhere: code, not data */
        char range[48];           /* its map_files/ name ("" for exe): where it is opened again */
        bool replaced;            /* path now names another file, or none */
        uint64_t dev, ino, size;
        int64_t mtime_ns, ctime_ns;
        char sha256[FSCAN_SHA256_HEX];   /* "" when it could not be read (error) */
        int error;                /* 0, or the negative errno of opening or reading it */
} ProcMapping;

typedef struct ProcImage {
        ProcTarget target;        /* copied */
        char *exe;                /* the executable's path, without " (deleted)" */
        ProcMapping *maps;        /* the executable first, then in /proc/PID/maps order, each file once */
        size_t n_maps;
        int error;                /* the process could not be read at all (gone, or no permission) */
        char *error_text;
} ProcImage;

void proc_image_clear(ProcImage *p);

typedef struct ProcCache ProcCache;

/* A file's hash as something else measured it before (the integrity
 * baseline), when what stat shows of it now (device, inode, size, mtime,
 * ctime: m's) is what was measured then; NULL: read it. As fscan's
 * FscanPrevious: content does not change without its ctime changing. */
typedef const char *(*ProcPrevious)(const ProcMapping *m, void *userdata);

ProcCache *proc_cache_new(void);
/* Asked on a miss, before reading: a first check with nothing changed
 * reads no file the baseline holds. */
void proc_cache_previous(ProcCache *c, ProcPrevious fn, void *userdata);
ProcCache *proc_cache_free(ProcCache *c);
DEFINE_POINTER_CLEANUP(ProcCache, proc_cache_free)
/* Hashed by the cache since it was made, and found in it. */
void proc_cache_stats(const ProcCache *c, size_t *hashed, size_t *hits, uint64_t *bytes);

/*
 * Measures one process: its executable and every file-backed mapping
 * (not memfd, SysV shm or devices), each file once. Returns 0 with
 * ret->error set when the process is gone or cannot be read (the text
 * says which capability is missing), -ENOMEM otherwise.
 */
int proc_image_read(const char *proc_dir, const ProcTarget *t, ProcCache *cache, ProcImage *ret);

/* Opens the file m is, as the process maps it, again (to read it another
 * way: dpkg's MD5), checked to be the inode measured. An fd, or a negative
 * errno (-ESTALE: the process now maps another). */
int proc_mapping_open(const char *proc_dir, pid_t pid, const ProcMapping *m);

/* Parses one line of /proc/PID/maps in place: the address range as
 * map_files/ names it ("7f...-7f..."), the permissions ("r-xp"), the
 * inode, and the path (unescaped; NULL for an anonymous mapping). Returns
 * false for a line it cannot read. */
bool proc_maps_line(char *line, char **range, char **perms, uint64_t *ino, char **path);
