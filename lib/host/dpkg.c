/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's database: opening, MD5s of files, and the pure classification of
 * drift. The parsers are in dpkg-status.c, dpkg-index.c and dpkg-log.c;
 * the map and the skip counter they share, in dpkg-map.c. */
#include <errno.h>
#include <fcntl.h>
#include <nettle/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dpkg-priv.h"

/* The status file of a host with every Debian package installed is about
 * 100 MiB; ours is 1 MiB for 1,037 packages. */
#define DPKG_STATUS_MAX (256 * 1024 * 1024)
#define DPKG_DIVERSIONS_MAX (16 * 1024 * 1024)

int dpkg_new(const char *admindir, const char *logfile, Dpkg **ret) {
        _cleanup_(dpkg_freep) Dpkg *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->usrmerge = true;
        if (!(d->admindir = strdup(admindir ?: DPKG_DEFAULT_ADMINDIR)) ||
            !(d->logfile = strdup(logfile ?: DPKG_DEFAULT_LOGFILE)))
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

static int read_admin_file(Dpkg *d, const char *name, size_t max, bool optional, char **ret_path,
                           char **ret_buf, size_t *ret_len, VgError *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", d->admindir, name) < 0)
                return -ENOMEM;
        int r = vg_read_file(path, max, ret_buf, ret_len);
        if (r == -ENOENT && optional) {
                *ret_buf = NULL;
                *ret_len = 0;
        } else if (r < 0)
                return vg_error(err, r, "%s: %s", path, r == -EFBIG ? "larger than dpkg's files can be" : strerror(-r));
        *ret_path = TAKE_PTR(path);
        return 0;
}

int dpkg_open(const char *admindir, const char *logfile, Dpkg **ret, VgError *err) {
        _cleanup_(dpkg_freep) Dpkg *d = NULL;
        if (dpkg_new(admindir, logfile, &d) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        static const struct { const char *name; size_t max; bool optional; } files[] = {
                { "status", DPKG_STATUS_MAX, false },
                { "diversions", DPKG_DIVERSIONS_MAX, true },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL, *buf = NULL;
                size_t len;
                int r = read_admin_file(d, files[i].name, files[i].max, files[i].optional, &path, &buf, &len, err);
                if (r < 0)
                        return r;
                if (!buf)
                        continue;
                r = i == 0 ? dpkg_parse_status(d, buf, len, path) : dpkg_parse_diversions(d, buf, len, path);
                if (r < 0)
                        return vg_error(err, r, "%s: out of memory", path);
        }
        *ret = TAKE_PTR(d);
        return 0;
}

Dpkg *dpkg_free(Dpkg *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_packages; i++) {
                DpkgPackage *p = &d->packages[i];
                free(p->name); free(p->arch); free(p->qname); free(p->version); free(p->state);
                for (size_t j = 0; j < p->n_conffiles; j++)
                        free(p->conffiles[j].path);
                free(p->conffiles);
        }
        free(d->packages);
        for (size_t i = 0; i < d->n_diversions; i++) {
                free(d->diversions[i].from); free(d->diversions[i].to); free(d->diversions[i].by);
        }
        free(d->diversions);
        for (size_t i = 0; i < d->n_arenas; i++)
                free(d->arenas[i]);
        free(d->arenas);
        for (size_t i = 0; i < d->n_wanted; i++)
                free(d->wanted[i]);
        free(d->wanted);
        free(d->records);
        for (size_t i = 0; i < d->n_changes; i++)
                free(d->changes[i].package);
        free(d->changes);
        DpkgMap *maps[] = { &d->package_map, &d->divert_from, &d->divert_to, &d->path_map, &d->change_map };
        for (size_t i = 0; i < ELEMENTSOF(maps); i++)
                dpkg_map_clear(maps[i]);
        free(d->admindir);
        free(d->logfile);
        free(d);
        return NULL;
}

void dpkg_set_usrmerge(Dpkg *d, bool on) {
        d->usrmerge = on;
}

void dpkg_stats(const Dpkg *d, DpkgStats *ret) {
        *ret = d->stats;
        ret->n_packages = d->n_packages;
        ret->n_diversions = d->n_diversions;
}

/* ---- MD5 ---- */

int dpkg_md5_fd(int fd, char hex[static 33]) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        struct md5_ctx ctx;
        md5_init(&ctx);
        uint8_t buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                md5_update(&ctx, (size_t) n, buf);
        }
        uint8_t dg[MD5_DIGEST_SIZE];
        md5_digest(&ctx, sizeof(dg), dg);
        vg_hex(dg, sizeof(dg), hex);
        return 0;
}

