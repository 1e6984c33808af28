/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every "virtgov fleet" verb shares (fleet.h): the connection. Apart
 * from cmd-fleet.c, whose table calls the verbs, so that a verb's file
 * calls only this one and no circle joins the dispatcher and its verbs
 * (tests/test-layering.sh). */
#include "fleet.h"

int fleet_connect(Cli *cli, const char *dsn, bool schema_any, Central **ret) {
        if (!dsn)
                return cli_error("no central inventory: set 'dsn' in the [central] section of %s, or pass --dsn",
                                 cli->config->path ? cli->config->path : "the configuration");
        VgError err = { "" };
        _cleanup_(central_closep) Central *c = NULL;
        if (central_connect(dsn, "virtgov", &c, &err) < 0 || (!schema_any && central_require_schema(c, &err) < 0))
                return cli_error("%s", err.text);
        *ret = TAKE_PTR(c);
        return EXIT_OK;
}
