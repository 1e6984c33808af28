#!/bin/bash
# Integrity monitoring of the isolation layer against a real libvirtd: the
# isolation profile's baseline, then qemu.conf edited, a firmware file
# replaced, a hook added to qemu.d, a binary's mode changed, a domain's own
# emulator (a copy, named in its XML) added and later edited: each found,
# classified and accepted under a ticket. A real package update (two
# versions built with dpkg-deb, installed with dpkg -i in the sandbox) is a
# package_update naming both versions and folded into the baseline; a hand
# edit of its conffile is a conffile_edit. An edited baseline row is
# caught by check, status and verify.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
# The test changes QEMU's firmware and binaries and installs a package
# under /usr: on a scratch layer of the sandbox's own.
overlay /usr

integrity_setup
start_daemon
"$VIRTGOV" ticket add CHG-7001 --domain '*' --action any --from 1h --until +2h --approved-by cab >/dev/null

json() { "$VIRTGOV" --json integrity "$@" 2>"$VG_SCRATCH/err"; }
# finding PATH CLASS [KIND]: the check's JSON ($VG_SCRATCH/check.json) has it.
finding() {
        jq -e --arg p "$1" --arg c "$2" --arg k "${3:-changed}" \
                '[.rows[] | select(.path == $p and .category == $c and .kind == $k)] | length == 1' \
                "$VG_SCRATCH/check.json" >/dev/null
}
check_now() { json check "$@" > "$VG_SCRATCH/check.json" || true; }

say "the isolation profile's baseline"
check "baseline" "$VIRTGOV" integrity baseline
json status > "$VG_SCRATCH/status.json" || true
jq_check "it holds QEMU, its firmware, libvirt's config and the hook" "$VG_SCRATCH/status.json" \
        '.baseline == "intact" and .profiles.isolation > 50'
check "a baseline row per watched file: qemu-system, qemu.conf, the hook, a ROM" \
        test "$(sqlite3 /var/lib/virtgov/inventory.db "SELECT count(*) FROM integrity_files WHERE path IN
                ('/usr/bin/qemu-system-x86_64', '/etc/libvirt/qemu.conf', '/etc/libvirt/hooks/qemu.d/50-virtgov',
                 '/usr/share/seabios/bios-256k.bin')")" = 4
check "no content is stored, only its hash" \
        test "$(sqlite3 /var/lib/virtgov/inventory.db "SELECT count(*) FROM pragma_table_info('integrity_files')
                WHERE name IN ('content', 'data')")" = 0
check_now
jq_check "nothing changed: no findings" "$VG_SCRATCH/check.json" '.findings == 0 and .hashed == 0'

say "drift: qemu.conf, a firmware file, a new hook, a mode"
echo 'security_driver = "none"' >> /etc/libvirt/qemu.conf
cp /usr/share/seabios/bios.bin /usr/share/seabios/bios-256k.bin
printf '#!/bin/sh\nexit 0\n' > /etc/libvirt/hooks/qemu.d/99-other
chmod 0755 /etc/libvirt/hooks/qemu.d/99-other
chmod 4755 /usr/bin/qemu-img
rc=0; "$VIRTGOV" integrity check --fail-on-findings > "$VG_SCRATCH/check.txt" 2>&1 || rc=$?
check "check --fail-on-findings exits 3 ($rc)" test "$rc" = 3
check_now
check "qemu.conf, a conffile of libvirt's package edited by hand: conffile_edit" \
        finding /etc/libvirt/qemu.conf conffile_edit
check "a replaced ROM: unexplained" finding /usr/share/seabios/bios-256k.bin unexplained
check "a hook added to qemu.d: unexplained, added" finding /etc/libvirt/hooks/qemu.d/99-other unexplained added
check "qemu-img made setuid: unexplained" finding /usr/bin/qemu-img unexplained
"$VIRTGOV" metrics > "$VG_SCRATCH/metrics.prom"
check "metrics: open findings by class" grep -q '^virtgov_integrity_findings{class="unexplained"} 3$' "$VG_SCRATCH/metrics.prom"
check "metrics: the baseline holds" grep -q '^virtgov_integrity_baseline_intact 1$' "$VG_SCRATCH/metrics.prom"
jq_check "the mode's old and new value are said" "$VG_SCRATCH/check.json" \
        '[.rows[] | select(.path == "/usr/bin/qemu-img") | .why] == ["mode 0755 -> 4755"]'
