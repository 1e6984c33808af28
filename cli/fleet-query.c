/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "fleet hosts|list|events|verify": the central inventory read back
 * (query.h). The listings stream: each row is printed as it arrives, as
 * a table, JSON or CSV, through one column table per verb. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "virtgov/central/query.h"

const Command fleet_query_cmd = {
        .name = "fleet",
        .usage = FLEET_QUERY_USAGE,
        .summary = "The fleet's hosts, domains, events, chains and findings, from the central inventory.",
        .help = FLEET_QUERY_HELP,
};

typedef enum { COL_TEXT, COL_INT, COL_BOOL, COL_TIME, COL_AGE, COL_STORED } ColType;

typedef struct Col {
        const char *key;         /* the query's column, and the JSON and CSV name */
        const char *header;      /* NULL: JSON and CSV only */
        int width;
        ColType type;
} Col;

typedef struct Listing {
        const Col *cols;
        bool json, csv;
        OutArray out;
        size_t rows;
} Listing;

/* "3d", "5h", "12m", "40s" for an age in seconds. */
static const char *age_text(const char *s, char *buf, size_t n) {
        if (!s)
                return "-";
        long long v = strtoll(s, NULL, 10);
        if (v >= 2 * 86400)
                snprintf(buf, n, "%lldd", v / 86400);
        else if (v >= 2 * 3600)
                snprintf(buf, n, "%lldh", v / 3600);
        else if (v >= 120)
                snprintf(buf, n, "%lldm", v / 60);
        else
                snprintf(buf, n, "%llds", v);
        return buf;
}

static int listing_row(const CentralRow *row, void *u) {
        Listing *l = u;
        l->rows++;
        if (l->json) {
                out_item_begin(&l->out);
                for (const Col *c = l->cols; c->key; c++) {
                        const char *v = central_row_get(row, c->key);
                        json_t *j = NULL;
                        if (v && (c->type == COL_INT || c->type == COL_AGE))
                                j = json_integer(strtoll(v, NULL, 10));
                        else if (v && c->type == COL_BOOL)
                                j = json_boolean(!strcmp(v, "t"));
                        if (j) {
                                int r = out_member_json(&l->out, c->key, j);
                                json_decref(j);
                                if (r < 0)
                                        return r;
                        } else if (c->type == COL_STORED)
                                out_member_stored(&l->out, c->key, v, "{}");
                        else
                                out_member_text(&l->out, c->key, v);
                }
                out_item_end(&l->out);
        } else if (l->csv) {
                for (const Col *c = l->cols; c->key; c++)
                        out_csv_field(central_row_get(row, c->key), !c[1].key);
        } else {
                OutCell cells[24];
                char bufs[24][256];
                size_t n = 0;
                for (const Col *c = l->cols; c->key && n < ELEMENTSOF(cells); c++) {
                        if (!c->header)
                                continue;
                        const char *v = central_row_get(row, c->key);
                        if (c->type == COL_TIME)
                                v = out_time(v, bufs[n]);
                        else if (c->type == COL_AGE)
                                v = age_text(v, bufs[n], sizeof(bufs[n]));
                        else
                                v = out_safe(v && *v ? v : NULL, bufs[n], sizeof(bufs[n]));
                        cells[n++] = (OutCell) { v, c->width };
                }
                out_cells_n(cells, n);
        }
        return 0;
}

static void listing_begin(Listing *l) {
        if (l->json)
                out_array_begin(&l->out, 0);
        else if (l->csv) {
                for (const Col *c = l->cols; c->key; c++)
                        out_csv_field(c->key, !c[1].key);
        } else {
                OutCell cells[24];
                size_t n = 0;
                for (const Col *c = l->cols; c->key && n < ELEMENTSOF(cells); c++)
                        if (c->header)
                                cells[n++] = (OutCell) { c->header, c->width };
                out_cells_n(cells, n);
        }
}

/* Ends the listing even after an error (the JSON printed stays valid),
 * then says the error: never an empty listing in its place. */
static int listing_end(Listing *l, int r, const VgError *err) {
        int k = l->json ? out_array_end(&l->out) : EXIT_OK;
        if (r < 0)
                return cli_error("%s", err->text[0] ? err->text : strerror(-r));
        return fflush(stdout) == 0 ? k : EXIT_FAIL;
}

typedef struct Opts {
        const char *host, *kind;
        int64_t since_us;
        unsigned limit;
        bool csv;
} Opts;

/* The options of the listing verbs; allowed: which of them this verb
 * takes ('H' host, 'k' kind, 's' since, 'l' limit, 'c' csv). */
