/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports: each one fills rows (flat JSON objects with a "category" and a
 * "why"), and one printer renders them as a table, JSON or CSV. Rows that
 * are findings (something to act on) make --fail-on-findings exit 3.
 */
#pragma once

#include "live.h"

#include "cli.h"

typedef struct Report Report;

/* A row as kept until it is printed. Compact, since a sprawl report at
 * 100,000 domains holds 400,000 of them: the report's string columns as C
 * strings, and a JSON object only for what else a row carries (numbers,
 * extra keys), which only the JSON output shows. */
typedef struct ReportRow {
        const char *category;    /* a literal: it outlives the report */
        bool finding;
        char *why;               /* in the block cols points to */
        char **cols;             /* one per ReportDef.columns; NULL: not a string. One
                                  * allocation with the strings and why */
        size_t n_cols;
        json_t *rest;            /* the fields beyond cols, or NULL */
} ReportRow;

typedef struct ReportDef {
        const char *name;
        const char *summary;
        const char *const *columns;   /* CSV and table columns after category */
        int (*run)(Report *r);        /* 0, or the exit status of an error it has said */
        bool offline;                 /* reads the inventory only: no libvirt connection */
} ReportDef;

struct Report {
        Cli *cli;
        const ReportDef *def;
        Store *store;
        virConnectPtr conn;      /* read-only; NULL when libvirt is unavailable */
        char *live_note;         /* why it is unavailable */
        char host[256];
        int64_t now_us, since_us;
        bool since_given;        /* --since: else a report may keep its own default window */
        unsigned stale_days;
        const char *roster;      /* accounts: the authorized roster file */
        ReportRow *rows;
        size_t n_rows;           /* grown by vg_grow */
        bool rows_lost;          /* out of memory while adding one */
        json_t *sections;        /* report-specific extra data for JSON */
};

/* At most this many columns in a report. */
#define REPORT_MAX_COLUMNS 16

/* A row's string columns, in the order of ReportDef.columns; those not
 * given are NULL. */
#define REPORT_COLS(...) ((const char *const[REPORT_MAX_COLUMNS]) { __VA_ARGS__ })

/* The row collector (report.c). Adds a row: its string columns (cols,
 * one per ReportDef.columns, NULL: not a string; copied), what else it
 * carries in rest (stolen, may be NULL: numbers, booleans, keys beyond
 * the columns) and why. finding: it counts for --fail-on-findings.
 * category must outlive the report (a literal). */
void report_add(Report *r, const char *category, bool finding, const char *const *cols, json_t *rest,
                const char *why_fmt, ...) __attribute__((format(printf, 6, 7)));

/* The reports. */
extern const ReportDef report_sprawl, report_accounts, report_activity, report_capacity, report_software,
        report_integrity, report_access;

/* report capacity's rows (report-capacity.c) for each storage pool (its
 * figures, thin-provisioning overcommit and days until full from the
 * recorded pool.usage trend) and each bridge of the last host.uplinks
 * (its uplinks; a finding when a network in forward mode bridge uses it
 * and none is up). Each returns EXIT_OK, or the status of an error it
 * has said (the inventory unreadable). */
int report_capacity_pools(Report *r);
int report_capacity_bridges(Report *r);

/* A row of report integrity for one finding (integrity check prints its
 * findings through it too). */
struct IntegrityFinding;
void report_integrity_finding(Report *r, const struct IntegrityFinding *f);

/* A row of report integrity for one running process (integrity
 * processes prints through it too). */
void report_integrity_process(Report *r, const ProcessRecord *p);
/* The running kernel (report-kernel.c): a "kernel" row of report
 * integrity for each of its findings; and "integrity kernel", every
 * loaded module with its status (exit 3 with fail and a finding). */
void report_integrity_kernel(Report *r);
int integrity_kernel(Cli *cli, bool csv, bool fail);

/* report html (report-html.c): every report of defs and the charts, one
 * self-contained page written to path. The exit status. */
int report_html(Report *r, const ReportDef *const *defs, size_t n_defs, const char *path);
/* The assessment (report-assess.c): into the evidence folder dir, the
 * latest as assessment.json and .md and its history as
 * assessment-history.json, with a line for the index in summary; and its
 * metrics. */
int report_assessment_evidence(Report *r, const char *dir, char *summary, size_t n);
void metrics_assessment(Store *s);

/* The roster of --roster (report-people.c): one account name per line,
 * '#' comments, anything after the name ignored; names as the keys of an
 * object. NULL (said) when it cannot be read. accounts and access use it. */
json_t *report_read_roster(const char *path);

/* Drops every row (report.c; before a report is run again). */
void report_rows_clear(Report *r);

/* The categories of r's rows (report.c) in the order first found, with
 * their counts and whether they hold findings. -E2BIG past 64. */
typedef struct ReportCategories {
        const char *names[64];
        size_t counts[64];
        bool has_findings[64];
        size_t n, findings;
} ReportCategories;
int report_categories(const Report *r, ReportCategories *ret);

/* A column of a category's table (report-text.c): a report column (by
 * index) or a key of the rows' rest, with its header ("MEMORY" for
 * memory_mib: the cells carry the unit). */
typedef struct ReportField {
        const char *key;
        int column;              /* -1: from rest */
        bool right;              /* a number: right-aligned */
        char header[64];
        size_t width;
} ReportField;
bool report_in_category(const ReportRow *row, const char *category);
/* The fields the rows of a category have: the report's columns in order,
 * then the keys of the rows' rest in the order first met (objects, and
 * lists of them, only the JSON shows). Free *ret. */
int report_fields(const Report *r, const char *category, ReportField **ret, size_t *n);
/* Field f of row as its cell: a number with its unit (4096 MiB, 2.00x,
 * 4 vCPUs), a list joined; strings made safe ASCII (safe, for terminals)
 * or as they are (for a writer that escapes them). "" when the row has
 * none. buf: room for a number or list. */
const char *report_cell(const Report *r, const ReportRow *row, const ReportField *f, bool safe, char *buf, size_t n);

/* The text form (report-text.c): per category (with its count and
 * whether it holds findings) an aligned table. */
int report_print_text(Report *r, const char *const *cats, const size_t *counts, const bool *findings, size_t n_cats,
                      const char *now);

/* Renders r as asked (report.c: table, --json, --csv); returns the exit
 * status. */
int report_print(Report *r, bool csv, bool fail_on_findings);
