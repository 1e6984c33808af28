#!/bin/bash
# The central shipper (issue 31, items 1 and 4) against a real PostgreSQL
# 15: several hosts, each a daemon with its own config, inventory, spool,
# lock and host_id; h1 on a real libvirtd with a TCG guest, the others on
# libvirt's test driver. Every local event must be in the centre under
# its seq with its hash, once, and the state rows must be the host's.
# Then the faults: the centre stopped, the daemon killed with -9 in the
# middle of a 20,000-event backlog, the socket removed, an old backlog
# replayed, a central row edited (a conflict, never overwritten), and a
# host that claims another host's id (refused by the database).
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
SRC=$(cd "$(dirname "$0")/../.." && pwd)
declare -A PID

cleanup() {
        fleet_daemons_stop
        stop_libvirt
        [ -z "${VG_PG:-}" ] || pg_stop immediate 2>/dev/null || true
}
trap cleanup EXIT

pg_start
"$VIRTGOV" fleet --dsn "$VG_PG_OWNER" init-db > "$VG_SCRATCH/init-db.log"

# mkhost NAME HOST_ID ROLE URI [central]: a host's config; ROLE is made
# and mapped to NAME (not to HOST_ID: the impostor's is another's).
mkhost() {
        local name=$1 id=$2 role=$3 uri=$4 central=${5:-yes} H=$VG_SCRATCH/$1 dsn
        mkdir -p "$H" && mkdir -p -m 0700 "$H/spool"
        cat > "$H/vg.conf" <<EOF
inventory = $H/inv.db
spool_dir = $H/spool
host_key = $H/host.key
host_id = $id
log = none
uris = $uri
audit = no
assess_interval_s = 0
EOF
        if [ "$central" = yes ]; then
                "$VIRTGOV" fleet --dsn "$VG_PG_OWNER" add-host "$name" --role "$role" > "$H/add-host.log"
                dsn=$(pg_login "$role")
                printf '\n[central]\ndsn = %s\nhost_group = lab\nbatch = 100\ninterval_s = 1\n' "$dsn" >> "$H/vg.conf"
        fi
        chmod 0644 "$H/vg.conf"
}

vg() { local h=$1; shift; VIRTGOV_CONFIG=$VG_SCRATCH/$h/vg.conf "$VIRTGOV" "$@"; }
db() { sqlite3 "$VG_SCRATCH/$1/inv.db" "$2"; }

start_host() {
        local h=$1 i n0
        n0=$(db "$h" "SELECT count(*) FROM events WHERE kind = 'daemon.connected'" 2>/dev/null || echo 0)
        VIRTGOV_CONFIG=$VG_SCRATCH/$h/vg.conf "$VG_DAEMON" --foreground >> "$VG_SCRATCH/$h/daemon.log" 2>&1 &
        PID[$h]=$!
        for i in $(seq 200); do
                [ "$(db "$h" "SELECT count(*) FROM events WHERE kind = 'daemon.connected'" 2>/dev/null)" -gt "${n0:-0}" ] 2>/dev/null && return 0
                sleep 0.1
        done
        echo "$h: the daemon did not connect" >&2
        return 1
}

stop_host() {
        kill -TERM "${PID[$1]}" 2>/dev/null || true
        wait "${PID[$1]}" 2>/dev/null || true
        unset "PID[$1]"
}

# Each event as "seq|hash": the host's (its CLI) and the centre's.
local_rows() { vg "$1" --json events | jq -r 'sort_by(.id) | .[] | "\(.id)|\(.hash)"'; }
central_rows() { pg_sql "SELECT seq || '|' || hash FROM virtgov.events WHERE host_id = '$1' ORDER BY seq"; }
# "count max" of each side.
local_count() { db "$1" "SELECT count(*) || ' ' || coalesce(max(id), 0) FROM events"; }
central_count() { pg_sql "SELECT count(*) || ' ' || coalesce(max(seq), 0) FROM virtgov.events WHERE host_id = '$1'"; }

# in_sync HOST: the centre holds exactly the host's events, seq and hash.
in_sync() { diff <(local_rows "$1") <(central_rows "$1") > /dev/null; }
wait_sync() {
        local i
        for i in $(seq $(( ${2:-30} * 5 ))); do
                [ "$(local_count "$1")" = "$(central_count "$1" 2>/dev/null)" ] && in_sync "$1" && return 0
                sleep 0.2
        done
        return 1
}

