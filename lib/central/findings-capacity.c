/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fleet's capacity findings (query.h), by host group: vCPU and memory
 * overcommit, N+1 headroom, storage pools filling or thin-provisioned past
 * their capacity, and bridges cut off the world. One statement per class,
 * each returning (severity, hosts, subject, detail) rows; their order is
 * central_finding_classes' (findings.c). The figures come from the hosts'
 * rows (cpus, memory_kib: host.capacity), the domains' rows (vcpus,
 * memory_kib: the domain's facts) and the newest pool.usage and
 * host.uplinks events each host shipped. Nothing here prints. */
#include "priv.h"

/* Above this many running vCPUs per host CPU a group's guests wait for a
 * CPU more often than not: 4:1 is the usual ceiling for general server
 * loads (oVirt's and VMware's sizing notes); 1:1 is common and harmless. */
#define VCPU_RATIO "4.0"
/* Memory is not time-shared: past 1.0 a host of the group swaps or kills
 * guests once they touch what they were given. */
#define MEMORY_RATIO "1.0"
/* A pool over this share allocated, or full in fewer days than this at
 * the trend of the last POOL_TREND_DAYS days: the same figures as the
 * host's own `report capacity` (cli/report-capacity.c). */
#define POOL_USED "0.9"
#define POOL_FULL_DAYS "30"
#define POOL_TREND_DAYS "30"

/* A named group's hosts whose CPUs and memory are known (host.capacity
 * shipped), with the vCPUs and memory of their active domains: an empty
 * group name is hosts set in no group, which are not meant to stand in
 * for one another. */
#define LOADS \
        "WITH load AS (SELECT h.host_id, h.host_group AS g, h.cpus, h.memory_kib AS mem, " \
        "coalesce(sum(d.vcpus), 0) AS vcpus, coalesce(sum(d.memory_kib), 0) AS used " \
        "FROM virtgov.hosts h LEFT JOIN virtgov.domains d ON d.host_id = h.host_id AND d.state IN " \
        CENTRAL_ACTIVE " WHERE h.host_group <> '' AND h.cpus > 0 AND h.memory_kib > 0 " \
        "GROUP BY h.host_id, h.host_group, h.cpus, h.memory_kib)"

/* Each host's newest pool.usage per pool (by UUID), its data parsed; a
 * pool undefined since (pool.undefined, data.uuid) is gone, not full. */
#define POOLS \
        "WITH newest AS (SELECT DISTINCT ON (host_id, data::jsonb->>'uuid') host_id, kind, data::jsonb AS d " \
        "FROM virtgov.events WHERE kind IN ('pool.usage', 'pool.undefined') " \
        "ORDER BY host_id, data::jsonb->>'uuid', seq DESC), " \
        "pool AS (SELECT host_id, d->>'uuid' AS uuid, coalesce(d->>'pool', d->>'uuid') AS name, " \
        NUM("d", "capacity_bytes") " AS cap, " NUM("d", "allocation_bytes") " AS alloc, " \
        NUM("d", "available_bytes") " AS avail, " NUM("d", "volumes_capacity_bytes") " AS vcap " \
        "FROM newest WHERE kind = 'pool.usage' AND d->>'state' = 'running' AND " NUM("d", "capacity_bytes") " > 0)"

/* A JSON member as a number, an array or an object, or NULL, '[]', '{}'
 * when it is not one: a host's malformed event is left out, never the
 * whole report failed on a cast. */
#define NUM(o, k) "CASE WHEN jsonb_typeof(" o "->'" k "') = 'number' THEN (" o "->>'" k "')::numeric END"
#define ARR(x) "CASE WHEN jsonb_typeof(" x ") = 'array' THEN " x " ELSE '[]' END"
#define OBJ(x) "CASE WHEN jsonb_typeof(" x ") = 'object' THEN " x " ELSE '{}' END"
/* An active network of forward mode bridge, w a member of 'networks'. */
#define BRIDGED(w) w "->>'forward' = 'bridge' AND " w "->'active' = 'true'::jsonb"

#define GIB(x) "round((" x ") / 1073741824.0, 1)"
#define GIB_KIB(x) "round((" x ") / 1048576.0, 1)"

