/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The central inventory's administration: what the catalog says about who
 * may do what on schema virtgov (init-db prints it), and mapping a host id
 * to its login role (add-host). It reads the catalog and host_roles and
 * makes roles; it never touches the inventory's rows. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* pg_advisory_xact_lock's key for add-host: "vgaddhst" */
#define ADD_HOST_LOCK "7667616464687374"

char **central_lines_free(char **v) {
        if (v)
                for (char **p = v; *p; p++)
                        free(*p);
        free(v);
        return NULL;
}

/* Column 0 of every row of sql, as a NULL-terminated vector. */
static int query_lines(Central *c, const char *sql, const char *what, char ***ret, VgError *err) {
        _cleanup_(PQclearp) PGresult *res = NULL;
        int r = central_exec(c, sql, PGRES_TUPLES_OK, what, &res, err);
        if (r < 0)
                return r;
        int n = PQntuples(res);
        _cleanup_(central_lines_freep) char **v = calloc((size_t) n + 1, sizeof(char *));
        if (!v)
                return vg_error(err, -ENOMEM, "out of memory");
        for (int i = 0; i < n; i++)
                if (!(v[i] = strdup(PQgetvalue(res, i, 0))))
                        return vg_error(err, -ENOMEM, "out of memory");
        *ret = TAKE_PTR(v);
        return 0;
}

/* Privileges in a fixed order, so that the lines read the same each run. */
#define PRIV_ORDER "array_position(ARRAY['USAGE','EXECUTE','SELECT','INSERT','UPDATE','DELETE','TRUNCATE'," \
                   "'REFERENCES','TRIGGER'], p)"

/* Every grant of any role but the schema's owner (PUBLIC too, which has
 * EXECUTE on functions unless revoked): on the schema, its functions, its
 * tables (information_schema's role_*_grants, which the owner sees whole
 * as their grantor), and the memberships in virtgov_host and
 * virtgov_auditor (pg_auth_members: a host's login role in virtgov_host).
 * Column grants and default privileges are not read: migration 1 makes
 * none. */
static const char grants_sql[] =
        "WITH who(r) AS (SELECT 'virtgov_host'::name UNION ALL SELECT 'virtgov_auditor'::name),"
        " owner(o) AS (SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'virtgov'),"
        " g(grantee, obj, p, k) AS ("
        "  SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, 'SCHEMA virtgov',"
        "   a.privilege_type, 0 FROM pg_namespace n, aclexplode(n.nspacl) a"
        "   WHERE n.nspname = 'virtgov' AND a.grantee <> n.nspowner"
        "  UNION ALL SELECT grantee, 'FUNCTION ' || routine_schema || '.' || routine_name || '()', privilege_type, 1"
        "   FROM information_schema.role_routine_grants WHERE routine_schema = 'virtgov'"
        "   AND grantee <> (SELECT o FROM owner)"
        "  UNION ALL SELECT grantee, table_schema || '.' || table_name, privilege_type, 2"
        "   FROM information_schema.role_table_grants WHERE table_schema = 'virtgov'"
        "   AND grantee <> (SELECT o FROM owner))"
        " SELECT line FROM ("
        "  SELECT k, grantee, obj, 'GRANT ' || string_agg(p, ', ' ORDER BY " PRIV_ORDER ") || ' ON ' || obj"
        "   || ' TO ' || grantee AS line FROM g GROUP BY k, grantee, obj"
        "  UNION ALL SELECT 3, m.rolname, g.rolname, 'GRANT ' || g.rolname || ' TO ' || m.rolname"
        "   FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member"
        "   WHERE g.rolname IN (SELECT r FROM who)) l"
        " ORDER BY k, grantee, obj";

/* Every policy on schema virtgov, as CREATE POLICY would say it (pg_get_expr
 * wraps an expression in parentheses already; 'true' it does not). */
static const char policies_sql[] =
        "SELECT 'POLICY ' || policyname || ' ON ' || schemaname || '.' || tablename"
        " || CASE WHEN permissive = 'RESTRICTIVE' THEN ' AS RESTRICTIVE' ELSE '' END"
        " || ' FOR ' || cmd || ' TO ' || array_to_string(roles, ', ')"
        " || coalesce(' USING ' || CASE WHEN qual LIKE '(%' THEN qual ELSE '(' || qual || ')' END, '')"
        " || coalesce(' WITH CHECK ' || CASE WHEN with_check LIKE '(%' THEN with_check"
        "    ELSE '(' || with_check || ')' END, '')"
        " FROM pg_policies WHERE schemaname = 'virtgov' ORDER BY tablename, policyname";

