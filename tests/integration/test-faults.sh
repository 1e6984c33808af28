#!/bin/bash
# Faults, permissions and load, against a real libvirtd and the daemon. Each
# part checks that nothing is lost and nothing is doubled: the inventory
# locked past the hook's bound, the disk full, the spool removed under the
# daemon, the daemon killed with SIGKILL in the middle of a fold, an inotify
# queue overflow, the policy and the config replaced while the daemon runs,
# files a non-root user could change, and 50 hooks at once for 20 rounds.
# (libvirtd restarting under the daemon is in test-daemon; the hook's own
# faults, read-only inventory and missing spool, in test-hook-inputs.)
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

DB=/var/lib/virtgov/inventory.db
SPOOL=/var/lib/virtgov/spool
POLICY=/etc/virtgov/policy.json
CONF=/etc/virtgov/virtgov.conf
mkdir -p /etc/virtgov

# sql QUERY: a read straight from the inventory. The CLI would fold the
# spool first, which some checks here must not do.
sql() { sqlite3 -readonly "$DB" "$1"; }
spooled() { spool_events "$SPOOL"; }
# wait_sql QUERY WANT [SECONDS]: polls until the query prints WANT.
wait_sql() {
        local i
        for i in $(seq $((${3:-20} * 10))); do
                [ "$(sql "$1" 2>/dev/null)" = "$2" ] && return 0
                sleep 0.1
        done
        echo "waited for '$1' = '$2', have '$(sql "$1" 2>&1)'" >&2
        return 1
}
hook() { "$VG_HOOK" "$1" prepare begin - < "$VG_SCRATCH/$1.xml"; }
newxml() { domain_xml "$1" > "$VG_SCRATCH/$1.xml"; }

say "permissions: inventory 0640 root:virtgov, readable by the group without root; spool 0700"
getent group virtgov >/dev/null || groupadd --system virtgov   # the quickstart may have made it
useradd -M -G virtgov vgauditor
useradd -M vgoutsider
"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
check "the inventory's directory is 2750 root:virtgov" \
        test "$(stat -c '%a %U:%G' /var/lib/virtgov)" = "2750 root:virtgov"
check "the inventory is 0640 root:virtgov" test "$(stat -c '%a %U:%G' "$DB")" = "640 root:virtgov"
check "the spool is 0700 root" test "$(stat -c '%a %U' "$SPOOL")" = "700 root"
start_libvirt
start_daemon
newxml vg-f-1
hook vg-f-1
check "the WAL is 0640 root:virtgov too" test "$(stat -c '%a %U:%G' "$DB-wal")" = "640 root:virtgov"
install -m 0755 "$VIRTGOV" /var/tmp/virtgov-cli   # where every user may run it
check "a member of virtgov reads the inventory without root" \
        sh -c 'runuser -u vgauditor -- /var/tmp/virtgov-cli --json events --domain vg-f-1 | jq -e "length == 1" >/dev/null'
rc=0; runuser -u vgoutsider -- /var/tmp/virtgov-cli events > /dev/null 2> "$VG_SCRATCH/err" || rc=$?
check "anyone else cannot, and is told why ($(head -c 120 "$VG_SCRATCH/err"))" \
        sh -c "[ $rc = 1 ] && grep -q 'inventory.db' '$VG_SCRATCH/err'"

say "a policy or config that a non-root user could change is refused, saying why"
echo '{ "mode": "enforce", "default": "allow" }' > "$POLICY"
check "a safe policy: allowed" hook vg-f-1
chmod 666 "$POLICY"
rc=0; hook vg-f-1 2> "$VG_SCRATCH/err" || rc=$?
check "world-writable policy: the hook fails closed (exit $rc)" test "$rc" = 1
check "and says why: $(head -c 160 "$VG_SCRATCH/err")" grep -q "refusing it: anyone may write it" "$VG_SCRATCH/err"
chmod 664 "$POLICY"; chgrp virtgov "$POLICY"
check "group-writable by a group that is not root's: refused" sh -c '! "$0" vg-f-1 prepare begin - < "$1" 2>/dev/null' \
        "$VG_HOOK" "$VG_SCRATCH/vg-f-1.xml"