check "the table says each in words" grep -q "qemu-img.*mode 0755 -> 4755" "$VG_SCRATCH/check.txt"
drift_events() {
        "$VIRTGOV" --json events --kind integrity. |
                jq '[.[] | select(.kind == "integrity.changed" or .kind == "integrity.added")] | length'
}
n=$(drift_events)
check "each new finding is an event ($n)" test "$n" -ge 4
check_now
check "a second check records none again" test "$(drift_events)" = "$n"

say "accepting: a ticket is required, and must be in the inventory"
rc=0; "$VIRTGOV" integrity accept /usr/bin/qemu-img 2> "$VG_SCRATCH/err" || rc=$?
check "without --ticket: refused, exit 1 ($rc)" sh -c "[ $rc = 1 ] && grep -q -- --ticket '$VG_SCRATCH/err'"
rc=0; "$VIRTGOV" integrity accept /usr/bin/qemu-img --ticket CHG-NOPE 2> "$VG_SCRATCH/err" || rc=$?
check "an unknown ticket: refused ($(head -c 100 "$VG_SCRATCH/err"))" sh -c "[ $rc = 1 ] && grep -q CHG-NOPE '$VG_SCRATCH/err'"
check "accept the four under CHG-7001" \
        "$VIRTGOV" integrity accept --all --ticket CHG-7001 --reason "hardening test"
check_now
jq_check "then nothing is open" "$VG_SCRATCH/check.json" '.findings == 0'
"$VIRTGOV" --json events --kind integrity.accepted > "$VG_SCRATCH/accepted.json"
jq_check "the accept is an event naming the ticket, the reason and the person" "$VG_SCRATCH/accepted.json" \
        '.[-1].data.ticket == "CHG-7001" and .[-1].data.reason == "hardening test" and .[-1].actor != null and (.[-1].data.paths | length) == 4'
"$VIRTGOV" --json report integrity > "$VG_SCRATCH/report.json"
jq_check "report integrity lists what was accepted, with its ticket" "$VG_SCRATCH/report.json" \
        '[.rows[] | select(.category == "accepted" and .ticket == "CHG-7001")] | length == 4'

say "a domain's own emulator: watched once a domain names it"
cp /usr/bin/qemu-system-x86_64 /usr/bin/vgqemu-custom
domain_xml vg-i-1 "<emulator>/usr/bin/vgqemu-custom</emulator>" > "$VG_SCRATCH/i1.xml"
virsh define "$VG_SCRATCH/i1.xml" >/dev/null
wait_for "the define is recorded" "$(has_event domain.defined vg-i-1 libvirt)"
check_now
check "the copied emulator: added, unexplained" finding /usr/bin/vgqemu-custom unexplained added
check "accepted under the ticket" "$VIRTGOV" integrity accept /usr/bin/vgqemu-custom --ticket CHG-7001
printf 'X' >> /usr/bin/vgqemu-custom
check_now
jq_check "then edited: its content changed" "$VG_SCRATCH/check.json" \
        '[.rows[] | select(.path == "/usr/bin/vgqemu-custom" and (.changed | contains("sha256")))] | length == 1'
"$VIRTGOV" integrity accept --all --ticket CHG-7001 >/dev/null

say "the daemon down: a domain defined meanwhile has its emulator in the next baseline"
# The inventory never hears of it; libvirt's own definition names it.
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" 2>/dev/null || true
cp /usr/bin/qemu-system-x86_64 /usr/bin/vgqemu-offline
domain_xml vg-i-2 "<emulator>/usr/bin/vgqemu-offline</emulator>" > "$VG_SCRATCH/i2.xml"
virsh define "$VG_SCRATCH/i2.xml" >/dev/null
check "the inventory has no vg-i-2" \
        test "$("$VIRTGOV" --json list | jq '[.[] | select(.name == "vg-i-2")] | length')" = 0
