/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/util/jsontext.h"
#include "virtgov/store/spool.h"
#include "virtgov/util/text.h"

/* An error message names what the user gave (a domain, a ticket id, a
 * path), which may hold escape sequences: the whole message reaches the
 * terminal as text only, through the one rule (vg_text_put_terminal). */
static void put_message(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void put_message(const char *fmt, va_list ap) {
        _cleanup_free_ char *text = NULL;
        if (vasprintf(&text, fmt, ap) < 0)
                fputs("(out of memory)", stderr);
        else
                vg_text_put_terminal(text, stderr);
}

int cli_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("virtgov: ", stderr);
        put_message(fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return EXIT_FAIL;
}

int cli_usage_error(const Command *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "virtgov %s: ", c->name);
        put_message(fmt, ap);
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

void out_array_begin(OutArray *a, unsigned depth) {
        *a = (OutArray) { .depth = depth };
        putchar('[');
}

static void indent(unsigned levels) {
        for (unsigned i = 0; i < levels; i++)
                fputs("  ", stdout);
}

/* n bytes of s, each line after the first indented by levels. (A line at
 * a time: a character at a time, stdio's locking cost more than the
 * encoding.) */
static void put_lines(unsigned levels, const char *s, size_t n) {
        for (const char *end = s + n; s < end;) {
                const char *nl = memchr(s, '\n', (size_t) (end - s));
                size_t k = nl ? (size_t) (nl - s + 1) : (size_t) (end - s);
                fwrite(s, 1, k, stdout);
                s += k;
                if (nl && s < end)
                        indent(levels);
        }
}

void out_item_begin(OutArray *a) {
        fputs(a->n++ ? ",\n" : "\n", stdout);
        indent(a->depth + 1);
        putchar('{');
        a->members = 0;
}

/* The member's key, after the line break that separates it. */
static void member_key(OutArray *a, const char *key) {
        fputs(a->members++ ? ",\n" : "\n", stdout);
        indent(a->depth + 2);
        vg_json_string_write(key, stdout);
        fputs(": ", stdout);
}

/* With key_bytes beside it when text is not UTF-8 (event_json_set_name's
 * rule, for the members written without jansson). */
void out_member_text(OutArray *a, const char *key, const char *text) {
        member_key(a, key);
        vg_json_string_write(text, stdout);
        if (vg_utf8_valid(text))
                return;
        char bytes_key[128];
        snprintf(bytes_key, sizeof(bytes_key), "%s" VG_TEXT_BYTES_SUFFIX, key);
        member_key(a, bytes_key);
        vg_text_put_hex(text, stdout);
}

void out_member_bool(OutArray *a, const char *key, bool v) {
        member_key(a, key);
        fputs(v ? "true" : "false", stdout);
}

int out_member_json(OutArray *a, const char *key, const json_t *v) {
        if (json_is_string(v)) {
                out_member_text(a, key, json_string_value(v));
                return 0;
        }
        _cleanup_free_ char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
        if (!text)
                return -ENOMEM;
        member_key(a, key);
        put_lines(a->depth + 2, text, strlen(text));
        return 0;
}

void out_member_stored(OutArray *a, const char *key, const char *text, const char *fallback) {
        member_key(a, key);
        if (!text)
                fputs("null", stdout);
        else if (vg_json_text_pretty(text, a->depth + 2, stdout) < 0)
                fputs(fallback, stdout);
}

void out_item_end(OutArray *a) {
        if (a->members) {
                putchar('\n');
                indent(a->depth + 1);
        }
        putchar('}');
}

int out_array_add(OutArray *a, json_t *item, const OutStored *stored) {
        if (!json_is_object(item)) {
                json_decref(item);
                return -ENOMEM;
        }
        const char *key;
        json_t *v;
        int r = 0;
        out_item_begin(a);
        json_object_foreach(item, key, v) {
                if (stored && !strcmp(key, stored->key))
                        out_member_stored(a, key, stored->text, stored->fallback);
                else if ((r = out_member_json(a, key, v)) < 0)
                        break;
        }
        out_item_end(a);
        json_decref(item);
        return r;
}

int out_array_end(OutArray *a) {
        if (a->n) {
                putchar('\n');
                indent(a->depth);
        }
        putchar(']');
        if (a->depth == 0)
                putchar('\n');
        return ferror(stdout) ? cli_error("cannot write JSON: %s", strerror(errno)) : EXIT_OK;
}

static void out_spaces(size_t n) {
        static const char spaces[] = "                                                                ";
        for (size_t k; n; n -= k) {
                k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
                fwrite_unlocked(spaces, 1, k, stdout);
        }
}

void out_cells_n(const OutCell *cells, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const char *text = cells[i].text ? cells[i].text : "-";
                size_t len = strlen(text), width = (size_t) abs(cells[i].width);
                size_t pad = width > len ? width - len : 0;
                if (i)
                        fwrite_unlocked("  ", 1, 2, stdout);
                if (cells[i].width < 0)
                        out_spaces(pad);
                fwrite_unlocked(text, 1, len, stdout);
                if (cells[i].width > 0)
                        out_spaces(pad);
        }
        putc_unlocked('\n', stdout);
}

