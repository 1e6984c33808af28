/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Patching: security updates apt's lists know of (read offline: no
 * network, only what the last `apt update` fetched) for the installed
 * qemu, libvirt and kernel packages; how old those lists are; a reboot
 * pending; processes that run a binary replaced since they started.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "priv.h"
#include "virtgov/host/dpkg-version.h"
#include "virtgov/host/kernel.h"

/* Debian's security Packages list is ~3 MiB decompressed, the status
 * file a few MiB: far below these. */
#define LIST_MAX (256u * 1024 * 1024)
#define LIST_COMPRESSED_MAX (64u * 1024 * 1024)

/* The packages whose updates the checks look for, by check arg. */
static bool of_interest(const char *pkg) {
        return !strncmp(pkg, "qemu-", 5) || !strncmp(pkg, "libvirt", 7) || !strncmp(pkg, "linux-image-", 12);
}

static int gunzip(const char *in, size_t len, char **ret, size_t *ret_len) {
        z_stream z = { .next_in = (Bytef *) in, .avail_in = (uInt) len };
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;
        size_t cap = len * 4 + 4096, n = 0;
        char *out = malloc(cap + 1);
        int zr = Z_OK;
        while (out && zr == Z_OK) {
                if (n == cap) {
                        if (cap >= LIST_MAX) {
                                zr = Z_MEM_ERROR;
                                break;
                        }
                        char *o = realloc(out, cap * 2 + 1);
                        if (!o)
                                break;
                        out = o;
                        cap *= 2;
                }
                z.next_out = (Bytef *) out + n;
                z.avail_out = (uInt) (cap - n);
                zr = inflate(&z, Z_NO_FLUSH);
                n = cap - z.avail_out;
        }
        inflateEnd(&z);
        if (!out || zr != Z_STREAM_END) {
                free(out);
                return out ? -EBADMSG : -ENOMEM;
        }
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        return 0;
}

/* A list's text, decompressed as its name says. */
static int read_list(AssessCtx *x, const char *path, char **ret, size_t *len) {
        _cleanup_free_ char *raw = NULL;
        size_t n;
        int r = assess_read_file(x, path, LIST_COMPRESSED_MAX, &raw, &n);
        if (r < 0)
                return r;
        size_t l = strlen(path);
        if (l > 4 && !strcmp(path + l - 4, ".lz4"))
                return assess_lz4_decode((const uint8_t *) raw, n, LIST_MAX, ret, len);
        if (l > 3 && !strcmp(path + l - 3, ".gz"))
                return gunzip(raw, n, ret, len);
        *ret = TAKE_PTR(raw);
        *len = n;
        return 0;
}

/* Each stanza's Package, Version and (for the status file) whether it is
 * installed, to fn. Fields are matched at the start of a line. */
typedef void (*StanzaFn)(void *u, const char *pkg, const char *version, bool installed);

static void stanzas(char *t, StanzaFn fn, void *u) {
        const char *pkg = NULL, *ver = NULL;
        bool inst = false;
        for (char *save = NULL, *l = strtok_r(t, "\n", &save);; l = strtok_r(NULL, "\n", &save)) {
                /* strtok_r skips empty lines: a new Package: starts a stanza. */
                if (!l || !strncmp(l, "Package: ", 9)) {
                        if (pkg && ver)
                                fn(u, pkg, ver, inst);
                        pkg = ver = NULL;
                        inst = false;
                        if (!l)
                                break;
                        pkg = l + 9;
                } else if (!strncmp(l, "Version: ", 9))
                        ver = l + 9;
                else if (!strncmp(l, "Status: ", 8))
                        inst = strstr(l, " installed") != NULL;
        }
}

typedef struct Installed {
        char **pkg, **ver;
        size_t n;
} Installed;

static void add_installed(void *u, const char *pkg, const char *ver, bool inst) {
        Installed *in = u;
        if (!inst || !of_interest(pkg))
                return;
        size_t n = in->n;
        if (vg_grow((void **) &in->pkg, &n, sizeof(char *)) < 0 || vg_grow((void **) &in->ver, &in->n, sizeof(char *)) < 0)
                return;
        in->pkg[in->n - 1] = strdup(pkg);
        in->ver[in->n - 1] = strdup(ver);
}

typedef struct Scan {
        AssessCtx *x;
        Installed *in;
        const char *list;
} Scan;

