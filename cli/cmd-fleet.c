/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "fleet": the central inventory on PostgreSQL, the fleet's mirror of
 * every host's (central.h). The verbs are in fleet.h's files. */
#include <string.h>

#include "fleet.h"

const FleetVerb fleet_verbs[] = {
        { "hosts", fleet_hosts },
        { "list", fleet_list },
        { "events", fleet_events },
        { "verify", fleet_verify },
        { "report", fleet_report },
        {},
};

int fleet_connect(Cli *cli, const char *dsn, bool schema_any, Central **ret) {
        if (!dsn)
                return cli_error("no central inventory: set 'dsn' in the [central] section of %s, or pass --dsn",
                                 cli->config->path ? cli->config->path : "the configuration");
        VgError err = { "" };
        _cleanup_(central_closep) Central *c = NULL;
        if (central_connect(dsn, "virtgov", &c, &err) < 0 || (!schema_any && central_require_schema(c, &err) < 0))
                return cli_error("%s", err.text);
        *ret = TAKE_PTR(c);
        return EXIT_OK;
}

static int run(Cli *cli, int argc, char **argv) {
        /* --dsn and --help before the verb; the verb parses the rest */
        const char *dsn = cli->config->central_dsn;
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return cli_help(&cmd_fleet);
                else if (!strcmp(argv[i], "--dsn") && i + 1 < argc)
                        dsn = argv[++i];
                else if (!strncmp(argv[i], "--dsn=", 6))
                        dsn = argv[i] + 6;
                else
                        return cli_usage_error(&cmd_fleet, "unknown option '%s' before the verb", argv[i]);
        }
        if (i >= argc)
                return cli_usage_error(&cmd_fleet, "name a verb: init-db, add-host, hosts, list, events, report, verify");
        for (const FleetVerb *v = fleet_verbs; v->name; v++)
                if (!strcmp(v->name, argv[i])) {
                        optind = 1;
                        return v->run(cli, dsn, argc - i, argv + i);
                }
        return cli_usage_error(&cmd_fleet, "unknown verb '%s'", argv[i]);
}

const Command cmd_fleet = {
        .name = "fleet",
        .usage = "fleet [--dsn DSN] init-db\n"
                 "       virtgov fleet [--dsn DSN] add-host HOST-ID [--role ROLE]\n"
                 "       virtgov " FLEET_QUERY_USAGE,
        .summary = "The fleet's central inventory on PostgreSQL: its hosts, domains, events and findings.",
        .help =
        "The central inventory is a mirror of every host's, on PostgreSQL 15. Each\n"
        "host's virtgov-inventoryd ships its events and state there when the config's\n"
        "[central] section names a dsn; the host goes on recording and deciding\n"
        "when the database is down, and ships the backlog after. These verbs read\n"
        "it (as the role virtgov_auditor, or any role granted it) or, for init-db\n"
        "and add-host, set it up (as its owner).\n"
        "\n"
        "--dsn DSN  libpq's connection string; default: the config's [central] dsn.\n"
        "           Never a password: use a password file, a service file or a\n"
        "           client certificate.\n"
        "\n"
        FLEET_QUERY_HELP,
        .run = run,
};
