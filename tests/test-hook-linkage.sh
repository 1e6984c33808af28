#!/bin/bash
# The hook's dynamic section: never libvirt (the hook must not call it,
# DESIGN.md), and each of its four libraries shared or linked in as
# -Dhook_static_libs says (meson would quietly fall back to nothing else,
# but a build that got it wrong would only show in bench figures).
#   test-hook-linkage.sh HOOK STATIC   (STATIC: the option's value, comma-separated)
set -euo pipefail
hook=$1 static=,$2,
needed=$(readelf -d "$hook" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "no NEEDED entries read from $hook" >&2; exit 1; }
fail=0
if grep -q '^libvirt' <<< "$needed"; then
        echo "FAIL: the hook links libvirt: $(grep '^libvirt' <<< "$needed")" >&2
        fail=1
fi
for lib in expat sqlite3 jansson nettle; do
        if grep -q "^lib$lib\.so" <<< "$needed"; then shared=yes; else shared=no; fi
        case $static in
        *",$lib,"*) want=no ;;
        *) want=yes ;;
        esac
        if [ "$shared" != "$want" ]; then
                echo "FAIL: lib$lib is $([ "$shared" = yes ] && echo shared || echo not shared);" \
                     "-Dhook_static_libs=${2} wants it $([ "$want" = yes ] && echo shared || echo linked in)" >&2
                fail=1
        else
                echo "ok: lib$lib $([ "$shared" = yes ] && echo shared || echo linked in)"
        fi
done
exit $fail
