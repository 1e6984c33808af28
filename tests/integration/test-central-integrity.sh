#!/bin/bash
# The fleet's findings from integrity, assessment, tickets and accounts
# (issue 31, item 3) against a real PostgreSQL 15. Three real daemons on
# libvirt's test driver, each with its own inventory, host id and role,
# take a real `virtgov integrity baseline` of one small profile over the
# same scratch files (a fake dpkg database ships one of them): h3's taken
# after the packaged file was edited, so its digest is the outlier of
# (vgfleet, 1.0). Their assessment states and tickets ship too. Where a
# real cause is impractical (decisions under tickets need the hook and a
# real start; account changes on three hosts in minutes need audit),
# fixture rows under fixture host ids. Each class has controls where it
# must not fire, and its cause removed makes it go.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
declare -A PID

cleanup() {
        fleet_daemons_stop
        [ -z "${VG_PG:-}" ] || pg_stop immediate 2>/dev/null || true
}
trap cleanup EXIT

pg_start
"$VIRTGOV" fleet --dsn "$VG_PG_OWNER" init-db > "$VG_SCRATCH/init-db.log"
READER=$(pg_auditor fleetreader)
O=$VG_SCRATCH/out
mkdir -p "$O"

# The watched files, and a dpkg database that ships one of them.
FILES=$VG_SCRATCH/vgfleet DPKG=$VG_SCRATCH/dpkg
mkdir -p "$FILES" "$DPKG/info"
printf 'Package: vgfleet\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\nDescription: fixture\n\n' \
        > "$DPKG/status"
printf '%s\n%s/fw.bin\n' "$FILES" "$FILES" > "$DPKG/info/vgfleet.list"
: > "$VG_SCRATCH/dpkg.log"
echo firmware-A > "$FILES/fw.bin"      # packaged: h3's will differ
echo same > "$FILES/same.conf"         # unpackaged, the same everywhere
echo h1 > "$FILES/each.conf"           # unpackaged, each host its own

mkhost() {   # NAME: a host of the test driver with [central] as role vg_NAME
        local H=$VG_SCRATCH/$1 dsn
        mkdir -p "$H/integrity.d" && mkdir -p -m 0700 "$H/spool"
        echo "$FILES all" > "$H/integrity.d/lab.profile"
        "$VIRTGOV" fleet --dsn "$VG_PG_OWNER" add-host "$1" --role "vg_$1" > "$H/add-host.log"
        dsn=$(pg_login "vg_$1")
        cat > "$H/vg.conf" <<EOF
inventory = $H/inv.db
spool_dir = $H/spool
host_key = $H/host.key
host_id = $1
log = none
uris = test:///default
audit = no
assess_interval_s = 0
integrity_dir = $H/integrity.d
integrity_profiles = lab
dpkg_admindir = $DPKG
dpkg_log = $VG_SCRATCH/dpkg.log

[central]
dsn = $dsn
host_group = lab
batch = 100
interval_s = 1
EOF
        chmod 0644 "$H/vg.conf"
}
vg() { local h=$1; shift; VIRTGOV_CONFIG=$VG_SCRATCH/$h/vg.conf "$VIRTGOV" "$@"; }
db() { sqlite3 "$VG_SCRATCH/$1/inv.db" "$2"; }
start_host() {
        local h=$1 i
        VIRTGOV_CONFIG=$VG_SCRATCH/$h/vg.conf "$VG_DAEMON" --foreground >> "$VG_SCRATCH/$h/daemon.log" 2>&1 &
        PID[$h]=$!
        for i in $(seq 200); do
                [ "$(db "$h" "SELECT count(*) FROM events WHERE kind = 'daemon.connected'" 2>/dev/null)" -gt 0 ] 2>/dev/null && return 0
                sleep 0.1
        done
        echo "$h: the daemon did not connect" >&2
        return 1
}
# until SECONDS SQL EXPECTED: waits for the centre's answer to SQL.
until_pg() {
        local i
        for i in $(seq $(( $1 * 5 ))); do
                [ "$(pg_sql "$2" 2>/dev/null)" = "$3" ] && return 0
                sleep 0.2
        done
        echo "waited $1 s for '$3' from: $2 (got '$(pg_sql "$2" 2>&1)')" >&2
        return 1
}
report_json() { "$VIRTGOV" fleet --dsn "$READER" report --json > "$O/report.json" || true; }
has() {   # CLASS JQ-CONDITION: the report holds a row of CLASS meeting it
        jq -e --arg c "$1" "[.rows[] | select(.category == \$c) | select($2)] | length >= 1" "$O/report.json" >/dev/null
}
count() {   # CLASS [JQ-CONDITION]
        jq --arg c "$1" "[.rows[] | select(.category == \$c) | select(${2:-true})] | length" "$O/report.json"
}

