#!/bin/bash
# What runs is what was baselined, against a real libvirtd and real QEMU
# guests: a guest whose <emulator> is a baselined copy of QEMU is current;
# one started from an edited copy, the copy then put back by rename while
# the guest runs, is tampered (the files check clean: only the process
# shows it); a package update (two versions built with dpkg-deb, installed
# with dpkg -i) of the binary a running guest uses makes it stale, naming
# both versions; the daemon checks a guest's QEMU as it starts. The policy
# clause "integrity": a start is denied, naming the file, after a firmware
# file is edited, and allowed again once the drift is accepted under a
# ticket; 'policy test' and 'policy replay' show it.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
# Copies of QEMU in /usr/bin (QEMU finds its modules beside /usr/bin) and
# a package installed under /usr: on a scratch layer of the sandbox's own.
overlay /usr

integrity_setup
# The daemon records the domains as they are defined: the isolation
# profile watches the emulators they name.
start_daemon
"$VIRTGOV" ticket add CHG-8001 --domain '*' --action any --from 1h --until +2h --approved-by cab >/dev/null

procs() { "$VIRTGOV" --json integrity processes "$@" > "$VG_SCRATCH/procs.json" 2> "$VG_SCRATCH/err" || true; }
# status DOMAIN: the status the last 'integrity processes' gave its QEMU.
status() { jq -r --arg d "$1" '[.rows[] | select(.category == "processes" and .domain == $d) | .status] | join(",")' \
        "$VG_SCRATCH/procs.json"; }
guest() {   # guest NAME EMULATOR: defined and started
        domain_xml "$1" "<emulator>$2</emulator>" > "$VG_SCRATCH/$1.xml"
        virsh define "$VG_SCRATCH/$1.xml" >/dev/null && virsh start "$1" >/dev/null
}

say "a guest on a baselined copy of QEMU: current"
cp /usr/bin/qemu-system-x86_64 /usr/bin/vgqemu-a
domain_xml vg-a "<emulator>/usr/bin/vgqemu-a</emulator>" > "$VG_SCRATCH/vg-a.xml"
virsh define "$VG_SCRATCH/vg-a.xml" >/dev/null
wait_for "the define is recorded" "$(has_event domain.defined vg-a libvirt)"
check "baseline (the isolation profile takes the emulator the domain names)" quiet "$VIRTGOV" integrity baseline
check "the copy is in it" test "$(sqlite3 /var/lib/virtgov/inventory.db \
        "SELECT count(*) FROM integrity_files WHERE path = '/usr/bin/vgqemu-a'")" = 1
check "start vg-a" quiet virsh start vg-a
procs
check "vg-a's QEMU: current ($(status vg-a); $(head -c 200 "$VG_SCRATCH/err"))" test "$(status vg-a)" = current
jq_check "libvirtd is checked too" "$VG_SCRATCH/procs.json" \
        '[.rows[] | select(.category == "processes" and .profile == "libvirtd")] | length == 1'
jq_check "what the baseline holds unchanged (stat) is not read: the executable, its libraries" \
        "$VG_SCRATCH/procs.json" '.cached >= 10'
procs --full
jq_check "--full reads every mapping through /proc" "$VG_SCRATCH/procs.json" '.hashed >= 10'
check "and finds the same: current ($(status vg-a))" test "$(status vg-a)" = current

say "started from an edited copy, the original put back while it runs: tampered"
virsh destroy vg-a >/dev/null
# As someone covering their tracks would: the original moved aside and
# back (its own inode), an edited copy in its place meanwhile.
mv /usr/bin/vgqemu-a "$VG_SCRATCH/vgqemu-a.orig"
cp "$VG_SCRATCH/vgqemu-a.orig" /usr/bin/vgqemu-a && printf 'X' >> /usr/bin/vgqemu-a
# The site's response: a program the daemon runs on each process that
# becomes tampered, the process's finding on its stdin.
cat > /usr/local/sbin/vg-page <<'SH'
#!/bin/sh
cat >> /var/lib/virtgov/paged.json
echo paged
SH
chmod 0755 /usr/local/sbin/vg-page
echo "integrity_action = /usr/local/sbin/vg-page" >> /etc/virtgov/virtgov.conf
kill -HUP "$VG_DAEMON_PID"
sleep 0.5
check "start vg-a on the edited copy (no policy yet)" quiet virsh start vg-a
mv "$VG_SCRATCH/vgqemu-a.orig" /usr/bin/vgqemu-a
"$VIRTGOV" --json integrity check > "$VG_SCRATCH/check.json" || true
jq_check "the file's content on disk is the baselined one again (no sha256 drift)" "$VG_SCRATCH/check.json" \
        '[.rows[] | select(.path == "/usr/bin/vgqemu-a" and (.changed // "" | contains("sha256")))] | length == 0'
