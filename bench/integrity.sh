#!/bin/bash
# virtgov's integrity baseline and check against AIDE and against the
# hashing they both must do, side by side in one run (issue 17's goals).
#
#   bench/integrity.sh [--large] [--runs N] [--checks N]
#
# The same paths for all three: /usr/bin, /usr/sbin,
# /usr/lib/x86_64-linux-gnu and /etc (--large: all of /usr/lib). AIDE
# (Debian's package, installed if missing) runs from an aide.conf of the
# bench's own, its database in the scratch dir: the host's AIDE config and
# database are never read or written. virtgov runs from a config of its
# own too (a scratch inventory, a 'bench' profile of those paths). With
# the page cache warm, the three take turns run by run (bench/exectime),
# N runs each (default 3), and medians are printed:
#   - aide --init, same attributes as virtgov's 'all', num_workers = cores;
#   - virtgov integrity baseline --profile bench;
#   - bench/hashfloor: the same files' bytes through nettle's SHA-256 on
#     every core, nothing else: what any baseline must at least do.
# Then 'integrity check' with nothing changed, --checks times each
# (default 10): the bench profile, and the built-in isolation profile
# (in the same inventory, beside the bench baseline, and in one of its
# own). Goals: baseline >= 6x faster than AIDE and <= 1.5x the floor;
# check < 100 ms (host) and < 20 ms (isolation). Nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3 CHECKS=10
PATHS=(/usr/bin /usr/sbin /usr/lib/x86_64-linux-gnu /etc)
while [ $# -gt 0 ]; do
        case $1 in
        --large) PATHS=(/usr/bin /usr/sbin /usr/lib /etc); shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --checks) CHECKS=$2; shift 2 ;;
        *) echo "usage: bench/integrity.sh [--large] [--runs N] [--checks N]" >&2; exit 2 ;;
        esac