static int parse(Cli *cli, int argc, char **argv, const char *allowed, Opts *o) {
        enum { OPT_HOST = 0x100, OPT_KIND, OPT_SINCE, OPT_LIMIT, OPT_JSON, OPT_CSV, OPT_HELP };
        static const struct option opts[] = {
                { "host", required_argument, NULL, OPT_HOST },
                { "kind", required_argument, NULL, OPT_KIND },
                { "since", required_argument, NULL, OPT_SINCE },
                { "limit", required_argument, NULL, OPT_LIMIT },
                { "json", no_argument, NULL, OPT_JSON },
                { "csv", no_argument, NULL, OPT_CSV },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        static const char letters[] = "HkslJc";   /* by option, from OPT_HOST; --json: every verb */
        int c, k;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                if (c >= OPT_HOST && c <= OPT_CSV && c != OPT_JSON && !strchr(allowed, letters[c - OPT_HOST]))
                        return cli_usage_error(&fleet_query_cmd, "fleet %s takes no %s", argv[0], argv[optind - 1]);
                switch (c) {
                case OPT_HOST: o->host = optarg; break;
                case OPT_KIND: o->kind = optarg; break;
                case OPT_SINCE:
                        if ((k = cli_parse_time(&fleet_query_cmd, "--since", optarg, &o->since_us)))
                                return k;
                        break;
                case OPT_LIMIT:
                        if ((k = cli_parse_limit(&fleet_query_cmd, optarg, &o->limit)))
                                return k;
                        break;
                case OPT_JSON: cli->json = true; break;
                case OPT_CSV: o->csv = true; break;
                case 'h': case OPT_HELP: return cli_help(&fleet_query_cmd);
                default: return cli_usage_error(&fleet_query_cmd, "unknown option for fleet %s", argv[0]);
                }
        }
        if (optind < argc)
                return cli_usage_error(&fleet_query_cmd, "unexpected argument '%s'", argv[optind]);
        if (o->csv && cli->json)
                return cli_usage_error(&fleet_query_cmd, "--json and --csv: choose one");
        return -1;
}

static int run_listing(Cli *cli, const char *dsn, int argc, char **argv, const char *allowed, const Col *cols,
                       int which) {
        Opts o = { 0 };
        int k = parse(cli, argc, argv, allowed, &o);
        if (k >= 0)
                return k;
        _cleanup_(central_closep) Central *c = NULL;
        if ((k = fleet_connect(cli, dsn, false, &c)) != EXIT_OK)
                return k;
        Listing l = { .cols = cols, .json = cli->json, .csv = o.csv };
        VgError err = { "" };
        listing_begin(&l);
        int r;
        if (which == 0)
                r = central_hosts(c, listing_row, &l, &err);
        else if (which == 1)
                r = central_domains(c, o.host, listing_row, &l, &err);
        else {
                CentralEventFilter f = { o.host, o.kind, o.since_us, o.limit };
                r = central_events(c, &f, listing_row, &l, &err);
        }
        return listing_end(&l, r, &err);
}

int fleet_hosts(Cli *cli, const char *dsn, int argc, char **argv) {
        static const Col cols[] = {
                { "host_id", "HOST", 16, COL_TEXT }, { "host_group", "GROUP", 8, COL_TEXT },
                { "hostname", "HOSTNAME", 16, COL_TEXT }, { "last_time", "LAST EVENT (UTC)", 19, COL_TIME },
                { "last_seq", "SEQ", -7, COL_INT }, { "shipped_seq", "SHIPPED", -7, COL_INT },
                { "head_seq", "HEAD", -7, COL_INT }, { "head_age_s", "HEAD AGE", -8, COL_AGE },
                { "lag_s", "LAG", -5, COL_AGE }, { "libvirt_version", "LIBVIRT", 8, COL_TEXT },
                { "qemu_version", "QEMU", 8, COL_TEXT }, { "kernel", "KERNEL", 14, COL_TEXT },
                { "degraded", "DEGRADED", 0, COL_TEXT }, { "updated", NULL, 0, COL_TEXT },
                {},
        };
        return run_listing(cli, dsn, argc, argv, "c", cols, 0);
}

int fleet_list(Cli *cli, const char *dsn, int argc, char **argv) {
        static const Col cols[] = {
                { "host_id", "HOST", 16, COL_TEXT }, { "name", "NAME", 20, COL_TEXT },
                { "uuid", "UUID", 36, COL_TEXT }, { "state", "STATE", 8, COL_TEXT },
                { "owner", "OWNER", 10, COL_TEXT }, { "ticket", "TICKET", 0, COL_TEXT },
                { "persistent", NULL, 0, COL_BOOL }, { "vcpus", NULL, 0, COL_INT },
                { "memory_kib", NULL, 0, COL_INT },
                {},
        };
        return run_listing(cli, dsn, argc, argv, "Hc", cols, 1);
}

