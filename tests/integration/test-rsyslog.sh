#!/bin/bash
# The shipping configuration of contrib/shipping/ for rsyslog, for real:
# the follow unit's command appending ECS documents to its file, a sender
# rsyslogd reading it with imfile and forwarding it over RELP (omrelp) with
# its disk-assisted queue, a collector rsyslogd (imrelp, omfile) writing
# each message to a file. Across a stop of the collector, a restart of the
# sender while events wait in its queue, a stop of the follow stream and a
# rotation of its file by the logrotate snippet, every event arrives, with
# its fields and the hash the inventory holds. RELP is at least once:
# copies are counted and must be identical.
#
# The contrib files are used as they are, their paths moved into the
# scratch directory by sed (the collector's name to 127.0.0.1, the
# systemctl calls of the logrotate snippet to the test's own stop and
# start). Everything runs in the sandbox's network and PID namespaces
# (rsyslog's RELP port on its own loopback), with a private work
# directory for each rsyslogd (its queue and imfile's position) and its
# own pid file: the host's /dev/log, /var/spool/rsyslog and rsyslog are
# never touched. The inventory is a scratch one, written by 'ticket add'
# (as tests/test-stream.sh).
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
ip link set lo up

src=$(cd "$(dirname "$0")/../.." && pwd)
ship=$src/contrib/shipping
T=$VG_SCRATCH
N=300

for p in rsyslogd logrotate jq; do
        command -v "$p" >/dev/null || { echo "FAIL: $p is not installed (contrib/deps.sh --test)" >&2; exit 1; }
done
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so ] || ls /usr/lib/*/rsyslog/omrelp.so >/dev/null 2>&1 ||
        { echo "FAIL: rsyslog-relp is not installed (contrib/deps.sh --test)" >&2; exit 1; }

# poll SECONDS COMMAND...: until COMMAND succeeds; 1 on time-out. The
# limits are generous: this is no measure of speed.
poll() {
        local secs=$1 i
        shift
        for i in $(seq $((secs * 10))); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
gone() { ! alive "$1"; }
die() { echo "FAIL: $*" >&2; finish; exit 1; }

# The inventory, and 'ticket add' as its writer.
mkdir -p "$T/inv"
printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nhooks_dir = %s/hooks\nhook_binary = %s\n' \
        "$T/inv" "$T/inv" "$T/inv" "$VG_HOOK" > "$T/inv/vg.conf"
V() { "$VIRTGOV" --config "$T/inv/vg.conf" "$@"; }
V hooks install > /dev/null
add() { local i; for i in $(seq "$1" "$2"); do V ticket add "CHG-$i" --domain 'web-*' --from 2026-01-01 --until 2030-01-01 >/dev/null; done; }

# --- the contrib files, at scratch paths ---------------------------------
unit=$ship/virtgov-follow.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
out=$(sed -n 's/^StandardOutput=append://p' "$unit")
imfile_path=$(sed -n 's/.*type="imfile" file="\([^"]*\)".*/\1/p' "$ship/rsyslog-relp-sender.conf")
rotated_path=$(sed -n 's/^\(\/[^ ]*\) {$/\1/p' "$ship/virtgov-follow.logrotate")
check "the unit appends to the file rsyslog reads and logrotate rotates ($out)" \
        test -n "$out" -a "$out" = "$imfile_path" -a "$out" = "$rotated_path"
mkdir -p "$T/log"
events=$T/log/events.json
# The unit's command, with the scratch config and state: what systemd runs.
follow_cmd=$(echo "$exec_start" | sed "s|^/usr/bin/virtgov |$VIRTGOV --config $T/inv/vg.conf |; s|/var/lib/virtgov/follow.state|$T/follow.state|")
case $follow_cmd in *" /var/"* | *" /etc/"*) die "the unit's command still names a host path: $follow_cmd" ;; esac
if command -v systemd-analyze >/dev/null; then
        # It works in /tmp/systemd-temporary-*: a /tmp of its own, in the
        # scratch directory.
        mkdir -p "$T/unit"
        sed "s|^ExecStart=/usr/bin/virtgov |ExecStart=$VIRTGOV |" "$unit" > "$T/unit/virtgov-follow.service"
        check "systemd-analyze verify: the unit has no error" \
                test -z "$(unshare --mount --propagation private sh -c \
                        "mount --bind '$T/unit' /tmp && systemd-analyze verify --man=no /tmp/virtgov-follow.service" 2>&1)"
