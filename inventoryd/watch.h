/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inotify, in the daemon's one loop: the host's account files (passwd,
 * group, shadow, gshadow, sudoers, sudoers.d/) and the hook's spool.
 */
#pragma once

#include "daemon.h"

/*
 * Diffs the accounts against the baseline the inventory holds (changes
 * made while the daemon was down) or records a first account.baseline,
 * then watches the account files and the spool: a change to the accounts
 * is diffed once the burst of writes settles, a file in the spool is
 * folded at once. 0, or a negative errno when inotify cannot be set up
 * (logged; the accounts were still diffed once).
 */
int watch_init(Daemon *d);

/* Stops watching. No event of watch_init's arrives after it. */
void watch_close(Daemon *d);

/* Frees what watch_init made, d->accounts too: after every module that
 * reads them has stopped. A no-op without watch_init. */
void watch_free(Daemon *d);