say "three daemons with [central] on the test driver"
for h in h1 h2 h3; do
        mkhost "$h"
        start_host "$h"
done
# Each host's assessment as `virtgov assess` leaves it (meta assess.state:
# each check's last status), before the baselines whose events ship it;
# after the daemon's own first run (at its start), whose real checks stay
# beside these (a run keeps the statuses of the checks it did not run).
# A-1: h3 alone fails what h1 and h2 pass (fires); A-2: two fail (no);
# A-3: h2's is excepted, not a pass (no); A-4: one pass only, the other
# not applicable (no); A-5: h3 could not judge what h1 and h2 pass (fires).
assessed() { [ "$(db "$1" "SELECT count(*) FROM events WHERE kind = 'assess.run'")" -gt 0 ]; }
for h in h1 h2 h3; do
        for i in $(seq 300); do assessed "$h" && break; sleep 0.1; done
        check "$h: the daemon's own assessment ran" assessed "$h"
done
db h1 "UPDATE meta SET value = json_patch(value, '{\"A-1\":\"pass\",\"A-2\":\"fail\",\"A-3\":\"pass\",\"A-4\":\"pass\",\"A-5\":\"pass\"}') WHERE key = 'assess.state'"
db h2 "UPDATE meta SET value = json_patch(value, '{\"A-1\":\"pass\",\"A-2\":\"fail\",\"A-3\":\"excepted\",\"A-4\":\"not-applicable\",\"A-5\":\"pass\"}') WHERE key = 'assess.state'"
db h3 "UPDATE meta SET value = json_patch(value, '{\"A-1\":\"fail\",\"A-2\":\"pass\",\"A-3\":\"fail\",\"A-4\":\"fail\",\"A-5\":\"error\"}') WHERE key = 'assess.state'"
check "h1: a real ticket naming one domain" quiet vg h1 ticket add CHG-H1 --domain web1 --action start --from 1h --until +2h

say "the baselines: h1 and h2 of one firmware, h3's after it was edited"
check "h1: integrity baseline" quiet vg h1 integrity baseline --profile lab
echo h2 > "$FILES/each.conf"
check "h2: integrity baseline" quiet vg h2 integrity baseline --profile lab
echo firmware-B > "$FILES/fw.bin"
echo h3 > "$FILES/each.conf"
check "h3: integrity baseline" quiet vg h3 integrity baseline --profile lab
rows="SELECT string_agg(host_id || ':' || n, ' ' ORDER BY host_id) FROM (SELECT host_id, count(*) n FROM virtgov.baseline WHERE sha256 <> '' GROUP BY 1) c"
check "each host's three hashed baseline rows in the centre" until_pg 30 "$rows" "h1:3 h2:3 h3:3"
check "fw.bin's rows name dpkg's package and version" \
        test "$(pg_sql "SELECT string_agg(DISTINCT package || ' ' || version, ',') FROM virtgov.baseline WHERE path = '$FILES/fw.bin'")" = "vgfleet:all 1.0"
