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
