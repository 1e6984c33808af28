/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "hooks install|uninstall|status": put virtgov-hook where libvirt runs it.
 *
 * libvirt decides at start-up (and on SIGHUP) whether a driver has hooks: a
 * hook directory is only used if some hook for that driver existed then.
 * So installing the first hook for a driver under a running daemon does
 * nothing until it is restarted, and we say so.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vg-paths.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/host/procscan.h"

#define HOOK_NAME "50-virtgov"
#define HOOK_MAX_BYTES (64 * 1024 * 1024)

static const char *const drivers[] = { "qemu", "network" };

/* Other hooks of the driver: the main script and the files in DRIVER.d. */
static json_t *other_hooks(const char *dir, const char *driver) {
        json_t *a = json_array();
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, driver);
        if (access(path, F_OK) == 0)
                json_array_append_new(a, json_string(path));
        snprintf(path, sizeof(path), "%s/%s.d", dir, driver);
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && strcmp(de->d_name, HOOK_NAME)) {
                        char p[4096 + 256];
                        snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
                        json_array_append_new(a, json_string(p));
                }
        if (d)
                closedir(d);
        return a;
}

/* The running libvirt daemon for a driver, and when it started. Only
 * meaningful for libvirt's own hook directory: a daemon never looks
 * anywhere else, so for any other directory the answer is 0.
 *
 * /proc/PID/stat gives the start in clock ticks on CLOCK_BOOTTIME; turning
 * that into wall-clock time through CLOCK_BOOTTIME itself keeps 10 ms
 * precision (btime in /proc/stat would round to whole seconds, too coarse
 * to tell a hook installed just before the daemon started). */
static pid_t daemon_for(const char *hooks_dir, const char *driver, double *ret_start) {
        if (strcmp(hooks_dir, VG_DEFAULT_HOOKS_DIR))
                return 0;
        const char *modular = !strcmp(driver, "qemu") ? "virtqemud" : "virtnetworkd";
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t found = 0;
        while (d && !found && (de = readdir(d))) {
                char path[300];
                _cleanup_free_ char *comm = NULL;
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
                if (vg_read_file(path, 256, &comm, NULL) < 0)
                        continue;
                comm[strcspn(comm, "\n")] = '\0';
                if (strcmp(comm, "libvirtd") && strcmp(comm, modular))
                        continue;
                double start = proc_start_time("/proc", (pid_t) atoi(de->d_name));
                if (!start)
                        continue;
                *ret_start = start;
                found = (pid_t) atoi(de->d_name);
        }
        if (d)
                closedir(d);
        return found;
}

static double mtime_of(const struct stat *st) {
        return (double) st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
}

static int read_binary(const char *from, char **ret, size_t *ret_len) {
        int r = vg_read_file(from, HOOK_MAX_BYTES, ret, ret_len);
        if (r < 0)
                return cli_error("hook binary '%s': %s (see --from and the 'hook_binary' key)", from,
                                 vg_read_error(r));
        return 0;
}

typedef struct HookOpts {
        const char *dir, *from;
} HookOpts;

/* The inventory's directory: 2750 root:inventory_group, so that files
 * created in it (the inventory, its -wal and -shm) get the group and its
 * members can read them, and nobody else can look in. Without the group,
 * 0750 root:root. */
static int secure_state_dir(const Config *c) {
        _cleanup_free_ char *dir = strdup(c->inventory);
        if (!dir)
                return cli_error("out of memory");
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        int r = vg_mkdir_p(dir, 0750);
        if (r < 0)
                return cli_error("cannot create the directory of '%s': %s", c->inventory, strerror(-r));
        struct group *g = getgrnam(c->inventory_group);
        if (!g) {
                fprintf(stderr, "virtgov: no group '%s' (inventory_group): only root can read the inventory; "
                        "'groupadd --system %s' and run this again to let its members read it\n",
                        c->inventory_group, c->inventory_group);
                return 0;
        }
        if (chown(dir, 0, g->gr_gid) < 0 || chmod(dir, 02750) < 0)
                return cli_error("cannot give '%s' to group '%s': %s", dir, c->inventory_group, strerror(errno));
        return 0;
}

/* An inventory made before the directory had its group: give it, its
 * -wal and -shm, and its copy of the authorizations the group too, mode 0640. */
static int secure_inventory(const Config *c) {
        struct group *g = getgrnam(c->inventory_group);
        static const char *const suffix[] = { "", "-wal", "-shm", "-authz" };
        for (size_t i = 0; i < ELEMENTSOF(suffix); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s%s", c->inventory, suffix[i]);
                if (access(path, F_OK) < 0)
                        continue;
                if ((g && chown(path, 0, g->gr_gid) < 0) || chmod(path, 0640) < 0)
                        return cli_error("cannot set the mode of '%s': %s", path, strerror(errno));
        }
        return 0;
}

