# shellcheck shell=bash
# Shared by the integration tests. Each test drives the real binaries; the
# libvirt ones drive a real libvirtd and QEMU guest.
#
# vg_sandbox re-runs the test inside new mount, network and PID namespaces
# where /etc, /var and the build's sysconfdir/localstatedir are overlays on
# scratch directories and /run is a fresh tmpfs. Inside, libvirtd, the hook
# and the CLI use their real default paths (/etc/libvirt/hooks,
# /etc/virtgov, /var/lib/virtgov), yet nothing outside the scratch
# directory is written, a libvirtd already running on the host is neither
# seen nor disturbed, and when the test ends every process it started dies
# with its PID namespace.

set -euo pipefail

: "${VG_BUILD:?VG_BUILD must point at the meson build directory}"
VIRTGOV="$VG_BUILD/cli/virtgov"
VG_HOOK="$VG_BUILD/hooks/virtgov-hook"
VG_FAILS=0
VG_CHECKS=0

say() { printf '# %s\n' "$*"; }

# check DESCRIPTION COMMAND...: one assertion, counted, reported TAP-style.
check() {
        local what=$1
        shift
        VG_CHECKS=$((VG_CHECKS + 1))
        if "$@"; then
                printf 'ok %d - %s\n' "$VG_CHECKS" "$what"
        else
                printf 'not ok %d - %s\n' "$VG_CHECKS" "$what"
                VG_FAILS=$((VG_FAILS + 1))
        fi
}