int fleet_events(Cli *cli, const char *dsn, int argc, char **argv) {
        static const Col cols[] = {
                { "time", "TIME (UTC)", 19, COL_TIME }, { "host_id", "HOST", 16, COL_TEXT },
                { "seq", "SEQ", -6, COL_INT }, { "source", "SOURCE", 9, COL_TEXT },
                { "kind", "KIND", 22, COL_TEXT }, { "domain", "DOMAIN", 20, COL_TEXT },
                { "decision", "DECISION", 8, COL_TEXT }, { "reason", "REASON", 0, COL_TEXT },
                { "host", NULL, 0, COL_TEXT }, { "uuid", NULL, 0, COL_TEXT }, { "actor", NULL, 0, COL_TEXT },
                { "data", NULL, 0, COL_STORED }, { "hash", NULL, 0, COL_TEXT },
                {},
        };
        return run_listing(cli, dsn, argc, argv, "Hksl", cols, 2);
}

/* ---- verify ---- */

typedef struct Verified {
        json_t *hosts;
        size_t checked, bad;
        bool json;
} Verified;

static int verified(const CentralChainCheck *v, void *u) {
        Verified *vd = u;
        vd->checked++;
        vd->bad += !v->ok;
        if (vd->json) {
                json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:s?, s:I, s:I, s:I, s:I, "
                                      "s:I, s:I, s:I, s:s?, s:b}",
                                      "host_id", v->host_id, "ok", v->ok, "events", (json_int_t) v->rows,
                                      "last_seq", (json_int_t) v->last_seq, "last_hash", v->last_hash,
                                      "gap_from", (json_int_t) v->gap_from, "gap_to", (json_int_t) v->gap_to,
                                      "missing", (json_int_t) v->missing, "bad_seq", (json_int_t) v->bad_seq,
                                      "problem", v->bad_seq ? v->bad : NULL, "bad_rows", (json_int_t) v->bad_rows,
                                      "forks", (json_int_t) v->forks, "fork_seq", (json_int_t) v->fork_seq,
                                      "heads", (json_int_t) v->heads, "heads_signed", (json_int_t) v->heads_signed,
                                      "heads_bad", (json_int_t) v->heads_bad, "head_bad_seq",
                                      (json_int_t) v->head_bad_seq, "head_problem",
                                      v->head_bad_seq ? v->head_bad : NULL, "host_key", v->has_key);
                return o && json_array_append_new(vd->hosts, o) == 0 ? 0 : -ENOMEM;
        }
        char id[128];
        out_safe(v->host_id, id, sizeof(id));
        if (v->ok && !v->rows) {
                printf("%s: ok: no event held\n", id);
                return 0;
        }
        if (v->ok) {
                printf("%s: ok: %" PRId64 " events, 1 to %" PRId64 ", %zu head(s) held, %zu signature(s) verified%s\n",
                       id, v->rows, v->last_seq, v->heads, v->heads_signed,
                       v->has_key ? "" : " (no host key held)");
                return 0;
        }
        printf("%s: FAILED: %" PRId64 " events, last %" PRId64 "\n", id, v->rows, v->last_seq);
        if (v->gap_from == v->gap_to && v->gap_from)
                printf("  gap: event %" PRId64 " is missing (%" PRId64 " missing in all)\n", v->gap_from, v->missing);
        else if (v->gap_from)
                printf("  gap: events %" PRId64 " to %" PRId64 " are missing (%" PRId64 " missing in all)\n",
                       v->gap_from, v->gap_to, v->missing);
        if (v->bad_seq)
                printf("  broken: %s (%" PRId64 " row(s) in all)\n", v->bad, v->bad_rows);
        if (v->forks)
                printf("  fork: %" PRId64 " conflicting row(s), the first at seq %" PRId64 "\n", v->forks, v->fork_seq);
        if (v->heads_bad)
                printf("  heads: %s (%zu of %zu bad)\n", v->head_bad, v->heads_bad, v->heads);
        return 0;
}

int fleet_verify(Cli *cli, const char *dsn, int argc, char **argv) {
        Opts o = { 0 };
        int k = parse(cli, argc, argv, "H", &o);
        if (k >= 0)
                return k;
        _cleanup_(central_closep) Central *c = NULL;
        if ((k = fleet_connect(cli, dsn, false, &c)) != EXIT_OK)
                return k;
        Verified vd = { .hosts = json_array(), .json = cli->json };
        if (!vd.hosts)
                return cli_error("out of memory");
        VgError err = { "" };
        int r = central_verify(c, o.host, verified, &vd, &err);
        if (r < 0) {
                json_decref(vd.hosts);
                return cli_error("%s", err.text[0] ? err.text : strerror(-r));
        }
        size_t n = vd.checked;
        if (!vd.json && n == 0)
                printf("no host in the central inventory: nothing to verify\n");
        if (vd.json)
                k = out_json(json_pack("{s:b, s:I, s:I, s:o}", "ok", vd.bad == 0, "checked", (json_int_t) n,
                                       "failed", (json_int_t) vd.bad, "hosts", vd.hosts));
        else
                json_decref(vd.hosts);
        if (k != EXIT_OK)
                return k;
        return vd.bad ? EXIT_FAIL : EXIT_OK;
}
