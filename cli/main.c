/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov: query and administer the inventory.
 *
 *     virtgov [--config PATH] [--db PATH] [--json] COMMAND [ARGS...]
 *
 * Each command lives in its own cmd-*.c file and is one entry in the table
 * below; main only reads the global options and the configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vg-paths.h"

static const Command *const commands[] = {
        &cmd_events, &cmd_list, &cmd_show, &cmd_hooks, &cmd_approve, &cmd_revoke, &cmd_ticket, &cmd_image, &cmd_policy,
        &cmd_report, &cmd_integrity, &cmd_assess, &cmd_metrics, &cmd_verify, &cmd_host_key, &cmd_audit_rules, &cmd_fleet,
};

static void help(void) {
        printf("usage: virtgov [--config PATH] [--db PATH] [--spool PATH] [--json] COMMAND [ARGS...]\n"
               "\n"
               "Governance for KVM hosts run by libvirt: what exists, who owns it, what changed\n"
               "and who changed it. Events are recorded by virtgov-hook (libvirt's hooks) into\n"
               "the inventory; this command queries it.\n"
               "\n"
               "Global options:\n"
               "  --config PATH   configuration file (default $VIRTGOV_CONFIG, else\n"
               "                  " VG_DEFAULT_CONFIG ")\n"
               "  --db PATH       inventory database (overrides the 'inventory' key)\n"
               "  --spool PATH    spool directory (overrides the 'spool_dir' key)\n"
               "  --json          print JSON instead of tables (every query but metrics)\n"
               "  --help          this text; 'virtgov COMMAND --help' for a command\n"
               "  --version       print the version\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                printf("  %-12s %s\n", commands[i]->name, commands[i]->summary);
        printf("\nExit status: 0 success, 1 failure (or a problem found), 2 usage error.\n");
}

static int parse_globals(int argc, char **argv, Cli *cli, const char **db, const char **spool) {
        enum { OPT_CONFIG = 0x100, OPT_DB, OPT_SPOOL, OPT_JSON, OPT_VERSION, OPT_HELP };
        static const struct option opts[] = {
                { "config", required_argument, NULL, OPT_CONFIG },
                { "db", required_argument, NULL, OPT_DB },
                { "spool", required_argument, NULL, OPT_SPOOL },
                { "json", no_argument, NULL, OPT_JSON },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        int c;
        /* '+': stop at the command name; what follows is the command's. */
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_CONFIG: cli->config_path = optarg; break;
                case OPT_DB: *db = optarg; break;
                case OPT_SPOOL: *spool = optarg; break;
                case OPT_JSON: cli->json = true; break;
                case OPT_VERSION: printf("virtgov %s\n", VIRTGOV_VERSION); return -EXIT_OK - 1000;
                case 'h': case OPT_HELP: help(); return -EXIT_OK - 1000;
                default:
                        fprintf(stderr, "See 'virtgov --help'.\n");
                        return -EXIT_USAGE;
                }
        }
        return 0;
}

int main(int argc, char **argv) {
        Cli cli = { 0 };
        const char *db = NULL, *spool = NULL;

        int r = parse_globals(argc, argv, &cli, &db, &spool);
        if (r == -EXIT_OK - 1000)
                return EXIT_OK;
        if (r < 0)
                return -r;
        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }

        const char *name = argv[optind];
        const Command *cmd = NULL;
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(commands[i]->name, name))
                        cmd = commands[i];
        if (!strcmp(name, "help")) {
                help();
                return EXIT_OK;
        }
        if (!cmd) {
                fprintf(stderr, "virtgov: unknown command '%s'. See 'virtgov --help'.\n", name);
                return EXIT_USAGE;
        }

        /* A command's manual needs no configuration: it reads even where
         * the configuration is broken (and is what the man page is built
         * from). */
        if (optind + 1 < argc && (!strcmp(argv[optind + 1], "--help") || !strcmp(argv[optind + 1], "-h")))
                return cli_help(cmd);

        VgError err = { "" };
        if (config_load(cli.config_path, &cli.config, &err) < 0)
                return cli_error("%s", err.text);
        if ((db && config_set_path(&cli.config->inventory, db) < 0) ||
            (spool && config_set_path(&cli.config->spool_dir, spool) < 0)) {
                config_free(cli.config);
                return cli_error("out of memory");
        }

        /* The command parses its own options, its name as argv[0]. optind = 0
         * makes glibc's getopt start afresh. */
        int first = optind;
        optind = 0;
        r = cmd->run(&cli, argc - first, argv + first);
        config_free(cli.config);
        return r;
}
