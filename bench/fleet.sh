#!/bin/bash
# The central inventory at fleet size (issue 31's goals), on a private
# PostgreSQL 15 cluster of its own, in one run:
#
#   1. history: HOSTS hosts x DOMAINS domains and EVENTS events over the
#      year before now, written straight into the tables (bench/fleet/
#      history.sql): what years of shipping leave. Timed, not a goal.
#   2. ingest, through the daemon's own shipper (bench/fleet-ship, over
#      ship_round) with synchronous_commit = on: every host ships a
#      backlog of BACKLOG events (5,000 x 300 = 1.5M: a mass reboot of
#      250,000 domains), THREADS connections at most, each round
#      connecting as the host's own role under row-level security; then
#      a stream of RATE events/s fleet-wide for STREAM_S seconds, with the
#      lag from an event's append to its commit in the centre.
#   3. the fleet's queries at that size: fleet report, fleet events --host
#      H --since 1d, fleet list --host H (the median of 5 runs each).
#   4. the daemon's RSS after shipping 20,000 events, against the same
#      daemon with no [central] section.
#
#   bench/fleet.sh [--quick] [BUILD]   (root; default build-bench)
#       --quick: 500 hosts, 100,000 events of history, 50 events backlog
#
# Everything runs on this machine's two cores: PostgreSQL, the shipper
# threads and their SQLite reads share them, where a fleet's hosts would
# bring their own. The figures are for comparing runs, not a capacity
# plan.
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=5000 DOMAINS=50 EVENTS=10000000 BACKLOG=300 THREADS=64 BATCH=500 RATE=10000 STREAM_S=30
if [ "${1:-}" = --quick ]; then
        HOSTS=500 EVENTS=100000 BACKLOG=50 STREAM_S=10
        shift
fi
B=$(cd "${1:-build-bench}" && pwd)
PG_BIN=${VG_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ "${VG_BENCH_NS:-}" != 1 ]; then
        [ "$(id -u)" = 0 ] || { echo "bench/fleet.sh: needs root (its own namespaces)" >&2; exit 1; }
        args=()
        [ "$HOSTS" = 500 ] && args+=(--quick)
        VG_BENCH_NS=1 exec unshare --mount --net --pid --fork --mount-proc --propagation private "$0" "${args[@]}" "$B"
fi
ip link set lo up
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-fleet.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
chmod 0711 "$W"
mkdir -p "$W/pg/run"
echo "bench-owner" > "$W/pg/pw"
chown -R postgres: "$W/pg"
export PGHOST=$W/pg/run PGPASSFILE=$W/pgpass
printf '*:*:*:*:bench-owner\n' > "$PGPASSFILE"
chmod 0600 "$PGPASSFILE"
OWNER="host=$PGHOST dbname=virtgov user=postgres"
runuser -u postgres -- "$PG_BIN/initdb" --no-sync -D "$W/pg/data" -U postgres --pwfile="$W/pg/pw" \
        -A scram-sha-256 > "$W/initdb.log"
# A server of the size a fleet's would have, within this machine: shared
# buffers of 2 GiB, room for the shipper's connections and the queries'.
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/log" -w -t 120 -o "-c listen_addresses='' \
        -c unix_socket_directories=$PGHOST -c max_connections=$((THREADS + 20)) -c shared_buffers=2GB \
        -c synchronous_commit=on -c max_wal_size=8GB -c checkpoint_timeout=15min" start > /dev/null
psql -qd "host=$PGHOST dbname=postgres user=postgres" -c "CREATE DATABASE virtgov"
"$B/cli/virtgov" fleet --dsn "$OWNER" init-db > /dev/null

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

echo "history: $HOSTS hosts x $DOMAINS domains, $EVENTS events over a year"
t=$(now)
psql -X -qd "$OWNER" -v hosts="$HOSTS" -v domains="$DOMAINS" -v events="$EVENTS" -f bench/fleet/history.sql
printf '  written in %.0f s; the database is %s\n' "$(since "$t")" \
        "$(psql -XAtd "$OWNER" -c "SELECT pg_size_pretty(pg_database_size('virtgov'))")"

# Each host's role, as 'virtgov fleet add-host' makes it (one statement
# each, not a CLI run each: 5,000 runs would be the set-up's time).
psql -X -qd "$OWNER" -v hosts="$HOSTS" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN IN ROLE virtgov_host PASSWORD %L', 'virtgov_host_bench_' || i, 'bench-owner')
    FROM generate_series(1, :hosts) i