static int install(Cli *cli, const HookOpts *o) {
        _cleanup_free_ char *bin = NULL;
        size_t len;
        if (read_binary(o->from, &bin, &len))
                return EXIT_FAIL;

        /* The inventory and spool must exist before the first hook runs:
         * the hook writes, it never creates. */
        VgError err = { "" };
        Store *s = NULL;
        int r = secure_state_dir(cli->config);
        if (r)
                return r;
        if (store_open(cli->config->inventory, STORE_CREATE, cli->config->busy_timeout_ms, &s, &err) < 0)
                return cli_error("%s", err.text);
        store_close(s);
        r = secure_inventory(cli->config);
        if (r)
                return r;
        r = vg_mkdir_p(cli->config->spool_dir, 0700);
        if (r < 0)
                return cli_error("cannot create spool '%s': %s", cli->config->spool_dir, strerror(-r));

        bool restart = false;
        for (size_t i = 0; i < ELEMENTSOF(drivers); i++) {
                char dir[4096], path[4200];
                json_t *others = other_hooks(o->dir, drivers[i]);
                snprintf(path, sizeof(path), "%s/%s.d/%s", o->dir, drivers[i], HOOK_NAME);
                bool first = json_array_size(others) == 0 && access(path, F_OK) < 0;
                json_decref(others);

                snprintf(dir, sizeof(dir), "%s/%s.d", o->dir, drivers[i]);
                if ((r = vg_mkdir_p(dir, 0755)) < 0)
                        return cli_error("cannot create '%s': %s", dir, strerror(-r));
                if ((r = vg_write_file(path, bin, len, 0755, &err)) < 0)
                        return cli_error("cannot install the hook: %s", err.text);
                printf("installed %s\n", path);

                double started;
                if (first && daemon_for(o->dir, drivers[i], &started))
                        restart = true;
        }
        printf("inventory %s\nspool     %s\n", cli->config->inventory, cli->config->spool_dir);
        if (restart)
                printf("\nlibvirtd is running and had no %s hooks when it started: it ignores the new\n"
                       "hooks until it is restarted. Run: systemctl restart libvirtd (or virtqemud and\n"
                       "virtnetworkd). Running guests are not affected by the restart.\n",
                       "qemu or network");
        return EXIT_OK;
}

static int uninstall(const HookOpts *o) {
        int rc = EXIT_OK;
        for (size_t i = 0; i < ELEMENTSOF(drivers); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/%s.d/%s", o->dir, drivers[i], HOOK_NAME);
                if (unlink(path) == 0)
                        printf("removed %s\n", path);
                else if (errno == ENOENT)
                        printf("not installed: %s\n", path);
                else
                        rc = cli_error("cannot remove '%s': %m", path);
        }
        return rc;
}

static json_t *status_one(const HookOpts *o, const char *driver, const char *bin, size_t len, bool *ok) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s.d/%s", o->dir, driver, HOOK_NAME);
        json_t *j = json_object();
        json_object_set_new(j, "driver", json_string(driver));
        json_object_set_new(j, "path", json_string(path));

        struct stat st;
        bool present = stat(path, &st) == 0;
        bool exec = present && S_ISREG(st.st_mode) && (st.st_mode & 0111);
        bool match = false;
        _cleanup_free_ char *have = NULL;
        size_t hlen;
        if (present && bin && vg_read_file(path, HOOK_MAX_BYTES, &have, &hlen) == 0)
                match = hlen == len && !memcmp(have, bin, len);
        json_object_set_new(j, "installed", json_boolean(present));
        json_object_set_new(j, "executable", json_boolean(exec));
        json_object_set_new(j, "matches_binary", json_boolean(match));
        json_object_set_new(j, "other_hooks", other_hooks(o->dir, driver));

        double started = 0;
        pid_t pid = daemon_for(o->dir, driver, &started);
        json_object_set_new(j, "daemon_pid", pid ? json_integer(pid) : json_null());
        /* The daemon looked for hooks when it started: if it started before
         * our hook existed (and no other one did), it is not running ours. */
        if (pid && present) {
                bool older_other = false;
                json_t *v;
                size_t k;
                json_array_foreach(json_object_get(j, "other_hooks"), k, v) {
                        struct stat os;
                        if (stat(json_string_value(v), &os) == 0 && mtime_of(&os) < started)
                                older_other = true;
                }
                json_object_set_new(j, "active", json_boolean(mtime_of(&st) < started || older_other));
        } else
                json_object_set_new(j, "active", json_null());
        *ok = *ok && exec && match && !json_is_false(json_object_get(j, "active"));
        return j;
}

