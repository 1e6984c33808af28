#!/bin/bash
# The central inventory's set-up against a real PostgreSQL 15 (a private
# cluster, lib.sh's pg_start): 'virtgov fleet init-db' on an empty
# database, again, after each older schema version the build knows (the
# result dumped and compared with a fresh one), and on a newer one
# (refused, unchanged); 'virtgov fleet add-host', idempotent and refusing
# conflicting mappings; the security the schema promises, tried through
# psql as the host roles add-host made and as an auditor; a dsn holding a
# password refused; and init-db over TLS with verify-full: the right CA
# and name work, another CA or another name (127.0.0.1) fail.
. "$(dirname "$0")/lib.sh"
vg_sandbox "$@"
sandbox_setup
SRC=$(cd "$(dirname "$0")/../.." && pwd)

for t in "$VG_PG_BIN/initdb" "$VG_PG_BIN/pg_dump" psql openssl jq; do
        if ! command -v "$t" >/dev/null; then
                [ "${CI:-}" = true ] && { echo "CI=true: $t is missing, refusing to skip" >&2; exit 1; }
                echo "skipping: $t is missing (postgresql-15, openssl, jq)" >&2
                exit 77
        fi
done

pg_start
trap 'pg_stop immediate 2>/dev/null || true' EXIT
O=$VG_PG_OWNER
W=$VG_SCRATCH/central
mkdir -p "$W"

# on DSN SQL: runs SQL as DSN's role, printing rows and errors (never
# fails: the checks read what it printed).
on() { psql -X -v ON_ERROR_STOP=1 -qAt -d "$1" -c "$2" 2>&1 || true; }
# newdb NAME: a new empty database; prints its owner's dsn.
newdb() {
        psql -X -qAt -v ON_ERROR_STOP=1 -d "host=$PGHOST dbname=postgres user=postgres" -c "CREATE DATABASE $1" >&2
        echo "host=$PGHOST dbname=$1 user=postgres"
}
# pg_dump 15.14 and later fence the dump with a random \\restrict key.
dump() { "$VG_PG_BIN/pg_dump" --schema-only -d "$1" | grep -Ev "^\\\\(un)?restrict "; }
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }
fails() { ! "$@"; }
jqt() { jq -e "$@" >/dev/null; }
is() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'" >&2; return 1; }; }

say "init-db: the schema on an empty database, then again"
LATEST=$(find "$SRC/lib/central/sql" -name '[0-9][0-9][0-9]-*.sql' | wc -l)
check "the build knows migration 1 at least" test "$LATEST" -ge 1
"$VIRTGOV" fleet --dsn "$O" init-db > "$W/init1" 2>&1 || echo "exit $?" >> "$W/init1"
check "init-db on an empty database: 0 -> latest" has "$W/init1" "central inventory: schema version 0 -> $LATEST"
check "init-db prints the hosts' grant on events" \
        has "$W/init1" "GRANT SELECT, INSERT ON virtgov.events TO virtgov_host"
check "init-db prints no UPDATE or DELETE on events for the hosts" \
        fails grep -E "GRANT .*(UPDATE|DELETE).* ON virtgov.events TO virtgov_host$" "$W/init1"
check "init-db prints the insert policy on events" has "$W/init1" \
        "POLICY own_rows_insert ON virtgov.events FOR INSERT TO virtgov_host WITH CHECK (host_id = virtgov.my_host())"
check "init-db prints the auditor's grant" has "$W/init1" "GRANT SELECT ON virtgov.events TO virtgov_auditor"
check "init-db prints the schema's usage grant" has "$W/init1" "GRANT USAGE ON SCHEMA virtgov TO virtgov_host"
"$VIRTGOV" fleet --dsn "$O" init-db > "$W/init2" 2>&1 || echo "exit $?" >> "$W/init2"
check "init-db again: already at the latest version" has "$W/init2" "central inventory: already at version $LATEST"
check "init-db again: one schema_version row per migration" \
        is "$(pg_sql "SELECT count(*) FROM virtgov.schema_version")" "$LATEST"
"$VIRTGOV" fleet --dsn "$O" init-db --json > "$W/init.json" 2>&1 || true
check "init-db --json: from, to, grants, policies" jqt --argjson v "$LATEST" \
        '.from == $v and .to == $v and (.grants | index("GRANT SELECT, INSERT ON virtgov.events TO virtgov_host"))
         and (.policies | length) >= 24 and .row_security["virtgov.events"] == true' "$W/init.json"
# Every table holding a host's rows (a host_id column), the mapping itself
# too (migration 2): read from the catalog, so that a table a later
# migration adds without row-level security fails here.
# (9 tables of migrations 1 and 2, 5 of migration 3; a later migration's
# tables count without editing this: none may be without it.)
check "row-level security on every table of host rows" is "$(pg_sql "
        SELECT count(*) FILTER (WHERE NOT c.relrowsecurity) || ' without, ' || (count(*) >= 14)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'host_id'
        WHERE n.nspname = 'virtgov' AND c.relkind = 'r'")" "0 without, true"
