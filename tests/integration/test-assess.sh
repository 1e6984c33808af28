#!/bin/bash
# virtgov assess against a real libvirtd: the daemons' config and real
# sockets, domains libvirt itself wrote to /etc/libvirt/qemu, the hooks
# and policy as installed; exceptions; a syntax error in qemu.conf; the
# drift recorded by the CLI and by the daemon after an edit.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
start_libvirt
mkdir -p /etc/virtgov /var/lib/libvirt/images
echo '{ "mode": "enforce", "default": "allow" }' > /etc/virtgov/policy.json
chmod 0644 /etc/virtgov/policy.json

qemu-img create -q -f qcow2 /var/lib/libvirt/images/clean.qcow2 8M
domain_xml vg-a-clean "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/clean.qcow2'/><target dev='vda' bus='virtio'/></disk>" > "$VG_SCRATCH/clean.xml"
cat > "$VG_SCRATCH/risky.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>vg-a-risky</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'/>
    <serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555'/><protocol type='raw'/><target port='0'/></serial>
    <shmem name='vg-shared'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>
  </devices>
  <qemu:commandline><qemu:arg value='-no-user-config'/></qemu:commandline>
</domain>
XML
virsh define "$VG_SCRATCH/clean.xml" >/dev/null
virsh define "$VG_SCRATCH/risky.xml" >/dev/null

say "a run against the sandbox's libvirtd"
"$VIRTGOV" --json assess > "$VG_SCRATCH/a.json"
A=$VG_SCRATCH/a.json
st() { echo "(.checks[] | select(.id == \"$1\"))"; }
jq_check "at least 45 checks, each with a status" "$A" '(.checks | length) >= 45 and all(.checks[]; .status != null)'
jq_check "the running libvirtd's config is what the daemon checks judge" "$A" \
        "[$(st VG-LVD-003).results[].where] == [\"/etc/libvirt/libvirtd.conf\"]"
jq_check "the real read-write socket was looked at" "$A" \
        "$(st VG-LVD-009).results[0].where == \"/run/libvirt/libvirt-sock\" and ($(st VG-LVD-009).status | IN(\"pass\", \"fail\"))"
jq_check "qemu:commandline of vg-a-risky, at its line in the XML libvirt wrote" "$A" \
        "$(st VG-DOM-001) | .status == \"fail\" and any(.results[]; .domain == \"vg-a-risky\" and (.where | test(\"^/etc/libvirt/qemu/vg-a-risky.xml:[0-9]+\$\")))"
jq_check "vg-a-clean passes the same check" "$A" \
        "any($(st VG-DOM-001).results[]; .domain == \"vg-a-clean\" and .status == \"pass\")"
jq_check "the open VNC console, the TCP serial and the shmem are found" "$A" \
        "[$(st VG-DOM-003).status, $(st VG-DOM-007).status, $(st VG-DOM-005).status] == [\"fail\", \"fail\", \"fail\"]"
jq_check "the hooks are installed and the policy enforces" "$A" \
        "[$(st VG-VG-001).status, $(st VG-VG-003).status] == [\"pass\", \"pass\"]"
jq_check "every result carries what, where and the check's references" "$A" \
        'all(.checks[]; .references.ism != null and .remediation != null and all(.results[]; has("found") and has("where") and has("domain")))'
jq_check "the run was recorded" "$A" '.recorded_event > 0'
check "assess.run is in the inventory with its digest" test \
        "$("$VIRTGOV" --json events --kind assess.run | jq -r --arg d "$(jq -r .digest "$A")" '.[-1].data.digest == $d')" = true

say "the table: grouped by area, aligned"
"$VIRTGOV" assess --no-record > "$VG_SCRATCH/a.txt" || true
check "areas head their groups" grep -qx "qemu.conf" "$VG_SCRATCH/a.txt"
check "status column aligned in every row" awk '/^  ID /{ c = index($0, "STATUS") } /^  VG-/{ if (substr($0, c - 1, 1) != " " || substr($0, c) !~ /^(pass|fail|error|excepted|not-applicable) /) bad = 1 } END { exit bad }' "$VG_SCRATCH/a.txt"
check "a failing check says where and how to fix" grep -q "fix: " "$VG_SCRATCH/a.txt"
rc=0; "$VIRTGOV" assess --no-record --fail-on-findings >/dev/null || rc=$?
check "--fail-on-findings exits 3" test "$rc" = 3
"$VIRTGOV" assess --no-record --csv > "$VG_SCRATCH/a.csv"
check "--csv has its header and a row per result" test "$(head -1 "$VG_SCRATCH/a.csv" | tr -d '\r')" = \
        "id,area,severity,check_status,status,title,found,where,domain,ticket,expires,expected,remediation,ism,doc"

