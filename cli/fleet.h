/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "virtgov fleet": the verbs over the central inventory (central.h). Each
 * verb is a file's: fleet-admin.c (init-db, add-host), fleet-query.c
 * (hosts, list, events, verify), fleet-report.c (report). cmd-fleet.c's
 * table calls them; they call fleet.c, never cmd-fleet.c (cmd_fleet
 * included): that would be a circle (tests/test-layering.sh). */
#pragma once

#include "cli.h"
#include "virtgov/central/central.h"

typedef struct FleetVerb {
        const char *name;
        /* argv[0] is the verb; dsn is --dsn's, else config [central] dsn,
         * else NULL (fleet_connect says what is missing). */
        int (*run)(Cli *cli, const char *dsn, int argc, char **argv);
} FleetVerb;

extern const FleetVerb fleet_verbs[];
/* fleet-admin.c */
int fleet_init_db(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_add_host(Cli *cli, const char *dsn, int argc, char **argv);

/* fleet.c. Connects to dsn (NULL: "no central inventory" naming the config file and
 * --dsn) and, unless schema_any, requires this build's schema. Prints
 * its own error; EXIT_OK or EXIT_FAIL. */
int fleet_connect(Cli *cli, const char *dsn, bool schema_any, Central **ret);