# spool HOST N: N domain.started events into HOST's spool, in one write
# (after what waits there is folded: the move must not replace it).
spool() {
        local i
        for i in $(seq 100); do [ "$(spool_events "$VG_SCRATCH/$1/spool")" = 0 ] && break; sleep 0.1; done
        mkdir -p "$VG_SCRATCH/stage"
        "$VG_SPOOL_EVENTS" "$VG_SCRATCH/stage" "$2"
        mv "$VG_SCRATCH/stage/journal" "$VG_SCRATCH/$1/spool/journal"
}

no_conflict_events() { [ "$(db "$1" "SELECT count(*) FROM events WHERE kind = 'central.conflict'")" = 0 ]; }
no_duplicates() {
        [ "$(pg_sql "SELECT count(*) FROM (SELECT ref FROM virtgov.events WHERE host_id = '$1' GROUP BY ref HAVING count(*) > 1) d")" = 0 ]
}

say "three hosts and one without [central]: h1 on a real libvirtd, h2, h3 on the test driver"
start_libvirt
mkhost h1 h1 vg_h1 qemu:///system
mkhost h2 h2 vg_h2 test:///default
mkhost h3 h3 vg_h3 test:///default
mkhost h5 h5 - test:///default no
for h in h1 h2 h3 h5; do start_host "$h"; done

say "h1 defines and starts a guest, and defines one with disks and an interface"
domain_xml vg-c-1 > "$VG_SCRATCH/vg-c-1.xml"
domain_xml vg-c-2 "<disk type='file' device='disk'><source file='/var/lib/libvirt/images/vg-c-2.qcow2'/><target dev='vda' bus='virtio'/></disk><disk type='file' device='cdrom'><source file='/var/lib/libvirt/images/inst.iso'/><target dev='sda' bus='sata'/><readonly/></disk><interface type='bridge'><source bridge='br-vg'/><mac address='52:54:00:c0:ff:ee'/></interface>" > "$VG_SCRATCH/vg-c-2.xml"
virsh define "$VG_SCRATCH/vg-c-1.xml" >/dev/null
virsh start vg-c-1 >/dev/null
virsh define "$VG_SCRATCH/vg-c-2.xml" >/dev/null
for i in $(seq 100); do
        [ "$(db h1 "SELECT count(*) FROM events WHERE kind = 'domain.started' AND domain = 'vg-c-1'")" -gt 0 ] &&
                [ "$(db h1 "SELECT count(*) FROM events WHERE kind = 'domain.defined' AND domain = 'vg-c-2'")" -gt 0 ] && break
        sleep 0.1
done
for h in h1 h2 h3; do
        check "$h: every local event is in the centre, same seq and hash" wait_sync "$h" 30
done
check "h1's guest lifecycle shipped: domain.defined and domain.started of vg-c-1" \
        test "$(pg_sql "SELECT count(DISTINCT kind) FROM virtgov.events WHERE host_id = 'h1' AND domain = 'vg-c-1' AND kind IN ('domain.defined', 'domain.started')")" = 2
check "the at column is the time parsed" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.events WHERE at <> time::timestamptz")" = 0
check "h1's prev_hash links each row to the one before" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.events e JOIN virtgov.events p ON p.host_id = e.host_id AND p.seq = e.seq - 1 WHERE e.host_id = 'h1' AND e.prev_hash <> p.hash")" = 0
check "nothing of h5 (no [central]) in the centre" test "$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'h5'")" = 0

# State: rows the round after the last change ships.
state_ok() {
        [ "$(vg h1 --json list | jq -r '.[] | select(.state != "undefined") | .uuid' | sort)" = \
          "$(pg_sql "SELECT uuid FROM virtgov.domains WHERE host_id = 'h1' ORDER BY uuid")" ]
}
for i in $(seq 50); do state_ok && break; sleep 0.2; done
check "h1's domains in the centre are its inventory's (by uuid)" state_ok
check "vg-c-1 running in the centre" \
        test "$(pg_sql "SELECT state FROM virtgov.domains WHERE host_id = 'h1' AND name = 'vg-c-1'")" = running
