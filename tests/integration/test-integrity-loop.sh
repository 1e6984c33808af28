#!/bin/bash
# The daemon's loop is never held by a check (issue 29): an integrity
# check reads on a thread, and the loop records. The check is held
# deterministically, not by timing: dpkg's rotated log is a FIFO, so a
# check with drift blocks in classifying it against dpkg (opening, then
# reading the FIFO) until the test writes and closes it. While it is held
# the daemon records a domain defined through libvirt and a reload
# (SIGHUP), a second change is queued and checked after the first, not
# beside it; the held check's finding is recorded once the FIFO is let
# go, and libvirt did not disconnect the daemon. Then a stop (SIGTERM)
# while a check is held waits for it, and exits 0 once it ends.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

integrity_setup

drift() {
        echo "[.[] | select(.kind == \"integrity.$1\" and .source == \"daemon\" and .data.path == \"$2\")] | length == 1"
}

# A package that owns the lab profile's files, and its log: the current one
# plain, a rotated one compressed, which is the one made a FIFO.
DPKG=/etc/vglab-dpkg
mkdir -p /etc/vglab "$DPKG/info"
echo one > /etc/vglab/setting
echo one > /etc/vglab/other
printf 'Package: lab\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n\n' > "$DPKG/status"
printf '/etc/vglab\n/etc/vglab/setting\n/etc/vglab/other\n' > "$DPKG/info/lab.list"
LOG=$VG_SCRATCH/dpkg.log
echo '2026-01-01 10:00:00 status installed lab:all 1.0' > "$LOG"
echo '2026-01-01 09:00:00 install lab:all <none> 1.0' | gzip -c > "$VG_SCRATCH/rotated.gz"
# The config where this build reads it (integrity_setup's is /etc's).
ETC=${VG_SYSCONFDIR:-/etc}/virtgov
mkdir -p "$ETC/integrity.d"
echo '/etc/vglab all' > "$ETC/integrity.d/lab.profile"
cat > "$ETC/virtgov.conf" <<CONF
syslog = no
integrity_dir = $ETC/integrity.d
integrity_profiles = lab
dpkg_admindir = $DPKG
dpkg_log = $LOG
CONF
check "baseline of the lab profile" "$VIRTGOV" integrity baseline --profile lab

# hold: makes the rotated log a FIFO and opens its writing end in the
# background, which waits for the check to open the reading end: then the
# check is held in its read. release: the log's real content is written,
# a regular file put in the FIFO's place (a later check reads that), and
# the writing end closed: the held check reads on.
hold() {
        rm -f "$LOG.2.gz" "$VG_SCRATCH/held" "$VG_SCRATCH/release"
        mkfifo "$LOG.2.gz"
        ( exec 3> "$LOG.2.gz"
          touch "$VG_SCRATCH/held"
          while [ ! -e "$VG_SCRATCH/release" ]; do sleep 0.1; done
          cat "$VG_SCRATCH/rotated.gz" >&3
          cp "$VG_SCRATCH/rotated.gz" "$LOG.2.gz.new"
          mv "$LOG.2.gz.new" "$LOG.2.gz" ) &
        HOLDER=$!
}
release() {
        touch "$VG_SCRATCH/release"
        # Never held (a failed check above): its open would wait forever.
        [ -e "$VG_SCRATCH/held" ] || kill "$HOLDER" 2>/dev/null || true
        wait "$HOLDER" || true
}
held_within() {
        local i
        for i in $(seq $(($1 * 10))); do
                [ -e "$VG_SCRATCH/held" ] && return 0
                sleep 0.1
        done
        return 1
}
log_has() { grep -q "$1" "$VG_SCRATCH/daemon.log"; }

say "a check held in its reading: the loop records meanwhile"
start_daemon
# The start's full check finds no drift and never reads dpkg's log.
for _ in $(seq 100); do log_has "integrity: full check of" && break; sleep 0.1; done
check "the start's full check ran" log_has "integrity: full check of"
hold
echo two > /etc/vglab/setting
check "a change: its check is held reading dpkg's rotated log" held_within 15
domain_xml loopvm > "$VG_SCRATCH/loopvm.xml"
virsh define "$VG_SCRATCH/loopvm.xml" >/dev/null
wait_for "a domain defined while the check is held is recorded" \
        "$(has_event domain.defined loopvm libvirt)" 10
kill -HUP "$VG_DAEMON_PID"
wait_for "a reload while the check is held is recorded" \
        '[.[] | select(.kind == "daemon.reloaded")] | length == 1' 10
echo two > /etc/vglab/other
for _ in $(seq 50); do log_has "a check is running: the next one follows it" && break; sleep 0.1; done
check "a second change is queued behind the held check, and said" \
        log_has "a check is running: the next one follows it"
check "the held check has recorded nothing yet" wait_until "$(drift changed /etc/vglab/setting) | not" 1
release
wait_for "let go, the held check records its finding" "$(drift changed /etc/vglab/setting)" 15
wait_for "the queued check runs after it and records the second" "$(drift changed /etc/vglab/other)" 15
check "each recorded once: no check ran twice at once" \
        wait_until "($(drift changed /etc/vglab/setting)) and ($(drift changed /etc/vglab/other))" 2
check "libvirt never dropped the daemon" \
        wait_until '[.[] | select(.kind == "daemon.disconnected")] | length == 0' 1

say "a stop while a check is held waits for it, then exits cleanly"
hold
echo three > /etc/vglab/setting
check "the change's check is held" held_within 15
kill -TERM "$VG_DAEMON_PID"
for _ in $(seq 50); do log_has "integrity: waiting for the running job to end" && break; sleep 0.1; done
check "the stop says it waits for the check" log_has "integrity: waiting for the running job to end"
check "and has not exited" kill -0 "$VG_DAEMON_PID"
release
rc=0
wait "$VG_DAEMON_PID" || rc=$?
check "it exits 0 once the check ends" test "$rc" = 0
check "and records its stop" wait_until '[.[] | select(.kind == "daemon.stopped")] | length == 1' 2

virsh undefine loopvm >/dev/null 2>&1 || true
stop_libvirt
finish
