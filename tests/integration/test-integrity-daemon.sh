#!/bin/bash
# virtgov-inventoryd's integrity monitoring against a real libvirtd, with no
# 'virtgov integrity check' run: started on an inventory with no baseline
# it says so once and keeps watching; with a baseline, an edit of
# qemu.conf and a hook added to qemu.d are events of the daemon's within
# 5 s; a directory made later is watched too; a profile named on reload
# (SIGHUP) is watched; a baseline edited behind virtgov is said once; and
# while nothing changes no check runs.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

mkdir -p /etc/virtgov/integrity.d
cat > /etc/virtgov/virtgov.conf <<CONF
syslog = no
CONF
"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
start_libvirt

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
before=$(last_check)
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

check "no 'virtgov integrity check' ran: every finding is the daemon's" \
        test "$("$VIRTGOV" --json events --kind integrity. | jq '[.[] | select(.source == "cli" and .kind != "integrity.baseline")] | length')" = 0
stop_daemon
finish
