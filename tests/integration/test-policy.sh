#!/bin/bash
# Policy on a real libvirtd: unapproved VMs do not start and virsh says why;
# an approval or a ticket whose window covers now lets them; an expired
# ticket does not, nor one whose glob does not match the domain, whatever
# its metadata claims; ticket IDs, names and imports are bounded, and one
# bad row fails no other decision; audit mode lets them start and records a violation; a
# truncated policy blocks starts and 'policy check' names line and column.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
start_libvirt
POLICY=/etc/virtgov/policy.json
mkdir -p /etc/virtgov
echo '{ "mode": "enforce", "default": "deny" }' > "$POLICY"

define() {
        domain_xml "$1" > "$VG_SCRATCH/$1.xml"
        [ -n "${2:-}" ] && sed -i "s|<vg:ticket>CHG-1042</vg:ticket>|<vg:ticket>$2</vg:ticket>|" "$VG_SCRATCH/$1.xml"
        virsh define "$VG_SCRATCH/$1.xml" >/dev/null
}

# start_fails NAME: virsh start must fail; its error is kept in $VG_SCRATCH/err
start_fails() {
        ! virsh start "$1" > /dev/null 2> "$VG_SCRATCH/err"
}

say "enforce, default deny: an unapproved VM does not start"
define vg-p-1 CHG-NONE
check "virsh start of an unapproved VM fails" start_fails vg-p-1
check "virsh's error names virtgov and why" \
        grep -q "virtgov: start of 'vg-p-1' denied: not approved (virtgov approve 'vg-p-1')" "$VG_SCRATCH/err"
check "the guest is not running" test "$(virsh domstate vg-p-1)" = "shut off"
"$VIRTGOV" --json events --domain vg-p-1 --kind domain.prepare > "$VG_SCRATCH/deny.json"
jq_check "the prepare event records deny, the reason and the rule" "$VG_SCRATCH/deny.json" \
        '.[-1].decision == "deny" and (.[-1].reason | startswith("not approved")) and .[-1].data.rule == "default"'
jq_check "every reason is on the event" "$VG_SCRATCH/deny.json" \
        '(.[-1].data.policy.reasons | length) == 2'

say "after virtgov approve it starts"
check "virtgov approve" "$VIRTGOV" approve vg-p-1
check "virsh start succeeds" virsh start vg-p-1
"$VIRTGOV" --json events --domain vg-p-1 --kind domain.prepare > "$VG_SCRATCH/allow.json"
jq_check "the prepare event records allow" "$VG_SCRATCH/allow.json" '.[-1].decision == "allow"'
check "the approval is an event with the acting user" \
        test "$("$VIRTGOV" --json events --kind approval.granted | jq -r '.[-1].actor')" != null
virsh destroy vg-p-1 >/dev/null
check "revoke, and it is blocked again" sh -c '"$0" revoke vg-p-1 >/dev/null && ! virsh -q -c qemu:///system start vg-p-1 2>/dev/null' "$VIRTGOV"

say "a ticket named in the metadata, window covering now: it starts"
define vg-p-2 CHG-2001
check "ticket add" "$VIRTGOV" ticket add CHG-2001 --domain 'vg-p-2' --from 1h --until +1h --approved-by cab
check "virsh start succeeds under the ticket" virsh start vg-p-2
virsh destroy vg-p-2 >/dev/null

say "an expired ticket: it does not"
define vg-p-3 CHG-3001
"$VIRTGOV" ticket add CHG-3001 --domain 'vg-p-3' --from 3h --until 1h >/dev/null
check "virsh start fails" start_fails vg-p-3
check "the error says the ticket expired" grep -q "change ticket 'CHG-3001' expired at" "$VG_SCRATCH/err"

say "a ticket imported from a change system, by domain glob"
cat > "$VG_SCRATCH/tickets.json" <<JSON
[ { "id": "CHG-4001", "domain": "vg-p-*", "action": "start", "from": "2020-01-01T00:00:00Z",
    "until": "2099-01-01T00:00:00Z", "approved_by": "change board" } ]