fi

# The follow stream as the unit runs it: appended (O_APPEND, like
# StandardOutput=append:), stopped with SIGTERM. Also run by the logrotate
# snippet's scripts, hence a script of its own.
cat > "$T/follow-ctl" <<EOF
#!/bin/bash
set -e
case \$1 in
start)
        $follow_cmd >> "$events" 2>> "$T/follow.err" &
        echo \$! > "$T/follow.pid" ;;
stop)
        pid=\$(cat "$T/follow.pid")
        kill -TERM "\$pid"
        for i in \$(seq 600); do
                if [ ! -e /proc/\$pid ] || grep -q '^State:.*Z' /proc/\$pid/status 2>/dev/null; then exit 0; fi
                sleep 0.1
        done
        echo "the follow stream did not stop" >&2; exit 1 ;;
esac
EOF
chmod +x "$T/follow-ctl"

# rsyslogd NAME: its config is the contrib snippet behind a global() of
# its own (the work directory: queue files, imfile's position), as
# /etc/rsyslog.conf is in front of /etc/rsyslog.d/ on Debian.
rsyslog_conf() {   # NAME SNIPPET SED-SCRIPT
        mkdir -p "$T/$1/work"
        {
                printf 'global(workDirectory="%s" maxMessageSize="64k")\n' "$T/$1/work"
                # its counters (the sender's queue, imfile's lines), for the
                # waits below: not part of the contrib snippet
                printf 'module(load="impstats" interval="1" format="json" log.syslog="off" log.file="%s")\n' "$T/$1/stats"
                sed "$3" "$2"
        } > "$T/$1/rsyslog.conf"
        check "rsyslogd -N1 accepts the $1's config ($(basename "$2"))" \
                quiet rsyslogd -N1 -f "$T/$1/rsyslog.conf"
}
rsyslog_conf sender "$ship/rsyslog-relp-sender.conf" \
        "s|$imfile_path|$events|; s|collector.example.org|127.0.0.1|"
rsyslog_conf collector "$ship/rsyslog-relp-collector.conf" "s|/var/log/virtgov-central/|$T/central/|"
grep -q "$T/central/" "$T/collector/rsyslog.conf" || die "the collector's file was not moved"
rsyslog_start() {
        rsyslogd -n -f "$T/$1/rsyslog.conf" -i "$T/$1/pid" >> "$T/$1/log" 2>&1 &
        eval "${1}_pid=$!"
        poll 60 test -s "$T/$1/pid" || die "$1 rsyslogd did not start: $(tail -5 "$T/$1/log")"
}
rsyslog_stop() {
        local pid
        pid=$(eval echo "\$${1}_pid")
        kill -TERM "$pid"
        poll 120 gone "$pid" || die "$1 rsyslogd did not stop"
        wait "$pid" 2>/dev/null || true
}
# stat NAME ORIGIN-NAME COUNTER: the newest value impstats wrote (its
# lines are "TIME: {JSON}").
stat() {
        local v
        v=$(grep -F "\"name\": \"$2\"" "$T/$1/stats" 2>/dev/null | tail -1 | sed 's/^[^{]*//' | jq -r ".\"$3\" // 0" 2>/dev/null)
        echo "${v:-0}"
}
# in the sender's action queue: in memory, and on disk ([DA])
in_queue() { echo $(($(stat sender "virtgov-relp queue" size) + $(stat sender "virtgov-relp queue[DA]" size))); }
queued() { [ "$(in_queue)" -ge "$1" ]; }
# lines imfile handed to the action's queue since the sender started
read_lines() { [ "$(stat sender "virtgov-relp queue" enqueued)" -ge "$1" ]; }

