#!/bin/bash
# The full check of the built-in isolation profile (what the daemon runs at
# every start and every integrity_full_interval_s) against the hashing it
# must do, side by side in one run (issue 29, item 5).
#
#   bench/isolation-full.sh [--runs N]
#
# An inventory of the bench's own (a scratch config, the host's files read,
# never written) takes the isolation baseline; the files it hashed, and
# only those, are the floors' list (largest first, as fscan reads them).
# With the page cache warm, these take turns N times each (default 15,
# bench/exectime), and medians are printed:
#   - bench/hashfloor --no-read: those files' bytes through nettle's
#     SHA-256 on every core, hashed from memory, no I/O: what this CPU
#     needs for them (the floor the goal is set against);
#   - bench/hashfloor: the same, read with read() (the page cache copied);
#   - virtgov integrity check --profile isolation --full: profiles
#     loaded (globs, ELF dependencies, kernel modules), walked, every file
#     hashed, compared with the baseline, recorded;
#   - the same check without --full (stat only: what it costs beside the
#     hashing), and virtgov --version (virtgov's own start).
# Goal: the full check within 1.5x of the --no-read floor. The machine is
# shared: compare the ratios of one run, not figures across runs. Nothing
# is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=15
while [ $# -gt 0 ]; do
        case $1 in
        --runs) RUNS=$2; shift 2 ;;
        *) echo "usage: bench/isolation-full.sh [--runs N]" >&2; exit 2 ;;
        esac
done
command -v jq >/dev/null || { apt-get update -q && apt-get install -y -q jq; }
command -v sqlite3 >/dev/null || { apt-get update -q && apt-get install -y -q sqlite3; }
[ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
meson compile -C build-bench >/dev/null
B=$PWD/build-bench
VG=$B/cli/virtgov
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-bench-isolation.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
CPUS=$(nproc)

json() { jq -r "$2" <<< "$1"; }
row() { printf '%-46s %10s %10s %10s\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a/b}'; }
ms() { awk -v u="$1" 'BEGIN{printf "%.1f", u/1000}'; }

mkdir -p "$W/integrity.d"
cat > "$W/vg.conf" <<CONF
inventory = $W/inv.db
spool_dir = $W/spool
hooks_dir = $W/hooks
policy = $W/policy.json
integrity_dir = $W/integrity.d
inventory_group = root
syslog = no
CONF
export VIRTGOV_CONFIG=$W/vg.conf
"$VG" hooks install --hooks-dir "$W/hooks" --from "$B/hooks/virtgov-hook" >/dev/null
base=$("$VG" --json integrity baseline --profile isolation)
# The files the baseline hashed, largest first. (One a line: no path the
# isolation profile names holds a newline.)
sqlite3 "$W/inv.db" "SELECT path FROM integrity_files WHERE profile = 'isolation' AND type = 'f'
        AND sha256 <> '' ORDER BY size DESC" | tr '\n' '\0' > "$W/files"
# On a host the daemon holds the inventory open; without a long-lived
# connection every check would checkpoint and delete the WAL on close.
(echo "SELECT count(*) FROM sqlite_master;"; sleep 100000) | sqlite3 "$W/inv.db" >/dev/null &
sleep 0.3
full_findings=$("$VG" --json integrity check --profile isolation --full | jq .findings)
# One untimed round reads every byte, inode and directory once.
"$B/bench/exectime" 1 "$W/files" "$B/bench/hashfloor" -- "$VG" integrity check --profile isolation --full > /dev/null
floor_run=$("$B/bench/hashfloor" --no-read < "$W/files")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t=$("$B/bench/exectime" "$RUNS" "$W/files" "$B/bench/hashfloor" --no-read -- "$B/bench/hashfloor" \
        -- "$VG" integrity check --profile isolation --full -- "$VG" integrity check --profile isolation \
        -- "$VG" --version)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
compute=$(sed -n 1p <<< "$t")
readf=$(sed -n 2p <<< "$t")
full=$(sed -n 3p <<< "$t")
quick=$(sed -n 4p <<< "$t")
version=$(sed -n 5p <<< "$t")
[ "$(json "$full" .failed)" = 0 ] || echo "warning: virtgov integrity check --full failed in the benchmark" >&2

bytes=$(json "$floor_run" .bytes)
echo "virtgov isolation full check, $(date -u +%Y-%m-%dT%H:%M:%SZ), $CPUS CPUs, load average $load0 / $load1"
echo "$(json "$base" .files) entries, $(json "$floor_run" .files) files hashed" \
        "($(awk -v b="$bytes" 'BEGIN{printf "%.1f MiB", b/1048576}')); $RUNS runs each, taking turns, page cache warm"
echo
row "measure, median" "wall (ms)" "CPU (ms)" "vs floor"
fl=$(json "$compute" .median_us)
for x in "floor: SHA-256 from memory, $CPUS threads|$compute" "floor: SHA-256 read(), $CPUS threads|$readf" \
        "integrity check --full|$full" "integrity check (stat only)|$quick" "virtgov --version|$version"; do
        name=${x%%|*} j=${x#*|}
        row "$name" "$(ms "$(json "$j" .median_us)")" "$(ms "$(json "$j" .cpu_median_us)")" \
                "$(ratio "$(json "$j" .median_us)" "$fl")"
done
row "  goal: check --full within 1.5x of the floor" "$(ms "$(awk -v f="$fl" 'BEGIN{print 1.5*f}')")" "" "<= 1.50x"
row "  check --full: p10 / p90 (ms)" "$(ms "$(json "$full" .p10_us)")" "$(ms "$(json "$full" .p90_us)")" ""
row "  check --full vs the read() floor" "" "" \
        "$(ratio "$(json "$full" .median_us)" "$(json "$readf" .median_us)")"
row "  floor's rate, MB/s a thread" "" "" \
        "$(awk -v b="$bytes" -v u="$(json "$compute" .cpu_median_us)" 'BEGIN{printf "%.0f", b/u}')"
row "  findings of the first full check" "$full_findings" "" ""
