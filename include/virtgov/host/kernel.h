/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running kernel as integrity monitoring sees it (issue 18, item 2):
 * every loaded module (/proc/modules) resolved to its file through
 * modules.dep, what that file says of itself (.modinfo's intree=, an
 * appended signature), what the kernel says of it (the per-module taint
 * letters), the kernel's taint flags in words, and whether a newer kernel
 * is installed than the one that runs (a reboot is pending).
 *
 * kernel_read gathers the facts; kernel_compare measures each module's
 * file against the integrity baseline (fscan.h) and the package that
 * ships it (dpkg.h). Both take their inputs as arguments: the baseline
 * and dpkg's database are the caller's to load (kernel-run.h does it from
 * the config and the inventory).
 *
 * Everything read here is outside input: a line of /proc/modules or
 * modules.dep that is not understood is skipped and counted, the first
 * one named file:line; a module file that is not ELF is a finding, not an
 * error. Only an unreadable /proc/modules or running out of memory is.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/host/dpkg.h"
#include "virtgov/host/fscan.h"
#include "virtgov/util/util.h"

#define KERNEL_DEFAULT_PROC_MODULES "/proc/modules"
#define KERNEL_DEFAULT_TAINTED "/proc/sys/kernel/tainted"
#define KERNEL_DEFAULT_MODULES_ROOT "/lib/modules"
#define KERNEL_DEFAULT_BOOT_DIR "/boot"

/* Where the facts are read from; NULL (or "" for release): the default. */
typedef struct KernelPaths {
        const char *proc_modules;     /* /proc/modules */
        const char *tainted;          /* /proc/sys/kernel/tainted */
        const char *modules_root;     /* /lib/modules: RELEASE/modules.dep beneath it */
        const char *boot_dir;         /* /boot: vmlinuz-RELEASE in it */
        const char *release;          /* the running kernel's: uname -r */
} KernelPaths;

/* What is wrong with one loaded module, as bits; 0 is "ok". The names
 * (kernel_status_name) are what the CLI and the reports print. */
typedef enum KernelStatus {
        KERNEL_CHANGED = 1 << 0,          /* "changed": its file differs from the baseline */
        KERNEL_NOT_IN_BASELINE = 1 << 1,  /* "not-in-baseline" */
        KERNEL_MISSING = 1 << 2,          /* "missing": modules.dep names a file that is gone */
        KERNEL_UNRESOLVED = 1 << 3,       /* "unresolved": modules.dep names no file for it
                                           * (insmod of a file from elsewhere, or no modules.dep) */
        KERNEL_OUT_OF_TREE = 1 << 4,      /* "out-of-tree": taint O, or its .modinfo lacks intree=Y */
        KERNEL_UNSIGNED = 1 << 5,         /* "unsigned": taint E, or no signature appended to its file */
        KERNEL_FORCED = 1 << 6,           /* "forced": taint F (insmod -f, modprobe --force) */
        KERNEL_PROPRIETARY = 1 << 7,      /* "proprietary": taint P */
        KERNEL_STAGING = 1 << 8,          /* "staging": taint C */
        KERNEL_NOT_PACKAGED = 1 << 9,     /* "not-from-a-package": no package lists its file */
        KERNEL_PACKAGE_MISMATCH = 1 << 10,/* "package-mismatch": its MD5 is not the package's */
        KERNEL_NOT_A_MODULE = 1 << 11,    /* "not-a-module": neither ELF nor a compressed file */
        _KERNEL_STATUS_LAST = KERNEL_NOT_A_MODULE,
} KernelStatus;

/* "changed", ...; NULL for anything but one bit. */
const char *kernel_status_name(unsigned bit);

/* The names of the bits of status, comma-separated ("ok" for none), in
 * buf of n bytes (truncated to fit). Returns buf. */
char *kernel_status_words(unsigned status, char *buf, size_t n);

typedef enum KernelFormat {
        KERNEL_FILE_NONE,         /* not read: unresolved, gone, or not a regular file */
        KERNEL_FILE_ELF,
        KERNEL_FILE_XZ,
        KERNEL_FILE_ZSTD,
        KERNEL_FILE_GZIP,
        KERNEL_FILE_OTHER,        /* not a module */
} KernelFormat;

const char *kernel_format_name(KernelFormat f);   /* "none", "elf", "xz", "zstd", "gzip", "other" */

/* What a module file says of itself. Strings are truncated copies. */
typedef struct KernelModinfo {
        KernelFormat format;
        bool has_modinfo;         /* an ELF object with a .modinfo section */
        bool intree;              /* .modinfo has intree=Y */
        bool signature;           /* ends with "~Module signature appended~\n" (ELF only: a compressed
                                   * module's signature is inside the compressed stream) */
        char name[64], license[64], vermagic[128];
        char problem[160];        /* why .modinfo was not read: "compressed (xz)", "not ELF: ..." */
} KernelModinfo;