check "init-db --json agrees: host_roles has it (my_host reads its caller's line)" \
        jqt '.row_security["virtgov.host_roles"] == true' "$W/init.json"

say "migrations: from each older version known to the build, the same schema as a fresh one"
FRESH=$(newdb fresh)
quiet "$VIRTGOV" fleet --dsn "$FRESH" init-db
dump "$FRESH" > "$W/fresh.sql"
check "the fresh dump has the schema" has "$W/fresh.sql" "CREATE TABLE virtgov.events"
for ((n = 1; n <= LATEST; n++)); do
        db=$(newdb "from_$((n - 1))")
        # Version n-1 as central_migrate would leave it: each file in its
        # transaction with its schema_version row.
        for ((m = 1; m < n; m++)); do
                f=$(find "$SRC/lib/central/sql" -name "$(printf '%03d' "$m")-*.sql")
                { echo "BEGIN;"; cat "$f"; echo "INSERT INTO virtgov.schema_version (version) VALUES ($m); COMMIT;"; } |
                        psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null
        done
        "$VIRTGOV" fleet --dsn "$db" init-db > "$W/mig$n" 2>&1 || echo "exit $?" >> "$W/mig$n"
        check "migration $n: init-db says $((n - 1)) -> $LATEST" \
                has "$W/mig$n" "central inventory: schema version $((n - 1)) -> $LATEST"
        dump "$db" > "$W/mig$n.sql"
        check "migration $n: the schema is a fresh one's" diff -u "$W/fresh.sql" "$W/mig$n.sql"
done

say "a schema newer than the build: refused, unchanged"
V99=$(newdb v99)
quiet "$VIRTGOV" fleet --dsn "$V99" init-db
psql -X -qAt -v ON_ERROR_STOP=1 -d "$V99" -c "INSERT INTO virtgov.schema_version (version) VALUES (99)"
dump "$V99" > "$W/v99-before.sql"
"$VIRTGOV" fleet --dsn "$V99" init-db > "$W/v99" 2>&1 && echo "exit 0" >> "$W/v99"
check "init-db on version 99 fails, naming it" has "$W/v99" "version 99, newer than this virtgov knows"
check "init-db on version 99 exits 1" fails has "$W/v99" "exit 0"
dump "$V99" > "$W/v99-after.sql"
check "version 99: the schema unchanged" diff -u "$W/v99-before.sql" "$W/v99-after.sql"
check "version 99: no row added" is "$(on "$V99" "SELECT string_agg(version::text, ',' ORDER BY version) FROM virtgov.schema_version")" "$(seq -s, "$LATEST"),99"
# No read verb in this branch: add-host goes through the same fleet_connect.
"$VIRTGOV" fleet --dsn "$V99" add-host z.example > "$W/v99-add" 2>&1 && echo "exit 0" >> "$W/v99-add"
check "add-host on version 99 refused (fleet_connect)" has "$W/v99-add" "newer than this virtgov knows"
check "add-host on version 99: no role made" is "$(on "$V99" "SELECT count(*) FROM pg_roles WHERE rolname = 'virtgov_host_z_example'")" 0

say "add-host"
"$VIRTGOV" fleet --dsn "$O" add-host A.example > "$W/add1" 2>&1 || echo "exit $?" >> "$W/add1"
check "add-host makes the role" has "$W/add1" "made the role 'virtgov_host_a_example' (LOGIN, member of virtgov_host)"
check "add-host says the next steps" has "$W/add1" "user=virtgov_host_a_example"
check "add-host: a login role in virtgov_host" is "$(pg_sql "SELECT rolcanlogin, pg_has_role(oid, 'virtgov_host', 'MEMBER')
        FROM pg_roles WHERE rolname = 'virtgov_host_a_example'")" "t|t"
"$VIRTGOV" fleet --dsn "$O" add-host A.example > "$W/add2" 2>&1 || echo "exit $?" >> "$W/add2"
check "add-host again: nothing changed" has "$W/add2" "already mapped to the role 'virtgov_host_a_example': nothing changed"
"$VIRTGOV" fleet --dsn "$O" add-host A.example --json > "$W/add3.json" 2>&1 || true
check "add-host --json again: changed false" jqt '.changed == false and .role == "virtgov_host_a_example"' "$W/add3.json"
check "add-host: one mapping" is "$(pg_sql "SELECT host_id || '=' || role FROM virtgov.host_roles")" \
        "A.example=virtgov_host_a_example"
