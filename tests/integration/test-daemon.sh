#!/bin/bash
# virtgov-inventoryd against a real libvirtd: defines and undefines, host
# accounts, reconciliation after the daemon was killed, libvirtd restarting
# under it, a start that no hook decided (policy.bypass), the spool, syslog.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

mkdir -p /etc/virtgov
cat > /etc/virtgov/virtgov.conf <<CONF
syslog_socket = $VG_SCRATCH/syslog.sock
bypass_window_s = 60
CONF
"$VG_DGRAM_SINK" "$VG_SCRATCH/syslog.sock" "$VG_SCRATCH/syslog.txt" &
"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
start_libvirt
start_daemon

say "define and undefine are seen through libvirt's events"
domain_xml vg-d-1 > "$VG_SCRATCH/d1.xml"
virsh define "$VG_SCRATCH/d1.xml" >/dev/null
wait_for "virsh define -> domain.defined (source libvirt)" "$(has_event domain.defined vg-d-1 libvirt)"
check "the define carries the metadata's owner" \
        test "$("$VIRTGOV" --json show vg-d-1 | jq -r '.owner + " " + (.persistent | tostring)')" = "alice true"
virsh undefine vg-d-1 >/dev/null
wait_for "virsh undefine -> domain.undefined (source libvirt)" "$(has_event domain.undefined vg-d-1 libvirt)"
check "list no longer shows it; list --all does, as undefined" \
        test "$("$VIRTGOV" --json list | jq '[.[] | select(.name == "vg-d-1")] | length'):$("$VIRTGOV" --json list --all | jq -r '.[] | select(.name == "vg-d-1") | .state')" = "0:undefined"

say "host accounts: useradd, usermod -aG libvirt, chpasswd, sudoers.d, userdel"
wait_for "the first start took an accounts baseline" \
        '[.[] | select(.kind == "account.baseline")] | length == 1'
useradd vgtestuser
wait_for "useradd -> account.added" \
        '[.[] | select(.kind == "account.added" and .data.user == "vgtestuser")] | length == 1'
usermod -aG libvirt vgtestuser
wait_for "usermod -aG libvirt -> group.member-added, privileged" \
        '[.[] | select(.kind == "group.member-added" and .data.user == "vgtestuser" and .data.group == "libvirt" and .data.privileged)] | length == 1'
echo 'vgtestuser:S3cret-Test-Pw' | chpasswd
wait_for "chpasswd -> account.password-changed" \
        '[.[] | select(.kind == "account.password-changed" and .data.user == "vgtestuser")] | length == 1'
# sudo may not be installed: the daemon must notice the directory appear too
mkdir -p /etc/sudoers.d
sleep 0.5
echo 'vgtestuser ALL=(ALL) /usr/bin/virsh' > /etc/sudoers.d/vgtest
wait_for "a sudoers.d file -> sudoers.changed" \
        '[.[] | select(.kind == "sudoers.changed" and .data.file == "sudoers.d/vgtest" and .data.change == "created")] | length == 1'
userdel vgtestuser
wait_for "userdel -> account.removed" \
        '[.[] | select(.kind == "account.removed" and .data.user == "vgtestuser")] | length == 1'
hash=$(grep -o '^root:[^:]*' /etc/shadow | cut -d: -f2)
# Only a crypt hash is one: a locked root ('*', '!') would match any '*' in
# the inventory (a glob the assessment names).
case $hash in \$*) ;; *) hash= ;; esac
check "no password hash is stored anywhere in the inventory" \
        sh -c '! sqlite3 /var/lib/virtgov/inventory.db .dump | grep -qF -e "$0" -e "\$y\$" -e "\$6\$"' "${hash:-no-hash-set}"

say "one daemon per inventory: a second refuses to start and names the first"
LOCK=/var/lib/virtgov/inventory.db.daemon.lock
# (timeout: were the lock missing, the second would run on and double up)
rc=0; timeout 10 "$VG_DAEMON" --foreground > "$VG_SCRATCH/second.log" 2>&1 || rc=$?
check "a second daemon exits non-zero (exit $rc): $(head -c 200 "$VG_SCRATCH/second.log")" \
        sh -c "[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'in use by another virtgov-inventoryd, pid $VG_DAEMON_PID ' '$VG_SCRATCH/second.log'"
