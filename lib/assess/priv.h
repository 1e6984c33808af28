/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The assessment's insides, shared by its files and the unit tests: the
 * context a check is handed (its inputs, each read on first use and
 * once), and the helpers with which a check reads them and says what it
 * found.
 *
 *   assess.c          the run: paths, exceptions applied, digest, JSON, drift
 *   assess/table.c    the checks, one row each
 *   assess/ctx.c      the context and the results added to it (below all the others)
 *   assess/input.c    the inputs: files, sysctls, libvirt's config, domains, /proc
 *   assess/fs.c       the one way to a file, inside --root
 *   assess/exceptions.c  the exceptions file
 *   assess/checks-libvirt.c  qemu.conf, the daemons' config and sockets
 *   assess/checks-access.c   who can manage VMs: the socket's group, polkit, sudoers
 *   assess/checks-domain.c   every defined domain
 *   assess/checks-host.c     kernel and CPU, services, virtgov itself
 *   assess/checks-patch.c    security updates, apt's lists, reboots, replaced binaries
 */
#pragma once

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "virtgov/host/accounts.h"
#include "virtgov/assess/assess.h"
#include "virtgov/model/xmldom.h"

/* An input read once: what it holds, or why it could not be read. */
typedef struct Loaded {
        bool done;
        int r;                   /* 0, or the error (text in err) */
        char err[512];
} Loaded;

typedef struct DaemonConf {
        const char *name;        /* "libvirtd", "virtqemud" */
        char *conf_path;
        Vconf *conf;             /* NULL when absent (libvirt's defaults) */
        bool absent;
        bool running;
        Loaded l;
} DaemonConf;

typedef struct DomainXml {
        char *name;              /* from <name>, else the file's */
        char *path;
        XNode *root;             /* NULL when it could not be read: err says why */
        char err[512];
} DomainXml;

typedef struct AssessUpdate {
        char *package, *installed, *candidate, *list;
} AssessUpdate;

typedef struct ProcEntry {
        int pid;
        char comm[32];
        char *exe;               /* the link's text: "/usr/sbin/x (deleted)"; NULL: unreadable */
        double start;            /* libvirt's daemons only: when it started, in seconds since
                                  * the epoch (0: unknown) */
} ProcEntry;

struct AssessCtx {
        const AssessPaths *p;
        AssessRun *run;
        int root_fd;             /* p->root, opened O_PATH; -1: no root */
        int root_err;            /* p->root could not be opened: every read's error */
        double btime;            /* when proc_dir's host booted, seconds since the epoch; 0: not yet known, -1: unknown */
        /* qemu.conf */
        Loaded qemu_l;
        Vconf *qemu;
        bool qemu_absent;
        char *qemu_path;
        /* the daemons */
        Loaded daemons_l;
        DaemonConf daemons[2];
        size_t n_daemons;        /* those to assess: the running ones, else those configured */
        /* domains */
        Loaded domains_l;
        DomainXml *domains;
        size_t n_domains;
        /* processes */
        Loaded procs_l;
        ProcEntry *procs;
        size_t n_procs;
        /* accounts (group, sudoers) */
        Loaded acc_l;
        Accounts *acc;
        /* security updates known to apt's lists, of the installed packages */
        Loaded updates_l;
        struct AssessUpdate *updates;
        size_t n_updates;
        bool have_security_list;
        int oom;                 /* a result could not be added */
};

/* ---- the context and the results (assess/ctx.c): below the run, the
 * checks and the inputs, which all call it ---- */

/* A context for one run of p, adding results to run; under p->root, the
 * root opened (its error kept for every read). Cleared with
 * assess_ctx_clear, whatever happened. */
void assess_ctx_init(AssessCtx *x, const AssessPaths *p, AssessRun *run);
void assess_ctx_clear(AssessCtx *x);

/* Adds a result of c: status, where (NULL: none), domain (NULL: none),
 * found as printf. */
