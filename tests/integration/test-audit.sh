#!/bin/bash
# Who did it, from the kernel's real audit stream (no mock): account
# changes with their actor (a fleeting account the files never showed
# included), a direct edit of passwd with none, PAM's login and failed
# login, a virsh command whose domain event names its person, audit off
# without the capability to turn it on, report access.
#
# The sandbox here has a private mount namespace, but not the network and
# PID namespaces of the others, and says why: the kernel multicasts audit
# records only to sockets of the initial network namespace (a socket bound
# in another one joins the group and receives nothing; checked on this
# kernel), and refuses AUDIT_GET, AUDIT_SET and rule changes from outside
# the initial PID namespace (EPERM). The daemon must run where the stream
# is. The mount namespace still gives libvirtd, virtgov and /etc (the
# accounts) their own fresh directories; libvirtd listens only on its unix
# sockets in the private /run; and what this test starts, it stops by pid
# in its EXIT trap, since no PID namespace takes it down.
#
# The kernel's audit flag and rules are global: the test records the flag
# at the start and puts it back on exit, however it exits, and takes its
# rules out again. Other processes of the host may log records meanwhile:
# every check names this test's own accounts and domains.
. "$(dirname "$0")/lib.sh"
: "${VG_AUDIT_CTL:?VG_AUDIT_CTL must point at tests/helpers/audit-ctl}"

if [ "${VG_IN_SANDBOX:-}" != 1 ]; then
        need_root
        if ! "$VG_AUDIT_CTL" status >/dev/null 2>&1; then
                echo "skipping: the kernel's audit cannot be read here (no CONFIG_AUDIT, or not the initial namespaces)" >&2
                exit 77
        fi
        VG_SCRATCH=$(mktemp -d /tmp/virtgov-it.XXXXXX)
        export VG_SCRATCH VG_IN_SANDBOX=1
        rc=0
        unshare --mount --fork --propagation private bash "$0" "$@" || rc=$?
        rm -rf "$VG_SCRATCH"
        exit "$rc"
fi

AUDIT_WAS=$("$VG_AUDIT_CTL" status)
cleanup() {
        [ -n "${VG_DAEMON_PID:-}" ] && kill -TERM "$VG_DAEMON_PID" 2>/dev/null && wait "$VG_DAEMON_PID" 2>/dev/null
        "$VIRTGOV" audit-rules --remove >/dev/null 2>&1 || true
        "$VG_AUDIT_CTL" enable "$AUDIT_WAS" || echo "could not put the audit flag back to $AUDIT_WAS" >&2
        stop_libvirt
        stop_pidfile /run/virtlogd.pid
}
trap cleanup EXIT
sandbox_setup

mkdir -p /etc/virtgov
cat > /etc/virtgov/virtgov.conf <<CONF
syslog = no
wtmp = $VG_SCRATCH/wtmp
btmp = $VG_SCRATCH/btmp
CONF
start_libvirt

# as PERSON (a login uid), run the rest: as after a login on the console
as_person() { sh -c 'echo "$0" > /proc/self/loginuid && exec "$@"' "$@"; }
count() { "$VIRTGOV" --json events | jq "[.[] | select($1)] | length"; }

say "audit off, and no capability to read its status or turn it on: said once, accounts still watched"
"$VG_AUDIT_CTL" enable 0
VG_DAEMON_CAPS=(setpriv --inh-caps=-audit_control --bounding-set=-audit_control)
"${VG_DAEMON_CAPS[@]}" "$VG_DAEMON" --foreground >> "$VG_SCRATCH/daemon.log" 2>&1 &
VG_DAEMON_PID=$!
wait_for "the daemon started" '[.[] | select(.kind == "daemon.connected")] | length > 0' 20
wait_for "one daemon.degraded: the audit status is not known, and what to do" \
        '[.[] | select(.kind == "daemon.degraded" and (.reason | contains("CAP_AUDIT_CONTROL")))] | length == 1'
useradd -u 1990 -M vgperson
wait_for "accounts are still watched: useradd -> account.added, actor unknown, with why" \
        '[.[] | select(.kind == "account.added" and .data.user == "vgperson" and .actor == "unknown" and (.data.why | contains("audit")))] | length == 1'
sleep 6   # past the next status check (5 s)
check "said once, not at every status check" \
        test "$(count '.kind == "daemon.degraded" and (.reason | contains("audit"))')" = 1
