-- bench/fleet: the central inventory at the size of issue 31's goals,
-- written straight into the tables (what years of shipping would leave):
-- :hosts hosts in 50 groups, :domains domains each (each with one disk
-- and one interface), and :events events in all, spread evenly over the
-- hosts and over the year before now. The stream the bench then times
-- goes through virtgov's own shipper; this only makes the history it
-- lands on. Hashes are not chained (fleet verify is not timed here).
\set ON_ERROR_STOP 1
BEGIN;
INSERT INTO virtgov.hosts (host_id, host_group, hostname, machine_id, libvirt_uuid, instance,
                           libvirt_version, qemu_version, kernel, cpus, memory_kib, lock_manager,
                           degraded, shipped_seq, updated)
    SELECT 'bench-' || h, 'group-' || (h % 50), 'kvm' || h || '.example', md5('m' || h),
           md5('l' || h)::uuid::text, md5('i' || h), '9.0.0', '7.2.0', '6.1.0-28-amd64',
           64, 512 * 1024 * 1024, 'lockd', '', :events / :hosts, now()
    FROM generate_series(1, :hosts) h;
INSERT INTO virtgov.host_instances (host_id, instance)
    SELECT 'bench-' || h, md5('i' || h) FROM generate_series(1, :hosts) h;
INSERT INTO virtgov.domains (host_id, uuid, name, state, persistent, owner, ticket, vcpus, memory_kib,
                             first_seen, last_seen)
    SELECT 'bench-' || h, md5(h || '/' || d)::uuid::text, 'vm-' || h || '-' || d,
           CASE WHEN d % 5 = 0 THEN 'shutoff' ELSE 'running' END, true, 'team-' || (d % 20),
           'CHG-' || (h * 100 + d), 2 + d % 4, 4096 * 1024, '2025-12-01T00:00:00Z', '2026-12-01T00:00:00Z'
    FROM generate_series(1, :hosts) h, generate_series(1, :domains) d;
INSERT INTO virtgov.disks (host_id, uuid, idx, type, source, target, readonly, shareable, backing)
    SELECT 'bench-' || h, md5(h || '/' || d)::uuid::text, 0, 'file',
           '/srv/pool-' || (h % 50) || '/vm-' || h || '-' || d || '.qcow2', 'vda', false, false,
           ARRAY['/srv/pool-' || (h % 50) || '/base.qcow2']
    FROM generate_series(1, :hosts) h, generate_series(1, :domains) d;
INSERT INTO virtgov.interfaces (host_id, uuid, idx, type, source, target, mac)
    SELECT 'bench-' || h, md5(h || '/' || d)::uuid::text, 0, 'bridge', 'br0', 'vnet' || d,
           '52:54:' || substr(md5(h || ':' || d), 1, 2) || ':' || substr(md5(h || ':' || d), 3, 2) || ':' ||
           substr(md5(h || ':' || d), 5, 2) || ':' || substr(md5(h || ':' || d), 7, 2)
    FROM generate_series(1, :hosts) h, generate_series(1, :domains) d;
COMMIT;

-- The events, host by host in seq order, as shipping leaves them; the
-- kinds in the proportions of a working host's inventory (mostly the
-- lifecycle of its domains, then audit and the daemon's own).
BEGIN;
INSERT INTO virtgov.events (host_id, seq, time, at, ref, source, kind, host, domain, uuid, decision,
                            reason, actor, data, prev_hash, hash)
    SELECT 'bench-' || h, s, to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), t,
           md5(h || ':' || s), k.source, k.kind, 'kvm' || h || '.example',
           'vm-' || h || '-' || (1 + s % :domains), md5(h || '/' || (1 + s % :domains))::uuid::text,
           CASE WHEN k.kind = 'domain.prepare' THEN 'allow' END, NULL,
           CASE WHEN k.source = 'audit' THEN 'user' || (s % 40) END, '{}',
           md5('p' || h || ':' || s) || md5('q' || h || ':' || s),
           md5('h' || h || ':' || s) || md5('g' || h || ':' || s)
    FROM generate_series(1, :hosts) h,
         generate_series(1, :events / :hosts) s,
         LATERAL (SELECT now() - interval '365 days' + (s::float8 / (:events / :hosts)) * interval '365 days'
                         - (h % 600) * interval '1 second' AS t) tt,
         LATERAL (SELECT (ARRAY['hook', 'libvirt', 'libvirt', 'hook', 'audit', 'daemon', 'reconcile', 'cli'])[1 + s % 8] AS source,
                         (ARRAY['domain.prepare', 'domain.started', 'domain.stopped', 'domain.release',
                                'access.login', 'daemon.connected', 'domain.metadata-changed', 'approval.granted'])[1 + s % 8] AS kind) k;
COMMIT;
ANALYZE;