\gexec
INSERT INTO virtgov.host_roles (host_id, role)
    SELECT 'bench-' || i, 'virtgov_host_bench_' || i FROM generate_series(1, :hosts) i;
SQL

# Every host's inventory: the history's events (already in the centre),
# then BACKLOG more.
"$B/bench/gen-inventory" "$W/host.db" "$DOMAINS" "$((EVENTS / HOSTS + BACKLOG))" tests/data/domxml/full/expected.json
echo "ingest: the daemon's shipper, synchronous_commit = on"
"$B/bench/fleet-ship" "host=$PGHOST dbname=virtgov" "$W/host.db" "$HOSTS" "$THREADS" "$BATCH" "$STREAM_S" "$RATE" \
        "$((EVENTS / HOSTS))" "$W/pg/data/postmaster.pid"
psql -XAtd "$OWNER" -c "SELECT '  the centre holds ' || count(*) || ' events of ' || count(DISTINCT host_id) || ' hosts' FROM virtgov.events"

# Every simulated host ships the same inventory, so the drain has just
# replaced all 250,000 domains with 50 UUIDs and MACs shared by every host;
# the statistics still describe the history's unique ones (autovacuum
# comes round within a minute). On them, fleet report's duplicate-mac
# looked each interface's domain up by uuid alone and read 500 rows a
# time: 15 s instead of 0.5. A fleet changes a few hosts at a time.
psql -XAtqd "$OWNER" -c "ANALYZE"
echo "queries at this size (median of 5 runs)"
median() {
        local i t s=()
        for i in 1 2 3 4 5; do
                t=$(now)
                "$@" > /dev/null 2>&1 || [ $? -eq 1 ]   # report: 1 = findings
                s+=("$(since "$t")")
        done
        printf '%s\n' "${s[@]}" | sort -n | sed -n 3p
}
q() { printf '  %-44s %8.1f ms\n' "$1" "$(echo "$(median "${@:2}") * 1000" | bc)"; }
V=("$B/cli/virtgov" fleet --dsn "$OWNER")
q "fleet report" "${V[@]}" report --json
q "fleet events --host bench-17 --since 1d" "${V[@]}" events --host bench-17 --since 1d --json
q "fleet list --host bench-17" "${V[@]}" list --host bench-17 --json
q "fleet hosts" "${V[@]}" hosts --json

echo "the daemon's RSS after 20,000 events (test:///default driver)"
rss_run() {
        local name=$1 conf=$W/$1.conf pid i
        mkdir -p "$W/$name"
        printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nlog = none\naudit = no\nassess_interval_s = 0\nhost_key = %s/key\n' \
                "$W/$name" "$W/$name" "$W/$name" > "$conf"
        if [ "$name" = central ]; then
                psql -X -qd "$OWNER" -c "CREATE ROLE virtgov_host_rss LOGIN IN ROLE virtgov_host PASSWORD 'bench-owner'" \
                        -c "INSERT INTO virtgov.host_roles VALUES ('rss', 'virtgov_host_rss')"
                printf 'host_id = rss\n[central]\ndsn = host=%s dbname=virtgov user=virtgov_host_rss\ninterval_s = 1\n' \
                        "$PGHOST" >> "$conf"
        fi
        VIRTGOV_CONFIG=$conf "$B/inventoryd/virtgov-inventoryd" --foreground --uri test:///default > "$W/$name/log" 2>&1 &
        pid=$!
        for i in $(seq 100); do grep -q "connected to" "$W/$name/log" && break; sleep 0.1; done
        mkdir -p "$W/$name/stage"
        "$B/bench/ingest" --write-spool "$W/$name/stage" 20000
        mv "$W/$name/stage/journal" "$W/$name/spool/journal"
        for i in $(seq 600); do
                [ "$(sqlite3 "$W/$name/inv.db" "SELECT count(*) FROM events")" -ge 20000 ] && break
                sleep 0.1
        done
        if [ "$name" = central ]; then
                for i in $(seq 600); do
                        [ "$(psql -XAtd "$OWNER" -c "SELECT count(*) FROM virtgov.events WHERE host_id = 'rss'")" -ge 20000 ] && break
                        sleep 0.1
                done
        fi
        sleep 2
        awk '/VmRSS/ { print $2 }' "/proc/$pid/status"
        kill "$pid"
        wait "$pid" 2>/dev/null || true
}
none=$(rss_run none)
central=$(rss_run central)
printf '  no [central]: %d KiB; shipping: %d KiB; added: %d KiB\n' "$none" "$central" "$((central - none))"
