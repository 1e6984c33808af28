#!/bin/bash
# The hardening assessment as issue 19's goal states it: a full
# 'virtgov assess' (all checks) of a host with 100 defined domains, under
# 200 ms.
#
#   bench/assess.sh [--domains N] [--runs N]
#
# The host is this machine, seen through --root: /proc, /sys, apt's lists,
# dpkg's status, /boot and /etc are this host's (symbolic links), except
# /etc/libvirt, which holds this host's libvirt config files and N domain
# definitions made from tests/data/domxml/full (disks, interfaces, a
# console, graphics, seclabels: every element the domain checks read).
# bench/exectime runs it and a no-op in turns (the no-op shows how busy
# the machine was); printed: the medians, the assessment's own time
# (took_ms, the checks without the process start) and the ratio to the
# goal. Nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
DOMAINS=100 RUNS=31
while [ $# -gt 0 ]; do
        case $1 in
        --domains) DOMAINS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        *) echo "usage: bench/assess.sh [--domains N] [--runs N]" >&2; exit 2 ;;
        esac
done
command -v jq >/dev/null || { apt-get update -q && apt-get install -y -q jq; }
[ -f build-bench/build.ninja ] || meson setup build-bench --prefix=/usr --buildtype=release >/dev/null
meson compile -C build-bench >/dev/null
B=$PWD/build-bench
W=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-bench-assess.XXXXXX")
trap 'rm -rf "$W"' EXIT

R=$W/root
mkdir -p "$R/etc/libvirt/qemu" "$R/var/lib" "$R/run"
for d in proc sys boot usr lib; do ln -s "/$d" "$R/$d"; done
ln -s /var/lib/apt "$R/var/lib/apt"
ln -s /var/lib/dpkg "$R/var/lib/dpkg"
[ -d /run/libvirt ] && ln -s /run/libvirt "$R/run/libvirt"
for e in /etc/* /etc/.[!.]*; do
        [ -e "$e" ] || continue
        case ${e#/etc/} in libvirt|virtgov) continue ;; esac
        ln -s "$e" "$R/etc/${e#/etc/}"
done
cp /etc/libvirt/*.conf "$R/etc/libvirt/" 2>/dev/null || true
TEMPLATE=tests/data/domxml/full/input.xml
for i in $(seq "$DOMAINS"); do
        sed -e "s|<name>[^<]*</name>|<name>bench-$i</name>|" \
            -e "s|<uuid>[^<]*</uuid>|<uuid>00000000-0000-4000-8000-$(printf %012d "$i")</uuid>|" \
            "$TEMPLATE" > "$R/etc/libvirt/qemu/bench-$i.xml"
done

VG=$B/cli/virtgov
checks=$("$VG" assess --root "$R" --json --no-record | jq '.checks | length')
took=()
for i in $(seq "$RUNS"); do
        took+=("$("$VG" assess --root "$R" --json --no-record | jq .took_ms)")
done
median_took=$(printf '%s\n' "${took[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
mapfile -t lines < <("$B/bench/exectime" "$RUNS" /dev/null "$VG" assess --root "$R" --no-record -- "$B/bench/noop")
median() { jq -r .median_us <<<"$1"; }
run_us=$(median "${lines[0]}") noop_us=$(median "${lines[1]}")
echo "virtgov assess, $checks checks, $DOMAINS defined domains, $RUNS runs (medians)"
printf '  %-44s %8.1f ms\n' "whole command (exec to exit)" "$(echo "$run_us / 1000" | bc -l)"
printf '  %-44s %8s ms\n' "the assessment itself (took_ms)" "$median_took"
printf '  %-44s %8.1f ms\n' "a no-op exec beside it (machine's load)" "$(echo "$noop_us / 1000" | bc -l)"
printf '  %-44s %8.2f (goal: under 1)\n' "ratio of the whole command to the 200 ms goal" "$(echo "$run_us / 200000" | bc -l)"
