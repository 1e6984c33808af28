#!/bin/bash
# The Prometheus side of virtgov against promtool (Debian's prometheus):
#   test-prometheus.sh SOURCE_ROOT VIRTGOV HOOK XML INVENTORYD
# - contrib/prometheus/virtgov.rules.yml passes 'promtool check rules', and
#   its unit tests (virtgov.rules.test.yml) pass 'promtool test rules';
# - each rule broken in turn (its expr made one that never fires) fails
#   those tests, so they cannot pass vacuously;
# - 'virtgov metrics' on a real inventory (the built hook recorded a denied
#   start of a domain with a hostile name, its owner holds bytes that are
#   not UTF-8) passes 'promtool check metrics', is UTF-8, and escapes the
#   name as the format asks;
# - every virtgov_ metric the rules and their tests name is one that run
#   printed (a renamed metric fails here);
# - the rules fire on series made of real runs: a denied start, then a
#   chain edited behind virtgov's back;
# - with the real daemon on libvirt's test driver (test:///default, in
#   process): up while it runs, degraded once it said so, down once
#   stopped, and the libvirt version it recorded in host_info.
set -euo pipefail
src=$1 virtgov=$2 hook=$3 xml=$4 inventoryd=$5
command -v promtool >/dev/null || { echo "FAIL: promtool missing (the prometheus package: contrib/deps.sh --test)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 missing (contrib/deps.sh --test)" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/virtgov-prometheus.XXXXXX")
daemon=
trap '[ -z "$daemon" ] || kill "$daemon" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$w"' EXIT
fail=0
ok() { echo "ok: $*"; }
no() { echo "FAIL: $*" >&2; fail=1; }

# ---- the rules and their unit tests
cp "$src/contrib/prometheus/virtgov.rules.yml" "$src/contrib/prometheus/virtgov.rules.test.yml" "$w/"
promtool check rules "$w/virtgov.rules.yml" >/dev/null && ok "promtool check rules" || no "promtool check rules"
if out=$(cd "$w" && promtool test rules virtgov.rules.test.yml 2>&1); then
        ok "promtool test rules"
else
        no "promtool test rules: $out"
fi

# ---- each rule broken in turn must fail its tests
n=$(grep -c '^ *expr: ' "$w/virtgov.rules.yml")
[ "$n" -ge 10 ] || no "only $n rules in virtgov.rules.yml"
mkdir "$w/broken"
cp "$w/virtgov.rules.test.yml" "$w/broken/"
for ((i = 1; i <= n; i++)); do
        awk -v i="$i" '/^ *expr: / && ++k == i { sub(/expr: .*/, "expr: vector(1) < 0") } { print }' \
                "$w/virtgov.rules.yml" > "$w/broken/virtgov.rules.yml"
        alert=$(awk -v i="$i" '/^ *- alert: / { a = $3 } /^ *expr: / && ++k == i { print a }' "$w/virtgov.rules.yml")
        cmp -s "$w/virtgov.rules.yml" "$w/broken/virtgov.rules.yml" && no "rule $i ($alert) was not broken"
        if (cd "$w/broken" && promtool test rules virtgov.rules.test.yml >/dev/null 2>&1); then
                no "the tests pass with $alert broken: nothing tests it"
        else
                ok "the tests fail with $alert broken"
        fi
done

# ---- a real inventory, with hostile text in it
printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nsyslog = no\ninventory_group = root\npolicy = %s/policy.json\netc_dir = %s/etc\nmachine_id_file = %s/etc/machine-id\n' \
        "$w" "$w" "$w" "$w" "$w" > "$w/vg.conf"
# A central inventory configured, never reached (no daemon ships here):
# what is recorded is pending, the oldest of it as old as it is.
printf '[central]\ndsn = host=%s/nowhere dbname=virtgov\n' "$w" >> "$w/vg.conf"
mkdir "$w/etc"
echo 0123456789abcdef0123456789abcdef > "$w/etc/machine-id"
echo '{ "mode": "enforce", "default": "deny" }' > "$w/policy.json"
export VIRTGOV_CONFIG=$w/vg.conf
"$virtgov" hooks install --from "$hook" --hooks-dir "$w/hooks" >/dev/null
metrics() { "$virtgov" metrics --verify --out "$w/$1.prom" || no "virtgov metrics ($1) failed"; }
metrics before
name=$'vm "quoted" \\back\\slash\nvirtgov_fake 1 }'
uuid=11111111-2222-3333-4444-555555555555
sed "s|<uuid>[^<]*</uuid>|<uuid>$uuid</uuid>|" "$xml" | "$hook" "$name" prepare begin - >/dev/null 2>&1 &&
        no "the hook allowed a start the policy denies"
"$virtgov" list >/dev/null   # folds the hook's spool into the inventory
# 'caf', e9 (Latin-1's é), ff: not UTF-8
sqlite3 "$w/inv.db" "UPDATE domains SET owner = CAST(X'636166e9ff' AS TEXT) WHERE uuid = '$uuid'"
metrics denied
m=$w/denied.prom

out=$(promtool check metrics < "$m" 2>&1) && ok "promtool check metrics" || no "promtool check metrics: $out"
iconv -f UTF-8 -t UTF-8 "$m" >/dev/null 2>&1 && ok "the metrics are UTF-8" || no "the metrics are not UTF-8"
want='virtgov_domain_info{uuid="'$uuid'",name="vm \"quoted\" \\back\\slash\nvirtgov_fake 1 }",host="'
want+=$(hostname)'",owner="caf'$'\xef\xbf\xbd\xef\xbf\xbd''",ticket="CHG-1042",state="'
grep -qF -- "$want" "$m" && ok "a hostile name and owner escaped" || no "no line starting '$want' in: $(grep domain_info "$m")"
grep -q '^virtgov_fake' "$m" && no "a domain name made a series of its own"
grep -qx 'virtgov_policy_decisions_total{op="start",decision="deny"} 1' "$m" && ok "the denied start counted" ||
        no "the denied start not counted: $(grep policy_decisions "$m")"
grep -qx 'virtgov_host_info{host="'"$(hostname)"'",host_id="0123456789abcdef0123456789abcdef",libvirt_uuid="",libvirt_version="",qemu_version="",kernel="'"$(uname -r)"'"} 1' "$m" &&
        ok "host_info: the machine id from machine_id_file, no version guessed" || no "host_info: $(grep host_info "$m")"
head=$(sed -n 's/^virtgov_chain_head_seq //p' "$m")
grep -qx "virtgov_central_pending_events $head" "$m" && [ "$head" -gt 0 ] &&
        ok "central: all $head events pending (nothing shipped)" || no "central: $(grep central_pending "$m"), head $head"
grep -qE '^virtgov_central_lag_seconds [0-9]+$' "$m" && ok "central: a lag in seconds" || no "central: $(grep central_lag "$m")"
for f in HELP TYPE; do
        a=$(grep -c "^# $f " "$m")
        b=$(grep -v '^#' "$m" | sed 's/[{ ].*//' | sort -u | wc -l)
        [ "$a" -eq "$b" ] && ok "one $f line for each of the $b metrics" || no "$a $f lines for $b metrics"
done

# ---- the names the rules use are the names virtgov prints
printed=$(sed -n 's/^# TYPE \(virtgov_[a-z_]*\) .*/\1/p' "$m" | sort -u)
for file in virtgov.rules.yml virtgov.rules.test.yml; do
        used=$(grep -E '^ *(expr|- series):' "$w/$file" | grep -oE 'virtgov_[a-z_]+' | sort -u)
        [ -n "$used" ] || no "$file names no virtgov metric"
        for u in $used; do
                grep -qx "$u" <<< "$printed" || no "$file uses $u, which 'virtgov metrics' does not print"
        done
done
ok "every metric the rules and their tests name is printed"

# ---- the rules on real output: series of the three runs, five minutes
# each (before; a start denied; the chain edited), '_' where a run did not
# have the series
sqlite3 "$w/inv.db" "DROP TRIGGER events_no_update; UPDATE events SET reason = 'edited' WHERE id = 1;"
metrics edited
series() {   # KEY of a sample line -> promtool's series with instance="kvm1"
        awk -v q="'" '
        FNR == 1 { run++ }
        /^#/ { next }
        { key = $0; sub(/ [^ ]*$/, "", key); val[key, run] = $NF; keys[key] = 1 }
        END {
                for (k in keys) {
                        s = k
                        if (s ~ /}$/) sub(/}$/, ",instance=\"kvm1\"}", s); else s = s "{instance=\"kvm1\"}"
                        gsub(q, q q, s)
                        # PromQL reads a literal U+FFFD as a decoding error
                        # (utf8.RuneError in Go): its escape is the same rune.
                        gsub(/\xef\xbf\xbd/, "\\uFFFD", s)
                        printf "      - series: %s%s%s\n        values: %s", q, s, q, q
                        for (r = 1; r <= 3; r++) for (i = 0; i < 5; i++)
                                printf "%s%s", (r + i > 1 ? " " : ""), ((k, r) in val ? val[k, r] : "_")
                        printf "%s\n", q
                }
        }' "$@"
}
{
        printf 'rule_files:\n  - %s\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n' "$w/virtgov.rules.yml"
        series "$w/before.prom" "$w/denied.prom" "$w/edited.prom"
        cat <<'EOF'
    alert_rule_test:
      - eval_time: 3m
        alertname: VirtgovStartDenied
        exp_alerts: []
      - eval_time: 7m
        alertname: VirtgovStartDenied
        exp_alerts:
          - exp_labels: { severity: warning, op: start, decision: deny, instance: kvm1 }
            exp_annotations:
              summary: "kvm1: the policy denied the start of a domain (virtgov events --kind domain.prepare --decision deny)"
      - eval_time: 7m
        alertname: VirtgovChainVerifyFailed
        exp_alerts: []
      - eval_time: 12m
        alertname: VirtgovChainVerifyFailed
        exp_alerts:
          - exp_labels: { severity: critical, instance: kvm1 }
            exp_annotations:
              summary: "kvm1: the inventory's hash chain is broken (virtgov verify names the event)"
EOF
} > "$w/real.test.yml"
grep -q 'virtgov_domain_info{uuid="'$uuid'"' "$w/real.test.yml" || no "the hostile domain's series did not reach the real test"
if out=$(promtool test rules "$w/real.test.yml" 2>&1); then
        ok "the rules fire on real runs: a denied start, an edited chain"