"$VIRTGOV" fleet --dsn "$O" add-host b-2.example --json > "$W/addb.json" 2>&1 || true
check "add-host --json: role made and mapped" \
        jqt '.role == "virtgov_host_b_2_example" and .role_made and .mapped and .changed' "$W/addb.json"
"$VIRTGOV" fleet --dsn "$O" add-host A.example --role other_role > "$W/c1" 2>&1 && echo "exit 0" >> "$W/c1"
check "a host id mapped to another role: refused" has "$W/c1" "host id 'A.example' is already mapped to the role 'virtgov_host_a_example'"
"$VIRTGOV" fleet --dsn "$O" add-host c.example --role virtgov_host_a_example > "$W/c2" 2>&1 && echo "exit 0" >> "$W/c2"
check "a role mapped to another host id: refused" has "$W/c2" "the role 'virtgov_host_a_example' is already mapped to the host id 'A.example'"
check "refusals exit 1" fails has "$W/c1" "exit 0"
check "refusals exit 1 (role)" fails has "$W/c2" "exit 0"
check "refusals changed nothing" is "$(pg_sql "SELECT count(*) FROM virtgov.host_roles") $(pg_sql \
        "SELECT count(*) FROM pg_roles WHERE rolname = 'other_role'")" "2 0"
"$VIRTGOV" fleet --dsn "$O" add-host d.example --role postgres > "$W/c3" 2>&1 && echo "exit 0" >> "$W/c3"
check "a superuser role refused (it escapes row-level security)" has "$W/c3" "superuser, has BYPASSRLS"
"$VIRTGOV" fleet --dsn "$O" add-host 'bad id' > "$W/c4" 2>&1 && echo "exit 0" >> "$W/c4"
check "an invalid host id refused" has "$W/c4" "host id 'bad id' must be 1 to 64"
"$VIRTGOV" fleet --dsn "$O" add-host "$(printf 'h%.0s' {1..65})" > "$W/c5" 2>&1 && echo "exit 0" >> "$W/c5"
check "a 65-byte host id refused" has "$W/c5" "must be 1 to 64"

say "security, as the hosts' roles and an auditor"
A=$(pg_login virtgov_host_a_example)
B=$(pg_login virtgov_host_b_2_example)
ev() {   # ev HOST-ID SEQ: an events row's VALUES
        echo "INSERT INTO virtgov.events (host_id, seq, time, at, ref, source, kind, data, prev_hash, hash)
              VALUES ('$1', $2, '2026-12-07T20:00:00Z', now(), 'r', 'hook', 'domain.start', '{}', '', 'h$2')"
}
check "A inserts its own event" is "$(on "$A" "$(ev A.example 1)")" ""
check "B inserts its own event" is "$(on "$B" "$(ev b-2.example 1)")" ""
check "A inserting an event with B's id: row-level security" \
        grep -q 'new row violates row-level security policy' <<< "$(on "$A" "$(ev b-2.example 2)")"
check "A inserting a domain with B's id: row-level security" grep -q 'row-level security' <<< "$(on "$A" \
        "INSERT INTO virtgov.domains (host_id, uuid, name, state) VALUES ('b-2.example', 'u1', 'x', 'running')")"
check "the owner sees both events" is "$(pg_sql "SELECT count(*) FROM virtgov.events")" 2
check "A reads none of B's events" is "$(on "$A" "SELECT count(*) FROM virtgov.events WHERE host_id = 'b-2.example'")" 0
check "A reads its own event" is "$(on "$A" "SELECT count(*) FROM virtgov.events")" 1
check "A sees its own line of the host-role map only" is "$(on "$A" "SELECT string_agg(host_id, ',') FROM virtgov.host_roles")" \
        "$(on "$A" "SELECT virtgov.my_host()")"
check "A's my_host() is its own host id" is "$(on "$A" "SELECT virtgov.my_host() IS NOT NULL")" t
check "A may not UPDATE events" grep -q 'permission denied for table events' <<< \
        "$(on "$A" "UPDATE virtgov.events SET kind = 'x' WHERE host_id = 'A.example'")"
check "A may not DELETE events" grep -q 'permission denied for table events' <<< \
        "$(on "$A" "DELETE FROM virtgov.events WHERE host_id = 'A.example'")"
check "B's domain row" is "$(on "$B" "INSERT INTO virtgov.domains (host_id, uuid, name, state)
        VALUES ('b-2.example', 'u2', 'vb', 'running')")" ""
check "A replaces its own domains rows" is "$(on "$A" "INSERT INTO virtgov.domains (host_id, uuid, name, state)
        VALUES ('A.example', 'u1', 'va', 'running'); DELETE FROM virtgov.domains; SELECT count(*) FROM virtgov.domains")" 0
