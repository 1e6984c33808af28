#!/bin/bash
# run.sh FUZZER SEEDS DICT WORKDIR: runs one libFuzzer harness for
# $VG_FUZZ_SECONDS (default 60). A crash, leak, sanitizer report or
# timeout fails the test and leaves the input in WORKDIR/crash-* (or
# leak-*, timeout-*): reproduce with 'FUZZER WORKDIR/crash-...'.
set -euo pipefail
fuzzer=$1 seeds=$2 dict=$3 work=$4
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
# -timeout: any one input over 10 s is a hang; -rss_limit_mb bounds memory.
rc=0
"$fuzzer" -max_total_time="${VG_FUZZ_SECONDS:-60}" -dict="$dict" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds" \
        > "$work/log" 2>&1 || rc=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)|^#[0-9]+ +DONE' "$work/log" || true
if [ "$rc" -ne 0 ]; then
        tail -n 60 "$work/log"
        ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
        exit 1
fi
