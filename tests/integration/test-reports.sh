#!/bin/bash
# Reports on a real libvirtd with planted sprawl: a never-started VM with no
# owner, an image in a dir pool no domain uses next to one that is used, a
# domain whose disk file was deleted, a transient VM, a writable image two
# domains share, a duplicated MAC, a NIC on a network that does not exist.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup

"$VIRTGOV" hooks install --from "$VG_HOOK" >/dev/null
start_libvirt
start_daemon
useradd alice
mkdir -p /etc/virtgov
echo '{ "mode": "enforce", "default": "deny" }' > /etc/virtgov/policy.json

POOL=/var/lib/libvirt/images/vgpool
mkdir -p "$POOL"
virsh pool-define-as vgpool dir --target "$POOL" >/dev/null
virsh pool-start vgpool >/dev/null
for img in used orphan gone; do qemu-img create -q -f qcow2 "$POOL/$img.qcow2" 8M; done
qemu-img create -q -f raw "$POOL/shared.raw" 8M
disk() { echo "<disk type='file' device='disk'><driver name='qemu' type='$2'/><source file='$POOL/$1'/><target dev='vda' bus='virtio'/></disk>"; }

domain_xml vg-s-used "$(disk used.qcow2 qcow2)" > "$VG_SCRATCH/used.xml"
virsh define "$VG_SCRATCH/used.xml" >/dev/null
"$VIRTGOV" approve vg-s-used >/dev/null
virsh start vg-s-used >/dev/null
virsh destroy vg-s-used >/dev/null
cat > "$VG_SCRATCH/noowner.xml" <<XML
<domain type='qemu'><name>vg-s-noowner</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>
XML
virsh define "$VG_SCRATCH/noowner.xml" >/dev/null
# Its second disk's path holds DEL and U+009B (CSI to a terminal that reads
# C1 controls), which XML allows: tables show each byte of them as '?'.
HOSTILE="$POOL/gone-x&#127;&#x9b;[31m.raw"
domain_xml vg-s-missing "$(disk gone.qcow2 qcow2)<disk type='file' device='disk'><source file='$HOSTILE'/><target dev='vdb' bus='virtio'/></disk>" > "$VG_SCRATCH/missing.xml"
virsh define "$VG_SCRATCH/missing.xml" >/dev/null
rm "$POOL/gone.qcow2"
domain_xml vg-s-dup1 "$(disk shared.raw raw)<interface type='network'><source network='default'/><mac address='52:54:00:de:ad:01'/></interface>" > "$VG_SCRATCH/dup1.xml"
domain_xml vg-s-dup2 "$(disk shared.raw raw)<interface type='network'><source network='nonet'/><mac address='52:54:00:de:ad:01'/></interface>" > "$VG_SCRATCH/dup2.xml"
virsh define "$VG_SCRATCH/dup1.xml" >/dev/null
virsh define "$VG_SCRATCH/dup2.xml" >/dev/null
"$VIRTGOV" approve vg-s-transient >/dev/null
domain_xml vg-s-transient > "$VG_SCRATCH/transient.xml"
virsh create "$VG_SCRATCH/transient.xml" >/dev/null
virsh snapshot-create-as vg-s-used before-upgrade >/dev/null
# Many disks in one directory, enough that sprawl lists it (LIST_AFTER in
# report-sprawl.c) and answers for the last ones from the listing. Of
# vg-s-many's twenty: one gone before the listing (vdd), one after it
# (vdr), and a dangling symlink after it (vds), which the listing names but
# stat() cannot follow. vg-s-nodir's seventeen are in a directory that is
# gone.
many_disks() {   # DIR N: N raw disks DIR/dI.raw, vda up
        local i dev
        for i in $(seq 0 $(($2 - 1))); do
                dev=vd$(printf "\\$(printf %03o $((97 + i)))")
                truncate -s 1M "$1/d$i.raw"
                echo "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$1/d$i.raw'/><target dev='$dev' bus='virtio'/></disk>"
        done
}
MANY=/var/lib/libvirt/images/vgmany NODIR=/var/lib/libvirt/images/vgnodir
mkdir -p "$MANY" "$NODIR"
domain_xml vg-s-many "$(many_disks "$MANY" 20)" > "$VG_SCRATCH/many.xml"
domain_xml vg-s-nodir "$(many_disks "$NODIR" 17)" > "$VG_SCRATCH/nodir.xml"
virsh define "$VG_SCRATCH/many.xml" >/dev/null
virsh define "$VG_SCRATCH/nodir.xml" >/dev/null
rm "$MANY/d3.raw" "$MANY/d17.raw" "$MANY/d18.raw"
ln -s "$MANY/nowhere.raw" "$MANY/d18.raw"
rm -r "$NODIR"
wait_for "the daemon saw every define and the transient start" \
        "($(has_event domain.started vg-s-transient libvirt)) and ($(has_event domain.defined vg-s-dup2 libvirt))
         and ($(has_event domain.defined vg-s-many libvirt)) and ($(has_event domain.defined vg-s-nodir libvirt))"

