/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg-paths.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/util/config.h"

/* A config file is a few hundred bytes; anything near this is not one. */
#define CONFIG_MAX_BYTES (1024 * 1024)

/* KEY_OPT_PATH: a KEY_PATH that may be empty, meaning none (NULL). */
/* KEY_ENUM: one of the words of ConfigKey.words, kept as its index. */
typedef enum { KEY_PATH, KEY_OPT_PATH, KEY_STRING, KEY_UINT, KEY_BOOL, KEY_ENUM } KeyType;

typedef struct ConfigKey {
        const char *name;
        KeyType type;
        size_t offset;
        unsigned long min, max;   /* KEY_UINT only */
        const char *const *words; /* KEY_ENUM only: NULL-terminated */
} ConfigKey;

/* In the order of ConfigLog. */
static const char *const log_words[] = { "auto", "journal", "syslog", "both", "none", NULL };

#define K(name, type, field, min, max) { name, type, offsetof(Config, field), min, max, NULL }
#define K_ENUM(name, field, words) { name, KEY_ENUM, offsetof(Config, field), 0, 0, words }
static const ConfigKey keys[] = {
        K("inventory",       KEY_PATH, inventory,       0, 0),
        K("spool_dir",       KEY_PATH, spool_dir,       0, 0),
        K("policy",          KEY_PATH, policy,          0, 0),
        K("hooks_dir",       KEY_PATH, hooks_dir,       0, 0),
        K("hook_binary",     KEY_PATH, hook_binary,     0, 0),
        K("hook_timeout_ms", KEY_UINT, hook_timeout_ms, 100, 600000),
        K("busy_timeout_ms", KEY_UINT, busy_timeout_ms, 0, 600000),
        K("max_xml_bytes",   KEY_UINT, max_xml_bytes,   4096, 1024UL * 1024 * 1024),
        K_ENUM("log",        log, log_words),
        K("syslog",          KEY_BOOL, syslog,          0, 0),
        K("syslog_socket",   KEY_PATH, syslog_socket,   0, 0),
        K("uris",            KEY_STRING, uris,          0, 0),
        K("etc_dir",         KEY_PATH, etc_dir,         0, 0),
        K("privileged_groups", KEY_STRING, privileged_groups, 0, 0),
        K("reconcile_interval_s", KEY_UINT, reconcile_interval_s, 10, 86400),
        K("bypass_window_s", KEY_UINT, bypass_window_s, 5, 3600),
        K("image_dirs",      KEY_STRING, image_dirs,    0, 0),
        K("stale_days",      KEY_UINT, stale_days,      1, 36500),
        K("inventory_group", KEY_STRING, inventory_group, 0, 0),
        K("integrity_profiles", KEY_STRING, integrity_profiles, 0, 0),
        K("integrity_dir",   KEY_PATH, integrity_dir,   0, 0),
        K("integrity_accept_packages", KEY_BOOL, integrity_accept_packages, 0, 0),
        K("integrity_require_ticket", KEY_BOOL, integrity_require_ticket, 0, 0),
        K("integrity_interval_s", KEY_UINT, integrity_interval_s, 10, 7 * 86400),
        K("integrity_full_interval_s", KEY_UINT, integrity_full_interval_s, 60, 31 * 86400),
        K("integrity_action", KEY_OPT_PATH, integrity_action, 0, 0),
        K("integrity_action_timeout_s", KEY_UINT, integrity_action_timeout_s, 1, 3600),
        K("dpkg_admindir",   KEY_PATH, dpkg_admindir,   0, 0),
        K("dpkg_log",        KEY_PATH, dpkg_log,        0, 0),
        K("qemu_run_dir",    KEY_PATH, qemu_run_dir,    0, 0),
        K("qemu_config_dir", KEY_PATH, qemu_config_dir, 0, 0),
        K("proc_dir",        KEY_PATH, proc_dir,        0, 0),
        K("sys_class_net",   KEY_PATH, sys_class_net,   0, 0),
        K("machine_id_file", KEY_PATH, machine_id_file, 0, 0),
        K("host_key",        KEY_PATH, host_key,        0, 0),
        K("host_id",         KEY_STRING, host_id,       0, 0),
        K("kernel_proc_modules", KEY_PATH, kernel_proc_modules, 0, 0),
        K("kernel_tainted",  KEY_PATH, kernel_tainted,  0, 0),
        K("kernel_modules_root", KEY_PATH, kernel_modules_root, 0, 0),
        K("kernel_boot_dir", KEY_PATH, kernel_boot_dir, 0, 0),
        K("kernel_release",  KEY_STRING, kernel_release, 0, 0),
        K("assess_exceptions", KEY_PATH, assess_exceptions, 0, 0),
        K("assess_interval_s", KEY_UINT, assess_interval_s, 0, 7 * 86400),
        K("assess_vm_admins", KEY_STRING, assess_vm_admins, 0, 0),
        K("assess_listen_allow", KEY_STRING, assess_listen_allow, 0, 0),
        K("audit",           KEY_BOOL, audit,           0, 0),
        K("audit_enable",    KEY_BOOL, audit_enable,    0, 0),
        K("audit_cron",      KEY_BOOL, audit_cron,      0, 0),
        K("audit_actor_window_s", KEY_UINT, audit_actor_window_s, 1, 60),
        K("audit_rules_dir", KEY_PATH, audit_rules_dir, 0, 0),
        K("wtmp",            KEY_PATH, wtmp,            0, 0),
        K("btmp",            KEY_PATH, btmp,            0, 0),
        /* [central] */
        K("central.dsn",     KEY_STRING, central_dsn,   0, 0),
        K("central.host_group", KEY_STRING, central_host_group, 0, 0),
        K("central.batch",   KEY_UINT, central_batch,   1, 5000),
        K("central.interval_s", KEY_UINT, central_interval_s, 1, 86400),
};