say "exceptions"
cat > /etc/virtgov/assess-exceptions.json <<'JSON'
[
  { "id": "VG-DOM-001", "domain": "vg-a-*", "ticket": "CHG-7001", "expires": "2099-01-01",
    "reason": "QEMU flags the lab needs" }
]
JSON
"$VIRTGOV" --json assess --no-record --check VG-DOM-001 > "$VG_SCRATCH/e.json"
jq_check "an excepted failure reports its ticket" "$VG_SCRATCH/e.json" \
        '.checks[0].status == "excepted" and any(.checks[0].results[]; .exception.ticket == "CHG-7001")'
printf '[\n  { "id": "VG-DOM-001", "ticket": "T",\n    "scope": "x" } ]\n' > "$VG_SCRATCH/bad-ex.json"
rc=0; "$VIRTGOV" assess --no-record --exceptions "$VG_SCRATCH/bad-ex.json" 2> "$VG_SCRATCH/ex.err" >/dev/null || rc=$?
check "an unknown key in the exceptions: exit 1 naming file:line:column" \
        grep -q "bad-ex.json:3:5: exception 1: unknown key 'scope'" "$VG_SCRATCH/ex.err"
check "... with exit status 1" test "$rc" = 1
rm /etc/virtgov/assess-exceptions.json

say "qemu.conf as libvirt reads it"
cp /etc/libvirt/qemu.conf "$VG_SCRATCH/qemu.conf.orig"
printf 'security_driver "none"\n' >> /etc/libvirt/qemu.conf
"$VIRTGOV" --json assess --no-record --check VG-QEMU-001 > "$VG_SCRATCH/s.json"
jq_check "a syntax error is an error naming file:line:column, never a pass" "$VG_SCRATCH/s.json" \
        '.checks[0].status == "error" and (.checks[0].results[0].found | test("^/etc/libvirt/qemu.conf:[0-9]+:17: expecting an assignment"))'

say "drift, recorded by the CLI"
cp "$VG_SCRATCH/qemu.conf.orig" /etc/libvirt/qemu.conf
printf 'security_driver = "none"\nsecurity_driver = "apparmor"\n' >> /etc/libvirt/qemu.conf
"$VIRTGOV" assess > /dev/null || true
wait_for "security_driver = \"none\" (the first of two) is a regression" \
        '[.[] | select(.kind == "assess.regressed" and .data.check == "VG-QEMU-001" and .source == "cli")] | length == 1' 5
cp "$VG_SCRATCH/qemu.conf.orig" /etc/libvirt/qemu.conf
"$VIRTGOV" assess > /dev/null || true
wait_for "and its removal a fix" \
        '[.[] | select(.kind == "assess.fixed" and .data.check == "VG-QEMU-001")] | length == 1' 5

say "drift, found by the daemon after an edit"
start_daemon
wait_for "the daemon assesses at start" '[.[] | select(.kind == "assess.run" and .source == "daemon")] | length > 0' 20
printf 'seccomp_sandbox = 0\n' >> /etc/libvirt/qemu.conf
wait_for "an edit of qemu.conf is a regression within seconds" \
        '[.[] | select(.kind == "assess.regressed" and .data.check == "VG-QEMU-007" and .source == "daemon")] | length == 1' 20
cp "$VG_SCRATCH/qemu.conf.orig" /etc/libvirt/qemu.conf
wait_for "and undoing it a fix" \
        '[.[] | select(.kind == "assess.fixed" and .data.check == "VG-QEMU-007" and .source == "daemon")] | length == 1' 20

say "metrics and the evidence bundle"
check "metrics count failed checks by severity" sh -c "'$VIRTGOV' metrics | grep -q '^virtgov_assess_failed_checks{severity=\"high\"} [1-9]'"
"$VIRTGOV" report evidence --out "$VG_SCRATCH/ev" >/dev/null
jq_check "the bundle holds the latest assessment" "$VG_SCRATCH/ev/assessment.json" '(.checks | length) >= 45'
jq_check "and the history of regressions and fixes" "$VG_SCRATCH/ev/assessment-history.json" \
        '[.[] | select(.kind == "assess.regressed" or .kind == "assess.fixed")] | length >= 4'
check "index.md maps it to ISM-1605" grep -q "assessment.json / .md.*ISM-1605" "$VG_SCRATCH/ev/index.md"

kill "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" || true
stop_libvirt
finish
