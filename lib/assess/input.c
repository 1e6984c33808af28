/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The assessment's inputs, each read on first use and kept for the run.
 * Every path comes from AssessPaths; nothing here judges.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "priv.h"
#include "virtgov/host/procscan.h"

/* Nothing the assessment reads is near this; /proc files are small. */
#define INPUT_MAX (4 * 1024 * 1024)
#define DOMAIN_XML_MAX (4 * 1024 * 1024)

const char *assess_at(char *buf, size_t n, const char *path, unsigned line) {
        if (line)
                snprintf(buf, n, "%s:%u", path, line);
        else
                snprintf(buf, n, "%s", path);
        return buf;
}

bool assess_listed(char *const *list, const char *name) {
        for (size_t i = 0; list && list[i]; i++)
                if (!strcmp(list[i], name))
                        return true;
        return false;
}

bool assess_loopback(const char *a) {
        if (!a)
                return false;
        if (!strncmp(a, "127.", 4) || !strcmp(a, "::1") || !strcmp(a, "localhost") ||
            !strncmp(a, "::ffff:127.", 11))
                return true;
        return false;
}

static void loaded_fail(Loaded *l, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void loaded_fail(Loaded *l, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->err, sizeof(l->err), fmt, ap);
        va_end(ap);
        l->r = r;
}

int assess_read(AssessCtx *x, const AssessCheck *c, const char *path, size_t max, char **ret, size_t *ret_len) {
        size_t len;
        int r = assess_read_file(x, path, max ? max : INPUT_MAX, ret, ret_len ? ret_len : &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                assess_add(x, c, ASSESS_ERROR, path, NULL, "cannot read %s: %s", path, vg_read_error(r));
                return r;
        }
        return 0;
}

static int read_line(AssessCtx *x, const AssessCheck *c, const char *path, const char *what, char *buf, size_t n) {
        _cleanup_free_ char *t = NULL;
        size_t len;
        int r = assess_read_file(x, path, 65536, &t, &len);
        if (r == -ENOENT || r == -ENOTDIR)
                return -ENOENT;
        if (r < 0) {
                assess_add(x, c, ASSESS_ERROR, what, NULL, "cannot read %s: %s", path, vg_read_error(r));
                return r;
        }
        char *s = t;
        while (*s == ' ' || *s == '\t')
                s++;
        s[strcspn(s, "\n")] = '\0';
        size_t e = strlen(s);
        while (e && isspace((unsigned char) s[e - 1]))
                s[--e] = '\0';
        snprintf(buf, n, "%s", s);
        return 0;
}

int assess_sysctl(AssessCtx *x, const AssessCheck *c, const char *name, char *buf, size_t n) {
        char path[4096], what[256];
        size_t k = (size_t) snprintf(path, sizeof(path), "%s/sys/", x->p->proc_dir);
        for (const char *s = name; *s && k + 1 < sizeof(path); s++)
                path[k++] = *s == '.' ? '/' : *s;
        path[k] = '\0';
        snprintf(what, sizeof(what), "sysctl %s", name);
        return read_line(x, c, path, what, buf, n);
}

int assess_sysfs(AssessCtx *x, const AssessCheck *c, const char *rel, char *buf, size_t n) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", x->p->sys_dir, rel);
        return read_line(x, c, path, path, buf, n);
}

/* A libvirt config file: parsed, or absent (libvirt's defaults: the
 * daemons read a missing file as empty), or an error in l. */
static Vconf *load_vconf(AssessCtx *x, const char *path, bool *absent, Loaded *l) {
        _cleanup_free_ char *t = NULL;
        size_t len;
        int r = assess_read_file(x, path, INPUT_MAX, &t, &len);
        *absent = r == -ENOENT;
        if (r == -ENOENT)
                return NULL;
        if (r < 0) {
                loaded_fail(l, r, "cannot read %s: %s", path, vg_read_error(r));
                return NULL;
        }
        Vconf *v = NULL;
        VgError err = { "" };
        if ((r = vconf_parse(t, len, path, &v, &err)) < 0)
                loaded_fail(l, r, "%s (libvirt refuses the whole file: its daemon does not start with it)",
                            err.text);
        return v;
}