# aligned FILE TITLE REGEX [TITLE REGEX...]: in the text table in FILE (a
# header, then at least one row), every row has a cell starting at the
# column where TITLE starts in the header (a space before it), and its text
# from there on matches REGEX (anchored there).
aligned() {
        local file=$1
        shift
        while [ $# -ge 2 ]; do
                awk -v t="$1" -v re="^$2" 'NR == 1 { c = index($0, t); if (!c) exit 2; next }
                        (c > 1 && substr($0, c - 1, 1) != " ") || substr($0, c) !~ re { print "misaligned under " t ", row " NR ": " $0 > "/dev/stderr"; bad = 1 }
                        END { exit bad || NR < 2 }' "$file" || return 1
                shift 2
        done
}

# quiet COMMAND...: for check, when only the exit status matters.
quiet() { "$@" >/dev/null 2>&1; }

finish() {
        if [ "$VG_FAILS" -gt 0 ] && [ -s "${VG_SCRATCH:-/nonexistent}/daemon.log" ]; then
                echo "--- the daemon's log:" >&2
                tail -n 40 "$VG_SCRATCH/daemon.log" >&2
        fi
        printf '1..%d\n' "$VG_CHECKS"
        printf '%d passed, %d failed\n' "$((VG_CHECKS - VG_FAILS))" "$VG_FAILS"
        [ "$VG_FAILS" -eq 0 ]
}

need_root() {
        if [ "$(id -u)" -ne 0 ]; then
                # In CI these tests must run; elsewhere a non-root run skips.
                if [ "${CI:-}" = true ]; then
                        echo "integration tests need root (CI=true: refusing to skip)" >&2
                        exit 1
                fi
                echo "skipping: integration tests need root" >&2
                exit 77
        fi
}

vg_sandbox() {
        if [ "${VG_IN_SANDBOX:-}" = 1 ]; then
                return 0
        fi
        need_root
        VG_SCRATCH=$(mktemp -d /tmp/virtgov-it.XXXXXX)
        export VG_SCRATCH VG_IN_SANDBOX=1
        local rc=0
        unshare --mount --net --pid --fork --mount-proc --propagation private \
                bash "$0" "$@" || rc=$?
        rm -rf "$VG_SCRATCH"
        exit "$rc"
}

# Inside the sandbox: overlay one directory on a scratch upper layer.
overlay() {
        local dir=$1 name
        name=$(echo "$dir" | tr / _)
        mkdir -p "$dir" "$VG_SCRATCH/up$name" "$VG_SCRATCH/work$name"
        mount -t overlay overlay \
                -o "lowerdir=$dir,upperdir=$VG_SCRATCH/up$name,workdir=$VG_SCRATCH/work$name" "$dir"
}

sandbox_setup() {
        overlay /etc
        overlay /var
        overlay /home
        case "${VG_SYSCONFDIR:-/etc}" in /etc|/etc/*) ;; *) overlay "$VG_SYSCONFDIR" ;; esac
        case "${VG_LOCALSTATEDIR:-/var}" in /var|/var/*) ;; *) overlay "$VG_LOCALSTATEDIR" ;; esac
        mount -t tmpfs tmpfs /run
        mkdir -p /run/libvirt /run/lock /var/log/libvirt /var/lib/virtgov
        ip link set lo up
        # A clean slate for libvirt's own state inside the overlay.
        rm -rf /etc/libvirt/hooks /etc/libvirt/qemu/*.xml /etc/libvirt/qemu/networks/*.xml \
                /etc/libvirt/qemu/networks/autostart /var/lib/virtgov/* /etc/virtgov
        mkdir -p /etc/libvirt/hooks
}

start_libvirt() {
        virtlogd -d
        libvirtd -d
        local i
        for i in $(seq 100); do
                virsh -c qemu:///system version >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        echo "libvirtd did not come up" >&2
        return 1
}

stop_libvirt() {
        pkill -x libvirtd || true
        local i
        for i in $(seq 100); do
                pgrep -x libvirtd >/dev/null || return 0
                sleep 0.1
        done
        pkill -9 -x libvirtd || true
}

virsh() { command virsh -q -c qemu:///system "$@"; }

# A disk-less TCG guest: boots in about a second without KVM.
domain_xml() {
        local name=$1 extra=${2:-}
        cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <metadata>
    <vg:governance xmlns:vg="urn:virtgov:1"><vg:owner>alice</vg:owner><vg:ticket>CHG-1042</vg:ticket></vg:governance>
  </metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>$extra<graphics type='vnc' listen='127.0.0.1'/></devices>
</domain>
XML
}

# jq_check DESCRIPTION JSON-FILE FILTER: the filter must yield true.
jq_check() {
        check "$1" test "$(jq -r "$3" "$2" 2>/dev/null)" = true
}

VG_DAEMON="$VG_BUILD/inventoryd/virtgov-inventoryd"

# Starts the daemon in the foreground (in the background of the test) and
# waits until it is connected to libvirt (its host.software event).
start_daemon() {
        # The newest event before the daemon starts: what it records after.
        local since
        since=$("$VIRTGOV" --json events --limit 1 2>/dev/null | jq '.[0].id // 0')
        "$VG_DAEMON" --foreground "$@" >> "$VG_SCRATCH/daemon.log" 2>&1 &
        VG_DAEMON_PID=$!
        wait_for "daemon started and connected" \
                "[.[] | select(.id > ${since:-0} and .kind == \"daemon.connected\")] | length > 0" 20
}

# wait_until FILTER [SECONDS]: polls 'virtgov --json events' until the jq
# FILTER over the whole array yields true. Returns 1 on time-out.
wait_until() {
        local filter=$1 secs=${2:-15} i
        for i in $(seq $((secs * 10))); do
                if [ "$("$VIRTGOV" --json events 2>/dev/null | jq -r "$filter" 2>/dev/null)" = true ]; then
                        return 0
                fi
                sleep 0.1
        done
        return 1
}

# wait_for DESCRIPTION FILTER [SECONDS]: wait_until, as a counted check.
wait_for() {
        check "$1" wait_until "$2" "${3:-15}"
}

# has_event KIND DOMAIN SOURCE: a jq filter for "such an event exists".
has_event() {
        echo "[.[] | select(.kind == \"$1\" and .domain == \"$2\" and .source == \"$3\")] | length > 0"
}