procs
check "the process is tampered ($(status vg-a))" test "$(status vg-a)" = tampered
jq_check "naming its executable, replaced on disk" "$VG_SCRATCH/procs.json" \
        '[.rows[] | select(.domain == "vg-a") | .files[] | select(.exe and .path == "/usr/bin/vgqemu-a" and .replaced and .status == "tampered")] | length == 1'
# (The moves' file findings page too: the process's run is the one waited for.)
for i in $(seq 100); do
        jq -e 'select(.kind == "integrity.process")' /var/lib/virtgov/paged.json >/dev/null 2>&1 && break
        sleep 0.1
done
jq_check "the daemon ran integrity_action with the tampered process as JSON" /var/lib/virtgov/paged.json \
        'select(.kind == "integrity.process" and .domain == "vg-a" and .status == "tampered") | .files | length > 0'
"$VIRTGOV" --json events --kind integrity.action > "$VG_SCRATCH/act.json"
jq_check "and recorded the run: exit 0, its output" "$VG_SCRATCH/act.json" \
        '[.[] | select(.data.finding.kind == "integrity.process" and .data.exit_status == 0 and (.data.output | test("paged")))] | length >= 1'
"$VIRTGOV" --json events --kind integrity.process > "$VG_SCRATCH/ev.json"
jq_check "an integrity.process event says so" "$VG_SCRATCH/ev.json" \
        '[.[] | select(.domain == "vg-a" and .data.status == "tampered")] | length >= 1'
check "metrics count it" sh -c '"$0" metrics | grep -q "^virtgov_integrity_processes{status=\"tampered\"} 1$"' "$VIRTGOV"
rc=0; "$VIRTGOV" integrity processes --fail-on-findings >/dev/null 2>&1 || rc=$?
check "integrity processes --fail-on-findings exits 3 ($rc)" test "$rc" = 3
"$VIRTGOV" --json report integrity > "$VG_SCRATCH/report.json"
jq_check "report integrity lists the guest with its status" "$VG_SCRATCH/report.json" \
        '[.rows[] | select(.category == "processes" and .domain == "vg-a" and .status == "tampered")] | length == 1'
virsh destroy vg-a >/dev/null
check "the moves' drift (times) accepted" quiet "$VIRTGOV" integrity accept --all --ticket CHG-8001

say "a package update under a running guest: stale, naming both versions"
build_deb() {
        local v=$1 d=$VG_SCRATCH/vgqemu-$1
        mkdir -p "$d/DEBIAN" "$d/usr/bin"
        printf 'Package: vgqemu\nVersion: %s\nArchitecture: all\nMaintainer: virtgov tests <root@localhost>\nDescription: a copy of QEMU for virtgov tests\n' "$v" > "$d/DEBIAN/control"
        cp /usr/bin/qemu-system-x86_64 "$d/usr/bin/vgqemu-pkg"
        printf '%s' "$v" >> "$d/usr/bin/vgqemu-pkg"   # ELF runs with bytes after its end
        dpkg-deb -Znone --root-owner-group -b "$d" "$VG_SCRATCH/vgqemu_$v.deb" >/dev/null
}
build_deb 1.0
build_deb 2.0
check "dpkg -i vgqemu 1.0" quiet dpkg -i "$VG_SCRATCH/vgqemu_1.0.deb"
domain_xml vg-p "<emulator>/usr/bin/vgqemu-pkg</emulator>" > "$VG_SCRATCH/vg-p.xml"
virsh define "$VG_SCRATCH/vg-p.xml" >/dev/null
wait_for "the define is recorded" "$(has_event domain.defined vg-p libvirt)"
check "baseline" quiet "$VIRTGOV" integrity baseline
check "start vg-p" quiet virsh start vg-p
procs
check "vg-p: current ($(status vg-p))" test "$(status vg-p)" = current
sleep 1.1   # dpkg's log counts in seconds: the update must be later than the baseline
check "dpkg -i vgqemu 2.0 while vg-p runs" quiet dpkg -i "$VG_SCRATCH/vgqemu_2.0.deb"
"$VIRTGOV" --json integrity check > "$VG_SCRATCH/check.json" || true
"$VIRTGOV" --json events --kind integrity.package-update > "$VG_SCRATCH/pkg.json"
jq_check "the check folds the update into the baseline" "$VG_SCRATCH/pkg.json" \
        '[.[-1].data.updates[] | select(.path == "/usr/bin/vgqemu-pkg" and .new_version == "2.0")] | length == 1'
