#!/bin/bash
# The structure, checked: the rooms of the code and the order in which they
# may use each other (doc/ARCHITECTURE.md, section 1, says why; this file
# and that section are the two places the order is written), no call
# circle between files, and no long file.
#
#   test-layering.sh SOURCE_ROOT BUILD_ROOT
#
# Fails, printing each offence, on:
#   - an #include from a room to a later room, or to a sibling (two rooms
#     of one rank), or from one program to another;
#   - a circle of calls between source files: from the objects of the
#     build (nm: what each defines and what it leaves undefined), the
#     strongly connected parts of the file graph that hold more than one
#     file;
#   - a source file over 600 lines under lib/, policy/, hooks/, cli/,
#     inventoryd/ or include/, or over 800 under tests/.
# libvirt's sc_prohibit_cross_inclusion is the model: the rule is data,
# written once, and the check is a grep.
#
# Known debts (ARCHITECTURE.md, "Known debts") are listed below and
# tolerated until removed. A debt that is gone fails the test too, so the
# list can only shrink: remove its line with the fix.
set -euo pipefail
src=${1:?usage: test-layering.sh SOURCE_ROOT BUILD_ROOT}
build=${2:?usage: test-layering.sh SOURCE_ROOT BUILD_ROOT}
cd "$src"