check "baseline, every domain file read: nothing said" \
        sh -c '"$0" integrity baseline 2> "$1" >/dev/null && ! [ -s "$1" ]' "$VIRTGOV" "$VG_SCRATCH/err"
check "the emulator vg-i-2 names is in the baseline" \
        test "$(sqlite3 /var/lib/virtgov/inventory.db \
                "SELECT count(*) FROM integrity_files WHERE path = '/usr/bin/vgqemu-offline'")" = 1
echo '<domain type="qemu"><name>vg-i-3</name><devices><emulator>/x</emulator>' > /etc/libvirt/qemu/vg-i-3.xml
json baseline > "$VG_SCRATCH/baseline.json" || true
check "a definition that cannot be read: the baseline says so ($(head -c 160 "$VG_SCRATCH/err"))" \
        grep -q 'warning: not read: /etc/libvirt/qemu/vg-i-3.xml: .*may not be watched' "$VG_SCRATCH/err"
jq_check "in its JSON too" "$VG_SCRATCH/baseline.json" \
        '.unread_domains | length == 1 and (.[0] | startswith("/etc/libvirt/qemu/vg-i-3.xml: "))'
"$VIRTGOV" --json events --kind integrity.baseline > "$VG_SCRATCH/bl.json"
jq_check "and in its event" "$VG_SCRATCH/bl.json" '.[-1].data.unread_domains | length == 1'
check_now
check "a check says so too" grep -q 'warning: not read: /etc/libvirt/qemu/vg-i-3.xml' "$VG_SCRATCH/err"
start_daemon
wait_for "and the daemon: daemon.degraded naming the file" \
        '[.[] | select(.kind == "daemon.degraded" and (.reason | test("may not be watched: not read: /etc/libvirt/qemu/vg-i-3.xml")))] | length == 1'
rm /etc/libvirt/qemu/vg-i-3.xml

say "a package update, for real: dpkg-deb and dpkg -i"
build_deb() {
        local v=$1 d=$VG_SCRATCH/vgdemo-$1
        mkdir -p "$d/DEBIAN" "$d/usr/share/vgdemo" "$d/etc/vgdemo"
        printf 'Package: vgdemo\nVersion: %s\nArchitecture: all\nMaintainer: virtgov tests <root@localhost>\nDescription: virtgov integrity test package\n' "$v" > "$d/DEBIAN/control"
        echo /etc/vgdemo/vgdemo.conf > "$d/DEBIAN/conffiles"
        echo "firmware $v" > "$d/usr/share/vgdemo/firmware.bin"
        echo "setting = $v" > "$d/etc/vgdemo/vgdemo.conf"
        dpkg-deb --root-owner-group -b "$d" "$VG_SCRATCH/vgdemo_$v.deb" >/dev/null
}
build_deb 1.0
build_deb 2.0
echo "/usr/share/vgdemo all
/etc/vgdemo all" > /etc/virtgov/integrity.d/lab.profile
check "dpkg -i vgdemo 1.0" quiet dpkg -i "$VG_SCRATCH/vgdemo_1.0.deb"
check "baseline of the lab profile" "$VIRTGOV" integrity baseline --profile lab
sleep 1.1   # dpkg's log counts in seconds: the update must be later than the baseline
check "dpkg -i vgdemo 2.0 (conffile unchanged by hand: replaced silently)" \
        quiet dpkg -i --force-confnew "$VG_SCRATCH/vgdemo_2.0.deb"
check_now --profile lab
check "the firmware: package_update" finding /usr/share/vgdemo/firmware.bin package_update
jq_check "naming the package" "$VG_SCRATCH/check.json" \
        '[.rows[] | select(.path == "/usr/share/vgdemo/firmware.bin") | .package] == ["vgdemo:all"]'
