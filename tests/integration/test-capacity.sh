#!/bin/bash
# report capacity's pools and bridges (issue 31, BSI M 4.349) on a real
# libvirtd: a dir pool on a 64 MiB tmpfs with a sparse 1 GiB volume
# (thin overcommit 16x) and volumes that fill it (a trend, days until
# full), and a real bridge in the sandbox's network namespace with a veth
# uplink taken down and up again (host.uplinks). The daemon reads a sysfs
# mounted in the sandbox, through config sys_class_net.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

# The sandbox's own sysfs: the /sys it inherited shows the host's network
# namespace, not this one.
SYS=$VG_SCRATCH/sys
mkdir -p "$SYS"
mount -t sysfs sysfs "$SYS"
mkdir -p /etc/virtgov
cat > /etc/virtgov/virtgov.conf <<CONF
syslog = no
reconcile_interval_s = 10
sys_class_net = $SYS/class/net
CONF

ip link add vgbr0 type bridge
ip link add vgveth0 type veth peer name vgveth1
ip link set vgveth0 master vgbr0
# a guest's port on it: a tap, never an uplink
ip tuntap add dev vnet77 mode tap
ip link set vnet77 master vgbr0
for l in vgbr0 vgveth0 vgveth1 vnet77; do ip link set "$l" up; done

"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
start_libvirt
cat > "$VG_SCRATCH/net.xml" <<XML
<network><name>vg-bridged</name><forward mode='bridge'/><bridge name='vgbr0'/></network>
XML
virsh net-define "$VG_SCRATCH/net.xml" >/dev/null
virsh net-start vg-bridged >/dev/null

POOL=/var/lib/libvirt/images/vgcap
mkdir -p "$POOL"
mount -t tmpfs -o size=64m tmpfs "$POOL"
virsh pool-define-as vgcap dir --target "$POOL" >/dev/null
virsh pool-start vgcap >/dev/null
start_daemon

# usage N FILTER: a jq filter over the pool.usage events of vgcap
usage() { echo "[.[] | select(.kind == \"pool.usage\" and .data.pool == \"vgcap\")] | $1"; }
uplinks() { echo "[.[] | select(.kind == \"host.uplinks\")] | $1"; }

say "pool.usage at connect: the pool's figures"
wait_for "pool.usage recorded at connect, running, 64 MiB" \
        "$(usage 'length == 1 and (.[0].data | .state == "running" and .capacity_bytes == 67108864 and .volumes == 0 and .volumes_capacity_bytes == 0 and .available_bytes > 0)')"
"$VIRTGOV" --json report capacity > "$VG_SCRATCH/c1.json"
jq_check "one point: days until full is 'n/a'" "$VG_SCRATCH/c1.json" \
        '[.rows[] | select(.category == "pool" and .name == "vgcap")][0] | .days_until_full == "n/a" and .trend_points == 1'

say "a sparse 1 GiB volume: thin overcommit, recorded once"
virsh vol-create-as vgcap thin.raw 1G --format raw --allocation 0 >/dev/null
wait_for "pool.usage: volumes' capacity 1 GiB, overcommit 16x" \
        "$(usage 'length == 2 and (.[1].data | .volumes == 1 and .volumes_capacity_bytes == 1073741824 and .overcommit_ratio == 16)')" 25
sleep 11
check "no new pool.usage while nothing moved (a reconcile later)" \
        test "$("$VIRTGOV" --json events | jq "$(usage length)")" = 2

say "volumes that take room: a trend, days until full"
virsh vol-create-as vgcap fat1.raw 8M --format raw --allocation 8M >/dev/null
wait_for "pool.usage after 8 MiB allocated" "$(usage 'length == 3 and (.[2].data.allocation_bytes >= 8388608)')" 25
virsh vol-create-as vgcap fat2.raw 8M --format raw --allocation 8M >/dev/null
wait_for "pool.usage after 16 MiB allocated" "$(usage 'length == 4 and (.[3].data.allocation_bytes >= 16777216) and (.[3].data.available_bytes < .[2].data.available_bytes)')" 25

check "the volumes' allocation: the 16 MiB of the two" \
        test "$("$VIRTGOV" --json events | jq "$(usage '.[3].data.volumes_allocation_bytes >= 16777216')")" = true
# A guest writing into its thin volume: libvirt's pool figures wait for a
# refresh, which a read-only connection cannot ask for; the volumes' are
# read each time.
dd if=/dev/zero of="$POOL/thin.raw" bs=1M count=4 conv=notrunc status=none
wait_for "pool.usage: 4 MiB written into the thin volume shows in the volumes' allocation" \
        "$(usage 'length == 5 and .[4].data.volumes_allocation_bytes - .[3].data.volumes_allocation_bytes >= 4194304')" 25

say "host.uplinks: the bridge, its veth uplink, not the guest's tap"
wait_for "host.uplinks at connect: vgbr0 with vgveth0 up at 10000 Mb/s, used by vg-bridged" \
        "$(uplinks '.[0].data.bridges.vgbr0 | (.uplinks | map(.name) == ["vgveth0"]) and .uplinks[0].state == "up" and .uplinks[0].type == "veth" and .uplinks[0].speed_mbps == 10000 and .networks == [{"name": "vg-bridged", "forward": "bridge", "active": true}]')"