chmod 644 "$POLICY"; chgrp root "$POLICY"; chmod 777 /etc/virtgov
rc=0; hook vg-f-1 2> "$VG_SCRATCH/err" || rc=$?
check "a world-writable directory above it: refused, naming the directory" \
        sh -c "[ $rc = 1 ] && grep -q 'its directory /etc/virtgov is not safe' '$VG_SCRATCH/err'"
chmod 755 /etc/virtgov
check "made safe again: allowed" hook vg-f-1

say "a missing policy is believed only where no one else could have removed it"
echo '{ "mode": "enforce", "default": "deny" }' > "$POLICY"
check "a denying policy: denied" sh -c '! "$0" vg-f-1 prepare begin - < "$1" 2>/dev/null' \
        "$VG_HOOK" "$VG_SCRATCH/vg-f-1.xml"
chmod 777 /etc/virtgov
rm "$POLICY"   # as anyone could, in that directory
rc=0; hook vg-f-1 2> "$VG_SCRATCH/err" || rc=$?
check "removed from a world-writable directory: still denied (exit $rc), naming the directory" \
        sh -c "[ $rc = 1 ] && grep -q 'its directory /etc/virtgov is not safe' '$VG_SCRATCH/err'"
chmod 755 /etc/virtgov
ln -s /etc/virtgov/policy-gone.json "$POLICY"
rc=0; hook vg-f-1 2> "$VG_SCRATCH/err" || rc=$?
check "a dangling symlink at the policy's path: denied (exit $rc), not read as no policy" \
        sh -c "[ $rc = 1 ] && grep -q 'a symlink to .*, which does not exist' '$VG_SCRATCH/err'"
rc=0; "$VIRTGOV" policy check > /dev/null 2> "$VG_SCRATCH/err" || rc=$?
check "and 'policy check' calls it unreadable, not missing (exit $rc)" \
        sh -c "[ $rc = 1 ] && grep -q 'which does not exist' '$VG_SCRATCH/err'"
rm "$POLICY"
check "truly absent, in a safe directory: no policy, allowed" hook vg-f-1
echo '{ "mode": "enforce", "default": "allow" }' > "$POLICY"
echo "stale_days = 7" > "$CONF"; chmod 646 "$CONF"
hook vg-f-1 2> "$VG_SCRATCH/err"
# (the CLI, run as root, refuses that config as well: read with sqlite3)
check "a world-writable config: the hook records with the defaults and says why" \
        test "$(sql "SELECT json_extract(data, '$.config_error') LIKE '%refusing it%' FROM events WHERE domain = 'vg-f-1' ORDER BY id DESC LIMIT 1")" = 1
rc=0; "$VIRTGOV" events > /dev/null 2> "$VG_SCRATCH/err" || rc=$?
check "so does the CLI run by root" sh -c "[ $rc = 1 ] && grep -q 'refusing it' '$VG_SCRATCH/err'"
rc=0; "$VG_DAEMON" --foreground --uri test:///default > "$VG_SCRATCH/err" 2>&1 || rc=$?
check "the daemon will not start on it: exit $rc, $(head -c 100 "$VG_SCRATCH/err")" \
        sh -c "[ $rc != 0 ] && grep -q 'refusing it' '$VG_SCRATCH/err'"
kill -HUP "$VG_DAEMON_PID"
check "a running daemon keeps its configuration on SIGHUP and records daemon.reload-failed" \
        wait_sql "SELECT count(*) FROM events WHERE kind = 'daemon.reload-failed' AND reason LIKE '%refusing it%'" 1
chmod 644 "$CONF"