static int status(Cli *cli, const HookOpts *o) {
        _cleanup_free_ char *bin = NULL;
        size_t len = 0;
        if (vg_read_file(o->from, HOOK_MAX_BYTES, &bin, &len) < 0)
                bin = NULL;
        bool ok = true;
        json_t *list = json_array();
        for (size_t i = 0; i < ELEMENTSOF(drivers); i++)
                json_array_append_new(list, status_one(o, drivers[i], bin, len, &ok));

        if (cli->json) {
                json_t *out = json_object();
                json_object_set_new(out, "hooks_dir", json_string(o->dir));
                json_object_set_new(out, "binary", json_string(o->from));
                json_object_set_new(out, "binary_found", json_boolean(bin != NULL));
                json_object_set_new(out, "ok", json_boolean(ok));
                json_object_set_new(out, "hooks", list);
                out_json(out);
                return ok ? EXIT_OK : EXIT_FAIL;
        }
        json_t *h;
        size_t i;
        json_array_foreach(list, i, h) {
                json_t *active = json_object_get(h, "active");
                printf("%-8s %s\n", json_string_value(json_object_get(h, "driver")),
                       json_string_value(json_object_get(h, "path")));
                printf("         installed: %s, executable: %s, matches %s: %s\n",
                       json_is_true(json_object_get(h, "installed")) ? "yes" : "no",
                       json_is_true(json_object_get(h, "executable")) ? "yes" : "no", o->from,
                       bin ? (json_is_true(json_object_get(h, "matches_binary")) ? "yes" : "NO")
                           : "binary not found");
                printf("         picked up by the running daemon: %s\n",
                       json_is_null(active) ? "unknown (no libvirt daemon running, hook not installed,\n"
                                              "           or not libvirt's hook directory " VG_DEFAULT_HOOKS_DIR ")"
                       : json_is_true(active) ? "yes"
                       : "NO: it started before the hook existed; restart libvirtd");
                json_t *v;
                size_t k;
                json_array_foreach(json_object_get(h, "other_hooks"), k, v) {
                        fputs("         also runs: ", stdout);
                        out_put_safe(json_string_value(v), stdout);   /* a file name in the hooks directory */
                        putchar('\n');
                }
        }
        json_decref(list);
        return ok ? EXIT_OK : EXIT_FAIL;
}

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_DIR = 0x100, OPT_FROM, OPT_JSON, OPT_HELP };
        static const struct option opts[] = {
                { "hooks-dir", required_argument, NULL, OPT_DIR },
                { "from", required_argument, NULL, OPT_FROM },
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        HookOpts o = { .dir = cli->config->hooks_dir, .from = cli->config->hook_binary };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_DIR: o.dir = optarg; break;
                case OPT_FROM: o.from = optarg; break;
                case OPT_JSON: cli->json = true; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_hooks);
                default: return cli_usage_error(&cmd_hooks, "unknown option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(&cmd_hooks, "expected one of install, uninstall, status");
        const char *verb = argv[optind];
        if (!strcmp(verb, "install"))
                return install(cli, &o);
        if (!strcmp(verb, "uninstall"))
                return uninstall(&o);
        if (!strcmp(verb, "status"))
                return status(cli, &o);
        return cli_usage_error(&cmd_hooks, "unknown verb '%s'", verb);
}

const Command cmd_hooks = {
        .name = "hooks",
        .usage = "hooks install|uninstall|status [--hooks-dir DIR] [--from PATH] [--json]",
        .summary = "Install, remove or check virtgov-hook in libvirt's hook directories.",
        .help =
        "install    copies the hook binary to DIR/qemu.d/" HOOK_NAME " and DIR/network.d/" HOOK_NAME "\n"
        "           (atomically, mode 0755), creates the inventory and the spool if\n"
        "           missing, and leaves every other hook alone. libvirt runs all hooks in\n"
        "           those directories and the worst exit code wins. The inventory's\n"
        "           directory becomes 2750 root:virtgov (the 'inventory_group' key) and\n"
        "           the inventory 0640, so members of that group read it without root;\n"
        "           the spool is 0700.\n"
        "uninstall  removes those two files and nothing else.\n"
        "status     says whether each is installed, executable and identical to the hook\n"
        "           binary, which other hooks run beside it, and whether the running\n"
        "           libvirt daemon has picked the hooks up. Exit 0 only if all is well.\n"
        "\n"
        "libvirtd (or virtqemud / virtnetworkd) uses a hook directory only if some hook\n"
        "for that driver existed when it started: after the first install, restart it.\n"
        "'install' says so when it is needed. The daemon's view is judged from its start\n"
        "time against the hook files' modification times.\n"
        "\n"
        "Options:\n"
        "  --hooks-dir DIR  libvirt's hook directory (default: the 'hooks_dir' key,\n"
        "                   /etc/libvirt/hooks)\n"
        "  --from PATH      the hook binary to install or compare with (default: the\n"
        "                   'hook_binary' key, the installed virtgov-hook)\n"
        "  --json           status as a JSON object\n",
        .run = run,
};
