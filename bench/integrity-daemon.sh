#!/bin/bash
# The daemon's memory for integrity monitoring (issue 17: at most +4 MiB
# over the daemon without it), side by side in one run:
#
#   bench/integrity-daemon.sh [BUILD_DIR...]
#
# For each build (default build-bench, made as bench/run makes it), three
# daemons on the libvirt test driver, each with an inventory and config
# of the bench's own: integrity off (integrity_profiles empty); the
# isolation profile with its baseline, at rest after its first check;
# and the same after a check that found drift (a file added to its
# watched integrity_dir, which classifies it against dpkg's database:
# status, diversions, every .list and .md5sums, the log). Prints each
# one's peak RSS (VmHWM) and RSS after, in KiB. Nothing under / is
# changed; nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
        [ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
        meson compile -C build-bench >/dev/null
        set -- "$PWD/build-bench"
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-bench-idaemon.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
row() { printf '%-44s %12s %12s %12s\n' "$@"; }
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
# Waits for the daemon's log to hold $2 (a grep pattern) $3 times.
wait_log() { for _ in $(seq 300); do [ "$(grep -c "$2" "$1" || true)" -ge "$3" ] && return 0; sleep 0.1; done
             echo "timed out waiting for '$2' in $1" >&2; return 1; }

# One daemon: $1 build, $2 scratch dir, $3 profiles ("" for none: "," in
# the config, as an empty value is an error), $4 drift or not.
run() {
        local B=$1 D=$2 profiles=$3 drift=$4
        mkdir -p "$D/integrity.d"
        cat > "$D/vg.conf" <<CONF
inventory = $D/inv.db
spool_dir = $D/spool
hooks_dir = $D/hooks
policy = $D/policy.json
integrity_dir = $D/integrity.d
integrity_profiles = ${profiles:-,}
inventory_group = root
syslog = no
CONF
        "$B/cli/virtgov" --config "$D/vg.conf" hooks install --hooks-dir "$D/hooks" --from "$B/hooks/virtgov-hook" >/dev/null
        [ -z "$profiles" ] || "$B/cli/virtgov" --config "$D/vg.conf" integrity baseline >/dev/null
        VIRTGOV_CONFIG=$D/vg.conf "$B/inventoryd/virtgov-inventoryd" --foreground --uri test:///default \
                > "$D/log" 2>&1 &
        local pid=$!
        wait_log "$D/log" "connected to" 1
        if [ -n "$profiles" ]; then
                wait_log "$D/log" "integrity: .*check of" 1
        else
                sleep 1
        fi
        if [ "$drift" = drift ]; then
                echo "# planted" > "$D/integrity.d/planted.profile"
                wait_log "$D/log" "integrity: .*check of" 2
        fi
        sleep 0.5
        echo "$(kib $pid VmHWM) $(kib $pid VmRSS) $(grep -c 'finding(s)' "$D/log" || true)"
        kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "virtgov-inventoryd memory for integrity, $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
row "daemon (KiB)" "peak RSS" "RSS after" "vs off, peak"
i=0
for B in "$@"; do
        off=$(run "$B" "$W/$i-off" "" no)
        rest=$(run "$B" "$W/$i-rest" isolation no)
        drift=$(run "$B" "$W/$i-drift" isolation drift)
        echo "$B"
        o=${off%% *}
        for k in off rest drift; do
                v=${!k}; set -- $v
                row "  integrity $k" "$1" "$2" "$(awk -v a="$1" -v b="$o" 'BEGIN{printf "%+.1f MiB", (a-b)/1024}')"
        done
        i=$((i + 1))
done
