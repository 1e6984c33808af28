/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov.conf: one "key = value" per line, '#' starts a comment. Every key
 * has a compiled default; the file only says what differs. A line
 * "[central]" starts a section: the keys after it are the section's, named
 * "central.KEY" in the table (the only section today). The keys are listed
 * in one table in lib/util/config.c and documented in virtgov.conf(5).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

/* Where the daemon copies each stored event (the 'log' key). */
typedef enum ConfigLog {
        CONFIG_LOG_AUTO,         /* journal when journald runs, else syslog */
        CONFIG_LOG_JOURNAL,
        CONFIG_LOG_SYSLOG,
        CONFIG_LOG_BOTH,
        CONFIG_LOG_NONE,
} ConfigLog;

/* config_log_targets' bits. */
enum {
        CONFIG_TO_JOURNAL = 1 << 0,
        CONFIG_TO_SYSLOG = 1 << 1,
};

typedef struct Config {
        char *path;              /* file it was read from; NULL: defaults only */
        char *inventory;         /* SQLite inventory */
        char *spool_dir;         /* events the hook could not store */
        char *policy;            /* policy file (policy issue) */
        char *hooks_dir;         /* libvirt's hooks directory */
        char *hook_binary;       /* what "hooks install" copies */
        unsigned hook_timeout_ms;  /* the hook's whole run, hard bound */
        unsigned busy_timeout_ms;  /* wait for the inventory lock */
        size_t max_xml_bytes;    /* cap on the XML read from stdin */
        ConfigLog log;           /* where the daemon copies each stored event */
        bool syslog;             /* no: the old spelling of log = none */
        char *syslog_socket;     /* the local syslog socket */
        /* virtgov-inventoryd */
        char *uris;              /* libvirt URIs to watch, space-separated */
        char *etc_dir;           /* where passwd, group, shadow, sudoers live */
        char *privileged_groups; /* space-separated group names */
        unsigned reconcile_interval_s;  /* periodic reconcile, besides every connect */
        unsigned bypass_window_s;       /* how old a hook decision may be for a start */
        /* reports */
        char *image_dirs;        /* scanned for orphan images, besides dir pools */
        unsigned stale_days;     /* not started for this long: stale */
        char *inventory_group;   /* may read the inventory (auditors) */
        /* integrity monitoring */
        char *integrity_profiles;       /* space-separated profile names */
        char *integrity_dir;            /* NAME.profile files */
        bool integrity_accept_packages; /* fold package updates into the baseline */
        bool integrity_require_ticket;  /* integrity accept needs --ticket */
        unsigned integrity_interval_s;      /* re-check stat attributes */
        unsigned integrity_full_interval_s; /* hash everything again */
        char *integrity_action;         /* run on each new unexplained finding; NULL: none */
        unsigned integrity_action_timeout_s; /* then it is killed */
        char *dpkg_admindir;            /* /var/lib/dpkg */
        char *dpkg_log;                 /* /var/log/dpkg.log */
        char *qemu_run_dir;             /* libvirt's QEMU pid files and running domains' XML: /run/libvirt/qemu */
        char *qemu_config_dir;          /* libvirt's persistent domain XML: /etc/libvirt/qemu */
        char *proc_dir;                 /* /proc */
        char *sys_class_net;            /* the bridges and their ports: /sys/class/net */
        char *machine_id_file;          /* the host's identity: /etc/machine-id */
        char *host_key;                 /* signs the chain heads: /var/lib/virtgov/host.key */
        char *host_id;                  /* NULL: the machine-id is the host's id (host_id_of) */
        /* the running kernel (integrity kernel) */
        char *kernel_proc_modules;      /* /proc/modules */
        char *kernel_tainted;           /* /proc/sys/kernel/tainted */
        char *kernel_modules_root;      /* /lib/modules */
        char *kernel_boot_dir;          /* /boot */
        char *kernel_release;           /* "": uname -r */
        /* the hardening assessment (assess.h) */
        char *assess_exceptions;        /* the exceptions file */
        unsigned assess_interval_s;     /* the daemon's periodic assessment; 0: off */
        char *assess_vm_admins;         /* who may manage VMs (root-equivalent), space-separated */
        char *assess_listen_allow;      /* PORT/PROTO that may listen beyond loopback, space-separated */
        /* the kernel's audit stream (who did it) */
        bool audit;                     /* the daemon reads it */
        bool audit_enable;              /* and turns audit on when it is off */
        bool audit_cron;                /* cron's sessions are access events */
        unsigned audit_actor_window_s;  /* a VM command names its domain's event this soon after */
        char *audit_rules_dir;          /* auditd's rules.d */
        char *wtmp, *btmp;              /* report access, before audit has history */
        /* [central]: the fleet's inventory on PostgreSQL (central.h) */
        char *central_dsn;              /* libpq's connection string; NULL: no central inventory */
        char *central_host_group;       /* the group this host reports in: "" none */
        unsigned central_batch;         /* events per INSERT */
        unsigned central_interval_s;    /* ship this often (and after each flush) */
} Config;

/* Splits a space-separated setting into a new NULL-terminated array (free
 * with config_strv_free). */
char **config_split(const char *value);
char **config_strv_free(char **v);
DEFINE_POINTER_CLEANUP(char *, config_strv_free)

/* A Config with every compiled default set. Returns NULL only on ENOMEM. */
Config *config_new(void);
Config *config_free(Config *c);
DEFINE_POINTER_CLEANUP(Config, config_free)

/* A copy of c that shares nothing with it, for a thread that reads the
 * configuration while the daemon's loop may replace its own (a reload).
 * NULL only on ENOMEM. */
Config *config_dup(const Config *c);

/*
 * Reads the file at path into c, overriding defaults key by key. An unknown
 * key, a malformed line, a bad value or a key set twice is an error whose
 * text names the file, line, column and what was expected (-EINVAL). If the
 * file does not exist: -ENOENT, and c is unchanged.
 */
int config_load_file(Config *c, const char *path, VgError *err);

/* The same for text already in memory (len bytes; path names it in errors). */
int config_parse(Config *c, const char *text, size_t len, const char *path, VgError *err);

/* Cross-key checks, separate from parsing so each is tested on its own. */
int config_validate(const Config *c, VgError *err);

/*
 * The one way every program gets its configuration: explicit (a --config
 * option) or else $VIRTGOV_CONFIG or else the compiled default. A file that
 * was named explicitly (option or variable) must exist; the compiled default
 * may be absent, and then the defaults stand.
 */
int config_load(const char *explicit_path, Config **ret, VgError *err);

/*
 * Where the daemon copies events to (CONFIG_TO_* bits; 0: nowhere): what
 * 'log' says, or with 'log = auto' (the default) the journal when
 * journal_present (a journald listens: eventlog_journal_present), else
 * syslog; and nowhere with the old 'syslog = no'. Pure, so the daemon asks
 * the socket and this decides.
 */
unsigned config_log_targets(const Config *c, bool journal_present);

/* The word of 'log' for log ("journal"), or NULL. */
const char *config_log_name(ConfigLog log);

/* Replace a string setting (for per-command overrides such as --db). */
int config_set_path(char **field, const char *value);
