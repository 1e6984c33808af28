#!/bin/bash
# virtgov-hook against everything libvirt, a broken host or an attacker can
# hand it: hostile XML, huge or missing input, odd arguments, a locked,
# read-only or missing inventory, a stdin that never closes, a bad config.
# Each time: exit 0 (until policy, no op may fail), bounded time, and the
# event recorded, in the inventory or in the spool.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

T=$VG_SCRATCH/hook
mkdir -p "$T/state"
export VIRTGOV_CONFIG=$T/virtgov.conf
cat > "$VIRTGOV_CONFIG" <<CONF
inventory = $T/state/inventory.db
spool_dir = $T/spool
hooks_dir = $T/hooks
hook_timeout_ms = 1500
busy_timeout_ms = 300
CONF
"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
QEMU_HOOK=$T/hooks/qemu.d/50-virtgov
NET_HOOK=$T/hooks/network.d/50-virtgov
DATA=$(cd "$(dirname "$0")/../data" && pwd)

# run_hook INPUT ARGS...: runs the hook as libvirt does; a hang is a failure.
run_hook() {
        local input=$1
        shift
        timeout 20 "$QEMU_HOOK" "$@" < "$input" 2> "$T/stderr"
}

# last_event FILTER: the newest event (after folding the spool) through jq.
last_event() {
        "$VIRTGOV" --json events --limit 1 | jq -r ".[0] | $1"
}

say "hostile XML: recorded with a clear error, exit 0"
for c in doctype-xxe entity-bomb garbage nul-byte; do
        want=$(head -n1 "$DATA/domxml/$c/error.txt")
        check "$c: exit 0" run_hook "$DATA/domxml/$c/input.xml" web-7 prepare begin -
        check "$c: recorded with error '$want'" \
                test "$(last_event ".kind == \"domain.prepare\" and (.data.error | contains(\"$want\"))")" = true
done

say "64 MiB on stdin: refused by the size cap, still recorded"
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '<' > "$T/huge.xml"
check "64 MiB: exit 0" run_hook "$T/huge.xml" web-7 prepare begin -
check "64 MiB: recorded with the cap named" \
        test "$(last_event '.data.error | contains("larger than max_xml_bytes")')" = true
rm -f "$T/huge.xml"

say "invalid UTF-8, closed and empty stdin"
printf '<domain><name>caf\xe9</name></domain>' > "$T/latin1.xml"
check "invalid UTF-8: exit 0" run_hook "$T/latin1.xml" 'caf\xe9' start begin -
check "invalid UTF-8: recorded with an error" test "$(last_event '.data.error != null')" = true
check "a name that is not UTF-8: exit 0" run_hook "$DATA/domxml/minimal/input.xml" "$(printf 'caf\xe9')" prepare begin -
check "and events --json keeps its bytes beside the readable name" \
        test "$(last_event '.domain + " " + .domain_bytes')" = "caf? 636166e9"
check "closed stdin: exit 0" sh -c '"$0" web-7 started begin - <&-' "$QEMU_HOOK"
check "closed stdin: recorded, error says stdin" \
        test "$(last_event '.kind == "domain.started" and (.data.error | contains("stdin"))')" = true
check "empty stdin: exit 0" run_hook /dev/null web-7 stopped end -
check "empty stdin: recorded" test "$(last_event '.kind == "domain.stopped" and (.data.error | contains("empty input"))')" = true

say "arguments: unknown ops, missing ones, SQL- and shell-looking names"
check "unknown op: exit 0" run_hook "$DATA/domxml/minimal/input.xml" tiny 'frobnicate;--' begin -
check "unknown op: kind domain.unknown, op kept" \
        test "$(last_event '.kind == "domain.unknown" and .data.op == "frobnicate;--"')" = true
check "no arguments: exit 0" run_hook /dev/null
check "no arguments: recorded with the usage in error" \
        test "$(last_event '.data.error | startswith("missing arguments")')" = true
evil="x'); DROP TABLE events; --\$(touch $T/pwned)\`touch $T/pwned\`"
check "SQL/shell name: exit 0" run_hook "$DATA/domxml/minimal/input.xml" "$evil" prepare begin -
check "SQL/shell name: stored verbatim" test "$(last_event '.domain')" = "$evil"
check "SQL/shell name: nothing executed" test ! -e "$T/pwned"
check "SQL/shell name: events table intact" test "$("$VIRTGOV" --json events | jq length)" -gt 10

say "ops that must never fail, whatever they are fed"
for op in reconnect stopped release attach; do
        check "qemu $op with garbage: exit 0" run_hook "$DATA/domxml/garbage/input.xml" web-7 $op begin -
done
for op in stopped port-deleted updated unplugged; do
        check "network $op with garbage: exit 0" \
                sh -c '"$0" net1 "$1" begin - < "$2"' "$NET_HOOK" "$op" "$DATA/domxml/garbage/input.xml"
