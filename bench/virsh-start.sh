#!/bin/bash
# virsh start of a real (TCG, disk-less) guest with virtgov's hooks against
# without, for bench/run's last row. Runs its own libvirtd in the integration
# tests' sandbox (private mount, network and PID namespaces, fresh tmpfs
# over libvirt's and virtgov's directories, /etc and /var overlaid), so the
# host's libvirt is not touched. The two cases alternate,
# start by start, so that drift on a busy machine falls on both alike: the
# hook file is taken away and put back (libvirt lists a hook directory's
# files at each call, once the directory existed at its start). Both run
# with the daemon and an enforcing policy that needs the approval, as a
# governed host does. Prints one line of JSON: medians in microseconds.
#   VG_BUILD=build-dir bench/virsh-start.sh [N]
. "$(dirname "$0")/../tests/integration/lib.sh"
vg_sandbox "$@"
sandbox_setup
N=${1:-30}

mkdir -p /etc/virtgov
echo '{ "mode": "enforce", "default": "deny" }' > /etc/virtgov/policy.json
"$VIRTGOV" hooks install --from "${VG_BENCH_HOOK:-$VG_HOOK}" >/dev/null 2>&1
HOOK=/etc/libvirt/hooks/qemu.d/50-virtgov
start_libvirt
start_daemon > /dev/null
domain_xml vg-bench > "$VG_SCRATCH/vg-bench.xml"
virsh define "$VG_SCRATCH/vg-bench.xml" >/dev/null
"$VIRTGOV" approve vg-bench >/dev/null
virsh start vg-bench >/dev/null && virsh destroy vg-bench >/dev/null   # warm caches

# one_start FILE: appends the microseconds of one start to FILE
one_start() {
        local t0 t1
        t0=$(date +%s%N)
        virsh start vg-bench >/dev/null
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000 )) >> "$1"
        virsh destroy vg-bench >/dev/null
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Third case: a no-op C program as the hook, what libvirt's running of any
# hook costs (fork, exec, the XML down a pipe), three times per start.
mv "$HOOK" "$VG_SCRATCH/hook.off"
install -m 0755 "$VG_BUILD/bench/noop" "$VG_SCRATCH/noop"
for _ in $(seq "$N"); do
        one_start "$VG_SCRATCH/without"
        mv "$VG_SCRATCH/noop" "$HOOK"
        one_start "$VG_SCRATCH/noop-hook"
        mv "$HOOK" "$VG_SCRATCH/noop"
        mv "$VG_SCRATCH/hook.off" "$HOOK"
        one_start "$VG_SCRATCH/with"
        mv "$HOOK" "$VG_SCRATCH/hook.off"
done
hooks=$("$VIRTGOV" --json events --domain vg-bench --kind domain.prepare | jq length)
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" 2>/dev/null || true
printf '{"runs": %d, "without_us": %d, "noop_hook_us": %d, "with_us": %d, "prepare_events": %d}\n' "$N" \
        "$(median "$VG_SCRATCH/without")" "$(median "$VG_SCRATCH/noop-hook")" "$(median "$VG_SCRATCH/with")" "$hooks"