static void against_list(void *u, const char *pkg, const char *ver, bool inst) {
        (void) inst;
        Scan *s = u;
        AssessCtx *x = s->x;
        for (size_t i = 0; i < s->in->n; i++) {
                if (!s->in->pkg[i] || strcmp(s->in->pkg[i], pkg) || dpkg_version_compare(ver, s->in->ver[i]) <= 0)
                        continue;
                /* The newest candidate of a package, across lists. */
                AssessUpdate *have = NULL;
                for (size_t k = 0; k < x->n_updates; k++)
                        if (!strcmp(x->updates[k].package, pkg))
                                have = &x->updates[k];
                if (have && dpkg_version_compare(ver, have->candidate) <= 0)
                        continue;
                if (!have) {
                        if (vg_grow((void **) &x->updates, &x->n_updates, sizeof(*x->updates)) < 0)
                                return;
                        have = &x->updates[x->n_updates - 1];
                        have->package = strdup(pkg);
                        have->installed = strdup(s->in->ver[i]);
                } else {
                        free(have->candidate);
                        free(have->list);
                }
                have->candidate = strdup(ver);
                have->list = strdup(s->list);
        }
}

static int load_updates(AssessCtx *x, const AssessCheck *c) {
        if (x->updates_l.done) {
                if (x->updates_l.r < 0)
                        assess_add_error(x, c, &x->updates_l);
                return x->updates_l.r;
        }
        x->updates_l.done = true;
        char path[4200];
        snprintf(path, sizeof(path), "%s/status", x->p->dpkg_admindir);
        _cleanup_free_ char *status = NULL;
        size_t len;
        int r = assess_read_file(x, path, LIST_MAX, &status, &len);
        if (r < 0) {
                snprintf(x->updates_l.err, sizeof(x->updates_l.err), "cannot read %s: %s", path, vg_read_error(r));
                x->updates_l.r = r;
                assess_add_error(x, c, &x->updates_l);
                return r;
        }
        Installed in = { 0 };
        stanzas(status, add_installed, &in);
        DIR *d = assess_opendir(x, x->p->apt_lists);
        for (struct dirent *de; d && (de = readdir(d));) {
                /* Debian's and Ubuntu's security archives: *-security_*_Packages[.lz4|.gz|.xz] */
                if (fnmatch("*security*_Packages", de->d_name, 0) && fnmatch("*security*_Packages.lz4", de->d_name, 0) &&
                    fnmatch("*security*_Packages.gz", de->d_name, 0))
                        continue;
                x->have_security_list = true;
                snprintf(path, sizeof(path), "%s/%s", x->p->apt_lists, de->d_name);
                _cleanup_free_ char *t = NULL;
                if ((r = read_list(x, path, &t, &len)) < 0) {
                        snprintf(x->updates_l.err, sizeof(x->updates_l.err), "cannot read %s: %s", path,
                                 r == -EBADMSG ? "not a valid compressed list" : vg_read_error(r));
                        x->updates_l.r = r;
                        break;
                }
                Scan s = { x, &in, de->d_name };
                stanzas(t, against_list, &s);
        }
        if (d)
                closedir(d);
        for (size_t i = 0; i < in.n; i++) {
                free(in.pkg[i]);
                free(in.ver[i]);
        }
        free(in.pkg);
        free(in.ver);
        if (x->updates_l.r < 0)
                assess_add_error(x, c, &x->updates_l);
        return x->updates_l.r;
}

void assess_check_security_updates(AssessCtx *x, const AssessCheck *c) {
        const char *prefix = c->arg;
        if (load_updates(x, c) < 0)
                return;
        if (!x->have_security_list) {
                assess_add(x, c, ASSESS_FAIL, x->p->apt_lists, NULL,
                           "apt has no security archive's list: security updates cannot be known (add "
                           "the -security suite to sources and run apt update)");
                return;
        }
        size_t n = 0;
        for (size_t i = 0; i < x->n_updates; i++) {
                const AssessUpdate *u = &x->updates[i];
                if (strncmp(u->package, prefix, strlen(prefix)))
                        continue;
                char where[4200];
                snprintf(where, sizeof(where), "%s/%s", x->p->apt_lists, u->list);
                assess_add(x, c, ASSESS_FAIL, where, NULL, "%s %s is installed; the security archive has %s",
                           u->package, u->installed, u->candidate);
                n++;
        }
        if (!n)
                assess_add(x, c, ASSESS_PASS, x->p->apt_lists, NULL,
                           "no security update for the installed %s* packages in apt's lists", prefix);
}

