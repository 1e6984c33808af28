#!/bin/bash
# The man pages against what the programs and the code say:
#   test-man.sh SOURCE_ROOT DOC_DIR VIRTGOV INVENTORYD
# man --warnings prints nothing for any page; every command of 'virtgov
# --help' has its section in virtgov(8), and every option that the global
# and each command's --help prints is in it; every option of
# 'virtgov-inventoryd --help' is in virtgov-inventoryd(8); every key of
# lib/util/config.c's table is in virtgov.conf(5); every key the policy loader
# accepts is in virtgov-policy(5).
set -euo pipefail
src=$1 doc=$2 virtgov=$3 inventoryd=$4
fail=0
no() { echo "FAIL: $*" >&2; fail=1; }
text() { MANWIDTH=200 man -l "$1" 2>/dev/null | col -b; }
options() { grep -oE -- '--[a-z][a-z-]+' | sort -u; }

for page in "$doc"/*.[158]; do
        w=$(man --warnings -l "$page" 2>&1 >/dev/null || true)
        [ -z "$w" ] || no "man --warnings on $(basename "$page"): $w"
done

page=$(text "$doc/virtgov.8")
commands=$("$virtgov" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ "$(wc -w <<< "$commands")" -ge 10 ] || no "virtgov --help lists only: $commands"
for c in $commands; do
        grep -qE "^   $c\$" <<< "$page" || no "virtgov(8) has no section for the command '$c'"
        for o in $("$virtgov" "$c" --help | options); do
                grep -qe "$o" <<< "$page" || no "virtgov(8) does not mention '$o' of 'virtgov $c --help'"
        done
done
for o in $("$virtgov" --help | options); do
        grep -qe "$o" <<< "$page" || no "virtgov(8) does not mention the global option '$o'"
done

page=$(text "$doc/virtgov-inventoryd.8")
for o in $("$inventoryd" --help | options); do
        grep -qe "$o" <<< "$page" || no "virtgov-inventoryd(8) does not mention '$o'"
done

page=$(text "$doc/virtgov.conf.5")
keys=$(grep -oE '^\s*K(_ENUM)?\("[a-z_.]+"' "$src/lib/util/config.c" | grep -oE '[a-z_.]+"' | tr -d '"')
[ "$(wc -w <<< "$keys")" -ge 20 ] || no "read only these keys from lib/util/config.c: $keys"
for k in $keys; do
        # a section's key (central.dsn) is described under its section's heading
        case $k in *.*) grep -qF "THE [${k%%.*}] SECTION" <<< "$page" || no "virtgov.conf(5) has no section [${k%%.*}]"; k=${k#*.} ;; esac
        grep -qE "^       $k = " <<< "$page" || no "virtgov.conf(5) does not describe the key '$k'"
done

page=$(text "$doc/virtgov-policy.5")
clauses=$(awk '/known\[\] = \{/ { on = 1 } on { print } /NULL \};/ { on = 0 }' "$src/policy/load.c" |
          grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
[ "$(wc -w <<< "$clauses")" -ge 15 ] || no "read only these policy keys from policy/load.c: $clauses"
for k in $clauses; do
        grep -qw -e "$k" <<< "$page" || no "virtgov-policy(5) does not describe the key '$k'"
done

[ "$fail" -eq 0 ] && echo "ok: $(wc -w <<< "$commands") commands, $(wc -w <<< "$keys") config keys, $(wc -w <<< "$clauses") policy keys"
exit "$fail"
