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

/* PQexec that must return status (PGRES_COMMAND_OK or PGRES_TUPLES_OK):
 * 0 and the result in *ret (ret NULL: cleared), or central_fail's errno. */
int central_exec(Central *c, const char *sql, ExecStatusType status, const char *what, PGresult **ret,
                 VgError *err);

DEFINE_POINTER_CLEANUP(PGresult, PQclear)
