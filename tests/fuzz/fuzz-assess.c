/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * assess: the parsers of outside input the assessment adds, fed the same
 * bytes: libvirt's config syntax (qemu.conf, libvirtd.conf), an LZ4 frame
 * (apt's lists), each line as /proc/net/{tcp,udp}[6], and the exceptions
 * file. What each returns must hold together: an entry found again by its
 * name, a decoded frame within its cap, an error that names its place.
 *
 * And the readers that follow includes, through the real run: an input
 * with a "\n%%\n", cut at each, becomes sshd_config, two files it may Include
 * (sshd_config.d/a.conf, b.conf), qemu.conf and /srv/c.conf of a fuzz
 * root that also holds a FIFO (fifo.conf) and an absolute symlink
 * (link.conf -> /etc/ssh/sshd_config). Each check must end (-timeout
 * catches a walk that explodes), say something, and name only files of
 * the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtgov/assess/assess.h"

static void vconf(const uint8_t *data, size_t size) {
        Vconf *c = NULL;
        VgError err = { "" };
        int r = vconf_parse((const char *) data, size, "qemu.conf", &c, &err);
        if (r < 0) {
                if (c || strncmp(err.text, "qemu.conf:", 10))
                        __builtin_trap();   /* an error names its file and place */
                return;
        }
        for (size_t i = 0; i < c->n; i++) {
                const VconfEntry *e = vconf_get(c, c->v[i].name);
                /* the first of a name is the one found, never a later one */
                if (!e || e > &c->v[i] || !c->v[i].line || strcmp(e->name, c->v[i].name))
                        __builtin_trap();
        }
        vconf_free(c);
}

static void lz4(const uint8_t *data, size_t size) {
        char *out;
        size_t len;
        int r = assess_lz4_decode(data, size, 1 << 20, &out, &len);
        if (r == 0) {
                if (len > (1 << 20) || out[len] != '\0')
                        __builtin_trap();
                free(out);
        } else if (r != -EBADMSG && r != -EFBIG && r != -ENOMEM)
                __builtin_trap();
}

static void proc_net(const uint8_t *data, size_t size) {
        char *t = strndup((const char *) data, size);
        if (!t)
                return;
        for (char *save = NULL, *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                for (int v6 = 0; v6 < 2; v6++)
                        for (int tcp = 0; tcp < 2; tcp++) {
                                AssessListener li;
                                if (assess_proc_net_line(l, v6, tcp, &li) &&
                                    (li.port > 0xffff || strnlen(li.addr, sizeof(li.addr)) >= sizeof(li.addr)))
                                        __builtin_trap();
                        }
        free(t);
}

static void exceptions(const uint8_t *data, size_t size) {
        AssessExceptions *e = NULL;
        VgError err = { "" };
        if (assess_exceptions_parse((const char *) data, size, "ex.json", 1700000000000000, &e, &err) < 0) {
                if (e || strncmp(err.text, "ex.json", 7))
                        __builtin_trap();
                return;
        }
        for (size_t i = 0; i < e->n; i++)
                if (!assess_check_find(e->v[i].id) || !e->v[i].ticket || !e->v[i].line)
                        __builtin_trap();
        assess_exceptions_free(e);
}

static char root[64];

static const char *const dirs[] = { "etc", "etc/ssh", "etc/ssh/sshd_config.d", "etc/libvirt", "srv" };
static const char *const files[] = { "etc/ssh/sshd_config", "etc/ssh/sshd_config.d/a.conf", "etc/ssh/b.conf",
                                     "etc/libvirt/qemu.conf", "srv/c.conf", "etc/ssh/fifo.conf",
                                     "etc/ssh/link.conf" };

/* The fuzz root goes with the process. */
static void root_remove(void) {
        char path[256];
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
                snprintf(path, sizeof(path), "%s/%s", root, files[i]);
                unlink(path);
        }
        for (size_t i = sizeof(dirs) / sizeof(*dirs); i-- > 0;) {
                snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
                rmdir(path);
        }
        rmdir(root);
}

/* The fuzz root, made once: its directories, the FIFO and the symlink. */
static void root_make(void) {
        snprintf(root, sizeof(root), "/tmp/vg-fuzz-assess.XXXXXX");
        if (!mkdtemp(root))
                __builtin_trap();
        atexit(root_remove);
        char path[256];
        for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
                snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
                if (mkdir(path, 0755) < 0)
                        __builtin_trap();
        }
        snprintf(path, sizeof(path), "%s/etc/ssh/fifo.conf", root);
        if (mkfifo(path, 0600) < 0)
                __builtin_trap();
        snprintf(path, sizeof(path), "%s/etc/ssh/link.conf", root);
        if (symlink("/etc/ssh/sshd_config", path) < 0)
                __builtin_trap();
}

static void put(const char *rel, const char *text, size_t len) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        FILE *f = fopen(path, "we");
        if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0)
                __builtin_trap();
}

static void includes(const uint8_t *data, size_t size) {
        /* Only inputs cut into files: writing them costs most of a run,
         * and the parsers above want the other inputs fast. */
        if (!memmem(data, size, "\n%%\n", 4))
                return;
        if (!root[0])
                root_make();
        const char *p = (const char *) data, *end = p + size;
        for (size_t i = 0; i < 5; i++) {   /* the regular files */
                const char *cut = p < end ? memmem(p, (size_t) (end - p), "\n%%\n", 4) : NULL;
                size_t len = cut ? (size_t) (cut - p) : (size_t) (end - p);
                put(files[i], p, len);
                p = cut ? cut + 4 : end;
        }
        AssessPaths paths;
        if (assess_paths_init(&paths, NULL, root) < 0)
                return;
        const char *only[] = { "VG-SVC-002", "VG-SVC-003", "VG-QEMU-001", "VG-QEMU-002", NULL };
        AssessRun *run = NULL;
        VgError err = { "" };
        if (assess_run(&paths, only, NULL, &run, &err) == 0) {
                if (run->n_ran != 4 || run->n < 4)
                        __builtin_trap();   /* every check says something */
                for (size_t i = 0; i < run->n; i++) {
                        const char *w = run->results[i].where;
                        /* every place named is one of the root's */
                        if (w && strncmp(w, root, strlen(root)))
                                __builtin_trap();
                }
                assess_run_free(run);
        }
        assess_paths_clear(&paths);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vconf(data, size);
        lz4(data, size);
        proc_net(data, size);
        exceptions(data, size);
        includes(data, size);
        return 0;
}