check "one host.uplinks while nothing changed" test "$("$VIRTGOV" --json events | jq "$(uplinks length)")" = 1

say "the report, in every form"
"$VIRTGOV" --json report capacity > "$VG_SCRATCH/c.json"
jq_check "--json: vgcap's figures, used %, volumes' capacity, overcommit" "$VG_SCRATCH/c.json" \
        '[.rows[] | select(.category == "pool" and .name == "vgcap")][0] | .capacity_mib == 64 and .allocation_mib >= 16 and .available_mib <= 48 and .used_pct >= 25 and .volumes_capacity_mib == 1040 and .overcommit_ratio > 16 and .state == "running"'
jq_check "--json: days until full from the trend (a number, under a day at this pace)" "$VG_SCRATCH/c.json" \
        '[.rows[] | select(.category == "pool" and .name == "vgcap")][0] | (.days_until_full | type) == "number" and .days_until_full < 1 and .trend_points >= 3 and .finding'
jq_check "--json: vgbr0's uplinks, up, not a finding" "$VG_SCRATCH/c.json" \
        '[.rows[] | select(.category == "bridge" and .name == "vgbr0")][0] | .uplinks == "vgveth0 up 10000 Mb/s" and .uplinks_up == 1 and (.finding | not) and .no_uplink_up == false'
"$VIRTGOV" --json report capacity --no-libvirt > "$VG_SCRATCH/c-off.json"
jq_check "--no-libvirt: the pool's last recorded figures, with the trend" "$VG_SCRATCH/c-off.json" \
        '[.rows[] | select(.category == "pool" and .name == "vgcap")][0] | .figures == "recorded" and .capacity_mib == 64 and .volumes_capacity_mib == 1040 and (.days_until_full | type) == "number"'
"$VIRTGOV" report capacity > "$VG_SCRATCH/c.txt"
check "text: the pool's row with MiB, overcommit and days" \
        grep -qE '^  vgcap +running +64 MiB +[0-9]+ MiB +[0-9]+ MiB +[0-9]+%? +1040 MiB +[0-9.]+x +0\.[0-9]' "$VG_SCRATCH/c.txt"
check "text: the bridge's row with its uplink" grep -qE '^  vgbr0 +up +vgveth0 up 10000 Mb/s' "$VG_SCRATCH/c.txt"
"$VIRTGOV" report capacity --csv > "$VG_SCRATCH/c.csv"
check "--csv: the new columns" \
        grep -qx 'category,name,domains,cpus,vcpus,memory_mib,cpu_ratio,memory_ratio,state,capacity_mib,allocation_mib,available_mib,used_pct,volumes_capacity_mib,overcommit_ratio,days_until_full,uplinks,why' "$VG_SCRATCH/c.csv"
check "--csv: the pool's row, figures to days until full" \
        grep -qE '^pool,vgcap,,,,,,,running,64,[0-9]+,[0-9]+,[0-9]+,1040,[0-9.]+,0\.[0-9.]+,,' "$VG_SCRATCH/c.csv"
check "--csv: the bridge's row" grep -qE '^bridge,vgbr0,,,,,,,up,,,,,,,,vgveth0 up 10000 Mb/s,' "$VG_SCRATCH/c.csv"
"$VIRTGOV" report html --out "$VG_SCRATCH/r.html" >/dev/null
check "report html: the pool and the bridge in its capacity section" \
        sh -c 'grep -q "vgcap" "$0" && grep -q "vgveth0 up 10000 Mb/s" "$0"' "$VG_SCRATCH/r.html"

say "the uplink goes down: recorded, and a finding"
ip link set vgveth0 down
wait_for "host.uplinks: vgveth0 down, the previous state kept" \
        "$(uplinks 'length == 2 and .[1].data.bridges.vgbr0.uplinks[0].state == "down" and .[1].data.previous.vgbr0.uplinks[0].state == "up" and .[1].data.bridges.vgbr0.uplinks[0].speed_mbps == null')" 25
"$VIRTGOV" --json report capacity > "$VG_SCRATCH/c2.json"
jq_check "--json: vgbr0 has no uplink up, a finding naming the network" "$VG_SCRATCH/c2.json" \
        '[.rows[] | select(.category == "bridge" and .name == "vgbr0")][0] | .finding and .no_uplink_up and (.why | test("vg-bridged"))'
check "--fail-on-findings exits 3" sh -c '"$0" report capacity --fail-on-findings >/dev/null; [ $? = 3 ]' "$VIRTGOV"
ip link set vgveth0 up
wait_for "host.uplinks: vgveth0 up again" \
        "$(uplinks 'length == 3 and .[2].data.bridges.vgbr0.uplinks[0].state == "up"')" 25

say "the events are whole: chain, ECS"
check "virtgov verify" quiet "$VIRTGOV" verify
check "ECS documents for both kinds" sh -c '"$0" events --format ecs | jq -se "[.[] | select(.event.action == \"pool.usage\" or .event.action == \"host.uplinks\")] | length >= 7" >/dev/null' "$VIRTGOV"

kill "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" 2>/dev/null || true
stop_libvirt
umount "$POOL" "$SYS" 2>/dev/null || true
finish