done
check "network hook: plugged is recorded as network.port-created" \
        sh -c '"$0" lab plugged begin - < "$1"' "$NET_HOOK" "$DATA/netxml/plugged-legacy/input.xml"
check "network hook: owner and MAC from legacy hookData" \
        test "$(last_event '.kind == "network.port-created" and .domain == "old-vm" and .data.op == "plugged"')" = true

say "inventory locked by a writer: the hook records into the spool regardless; folded exactly once"
rm -rf "$T/spool"
( echo "BEGIN IMMEDIATE;"; sleep 3; echo "COMMIT;" ) | sqlite3 "$T/state/inventory.db" &
locker=$!
sleep 0.5
check "locked: exit 0" run_hook "$DATA/domxml/full/input.xml" web-7 prepare begin -
check "locked: nothing to say on stderr" test ! -s "$T/stderr"
check "locked: one event in the spool" test "$(spool_events "$T/spool")" = 1
ref=$(spool_json "$T/spool" | jq -r .ref)
wait "$locker"
check "fold: the event is in the inventory once" \
        test "$("$VIRTGOV" --json events | jq "[.[] | select(.ref == \"$ref\")] | length")" = 1
check "fold: spool is empty" test "$(spool_events "$T/spool")" = 0
check "fold: a second query does not double it" \
        test "$("$VIRTGOV" --json events | jq "[.[] | select(.ref == \"$ref\")] | length")" = 1

say "inventory on a read-only mount: the event waits in the spool"
check "read-only: exit 0" unshare -m --propagation private sh -c \
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && "$2" web-7 prepare begin - < "$3"' \
        sh "$T/state" "$QEMU_HOOK" "$DATA/domxml/full/input.xml"
check "read-only: one event in the spool" test "$(spool_events "$T/spool")" = 1
check "read-only: it is the prepare" test "$(spool_json "$T/spool" | jq -r .kind)" = domain.prepare
"$VIRTGOV" events >/dev/null

say "inventory missing, spool missing: the spool is created"
mv "$T/state/inventory.db" "$T/inventory.saved"
rm -rf "$T/spool"
check "missing inventory: exit 0" run_hook "$DATA/domxml/full/input.xml" web-7 start begin -
check "missing inventory: spool created 0700" test "$(stat -c %a "$T/spool")" = 700
check "missing inventory: event spooled" test "$(spool_events "$T/spool")" = 1
mv "$T/inventory.saved" "$T/state/inventory.db"
rm -f "$T/state/inventory.db-wal" "$T/state/inventory.db-shm"

say "an inventory of an older schema: the hook decides from it and spools; it does not upgrade it"
# (An upgrade can outlast the hook's bound: schema 9 took 5.9 s at
# 1,000,000 events. hooks install and the daemon upgrade.)
O=$T/old
mkdir -p "$O"
cat > "$O/virtgov.conf" <<CONF
inventory = $O/inventory.db
spool_dir = $O/spool
hooks_dir = $O/hooks
policy = $O/policy.json
CONF
echo '{ "mode": "enforce", "default": "allow",
        "rules": [ { "name": "web", "match": { "name": "web-*" }, "require": { "approved": true } } ] }' > "$O/policy.json"
VIRTGOV_CONFIG=$O/virtgov.conf "$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
VIRTGOV_CONFIG=$O/virtgov.conf "$VIRTGOV" approve web-7 >/dev/null
# Schemas 14 down to 9 taken away again: what a virtgov of schema 8 left.
schema=$(sqlite3 "$O/inventory.db" 'PRAGMA user_version')
sqlite3 "$O/inventory.db" "DROP TABLE integrity_superseded; DROP TABLE integrity_processes;
        DROP TABLE integrity_files; DROP TABLE integrity_findings;
        CREATE TABLE images_old (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL,
          size TEXT NOT NULL, dev TEXT NOT NULL, ino TEXT NOT NULL, mtime_ns TEXT NOT NULL,
          trusted_by TEXT, time TEXT NOT NULL);
        INSERT INTO images_old SELECT * FROM images; DROP TABLE images;
        ALTER TABLE images_old RENAME TO images;
        DROP INDEX domains_listing; CREATE INDEX domains_name_uuid ON domains(name, uuid);
        DROP TABLE devices; ALTER TABLE domains DROP COLUMN derived_stale;
        ALTER TABLE domains DROP COLUMN type; DROP INDEX events_kind;
        CREATE INDEX events_kind ON events(kind, time); PRAGMA user_version = 8;"
domain_xml web-8 > "$O/web-8.xml"
check "older schema: the approved web-7 starts" \
        sh -c 'VIRTGOV_CONFIG="$3" timeout 20 "$0" web-7 prepare begin - < "$1" 2> "$2"' \
        "$O/hooks/qemu.d/50-virtgov" "$DATA/domxml/full/input.xml" "$T/stderr" "$O/virtgov.conf"
check "older schema: read as it is, nothing to say ($(head -c 160 "$T/stderr"))" test ! -s "$T/stderr"
rc=0; VIRTGOV_CONFIG=$O/virtgov.conf timeout 20 "$O/hooks/qemu.d/50-virtgov" web-8 prepare begin - \
        < "$O/web-8.xml" 2>/dev/null || rc=$?
check "older schema: web-8, not approved, is denied (exit $rc)" test "$rc" = 1
check "older schema: both events in the spool" test "$(spool_events "$O/spool")" = 2
check "older schema: left at version 8" test "$(sqlite3 "$O/inventory.db" 'PRAGMA user_version')" = 8
check "a writer upgrades it and folds both in" \
        test "$(VIRTGOV_CONFIG=$O/virtgov.conf "$VIRTGOV" --json events --kind domain.prepare |
                jq -c '[.[] | .domain + ":" + .decision]')" = '["web-7:allow","web-8:deny"]'
