/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "virtgov/integrity/run.h"
#include "virtgov/integrity/kernel-run.h"

void kernel_check_clear(KernelCheck *k) {
        kernel_state_free(k->state);
        *k = (KernelCheck) { 0 };
}

int kernel_check(Store *s, const Config *c, KernelCheck *ret, VgError *err) {
        KernelPaths p = { .proc_modules = c->kernel_proc_modules, .tainted = c->kernel_tainted,
                          .modules_root = c->kernel_modules_root, .boot_dir = c->kernel_boot_dir,
                          .release = c->kernel_release };
        _cleanup_(kernel_state_freep) KernelState *k = NULL;
        _cleanup_(fscan_list_freep) FscanList *base = NULL;
        _cleanup_(dpkg_freep) Dpkg *d = NULL;
        *ret = (KernelCheck) { 0 };
        int r = kernel_read(&p, &k, err);
        if (r < 0)
                return r;
        VgError berr = { "" };
        r = integrity_verify_baseline(s, &base, &berr);
        if (r < 0 && r != -ENOENT && r != -EBADMSG)
                return vg_error(err, r, "%s", berr.text);
        const char *baseline = r == 0 ? "intact" : r == -ENOENT ? "none" : "does not match its digest";
        VgError derr = { "" };
        r = dpkg_open(c->dpkg_admindir, c->dpkg_log, &d, &derr);
        if (r < 0 && r != -ENOENT)
                return vg_error(err, r, "%s", derr.text);
        if ((r = kernel_compare(k, base, d, err)) < 0)
                return r;
        *ret = (KernelCheck) { TAKE_PTR(k), baseline, d ? "dpkg" : "no dpkg database" };
        return 0;
}
