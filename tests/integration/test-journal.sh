#!/bin/bash
# The journal copy against a real systemd-journald, started in the sandbox
# (no systemd as PID 1: a fresh tmpfs on /run, volatile storage in
# /run/log/journal): what a new user tries (systemd-cat, journalctl -o
# json), every event kind with its fields and its `journalctl -x` text
# (contrib/virtgov.catalog), and a burst of 10,000 events all there under
# the rate limit the shipped unit sets, beside a control that shows the
# limit biting without it.
#
# The rate limit: journald limits per unit (read from the client's cgroup)
# and per priority. A unit's LogRateLimitIntervalSec/Burst reach journald
# only as the symlinks systemd (PID 1) writes in /run/systemd/units/. With
# no PID 1 here, the test does what PID 1 does for the shipped unit file:
# runs the daemon in a cgroup named after the unit and writes those
# symlinks from the values in contrib/virtgov-inventoryd.service (as PID 1
# does: only when set and not 0). journald itself is tightened to 1,000
# messages per 30 s, so that a unit without its own limit loses part of
# the burst (the control). The cgroups are made under a slice of their own
# and removed at the end.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
SRC=$(cd "$(dirname "$0")/../.." && pwd)
J=/run/log/journal
VG_CGROUPS=()
PIDS=()