say "report sprawl"
"$VIRTGOV" --json report sprawl > "$VG_SCRATCH/sprawl.json"
in_cat() { echo "[.rows[] | select(.category == \"$1\") | .$2] | index(\"$3\") != null"; }
jq_check "never_started names the ownerless VM" "$VG_SCRATCH/sprawl.json" "$(in_cat never_started domain vg-s-noowner)"
jq_check "never_started does not name the one that ran" "$VG_SCRATCH/sprawl.json" "($(in_cat never_started domain vg-s-used)) | not"
jq_check "unowned names it" "$VG_SCRATCH/sprawl.json" "$(in_cat unowned domain vg-s-noowner)"
jq_check "orphan_images names the unused image" "$VG_SCRATCH/sprawl.json" "$(in_cat orphan_images path "$POOL/orphan.qcow2")"
jq_check "orphan_images does not name the used one" "$VG_SCRATCH/sprawl.json" "($(in_cat orphan_images path "$POOL/used.qcow2")) | not"
jq_check "orphan_images does not name the shared one" "$VG_SCRATCH/sprawl.json" "($(in_cat orphan_images path "$POOL/shared.raw")) | not"
jq_check "missing_disks names the domain whose disk is gone" "$VG_SCRATCH/sprawl.json" "$(in_cat missing_disks domain vg-s-missing)"
# The pool's other disks are there: none may be reported with the one gone.
jq_check "and no domain whose disks are there" "$VG_SCRATCH/sprawl.json" \
        '[.rows[] | select(.category == "missing_disks" and (.domain | IN("vg-s-many", "vg-s-nodir") | not))
          | .domain] | unique == ["vg-s-missing"]'
jq_check "missing_disks names the three of twenty in one directory that are gone" "$VG_SCRATCH/sprawl.json" \
        "[.rows[] | select(.category == \"missing_disks\" and .domain == \"vg-s-many\") | .path]
         == [\"$MANY/d3.raw\", \"$MANY/d17.raw\", \"$MANY/d18.raw\"]"
jq_check "and all seventeen whose directory is gone" "$VG_SCRATCH/sprawl.json" \
        '[.rows[] | select(.category == "missing_disks" and .domain == "vg-s-nodir")
          | select(.why | endswith(": No such file or directory"))] | length == 17'
jq_check "transient names the VM made with virsh create" "$VG_SCRATCH/sprawl.json" "$(in_cat transient domain vg-s-transient)"
jq_check "shared_images names the image two domains write" "$VG_SCRATCH/sprawl.json" "$(in_cat shared_images path "$POOL/shared.raw")"
jq_check "duplicate_macs names the MAC" "$VG_SCRATCH/sprawl.json" "$(in_cat duplicate_macs path 52:54:00:de:ad:01)"
jq_check "unknown_networks names the NIC on 'nonet'" "$VG_SCRATCH/sprawl.json" "$(in_cat unknown_networks domain vg-s-dup2)"
jq_check "snapshots counts the internal snapshot" "$VG_SCRATCH/sprawl.json" \
        '[.rows[] | select(.category == "snapshots" and .domain == "vg-s-used") | .count] == [1]'
# libvirt's snapshot XML read through the DOM: an age, not -1 (no time read)
jq_check "and ages it by its creationTime" "$VG_SCRATCH/sprawl.json" \
        '[.rows[] | select(.category == "snapshots" and .domain == "vg-s-used") | .why]
         == ["1 snapshot(s), the oldest 0 day(s) old"]'
