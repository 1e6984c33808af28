/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The findings only a fleet view has (query.h): one statement per class,
 * each returning (severity, hosts, subject, detail) rows. What one host
 * sees of itself (a MAC twice on one host, an image two of its own
 * domains write) its own `virtgov report sprawl` says; these compare
 * hosts. Nothing here prints. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "priv.h"
#include "virtgov/central/query.h"

/* The statements first find the few keys that repeat with a hash
 * aggregate (min <> max, not count(DISTINCT), which sorts), then build
 * the rows of those only: at 5,000 hosts, 250,000 domains and 500,000
 * disks the disk checks took 5.7 s each the other way round.
 *
 * Every use of a path: a disk's source (writable unless read-only or
 * shareable), and each image of its backing chain below the top (read
 * only: qemu opens backing files read-only). */
#define USES \
        "WITH uses AS (" \
        "SELECT d.host_id, d.uuid, d.source AS path, " \
        "NOT coalesce(d.readonly, false) AND NOT coalesce(d.shareable, false) AS writable, " \
        "coalesce(d.target, 'disk ' || d.idx) AS how FROM virtgov.disks d WHERE coalesce(d.source, '') <> '' " \
        "UNION ALL SELECT d.host_id, d.uuid, b.path, false, 'backing of ' || coalesce(d.target, 'disk ' || d.idx) " \
        "FROM virtgov.disks d CROSS JOIN LATERAL unnest(d.backing) AS b(path) " \
        "WHERE coalesce(b.path, '') <> '' AND b.path IS DISTINCT FROM d.source)"

/* The same uses, aggregated per path in two parts: the disks' sources
 * (one a disk) and the backing images (a few paths, each under many
 * disks), each part's hosts as min and max and flag as bool_or, for
 * their union's GROUP BY path. Grouping the 500,000 uses at once instead
 * took 1.5 to 2.8 s a check at 250,000 disks. */
#define PATHS(flag, backing_flag) \
        "SELECT d.source AS path, min(d.host_id) AS lo, max(d.host_id) AS hi, bool_or(" flag ") AS flag " \
        "FROM virtgov.disks d WHERE coalesce(d.source, '') <> '' GROUP BY d.source " \
        "UNION ALL SELECT b.path, min(d.host_id), max(d.host_id), bool_or(" backing_flag ") FROM virtgov.disks d " \
        "CROSS JOIN LATERAL unnest(d.backing) AS b(path) " \
        "WHERE coalesce(b.path, '') <> '' AND b.path IS DISTINCT FROM d.source GROUP BY b.path"
/* A use's flags: written (a disk neither read-only nor shareable; a
 * backing image never); its host without a lock manager (no hosts row:
 * none known). */
#define WRITABLE "NOT coalesce(d.readonly, false) AND NOT coalesce(d.shareable, false)", "false"
#define NO_LOCK "d.host_id NOT IN (SELECT host_id FROM virtgov.hosts WHERE coalesce(lock_manager, '') <> '')"
#define UNLOCKED NO_LOCK, NO_LOCK

#define PATHS_OF(flags) PATHS(flags)

