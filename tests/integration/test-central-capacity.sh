#!/bin/bash
# The fleet's capacity findings (issue 31, item 3's capacity bullet)
# against a real PostgreSQL 15 (a private cluster): group-overcommit,
# group-no-n+1, pool-filling, pool-thin-overcommit and bridge-no-uplink.
# Hosts, domains and pool.usage / host.uplinks events are fixtures planted
# so that each class fires, beside controls where it must not; then each
# cause is removed and its rows must go. Last, the real path: a daemon on
# libvirt's test driver records host.capacity (virNodeGetInfo) and ships
# it, and the centre's hosts row holds its CPUs and memory.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
DPID=
cleanup() {
        if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; fi
        if [ "$VG_FAILS" -gt 0 ] && [ -s "$VG_SCRATCH/h/daemon.log" ]; then
                echo "--- the daemon's log:" >&2
                tail -n 25 "$VG_SCRATCH/h/daemon.log" >&2
        fi
        [ -z "${VG_PG:-}" ] || pg_stop immediate 2>/dev/null || true
}
trap cleanup EXIT
pg_start

"$VIRTGOV" fleet --dsn "$VG_PG_OWNER" init-db > /dev/null
DSN=$(pg_auditor capreader)
F() { "$VIRTGOV" fleet --dsn "$DSN" "$@"; }
O=$VG_SCRATCH/out
mkdir -p "$O"

say "the fleet: groups east (N+1 short), west (vCPUs 5x), north (memory 1.5x), and hosts in no group"
G=1048576   # KiB in a GiB
pg_sql "INSERT INTO virtgov.hosts (host_id, host_group, cpus, memory_kib) VALUES
 ('e1', 'east', 8, 16 * $G), ('e2', 'east', 8, 32 * $G),
 ('w1', 'west', 4, 8 * $G), ('w2', 'west', 4, 8 * $G), ('w3', 'west', 4, 8 * $G),
 ('n1', 'north', 2, 4 * $G), ('n2', 'north', 2, 4 * $G),
 ('s1', '', 1, 1 * $G), ('s2', '', 1, 1 * $G), ('u1', 'east', NULL, NULL)" >/dev/null
# dom HOST NAME STATE VCPUS GIB
dom() {
        pg_sql "INSERT INTO virtgov.domains (host_id, uuid, name, state, vcpus, memory_kib) VALUES
                ('$1', gen_random_uuid()::text, '$2', '$3', $4, $5 * $G)" >/dev/null
}
# east: 40 vCPUs on 16 CPUs, 20 of 48 GiB; e2 lost, its 8 GiB do not fit
# in e1's 4 free (e1 lost, its 12 fit in e2's 24). The shutoff guest and
# the host of unknown capacity count nowhere.
dom e1 e1-a running 24 12
dom e2 e2-a running 16 8
dom e2 e2-off shutoff 64 64
dom u1 u1-a running 500 500
# west: 60 vCPUs on 12 CPUs (5x), 6 of 24 GiB: room for N+1
for h in w1 w2 w3; do dom "$h" "$h-a" running 12 1; dom "$h" "$h-b" paused 8 1; done
# north: 12 GiB of guests on 8 GiB
dom n1 n1-a running 2 6
dom n2 n2-a running 2 6
# no group: overcommitted and short, but not a group meant to stand in
dom s1 s1-a running 16 4
dom s2 s2-a running 16 4