JSON
check "ticket import" "$VIRTGOV" ticket import "$VG_SCRATCH/tickets.json"
check "vg-p-3 now starts under the imported ticket" virsh start vg-p-3
virsh destroy vg-p-3 >/dev/null
echo '[ { "id": "Y", "domain": "b", "from": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z" },
        { "id": "X", "domain": "a", "from": "yesterday", "until": "2099-01-01T00:00:00Z" } ]' > "$VG_SCRATCH/bad.json"
check "a bad import exits non-zero" sh -c '! "$0" ticket import "$1" 2> "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/bad.json" "$VG_SCRATCH/import-err"
check "it names the ticket and the field" grep -q "ticket 1: 'from' and 'until' must be RFC 3339" "$VG_SCRATCH/import-err"
check "an import from standard input (-)" sh -c '"$0" ticket import - < "$1" > "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/tickets.json" "$VG_SCRATCH/import-out"
check "it reads it whole: one ticket, as held" grep -q "imported 1 ticket(s) from -: 0 added, 0 replaced, 1 already" \
        "$VG_SCRATCH/import-out"
mkfifo "$VG_SCRATCH/fifo.json"
check "a FIFO named as the file is refused at once, pointing to -" \
        sh -c '! timeout 10 "$0" ticket import "$1" 2> "$2" && grep -q "not a regular file (give - to read standard input)" "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/fifo.json" "$VG_SCRATCH/import-err"
check "nothing of it was imported" test "$("$VIRTGOV" --json ticket list | jq '[.[] | select(.id == "Y")] | length')" = 0

say "a ticket covers only the domains its glob matches: metadata naming another's ticket is denied"
define vg-p-5 CHG-6001
"$VIRTGOV" ticket add CHG-6001 --domain 'other' --from 1h --until +1h >/dev/null
check "virsh start of a domain borrowing another's ticket fails" start_fails vg-p-5
check "the error names the ticket and the domain" \
        grep -q "its metadata names change ticket 'CHG-6001', which does not cover 'vg-p-5' (its domains: 'other')" \
        "$VG_SCRATCH/err"
virsh dumpxml vg-p-5 > "$VG_SCRATCH/p5.xml"
check "policy test says the same, exit 1" sh -c '! "$0" policy test --xml "$1" > "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/p5.xml" "$VG_SCRATCH/trace5"
check "its trace names both" grep -q "change ticket 'CHG-6001', which does not cover 'vg-p-5'" "$VG_SCRATCH/trace5"

say "ticket globs are fnmatch's, as the policy's: [!x] matches"
define vg-q-1 CHG-NONE
"$VIRTGOV" ticket add CHG-6002 --domain 'vg-q-[!x]' --from 1h --until +1h >/dev/null
check "vg-q-1 starts under 'vg-q-[!x]'" virsh start vg-q-1
virsh destroy vg-q-1 >/dev/null