procs
check "vg-p runs the replaced version: stale ($(status vg-p))" test "$(status vg-p)" = stale
jq_check "naming the package and both versions" "$VG_SCRATCH/procs.json" \
        '[.rows[] | select(.domain == "vg-p") | .files[] | select(.exe and .package == "vgqemu:all" and .old_version == "1.0" and .new_version == "2.0")] | length == 1'
jq_check "and saying to restart it" "$VG_SCRATCH/procs.json" \
        '[.rows[] | select(.domain == "vg-p") | .why | test("1.0; 2.0 has replaced it since: restart it")] == [true]'
virsh destroy vg-p >/dev/null
check "restarted: current again" quiet virsh start vg-p
procs
check "vg-p: current ($(status vg-p))" test "$(status vg-p)" = current
virsh destroy vg-p >/dev/null

say "the daemon checks a guest's QEMU as it starts"
virsh start vg-a >/dev/null
check "vg-a started" quiet virsh domstate vg-a
for i in $(seq 50); do
        st=$(sqlite3 /var/lib/virtgov/inventory.db "SELECT status FROM integrity_processes WHERE domain = 'vg-a'")
        [ "$st" = current ] && break
        sleep 0.1
done
check "the daemon recorded vg-a's new QEMU as current ($st)" test "$st" = current
check "its log says so" grep -q "process(es) checked for domain vg-a" "$VG_SCRATCH/daemon.log"
virsh destroy vg-a >/dev/null

say "require integrity: a start is denied while firmware has unexplained drift"
cat > /etc/virtgov/policy.json <<'POLICY'
{ "mode": "enforce", "default": "allow",
  "rules": [ { "name": "prod", "match": { "name": "vg-*" }, "require": { "integrity": true } } ] }
POLICY
check "with nothing drifted, vg-a starts" quiet virsh start vg-a
virsh destroy vg-a >/dev/null
cp /usr/share/seabios/bios-256k.bin "$VG_SCRATCH/bios-256k.bin.good"
cp /usr/share/seabios/bios-256k.bin /usr/share/seabios/bios-256k.bin.new
printf 'X' >> /usr/share/seabios/bios-256k.bin.new
mv /usr/share/seabios/bios-256k.bin.new /usr/share/seabios/bios-256k.bin
for i in $(seq 50); do   # the daemon's check, within its settle time
        n=$(sqlite3 /var/lib/virtgov/inventory.db "SELECT count(*) FROM integrity_findings WHERE path = '/usr/share/seabios/bios-256k.bin'")
        [ "$n" = 1 ] && break
        sleep 0.1
done
check "the daemon found the edited ROM" test "$n" = 1
rc=0; virsh start vg-a > "$VG_SCRATCH/start.txt" 2>&1 || rc=$?
check "virsh start is refused ($rc)" test "$rc" != 0
check "naming the file and the finding ($(grep -o "virtgov:.*" "$VG_SCRATCH/start.txt" | head -c 200))" \
        grep -q "start of 'vg-a' denied: firmware /usr/share/seabios/bios-256k.bin changed since the baseline (unexplained) (rule 'prod')" "$VG_SCRATCH/start.txt"
check "the guest did not start" sh -c '[ "$(virsh domstate vg-a)" = "shut off" ]'
"$VIRTGOV" --json policy test --xml "$VG_SCRATCH/vg-a.xml" > "$VG_SCRATCH/test.json" || true
jq_check "policy test shows the clause's effect" "$VG_SCRATCH/test.json" \
        '.verdict == "deny" and ([.detail.reasons[] | select(test("firmware /usr/share/seabios/bios-256k.bin"))] | length == 1)'
