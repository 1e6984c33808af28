/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt's domain files, for what the domains run (domdefs.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtgov/util/config.h"
#include "virtgov/host/domdefs.h"
#include "virtgov/model/domxml.h"

/* A NULL-ended list being built. */
typedef struct Strv {
        char **v;
        size_t n;                /* with the NULL */
} Strv;

static int push(Strv *l, char *s) {
        if (!s)
                return -ENOMEM;
        /* (the first push makes room for the NULL too) */
        if ((!l->n && vg_grow((void **) &l->v, &l->n, sizeof(char *)) < 0) ||
            vg_grow((void **) &l->v, &l->n, sizeof(char *)) < 0) {
                free(s);
                return -ENOMEM;
        }
        l->v[l->n - 2] = s;
        l->v[l->n - 1] = NULL;
        return 0;
}

static int note(Strv *unread, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(Strv *unread, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return push(unread, n < 0 ? NULL : s);
}

static int facts_paths(const DomainFacts *f, Strv *paths) {
        const char *const v[] = { f->emulator, f->loader, f->kernel, f->initrd };
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
                if (v[i] && *v[i] && push(paths, strdup(v[i])) < 0)
                        return -ENOMEM;
        return 0;
}

/* One NAME.xml. libvirt follows a symlink there, so this does too; only
 * a regular file is read (vg_read_regular_fd; O_NONBLOCK: a FIFO put
 * there does not hang the open). */
static int read_one(int dfd, const char *dir, const char *name, bool status, size_t max, Strv *paths,
                    Strv *unread) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return note(unread, "%s/%s: %s", dir, name, strerror(errno));
        _cleanup_free_ char *xml = NULL;
        size_t len;
        int r = vg_read_regular_fd(fd, max, &xml, &len);
        if (r == -EFBIG)
                return note(unread, "%s/%s: larger than max_xml_bytes (%zu)", dir, name, max);
        if (r < 0)
                return r == -ENOMEM ? r : note(unread, "%s/%s: %s", dir, name, vg_read_error(r));
        _cleanup_(domain_facts_freep) DomainFacts *f = NULL;
        VgError err = { "" };
        r = status ? domxml_parse_status(xml, len, &f, &err) : domxml_parse(xml, len, &f, &err);
        if (r < 0)
                return r == -ENOMEM ? r : note(unread, "%s/%s: %s", dir, name, err.text);
        return facts_paths(f, paths);
}

static int read_dir(const char *dir, bool status, size_t max, Strv *paths, Strv *unread) {
        /* No directory, no domain: libvirt makes both when it runs. */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : note(unread, "%s: %s", dir, strerror(errno));
        DIR *d = fdopendir(dfd);
        if (!d) {
                int e = errno;
                close(dfd);
                return note(unread, "%s: %s", dir, strerror(e));
        }
        int r = 0;
        for (;;) {
                errno = 0;
                const struct dirent *de = readdir(d);
                if (!de) {
                        if (errno)
                                r = note(unread, "%s: %s", dir, strerror(errno));
                        break;
                }
                size_t n = strlen(de->d_name);
                /* (libvirt's own rule: a definition is NAME.xml; autostart/
                 * holds links to them, networks/ other things) */
                if (n <= 4 || strcmp(de->d_name + n - 4, ".xml"))
                        continue;
                if ((r = read_one(dirfd(d), dir, de->d_name, status, max, paths, unread)) < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted, each path once (most domains share one emulator). */
static void sort_unique(Strv *l) {
        if (l->n < 2)
                return;
        size_t n = l->n - 1, k = 1;
        qsort(l->v, n, sizeof(char *), cmp_str);
        for (size_t i = 1; i < n; i++) {
                if (!strcmp(l->v[i], l->v[k - 1]))
                        free(l->v[i]);
                else
                        l->v[k++] = l->v[i];
        }
        l->v[k] = NULL;
        l->n = k + 1;
}

int domdefs_paths(const char *config_dir, const char *run_dir, size_t max_bytes, char ***ret_paths,
                  char ***ret_unread) {
        Strv paths = { 0 }, unread = { 0 };
        int r = read_dir(config_dir, false, max_bytes, &paths, &unread);
        if (r == 0)
                r = read_dir(run_dir, true, max_bytes, &paths, &unread);
        /* An empty list is a list (one NULL), not a NULL. */
        if (r == 0 && ((!paths.v && !(paths.v = calloc(1, sizeof(char *)))) ||
                       (!unread.v && !(unread.v = calloc(1, sizeof(char *))))))
                r = -ENOMEM;
        if (r < 0) {
                config_strv_free(paths.v);
                config_strv_free(unread.v);
                return r;
        }
        sort_unique(&paths);
        sort_unique(&unread);
        *ret_paths = paths.v;
        *ret_unread = unread.v;
        return 0;
}