# ---- the rooms, in order: a room is a folder, lib/ROOM/ with its public
# headers in include/virtgov/ROOM/; a file's room is the first line whose
# pattern matches its path (bash glob, on the path from the source root).
# Rooms of one rank are siblings: neither may use the other.
ROOMS='
1 util      lib/util/* include/virtgov/util/*
2 model     lib/model/* include/virtgov/model/*
3 host      lib/host/* include/virtgov/host/*
4 authz     lib/authz/* include/virtgov/authz/*
5 audit     lib/audit/* include/virtgov/audit/*
5 store     lib/store/* include/virtgov/store/*
6 integrity lib/integrity/* include/virtgov/integrity/*
6 assess    lib/assess/* include/virtgov/assess/*
6 ship      lib/ship/* include/virtgov/ship/*
7 central   lib/central/* include/virtgov/central/*
8 policy    policy/* include/virtgov/policy/*
9 hooks     hooks/*
9 inventoryd inventoryd/*
9 cli       cli/*
'

# ---- known debts, one a line: "include FROM -> TO", "circle F1 F2 ...",
# (the files of one strongly connected part, sorted), "long FILE". None
# today; a debt taken on knowingly is written here and in
# ARCHITECTURE.md, with the way out.
DEBTS='
'

# The rooms as arrays, read once: room_of runs for every include.
pat=() prank=() proom=()
while read -r rank room pats; do
        [ -n "$rank" ] || continue
        for p in $pats; do
                pat+=("$p") prank+=("$rank") proom+=("$room")
        done
done <<< "$ROOMS"

room_of() {   # PATH -> RANK and ROOM set (ROOM empty: in no room), no fork
        local i
        RANK='' ROOM=''
        for i in "${!pat[@]}"; do
                # shellcheck disable=SC2053
                if [[ $1 == ${pat[i]} ]]; then
                        RANK=${prank[i]} ROOM=${proom[i]}
                        return
                fi
        done
}

found=$(mktemp)
trap 'rm -f "$found"' EXIT

# The files of the given folders: git's list in a checkout, else all of
# them (a source package).
files() {
        git ls-files "$@" 2>/dev/null | grep . || find "$@" -type f \( -name '*.[ch]' -o -name '*.sh' \) | sort
}

# ---- includes
sources=$(files lib policy hooks cli inventoryd include | grep '\.[ch]$')
for f in $sources; do
        room_of "$f"
        frank=$RANK froom=$ROOM
        if [ -z "$froom" ]; then
                echo "room: $f is in no room: give it one in $0 and in doc/ARCHITECTURE.md"
                echo "noroom $f" >> "$found"
                continue
        fi
        while read -r inc; do
                # "virtgov/x.h" is a public header; anything else is beside f.
                case $inc in
                virtgov/*) to=include/$inc ;;
                *) to=$(dirname "$f")/$inc ;;
                esac
                [ -e "$to" ] || continue   # generated (vg-paths.h) or a system header
                room_of "$to"
                trank=$RANK troom=$ROOM
                [ -n "$troom" ] || continue
                if [ "$troom" != "$froom" ] && [ "$trank" -ge "$frank" ]; then
                        echo "include $f -> $to" >> "$found"
                fi
        done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done

# ---- call circles, from the build's objects
objs=$(find "$build/lib" "$build/policy" "$build/hooks" "$build/cli" "$build/inventoryd" -path '*.p/*.o' -name '*.c.o')
[ -n "$objs" ] || { echo "no objects under $build: build first"; exit 1; }
for o in $objs; do
        # The object's source: meson puts DIR/SUB/X.c of a target in DIR
        # as DIR/TARGET.p/SUB_X.c.o (a source from elsewhere is named
        # "..._X.c.o"); no source's name holds a '_'.
        p=${o#"$build"/}
        case ${p##*/} in ..*|meson-generated_*) continue ;; esac  # generated: data (the central schema)
        s=${p%%/*.p/*}/$(basename "$p" .o | tr _ /)
        [ -f "$s" ] || { echo "the source of $o is not $s"; exit 1; }
        nm --defined-only -g "$o" | awk -v f="$s" 'NF == 3 { print "D", f, $3 }'
        nm -u "$o" | awk -v f="$s" '{ print "U", f, $NF }'
done | awk '
        $1 == "D" { if ($3 in def && def[$3] != $2) dup[$3] = 1; def[$3] = $2; next }
        { use[++n] = $2 " " $3 }
        END {
                for (i = 1; i <= n; i++) {
                        split(use[i], u, " ")
                        if ((u[2] in def) && !(u[2] in dup) && def[u[2]] != u[1])
                                print u[1], def[u[2]]
                }
        }' | sort -u | awk '
        # Tarjan: the strongly connected parts of the file graph.
        { if (!($1 in seen)) { seen[$1] = 1; node[++nn] = $1 }
          if (!($2 in seen)) { seen[$2] = 1; node[++nn] = $2 }
          out[$1] = out[$1] " " $2 }
        function visit(v,    k, w, ws, part) {
                idx[v] = low[v] = ++counter; stack[++sp] = v; on[v] = 1
                k = split(out[v], ws, " ")
                for (i_[v] = 1; i_[v] <= k; i_[v]++) {
                        w = ws[i_[v]]
                        if (!(w in idx)) { visit(w); if (low[w] < low[v]) low[v] = low[w] }
                        else if (on[w] && idx[w] < low[v]) low[v] = idx[w]
                }
                if (low[v] == idx[v]) {
                        part = ""; cnt = 0
                        do { w = stack[sp--]; on[w] = 0; part = part " " w; cnt++ } while (w != v)
                        if (cnt > 1) print "circle" part
                }
        }
        END { for (j = 1; j <= nn; j++) if (!(node[j] in idx)) visit(node[j]) }' |
        while read -r word files; do
                echo "circle $(tr ' ' '\n' <<< "$files" | sort | tr '\n' ' ' | sed 's/ $//')"
        done >> "$found"

# ---- long files
while read -r n f; do
        case $f in
        tests/*) max=800 ;;
        *) max=600 ;;
        esac
        [ "$n" -le "$max" ] || echo "long $f" >> "$found"
done < <(files lib policy hooks cli inventoryd include tests | grep -E '\.(c|h|sh)$' | xargs wc -l | grep -v ' total$')

# ---- against the debts
debts=$(sed '/^$/d' <<< "$DEBTS" | sort -u)
now=$(sort -u "$found")
fails=0
while read -r line; do
        [ -n "$line" ] || continue
        echo "not allowed: $line"
        fails=$((fails + 1))
done < <(comm -13 <(echo "$debts") <(echo "$now"))
while read -r line; do
        [ -n "$line" ] || continue
        echo "a debt that is paid: $line (remove it from the list in $0 and from doc/ARCHITECTURE.md)"
        fails=$((fails + 1))
done < <(comm -23 <(echo "$debts") <(echo "$now"))
echo "$(wc -l <<< "$sources") files in rooms; $fails not allowed or paid; $(echo "$debts" | grep -c . || true) known debts listed"
[ "$fails" -eq 0 ]