"$VIRTGOV" --json policy replay --since 1h > "$VG_SCRATCH/replay.json" || true
jq_check "policy replay re-decides the earlier starts under it" "$VG_SCRATCH/replay.json" '.replayed > 0'
# Put back (QEMU will not load the edited one) and the change accepted.
cp "$VG_SCRATCH/bios-256k.bin.good" /usr/share/seabios/bios-256k.bin.new
mv /usr/share/seabios/bios-256k.bin.new /usr/share/seabios/bios-256k.bin
check "the ROM put back and accepted under CHG-8001" \
        quiet "$VIRTGOV" integrity accept /usr/share/seabios/bios-256k.bin --ticket CHG-8001
rc=0; virsh start vg-a > "$VG_SCRATCH/start.txt" 2>&1 || rc=$?
check "then vg-a starts again ($rc: $(tr "\n" " " < "$VG_SCRATCH/start.txt" | head -c 400))" test "$rc" = 0
virsh destroy vg-a >/dev/null

say "require integrity: the domain's emulator swapped, before any check"
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" 2>/dev/null || true
cp /usr/bin/vgqemu-a /usr/bin/vgqemu-a.new && printf 'Y' >> /usr/bin/vgqemu-a.new && mv /usr/bin/vgqemu-a.new /usr/bin/vgqemu-a
rc=0; virsh start vg-a > "$VG_SCRATCH/start.txt" 2>&1 || rc=$?
check "refused with no daemon to check it ($rc): the hook compares by stat" test "$rc" != 0
check "naming the emulator ($(grep -o "virtgov:.*" "$VG_SCRATCH/start.txt" | head -c 200))" \
        grep -q "emulator /usr/bin/vgqemu-a changed since the baseline (.*), not yet checked" "$VG_SCRATCH/start.txt"

say "a package update of a binary the baseline never held: stale, unverified"
# The daemon is down (above): nothing folds the package's binary into the
# baseline. (A name the policy's vg-* rule does not take.)
build_deb_named() {   # NAME VERSION: /usr/bin/NAME-pkg, a copy of QEMU
        local n=$1 v=$2 d=$VG_SCRATCH/$1-$2
        mkdir -p "$d/DEBIAN" "$d/usr/bin"
        printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: virtgov tests <root@localhost>\nDescription: a copy of QEMU for virtgov tests\n' "$n" "$v" > "$d/DEBIAN/control"
        cp /usr/bin/qemu-system-x86_64 "$d/usr/bin/$n-pkg"
        printf '%s' "$v" >> "$d/usr/bin/$n-pkg"
        dpkg-deb -Znone --root-owner-group -b "$d" "$VG_SCRATCH/${n}_$v.deb" >/dev/null
}
build_deb_named vgqemu2 1.0
build_deb_named vgqemu2 2.0
check "dpkg -i vgqemu2 1.0 (with no daemon to fold it into the baseline)" quiet dpkg -i "$VG_SCRATCH/vgqemu2_1.0.deb"
domain_xml pq-1 "<emulator>/usr/bin/vgqemu2-pkg</emulator>" > "$VG_SCRATCH/pq-1.xml"
virsh define "$VG_SCRATCH/pq-1.xml" >/dev/null
check "start pq-1" quiet virsh start pq-1
procs
check "pq-1: current, vouched for by its package ($(status pq-1))" test "$(status pq-1)" = current
sleep 1.1
check "dpkg -i vgqemu2 2.0 while pq-1 runs" quiet dpkg -i "$VG_SCRATCH/vgqemu2_2.0.deb"
procs
check "pq-1: stale, not tampered ($(status pq-1))" test "$(status pq-1)" = stale
jq_check "naming both versions, and that nothing verified the old one" "$VG_SCRATCH/procs.json" \
        '[.rows[] | select(.domain == "pq-1") | .why | test("vgqemu2:all 1.0 \\(unverified: not in the integrity baseline\\); 2.0 replaced it")] == [true]'
virsh destroy pq-1 >/dev/null

finish