"$VIRTGOV" --json events --kind integrity.package-update > "$VG_SCRATCH/pkg.json"
jq_check "folded into the baseline with an event: vgdemo 1.0 -> 2.0" "$VG_SCRATCH/pkg.json" \
        '[.[-1].data.updates[] | select(.path == "/usr/share/vgdemo/firmware.bin" and .old_version == "1.0" and .new_version == "2.0")] | length == 1'
"$VIRTGOV" --json report integrity > "$VG_SCRATCH/report.json"
jq_check "report integrity shows the update with both versions" "$VG_SCRATCH/report.json" \
        '[.rows[] | select(.category == "package_updates" and .path == "/usr/share/vgdemo/firmware.bin") | .why] == ["matches what dpkg installed: vgdemo:all 1.0 -> 2.0"]'
check_now --profile lab
jq_check "the next check finds nothing" "$VG_SCRATCH/check.json" '.findings == 0'
echo "/etc/vgdemo all" > /etc/virtgov/integrity.d/lab2.profile
check "a second profile over the same files takes its own baseline" "$VIRTGOV" integrity baseline --profile lab2
check_now --profile lab
jq_check "and leaves the first profile's rows alone" "$VG_SCRATCH/check.json" '.findings == 0'
echo "setting = mine" > /etc/vgdemo/vgdemo.conf
check_now --profile lab
check "a hand edit of its conffile: conffile_edit" finding /etc/vgdemo/vgdemo.conf conffile_edit
dpkg -r vgdemo >/dev/null 2>&1 || true

say "an edited baseline row is caught"
sqlite3 /var/lib/virtgov/inventory.db \
        "UPDATE integrity_files SET sha256 = '$(printf '0%.0s' $(seq 64))' WHERE path = '/usr/bin/qemu-system-x86_64'"
rc=0; "$VIRTGOV" integrity check > /dev/null 2> "$VG_SCRATCH/err" || rc=$?
check "check refuses, exit 1 ($(head -c 120 "$VG_SCRATCH/err"))" \
        sh -c "[ $rc = 1 ] && grep -q 'does not match its newest recorded digest' '$VG_SCRATCH/err'"
rc=0; "$VIRTGOV" integrity status > "$VG_SCRATCH/status.txt" || rc=$?
check "status says so, exit 1 ($rc)" sh -c "[ $rc = 1 ] && grep -q 'does not match' '$VG_SCRATCH/status.txt'"
check "metrics say it no longer holds" sh -c '"$0" metrics | grep -q "^virtgov_integrity_baseline_intact 0$"' "$VIRTGOV"
rc=0; "$VIRTGOV" verify > "$VG_SCRATCH/verify.txt" || rc=$?
check "verify says so, exit 1 ($rc)" sh -c "[ $rc = 1 ] && grep -q 'integrity baseline: the integrity baseline' '$VG_SCRATCH/verify.txt'"
rc=0; "$VIRTGOV" integrity accept --all --ticket CHG-7001 2> "$VG_SCRATCH/err" || rc=$?
check "accept will not launder it, exit 1 ($rc)" test "$rc" = 1
check "a new baseline answers it" "$VIRTGOV" integrity baseline
check "verify is then clean" quiet "$VIRTGOV" verify

say "each profile has its own digest: an edited row of one is caught by its check and by verify"
mkdir -p /etc/vg-hostlike && echo "x = 1" > /etc/vg-hostlike/host.conf
echo "/etc/vg-hostlike all" > /etc/virtgov/integrity.d/hostlike.profile
# (The profile file is one of virtgov's own, which the isolation profile
# watches: both baselines taken again, together.)
check "a second profile's baseline" "$VIRTGOV" integrity baseline --profile isolation --profile hostlike
sqlite3 /var/lib/virtgov/inventory.db \
        "UPDATE integrity_files SET mode = 511 WHERE profile = 'hostlike' AND path = '/etc/vg-hostlike/host.conf'"
