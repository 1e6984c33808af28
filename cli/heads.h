/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify --heads: the local chain against the heads in an export of the
 * central log (heads.c). */
#pragma once

#include <stdint.h>

#include "cli.h"

typedef struct HeadsCheck {
        size_t held;            /* this host's heads the chain holds */
        size_t other_hosts;     /* heads of other hosts: skipped */
        size_t unsigned_heads;  /* without host and sig (an older virtgov): skipped */
        size_t bad_sig;         /* naming this host, not signed by its key */
        size_t lost;            /* this host's heads the chain does not hold */
        int64_t first_lost;     /* the lowest id of those; 0: none */
        char problem[256];      /* what is wrong, naming the first head; "" when all held */
} HeadsCheck;

/* Reads every head in path ('-': stdin) and checks this host's against s.
 * 0 (problems in hc), or a negative errno with err set (the file cannot
 * be read, a malformed head, no key or no host id). */
int heads_check(Store *s, const Config *config, const char *path, HeadsCheck *hc, VgError *err);
