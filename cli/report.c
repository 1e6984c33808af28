/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report core: the row collector (report_add, report_rows_clear), the
 * categories of the rows, and the printer that renders them as JSON, CSV
 * or, through report-text.c, a table.
 *
 * It sits below every report-*.c and cmd-report.c: they call it, and it
 * calls neither. It knows a report only by its ReportDef (name, columns),
 * never which reports exist, so that adding a report never touches it and
 * the reports and the command do not call each other in a circle. Below
 * it: report-text.c (which calls nothing here), output.c and live.c.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "virtgov/util/cleanup.h"

static size_t n_columns(const Report *r) {
        size_t n = 0;
        while (r->def->columns[n])
                n++;
        /* REPORT_COLS gives this many: a report with more is a bug. */
        assert(n <= REPORT_MAX_COLUMNS);
        return n;
}

/* One allocation per row: the column pointers, then the why and the
 * column strings they point to. A sprawl report at 100,000 domains holds
 * 400,000 rows. */
__attribute__((format(printf, 6, 0)))
static void add_row(Report *r, const char *category, bool finding, const char *const *cols, json_t *rest,
                    const char *fmt, va_list ap) {
        char why[1024];
        vsnprintf(why, sizeof(why), fmt, ap);
        size_t n = n_columns(r), size = n * sizeof(char *) + strlen(why) + 1;
        for (size_t c = 0; c < n; c++)
                size += cols[c] ? strlen(cols[c]) + 1 : 0;
        char **block = malloc(size);
        if (!block || vg_grow((void **) &r->rows, &r->n_rows, sizeof(*r->rows)) < 0) {
                free(block);
                r->rows_lost = true;
                json_decref(rest);
                return;
        }
        char *p = stpcpy((char *) (block + n), why) + 1;
        for (size_t c = 0; c < n; c++) {
                block[c] = cols[c] ? p : NULL;
                if (cols[c])
                        p = stpcpy(p, cols[c]) + 1;
        }
        r->rows[r->n_rows - 1] = (ReportRow) { .category = category, .finding = finding,
                                               .why = (char *) (block + n), .cols = block, .n_cols = n,
                                               .rest = rest };
}

void report_add(Report *r, const char *category, bool finding, const char *const *cols, json_t *rest,
                const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        add_row(r, category, finding, cols, rest, fmt, ap);
        va_end(ap);
}

void report_rows_clear(Report *r) {
        for (size_t i = 0; i < r->n_rows; i++) {
                free(r->rows[i].cols);
                json_decref(r->rows[i].rest);
        }
        free(r->rows);
        r->rows = NULL;
        r->n_rows = 0;
        r->rows_lost = false;
}

static const char *field_text(json_t *v, char *buf, size_t n);

/* The text of column c of a row: its string, else its number or boolean. */
static const char *column_text(const Report *r, const ReportRow *row, size_t c, char *buf, size_t n) {
        return row->cols[c] ? row->cols[c] : field_text(json_object_get(row->rest, r->def->columns[c]), buf, n);
}

/* The column a key names, or -1. */
static int column_of(const Report *r, const char *key) {
        for (int c = 0; r->def->columns[c]; c++)
                if (!strcmp(r->def->columns[c], key))
                        return c;
        return -1;
}

/* A row as one object: its columns in the report's order (a string
 * column's text, else what rest holds for it, else null), then what else
 * rest carries, category, finding and why. Written a member at a time: at
 * 100,000 domains, building and encoding 400,000 rows as objects took
 * 1.5 s of sprawl's 2.8 s. */
static int out_row(const Report *r, OutArray *out, const ReportRow *row) {
        const char *key;
        json_t *v;
        out_item_begin(out);
        for (size_t c = 0; r->def->columns[c]; c++) {
                v = row->cols[c] ? NULL : json_object_get(row->rest, r->def->columns[c]);
                if (!v)
                        out_member_text(out, r->def->columns[c], row->cols[c]);
                else if (out_member_json(out, r->def->columns[c], v) < 0)
                        return -ENOMEM;
        }
        json_object_foreach(row->rest, key, v)
                if (column_of(r, key) < 0 && out_member_json(out, key, v) < 0)
                        return -ENOMEM;
        out_member_text(out, "category", row->category);
        out_member_bool(out, "finding", row->finding);
        out_member_text(out, "why", row->why);
        out_item_end(out);
        return 0;
}