jq_check "the JSON has a summary per category" "$VG_SCRATCH/sprawl.json" '.summary.orphan_images == 1 and .findings > 0'
"$VIRTGOV" report sprawl --csv > "$VG_SCRATCH/sprawl.csv"
check "--csv: a header, then one line per row" \
        test "$(head -1 "$VG_SCRATCH/sprawl.csv"):$(($(wc -l < "$VG_SCRATCH/sprawl.csv") - 1))" = \
             "category,domain,uuid,path,why:$(jq '.rows | length' "$VG_SCRATCH/sprawl.json")"
check "--fail-on-findings exits 3" sh -c '"$0" report sprawl --fail-on-findings >/dev/null; test $? = 3' "$VIRTGOV"
"$VIRTGOV" report sprawl > "$VG_SCRATCH/sprawl.txt"
check "the table prints the hostile path made safe" grep -qE "$POOL/gone-x\?\?\?\[31m\.raw +disk vdb" "$VG_SCRATCH/sprawl.txt"
check "each category is a table with a header: DOMAIN UUID PATH WHY" grep -qE "^  DOMAIN +UUID +PATH +WHY$" "$VG_SCRATCH/sprawl.txt"
no_colour() { ! grep -q $'\033' "$1"; }
check "no colour in a pipe" no_colour "$VG_SCRATCH/sprawl.txt"
check "nothing cut in a pipe: the longest path whole" grep -qF "$POOL/gone-x???[31m.raw" "$VG_SCRATCH/sprawl.txt"
# On a terminal (script(1) gives the report one): colour, and a table
# wider than the terminal cut with "..."; NO_COLOR turns the colour off.
COLUMNS=70 script -qec "stty cols 70; '$VIRTGOV' report sprawl" /dev/null > "$VG_SCRATCH/sprawl.tty" 2>&1 || true
check "on a terminal: colour" grep -q $'\033\[1m' "$VG_SCRATCH/sprawl.tty"
check "on a 70-column terminal: long cells cut with ..." grep -q '\.\.\.' "$VG_SCRATCH/sprawl.tty"
check "on a 70-column terminal: no line wider than 70" \
        sh -c "sed 's/\x1b\[[0-9;]*m//g' '$VG_SCRATCH/sprawl.tty' | tr -d '\r' | awk 'length > 70 { bad = 1 } END { exit bad }'"
NO_COLOR=1 script -qec "'$VIRTGOV' report sprawl" /dev/null > "$VG_SCRATCH/sprawl.nocolor" 2>&1 || true
check "NO_COLOR: none on a terminal either" no_colour "$VG_SCRATCH/sprawl.nocolor"
"$VIRTGOV" report capacity > "$VG_SCRATCH/capacity.txt"
check "capacity: units and ratios (vCPUs, MiB, 0.00x)" \
        grep -qE "^  running +[0-9]+ +[0-9]+ vCPUs? +[0-9]+ MiB +[0-9]+\.[0-9]{2}x +[0-9]+\.[0-9]{2}x " "$VG_SCRATCH/capacity.txt"
check "and no control or non-ASCII byte" sh -c '! LC_ALL=C grep -q "[^ -~]" "$0"' "$VG_SCRATCH/sprawl.txt"

say "report accounts, with a roster"
useradd carol
usermod -aG libvirt carol
wait_for "the daemon recorded carol's changes" \
        '[.[] | select(.kind == "group.member-added" and .data.user == "carol")] | length == 1'
printf 'root\nalice   # the VM owner\nghost\n' > "$VG_SCRATCH/roster"
"$VIRTGOV" --json report accounts --roster "$VG_SCRATCH/roster" > "$VG_SCRATCH/accounts.json"
jq_check "privileged lists carol through group libvirt" "$VG_SCRATCH/accounts.json" \
        '[.rows[] | select(.category == "privileged" and .user == "carol") | .privileges] == [["group libvirt"]]'
jq_check "not_on_roster names carol, not alice" "$VG_SCRATCH/accounts.json" \
        '[.rows[] | select(.category == "not_on_roster") | .user] | (index("carol") != null and index("alice") == null)'
jq_check "roster_missing names ghost" "$VG_SCRATCH/accounts.json" \
        '[.rows[] | select(.category == "roster_missing") | .user] == ["ghost"]'
jq_check "the window's changes are listed" "$VG_SCRATCH/accounts.json" \
        '[.rows[] | select(.category == "changes" and .kind == "account.added")] | length >= 2'