check "an unpackaged path has no package" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.baseline WHERE path = '$FILES/same.conf' AND package IS NULL")" = 3
check "the digests are the host's own (h1's fw.bin is its inventory's row)" \
        test "$(pg_sql "SELECT sha256 FROM virtgov.baseline WHERE host_id = 'h1' AND path = '$FILES/fw.bin'")" = \
             "$(db h1 "SELECT sha256 FROM integrity_files WHERE path = '$FILES/fw.bin'")"
check "the assessment shipped: the five fixture checks a host, beside the real ones" \
        until_pg 10 "SELECT string_agg(host_id || ':' || n, ' ' ORDER BY host_id) FROM (SELECT host_id, count(*) n FROM virtgov.assessment WHERE check_id LIKE 'A-_' GROUP BY 1) c" "h1:5 h2:5 h3:5"
check "and the daemon's real checks (more than the fixtures)" \
        test "$(pg_sql "SELECT count(*) FROM virtgov.assessment WHERE host_id = 'h1'")" -gt 5
check "h1's ticket shipped, with its scope" \
        test "$(pg_sql "SELECT domain_glob || ' ' || action FROM virtgov.tickets WHERE host_id = 'h1' AND id = 'CHG-H1'")" = "web1 start"

say "open findings ship: h1 checks its files, changed since its baseline"
vg h1 integrity check > /dev/null 2>&1 || true
check "h1's findings in the centre: fw.bin and each.conf, unexplained" \
        until_pg 30 "SELECT string_agg(replace(path, '$FILES/', '') || ' ' || class || ' ' || kind, ',' ORDER BY path) FROM virtgov.integrity_findings WHERE host_id = 'h1'" \
        "each.conf unexplained changed,fw.bin unexplained changed"

say "security: a host's role reads and writes its own rows only"
H1DSN=$(sed -n 's/^dsn = //p' "$VG_SCRATCH/h1/vg.conf")
check "h1's role sees only its own baseline rows" \
        test "$(psql -X -qAt -d "$H1DSN" -c "SELECT string_agg(DISTINCT host_id, ',') FROM virtgov.baseline")" = h1
rc=0; psql -X -qAt -d "$H1DSN" -v ON_ERROR_STOP=1 \
        -c "INSERT INTO virtgov.baseline (host_id, path, sha256) VALUES ('h2', '/x', 'ab')" > /dev/null 2> "$O/rls.err" || rc=$?
check "h1's role may not write h2's baseline (rc $rc): row-level security" \
        sh -c "[ $rc != 0 ] && grep -q 'row-level security' '$O/rls.err'"
N2=$(pg_sql "SELECT count(*) FROM virtgov.assessment WHERE host_id = 'h2'")
psql -X -qAt -d "$H1DSN" -c "DELETE FROM virtgov.assessment WHERE host_id = 'h2'" > /dev/null 2>&1 || true
check "nor delete h2's assessment ($N2 rows)" test "$(pg_sql "SELECT count(*) FROM virtgov.assessment WHERE host_id = 'h2'")" = "$N2"

say "fixtures: integrity at another version, tickets' decisions, account changes"
# f1..f3 hold one digest of /opt/vg/lib.so at vglib 1.0, f4 another at
# 2.0: another version, not an outlier. /opt/vg/two: two hosts only.
pg_sql "INSERT INTO virtgov.baseline (host_id, path, profile, package, version, sha256) VALUES
        ('f1', '/opt/vg/lib.so', 'p', 'vglib', '1.0', repeat('a', 64)), ('f2', '/opt/vg/lib.so', 'p', 'vglib', '1.0', repeat('a', 64)),
        ('f3', '/opt/vg/lib.so', 'p', 'vglib', '1.0', repeat('a', 64)), ('f4', '/opt/vg/lib.so', 'p', 'vglib', '2.0', repeat('b', 64)),
        ('f1', '/opt/vg/two', 'p', NULL, NULL, repeat('a', 64)), ('f2', '/opt/vg/two', 'p', NULL, NULL, repeat('b', 64))" >/dev/null
