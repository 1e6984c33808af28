#!/bin/bash
# The sandbox itself (lib.sh): what the host has or writes in libvirt's and
# virtgov's directories is never seen inside, what the test writes there
# never reaches the host, and stop_libvirt stops the sandbox's libvirtd by
# its pid file and nothing else of that name.
#
# The "host" is a directory of this test's own, never the real
# /var/lib/virtgov: the build's sysconfdir and localstatedir are pointed at
# it, which sandbox_setup masks as it masks /etc/virtgov and the rest. A
# writer outside holds an inventory there open in WAL mode, as the daemon
# does, and keeps changing and adding files while the sandboxed part runs:
# what once made a sandboxed test read a foreign WAL.
. "$(dirname "$0")/lib.sh"

if [ "${VG_IN_SANDBOX:-}" != 1 ]; then
        need_root
        VG_HOST=$(mktemp -d /tmp/virtgov-host.XXXXXX)
        export VG_HOST VG_SYSCONFDIR=$VG_HOST/etc VG_LOCALSTATEDIR=$VG_HOST/var
        mkdir -p "$VG_HOST/etc/virtgov" "$VG_HOST/etc/libvirt/hooks" "$VG_HOST/var/lib/virtgov"
        echo "# the host's" > "$VG_HOST/etc/virtgov/virtgov.conf"
        sqlite3 "$VG_HOST/var/lib/virtgov/inventory.db" \
                "PRAGMA journal_mode = WAL; CREATE TABLE host (n);" >/dev/null
        # host_writer: statements for the one sqlite3 connection below,
        # and a changed and a new file under the masked directories, every
        # 0.1 s until $VG_HOST/stop exists.
        host_writer() {
                local i=0
                while [ ! -e "$VG_HOST/stop" ]; do
                        i=$((i + 1))
                        echo "INSERT INTO host VALUES ($i);"
                        # Renamed into place: the test reads it while this
                        # runs, and '>' would show it empty for a moment.
                        echo "$i" > "$VG_HOST/etc/virtgov/virtgov.conf.new"
                        mv "$VG_HOST/etc/virtgov/virtgov.conf.new" "$VG_HOST/etc/virtgov/virtgov.conf"
                        : > "$VG_HOST/var/lib/virtgov/host-$i"
                        sleep 0.1
                done
        }
        host_writer | sqlite3 "$VG_HOST/var/lib/virtgov/inventory.db" &
        trap 'touch "$VG_HOST/stop"; wait; rm -rf "$VG_HOST"' EXIT
        until [ -e "$VG_HOST/var/lib/virtgov/host-2" ]; do sleep 0.05; done
fi

vg_sandbox "$@"
# Before the masks hide it: a window onto the host directory, to see what
# the host side holds while the test runs.
WINDOW=$VG_SCRATCH/window
mkdir -p "$WINDOW"
mount --bind "$VG_HOST" "$WINDOW"
sandbox_setup

# host_shows: which of the host's files show in the masked directories
# (its inventory has the name of virtgov's own: the check for it is that
# virtgov's inventory inside has none of the host's table).
host_shows() {
        find "$VG_SYSCONFDIR/virtgov" "$VG_LOCALSTATEDIR/lib/virtgov" -mindepth 1 \
                \( -name 'host-*' -o -name virtgov.conf \) -printf '%P '
}
# host_foreign: what the host directory holds that the host did not write.
host_foreign() {
        find "$WINDOW" -mindepth 1 -printf '%P\n' | grep -vxE \
                -e 'etc|etc/virtgov|etc/virtgov/virtgov.conf(.new)?|etc/libvirt|etc/libvirt/hooks' \
                -e 'var|var/lib|var/lib/virtgov|var/lib/virtgov/(inventory.db(-wal|-shm|-authz)?|host-[0-9]+)|stop' \
                | tr '\n' ' ' || true
}

