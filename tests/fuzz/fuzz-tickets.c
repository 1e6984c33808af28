/* SPDX-License-Identifier: GPL-2.0-or-later */
/* 'virtgov ticket import': a change system's JSON export. What an import
 * returns must be what the inventory can hold and a decision can use:
 * every ticket checks out (within its bounds, authz.h), no ID twice; and
 * its globs go through the one matcher (glob.h) without harm. */
#include <stdlib.h>
#include <string.h>

#include "virtgov/authz/authz.h"
#include "virtgov/authz/ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *j = NULL;
        Ticket *t = NULL;
        size_t n = 0;
        VgError err = { "" };
        if (ticket_import_parse((const char *) data, size, "fuzz.json", 1800000000000000, &j, &t, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++) {
                        if (ticket_check(&t[i], &err) < 0 || strlen(t[i].id) > AUTHZ_NAME_MAX ||
                            strlen(t[i].domain_glob) > AUTHZ_GLOB_MAX)
                                __builtin_trap();   /* import must only return tickets that check out */
                        for (size_t k = 0; k < i; k++)
                                if (!strcmp(t[k].id, t[i].id))
                                        __builtin_trap();   /* nor an ID twice */
                        /* Against another ticket's ID, its own glob and a
                         * name of the longest kind. */
                        (void) ticket_covers(&t[i], t[i].domain_glob);
                        (void) ticket_covers(&t[i], t[n - 1 - i].id);
                }
                free(t);
                json_decref(j);
        }
        return 0;
}