say "duplicate ticket IDs: refused in an import, and in an add without --replace"
cat > "$VG_SCRATCH/dup.json" <<JSON
[ { "id": "CHG-7001", "domain": "vg-none", "from": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z" },
  { "id": "CHG-7002", "domain": "vg-none", "from": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z" },
  { "id": "CHG-7001", "domain": "*", "from": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z" } ]
JSON
check "an import with an ID twice exits non-zero" sh -c '! "$0" ticket import "$1" 2> "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/dup.json" "$VG_SCRATCH/dup-err"
check "it names the ID and both places" grep -q "ticket 2: ID 'CHG-7001' is ticket 0's too" "$VG_SCRATCH/dup-err"
check "nothing of it was imported" \
        test "$("$VIRTGOV" --json ticket list | jq '[.[] | select(.id | startswith("CHG-700"))] | length')" = 0
check "ticket add over an existing ID is refused" \
        sh -c '! "$0" ticket add CHG-6001 --domain "*" --from 1h --until +1h 2> "$1"' "$VIRTGOV" "$VG_SCRATCH/add-err"
check "it says --replace" grep -q "give --replace to replace it" "$VG_SCRATCH/add-err"
check "the ticket keeps its scope" \
        test "$("$VIRTGOV" --json ticket list | jq -r '.[] | select(.id == "CHG-6001") | .domain')" = other
check "ticket add --replace replaces it" "$VIRTGOV" ticket add CHG-6001 --domain 'vg-p-5' --from 1h --until +1h --replace
jq_check "a ticket.replaced event records the old and the new scope" <("$VIRTGOV" --json events --kind ticket.replaced) \
        '.[-1].data.ticket == "CHG-6001" and .[-1].data.old.domain == "other" and .[-1].data.new.domain == "vg-p-5"'
check "now the claim holds: vg-p-5 starts" virsh start vg-p-5
virsh destroy vg-p-5 >/dev/null

say "bounds: an over-long glob or a 50 MB import is refused at input"
long=$(head -c 50001 /dev/zero | tr '\0' x)
check "ticket add with a 50,001-byte glob: usage error" \
        sh -c '"$0" ticket add T-LONG --domain "$1" --from 2020-01-01 --until 2020-01-02 2> "$2"; test $? = 2' \
        "$VIRTGOV" "$long" "$VG_SCRATCH/long-err"
check "it says the bound" grep -q "its domain glob is 50001 bytes, over the limit of 1024" "$VG_SCRATCH/long-err"
check "approve of a 300-byte name: usage error" \
        sh -c '"$0" approve "$1" 2>/dev/null; test $? = 2' "$VIRTGOV" "$(head -c 300 /dev/zero | tr '\0' n)"
head -c 52428800 /dev/zero | tr '\0' ' ' > "$VG_SCRATCH/big.json"
check "a 50 MB import exits non-zero" sh -c '! "$0" ticket import "$1" 2> "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/big.json" "$VG_SCRATCH/big-err"
check "it says the limit" grep -q "larger than 16 MiB, the limit of one import" "$VG_SCRATCH/big-err"
rm -f "$VG_SCRATCH/big.json"

say "one bad row (as an older virtgov or a hand could leave) fails no other decision"
sqlite3 /var/lib/virtgov/inventory.db "INSERT INTO tickets (id, domain_glob, action, valid_from, valid_until, time)
        VALUES ('T-LONG', printf('%.50001c', 'x'), 'start', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z',
                '2020-01-01T00:00:00Z')"
"$VIRTGOV" approve vg-p-1 >/dev/null   # a change: the hook's copy is made again, with the row
check "an approved VM still starts" virsh start vg-p-1
virsh destroy vg-p-1 >/dev/null
check "verify exits 1" sh -c '! "$0" verify > "$1"' "$VIRTGOV" "$VG_SCRATCH/verify"
check "verify names the row and why" \
        grep -q "ticket 'T-LONG': its domain glob is 50001 bytes, over the limit of 1024" "$VG_SCRATCH/verify"

say "a rule: explicit deny beats approval; policy test shows the trace"
cat > "$POLICY" <<'JSON'
{ "mode": "enforce", "default": "deny",
  "rules": [ { "name": "no-raw-qemu", "match": { "name": "vg-p-*" }, "require": { "no_qemu_commandline": true, "max_vcpus": 1 } } ] }
JSON
check "policy check accepts it" "$VIRTGOV" policy check
virsh dumpxml vg-p-2 > "$VG_SCRATCH/p2.xml"
check "policy test allows vg-p-2" "$VIRTGOV" policy test --xml "$VG_SCRATCH/p2.xml"
check "policy test reads the XML from standard input too" sh -c 'virsh dumpxml vg-p-2 | "$0" policy test --xml -' "$VIRTGOV"
sed -i 's|<vcpu placement=.static.>1</vcpu>|<vcpu placement="static">4</vcpu>|' "$VG_SCRATCH/p2.xml"
check "policy test denies 4 vCPUs, exit 1" sh -c '! "$0" policy test --xml "$1" > "$2"' \
        "$VIRTGOV" "$VG_SCRATCH/p2.xml" "$VG_SCRATCH/trace"
check "the trace names the rule and the reason" \
        grep -q "DENY (rule 'no-raw-qemu')" "$VG_SCRATCH/trace"

say "audit mode: the unapproved VM starts and a violation is recorded"
define vg-a-1 CHG-NONE
echo '{ "mode": "audit", "default": "deny" }' > "$POLICY"
check "virsh start succeeds in audit mode" virsh start vg-a-1
"$VIRTGOV" --json events --domain vg-a-1 > "$VG_SCRATCH/audit.json"
jq_check "policy.violation recorded with the reason" "$VG_SCRATCH/audit.json" \
        '[.[] | select(.kind == "policy.violation" and .decision == "deny" and (.reason | startswith("not approved")))] | length == 1'
jq_check "the prepare itself is allowed, saying it would deny" "$VG_SCRATCH/audit.json" \
        '[.[] | select(.kind == "domain.prepare" and .decision == "allow" and (.reason | startswith("audit: would deny")))] | length == 1'
virsh destroy vg-a-1 >/dev/null

say "policy replay: what a candidate policy would have denied"
echo '{ "mode": "enforce", "default": "allow", "rules": [ { "name": "no-vg-a", "match": { "name": "vg-a-*" }, "action": "deny" } ] }' > "$VG_SCRATCH/candidate.json"
"$VIRTGOV" --json policy replay --policy "$VG_SCRATCH/candidate.json" > "$VG_SCRATCH/replay.json"
jq_check "replay finds the audit-mode start of vg-a-1 and only it" "$VG_SCRATCH/replay.json" \
        '.would_deny == 1 and ([.activations[] | select(.would == "deny") | .domain] == ["vg-a-1"]) and .replayed >= 4'
jq_check "it says which rule" "$VG_SCRATCH/replay.json" \
        '[.activations[] | select(.would == "deny") | .rule] == ["no-vg-a"]'
check "replay refuses a broken candidate" sh -c '! "$0" policy replay --policy /dev/null 2>/dev/null' "$VIRTGOV"

say "a truncated policy blocks starts and policy check says where"
printf '{ "mode": "enforce",\n  "default": "al' > "$POLICY"
check "virsh start fails" start_fails vg-p-2
check "the error names the policy file" grep -q "virtgov: start of 'vg-p-2' denied: policy unreadable: $POLICY:2:" "$VG_SCRATCH/err"
check "policy check exits non-zero" sh -c '! "$0" policy check 2> "$1"' "$VIRTGOV" "$VG_SCRATCH/check"
check "policy check gives line and column" grep -qE "$POLICY:2:[0-9]+: " "$VG_SCRATCH/check"
check "policy.error is recorded" test "$("$VIRTGOV" --json events --kind policy.error | jq length)" -ge 1

say "XML the hook cannot read, under a policy: on_error denies and says why"
echo '{ "mode": "enforce", "default": "allow" }' > "$POLICY"
check "garbage on stdin at prepare: exit 1" sh -c '! /etc/libvirt/hooks/qemu.d/50-virtgov vg-x prepare begin - < "$0" 2> "$1"' \
        "$(dirname "$0")/../data/domxml/garbage/input.xml" "$VG_SCRATCH/err"
check "the message says the XML could not be read, and where" \
        grep -q "virtgov: start of 'vg-x' denied: the domain XML could not be read: line 1" "$VG_SCRATCH/err"
check "the same at reconnect: exit 0" sh -c '/etc/libvirt/hooks/qemu.d/50-virtgov vg-x reconnect begin - < "$0"' \
        "$(dirname "$0")/../data/domxml/garbage/input.xml"

say "no policy file at all: everything allowed and recorded"
rm -f "$POLICY"
check "virsh start succeeds" virsh start vg-p-2
check "the prepare says there is no policy" \
        test "$("$VIRTGOV" --json events --domain vg-p-2 --kind domain.prepare | jq -r '.[-1].reason')" = "no policy at '$POLICY'"
virsh destroy vg-p-2 >/dev/null

say "trusted images: an overlay on an untrusted base is denied until the base is trusted"
IMG=/var/lib/libvirt/images/vgtest
mkdir -p "$IMG"
qemu-img create -q -f qcow2 "$IMG/golden.qcow2" 16M
qemu-img create -q -f qcow2 -b "$IMG/golden.qcow2" -F qcow2 "$IMG/vg-i-1.qcow2"
domain_xml vg-i-1 "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMG/vg-i-1.qcow2'/><target dev='vda' bus='virtio'/></disk>" > "$VG_SCRATCH/i1.xml"
virsh define "$VG_SCRATCH/i1.xml" >/dev/null
cat > "$POLICY" <<JSON
{ "mode": "enforce", "default": "deny",
  "rules": [ { "name": "golden-only", "match": { "name": "vg-i-*" },
               "require": { "trusted_images": true, "image_dirs": ["$IMG"] } } ] }
JSON
check "start is denied" start_fails vg-i-1
check "the error names the untrusted base (found in the qcow2 header)" \
        grep -q "disk vda: image '$IMG/golden.qcow2' is not trusted (not in the trusted-image library)" "$VG_SCRATCH/err"
check "image trust" "$VIRTGOV" image trust "$IMG/golden.qcow2"
check "image list shows it with its SHA-256" \
        test "$("$VIRTGOV" --json image list | jq -r '.[0].sha256')" = "$(sha256sum "$IMG/golden.qcow2" | cut -d' ' -f1)"
"$VIRTGOV" image list > "$VG_SCRATCH/images.txt"
check "image list: the SHA-256 under its title, the size right-aligned under SIZE" \
        awk -v size="$(stat -c %s "$IMG/golden.qcow2")" 'NR == 1 { h = index($0, "SHA-256"); e = index($0, "SIZE") + 3; next }
                { ok = substr($0, h, 64) ~ /^[0-9a-f]+$/ && substr($0, 1, e) ~ (" " size "$") }
                END { exit !(NR == 2 && ok) }' "$VG_SCRATCH/images.txt"
check "now it starts" virsh start vg-i-1
virsh destroy vg-i-1 >/dev/null
check "image verify: all ok" "$VIRTGOV" image verify
qemu-img resize -q "$IMG/golden.qcow2" 32M
check "a changed base: start denied" start_fails vg-i-1
check "the error says it changed" grep -q "golden.qcow2' is not trusted (changed since it was trusted" "$VG_SCRATCH/err"
check "image verify exits 1" sh -c '! "$0" image verify >/dev/null 2>&1' "$VIRTGOV"
check "image.changed recorded" test "$("$VIRTGOV" --json events --kind image.changed | jq length)" -ge 1
rm -f "$POLICY"

say "defines cannot be blocked: the daemon records a violation for one no ticket covers"
echo '{ "mode": "enforce", "default": "deny" }' > "$POLICY"
start_daemon
define vg-v-1 CHG-NONE
wait_for "the daemon says the row no decision can use: daemon.degraded" \
        '[.[] | select(.kind == "daemon.degraded" and (.reason | contains("1 authorization row(s) skipped by every decision: ticket '"'T-LONG'"'")))] | length == 1'
wait_for "a define with no ticket -> policy.violation from the daemon" \
        '[.[] | select(.kind == "policy.violation" and .domain == "vg-v-1" and .source == "daemon" and .data.op == "define")] | length == 1'
"$VIRTGOV" ticket add CHG-5001 --domain 'vg-v-2' --action define --from 1h --until +1h >/dev/null
define vg-v-2 CHG-NONE
wait_for "its define is recorded" "$(has_event domain.defined vg-v-2 libvirt)"
check "a define a ticket covers is no violation" \
        test "$("$VIRTGOV" --json events --kind policy.violation --domain vg-v-2 | jq length)" = 0
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" || true

say "a running guest survives libvirtd's reconnect under a denying policy"
virsh start vg-p-2 >/dev/null
echo '{ "mode": "enforce", "default": "deny", "rules": [ { "name": "nothing", "action": "deny" } ] }' > "$POLICY"
stop_libvirt
libvirtd -d
for _ in $(seq 100); do virsh version >/dev/null 2>&1 && break; sleep 0.1; done
check "the guest still runs after reconnect" test "$(virsh domstate vg-p-2)" = running
check "the reconnect was recorded without a decision" \
        test "$("$VIRTGOV" --json events --domain vg-p-2 --kind domain.reconnect | jq -r '.[-1].decision')" = null

finish
