#!/bin/bash
# Runs every test: unit suites, hostile-input and fault tests of the hook,
# and the integration tests against a real libvirtd and QEMU guest (as
# root, in a private namespace: the host's libvirt is not touched).
# Builds three times, with gcc, clang, and clang under ASan+UBSan, each with
# -Werror, and runs every test with each; then a fourth, instrumented for
# libFuzzer, runs each fuzzer for VG_FUZZ_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "contrib/test.sh: run as root (the integration tests start libvirtd)" >&2; exit 1; }
contrib/deps.sh --test

build() {
        local dir=$1 cc=$2
        if [ ! -f "$dir/build.ninja" ]; then
                CC=$cc meson setup "$dir" --prefix=/usr --werror
        fi
        meson compile -C "$dir"
}

build build-gcc gcc
build build-clang clang
if [ ! -f build-asan/build.ninja ]; then
        CC=clang meson setup build-asan --prefix=/usr --werror -Db_sanitize=address,undefined -Db_lundef=false -Dhook_link=shared
fi
meson compile -C build-asan
if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang meson setup build-fuzz --prefix=/usr --werror -Db_sanitize=address,undefined -Db_lundef=false -Dhook_link=shared \
                -Dfuzz=true
fi
meson compile -C build-fuzz

echo "== gcc build: every test"
meson test -C build-gcc --print-errorlogs
echo "== clang build: every test"
meson test -C build-clang --print-errorlogs
echo "== clang with AddressSanitizer and UndefinedBehaviorSanitizer: every test"
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 meson test -C build-asan --print-errorlogs
# A leak or error in a test's own process does not always change its exit
# status (Criterion's runner): any sanitizer report fails the run.
if grep -nE "ERROR: (Address|Leak)Sanitizer|runtime error:" build-asan/meson-logs/testlog.txt; then
        echo "sanitizer reports above" >&2
        exit 1
fi

echo "== libFuzzer: each parser of outside input for ${VG_FUZZ_SECONDS:-60} s"
meson test -C build-fuzz --suite fuzz --print-errorlogs

# One closing line over every build, counted from meson's own log.
summary() {
        jq -s -r '[.[] | .result] | "\(map(select(. == "OK")) | length) \(map(select(. != "OK" and . != "SKIP")) | length) \(map(select(. == "SKIP")) | length)"' \
                build-gcc/meson-logs/testlog.json build-clang/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
                build-fuzz/meson-logs/testlog.json
}
read -r passed failed skipped < <(summary)
echo "tests: $passed passed, $failed failed, $skipped skipped"