/* The sections a file may open ("[central]"): each key after one is looked
 * up as "SECTION.KEY". */
static const char *const sections[] = { "central", NULL };
#undef K

Config *config_new(void) {
        Config *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->inventory = strdup(VG_DEFAULT_INVENTORY);
        c->spool_dir = strdup(VG_DEFAULT_SPOOL);
        c->policy = strdup(VG_DEFAULT_POLICY);
        c->hooks_dir = strdup(VG_DEFAULT_HOOKS_DIR);
        c->hook_binary = strdup(VG_DEFAULT_HOOK_BINARY);
        /* libvirt holds the domain's job while the hook runs and waits with
         * no timeout: the hook must finish well within a start's budget. */
        c->hook_timeout_ms = 5000;
        /* Leaves the hook time to spool after a lock wait ran out. */
        c->busy_timeout_ms = 2000;
        /* Real domain XML is a few KiB; 4 MiB leaves room for thousands of
         * devices while bounding memory and parse time. */
        c->max_xml_bytes = 4 * 1024 * 1024;
        /* The journal where journald runs, syslog elsewhere: see
         * config_log_targets. */
        c->log = CONFIG_LOG_AUTO;
        c->syslog = true;
        c->syslog_socket = strdup("/dev/log");
        c->uris = strdup("qemu:///system");
        c->etc_dir = strdup("/etc");
        /* Membership in these is control of the hypervisor or of the host. */
        c->privileged_groups = strdup("libvirt kvm sudo wheel");
        /* A backstop for events lost in ways no callback reports. */
        c->reconcile_interval_s = 600;
        /* The hook writes its prepare event before QEMU starts; a start that
         * follows later than this had no decision of its own. */
        c->bypass_window_s = 120;
        c->image_dirs = strdup("/var/lib/libvirt/images");
        c->stale_days = 30;
        c->inventory_group = strdup("virtgov");
        c->integrity_profiles = strdup("isolation");
        c->integrity_dir = strdup(VG_DEFAULT_INTEGRITY_DIR);
        /* A file that now matches the package dpkg just installed is the
         * update, not tampering: folded in, with an event saying so. */
        c->integrity_accept_packages = true;
        /* Every accepted change is reconciled with an authorized ticket. */
        c->integrity_require_ticket = true;
        /* A stat of every watched file is cheap (the isolation profile:
         * milliseconds); reading them all is not (seconds per GB). */
        c->integrity_interval_s = 3600;
        c->integrity_full_interval_s = 86400;
        /* None: a program to page someone is the host's people's choice.
         * Its bound keeps a hung pager from piling runs up: one finding a
         * second would keep ten running. */
        c->integrity_action = NULL;
        c->integrity_action_timeout_s = 10;
        c->dpkg_admindir = strdup("/var/lib/dpkg");
        c->dpkg_log = strdup("/var/log/dpkg.log");
        c->qemu_run_dir = strdup("/run/libvirt/qemu");
        c->qemu_config_dir = strdup("/etc/libvirt/qemu");
        c->proc_dir = strdup("/proc");
        c->sys_class_net = strdup("/sys/class/net");
        c->machine_id_file = strdup("/etc/machine-id");
        c->host_key = strdup(VG_DEFAULT_HOST_KEY);
        c->kernel_proc_modules = strdup("/proc/modules");
        c->kernel_tainted = strdup("/proc/sys/kernel/tainted");
        c->kernel_modules_root = strdup("/lib/modules");
        c->kernel_boot_dir = strdup("/boot");
        /* What runs is what uname says; a test names another. */
        c->kernel_release = strdup("");
        c->assess_exceptions = strdup(VG_DEFAULT_ASSESS_EXCEPTIONS);
        /* Drift is found within the hour even when no watched file says
         * so (a sysctl set by hand, a package installed); a run is tens
         * of milliseconds. */
        c->assess_interval_s = 3600;
        /* Nobody by default: each VM manager is a decision to write down. */
        c->assess_vm_admins = strdup("");
        /* ssh, and what libvirt's default network's dnsmasq serves. */
        c->assess_listen_allow = strdup("22/tcp 53/tcp 53/udp 67/udp");
        /* Read when the kernel sends it; turning audit on is the host's
         * people's choice (it changes what every process costs). */
        c->audit = true;
        c->audit_enable = false;
        /* cron opens a session a minute: noise in an access log. */
        c->audit_cron = false;
        /* virsh define to libvirt's event: tens of milliseconds; a
         * virt-install that downloads first: seconds. */
        c->audit_actor_window_s = 5;
        c->audit_rules_dir = strdup("/etc/audit/rules.d");
        c->wtmp = strdup("/var/log/wtmp");
        c->btmp = strdup("/var/log/btmp");
        /* No central inventory unless a dsn says where: a host alone works
         * as it always has. */
        c->central_host_group = strdup("");
        /* 500 rows of 16 parameters: one round trip, well under libpq's
         * 65,535 parameters; a mass reboot's backlog drains in seconds. */
        c->central_batch = 500;
        c->central_interval_s = 10;
        if (!c->central_host_group ||!c->inventory || !c->spool_dir || !c->policy || !c->hooks_dir || !c->hook_binary ||
            !c->syslog_socket || !c->uris || !c->etc_dir || !c->privileged_groups || !c->image_dirs ||
            !c->inventory_group || !c->integrity_profiles || !c->integrity_dir || !c->dpkg_admindir || !c->dpkg_log ||
            !c->kernel_proc_modules || !c->kernel_tainted || !c->kernel_modules_root || !c->kernel_boot_dir ||
            !c->kernel_release || !c->qemu_run_dir || !c->qemu_config_dir || !c->proc_dir || !c->sys_class_net || !c->machine_id_file || !c->host_key ||
            !c->assess_exceptions || !c->assess_vm_admins || !c->assess_listen_allow || !c->audit_rules_dir ||
            !c->wtmp || !c->btmp)
                return config_free(c);
        return c;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->path);
        free(c->inventory);
        free(c->spool_dir);
        free(c->policy);
        free(c->hooks_dir);
        free(c->hook_binary);
        free(c->syslog_socket);
        free(c->uris);
        free(c->etc_dir);
        free(c->privileged_groups);
        free(c->image_dirs);
        free(c->inventory_group);
        free(c->integrity_profiles);
        free(c->integrity_dir);
        free(c->integrity_action);
        free(c->dpkg_admindir);
        free(c->dpkg_log);
        free(c->qemu_run_dir);
        free(c->qemu_config_dir);
        free(c->proc_dir);
        free(c->sys_class_net);
        free(c->machine_id_file);
        free(c->host_key);
        free(c->kernel_proc_modules);
        free(c->kernel_tainted);
        free(c->kernel_modules_root);
        free(c->kernel_boot_dir);
        free(c->kernel_release);
        free(c->assess_exceptions);
        free(c->assess_vm_admins);
        free(c->assess_listen_allow);
        free(c->audit_rules_dir);
        free(c->wtmp);
        free(c->btmp);
        free(c->host_id);
        free(c->central_dsn);
        free(c->central_host_group);
        free(c);
        return NULL;
}