rc=0; "$VIRTGOV" integrity check --profile hostlike > /dev/null 2> "$VG_SCRATCH/err" || rc=$?
check "its check refuses, naming the profile, exit 1 ($(head -c 120 "$VG_SCRATCH/err"))" \
        sh -c "[ $rc = 1 ] && grep -q \"profile 'hostlike' .* does not match its newest recorded digest\" '$VG_SCRATCH/err'"
check_now
jq_check "a check of the isolation profile reads only its own rows, and finds nothing" "$VG_SCRATCH/check.json" \
        '.findings == 0'
rc=0; "$VIRTGOV" verify > "$VG_SCRATCH/verify.txt" || rc=$?
check "verify says so, exit 1 ($rc)" sh -c "[ $rc = 1 ] && grep -q \"profile 'hostlike'\" '$VG_SCRATCH/verify.txt'"
check "its baseline retaken answers it" "$VIRTGOV" integrity baseline --profile hostlike
check "verify is then clean" quiet "$VIRTGOV" verify

say "the disk fills while a new baseline is written: the old one stays whole"
mkdir -p /var/lib/vg-small /etc/vg-small/integrity.d
mount -t tmpfs -o size=2m tmpfs /var/lib/vg-small
cat > /etc/vg-small/virtgov.conf <<CONF
inventory = /var/lib/vg-small/inventory.db
spool_dir = /var/lib/vg-small/spool
integrity_profiles = small
integrity_dir = /etc/vg-small/integrity.d
syslog = no
CONF
echo "/etc/vgdemo all" > /etc/vg-small/integrity.d/small.profile
echo "/usr/share/doc all" > /etc/vg-small/integrity.d/big.profile
small() { VIRTGOV_CONFIG=/etc/vg-small/virtgov.conf "$VIRTGOV" "$@"; }
small hooks install --from "$VG_HOOK" --hooks-dir "$VG_SCRATCH/small-hooks" >/dev/null
check "a small baseline fits" small integrity baseline
before=$(small --json integrity status | jq .files)
dd if=/dev/zero of=/var/lib/vg-small/filler bs=64k 2>/dev/null || true
rc=0; small integrity baseline --profile small --profile big 2> "$VG_SCRATCH/err" || rc=$?
check "the big one fails, saying why, exit 1 ($rc: $(head -c 140 "$VG_SCRATCH/err"))" \
        sh -c "[ $rc = 1 ] && grep -qi 'full' '$VG_SCRATCH/err'"
rm -f /var/lib/vg-small/filler
small --json integrity status > "$VG_SCRATCH/small.json" || true
jq_check "the old baseline is still there, whole and matching its digest" "$VG_SCRATCH/small.json" \
        ".baseline == \"intact\" and .files == $before"
umount /var/lib/vg-small

say "a baseline taken on another host (an inventory copied over)"
rc=0; unshare --uts sh -c 'hostname vg-elsewhere && "$0" integrity check' "$VIRTGOV" > /dev/null 2> "$VG_SCRATCH/err" || rc=$?
check "is refused, naming both hosts, exit 1 ($(head -c 140 "$VG_SCRATCH/err"))" \
        sh -c "[ $rc = 1 ] && grep -q \"taken on host '$(hostname)', and this is 'vg-elsewhere'\" '$VG_SCRATCH/err'"

say "the running kernel, from fixtures: this kernel has no modules of its own"
# A module tree of compiler-built objects with a .modinfo section (the
# unit build's fixtures), signed by appending the magic; a /proc/modules
# with taint letters and two bad lines; /boot with a newer kernel; a dpkg
# database that ships three of the modules.
K=$VG_SCRATCH/kernel R=6.1.0-18-amd64
M=$K/modules/$R DATA=$(dirname "$0")/../data/kernel OBJ=$VG_BUILD/tests/unit
mkdir -p "$M/kernel/arch/x86/kvm" "$M/updates/dkms" "$M/kernel/drivers" "$K/boot" "$K/dpkg/info" \
        /etc/vg-kernel/integrity.d