say "policy and config replaced while the daemon runs"
newxml vg-f-2
virsh define "$VG_SCRATCH/vg-f-2.xml" >/dev/null
wait_for "define under an allowing policy: recorded, no violation" "$(has_event domain.defined vg-f-2 libvirt)"
echo '{ "mode": "enforce", "default": "deny" }' > "$POLICY.new"
mv "$POLICY.new" "$POLICY"   # atomically, as a config-management tool does
newxml vg-f-3
virsh define "$VG_SCRATCH/vg-f-3.xml" >/dev/null
wait_for "the replaced policy holds at once: a define it does not cover is a violation" \
        '[.[] | select(.kind == "policy.violation" and .domain == "vg-f-3")] | length == 1'
check "and the earlier define was none" \
        test "$("$VIRTGOV" --json events --kind policy.violation --domain vg-f-2 | jq length)" = 0
echo "this is = not { a config" > "$CONF.new"; mv "$CONF.new" "$CONF"
kill -HUP "$VG_DAEMON_PID"
check "a broken config on SIGHUP: daemon.reload-failed naming file and line" \
        wait_sql "SELECT count(*) FROM events WHERE kind = 'daemon.reload-failed' AND reason LIKE '%virtgov.conf:1:%'" 1
newxml vg-f-4
virsh define "$VG_SCRATCH/vg-f-4.xml" >/dev/null
check "and it goes on recording" \
        wait_sql "SELECT count(*) FROM events WHERE kind = 'domain.defined' AND domain = 'vg-f-4'" 1
echo "stale_days = 9" > "$CONF.new"; mv "$CONF.new" "$CONF"
kill -HUP "$VG_DAEMON_PID"
wait_for "a good config again: daemon.reloaded" '[.[] | select(.kind == "daemon.reloaded")] | length == 1'
rm -f "$CONF"

say "the inventory locked by another writer past the hook's bound: it decides, spools, exits"
cat > "$CONF" <<CONF
hook_timeout_ms = 1500
busy_timeout_ms = 300
CONF
"$VIRTGOV" approve vg-f-ok >/dev/null
newxml vg-f-ok; newxml vg-f-no
before=$(sql "SELECT count(*) FROM events")
( echo "BEGIN IMMEDIATE;"; sleep 8; echo "COMMIT;" ) | sqlite3 "$DB" &
locker=$!
sleep 0.5
rc_ok=0; hook vg-f-ok 2>/dev/null || rc_ok=$?
rc_no=0; hook vg-f-no 2>/dev/null || rc_no=$?
check "the approved domain is allowed (exit $rc_ok), the other denied (exit $rc_no)" test "$rc_ok:$rc_no" = "0:1"
check "both decided while the lock was still held" kill -0 "$locker"
check "both events are in the spool" test "$(spool_json "$SPOOL" | grep -c '"vg-f-\(ok\|no\)"')" = 2
wait "$locker" || true
check "once the lock is gone the daemon folds them by itself, each once" \
        wait_sql "SELECT count(*) FROM events WHERE kind = 'domain.prepare' AND domain IN ('vg-f-ok', 'vg-f-no')" 2 70
check "with their decisions" \
        test "$(sql "SELECT group_concat(domain || '=' || decision, ' ') FROM (SELECT domain, decision FROM events WHERE kind = 'domain.prepare' AND domain IN ('vg-f-ok', 'vg-f-no') ORDER BY domain)")" = "vg-f-no=deny vg-f-ok=allow"

say "an exclusive lock (not even readers get in): the hook decides from the inventory's copy of the approvals"
# lock_exclusively: for 8 s from now, in the background ($locker).
lock_exclusively() {
        ( echo "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;"; sleep 8; echo "COMMIT;" ) | sqlite3 "$DB" &
        locker=$!
        sleep 0.5
}
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" || true   # it could not be taken beside the daemon
check "the inventory has its copy of the authorizations" test -s "$DB-authz"
lock_exclusively
rc_ok=0; hook vg-f-ok 2>/dev/null || rc_ok=$?
rc_no=0; hook vg-f-no 2>/dev/null || rc_no=$?
check "the approved domain is allowed (exit $rc_ok), the other denied (exit $rc_no)" test "$rc_ok:$rc_no" = "0:1"
check "before the lock was released" kill -0 "$locker"
wait "$locker" || true