const Vconf *assess_qemu_conf(AssessCtx *x, const AssessCheck *c) {
        if (!x->qemu_l.done) {
                x->qemu_l.done = true;
                if (asprintf(&x->qemu_path, "%s/qemu.conf", x->p->libvirt_dir) < 0) {
                        x->qemu_path = NULL;
                        loaded_fail(&x->qemu_l, -ENOMEM, "out of memory");
                } else
                        x->qemu = load_vconf(x, x->qemu_path, &x->qemu_absent, &x->qemu_l);
        }
        if (x->qemu_l.r < 0) {
                assess_add_error(x, c, &x->qemu_l);
                return NULL;
        }
        /* Absent: an empty conf, every key at libvirt's default. */
        static const Vconf empty = { 0 };
        return x->qemu ? x->qemu : &empty;
}

/* ---- processes ---- */

/* When the host whose proc_dir is read booted, in seconds since the
 * epoch; -1: unknown. A process's start in its stat counts from that
 * boot. On this host, from the clocks themselves (CLOCK_REALTIME less
 * CLOCK_BOOTTIME, to the microsecond: a hook installed and libvirtd
 * restarted within the same second must read as picked up). Under a
 * root, the tree's proc/stat btime: a copied tree's processes started
 * on its own host's boot, and a fixture's answer must not depend on when
 * the machine running the tests booted. btime is whole seconds, rounded
 * down: a start is taken up to a second early, the cautious side (a
 * hook may read as not yet picked up). */
static double boot_time(AssessCtx *x) {
        if (x->btime != 0)
                return x->btime;
        if (!x->p->root) {
                struct timespec real, boot;
                clock_gettime(CLOCK_REALTIME, &real);
                clock_gettime(CLOCK_BOOTTIME, &boot);
                x->btime = (double) real.tv_sec + real.tv_nsec / 1e9 - (double) boot.tv_sec - boot.tv_nsec / 1e9;
        } else {
                char path[4200];
                _cleanup_free_ char *t = NULL;
                snprintf(path, sizeof(path), "%s/stat", x->p->proc_dir);
                const char *b = assess_read_file(x, path, INPUT_MAX, &t, NULL) == 0 ? strstr(t, "\nbtime ") : NULL;
                x->btime = b ? strtod(b + 7, NULL) : -1;
        }
        return x->btime;
}

/* When pid started, in seconds since the epoch; 0: unknown. */
static double proc_start(AssessCtx *x, long pid) {
        char path[4200];
        _cleanup_free_ char *stat = NULL;
        uint64_t ticks;
        snprintf(path, sizeof(path), "%s/%ld/stat", x->p->proc_dir, pid);
        double boot = boot_time(x);
        if (boot <= 0 || assess_read_file(x, path, 4096, &stat, NULL) < 0 || proc_stat_start_ticks(stat, &ticks) < 0)
                return 0;
        return boot + (double) ticks / (double) sysconf(_SC_CLK_TCK);
}