check "it recorded nothing: one daemon.started" \
        test "$("$VIRTGOV" --json events --kind daemon.started | jq length)" = 1
check "the first is still running" kill -0 "$VG_DAEMON_PID"

say "kill -9, a define while the daemon is down, restart: reconciled"
kill -9 "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" 2>/dev/null || true
domain_xml vg-d-2 > "$VG_SCRATCH/d2.xml"
virsh define "$VG_SCRATCH/d2.xml" >/dev/null
start_daemon
check "after the first died of SIGKILL, a new one started: the kernel released the lock, now it names $VG_DAEMON_PID" \
        sh -c "kill -0 $VG_DAEMON_PID && [ \"\$(cat $LOCK)\" = $VG_DAEMON_PID ]"
wait_for "the define made while down -> domain.defined (source reconcile)" \
        "$(has_event domain.defined vg-d-2 reconcile)"
check "list shows vg-d-2" test "$("$VIRTGOV" --json list | jq '[.[] | select(.name == "vg-d-2")] | length')" = 1

say "with the hooks active, a start is not a bypass"
virsh start vg-d-2 >/dev/null
wait_for "domain.started from libvirt" "$(has_event domain.started vg-d-2 libvirt)"
sleep 1
check "no policy.bypass for a start the hook saw" \
        test "$("$VIRTGOV" --json events --kind policy.bypass --domain vg-d-2 | jq length)" = 0
virsh destroy vg-d-2 >/dev/null

say "a redefinition and an undefine while the daemon is down: reconciled from the inventory's definitions"
domain_xml vg-d-gone > "$VG_SCRATCH/dgone.xml"
virsh define "$VG_SCRATCH/dgone.xml" >/dev/null
wait_for "vg-d-gone defined" "$(has_event domain.defined vg-d-gone libvirt)"
kill -9 "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" 2>/dev/null || true
virsh undefine vg-d-gone >/dev/null
virsh dumpxml --inactive vg-d-2 |
        sed "s|</devices>|<interface type='user'><mac address='52:54:00:00:d2:02'/></interface></devices>|" \
        > "$VG_SCRATCH/d2b.xml"
virsh define "$VG_SCRATCH/d2b.xml" >/dev/null
start_daemon
wait_for "the changed definition -> domain.defined (source reconcile, definition changed)" \
        '[.[] | select(.kind == "domain.defined" and .domain == "vg-d-2" and .source == "reconcile" and .data.detail == "definition changed")] | length == 1'
wait_for "the undefined one -> domain.undefined (source reconcile, vanished)" \
        '[.[] | select(.kind == "domain.undefined" and .domain == "vg-d-gone" and .source == "reconcile" and .data.detail == "vanished")] | length == 1'
check "its interface is among vg-d-2's devices now" \
        test "$("$VIRTGOV" --json show vg-d-2 | jq -r '.facts.interfaces[0].mac')" = 52:54:00:00:d2:02
kill -TERM "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" 2>/dev/null || true
start_daemon
sleep 2
check "a restart reconciles again and finds the definition as recorded: nothing new for vg-d-2" \
        test "$("$VIRTGOV" --json events --source reconcile --domain vg-d-2 | jq '[.[] | select(.kind == "domain.defined" or .kind == "domain.seen")] | length')" = 2