const FindingCheck central_checks_capacity[] = {
        /* group-overcommit: the group's active vCPUs over its CPUs past
         * VCPU_RATIO (medium), or its active memory over its memory past
         * MEMORY_RATIO (high). */
        { .class = "group-overcommit", .sql = LOADS ", grp AS (SELECT g, count(*) AS n, "
          "string_agg(host_id, ',' ORDER BY host_id) AS hosts, sum(cpus) AS cpus, sum(vcpus) AS vcpus, "
          "sum(mem) AS mem, sum(used) AS used FROM load GROUP BY g) "
          "SELECT CASE WHEN used > mem * " MEMORY_RATIO " THEN 'high' ELSE 'medium' END, hosts, g, "
          "n || ' host(s): ' || vcpus || ' active vCPUs on ' || cpus || ' CPUs (' "
          "|| round(vcpus::numeric / cpus, 2) || 'x, over " VCPU_RATIO "x: ' "
          "|| CASE WHEN vcpus > cpus * " VCPU_RATIO " THEN 'yes' ELSE 'no' END || '), ' "
          "|| " GIB_KIB("used") " || ' GiB of guest memory on ' || " GIB_KIB("mem") " || ' GiB (' "
          "|| round(used::numeric / mem, 2) || 'x, over " MEMORY_RATIO "x: ' "
          "|| CASE WHEN used > mem * " MEMORY_RATIO " THEN 'yes' ELSE 'no' END || ')' "
          "FROM grp WHERE vcpus > cpus * " VCPU_RATIO " OR used > mem * " MEMORY_RATIO " ORDER BY g" },
        /* group-no-n+1: a host of a group of two or more whose active
         * domains' memory does not fit in the others' free memory (their
         * memory less their own active domains'): lose that host and its
         * guests have nowhere to restart. The host with the largest
         * shortfall is named. */
        { .class = "group-no-n+1", .sql = LOADS ", room AS (SELECT *, sum(greatest(mem - used, 0)) OVER (PARTITION BY g) "
          "- greatest(mem - used, 0) AS others_free, count(*) OVER (PARTITION BY g) AS n FROM load), "
          "short AS (SELECT DISTINCT ON (g) * FROM room WHERE n > 1 AND used > others_free "
          "ORDER BY g, used - others_free DESC, host_id) "
          "SELECT 'high', host_id, g, 'host ' || host_id || ' runs ' || " GIB_KIB("used") " || ' GiB of guests; "
          "the other ' || (n - 1) || ' host(s) of the group have ' || " GIB_KIB("others_free") " || ' GiB free: ' "
          "|| " GIB_KIB("used - others_free") " || ' GiB short of N+1' FROM short ORDER BY g" },
        /* pool-filling: a running pool over POOL_USED allocated, or whose
         * available bytes, at the least-squares trend of its last
         * POOL_TREND_DAYS days of pool.usage, reach zero in fewer than
         * POOL_FULL_DAYS days. Over 90% or within a week: high. */
        { .class = "pool-filling", .sql = POOLS ", trend AS (SELECT host_id, data::jsonb->>'uuid' AS uuid, "
          "regr_slope((" NUM("data::jsonb", "available_bytes") ")::float8, extract(epoch FROM at) / 86400) AS slope, "
          "count(" NUM("data::jsonb", "available_bytes") ") AS points FROM virtgov.events WHERE kind = 'pool.usage' AND at >= now() - interval '"
          POOL_TREND_DAYS " days' AND data::jsonb->>'state' = 'running' GROUP BY 1, 2), "
          "due AS (SELECT p.*, t.points, CASE WHEN p.avail <= 0 THEN 0 WHEN t.slope < -1 "
          "THEN p.avail::float8 / -t.slope END AS days FROM pool p LEFT JOIN trend t USING (host_id, uuid)) "
          "SELECT CASE WHEN alloc > cap * " POOL_USED " OR days < 7 THEN 'high' ELSE 'medium' END, host_id, "
          "host_id || ':' || name, round(100 * alloc / cap) || '% allocated (' || " GIB("alloc") " || ' of ' "
          "|| " GIB("cap") " || ' GiB, ' || " GIB("avail") " || ' GiB available); ' || CASE WHEN days IS NULL "
          "THEN 'no falling trend (' || coalesce(points, 0) || ' point(s) in " POOL_TREND_DAYS " days)' "
          "ELSE 'full in ' || round(days::numeric, 1) || ' days at the trend of the last " POOL_TREND_DAYS
          " days' END FROM due WHERE alloc > cap * " POOL_USED " OR days < " POOL_FULL_DAYS
          " ORDER BY host_id, name" },
        /* pool-thin-overcommit: a running pool whose volumes may grow to
         * more than it holds (their capacities' sum over its capacity). */
        { .class = "pool-thin-overcommit", .sql = POOLS " SELECT 'medium', host_id, host_id || ':' || name, "
          "'its volumes may grow to ' || " GIB("vcap") " || ' GiB on ' || " GIB("cap") " || ' GiB (' "
          "|| round(vcap / cap, 2) || 'x, ' || " GIB("avail") " || ' GiB available)' FROM pool "
          "WHERE vcap > cap ORDER BY host_id, name" },
        /* bridge-no-uplink: in a host's newest host.uplinks, a bridge that
         * an active network in forward mode bridge uses and none of whose
         * uplinks is up: that network's guests reach nothing outside the
         * host (a NAT or routed network's bridge has no uplink by design). */
        { .class = "bridge-no-uplink", .sql = "WITH newest AS (SELECT DISTINCT ON (host_id) host_id, data::jsonb AS d "
          "FROM virtgov.events WHERE kind = 'host.uplinks' ORDER BY host_id, seq DESC) "
          "SELECT 'high', n.host_id, n.host_id || ':' || b.name, 'network(s) ' || (SELECT string_agg("
          "quote_literal(w->>'name'), ', ' ORDER BY w->>'name') FROM jsonb_array_elements(" ARR("b.br->'networks'") ") w "
          "WHERE " BRIDGED("w") ") || ' use it and none of its ' "
          "|| jsonb_array_length(" ARR("b.br->'uplinks'") ") || ' uplink(s) is up' "
          "|| coalesce(' (' || (SELECT string_agg((u->>'name') || ' ' || coalesce(u->>'state', 'unknown'), ', ' "
          "ORDER BY u->>'name') FROM jsonb_array_elements(" ARR("b.br->'uplinks'") ") u) || ')', '') "
          "FROM newest n CROSS JOIN LATERAL jsonb_each(" OBJ("n.d->'bridges'") ") AS b(name, br) "
          "WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(" ARR("b.br->'networks'") ") w WHERE " BRIDGED("w") ") "
          "AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(" ARR("b.br->'uplinks'") ") u "
          "WHERE u->>'state' = 'up') ORDER BY n.host_id, b.name" },
        {},
};
