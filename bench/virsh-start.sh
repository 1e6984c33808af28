#!/bin/bash
# virsh start of a real (TCG, disk-less) guest with virtgov's hooks installed
# against without, as bench/run's last row. Runs its own libvirtd in the
# integration tests' sandbox (private mount, network and PID namespaces,
# /etc and /var overlaid), so the host's libvirt is not touched. Prints one
# line of JSON: medians in microseconds over N start/destroy pairs each.
#   VG_BUILD=build-dir bench/virsh-start.sh [N]
. "$(dirname "$0")/../tests/integration/lib.sh"
vg_sandbox "$@"
sandbox_setup
N=${1:-30}

# times N starts of the guest; prints the median in microseconds
starts() {
        local i t0 t1
        for i in $(seq "$N"); do
                t0=$(date +%s%N)
                virsh start vg-bench >/dev/null
                t1=$(date +%s%N)
                echo $(( (t1 - t0) / 1000 ))
                virsh destroy vg-bench >/dev/null
        done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

start_libvirt
domain_xml vg-bench > "$VG_SCRATCH/vg-bench.xml"
virsh define "$VG_SCRATCH/vg-bench.xml" >/dev/null
virsh start vg-bench >/dev/null && virsh destroy vg-bench >/dev/null   # warm caches
without=$(starts)

# With the hooks, an enforcing policy that needs the approval, and the
# daemon holding the inventory open, as on a governed host.
mkdir -p /etc/virtgov
echo '{ "mode": "enforce", "default": "deny" }' > /etc/virtgov/policy.json
"$VIRTGOV" hooks install --from "${VG_BENCH_HOOK:-$VG_HOOK}" >/dev/null 2>&1
"$VIRTGOV" approve vg-bench >/dev/null
stop_libvirt    # a hook directory is used only if it existed at libvirtd's start
libvirtd -d
for _ in $(seq 100); do virsh version >/dev/null 2>&1 && break; sleep 0.1; done
start_daemon > /dev/null
virsh start vg-bench >/dev/null && virsh destroy vg-bench >/dev/null
with=$(starts)
hooks=$("$VIRTGOV" --json events --domain vg-bench --kind domain.prepare | jq length)
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" 2>/dev/null || true
printf '{"runs": %d, "without_us": %d, "with_us": %d, "prepare_events": %d}\n' "$N" "$without" "$with" "$hooks"
