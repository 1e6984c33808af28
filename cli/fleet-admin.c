/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "fleet init-db" and "fleet add-host": setting up the central inventory,
 * as its owner (central.h, lib/central/admin.c). They print what they
 * changed and what is in force after, never a password. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

/* The usage these verbs print; the manual is cmd_fleet's (cmd-fleet.c),
 * which this file may not name: fleet.h says why. */
static const Command admin_usage = {
        .name = "fleet",
        .usage = "fleet [--dsn DSN] init-db [--json]\n"
                 "       virtgov fleet [--dsn DSN] add-host HOST-ID [--role ROLE] [--json]",
};

/* --json and --help after the verb; *arg: the one operand, when wanted.
 * EXIT_OK to go on, -1 when --help was printed, else the exit status. */
static int parse_verb(Cli *cli, int argc, char **argv, const char **role, const char **arg) {
        enum { OPT_JSON = 0x100, OPT_HELP, OPT_ROLE };
        static const struct option all[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, OPT_HELP },
                { "role", required_argument, NULL, OPT_ROLE },
                {}
        };
        /* optind 0: glibc starts afresh, permuting (options after the
         * operand), not in the order main's "+" parse left it in. */
        optind = 0;
        int c;
        while ((c = getopt_long(argc, argv, "h", all, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON: cli->json = true; break;
                case 'h': case OPT_HELP:
                        printf("usage: virtgov %s\n\nSee 'virtgov fleet --help' for the verbs' manual.\n",
                               admin_usage.usage);
                        return -1;
                case OPT_ROLE:
                        if (!role)
                                return cli_usage_error(&admin_usage, "%s takes no --role", argv[0]);
                        *role = optarg;
                        break;
                default: return cli_usage_error(&admin_usage, "unknown option for %s", argv[0]);
                }
        }
        if (arg && optind >= argc)
                return cli_usage_error(&admin_usage, "%s needs a HOST-ID", argv[0]);
        if (arg)
                *arg = argv[optind++];
        if (optind < argc)
                return cli_usage_error(&admin_usage, "unexpected argument '%s'", argv[optind]);
        return EXIT_OK;
}

