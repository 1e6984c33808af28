/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fleet's central inventory on PostgreSQL (libpq): a mirror of each
 * host's inventory, never the authority and never on the path of a
 * recording or a decision. Its schema is lib/central/sql/NNN-*.sql, built
 * into the programs; `virtgov fleet init-db` creates or upgrades it.
 *
 * The connection string is libpq's (keyword=value or a postgresql:// URI,
 * config [central] dsn or --dsn). It never holds a password: that comes
 * from a password file (passfile=, PGPASSFILE, ~/.pgpass), a service file,
 * or a certificate (sslcert=, sslkey=); central_connect refuses one.
 * Errors: -ECONNREFUSED could not connect, -EACCES refused by the database
 * (a privilege or row-level security), -EPROTO any other error from it,
 * -EINVAL a bad connection string; err names the SQLSTATE where there is one.
 */
#pragma once

#include <stdbool.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

typedef struct Central Central;

/* Connects. application_name defaults to app, connect_timeout to 10 s;
 * the string may set either. */
int central_connect(const char *dsn, const char *app, Central **ret, VgError *err);
Central *central_close(Central *c);
DEFINE_POINTER_CLEANUP(Central, central_close)

/* The newest schema version this build knows. */
unsigned central_schema_latest(void);

/* The database's schema version: 0 when it has none. */
int central_schema_version(Central *c, unsigned *ret, VgError *err);

/* Creates or upgrades the schema to central_schema_latest(), each
 * migration in one transaction with its schema_version row, under an
 * advisory lock (two at once: one waits). *from and *to: the versions
 * before and after. A database newer than this build: -EPROTO, unchanged. */
int central_migrate(Central *c, unsigned *from, unsigned *to, VgError *err);

/* 0 when the schema is this build's, else -EPROTO saying to run
 * `virtgov fleet init-db` (older) or to update virtgov (newer). */
int central_require_schema(Central *c, VgError *err);

/* Administration (admin.c): what `virtgov fleet init-db` prints and what
 * `virtgov fleet add-host` does. Both run as the database's owner. */

/* A NULL-terminated vector of strings from this section; NULL is a no-op. */
char **central_lines_free(char **v);
DEFINE_POINTER_CLEANUP(char *, central_lines_free)

/* Who may do what on schema virtgov, read from the catalog, one
 * SQL-like line each, in a stable order:
 *   grants        "GRANT SELECT, INSERT ON virtgov.events TO virtgov_host":
 *                 the schema's, its functions' and its tables' privileges
 *                 of every role but the owner, and the memberships in
 *                 virtgov_host and virtgov_auditor ("GRANT virtgov_host TO
 *                 virtgov_host_a");
 *   policies      "POLICY own_rows_insert ON virtgov.events FOR INSERT TO
 *                 virtgov_host WITH CHECK ((host_id = virtgov.my_host()))";
 *   row_security  "virtgov.events on", "virtgov.schema_version off": each
 *                 table's row-level security.
 * Filled only on success; central_access_done frees it. */
typedef struct CentralAccess {
        char **grants, **policies, **row_security;
} CentralAccess;
int central_access(Central *c, CentralAccess *ret, VgError *err);
void central_access_done(CentralAccess *a);

/* A role name's size with its NUL: PostgreSQL's NAMEDATALEN. */
#define CENTRAL_ROLE_SIZE 64

/* A host id as config host_id takes it: 1 to 64 of [A-Za-z0-9._-]. */
bool central_host_id_valid(const char *id);

/* A role name add-host accepts: 1 to 63 of [a-z0-9_], not starting with a
 * digit or "pg_", and neither virtgov_host nor virtgov_auditor. */
bool central_role_name_valid(const char *role);

/* A host's default role: "virtgov_host_" + host_id, '.' and '-' as '_',
 * lowercased, cut at 63 bytes. -EINVAL for an invalid host id. */
int central_host_role_name(const char *host_id, char out[static CENTRAL_ROLE_SIZE]);

/* What central_add_host did, or'ed; 0: the pair was there already. */
enum {
        CENTRAL_ROLE_MADE = 1 << 0,      /* CREATE ROLE ... LOGIN IN ROLE virtgov_host */
        CENTRAL_ROLE_GRANTED = 1 << 1,   /* an existing login role, made a member of virtgov_host */
        CENTRAL_HOST_MAPPED = 1 << 2,    /* the row in virtgov.host_roles */
};

/* Maps host_id to the login role role, in one transaction under an
 * advisory lock: makes the role when missing, makes it a member of
 * virtgov_host when it is not, and adds the host_roles row. The same pair
 * again: 0 and *ret_did 0. Errors: -EINVAL an invalid host id or role
 * name; -EEXIST the host id mapped to another role, or the role to
 * another host id; -EPERM a role that would escape row-level security
 * (a superuser, BYPASSRLS, the schema's owner) or cannot log in; else
 * central.h's errors (-EACCES: the connecting role may not create roles).
 * Nothing is changed on an error. */
int central_add_host(Central *c, const char *host_id, const char *role, unsigned *ret_did, VgError *err);

/* The dsn a host would use as role, from this connection's host, port
 * and database, with sslmode=verify-full over TCP; -ENOMEM. */
int central_host_dsn(Central *c, const char *role, char **ret);

/* The line of a password file (~/.pgpass, passfile=) for role on this
 * connection's host, port and database, "PASSWORD" where the password
 * goes; -ENOMEM. */
int central_host_pgpass(Central *c, const char *role, char **ret);
