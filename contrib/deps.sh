#!/bin/bash
# Installs what virtgov needs on Debian 12, from Debian's archive only.
# Idempotent.
#
#   contrib/deps.sh          build, install and run virtgov: what the
#                            quickstart needs, and nothing more
#   contrib/deps.sh --test   that, and what every test needs (contrib/test.sh)
#
# The split keeps the quickstart fast on a fresh machine: the test tools
# (chromium, lintian and debhelper, clang's sanitizer runtimes) are most of
# the packages and most of its time.
set -euo pipefail
case "${1:-}" in
"") test=false ;;
--test) test=true ;;
*) echo "usage: contrib/deps.sh [--test]" >&2; exit 2 ;;
esac
packages=(
        # build (the hook links its libraries in statically: their -dev
        # packages carry the archives)
        meson ninja-build pkg-config gcc
        libexpat1-dev libsqlite3-dev libjansson-dev libvirt-dev nettle-dev zlib1g-dev
        # the kernel's audit stream: audit's own record parser, and its control requests
        libauparse-dev libaudit-dev
        # the daemon's copy of events to systemd's journal (sd_journal_sendv)
        libsystemd-dev
        # the fleet's central inventory on PostgreSQL: the daemon's shipper
        # and virtgov fleet (libpq); embed.py writes its schema into them
        libpq-dev python3
        # the man pages, and bash completion's directory
        scdoc bash-completion
        # the real thing virtgov governs, which the quickstart drives; jq
        # reads its JSON, pgrep and pkill find the daemons
        libvirt-daemon-system libvirt-clients qemu-system-x86 jq procps
)
if $test; then
        packages+=(
                # the second compiler; ASan, UBSan and libFuzzer runtimes for it
                clang libclang-rt-14-dev
                # unit tests
                libcriterion-dev
                # the man pages' test
                man-db bsdextrautils
                # report html's test: rendered headless in a real browser
                chromium
                # the integration tests' sandbox and tools
                sqlite3 iproute2 util-linux qemu-utils
                # the Debian package's test: dpkg-buildpackage and lintian
                debhelper dpkg-dev lintian
                # the alert rules' test: promtool check rules, test rules,
                # check metrics (contrib/prometheus/, tests/test-prometheus.sh)
                prometheus
                # contrib/shipping/'s test: a sender and a collector over
                # RELP, the follow stream's file rotated by its snippet
                rsyslog rsyslog-relp logrotate
                # the central inventory's tests: a private PostgreSQL 15
                # cluster (initdb, pg_ctl) on a Unix socket; openssl makes
                # the self-signed CA of the TLS test
                postgresql-15 openssl
        )
fi
# The quickstart's set comes without what its packages only recommend
# (libvirt's and QEMU's recommend a GUI, LVM and other drivers: 542
# packages on a minimal Debian 12 with them, 197 without); the tests'
# with them, as they have always been installed.
apt_opts=(-y -q)
$test || apt_opts+=(--no-install-recommends)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "virtgov: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install "${apt_opts[@]}" "${missing[@]}"
fi