/* A table's row-level security: "virtgov.events on" or "... off". */
static const char rls_sql[] =
        "SELECT 'virtgov.' || c.relname || CASE WHEN c.relrowsecurity THEN ' on' ELSE ' off' END"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'virtgov' AND c.relkind IN ('r', 'p') ORDER BY c.relname";

int central_access(Central *c, CentralAccess *ret, VgError *err) {
        CentralAccess a = {};
        int r;
        if ((r = query_lines(c, grants_sql, "reading the grants on schema virtgov", &a.grants, err)) < 0 ||
            (r = query_lines(c, policies_sql, "reading the policies on schema virtgov", &a.policies, err)) < 0 ||
            (r = query_lines(c, rls_sql, "reading the tables' row-level security", &a.row_security, err)) < 0) {
                central_access_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}

void central_access_done(CentralAccess *a) {
        a->grants = central_lines_free(a->grants);
        a->policies = central_lines_free(a->policies);
        a->row_security = central_lines_free(a->row_security);
}

bool central_host_id_valid(const char *id) {
        size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
        return n >= 1 && n <= 64 && !id[n];
}

int central_host_role_name(const char *host_id, char out[static CENTRAL_ROLE_SIZE]) {
        if (!central_host_id_valid(host_id))
                return -EINVAL;
        /* Truncated to PostgreSQL's 63 bytes, as it would truncate it
         * itself; two long ids alike up to there meet in add-host's
         * "mapped to another host id" refusal, never silently. */
        snprintf(out, CENTRAL_ROLE_SIZE, "virtgov_host_%s", host_id);
        for (char *p = out; *p; p++)
                *p = *p == '.' || *p == '-' ? '_' : (char) tolower((unsigned char) *p);
        return 0;
}

bool central_role_name_valid(const char *role) {
        size_t n = strspn(role, "abcdefghijklmnopqrstuvwxyz0123456789_");
        return n >= 1 && n < CENTRAL_ROLE_SIZE && !role[n] && strncmp(role, "pg_", 3) &&
               strcmp(role, "virtgov_host") && strcmp(role, "virtgov_auditor") && !isdigit((unsigned char) role[0]);
}

/* One row of a parameterised query (text in, text out). */
static int query_params(Central *c, const char *sql, int n, const char *const *params, const char *what,
                        PGresult **ret, VgError *err) {
        PGresult *res = PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
                *ret = res;
                return 0;
        }
        int r = central_fail(c, res, what, err);
        PQclear(res);
        return r;
}

/* The checks and changes of add-host, inside its transaction. */
static int add_host_locked(Central *c, const char *host_id, const char *role, unsigned *did, VgError *err) {
        const char *const p2[] = { host_id, role };
        _cleanup_(PQclearp) PGresult *m = NULL;
        int r = query_params(c, "SELECT host_id, role FROM virtgov.host_roles WHERE host_id = $1 OR role = $2",
                             2, p2, "reading virtgov.host_roles", &m, err);
        if (r < 0)
                return r;
        bool mapped = false;
        for (int i = 0; i < PQntuples(m); i++) {
                const char *h = PQgetvalue(m, i, 0), *ro = PQgetvalue(m, i, 1);
                if (!strcmp(h, host_id) && !strcmp(ro, role))
                        mapped = true;
                else if (!strcmp(h, host_id))
                        return vg_error(err, -EEXIST, "host id '%s' is already mapped to the role '%s', not '%s': "
                                        "a host writes as one role", host_id, ro, role);
                else
                        return vg_error(err, -EEXIST, "the role '%s' is already mapped to the host id '%s': "
                                        "one role writes as one host; name another with --role", role, h);
        }

        /* A role that bypasses row-level security would write as every
         * host: a superuser, BYPASSRLS, or the schema's owner. */
        _cleanup_(PQclearp) PGresult *ro = NULL;
        r = query_params(c, "SELECT rolsuper OR rolbypassrls OR oid = (SELECT nspowner FROM pg_namespace "
                         "WHERE nspname = 'virtgov'), rolcanlogin, pg_has_role(oid, 'virtgov_host', 'MEMBER')"
                         " FROM pg_roles WHERE rolname = $1", 1, p2 + 1, "reading pg_roles", &ro, err);
        if (r < 0)
                return r;
        bool exists = PQntuples(ro) == 1;
        if (exists && !strcmp(PQgetvalue(ro, 0, 0), "t"))
                return vg_error(err, -EPERM, "the role '%s' is a superuser, has BYPASSRLS or owns schema virtgov: "
                                "row-level security would not hold it to host '%s'", role, host_id);
        if (exists && strcmp(PQgetvalue(ro, 0, 1), "t"))
                return vg_error(err, -EPERM, "the role '%s' exists and cannot log in (NOLOGIN): a host's "
                                "role must; name another with --role", role);

        /* PQescapeIdentifier's text is freed with PQfreemem: copied into sql
         * at once. A valid role is at most 63 bytes, 130 quoted. */
        char *ident = PQescapeIdentifier(c->pg, role, strlen(role)), sql[256];
        if (!ident)
                return central_fail(c, NULL, "quoting the role's name", err);
        snprintf(sql, sizeof(sql), exists ? "GRANT virtgov_host TO %s" : "CREATE ROLE %s LOGIN IN ROLE virtgov_host",
                 ident);
        PQfreemem(ident);
        if (!exists) {
                if ((r = central_exec(c, sql, PGRES_COMMAND_OK, "creating the host's role", NULL, err)) < 0)
                        return r;
                *did |= CENTRAL_ROLE_MADE;
        } else if (strcmp(PQgetvalue(ro, 0, 2), "t")) {
                if ((r = central_exec(c, sql, PGRES_COMMAND_OK, "granting virtgov_host", NULL, err)) < 0)
                        return r;
                *did |= CENTRAL_ROLE_GRANTED;
        }
        if (!mapped) {
                _cleanup_(PQclearp) PGresult *ins = NULL;
                if ((r = query_params(c, "INSERT INTO virtgov.host_roles (host_id, role) VALUES ($1, $2)", 2, p2,
                                      "mapping the host id to its role", &ins, err)) < 0)
                        return r;
                *did |= CENTRAL_HOST_MAPPED;
        }
        return 0;
}

