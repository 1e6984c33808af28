/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A report as text: per category an aligned table with a header, the
 * columns its JSON has (the report's string columns and the numbers and
 * lists its rows carry), each number with its unit by its key's name
 * (memory_mib: "4096 MiB", cpu_ratio: "1.52x", vcpus: "4 vCPUs"), and the
 * why last. On a terminal, a table wider than it is cut to fit, the widest
 * cells first, with "..."; in a pipe nothing is ever cut. Colour (bold
 * headers, a category with findings in red) only on a terminal, and never
 * with NO_COLOR set (no-color.org).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/util/cleanup.h"

typedef ReportField Field;

typedef struct Style {
        size_t width;            /* the terminal's columns; 0: not a terminal, never cut */
        bool color;
} Style;

static Style style_of_stdout(void) {
        Style s = { 0 };
        if (!isatty(STDOUT_FILENO))
                return s;
        struct winsize ws;
        const char *env = getenv("COLUMNS");
        s.width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col
                : env && atoi(env) > 0 ? (size_t) atoi(env) : 80;
        const char *nc = getenv("NO_COLOR");
        s.color = !(nc && *nc);
        return s;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && !strcmp(s + n - k, suffix);
}

/* The unit a key's name gives its numbers. */
typedef enum Unit { U_NONE, U_MIB, U_CPUS, U_VCPUS, U_RATIO, U_PCT, U_BYTES, U_MS, U_S, U_DAYS } Unit;

static Unit unit_of(const char *key) {
        static const struct { const char *suffix; Unit u; } units[] = {
                { "_mib", U_MIB }, { "vcpus", U_VCPUS }, { "cpus", U_CPUS }, { "_ratio", U_RATIO },
                { "_pct", U_PCT }, { "_percent", U_PCT }, { "_bytes", U_BYTES }, { "bytes", U_BYTES },
                { "_ms", U_MS }, { "_s", U_S }, { "_days", U_DAYS },
        };
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (ends_with(key, units[i].suffix))
                        return units[i].u;
        return U_NONE;
}

/* "memory_mib" -> "MEMORY", "cpu_ratio" -> "CPU RATIO": the key without its
 * unit (the cells carry it), in capitals. */
static void header_of(const char *key, char *buf, size_t n) {
        static const char *const strip[] = { "_mib", "_pct", "_percent", "_bytes", "_ms", "_s", "_days" };
        size_t len = strlen(key);
        for (size_t i = 0; i < ELEMENTSOF(strip); i++)
                if (ends_with(key, strip[i]) && len > strlen(strip[i])) {
                        len -= strlen(strip[i]);
                        break;
                }
        size_t k = 0;
        for (size_t i = 0; i < len && k + 1 < n; i++)
                buf[k++] = key[i] == '_' ? ' ' : (char) (key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i]);
        buf[k] = '\0';
}