declare -A SEQ
ev() {   # HOST KIND MINUTES UUID DATA [ACTOR]: a fixture event, MINUTES after 2026-03-01 10:00Z
        local s=$(( ${SEQ[$1]:-0} + 1 )) t
        SEQ[$1]=$s
        t=$(date -u -d "2026-03-01 10:00:00 UTC + $3 minutes" +%Y-%m-%dT%H:%M:%SZ)
        pg_sql "INSERT INTO virtgov.events (host_id, seq, time, at, ref, source, kind, uuid, actor, data, prev_hash, hash)
                VALUES ('$1', $s, '$t', '$t', 'ref-$1-$s', 'fixture', '$2', nullif('$4', ''), nullif('${6:-}', ''),
                        '$5', repeat('0', 64), md5('$1-$s'))" >/dev/null
}
pg_sql "INSERT INTO virtgov.tickets (host_id, id, domain_glob, action) VALUES
        ('t1', 'CHG-LIT', 'web1', 'start'), ('t2', 'CHG-LIT', 'web1', 'start'), ('t1', 'CHG-MIG', 'db1', 'start'),
        ('t1', 'CHG-GLOB', 'web-*', 'start'), ('t2', 'CHG-GLOB', 'web-*', 'start'), ('t1', 'CHG-ONE', 'app1', 'any')" >/dev/null
ev t1 domain.prepare 0 u-web1-a '{"ticket":"CHG-LIT"}'
ev t2 domain.prepare 1 u-web1-b '{"facts":{"ticket":"CHG-LIT"}}'   # event_ticket's other place
ev t1 domain.prepare 2 u-db1 '{"ticket":"CHG-MIG"}'                 # one domain, migrated
ev t2 domain.prepare 3 u-db1 '{"ticket":"CHG-MIG"}'
ev t1 domain.prepare 4 u-web-a '{"ticket":"CHG-GLOB"}'              # a glob's scope: many domains
ev t2 domain.prepare 5 u-web-b '{"ticket":"CHG-GLOB"}'
ev t1 domain.prepare 6 u-app1 '{"ticket":"CHG-ONE"}'                # one host, restarted
ev t1 domain.prepare 7 u-app1 '{"ticket":"CHG-ONE"}'
ev t1 integrity.accepted 8 '' '{"paths":["/usr/bin/x"],"ticket":"CHG-NONE"}'   # no host holds it
ev t2 integrity.accepted 9 '' '{"paths":["/usr/bin/x"],"ticket":"CHG-NONE"}'
# alice: three hosts in 5 minutes (fires); bob: three hosts in 20 (no);
# carol: account.baseline is no change (no); unknown: not an actor (no).
ev t1 account.added 0 '' '{}' alice
ev t2 group.member-added 2 '' '{}' alice
ev t3 sudoers.changed 5 '' '{}' alice
ev t1 account.added 0 '' '{}' bob
ev t2 account.changed 8 '' '{}' bob
ev t3 account.removed 20 '' '{}' bob
ev t1 account.baseline 0 '' '{}' carol
ev t2 account.baseline 1 '' '{}' carol
ev t3 account.baseline 2 '' '{}' carol
ev t1 account.added 0 '' '{}' unknown
ev t2 account.added 1 '' '{}' unknown
ev t3 account.added 2 '' '{}' unknown

say "fleet report"
rc=0; "$VIRTGOV" fleet --dsn "$READER" report > "$O/report.txt" || rc=$?
check "report with findings: exit 1 (got $rc)" test "$rc" = 1
for c in integrity-outlier assessment-outlier ticket-overuse actor-burst; do
        check "report text names the class $c" grep -q "$c" "$O/report.txt"
done
report_json
check "integrity-outlier: h3's fw.bin against h1 and h2's of vgfleet 1.0" \
        has integrity-outlier ".hosts == \"h3\" and .subject == \"$FILES/fw.bin\" and .severity == \"high\" and (.why | test(\"differs from the 2 other hosts.*vgfleet:all 1.0\"))"
check "integrity-outlier: nothing else (same.conf agrees, each.conf has no consensus, lib.so differs by version, two hosts are too few)" \
        test "$(count integrity-outlier)" = 1
