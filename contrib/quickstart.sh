#!/bin/bash
# The main job on this machine, as root: install dependencies, build and
# install virtgov, install the hooks, make sure a libvirtd runs that has
# picked them up (starting one if there is none), take a small guest and a
# network through their lives, and show what was recorded.
#
# Re-running it is safe. It touches only virtgov's own paths, libvirt's hook
# directory, and a guest and a network named virtgov-demo(-net) that it
# removes again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "dependencies (Debian packages)"
contrib/deps.sh

step "build and install (prefix /usr: /etc/virtgov, /var/lib/virtgov)"
[ -f build-release/build.ninja ] || meson setup build-release --prefix=/usr --buildtype=release -Dtests=false >/dev/null
meson compile -C build-release >/dev/null
meson install -C build-release --quiet
echo "installed $(command -v virtgov) and /usr/libexec/virtgov/virtgov-hook"

virsh_() { virsh -q -c qemu:///system "$@"; }
systemd_running() { [ -d /run/systemd/system ]; }

start_libvirtd() {
        if systemd_running; then
                systemctl start virtlogd libvirtd
        else
                mkdir -p /var/run/libvirt /var/log/libvirt
                pgrep -x virtlogd >/dev/null || virtlogd -d
                pgrep -x libvirtd >/dev/null || libvirtd -d
        fi
        for _ in $(seq 100); do virsh_ version >/dev/null 2>&1 && return 0; sleep 0.1; done
        echo "quickstart: libvirtd did not come up" >&2
        return 1
}

restart_libvirtd() {
        # Guests keep running across a libvirtd restart.
        if systemd_running; then
                systemctl restart libvirtd
        else
                pkill -x libvirtd || true
                for _ in $(seq 100); do pgrep -x libvirtd >/dev/null || break; sleep 0.1; done
                libvirtd -d
        fi
        for _ in $(seq 100); do virsh_ version >/dev/null 2>&1 && return 0; sleep 0.1; done
        return 1
}

step "hooks"
# Members of this group (auditors) may read the inventory without root.
getent group virtgov >/dev/null || groupadd --system virtgov
virtgov hooks install
if ! virsh_ version >/dev/null 2>&1; then
        echo "no libvirtd is running: starting one"
        start_libvirtd
fi
if ! virtgov hooks status >/dev/null; then
        echo "libvirtd has not picked the hooks up: restarting it"
        restart_libvirtd
fi
virtgov hooks status

step "virtgov-inventoryd (define, undefine, accounts, reconciliation, the journal or syslog copy)"
last_id=$(virtgov --json events --limit 1 | jq '.[0].id // 0')
if systemd_running; then
        systemctl daemon-reload
        systemctl enable virtgov-inventoryd >/dev/null 2>&1 || true
        systemctl restart virtgov-inventoryd
else
        pkill -f '(^|/)virtgov-inventoryd( |$)' || true
        for _ in $(seq 50); do pgrep -f '(^|/)virtgov-inventoryd( |$)' >/dev/null || break; sleep 0.1; done
        virtgov-inventoryd
fi
for _ in $(seq 100); do
        [ "$(virtgov --json events --kind daemon.connected | jq "[.[] | select(.id > $last_id)] | length")" -gt 0 ] && break
        sleep 0.2
done
virtgov events --source daemon --limit 3

step "a guest and a network through their lives"
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
virsh_ destroy virtgov-demo >/dev/null 2>&1 || true
virsh_ undefine virtgov-demo >/dev/null 2>&1 || true
virsh_ net-destroy virtgov-demo-net >/dev/null 2>&1 || true
virsh_ net-undefine virtgov-demo-net >/dev/null 2>&1 || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/net.xml" <<'XML'
<network><name>virtgov-demo-net</name><bridge name='vgdemo0'/></network>
XML
cat > "$tmp/dom.xml" <<XML
<domain type='qemu'>
  <name>virtgov-demo</name>
  <metadata>
    <vg:governance xmlns:vg="urn:virtgov:1">
      <vg:owner>${SUDO_USER:-root}</vg:owner><vg:ticket>CHG-DEMO</vg:ticket>
      <vg:purpose>virtgov quickstart</vg:purpose>
    </vg:governance>
  </metadata>
  <memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='network'><source network='virtgov-demo-net'/></interface>
    <graphics type='vnc' listen='127.0.0.1'/>
  </devices>
</domain>
XML
virsh_ net-define "$tmp/net.xml" >/dev/null
virsh_ net-start virtgov-demo-net
virsh_ define "$tmp/dom.xml"
virsh_ start virtgov-demo
sleep 1
virsh_ destroy virtgov-demo
virsh_ undefine virtgov-demo
sleep 1   # let the daemon's undefine land before we print
virsh_ net-destroy virtgov-demo-net
virsh_ net-undefine virtgov-demo-net

step "what virtgov recorded (virtgov events --since $since)"
virtgov events --since "$since"
step "virtgov list --all"
virtgov list --all
step "virtgov show virtgov-demo"
virtgov show virtgov-demo
step "the hypervisor's integrity baseline (virtgov integrity status)"
# Taken once, right after installation; never retaken over one that no
# longer matches its digest (status says so, and this stops).
if [ "$(virtgov --json integrity status 2>/dev/null | jq -r .baseline)" = none ]; then
        virtgov integrity baseline
fi
virtgov integrity status
cat <<'EOF2'

Hooks recorded every start, stop and network change; virtgov-inventoryd the
define and undefine, and it watches the host's accounts (try: useradd demo;
virtgov events --kind account.) and the hypervisor's files against their
baseline (try: virtgov integrity check). Next: 'virtgov --help'; every query
takes --json.
EOF2
