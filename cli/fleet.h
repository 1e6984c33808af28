/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "virtgov fleet": the verbs over the central inventory (central.h). Each
 * verb is a file's: fleet-admin.c (init-db, add-host), fleet-query.c
 * (hosts, list, events, verify), fleet-report.c (report). */
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

/* Connects to dsn (NULL: "no central inventory" naming the config file and
 * --dsn) and, unless schema_any, requires this build's schema. Prints
 * its own error; EXIT_OK or EXIT_FAIL. */
int fleet_connect(Cli *cli, const char *dsn, bool schema_any, Central **ret);

/* The reading verbs (fleet-query.c, fleet-report.c), as FleetVerb.run:
 * each prints its own errors; EXIT_OK, EXIT_FAIL (a problem found or an
 * error said) or EXIT_USAGE. */
int fleet_hosts(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_list(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_events(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_verify(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_report(Cli *cli, const char *dsn, int argc, char **argv);