check "A's DELETE left B's domain" is "$(pg_sql "SELECT string_agg(host_id, ',') FROM virtgov.domains")" "b-2.example"
U=$(pg_auditor auditor1)
check "the auditor reads every host's events" is "$(on "$U" "SELECT count(DISTINCT host_id) FROM virtgov.events")" 2
check "the auditor may not INSERT" grep -q 'permission denied for table events' <<< "$(on "$U" "$(ev A.example 9)")"
"$VIRTGOV" fleet --dsn "$O" init-db > "$W/init3" 2>&1 || true
check "init-db lists the hosts' roles as members" has "$W/init3" "GRANT virtgov_host TO virtgov_host_a_example"
# What init-db prints is the catalog's, not a copy of the migration: a
# grant made by hand shows, and a host role then may delete events.
pg_sql "GRANT DELETE ON virtgov.events TO virtgov_host"
"$VIRTGOV" fleet --dsn "$O" init-db > "$W/init4" 2>&1 || true
check "init-db shows a grant made by hand" has "$W/init4" "GRANT SELECT, INSERT, DELETE ON virtgov.events TO virtgov_host"
pg_sql "REVOKE DELETE ON virtgov.events FROM virtgov_host"
check "and the migration's own are back after the REVOKE" is "$("$VIRTGOV" fleet --dsn "$O" init-db --json |
        jq -r '.grants[] | select(endswith("ON virtgov.events TO virtgov_host"))')" \
        "GRANT SELECT, INSERT ON virtgov.events TO virtgov_host"

say "a dsn with a password"
"$VIRTGOV" fleet --dsn "$O password=secret" init-db > "$W/pw" 2>&1 && echo "exit 0" >> "$W/pw"
check "refused, naming password files" has "$W/pw" "use a password file (passfile=, PGPASSFILE or ~/.pgpass)"
check "refused: exit 1" fails has "$W/pw" "exit 0"

say "TLS with verify-full"
T=$VG_PG/tls
mkdir -p "$T"
ca() {   # ca NAME: a self-signed CA in $T/NAME.{key,crt}
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=virtgov test $1" \
                -keyout "$T/$1.key" -out "$T/$1.crt" 2>/dev/null
}
ca ca1
ca ca2
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName = DNS:localhost\n' > "$T/san.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca1.crt" -CAkey "$T/ca1.key" -CAcreateserial -days 2 \
        -extfile "$T/san.ext" -out "$T/server.crt" 2>/dev/null
chown -R postgres: "$T"
chmod 0600 "$T/server.key"
check "the server certificate chains to ca1" quiet openssl verify -CAfile "$T/ca1.crt" "$T/server.crt"
PORT=5439
pg_stop
# TLS connections only: a plain TCP one is turned away before the password.
sed -i '1i hostnossl all all 0.0.0.0/0 reject\nhostssl virtgov postgres 127.0.0.1/32 scram-sha-256' \
        "$VG_PG/data/pg_hba.conf"
runuser -u postgres -- "$VG_PG_BIN/pg_ctl" -D "$VG_PG/data" -l "$VG_PG/log" -w -t 60 -o "-c listen_addresses=127.0.0.1 \
        -c port=$PORT -c unix_socket_directories=$PGHOST -c ssl=on -c ssl_cert_file=$T/server.crt \
        -c ssl_key_file=$T/server.key" start > /dev/null
export PGPORT=$PORT   # the Unix socket is named after the port
TLS="host=localhost port=$PORT dbname=virtgov user=postgres sslmode=verify-full"
"$VIRTGOV" fleet --dsn "$TLS sslrootcert=$T/ca1.crt" init-db > "$W/tls1" 2>&1 || echo "exit $?" >> "$W/tls1"
check "verify-full, the right CA and name: init-db works" has "$W/tls1" "already at version $LATEST"
check "the connection is TLS" is "$(on "$TLS sslrootcert=$T/ca1.crt" \
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" t
"$VIRTGOV" fleet --dsn "$TLS sslrootcert=$T/ca2.crt" init-db > "$W/tls2" 2>&1 && echo "exit 0" >> "$W/tls2"
check "another CA's root: certificate verify failed" has "$W/tls2" "certificate verify failed"
check "another CA's root: exit 1" fails has "$W/tls2" "exit 0"
"$VIRTGOV" fleet --dsn "host=127.0.0.1 port=$PORT dbname=virtgov user=postgres sslmode=verify-full \
sslrootcert=$T/ca1.crt" init-db > "$W/tls3" 2>&1 && echo "exit 0" >> "$W/tls3"
check "host=127.0.0.1, a name the certificate does not hold: refused" \
        has "$W/tls3" 'does not match host name "127.0.0.1"'
check "host=127.0.0.1: exit 1" fails has "$W/tls3" "exit 0"
check "plain TCP turned away" grep -q 'no encryption' <<< "$(on "host=127.0.0.1 port=$PORT dbname=virtgov \
        user=postgres sslmode=disable" "SELECT 1")"

finish
