/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An approval: a person's word that one domain may be activated. Made by
 * 'virtgov approve', kept by the inventory (store.h), read by the policy
 * engine (policy.h).
 */
#pragma once

#include <stdint.h>

/* An approval of one domain (by UUID or name), optionally until a time. */
typedef struct Approval {
        const char *key, *owner, *ticket, *approved_by;
        int64_t until_us;        /* 0: no end */
        int64_t time_us;         /* when it was recorded (the inventory's; 0 elsewhere) */
} Approval;