static bool key_is_string(const ConfigKey *k) {
        return k->type == KEY_PATH || k->type == KEY_OPT_PATH || k->type == KEY_STRING;
}

Config *config_dup(const Config *c) {
        Config *n = malloc(sizeof(*n));
        if (!n)
                return NULL;
        *n = *c;
        /* Every string is a key's but path: the table lists them once.
         * All are let go of first, so that a failed copy frees only its
         * own. */
        n->path = NULL;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (key_is_string(&keys[i]))
                        *(char **) ((char *) n + keys[i].offset) = NULL;
        bool ok = !c->path || (n->path = strdup(c->path));
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (!key_is_string(&keys[i]))
                        continue;
                const char *from = *(char *const *) ((const char *) c + keys[i].offset);
                char **to = (char **) ((char *) n + keys[i].offset);
                if (from && !(*to = strdup(from)))
                        ok = false;
        }
        return ok ? n : config_free(n);
}

int config_set_path(char **field, const char *value) {
        char *n = strdup(value);
        if (!n)
                return -ENOMEM;
        free(*field);
        *field = n;
        return 0;
}

static int set_value(Config *c, const ConfigKey *k, const char *v, const char *file,
                     unsigned line, unsigned col, VgError *err) {
        void *field = (char *) c + k->offset;

        switch (k->type) {
        case KEY_OPT_PATH:
                if (v[0] == '\0') {
                        free(*(char **) field);
                        *(char **) field = NULL;
                        return 0;
                }
                /* fall through */
        case KEY_PATH:
                if (v[0] != '/')
                        return vg_error(err, -EINVAL, "%s:%u:%u: '%s' must be an absolute path, got '%s'",
                                        file, line, col, k->name, v);
                return config_set_path(field, v);
        case KEY_STRING:
                return config_set_path(field, v);
        case KEY_UINT: {
                char *end;
                errno = 0;
                unsigned long n = strtoul(v, &end, 10);
                if (!isdigit((unsigned char) v[0]) || *end || errno || n < k->min || n > k->max)
                        return vg_error(err, -EINVAL,
                                        "%s:%u:%u: '%s' expects a whole number from %lu to %lu, got '%s'",
                                        file, line, col, k->name, k->min, k->max, v);
                if (k->offset == offsetof(Config, max_xml_bytes))
                        *(size_t *) field = n;
                else
                        *(unsigned *) field = (unsigned) n;
                return 0;
        }
        case KEY_BOOL:
                if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
                        *(bool *) field = true;
                else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
                        *(bool *) field = false;
                else
                        return vg_error(err, -EINVAL, "%s:%u:%u: '%s' expects yes or no, got '%s'",
                                        file, line, col, k->name, v);
                return 0;
        case KEY_ENUM:
                for (size_t i = 0; k->words[i]; i++)
                        if (!strcmp(v, k->words[i])) {
                                *(int *) field = (int) i;
                                return 0;
                        }
                char known[128] = "";
                for (size_t i = 0, len = 0; k->words[i] && len < sizeof(known); i++)
                        len += (size_t) snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
                                                 k->words[i]);
                return vg_error(err, -EINVAL, "%s:%u:%u: '%s' expects one of %s, got '%s'",
                                file, line, col, k->name, known, v);
        }
        return -EINVAL;
}