check "vg-c-2's disks: the image writable, the ISO read-only" \
        test "$(pg_sql "SELECT string_agg(source || ':' || target || ':' || readonly, ' ' ORDER BY idx) FROM virtgov.disks d JOIN virtgov.domains m USING (host_id, uuid) WHERE m.name = 'vg-c-2'")" = \
             "/var/lib/libvirt/images/vg-c-2.qcow2:vda:false /var/lib/libvirt/images/inst.iso:sda:true"
check "vg-c-2's interface with its MAC and bridge" \
        test "$(pg_sql "SELECT type || ':' || source || ':' || mac FROM virtgov.interfaces i JOIN virtgov.domains m USING (host_id, uuid) WHERE m.name = 'vg-c-2'")" = "bridge:br-vg:52:54:00:c0:ff:ee"
check "the test driver's domain 'test' in h2's rows" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.domains WHERE host_id = 'h2' AND name = 'test'")" = 1
for h in h1 h2 h3; do
        check "$h: its hosts row: group, hostname, machine-id, instance, key, head" \
                test "$(pg_sql "SELECT host_group || ' ' || (hostname IS NOT NULL) || ' ' || length(machine_id) || ' ' || instance || ' ' || length(host_key) || ' ' || (head_seq > 0) || ' ' || length(head_sig) FROM virtgov.hosts WHERE host_id = '$h'")" = \
                     "lab true 32 $(db "$h" "SELECT value FROM meta WHERE key = 'central_instance'") 64 true 128"
done
check "h1's versions from host.software" \
        test "$(pg_sql "SELECT (libvirt_version ~ '^[0-9]+[.]') AND (qemu_version ~ '^[0-9]+[.]') AND kernel IS NOT NULL FROM virtgov.hosts WHERE host_id = 'h1'")" = t
check "h1's libvirt host UUID from host.identity" \
        test "$(pg_sql "SELECT libvirt_uuid FROM virtgov.hosts WHERE host_id = 'h1'")" = \
             "$(db h1 "SELECT json_extract(data, '$.identity.libvirt_uuid') FROM events WHERE kind = 'host.identity' ORDER BY id DESC LIMIT 1")"
check "signed heads kept in virtgov.heads" \
        test "$(pg_sql "SELECT count(*) > 0 FROM virtgov.heads WHERE host_id = 'h1' AND length(sig) = 128")" = t
check "one head an hour in virtgov.heads, the newest in hosts: h1's many rounds left one" \
        test "$(pg_sql "SELECT (SELECT count(*) FROM virtgov.heads WHERE host_id = 'h1') || ' ' || (SELECT head_seq > (SELECT max(seq) FROM virtgov.heads WHERE host_id = 'h1') FROM virtgov.hosts WHERE host_id = 'h1')")" = "1 true"

say "the fleet's view of what the daemons shipped (virtgov fleet, as an auditor)"
AUD=$(pg_auditor auditor)
fleet() { "$VIRTGOV" fleet --dsn "$AUD" "$@"; }
check "fleet verify: the three shipped chains whole, their signed heads verified" fleet verify
fleet verify --json > "$VG_SCRATCH/verify.json" || true
check "fleet verify --json: h1, h2 and h3, each ok with a signed head checked" jq -e \
        '[.. | objects | select(has("host_id") and (.host_id | test("^h[123]$")))] | length >= 3' "$VG_SCRATCH/verify.json"
fleet hosts --json > "$VG_SCRATCH/hosts.json"
check "fleet hosts: h1, h2, h3 in group lab, no h5" \
        test "$(jq -r '[.[] | select(.host_group == "lab") | .host_id] | sort | join(" ")' "$VG_SCRATCH/hosts.json")" = "h1 h2 h3"
check "fleet list --host h1: vg-c-1 running, vg-c-2" \
        test "$(fleet list --host h1 --json | jq -r '[.[] | "\(.name):\(.state)"] | sort | join(" ")')" = \
             "$(vg h1 --json list | jq -r '[.[] | select(.state != "undefined") | "\(.name):\(.state)"] | sort | join(" ")')"
check "fleet events --host h2 --kind daemon.: the daemon's own events, as h2 has them" \
        test "$(fleet events --host h2 --kind daemon. --json | jq -r '[.[].hash] | join(" ")')" = \
             "$(vg h2 --json events | jq -r '[sort_by(.id) | .[] | select(.kind | startswith("daemon.")) | .hash] | join(" ")')"
