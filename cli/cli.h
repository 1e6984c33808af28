/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the CLI's command files: the context, the command table entry,
 * opening the inventory, and output helpers. */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "virtgov/config.h"
#include "virtgov/store.h"

/* Exit statuses of every command. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,     /* the command ran and failed, or found a problem */
        EXIT_USAGE = 2,    /* the command line was wrong */
};

typedef struct Cli {
        Config *config;
        bool json;
        const char *config_path;   /* --config, for messages */
} Cli;

typedef struct Command {
        const char *name;
        const char *usage;     /* one line: "events [--domain NAME|UUID] ..." */
        const char *summary;   /* one line for the command list */
        const char *help;      /* the manual section printed by --help */
        int (*run)(Cli *cli, int argc, char **argv);
} Command;

extern const Command cmd_events, cmd_list, cmd_show, cmd_hooks, cmd_approve, cmd_revoke, cmd_ticket, cmd_image, cmd_report, cmd_metrics,
        cmd_verify,
        cmd_policy;

/*
 * Opens the inventory for reading, first folding any spooled events into it
 * when this user may write it (a reader without write access is told how
 * many events wait). Prints its own error; returns NULL on failure.
 */
Store *cli_open_store(Cli *cli);

/* Prints "virtgov: <text>" on stderr and returns EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For a command's getopt loop: prints the usage error and returns EXIT_USAGE. */
int cli_usage_error(const Command *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the command's manual section to stdout and returns EXIT_OK. */
int cli_help(const Command *c);

/* Prints j (stolen) as indented JSON on stdout. */
int out_json(json_t *j);

/* A JSON array printed an element at a time, byte for byte as out_json
 * prints a whole one, so that a listing of millions of events or report
 * rows never holds them all. depth: how deep the array sits in the
 * document (0: it is the document). */
typedef struct OutArray {
        unsigned depth;
        size_t n;
} OutArray;
void out_array_begin(OutArray *a, unsigned depth);
int out_array_add(OutArray *a, json_t *item);   /* steals item */
/* A member of an array's item whose value is JSON text from the inventory
 * (an event's data, a domain's facts), written without decoding it
 * (jsontext.h): the item holds the member, null, where it goes. */
typedef struct OutStored {
        const char *key;
        const char *text;       /* NULL: the value is null */
        const char *fallback;   /* for text that json_loads would refuse: what the decoding path shows */
} OutStored;
int out_array_add_stored(OutArray *a, json_t *item, const OutStored *stored, size_t n);   /* steals item */
/* An item of string members (NULL: null) and booleans, written as
 * out_array_add writes the same object, without building it: a report's
 * 400,000 rows. */
typedef struct OutField {
        const char *key;
        const char *text;
        int boolean;            /* 0 or 1: a boolean, not text; -1: text */
} OutField;
int out_array_add_fields(OutArray *a, const OutField *fields, size_t n);
int out_array_end(OutArray *a);                 /* EXIT_OK, or says what failed */

/* One row of a terminal table, a cell at a time: each text left-aligned in
 * at least width columns (right-aligned when width is negative; 0: as it
 * is), two spaces between cells, then a newline. Texts are written as
 * given (NULL as "-"): out_safe and out_time make them safe. printf did the same at a
 * tenth of the speed, which a listing of 100,000 rows noticed. */
typedef struct OutCell {
        const char *text;
        int width;
} OutCell;
void out_cells_n(const OutCell *cells, size_t n);
/* out_cells({ text, width }, ...): the row's cells, counted. */
#define out_cells(...) \
        out_cells_n((const OutCell[]) { __VA_ARGS__ }, sizeof((const OutCell[]) { __VA_ARGS__ }) / sizeof(OutCell))

/* s with control and non-ASCII bytes replaced by '?', for a terminal table:
 * a hostile domain name must not inject escape sequences. "-" for NULL. */
const char *out_safe(const char *s, char *buf, size_t n);
/* The same written to f whole, without a copy ("-" for NULL). */
void out_put_safe(const char *s, FILE *f);

/* "2026-11-22T17:55:41.123456Z" -> "2026-11-22 17:55:41"; "-" for NULL. */
const char *out_time(const char *rfc3339, char buf[static 20]);

/* Prints the events matching f as a table or JSON (cmd-events.c). With
 * ret_array, collects them into a new JSON array instead of printing. */
int events_print(Store *s, const EventFilter *f, bool json, json_t **ret_array);

/* Who is acting: the login user (the audit loginuid survives sudo and su),
 * else $SUDO_USER, else the user running the command. */
const char *cli_actor(void);

/* Opens the inventory for a change (root, or whoever owns it). Prints its
 * own error; NULL on failure. */
Store *cli_open_store_write(Cli *cli);

/* Parses a TIME option as "virtgov events" documents it. */
int cli_parse_time(const Command *c, const char *opt, const char *v, int64_t *ret);
