-- virtgov's central inventory, migration 1: the fleet's events, each
-- host's current state, and who may write what.
--
-- The centre is a mirror. Each host stays authoritative: its daemon ships
-- its own events and state here (lib/central/ship.c) and goes on recording
-- and deciding when this database is down. Security is in the database,
-- not in the client:
--
--   virtgov_host      NOLOGIN. Each host's login role is a member (made by
--                     `virtgov fleet add-host`) and is mapped to one host id
--                     in host_roles. Row-level security lets it insert and
--                     read its own rows only; it may replace its own state
--                     rows, and never update or delete an event.
--   virtgov_auditor   NOLOGIN, read-only: grant it to the people who read
--                     the fleet (`virtgov fleet hosts|list|events|report`).
--   the owner         the role that ran `virtgov fleet init-db`: owns the
--                     schema, the only one that may change or delete events.
--
-- `virtgov fleet init-db` runs each migration in one transaction with the
-- row it adds to schema_version, and prints the GRANTs made.

CREATE SCHEMA virtgov;

CREATE TABLE virtgov.schema_version (
    version integer PRIMARY KEY,
    applied timestamptz NOT NULL DEFAULT now()
);

-- Which login role writes as which host (`virtgov fleet add-host`).
CREATE TABLE virtgov.host_roles (
    host_id text PRIMARY KEY CHECK (host_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    role name NOT NULL UNIQUE,
    added timestamptz NOT NULL DEFAULT now()
);

-- The host the current role writes as; NULL for any other role. Not
-- SECURITY DEFINER: current_user must be the caller.
CREATE FUNCTION virtgov.my_host() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
    AS $$ SELECT host_id FROM virtgov.host_roles WHERE role = current_user $$;

-- Every event of every host, as the host chained it (chain.h): seq is the
-- host's event id, and the eleven chained fields are kept as the host's
-- text so that `fleet verify` recomputes each hash. at is time, parsed,
-- for queries. A row is never replaced: the shipper inserts with ON
-- CONFLICT (host_id, seq) DO NOTHING, and a row whose hash differs from
-- the one held here goes to conflicts.
CREATE TABLE virtgov.events (
    host_id text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    time text NOT NULL,
    at timestamptz NOT NULL,
    ref text NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    host text,
    domain text,
    uuid text,
    decision text,
    reason text,
    actor text,
    data text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host_id, seq)
);
CREATE INDEX events_host_at ON virtgov.events (host_id, at);
CREATE INDEX events_kind_at ON virtgov.events (kind, at);
CREATE INDEX events_at ON virtgov.events (at);

-- A second row for one (host_id, seq): a host whose chain was rewritten,
-- rolled back and recorded again, or two hosts cloned from one image that
-- write as one host id. Never merged into events.
CREATE TABLE virtgov.conflicts (
    host_id text NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,          -- what the host sent
    held_hash text NOT NULL,     -- what events holds
    prev_hash text,
    time text,
    instance text,               -- the sending installation (hosts.instance)
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host_id, seq, hash)
);

-- Each host as it last said, replaced by the host in one transaction with
-- its domains, disks and interfaces.
CREATE TABLE virtgov.hosts (
    host_id text PRIMARY KEY,
    host_group text NOT NULL DEFAULT '',
    hostname text,
    machine_id text,             -- /etc/machine-id, also when host_id overrides it
    libvirt_uuid text,           -- libvirt's host UUID (SMBIOS)
    instance text,               -- random, made once per inventory: tells clones apart
    libvirt_version text,
    qemu_version text,
    kernel text,
    cpus integer,
    memory_kib bigint,
    lock_manager text,           -- qemu.conf lock_manager: '' none
    degraded text,               -- the daemon's reason, '' when not
    shipped_seq bigint NOT NULL DEFAULT 0,
    head_seq bigint,             -- the newest signed chain head
    head_hash text,
    head_time text,
    head_sig text,
    host_key text,               -- the Ed25519 public key heads are signed with (hex)
    facts jsonb NOT NULL DEFAULT '{}',
    updated timestamptz NOT NULL DEFAULT now()
);

