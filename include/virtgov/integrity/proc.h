/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What runs is what was baselined (issue 18): each running domain's QEMU
 * and libvirt's daemons, their executable and every file they map
 * (procscan.h), compared with the integrity baseline and with dpkg's
 * packages. Each mapping, then each process as its worst mapping, is
 *
 *   current   it matches the baseline, or the package that ships it now
 *   unknown   nothing to compare it with (no baseline row and no package),
 *             or it could not be read
 *   stale     it matches what the baseline held before a change replaced
 *             it (a package update: both versions named): it needs a
 *             restart
 *   tampered  it matches neither the baseline, nor what the baseline once
 *             held, nor the package
 *
 * A check records every process's status in the inventory and an
 * integrity.process event for each process whose status is not what the
 * inventory held (a new process: when it is not current).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "virtgov/util/config.h"
#include "virtgov/host/procscan.h"
#include "virtgov/store/store.h"

typedef enum ProcStatus { PROC_CURRENT, PROC_UNKNOWN, PROC_STALE, PROC_TAMPERED } ProcStatus;

const char *proc_status_name(ProcStatus s);   /* "current", "unknown", "stale", "tampered" */

typedef struct ProcVerdict {
        ProcImage image;
        ProcStatus status;        /* the worst of its mappings' */
        char *why;                /* the worst mapping's, one sentence; NULL when current */
        json_t *files;            /* the mappings that are not current: path, status, why, sha256,
                                   * replaced, package, old_version, new_version */
        bool changed;             /* not the status the inventory held for it */
        const char *was;          /* that status ("" for a process it did not hold), static */
        int64_t since_us;         /* since when it has had its status (0: from this check) */
} ProcVerdict;

typedef struct ProcResult {
        ProcVerdict *v;
        size_t n;
        size_t hashed, cached;    /* mappings read, and taken from the cache */
} ProcResult;

void proc_result_clear(ProcResult *r);

typedef struct ProcRequest {
        const char *domain;       /* one domain's QEMU (its start); NULL: every process */
        const char *source;       /* event source: "cli" or "daemon" */
        const char *actor;
        ProcCache *cache;         /* kept between checks (the daemon's); NULL: one for this check */
        bool full;                /* read every mapped file, even one whose stat matches its baseline row */
} ProcRequest;

/*
 * Finds the processes (config's proc_dir and qemu_run_dir), measures
 * them, classifies every mapping, and records the statuses and the
 * events in one transaction. A process that cannot be read at all is
 * unknown, saying why. Returns 0, or a negative errno with err set (the
 * run directory unreadable, the inventory).
 */
int integrity_check_processes(Store *s, const Config *c, const ProcRequest *req, ProcResult *res, VgError *err);

/*
 * The same in two halves, for the daemon, which measures off its event
 * loop. integrity_measure_processes finds, reads and judges every process
 * and reads the inventory only (s may be a read-only connection of
 * another thread; req->cache is then that thread's while it runs).
 * integrity_record_processes records the statuses and events in one
 * transaction on the writer's s, setting each verdict's changed, was and
 * since_us; on a failure *res stays the caller's to clear.
 */
int integrity_measure_processes(Store *s, const Config *c, const ProcRequest *req, ProcResult *res,
                                VgError *err);
int integrity_record_processes(Store *s, const ProcRequest *req, ProcResult *res, VgError *err);