say "report activity"
"$VIRTGOV" --json report activity > "$VG_SCRATCH/activity.json"
jq_check "the approved start is matched to its approval" "$VG_SCRATCH/activity.json" \
        '[.rows[] | select(.domain == "vg-s-used" and .category == "activation") | .authorized_by] == ["approval"]'
jq_check "activations and deactivations are counted per day and owner" "$VG_SCRATCH/activity.json" \
        '(.per_day | to_entries | .[0].value.activations) >= 2 and .per_owner.alice.deactivations >= 1'

say "report capacity and software"
"$VIRTGOV" --json report capacity > "$VG_SCRATCH/capacity.json"
jq_check "host size, running and defined totals, the pool" "$VG_SCRATCH/capacity.json" \
        '([.rows[] | .category] | (index("host") != null and index("running") != null and index("defined") != null)) and ([.rows[] | select(.category == "pool") | .name] | index("vgpool") != null) and ([.rows[] | select(.category == "running") | .vcpus] == [1])'
"$VIRTGOV" --json report software > "$VG_SCRATCH/software.json"
jq_check "software has the versions the daemon recorded" "$VG_SCRATCH/software.json" \
        '.rows[0].libvirt != null and .rows[0].hypervisor != null and .rows[0].why == "first recorded"'
check "a report without libvirt says what it skipped" \
        sh -c '"$0" report capacity --no-libvirt | grep -q "live libvirt checks skipped"' "$VIRTGOV"

say "a query that fails is said, never a report with no findings"
# A copy of the inventory whose events table lost a column: the domains
# still list, the query of unauthorized activations fails.
cp /var/lib/virtgov/inventory.db "$VG_SCRATCH/broken.db"
sqlite3 "$VG_SCRATCH/broken.db" "PRAGMA wal_checkpoint; ALTER TABLE events RENAME COLUMN decision TO decision_gone"
rc=0; "$VIRTGOV" --db "$VG_SCRATCH/broken.db" report sprawl --no-libvirt > "$VG_SCRATCH/broken.out" 2> "$VG_SCRATCH/broken.err" || rc=$?
check "sprawl on a broken inventory exits 1 ($rc), naming the column ($(head -c 160 "$VG_SCRATCH/broken.err"))" \
        sh -c "[ $rc = 1 ] && grep -q decision '$VG_SCRATCH/broken.err'"
check "and prints no table of findings" test ! -s "$VG_SCRATCH/broken.out"
# /etc/passwd unreadable to the report: no silent "every owner exists".
cp /etc/passwd "$VG_SCRATCH/passwd.keep"
rm /etc/passwd
rc=0; "$VIRTGOV" report sprawl --no-libvirt > /dev/null 2> "$VG_SCRATCH/nopasswd.err" || rc=$?
cp "$VG_SCRATCH/passwd.keep" /etc/passwd
check "sprawl without /etc/passwd exits 1 ($rc), saying so ($(head -c 160 "$VG_SCRATCH/nopasswd.err"))" \
        sh -c "[ $rc = 1 ] && grep -q passwd '$VG_SCRATCH/nopasswd.err'"

say "metrics and evidence"
"$VIRTGOV" metrics > "$VG_SCRATCH/metrics.prom"
check "metrics: domains by state" grep -q '^virtgov_domains{state="running"} 1$' "$VG_SCRATCH/metrics.prom"
check "metrics: events by kind" grep -q '^virtgov_events_total{kind="domain.defined",decision=""} ' "$VG_SCRATCH/metrics.prom"
check "metrics: the daemon is up" grep -qx 'virtgov_daemon_up 1' "$VG_SCRATCH/metrics.prom"
check "metrics: libvirt's host UUID and QEMU's version as the daemon recorded them" \
        grep -q '^virtgov_host_info{.*libvirt_uuid="[0-9a-f-]\{36\}",libvirt_version="[0-9][0-9.]*",qemu_version="[0-9][0-9.]*",' "$VG_SCRATCH/metrics.prom"
check "metrics: the running domain, one series" \
        sh -c '[ "$(grep -c "^virtgov_domain_running{.*} 1\$" "$0")" = 1 ]' "$VG_SCRATCH/metrics.prom"