#define UTC(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* In the order of central_finding_classes. */
const FindingCheck central_checks_fleet[] = {
        /* duplicate-uuid: one UUID defined on two hosts is a split brain
         * waiting for a double start; active on two, it has happened. */
        { .class = "duplicate-uuid", .sql = "SELECT CASE WHEN count(*) FILTER (WHERE state IN " CENTRAL_ACTIVE ") > 1 THEN 'critical' ELSE 'high' END, "
          "string_agg(host_id, ',' ORDER BY host_id), uuid, "
          "CASE WHEN count(*) FILTER (WHERE state IN " CENTRAL_ACTIVE ") > 1 THEN 'active on ' "
          "|| count(*) FILTER (WHERE state IN " CENTRAL_ACTIVE ") || ' hosts at once: ' "
          "ELSE 'defined on ' || count(*) || ' hosts: ' END "
          "|| string_agg(host_id || ' ' || name || ' (' || state || ')', ', ' ORDER BY host_id) "
          "FROM virtgov.domains WHERE uuid IN (SELECT uuid FROM virtgov.domains GROUP BY uuid HAVING count(*) > 1) "
          "GROUP BY uuid ORDER BY uuid" },
        /* duplicate-name: one name, different UUIDs (on one host libvirt
         * refuses it, so this is across hosts). */
        { .class = "duplicate-name", .sql = "SELECT 'medium', string_agg(DISTINCT host_id, ',' ORDER BY host_id), name, "
          "count(DISTINCT uuid) || ' UUIDs: ' || string_agg(host_id || ' ' || uuid, ', ' ORDER BY host_id, uuid) "
          "FROM virtgov.domains WHERE name IN (SELECT name FROM virtgov.domains GROUP BY name "
          "HAVING min(uuid) <> max(uuid)) GROUP BY name ORDER BY name" },
        /* shared-writable-disk: a path one host's domain writes (not
         * shareable, not read-only), used on another host as a disk or in
         * a backing chain. Written on two hosts: critical. */
        { .class = "shared-writable-disk", .sql = USES ", hit AS (SELECT path FROM (" PATHS_OF(WRITABLE) ") p GROUP BY path "
          "HAVING bool_or(flag) AND min(lo) <> max(hi)) "
          "SELECT CASE WHEN count(DISTINCT u.host_id) FILTER (WHERE u.writable) > 1 THEN 'critical' ELSE 'high' END, "
          "string_agg(DISTINCT u.host_id, ',' ORDER BY u.host_id), u.path, "
          "'written on ' || count(DISTINCT u.host_id) FILTER (WHERE u.writable) || ' host(s), used on ' "
          "|| count(DISTINCT u.host_id) || ': ' || string_agg(u.host_id || ' ' || coalesce(dm.name, u.uuid) "
          "|| ' (' || u.how || CASE WHEN u.writable THEN ', writable)' ELSE ', read-only)' END, ', ' "
          "ORDER BY u.host_id, u.uuid, u.how) "
          "FROM uses u JOIN hit USING (path) LEFT JOIN virtgov.domains dm ON dm.host_id = u.host_id "
          "AND dm.uuid = u.uuid GROUP BY u.path ORDER BY u.path" },
        /* unlocked-shared-storage: a path on more than one host while one
         * of them has no lock manager (qemu.conf lock_manager): nothing
         * stops two hosts opening it at once. */
        { .class = "unlocked-shared-storage", .sql = USES ", multi AS (SELECT path FROM (" PATHS_OF(UNLOCKED) ") p "
          "GROUP BY path HAVING min(lo) <> max(hi) AND bool_or(flag)) "
          "SELECT 'medium', string_agg(DISTINCT u.host_id, ',' ORDER BY u.host_id), m.path, "
          "'used on ' || count(DISTINCT u.host_id) || ' hosts; no lock manager on ' "
          "|| string_agg(DISTINCT CASE WHEN coalesce(h.lock_manager, '') = '' THEN u.host_id END, ', ') "
          "FROM multi m JOIN uses u USING (path) LEFT JOIN virtgov.hosts h ON h.host_id = u.host_id "
          "GROUP BY m.path ORDER BY m.path" },
        /* duplicate-mac: one MAC on two interfaces anywhere in the fleet.
         * The few MACs that repeat first, as an array the scan filters
         * by (as a join, planned as a third of all MACs, every interface
         * was joined and sorted first: 2.8 s), each interface's domain
         * name then by its key. */
        { .class = "duplicate-mac", .sql = "SELECT 'high', string_agg(DISTINCT i.host_id, ',' ORDER BY i.host_id), lower(i.mac), "
          "count(*) || ' interfaces: ' || string_agg(i.host_id || ' ' || coalesce((SELECT d.name FROM virtgov.domains d "
          "WHERE d.host_id = i.host_id AND d.uuid = i.uuid), i.uuid) || ' ' "
          "|| coalesce(i.target, '#' || i.idx), ', ' ORDER BY i.host_id, i.uuid, i.idx) "
          "FROM virtgov.interfaces i WHERE lower(i.mac) = ANY (ARRAY(SELECT lower(mac) FROM virtgov.interfaces "
          "WHERE coalesce(mac, '') <> '' GROUP BY 1 HAVING count(*) > 1)) GROUP BY lower(i.mac) ORDER BY 3" },
        /* cloned-machine-id, cloned-libvirt-uuid: host ids that share an
         * identity (made from one image; the host_id key set on each). */
        { .class = "cloned-machine-id", .sql = "SELECT 'high', string_agg(host_id, ',' ORDER BY host_id), machine_id, "
          "count(*) || ' hosts share this machine-id: cloned from one image?' "
          "FROM virtgov.hosts WHERE coalesce(machine_id, '') <> '' GROUP BY machine_id HAVING count(*) > 1 "
          "ORDER BY 3" },
        { .class = "cloned-libvirt-uuid", .sql = "SELECT 'high', string_agg(host_id, ',' ORDER BY host_id), libvirt_uuid, "
          "count(*) || ' hosts share this libvirt host UUID: cloned from one image?' "
          "FROM virtgov.hosts WHERE coalesce(libvirt_uuid, '') <> '' GROUP BY libvirt_uuid HAVING count(*) > 1 "
          "ORDER BY 3" },
        /* cloned-instance: installations writing as one host id. Their
         * times overlapping: clones, both alive (critical); one after
         * the other: a reinstall (medium). */
        { .class = "cloned-instance", .sql = "SELECT CASE WHEN max(first_seen) < min(last_seen) THEN 'critical' ELSE 'medium' END, host_id, host_id, "
          "count(*) || ' installations write as this host id' "
          "|| CASE WHEN max(first_seen) < min(last_seen) THEN ' at once' ELSE ' one after another' END || ': ' "
          "|| string_agg(instance || ' (' || " UTC("first_seen") " || ' to ' || " UTC("last_seen") " || ')', ', ' "
          "ORDER BY first_seen, instance) FROM virtgov.host_instances GROUP BY host_id HAVING count(*) > 1 "
          "ORDER BY host_id" },
        /* silent-host: neither an update nor an event for N hours. */
        { .class = "silent-host", .sql = "SELECT 'medium', h.host_id, h.host_id, 'silent for ' "
          "|| floor(extract(epoch FROM now() - s.last) / 3600)::bigint || ' hours (last heard ' || " UTC("s.last")
          " || ')' FROM virtgov.hosts h CROSS JOIN LATERAL (SELECT greatest(h.updated, (SELECT max(at) "
          "FROM virtgov.events e WHERE e.host_id = h.host_id)) AS last) s "
          "WHERE s.last < now() - make_interval(hours => $1::int) ORDER BY h.host_id", .hours = true },
        /* chain-gap: fewer rows than the newest seq (every chain starts
         * at 1). `fleet verify` names the first missing seq. */
        { .class = "chain-gap", .sql = "SELECT 'high', host_id, host_id, (max(seq) - count(*)) || ' of ' || max(seq) "
          "|| ' events missing (fleet verify --host names the first)' FROM virtgov.events GROUP BY host_id "
          "HAVING count(*) <> max(seq) ORDER BY host_id" },
        /* chain-fork: a second hash for one seq. */
        { .class = "chain-fork", .sql = "SELECT 'critical', host_id, host_id, count(*) || ' conflicting row(s), the first at seq ' || min(seq) "
          "|| ' (sent by instance ' || string_agg(DISTINCT coalesce(instance, '?'), ', ') || ')' "
          "FROM virtgov.conflicts GROUP BY host_id ORDER BY host_id" },
        {},
};

