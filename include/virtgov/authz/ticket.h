/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Change tickets as they come in: from 'virtgov ticket add' or an export
 * from a change system ('ticket import'). Checked here, stored by the CLI.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/util.h"

/* A change ticket: which domains (glob), which action, when. The policy
 * engine reads the same struct. */
typedef struct Ticket {
        const char *id, *domain_glob, *action, *approved_by;   /* action NULL: start */
        int64_t from_us, until_us;
        /* Who put it into the inventory, and when (the inventory's; NULL
         * and 0 elsewhere). */
        const char *added_by;
        int64_t time_us;
} Ticket;

/* -EINVAL with err saying what is missing or wrong (id, domain glob,
 * action, a window that ends before it starts), -ENAMETOOLONG for a field
 * over its bound (authz.h). At input, and again for a row read for a
 * decision: a ticket that fails covers nothing. */
int ticket_check(const Ticket *t, VgError *err);

/* Whether t covers the domain called name: its domain glob matches the
 * name (glob.h). That is the only way a ticket covers a domain: a
 * domain's metadata naming a ticket is a claim, which this must uphold. */
bool ticket_covers(const Ticket *t, const char *name);

/*
 * An import: a JSON array of objects with the string fields id, domain,
 * action, from, until, approved_by (times as vg_time_parse takes them,
 * relative to now). Every ticket is checked before any is returned: all or
 * nothing. An ID that comes twice is -EEXIST, naming both places.
 * *ret_json owns the strings the tickets point into. Errors name the file
 * and the ticket's index (or line:column for bad JSON).
 */
int ticket_import_parse(const char *text, size_t len, const char *file, int64_t now, json_t **ret_json,
                        Ticket **ret, size_t *ret_n, VgError *err);
