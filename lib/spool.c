/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtgov/cleanup.h"
#include "virtgov/spool.h"

/* One spooled event is an Event's JSON: a few KiB. */
#define SPOOL_FILE_MAX (8 * 1024 * 1024)
#define SUFFIX ".json"

int spool_write(const char *dir, const Event *e, VgError *err) {
        int r = vg_mkdir_p(dir, 0700);
        if (r < 0)
                return vg_error(err, r, "spool '%s': cannot create: %s", dir, strerror(-r));

        _cleanup_free_ char *text = event_render(e, NULL);
        if (!text)
                return vg_error(err, -ENOMEM, "out of memory");

        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s" SUFFIX, dir, e->ref) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        r = vg_write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0)
                return vg_error(err, r, "spool '%s': %s", path, strerror(-r));
        return 0;
}

static bool is_spool_name(const char *name) {
        size_t l = strlen(name);
        return l > strlen(SUFFIX) && name[0] != '.' && !strcmp(name + l - strlen(SUFFIX), SUFFIX);
}

static void reject(int dfd, const char *name) {
        mkdirat(dfd, "rejected", 0700);
        _cleanup_free_ char *to = NULL;
        if (asprintf(&to, "rejected/%s", name) >= 0)
                renameat(dfd, name, dfd, to);
}

/* Appends one spooled file's event inside the caller's transaction. A
 * malformed file is moved aside at once (it holds nothing to commit). */
static int fold_one(int dfd, const char *name, Store *s, SpoolStats *st, VgError *err) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 1 : vg_error(err, -errno, "spool file '%s': %s", name, strerror(errno));

        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = vg_read_fd(fd, SPOOL_FILE_MAX, &buf, &len);
        json_error_t jerr;
        json_t *j = r == 0 ? json_loadb(buf, len, 0, &jerr) : NULL;
        Event *e = NULL;
        if (!j || event_from_json(j, &e, NULL) < 0) {
                json_decref(j);
                reject(dfd, name);
                st->rejected++;
                return 1;
        }
        json_decref(j);
        r = store_append_event(s, e, NULL, err);
        event_free(e);
        if (r < 0)
                return r;
        if (r == 1)
                st->duplicates++;
        else
                st->folded++;
        return 0;
}

/* One transaction per batch: a burst of spooled events costs one fsync per
 * FOLD_BATCH, not one each. */
#define FOLD_BATCH 512

static int fold_batch(int dfd, char **names, size_t n, Store *s, SpoolStats *st, VgError *err) {
        SpoolStats before = *st;
        int r = store_begin(s, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                r = fold_one(dfd, names[i], s, st, err);
                if (r == 1) {
                        free(names[i]);
                        names[i] = NULL;   /* gone or moved aside: nothing to unlink */
                        r = 0;
                }
        }
        if (r == 0)
                r = store_commit(s, err);
        if (r < 0) {
                store_rollback(s);
                /* Nothing of the batch was committed; its files stay for the
                 * next fold. Rejected files were moved aside already. */
                st->folded = before.folded;
                st->duplicates = before.duplicates;
                return r;
        }
        /* Only now that the events are committed may their files go. */
        for (size_t i = 0; i < n; i++)
                if (names[i] && unlinkat(dfd, names[i], 0) < 0 && errno != ENOENT)
                        return vg_error(err, -errno, "spool file '%s': cannot remove: %s", names[i], strerror(errno));
        return 0;
}

int spool_fold(const char *dir, Store *s, SpoolStats *ret_stats, VgError *err) {
        SpoolStats st = { 0 };
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT) {
                        if (ret_stats)
                                *ret_stats = st;
                        return 0;
                }
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        }
        int dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dfd2 < 0)
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        DIR *d = fdopendir(dfd2);
        if (!d) {
                close(dfd2);
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        }
        char *names[FOLD_BATCH];
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (!is_spool_name(de->d_name))
                        continue;
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                if (++n == FOLD_BATCH) {
                        r = fold_batch(dfd, names, n, s, &st, err);
                        for (size_t i = 0; i < n; i++)
                                free(names[i]);
                        n = 0;
                }
        }
        if (r == 0 && n)
                r = fold_batch(dfd, names, n, s, &st, err);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        closedir(d);
        /* Make the removals durable, so a crash does not bring files back
         * (harmless, since they would be duplicates, but noisy). */
        fsync(dfd);
        if (ret_stats)
                *ret_stats = st;
        return r;
}

int spool_count(const char *dir, size_t *ret) {
        size_t n = 0;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                *ret = 0;
                return r == -ENOENT ? 0 : r;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (is_spool_name(de->d_name))
                        n++;
        closedir(d);
        *ret = n;
        return 0;
}
