/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What is watched: the profiles a run checks, loaded with what the
 * domains name, what the kernel runs now and virtgov's own files
 * (integrity/priv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "priv.h"
#include "virtgov/host/domdefs.h"
#include "vg-paths.h"

void integrity_profiles_clear(Profiles *p) {
        if (!p->borrowed)
                integrity_profiles_free(p->v, p->n);
        config_strv_free(p->names);
        config_strv_free(p->unread);
        *p = (Profiles) { 0 };
}

void integrity_profiles_free(IntegrityProfile **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                integrity_profile_free(v[i]);
        free(v);
}

/* path added to the NULL-ended list *v of *n paths, unless it is there. */
static int path_add(char ***v, size_t *n, const char *path) {
        for (size_t i = 0; i < *n; i++)
                if (!strcmp((*v)[i], path))
                        return 0;
        char *copy = strdup(path);
        /* (two slots: the path, and the NULL after it) */
        if (!copy || vg_grow((void **) v, n, sizeof(char *)) < 0 || vg_grow((void **) v, n, sizeof(char *)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        (*n)--;
        (*v)[*n - 1] = copy;
        return 0;
}

/* What the domains name for QEMU to run: from the inventory, and from
 * libvirt's own files (domdefs.h). The inventory alone missed a domain
 * defined while the daemon was down; the files know every domain libvirt
 * holds here, the inventory what it learnt from other URIs too. Each
 * path once, the inventory's first. */
static int domain_paths(Store *s, const Config *c, char ***ret, size_t *n_ret, char ***ret_unread, VgError *err) {
        _cleanup_(config_strv_freep) char **dom = NULL, **files = NULL, **unread = NULL;
        char **all = NULL;
        size_t n_dom = 0, n = 0;
        int r = store_domain_paths(s, &dom, &n_dom, err);
        if (r < 0)
                return r;
        if (domdefs_paths(c->qemu_config_dir, c->qemu_run_dir, c->max_xml_bytes, &files, &unread) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && dom[i]; i++)
                r = path_add(&all, &n, dom[i]);
        for (size_t i = 0; r == 0 && files[i]; i++)
                r = path_add(&all, &n, files[i]);
        if (r == 0 && !all && !(all = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0) {
                config_strv_free(all);
                return vg_error(err, r, "out of memory");
        }
        *ret = all;
        *n_ret = n;
        *ret_unread = TAKE_PTR(unread);
        return 0;
}

/* The context of the isolation profile: what the domains name, what the
 * kernel runs now, virtgov's own files. */
int integrity_profiles_load(Store *s, const Config *c, const char *const *names, IntegrityProfile ***ret,
                            size_t *n_ret, char ***ret_unread, VgError *err) {
        char **dom = NULL, **unread = NULL;
        size_t n_dom = 0, n = 0;
        IntegrityProfile **v = NULL;
        int r = domain_paths(s, c, &dom, &n_dom, &unread, err);
        if (r < 0)
                return r;
        /* The running kernel's files where the kernel_* keys say (the
         * same ones 'integrity kernel' reads). */
        struct utsname u;
        const char *release = c->kernel_release && *c->kernel_release ? c->kernel_release
                            : uname(&u) == 0 ? u.release : NULL;
        char modules[4200] = "", kernel[4200] = "";
        if (release) {
                snprintf(modules, sizeof(modules), "%s/%s", c->kernel_modules_root, release);
                snprintf(kernel, sizeof(kernel), "%s/vmlinuz-%s", c->kernel_boot_dir, release);
        }
        const char *own[] = { c->hook_binary, VG_DEFAULT_BINDIR "/virtgov", VG_DEFAULT_SBINDIR "/virtgov-inventoryd",
                              c->path ? c->path : VG_DEFAULT_CONFIG, c->policy, c->integrity_dir, NULL };
        static const char *const nvram[] = { "/var/lib/libvirt/qemu/nvram", NULL };
        IntegrityContext ctx = { .domain_paths = (const char *const *) dom, .nvram_paths = nvram,
                                 .own_paths = own, .proc_modules = c->kernel_proc_modules,
                                 .modules_dir = modules[0] ? modules : NULL,
                                 .kernel_image = kernel[0] ? kernel : NULL };
        for (size_t i = 0; r == 0 && names[i]; i++) {
                IntegrityProfile *prof = NULL;
                r = integrity_profile_load(names[i], c->integrity_dir, &ctx, &prof, err);
                if (r == 0 && vg_grow((void **) &v, &n, sizeof(*v)) < 0) {
                        integrity_profile_free(prof);
                        r = vg_error(err, -ENOMEM, "out of memory");
                } else if (r == 0)
                        v[n - 1] = prof;
        }
        config_strv_free(dom);
        if (r < 0) {
                integrity_profiles_free(v, n);
                config_strv_free(unread);
                return r;
        }
        *ret = v;
        *n_ret = n;
        *ret_unread = unread;
        return 0;
}

int integrity_profiles_of(Store *s, const Config *c, const IntegrityRequest *req, Profiles *p, VgError *err) {
        const char *const *names = req ? req->profiles : NULL;
        *p = (Profiles) { 0 };
        if (req && req->loaded) {
                p->v = (IntegrityProfile **) req->loaded;
                p->n = req->n_loaded;
                p->borrowed = true;
                if (!(p->names = calloc(p->n + 1, sizeof(char *))))
                        return vg_error(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < p->n; i++)
                        if (!(p->names[i] = strdup(p->v[i]->name)))
                                return vg_error(err, -ENOMEM, "out of memory");
                return 0;
        }
        p->names = names ? NULL : config_split(c->integrity_profiles);
        if (names) {
                size_t n = 0;
                while (names[n])
                        n++;
                if (!(p->names = calloc(n + 1, sizeof(char *))))
                        return vg_error(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < n; i++)
                        if (!(p->names[i] = strdup(names[i])))
                                return vg_error(err, -ENOMEM, "out of memory");
        }
        if (!p->names || !p->names[0])
                return vg_error(err, -EINVAL, "no integrity profile: set integrity_profiles in %s",
                                c->path ? c->path : "the config");
        return integrity_profiles_load(s, c, (const char *const *) p->names, &p->v, &p->n, &p->unread, err);
}