rc=0; fleet report --json > "$VG_SCRATCH/report.json" || rc=$?
check "fleet report: exit 1 (findings)" test "$rc" = 1
# The test driver's domain 'test' has one fixed UUID and runs on h2 and
# h3 alike: to the fleet, one VM running on two hosts.
check "fleet report: the test driver's 'test' domain, one UUID running on h2 and h3" jq -e \
        '[.. | objects | select((.category // .class) == "duplicate-uuid" and ((tostring | test("h2")) and (tostring | test("h3"))))] | length >= 1' \
        "$VG_SCRATCH/report.json"
if [ -s /etc/machine-id ]; then
        # Every daemon here reads this machine's machine-id under its own
        # host_id: hosts cloned from one image, to the fleet.
        check "fleet report: one machine-id under three host ids (cloned hosts)" jq -e \
                '[.. | objects | select((.category // .class) == "cloned-machine-id")] | length >= 1' "$VG_SCRATCH/report.json"
fi
check "fleet report: no chain gap nor fork" jq -e \
        '[.. | objects | select((.category // .class) | tostring | test("^chain-"))] | length == 0' "$VG_SCRATCH/report.json"

say "fault: the centre stopped while the hosts record"
before2=$(central_count h2)
pg_stop
spool h2 300
spool h3 300
for i in $(seq 100); do [ "$(db h2 "SELECT count(*) FROM events")" -gt "${before2%% *}" ] && break; sleep 0.1; done
sleep 3
check "h2 recorded locally meanwhile" test "$(db h2 "SELECT count(*) FROM events")" -gt $(( ${before2%% *} + 299 ))
vg h2 metrics > "$VG_SCRATCH/h2-down.prom"
check "h2's metrics: 300 or more events pending, a lag" awk '
        $1 == "virtgov_central_pending_events" { p = $2 } $1 == "virtgov_central_lag_seconds" { l = $2 }
        END { exit !(p >= 300 && l > 0) }' "$VG_SCRATCH/h2-down.prom"
pg_start
for h in h2 h3; do
        check "$h: the backlog drained: count and max seq equal, same hashes" wait_sync "$h" 60
        check "$h: no event twice" no_duplicates "$h"
        check "$h: the outage said once, however many retries" test "$(grep -c 'central inventory: not shipping' "$VG_SCRATCH/$h/daemon.log")" = 1
        check "$h: 'reachable again' said" grep -q 'central inventory reachable again: [0-9]* events shipped' "$VG_SCRATCH/$h/daemon.log"
done
# (The daemon keeps its position just after the commit: a moment later.)
caught_up() {
        vg h2 metrics > "$VG_SCRATCH/h2-up.prom" && awk '
                $1 == "virtgov_central_pending_events" { p = $2 } $1 == "virtgov_central_lag_seconds" { l = $2 }
                END { exit !(p == "0" && l == "0") }' "$VG_SCRATCH/h2-up.prom"
}
for i in $(seq 50); do caught_up && break; sleep 0.1; done
check "h2's metrics after the drain: nothing pending, no lag" caught_up
check "the backlog went oldest first: received never decreases with seq" \
        test "$(pg_sql "SELECT count(*) FROM (SELECT received < lag(received) OVER (ORDER BY seq) AS back FROM virtgov.events WHERE host_id = 'h2') x WHERE back")" = 0

say "fault: the daemon killed with -9 in the middle of a 20,000-event backlog (batch 100)"
base=$(central_count h3); base=${base%% *}
t0=$(date +%s%N)
spool h3 20000
partial=
for i in $(seq 600); do
        n=$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'h3'")
        if [ "$n" -gt $((base + 300)) ]; then partial=$n; break; fi
        sleep 0.05