int assess_procs(AssessCtx *x, const AssessCheck *c) {
        if (!x->procs_l.done) {
                x->procs_l.done = true;
                DIR *d = assess_opendir(x, x->p->proc_dir);
                if (!d)
                        loaded_fail(&x->procs_l, -errno, "cannot list %s: %s", x->p->proc_dir, strerror(errno));
                for (struct dirent *de; d && (de = readdir(d));) {
                        char *end;
                        long pid = strtol(de->d_name, &end, 10);
                        if (*end || pid <= 0)
                                continue;
                        char path[4096], buf[4096], comm[64] = "";
                        snprintf(path, sizeof(path), "%s/%ld/comm", x->p->proc_dir, pid);
                        _cleanup_free_ char *text = NULL;
                        if (assess_read_file(x, path, sizeof(comm) - 1, &text, NULL) < 0)
                                continue;   /* gone since the listing */
                        snprintf(comm, sizeof(comm), "%s", text);
                        comm[strcspn(comm, "\n")] = '\0';
                        if (vg_grow((void **) &x->procs, &x->n_procs, sizeof(*x->procs)) < 0) {
                                loaded_fail(&x->procs_l, -ENOMEM, "out of memory");
                                break;
                        }
                        ProcEntry *e = &x->procs[x->n_procs - 1];
                        e->pid = (int) pid;
                        snprintf(e->comm, sizeof(e->comm), "%s", comm);
                        if (!strcmp(comm, "libvirtd") || !strcmp(comm, "virtqemud"))
                                e->start = proc_start(x, pid);
                        snprintf(path, sizeof(path), "%s/%ld/exe", x->p->proc_dir, pid);
                        ssize_t l = assess_readlink(x, path, buf, sizeof(buf) - 1);
                        if (l >= 0) {
                                buf[l] = '\0';
                                e->exe = strdup(buf);
                        }
                }
                if (d)
                        closedir(d);
        }
        if (x->procs_l.r < 0) {
                assess_add_error(x, c, &x->procs_l);
                return x->procs_l.r;
        }
        return 0;
}

bool assess_proc_running(AssessCtx *x, const char *comm) {
        for (size_t i = 0; i < x->n_procs; i++)
                if (!strcmp(x->procs[i].comm, comm))
                        return true;
        return false;
}

/* ---- the libvirt daemons ---- */

int assess_daemons(AssessCtx *x, const AssessCheck *c) {
        if (!x->daemons_l.done) {
                x->daemons_l.done = true;
                /* Whichever runs: the monolithic libvirtd or the modular
                 * virtqemud (both, during a migration between them). */
                static const char *const names[] = { "libvirtd", "virtqemud" };
                int r = assess_procs(x, c);
                if (r < 0) {
                        /* (assess_procs has said why, for c) */
                        loaded_fail(&x->daemons_l, r, "%s", x->procs_l.err);
                        return r;
                }
                size_t running = 0;
                for (size_t i = 0; i < 2; i++) {
                        DaemonConf *d = &x->daemons[i];
                        d->name = names[i];
                        d->running = assess_proc_running(x, names[i]);
                        running += d->running;
                        if (asprintf(&d->conf_path, "%s/%s.conf", x->p->libvirt_dir, names[i]) < 0) {
                                d->conf_path = NULL;
                                loaded_fail(&x->daemons_l, -ENOMEM, "out of memory");
                                break;
                        }
                        d->conf = load_vconf(x, d->conf_path, &d->absent, &d->l);
                }
                /* The ones that run; with none running, the ones that
                 * have a config (the host's intent); else libvirtd's
                 * defaults. Kept first in the array. */
                DaemonConf keep[2];
                size_t k = 0;
                for (size_t i = 0; i < 2; i++)
                        if (running ? x->daemons[i].running : !x->daemons[i].absent)
                                keep[k++] = x->daemons[i];
                for (size_t i = 0; i < 2; i++)
                        if (!(running ? x->daemons[i].running : !x->daemons[i].absent)) {
                                vconf_free(x->daemons[i].conf);
                                free(x->daemons[i].conf_path);
                        }
                if (!k) {
                        keep[0] = x->daemons[0];   /* libvirtd's defaults: already freed above */
                        keep[0].conf = NULL;
                        if (asprintf(&keep[0].conf_path, "%s/libvirtd.conf", x->p->libvirt_dir) < 0)
                                keep[0].conf_path = NULL;
                        k = 1;
                }
                memcpy(x->daemons, keep, sizeof(keep));
                x->n_daemons = k;
        }
        if (x->daemons_l.r < 0) {
                assess_add_error(x, c, &x->daemons_l);
                return x->daemons_l.r;
        }
        return 0;
}

/* ---- domains ---- */

static int domain_cmp(const void *a, const void *b) {
        return strcmp(((const DomainXml *) a)->name, ((const DomainXml *) b)->name);
}