kill -TERM "$VG_DAEMON_PID"; wait "$VG_DAEMON_PID" 2>/dev/null || true

say "audit_enable = yes: the daemon turns audit on"
echo "audit_enable = yes" >> /etc/virtgov/virtgov.conf
start_daemon
wait_for "audit.enabled recorded" '[.[] | select(.kind == "audit.enabled")] | length == 1'
check "the kernel's flag is on" test "$("$VG_AUDIT_CTL" status)" = 1

say "account changes carry the person behind them"
as_person 1990 useradd -M vgslow
wait_for "useradd with a login uid -> account.added, actor vgperson, auid 1990, exe useradd" \
        '[.[] | select(.kind == "account.added" and .source == "accounts" and .data.user == "vgslow" and .actor == "vgperson" and .data.actor.auid == 1990 and .data.actor.exe == "/usr/sbin/useradd")] | length == 1'
check "its group.added has the same actor" \
        test "$(count '.kind == "group.added" and .data.group == "vgslow" and .actor == "vgperson"')" = 1
useradd -M vgnobody
wait_for "useradd by no login session -> actor 'no login session', never a person" \
        '[.[] | select(.kind == "account.added" and .data.user == "vgnobody" and .actor == "no login session" and .data.actor.auid == null)] | length == 1'
echo 'vgslow:Audit-Test-Pw-91' | as_person 1990 chpasswd
wait_for "chpasswd with a login uid -> account.password-changed, actor vgperson" \
        '[.[] | select(.kind == "account.password-changed" and .data.user == "vgslow" and .actor == "vgperson")] | length == 1'

say "a fleeting account: useradd then userdel within 100 ms, inside the watcher's 300 ms settle"
# The daemon is paused while they run: on a loaded machine the two can be
# more than 300 ms apart, and the watcher would then see the account come
# and go. Paused, it finds on waking what it would have had they run
# within 100 ms: inotify's events of both at once, the records in its
# socket.
kill -STOP "$VG_DAEMON_PID"
as_person 1990 sh -c 'useradd -M -u 1997 vgfleet && userdel vgfleet'
kill -CONT "$VG_DAEMON_PID"
wait_for "account.added from the audit record alone, actor vgperson, uid 1997, named vgfleet" \
        '[.[] | select(.kind == "account.added" and .source == "audit" and .data.uid == 1997 and .actor == "vgperson" and .data.user == "vgfleet")] | length == 1'
wait_for "account.removed from the audit record alone, actor vgperson, uid 1997, named vgfleet" \
        '[.[] | select(.kind == "account.removed" and .source == "audit" and .data.uid == 1997 and .actor == "vgperson" and .data.user == "vgfleet")] | length == 1'
check "the name says where it came from: the group records of the same useradd and userdel" \
        test "$(count '.source == "audit" and .data.uid == 1997 and .data.user_from.record == (if .kind == "account.added" then "ADD_GROUP" else "DEL_GROUP" end)')" = 2
check "the files never showed it: no account.added of source accounts for vgfleet" \
        test "$(count '.source == "accounts" and .data.user == "vgfleet"')" = 0

say "a fleeting account no record names (useradd -N: no group of its name): the uid, and why no name"
kill -STOP "$VG_DAEMON_PID"
as_person 1990 sh -c 'useradd -M -N -g 100 -u 1996 vgfleetn && userdel vgfleetn'
kill -CONT "$VG_DAEMON_PID"
wait_for "account.added and account.removed of uid 1996, with data.name_unknown saying why" \
        '[.[] | select(.source == "audit" and .data.uid == 1996 and .data.user == null and (.data.name_unknown | contains("uid only")))] | length == 2'

say "a direct edit of passwd: no audit record, actor unknown"
echo 'vgedit:x:1995:1995::/nonexistent:/usr/sbin/nologin' >> /etc/passwd
wait_for "account.added vgedit, actor unknown, data.why says no audit record" \
        '[.[] | select(.kind == "account.added" and .data.user == "vgedit" and .actor == "unknown" and (.data.why | contains("no audit record")))] | length == 1'

say "access: a login and a failed login, sent as PAM sends them"
as_person 1990 "$VG_AUDIT_CTL" pam start vgperson 198.51.100.7 success
wait_for "access.login vgperson from 198.51.100.7, actor vgperson" \
        '[.[] | select(.kind == "access.login" and .data.user == "vgperson" and .data.addr == "198.51.100.7" and .actor == "vgperson")] | length == 1'
