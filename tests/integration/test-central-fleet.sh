#!/bin/bash
# The fleet's reading verbs against a real PostgreSQL 15 (a private
# cluster): `virtgov fleet hosts|list|events|verify|report`, read as a
# role granted virtgov_auditor. The schema is migration 1 as psql runs it;
# the state rows are fixtures written here for five simulated hosts; the
# events are real chains, made by the real CLI in three inventories and
# copied in, then tampered with. Every finding class of `fleet report` is
# planted, then each cause removed again: its class must go (a control).
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
pg_start
trap 'pg_stop immediate 2>/dev/null || true' EXIT

"$VIRTGOV" fleet --dsn "$VG_PG_OWNER" init-db > /dev/null
DSN=$(pg_auditor fleetreader)
F() { "$VIRTGOV" fleet --dsn "$DSN" "$@"; }
O=$VG_SCRATCH/out
mkdir -p "$O"

say "three real local chains: approvals and tickets recorded by the CLI"
inventory() {   # HOST-ID: an inventory of its own with a few events and a host key
        local d=$VG_SCRATCH/inv-$1
        mkdir -p "$d"
        printf 'inventory = %s/inv.db\nspool_dir = %s/spool\nhooks_dir = %s/hooks\nhook_binary = %s\nhost_key = %s/host.key\nhost_id = %s\n' \
                "$d" "$d" "$d" "$VG_HOOK" "$d" "$1" > "$d/vg.conf"
        V() { "$VIRTGOV" --config "$d/vg.conf" "$@"; }
        V hooks install >/dev/null
        V approve "web-$1" >/dev/null 2>&1
        V ticket add "CHG-$1" --domain 'web-*' --from 2026-01-01 --until 2030-01-01 >/dev/null 2>&1
        V approve "db-$1" >/dev/null 2>&1
        V revoke "db-$1" >/dev/null 2>&1
        V host-key --init >/dev/null 2>&1
}
copy_events() {   # HOST-ID: its inventory's events into virtgov.events
        sqlite3 -json "$VG_SCRATCH/inv-$1/inv.db" "SELECT * FROM events ORDER BY id" > "$VG_SCRATCH/$1.json"
        psql -X -q -d "$VG_PG_OWNER" -v ON_ERROR_STOP=1 -v host="$1" -v rows="$(cat "$VG_SCRATCH/$1.json")" <<'SQL'
INSERT INTO virtgov.events (host_id, seq, time, at, ref, source, kind, host, domain, uuid, decision, reason,
                            actor, data, prev_hash, hash)
SELECT :'host', id, time, time::timestamptz, ref, source, kind, host, domain, uuid, decision, reason, actor,
       data, prev_hash, hash
FROM jsonb_to_recordset(:'rows'::jsonb) AS x(id bigint, time text, ref text, source text, kind text, host text,
     domain text, uuid text, decision text, reason text, actor text, data text, prev_hash text, hash text);
SQL
}
for h in alpha beta gamma; do
        inventory "$h"
        copy_events "$h"
done
check "each chain was copied whole (4 events a host)" \
        test "$(pg_sql "SELECT string_agg(host_id || '=' || n, ' ' ORDER BY host_id) FROM (SELECT host_id, count(*) n FROM virtgov.events GROUP BY 1) c")" = "alpha=4 beta=4 gamma=4"

