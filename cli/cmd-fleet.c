/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "fleet": the central inventory on PostgreSQL, the fleet's mirror of
 * every host's (central.h). The verbs are in fleet.h's files. */
#include <string.h>

#include "fleet.h"

const FleetVerb fleet_verbs[] = {
        { "init-db", fleet_init_db }, { "add-host", fleet_add_host },
        { "hosts", fleet_hosts },
        { "list", fleet_list },
        { "events", fleet_events },
        { "verify", fleet_verify },
        { "report", fleet_report },
        {},
};

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
        "init-db [--json]\n"
        "    As the database's owner: creates schema virtgov, or upgrades it to\n"
        "    this build's version, each migration in one transaction, and prints\n"
        "    'schema version A -> B' (or 'already at version B'), then what is in\n"
        "    force, read back from the catalog: every GRANT on the schema, its\n"
        "    tables and functions, the members of virtgov_host and virtgov_auditor,\n"
        "    the row-level security policies, and which tables have row-level\n"
        "    security. --json: {\"from\", \"to\", \"grants\", \"policies\",\n"
        "    \"row_security\"}. A schema newer than this build: exit 1, nothing\n"
        "    changed. Run it again after each upgrade of virtgov.\n"
        "\n"
        "add-host HOST-ID [--role ROLE] [--json]\n"
        "    As the owner (with CREATEROLE): maps the host id HOST-ID (config\n"
        "    host_id, else its machine-id; 1 to 64 of A-Z a-z 0-9 . _ -) to the\n"
        "    login role ROLE, by default virtgov_host_ and the id lowercased, '.'\n"
        "    and '-' as '_'. Makes the role (LOGIN, member of virtgov_host) when\n"
        "    missing; row-level security then lets it write and read that host's\n"
        "    rows only. The same pair again changes nothing; a host id mapped to\n"
        "    another role, a role mapped to another host, or a role that would\n"
        "    escape row-level security (superuser, BYPASSRLS, the owner) is\n"
        "    refused. Prints the next steps: the role's password (psql's\n"
        "    \\password, kept in the host's ~/.pgpass or passfile=) or client\n"
        "    certificate, and the host's [central] dsn.\n"
        "\n"
        "TLS: over TCP, use sslmode=verify-full and sslrootcert=CA-FILE in the\n"
        "dsn: the server's certificate must chain to that CA and name the host\n"
        "the dsn connects to (CN or subjectAltName). A server that listens\n"
        "only on a Unix socket needs none.\n"
        "\n"
        FLEET_QUERY_HELP,
        .run = run,
};
