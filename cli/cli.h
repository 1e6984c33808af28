/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the CLI's command files: the context, the command table entry,
 * opening the inventory, and output helpers. */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "virtgov/util/config.h"
#include "virtgov/store/store.h"

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
        cmd_verify, cmd_integrity, cmd_assess, cmd_audit_rules,
        cmd_policy, cmd_host_key, cmd_fleet;

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
        size_t n;                 /* items so far */
        size_t members;           /* members of the current item so far */
} OutArray;
void out_array_begin(OutArray *a, unsigned depth);
/* An item, an object written a member at a time, in the order given, as
 * out_json would print the same object: a listing of events or report
 * rows need not build one. */
void out_item_begin(OutArray *a);
void out_member_text(OutArray *a, const char *key, const char *text);   /* NULL: null */
void out_member_bool(OutArray *a, const char *key, bool v);
int out_member_json(OutArray *a, const char *key, const json_t *v);     /* borrowed; -ENOMEM */
/* A member whose value is JSON text from the inventory (an event's data, a
 * domain's facts), copied without decoding it (jsontext.h); fallback is
 * written for text that json_loads would refuse, as decoding would show
 * it. NULL text: null. */
void out_member_stored(OutArray *a, const char *key, const char *text, const char *fallback);
void out_item_end(OutArray *a);
/* An item from an object, which it steals; -ENOMEM for NULL. With
 * stored, its member stored->key is written from the inventory's text
 * instead (out_member_stored), in its place. */
typedef struct OutStored {
        const char *key, *text, *fallback;
} OutStored;
int out_array_add(OutArray *a, json_t *item, const OutStored *stored);
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

/* Writes buf to the file a person named with --out: '-' is standard
 * output, anything else goes through vg_write_file (a regular file
 * replaced atomically, a device or FIFO written through, the rest
 * refused). EXIT_OK, or EXIT_FAIL having said why. */
int cli_write_out(const char *path, const void *buf, size_t len, unsigned mode);

/* Runs fn(u) with standard output sent to path, through vg_write_open
 * and vg_write_close: for a file written as it is made. fn's exit
 * status, or EXIT_FAIL having said why the file could not be written. */
int cli_to_file(const char *path, unsigned mode, int (*fn)(void *), void *u);

/* cli_to_file for a file read by a program that wants it whole (the
 * metrics for node_exporter): when fn fails, path is left as it was. */
int cli_to_file_whole(const char *path, unsigned mode, int (*fn)(void *), void *u);

/* One CSV field (vg_text_put_csv: RFC 4180 quoting, formulas made text,
 * controls and bidi controls as U+FFFD; NULL is empty), then ',' or, last
 * in its row, a newline. Every CSV of virtgov goes through it. */
void out_csv_field(const char *s, bool last);

/* s with control and non-ASCII bytes replaced by '?', for a terminal
 * (vg_text_terminal): a hostile domain name must not inject escape
 * sequences. "-" for NULL. Every line for a person goes through it. */
const char *out_safe(const char *s, char *buf, size_t n);
/* The same written to f whole, without a copy ("-" for NULL). */
void out_put_safe(const char *s, FILE *f);

/* The file a person named as input (ticket import FILE, policy test --xml
 * FILE, ...), at most max bytes: "-" is standard input, read to its end;
 * any other path must be a regular file (vg_read_file: a FIFO it names
 * could wait forever). 0, or a negative errno; cli_input_error says it. */
int cli_read_input(const char *path, size_t max, char **ret, size_t *ret_len);
/* Why cli_read_input failed, for "PATH: WHY". */
const char *cli_input_error(int r);

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

/* --limit N of events: a whole number from 1 to 100,000,000 into *ret, or the usage
 * error (EXIT_USAGE) naming c. */
int cli_parse_limit(const Command *c, const char *v, unsigned *ret);
