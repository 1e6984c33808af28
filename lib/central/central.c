/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"
#include "schema.h"

/* pg_advisory_xact_lock's key for a migration: "vgcentra" */
#define MIGRATE_LOCK "7667636e74726100"

int central_fail(Central *c, const PGresult *res, const char *what, VgError *err) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
        if (!msg || !*msg)
                msg = c && c->pg && PQstatus(c->pg) != CONNECTION_OK ? "the connection was lost" : "no result";
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                n--;
        int r = -EPROTO;
        if (!res || !state || (c->pg && PQstatus(c->pg) != CONNECTION_OK))
                r = -ECONNREFUSED;
        else if (!strcmp(state, "42501"))  /* insufficient_privilege, row-level security too */
                r = -EACCES;
        return vg_error(err, r, "%s: %.*s%s%s%s", what, (int) n, msg, state ? " (SQLSTATE " : "", state ? state : "",
                        state ? ")" : "");
}

int central_result(Central *c, PGresult *res, ExecStatusType status, const char *what, PGresult **ret,
                   VgError *err) {
        if (res && PQresultStatus(res) == status) {
                if (ret)
                        *ret = res;
                else
                        PQclear(res);
                return 0;
        }
        int r = central_fail(c, res, what, err);
        PQclear(res);
        return r;
}

int central_exec(Central *c, const char *sql, ExecStatusType status, const char *what, PGresult **ret,
                 VgError *err) {
        return central_result(c, PQexec(c->pg, sql), status, what, ret, err);
}

int central_connect(const char *dsn, const char *app, Central **ret, VgError *err) {
        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
        if (!opts) {
                int r = vg_error(err, -EINVAL, "the central dsn is not a libpq connection string: %s",
                                 perr ? perr : "out of memory");
                PQfreemem(perr);
                return r;
        }
        bool password = false;
        for (PQconninfoOption *o = opts; o->keyword; o++)
                if (!strcmp(o->keyword, "password") && o->val && *o->val)
                        password = true;
        PQconninfoFree(opts);
        if (password)
                return vg_error(err, -EINVAL, "the central dsn holds a password: virtgov keeps none in its "
                                "configuration; use a password file (passfile=, PGPASSFILE or ~/.pgpass), a "
                                "service file, or a client certificate");

        Central *c = calloc(1, sizeof(*c));
        if (!c)
                return vg_error(err, -ENOMEM, "out of memory");
        /* Defaults first: the string, expanded in dbname's place, may
         * set them again (libpq keeps the last). */
        const char *const keys[] = { "application_name", "connect_timeout", "dbname", NULL };
        const char *const values[] = { app, "10", dsn, NULL };
        c->pg = PQconnectdbParams(keys, values, 1);
        if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
                int r = central_fail(c, NULL, "cannot connect to the central inventory", err);
                if (!c->pg)
                        r = vg_error(err, -ENOMEM, "out of memory");
                central_close(c);
                return r;
        }
        *ret = c;
        return 0;
}

Central *central_close(Central *c) {
        if (!c)
                return NULL;
        PQfinish(c->pg);
        free(c);
        return NULL;
}

unsigned central_schema_latest(void) {
        return central_migrations_n;
}

int central_schema_version(Central *c, unsigned *ret, VgError *err) {
        /* Two queries: one naming a missing table fails when it is
         * parsed, before a CASE could steer around it. */
        _cleanup_(PQclearp) PGresult *exists = NULL, *res = NULL;
        int r = central_exec(c, "SELECT to_regclass('virtgov.schema_version') IS NOT NULL", PGRES_TUPLES_OK,
                             "reading the central schema's version", &exists, err);
        if (r < 0)
                return r;
        if (strcmp(PQgetvalue(exists, 0, 0), "t")) {
                *ret = 0;
                return 0;
        }
        r = central_exec(c, "SELECT coalesce(max(version), 0) FROM virtgov.schema_version", PGRES_TUPLES_OK,
                         "reading the central schema's version", &res, err);
        if (r < 0)
                return r;
        *ret = (unsigned) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        return 0;
}

int central_schema_fits(unsigned v, VgError *err) {
        if (v < central_schema_latest())
                return vg_error(err, -EPROTO, "the central inventory's schema is version %u, this virtgov needs %u: "
                                "run 'virtgov fleet init-db' with the owner's dsn", v, central_schema_latest());
        if (v > central_schema_latest())
                return vg_error(err, -EPROTO, "the central inventory's schema is version %u, newer than this "
                                "virtgov knows (%u): update virtgov on this host", v, central_schema_latest());
        return 0;
}

int central_require_schema(Central *c, VgError *err) {
        unsigned v;
        int r = central_schema_version(c, &v, err);
        return r < 0 ? r : central_schema_fits(v, err);
}

int central_migrate(Central *c, unsigned *from, unsigned *to, VgError *err) {
        unsigned v = 0;
        int r = central_exec(c, "BEGIN", PGRES_COMMAND_OK, "beginning the migration", NULL, err);
        if (r < 0)
                return r;
        if ((r = central_exec(c, "SELECT pg_advisory_xact_lock(x'" MIGRATE_LOCK "'::bigint)", PGRES_TUPLES_OK,
                              "locking the schema", NULL, err)) < 0 ||
            (r = central_schema_version(c, &v, err)) < 0)
                goto fail;
        *from = *to = v;
        if (v > central_schema_latest()) {
                r = vg_error(err, -EPROTO, "the central inventory's schema is version %u, newer than this virtgov "
                             "knows (%u): nothing changed", v, central_schema_latest());
                goto fail;
        }
        for (unsigned i = v; i < central_migrations_n; i++) {
                const CentralMigration *m = &central_migrations[i];
                char what[160], mark[96];
                snprintf(what, sizeof(what), "migration %s", m->name);
                snprintf(mark, sizeof(mark), "INSERT INTO virtgov.schema_version (version) VALUES (%u)", m->version);
                if ((r = central_exec(c, m->sql, PGRES_COMMAND_OK, what, NULL, err)) < 0 ||
                    (r = central_exec(c, mark, PGRES_COMMAND_OK, what, NULL, err)) < 0)
                        goto fail;
        }
        if ((r = central_exec(c, "COMMIT", PGRES_COMMAND_OK, "committing the schema", NULL, err)) < 0)
                return r;
        *to = central_migrations_n > v ? central_migrations_n : v;
        return 0;
fail:
        PQclear(PQexec(c->pg, "ROLLBACK"));
        *from = *to = v;
        return r;
}
