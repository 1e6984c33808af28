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

typedef struct ReportDef {
        const char *name;
        const char *summary;
        const char *const *columns;   /* CSV and table columns after category */
        int (*run)(Report *r);
} ReportDef;

struct Report {
        Cli *cli;
        const ReportDef *def;
        Store *store;
        virConnectPtr conn;      /* read-only; NULL when libvirt is unavailable */
        char *live_note;         /* why it is unavailable */
        char host[256];
        int64_t now_us, since_us;
        unsigned stale_days;
        const char *roster;      /* accounts: the authorized roster file */
        json_t *rows;
        json_t *sections;        /* report-specific extra data for JSON */
};

/* Adds a row; fields is stolen (may be NULL). finding: counts for
 * --fail-on-findings. */
void report_row(Report *r, const char *category, bool finding, json_t *fields, const char *why_fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* The reports. */
extern const ReportDef report_sprawl, report_accounts, report_activity, report_capacity, report_software;

/* Runs one report into r (store and live connection opened by the caller). */
int report_run(Report *r);

/* Renders r as asked (table, --json, --csv); returns the exit status. */
int report_print(Report *r, bool csv, bool fail_on_findings);
