/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * assess: the parsers of outside input the assessment adds, fed the same
 * bytes: libvirt's config syntax (qemu.conf, libvirtd.conf), an LZ4 frame
 * (apt's lists), each line as /proc/net/{tcp,udp}[6], and the exceptions
 * file. What each returns must hold together: an entry found again by its
 * name, a decoded frame within its cap, an error that names its place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/assess.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vconf(data, size);
        lz4(data, size);
        proc_net(data, size);
        exceptions(data, size);
        return 0;
}
