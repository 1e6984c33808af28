#!/bin/bash
# virtgov-inventoryd's integrity monitoring against a real libvirtd, with no
# 'virtgov integrity check' run: started on an inventory with no baseline
# it says so once and keeps watching; with a baseline, an edit of
# qemu.conf and a hook added to qemu.d are events of the daemon's within
# 5 s; a directory made later is watched too; a profile named on reload
# (SIGHUP) is watched; integrity_action runs once on each new unexplained
# finding, and each run (exit 0, exit 3, timed out, missing) is recorded;
# a baseline edited behind virtgov is said once; and while nothing
# changes no check runs.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

integrity_setup

# drift KIND PATH: a jq filter for "the daemon recorded KIND for PATH".
drift() {
        echo "[.[] | select(.kind == \"integrity.$1\" and .source == \"daemon\" and .data.path == \"$2\")] | length == 1"
}
no_baseline='[.[] | select(.kind == "daemon.degraded" and (.reason | test("no integrity baseline.*virtgov integrity baseline")))]'
stop_daemon() {
        kill -TERM "$VG_DAEMON_PID"
        wait "$VG_DAEMON_PID" 2>/dev/null || true
}
last_check() { sqlite3 /var/lib/virtgov/inventory.db "SELECT value FROM meta WHERE key = 'integrity.last_check'"; }

say "no baseline: said once, and the daemon keeps watching"
start_daemon
wait_for "a daemon.degraded event says there is no baseline and how to take one" "$no_baseline | length == 1" 5
check "the log says so too" grep -q "no integrity baseline" "$VG_SCRATCH/daemon.log"
echo '# touched without a baseline' >> /etc/libvirt/qemu.conf
sleep 2.5
check "a change without a baseline: said no second time" wait_until "$no_baseline | length == 1" 1
check "the daemon still runs" kill -0 "$VG_DAEMON_PID"
stop_daemon

say "a baseline, then changes found by the daemon alone"
printf '#!/bin/sh\nexit 0\n' > /etc/libvirt/hooks/qemu.d/10-old
check "baseline" quiet "$VIRTGOV" integrity baseline
start_daemon
check "its log says what it watches" grep -q "integrity: watching [0-9]* directories" "$VG_SCRATCH/daemon.log"
echo 'security_default_confined = 0' >> /etc/libvirt/qemu.conf
wait_for "qemu.conf edited -> integrity.changed (source daemon) within 5 s" \
        "$(drift changed /etc/libvirt/qemu.conf)" 5
printf '#!/bin/sh\nexit 0\n' > /etc/libvirt/hooks/qemu.d/99-other
wait_for "a hook added to qemu.d -> integrity.added within 5 s" \
        "$(drift added /etc/libvirt/hooks/qemu.d/99-other)" 5
rm /etc/libvirt/hooks/qemu.d/10-old
wait_for "a hook of the baseline removed -> integrity.removed within 5 s" \
        "$(drift removed /etc/libvirt/hooks/qemu.d/10-old)" 5

say "a directory made later is watched as well"
mkdir /etc/libvirt/hooks/late.d
wait_for "the new directory -> integrity.added" "$(drift added /etc/libvirt/hooks/late.d)" 5
echo x > /etc/libvirt/hooks/late.d/hook
wait_for "a file in it -> integrity.added within 5 s" "$(drift added /etc/libvirt/hooks/late.d/hook)" 5

say "while nothing changes, no check runs"
# First the checks the last changes asked for, one of them perhaps queued
# behind another (offload.c): settled once the last check stays the same
# for 2 s (at most 20 s).
before=$(last_check)
for _ in $(seq 10); do
        sleep 2
        now=$(last_check)
        [ "$now" = "$before" ] && break
        before=$now
done
sleep 3
check "the last check is the one of the last change" test "$(last_check)" = "$before"

