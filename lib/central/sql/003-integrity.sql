-- virtgov's central inventory, migration 3: what each host knows of its
-- own integrity and hardening, so that `fleet report` can compare hosts
-- (issue 31, item 1: baseline digests per (package, version, path), open
-- findings, process statuses, assessment results; and the tickets, whose
-- scope the ticket-overuse check reads). Each table is replaced per host,
-- in the state's transaction, when its digest changed (ship-integrity.c).

-- The integrity baseline: a row per watched file and profile. package and
-- version are dpkg's owner of the path on the host when it was shipped
-- (NULL: no package lists it); sha256 is '' for what is not hashed.
CREATE TABLE virtgov.baseline (
    host_id text NOT NULL,
    path text NOT NULL,
    profile text NOT NULL DEFAULT '',
    package text,
    version text,
    sha256 text NOT NULL DEFAULT '',
    PRIMARY KEY (host_id, path, profile)
);
CREATE INDEX baseline_path ON virtgov.baseline (path);

-- The open findings of the host's last check (model/finding.h).
CREATE TABLE virtgov.integrity_findings (
    host_id text NOT NULL,
    path text NOT NULL,
    profile text NOT NULL DEFAULT '',
    class text NOT NULL,         -- unexplained, package_update, conffile_edit
    kind text NOT NULL,          -- added, removed, changed
    package text,
    old_version text,
    new_version text,
    first_seen text,
    PRIMARY KEY (host_id, path, profile)
);

-- What runs, as the host's last process check saw it (store.h ProcessRecord).
CREATE TABLE virtgov.processes (
    host_id text NOT NULL,
    pid bigint NOT NULL,
    role text,
    domain text,
    exe text,
    status text NOT NULL,        -- current, unknown, stale, tampered
    why text,
    PRIMARY KEY (host_id, pid)
);

-- The hardening assessment: each check's last result (meta assess.state).
CREATE TABLE virtgov.assessment (
    host_id text NOT NULL,
    check_id text NOT NULL,
    result text NOT NULL,        -- pass, fail, error, skip, ...
    PRIMARY KEY (host_id, check_id)
);

-- The host's change tickets (authz/ticket.h): their scope.
CREATE TABLE virtgov.tickets (
    host_id text NOT NULL,
    id text NOT NULL,
    domain_glob text NOT NULL,
    action text,                 -- NULL: start
    valid_from text,
    valid_until text,
    PRIMARY KEY (host_id, id)
);
CREATE INDEX tickets_id ON virtgov.tickets (id);

-- The decisions' tickets and the account changes, found without a scan.
CREATE INDEX events_kind_host ON virtgov.events (kind, host_id);

GRANT SELECT, INSERT, DELETE ON virtgov.baseline, virtgov.integrity_findings, virtgov.processes,
    virtgov.assessment, virtgov.tickets TO virtgov_host;
GRANT SELECT ON virtgov.baseline, virtgov.integrity_findings, virtgov.processes, virtgov.assessment,
    virtgov.tickets TO virtgov_auditor;

-- Row-level security as in migration 1: a host's role reads, inserts and
-- deletes its own rows only; the auditor reads all.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['baseline', 'integrity_findings', 'processes', 'assessment', 'tickets'] LOOP
        EXECUTE format('ALTER TABLE virtgov.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_rows_read ON virtgov.%I FOR SELECT TO virtgov_host '
                       'USING (host_id = virtgov.my_host())', t);
        EXECUTE format('CREATE POLICY own_rows_insert ON virtgov.%I FOR INSERT TO virtgov_host '
                       'WITH CHECK (host_id = virtgov.my_host())', t);
        EXECUTE format('CREATE POLICY own_rows_delete ON virtgov.%I FOR DELETE TO virtgov_host '
                       'USING (host_id = virtgov.my_host())', t);
        EXECUTE format('CREATE POLICY auditor_reads ON virtgov.%I FOR SELECT TO virtgov_auditor '
                       'USING (true)', t);
    END LOOP;
END $$;