check "metrics: promtool check metrics" sh -c 'promtool check metrics < "$0"' "$VG_SCRATCH/metrics.prom"
check "report evidence" "$VIRTGOV" report evidence --out "$VG_SCRATCH/evidence" --roster "$VG_SCRATCH/roster"
for f in index.md report-sprawl.json report-sprawl.csv report-accounts.json report-activity.csv \
         report-capacity.json report-software.json events.json verification.json policy.json report.html; do
        check "evidence has $f" test -s "$VG_SCRATCH/evidence/$f"
done
check "the index maps files to ISM-1607" grep -q "events.json.*ISM-1607" "$VG_SCRATCH/evidence/index.md"
jq_check "the inventory checks out, its hash chain intact" "$VG_SCRATCH/evidence/verification.json" '.integrity_check == "ok" and .chain.intact and .chain.checked > 10'

say "report html: a page to look at, in a real browser"
# A domain whose name is markup, recorded by the hook as libvirt would run
# it: the page must show it as text. (The pool's file with an escape
# sequence in its name is the control bytes.)
hostile='<script>alert(1)</script>&"q'"'"
domain_xml 'x' | sed "s|<name>x</name>|<name>\&lt;script\&gt;alert(1)\&lt;/script\&gt;\&amp;\&quot;q\&apos;</name>|" |
        "$VG_HOOK" "$hostile" prepare begin - >/dev/null 2>&1 || true
"$VIRTGOV" assess >/dev/null 2>&1 || true   # an assessment recorded, failed checks and all
HTML=$VG_SCRATCH/report.html
check "report html --out FILE" quiet "$VIRTGOV" report html --out "$HTML" --since 7d
check "no script, and nothing a browser would fetch (src, href, url(), @import)" \
        sh -c "! grep -qiE '<script|src=|href=|url\(|@import' '$HTML'"
# Debian's chromium, headless, with a profile of the test's own; as root
# it needs --no-sandbox (the test's namespaces are the sandbox here).
chrome() {
        timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
                --user-data-dir="$VG_SCRATCH/chromium" "$@" 2>> "$VG_SCRATCH/chromium.log"
}
chrome --dump-dom "file://$HTML" > "$VG_SCRATCH/dom.html" || true
chrome --screenshot="$VG_SCRATCH/page.png" --window-size=1200,2400 "file://$HTML" >/dev/null || true
printf '<!DOCTYPE html><html><body></body></html>' > "$VG_SCRATCH/blank.html"
chrome --screenshot="$VG_SCRATCH/blank.png" --window-size=1200,2400 "file://$VG_SCRATCH/blank.html" >/dev/null || true
check "chromium rendered the page to its DOM ($(wc -c < "$VG_SCRATCH/dom.html") bytes)" grep -q '</html>' "$VG_SCRATCH/dom.html"
for id in charts report-sprawl report-accounts report-activity report-capacity report-software report-integrity assessment; do
        check "the DOM has the section $id" grep -q "<section id=\"$id\"" "$VG_SCRATCH/dom.html"
done
for id in chart-domains chart-activations chart-denials chart-privileged chart-integrity chart-assessment; do
        check "the DOM has the chart $id, drawn as inline SVG" grep -qE "<figure id=\"$id\"><figcaption>[^<]*</figcaption><svg" "$VG_SCRATCH/dom.html"
done
check "the activations chart has bars" grep -qE '<rect class="allowed"' "$VG_SCRATCH/dom.html"
check "the assessment's failed checks are listed" grep -q '<td>VG-[A-Z]*-[0-9]*</td>' "$VG_SCRATCH/dom.html"
check "the markup in a domain's name shows as text" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&amp;"q' "$VG_SCRATCH/dom.html"
check "and no script element came of it" sh -c "! grep -qi '<script' '$VG_SCRATCH/dom.html'"
check "control bytes (DEL, the C1 CSI) show as U+FFFD" \
        grep -qF "gone-x$(printf '\xef\xbf\xbd\xef\xbf\xbd')[31m.raw" "$VG_SCRATCH/dom.html"
page=$(stat -c %s "$VG_SCRATCH/page.png" 2>/dev/null || echo 0)
blank=$(stat -c %s "$VG_SCRATCH/blank.png" 2>/dev/null || echo 0)
check "the PNG is not blank: $page bytes against a blank page's $blank" test "$blank" -gt 0 -a "$page" -gt $((blank * 5))

