/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One virtgov-inventoryd per inventory. Two would each diff the accounts
 * and record every change twice (seen: two account.added for one useradd),
 * and both would fold the same spool and forward to syslog.
 */
#pragma once

#include "virtgov/util/util.h"

/*
 * Takes the daemon lock of the inventory at inventory_path: the file
 * "<inventory_path>.daemon.lock" beside it (created 0640 when missing),
 * locked whole with an open-file-description lock, with the caller's pid
 * written into it. The lock belongs to the open file, not the process: it
 * stays held across daemon()'s fork while the child keeps the fd, and the
 * kernel drops it when the last holder exits, however it dies, so no stale
 * lock outlives a SIGKILL. On success *ret_fd is the lock's fd (O_CLOEXEC):
 * keep it open for as long as the daemon runs. -EBUSY when another process
 * holds it, with err naming the inventory, the lock file and the pid written
 * in it; another negative errno when the lock file cannot be opened.
 */
int pidlock_take(const char *inventory_path, int *ret_fd, VgError *err);

/*
 * Writes the calling process's pid into the lock held on fd, replacing what
 * was there: after daemon(), so that a second daemon names the process that
 * actually holds the lock. 0 or a negative errno.
 */
int pidlock_write_pid(int fd);
