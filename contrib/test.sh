#!/bin/bash
# Runs every test: unit suites, hostile-input and fault tests of the hook,
# and the integration tests against a real libvirtd and QEMU guest (as
# root, in a private namespace: the host's libvirt is not touched).
# Builds twice, with gcc and clang, each with -Werror.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "contrib/test.sh: run as root (the integration tests start libvirtd)" >&2; exit 1; }
contrib/deps.sh

build() {
        local dir=$1 cc=$2
        if [ ! -f "$dir/build.ninja" ]; then
                CC=$cc meson setup "$dir" --prefix=/usr --werror
        fi
        meson compile -C "$dir"
}

build build-gcc gcc
build build-clang clang

echo "== gcc build: every test"
meson test -C build-gcc --print-errorlogs
echo "== clang build: every test"
meson test -C build-clang --print-errorlogs

# One closing line over both builds, counted from meson's own log.
summary() {
        jq -s -r '[.[] | .result] | "\(map(select(. == "OK")) | length) \(map(select(. != "OK" and . != "SKIP")) | length) \(map(select(. == "SKIP")) | length)"' \
                build-gcc/meson-logs/testlog.json build-clang/meson-logs/testlog.json
}
read -r passed failed skipped < <(summary)
echo "tests: $passed passed, $failed failed, $skipped skipped"