int central_add_host(Central *c, const char *host_id, const char *role, unsigned *ret_did, VgError *err) {
        if (!central_host_id_valid(host_id))
                return vg_error(err, -EINVAL, "host id '%s' must be 1 to 64 letters, digits, '.', '_' or '-'",
                                host_id);
        if (!central_role_name_valid(role))
                return vg_error(err, -EINVAL, "role '%s' must be 1 to 63 lowercase letters, digits or '_', not "
                                "start with a digit or 'pg_', and not be virtgov_host or virtgov_auditor", role);
        int r = central_exec(c, "BEGIN", PGRES_COMMAND_OK, "beginning add-host", NULL, err);
        if (r < 0)
                return r;
        unsigned did = 0;
        /* Two add-hosts at once: one waits, then sees the other's row. */
        if ((r = central_exec(c, "SELECT pg_advisory_xact_lock(x'" ADD_HOST_LOCK "'::bigint)", PGRES_TUPLES_OK,
                              "locking host_roles", NULL, err)) < 0 ||
            (r = add_host_locked(c, host_id, role, &did, err)) < 0 ||
            (r = central_exec(c, "COMMIT", PGRES_COMMAND_OK, "committing add-host", NULL, err)) < 0) {
                PQclear(PQexec(c->pg, "ROLLBACK"));
                return r;
        }
        *ret_did = did;
        return 0;
}

/* A libpq keyword value: quoted when it holds a space, a quote or a
 * backslash, or is empty. */
static int dsn_put(FILE *f, const char *key, const char *v) {
        if (!v)
                return 0;
        bool q = !*v || strpbrk(v, " \t\n'\\");
        fprintf(f, "%s%s=%s", ftell(f) > 0 ? " " : "", key, q ? "'" : "");
        for (const char *p = v; q && *p; p++)
                fprintf(f, "%s%c", *p == '\'' || *p == '\\' ? "\\" : "", *p);
        fputs(q ? "'" : v, f);
        return 0;
}

int central_host_dsn(Central *c, const char *role, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        const char *host = PQhost(c->pg), *port = PQport(c->pg);
        dsn_put(f, "host", host);
        if (port && *port && strcmp(port, "5432"))
                dsn_put(f, "port", port);
        dsn_put(f, "dbname", PQdb(c->pg));
        dsn_put(f, "user", role);
        /* Over TCP, the server's name checked against its certificate;
         * a Unix socket has no TLS. */
        if (host && host[0] != '/')
                dsn_put(f, "sslmode", "verify-full");
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

/* A password file's field: ':' and '\' escaped with '\'. */
static void pgpass_put(FILE *f, const char *v, bool last) {
        for (const char *p = v; *p; p++)
                fprintf(f, "%s%c", *p == ':' || *p == '\\' ? "\\" : "", *p);
        fputs(last ? "" : ":", f);
}

int central_host_pgpass(Central *c, const char *role, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        /* A Unix socket's directory is "localhost" to a password file. */
        const char *host = PQhost(c->pg), *port = PQport(c->pg);
        pgpass_put(f, host && *host && host[0] != '/' ? host : "localhost", false);
        pgpass_put(f, port && *port ? port : "5432", false);
        pgpass_put(f, PQdb(c->pg), false);
        pgpass_put(f, role, false);
        fputs("PASSWORD", f);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