static void human_bytes(double v, char *buf, size_t n) {
        static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        size_t i = 0;
        while (v >= 1024 && i + 1 < ELEMENTSOF(u)) {
                v /= 1024;
                i++;
        }
        snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* A value as its cell: a number with its unit, a list joined; strings as
 * safe ASCII (safe) or as they are. NULL: nothing (an object: the JSON has
 * it). */
static const char *cell_of(const char *key, json_t *v, bool safe, char *buf, size_t n) {
        double d = json_number_value(v);
        bool integer = json_is_integer(v);
        if (json_is_string(v))
                return safe ? out_safe(json_string_value(v), buf, n) : json_string_value(v);
        if (json_is_boolean(v))
                return json_is_true(v) ? "yes" : "no";
        if (json_is_array(v)) {
                size_t k = 0, i;
                json_t *x;
                buf[0] = '\0';
                json_array_foreach(v, i, x) {
                        char one[256];
                        const char *t = json_is_string(x) ? json_string_value(x) : cell_of(key, x, false, one,
                                                                                         sizeof(one));
                        if (t && k < n)
                                k += (size_t) snprintf(buf + k, n - k, "%s%s", k ? ", " : "", t);
                }
                if (safe) {
                        char *clean = strdup(buf);
                        out_safe(clean ? clean : "", buf, n);
                        free(clean);
                }
                return buf;
        }
        if (!json_is_number(v))
                return NULL;
        switch (unit_of(key)) {
        case U_MIB: snprintf(buf, n, "%.0f MiB", d); break;
        case U_CPUS: snprintf(buf, n, "%.0f CPU%s", d, d == 1 ? "" : "s"); break;
        case U_VCPUS: snprintf(buf, n, "%.0f vCPU%s", d, d == 1 ? "" : "s"); break;
        case U_RATIO: snprintf(buf, n, "%.2fx", d); break;
        case U_PCT: snprintf(buf, n, "%.0f%%", d); break;
        case U_BYTES: human_bytes(d, buf, n); break;
        case U_MS: snprintf(buf, n, "%.0f ms", d); break;
        case U_S: snprintf(buf, n, "%.0f s", d); break;
        case U_DAYS: snprintf(buf, n, "%.0f day%s", d, d == 1 ? "" : "s"); break;
        case U_NONE:
                if (integer)
                        snprintf(buf, n, "%lld", (long long) json_integer_value(v));
                else
                        snprintf(buf, n, "%.2f", d);
                break;
        }
        return buf;
}

const char *report_cell(const Report *r, const ReportRow *row, const ReportField *f, bool safe, char *buf,
                        size_t n) {
        if (f->column >= 0 && row->cols[f->column])
                return safe ? out_safe(row->cols[f->column], buf, n) : row->cols[f->column];
        json_t *v = json_object_get(row->rest, f->key);
        const char *t = v ? cell_of(f->key, v, safe, buf, n) : NULL;
        return t ? t : "";
}

static const char *field_cell(const Report *r, const ReportRow *row, const Field *f, char *buf, size_t n) {
        return report_cell(r, row, f, true, buf, n);
}

bool report_in_category(const ReportRow *row, const char *cat) {
        return row->category == cat || !strcmp(row->category, cat);
}

/* The fields a category's rows have, in the report's column order, then
 * the rest's keys in the order first met. */
int report_fields(const Report *r, const char *cat, ReportField **ret, size_t *n_ret) {
        Field *v = NULL;
        size_t n = 0;
        for (int c = 0; r->def->columns[c]; c++) {
                bool any = false, number = false;
                for (size_t i = 0; i < r->n_rows && !any; i++)
                        if (report_in_category(&r->rows[i], cat)) {
                                json_t *x = json_object_get(r->rows[i].rest, r->def->columns[c]);
                                any = r->rows[i].cols[c] || (x && !json_is_object(x));
                                number = !r->rows[i].cols[c] && json_is_number(x);
                        }
                if (!any)
                        continue;
                if (vg_grow((void **) &v, &n, sizeof(*v)) < 0)
                        goto oom;
                v[n - 1] = (Field) { .key = r->def->columns[c], .column = c, .right = number };
        }
        for (size_t i = 0; i < r->n_rows; i++) {
                if (!report_in_category(&r->rows[i], cat))
                        continue;
                const char *key;
                json_t *x;
                json_object_foreach(r->rows[i].rest, key, x) {
                        /* Objects, and lists of them, only the JSON shows. */
                        bool known = json_is_object(x) || json_is_object(json_array_get(x, 0));
                        for (size_t k = 0; k < n && !known; k++)
                                known = !strcmp(v[k].key, key);
                        if (known)
                                continue;
                        if (vg_grow((void **) &v, &n, sizeof(*v)) < 0)
                                goto oom;
                        v[n - 1] = (Field) { .key = key, .column = -1, .right = json_is_number(x) };
                }
        }
        for (size_t k = 0; k < n; k++)
                header_of(v[k].key, v[k].header, sizeof(v[k].header));
        *ret = v;
        *n_ret = n;
        return 0;
oom:
        free(v);
        return -ENOMEM;
}

static void put_cell(const char *text, size_t width, bool right, bool last) {
        size_t len = strlen(text);
        if (len > width) {
                /* Cut (only on a terminal: a pipe's width is the widest). */
                fwrite(text, 1, width > 3 ? width - 3 : 0, stdout);
                fputs(width >= 3 ? "..." : "", stdout);
                len = width;
        } else {
                if (right)
                        printf("%*s", (int) (width - len), "");
                fputs(text, stdout);
        }
        if (!last && !right)
                printf("%*s", (int) (width - len), "");
}

/* Shrinks the widest columns until the line fits the terminal, down to
 * what their header needs (or 8). */
static void fit(Field *f, size_t n, size_t *why_width, size_t why_min, size_t indent, size_t width) {
        for (;;) {
                size_t total = indent + *why_width;
                for (size_t k = 0; k < n; k++)
                        total += f[k].width + 2;
                if (total <= width)
                        return;
                size_t *widest = *why_width > why_min ? why_width : NULL, min = why_min;
                for (size_t k = 0; k < n; k++) {
                        size_t m = strlen(f[k].header) > 8 ? strlen(f[k].header) : 8;
                        if (f[k].width > m && (!widest || f[k].width > *widest)) {
                                widest = &f[k].width;
                                min = m;
                        }
                }
                if (!widest)
                        return;   /* nothing left to cut: the terminal wraps */
                size_t over = total - width;
                *widest = *widest - over > min && *widest > over ? *widest - over : min;
        }
}

static int print_category(const Report *r, const char *cat, size_t count, bool findings, const Style *st) {
        Field *f = NULL;
        size_t n = 0;
        if (report_fields(r, cat, &f, &n) < 0)
                return -ENOMEM;
        static char buf[16384];   /* a cell: a path, a why; never cut in a pipe */
        size_t why_width = 3;
        for (size_t k = 0; k < n; k++)
                f[k].width = strlen(f[k].header);
        for (size_t i = 0; i < r->n_rows; i++) {
                const ReportRow *row = &r->rows[i];
                if (!report_in_category(row, cat))
                        continue;
                for (size_t k = 0; k < n; k++) {
                        size_t len = strlen(field_cell(r, row, &f[k], buf, sizeof(buf)));
                        if (len > f[k].width)
                                f[k].width = len;
                }
                size_t len = strlen(out_safe(row->why, buf, sizeof(buf)));
                if (len > why_width)
                        why_width = len;
        }
        if (st->width)
                fit(f, n, &why_width, 20, 2, st->width);

        const char *on = st->color ? (findings ? "\033[1;31m" : "\033[1m") : "", *off = st->color ? "\033[0m" : "";
        printf("\n%s%s (%zu)%s\n  ", on, cat, count, off);
        if (st->color)
                fputs("\033[1m", stdout);
        for (size_t k = 0; k < n; k++) {
                put_cell(f[k].header, f[k].width, f[k].right, false);
                fputs("  ", stdout);
        }
        put_cell("WHY", why_width, false, true);
        printf("%s\n", off);
        for (size_t i = 0; i < r->n_rows; i++) {
                const ReportRow *row = &r->rows[i];
                if (!report_in_category(row, cat))
                        continue;
                fputs("  ", stdout);
                for (size_t k = 0; k < n; k++) {
                        put_cell(field_cell(r, row, &f[k], buf, sizeof(buf)), f[k].width, f[k].right, false);
                        fputs("  ", stdout);
                }
                put_cell(out_safe(row->why, buf, sizeof(buf)), st->width ? why_width : SIZE_MAX / 2, false, true);
                putchar('\n');
        }
        free(f);
        return 0;
}

int report_print_text(Report *r, const char *const *cats, const size_t *counts, const bool *findings, size_t n_cats,
                      const char *now) {
        Style st = style_of_stdout();
        printf("virtgov report %s, host %s, %s (UTC)\n", r->def->name, r->host, now);
        if (!r->conn && !r->def->offline)
                printf("note: live libvirt checks skipped: %s\n", r->live_note ? r->live_note : "unavailable");
        for (size_t k = 0; k < n_cats; k++)
                if (print_category(r, cats[k], counts[k], findings[k], &st) < 0)
                        return cli_error("out of memory");
        if (!r->n_rows)
                printf("\nnothing to report\n");
        return EXIT_OK;
}