int assess_domains(AssessCtx *x, const AssessCheck *c) {
        if (!x->domains_l.done) {
                x->domains_l.done = true;
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/qemu", x->p->libvirt_dir);
                DIR *d = assess_opendir(x, dir);
                if (!d && errno != ENOENT)
                        loaded_fail(&x->domains_l, -errno, "cannot list %s: %s", dir, strerror(errno));
                for (struct dirent *de; d && (de = readdir(d));) {
                        size_t l = strlen(de->d_name);
                        if (l < 5 || strcmp(de->d_name + l - 4, ".xml") || de->d_name[0] == '.')
                                continue;
                        if (vg_grow((void **) &x->domains, &x->n_domains, sizeof(*x->domains)) < 0) {
                                loaded_fail(&x->domains_l, -ENOMEM, "out of memory");
                                break;
                        }
                        DomainXml *dx = &x->domains[x->n_domains - 1];
                        if (asprintf(&dx->path, "%s/%s", dir, de->d_name) < 0) {
                                dx->path = NULL;
                                x->n_domains--;
                                loaded_fail(&x->domains_l, -ENOMEM, "out of memory");
                                break;
                        }
                        _cleanup_free_ char *t = NULL;
                        size_t len;
                        VgError err = { "" };
                        int r = assess_read_file(x, dx->path, DOMAIN_XML_MAX, &t, &len);
                        if (r < 0)
                                snprintf(dx->err, sizeof(dx->err), "cannot read %s: %s", dx->path, vg_read_error(r));
                        else if (xmldom_parse(t, len, &dx->root, &err) < 0)
                                snprintf(dx->err, sizeof(dx->err), "%s: %s", dx->path, err.text);
                        else if (!xnode_is(dx->root, "domain", NULL)) {
                                snprintf(dx->err, sizeof(dx->err), "%s: not a <domain>", dx->path);
                                dx->root = xmldom_free(dx->root);
                        }
                        _cleanup_free_ char *name = dx->root ? xnode_text(xnode_child(dx->root, "name")) : NULL;
                        dx->name = name && *name ? TAKE_PTR(name) : strndup(de->d_name, l - 4);
                        if (!dx->name)
                                loaded_fail(&x->domains_l, -ENOMEM, "out of memory");
                }
                if (d)
                        closedir(d);
                if (x->n_domains && x->domains_l.r == 0)
                        qsort(x->domains, x->n_domains, sizeof(*x->domains), domain_cmp);
        }
        if (x->domains_l.r < 0) {
                assess_add_error(x, c, &x->domains_l);
                return x->domains_l.r;
        }
        return 0;
}

bool assess_dom_has_hostdev(const XNode *root) {
        XNODE_FOREACH(e, xnode_child(root, "devices"))
                if (xnode_is(e, "hostdev", NULL) ||
                    (xnode_is(e, "interface", NULL) && vg_streq(xnode_attr(e, "type"), "hostdev")))
                        return true;
        return false;
}

/* ---- accounts ---- */

/* group, passwd, sudoers and sudoers.d, read as every other input is. */
static int accounts_io_read(void *u, const char *path, size_t max, char **ret) {
        return assess_read_file(u, path, max, ret, NULL);
}

static int accounts_io_list(void *u, const char *dir, char ***ret, size_t *ret_n) {
        return assess_list(u, dir, ret, ret_n);
}

const Accounts *assess_accounts(AssessCtx *x, const AssessCheck *c) {
        if (!x->acc_l.done) {
                x->acc_l.done = true;
                VgError err = { "" };
                const AccountsIo io = { .read = accounts_io_read, .list = accounts_io_list, .userdata = x };
                int r = accounts_read_via(&io, x->p->etc_dir, 0, &x->acc, &err);
                if (r < 0)
                        loaded_fail(&x->acc_l, r, "%s", err.text);
        }
        if (x->acc_l.r < 0) {
                assess_add_error(x, c, &x->acc_l);
                return NULL;
        }
        return x->acc;
}