const char *const central_finding_classes[] = {
        "duplicate-uuid", "duplicate-name", "shared-writable-disk", "unlocked-shared-storage", "duplicate-mac",
        "cloned-machine-id", "cloned-libvirt-uuid", "cloned-instance", "silent-host", "chain-gap", "chain-fork",
        "group-overcommit", "group-no-n+1", "pool-filling", "pool-thin-overcommit", "bridge-no-uplink",
        "integrity-outlier", "assessment-outlier", "ticket-overuse", "actor-burst",
        NULL,
};

/* Each room of checks, in the report's order: each table ends with {}. */
static const FindingCheck *const tables[] = { central_checks_fleet, central_checks_capacity, central_checks_integrity };

typedef struct Emit {
        const char *class;
        int (*fn)(const CentralFinding *f, void *u);
        void *u;
} Emit;

static int emit(const CentralRow *row, void *u) {
        Emit *e = u;
        CentralFinding f = { e->class, row->values[0], row->values[1], row->values[2], row->values[3] };
        return e->fn(&f, e->u);
}

/* The checks in one read-only transaction: one snapshot for the whole
 * report, and room for their hash aggregates (a few hundred thousand
 * paths, UUIDs and MACs) to stay in memory. At the default 4 MB the disk
 * checks spilled to temporary files and took seconds each. */
#define REPORT_WORK_MEM "256MB"

static int run_checks(Central *c, const char *const *params, int (*fn)(const CentralFinding *f, void *u), void *u,
                      VgError *err) {
        char what[96];
        size_t n = 0;
        for (size_t t = 0; t < ELEMENTSOF(tables); t++)
                for (const FindingCheck *k = tables[t]; k->class; k++, n++) {
                        /* the classes' list and the checks are one order */
                        if (!central_finding_classes[n] || strcmp(central_finding_classes[n], k->class))
                                return vg_error(err, -EINVAL, "the fleet check %s is not class %zu of the list",
                                                k->class, n);
                        Emit e = { k->class, fn, u };
                        snprintf(what, sizeof(what), "the fleet check %s", k->class);
                        int r = central_stream(c, k->sql, k->hours ? 1 : 0, k->hours ? params : NULL, what, emit,
                                               &e, err);
                        if (r < 0)
                                return r;
                }
        return central_finding_classes[n] ? vg_error(err, -EINVAL, "the fleet class %s has no check",
                                                     central_finding_classes[n]) : 0;
}

int central_findings(Central *c, unsigned silent_hours, int (*fn)(const CentralFinding *f, void *u), void *u,
                     VgError *err) {
        char hours[16];
        snprintf(hours, sizeof(hours), "%u", silent_hours);
        const char *params[] = { hours };
        int r = central_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK,
                             "starting the fleet checks", NULL, err);
        if (r < 0)
                return r;
        r = central_exec(c, "SET LOCAL work_mem = '" REPORT_WORK_MEM "'", PGRES_COMMAND_OK,
                         "setting the fleet checks' work_mem", NULL, err);
        if (r == 0)
                r = run_checks(c, params, fn, u, err);
        if (r == 0)
                return central_exec(c, "COMMIT", PGRES_COMMAND_OK, "ending the fleet checks", NULL, err);
        /* The failure is what is said; the rollback only ends the
         * transaction (a lost connection has none left to end). */
        VgError ignored;
        central_exec(c, "ROLLBACK", PGRES_COMMAND_OK, "ending the fleet checks", NULL, &ignored);
        return r;
}
