#!/bin/bash
# The daemon's fold rate with the journal copy on, against the same daemon
# with no copy (what bench/run's fold figure measures: syslog = no), side
# by side in one run: rounds take turns, each a fresh inventory folding a
# burst of N spooled hook events (bench/ingest --write-spool); the journal
# round ends only when the copy has sent the last event too
# (journal_cursor = max(id)). Each rate is the median of its rounds; the
# ratio is journal / none (issue 30's goal: at least 0.9). Also printed:
# the rate until the last event is in the journal too, and the daemon's
# CPU time for the burst: the copy runs after each fold, so the fold
# itself is barely slowed, while journald's own rate (each entry is ~15
# fields of ours and ~20 of its own to index) bounds the copy.
#
#   bench/journal.sh [BUILD] [N] [ROUNDS]     (root; default build-bench 5000 5)
#
# journald is a real one, private to this run: in a mount and PID
# namespace with fresh tmpfs mounts on /run/systemd, /run/log and
# /etc/systemd, volatile storage. The daemon is in no unit's cgroup, so
# journald applies no rate limit to it (test-journal.sh shows the unit's).
# journald shares the CPUs with the daemon, as on a host.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-build-bench}" && pwd)
N=${2:-5000}
ROUNDS=${3:-5}
if [ "${VG_BENCH_NS:-}" != 1 ]; then
        [ "$(id -u)" = 0 ] || { echo "bench/journal.sh: needs root (a private journald)" >&2; exit 1; }
        VG_BENCH_NS=1 exec unshare --mount --net --pid --fork --mount-proc --propagation private "$0" "$B" "$N" "$ROUNDS"
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-jbench.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
# As on a systemd host (systemd's sysctl.d/50-default.conf): the kernel's
# default lets 10 datagrams wait on a socket, and the daemon would wait on
# journald every ten events. Per network namespace: this one's.
sysctl -qw net.unix.max_dgram_qlen=512
for d in /run/systemd /run/log /etc/systemd; do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=1G\nReadKMsg=no\nForwardToSyslog=no\n' > /etc/systemd/journald.conf
/lib/systemd/systemd-journald > "$W/journald.log" 2>&1 &
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; exit 1; }

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # user + system, in ticks

# round MODE: one burst of N events folded with log = MODE. Prints three
# figures: events/s folded (from the move into the spool until the spool
# is empty: bench/run's figure), events/s until the copy sent the last
# one too (journal; for none the same), and the daemon's CPU time for the
# burst in ms.
round() {
        local mode=$1 d t0 t1 t2 c0 c1 pid
        d=$(mktemp -d "$W/$mode.XXXX")
        mkdir -p "$d/stage"
        printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nlog = %s\netc_dir = /etc\naudit = no\nassess_interval_s = 0\n' \
                "$d" "$d" "$mode" > "$d/vg.conf"
        VIRTGOV_CONFIG=$d/vg.conf "$B/inventoryd/virtgov-inventoryd" --foreground --uri test:///default \
                > "$d/log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do grep -q "connected to" "$d/log" && break; sleep 0.1; done
        # Its own start-up events copied first: the round times the burst.
        sleep 1
        "$B/bench/ingest" --write-spool "$d/stage" "$N"
        c0=$(cpu "$pid")
        t0=$(date +%s%N)
        mv "$d/stage/journal" "$d/spool/journal"
        while [ -n "$(find "$d/spool" -maxdepth 1 \( -name journal -o -name 'folding.*' -o -name '*.json' \) -print -quit)" ]
        do sleep 0.01; done
        t1=$(date +%s%N)
        t2=$t1
        if [ "$mode" = journal ]; then
                until [ "$(sqlite3 "$d/inv.db" "select (select value from meta where key = 'journal_cursor') = (select max(id) from events)")" = 1 ]
                do sleep 0.01; done
                t2=$(date +%s%N)
        fi
        c1=$(cpu "$pid")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        rm -rf "$d"
        echo "$(( N * 1000000000 / (t1 - t0) )) $(( N * 1000000000 / (t2 - t0) )) $(( (c1 - c0) * 1000 / $(getconf CLK_TCK) ))"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$1" '{ print $c }' | median; }
: > "$W/none" && : > "$W/journal"
for r in $(seq "$ROUNDS"); do
        round none >> "$W/none"
        round journal >> "$W/journal"
done
fn=$(col 1 < "$W/none") fj=$(col 1 < "$W/journal") ej=$(col 2 < "$W/journal")
cn=$(col 3 < "$W/none") cj=$(col 3 < "$W/journal")
n_j=$(journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=virtgov VIRTGOV_KIND=domain.started 2>/dev/null | wc -l)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '%-48s %10s %10s %8s\n' "$@"; }
row "daemon fold, $N events, $ROUNDS rounds each" "journal" "none" "ratio"
row "  folded (events/s; goal: ratio >= 0.90)" "$fj" "$fn" "$(ratio "$fj" "$fn")"
row "  folded and in the journal (events/s)" "$ej" "$fn" "$(ratio "$ej" "$fn")"
row "  the daemon's CPU for the burst (ms)" "$cj" "$cn" "$(ratio "$cj" "$cn")"
row "  entries in the journal / sent" "$n_j" "$((N * ROUNDS))" ""
echo "rounds (folded/s, copied/s, cpu ms): none: $(tr '\n' ';' < "$W/none") journal: $(tr '\n' ';' < "$W/journal")"
