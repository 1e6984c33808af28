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

/* The reading verbs' usage and --help paragraphs: cmd_fleet's text ends
 * with them, and each verb prints them for its own --help and usage
 * errors (fleet_query_cmd, fleet-query.c). */
#define FLEET_QUERY_USAGE \
        "fleet [--dsn DSN] hosts [--json | --csv]\n" \
        "       virtgov fleet [--dsn DSN] list [--host H] [--json | --csv]\n" \
        "       virtgov fleet [--dsn DSN] events [--host H] [--kind K] [--since T] [--limit N] [--json]\n" \
        "       virtgov fleet [--dsn DSN] verify [--host H] [--json]\n" \
        "       virtgov fleet [--dsn DSN] report [--silent-hours N] [--json | --csv | --html]"
#define FLEET_QUERY_HELP \
        "hosts   One row per host: its id, group and hostname, its newest event's time\n" \
        "        and seq, the seq shipped, its signed chain head's seq and age, the lag\n" \
        "        (now - when the newest event arrived), its libvirt, QEMU and kernel\n" \
        "        versions, and the daemon's reason when degraded.\n" \
        "list    The domains of every host (--host H: of one): host, name, UUID, state,\n" \
        "        owner, ticket.\n" \
        "events  The events of every host, oldest first (with --limit N: the newest N).\n" \
        "        --host H, --kind K (a kind, or a prefix ending in '.': 'domain.'),\n" \
        "        --since T (RFC 3339, a date, or an age: 30m, 12h, 1d).\n" \
        "verify  Each host's chain (--host H: one) recomputed from its events in seq\n" \
        "        order from 32 zero bytes: the first gap (a missing seq), the first row\n" \
        "        whose hash or prev link is wrong, forks (rows of virtgov.conflicts), and\n" \
        "        every held head (virtgov.heads, hosts.head_*) against the event of its\n" \
        "        seq and, with the host's key in hosts.host_key, its Ed25519 signature.\n" \
        "        Exit 0 when every chain is whole, 1 for any problem.\n" \
        "report  The findings only a fleet view has, a row each (class, severity,\n" \
        "        hosts, subject, detail): duplicate-uuid (one UUID defined on two hosts;\n" \
        "        critical when active on two), duplicate-name (one name, two UUIDs),\n" \
        "        shared-writable-disk (a path one host's domain writes, used on another\n" \
        "        as a disk or in a backing chain), unlocked-shared-storage (a path on\n" \
        "        two hosts while one has no lock_manager), duplicate-mac, cloned-machine-id,\n" \
        "        cloned-libvirt-uuid, cloned-instance (two installations as one host id),\n" \
        "        silent-host (nothing for --silent-hours N, default 24), chain-gap,\n" \
        "        chain-fork; and capacity, per named host_group of the hosts with\n" \
        "        recorded CPUs and memory (host.capacity), counting active domains:\n" \
        "        group-overcommit (vCPUs over 4x the CPUs: medium; memory over the\n" \
        "        memory: high), group-no-n+1 (a host's guests' memory does not fit in\n" \
        "        the other hosts' free memory; the host most short is named),\n" \
        "        pool-filling (a running pool's newest pool.usage over 90% allocated,\n" \
        "        or full in under 30 days at the least-squares trend of its available\n" \
        "        bytes over the last 30 days; high over 90% or under 7 days),\n" \
        "        pool-thin-overcommit (its volumes' capacity over the pool's) and\n" \
        "        bridge-no-uplink (in a host's newest host.uplinks, a bridge an active\n" \
        "        forward-bridge network uses with no uplink up); and from integrity,\n" \
        "        the assessment, tickets and accounts: integrity-outlier (a baseline file whose digest differs\n" \
        "        from that of every other host, which agree, for the same path, package\n" \
        "        and version; three hosts at least), assessment-outlier (a host failing\n" \
        "        an assessment check that two or more others, and every other judging\n" \
        "        it, pass), ticket-overuse (a ticket naming one domain, or held by no\n" \
        "        host, used by decisions on two hosts for two domains; a migrated\n" \
        "        domain is one, a glob's ticket never) and actor-burst (one actor\n" \
        "        changing accounts, groups or sudoers on 3 hosts within 10 minutes).\n" \
        "        --html: one self-contained page on standard output.\n" \
        "        Exit 0 with no finding, 1 with findings or on any error (a query that\n" \
        "        fails is said, never taken for 'no findings').\n" \
        "\n" \
        "--json   JSON (also after the verb); --csv  CSV with a header (hosts, list, report).\n"

extern const Command fleet_query_cmd;

/* The reading verbs (fleet-query.c, fleet-report.c), as FleetVerb.run:
 * each prints its own errors; EXIT_OK, EXIT_FAIL (a problem found or an
 * error said) or EXIT_USAGE. */
int fleet_hosts(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_list(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_events(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_verify(Cli *cli, const char *dsn, int argc, char **argv);
int fleet_report(Cli *cli, const char *dsn, int argc, char **argv);
