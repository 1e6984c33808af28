/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running kernel against the inventory: kernel.h's facts read from
 * the config's kernel_* paths, each module's file compared with the
 * integrity baseline the inventory holds (only when it matches its
 * digest: an edited baseline vouches for nothing) and with dpkg's
 * database. One place for `virtgov integrity kernel` and the kernel part
 * of `report integrity`.
 */
#pragma once

#include "virtgov/util/config.h"
#include "virtgov/host/kernel.h"
#include "virtgov/store/store.h"

typedef struct KernelCheck {
        KernelState *state;
        const char *baseline;         /* "intact", "none" or "does not match its digest" (static) */
        const char *packages;         /* "dpkg" or "no dpkg database" (static) */
} KernelCheck;

void kernel_check_clear(KernelCheck *k);

/*
 * Reads and compares. Neither a missing baseline nor a missing dpkg
 * database is an error: the modules are then not compared with it, and
 * KernelCheck says so. Errors: kernel_read's and kernel_compare's, the
 * inventory's, dpkg's other than a missing status file.
 */
int kernel_check(Store *s, const Config *c, KernelCheck *ret, VgError *err);