/* One loaded module. Strings are owned by the KernelState. */
typedef struct KernelModule {
        char *name;               /* as the kernel names it (underscores) */
        uint64_t size;
        char state[12];           /* Live, Loading, Unloading */
        char taint[16];           /* its taint letters from /proc/modules ("OE"), "" for none */
        char *path;               /* its file, from modules.dep; NULL: unresolved */
        KernelModinfo info;
        unsigned status;          /* KernelStatus */
        unsigned changed;         /* FscanAttr that differ from the baseline (KERNEL_CHANGED) */
        char *package;            /* the package shipping its file ("linux-image-6.1.0-18-amd64:amd64") */
        char *package_version;
        bool package_verified;    /* its MD5 is the one the package shipped */
        bool finding;             /* status has a bit that calls for action (kernel_module_finding) */
} KernelModule;

typedef struct KernelState {
        char *release;            /* the running kernel's */
        char *modules_dir;        /* modules_root/release */
        bool modules_supported;   /* /proc/modules exists (a kernel built without modules has none) */
        bool have_modules_dep;    /* modules_dir/modules.dep was read */
        KernelModule *modules;    /* in /proc/modules order */
        size_t n_modules;
        bool taint_known;
        uint64_t taint;           /* /proc/sys/kernel/tainted */
        char **installed;         /* installed releases (vmlinuz-R in boot_dir, or R/modules.dep under
                                   * modules_root), in version order, oldest first */
        size_t n_installed;
        const char *newest;       /* the newest installed of the running kernel's flavour (points into
                                   * installed), NULL when none is */
        bool running_installed;   /* the running release is among them */
        bool reboot_pending;      /* newest is newer than what runs, or what runs is no longer installed */
        size_t n_skipped;         /* lines of /proc/modules and modules.dep not understood */
        char first_skipped[512];  /* "file:line: why" of the first */
        /* Set by kernel_compare: */
        bool baseline_compared, packages_compared;
} KernelState;

KernelState *kernel_state_free(KernelState *k);
DEFINE_POINTER_CLEANUP(KernelState, kernel_state_free)

/*
 * Reads the running kernel's facts from the paths in p (NULL: every
 * default): its modules, each resolved and its file read (kernel_modinfo
 * on it), the taint flags, the installed releases. No /proc/modules is no
 * modules (modules_supported false); no tainted file is taint unknown; no
 * modules.dep leaves every module unresolved. Each module's status has
 * what the taint letters and the file say; kernel_compare adds the rest.
 * Errors: -ENOMEM, or /proc/modules unreadable (err names it).
 */
int kernel_read(const KernelPaths *p, KernelState **ret, VgError *err);

/*
 * Measures each resolved module's file (fscan_file, every attribute) and
 * compares it with baseline, when not NULL: an entry of its path (or of
 * the path it resolves to: /lib is /usr/lib on a merged-/usr host) whose
 * attributes differ is KERNEL_CHANGED, none is KERNEL_NOT_IN_BASELINE.
 * With dpkg (not NULL, and not yet indexed: it is restricted to the
 * modules' files here), a file no package lists is KERNEL_NOT_PACKAGED
 * and one whose MD5 differs from the package's KERNEL_PACKAGE_MISMATCH.
 * A file gone is KERNEL_MISSING. Sets each module's finding. -ENOMEM, or
 * dpkg's error reading its info files.
 */
int kernel_compare(KernelState *k, const FscanList *baseline, Dpkg *dpkg, VgError *err);

/* Whether m calls for action: any status bit but not-in-baseline, which
 * counts only when no package vouches for the file (package_verified). */
bool kernel_module_finding(const KernelModule *m);

/* ---- the taint flags (Documentation/admin-guide/tainted-kernels.rst) ---- */

typedef struct KernelTaintFlag {
        unsigned bit;
        char letter;
        const char *meaning;      /* "proprietary module was loaded" */
} KernelTaintFlag;

/* The flag of bit, or NULL for a bit this virtgov does not know. */
const KernelTaintFlag *kernel_taint_flag(unsigned bit);

/* The letters of the set bits, in bit order ("OE"; '?' for an unknown
 * bit), in buf (65 bytes hold any). Returns buf. */
char *kernel_taint_letters(uint64_t taint, char buf[static 65]);

/* ---- parsers of outside input (pure; kernel-priv.h has the rest) ---- */

/*
 * What a module file says of itself, from the bytes of the file (len of
 * them): its format, and for an ELF object its .modinfo strings and
 * whether a signature is appended. Never fails: what cannot be read is
 * said in ret->problem.
 */
void kernel_modinfo_parse(const uint8_t *buf, size_t len, KernelModinfo *ret);

/* The same for a file, read with pread (no more of it than the headers,
 * the section names and .modinfo). -errno when it cannot be opened, or is
 * not a regular file (-EBADFD). */
int kernel_modinfo_file(const char *path, KernelModinfo *ret);

/* The kernel's release flavour: what follows the first '-' that is not
 * followed by a digit ("-amd64" of "6.1.0-18-amd64", "-cloud-amd64", ""
 * for "6.8.0"). Kernels of one flavour replace each other; another
 * flavour installed beside them (rt, cloud) is not newer or older. */
const char *kernel_flavour(const char *release);