say "the same lock with no copy (a crash between a change and its copy): the hook fails closed within its bound"
rm -f "$DB-authz"
lock_exclusively
rc=0; hook vg-f-ok 2> "$VG_SCRATCH/err" || rc=$?
check "denied, since its approval cannot be read (exit $rc): $(head -c 160 "$VG_SCRATCH/err")" test "$rc" = 1
check "before the lock was released" kill -0 "$locker"
wait "$locker" || true
"$VIRTGOV" events --limit 1 > /dev/null   # folds the spool
check "the decision is folded in with its reason" \
        wait_sql "SELECT count(*) FROM events WHERE domain = 'vg-f-ok' AND kind = 'domain.prepare' AND decision = 'deny' AND reason LIKE 'cannot consult the inventory%'" 1 70
check "and the writer that folded them made the copy again" test -s "$DB-authz"
rm -f "$CONF"

say "the disk under the inventory full: the event waits in the spool, folded once there is room"
mkdir -p /var/lib/vg-small
mount -t tmpfs -o size=4m tmpfs /var/lib/vg-small
cp "$DB" /var/lib/vg-small/inventory.db
cat > "$CONF" <<CONF
inventory = /var/lib/vg-small/inventory.db
spool_dir = /var/spool/vg-full
CONF
mv "$POLICY" "$VG_SCRATCH/policy.saved"   # no policy: only recording is at stake here
dd if=/dev/zero of=/var/lib/vg-small/filler bs=64k 2>/dev/null || true
newxml vg-f-full
check "disk full: the hook exits 0" hook vg-f-full
check "the event waits in the spool, which is elsewhere" \
        test "$(spool_json /var/spool/vg-full | grep -c '"vg-f-full"')" = 1
rm /var/lib/vg-small/filler
"$VIRTGOV" events --domain vg-f-full > /dev/null
check "with room again, the next reader folds it, once" \
        test "$(sqlite3 /var/lib/vg-small/inventory.db "SELECT count(*) FROM events WHERE domain = 'vg-f-full'")" = 1
check "and the spool is empty" test "$(spool_events /var/spool/vg-full)" = 0
umount /var/lib/vg-small
rm -f "$CONF"
mv "$VG_SCRATCH/policy.saved" "$POLICY"
start_daemon

say "the spool directory removed while the daemon runs: made again, watched again"
rm -rf "$SPOOL"
for _ in $(seq 50); do [ -d "$SPOOL" ] && break; sleep 0.1; done
check "the daemon made it again, 0700" test "$(stat -c %a "$SPOOL" 2>/dev/null)" = 700
cat > "$CONF" <<CONF
hook_timeout_ms = 1500
busy_timeout_ms = 300
CONF
"$VIRTGOV" approve vg-f-respool >/dev/null
( echo "BEGIN IMMEDIATE;"; sleep 2; echo "COMMIT;" ) | sqlite3 "$DB" &
locker=$!
sleep 0.3
newxml vg-f-respool
hook vg-f-respool
wait "$locker" || true
rm -f "$CONF"
check "what the hook spooled into it is folded by the daemon" \
        wait_sql "SELECT count(*) FROM events WHERE domain = 'vg-f-respool' AND kind = 'domain.prepare'" 1 70