say "hostile names: CSV cells that are formulas, bidi controls in HTML, bytes that are not UTF-8 in JSON"
# Recorded by the hook as libvirt would run it (issue 28). The approved one
# starts, so activity lists it with its owner; the others are denied, so
# sprawl lists them as unauthorized.
formula='=HYPERLINK("http://evil/","x")' owner='+cmd|"/c calc"!A1'
cat > "$VG_SCRATCH/formula.xml" <<'XML'
<domain type='qemu'><name>=HYPERLINK("http://evil/","x")</name>
<metadata><vg:governance xmlns:vg="urn:virtgov:1"><vg:owner>+cmd|"/c calc"!A1</vg:owner></vg:governance></metadata>
<memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>
XML
"$VIRTGOV" approve "$formula" >/dev/null
"$VG_HOOK" "$formula" prepare begin - < "$VG_SCRATCH/formula.xml" >/dev/null 2>&1 || true
"$VG_HOOK" "$formula" start begin - < "$VG_SCRATCH/formula.xml" >/dev/null 2>&1 || true
bidi="vm-$(printf '\xe2\x80\xae')gnp.exe"
for name in '@SUM(1+1)*cmd' "$bidi" "$(printf 'caf\xe9')" "$(printf 'caf\xe8')"; do
        domain_xml vg-s-unapproved | "$VG_HOOK" "$name" prepare begin - >/dev/null 2>&1 || true
done
"$VIRTGOV" report sprawl --csv > "$VG_SCRATCH/hostile-sprawl.csv"
"$VIRTGOV" report activity --csv > "$VG_SCRATCH/hostile-activity.csv"
check "sprawl --csv: the formula name is text (a leading ')" \
        grep -qF "\"'@SUM(1+1)*cmd\"" "$VG_SCRATCH/hostile-sprawl.csv"
check "activity --csv: the =HYPERLINK name is text" \
        grep -qF "\"'=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\"" "$VG_SCRATCH/hostile-activity.csv"
check "activity --csv: the +cmd owner is text" grep -qF "\"'+cmd|\"\"/c calc\"\"!A1\"" "$VG_SCRATCH/hostile-activity.csv"
check "no cell of either starts a formula" \
        sh -c '! grep -qE "(^|,)[=+@]" "$0" "$1"' "$VG_SCRATCH/hostile-sprawl.csv" "$VG_SCRATCH/hostile-activity.csv"
check "sprawl --csv: DEL and the C1 CSI in a path as U+FFFD" \
        grep -qF "gone-x$(printf '\xef\xbf\xbd\xef\xbf\xbd')[31m.raw" "$VG_SCRATCH/hostile-sprawl.csv"
check "and no control byte but the line ends" \
        sh -c '! LC_ALL=C grep -qP "[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]" "$0"' "$VG_SCRATCH/hostile-sprawl.csv"
check "report html --out -: the page on standard output" \
        sh -c '"$0" report html --out - --since 7d > "$1" && grep -q "</html>" "$1"' "$VIRTGOV" "$VG_SCRATCH/stdout.html"
check "and U+202E in a name is marked, not obeyed" \
        sh -c '! grep -qF "$1" "$0" && grep -qF "$2" "$0"' "$VG_SCRATCH/stdout.html" \
        "$(printf '\xe2\x80\xae')" "vm-$(printf '\xef\xbf\xbd')gnp.exe"
"$VIRTGOV" --json report sprawl > "$VG_SCRATCH/hostile-sprawl.json"
jq_check "sprawl --json: two names that differ in a byte that is not UTF-8 keep their bytes" \
        "$VG_SCRATCH/hostile-sprawl.json" \
        '[.rows[] | select(.category == "unauthorized" and .domain == "caf?") | .domain_bytes] | sort == ["636166e8", "636166e9"]'
jq_check "and a UTF-8 name has no domain_bytes" "$VG_SCRATCH/hostile-sprawl.json" \
        "[.rows[] | select(.domain == \"@SUM(1+1)*cmd\") | has(\"domain_bytes\")] | unique == [false]"
check "events --json: the same" \
        test "$("$VIRTGOV" --json events --kind domain.prepare | jq -c '[.[] | select(.domain == "caf?") | .domain_bytes]')" = \
             '["636166e9","636166e8"]'