"$VG_AUDIT_CTL" pam auth vgperson 203.0.113.9 failed
wait_for "access.failed vgperson from 203.0.113.9" \
        '[.[] | select(.kind == "access.failed" and .data.user == "vgperson" and .data.addr == "203.0.113.9")] | length == 1'
"$VG_AUDIT_CTL" pam auth 'Typed-A-Pw-Here!' 203.0.113.9 failed
wait_for "a failed attempt for no account: recorded, the name not kept" \
        '[.[] | select(.kind == "access.failed" and .data.user_unknown == true and .data.addr == "203.0.113.9")] | length == 1'
as_person 1990 "$VG_AUDIT_CTL" pam end vgperson 198.51.100.7 success
wait_for "access.logout vgperson" '[.[] | select(.kind == "access.logout" and .data.user == "vgperson")] | length == 1'

say "report access: who, from where, how often; failed attempts; the roster; wtmp before audit's history"
"$VG_AUDIT_CTL" wtmp "$VG_SCRATCH/wtmp" vgold 192.0.2.44 $((10 * 86400))
echo root > "$VG_SCRATCH/roster"
"$VIRTGOV" --json report access --roster "$VG_SCRATCH/roster" > "$VG_SCRATCH/access.json"
jq_check "a logins row: vgperson from 198.51.100.7, source audit" "$VG_SCRATCH/access.json" \
        '[.rows[] | select(.category == "logins" and .user == "vgperson" and .from == "198.51.100.7" and .source == "audit")] | length == 1'
jq_check "a failed row for vgperson, a finding" "$VG_SCRATCH/access.json" \
        '[.rows[] | select(.category == "failed" and .user == "vgperson")] | length == 1'
jq_check "the login of 10 days ago, before audit's history, from wtmp" "$VG_SCRATCH/access.json" \
        '[.rows[] | select(.category == "logins" and .user == "vgold" and .source == "wtmp")] | length == 1'
jq_check "vgperson accessed the host and is not on the roster" "$VG_SCRATCH/access.json" \
        '[.rows[] | select(.category == "not_on_roster" and .user == "vgperson")] | length == 1'
"$VIRTGOV" report evidence --out "$VG_SCRATCH/evidence" >/dev/null
check "the evidence bundle has report access, mapped to ISM-1605" \
        sh -c "[ -s '$VG_SCRATCH/evidence/report-access.json' ] && grep -q 'report-access.*ISM-1605' '$VG_SCRATCH/evidence/index.md'"

say "VM commands: virtgov's rules loaded, virsh run by a person"
check "audit-rules --install without auditd, audit_enable = yes: loaded through netlink" \
        quiet "$VIRTGOV" audit-rules --install
wait_for "audit.rules recorded" '[.[] | select(.kind == "audit.rules" and .data.action == "loaded")] | length == 1'
domain_xml vg-a-1 > "$VG_SCRATCH/a1.xml"
as_person 1990 virsh define "$VG_SCRATCH/a1.xml" >/dev/null
wait_for "virsh define -> domain.defined with actor vgperson, and the command as evidence" \
        '[.[] | select(.kind == "domain.defined" and .domain == "vg-a-1" and .actor == "vgperson" and .data.actor_evidence.program == "virsh" and (.data.actor_evidence.command | index("define")))] | length == 1'
as_person 1990 virsh undefine vg-a-1 >/dev/null
wait_for "virsh undefine NAME -> domain.undefined with actor vgperson, matched by the name" \
        '[.[] | select(.kind == "domain.undefined" and .domain == "vg-a-1" and .actor == "vgperson" and (.data.actor_evidence.how | contains("names the domain")))] | length == 1'
domain_xml vg-a-2 > "$VG_SCRATCH/a2.xml"
virsh define "$VG_SCRATCH/a2.xml" >/dev/null
sleep 1
check "virsh by no login session: no actor guessed" \
        test "$(count '.kind == "domain.defined" and .domain == "vg-a-2" and .actor != null')" = 0

say "never stored: passwords, a name typed at a login prompt"
check "neither the password given to chpasswd nor the typed name is in the inventory" \
        sh -c '! sqlite3 /var/lib/virtgov/inventory.db .dump | grep -qF -e Audit-Test-Pw-91 -e Typed-A-Pw-Here'

finish
