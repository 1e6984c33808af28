/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The I/O half of kernel.h: reading /proc, modules.dep, the module files
 * and the installed kernels, and measuring the files against the
 * baseline and dpkg. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kernel-priv.h"
#include "virtgov/host/dpkg-version.h"

KernelState *kernel_state_free(KernelState *k) {
        if (!k)
                return NULL;
        for (size_t i = 0; i < k->n_modules; i++) {
                free(k->modules[i].name);
                free(k->modules[i].path);
                free(k->modules[i].package);
                free(k->modules[i].package_version);
        }
        free(k->modules);
        for (size_t i = 0; i < k->n_installed; i++)
                free(k->installed[i]);
        free(k->installed);
        free(k->release);
        free(k->modules_dir);
        free(k);
        return NULL;
}

static const char *or(const char *v, const char *def) {
        return v && *v ? v : def;
}

/* ---- the modules ---- */

typedef struct Collect {
        KernelState *k;
        const KernelDep *dep;
} Collect;

static int add_module(const KernelProcLine *l, void *u) {
        Collect *c = u;
        KernelState *k = c->k;
        if (vg_grow((void **) &k->modules, &k->n_modules, sizeof(*k->modules)) < 0)
                return -ENOMEM;
        KernelModule *m = &k->modules[k->n_modules - 1];
        if (!(m->name = strndup(l->name, l->name_len)))
                return -ENOMEM;
        m->size = l->size;
        memcpy(m->state, l->state, sizeof(m->state));
        memcpy(m->taint, l->taint, sizeof(m->taint));
        const char *file = c->dep ? kernel_dep_find(c->dep, m->name) : NULL;
        if (file && asprintf(&m->path, "%s%s%s", *file == '/' ? "" : k->modules_dir, *file == '/' ? "" : "/",
                             file) < 0) {
                m->path = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* Each module's file read: what it says of itself and the kernel's
 * letters make its first statuses. */
static void judge_files(KernelState *k) {
        for (size_t i = 0; i < k->n_modules; i++) {
                KernelModule *m = &k->modules[i];
                if (!m->path) {
                        m->status = KERNEL_UNRESOLVED | kernel_status_from(m->taint, NULL);
                        continue;
                }
                int r = kernel_modinfo_file(m->path, &m->info);
                if (r == -ENOENT)
                        m->status = KERNEL_MISSING | kernel_status_from(m->taint, NULL);
                else if (r < 0) {
                        m->info = (KernelModinfo) { .format = r == -EBADFD ? KERNEL_FILE_OTHER : KERNEL_FILE_NONE };
                        snprintf(m->info.problem, sizeof(m->info.problem), "%s",
                                 r == -EBADFD ? "not a regular file" : strerror(-r));
                        m->status = kernel_status_from(m->taint, &m->info);
                } else
                        m->status = kernel_status_from(m->taint, &m->info);
        }
}

static int read_modules(const KernelPaths *p, KernelState *k, KernelSkips *skips, VgError *err) {
        const char *file = or(p ? p->proc_modules : NULL, KERNEL_DEFAULT_PROC_MODULES);
        _cleanup_free_ char *text = NULL, *dep_text = NULL, *dep_file = NULL;
        size_t len = 0, dep_len = 0;
        int r = vg_read_file(file, KERNEL_PROC_MODULES_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;   /* a kernel built without module support */
        if (r < 0)
                return vg_error(err, r, "'%s': %s", file, strerror(-r));
        k->modules_supported = true;
        if (asprintf(&dep_file, "%s/modules.dep", k->modules_dir) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        r = vg_read_file(dep_file, KERNEL_MODULES_DEP_MAX, &dep_text, &dep_len);
        if (r < 0 && r != -ENOENT)
                return vg_error(err, r, "'%s': %s", dep_file, strerror(-r));
        KernelDep dep = { 0 };
        k->have_modules_dep = r == 0;
        if (r == 0 && kernel_dep_parse(dep_text, dep_len, dep_file, &dep, skips) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        Collect c = { k, k->have_modules_dep ? &dep : NULL };
        r = kernel_proc_modules_parse(text, len, file, skips, add_module, &c);
        kernel_dep_clear(&dep);
        if (r < 0)
                return vg_error(err, r, "out of memory");
        judge_files(k);
        return 0;
}

/* ---- taint ---- */

static int read_taint(const KernelPaths *p, KernelState *k, VgError *err) {
        const char *file = or(p ? p->tainted : NULL, KERNEL_DEFAULT_TAINTED);
        _cleanup_free_ char *text = NULL;
        int r = vg_read_file(file, 64, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return vg_error(err, r, "'%s': %s", file, strerror(-r));
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (!(text[0] >= '0' && text[0] <= '9') || errno || (*end && strcmp(end, "\n")))
                return vg_error(err, -EINVAL, "'%s': expected a decimal number, got '%.20s'", file, text);
        k->taint = v;
        k->taint_known = true;
        return 0;
}

/* ---- installed kernels ---- */

static int add_release(KernelState *k, const char *release) {
        for (size_t i = 0; i < k->n_installed; i++)
                if (!strcmp(k->installed[i], release))
                        return 0;
        char *copy = strdup(release);
        if (!copy || vg_grow((void **) &k->installed, &k->n_installed, sizeof(char *)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        k->installed[k->n_installed - 1] = copy;
        return 0;
}

static bool plain_release(const char *s) {
        return *s && *s != '.' && strlen(s) < 200 && !strchr(s, '/');
}

/* vmlinuz-RELEASE in boot_dir; RELEASE/modules.dep under modules_root (a
 * directory without it is what a removed package leaves: DKMS builds,
 * firmware notes). */
static int scan_installed(const KernelPaths *p, KernelState *k) {
        const char *boot = or(p ? p->boot_dir : NULL, KERNEL_DEFAULT_BOOT_DIR);
        const char *root = or(p ? p->modules_root : NULL, KERNEL_DEFAULT_MODULES_ROOT);
        DIR *d = opendir(boot);
        int r = 0;
        for (struct dirent *e; d && r == 0 && (e = readdir(d));)
                if (!strncmp(e->d_name, "vmlinuz-", 8) && plain_release(e->d_name + 8))
                        r = add_release(k, e->d_name + 8);
        if (d)
                closedir(d);
        d = opendir(root);
        for (struct dirent *e; d && r == 0 && (e = readdir(d));) {
                char dep[PATH_MAX];
                struct stat st;
                if (plain_release(e->d_name) &&
                    snprintf(dep, sizeof(dep), "%s/%s/modules.dep", root, e->d_name) < (int) sizeof(dep) &&
                    stat(dep, &st) == 0 && S_ISREG(st.st_mode))
                        r = add_release(k, e->d_name);
        }
        if (d)
                closedir(d);
        return r;
}

static int release_cmp(const void *a, const void *b) {
        int c = dpkg_version_compare(*(char *const *) a, *(char *const *) b);
        return c ? c : strcmp(*(char *const *) a, *(char *const *) b);
}

/* The newest of the running kernel's flavour, by Debian version order
 * (6.1.0-18 before 6.1.0-20, 6.1.0-9 before 6.1.0-10). */
static void judge_releases(KernelState *k) {
        if (k->n_installed)
                qsort(k->installed, k->n_installed, sizeof(char *), release_cmp);
        const char *flavour = kernel_flavour(k->release);
        for (size_t i = 0; i < k->n_installed; i++) {
                k->running_installed |= !strcmp(k->installed[i], k->release);
                if (!strcmp(kernel_flavour(k->installed[i]), flavour))
                        k->newest = k->installed[i];
        }
        /* Nothing installed found says nothing (no /boot, a container). */
        k->reboot_pending = k->n_installed &&
                            (!k->running_installed || (k->newest && dpkg_version_compare(k->newest, k->release) > 0));
}

int kernel_read(const KernelPaths *p, KernelState **ret, VgError *err) {
        _cleanup_(kernel_state_freep) KernelState *k = calloc(1, sizeof(*k));
        if (!k)
                return vg_error(err, -ENOMEM, "out of memory");
        struct utsname u;
        const char *release = p && p->release && *p->release ? p->release : uname(&u) == 0 ? u.release : "unknown";
        if (!(k->release = strdup(release)) ||
            asprintf(&k->modules_dir, "%s/%s", or(p ? p->modules_root : NULL, KERNEL_DEFAULT_MODULES_ROOT),
                     release) < 0) {
                k->modules_dir = NULL;
                return vg_error(err, -ENOMEM, "out of memory");
        }
        KernelSkips skips = { 0 };
        int r = read_modules(p, k, &skips, err);
        if (r == 0)
                r = read_taint(p, k, err);
        if (r == 0 && scan_installed(p, k) < 0)
                r = vg_error(err, -ENOMEM, "out of memory");
        if (r < 0)
                return r;
        judge_releases(k);
        k->n_skipped = skips.n;
        memcpy(k->first_skipped, skips.first, sizeof(k->first_skipped));
        for (size_t i = 0; i < k->n_modules; i++)
                k->modules[i].finding = kernel_module_finding(&k->modules[i]);
        *ret = TAKE_PTR(k);
        return 0;
}

/* ---- against the baseline and the packages ---- */

/* The baseline's entry of path, or of the file it resolves to. */
static const FscanFile *baseline_of(const FscanList *base, const char *path) {
        const FscanFile *f = fscan_find(base, path);
        if (f)
                return f;
        _cleanup_free_ char *real = realpath(path, NULL);
        return real && strcmp(real, path) ? fscan_find(base, real) : NULL;
}

static int against_package(Dpkg *d, KernelModule *m, VgError *err) {
        DpkgFile df;
        int r = dpkg_owner(d, m->path, &df, err);
        if (r < 0)
                return r;
        if (!df.package) {
                m->status |= KERNEL_NOT_PACKAGED;
                return 0;
        }
        if (!(m->package = strdup(df.package)) || !(m->package_version = vg_strdup0(df.version)))
                return vg_error(err, -ENOMEM, "out of memory");
        char md5[33];
        if (!df.has_md5 || dpkg_md5_file(m->path, md5, NULL) < 0)
                return 0;
        if (strcmp(md5, df.md5))
                m->status |= KERNEL_PACKAGE_MISMATCH;
        else
                m->package_verified = true;
        return 0;
}

int kernel_compare(KernelState *k, const FscanList *baseline, Dpkg *dpkg, VgError *err) {
        if (dpkg) {
                /* Only the modules' files indexed: kilobytes, not the
                 * whole system's 18 MiB (dpkg_restrict). */
                _cleanup_free_ const char **paths = calloc(k->n_modules + 1, sizeof(char *));
                size_t n = 0;
                if (!paths)
                        return vg_error(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < k->n_modules; i++)
                        if (k->modules[i].path)
                                paths[n++] = k->modules[i].path;
                int r = dpkg_restrict(dpkg, paths, n);
                if (r < 0 && r != -EBUSY)
                        return vg_error(err, r, "out of memory");
        }
        k->baseline_compared = baseline != NULL;
        k->packages_compared = dpkg != NULL;
        for (size_t i = 0; i < k->n_modules; i++) {
                KernelModule *m = &k->modules[i];
                if (!m->path || (m->status & KERNEL_MISSING))
                        continue;
                FscanFile now;
                int r = fscan_file(m->path, FSCAN_ALL, &now);
                if (r == -ENOENT) {
                        m->status |= KERNEL_MISSING;
                        continue;
                }
                if (r < 0)
                        return vg_error(err, r, "'%s': %s", m->path, strerror(-r));
                const FscanFile *was = baseline ? baseline_of(baseline, m->path) : NULL;
                if (baseline && !was)
                        m->status |= KERNEL_NOT_IN_BASELINE;
                else if (was && (m->changed = fscan_diff(was, &now, was->attrs)))
                        m->status |= KERNEL_CHANGED;
                fscan_file_clear(&now);
                if (dpkg && (r = against_package(dpkg, m, err)) < 0)
                        return r;
        }
        for (size_t i = 0; i < k->n_modules; i++)
                k->modules[i].finding = kernel_module_finding(&k->modules[i]);
        return 0;
}