say "every directory of libvirt's and virtgov's is a fresh tmpfs"
for d in $(sandbox_masks | sort -u); do
        check "$d is a tmpfs mount" test "$(findmnt -n -o FSTYPE --mountpoint "$d")" = tmpfs
done
check "libvirt's stock config is there" test -s /etc/libvirt/libvirtd.conf
check "no hooks, domains or networks of the host's" \
        test -z "$(find /etc/libvirt -mindepth 1 -not -name '*.conf' -not -path /etc/libvirt/hooks)"

say "the host's side: an inventory held open with its WAL, a config, files added"
check "the host's inventory has a WAL, seen through the window" test -s "$WINDOW/var/lib/virtgov/inventory.db-wal"
check "the masked directories are empty" test -z "$(find "$VG_SYSCONFDIR/virtgov" "$VG_LOCALSTATEDIR/lib/virtgov" -mindepth 1)"

say "virtgov inside, at the masked paths, while the host writes"
export VIRTGOV_CONFIG=$VG_SCRATCH/virtgov.conf
cat > "$VIRTGOV_CONFIG" <<CONF
inventory = $VG_LOCALSTATEDIR/lib/virtgov/inventory.db
spool_dir = $VG_LOCALSTATEDIR/lib/virtgov/spool
hooks_dir = $VG_SYSCONFDIR/libvirt/hooks
policy = $VG_SYSCONFDIR/virtgov/policy.json
inventory_group = root
CONF
echo '{ "mode": "audit", "default": "allow" }' > "$VG_SYSCONFDIR/virtgov/policy.json"
"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
domain_xml vg-sb > "$VG_SCRATCH/vg-sb.xml"
before=$(cat "$WINDOW/etc/virtgov/virtgov.conf")
shown=
for _ in $(seq 10); do
        "$VG_SYSCONFDIR/libvirt/hooks/qemu.d/50-virtgov" vg-sb prepare begin - < "$VG_SCRATCH/vg-sb.xml"
        [ -n "$shown" ] || shown=$(host_shows)
        sleep 0.2
done
check "the host wrote meanwhile (its config went from $before to $(cat "$WINDOW/etc/virtgov/virtgov.conf"))" \
        test "$(cat "$WINDOW/etc/virtgov/virtgov.conf")" -ge $((before + 5))
check "none of it showed inside${shown:+: $shown}" test -z "$shown"
check "the inventory inside holds the 10 hook events and only them" \
        test "$("$VIRTGOV" --json events | jq '[.[] | select(.domain == "vg-sb")] | length'):$("$VIRTGOV" --json events | jq length)" = 10:10
check "and none of the host's inventory: no table 'host', no rows from its WAL" \
        test "$(sqlite3 -readonly "$VG_LOCALSTATEDIR/lib/virtgov/inventory.db" "SELECT count(*) FROM sqlite_master WHERE name = 'host'")" = 0
foreign=$(host_foreign)
check "what virtgov wrote inside is not on the host${foreign:+: $foreign}" test -z "$foreign"

say "no libvirtd of the host's is reachable; stop_libvirt stops by the pid file, not by name"
check "before the sandbox's own starts, qemu:///system answers nothing" \
        quiet sh -c '! virsh -c qemu:///system version'
# A decoy under libvirtd's name: 'pkill -x libvirtd' would stop it too.
mkdir -p "$VG_SCRATCH/decoy"
cp /bin/sleep "$VG_SCRATCH/decoy/libvirtd"
"$VG_SCRATCH/decoy/libvirtd" 600 &
decoy=$!
start_libvirt
pid=$(cat "$VG_LIBVIRTD_PIDFILE")
check "the pid file names a libvirtd, not the decoy" \
        test "$(cat "/proc/$pid/comm"):$((pid == decoy))" = libvirtd:0
stop_libvirt
check "stop_libvirt stopped that libvirtd" quiet sh -c '! kill -0 "$0"' "$pid"
check "and not the decoy named libvirtd" kill -0 "$decoy"
kill "$decoy"

finish
