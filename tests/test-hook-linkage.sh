#!/bin/bash
# How the hook is linked: never with libvirt (the hook must not call it,
# doc/ARCHITECTURE.md) nor libsystemd's journal, and as -Dhook_link says. A build that got it wrong would
# otherwise only show in bench figures.
#   test-hook-linkage.sh HOOK static|shared
#   static: one static PIE: no program interpreter, no shared object, still
#           position-independent (ASLR);
#   shared: each of its libraries a shared object.
set -euo pipefail
hook=$1 link=$2
fail=0
say() { echo "$1: $2"; [ "$1" = ok ] || fail=1; }
needed=$(readelf -d "$hook" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if grep -q '^libvirt' <<< "$needed" || nm "$hook" 2>/dev/null | grep -q ' virConnect'; then
        say FAIL "the hook links libvirt"
fi
# Nor with libsystemd: sending events to the journal is the daemon's job
# (lib/meson.build: libvirtgov-journal), never on a start's path.
if grep -q '^libsystemd' <<< "$needed" || nm "$hook" 2>/dev/null | grep -q ' sd_journal_'; then
        say FAIL "the hook links libsystemd's journal"
else
        say ok "no journal sending in the hook"
fi
case $link in
static)
        [ -z "$needed" ] && say ok "no shared object needed" || say FAIL "needs $(tr '\n' ' ' <<< "$needed")"
        readelf -l "$hook" | grep -q 'INTERP' && say FAIL "has a program interpreter" || say ok "no program interpreter"
        readelf -h "$hook" | grep -q 'Type:.*DYN' && say ok "position-independent" || say FAIL "not a PIE"
        ;;
shared)
        [ -n "$needed" ] || { echo "no NEEDED entries read from $hook" >&2; exit 1; }
        for lib in c expat sqlite3 jansson nettle; do
                grep -q "^lib$lib\.so" <<< "$needed" && say ok "lib$lib shared" || say FAIL "lib$lib not shared"
        done
        ;;
*)      echo "usage: test-hook-linkage.sh HOOK static|shared" >&2; exit 2 ;;
esac
exit $fail
