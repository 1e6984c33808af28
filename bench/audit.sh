#!/bin/bash
# virtgov-inventoryd under the audit stream (issue 20's goal): 10,000
# audit records a second for 10 s, PAM session records as sshd's PAM
# stack sends them (audit_log_acct_message), each an access.login event.
# Printed: records sent, events recorded, what the kernel dropped (its lost
# counter), what the daemon missed; how far behind the kernel's timestamp
# each event was recorded (p50, p99, max); the daemon's RSS before, its
# peak, and its growth. Goals: none missed, none behind by more than a
# second, RSS growth under 4 MiB. Nothing is asserted.
#
#   bench/audit.sh [--rate N] [--seconds S]
#
# Root, on a kernel with audit. The kernel's audit flag and backlog limit
# are global: both are put back on exit. The daemon runs from a scratch
# config and inventory, against libvirt's test driver (no libvirtd), in a
# private mount namespace whose /run and /var/lib/virtgov are its own; it
# runs in the initial network and PID namespaces, where the audit stream
# is (see tests/integration/test-audit.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=10000 SECONDS_=10
while [ $# -gt 0 ]; do
        case $1 in
        --rate) RATE=$2; shift 2 ;;
        --seconds) SECONDS_=$2; shift 2 ;;
        *) echo "usage: bench/audit.sh [--rate N] [--seconds S]" >&2; exit 2 ;;
        esac
done
[ "$(id -u)" = 0 ] || { echo "bench/audit.sh: needs root" >&2; exit 1; }
[ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
meson compile -C build-bench >/dev/null
B=$PWD/build-bench
CTL=$B/tests/audit-ctl

if [ "${VG_BENCH_INNER:-}" != 1 ]; then
        SCRATCH=$(mktemp -d /tmp/virtgov-bench-audit.XXXXXX)
        rc=0
        VG_BENCH_INNER=1 SCRATCH=$SCRATCH unshare --mount --fork --propagation private "$0" "$@" || rc=$?
        rm -rf "$SCRATCH"
        exit "$rc"
fi

mount -t tmpfs tmpfs /run
mkdir -p /run/lock "$SCRATCH/spool"
WAS=$("$CTL" status)
BACKLOG=$("$CTL" backlog 65536)
DPID=
cleanup() {
        [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
        "$CTL" backlog "$BACKLOG" >/dev/null || true
        "$CTL" enable "$WAS" || true
}
trap cleanup EXIT
"$CTL" enable 1
cat > "$SCRATCH/virtgov.conf" <<CONF
inventory = $SCRATCH/inventory.db
spool_dir = $SCRATCH/spool
uris = test:///default
syslog = no
CONF
export VIRTGOV_CONFIG=$SCRATCH/virtgov.conf
"$B/inventoryd/virtgov-inventoryd" --foreground > "$SCRATCH/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do
        [ "$(sqlite3 "$SCRATCH/inventory.db" "SELECT count(*) FROM events WHERE kind = 'daemon.connected'" 2>/dev/null)" = 1 ] && break
        sleep 0.1
done
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }   # user + system, in clock ticks
# A first second at the rate: SQLite's cache and the queue reach their
# working size; the growth measured is what the next ten seconds add.
"$CTL" flood "$RATE" 1 >/dev/null
sleep 2
rss0=$(rss) peak=$rss0
lost0=$("$CTL" lost)
start=$(sqlite3 "$SCRATCH/inventory.db" "SELECT max(id) FROM events")
cpu0=$(cpu) t0=$(date +%s.%N)
"$CTL" flood "$RATE" "$SECONDS_" > "$SCRATCH/sent" &
FPID=$!
while kill -0 "$FPID" 2>/dev/null; do
        r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
        sleep 0.2
done
wait "$FPID"
sent=$(cat "$SCRATCH/sent")
q="SELECT count(*) FROM events WHERE id > $start AND kind = 'access.login' AND json_extract(data, '$.user') LIKE 'bench%'"
# Until all are in, or none came for 2 s (late ones count as late, not
# missed: the lag says by how much).
got=0 still=0
for _ in $(seq 600); do
        n=$(sqlite3 "$SCRATCH/inventory.db" "$q")
        [ "$n" = "$got" ] && still=$((still + 1)) || still=0
        got=$n
        [ "$got" -ge "$sent" ] || [ "$still" -ge 20 ] && break
        r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
        sleep 0.1
done
r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
cpu1=$(cpu) t1=$(date +%s.%N)
lost=$(( $("$CTL" lost) - lost0 ))
# Behind: the event's recording time against the kernel's timestamp of
# its record (data.actor.audit = "sec.ms:serial"), in ms.
sqlite3 "$SCRATCH/inventory.db" "SELECT (julianday(time) - 2440587.5) * 86400000.0
        - CAST(substr(json_extract(data, '$.actor.audit'), 1, instr(json_extract(data, '$.actor.audit'), ':') - 1) AS REAL) * 1000
        FROM events WHERE id > $start AND kind = 'access.login' AND json_extract(data, '$.user') LIKE 'bench%'" |
        sort -n > "$SCRATCH/lag"
pct() { awk -v p="$1" '{ a[NR] = $1 } END { if (NR) { i = int(NR * p); if (i < 1) i = 1; printf "%.0f", a[i] } else print "-" }' "$SCRATCH/lag"; }
over=$(awk '$1 > 1000' "$SCRATCH/lag" | wc -l)
printf 'audit records sent:       %d (%d/s for %d s)\n' "$sent" "$RATE" "$SECONDS_"
printf 'access events recorded:   %d\n' "$got"
printf 'missed by the daemon:     %d\n' "$((sent - got))"
printf 'dropped by the kernel:    %d (its lost counter)\n' "$lost"
printf 'behind the kernel, ms:    p50 %s  p99 %s  max %s  (over 1 s: %d)\n' "$(pct 0.5)" "$(pct 0.99)" "$(pct 1)" "$over"
printf 'daemon CPU:               %.1f s over %.1f s\n' "$(echo "($cpu1 - $cpu0) / $(getconf CLK_TCK)" | bc -l)" "$(echo "$t1 - $t0" | bc -l)"
printf 'daemon RSS, KiB:          before %d  peak %d  growth %d (goal: under 4096)\n' "$rss0" "$peak" "$((peak - rss0))"
printf 'audit.lost events:        %s\n' "$(sqlite3 "$SCRATCH/inventory.db" "SELECT count(*) || ': ' || ifnull(group_concat(reason, '; '), '') FROM events WHERE kind = 'audit.lost' AND id > $start")"
printf 'socket receive buffer:    %s bytes (net.core.rmem_max %s)\n' "$(awk 'NR > 1 && $3 == 9 { print $6 }' /proc/net/netlink | head -1)" "$(cat /proc/sys/net/core/rmem_max)"
