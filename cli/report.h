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

/* Adds a row: its string columns (cols, one per ReportDef.columns, NULL:
 * not a string; copied), what else it carries in rest (stolen, may be
 * NULL: numbers, booleans, keys beyond the columns) and why. finding: it
 * counts for --fail-on-findings. category must outlive the report (a
 * literal). */
void report_add(Report *r, const char *category, bool finding, const char *const *cols, json_t *rest,
                const char *why_fmt, ...) __attribute__((format(printf, 6, 7)));

/* The reports. */
extern const ReportDef report_sprawl, report_accounts, report_activity, report_capacity, report_software,
        report_integrity, report_access;

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

/* Runs one report into r (store and live connection opened by the caller). */
int report_run(Report *r);

/* Drops every row (before a report is run again). */
void report_rows_clear(Report *r);

/* Renders r as asked (table, --json, --csv); returns the exit status. */
int report_print(Report *r, bool csv, bool fail_on_findings);
