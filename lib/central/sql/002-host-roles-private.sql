-- virtgov's central inventory, migration 2: each host sees its own line of
-- the host-id-to-role map only, and only the host roles may ask which host
-- they are; the newest event of a kind per host found without a scan
-- (the host's identity, software and pools as it last recorded them).

-- my_host() reads host_roles as its caller (it is not SECURITY DEFINER),
-- so a policy on current_user leaves it working and hides the others.
ALTER TABLE virtgov.host_roles ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_role_read ON virtgov.host_roles FOR SELECT TO virtgov_host
    USING (role = current_user);
CREATE POLICY auditor_reads ON virtgov.host_roles FOR SELECT TO virtgov_auditor
    USING (true);
GRANT SELECT ON virtgov.host_roles TO virtgov_auditor;

REVOKE EXECUTE ON FUNCTION virtgov.my_host() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION virtgov.my_host() TO virtgov_host, virtgov_auditor;

CREATE INDEX events_host_kind_seq ON virtgov.events (host_id, kind, seq);