static char *trim(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

/* Parses one line in place. seen[] marks keys already set, to refuse twins;
 * *section is the section the lines before opened ("" none). */
static int parse_line(Config *c, char *text, const char *file, unsigned line,
                      unsigned seen[], const char **section, VgError *err) {
        char *s = trim(text);
        if (*s == '\0' || *s == '#')
                return 0;
        unsigned col = (unsigned) (s - text) + 1;

        if (*s == '[') {
                size_t n = strlen(s);
                if (n < 3 || s[n - 1] != ']')
                        return vg_error(err, -EINVAL, "%s:%u:%u: expected '[section]', got '%s'", file, line, col, s);
                s[n - 1] = '\0';
                for (size_t i = 0; sections[i]; i++)
                        if (!strcmp(s + 1, sections[i])) {
                                *section = sections[i];
                                return 0;
                        }
                return vg_error(err, -EINVAL, "%s:%u:%u: unknown section '[%s]' (known: [central])", file, line,
                                col, s + 1);
        }

        char *eq = strchr(s, '=');
        if (!eq)
                return vg_error(err, -EINVAL, "%s:%u:%u: expected 'key = value', got '%s'",
                                file, line, col, s);
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        unsigned vcol = (unsigned) (value - text) + 1;
        char full[128];
        if (**section) {
                if (strchr(key, '.') || (size_t) snprintf(full, sizeof(full), "%s.%s", *section, key) >= sizeof(full))
                        return vg_error(err, -EINVAL, "%s:%u:%u: unknown key '%s' in [%s]", file, line, col, key,
                                        *section);
                key = full;
        } else if (strchr(key, '.'))
                /* "central.dsn" is only the table's name for it */
                return vg_error(err, -EINVAL, "%s:%u:%u: unknown key '%s' (a section's keys follow its "
                                "'[section]' line)", file, line, col, key);

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (strcmp(keys[i].name, key))
                        continue;
                if (seen[i])
                        return vg_error(err, -EINVAL, "%s:%u:%u: '%s' is already set on line %u",
                                        file, line, col, key, seen[i]);
                seen[i] = line;
                if (*value == '\0' && keys[i].type != KEY_OPT_PATH)
                        return vg_error(err, -EINVAL, "%s:%u:%u: '%s' has no value", file, line, vcol, key);
                return set_value(c, &keys[i], value, file, line, vcol, err);
        }
        /* The keys of the same section, by the names a file uses. (Bounded:
         * the names were 493 bytes long with 28 keys, and grow.) */
        char known[1536] = "";
        size_t plen = **section ? strlen(*section) + 1 : 0;
        for (size_t i = 0, len = 0; i < ELEMENTSOF(keys) && len < sizeof(known); i++) {
                const char *dot = strchr(keys[i].name, '.');
                if (plen ? !dot || strncmp(keys[i].name, key, plen) : !!dot)
                        continue;
                len += (size_t) snprintf(known + len, sizeof(known) - len, "%s%s", len ? ", " : "",
                                         keys[i].name + plen);
        }
        if (plen)
                return vg_error(err, -EINVAL, "%s:%u:%u: unknown key '%s' in [%s] (known: %s)", file, line, col,
                                key + plen, *section, known);
        return vg_error(err, -EINVAL, "%s:%u:%u: unknown key '%s' (known: %s)", file, line, col, key, known);
}

