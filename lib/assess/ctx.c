/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The context a check is handed and the results it adds to the run. The
 * run, the checks and the inputs they read all call this file, and it
 * calls none of them (only the parsers' free functions): it sits below
 * them, so every call goes one way, run -> table -> checks -> inputs,
 * each of them -> here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "priv.h"

void assess_ctx_init(AssessCtx *x, const AssessPaths *p, AssessRun *run) {
        *x = (AssessCtx) { .p = p, .run = run, .root_fd = -1 };
        /* Every read under a root goes through this fd (assess_open): an
         * unopenable root makes each check an error naming it. */
        if (p->root && (x->root_fd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                x->root_err = -errno;
}

void assess_ctx_clear(AssessCtx *x) {
        if (x->root_fd >= 0)
                close(x->root_fd);
        vconf_free(x->qemu);
        free(x->qemu_path);
        for (size_t i = 0; i < x->n_daemons; i++) {
                vconf_free(x->daemons[i].conf);
                free(x->daemons[i].conf_path);
        }
        for (size_t i = 0; i < x->n_domains; i++) {
                free(x->domains[i].name);
                free(x->domains[i].path);
                xmldom_free(x->domains[i].root);
        }
        free(x->domains);
        for (size_t i = 0; i < x->n_procs; i++)
                free(x->procs[i].exe);
        free(x->procs);
        accounts_free(x->acc);
        for (size_t i = 0; i < x->n_updates; i++) {
                free(x->updates[i].package);
                free(x->updates[i].installed);
                free(x->updates[i].candidate);
                free(x->updates[i].list);
        }
        free(x->updates);
}

void assess_add(AssessCtx *x, const AssessCheck *c, AssessStatus s, const char *where, const char *domain,
                const char *fmt, ...) {
        AssessRun *run = x->run;
        if (vg_grow((void **) &run->results, &run->n, sizeof(*run->results)) < 0) {
                x->oom = -ENOMEM;
                return;
        }
        AssessResult *res = &run->results[run->n - 1];
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&res->found, fmt, ap) < 0)
                res->found = NULL;
        va_end(ap);
        res->check = c;
        res->status = s;
        res->where = vg_strdup0(where);
        res->domain = vg_strdup0(domain);
        if (!res->found || (where && !res->where) || (domain && !res->domain))
                x->oom = -ENOMEM;
}

void assess_add_error(AssessCtx *x, const AssessCheck *c, const Loaded *l) {
        assess_add(x, c, ASSESS_ERROR, NULL, NULL, "%s", l->err);
}
