/* SPDX-License-Identifier: GPL-2.0-or-later */
/* 'virtgov ticket import': a change system's JSON export. */
#include <stdlib.h>

#include "virtgov/ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *j = NULL;
        Ticket *t = NULL;
        size_t n = 0;
        VgError err = { "" };
        if (ticket_import_parse((const char *) data, size, "fuzz.json", 1800000000000000, &j, &t, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++)
                        if (ticket_check(&t[i], &err) < 0)
                                __builtin_trap();   /* import must only return tickets that check out */
                free(t);
                json_decref(j);
        }
        return 0;
}