signed() { cat "$1"; printf '~Module signature appended~\n'; }
signed "$OBJ/vgkvm.o" > "$M/kernel/arch/x86/kvm/vgkvm.ko"
signed "$OBJ/vgkvm.o" > "$M/kernel/arch/x86/kvm/vgkvm-intel.ko"
signed "$OBJ/vgkvm.o" > "$M/kernel/drivers/vgforced.ko"
cp "$OBJ/vgoot.o" "$M/updates/dkms/vgoot.ko"
printf '\3757zXZ\0\0not really xz' > "$M/kernel/drivers/vgxz.ko.xz"
printf '#!/bin/sh\necho not a module\n' > "$M/kernel/drivers/vgbad.ko"
cp "$DATA/modules.dep" "$M/"
cp "$DATA/proc-modules" "$K/proc-modules"
echo 12289 > "$K/tainted"
touch "$K/boot/vmlinuz-$R" "$K/boot/vmlinuz-6.1.0-20-amd64" "$K/boot/vmlinuz-6.1.0-21-rt-amd64"
printf 'Package: linux-image-%s\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.1.76-1\nDescription: Linux\n' \
        "$R" > "$K/dpkg/status"
: > "$K/dpkg/info/linux-image-$R.list"
for f in kernel/arch/x86/kvm/vgkvm.ko kernel/arch/x86/kvm/vgkvm-intel.ko kernel/drivers/vgxz.ko.xz; do
        echo "$M/$f" >> "$K/dpkg/info/linux-image-$R.list"
        (cd / && md5sum "${M#/}/$f") >> "$K/dpkg/info/linux-image-$R.md5sums"
done
cat > /etc/vg-kernel/virtgov.conf <<CONF
syslog = no
integrity_dir = /etc/vg-kernel/integrity.d
dpkg_admindir = $K/dpkg
dpkg_log = $K/dpkg.log
kernel_proc_modules = $K/proc-modules
kernel_tainted = $K/tainted
kernel_modules_root = $K/modules
kernel_boot_dir = $K/boot
kernel_release = $R
CONF
echo "$M all" > /etc/vg-kernel/integrity.d/kmods.profile
kern() { VIRTGOV_CONFIG=/etc/vg-kernel/virtgov.conf "$VIRTGOV" "$@"; }
check "a baseline of the module tree" quiet kern integrity baseline --profile kmods
printf 'X' >> "$M/kernel/arch/x86/kvm/vgkvm-intel.ko"
kern --json integrity kernel > "$VG_SCRATCH/kernel.json" || true
# status MODULE WORDS: the module's row has that status.
status() {
        jq -e --arg m "$1" --arg s "$2" '[.rows[] | select(.module == $m) | .status] == [$s]' "$VG_SCRATCH/kernel.json" >/dev/null
}
jq_check "the release, the newest of its flavour (not -rt), a reboot pending" "$VG_SCRATCH/kernel.json" \
        '.release == "6.1.0-18-amd64" and .newest == "6.1.0-20-amd64" and .reboot_pending and .modules == 8'
jq_check "taint 12289 in words: P, O, E" "$VG_SCRATCH/kernel.json" \
        '.taint.letters == "POE" and ([.taint.flags[].meaning] | index("unsigned module was loaded")) != null'
check "vgkvm: signed, in-tree, its package's MD5: ok" status vgkvm ok
jq_check "vgkvm names its package" "$VG_SCRATCH/kernel.json" \
        '[.rows[] | select(.module == "vgkvm") | .package] == ["linux-image-6.1.0-18-amd64:amd64"]'
check "vgkvm_intel, a byte appended since the baseline: changed, unsigned (the magic no longer ends it), package-mismatch" \
        status vgkvm_intel changed,unsigned,package-mismatch
check "vgoot (POE, no intree=Y): out-of-tree, unsigned, proprietary, not from a package" \
        status vgoot out-of-tree,unsigned,proprietary,not-from-a-package