done
command -v aide >/dev/null || { apt-get update -q && apt-get install -y -q aide; }
command -v jq >/dev/null || { apt-get update -q && apt-get install -y -q jq; }
AIDE=$(command -v aide)     # exectime execs without a PATH search
[ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
meson compile -C build-bench >/dev/null
B=$PWD/build-bench
VG=$B/cli/virtgov
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-bench-integrity.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
CPUS=$(nproc)

json() { jq -r "$2" <<< "$1"; }
row() { printf '%-44s %14s %14s %10s\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a/b}'; }
ms() { awk -v u="$1" 'BEGIN{printf "%.0f", u/1000}'; }

# ---- AIDE: a config of the bench's own ----
# The attributes of virtgov's 'all' as AIDE names them: file type,
# permissions, inode, link count, owner, group, size, mtime, ctime,
# symlink target, sha256, and the extended attributes (selinux is
# security.selinux, which virtgov's security.* covers). Nothing else:
# no gzip of the database and no hashes of the database itself
# (database_attrs = E), which virtgov does not do either.
mkdir -p "$W/aide"
{
        echo "database_in=file:$W/aide/aide.db"
        echo "database_out=file:$W/aide/aide.db.new"
        echo "gzip_dbout=no"
        echo "database_attrs=E"
        echo "report_url=file:$W/aide/report.log"
        echo "num_workers=$CPUS"
        echo "VG = ftype+p+i+n+u+g+s+m+c+l+sha256+xattrs+selinux"
        # Anchored: AIDE matches a rule's regex against the start of a
        # path, so a bare /usr/lib took /usr/libexec and /usr/lib32 too.
        # (These paths hold no regex metacharacters.)
        for p in "${PATHS[@]}"; do echo "$p(\$|/) VG"; done
} > "$W/aide/aide.conf"
"$AIDE" --config-check -c "$W/aide/aide.conf"

# ---- virtgov: a config, an inventory and a profile of the bench's own ----
mkdir -p "$W/vg/integrity.d"
cat > "$W/vg/vg.conf" <<CONF
inventory = $W/vg/inv.db
spool_dir = $W/vg/spool
hooks_dir = $W/vg/hooks
policy = $W/vg/policy.json
integrity_dir = $W/vg/integrity.d
inventory_group = root
syslog = no
CONF
for p in "${PATHS[@]}"; do echo "$p all"; done > "$W/vg/integrity.d/bench.profile"
export VIRTGOV_CONFIG=$W/vg/vg.conf
"$VG" hooks install --hooks-dir "$W/vg/hooks" --from "$B/hooks/virtgov-hook" >/dev/null
# A second inventory for the isolation profile alone.
"$VG" --db "$W/vg/iso.db" hooks install --hooks-dir "$W/vg/hooks-iso" --from "$B/hooks/virtgov-hook" >/dev/null

# ---- the same files for the floor; the page cache warmed ----
find "${PATHS[@]}" -type f -print0 > "$W/files" 2>/dev/null || true
# One untimed run of each reads every byte, inode and directory once.
"$B/bench/exectime" 1 "$W/files" "$B/bench/hashfloor" -- "$AIDE" --init -c "$W/aide/aide.conf" \
        -- "$VG" integrity baseline --profile bench > /dev/null
floor_run=$("$B/bench/hashfloor" < "$W/files")
base_run=$("$VG" --json integrity baseline --profile bench)
aide_entries=$(grep -c '^/' "$W/aide/aide.db.new" || true)

# ---- the baselines, taking turns ----
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t=$("$B/bench/exectime" "$RUNS" "$W/files" "$B/bench/hashfloor" -- "$AIDE" --init -c "$W/aide/aide.conf" \
        -- "$VG" integrity baseline --profile bench)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
floor=$(sed -n 1p <<< "$t")
aide=$(sed -n 2p <<< "$t")
base=$(sed -n 3p <<< "$t")
[ "$(json "$aide" .failed)" = 0 ] || echo "warning: aide --init failed in the benchmark ($W/aide/report.log)" >&2
[ "$(json "$base" .failed)" = 0 ] || echo "warning: virtgov integrity baseline failed in the benchmark" >&2

# ---- checks with nothing changed ----
# On a host the daemon holds the inventory open; without a long-lived
# connection every check would checkpoint and delete the WAL on close
# (bench/run does the same for the hook).
for db in inv iso; do
        (echo "SELECT count(*) FROM sqlite_master;"; sleep 100000) | sqlite3 "$W/vg/$db.db" >/dev/null &
done
sleep 0.3
# The bench profile first, while the inventory holds its baseline alone: a
# path in two profiles' baselines belongs to the one taken last, and the
# isolation profile's paths are within the bench profile's.
bench_check_findings=$("$VG" --json integrity check --profile bench | jq .findings)
"$VG" --json integrity baseline --profile isolation > /dev/null
iso_run=$("$VG" --db "$W/vg/iso.db" --json integrity baseline --profile isolation)
iso_check_findings=$("$VG" --json integrity check --profile isolation | jq .findings)
# With them, taking turns: a no-op C program exec'd (this machine's floor
# at the moment) and virtgov --version (virtgov's own start: its libraries
# mapped and relocated).
t=$("$B/bench/exectime" "$CHECKS" /dev/null "$VG" integrity check --profile isolation \
        -- "$VG" --db "$W/vg/iso.db" integrity check --profile isolation -- "$B/bench/noop" -- "$VG" --version)
iso=$(sed -n 1p <<< "$t")
iso_alone=$(sed -n 2p <<< "$t")
noop=$(sed -n 3p <<< "$t")
version=$(sed -n 4p <<< "$t")
# The bench baseline taken again, last: its check measured clean.
"$VG" integrity baseline --profile bench > /dev/null
hcheck=$("$B/bench/exectime" "$CHECKS" /dev/null "$VG" integrity check --profile bench)
load2=$(cut -d' ' -f1-3 /proc/loadavg)

files=$(json "$floor_run" .files)
bytes=$(json "$floor_run" .bytes)
echo "virtgov integrity benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $CPUS CPUs, load average $load0 / $load1 / $load2"
echo "paths: ${PATHS[*]}"
echo "$files files ($(awk -v b="$bytes" 'BEGIN{printf "%.2f GB", b/1e9}')); entries: virtgov $(json "$base_run" .files)," \
        "AIDE $aide_entries; $RUNS runs each, taking turns, page cache warm"
echo
row "measure" "virtgov" "reference" "ratio"
row "baseline vs aide --init, median (ms)" "$(ms "$(json "$base" .median_us)")" "$(ms "$(json "$aide" .median_us)")" \
        "$(ratio "$(json "$aide" .median_us)" "$(json "$base" .median_us)")"
row "  goal: at least 6x faster than AIDE" "" "" ">= 6.00x"
row "  CPU, user + system, median (ms)" "$(ms "$(json "$base" .cpu_median_us)")" \
        "$(ms "$(json "$aide" .cpu_median_us)")" \
        "$(ratio "$(json "$aide" .cpu_median_us)" "$(json "$base" .cpu_median_us)")"
row "  peak RSS (KiB)" "$(json "$base" .max_rss_kib)" "$(json "$aide" .max_rss_kib)" ""
row "baseline vs hashing floor, median (ms)" "$(ms "$(json "$base" .median_us)")" \
        "$(ms "$(json "$floor" .median_us)")" "$(ratio "$(json "$base" .median_us)" "$(json "$floor" .median_us)")"
row "  goal: within 1.5x of the floor (ms)" "" "$(ms "$(awk -v f="$(json "$floor" .median_us)" 'BEGIN{print 1.5*f}')") limit" "<= 1.50x"
row "  CPU, user + system, median (ms)" "$(ms "$(json "$base" .cpu_median_us)")" "$(ms "$(json "$floor" .cpu_median_us)")" \
        "$(ratio "$(json "$base" .cpu_median_us)" "$(json "$floor" .cpu_median_us)")"
row "  floor: SHA-256 of the files, $CPUS threads" "" "" ""
# Both goals together need AIDE at least 6 x 1.5 = 9x slower than the floor.
row "  at best (the floor vs aide --init)" "" "" \
        "$(ratio "$(json "$aide" .median_us)" "$(json "$floor" .median_us)")"
# Steadier than wall time on a shared machine: 4.17x to 4.25x in three
# runs whose wall ratios went from 3.00x to 4.59x.
row "    in CPU, user + system" "" "" \
        "$(ratio "$(json "$aide" .cpu_median_us)" "$(json "$floor" .cpu_median_us)")"
row "  floor's rate (MB/s)" "" "$(awk -v b="$bytes" -v u="$(json "$floor" .median_us)" 'BEGIN{printf "%.0f", b/u}')" ""
row "check, nothing changed, host paths (us)" "$(json "$hcheck" .median_us)" "100000 goal" ""
row "  p90 (us); CPU median (us)" "$(json "$hcheck" .p90_us)" "$(json "$hcheck" .cpu_median_us)" ""
row "  findings of a check right after baseline" "$bench_check_findings" "0 expected" ""
row "check, nothing changed, isolation (us)" "$(json "$iso" .median_us)" "20000 goal" ""
row "  p90 (us); CPU median (us)" "$(json "$iso" .p90_us)" "$(json "$iso" .cpu_median_us)" ""
row "  its files; findings" "$(json "$iso_run" .files)" "$iso_check_findings" ""
row "  alone in an inventory, median (us)" "$(json "$iso_alone" .median_us)" "20000 goal" ""
row "  alone: p90 (us); CPU median (us)" "$(json "$iso_alone" .p90_us)" "$(json "$iso_alone" .cpu_median_us)" ""
row "reference: no-op C exec, median (us)" "" "$(json "$noop" .median_us)" ""
row "reference: virtgov --version, median (us)" "$(json "$version" .median_us)" "" ""
