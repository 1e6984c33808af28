# shellcheck shell=bash
# Shared by the integration tests. Each test drives the real binaries; the
# libvirt ones drive a real libvirtd and QEMU guest.
#
# vg_sandbox re-runs the test inside new mount, network and PID namespaces.
# There, the directories libvirt and virtgov keep their state and config in
# (sandbox_masks) are fresh, empty tmpfs mounts, and /etc, /var and /home
# are overlays on scratch directories. Inside, libvirtd, the hook and the
# CLI use their real default paths (/etc/libvirt/hooks, /etc/virtgov,
# /var/lib/virtgov), yet nothing outside the scratch directory is written;
# nothing the host has or later writes in those directories (its
# inventory, a WAL a host process holds open, libvirtd's sockets) is seen
# inside; a libvirtd on the host is neither seen nor reachable, and is
# never stopped, since the tests stop libvirtd by its pid file; and when
# the test ends every process it started dies with its PID namespace.
# (tests/integration/test-sandbox.sh checks this.)

set -euo pipefail

: "${VG_BUILD:?VG_BUILD must point at the meson build directory}"
VIRTGOV="$VG_BUILD/cli/virtgov"
VG_HOOK="$VG_BUILD/hooks/virtgov-hook"
VG_FAILS=0
VG_CHECKS=0

say() { printf '# %s\n' "$*"; }

# spool_events DIR: how many events wait in spool DIR (records of its
# journals, spool.h, and one-event *.json files).
spool_events() {
        { cat "$1"/journal "$1"/folding.* 2>/dev/null | tr -cd '\036' | wc -c
          find "$1" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l; } | awk '{ n += $1 } END { print n + 0 }'
}

# spool_json DIR: each event waiting in spool DIR as one line of JSON.
spool_json() {
        cat "$1"/journal "$1"/folding.* 2>/dev/null | grep -a '^{' || true
        find "$1" -maxdepth 1 -name '*.json' -exec sh -c 'for f; do jq -c . "$f"; done' sh {} +
}

# check DESCRIPTION COMMAND...: one assertion, counted, reported TAP-style.
check() {
        local what=$1
        shift
        VG_CHECKS=$((VG_CHECKS + 1))
        if "$@"; then
                printf 'ok %d - %s\n' "$VG_CHECKS" "$what"
        else
                printf 'not ok %d - %s\n' "$VG_CHECKS" "$what"
                VG_FAILS=$((VG_FAILS + 1))
        fi
}