else
        no "the rules on real runs: $out"
fi

# ---- the daemon. Its etc_dir has no passwd: it says so (daemon.degraded).
"$inventoryd" --foreground --uri test:///default 2> "$w/daemon.log" &
daemon=$!
for ((i = 0; i < 100; i++)); do
        "$virtgov" metrics > "$w/up.prom"
        grep -q '^virtgov_daemon_up 1$' "$w/up.prom" && grep -q 'libvirt_version="[0-9]' "$w/up.prom" && break
        sleep 0.1
done
grep -qx 'virtgov_daemon_up 1' "$w/up.prom" && ok "daemon_up 1 while it runs" || no "daemon_up: $(grep daemon_up "$w/up.prom")"
grep -qx 'virtgov_daemon_degraded 1' "$w/up.prom" && ok "daemon_degraded 1 once it said so" ||
        no "daemon_degraded: $(grep daemon_degraded "$w/up.prom"); $(cat "$w/daemon.log")"
lib=$("$virtgov" --json events --kind host.software | sed -n 's/^ *"libvirt": "\([0-9.]*\)".*/\1/p' | head -1)
grep -q 'virtgov_host_info{.*libvirt_version="'"$lib"'",qemu_version="",' "$w/up.prom" &&
        ok "host_info: libvirt $lib as the daemon recorded it, no QEMU under the test driver" ||
        no "host_info with libvirt '$lib': $(grep host_info "$w/up.prom")"
kill "$daemon"
wait "$daemon" || true
daemon=
"$virtgov" metrics > "$w/down.prom"
grep -qx 'virtgov_daemon_up 0' "$w/down.prom" && ok "daemon_up 0 once stopped" || no "daemon_up: $(grep daemon_up "$w/down.prom")"

# ---- --out keeps the last good file when a run fails
cp "$m" "$w/kept"
"$virtgov" --db "$w/missing.db" metrics --out "$m" 2>/dev/null && no "metrics on a missing inventory succeeded"
cmp -s "$m" "$w/kept" && ok "a failed run left the file as it was" || no "a failed run changed the file"
rc=0; "$virtgov" --json metrics > /dev/null 2> "$w/json.err" || rc=$?
[ "$rc" = 2 ] && grep -q 'no JSON form' "$w/json.err" && ok "--json refused, saying why" || no "--json: exit $rc, $(cat "$w/json.err")"
exit $fail