# ev HOST KIND DAYS-AGO JSON: an event of HOST's chain (the next seq).
ev() {
        psql -X -q -d "$VG_PG_OWNER" -v ON_ERROR_STOP=1 -v h="$1" -v k="$2" -v ago="$3" -v d="$4" <<'SQL'
INSERT INTO virtgov.events (host_id, seq, time, at, ref, source, kind, data, prev_hash, hash)
SELECT :'h', coalesce((SELECT max(seq) FROM virtgov.events WHERE host_id = :'h'), 0) + 1,
       to_char((now() - make_interval(days => :ago)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       now() - make_interval(days => :ago), gen_random_uuid()::text, 'daemon', :'k', :'d', 'x', md5(random()::text)
SQL
}
# usage HOST POOL DAYS-AGO STATE CAP-GIB ALLOC-GIB AVAIL-GIB VOLCAP-GIB
usage() {
        ev "$1" pool.usage "$3" "$(jq -nc --arg p "$2" --arg s "$4" --argjson c "$5" --argjson a "$6" \
                --argjson v "$7" --argjson vc "$8" '{pool: $p, uuid: ("uuid-" + $p), state: $s,
                capacity_bytes: ($c * 1073741824), allocation_bytes: ($a * 1073741824),
                available_bytes: ($v * 1073741824), volumes_capacity_bytes: ($vc * 1073741824)}')"
}
# images on e1: 60 GiB available 25 days ago, 20 now: 1.6 GiB a day, full
# in 12.5 days (80% allocated).
for d in 25 20 15 10 5 0; do usage e1 images "$d" running 100 $((80 - d * 8 / 5)) $((20 + d * 8 / 5)) 90; done
# backup on e2: flat at 95%.
usage e2 backup 3 running 100 95 5 95
usage e2 backup 1 running 100 95 5 95
# gone on e1: full while it ran, inactive now.
usage e1 gone 5 running 100 99 1 99
usage e1 gone 1 inactive 0 0 0 0
# undefined on w3: full, then undefined (libvirt's pool event).
usage w3 undefined 2 running 100 99 1 300
ev w3 pool.undefined 1 '{"uuid": "uuid-undefined", "detail": "Undefined"}'
# steady on w1: half full, flat. thin on w1: volumes of 250 GiB on 100.
usage w1 steady 10 running 100 50 50 50
usage w1 steady 1 running 100 50 50 50
usage w1 thin 1 running 100 10 90 250
# past on w2: fell fast 60 to 40 days ago, flat within the 30 days.
usage w2 past 60 running 100 10 90 10
usage w2 past 50 running 100 40 60 40
usage w2 past 40 running 100 70 30 70
usage w2 past 20 running 100 70 30 70
usage w2 past 2 running 100 70 30 70
# bridges: w1's br0 carries network lan (forward bridge) with its one
# uplink down; br1 is a NAT network's, with none by design; w2's is up;
# e1's was cut once and is up in its newest record.
BR_CUT='{"br0": {"state": "up", "uplinks": [{"name": "eth0", "type": "ethernet", "state": "down", "speed_mbps": null}],
 "networks": [{"name": "lan", "forward": "bridge", "active": true}]},
 "br1": {"state": "up", "uplinks": [], "networks": [{"name": "default", "forward": "nat", "active": true}]}}'
BR_UP='{"br0": {"state": "up", "uplinks": [{"name": "eth0", "type": "ethernet", "state": "up", "speed_mbps": 10000},
 {"name": "eth1", "type": "ethernet", "state": "down", "speed_mbps": null}],
 "networks": [{"name": "lan", "forward": "bridge", "active": true}]}}'
BR_IDLE='{"br9": {"state": "down", "uplinks": [{"name": "eth9", "type": "ethernet", "state": "down"}],
 "networks": [{"name": "spare", "forward": "bridge", "active": false}]}}'
ev w1 host.uplinks 1 "{\"bridges\": $BR_CUT}"
ev w2 host.uplinks 1 "{\"bridges\": $BR_UP}"
ev e1 host.uplinks 3 "{\"bridges\": $BR_CUT}"
ev e1 host.uplinks 1 "{\"bridges\": $BR_UP}"
ev e2 host.uplinks 1 "{\"bridges\": $BR_IDLE}"
# malformed data is left out, never the report failed
ev n1 host.uplinks 1 '{"bridges": {"br0": {"uplinks": "eth0", "networks": 7}}}'
ev n1 pool.usage 1 '{"pool": "odd", "uuid": "uuid-odd", "state": "running", "capacity_bytes": "lots"}'

say "fleet report: each capacity class fires where planted"
report_json() { F report --json > "$O/report.json" 2> "$O/report.err" || true; }
rows() {   # CLASS [JQ-CONDITION]: how many rows of CLASS meet it
        jq --arg c "$1" "[.rows[] | select(.category == \$c) | select(${2:-true})] | length" "$O/report.json"
}
rc=0; F report > "$O/report.txt" 2> "$O/report.err" || rc=$?
check "report with findings: exit 1 (got $rc), nothing on stderr" sh -c "test $rc = 1 && ! test -s '$O/report.err'"
report_json
check "group-overcommit: west, medium, 60 vCPUs on 12 CPUs (5x)" test "$(rows group-overcommit \
        '.subject == "west" and .severity == "medium" and .hosts == "w1,w2,w3" and (.why | test("60 active vCPUs on 12 CPUs \\(5.00x, over 4.0x: yes\\)"))')" = 1
check "group-overcommit: north, high, 12 GiB of guests on 8 GiB (1.5x)" test "$(rows group-overcommit \
        '.subject == "north" and .severity == "high" and (.why | test("12.0 GiB of guest memory on 8.0 GiB \\(1.50x, over 1.0x: yes\\)"))')" = 1
check "group-overcommit: not east (2.5x vCPUs, the shutoff guest and the unknown host left out), not the hosts of no group" \
        test "$(rows group-overcommit)" = 2
