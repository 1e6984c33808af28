#!/bin/bash
# What runs against its baseline: 'virtgov integrity processes' over N
# running QEMU processes (default 20), as issue 18's goal states it
# (checking 20 guests' QEMU processes and their mappings under 200 ms,
# unchanged files not read again).
#
#   bench/procs.sh [--guests N] [--runs N]
#
# The guests are real QEMU processes (qemu-system-x86_64 -machine none -S,
# each with its pid file in a run directory of the bench's own, named as
# libvirt names them), so each maps what a guest's QEMU maps: the binary,
# its ~100 libraries, the TCG accelerator module. A scratch inventory holds
# the isolation profile's baseline. Taking turns (bench/exectime), medians:
#   - integrity processes: a file whose stat is its baseline row's is not
#     read (the check the daemon and the CLI run);
#   - integrity processes --full: every mapped file read through /proc
#     (each once, however many processes map it);
# and the files each read. Nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
GUESTS=20 RUNS=20
while [ $# -gt 0 ]; do
        case $1 in
        --guests) GUESTS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        *) echo "usage: bench/procs.sh [--guests N] [--runs N]" >&2; exit 2 ;;
        esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/procs.sh: run as root (reading other processes' maps)" >&2; exit 1; }
command -v jq >/dev/null || { apt-get update -q && apt-get install -y -q jq; }
[ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
meson compile -C build-bench >/dev/null
B=$PWD/build-bench
VG=$B/cli/virtgov
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-bench-procs.XXXXXX")
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

mkdir -p "$W/run" "$W/integrity.d"
cat > "$W/vg.conf" <<CONF
inventory = $W/inv.db
spool_dir = $W/spool
hooks_dir = $W/hooks
qemu_run_dir = $W/run
integrity_dir = $W/integrity.d
integrity_profiles = isolation
inventory_group = root
syslog = no
CONF
export VIRTGOV_CONFIG=$W/vg.conf
"$VG" hooks install --from "$B/hooks/virtgov-hook" >/dev/null
for i in $(seq "$GUESTS"); do
        qemu-system-x86_64 -name "guest=bench-$i,debug-threads=on" -machine none -S -nographic -nodefaults \
                -monitor none -serial none >/dev/null 2>&1 &
        PIDS+=($!)
        echo "$!" > "$W/run/bench-$i.pid"
done
sleep 1
"$VG" integrity baseline >/dev/null
first=$("$VG" --json integrity processes)
n=$(jq '[.rows[] | select(.category == "processes" and .profile == "qemu")] | length' <<< "$first")
[ "$n" = "$GUESTS" ] || { echo "bench/procs.sh: $n of $GUESTS guests found" >&2; exit 1; }
full=$("$VG" --json integrity processes --full)

row() { printf '%-52s %12s %12s %10s\n' "$@"; }
ms() { awk -v u="$1" 'BEGIN{printf "%.1f", u/1000}'; }
t=$("$B/bench/exectime" "$RUNS" /dev/null "$VG" --json integrity processes -- "$VG" --json integrity processes --full)
plain=$(sed -n 1p <<< "$t") all=$(sed -n 2p <<< "$t")
echo
echo "== integrity processes: $GUESTS QEMU guests (plus what libvirt daemons run here), $RUNS runs each"
row "" "median ms" "p90 ms" "files read"
row "integrity processes" "$(ms "$(jq .median_us <<< "$plain")")" "$(ms "$(jq .p90_us <<< "$plain")")" \
        "$(jq .hashed <<< "$first")"
row "integrity processes --full" "$(ms "$(jq .median_us <<< "$all")")" "$(ms "$(jq .p90_us <<< "$all")")" \
        "$(jq .hashed <<< "$full")"
echo "mappings taken from the baseline unread: $(jq .cached <<< "$first"); statuses:" \
        "$(jq -c '[.rows[] | select(.category == "processes") | .status] | group_by(.) | map({(.[0]): length}) | add' <<< "$first")"
echo "goal: under 200 ms for 20 guests, unchanged files not read again"