say "a profile named on reload (SIGHUP) is watched"
mkdir -p /etc/vglab
echo one > /etc/vglab/setting
echo '/etc/vglab all' > /etc/virtgov/integrity.d/lab.profile
check "baseline of the lab profile" quiet "$VIRTGOV" integrity baseline --profile lab
echo 'integrity_profiles = isolation lab' >> /etc/virtgov/virtgov.conf
# The config is watched (isolation): its own check comes first, then the
# reload's; the edit after both can only be found through the new watch.
wait_until "$(drift changed /etc/virtgov/virtgov.conf)" 5 || true
kill -HUP "$VG_DAEMON_PID"
wait_until '[.[] | select(.kind == "daemon.reloaded")] | length > 0' 5 || true
sleep 2
echo two > /etc/vglab/setting
wait_for "a file of the lab profile edited -> integrity.changed within 5 s" \
        "$(drift changed /etc/vglab/setting)" 5

say "integrity_action: the program gets each new unexplained finding, once"
mkdir -p /etc/vgaction
cat > /etc/vgaction/record <<SH
#!/bin/sh
cat > $VG_SCRATCH/action-in.json
echo "\$1 \$VIRTGOV_EVENT_KIND" > $VG_SCRATCH/action-argv
echo "paged on-call"
SH
printf '#!/bin/sh\necho slow start\nsleep 31\n' > /etc/vgaction/slow
printf '#!/bin/sh\necho cannot page >&2\nexit 3\n' > /etc/vgaction/fail
chmod 755 /etc/vgaction/*
# set_action PROGRAM [TIMEOUT_S]: the config names it, and the daemon has
# reloaded. (virtgov.conf's own finding is open already: not new, no run.)
set_action() {
        local n
        sed -i '/^integrity_action/d' /etc/virtgov/virtgov.conf
        if [ -n "$1" ]; then echo "integrity_action = $1" >> /etc/virtgov/virtgov.conf; fi
        if [ -n "${2:-}" ]; then echo "integrity_action_timeout_s = $2" >> /etc/virtgov/virtgov.conf; fi
        n=$("$VIRTGOV" --json events --kind daemon.reloaded | jq length)
        kill -HUP "$VG_DAEMON_PID"
        wait_until "[.[] | select(.kind == \"daemon.reloaded\")] | length > $n" 5
}
# ran PATH: the jq filter for the one integrity.action* event of PATH's finding.
ran() { echo "[.[] | select((.kind | startswith(\"integrity.action\")) and .data.finding.path == \"$1\")]"; }
events_json() { "$VIRTGOV" --json events --kind integrity. > "$VG_SCRATCH/events.json"; }

check "integrity_action = the recording program, reloaded" set_action /etc/vgaction/record
echo new > /etc/vglab/action-1
wait_for "a new file -> the action ran and integrity.action was recorded" \
        "$(ran /etc/vglab/action-1) | length == 1 and .[0].kind == \"integrity.action\"" 8
jq_check "the program got the finding as JSON on stdin" "$VG_SCRATCH/action-in.json" \
        '.kind == "integrity.finding" and .path == "/etc/vglab/action-1" and .change == "added" and
         .class == "unexplained" and .profile == "lab" and (.host | length) > 0 and (.time | length) > 0 and
         .event.kind == "integrity.added" and (.event.id | type) == "number" and (.event.hash | length) == 64'
check "argv[1] and VIRTGOV_EVENT_KIND name the kind" \
        test "$(cat "$VG_SCRATCH/action-argv")" = "integrity.finding integrity.finding"
events_json
jq_check "the event names the finding's event" "$VG_SCRATCH/events.json" \
        "$(ran /etc/vglab/action-1)[0].data.finding.event.id == ([.[] | select(.kind == \"integrity.added\" and .data.path == \"/etc/vglab/action-1\")][0].id)"
jq_check "integrity.action recorded exit status 0, the output and the time taken" "$VG_SCRATCH/events.json" \
        "$(ran /etc/vglab/action-1)[0].data | .exit_status == 0 and .signal == null and .timed_out == false and
         .output == \"paged on-call\n\" and .program == \"/etc/vgaction/record\" and .duration_ms >= 0"
echo more >> /etc/vglab/action-1
sleep 2.5
check "the same finding checked again: the program is not run again" wait_until "$(ran /etc/vglab/action-1) | length == 1" 1

say "integrity_action: past its timeout it is killed, and that is recorded"
check "integrity_action = a program that sleeps, timeout 1 s" set_action /etc/vgaction/slow 1
echo new > /etc/vglab/action-2
wait_for "integrity.action-failed within 8 s" "$(ran /etc/vglab/action-2) | length == 1" 8
events_json
jq_check "it timed out, was killed by SIGTERM about 1 s after its start, its first output kept" \
        "$VG_SCRATCH/events.json" "$(ran /etc/vglab/action-2)[0] | .kind == \"integrity.action-failed\" and
         .data.timed_out == true and .data.signal == \"SIGTERM\" and .data.exit_status == null and
         .data.duration_ms >= 1000 and .data.duration_ms < 3000 and .data.output == \"slow start\n\""
# (Anchored: pgrep's own command line holds the pattern too.)
no_sleeper() { ! pgrep -f '^sleep 31' >/dev/null; }
check "the program's child went with it (its process group was signalled)" no_sleeper

say "integrity_action: a program that fails, or is missing, is recorded as failed"
check "integrity_action = a program exiting 3" set_action /etc/vgaction/fail
echo new > /etc/vglab/action-3
wait_for "integrity.action-failed within 8 s" "$(ran /etc/vglab/action-3) | length == 1" 8
events_json
jq_check "exit status 3 and its stderr recorded" "$VG_SCRATCH/events.json" \
        "$(ran /etc/vglab/action-3)[0] | .kind == \"integrity.action-failed\" and .data.exit_status == 3 and
         .data.timed_out == false and .data.output == \"cannot page\n\" and (.reason | test(\"exited with status 3\"))"
check "integrity_action = a program that is not there" set_action /etc/vgaction/missing
echo new > /etc/vglab/action-4
wait_for "integrity.action-failed, saying it is missing" \
        "$(ran /etc/vglab/action-4) | length == 1 and (.[0].data.error | test(\"No such file\"))" 8
say "integrity_action: a finding the CLI recorded first, the daemon down, gets its run at the next start"
check "integrity_action = the recording program" set_action /etc/vgaction/record
stop_daemon
echo new > /etc/vglab/action-5
"$VIRTGOV" integrity check > /dev/null 2>&1 || true
cli_added='[.[] | select(.kind == "integrity.added" and .source == "cli" and .data.path == "/etc/vglab/action-5")]'
events_json
jq_check "the CLI's check recorded the finding (source cli)" "$VG_SCRATCH/events.json" "$cli_added | length == 1"
start_daemon
wait_for "the daemon ran the action on it" "$(ran /etc/vglab/action-5) | length == 1 and .[0].kind == \"integrity.action\"" 8
events_json
jq_check "for the CLI's event, once" "$VG_SCRATCH/events.json" \
        "$(ran /etc/vglab/action-5)[0].data.finding.event.id == ($cli_added[0].id)"
check "integrity_action unset" set_action ""

say "a baseline edited behind virtgov: said once, at error"
sqlite3 /var/lib/virtgov/inventory.db "UPDATE integrity_files SET size = size + 1 WHERE path = '/etc/libvirt/qemu.conf'"
tampered='[.[] | select(.kind == "daemon.degraded" and (.reason | test("baseline was tampered with")))]'
echo three > /etc/vglab/setting
wait_for "the next check says so: daemon.degraded within 5 s" "$tampered | length == 1" 5
check "the log says so at error" grep -q "error: integrity not checked: the baseline was tampered with" \
        "$VG_SCRATCH/daemon.log"
echo four > /etc/vglab/setting
sleep 2.5
check "a change after it: said no second time" wait_until "$tampered | length == 1" 1
check "the daemon still runs" kill -0 "$VG_DAEMON_PID"

check "no other 'virtgov integrity check' ran: every other finding is the daemon's" \
        test "$("$VIRTGOV" --json events --kind integrity. | jq '[.[] | select(.source == "cli" and .kind != "integrity.baseline" and .data.path != "/etc/vglab/action-5")] | length')" = 0
stop_daemon
finish
