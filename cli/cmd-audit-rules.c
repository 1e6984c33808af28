/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "audit-rules": the audit rules virtgov wants, printed, installed or removed. */
#include <errno.h>
#include <libaudit.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "virtgov/audit/audit.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/event.h"

/* auditd loads rules.d at its start (augenrules); without it, rules live
 * in the kernel only until reboot. */
static bool auditd_installed(void) {
        return access("/usr/sbin/auditd", X_OK) == 0 || access("/sbin/auditd", X_OK) == 0;
}

/* The change, as an event naming who made it. Not recording it is said,
 * not fatal: the rules are in place. */
static void record(Cli *cli, const char *action, const char *where) {
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        Event *e = s ? event_new("cli", "audit.rules") : NULL;
        if (!e)
                return;
        VgError err = { "" };
        event_set(&e->actor, cli_actor());
        char reason[PATH_MAX + 64];
        snprintf(reason, sizeof(reason), "virtgov's audit rules %s %s", action, where);
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "action", json_string(action));
        json_object_set_new(e->data, "where", event_json_string(where));
        if (store_append_event(s, e, NULL, &err) < 0)
                cli_error("the change is not recorded: %s", err.text);
        event_free(e);
}

static int through_netlink(Cli *cli, bool remove) {
        int fd = audit_open();
        if (fd < 0)
                return cli_error("the kernel's audit: %s", strerror(errno));
        VgError err = { "" };
        int r = audit_kernel_rules(fd, cli->config->etc_dir, remove, &err);
        audit_close(fd);
        if (r < 0)
                return cli_error("%s%s", err.text, r == -EPERM ? " (it needs root: CAP_AUDIT_CONTROL)" : "");
        printf("virtgov's audit rules %s the kernel (until reboot)\n", remove ? "removed from" : "loaded into");
        record(cli, remove ? "removed" : "loaded", "the kernel");
        return EXIT_OK;
}

static int install(Cli *cli, const char *text) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/virtgov.rules", cli->config->audit_rules_dir);
        if (auditd_installed()) {
                VgError err = { "" };
                int r = vg_mkdir_p(cli->config->audit_rules_dir, 0750);
                if (r < 0)
                        return cli_error("'%s': %s", cli->config->audit_rules_dir, strerror(-r));
                if (vg_write_file(path, text, strlen(text), 0640, &err) < 0)
                        return cli_error("%s", err.text);
                printf("wrote %s; 'augenrules --load' (or restarting auditd) loads it\n", path);
                record(cli, "written to", path);
                return EXIT_OK;
        }
        if (!cli->config->audit_enable)
                return cli_error("auditd is not installed, and loading the rules into the kernel needs "
                                 "'audit_enable = yes' in %s: install auditd, or set it",
                                 cli->config->path ? cli->config->path : "the configuration");
        return through_netlink(cli, false);
}

static int uninstall(Cli *cli) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/virtgov.rules", cli->config->audit_rules_dir);
        if (unlink(path) == 0) {
                printf("removed %s; 'augenrules --load' takes the rules out of the kernel\n", path);
                record(cli, "removed from", path);
                return EXIT_OK;
        }
        if (errno != ENOENT)
                return cli_error("'%s': %s", path, strerror(errno));
        return through_netlink(cli, true);
}

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_INSTALL = 0x100, OPT_REMOVE, OPT_HELP };
        static const struct option opts[] = {
                { "install", no_argument, NULL, OPT_INSTALL },
                { "remove", no_argument, NULL, OPT_REMOVE },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        bool inst = false, rem = false;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_INSTALL: inst = true; break;
                case OPT_REMOVE: rem = true; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_audit_rules);
                default: return cli_usage_error(&cmd_audit_rules, "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(&cmd_audit_rules, "unexpected argument '%s'", argv[optind]);
        if (inst && rem)
                return cli_usage_error(&cmd_audit_rules, "--install or --remove, not both");
        _cleanup_free_ char *text = audit_rules_text(cli->config->etc_dir);
        if (!text)
                return cli_error("out of memory");
        if (rem)
                return uninstall(cli);
        if (inst)
                return install(cli, text);
        fputs(text, stdout);
        return EXIT_OK;
}

const Command cmd_audit_rules = {
        .name = "audit-rules",
        .usage = "audit-rules [--install | --remove]",
        .summary = "The audit rules virtgov wants: VM commands, identity files, libvirt's config.",
        .help =
        "Prints the rules in auditctl's syntax: a watch on the execution of virsh,\n"
        "virt-install, virt-clone, virt-manager and qemu-img (key virtgov-vm), and on\n"
        "writes to passwd, group, shadow, gshadow, sudoers, sudoers.d (virtgov-identity)\n"
        "and libvirt's configuration (virtgov-libvirt). With them loaded, a domain event\n"
        "that follows one person's VM command naming that domain within\n"
        "audit_actor_window_s gets that person as its actor, with the command line\n"
        "(secrets taken out) in data.actor_evidence.\n"
        "\n"
        "--install  writes audit_rules_dir/virtgov.rules when auditd is installed (then\n"
        "           'augenrules --load'); without auditd, loads them into the kernel\n"
        "           through netlink (until reboot), which needs 'audit_enable = yes'.\n"
        "--remove   removes that file, or takes the loaded rules out of the kernel.\n"
        "Each change is an audit.rules event naming who made it.\n",
        .run = run,
};
