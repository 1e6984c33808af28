#!/bin/bash
# How long a scheduled full integrity check holds the daemon's loop (issue
# 29: under 100 ms; libvirt's keepalive drops a client that has not
# answered for 5 s x 3), side by side in one run:
#
#   bench/loop-stall.sh [--runs N] [--profile NAME] [BUILD_DIR...]
#
# For each build (default build-bench, made as bench/run makes it), N
# daemons (default 2) one after the other, each on a copy of one
# inventory with a baseline of the profile (default host: /usr/bin,
# /usr/sbin, /usr/lib, /etc), connected to a real libvirtd (qemu:///system)
# in the integration tests' sandbox (tests/integration/lib.sh: nothing
# outside a scratch directory is written, the host's libvirtd is not
# seen). The first check after a start is a full one: every file read.
# Two seconds into it a domain is defined through libvirt. Printed per
# run: how long the check took, the loop's longest stall and the ticks
# over 100 ms (the daemon's VIRTGOV_LOOP_PROBE_MS=10 probe,
# inventoryd/loopprobe.h), how long after the define its domain.defined
# was recorded, and how many daemon.disconnected events the run recorded.
# A build without the probe prints "-". Nothing is asserted.
#
# To compare with the code before a change, build that commit's tree
# elsewhere (git archive COMMIT | tar -x -C DIR; meson setup DIR/build)
# and pass both build directories.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${VG_BENCH_RUNS:-2} PROFILE=${VG_BENCH_PROFILE:-host}
while [ $# -gt 0 ]; do
        case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --profile) PROFILE=$2; shift 2 ;;
        -*) echo "usage: bench/loop-stall.sh [--runs N] [--profile NAME] [BUILD_DIR...]" >&2; exit 2 ;;
        *) break ;;
        esac
done
if [ $# -eq 0 ]; then
        [ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
        meson compile -C build-bench >/dev/null
        set -- "$PWD/build-bench"
fi
# The sandbox re-runs this script; its arguments go with it.
export VG_BUILD=${VG_BUILD:-$1} VG_BENCH_RUNS=$RUNS VG_BENCH_PROFILE=$PROFILE
. tests/integration/lib.sh
vg_sandbox "$@"
sandbox_setup
start_libvirt >/dev/null

W=$VG_SCRATCH/bench
mkdir -p "$W"
row() { printf '%-10s %4s %10s %12s %12s %14s %13s\n' "$@"; }
# Waits for $1 (a log) to hold $2 (a grep pattern); 10 minutes at most.
wait_log() { for _ in $(seq 6000); do grep -q "$2" "$1" && return 0; sleep 0.1; done
             echo "timed out waiting for '$2' in $1" >&2; return 1; }
conf() {
        cat > "$1/vg.conf" <<CONF
inventory = $1/inv.db
spool_dir = $1/spool
hooks_dir = $1/hooks
policy = $1/policy.json
integrity_dir = $1/integrity.d
integrity_profiles = $PROFILE
inventory_group = root
syslog = no
CONF
        mkdir -p "$1/integrity.d"
}
us() { date -d "$1" +%s%6N; }

# The baseline once, with the first build: every run starts from a copy.
mkdir -p "$W/base"
conf "$W/base"
"$1/cli/virtgov" --config "$W/base/vg.conf" hooks install --hooks-dir "$W/base/hooks" \
        --from "$1/hooks/virtgov-hook" >/dev/null
t0=$(date +%s%N)
"$1/cli/virtgov" --config "$W/base/vg.conf" integrity baseline --profile "$PROFILE" > "$W/base/out"
echo "virtgov-inventoryd's loop during a full '$PROFILE' check, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "baseline: $(tail -n1 "$W/base/out" | cut -d';' -f1) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
row build run "check ms" "longest ms" "ticks >100" "define->rec ms" "disconnects"

n=0
for B in "$@"; do
        n=$((n + 1))
        for r in $(seq "$RUNS"); do
                D=$W/$n-$r
                mkdir -p "$D"
                conf "$D"
                cp -a "$W/base/hooks" "$D/"
                sqlite3 "$W/base/inv.db" ".backup '$D/inv.db'"
                VIRTGOV_LOOP_PROBE_MS=10 VIRTGOV_CONFIG=$D/vg.conf "$B/inventoryd/virtgov-inventoryd" \
                        --foreground --uri qemu:///system > "$D/log" 2>&1 &
                pid=$!
                wait_log "$D/log" "connected to"
                sleep 2
                dom=bench-$n-$r
                domain_xml "$dom" > "$D/dom.xml"
                defined=$(date +%s%6N)
                virsh define "$D/dom.xml" >/dev/null
                wait_log "$D/log" "integrity: full check of"
                wait_log "$D/log" "process(es) checked"
                sleep 1
                kill -TERM "$pid"
                wait "$pid" 2>/dev/null || true
                virsh undefine "$dom" >/dev/null 2>&1 || true
                took=$(sed -n 's/.*integrity: full check of .* in \([0-9]*\) ms.*/\1/p' "$D/log" | head -n1)
                longest=$(sed -n 's/.*loop: longest stall \([0-9]*\) ms.*/\1/p' "$D/log")
                over=$(sed -n 's/.*loop: longest stall .*, \([0-9]*\) over 100 ms.*/\1/p' "$D/log")
                rec=$(sqlite3 "$D/inv.db" "SELECT time FROM events WHERE kind = 'domain.defined' AND domain = '$dom' ORDER BY id LIMIT 1")
                lag=-
                [ -z "$rec" ] || lag=$(( ($(us "$rec") - defined) / 1000 ))
                disc=$(sqlite3 "$D/inv.db" "SELECT count(*) FROM events WHERE kind = 'daemon.disconnected'")
                row "build $n" "$r" "${took:--}" "${longest:--}" "${over:--}" "$lag" "$disc"
        done
done
n=0
for B in "$@"; do
        n=$((n + 1))
        echo "build $n: $B"
done
stop_libvirt