int dpkg_md5_file(const char *path, char hex[static 33], VgError *err) {
        /* O_PATH opens nothing: a device's open routine never runs, a FIFO
         * never blocks. Only once fstat says regular is the same inode
         * opened for reading, through the fd, so no rename can swap it. */
        _cleanup_close_ int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0)
                return vg_error(err, -errno, "%s: %s", path, strerror(errno));
        struct stat st;
        if (fstat(pfd, &st) < 0)
                return vg_error(err, -errno, "%s: %s", path, strerror(errno));
        /* O_PATH|O_NOFOLLOW opens a symlink itself rather than failing */
        if (S_ISLNK(st.st_mode))
                return vg_error(err, -ELOOP, "%s: a symbolic link, not followed", path);
        if (!S_ISREG(st.st_mode))
                return vg_error(err, -EBADFD, "%s: not a regular file, not read", path);
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
        /* (not O_NOFOLLOW: the fd's /proc entry is a magic link) */
        _cleanup_close_ int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vg_error(err, -errno, "%s: %s", path, strerror(errno));
        int r = dpkg_md5_fd(fd, hex);
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, strerror(-r));
        return 0;
}

/* ---- classification: pure ---- */

#define VERDICT(v, why, ...) ((DpkgClassification) { .verdict = (v), .reason = (why), __VA_ARGS__ })

static DpkgClassification classify(const DpkgFacts *f) {
        const DpkgFile *file = f->file;
        if (!file || !file->package)
                return VERDICT(DPKG_VERDICT_UNEXPLAINED, "no package ships this path");
        /* dpkg keeps a conffile's MD5 in the status file; md5sums usually
         * leaves conffiles out, and where it has one the status wins:
         * that is what dpkg compares at the next upgrade. */
        const char *expected = file->conffile && file->conffile_md5[0] ? file->conffile_md5
                             : file->has_md5 ? file->md5 : NULL;
        bool matches = expected && f->current_md5 && !strcasecmp(expected, f->current_md5);
        if (matches && f->change && f->change->last_time_us > f->baseline_time_us)
                return VERDICT(DPKG_VERDICT_PACKAGE_UPDATE,
                               "the content is the installed package's, and dpkg changed the package after the baseline",
                               .package = file->package, .old_version = f->change->old_version,
                               .new_version = f->change->new_version);
        if (matches)
                return VERDICT(DPKG_VERDICT_UNEXPLAINED,
                               "the content is the installed package's, but dpkg logged no change to it since the baseline");
        if (file->conffile && file->conffile_md5[0])
                return VERDICT(DPKG_VERDICT_CONFFILE_EDIT, f->current_md5
                               ? "a conffile whose content is not the one dpkg recorded" : "a conffile that is gone",
                               .package = file->package);
        if (file->conffile)
                return VERDICT(DPKG_VERDICT_UNEXPLAINED, "a conffile dpkg has not recorded an MD5 for yet (newconffile)");
        if (!f->current_md5)
                return VERDICT(DPKG_VERDICT_UNEXPLAINED, "the file is gone or unreadable");
        if (!expected)
                return VERDICT(DPKG_VERDICT_UNEXPLAINED, "the package has no MD5 for this file");
        return VERDICT(DPKG_VERDICT_UNEXPLAINED, "the content matches no MD5 the package holds");
}

void dpkg_classify(const DpkgFacts *facts, DpkgClassification *ret) {
        *ret = classify(facts);
}

const char *dpkg_verdict_to_string(DpkgVerdict v) {
        static const char *const names[] = {
                [DPKG_VERDICT_UNEXPLAINED] = "unexplained",
                [DPKG_VERDICT_PACKAGE_UPDATE] = "package_update",
                [DPKG_VERDICT_CONFFILE_EDIT] = "conffile_edit",
        };
        return (unsigned) v < ELEMENTSOF(names) ? names[v] : NULL;
}

const char *dpkg_action_to_string(DpkgAction a) {
        static const char *const names[] = {
                [DPKG_ACTION_NONE] = "none", [DPKG_ACTION_INSTALL] = "install",
                [DPKG_ACTION_UPGRADE] = "upgrade", [DPKG_ACTION_REMOVE] = "remove",
                [DPKG_ACTION_PURGE] = "purge", [DPKG_ACTION_CONFIGURE] = "configure",
                [DPKG_ACTION_TRIGPROC] = "trigproc", [DPKG_ACTION_STATUS] = "status",
                [DPKG_ACTION_STARTUP] = "startup", [DPKG_ACTION_CONFFILE] = "conffile",
        };
        _Static_assert(ELEMENTSOF(names) == _DPKG_ACTION_MAX, "a name for every action");
        return (unsigned) a < ELEMENTSOF(names) ? names[a] : NULL;
}