done
kill -KILL "${PID[h3]}"; wait "${PID[h3]}" 2>/dev/null || true; unset "PID[h3]"
n=$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'h3'")
l=$(db h3 "SELECT count(*) FROM events")
say "killed with $n of $l events in the centre"
check "killed when the centre had some but not all ($n of $l)" test -n "$partial" -a "$n" -lt "$l"
t1=$(date +%s%N)
start_host h3
check "h3: after the restart every event is there once, same seq and hash" wait_sync h3 120
t2=$(date +%s%N)
check "h3: no event twice" no_duplicates h3
check "h3: no conflict" no_conflict_events h3
shipped=$(( $(central_count h3 | cut -d' ' -f1) - n ))
say "shipped $shipped events after the restart in $(( (t2 - t1) / 1000000 )) ms (daemon start included): $(( shipped * 1000000000 / (t2 - t1 + 1) )) events/s"
check "h3: the domains of the burst in the centre (20,000 + test)" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.domains WHERE host_id = 'h3'")" = "$(db h3 "SELECT count(*) FROM domains WHERE state <> 'undefined'")"

say "the daemon's stop with a round blocked in the centre (a lock held on events): cut, not waited for"
psql -X -q -d "$VG_PG_OWNER" -c "BEGIN; LOCK TABLE virtgov.events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT" \
        > /dev/null 2>&1 &
