/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's hardening assessment (ISM-1605): one table of checks, each
 * with a stable id, and one way to run them. A check is handed a context
 * of parsed inputs (qemu.conf and the libvirt daemons' config as libvirt
 * parses them, sysctls, /sys files, socket modes, the defined domains'
 * XML, polkit rules, sudoers, apt's lists, /proc) and adds results: pass,
 * fail, excepted, not-applicable or error, each with what was found and
 * where (file:line, sysctl name, socket path, domain).
 *
 * Every input is read from a path in AssessPaths, so a test points them
 * at a fixture tree and runs exactly the code the real run does. An input
 * that cannot be read is an error result naming it, never a pass. Inputs
 * are read on first use and once: `--check ID` reads only what ID needs.
 *
 * The library reads and judges; it never prints and never writes the
 * inventory. assess_drift compares a run with the previous one and hands
 * the events to the caller (the CLI appends them, the daemon records
 * them through its recorder).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/config.h"
#include "virtgov/model/event.h"
#include "virtgov/util/util.h"

typedef enum AssessStatus {
        ASSESS_PASS,
        ASSESS_NA,          /* "not-applicable": nothing here for the check to judge */
        ASSESS_EXCEPTED,    /* failed, and an unexpired exception covers it */
        ASSESS_ERROR,       /* an input could not be read or understood */
        ASSESS_FAIL,
        _ASSESS_STATUS_N,
} AssessStatus;

typedef enum AssessSeverity { SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL, _SEV_N } AssessSeverity;

const char *assess_status_name(AssessStatus s);       /* "pass", "not-applicable", ... */
const char *assess_severity_name(AssessSeverity s);   /* "low", ... */
/* A failing status: fail or error (what --fail-on-findings counts). */
static inline bool assess_status_bad(AssessStatus s) {
        return s == ASSESS_FAIL || s == ASSESS_ERROR;
}

/*
 * Where every input is read. assess_paths_init fills them from the
 * configuration (the keys users move: etc_dir, proc_dir, hooks_dir, the
 * inventory, the policy, image_dirs, dpkg_admindir, assess_*) and the
 * compiled defaults; with root not NULL, every default path is taken
 * under root instead (the tests' fixture trees mirror the real layout),
 * and every file the checks read is resolved inside root: an absolute
 * symlink or Include in the tree names a file of the tree, never of the
 * host.
 */
typedef struct AssessPaths {
        /* --root: the tree every path below lies in, and every file is
         * resolved inside (symlinks, "..", absolute names); NULL: the
         * host, paths as they are. */
        char *root;
        char *libvirt_dir;       /* /etc/libvirt: qemu.conf, libvirtd.conf, virtqemud.conf, qemu/ *.xml */
        char *run_libvirt;       /* /run/libvirt: the daemons' sockets */
        char *proc_dir;          /* /proc: sys/, net/, PID/ */
        char *sys_dir;           /* /sys */
        char *etc_dir;           /* /etc: group, sudoers, ssh/, audit/, polkit-1/ */
        char *polkit_share;      /* /usr/share/polkit-1/rules.d */
        char *apt_lists;         /* /var/lib/apt/lists */
        char *dpkg_admindir;     /* /var/lib/dpkg */
        char *boot_dir, *modules_root, *release;   /* the kernels installed and running ("": uname) */
        char *hooks_dir;         /* /etc/libvirt/hooks */
        char *inventory, *policy, *config;
        char *exceptions;        /* /etc/virtgov/assess-exceptions.json */
        char **image_dirs;       /* NULL-ended */
        char **vm_admins;        /* who may hold root-equivalent VM management: NULL-ended */
        char **listen_allow;     /* "22/tcp", ...: listeners allowed on other than loopback */
        unsigned apt_max_age_days;
        int64_t now_us;          /* exceptions' expiry and the lists' age are judged at this time */
} AssessPaths;

int assess_paths_init(AssessPaths *p, const Config *c, const char *root);
void assess_paths_clear(AssessPaths *p);

/* Reads path (one of p's) as the checks read their inputs: inside p->root
 * when there is one. vg_read_file's contract. */
int assess_paths_read_file(const AssessPaths *p, const char *path, size_t max, char **ret_buf, size_t *ret_len);

typedef struct AssessCheck AssessCheck;
typedef struct AssessCtx AssessCtx;

/* One result of one check. A check adds at least one. */
typedef struct AssessResult {
        const AssessCheck *check;
        AssessStatus status;
        char *found;             /* what was found, in words */
        char *where;             /* "file:line", "sysctl kernel.kptr_restrict", a socket path; NULL */
        char *domain;            /* for a domain's check */
        char *ticket, *reason;   /* excepted: the exception's */
        int64_t expires_us;      /* excepted: when the exception ends (0: never) */
} AssessResult;

typedef void (*AssessFn)(AssessCtx *x, const AssessCheck *c);

struct AssessCheck {
        const char *id;          /* "VG-QEMU-001": stable, never reused */
        const char *area;        /* "qemu.conf", "libvirt daemons", ... */
        const char *title;
        AssessSeverity severity;
        const char *rationale;
        const char *ism;         /* "ISM-1605" */
        const char *srg;         /* the VMM SRG requirement, where one applies; NULL */
        const char *doc;         /* libvirt's or the kernel's documentation */
        const char *expected;
        const char *remediation; /* the line to write, the command to run */
        AssessFn fn;
        const void *arg;         /* the fn's own table row (a sysctl, a qemu.conf key) */
};

/* The table, in order; n checks. */
const AssessCheck *assess_checks(size_t *n);
const AssessCheck *assess_check_find(const char *id);

/* An exception (assess-exceptions.json): a check's failures that are
 * accepted, for a scope, until a time, under a ticket. */
typedef struct AssessException {
        char *id, *domain_glob, *path_glob, *ticket, *reason;
        int64_t expires_us;      /* 0: never */
        unsigned line, column;   /* of its object in the file */
} AssessException;

typedef struct AssessExceptions {
        char *path;
        AssessException *v;
        size_t n;
        char **warnings;         /* "file:line:column: ...": expired entries */
        size_t n_warnings;
} AssessExceptions;

/*
 * Reads the exceptions file: an array of objects with "id" and "ticket"
 * (required), "domain", "path" (globs), "expires" (RFC 3339 or a date),
 * "reason". An unknown key, an unknown check id, a missing or mistyped
 * field is -EINVAL with err naming file:line:column. An expired entry is
 * kept out and becomes a warning with its position. -ENOENT when absent.
 */
int assess_exceptions_load(const char *path, int64_t now_us, AssessExceptions **ret, VgError *err);
/* The exceptions file of p: under a root, the tree's, read inside it
 * (a copied tree's file is not this host's configuration: no trust
 * check); else assess_exceptions_load of p->exceptions. */
int assess_exceptions_load_paths(const AssessPaths *p, AssessExceptions **ret, VgError *err);
int assess_exceptions_parse(const char *text, size_t len, const char *path, int64_t now_us, AssessExceptions **ret,
                            VgError *err);
AssessExceptions *assess_exceptions_free(AssessExceptions *e);
DEFINE_POINTER_CLEANUP(AssessExceptions, assess_exceptions_free)

/* A run's results, check by check in table order. */
typedef struct AssessRun {
        AssessResult *results;
        size_t n;
        AssessStatus *status;    /* per check in the table (the worst of its results); NULL for checks not run */
        const AssessCheck **ran; /* the checks run, in order */
        size_t n_ran;
        size_t counts[_ASSESS_STATUS_N];           /* checks by status */
        size_t failed_by_severity[_SEV_N];         /* failing checks by severity */
        char digest[65];         /* SHA-256 of the results (ids, statuses, found, where, domain) */
        int64_t time_us;
        int64_t took_us;
} AssessRun;

/*
 * Runs the checks named in only (NULL-ended; NULL: all) with the inputs
 * at p, applying ex (may be NULL). An unknown id in only is -EINVAL. A
 * check's failure to read an input is its error result, not this
 * function's: it fails only for -ENOMEM.
 */
int assess_run(const AssessPaths *p, const char *const *only, const AssessExceptions *ex, AssessRun **ret,
               VgError *err);
AssessRun *assess_run_free(AssessRun *r);
DEFINE_POINTER_CLEANUP(AssessRun, assess_run_free)

/* A result as JSON (every field of it and of its check); the run as the
 * document: {"time", "digest", "counts", "failed_by_severity", "checks":
 * [{id, ..., status, results: [...]}]}. NULL on ENOMEM. */
json_t *assess_run_to_json(const AssessRun *r, const char *host);

/* The state kept between runs (inventory meta "assess.state"): each
 * check's status, as a JSON object text; a check this run did not run
 * keeps its status in prev (the state before, or NULL). NULL on ENOMEM. */
char *assess_state_text(const AssessRun *r, const char *prev);

typedef int (*AssessEmitFn)(Event *e, void *userdata);   /* takes e */

/*
 * The drift of run against the previous state (prev: its text, NULL: no
 * earlier run): an assess.run event (counts, digest, the failing ids),
 * then assess.regressed for each check that passed (or did not apply, or
 * was excepted) and now fails or errs, and assess.fixed for each that
 * failed or erred and no longer does, each with the check's id, title,
 * severity, both statuses and what is found now. Checks not run keep
 * their earlier state. A first run is only an assess.run. Stops at emit's
 * first negative return.
 */
int assess_drift(const AssessRun *run, const char *prev, const char *source, AssessEmitFn emit, void *userdata);

/* ---- inputs, for the checks and the fuzzers (lib/assess/vconf.c) ---- */

/* A file in libvirt's config syntax (virconf.c): "name = value" separated
 * by newlines or ';', '#' comments; a value is a string ('...', "..." or
 * """...""" over lines, no escapes), a whole number (+/-), or a list [ ,
 * ] of them over lines. The first entry of a name is the one libvirt uses
 * (later ones are kept, and named, as duplicates). */
typedef enum VconfType { VCONF_STRING, VCONF_NUMBER, VCONF_LIST } VconfType;
typedef struct VconfValue {
        VconfType type;
        char *str;               /* STRING */
        long long num;           /* NUMBER */
        bool negative;           /* NUMBER written with '-' (libvirt's LLONG: never a bool) */
        struct VconfValue *items;   /* LIST */
        size_t n_items;
} VconfValue;
typedef struct VconfEntry {
        char *name;
        VconfValue value;
        unsigned line;
} VconfEntry;
typedef struct Vconf {
        char *path;
        VconfEntry *v;
        size_t n;
} Vconf;

/* Parses text as libvirt would; a syntax error is -EINVAL with err
 * "path:line:column: what" (libvirt refuses the whole file then). */
int vconf_parse(const char *text, size_t len, const char *path, Vconf **ret, VgError *err);
Vconf *vconf_free(Vconf *c);
DEFINE_POINTER_CLEANUP(Vconf, vconf_free)
/* The entry libvirt uses for name (the first), or NULL. */
const VconfEntry *vconf_get(const Vconf *c, const char *name);

/* apt's Packages lists may be lz4-compressed (Debian's default since
 * apt 2.x when liblz4 is there): an LZ4 frame decoded into a new buffer
 * of at most max bytes. -EBADMSG for what is not a valid frame, -EFBIG
 * beyond max. */
int assess_lz4_decode(const uint8_t *in, size_t len, size_t max, char **ret, size_t *ret_len);

/* A listening socket from /proc/net/{tcp,tcp6,udp,udp6}: one line. false
 * for the header, a line not understood, or a TCP socket not listening. */
typedef struct AssessListener {
        char addr[64];           /* "0.0.0.0", "::", "127.0.0.1" */
        unsigned port;
        uint64_t inode;
        bool loopback;
} AssessListener;
bool assess_proc_net_line(const char *line, bool v6, bool tcp, AssessListener *ret);
