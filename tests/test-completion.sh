#!/bin/bash
# bash completion, driven as bash drives it (COMP_WORDS, COMP_CWORD, the
# completion function), against a scratch inventory holding a domain (the
# built hook recorded it) and a change ticket:
#   test-completion.sh COMPLETION-SCRIPT VIRTGOV HOOK XML
set -euo pipefail
script=$1 virtgov=$2 hook=$3 xml=$4
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "FAIL: $bc missing (the bash-completion package)" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-completion.XXXXXX")
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/bin"
ln -s "$virtgov" "$w/bin/virtgov"
printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nsyslog = no\ninventory_group = root\n' "$w" "$w" > "$w/vg.conf"
export VIRTGOV_CONFIG=$w/vg.conf PATH=$w/bin:$PATH
virtgov hooks install --from "$hook" --hooks-dir "$w/hooks" >/dev/null
sed 's|<name>[^<]*</name>|<name>vg-comp-1</name>|' "$xml" | "$hook" vg-comp-1 prepare begin - >/dev/null 2>&1
virtgov ticket add CHG-77 --domain 'vg-*' --from now --until +1h >/dev/null

fail=0
# expect WANT WORD...: completing the last WORD gives WANT (the
# completions sorted, space-separated).
expect() {
        local want=$1 got
        shift
        got=$(bash -c '
                source "$0"; source "$1"; shift
                COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
                _virtgov
                printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$bc" "$script" "$@")
        got=${got% }
        if [ "$got" = "$want" ]; then
                echo "ok: '$*' -> $got"
        else
                echo "FAIL: '$*': got '$got', want '$want'" >&2
                fail=1
        fi
}
commands=$(virtgov --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' |
           sort | tr '\n' ' ')
expect "${commands% }" virtgov ""
expect "report" virtgov rep
expect "--json" virtgov --js
expect "access accounts activity capacity evidence html integrity software sprawl" virtgov report ""
expect "processes" virtgov integrity pro
expect "--fail-on-findings" virtgov integrity check --fail
expect "vg-comp-1" virtgov show vg-
expect "vg-comp-1" virtgov approve ""
expect "vg-comp-1" virtgov events --domain ""
expect "CHG-77" virtgov integrity accept --ticket CHG
expect "--all" virtgov --db "$w/inv.db" list --a
expect "add-host" virtgov fleet add
expect "init-db" virtgov fleet --dsn "dbname=virtgov" ini
expect "--role" virtgov fleet add-host h1 --ro
exit "$fail"