int config_parse(Config *c, const char *text, size_t len, const char *path, VgError *err) {
        if (memchr(text, '\0', len))
                return vg_error(err, -EINVAL, "%s: contains a NUL byte, not a text file", path);
        _cleanup_free_ char *buf = strndup(text, len);
        if (!buf)
                return vg_error(err, -ENOMEM, "out of memory");

        unsigned seen[ELEMENTSOF(keys)] = { 0 };
        const char *section = "";
        unsigned line = 0;
        char *save = NULL;
        /* strtok_r would skip empty lines and lose the count: split by hand. */
        for (char *p = buf; p; p = save) {
                char *nl = strchr(p, '\n');
                save = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                line++;
                int r = parse_line(c, p, path, line, seen, &section, err);
                if (r < 0)
                        return r;
        }
        return config_set_path(&c->path, path);
}

int config_load_file(Config *c, const char *path, VgError *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = vg_read_trusted_file(path, CONFIG_MAX_BYTES, &buf, &len, err);
        if (r == -EPERM)
                return r;
        if (r == -ENOENT)
                return vg_error(err, r, "%s: no such file", path);
        if (r == -EFBIG)
                return vg_error(err, r, "%s: larger than %d bytes, not a config file", path, CONFIG_MAX_BYTES);
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, strerror(-r));
        return config_parse(c, buf, len, path, err);
}