void assess_add(AssessCtx *x, const AssessCheck *c, AssessStatus s, const char *where, const char *domain,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The error result of an input that could not be read. */
void assess_add_error(AssessCtx *x, const AssessCheck *c, const Loaded *l);

/* ---- inputs (assess/input.c): each NULL or < 0 after adding c's error
 * result, so a check only returns ---- */

/* ---- the one way the assessment reaches a file: every open, listing,
 * stat, readlink and glob of a check goes through these ---- */

/* Opens path (open(2)'s flags; O_CLOEXEC, O_NOCTTY and, for a read,
 * O_NONBLOCK are added). Under a root, path is one of the root's (it
 * starts with p->root) and is resolved inside it: openat2 RESOLVE_IN_ROOT
 * makes "..", absolute symlinks and absolute names stay in the tree, and
 * RESOLVE_NO_MAGICLINKS keeps a /proc bind-mounted there from leading
 * out. Without a root, as open(2). An fd, or a negative errno. */
int assess_open(AssessCtx *x, const char *path, int flags);

/* opendir, stat (nofollow: lstat) and readlink through assess_open: NULL
 * with errno set / a negative errno. */
DIR *assess_opendir(AssessCtx *x, const char *path);
int assess_stat(AssessCtx *x, const char *path, bool nofollow, struct stat *ret);
ssize_t assess_readlink(AssessCtx *x, const char *path, char *buf, size_t n);

/* A directory's names but "." and "..", sorted (free with
 * assess_glob_free). 0, or a negative errno. */
int assess_list(AssessCtx *x, const char *dir, char ***ret, size_t *ret_n);

/* The paths that match pattern (a path as assess_open takes, with
 * glob(3)'s wildcards in any component), sorted, each directory listed
 * through assess_open; names starting with '.' only where the pattern's
 * component does. No match is 0 and an empty list. -E2BIG past
 * ASSESS_GLOB_MAX matches. */
#define ASSESS_GLOB_MAX 1024
int assess_glob(AssessCtx *x, const char *pattern, char ***ret, size_t *ret_n);
void assess_glob_free(char **v, size_t n);

/* A file's text (at most max bytes), through assess_open; what is not a
 * regular file is refused (a FIFO would block the run): 0, -ENOENT (no
 * result added: the caller decides what absence means), or another error
 * (result added). */
int assess_read(AssessCtx *x, const AssessCheck *c, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same without a result: the error is the caller's to say. */
int assess_read_file(AssessCtx *x, const char *path, size_t max, char **ret, size_t *ret_len);

/* A sysctl ("kernel.kptr_restrict") from proc_dir/sys, trimmed, in buf:
 * 0, -ENOENT (not present on this kernel: no result added), or an error
 * (result added). */
int assess_sysctl(AssessCtx *x, const AssessCheck *c, const char *name, char *buf, size_t n);

/* A file under sys_dir ("module/apparmor/parameters/enabled"), its first
 * line trimmed: as assess_sysctl. */
int assess_sysfs(AssessCtx *x, const AssessCheck *c, const char *rel, char *buf, size_t n);

/* qemu.conf, parsed; NULL after an error result. *absent: no file (all
 * of libvirt's defaults). */
const Vconf *assess_qemu_conf(AssessCtx *x, const AssessCheck *c);

/* The daemons whose config the checks judge: 0, or an error result added
 * (< 0). */
int assess_daemons(AssessCtx *x, const AssessCheck *c);

/* The defined domains' XML (libvirt_dir/qemu/ *.xml). */
int assess_domains(AssessCtx *x, const AssessCheck *c);
/* Whether a domain XML names a host device to pass through (the IOMMU
 * check asks): a fact of the input, beside it so that the host checks
 * need not call the domain checks. */
bool assess_dom_has_hostdev(const XNode *root);

/* Every process with its comm and exe. */
int assess_procs(AssessCtx *x, const AssessCheck *c);
bool assess_proc_running(AssessCtx *x, const char *comm);

/* group and sudoers through the accounts module. */
const Accounts *assess_accounts(AssessCtx *x, const AssessCheck *c);

/* "file:line" into buf. */
const char *assess_at(char *buf, size_t n, const char *path, unsigned line);

/* Whether name is in the NULL-ended list. */
bool assess_listed(char *const *list, const char *name);

/* Whether an address (IPv4, IPv6, a host name) is loopback only. */
bool assess_loopback(const char *addr);

/* ---- the checks' functions, named by the table (assess/table.c) ---- */

/* A qemu.conf or daemon config key and what it must be. */
typedef enum KeyRule {
        KEY_BOOL_TRUE,           /* a number, 1 (libvirt reads 0 or 1) */
        KEY_BOOL_FALSE,
        KEY_STRING_NOT,          /* a string, not .value */
        KEY_STRING_IS,           /* a string equal to .value */
        KEY_NOT_ROOT,            /* a string naming neither root nor uid/gid 0 */
} KeyRule;
typedef struct KeyCheck {
        const char *key;
        KeyRule rule;
        const char *value;       /* KEY_STRING_*: the value; */
        const char *dflt;        /* libvirt's default, as it would be written ("1", "\"logd\""); NULL: none */
        bool dflt_ok;            /* the default satisfies the rule */
} KeyCheck;

/* A sysctl and the least (or exact) value it must have. */
typedef struct SysctlCheck {
        const char *name;
        long min, max;           /* passes when min <= value <= max */
        /* Not NULL: the sysctl's absence passes, for this reason (the
         * kernel was built without what it restricts). NULL: an absent
         * sysctl is a protection the kernel lacks. */
        const char *absent_ok;
} SysctlCheck;

void assess_check_qemu_key(AssessCtx *x, const AssessCheck *c);
void assess_check_qemu_security_driver(AssessCtx *x, const AssessCheck *c);
void assess_check_qemu_mac_active(AssessCtx *x, const AssessCheck *c);
void assess_check_qemu_apparmor_profiles(AssessCtx *x, const AssessCheck *c);
void assess_check_qemu_namespaces(AssessCtx *x, const AssessCheck *c);
void assess_check_qemu_vnc(AssessCtx *x, const AssessCheck *c);
void assess_check_qemu_spice(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_key(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_tcp(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_tls(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_rw_perms(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_sock_group(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_ro_perms(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_admin_perms(AssessCtx *x, const AssessCheck *c);
void assess_check_daemon_audit_level(AssessCtx *x, const AssessCheck *c);
void assess_check_socket_rw(AssessCtx *x, const AssessCheck *c);
void assess_check_socket_admin(AssessCtx *x, const AssessCheck *c);

void assess_check_access_group(AssessCtx *x, const AssessCheck *c);
void assess_check_access_polkit(AssessCtx *x, const AssessCheck *c);
void assess_check_access_sudoers(AssessCtx *x, const AssessCheck *c);

void assess_check_dom_commandline(AssessCtx *x, const AssessCheck *c);
void assess_check_dom_seclabel(AssessCtx *x, const AssessCheck *c);
void assess_check_dom_graphics(AssessCtx *x, const AssessCheck *c);
void assess_check_dom_hostdev(AssessCtx *x, const AssessCheck *c);
void assess_check_dom_shmem(AssessCtx *x, const AssessCheck *c);
void assess_check_dom_disks(AssessCtx *x, const AssessCheck *c);
void assess_check_dom_chardev(AssessCtx *x, const AssessCheck *c);

void assess_check_sysctl(AssessCtx *x, const AssessCheck *c);
void assess_check_userns(AssessCtx *x, const AssessCheck *c);
void assess_check_cpu_vulns(AssessCtx *x, const AssessCheck *c);
void assess_check_cpu_smt(AssessCtx *x, const AssessCheck *c);
void assess_check_ksm(AssessCtx *x, const AssessCheck *c);
void assess_check_nested(AssessCtx *x, const AssessCheck *c);
void assess_check_iommu(AssessCtx *x, const AssessCheck *c);
void assess_check_security_updates(AssessCtx *x, const AssessCheck *c);
void assess_check_apt_age(AssessCtx *x, const AssessCheck *c);
void assess_check_reboot_pending(AssessCtx *x, const AssessCheck *c);
void assess_check_deleted_binaries(AssessCtx *x, const AssessCheck *c);
void assess_check_listeners(AssessCtx *x, const AssessCheck *c);
void assess_check_sshd(AssessCtx *x, const AssessCheck *c);
void assess_check_auditd_running(AssessCtx *x, const AssessCheck *c);
void assess_check_audit_rules(AssessCtx *x, const AssessCheck *c);
void assess_check_vg_hooks(AssessCtx *x, const AssessCheck *c);
void assess_check_vg_daemon(AssessCtx *x, const AssessCheck *c);
void assess_check_vg_policy(AssessCtx *x, const AssessCheck *c);
void assess_check_vg_modes(AssessCtx *x, const AssessCheck *c);
