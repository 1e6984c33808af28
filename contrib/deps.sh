#!/bin/bash
# Installs what virtgov needs to build, run and test on Debian 12, from
# Debian's archive only. Idempotent.
set -euo pipefail
packages=(
        # build
        meson ninja-build pkg-config gcc clang
        # ASan, UBSan and libFuzzer runtimes for clang
        libclang-rt-14-dev
        libexpat1-dev libsqlite3-dev libjansson-dev libvirt-dev nettle-dev zlib1g-dev
        # the man pages, and their test
        scdoc man-db bsdextrautils
        # bash completion, and its test
        bash-completion
        # report html's test: rendered headless in a real browser
        chromium
        # the kernel's audit stream: audit's own record parser, and its control requests
        libauparse-dev libaudit-dev
        # tests
        libcriterion-dev jq sqlite3 iproute2 util-linux procps
        # the real thing the integration tests and the quickstart drive
        libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
        # the Debian package's test: dpkg-buildpackage and lintian
        debhelper dpkg-dev lintian
)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "virtgov: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q "${missing[@]}"
fi