check "vgforced (F): forced, not from a package" status vgforced forced,not-from-a-package
check "vggone: missing" status vggone missing
check "vgxz (compressed, its package's): ok" status vgxz ok
check "vgbad, a script: not-a-module" status vgbad not-from-a-package,not-a-module
check "vgrootkit, in no modules.dep: unresolved" status vgrootkit unresolved,out-of-tree,unsigned
jq_check "the bad lines are said, with file and line" "$VG_SCRATCH/kernel.json" \
        '[.rows[] | select(.status == "unparsed") | .why | test("modules.dep:8: expected")] == [true]'
rc=0; kern integrity kernel --fail-on-findings > "$VG_SCRATCH/kernel.txt" || rc=$?
check "--fail-on-findings exits 3 ($rc)" test "$rc" = 3
check "the table says reboot pending and the taint in words" sh -c \
        "grep -q '^newest  *6.1.0-20-amd64: reboot pending' '$VG_SCRATCH/kernel.txt' &&
         grep -q 'E  unsigned module was loaded' '$VG_SCRATCH/kernel.txt'"
sed -n '/^MODULE/,/^$/p' "$VG_SCRATCH/kernel.txt" | sed '/^$/d' > "$VG_SCRATCH/kernel-table.txt"
check "the module table is aligned" aligned "$VG_SCRATCH/kernel-table.txt" STATUS '[a-z-]' FILE '(/|\(unresolved\))'
kern --json report integrity > "$VG_SCRATCH/kreport.json" || true
jq_check "report integrity has a kernel row per finding" "$VG_SCRATCH/kreport.json" \
        '[.rows[] | select(.category == "kernel" and .finding)] | length == 9'
jq_check "among them vgoot's, with its taint letters" "$VG_SCRATCH/kreport.json" \
        '[.rows[] | select(.category == "kernel" and .module == "vgoot") | .taint] == ["POE"]'
mv "$M/modules.dep" "$M/modules.dep.away"
kern --json integrity kernel > "$VG_SCRATCH/kernel2.json" || true
jq_check "no modules.dep: said, and every module unresolved" "$VG_SCRATCH/kernel2.json" \
        '([.rows[] | select(.status == "no-modules-dep")] | length == 1) and
         ([.rows[] | select(.category == "module" and (.status | startswith("unresolved")))] | length == 8)'
mv "$M/modules.dep.away" "$M/modules.dep"
printf 'garbage\nvgkvm 1 0 - Live\n' > "$K/proc-modules"
rc=0; kern integrity kernel > /dev/null 2>&1 || rc=$?
check "a garbage /proc/modules is no error ($rc)" test "$rc" = 0
rm "$K/proc-modules"
kern --json integrity kernel > "$VG_SCRATCH/kernel3.json" || true
jq_check "no /proc/modules: a kernel without modules" "$VG_SCRATCH/kernel3.json" \
        '.modules_supported == false and .modules == 0'

say "two files whose names differ in a byte that is not UTF-8: told apart in JSON"
mkdir -p /etc/vg-names
echo "/etc/vg-names all" > /etc/virtgov/integrity.d/names.profile
check "a baseline of an empty directory" quiet "$VIRTGOV" integrity baseline --profile names
echo a > "/etc/vg-names/$(printf 'caf\xe9')"
echo b > "/etc/vg-names/$(printf 'caf\xe8')"
check_now --profile names
jq_check "integrity check --json: the same readable path, path_bytes apart" "$VG_SCRATCH/check.json" \
        '[.rows[] | select(.path == "/etc/vg-names/caf?") | .path_bytes] | sort
         == ["2f6574632f76672d6e616d65732f636166e8", "2f6574632f76672d6e616d65732f636166e9"]'
"$VIRTGOV" --json events --kind integrity. > "$VG_SCRATCH/names-events.json"
jq_check "and so are their events' data" "$VG_SCRATCH/names-events.json" \
        '[.[] | select(.data.path == "/etc/vg-names/caf?") | .data.path_bytes] | sort
         == ["2f6574632f76672d6e616d65732f636166e8", "2f6574632f76672d6e616d65732f636166e9"]'

finish
