#!/bin/bash
# virtgov events as a stream for a shipper (--format json|ecs, --follow,
# --state): each event exactly once across a stop and a restart, in id
# order, with the hash the inventory holds; a state that the inventory no
# longer matches (rolled back to an older copy, truncated, replaced by a
# fresh one) refused, naming the event; and doc/ecs.md the same as the
# table of lib/ship/ecs.c.
#
#   test-stream.sh SOURCE_ROOT VIRTGOV HOOK
#
# Needs no libvirt and no root: a scratch inventory made by 'hooks
# install', written by 'ticket add' (a real writer of the CLI).
set -euo pipefail
src=${1:?} bin=${2:?} hook=${3:?}
T=$(mktemp -d)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
say() { echo "== $*"; }

conf() {   # DIR: a config of a scratch inventory in DIR
        mkdir -p "$1"
        printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nhooks_dir = %s/hooks\nhook_binary = %s\n' \
                "$1" "$1" "$1" "$hook" > "$1/vg.conf"
        "$bin" --config "$1/vg.conf" hooks install > /dev/null
}
conf "$T/a"
V() { "$bin" --config "$T/a/vg.conf" "$@"; }
add() { for i in $(seq "$1" "$2"); do V ticket add "CHG-$i" --domain 'web-*' --from 2026-01-01 --until 2030-01-01 >/dev/null; done; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
# Waits (up to 60 s: this is not a measure of speed) for FILE to hold N lines.
wait_lines() {
        for _ in $(seq 600); do
                [ "$(lines "$1")" -ge "$2" ] && return 0
                sleep 0.1
        done
        fail "$1 holds $(lines "$1") lines, not $2"
}
follow() {   # OUT: a follower in the background, its pid in $follower
        "$bin" --config "$T/a/vg.conf" events --format ecs --follow --state "$T/state" > "$1" 2> "$1.err" &
        follower=$!
        pids+=("$follower")
}

say "follow, stop with SIGTERM, restart: every event once, in order"
add 1 5
follow "$T/out1"
wait_lines "$T/out1" 5
add 6 10
wait_lines "$T/out1" 10
sqlite3 "$T/a/inv.db" ".backup $T/older.db"
kill -TERM "$follower"
wait "$follower" || fail "the follower ended with $? on SIGTERM: $(cat "$T/out1.err")"
[ "$(cut -d' ' -f1 "$T/state")" = 10 ] || fail "state after 10 events: $(cat "$T/state")"
add 11 15
follow "$T/out2"
wait_lines "$T/out2" 5
add 16 20
wait_lines "$T/out2" 10
kill -TERM "$follower"
wait "$follower" || fail "the second follower ended with $?"
cat "$T/out1" "$T/out2" | jq -c '[.event.sequence, .event.hash, .event.action, .virtgov.data.ticket]' > "$T/shipped"
V --json events | jq -c '.[] | [.id, .hash, .kind, .data.ticket]' > "$T/stored"
diff "$T/stored" "$T/shipped" || fail "what was shipped is not what is stored, once each"
[ "$(wc -l < "$T/shipped")" = 20 ] || fail "20 events shipped: $(wc -l < "$T/shipped")"
echo "20 of 20 shipped once each across a restart"

say "a line cut by a kill: the batch written again starts on a line of its own"
V events --format json --after-id 0 > "$T/cut.json"
head -c -40 "$T/cut.json" > "$T/cut2.json"    # the last line cut short, as SIGKILL leaves it
V events --format json --after-id 19 >> "$T/cut2.json"
tail -n 1 "$T/cut2.json" | jq -e '.id == 20' > /dev/null || fail "the event written again is not on a line of its own"

say "json: each event's own JSON, the same as --json"
V events --format json --after-id 0 | jq -S -s -c . > "$T/lines.json"
V --json events | jq -S -c . > "$T/array.json"
diff "$T/array.json" "$T/lines.json" || fail "--format json differs from --json"

say "a state the inventory no longer holds is refused, naming the event"
refused() {   # WHAT MESSAGE-PART
        if V events --format ecs --state "$T/state" > "$T/none" 2> "$T/err"; then
                fail "$1: the stream went on"
        fi
        grep -q "$2" "$T/err" || fail "$1: $(cat "$T/err")"
        [ ! -s "$T/none" ] || fail "$1: events were written"
        echo "$1: $(cat "$T/err")"
}
cp "$T/a/inv.db" "$T/newer.db"
rm -f "$T/a/inv.db-wal" "$T/a/inv.db-shm"
cp "$T/older.db" "$T/a/inv.db"
refused "rolled back to an older copy" "no longer holds event 20"
cp "$T/newer.db" "$T/a/inv.db"
sqlite3 "$T/a/inv.db" "DROP TRIGGER events_no_delete; DELETE FROM events WHERE id > 15"
refused "truncated" "no longer holds event 20"
rm -f "$T/a/inv.db" "$T/a/inv.db-wal" "$T/a/inv.db-shm" "$T/a/inv.db-authz"
V hooks install > /dev/null
add 101 125
refused "replaced by a fresh one" "event 20 has hash"
V events --format ecs --state "$T/state" --after-id 20 | wc -l | grep -qx 5 || fail "--after-id does not start over"

say "the state file: bad content refused, not read as a position"
echo "garbage" > "$T/state"
refused "a state that is not one" "not a position"

say "usage: a stream has no end"
if V events --follow --limit 3 2> "$T/err"; then fail "--follow --limit accepted"; fi
grep -q "a stream" "$T/err" || fail "$(cat "$T/err")"

say "doc/ecs.md is the table of lib/ship/ecs.c, and names every kind"
sed -n 's/^ *{ "\([a-z]*\.[a-z-]*\)", C(\([^)]*\)), T(\([^)]*\)) },$/| `\1` | \2 | \3 |/p' "$src/lib/ship/ecs.c" |
        tr -d '"' > "$T/code"
sed -n '/^## Kinds/,$p' "$src/doc/ecs.md" | grep '^| `' > "$T/doc"
diff "$T/code" "$T/doc" || fail "doc/ecs.md and lib/ship/ecs.c differ"
sed -n 's/^ *{ "\([a-z]*\.[a-z-]*\)",.*/\1/p' "$src/lib/model/kinds.c" | sort -u > "$T/kinds"
sed 's/^| `\([^`]*\)`.*/\1/' "$T/doc" | sort -u > "$T/dockinds"
comm -23 "$T/kinds" "$T/dockinds" | grep . && fail "kinds without a row in doc/ecs.md"
echo "$(wc -l < "$T/kinds") kinds, each with its row"
echo "PASS"
