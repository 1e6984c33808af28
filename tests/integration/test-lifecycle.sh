#!/bin/bash
# A real libvirtd and a real QEMU guest (TCG): define, start, destroy,
# undefine a domain and start and destroy a bridge-only network with the
# hooks installed, then read what was recorded through the CLI.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

mkdir -p /etc/virtgov
cat > /etc/virtgov/virtgov.conf <<CONF
# written by test-lifecycle.sh inside its sandbox
hook_timeout_ms = 8000
busy_timeout_ms = 3000
CONF

say "hooks installed before libvirtd starts, so it picks them up"
check "hooks install" "$VIRTGOV" hooks install --from "$VG_HOOK"
start_libvirt

check "hooks status exits 0: installed, matching, active" \
        sh -c '"$0" --json hooks status --from "$1" > "$2"' "$VIRTGOV" "$VG_HOOK" "$VG_SCRATCH/status.json"
jq_check "status says the daemon picked both hooks up" "$VG_SCRATCH/status.json" \
        '[.hooks[].active] == [true, true] and .ok'

say "a domain through its life"
domain_xml vg-it-1 > "$VG_SCRATCH/dom.xml"
virsh define "$VG_SCRATCH/dom.xml" >/dev/null
uuid=$(virsh domuuid vg-it-1)
check "virsh start" virsh start vg-it-1
check "guest is running" test "$(virsh domstate vg-it-1)" = running
check "virsh destroy" virsh destroy vg-it-1
check "virsh undefine" virsh undefine vg-it-1

"$VIRTGOV" --json events --domain vg-it-1 > "$VG_SCRATCH/dom-events.json"
jq_check "hook events prepare, start, started, stopped, release in order" "$VG_SCRATCH/dom-events.json" \
        '[.[] | select(.source == "hook") | .kind] == ["domain.prepare", "domain.start", "domain.started", "domain.stopped", "domain.release"]'
jq_check "every hook event carries the domain's uuid" "$VG_SCRATCH/dom-events.json" \
        "[.[] | .uuid] | unique == [\"$uuid\"]"
jq_check "sub-op and facts are recorded" "$VG_SCRATCH/dom-events.json" \
        '.[0].data.subop == "begin" and .[0].data.facts.owner == "alice" and .[0].data.facts.memory_kib == 65536'
jq_check "events have the fields of doc/ARCHITECTURE.md" "$VG_SCRATCH/dom-events.json" \
        '[.[0] | has("id"), has("time"), has("source"), has("kind"), has("domain"), has("uuid"), has("decision"), has("reason"), has("data")] | all'
"$VIRTGOV" --json events --domain "$uuid" > "$VG_SCRATCH/by-uuid.json"
jq_check "--domain takes the UUID too" "$VG_SCRATCH/by-uuid.json" 'length == 5'

"$VIRTGOV" --json list --all > "$VG_SCRATCH/list.json"
jq_check "list knows the domain, owner and ticket, last start and stop" "$VG_SCRATCH/list.json" \
        "[.[] | select(.uuid == \"$uuid\") | .owner == \"alice\" and .ticket == \"CHG-1042\" and .state == \"shutoff\" and .last_start != null and .last_stop != null] == [true]"
"$VIRTGOV" --json show vg-it-1 > "$VG_SCRATCH/show.json"
jq_check "show has facts and recent events" "$VG_SCRATCH/show.json" \
        '.facts.graphics[0].listen == "127.0.0.1" and (.events | length) == 5'
check "show (table) runs" "$VIRTGOV" show vg-it-1

say "a bridge-only network through its life"
cat > "$VG_SCRATCH/net.xml" <<NET
<network><name>vgnet</name><bridge name='vgbr0'/></network>
NET
virsh net-define "$VG_SCRATCH/net.xml" >/dev/null
check "virsh net-start" virsh net-start vgnet
check "virsh net-destroy" virsh net-destroy vgnet
virsh net-undefine vgnet >/dev/null
"$VIRTGOV" --json events --kind network. > "$VG_SCRATCH/net-events.json"
jq_check "network start, started, stopped recorded from the hook" "$VG_SCRATCH/net-events.json" \
        '[.[] | select(.data.network == "vgnet" and .source == "hook") | .kind] == ["network.start", "network.started", "network.stopped"]'
jq_check "network facts: bridge" "$VG_SCRATCH/net-events.json" \
        '[.[] | select(.kind == "network.start") | .data.bridge] == ["vgbr0"]'
"$VIRTGOV" --json events --network vgnet > "$VG_SCRATCH/net2.json"
jq_check "--network filters by network name" "$VG_SCRATCH/net2.json" 'length == 3'

say "a guest on a network: port events are filed under the domain"
virsh net-define "$VG_SCRATCH/net.xml" >/dev/null
virsh net-start vgnet >/dev/null
domain_xml vg-it-2 "<interface type='network'><source network='vgnet'/><mac address='52:54:00:00:42:01'/></interface>" > "$VG_SCRATCH/dom2.xml"
virsh define "$VG_SCRATCH/dom2.xml" >/dev/null
check "start a guest with a NIC on vgnet" virsh start vg-it-2
virsh destroy vg-it-2 >/dev/null
"$VIRTGOV" --json events --kind network.port > "$VG_SCRATCH/ports.json"
jq_check "port-created and port-deleted name the owner and MAC" "$VG_SCRATCH/ports.json" \
        '[.[] | select(.domain == "vg-it-2") | .kind + " " + .data.mac] == ["network.port-created 52:54:00:00:42:01", "network.port-deleted 52:54:00:00:42:01"]'

say "nothing written outside the sandbox's configured directories"
check "inventory is where the config says" test -s /var/lib/virtgov/inventory.db
"$VIRTGOV" list --all > "$VG_SCRATCH/list.txt"
"$VIRTGOV" events --limit 20 > "$VG_SCRATCH/events.txt"
check "list: every row's state, last start and UUID under their titles" \
        aligned "$VG_SCRATCH/list.txt" STATE "[a-z]+ " "LAST START" "(-|[0-9]+-[0-9]+-[0-9]+ [0-9]+:[0-9]+:[0-9]+) " \
        UUID "[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\$"
check "events: every row's kind, domain and decision under their titles" \
        aligned "$VG_SCRATCH/events.txt" KIND "[a-z]+[.][a-z-]+ " DOMAIN "[^ ]+ " DECISION "(allow|deny|-) "

finish