# alpha's signed head, as its daemon sends it, held twice: in heads and hosts.head_*
HEAD=$("$VIRTGOV" --config "$VG_SCRATCH/inv-alpha/vg.conf" host-key --head | grep '^chain.head')
PUB=$("$VIRTGOV" --config "$VG_SCRATCH/inv-alpha/vg.conf" --json host-key | jq -r .public_key)
tok() { echo "$HEAD" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
H_ID=$(tok id) H_HASH=$(tok hash) H_TIME=$(tok time) H_SIG=$(tok sig)

say "the fleet's state: five hosts, planted with every finding"
psql -X -q -d "$VG_PG_OWNER" -v ON_ERROR_STOP=1 -v hid="$H_ID" -v hhash="$H_HASH" -v htime="$H_TIME" \
        -v hsig="$H_SIG" -v pub="$PUB" <<'SQL'
INSERT INTO virtgov.hosts (host_id, host_group, hostname, machine_id, libvirt_uuid, instance, libvirt_version,
    qemu_version, kernel, cpus, memory_kib, lock_manager, degraded, shipped_seq, head_seq, head_hash, head_time,
    head_sig, host_key, updated) VALUES
 ('alpha', 'rack1', 'alpha.example', 'm-alpha', 'u-alpha', 'i-a', '9.0.0', '8.2.2', '6.1.0-26-amd64', 32, 268435456,
  'lockd', '', 4, :hid, :'hhash', :'htime', :'hsig', :'pub', now()),
 ('beta', 'rack1', 'beta.example', 'm-beta', 'u-beta', 'i-b', '9.0.0', '8.2.2', '6.1.0-26-amd64', 32, 268435456,
  '', '', 4, NULL, NULL, NULL, NULL, NULL, now()),
 ('gamma', 'rack2', 'gamma.example', 'm-gamma', 'u-gamma', 'i-g', '9.0.0', '8.2.2', '6.1.0-26-amd64', 16, 134217728,
  'sanlock', 'audit: the kernel refused the rules', 4, NULL, NULL, NULL, NULL, NULL, now()),
 ('delta', 'rack2', 'delta.example', 'm-clone', 'u-clone', 'i-d', '8.0.0', '7.2.0', '6.1.0-18-amd64', 16, 134217728,
  'lockd', '', 0, NULL, NULL, NULL, NULL, NULL, now() - interval '48 hours'),
 ('epsilon', 'rack2', 'epsilon.example', 'm-clone', 'u-clone', 'i-e', '9.0.0', '8.2.2', '6.1.0-26-amd64', 16,
  134217728, 'lockd', '', 0, NULL, NULL, NULL, NULL, NULL, now());
INSERT INTO virtgov.heads (host_id, seq, hash, time, sig) VALUES ('alpha', :hid, :'hhash', :'htime', :'hsig');
INSERT INTO virtgov.host_instances (host_id, instance, first_seen, last_seen) VALUES
 ('alpha', 'i-a', now() - interval '30 days', now()),
 ('alpha', 'i-a2', now() - interval '2 days', now() - interval '1 hour'),
 ('beta', 'i-b', now() - interval '30 days', now()),
 ('gamma', 'i-g', now() - interval '30 days', now());
INSERT INTO virtgov.domains (host_id, uuid, name, state, owner, ticket) VALUES
 ('alpha', '11111111-1111-1111-1111-111111111111', 'web-1', 'running', 'alice', 'CHG-alpha'),
 ('beta',  '11111111-1111-1111-1111-111111111111', 'web-1', 'running', 'bob', NULL),
 ('alpha', '22222222-2222-2222-2222-222222222222', 'db-1', 'shutoff', 'alice', NULL),
 ('beta',  '22222222-2222-2222-2222-222222222222', 'db-1', 'shutoff', NULL, NULL),
 ('alpha', '44444444-4444-4444-4444-444444444444', 'app', 'running', 'carol', NULL),
 ('gamma', '55555555-5555-5555-5555-555555555555', 'app', 'running', 'dave', NULL),
 ('gamma', '66666666-6666-6666-6666-666666666666', 'installer', 'shutoff', 'dave', NULL);
INSERT INTO virtgov.disks (host_id, uuid, idx, type, source, target, readonly, shareable, backing) VALUES
 ('alpha', '11111111-1111-1111-1111-111111111111', 0, 'file', '/shared/web.qcow2', 'vda', false, false, NULL),
 ('beta',  '11111111-1111-1111-1111-111111111111', 0, 'file', '/shared/web.qcow2', 'vda', false, false, NULL),
 ('alpha', '44444444-4444-4444-4444-444444444444', 0, 'file', '/shared/base.qcow2', 'vda', false, false, NULL),
 ('gamma', '55555555-5555-5555-5555-555555555555', 0, 'file', '/local/app.qcow2', 'vda', false, false,
  '{/shared/base.qcow2}'),
 ('gamma', '66666666-6666-6666-6666-666666666666', 0, 'file', '/iso/install.iso', 'sda', true, false, NULL),
 ('beta',  '22222222-2222-2222-2222-222222222222', 1, 'file', '/iso/install.iso', 'sda', true, false, NULL);
INSERT INTO virtgov.interfaces (host_id, uuid, idx, type, source, target, mac) VALUES
 ('alpha', '44444444-4444-4444-4444-444444444444', 0, 'network', 'default', 'vnet0', '52:54:00:aa:00:01'),
 ('gamma', '55555555-5555-5555-5555-555555555555', 0, 'bridge', 'br0', 'vnet3', '52:54:00:AA:00:01'),
 ('beta',  '22222222-2222-2222-2222-222222222222', 0, 'network', 'default', NULL, '52:54:00:bb:00:02');
SQL

say "fleet hosts, list, events"
F hosts > "$O/hosts.txt"
check "hosts: one row a host, under the header" test "$(grep -cE '^(alpha|beta|gamma|delta|epsilon) ' "$O/hosts.txt")" = 5
check "hosts: the columns are aligned" aligned "$O/hosts.txt" HOST 'alpha|beta|gamma|delta|epsilon' SEQ ' *[0-9-]' LIBVIRT '[0-9]'
check "hosts: alpha's last seq and head are 4" grep -qE '^alpha +rack1 +alpha.example +[0-9-]+ [0-9:]+ +4 +4 +4 ' "$O/hosts.txt"
"$VIRTGOV" --json fleet --dsn "$DSN" hosts > "$O/hosts.json"
jq_check "hosts --json: numbers as numbers, the degraded reason, no head for beta" "$O/hosts.json" \
        '(map(select(.host_id == "alpha"))[0] | .last_seq == 4 and .head_seq == 4 and (.head_age_s | type) == "number" and (.lag_s | type) == "number")
         and (map(select(.host_id == "gamma"))[0].degraded | test("kernel refused")) and (map(select(.host_id == "beta"))[0].head_seq == null)
         and (map(select(.host_id == "delta"))[0].last_seq == null) and length == 5'
F hosts --json > "$O/hosts2.json"
ages() { jq -S 'map(del(.lag_s, .head_age_s))' "$1"; }   # ages move on between two runs
check "--json after the verb is the global --json" test "$(ages "$O/hosts.json")" = "$(ages "$O/hosts2.json")"
F hosts --csv > "$O/hosts.csv"
check "hosts --csv: the header" test "$(head -1 "$O/hosts.csv")" = "host_id,host_group,hostname,last_time,last_seq,shipped_seq,head_seq,head_age_s,lag_s,libvirt_version,qemu_version,kernel,degraded,updated"
check "hosts --csv: five rows" test "$(tail -n +2 "$O/hosts.csv" | wc -l)" = 5

F list > "$O/list.txt"
check "list: every domain of every host" test "$(tail -n +2 "$O/list.txt" | wc -l)" = 7
check "list: the columns are aligned" aligned "$O/list.txt" HOST '(alpha|beta|gamma)' UUID '[0-9a-f]+-[0-9a-f]+-' STATE '(running|shutoff)'
F list --host beta --json > "$O/list-beta.json"
jq_check "list --host beta --json: beta's two domains only" "$O/list-beta.json" \
        'length == 2 and all(.[]; .host_id == "beta") and (map(.name) | sort) == ["db-1", "web-1"]'
F list --host 'beta'\'' OR 1=1 --' --json > "$O/list-inj.json"
jq_check "list --host: the text is a value, never SQL" "$O/list-inj.json" 'length == 0'
F list --csv > "$O/list.csv"
check "list --csv: the header and seven rows" test "$(head -1 "$O/list.csv"),$(tail -n +2 "$O/list.csv" | wc -l)" = \
        "host_id,name,uuid,state,owner,ticket,persistent,vcpus,memory_kib,7"

F events > "$O/events.txt"
check "events: twelve, under the header" test "$(tail -n +2 "$O/events.txt" | wc -l)" = 12
check "events: the columns are aligned" aligned "$O/events.txt" HOST '(alpha|beta|gamma)' KIND '[a-z]+\.[a-z]+'
F events --host alpha --json > "$O/ev-alpha.json"
jq_check "events --host alpha --json: its 4, seq order, data as stored JSON" "$O/ev-alpha.json" \
        '(map(.seq) == [1,2,3,4]) and all(.[]; .host_id == "alpha") and .[1].data.ticket == "CHG-alpha"'
F events --kind ticket.added --json > "$O/ev-kind.json"
jq_check "events --kind ticket.added: one a host" "$O/ev-kind.json" 'length == 3 and all(.[]; .kind == "ticket.added")'
F events --kind approval. --json > "$O/ev-prefix.json"
jq_check "events --kind approval.: a prefix" "$O/ev-prefix.json" 'length == 9 and all(.[]; .kind | startswith("approval."))'
F events --limit 2 --json > "$O/ev-limit.json"
F events --json > "$O/ev-all.json"
jq_check "events --limit 2: the newest two, newest last" "$O/ev-limit.json" \
        "length == 2 and (map(.hash) == ($(jq -c '.[-2:] | map(.hash)' "$O/ev-all.json")))"
F events --since 1d --json > "$O/ev-1d.json"
jq_check "events --since 1d: all twelve" "$O/ev-1d.json" 'length == 12'
pg_sql "UPDATE virtgov.events SET at = at - interval '3 days' WHERE host_id = 'gamma'" >/dev/null   # owner: allowed
F events --since 12h --json > "$O/ev-12h.json"
jq_check "events --since 12h: not gamma's older ones" "$O/ev-12h.json" 'length == 8 and all(.[]; .host_id != "gamma")'
F events --since "$(date -u -d '-4 days' +%Y-%m-%dT%H:%M:%SZ)" --json > "$O/ev-rfc.json"
jq_check "events --since RFC 3339" "$O/ev-rfc.json" 'length == 12'
rc=0; F events --since yesterday-ish > /dev/null 2> "$O/since.err" || rc=$?
check "events --since nonsense: a usage error (exit $rc)" test "$rc" = 2
check "and it names the value" grep -q "'yesterday-ish' is not a time" "$O/since.err"
rc=0; F verify --csv > /dev/null 2>&1 || rc=$?
check "verify --csv: a usage error, not ignored (exit $rc)" test "$rc" = 2
rc=0; F hosts --json --csv > /dev/null 2>&1 || rc=$?
check "hosts --json --csv: a usage error (exit $rc)" test "$rc" = 2

say "fleet verify"
rc=0; F verify > "$O/verify.txt" || rc=$?
check "verify on the untampered chains: exit 0 (got $rc)" test "$rc" = 0
check "verify: each host ok" test "$(grep -c ': ok: ' "$O/verify.txt")" = 5
check "verify: alpha's two held heads' signatures verified with its key" \
        grep -q '^alpha: ok: 4 events, 1 to 4, 2 head(s) held, 2 signature(s) verified$' "$O/verify.txt"
F verify --json > "$O/verify.json" || true
jq_check "verify --json: ok, every host" "$O/verify.json" '.ok and .checked == 5 and .failed == 0 and ([.hosts[] | select(.host_id == "alpha")][0] | .heads_signed == 2 and .host_key)'

verify_fails() {   # WHAT HOST PATTERN: verify --host HOST exits 1 and says PATTERN
        local rc=0
        F verify --host "$2" > "$O/v.txt" 2>&1 || rc=$?
        check "$1: verify exits 1 (got $rc)" test "$rc" = 1
        check "$1: it says so ($3)" grep -qE "$3" "$O/v.txt"
        check "$1: and only of $2" test "$(grep -cE '^[a-z]+: (ok|FAILED)' "$O/v.txt"):$(grep -c "^$2: FAILED" "$O/v.txt")" = 1:1
}
DATA=$(pg_sql "SELECT data FROM virtgov.events WHERE host_id = 'alpha' AND seq = 2")
pg_sql "UPDATE virtgov.events SET data = replace(data, 'CHG-alpha', 'CHG-other') WHERE host_id = 'alpha' AND seq = 2" >/dev/null
verify_fails "a row's data edited" alpha 'broken: event 2: its content does not match its hash \(edited\)'
rc=0; F verify --host gamma > /dev/null || rc=$?
check "and another host still verifies (exit $rc)" test "$rc" = 0
pg_sql "UPDATE virtgov.events SET data = \$\$$DATA\$\$ WHERE host_id = 'alpha' AND seq = 2" >/dev/null
rc=0; F verify --host alpha > /dev/null || rc=$?
check "the row put back: clean again (exit $rc)" test "$rc" = 0

pg_sql "UPDATE virtgov.events SET prev_hash = repeat('ab', 32) WHERE host_id = 'beta' AND seq = 3" >/dev/null
verify_fails "a prev link rewritten" beta 'event 3: its prev_hash is not the hash of event 2'
pg_sql "UPDATE virtgov.events e SET prev_hash = p.hash FROM virtgov.events p WHERE e.host_id = 'beta' AND e.seq = 3 AND p.host_id = 'beta' AND p.seq = 2" >/dev/null

pg_sql "CREATE TABLE public.saved AS SELECT * FROM virtgov.events WHERE host_id = 'beta' AND seq = 2" >/dev/null
pg_sql "DELETE FROM virtgov.events WHERE host_id = 'beta' AND seq = 2" >/dev/null
verify_fails "a row deleted" beta 'gap: event 2 is missing \(1 missing in all\)'
F verify --json > "$O/verify-gap.json" || true
jq_check "verify --json: beta fails with its gap, the others pass" "$O/verify-gap.json" \
        '(.ok | not) and .failed == 1 and ([.hosts[] | select(.host_id == "beta")][0] | .gap_from == 2 and .gap_to == 2 and .missing == 1 and (.ok | not))'

GHASH=$(pg_sql "SELECT hash FROM virtgov.events WHERE host_id = 'gamma' AND seq = 3")
pg_sql "INSERT INTO virtgov.conflicts (host_id, seq, hash, held_hash, instance) VALUES ('gamma', 3, repeat('cd', 32), '$GHASH', 'i-g2')" >/dev/null
verify_fails "a fork (a conflicts row)" gamma 'fork: 1 conflicting row\(s\), the first at seq 3'

pg_sql "UPDATE virtgov.hosts SET head_sig = repeat('0', 128) WHERE host_id = 'alpha'" >/dev/null
verify_fails "a forged head signature" alpha "heads: head 4 \(hosts\): its signature is not the host key's"
pg_sql "UPDATE virtgov.hosts SET head_sig = '$H_SIG' WHERE host_id = 'alpha'" >/dev/null
pg_sql "INSERT INTO virtgov.heads (host_id, seq, hash, time) VALUES ('alpha', 3, repeat('ef', 32), '$H_TIME')" >/dev/null
verify_fails "a held head that is not the chain's" alpha "head 3 \(heads\): its hash is not event 3's"
pg_sql "DELETE FROM virtgov.heads WHERE host_id = 'alpha' AND seq = 3" >/dev/null
pg_sql "INSERT INTO virtgov.heads (host_id, seq, hash, time) VALUES ('alpha', 9, repeat('ef', 32), '$H_TIME')" >/dev/null
verify_fails "a held head past the chain (truncated)" alpha "head 9 \(heads\): no event 9 is held"
pg_sql "DELETE FROM virtgov.heads WHERE host_id = 'alpha' AND seq = 9" >/dev/null
rc=0; F verify --host nosuch > /dev/null 2> "$O/nosuch.err" || rc=$?
check "verify --host of no host: exit 1, saying so (got $rc)" sh -c "test $rc = 1 && grep -q \"no host 'nosuch'\" '$O/nosuch.err'"

say "fleet report: every class planted (beta's gap and gamma's fork are still there)"
report_json() { F report --json "$@" > "$O/report.json" || true; }
has() {   # CLASS JQ-CONDITION: the report holds a row of CLASS meeting it
        jq -e --arg c "$1" "[.rows[] | select(.category == \$c) | select($2)] | length >= 1" "$O/report.json" >/dev/null
}
count() { jq --arg c "$1" '[.rows[] | select(.category == $c)] | length' "$O/report.json"; }
rc=0; F report > "$O/report.txt" || rc=$?
check "report with findings: exit 1 (got $rc)" test "$rc" = 1
report_json
check "duplicate-uuid: web-1 active on alpha and beta, critical" has duplicate-uuid '.subject == "11111111-1111-1111-1111-111111111111" and .severity == "critical" and .hosts == "alpha,beta"'
check "duplicate-uuid: db-1 defined on two hosts, high" has duplicate-uuid '.subject == "22222222-2222-2222-2222-222222222222" and .severity == "high"'
check "duplicate-name: app with two UUIDs on alpha and gamma" has duplicate-name '.subject == "app" and .hosts == "alpha,gamma"'
check "shared-writable-disk: web.qcow2 written on two hosts, critical" has shared-writable-disk '.subject == "/shared/web.qcow2" and .severity == "critical"'
check "shared-writable-disk: base.qcow2, alpha's top and gamma's backing, high" has shared-writable-disk '.subject == "/shared/base.qcow2" and .severity == "high" and (.why | test("backing of vda"))'
check "shared-writable-disk: not the read-only ISO" test "$(jq '[.rows[] | select(.category == "shared-writable-disk" and .subject == "/iso/install.iso")] | length' "$O/report.json")" = 0
check "unlocked-shared-storage: the ISO on beta and gamma, beta has no lock manager" has unlocked-shared-storage '.subject == "/iso/install.iso" and (.why | test("no lock manager on beta"))'
check "duplicate-mac: one MAC (case aside) on alpha and gamma" has duplicate-mac '.subject == "52:54:00:aa:00:01" and .hosts == "alpha,gamma"'
check "cloned-machine-id: delta and epsilon" has cloned-machine-id '.hosts == "delta,epsilon" and .subject == "m-clone"'
check "cloned-libvirt-uuid: delta and epsilon" has cloned-libvirt-uuid '.hosts == "delta,epsilon"'
check "cloned-instance: two installations as alpha at once, critical" has cloned-instance '.hosts == "alpha" and .severity == "critical" and (.why | test("at once"))'
check "silent-host: delta, 48 hours" has silent-host '.hosts == "delta" and (.why | test("silent for 4[78] hours"))'
check "chain-gap: beta" has chain-gap '.hosts == "beta" and (.why | test("^1 of 4 events missing"))'
check "chain-fork: gamma" has chain-fork '.hosts == "gamma" and .severity == "critical"'
jq_check "report --json: the head says where from, and counts the findings" "$O/report.json" \
        '.report == "fleet" and .sources.inventory == "central" and .silent_hours == 24 and .findings == (.rows | length) and all(.rows[]; .finding)'
check "report text: the shared image's path in its table" grep -q '/shared/web.qcow2' "$O/report.txt"
for c in duplicate-uuid duplicate-name shared-writable-disk unlocked-shared-storage duplicate-mac cloned-machine-id cloned-libvirt-uuid cloned-instance silent-host chain-gap chain-fork; do
        check "report text names the class $c" grep -q "$c" "$O/report.txt"
done
F report --csv > "$O/report.csv" || true
check "report --csv: the header" test "$(head -1 "$O/report.csv")" = "category,severity,hosts,subject,why"
check "report --csv: a row per finding" test "$(tail -n +2 "$O/report.csv" | wc -l)" = "$(jq '.rows | length' "$O/report.json")"
check "report --csv: the critical UUID row" grep -q '^duplicate-uuid,critical,"alpha,beta",11111111-1111-1111-1111-111111111111,' "$O/report.csv"
report_json --silent-hours 72
check "--silent-hours 72: delta is no longer silent" test "$(count silent-host)" = 0

say "fleet report --html in headless chromium"
# A domain name with markup: it must show as text.
pg_sql "INSERT INTO virtgov.domains (host_id, uuid, name, state) VALUES ('beta', '77777777-7777-7777-7777-777777777777', '<script>alert(1)</script>&x', 'shutoff'), ('gamma', '88888888-8888-8888-8888-888888888888', '<script>alert(1)</script>&x', 'shutoff')" >/dev/null
HTML=$VG_SCRATCH/fleet.html
rc=0; F report --html > "$HTML" || rc=$?
check "report --html: exit 1 with findings (got $rc)" test "$rc" = 1
check "no script, and nothing a browser would fetch" sh -c "! grep -qiE '<script|src=|href=|url\(|@import' '$HTML'"
chrome() {
        timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
                --user-data-dir="$VG_SCRATCH/chromium" "$@" 2>> "$VG_SCRATCH/chromium.log"
}
chrome --dump-dom "file://$HTML" > "$O/dom.html" || true
chrome --screenshot="$O/fleet.png" --window-size=1200,1600 "file://$HTML" >/dev/null || true
check "chromium rendered the page ($(wc -c < "$O/dom.html") bytes)" grep -q '</html>' "$O/dom.html"
check "the DOM has a row per finding" test "$(grep -o "<tr class=\"finding " "$O/dom.html" | wc -l)" = "$(F report --json | jq '.rows | length')"
check "the DOM has the critical UUID row" grep -qE '<tr class="finding critical"><td class="class">duplicate-uuid</td><td class="sev">critical</td><td class="hosts">alpha,beta</td>' "$O/dom.html"
check "the DOM's summary counts each class" grep -qE '<tr id="class-chain-fork"><td>chain-fork</td><td>1</td></tr>' "$O/dom.html"
check "the markup in a domain's name shows as text" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&amp;x' "$O/dom.html"
check "and no script element came of it" sh -c "! grep -qi '<script' '$O/dom.html'"
check "chromium drew it (a screenshot)" test -s "$O/fleet.png"
pg_sql "DELETE FROM virtgov.domains WHERE uuid IN ('77777777-7777-7777-7777-777777777777', '88888888-8888-8888-8888-888888888888')" >/dev/null