void assess_check_apt_age(AssessCtx *x, const AssessCheck *c) {
        DIR *d = assess_opendir(x, x->p->apt_lists);
        if (!d) {
                assess_add(x, c, errno == ENOENT ? ASSESS_FAIL : ASSESS_ERROR, x->p->apt_lists, NULL,
                           "cannot list %s: %s", x->p->apt_lists, strerror(errno));
                return;
        }
        int64_t newest = 0;
        char name[512] = "";
        for (struct dirent *de; (de = readdir(d));) {
                size_t l = strlen(de->d_name);
                if (!((l > 9 && !strcmp(de->d_name + l - 9, "InRelease")) || (l > 8 && !strcmp(de->d_name + l - 8, "_Release"))))
                        continue;
                char path[4200];
                struct stat st;
                snprintf(path, sizeof(path), "%s/%s", x->p->apt_lists, de->d_name);
                if (assess_stat(x, path, false, &st) == 0 && (int64_t) st.st_mtime * 1000000 > newest) {
                        newest = (int64_t) st.st_mtime * 1000000;
                        snprintf(name, sizeof(name), "%s", de->d_name);
                }
        }
        closedir(d);
        if (!newest) {
                assess_add(x, c, ASSESS_FAIL, x->p->apt_lists, NULL, "no Release file: apt has never fetched its lists");
                return;
        }
        int64_t days = (x->p->now_us - newest) / (86400LL * 1000000);
        char t[VG_TIME_MAX], where[4200];
        vg_time_format(newest, t);
        snprintf(where, sizeof(where), "%s/%s", x->p->apt_lists, name);
        assess_add(x, c, days <= (int64_t) x->p->apt_max_age_days ? ASSESS_PASS : ASSESS_FAIL, where, NULL,
                   "the lists were last fetched %.10s, %lld day(s) ago", t, (long long) days);
}

void assess_check_reboot_pending(AssessCtx *x, const AssessCheck *c) {
        char tainted[4200];
        snprintf(tainted, sizeof(tainted), "%s/sys/kernel/tainted", x->p->proc_dir);
        /* No module list ("" names no file: read as a kernel without
         * modules): only the releases are wanted here (the modules are
         * `integrity kernel`'s, and reading each one's file would cost the
         * assessment most of its time). Not /dev/null: a device is not
         * read as a file. */
        KernelPaths kp = { .proc_modules = "", .tainted = tainted, .modules_root = x->p->modules_root,
                           .boot_dir = x->p->boot_dir, .release = x->p->release };
        _cleanup_(kernel_state_freep) KernelState *k = NULL;
        VgError err = { "" };
        if (kernel_read(&kp, &k, &err) < 0) {
                assess_add(x, c, ASSESS_ERROR, NULL, NULL, "%s", err.text);
                return;
        }
        char where[4200];
        snprintf(where, sizeof(where), "%s/vmlinuz-%s", x->p->boot_dir, k->newest ? k->newest : k->release);
        if (!k->n_installed)
                assess_add(x, c, ASSESS_ERROR, x->p->boot_dir, NULL, "no installed kernel found in %s", x->p->boot_dir);
        else if (k->reboot_pending)
                assess_add(x, c, ASSESS_FAIL, where, NULL, "kernel %s runs; %s%s is installed: a reboot is pending",
                           k->release, k->newest ? k->newest : "another",
                           k->running_installed ? "" : " (the running one is no longer installed)");
        else
                assess_add(x, c, ASSESS_PASS, where, NULL, "kernel %s runs, the newest installed", k->release);
}

void assess_check_deleted_binaries(AssessCtx *x, const AssessCheck *c) {
        if (assess_procs(x, c) < 0)
                return;
        size_t n = 0;
        for (size_t i = 0; i < x->n_procs; i++) {
                const ProcEntry *p = &x->procs[i];
                size_t l = p->exe ? strlen(p->exe) : 0;
                /* A memfd's exe (runc, systemd's sealed copies) is deleted
                 * by design: no file was replaced. */
                if (l < 10 || strcmp(p->exe + l - 10, " (deleted)") || !strncmp(p->exe, "/memfd:", 7))
                        continue;
                char where[4200];
                snprintf(where, sizeof(where), "%s/%d/exe", x->p->proc_dir, p->pid);
                assess_add(x, c, ASSESS_FAIL, where, NULL, "pid %d (%s) runs %s: restart it to run the update",
                           p->pid, p->comm, p->exe);
                n++;
        }
        if (!n)
                assess_add(x, c, ASSESS_PASS, x->p->proc_dir, NULL, "no process runs a deleted binary (of %zu)",
                           x->n_procs);
}