static json_t *lines_json(char **v) {
        json_t *a = json_array();
        for (char **p = v; a && p && *p; p++)
                if (json_array_append_new(a, json_string(*p)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* row_security's "virtgov.events on" lines as {"virtgov.events": true}. */
static json_t *row_security_json(char **v) {
        json_t *o = json_object();
        for (char **p = v; o && p && *p; p++) {
                const char *sp = strrchr(*p, ' ');
                _cleanup_free_ char *t = sp ? strndup(*p, (size_t) (sp - *p)) : NULL;
                if (!t || json_object_set_new(o, t, json_boolean(!strcmp(sp + 1, "on"))) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

static void print_tables(char **v, const char *state) {
        size_t n = 0;
        for (char **p = v; p && *p; p++) {
                const char *sp = strrchr(*p, ' ');
                if (!sp || strcmp(sp + 1, state))
                        continue;
                printf("%s%.*s", n++ ? ", " : "", (int) (sp - *p), *p);
        }
        printf("%s\n", n ? "" : "none");
}

int fleet_init_db(Cli *cli, const char *dsn, int argc, char **argv) {
        int r = parse_verb(cli, argc, argv, NULL, NULL);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        _cleanup_(central_closep) Central *c = NULL;
        if ((r = fleet_connect(cli, dsn, true, &c)) != EXIT_OK)
                return r;
        VgError err = { "" };
        unsigned from, to;
        if (central_migrate(c, &from, &to, &err) < 0)
                return cli_error("%s", err.text);
        CentralAccess a;
        if (central_access(c, &a, &err) < 0)
                return cli_error("the schema is at version %u, but %s", to, err.text);
        if (cli->json) {
                json_t *j = json_pack("{s:i, s:i, s:o, s:o, s:o}", "from", (int) from, "to", (int) to,
                                      "grants", lines_json(a.grants), "policies", lines_json(a.policies),
                                      "row_security", row_security_json(a.row_security));
                central_access_done(&a);
                if (!j)
                        return cli_error("out of memory");
                return out_json(j);
        }
        if (from == to)
                printf("central inventory: already at version %u\n", to);
        else
                printf("central inventory: schema version %u -> %u\n", from, to);
        printf("\nGrants in force on schema virtgov:\n");
        for (char **p = a.grants; *p; p++)
                printf("  %s\n", *p);
        printf("\nRow-level security policies:\n");
        for (char **p = a.policies; *p; p++)
                printf("  %s\n", *p);
        printf("\nRow-level security on: ");
        print_tables(a.row_security, "on");
        printf("Row-level security off: ");
        print_tables(a.row_security, "off");
        central_access_done(&a);
        return EXIT_OK;
}

static void print_next_steps(const char *host_id, const char *role, const char *dsn, const char *pgpass) {
        printf("\nNext steps:\n"
               "  1. Give '%s' a way to log in, one of:\n"
               "     - a password: as the owner, in psql, run\n"
               "         \\password %s\n"
               "       (psql sends only its SCRAM hash: ALTER ROLE ... PASSWORD, never in\n"
               "       clear). On the host, keep it in root's ~/.pgpass, or the file\n"
               "       passfile= names (mode 0600), as the line\n"
               "         %s\n"
               "       and let the role in with a pg_hba.conf line such as\n"
               "         hostssl DATABASE %s HOST-ADDRESS/32 scram-sha-256\n"
               "     - a client certificate whose CN is the role's name, named in the dsn\n"
               "       by sslcert= and sslkey=, and a pg_hba.conf 'hostssl ... cert' line.\n"
               "  2. On the host, in virtgov.conf (host_id before any section; only when\n"
               "     the host's id is not its machine-id):\n"
               "       host_id = %s\n"
               "       [central]\n"
               "       dsn = %s\n"
               "     Never a password in the dsn: virtgov refuses one.\n",
               role, role, pgpass, role, host_id, dsn);
}

int fleet_add_host(Cli *cli, const char *dsn, int argc, char **argv) {
        const char *role = NULL, *host_id = NULL;
        int r = parse_verb(cli, argc, argv, &role, &host_id);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        char def[CENTRAL_ROLE_SIZE];
        if (!central_host_id_valid(host_id))
                return cli_error("host id '%s' must be 1 to 64 letters, digits, '.', '_' or '-' (as config host_id)",
                                 host_id);
        if (!role) {
                if (central_host_role_name(host_id, def) < 0)
                        return cli_error("host id '%s' is not valid", host_id);
                role = def;
        }
        _cleanup_(central_closep) Central *c = NULL;
        if ((r = fleet_connect(cli, dsn, false, &c)) != EXIT_OK)
                return r;
        VgError err = { "" };
        unsigned did;
        if (central_add_host(c, host_id, role, &did, &err) < 0)
                return cli_error("%s", err.text);
        _cleanup_free_ char *host_dsn = NULL, *pgpass = NULL;
        if (central_host_dsn(c, role, &host_dsn) < 0 || central_host_pgpass(c, role, &pgpass) < 0)
                return cli_error("out of memory");
        if (cli->json)
                return out_json(json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:s, s:s}", "host_id", host_id, "role",
                                          role, "changed", did != 0, "role_made", (did & CENTRAL_ROLE_MADE) != 0,
                                          "role_granted", (did & CENTRAL_ROLE_GRANTED) != 0, "mapped",
                                          (did & CENTRAL_HOST_MAPPED) != 0, "dsn", host_dsn, "pgpass", pgpass));
        if (!did)
                printf("host '%s' is already mapped to the role '%s': nothing changed\n", host_id, role);
        else {
                printf("host '%s':\n", host_id);
                if (did & CENTRAL_ROLE_MADE)
                        printf("  made the role '%s' (LOGIN, member of virtgov_host)\n", role);
                if (did & CENTRAL_ROLE_GRANTED)
                        printf("  made the existing role '%s' a member of virtgov_host\n", role);
                printf("  %s the host id to the role '%s' (virtgov.host_roles)\n",
                       did & CENTRAL_HOST_MAPPED ? "mapped" : "kept the mapping of", role);
        }
        print_next_steps(host_id, role, host_dsn, pgpass);
        return EXIT_OK;
}