say "an inotify queue overflow: the daemon looks at everything again"
# Stopped, the daemon reads nothing; 17,000 renames into the spool overflow
# its queue (fs.inotify.max_queued_events is 16384), and the useradd after
# them is lost from the queue: only the overflow's rescan can find it.
N=17000
mkdir -p /var/lib/virtgov/stage
awk -v n=$N -v d=/var/lib/virtgov/stage 'BEGIN {
        for (i = 0; i < n; i++) {
                f = sprintf("%s/ovf-%05d.json", d, i)
                printf("{\"time\":\"2026-11-22T10:00:00.000000Z\",\"ref\":\"ovf-%05d\",\"source\":\"hook\",\"kind\":\"domain.prepare\",\"host\":\"h\",\"domain\":\"vg-ovf\",\"data\":{}}\n", i) > f
                close(f)
        }
}'
kill -STOP "$VG_DAEMON_PID"
find /var/lib/virtgov/stage -name '*.json' -exec mv -t "$SPOOL" {} +
useradd -M vgoverflow
kill -CONT "$VG_DAEMON_PID"
check "all $N spooled events are folded, each once" \
        wait_sql "SELECT count(*), count(DISTINCT ref) FROM events WHERE domain = 'vg-ovf'" "$N|$N" 60
check "the account added during the overflow is recorded" \
        wait_sql "SELECT count(*) FROM events WHERE kind = 'account.added' AND json_extract(data, '$.user') = 'vgoverflow'" 1 30
check "the daemon said so" grep -q "overflow" "$VG_SCRATCH/daemon.log"

say "the daemon killed with SIGKILL in the middle of a fold: none lost, none doubled"
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" || true
N=40000
awk -v n=$N -v d="$SPOOL" 'BEGIN {
        for (i = 0; i < n; i++) {
                f = sprintf("%s/kill-%05d.json", d, i)
                printf("{\"time\":\"2026-11-22T11:00:00.000000Z\",\"ref\":\"kill-%05d\",\"source\":\"hook\",\"kind\":\"domain.prepare\",\"host\":\"h\",\"domain\":\"vg-kill\",\"data\":{}}\n", i) > f
                close(f)
        }
}'
"$VG_DAEMON" --foreground >> "$VG_SCRATCH/daemon.log" 2>&1 &
pid=$!
while [ "$(spooled)" -ge $N ]; do sleep 0.01; done
kill -9 "$pid"; wait "$pid" || true
left=$(spooled)
check "killed mid-fold: $left of $N still spooled" sh -c "[ $left -gt 0 ] && [ $left -lt $N ]"
start_daemon
check "after a restart every one is in the inventory exactly once" \
        wait_sql "SELECT count(*), count(DISTINCT ref) FROM events WHERE domain = 'vg-kill'" "$N|$N" 60
check "and the spool is empty" test "$(spooled)" = 0
check "the hash chain is intact" quiet "$VIRTGOV" verify

say "load: 50 hooks at once, 20 rounds, the daemon folding: every event once, no failure reaches libvirt"
echo '{ "mode": "enforce", "default": "deny", "rules": [ { "name": "load", "match": { "name": "vg-load-*" }, "action": "allow" } ] }' > "$POLICY"
newxml vg-load
: > "$VG_SCRATCH/load.rc"
for round in $(seq 20); do
        pids=()
        for i in $(seq 50); do
                ( rc=0
                  sed "s/vg-load/vg-load-$round-$i/" "$VG_SCRATCH/vg-load.xml" |
                          "$VG_HOOK" "vg-load-$round-$i" prepare begin - 2>> "$VG_SCRATCH/load.err" || rc=$?
                  echo "$rc" >> "$VG_SCRATCH/load.rc" ) &
                pids+=($!)
        done
        wait "${pids[@]}"   # not a bare wait: the daemon is a child too
done
check "1000 hook runs, every one exit 0" test "$(grep -c '^0$' "$VG_SCRATCH/load.rc")" = 1000
say "$(grep -c 'event spooled' "$VG_SCRATCH/load.err" || true) of the 1000 runs waited past busy_timeout_ms and spooled"
check "1000 prepare events, one per run, each allowed" \
        wait_sql "SELECT count(*), count(DISTINCT domain), sum(decision = 'allow') FROM events WHERE kind = 'domain.prepare' AND domain LIKE 'vg-load-%'" "1000|1000|1000" 60
check "the spool is empty" test "$(spooled)" = 0
check "the hash chain is intact after it all" quiet "$VIRTGOV" verify
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" || true

finish
