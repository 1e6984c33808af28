#!/bin/bash
# The Debian package, for real: dpkg-buildpackage builds it from this
# source tree (offline, from Debian's packages), lintian finds no error,
# dpkg -i installs it in the sandbox (the group, the inventory's directory,
# the hooks in libvirt's hook directories, the unit), a guest goes through
# its life recorded by the installed hook and daemon, a second build with a
# higher version upgrades it keeping the inventory and migrating it (taken
# back to the schema before, as an older virtgov left it), dpkg -r removes
# the hooks and keeps the inventory, dpkg -P removes the inventory.
# Everything dpkg writes (/usr, /etc, /var) lands in the sandbox's scratch
# layers.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
overlay /usr

SRC=$(cd "$(dirname "$0")/../.." && pwd)
say "building the packages: $SRC"
# A copy of what the repository tracks (no build trees), debian/ included.
copy_source() {
        mkdir -p "$1"
        if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
                git -C "$SRC" ls-files -z | (cd "$SRC" && xargs -0 cp -P --parents -t "$1")
        else
                (cd "$SRC" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$1"
        fi
}
copy_source "$VG_SCRATCH/v1/virtgov"
version=$(cd "$VG_SCRATCH/v1/virtgov" && dpkg-parsechangelog -S Version)
# The second: the same tree, its changelog a version ahead.
copy_source "$VG_SCRATCH/v2/virtgov"
next="$version+test1"
{
        printf 'virtgov (%s) unstable; urgency=medium\n\n  * An upgrade for the package test.\n\n' "$next"
        printf ' -- virtgov tests <root@localhost>  %s\n\n' "$(date -R)"
        cat "$VG_SCRATCH/v1/virtgov/debian/changelog"
} > "$VG_SCRATCH/v2/virtgov/debian/changelog"
# The first build runs the unit suites (dh_auto_test), as a build on one
# of its users' KVM hosts does: a libvirtd runs, started after virtgov's
# hooks were installed, and the tree's files are older than the host's
# boot, as those of a source tarball unpacked on a host rebooted since. A
# unit test that read the host (VG-VG-001 took its fixture's daemon start
# from this host's boot clock) fails the build here. The second build
# skips them: the same tests on the same tree.
mkdir -p /etc/libvirt/hooks/qemu.d /etc/libvirt/hooks/network.d
for d in qemu.d network.d; do
        printf '#!/bin/sh\nexit 0\n' > "/etc/libvirt/hooks/$d/50-virtgov"
        chmod 0755 "/etc/libvirt/hooks/$d/50-virtgov"
done
start_libvirt
boot=$(awk '/^btime/ { print $2 }' /proc/stat)
find "$VG_SCRATCH/v1/virtgov" -exec touch -h -d "@$((boot - 86400))" {} +
for v in v1 v2; do
        opts=nocheck
        [ "$v" = v1 ] && opts=
        (cd "$VG_SCRATCH/$v/virtgov" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -us -uc -b \
                > "$VG_SCRATCH/$v/build.log" 2>&1) || tail -n 30 "$VG_SCRATCH/$v/build.log" >&2
done
check "the first build ran the unit suites, a libvirtd running (pid $(cat "$VG_LIBVIRTD_PIDFILE"))" \
        grep -q 'dh_auto_test' "$VG_SCRATCH/v1/build.log"
stop_libvirt
stop_pidfile /run/virtlogd.pid   # start_libvirt starts it again below
rm -f /etc/libvirt/hooks/qemu.d/50-virtgov /etc/libvirt/hooks/network.d/50-virtgov
deb1=$(ls "$VG_SCRATCH"/v1/virtgov_*_*.deb 2>/dev/null | head -1)
deb2=$(ls "$VG_SCRATCH"/v2/virtgov_*_*.deb 2>/dev/null | head -1)
check "dpkg-buildpackage -us -uc -b builds $version" test -f "$deb1"
check "and the second build, $next" test -f "$deb2"
lintian --fail-on error "$VG_SCRATCH"/v1/virtgov_*.changes > "$VG_SCRATCH/lintian.txt" 2>&1 || true
check "lintian reports no error ($(grep -c '^E:' "$VG_SCRATCH/lintian.txt" || true))" \
        sh -c "! grep -q '^E:' '$VG_SCRATCH/lintian.txt'"

say "dpkg -i: installed and configured"
getent group virtgov >/dev/null && groupdel virtgov
check "dpkg -i $(basename "$deb1")" quiet dpkg -i "$deb1"
check "the package is installed" sh -c "dpkg-query -W -f='\${Status}' virtgov | grep -q 'install ok installed'"
check "it made the virtgov group" getent group virtgov
check "the inventory, root:virtgov 0640, in its 2750 directory" \
        sh -c '[ "$(stat -c "%a %U:%G" /var/lib/virtgov)" = "2750 root:virtgov" ] &&
               [ "$(stat -c "%a %U:%G" /var/lib/virtgov/inventory.db)" = "640 root:virtgov" ]'
check "the host key, made at install: private 0600, public half 0644" \
        sh -c '[ "$(stat -c %a /var/lib/virtgov/host.key)" = 600 ] && [ "$(stat -c %a /var/lib/virtgov/host.key.pub)" = 644 ]'
check "the hooks are in libvirt's hook directories" \
        test -x /etc/libvirt/hooks/qemu.d/50-virtgov -a -x /etc/libvirt/hooks/network.d/50-virtgov
check "the unit is installed, and enabled by the package" sh -c \
        'test -f /lib/systemd/system/virtgov-inventoryd.service &&
         test -L /etc/systemd/system/multi-user.target.wants/virtgov-inventoryd.service'
VIRTGOV=/usr/bin/virtgov
check "the CLI runs from /usr/bin" quiet "$VIRTGOV" hooks status
check "bash completion is installed where bash-completion looks" \
        test -f /usr/share/bash-completion/completions/virtgov
check "the message catalog is installed where journalctl -x looks" \
        test -f /usr/lib/systemd/catalog/virtgov.catalog
for m in virtgov.8 virtgov-inventoryd.8 virtgov-hook.8 virtgov.conf.5 virtgov-policy.5; do
        check "man ${m%.*} is installed" test -f "/usr/share/man/man${m##*.}/$m.gz"
done

say "a guest's life, recorded by the installed hook and daemon"
start_libvirt
VG_DAEMON=/usr/sbin/virtgov-inventoryd
start_daemon
domain_xml vg-pkg > "$VG_SCRATCH/vg-pkg.xml"
virsh define "$VG_SCRATCH/vg-pkg.xml" >/dev/null
check "start" quiet virsh start vg-pkg
check "destroy" quiet virsh destroy vg-pkg
check "undefine" quiet virsh undefine vg-pkg
wait_for "the hook recorded the start (domain.prepare, source hook)" "$(has_event domain.prepare vg-pkg hook)"
wait_for "the daemon recorded the undefine" "$(has_event domain.undefined vg-pkg libvirt)"
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" 2>/dev/null || true
events_before=$(sqlite3 /var/lib/virtgov/inventory.db "SELECT count(*) FROM events")
schema=$(sqlite3 /var/lib/virtgov/inventory.db "PRAGMA user_version")

say "upgraded by the second build: the inventory kept and migrated"
# As a virtgov of schema 12 left it (13 added two tables, 14 rekeyed the
# baseline's, which it does again from either shape).
sqlite3 /var/lib/virtgov/inventory.db \
        "DROP TABLE integrity_superseded; DROP TABLE integrity_processes; PRAGMA user_version = 12"
check "dpkg -i $(basename "$deb2")" quiet dpkg -i "$deb2"
check "now $next" test "$(dpkg-query -W -f='${Version}' virtgov)" = "$next"
check "the inventory migrated to schema $schema" \
        test "$(sqlite3 /var/lib/virtgov/inventory.db "PRAGMA user_version")" = "$schema"
check "every event kept ($events_before)" \
        test "$(sqlite3 /var/lib/virtgov/inventory.db "SELECT count(*) FROM events")" = "$events_before"
check "the hash chain verifies" quiet "$VIRTGOV" verify
check "the hooks are still in place" test -x /etc/libvirt/hooks/qemu.d/50-virtgov

say "removed: the hooks go, the inventory stays; purged: it goes"
check "dpkg -r virtgov" quiet dpkg -r virtgov
check "no hooks left" test ! -e /etc/libvirt/hooks/qemu.d/50-virtgov -a ! -e /etc/libvirt/hooks/network.d/50-virtgov
check "no binary left" test ! -e /usr/bin/virtgov -a ! -e /usr/libexec/virtgov/virtgov-hook
check "the inventory is kept" test -s /var/lib/virtgov/inventory.db
check "dpkg -P virtgov" quiet dpkg -P virtgov
check "the inventory is gone" test ! -e /var/lib/virtgov/inventory.db -a ! -e /var/lib/virtgov/spool

finish