-- Every installation that has written as a host id: more than one is a
-- cloned host (or a reinstall, which `fleet report` says with the dates).
CREATE TABLE virtgov.host_instances (
    host_id text NOT NULL,
    instance text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host_id, instance)
);

CREATE TABLE virtgov.domains (
    host_id text NOT NULL,
    uuid text NOT NULL,
    name text NOT NULL,
    state text NOT NULL,
    persistent boolean,
    owner text,
    ticket text,
    purpose text,
    vcpus integer,
    memory_kib bigint,
    first_seen text,
    last_seen text,
    last_start text,
    last_stop text,
    PRIMARY KEY (host_id, uuid)
);
CREATE INDEX domains_uuid ON virtgov.domains (uuid);
CREATE INDEX domains_name ON virtgov.domains (name);

CREATE TABLE virtgov.disks (
    host_id text NOT NULL,
    uuid text NOT NULL,
    idx integer NOT NULL,
    type text,
    source text,                 -- the path (or volume) as the XML names it
    target text,
    readonly boolean,
    shareable boolean,
    backing text[],              -- the backing chain, top down, when recorded
    PRIMARY KEY (host_id, uuid, idx)
);
CREATE INDEX disks_source ON virtgov.disks (source);

CREATE TABLE virtgov.interfaces (
    host_id text NOT NULL,
    uuid text NOT NULL,
    idx integer NOT NULL,
    type text,
    source text,                 -- network or bridge
    target text,
    mac text,
    PRIMARY KEY (host_id, uuid, idx)
);
CREATE INDEX interfaces_mac ON virtgov.interfaces (mac);

-- A host's signed chain heads (head.h), for `fleet verify`: one an hour at
-- most (the newest is also in hosts.head_*).
CREATE TABLE virtgov.heads (
    host_id text NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,
    time text NOT NULL,
    sig text,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (host_id, seq, hash)
);

-- Roles: cluster-wide, so made only when missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'virtgov_host') THEN
        CREATE ROLE virtgov_host NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'virtgov_auditor') THEN
        CREATE ROLE virtgov_auditor NOLOGIN;
    END IF;
END $$;

GRANT USAGE ON SCHEMA virtgov TO virtgov_host, virtgov_auditor;
GRANT EXECUTE ON FUNCTION virtgov.my_host() TO virtgov_host;
GRANT SELECT ON virtgov.schema_version, virtgov.host_roles TO virtgov_host;
GRANT SELECT, INSERT ON virtgov.events, virtgov.conflicts, virtgov.heads TO virtgov_host;
GRANT SELECT, INSERT, UPDATE ON virtgov.hosts, virtgov.host_instances TO virtgov_host;
GRANT SELECT, INSERT, DELETE ON virtgov.domains, virtgov.disks, virtgov.interfaces TO virtgov_host;
GRANT SELECT ON ALL TABLES IN SCHEMA virtgov TO virtgov_auditor;

-- Row-level security: a host's role sees and writes its own rows only;
-- the auditor reads all. The owner is not subject to it.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'conflicts', 'heads', 'hosts', 'host_instances',
                             'domains', 'disks', 'interfaces'] LOOP
        EXECUTE format('ALTER TABLE virtgov.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_rows_read ON virtgov.%I FOR SELECT TO virtgov_host '
                       'USING (host_id = virtgov.my_host())', t);
        EXECUTE format('CREATE POLICY own_rows_insert ON virtgov.%I FOR INSERT TO virtgov_host '
                       'WITH CHECK (host_id = virtgov.my_host())', t);
        EXECUTE format('CREATE POLICY auditor_reads ON virtgov.%I FOR SELECT TO virtgov_auditor '
                       'USING (true)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['hosts', 'host_instances'] LOOP
        EXECUTE format('CREATE POLICY own_rows_update ON virtgov.%I FOR UPDATE TO virtgov_host '
                       'USING (host_id = virtgov.my_host()) WITH CHECK (host_id = virtgov.my_host())', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['domains', 'disks', 'interfaces'] LOOP
        EXECUTE format('CREATE POLICY own_rows_delete ON virtgov.%I FOR DELETE TO virtgov_host '
                       'USING (host_id = virtgov.my_host())', t);
    END LOOP;
END $$;