static const char *field_text(json_t *v, char *buf, size_t n) {
        if (json_is_string(v))
                return json_string_value(v);
        if (json_is_integer(v)) {
                snprintf(buf, n, "%lld", (long long) json_integer_value(v));
                return buf;
        }
        if (json_is_real(v)) {
                snprintf(buf, n, "%.2f", json_real_value(v));
                return buf;
        }
        if (json_is_boolean(v))
                return json_is_true(v) ? "true" : "false";
        return NULL;
}

/* Where the live facts came from, for the JSON's "sources". */
static json_t *live_source(Report *r) {
        if (r->def->offline)
                return json_string("not used");
        if (!r->conn)
                return json_string(r->live_note ? r->live_note : "unavailable");
        char *uri = virConnectGetURI(r->conn);   /* the caller frees it */
        json_t *j = json_string(uri ? uri : "connected");
        free(uri);
        return j;
}

int report_categories(const Report *r, ReportCategories *ret) {
        /* In the order first found: a dozen at most (each report's are
         * literals), so a list, not a map. */
        *ret = (ReportCategories) { .n = 0 };
        for (size_t i = 0; i < r->n_rows; i++) {
                size_t k = 0;
                while (k < ret->n && strcmp(ret->names[k], r->rows[i].category))
                        k++;
                if (k == ELEMENTSOF(ret->names))
                        return -E2BIG;
                if (k == ret->n)
                        ret->names[ret->n++] = r->rows[i].category;
                ret->counts[k]++;
                ret->findings += r->rows[i].finding;
                ret->has_findings[k] |= r->rows[i].finding;
        }
        return 0;
}

int report_print(Report *r, bool csv, bool fail_on_findings) {
        if (r->rows_lost)
                return cli_error("out of memory: the report lost rows");
        ReportCategories rc;
        if (report_categories(r, &rc) < 0)
                return cli_error("report %s: more than %zu categories of rows", r->def->name, ELEMENTSOF(rc.names));
        const char *const *cats = rc.names;
        const size_t *counts = rc.counts, n_cats = rc.n, findings = rc.findings;
        const bool *has_findings = rc.has_findings;
        char now[VG_TIME_MAX], since[VG_TIME_MAX];
        vg_time_format(r->now_us, now);
        vg_time_format(r->since_us, since);
        if (r->cli->json) {
                json_t *summary = json_object();
                for (size_t k = 0; k < n_cats; k++)
                        json_object_set_new(summary, cats[k], json_integer((json_int_t) counts[k]));
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:I, s:o}", "report", r->def->name,
                                      "generated", now, "host", r->host, "since", since, "sources", "inventory",
                                      r->cli->config->inventory, "libvirt", live_source(r),
                                      "findings", (json_int_t) findings, "summary", summary);
                if (o && r->sections)
                        json_object_update(o, r->sections);
                /* The head as out_json prints it, without its closing
                 * brace; then the rows, streamed, as its last member. */
                _cleanup_free_ char *head = o ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
                json_decref(o);
                size_t len = head ? strlen(head) : 0;
                if (len < 2 || strcmp(head + len - 2, "\n}"))
                        return cli_error("out of memory");
                head[len - 2] = '\0';
                printf("%s,\n  \"rows\": ", head);
                OutArray out;
                out_array_begin(&out, 1);
                for (size_t i = 0; i < r->n_rows; i++)
                        if (out_row(r, &out, &r->rows[i]) < 0)
                                return cli_error("out of memory");
                int k = out_array_end(&out);
                fputs("\n}\n", stdout);
                if (k != EXIT_OK || fflush(stdout) != 0)
                        return EXIT_FAIL;
        } else if (csv) {
                out_csv_field("category", false);
                for (size_t c = 0; r->def->columns[c]; c++)
                        out_csv_field(r->def->columns[c], false);
                out_csv_field("why", true);
                for (size_t i = 0; i < r->n_rows; i++) {
                        char buf[64];
                        out_csv_field(r->rows[i].category, false);
                        for (size_t c = 0; r->def->columns[c]; c++)
                                out_csv_field(column_text(r, &r->rows[i], c, buf, sizeof(buf)), false);
                        out_csv_field(r->rows[i].why, true);
                }
        } else if (report_print_text(r, cats, counts, has_findings, n_cats, now) != EXIT_OK)
                return EXIT_FAIL;
        return fail_on_findings && findings ? 3 : EXIT_OK;
}