check "now at version $schema again" test "$(sqlite3 "$O/inventory.db" 'PRAGMA user_version')" = "$schema"

say "the deny line virsh prints: a hostile name reaches the terminal as text"
# An OSC that retitles the terminal, a BEL, a clear-screen, and U+202E.
evil_name="web-9$(printf '\033]0;PWNED\007\033[2J\342\200\256')x"
rc=0; VIRTGOV_CONFIG=$O/virtgov.conf timeout 20 "$O/hooks/qemu.d/50-virtgov" "$evil_name" prepare begin - \
        < "$O/web-8.xml" 2> "$T/stderr" || rc=$?
check "denied (exit $rc)" test "$rc" = 1
check "the name with '?' for each byte that is not printable ASCII ($(head -c 160 "$T/stderr" | cat -v))" \
        grep -qF "of 'web-9?]0;PWNED??[2J???x' denied" "$T/stderr"
check "and not one such byte on stderr" sh -c '! LC_ALL=C grep -q "[^ -~]" "$0"' "$T/stderr"

say "nowhere to write at all: exit 0 and a loud stderr"
cat > "$T/nowhere.conf" <<CONF
inventory = /proc/virtgov-no/inventory.db
spool_dir = /proc/virtgov-no/spool
CONF
check "nowhere: exit 0" sh -c 'VIRTGOV_CONFIG="$0" "$1" web-7 prepare begin - < "$2" 2> "$3"' \
        "$T/nowhere.conf" "$QEMU_HOOK" "$DATA/domxml/full/input.xml" "$T/stderr"
check "nowhere: stderr says NOT recorded" grep -q "NOT recorded" "$T/stderr"

say "the spool unusable: the event goes into the inventory directly"
cat > "$T/nospool.conf" <<CONF
inventory = $T/state/inventory.db
spool_dir = /proc/virtgov-no/spool
CONF
check "no spool: exit 0" sh -c 'VIRTGOV_CONFIG="$0" "$1" web-7 stopped end - < "$2" 2> "$3"' \
        "$T/nospool.conf" "$QEMU_HOOK" "$DATA/domxml/full/input.xml" "$T/stderr"
check "no spool: stderr says where it went" grep -q "recorded in the inventory directly" "$T/stderr"
check "no spool: the event is in the inventory" test "$(last_event .kind)" = domain.stopped

say "a stdin that never closes: the hook's own bound ends it, the call is spooled"
rm -rf "$T/spool"
check "endless stdin: exit 0" sh -c '(sleep 6) | timeout 5 "$0" web-7 prepare begin -' "$QEMU_HOOK"
check "endless stdin: spooled by the timer" test "$(ls "$T/spool" 2>/dev/null | grep -c '\.json$')" = 1
"$VIRTGOV" events >/dev/null
mkdir -p /etc/virtgov
ln -s /etc/virtgov/policy-gone.json /etc/virtgov/policy.json
check "endless stdin under a dangling policy link: the timer denies, as the gate would (exit 1)" \
        sh -c '(sleep 6) | timeout 5 "$0" web-7 prepare begin - 2>/dev/null; [ $? = 1 ]' "$QEMU_HOOK"
rm /etc/virtgov/policy.json
"$VIRTGOV" events >/dev/null

say "a broken config: the hook uses the defaults and says why"
echo "inventory = relative" > "$T/bad.conf"
mkdir -p /var/lib/virtgov
"$VIRTGOV" --config "$T/bad.conf" hooks install --from "$VG_HOOK" >/dev/null 2>&1 || true
check "bad config: exit 0" sh -c 'VIRTGOV_CONFIG="$0" "$1" web-7 prepare begin - < "$2" 2> "$3"' \
        "$T/bad.conf" "$QEMU_HOOK" "$DATA/domxml/full/input.xml" "$T/stderr"
check "bad config: stderr names file, line and column" grep -q "bad.conf:1:13: 'inventory' must be an absolute path" "$T/stderr"
check "bad config: the event went to the default spool with the config error" \
        eval 'spool_json /var/lib/virtgov/spool | grep -q "config_error"'

finish