"$VIRTGOV" ticket add "T-$(printf '\033[2J')x" --domain 'vg-none-*' --from now --until +1h > "$VG_SCRATCH/ticket.out" 2>&1 || true
check "ticket add echoes a hostile id as text ($(head -c 160 "$VG_SCRATCH/ticket.out" | cat -v))" \
        sh -c '! LC_ALL=C grep -q "[^ -~]" "$0"' "$VG_SCRATCH/ticket.out"

domain_xml 'vg-&#x9b;2J&#x202e;x' > "$VG_SCRATCH/c1.xml"
"$VIRTGOV" policy test --xml "$VG_SCRATCH/c1.xml" > "$VG_SCRATCH/policy-test.out" 2>&1 || true
check "policy test names a domain with C1 and U+202E as text ($(head -c 160 "$VG_SCRATCH/policy-test.out" | cat -v))" \
        sh -c 'grep -q "vg-??2J???x" "$0" && ! LC_ALL=C grep -q "[^ -~]" "$0"' "$VG_SCRATCH/policy-test.out"

say "--out: a device, a FIFO, a symlink to /proc/self/fd/1 are written through, not replaced"
O=$VG_SCRATCH/out
mkdir -p "$O"
ln -s /proc/self/fd/1 "$O/stdout"
check "a symlink to /proc/self/fd/1: the page comes out on standard output" \
        sh -c '"$0" report html --out "$1" --since 7d | grep -q "</html>"' "$VIRTGOV" "$O/stdout"
check "and the symlink stays one" test -L "$O/stdout"
mknod "$O/null" c 1 3
check "a character device made with mknod: written" quiet "$VIRTGOV" report html --out "$O/null" --since 7d
check "and still a character device" test -c "$O/null"
mkfifo "$O/fifo"
# (a bounded reader: were the FIFO replaced by a file, it would wait forever)
timeout 20 cat "$O/fifo" > "$O/fifo.out" &
reader=$!
check "a FIFO with a reader: written" quiet "$VIRTGOV" report html --out "$O/fifo" --since 7d
wait "$reader" || true
check "the reader got the page, the FIFO stays" sh -c 'grep -q "</html>" "$0" && test -p "$1"' "$O/fifo.out" "$O/fifo"
rc=0; timeout 20 "$VIRTGOV" report html --out "$O/fifo" --since 7d 2> "$O/fifo.err" || rc=$?
check "a FIFO nobody reads: an error at once (exit $rc), no hang" \
        sh -c "[ $rc = 1 ] && grep -q 'no process reads it' '$O/fifo.err'"
echo keep > "$O/file"
ln -s "$O/file" "$O/link"
rc=0; "$VIRTGOV" report html --out "$O/link" --since 7d 2> "$O/link.err" || rc=$?
check "a symlink to a regular file: refused (exit $rc), saying why ($(head -c 160 "$O/link.err"))" \
        sh -c "[ $rc = 1 ] && grep -q 'symbolic link to a regular file' '$O/link.err'"
check "the link and its file untouched" sh -c 'test -L "$0" && test "$(cat "$1")" = keep' "$O/link" "$O/file"
check "a regular file: replaced whole" sh -c '"$0" report html --out "$1" --since 7d && grep -q "</html>" "$1" && test ! -L "$1"' \
        "$VIRTGOV" "$O/file"

mkdir -p "$O/evidence"
mkfifo "$O/evidence/events.json"
rc=0; timeout 60 "$VIRTGOV" report evidence --out "$O/evidence" --since 7d > /dev/null 2> "$O/evidence.err" || rc=$?
check "report evidence with a FIFO nobody reads as events.json: fails at once (exit $rc), saying why" \
        sh -c "[ $rc = 1 ] && grep -q 'events.json.*no process reads it' '$O/evidence.err'"
check "and writes the rest, the FIFO left in place" \
        sh -c 'test -s "$0/index.md" && test -s "$0/report-sprawl.csv" && test -p "$0/events.json"' "$O/evidence"

say "events --limit 0"
rc=0; "$VIRTGOV" events --limit 0 > "$O/limit0.out" 2> "$O/limit0.err" || rc=$?
check "is a usage error (exit $rc), not every event" sh -c "[ $rc = 2 ] && test ! -s '$O/limit0.out'"
check "and the message says to leave it out" grep -q "leave it out for every event" "$O/limit0.err"

finish