check "group-no-n+1: east names e2, 4 GiB short" test "$(rows group-no-n+1 \
        '.subject == "east" and .hosts == "e2" and .severity == "high" and (.why | test("runs 8.0 GiB of guests; the other 1 host\\(s\\) of the group have 4.0 GiB free: 4.0 GiB short"))')" = 1
check "group-no-n+1: north too (6 GiB on a host, none free)" test "$(rows group-no-n+1 '.subject == "north"')" = 1
check "group-no-n+1: not west (N+1 kept), not the hosts of no group" test "$(rows group-no-n+1)" = 2
check "pool-filling: e1's images full in 12.5 days at the trend, medium" test "$(rows pool-filling \
        '.subject == "e1:images" and .severity == "medium" and (.why | test("^80% allocated \\(80.0 of 100.0 GiB, 20.0 GiB available\\); full in 12.5 days at the trend of the last 30 days$"))')" = 1
check "pool-filling: e2's backup at 95%, high, no falling trend" test "$(rows pool-filling \
        '.subject == "e2:backup" and .severity == "high" and (.why | test("^95% allocated .*no falling trend \\(2 point"))')" = 1
check "pool-filling: not the inactive pool, the undefined one, the steady one, the thin one, nor the one that fell 40 days ago" \
        test "$(rows pool-filling)" = 2
check "pool-thin-overcommit: w1's thin, 2.5x" test "$(rows pool-thin-overcommit \
        '.subject == "w1:thin" and .hosts == "w1" and .severity == "medium" and (.why | test("250.0 GiB on 100.0 GiB \\(2.50x, 90.0 GiB available\\)"))')" = 1
check "pool-thin-overcommit: that one only (not the undefined pool's 3x)" test "$(rows pool-thin-overcommit)" = 1
check "bridge-no-uplink: w1's br0, for network lan, its eth0 down" test "$(rows bridge-no-uplink \
        '.subject == "w1:br0" and .severity == "high" and (.why | test("network\\(s\\) .lan. use it and none of its 1 uplink\\(s\\) is up \\(eth0 down\\)"))')" = 1
check "bridge-no-uplink: not the NAT bridge, not w2's, not e1's older record, not an inactive network's" \
        test "$(rows bridge-no-uplink)" = 1
for c in group-overcommit group-no-n+1 pool-filling pool-thin-overcommit bridge-no-uplink; do
        check "report text names the class $c" grep -q -- "$c" "$O/report.txt"
done
F report --csv > "$O/report.csv" || true
check "report --csv: the thin pool's row" grep -q '^pool-thin-overcommit,medium,w1,w1:thin,' "$O/report.csv"
check "report --html: the classes in its summary" sh -c "F() { \"$VIRTGOV\" fleet --dsn '$DSN' \"\$@\"; }; F report --html | grep -q \"id='class-group-no-n+1'\""

say "controls: each cause removed, its rows go"
gone() {   # CLASS SQL [LEFT]: after SQL, LEFT (0) rows of CLASS
        pg_sql "$2" >/dev/null
        report_json
        check "control $1: $(rows "$1") left, want ${3:-0}" test "$(rows "$1")" = "${3:-0}"
}
gone group-overcommit "UPDATE virtgov.domains SET state = 'shutoff' WHERE host_id LIKE 'w%' AND name LIKE '%-b'; UPDATE virtgov.domains SET vcpus = 4 WHERE name LIKE 'w%-a'" 1
gone group-overcommit "UPDATE virtgov.hosts SET memory_kib = 16 * $G WHERE host_id LIKE 'n%'"
gone group-no-n+1 "UPDATE virtgov.hosts SET memory_kib = 24 * $G WHERE host_id = 'e1'" 0
gone pool-filling "SELECT 1" 2
gone pool-filling "$(printf "UPDATE virtgov.events SET data = jsonb_set(data::jsonb, '{available_bytes}', to_jsonb(%s::bigint))::text WHERE host_id = 'e1' AND kind = 'pool.usage' AND data::jsonb->>'pool' = 'images'" $((20 * 1073741824)))" 1
gone pool-filling "UPDATE virtgov.events SET data = jsonb_set(data::jsonb, '{allocation_bytes}', '0')::text WHERE host_id = 'e2' AND kind = 'pool.usage'"
gone pool-thin-overcommit "UPDATE virtgov.events SET data = jsonb_set(data::jsonb, '{volumes_capacity_bytes}', '0')::text WHERE host_id = 'w1' AND data::jsonb->>'pool' = 'thin'"
ev w1 host.uplinks 0 "{\"bridges\": $BR_UP}"
report_json
check "control bridge-no-uplink: a newer record with an uplink up: $(rows bridge-no-uplink) left" test "$(rows bridge-no-uplink)" = 0
rc=0; F report > "$O/clean.txt" || rc=$?
check "no capacity finding left: report exits 0 (got $rc): $(head -c 300 "$O/clean.txt" | tr '\n' ' ')" sh -c "test $rc = 0 && grep -q '^nothing to report$' '$O/clean.txt'"

say "a failing check is said, never read as 'no findings'"
pg_sql "ALTER TABLE virtgov.hosts RENAME COLUMN cpus TO ncpus" >/dev/null
rc=0; F report > "$O/broken.txt" 2> "$O/broken.err" || rc=$?
check "a query that fails: exit 1 (got $rc), naming its class" \
        sh -c "test $rc = 1 && grep -q 'the fleet check group-overcommit: ERROR: *column h.cpus does not exist' '$O/broken.err'"
pg_sql "ALTER TABLE virtgov.hosts RENAME COLUMN ncpus TO cpus" >/dev/null

say "the real path: a daemon on the test driver records and ships host.capacity"
H=$VG_SCRATCH/h
mkdir -p "$H" && mkdir -p -m 0700 "$H/spool"
"$VIRTGOV" fleet --dsn "$VG_PG_OWNER" add-host lab1 --role vg_lab1 > "$H/add-host.log"
cat > "$H/vg.conf" <<EOF
inventory = $H/inv.db
spool_dir = $H/spool
host_key = $H/host.key
host_id = lab1
log = none
uris = test:///default
audit = no
assess_interval_s = 0

[central]
dsn = $(pg_login vg_lab1)
host_group = lab
batch = 100
interval_s = 1
EOF
chmod 0644 "$H/vg.conf"
NODE=$(virsh -q -c test:///default nodeinfo)
CPUS=$(echo "$NODE" | sed -n 's/^CPU(s): *//p')
MEM=$(echo "$NODE" | sed -n 's/^Memory size: *\([0-9]*\) KiB/\1/p')
check "the test driver reports a node ($CPUS CPUs, $MEM KiB)" test "${CPUS:-0}" -gt 0 -a "${MEM:-0}" -gt 0
poll() {   # SECONDS COMMAND...: until COMMAND succeeds; 1 at the time-out
        local i
        for i in $(seq $(($1 * 5))); do "${@:2}" && return 0; sleep 0.2; done
        return 1
}
run_daemon() {
        VIRTGOV_CONFIG=$H/vg.conf "$VG_DAEMON" --foreground >> "$H/daemon.log" 2>&1 &
        DPID=$!
}
stop_daemon() { kill -TERM "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; DPID=; }
central_host() { pg_sql "SELECT host_group || ' ' || coalesce(cpus::text, '-') || ' ' || coalesce(memory_kib::text, '-') FROM virtgov.hosts WHERE host_id = 'lab1'" 2>/dev/null; }
run_daemon
poll 30 test "$(central_host)" = "lab $CPUS $MEM" || true
check "hosts.cpus and memory_kib are the node's: '$(central_host)'" test "$(central_host)" = "lab $CPUS $MEM"
LOCAL=$(VIRTGOV_CONFIG=$H/vg.conf "$VIRTGOV" --json events --kind host.capacity)
check "one host.capacity event, node.cpus $CPUS and node.memory_kib $MEM" \
        jq -e --argjson c "$CPUS" --argjson m "$MEM" 'length == 1 and .[0].data.node.cpus == $c and .[0].data.node.memory_kib == $m and (.[0].data.node.model | length > 0)' <<< "$LOCAL"
poll 30 test "$(pg_sql "SELECT count(*) FROM virtgov.events WHERE host_id = 'lab1' AND kind = 'host.capacity'")" = 1 || true
check "and it is in the centre's events" \
        test "$(pg_sql "SELECT (data::jsonb->'node'->>'cpus') FROM virtgov.events WHERE host_id = 'lab1' AND kind = 'host.capacity'")" = "$CPUS"
DOM=$(virsh -q -c test:///default dominfo test | sed -n 's/^CPU(s): *//p')
check "the running test domain's vCPUs ($DOM) and memory in virtgov.domains" \
        test "$(pg_sql "SELECT vcpus || ' ' || (memory_kib > 0) FROM virtgov.domains WHERE host_id = 'lab1' AND name = 'test'")" = "$DOM true"
stop_daemon
run_daemon
poll 30 test "$(VIRTGOV_CONFIG=$H/vg.conf "$VIRTGOV" --json events --kind daemon.connected | jq length)" = 2 || true
stop_daemon
check "a restart, the node unchanged: still one host.capacity" \
        test "$(VIRTGOV_CONFIG=$H/vg.conf "$VIRTGOV" --json events --kind host.capacity | jq length)" = 1
check "no sanitizer's report in the daemon's log" sh -c "! grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' '$H/daemon.log'"
trap - EXIT
cleanup
finish