int config_validate(const Config *c, VgError *err) {
        if (c->busy_timeout_ms >= c->hook_timeout_ms)
                return vg_error(err, -EINVAL,
                                "%s: busy_timeout_ms (%u) must be less than hook_timeout_ms (%u), "
                                "or the hook has no time left to spool an event",
                                c->path ? c->path : "configuration", c->busy_timeout_ms, c->hook_timeout_ms);
        if (c->host_id) {
                size_t n = strspn(c->host_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
                if (n != strlen(c->host_id) || n > 64)
                        return vg_error(err, -EINVAL,
                                        "%s: host_id '%s' must be 1 to 64 letters, digits, '.', '_' or '-'",
                                        c->path ? c->path : "configuration", c->host_id);
        }
        if (!c->syslog && c->log != CONFIG_LOG_AUTO && c->log != CONFIG_LOG_NONE)
                return vg_error(err, -EINVAL,
                                "%s: 'syslog = no' and 'log = %s' disagree: 'syslog = no' is the old "
                                "spelling of 'log = none'; keep only 'log'",
                                c->path ? c->path : "configuration", log_words[c->log]);
        return 0;
}

unsigned config_log_targets(const Config *c, bool journal_present) {
        switch (c->log) {
        case CONFIG_LOG_JOURNAL:
                return CONFIG_TO_JOURNAL;
        case CONFIG_LOG_SYSLOG:
                return CONFIG_TO_SYSLOG;
        case CONFIG_LOG_BOTH:
                return CONFIG_TO_JOURNAL | CONFIG_TO_SYSLOG;
        case CONFIG_LOG_NONE:
                return 0;
        case CONFIG_LOG_AUTO:
                break;
        }
        if (!c->syslog)
                return 0;
        /* Not both: where journald runs, /dev/log is its socket too, and
         * each event would be in the journal twice; a syslog daemon there
         * reads the journal (imjournal, ForwardToSyslog) and gets the
         * fields as well. */
        return journal_present ? CONFIG_TO_JOURNAL : CONFIG_TO_SYSLOG;
}

const char *config_log_name(ConfigLog log) {
        return (unsigned) log < ELEMENTSOF(log_words) - 1 ? log_words[log] : NULL;
}

int config_load(const char *explicit_path, Config **ret, VgError *err) {
        _cleanup_(config_freep) Config *c = config_new();
        if (!c)
                return vg_error(err, -ENOMEM, "out of memory");

        const char *path = explicit_path;
        if (!path || !*path)
                path = getenv("VIRTGOV_CONFIG");
        bool must_exist = path && *path;
        if (!must_exist)
                path = VG_DEFAULT_CONFIG;

        int r = config_load_file(c, path, err);
        if (r < 0 && !(r == -ENOENT && !must_exist))
                return r;
        r = config_validate(c, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

char **config_split(const char *value) {
        size_t n = 0, cap = 4;
        char **v = calloc(cap + 1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(value ? value : "");
        if (!v || !copy)
                return config_strv_free(v);
        char *save = NULL;
        for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
                if (n == cap) {
                        char **nv = realloc(v, (cap * 2 + 1) * sizeof(char *));
                        if (!nv)
                                return config_strv_free(v);
                        v = nv;
                        cap *= 2;
                }
                if (!(v[n++] = strdup(t)))
                        return config_strv_free(v);
                v[n] = NULL;
        }
        return v;
}

char **config_strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}
