/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "virtgov/spool.h"

int cli_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("virtgov: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return EXIT_FAIL;
}

int cli_usage_error(const Command *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "virtgov %s: ", c->name);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nusage: virtgov %s\nSee 'virtgov %s --help'.\n", c->usage, c->name);
        va_end(ap);
        return EXIT_USAGE;
}

int cli_help(const Command *c) {
        printf("usage: virtgov %s\n\n%s\n\n%s", c->usage, c->summary, c->help);
        return EXIT_OK;
}

int out_json(json_t *j) {
        if (!j)
                return cli_error("out of memory");
        int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        json_decref(j);
        fputc('\n', stdout);
        return r < 0 ? cli_error("cannot write JSON: %s", strerror(errno)) : EXIT_OK;
}

const char *out_safe(const char *s, char *buf, size_t n) {
        if (!s)
                return "-";
        size_t i = 0;
        for (; s[i] && i + 1 < n; i++)
                buf[i] = (unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f ? '?' : s[i];
        buf[i] = '\0';
        return buf;
}

const char *out_time(const char *t, char buf[static 20]) {
        if (!t || strlen(t) < 19)
                return "-";
        memcpy(buf, t, 19);
        buf[10] = ' ';
        buf[19] = '\0';
        return buf;
}

Store *cli_open_store(Cli *cli) {
        const Config *c = cli->config;
        VgError err = { "" };
        Store *s = NULL;
        size_t waiting = 0;

        if (spool_count(c->spool_dir, &waiting) == 0 && waiting > 0) {
                if (store_open(c->inventory, STORE_WRITE, c->busy_timeout_ms, &s, &err) == 0) {
                        SpoolStats st;
                        if (spool_fold(c->spool_dir, s, &st, &err) < 0)
                                cli_error("%s (the rest stays in the spool)", err.text);
                        else if (st.rejected)
                                cli_error("%zu malformed spool file(s) moved to '%s/rejected'",
                                          st.rejected, c->spool_dir);
                        return s;
                }
                fprintf(stderr, "virtgov: note: %zu event(s) wait in spool '%s' and are not shown: "
                        "%s\n", waiting, c->spool_dir, err.text);
        }
        int r = store_open(c->inventory, STORE_READ, c->busy_timeout_ms, &s, &err);
        if (r == -ENOENT) {
                cli_error("%s; it is created by 'virtgov hooks install' (see --db and the "
                          "'inventory' key of the config file)", err.text);
                return NULL;
        }
        if (r < 0) {
                cli_error("%s", err.text);
                return NULL;
        }
        return s;
}