# aligned FILE TITLE REGEX [TITLE REGEX...]: in the text table in FILE (a
# header, then at least one row), every row has a cell starting at the
# column where TITLE starts in the header (a space before it), and its text
# from there on matches REGEX (anchored there).
aligned() {
        local file=$1
        shift
        while [ $# -ge 2 ]; do
                awk -v t="$1" -v re="^$2" 'NR == 1 { c = index($0, t); if (!c) exit 2; next }
                        (c > 1 && substr($0, c - 1, 1) != " ") || substr($0, c) !~ re { print "misaligned under " t ", row " NR ": " $0 > "/dev/stderr"; bad = 1 }
                        END { exit bad || NR < 2 }' "$file" || return 1
                shift 2
        done
}

# quiet COMMAND...: for check, when only the exit status matters.
quiet() { "$@" >/dev/null 2>&1; }

finish() {
        if [ "$VG_FAILS" -gt 0 ] && [ -s "${VG_SCRATCH:-/nonexistent}/daemon.log" ]; then
                echo "--- the daemon's log:" >&2
                tail -n 40 "$VG_SCRATCH/daemon.log" >&2
        fi
        printf '1..%d\n' "$VG_CHECKS"
        printf '%d passed, %d failed\n' "$((VG_CHECKS - VG_FAILS))" "$VG_FAILS"
        [ "$VG_FAILS" -eq 0 ]
}

need_root() {
        if [ "$(id -u)" -ne 0 ]; then
                # In CI these tests must run; elsewhere a non-root run skips.
                if [ "${CI:-}" = true ]; then
                        echo "integration tests need root (CI=true: refusing to skip)" >&2
                        exit 1
                fi
                echo "skipping: integration tests need root" >&2
                exit 77
        fi
}

vg_sandbox() {
        if [ "${VG_IN_SANDBOX:-}" = 1 ]; then
                return 0
        fi
        need_root
        VG_SCRATCH=$(mktemp -d /tmp/virtgov-it.XXXXXX)
        export VG_SCRATCH VG_IN_SANDBOX=1
        local rc=0
        unshare --mount --net --pid --fork --mount-proc --propagation private \
                bash "$0" "$@" || rc=$?
        rm -rf "$VG_SCRATCH"
        exit "$rc"
}

# The directories libvirt and virtgov keep their config and state in, one
# per line: at the paths Debian's libvirt and a --prefix=/usr virtgov use,
# and under the build's own sysconfdir and localstatedir when they are
# elsewhere (virtgov's compiled defaults are there; test-sandbox points
# them at a "host" directory of its own).
sandbox_masks() {
        local etc var
        for etc in /etc "${VG_SYSCONFDIR:-/etc}"; do
                printf '%s\n' "$etc/virtgov" "$etc/libvirt"
        done
        for var in /var "${VG_LOCALSTATEDIR:-/var}"; do
                printf '%s\n' "$var/lib/virtgov" "$var/lib/libvirt" "$var/log/libvirt" "$var/cache/libvirt"
        done
        echo /run
}

VG_OVERLAYS=()

# Inside the sandbox: overlay one existing directory on a scratch upper
# layer, so that what is written under it lands in the scratch directory.
overlay() {
        local dir=$1 name
        name=$(echo "$dir" | tr / _)
        mkdir -p "$VG_SCRATCH/up$name" "$VG_SCRATCH/work$name"
        mount -t overlay overlay \
                -o "lowerdir=$dir,upperdir=$VG_SCRATCH/up$name,workdir=$VG_SCRATCH/work$name" "$dir"
        VG_OVERLAYS+=("$dir")
}

# make_dir DIR: DIR exists afterwards, and the host was not written: a
# missing DIR is made inside one of our overlays, laying one over its
# nearest existing ancestor if none covers it.
make_dir() {
        local dir=$1 top=$1 o
        [ -d "$dir" ] && return 0
        while [ ! -d "$top" ]; do top=$(dirname "$top"); done
        for o in "${VG_OVERLAYS[@]}"; do
                case $top/ in "$o"/*) mkdir -p "$dir"; return 0 ;; esac
        done
        if [ "$top" = / ]; then
                echo "sandbox: will not overlay / to make $dir" >&2
                return 1
        fi
        overlay "$top"
        mkdir -p "$dir"
}

# mask DIR: a fresh, empty tmpfs over DIR. Unlike an overlay, whose lower
# layer is the host's live directory, it shows nothing the host has there
# or writes there later: a host process holding the host's inventory open
# once made a sandboxed test read its WAL ("database disk image is
# malformed"), a file created on the host after the sandbox had removed
# the old ones from its overlay.
mask() {
        make_dir "$1"
        mount -t tmpfs -o mode=0755 tmpfs "$1"
}

sandbox_setup() {
        # /etc, /var and /home stay overlays, not fresh tmpfs: the tests
        # run the host's installed system (the loader's cache, nsswitch,
        # PAM, the libvirt-qemu user QEMU runs as, /var/tmp) and change its
        # accounts (useradd, chpasswd, sudoers.d), which needs /etc/passwd
        # and the like writable without writing the host's. An overlay
        # gives both: writes are copied up into the scratch directory. What
        # the host changes in them later may show through until the
        # sandbox writes that file, which is why virtgov's and libvirt's
        # own directories beneath them are masked, and why the account
        # files the daemon watches are copied up (touched) at once: from
        # then on they are the sandbox's snapshot.
        overlay /etc
        overlay /var
        if [ -d /home ]; then overlay /home; fi
        touch -c /etc/passwd /etc/group /etc/shadow /etc/gshadow
        # libvirt's stock config files (comments and defaults), as
        # installed: libvirtd and virtlogd start without them, but with
        # them the sandbox is a stock install. Not the default network
        # (its autostart wants dnsmasq and NAT; no test uses it), nor the
        # host's domains, networks, secrets or hooks.
        mkdir -p "$VG_SCRATCH/libvirt-conf"
        cp -p /etc/libvirt/*.conf "$VG_SCRATCH/libvirt-conf/" 2>/dev/null || true
        local dir
        # Sorted, a parent is mounted before anything beneath it.
        for dir in $(sandbox_masks | sort -u); do
                mask "$dir"
        done
        cp -a "$VG_SCRATCH/libvirt-conf/." /etc/libvirt/
        mkdir -p /run/lock /etc/libvirt/hooks "${VG_SYSCONFDIR:-/etc}/libvirt/hooks"
        ip link set lo up
}

# Where libvirtd -d, run as root, writes its pid (the tests that restart
# it run 'libvirtd -d' again). virtlogd, started once, dies with the
# sandbox's PID namespace; stop_pidfile /run/virtlogd.pid would stop it.
VG_LIBVIRTD_PIDFILE=/run/libvirtd.pid

start_libvirt() {
        virtlogd -d
        libvirtd -d
        local i
        for i in $(seq 100); do
                virsh -c qemu:///system version >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        echo "libvirtd did not come up" >&2
        return 1
}

# stop_pidfile FILE: stops the daemon whose pid FILE holds, and waits until
# it is gone (it removes FILE as it exits). By its pid, never by its name:
# a name would match any libvirtd this shell can see.
stop_pidfile() {
        local pid i
        pid=$(cat "$1" 2>/dev/null) || return 0
        kill -TERM "$pid" 2>/dev/null || return 0
        for i in $(seq 100); do
                kill -0 "$pid" 2>/dev/null || return 0
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
}

stop_libvirt() { stop_pidfile "$VG_LIBVIRTD_PIDFILE"; }

virsh() { command virsh -q -c qemu:///system "$@"; }

# A disk-less TCG guest: boots in about a second without KVM.
domain_xml() {
        local name=$1 extra=${2:-}
        cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <metadata>
    <vg:governance xmlns:vg="urn:virtgov:1"><vg:owner>alice</vg:owner><vg:ticket>CHG-1042</vg:ticket></vg:governance>
  </metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>$extra<graphics type='vnc' listen='127.0.0.1'/></devices>
</domain>
XML
}

# jq_check DESCRIPTION JSON-FILE FILTER: the filter must yield true.
jq_check() {
        check "$1" test "$(jq -r "$3" "$2" 2>/dev/null)" = true
}

# The integrity suites' start: virtgov's config (no syslog copy) with a
# profile directory, the hooks, libvirtd.
integrity_setup() {
        mkdir -p /etc/virtgov/integrity.d
        echo "syslog = no" > /etc/virtgov/virtgov.conf
        "$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
        start_libvirt
}

VG_DAEMON="$VG_BUILD/inventoryd/virtgov-inventoryd"

# Starts the daemon in the foreground (in the background of the test) and
# waits until it is connected to libvirt (its host.software event).
start_daemon() {
        # The newest event before the daemon starts: what it records after.
        local since
        since=$("$VIRTGOV" --json events --limit 1 2>/dev/null | jq '.[0].id // 0')
        "$VG_DAEMON" --foreground "$@" >> "$VG_SCRATCH/daemon.log" 2>&1 &
        VG_DAEMON_PID=$!
        wait_for "daemon started and connected" \
                "[.[] | select(.id > ${since:-0} and .kind == \"daemon.connected\")] | length > 0" 20
}

# wait_until FILTER [SECONDS]: polls 'virtgov --json events' until the jq
# FILTER over the whole array yields true. Returns 1 on time-out.
wait_until() {
        local filter=$1 secs=${2:-15} i
        for i in $(seq $((secs * 10))); do
                if [ "$("$VIRTGOV" --json events 2>/dev/null | jq -r "$filter" 2>/dev/null)" = true ]; then
                        return 0
                fi
                sleep 0.1
        done
        return 1
}

# wait_for DESCRIPTION FILTER [SECONDS]: wait_until, as a counted check.
wait_for() {
        check "$1" wait_until "$2" "${3:-15}"
}

# has_event KIND DOMAIN SOURCE: a jq filter for "such an event exists".
has_event() {
        echo "[.[] | select(.kind == \"$1\" and .domain == \"$2\" and .source == \"$3\")] | length > 0"
}

# The central inventory's tests: a private PostgreSQL 15 cluster, made and
# thrown away by each test, in the scratch directory. initdb refuses root,
# so it runs as the user postgres (Debian's postgresql-common makes it).
# It listens on no TCP port: only on a Unix socket in $VG_PG/run. Every
# login has a SCRAM password, kept in a password file ($PGPASSFILE, 0600),
# never in a dsn: the way virtgov's config is meant to be used.
VG_PG_BIN=${VG_PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_start: makes and starts the cluster; sets VG_PG, PGHOST, PGPASSFILE,
# and VG_PG_OWNER, the dsn of the owner of the database 'virtgov' (the
# superuser postgres). pg_ctl start runs it again after pg_stop.
pg_start() {
        VG_PG=$VG_SCRATCH/pg
        export PGHOST=$VG_PG/run PGPASSFILE=$VG_SCRATCH/pgpass
        VG_PG_OWNER="host=$PGHOST dbname=virtgov user=postgres"
        if [ ! -d "$VG_PG/data" ]; then
                chmod 0711 "$VG_SCRATCH"
                mkdir -p "$VG_PG/run"
                printf 'owner-%s\n' "$RANDOM$RANDOM" > "$VG_PG/pw"
                chown -R postgres: "$VG_PG"
                printf '*:*:*:postgres:%s\n' "$(cat "$VG_PG/pw")" > "$PGPASSFILE"
                chmod 0600 "$PGPASSFILE"
                runuser -u postgres -- "$VG_PG_BIN/initdb" --no-sync -D "$VG_PG/data" -U postgres \
                        --pwfile="$VG_PG/pw" -A scram-sha-256 >> "$VG_SCRATCH/pg-init.log" 2>&1
        fi
        runuser -u postgres -- "$VG_PG_BIN/pg_ctl" -D "$VG_PG/data" -l "$VG_PG/log" -w -t 60 \
                -o "-c listen_addresses='' -c unix_socket_directories=$PGHOST" start > /dev/null
        psql -qAt -d "host=$PGHOST dbname=postgres user=postgres" \
                -c "SELECT 1 FROM pg_database WHERE datname = 'virtgov'" | grep -q 1 ||
                psql -q -d "host=$PGHOST dbname=postgres user=postgres" -c "CREATE DATABASE virtgov"
}

# pg_stop [MODE]: stops it (fast: clients cut; immediate: as a crash).
pg_stop() {
        runuser -u postgres -- "$VG_PG_BIN/pg_ctl" -D "$VG_PG/data" -m "${1:-fast}" -w stop > /dev/null
}

# pg_sql SQL...: runs SQL as the owner; prints rows unaligned, '|'-separated.
pg_sql() {
        psql -X -v ON_ERROR_STOP=1 -qAt -d "$VG_PG_OWNER" -c "$*"
}

# pg_auditor NAME: a login role NAME of virtgov_auditor (read-only, every
# host's rows); prints its dsn, as pg_login does.
pg_auditor() {
        pg_sql "CREATE ROLE \"$1\" LOGIN IN ROLE virtgov_auditor" >/dev/null
        pg_login "$1"
}

# fleet_daemons_stop: the fleet tests' daemons, their pids in the test's
# associative array PID (by host name), killed and waited for; after a
# failed check, first the end of each host's $VG_SCRATCH/HOST/daemon.log.
fleet_daemons_stop() {
        local h log
        if [ "$VG_FAILS" -gt 0 ]; then
                for log in "$VG_SCRATCH"/*/daemon.log; do
                        [ -s "$log" ] || continue
                        h=${log%/daemon.log}
                        echo "--- ${h##*/}'s daemon log:" >&2
                        tail -n 25 "$log" >&2
                done
        fi
        for h in "${!PID[@]}"; do kill "${PID[$h]}" 2>/dev/null || true; done
        for h in "${!PID[@]}"; do wait "${PID[$h]}" 2>/dev/null || true; done
}

# pg_login ROLE: gives ROLE (made by 'virtgov fleet add-host') a password,
# kept in the password file; prints ROLE's dsn.
pg_login() {
        local pw="pw-$RANDOM$RANDOM"
        pg_sql "ALTER ROLE \"$1\" PASSWORD '$pw'" >/dev/null
        printf '*:*:*:%s:%s\n' "$1" "$pw" >> "$PGPASSFILE"
        echo "host=$PGHOST dbname=virtgov user=$1"
}