say "controls: each cause removed, its class goes"
control() {   # CLASS SQL: after SQL, no row of CLASS, and the other classes stay
        local before
        report_json
        before=$(jq '.rows | length' "$O/report.json")
        pg_sql "$2" >/dev/null
        report_json
        check "control $1: gone once its cause is ($(count "$1") left)" test "$(count "$1")" = 0
        check "control $1: only its rows went" test "$(jq '.rows | length' "$O/report.json")" -lt "$before"
}
control duplicate-uuid "DELETE FROM virtgov.domains WHERE host_id = 'beta' AND uuid IN ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222')"
control duplicate-name "UPDATE virtgov.domains SET name = 'app-g' WHERE host_id = 'gamma' AND name = 'app'"
control shared-writable-disk "DELETE FROM virtgov.disks WHERE host_id = 'beta' AND uuid = '11111111-1111-1111-1111-111111111111'; UPDATE virtgov.disks SET backing = '{/local/base-g.qcow2}' WHERE host_id = 'gamma'"
control unlocked-shared-storage "UPDATE virtgov.hosts SET lock_manager = 'lockd' WHERE host_id = 'beta'"
control duplicate-mac "UPDATE virtgov.interfaces SET mac = '52:54:00:cc:00:03' WHERE host_id = 'gamma'"
control cloned-machine-id "UPDATE virtgov.hosts SET machine_id = 'm-epsilon' WHERE host_id = 'epsilon'"
control cloned-libvirt-uuid "UPDATE virtgov.hosts SET libvirt_uuid = 'u-epsilon' WHERE host_id = 'epsilon'"
control cloned-instance "DELETE FROM virtgov.host_instances WHERE instance = 'i-a2'"
control silent-host "UPDATE virtgov.hosts SET updated = now() WHERE host_id = 'delta'"
control chain-gap "INSERT INTO virtgov.events SELECT * FROM public.saved"
rc=0; F verify --host beta > /dev/null || rc=$?
check "beta's row put back: verify clean (exit $rc)" test "$rc" = 0
control chain-fork "DELETE FROM virtgov.conflicts"
rc=0; F report > "$O/clean.txt" || rc=$?
check "no finding left: report exits 0 (got $rc)" test "$rc" = 0
check "and says nothing to report" grep -q '^nothing to report$' "$O/clean.txt"
rc=0; F verify > /dev/null || rc=$?
check "and verify is clean everywhere (exit $rc)" test "$rc" = 0

