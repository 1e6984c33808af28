/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The central room's private header: the connection, and the one way its
 * files turn a libpq failure into an errno and a message. */
#pragma once

#include <libpq-fe.h>

#include "virtgov/central/central.h"

struct Central {
        PGconn *pg;
};

/* err from res (NULL: the connection's last error), prefixed with what;
 * returns the errno (central.h) for res's SQLSTATE. */
int central_fail(Central *c, const PGresult *res, const char *what, VgError *err);

/* res (taken) checked for status (PGRES_COMMAND_OK or PGRES_TUPLES_OK):
 * 0 and res in *ret (ret NULL: cleared), or central_fail's errno. */
int central_result(Central *c, PGresult *res, ExecStatusType status, const char *what, PGresult **ret,
                   VgError *err);

/* PQexec that must return status (PGRES_COMMAND_OK or PGRES_TUPLES_OK):
 * 0 and the result in *ret (ret NULL: cleared), or central_fail's errno. */
int central_exec(Central *c, const char *sql, ExecStatusType status, const char *what, PGresult **ret,
                 VgError *err);

DEFINE_POINTER_CLEANUP(PGresult, PQclear)

/* central_require_schema's test of a version read otherwise (the
 * shipper reads it with its position, in one statement). */
int central_schema_fits(unsigned v, VgError *err);

/* PQsendQueryParams of sql with its text params, read in single-row mode:
 * each row to fn (query.h); 0, fn's negative return (the rest of the
 * result drained), or central_fail's errno naming what. query.c. */
struct CentralRow;
int central_stream(Central *c, const char *sql, int n_params, const char *const *params, const char *what,
                   int (*fn)(const struct CentralRow *row, void *u), void *u, VgError *err);

/* One fleet check of `fleet report` (query.h): a statement returning
 * (severity, hosts, subject, detail) rows. Each file of checks has a
 * table of them ending with {}; findings.c runs the tables in order,
 * which is central_finding_classes' order. */
typedef struct FindingCheck {
        const char *class;
        const char *sql;
        bool hours;      /* $1: --silent-hours */
} FindingCheck;

extern const FindingCheck central_checks_fleet[];      /* findings.c */
extern const FindingCheck central_checks_capacity[];   /* findings-capacity.c */
extern const FindingCheck central_checks_integrity[];  /* findings-integrity.c */

/* A domain's active states in the centre's rows: what holds its disks
 * open and its memory (an SQL list). */
#define CENTRAL_ACTIVE "('running', 'paused', 'pmsuspended', 'blocked', 'crashed')"
