/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the unit suites: scratch directories and data cases. */
#pragma once

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/util/util.h"

/* A fresh directory under $TMPDIR for one test; removed by the caller's
 * teardown with scratch_remove(). */
static inline char *scratch_new(void) {
        char tmpl[] = "/tmp/virtgov-test-XXXXXX";
        char *d = mkdtemp(tmpl);
        cr_assert_not_null(d, "mkdtemp");
        return strdup(d);
}

static inline void scratch_remove(char *dir) {
        if (!dir)
                return;
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
        free(dir);
}

/* dir/name in one of four static buffers, reused in turn: for building
 * paths in a test without allocating (a test's leaks fail ASan runs). */
static inline const char *scratch_path(const char *dir, const char *name) {
        static char buf[4][4200];
        static int k;
        char *p = buf[k++ % 4];
        snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
        return p;
}

static inline char *path_join(const char *a, const char *b) {
        char *p;
        cr_assert(asprintf(&p, "%s/%s", a, b) > 0);
        return p;
}

static inline void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f, "fopen %s", path);
        fputs(text, f);
        fclose(f);
}

/* Reads a data file; NULL if it does not exist. */
static inline char *read_data(const char *path, size_t *len) {
        char *buf = NULL;
        size_t l = 0;
        if (vg_read_file(path, 256 << 20, &buf, &l) < 0)
                return NULL;
        if (len)
                *len = l;
        return buf;
}