say "the host's identity: recorded once, again when it changes"
libvirt_uuid=$(virsh capabilities | sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' | head -n 1)
check "after four starts, one host.identity: this machine-id and libvirt's host UUID ($libvirt_uuid)" \
        test "$("$VIRTGOV" --json events --kind host.identity | jq -c 'map(.data.identity)')" = \
        "[{\"libvirt_uuid\":\"$libvirt_uuid\",\"machine_id\":\"$(cat /etc/machine-id)\"}]"
kill -TERM "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" 2>/dev/null || true
cp /etc/virtgov/virtgov.conf "$VG_SCRATCH/conf.saved"
echo 00112233445566778899aabbccddeeff > "$VG_SCRATCH/machine-id"
echo "machine_id_file = $VG_SCRATCH/machine-id" >> /etc/virtgov/virtgov.conf
start_daemon
wait_for "another machine-id (a cloned disk): a second host.identity, with the previous one" \
        "[.[] | select(.kind == \"host.identity\")] | length == 2 and (last | .data.identity.machine_id == \"00112233445566778899aabbccddeeff\" and .data.previous.machine_id == \"$(cat /etc/machine-id)\")"
kill -TERM "$VG_DAEMON_PID"
wait "$VG_DAEMON_PID" 2>/dev/null || true
cp "$VG_SCRATCH/conf.saved" /etc/virtgov/virtgov.conf
start_daemon

say "libvirtd restarts under the daemon: it reconnects and still records"
connects() { "$VIRTGOV" --json events --kind daemon.connected | jq length; }
before=$(connects)
stop_libvirt
wait_for "the lost connection is recorded (a monitoring gap)" \
        '[.[] | select(.kind == "daemon.disconnected")] | length == 1'
libvirtd -d
wait_for "the daemon reconnects by itself" "[.[] | select(.kind == \"daemon.connected\")] | length > $before" 30
domain_xml vg-d-3 > "$VG_SCRATCH/d3.xml"
virsh define "$VG_SCRATCH/d3.xml" >/dev/null
wait_for "a define after libvirtd restarted is recorded" \
        "[.[] | select(.kind == \"domain.defined\" and .domain == \"vg-d-3\")] | length > 0" 30

say "the hook absent at libvirtd start: a start is a policy.bypass"
"$VIRTGOV" hooks uninstall >/dev/null
before=$(connects)
stop_libvirt
libvirtd -d
wait_for "the daemon reconnects to the hook-less libvirtd" "[.[] | select(.kind == \"daemon.connected\")] | length > $before" 30
virsh start vg-d-3 >/dev/null
wait_for "a start with no hook decision -> policy.bypass" \
        '[.[] | select(.kind == "policy.bypass" and .domain == "vg-d-3" and .source == "daemon")] | length == 1' 30
check "the bypass says why" \
        test "$("$VIRTGOV" --json events --kind policy.bypass --domain vg-d-3 | jq -r '.[0].reason | contains("no hook decision")')" = true
virsh destroy vg-d-3 >/dev/null

say "the bypass cross-check cannot query the inventory: said in the log and as policy.error, not taken for 'no bypass'"
# A copy of the inventory whose events.source has a collation SQLite does
# not know: appends work, a query by source (the cross-check's) fails. A
# daemon of its own watches it (another inventory, another lock).
B=$VG_SCRATCH/broken
mkdir -p "$B/spool"
sqlite3 /var/lib/virtgov/inventory.db ".backup '$B/inventory.db'"
sqlite3 "$B/inventory.db" "PRAGMA writable_schema = ON;
        UPDATE sqlite_master SET sql = replace(sql, 'source TEXT', 'source TEXT COLLATE vg_missing') WHERE name = 'events';"
bsql() { sqlite3 "$B/inventory.db" "$1"; }
# wait_bsql SQL WANT: polls the copy until SQL yields WANT (15 s). (Not
# by source: that is the query that fails.)
wait_bsql() {
        local i
        for i in $(seq 150); do [ "$(bsql "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
        return 1
}
check "in the copy a query by source fails, one by kind does not" \
        sh -c '! sqlite3 "$0" "SELECT 1 FROM events WHERE source = '"'hook'"'" 2>/dev/null &&
               sqlite3 "$0" "SELECT 1 FROM events WHERE kind = '"'x'"'"' "$B/inventory.db"
printf 'inventory = %s/inventory.db\nspool_dir = %s/spool\nsyslog = no\nbypass_window_s = 60\n' "$B" "$B" \
        > "$B/virtgov.conf"
"$VG_DAEMON" --foreground --config "$B/virtgov.conf" > "$B/daemon.log" 2>&1 &
bpid=$!
for _ in $(seq 100); do grep -q "connected to" "$B/daemon.log" && break; sleep 0.2; done
virsh start vg-d-3 >/dev/null
check "the failed cross-check is a policy.error of vg-d-3 in that inventory, naming the error, deciding nothing" \
        wait_bsql "SELECT count(*) FROM events WHERE kind = 'policy.error' AND domain = 'vg-d-3'
                   AND decision IS NULL AND json_extract(data, '$.check') = 'bypass'
                   AND reason LIKE '%cross-check failed: %no such collation sequence: vg_missing%'" 1
check "and said once in its log: $(grep -m1 'not verified' "$B/daemon.log" | head -c 200)" \
        test "$(grep -c "start of 'vg-d-3' (booted) not verified: the policy.bypass cross-check failed: .*no such collation sequence" "$B/daemon.log")" = 1
check "that daemon goes on running" kill -0 "$bpid"
kill -TERM "$bpid"; wait "$bpid" || true
virsh destroy vg-d-3 >/dev/null

say "the daemon folds the spool as soon as a file lands in it"
cat > "$VG_SCRATCH/spool-only.conf" <<CONF
inventory = $VG_SCRATCH/no-such-dir/inventory.db
spool_dir = /var/lib/virtgov/spool
CONF
VIRTGOV_CONFIG="$VG_SCRATCH/spool-only.conf" "$VG_HOOK" vg-spooled prepare begin - \
        < "$VG_SCRATCH/d1.xml" 2>/dev/null
wait_for "a spooled hook event reaches the inventory" \
        '[.[] | select(.domain == "vg-spooled" and .kind == "domain.prepare")] | length == 1'
check "the spool is empty again" test "$(spool_events /var/lib/virtgov/spool)" = 0

say "every event goes to syslog as one key=value line"
sleep 2
check "syslog has the libvirt define" grep -q 'kind=domain.defined host=[^ ]* domain=vg-d-1' "$VG_SCRATCH/syslog.txt"
check "syslog has the hook's events too" grep -q 'source=hook kind=domain.prepare' "$VG_SCRATCH/syslog.txt"
check "syslog has the bypass as a warning (<28>)" grep -q '^<28>.*kind=policy.bypass' "$VG_SCRATCH/syslog.txt"
check "syslog has each event once" \
        test "$(grep -c 'kind=account.added' "$VG_SCRATCH/syslog.txt")" = 1

say "SIGHUP reloads, SIGTERM stops cleanly"
stops_before=$("$VIRTGOV" --json events --kind daemon.stopped | jq length)
kill -HUP "$VG_DAEMON_PID"
wait_for "SIGHUP -> daemon.reloaded" '[.[] | select(.kind == "daemon.reloaded")] | length == 1'
kill -TERM "$VG_DAEMON_PID"
rc=0
wait "$VG_DAEMON_PID" || rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "SIGTERM: daemon.stopped recorded" \
        test "$("$VIRTGOV" --json events --kind daemon.stopped | jq length)" = $((stops_before + 1))

say "tamper evidence: every syslog line carries its hash; the chain head anchors the inventory"
head=$(grep -o 'chain.head id=[0-9]* hash=[0-9a-f]*' "$VG_SCRATCH/syslog.txt" | tail -n 1)
anchor=$(echo "$head" | sed 's/chain.head id=\([0-9]*\) hash=/\1:/')
head_id=${anchor%%:*}
check "on exit the daemon sent the chain head to syslog ($anchor)" test -n "$anchor"
last=$("$VIRTGOV" --json events | jq -r 'max_by(.id) | "\(.id):\(.hash)"')
check "the head is the newest event's id and hash" test "$anchor" = "$last"
check "each event's syslog line has its hash" \
        grep -q "kind=daemon.stopped .* hash=${last#*:}" "$VG_SCRATCH/syslog.txt"
check "virtgov verify --anchor: intact, exit 0" quiet "$VIRTGOV" verify --anchor "$anchor"
check "the daemon made the host key at its first start (0600)" test "$(stat -c %a /var/lib/virtgov/host.key)" = 600
check "its heads carry this host's machine-id and a signature" \
        grep -q "chain.head id=$head_id hash=[0-9a-f]* host=$(cat /etc/machine-id) time=[^ ]* sig=[0-9a-f]\{128\}" \
        "$VG_SCRATCH/syslog.txt"
check "virtgov verify --heads on the syslog copy: every head held, signed by the host's key" \
        sh -c "'$VIRTGOV' --json verify --heads '$VG_SCRATCH/syslog.txt' | jq -e '.intact and .heads.held >= 1 and .heads.bad_signature == 0' >/dev/null"
cp /var/lib/virtgov/inventory.db "$VG_SCRATCH/pristine.db"
sqlite3 /var/lib/virtgov/inventory.db "DROP TRIGGER events_no_update;
        UPDATE events SET actor = 'mallory' WHERE id = 5; PRAGMA wal_checkpoint;" >/dev/null
rc=0; out=$("$VIRTGOV" verify 2>&1) || rc=$?
check "an edited row: verify exits 1 and names event 5 ($out)" \
        test "$rc:$(echo "$out" | grep -c 'BROKEN: event 5: .*edited')" = "1:1"
# --json copies stored data and facts without decoding them: what is not
# JSON (or not UTF-8) shows as the decoding path shows it, the rest as it
# decodes, and the whole stays one valid document.
sqlite3 /var/lib/virtgov/inventory.db "UPDATE events SET data = 'not json' WHERE id = 5;
        UPDATE events SET data = CAST(X'7B2261223A2280227D' AS TEXT) WHERE id = 6;
        UPDATE events SET data = '{ \"b\" : 1.50, \"a\":\"\\u00e9\\/\" }' WHERE id = 7;
        UPDATE events SET data = '{\"network\":\"vg-text-view\",\"op\":\"prepare\",\"subop\":\"begin\",
          \"facts\":{\"network\":\"nested-not-shown\"},\"spooled_because\":\"locked\",
          \"error\":\"bad \\u0078ml\",\"detail\":[1]}' WHERE id = 8;
        UPDATE domains SET facts = '{\"x\": [1,' WHERE name = 'vg-d-2'; PRAGMA wal_checkpoint;" >/dev/null
check "events --json: damaged data is {}, edited data as it decodes" \
        test "$("$VIRTGOV" --json events | jq -c '[.[] | select(.id >= 5 and .id <= 7) | .data]')" = \
        '[{},{},{"b":1.5,"a":"é/"}]'
# The table reads only the data's top-level fields (jsontext.h).
rc=0; table=$("$VIRTGOV" events) || rc=$?
line=$(grep vg-text-view <<< "$table" || true)
check "events: the table still lists damaged data (exit $rc, $(wc -l <<< "$table") lines)" \
        test "$rc:$(grep -c '^TIME' <<< "$table")" = 0:1
check "events: its detail shows the data's top-level fields, not the facts' ($line)" \
        bash -c '[[ $0 == *"network=vg-text-view op=prepare/begin "*"(spooled) error=\"bad xml\""* && $0 != *nested* ]]' "$line"
check "list --json: damaged facts are null" \
        test "$("$VIRTGOV" --json list | jq -c '.[] | select(.name == "vg-d-2") | .facts')" = null
cp "$VG_SCRATCH/pristine.db" /var/lib/virtgov/inventory.db
rm -f /var/lib/virtgov/inventory.db-wal /var/lib/virtgov/inventory.db-shm
sqlite3 /var/lib/virtgov/inventory.db "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = 7;" >/dev/null
rc=0; out=$("$VIRTGOV" --json verify) || rc=$?
check "a deleted row: verify exits 1, broken_id 7 ($(echo "$out" | jq -r .problem))" \
        test "$rc:$(echo "$out" | jq .broken_id)" = "1:7"
cp "$VG_SCRATCH/pristine.db" /var/lib/virtgov/inventory.db
sqlite3 /var/lib/virtgov/inventory.db "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = ${anchor%%:*};" >/dev/null
rc=0; "$VIRTGOV" verify >/dev/null || rc=$?
check "the newest row deleted: the chain alone is consistent (exit $rc)" test "$rc" = 0
rc=0; out=$("$VIRTGOV" verify --anchor "$anchor" 2>&1) || rc=$?
check "but the syslog anchor catches it ($out)" test "$rc:$(echo "$out" | grep -c truncated)" = "1:1"
cp "$VG_SCRATCH/pristine.db" /var/lib/virtgov/inventory.db

say "a second driver on the same host does not make the first one's domains vanish"
before=$(connects)
"$VG_DAEMON" --foreground --uri test:///default >> "$VG_SCRATCH/daemon-test.log" 2>&1 &
tpid=$!
wait_for "a daemon on test:///default connects" "[.[] | select(.kind == \"daemon.connected\")] | length > $before" 20
sleep 1
kill -TERM "$tpid"; wait "$tpid" || true
check "no qemu domain was reconciled away by it" \
        test "$("$VIRTGOV" --json events --kind domain.undefined --source reconcile | jq '[.[] | select(.domain == "vg-d-2" or .domain == "vg-d-3")] | length')" = 0
check "it recorded the test driver's own domain" \
        test "$("$VIRTGOV" --json events --domain test --source reconcile | jq 'length')" -ge 1

say "reconcile reads the inventory a page at a time (1,000 rows): 2,500 of the test driver's domains vanished"
host=$("$VIRTGOV" --json events --kind daemon.connected | jq -r '.[-1].host')
sqlite3 /var/lib/virtgov/inventory.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
  INSERT INTO domains (uuid, name, host, state, persistent, first_seen, last_seen, type)
  SELECT printf('00000000-0000-4000-8000-%012d', i), printf('vg-page-%04d', i), '$host',
         CASE WHEN i % 2 THEN 'running' ELSE 'shutoff' END, 1,
         '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', 'test' FROM n"
before=$(connects)
"$VG_DAEMON" --foreground --uri test:///default >> "$VG_SCRATCH/daemon-test.log" 2>&1 &
tpid=$!
wait_for "a daemon on test:///default connects" "[.[] | select(.kind == \"daemon.connected\")] | length > $before" 20
paged() { "$VIRTGOV" --json events --kind "$1" --source reconcile | jq "[.[] | select(.domain | startswith(\"vg-page-\"))] | $2"; }
wait_until '[.[] | select(.kind == "domain.undefined" and .source == "reconcile" and (.domain | startswith("vg-page-")))] | length >= 2500' 30 || true
kill -TERM "$tpid"; wait "$tpid" || true
check "each of the 2,500 recorded as undefined once, none skipped at a page's edge" \
        test "$(paged domain.undefined 'length'):$(paged domain.undefined 'map(.domain) | unique | length')" = "2500:2500"
check "the 1,250 that were running: stopped first (vanished while running)" \
        test "$(paged domain.stopped 'map(select(.data.detail == "vanished while running")) | length')" = 1250
check "list no longer shows them" \
        test "$("$VIRTGOV" --json list | jq '[.[] | select(.name | startswith("vg-page-"))] | length')" = 0
check "and still no qemu domain was reconciled away" \
        test "$("$VIRTGOV" --json events --kind domain.undefined --source reconcile | jq '[.[] | select(.domain == "vg-d-2" or .domain == "vg-d-3")] | length')" = 0

say "daemonized (no --foreground): what it writes survives other processes opening and closing the inventory"
# Regression: an SQLite connection opened before fork() loses its locks in
# the child, and a closing reader then deleted the WAL under the daemon.
before=$(connects)
stopped() { "$VIRTGOV" --json events --kind daemon.stopped | jq length; }
stopped_before=$(stopped)
"$VG_DAEMON"
wait_for "the daemonized instance connects" "[.[] | select(.kind == \"daemon.connected\")] | length > $before" 20
check "its lock names the daemonized process, not the parent that exited" \
        test "$(cat "$LOCK")" = "$(pgrep -f "^$VG_DAEMON\$")"
for _ in 1 2 3; do
        "$VIRTGOV" events --limit 1 >/dev/null
        "$VG_HOOK" vg-d-4 prepare begin - < "$VG_SCRATCH/d1.xml"   # a writer that opens and closes
done
domain_xml vg-d-4 > "$VG_SCRATCH/d4.xml"
virsh define "$VG_SCRATCH/d4.xml" >/dev/null
wait_for "its define is visible to a new reader" "$(has_event domain.defined vg-d-4 libvirt)"
# It forked away from this shell: its pid is the one its daemon.started
# carries (recorded before the define just seen).
dpid=$("$VIRTGOV" --json events --kind daemon.started | jq '.[-1].data.pid')
kill -TERM "$dpid" || true
for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
check "after it stopped, the define is still in the inventory" \
        test "$("$VIRTGOV" --json events --domain vg-d-4 --kind domain.defined | jq length)" = 1
check "and its daemon.stopped too" test "$(stopped)" = $((stopped_before + 1))

finish