say "failures are said, never read as 'no findings'"
pg_sql "ALTER TABLE virtgov.interfaces RENAME COLUMN mac TO mac_address" >/dev/null
rc=0; F report > "$O/broken.txt" 2> "$O/broken.err" || rc=$?
check "a query that fails: report exits 1 (got $rc)" test "$rc" = 1
check "with the database's message" grep -q 'the fleet check duplicate-mac: ERROR: *column i.mac does not exist' "$O/broken.err"
check "and never 'nothing to report'" sh -c "! grep -q 'nothing to report' '$O/broken.txt'"
pg_sql "ALTER TABLE virtgov.interfaces RENAME COLUMN mac_address TO mac" >/dev/null
pg_sql "REVOKE virtgov_auditor FROM fleetreader" >/dev/null
rc=0; F hosts > /dev/null 2> "$O/denied.err" || rc=$?
check "a role without virtgov_auditor: exit 1 (got $rc), the database's refusal" \
        sh -c "test $rc = 1 && grep -q 'permission denied' '$O/denied.err'"
pg_stop fast
rc=0; F list --json > "$O/down.json" 2> "$O/down.err" || rc=$?
check "the database down: exit 1 (got $rc), saying it cannot connect" \
        sh -c "test $rc = 1 && grep -q 'cannot connect to the central inventory' '$O/down.err'"
trap - EXIT
finish