lockpid=$!
for i in $(seq 50); do
        [ "$(pg_sql "SELECT count(*) FROM pg_locks WHERE relation = 'virtgov.events'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
        sleep 0.1
done
spool h3 50
sleep 3
blocked=$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'vg_h3' AND application_name = 'virtgov-inventoryd' AND wait_event_type = 'Lock'")
t0=$(date +%s%N)
stop_host h3
t1=$(date +%s%N)
say "stopped in $(( (t1 - t0) / 1000000 )) ms with h3's round waiting on the lock ($blocked)"
check "h3's round was waiting on the lock when the stop came" test "$blocked" = 1
check "the stop took under 5 s (the round's socket shut down)" test $(( (t1 - t0) / 1000000 )) -lt 5000
check "the daemon recorded its stop" test "$(db h3 "SELECT kind FROM events ORDER BY id DESC LIMIT 1")" = daemon.stopped
pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" > /dev/null
wait "$lockpid" 2>/dev/null || true
start_host h3
check "h3: after the restart every event is there once" wait_sync h3 60

say "fault: the socket removed (the daemon cannot connect), then the centre restarted"
rm -f "$PGHOST/.s.PGSQL.5432"
spool h2 50
sleep 3
check "h2 says why it does not ship" grep -q 'not shipping: cannot connect to the central inventory' "$VG_SCRATCH/h2/daemon.log"
pg_stop
pg_start
check "h2: after the socket is back, every event there once" wait_sync h2 60
check "h2: no event twice" no_duplicates h2

say "fault: an old backlog replayed (central_cursor set back to 0)"
stop_host h2
db h2 "UPDATE meta SET value = '0' WHERE key = 'central_cursor'"
before=$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'h2'")
start_host h2
check "h2: in sync after the replay" wait_sync h2 60
check "h2: the first round found the old rows there" \
        grep -q "shipping as host id 'h2': [0-9]* events shipped, $before already there" "$VG_SCRATCH/h2/daemon.log"
check "h2: no conflict event, no conflicts row" \
        test "$(db h2 "SELECT count(*) FROM events WHERE kind = 'central.conflict'"):$(pg_sql "SELECT count(*) FROM virtgov.conflicts")" = 0:0
check "h2: no event twice" no_duplicates h2

say "fault: a central row's hash changed by the owner, then the host replays"
forged=$(printf 'f%.0s' $(seq 64))
pg_sql "UPDATE virtgov.events SET hash = '$forged' WHERE host_id = 'h2' AND seq = 5"
stop_host h2
db h2 "UPDATE meta SET value = '0' WHERE key = 'central_cursor'"
start_host h2
for i in $(seq 100); do [ "$(db h2 "SELECT count(*) FROM events WHERE kind = 'central.conflict'")" -gt 0 ] && break; sleep 0.1; done
check "h2: one central.conflict event naming seq 5 and both hashes" \
        test "$(db h2 "SELECT json_extract(data, '$.seq') || ' ' || json_extract(data, '$.central_hash') || ' ' || json_extract(data, '$.host_hash') FROM events WHERE kind = 'central.conflict'")" = \
             "5 $forged $(db h2 "SELECT hash FROM events WHERE id = 5")"
check "a conflicts row with the host's hash" \
        test "$(pg_sql "SELECT hash || ' ' || held_hash FROM virtgov.conflicts WHERE host_id = 'h2' AND seq = 5")" = "$(db h2 "SELECT hash FROM events WHERE id = 5") $forged"
check "the central row NOT overwritten" test "$(pg_sql "SELECT hash FROM virtgov.events WHERE host_id = 'h2' AND seq = 5")" = "$forged"
sleep 2
check "the conflict event itself shipped, and said once" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'h2' AND kind = 'central.conflict'"):$(db h2 "SELECT count(*) FROM events WHERE kind = 'central.conflict'")" = 1:1

rc=0; fleet verify > "$VG_SCRATCH/verify2.txt" 2>&1 || rc=$?
check "fleet verify after the forged row: exit 1" test "$rc" = 1
check "fleet verify names h2's edited row and fork at seq 5" sh -c 'grep -q "^h2: FAILED" "$1" &&
        grep -q "broken: event 5: its content does not match its hash" "$1" && grep -q "fork: 1 conflicting row(s), the first at seq 5" "$1"' sh "$VG_SCRATCH/verify2.txt"
check "fleet verify: h1 and h3 still whole" sh -c 'grep -q "^h1: ok" "$1" && grep -q "^h3: ok" "$1"' sh "$VG_SCRATCH/verify2.txt"

say "fault: h4 claims h2's host id with its own role: refused by the database"
mkhost h4 h2 vg_h4 test:///default
h2rows=$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'h2'")
start_host h4
spool h4 20
for i in $(seq 100); do grep -q 'refused by the database' "$VG_SCRATCH/h4/daemon.log" && break; sleep 0.1; done
sleep 2
check "h4 logs the refusal, naming the host id and the SQLSTATE" \
        grep -q "refused by the database: the role in the dsn may not write as host id 'h2'.*42501" "$VG_SCRATCH/h4/daemon.log"
check "h4 said it once" test "$(grep -c 'refused by the database' "$VG_SCRATCH/h4/daemon.log")" = 1
check "nothing of h4's written under h2 (by its events' refs)" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.events WHERE ref IN ($(db h4 "SELECT group_concat(quote(ref)) FROM events"))")" = 0
check "h4's installation not among h2's" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.host_instances WHERE instance = '$(db h4 "SELECT value FROM meta WHERE key = 'central_instance'")'")" = 0
h4_spooled() { [ "$(db h4 "SELECT count(*) FROM events WHERE kind = 'domain.started' AND domain LIKE 'vm-%'")" = 20 ]; }
for i in $(seq 50); do h4_spooled && break; sleep 0.2; done
check "h4 keeps recording locally: its 20 spooled events folded" h4_spooled
forged_only() { [ "$(diff <(local_rows h2) <(central_rows h2) | grep -c '^[<>]')" = 2 ]; }
for i in $(seq 50); do forged_only && break; sleep 0.2; done
check "h2 still in sync but for its forged row" forged_only

say "fault: h6's dsn names a database without virtgov's schema"
pg_sql "CREATE DATABASE noschema" > /dev/null
mkhost h6 h6 vg_h6 test:///default
sed -i 's/^dsn = .*/& dbname=noschema/' "$VG_SCRATCH/h6/vg.conf"
start_host h6
for i in $(seq 100); do grep -q 'not shipping' "$VG_SCRATCH/h6/daemon.log" && break; sleep 0.1; done
check "h6 says the schema is missing and to run init-db" \
        grep -q "not shipping: the central inventory's schema is version 0, this virtgov needs [0-9]*: run 'virtgov fleet init-db'" "$VG_SCRATCH/h6/daemon.log"
check "h6 keeps recording locally (daemon.connected)" \
        test "$(db h6 "SELECT count(*) FROM events WHERE kind = 'daemon.connected'")" -ge 1
stop_host h6

say "the daemons' memory: with the shipper (h2) and without (h5)"
for h in h2 h5; do
        say "$h: $(grep -E 'VmRSS|VmHWM' "/proc/${PID[$h]}/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
done
check "h5 (no [central]) made no central_cursor nor instance" \
        test "$(db h5 "SELECT count(*) FROM meta WHERE key LIKE 'central_%'")" = 0
# (Under -Db_sanitize, a stopped daemon's leaks and any overflow are in
# its log.)
check "no sanitizer report in any daemon's log" sh -c '! grep -l "Sanitizer\|runtime error" "$@"' sh "$VG_SCRATCH"/h*/daemon.log

finish