# received: the distinct event.sequence values the collector has written.
received() { cat "$T"/central/*.json 2>/dev/null | jq -r '.event.sequence' 2>/dev/null | sort -un | wc -l; }
has_received() { [ "$(received)" -ge "$1" ]; }
lines_in() { cat "$@" 2>/dev/null | wc -l; }
written() { [ "$(lines_in "$events" "$events".1)" -ge "$1" ]; }

say "events 1-100: follow stream, sender and collector running"
add 1 100
rsyslog_start collector
rsyslog_start sender
"$T/follow-ctl" start
check "the collector received events 1-100" poll 120 has_received 100

say "the collector stopped; events 101-200 wait in the sender's queue"
rsyslog_stop collector
add 101 200
check "the follow stream wrote 200 events" poll 120 written 200
check "the sender read all 200 lines" poll 120 read_lines 200
check "the sender's queue holds them" poll 120 queued 1
sleep 2
before=$(in_queue)

say "the sender restarted with $before events in its queue"
rsyslog_stop sender
check "the queue was saved to the sender's disk" test -s "$T/sender/work/virtgov-relp.qi"
ls "$T"/sender/work/ > "$T/sender-work.txt"
rsyslog_start sender
check "the restarted sender holds them again, the collector still down" poll 120 queued "$before"

say "events 201-250 while the follow stream is stopped; rotation; 251-300"
"$T/follow-ctl" stop
add 201 250
"$T/follow-ctl" start
check "the follow stream wrote 250 events" poll 120 written 250
# The logrotate snippet as it is, systemctl made the test's own stop and start.
sed "s|$rotated_path|$events|; s|systemctl stop virtgov-follow.service|$T/follow-ctl stop|; s|systemctl start virtgov-follow.service|$T/follow-ctl start|" \
        "$ship/virtgov-follow.logrotate" > "$T/logrotate.conf"
check "logrotate rotated the stream's file" logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf"
check "the renamed file holds events 1-250" test "$(lines_in "$events".1)" = 250
add 251 $N
check "the new file holds events 251-$N" poll 120 written $N
check "the new file holds only them" test "$(lines_in "$events")" = $((N - 250))
cat "$events".1 "$events" | jq -r '.event.sequence' > "$T/written-seq"
check "the follow stream wrote each event once, in order, across its stop and the rotation" \
        test "$(seq $N | tr '\n' ' ')" = "$(tr '\n' ' ' < "$T/written-seq")"

say "the collector back"
rsyslog_start collector
check "the collector received all $N" poll 180 has_received $N
queue_left() { [ "$(in_queue)" = 0 ]; }
check "the sender's queue is empty" poll 120 queue_left
rsyslog_stop sender
rsyslog_stop collector
"$T/follow-ctl" stop

say "what the collector holds, against the inventory"
cat "$T"/central/*.json > "$T/received"
V --json events | jq -c '.[] | {key: (.id | tostring), value: [.kind, .hash, .ref]}' | jq -s -c from_entries > "$T/stored"
check "every line the collector wrote is a JSON document" quiet jq -e . "$T/received"
bad=$(jq -c --slurpfile s "$T/stored" \
        'select(.ecs.version != "8.11.0" or .event.dataset != "virtgov.events"
                or [.event.action, .event.hash, .event.id] != $s[0][.event.sequence | tostring])
         | .event.sequence' "$T/received" | head -5 | tr '\n' ' ')
check "each is an ECS document with the event's action, hash and id as stored${bad:+ (not: $bad)}" test -z "$bad"
distinct=$(jq -r '.event.sequence' "$T/received" | sort -un)
check "event.sequence 1-$N each received" test "$distinct" = "$(seq $N)"
total=$(wc -l < "$T/received")
got=$(echo "$distinct" | grep -c .)
copies=$((total - got))
copied=$(jq '.event.sequence' "$T/received" | sort -n | uniq -d | paste -sd' ')
differ=$(jq -c . "$T/received" | sort -u | jq '.event.sequence' | sort -n | uniq -d | wc -l)
check "copies are identical to their first ($copies copies, $differ that differ)" test "$differ" = 0
echo "$got of $N received across a restart (collector stopped for 100 events, sender restarted with $before queued, follow stream stopped and its file rotated); $copies duplicates (RELP is at least once: ${copied:-none}), identical"
finish