int cli_read_input(const char *path, size_t max, char **ret, size_t *ret_len) {
        /* Standard input is what the person chose to give: a pipe is fine
         * there, and its end is the input's. */
        if (!strcmp(path, "-"))
                return vg_read_fd(STDIN_FILENO, max, ret, ret_len);
        return vg_read_file(path, max, ret, ret_len);
}

const char *cli_input_error(int r) {
        return r == -EBADFD ? "not a regular file (give - to read standard input)" : vg_read_error(r);
}

const char *out_safe(const char *s, char *buf, size_t n) {
        return vg_text_terminal(s, buf, n);
}

void out_put_safe(const char *s, FILE *f) {
        vg_text_put_terminal(s, f);
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
        if (r == -EPROTO && access(c->inventory, W_OK) == 0) {
                /* An older schema, and we may write: upgrade it (a writer
                 * migrates on open), then read as before. A newer schema
                 * fails again here, with its own message. */
                Store *w = NULL;
                if (store_open(c->inventory, STORE_WRITE, c->busy_timeout_ms, &w, &err) == 0) {
                        store_close(w);
                        r = store_open(c->inventory, STORE_READ, c->busy_timeout_ms, &s, &err);
                }
        }
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

const char *cli_actor(void) {
        static char name[256];
        if (name[0])
                return name;
        _cleanup_free_ char *lu = NULL;
        struct passwd *pw = NULL;
        if (vg_read_file("/proc/self/loginuid", 64, &lu, NULL) == 0) {
                unsigned long uid = strtoul(lu, NULL, 10);
                if (uid != 4294967295UL)
                        pw = getpwuid((uid_t) uid);
        }
        const char *sudo = getenv("SUDO_USER");
        if (pw)
                snprintf(name, sizeof(name), "%s", pw->pw_name);
        else if (sudo && *sudo)
                snprintf(name, sizeof(name), "%s", sudo);
        else if ((pw = getpwuid(getuid())))
                snprintf(name, sizeof(name), "%s", pw->pw_name);
        else
                snprintf(name, sizeof(name), "uid %u", (unsigned) getuid());
        return name;
}

Store *cli_open_store_write(Cli *cli) {
        VgError err = { "" };
        Store *s = NULL;
        int r = store_open(cli->config->inventory, STORE_WRITE, cli->config->busy_timeout_ms, &s, &err);
        if (r == -ENOENT)
                cli_error("%s; it is created by 'virtgov hooks install'", err.text);
        else if (r < 0)
                cli_error("%s%s", err.text, r == -EROFS || r == -EACCES ? " (changes need root)" : "");
        return r < 0 ? NULL : s;
}

int cli_parse_time(const Command *c, const char *opt, const char *v, int64_t *ret) {
        if (vg_time_parse(v, vg_now_us(), ret) < 0)
                return cli_usage_error(c, "%s '%s' is not a time: use RFC 3339 (2026-11-22T09:30:00Z), a "
                                       "date (2026-11-22), 'now', an age such as 30m, 2h, 7d (ago) or +2h (from now)", opt, v);
        return 0;
}

int cli_parse_limit(const Command *c, const char *v, unsigned *ret) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        /* 0 is refused: the store reads a limit of 0 as none, and "the
         * newest 0" printing every event would be the opposite of what was
         * asked. */
        if (errno || *end || !*v || v[0] == '-' || n < 1 || n > 100000000)
                return cli_usage_error(c, "--limit takes a whole number from 1 (leave it out for every event), "
                                       "got '%s'", v);
        *ret = (unsigned) n;
        return 0;
}

int cli_write_out(const char *path, const void *buf, size_t len, unsigned mode) {
        VgError err = { "" };
        if (!strcmp(path, "-")) {
                if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
                        return cli_error("cannot write to standard output: %s", strerror(errno));
                return EXIT_OK;
        }
        return vg_write_file(path, buf, len, mode, &err) < 0 ? cli_error("%s", err.text) : EXIT_OK;
}

static int to_file(const char *path, unsigned mode, int (*fn)(void *), void *u, bool keep_failed) {
        VgError err = { "" };
        VgWrite w;
        fflush(stdout);
        if (vg_write_open(path, mode, &w, &err) < 0)
                return cli_error("%s", err.text);
        int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved < 0 || dup2(w.fd, STDOUT_FILENO) < 0) {
                int e = errno;
                if (saved >= 0)
                        close(saved);
                vg_write_close(&w, false, NULL);
                return cli_error("cannot write '%s': %s", path, strerror(e));
        }
        int rc = fn(u);
        int flushed = fflush(stdout) == 0 ? 0 : errno;
        dup2(saved, STDOUT_FILENO);
        close(saved);
        if (vg_write_close(&w, !flushed && (keep_failed || rc == EXIT_OK), &err) < 0)
                return cli_error("%s", err.text);
        return !flushed ? rc : cli_error("cannot write '%s': %s", path, strerror(flushed));
}

int cli_to_file(const char *path, unsigned mode, int (*fn)(void *), void *u) {
        /* Kept even when fn failed (it said why): what it wrote is what
         * there is, as the report on a terminal would show it. */
        return to_file(path, mode, fn, u, true);
}

int cli_to_file_whole(const char *path, unsigned mode, int (*fn)(void *), void *u) {
        return to_file(path, mode, fn, u, false);
}

void out_csv_field(const char *s, bool last) {
        vg_text_put_csv(s, stdout);
        putchar(last ? '\n' : ',');
}