check "assessment-outlier: h3 fails A-1 that the 2 others pass" \
        has assessment-outlier '.hosts == "h3" and .subject == "A-1" and (.why | test("fails what the 2 other hosts pass"))'
check "assessment-outlier: h3 could not judge A-5" has assessment-outlier '.hosts == "h3" and .subject == "A-5" and (.why | test("could not judge"))'
check "assessment-outlier: not A-2 (two fail), A-3 (excepted), A-4 (one pass)" \
        test "$(count assessment-outlier '.subject | startswith("A-")')" = 2
check "ticket-overuse: CHG-LIT, scope web1, on t1 and t2 for two domains" \
        has ticket-overuse '.subject == "CHG-LIT" and .hosts == "t1,t2" and (.why | test("scope .web1. \\(start\\), used on 2 hosts for 2 subjects"))'
check "ticket-overuse: CHG-NONE, held by no host, its accepts on two hosts" \
        has ticket-overuse '.subject == "CHG-NONE" and (.why | test("unknown"))'
check "ticket-overuse: not the migrated CHG-MIG, the glob's CHG-GLOB, one host's CHG-ONE, h1's unused CHG-H1" \
        test "$(count ticket-overuse)" = 2
check "actor-burst: alice on t1, t2, t3 within 10 minutes" \
        has actor-burst '.subject == "alice" and .hosts == "t1,t2,t3" and (.why | test("3 account changes on 3 hosts within 10 minutes from 2026-03-01T10:00:00Z"))'
check "actor-burst: not bob (20 minutes), carol (baselines), unknown" test "$(count actor-burst)" = 1
F_CSV=$("$VIRTGOV" fleet --dsn "$READER" report --csv || true)
check "report --csv: the outlier row" grep -q "^integrity-outlier,high,h3,$FILES/fw.bin," <<< "$F_CSV"

say "controls: each cause removed, its class goes"
echo firmware-A > "$FILES/fw.bin"
check "h3 retakes its baseline over the firmware restored" quiet vg h3 integrity baseline --profile lab
check "h3's row replaced in the centre (its digest changed)" \
        until_pg 30 "SELECT count(DISTINCT sha256) FROM virtgov.baseline WHERE path = '$FILES/fw.bin'" 1
report_json
check "control integrity-outlier: gone ($(count integrity-outlier) left)" test "$(count integrity-outlier)" = 0
check "h3's baseline rows not doubled" test "$(pg_sql "SELECT count(*) FROM virtgov.baseline WHERE host_id = 'h3'")" = \
        "$(db h3 "SELECT count(*) FROM integrity_files")"
pg_sql "UPDATE virtgov.assessment SET result = 'pass' WHERE host_id = 'h3' AND check_id IN ('A-1', 'A-5')" >/dev/null
report_json
check "control assessment-outlier: gone ($(count assessment-outlier) left)" \
        test "$(count assessment-outlier '.subject | startswith("A-")')" = 0
pg_sql "DELETE FROM virtgov.events WHERE host_id = 't2' AND kind IN ('domain.prepare', 'integrity.accepted')" >/dev/null
report_json
check "control ticket-overuse: gone ($(count ticket-overuse) left)" test "$(count ticket-overuse)" = 0
pg_sql "UPDATE virtgov.events SET at = at + interval '30 minutes' WHERE host_id = 't3' AND actor = 'alice'" >/dev/null
report_json
check "control actor-burst: gone ($(count actor-burst) left)" test "$(count actor-burst)" = 0
check "no fixture's row of the four classes left" \
        test "$(jq '[.rows[] | select(.category | test("outlier|overuse|burst")) | select(.category != "assessment-outlier" or (.subject | startswith("A-")))] | length' "$O/report.json")" = 0

check "no sanitizer report in any daemon's log" sh -c '! grep -l "Sanitizer\|runtime error" "$@"' sh "$VG_SCRATCH"/h*/daemon.log
finish
