#!/bin/bash
# Chain heads witnessed off the host: 'host-key --init' makes the key,
# 'host-key --head' signs the head as the daemon does, and 'verify --heads'
# checks an export of the central log (syslog text, journal export, JSON
# lines, several hosts mixed) against the chain. An inventory copied back
# to an older state, truncated, or replaced by a fresh one fails, naming
# the first head it lost; a head forged with another key, or one whose
# text was edited, is not taken for this host's.
#
#   test-heads.sh VIRTGOV HOOK
set -euo pipefail
bin=${1:?} hook=${2:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
say() { echo "== $*"; }

conf() {   # DIR MACHINE-ID
        mkdir -p "$1"
        echo "$2" > "$1/machine-id"
        printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nhooks_dir = %s/hooks\nhook_binary = %s\n' \
                "$1" "$1" "$1" "$hook" > "$1/vg.conf"
        printf 'host_key = %s/host.key\nmachine_id_file = %s/machine-id\n' "$1" "$1" >> "$1/vg.conf"
        "$bin" --config "$1/vg.conf" hooks install > /dev/null
}
A=0123456789abcdef0123456789abcdef
B=fedcba9876543210fedcba9876543210
conf "$T/a" $A
conf "$T/b" $B
V() { "$bin" --config "$T/a/vg.conf" "$@"; }
W() { "$bin" --config "$T/b/vg.conf" "$@"; }
add() { for i in $(seq "$2" "$3"); do "$bin" --config "$1/vg.conf" ticket add "CHG-$i" --domain 'web-*' \
        --from 2026-01-01 --until 2030-01-01 > /dev/null; done; }

say "the key: made once, private 0600, public half readable"
V host-key --init --json | jq -e '.made == true and (.public_key | length) == 64' > /dev/null || fail "host-key --init"
V host-key --init --json | jq -e '.made == false' > /dev/null || fail "a second --init made another key"
[ "$(stat -c %a "$T/a/host.key")" = 600 ] || fail "host.key is $(stat -c %a "$T/a/host.key")"
[ "$(stat -c %a "$T/a/host.key.pub")" = 644 ] || fail "host.key.pub is $(stat -c %a "$T/a/host.key.pub")"
V host-key | grep -q "^ed25519 $(cat "$T/a/host.key.pub") host=$A$" || fail "host-key: $(V host-key)"
W host-key --init > /dev/null

say "heads at 5, 10 and 15 events, in the central log in three formats, with host b's"
: > "$T/log.txt"
add "$T/a" 1 5
V host-key --head | sed 's/^/Dec  7 10:00:00 kvm1 virtgov: /' >> "$T/log.txt"
add "$T/b" 1 3
W host-key --head | sed 's/^/Dec  7 10:00:01 kvm2 virtgov: /' >> "$T/log.txt"
add "$T/a" 6 10
sqlite3 "$T/a/inv.db" ".backup $T/older.db"
{ echo "__CURSOR=s=1;i=2"; echo "SYSLOG_IDENTIFIER=virtgov"; echo "MESSAGE=$(V host-key --head)"; echo; } >> "$T/log.txt"
add "$T/a" 11 15
V host-key --head | jq -R -c '{MESSAGE: ., SYSLOG_IDENTIFIER: "virtgov", _HOSTNAME: "kvm1"}' >> "$T/log.txt"
echo "chain.head id=3 hash=$(printf '%064d' 0)" >> "$T/log.txt"   # an older virtgov's: unsigned
grep -c "chain.head" "$T/log.txt" | grep -qx 5 || fail "the log: $(cat "$T/log.txt")"

V --json verify --heads "$T/log.txt" > "$T/v.json" || fail "an intact inventory fails: $(cat "$T/v.json")"
jq -e '.intact and .heads == {held: 3, lost: 0, other_hosts: 1, unsigned: 1, bad_signature: 0}' "$T/v.json" \
        > /dev/null || fail "counts: $(jq -c .heads "$T/v.json")"
V verify --heads - < "$T/log.txt" | grep -q "heads: 3 of this host held" || fail "--heads - (stdin)"
echo "intact: $(jq -c .heads "$T/v.json")"

lost() {   # WHAT MESSAGE-PART
        local rc=0
        V verify --heads "$T/log.txt" > "$T/out" 2>&1 || rc=$?
        [ "$rc" = 1 ] || fail "$1: exit $rc: $(cat "$T/out")"
        grep -q "$2" "$T/out" || fail "$1: $(cat "$T/out")"
        echo "$1: $(grep BROKEN "$T/out")"
}
cp "$T/a/inv.db" "$T/newer.db"
rm -f "$T/a/inv.db-wal" "$T/a/inv.db-shm"

say "the inventory copied back to its state at 10 events"
cp "$T/older.db" "$T/a/inv.db"
lost "rolled back" "head 15 .* is not in the inventory"

say "truncated after event 7"
cp "$T/newer.db" "$T/a/inv.db"
sqlite3 "$T/a/inv.db" "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id > 7"
lost "truncated" "head 10 .* is not in the inventory"

say "replaced by a fresh one, as long"
rm -f "$T/a/inv.db" "$T/a/inv.db-wal" "$T/a/inv.db-shm" "$T/a/inv.db-authz"
V hooks install > /dev/null
add "$T/a" 101 115
lost "replaced" "head 5 .* has another hash"

say "forged: a head of this host's chain signed with another key, and one edited after signing"
cp "$T/newer.db" "$T/a/inv.db"
rm -f "$T/a/inv.db-wal" "$T/a/inv.db-shm"
sed "s|^host_key = .*|host_key = $T/forger.key|" "$T/a/vg.conf" > "$T/forger.conf"
"$bin" --config "$T/forger.conf" host-key --init > /dev/null
"$bin" --config "$T/forger.conf" host-key --head > "$T/forged.txt"
rc=0; V verify --heads "$T/forged.txt" > "$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "1 head(s) name this host ($A) but are not signed by its key" "$T/out" ||
        fail "a forged head: exit $rc: $(cat "$T/out")"
echo "forged: $(grep BROKEN "$T/out")"
V host-key --head | sed 's/ time=2/ time=1/' > "$T/edited.txt"
rc=0; V verify --heads "$T/edited.txt" > "$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "not signed by its key" "$T/out" || fail "an edited head: exit $rc: $(cat "$T/out")"

say "a log with no head of this host checks nothing, and says so"
grep kvm2 "$T/log.txt" > "$T/other.txt"
rc=0; V verify --heads "$T/other.txt" > "$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "no head of this host" "$T/out" || fail "no head of this host: exit $rc: $(cat "$T/out")"

say "a malformed head is an error naming its line"
printf 'x\nchain.head id=abc hash=00\n' > "$T/bad.txt"
rc=0; V verify --heads "$T/bad.txt" > "$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "bad.txt, line 2" "$T/out" || fail "malformed: exit $rc: $(cat "$T/out")"
echo PASS