cleanup() {
        local p c
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
        for ((c = ${#VG_CGROUPS[@]} - 1; c >= 0; c--)); do rmdir "${VG_CGROUPS[c]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# The cgroup2 hierarchy journald reads units from (unified or hybrid).
CG=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
        if [ "$(stat -fc %T "$d" 2>/dev/null)" = cgroup2fs ]; then CG=$d; break; fi
done
if [ -z "$CG" ]; then
        echo "no cgroup2 hierarchy: journald's per-unit rate limit cannot be shown" >&2
        exit 77
fi
SLICE=$CG/virtgovtest$$.slice
mkdir "$SLICE"
VG_CGROUPS+=("$SLICE")

# in_unit UNIT COMMAND...: runs COMMAND in the background in UNIT's cgroup;
# its pid is in $!.
in_unit() {
        local unit=$1
        shift
        mkdir -p "$SLICE/$unit"
        VG_CGROUPS+=("$SLICE/$unit")
        sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$SLICE/$unit" "$@" &
        PIDS+=("$!")
}

# export_unit_limits UNIT FILE: what PID 1 writes for FILE's
# LogRateLimitIntervalSec= and LogRateLimitBurst= (src/core/unit.c:
# unit_export_log_rate_limit_*, symlinks whose target is the value; the
# interval in microseconds; nothing for a value unset or 0).
export_unit_limits() {
        local unit=$1 file=$2 iv burst usec
        iv=$(sed -n 's/^LogRateLimitIntervalSec=//p' "$file" | tail -n 1)
        burst=$(sed -n 's/^LogRateLimitBurst=//p' "$file" | tail -n 1)
        mkdir -p /run/systemd/units
        if [ -n "$iv" ]; then
                usec=$(systemd-analyze timespan "$iv" | awk '$1 == "μs:" { print $2 }')
                if [ "${usec:-0}" != 0 ]; then ln -sfn "$usec" "/run/systemd/units/log-rate-limit-interval:$unit"; fi
        fi
        if [ -n "$burst" ] && [ "$burst" != 0 ]; then
                ln -sfn "$burst" "/run/systemd/units/log-rate-limit-burst:$unit"
        fi
}

# jq -s over the journal's virtgov entries as JSON.
jentries() { journalctl -D "$J" -o json --no-pager SYSLOG_IDENTIFIER=virtgov "$@" 2>/dev/null; }

# wait_cursor DB [N [SECONDS]]: until inventory DB holds N domain.started
# events from libvirt (the burst, folded) and the journal copy has sent its
# newest event (journal_cursor = max(id)).
wait_cursor() {
        local db=$1 n=${2:-0} secs=${3:-60} i
        for i in $(seq $((secs * 10))); do
                if [ "$(sqlite3 "$db" "select (select count(*) from events where kind = 'domain.started' and source = 'libvirt') >= $n and (select value from meta where key = 'journal_cursor') = (select max(id) from events)" 2>/dev/null)" = 1 ]
                then return 0; fi
                sleep 0.1
        done
        return 1
}

# wait_sql DB SQL [SECONDS]: until SQL over DB yields 1.
wait_sql() {
        local i
        for i in $(seq $((${3:-60} * 10))); do
                [ "$(sqlite3 "$1" "$2" 2>/dev/null)" = 1 ] && return 0
                sleep 0.1
        done
        return 1
}

say "journald runs in the sandbox, as a new user would try it"
rm -rf /etc/systemd/journald.conf.d
mkdir -p /etc/systemd
cat > /etc/systemd/journald.conf <<'CONF'
[Journal]
Storage=volatile
RuntimeMaxUse=512M
RuntimeMaxFileSize=64M
ReadKMsg=no
ForwardToSyslog=no
ForwardToWall=no
RateLimitIntervalSec=30s
RateLimitBurst=1000
CONF
/lib/systemd/systemd-journald > "$VG_SCRATCH/journald.log" 2>&1 &
JOURNALD=$!
PIDS+=("$JOURNALD")
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
check "journald listens at /run/systemd/journal/socket" test -S /run/systemd/journal/socket
echo "hello from a new user" | systemd-cat -t vg-newuser -p warning
sleep 0.3
check "systemd-cat's line is read back by journalctl -o json" \
        test "$(journalctl -D "$J" -o json -t vg-newuser --no-pager | jq -r '.MESSAGE + " " + .PRIORITY')" \
        = "hello from a new user 4"

say "the catalog, as the package installs it"
overlay /usr/lib/systemd/catalog
cp "$SRC/contrib/virtgov.catalog" /usr/lib/systemd/catalog/
check "journalctl --update-catalog takes it" quiet journalctl --update-catalog
check "journalctl --list-catalog lists virtgov's kinds" \
        sh -c 'journalctl --list-catalog 2>/dev/null | grep -q "virtgov policy.violation:"'

say "the daemon, in its unit's cgroup with the unit's limits, copies to the journal by default"
mkdir -p /etc/virtgov
DB=/var/lib/virtgov/inventory.db
SPOOL=/var/lib/virtgov/spool
# 'log' unset: auto, the journal where journald runs.
printf 'inventory = %s\nspool_dir = %s\n' "$DB" "$SPOOL" > /etc/virtgov/virtgov.conf
export VIRTGOV_CONFIG=/etc/virtgov/virtgov.conf
mkdir -p -m 0700 "$SPOOL"
export_unit_limits virtgov-inventoryd.service "$SRC/contrib/virtgov-inventoryd.service"
check "the shipped unit's limits are exported as PID 1 would (interval and burst set)" \
        test -L /run/systemd/units/log-rate-limit-interval:virtgov-inventoryd.service -a \
        -L /run/systemd/units/log-rate-limit-burst:virtgov-inventoryd.service
in_unit virtgov-inventoryd.service "$VG_DAEMON" --foreground --uri test:///default \
        >> "$VG_SCRATCH/daemon.log" 2>&1
DAEMON=$!
wait_for "the daemon started and connected" '[.[] | select(.kind == "daemon.connected")] | length > 0' 20
check "it says where the copies go" grep -q "events copied to the journal$" "$VG_SCRATCH/daemon.log"

say "every kind reaches the journal with its MESSAGE_ID, priority and fields"
mkdir -p "$VG_SCRATCH/stage"
"$VG_SPOOL_EVENTS" "$VG_SCRATCH/stage" --each-kind > "$VG_SCRATCH/kinds.txt"
nkinds=$(wc -l < "$VG_SCRATCH/kinds.txt")
mv "$VG_SCRATCH/stage/journal" "$SPOOL/journal"
# (first the fold: before it, the cursor is at the newest event already)
check "the daemon folded the spooled event of every kind" \
        wait_sql "$DB" "select count(*) >= $nkinds from events where domain like 'vg-j-%'" 60
check "the copy reached the newest event" wait_cursor "$DB" 0 30
jentries > "$VG_SCRATCH/all.json"
jq -s '[.[] | select((.VIRTGOV_DOMAIN // "") | startswith("vg-j-"))]' "$VG_SCRATCH/all.json" > "$VG_SCRATCH/kinds.json"
check "one entry per kind ($nkinds kinds)" test "$(jq length "$VG_SCRATCH/kinds.json")" = "$nkinds"
# (--slurpfile wraps the array once more)
bad=$(jq -r -n --rawfile k "$VG_SCRATCH/kinds.txt" --slurpfile all "$VG_SCRATCH/kinds.json" '
        ($k | split("\n") | map(select(length > 0) | split(" ") | {(.[0]): .[1]}) | add) as $ids
        | [ $ids | to_entries[] | . as $e
            | select([ $all[0][] | select(.VIRTGOV_KIND == $e.key and .MESSAGE_ID == $e.value) ] | length != 1)
            | .key ] | join(" ")')
check "each kind's entry carries its MESSAGE_ID from the table (wrong: '${bad}')" test -z "$bad"
pv() { jq -r --arg k "$1" '.[] | select(.VIRTGOV_KIND == $k) | '"$2" "$VG_SCRATCH/kinds.json"; }
check "policy.violation: warning, and every field the event has" \
        test "$(pv policy.violation '[.PRIORITY, .VIRTGOV_DOMAIN, .VIRTGOV_UUID, .VIRTGOV_ACTOR, .VIRTGOV_AUID, .VIRTGOV_TICKET, .VIRTGOV_SOURCE] | join(" ")')" \
        = "4 $(pv policy.violation .VIRTGOV_DOMAIN) 3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41 alice 1000 CHG-1042 daemon"
check "policy.error at err, domain.started at notice, integrity.changed, audit.lost, daemon.degraded at warning" \
        test "$(pv policy.error .PRIORITY) $(pv domain.started .PRIORITY) $(pv integrity.changed .PRIORITY) $(pv audit.lost .PRIORITY) $(pv daemon.degraded .PRIORITY)" = "3 5 4 4 4"
check "a gated op carries its decision" test "$(pv domain.prepare .VIRTGOV_DECISION)" = deny
check "VIRTGOV_ID, _SEQ, _REF and _HASH are the inventory's" \
        test "$(pv account.added '[.VIRTGOV_ID, .VIRTGOV_SEQ, .VIRTGOV_REF, .VIRTGOV_HASH] | join(" ")')" \
        = "$(sqlite3 "$DB" "select id, id, ref, hash from events where kind = 'account.added' and domain like 'vg-j-%'" | tr '|' ' ')"
check "the reason's value is whole in its field (newline and quotes)" \
        test "$(pv account.added .VIRTGOV_REASON)" = "$(printf 'a reason with "quotes" and\na newline')"
check "and escaped in MESSAGE, one line" \
        sh -c 'test "$(jq -r ".[] | select(.VIRTGOV_KIND == \"account.added\") | .MESSAGE" "$0" | wc -l)" = 1 &&
               jq -r ".[] | select(.VIRTGOV_KIND == \"account.added\") | .MESSAGE" "$0" |
               grep -qF "reason=\"a reason with \\\"quotes\\\" and\\x0aa newline\""' "$VG_SCRATCH/kinds.json"
check "no event field is empty" \
        test "$(jq '[.[] | to_entries[] | select((.key | startswith("VIRTGOV_")) and .value == "")] | length' "$VG_SCRATCH/kinds.json")" = 0
check "every event names the host by its machine-id (VIRTGOV_HOST_ID)" \
        test "$(jq -r '[.[] | select(.VIRTGOV_KIND) | .VIRTGOV_HOST_ID] | unique | join(",")' "$VG_SCRATCH/kinds.json")" = "$(cat /etc/machine-id)"
check "journald knows the unit" test "$(pv daemon.started ._SYSTEMD_UNIT)" = virtgov-inventoryd.service

say "journalctl -x explains each kind"
missing=
while read -r kind id; do
        journalctl -D "$J" -x --no-pager "MESSAGE_ID=$id" 2>/dev/null | grep -qF -- "Subject: virtgov $kind:" ||
                missing="$missing $kind"
done < "$VG_SCRATCH/kinds.txt"
check "every kind's entry has its catalog text (missing:${missing:- none})" test -z "$missing"
msgid() { awk -v k="$1" '$1 == k { print $2 }' "$VG_SCRATCH/kinds.txt"; }
journalctl -D "$J" -x --no-pager "MESSAGE_ID=$(msgid policy.violation)" > "$VG_SCRATCH/x-violation.txt"
check "policy.violation: the domain substituted into the subject, and what to do" \
        sh -c 'grep -qF -- "Subject: virtgov policy.violation: a domain'"'"'s definition breaks the policy (vg-j-" "$0" &&
               grep -q "What to do: Correct the domain" "$0"' "$VG_SCRATCH/x-violation.txt"
for k in integrity.changed account.added account.removed account.changed account.password-changed audit.lost daemon.degraded; do
        check "$k: journalctl -x says what to do" sh -c '"$@" | grep -q "What to do: [A-Z]" && ! "$@" | grep -q "What to do: Nothing"' \
                sh journalctl -D "$J" -x --no-pager "MESSAGE_ID=$(msgid "$k")"
done

say "a burst of 10,000 events: all in the journal under the unit's limits"
"$VG_SPOOL_EVENTS" "$VG_SCRATCH/stage" 10000
t0=$(date +%s%N)
mv "$VG_SCRATCH/stage/journal" "$SPOOL/journal"
check "the copy reached the newest event" wait_cursor "$DB" 10000 120
t1=$(date +%s%N)
n=$(jentries VIRTGOV_KIND=domain.started VIRTGOV_SOURCE=libvirt | jq -s '[.[].VIRTGOV_ID] | unique | length')
say "burst: $n of 10000 in the journal, folded and copied in $(( (t1 - t0) / 1000000 )) ms"
check "all 10,000 are there, each once" test "$n" = 10000
# (Not journald's "Suppressed N messages" line: it is written only with
# the unit's first message after the window, here 30 s later. The count
# is the proof.)

say "the control: the same burst from a unit without the limits loses events"
C=$VG_SCRATCH/ctl
mkdir -p "$C/stage" && mkdir -p -m 0700 "$C/spool"
printf 'inventory = %s/inv.db\nspool_dir = %s/spool\n' "$C" "$C" > "$C/vg.conf"
chmod 0644 "$C/vg.conf"
VIRTGOV_CONFIG=$C/vg.conf in_unit virtgovctl.service "$VG_DAEMON" --foreground --uri test:///default \
        >> "$VG_SCRATCH/ctl.log" 2>&1
for _ in $(seq 100); do grep -q "connected to" "$VG_SCRATCH/ctl.log" && break; sleep 0.1; done
"$VG_SPOOL_EVENTS" "$C/stage" 10000
mv "$C/stage/journal" "$C/spool/journal"
check "the control's copy reached its newest event" wait_cursor "$C/inv.db" 10000 120
sleep 0.5
nc=$(jentries _SYSTEMD_UNIT=virtgovctl.service VIRTGOV_KIND=domain.started | jq -s length)
say "control: $nc of 10000 in the journal"
check "without the unit's limits journald dropped some ($nc of 10000)" test "$nc" -lt 10000

say "log = both, on reload: the journal and syslog, each from its own cursor"
"$VG_DGRAM_SINK" "$VG_SCRATCH/syslog.sock" "$VG_SCRATCH/syslog.txt" &
PIDS+=("$!")
printf 'inventory = %s\nspool_dir = %s\nlog = both\nsyslog_socket = %s\n' "$DB" "$SPOOL" "$VG_SCRATCH/syslog.sock" \
        > /etc/virtgov/virtgov.conf
kill -HUP "$DAEMON"
check "the reload says where the copies go now" \
        sh -c 'for i in $(seq 100); do grep -q "reloaded; events copied to the journal and syslog$" "$0" && exit 0; sleep 0.1; done; exit 1' \
        "$VG_SCRATCH/daemon.log"
last=
for _ in $(seq 50); do
        last=$(sqlite3 "$DB" "select max(id) from events where kind = 'daemon.reloaded' and domain is null")
        [ -z "$last" ] || break
        sleep 0.1
done
for _ in $(seq 100); do
        nr=$(jentries VIRTGOV_KIND=daemon.reloaded | jq -s -r 'map(select(.VIRTGOV_DOMAIN == null) | .VIRTGOV_ID) | join(" ")')
        [ -z "$nr" ] || break
        sleep 0.1
done
check "the journal copy went on from its cursor: the reload's event is there once (ids: '$nr', stored: $last)" \
        test "$nr" = "$last"
check "the syslog copy, new, sent the history up to the newest event" \
        sh -c 'for i in $(seq 200); do grep -q "^<[0-9]*>.* virtgov\[[0-9]*\]: id=$1 .*kind=daemon.reloaded" "$0" && exit 0; sleep 0.1; done; exit 1' \
        "$VG_SCRATCH/syslog.txt" "$last"

say "journald goes away: the copy stalls, says so once, and resumes from its cursor"
kill "$JOURNALD"
wait "$JOURNALD" 2>/dev/null || true
"$VG_SPOOL_EVENTS" "$VG_SCRATCH/stage" 1
mv "$VG_SCRATCH/stage/journal" "$SPOOL/journal"
check "the stall is said, naming the socket" \
        sh -c 'for i in $(seq 100); do grep -q "the copy of events to the journal stalled: '"'"'/run/systemd/journal/socket'"'"'" "$0" && exit 0; sleep 0.1; done; exit 1' \
        "$VG_SCRATCH/daemon.log"
sleep 2.5   # two more one-second retries
check "once" test "$(grep -c "the copy of events to the journal stalled" "$VG_SCRATCH/daemon.log")" = 1
/lib/systemd/systemd-journald >> "$VG_SCRATCH/journald.log" 2>&1 &
JOURNALD=$!
PIDS+=("$JOURNALD")
check "and resumed when journald is back" \
        sh -c 'for i in $(seq 100); do grep -q "the copy to the journal resumed" "$0" && exit 0; sleep 0.1; done; exit 1' \
        "$VG_SCRATCH/daemon.log"
check "with the event recorded meanwhile, nothing lost, nothing twice" wait_cursor "$DB" 10001 20
check "(10,001 of the burst's kind in the journal)" \
        test "$(jentries _SYSTEMD_UNIT=virtgov-inventoryd.service VIRTGOV_KIND=domain.started VIRTGOV_SOURCE=libvirt | jq -s '[.[].VIRTGOV_ID] | unique | length'):$(jentries _SYSTEMD_UNIT=virtgov-inventoryd.service VIRTGOV_KIND=domain.started VIRTGOV_SOURCE=libvirt | jq -s length)" = 10001:10001

kill "$DAEMON"
wait "$DAEMON" 2>/dev/null || true
check "on stop the chain head went to the journal as its own entry" \
        test "$(jentries VIRTGOV_KIND=chain.head | jq -s -r 'last | .VIRTGOV_SEQ + ":" + .VIRTGOV_HASH')" \
        = "$(sqlite3 "$DB" "select id || ':' || hash from events order by id desc limit 1")"
journalctl -D "$J" -o export --no-pager VIRTGOV_KIND=chain.head > "$VG_SCRATCH/heads.export" 2>/dev/null ||
        jentries VIRTGOV_KIND=chain.head > "$VG_SCRATCH/heads.export"
check "its MESSAGE is the signed head: verify --heads on the journal's export holds it" \
        sh -c "'$VIRTGOV' --db '$DB' --json verify --heads '$VG_SCRATCH/heads.export' | jq -e '.heads.held >= 1 and .heads.bad_signature == 0' >/dev/null"
finish
