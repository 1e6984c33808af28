/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stream.h"
#include "virtgov/host/identity.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/util/jsontext.h"

/* The detail column: what a person needs to tell two events apart, from
 * the top-level fields of the event's data. */
static void detail(const Event *e, const json_t *data, char *buf, size_t n) {
        static const char *const keys[] = { "network", "pool", "detail", "user", "group", "file", "ticket",
                                            "device", "rule" };
        const char *op = json_string_value(json_object_get(data, "op"));
        const char *subop = json_string_value(json_object_get(data, "subop"));
        const char *error = json_string_value(json_object_get(data, "error"));
        size_t k = 0;
        buf[0] = '\0';
#define ADD(...) do { if (k < n) k += (size_t) snprintf(buf + k, n - k, __VA_ARGS__); } while (0)
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *v = json_string_value(json_object_get(data, keys[i]));
                if (v)
                        ADD("%s=%s ", keys[i], v);
        }
        if (op)
                ADD("op=%s/%s ", op, subop ? subop : "-");
        if (e->reason)
                ADD("reason=\"%s\" ", e->reason);
        if (e->actor)
                ADD("by=%s ", e->actor);
        if (json_object_get(data, "spooled_because"))
                ADD("(spooled) ");
        if (error)
                ADD("error=\"%s\"", error);
#undef ADD
        if (k >= n)
                k = n - 1;
        while (k > 0 && buf[k - 1] == ' ')
                buf[--k] = '\0';
}

typedef struct Printer {
        json_t *array;            /* collecting (for "show") */
        OutArray *out;            /* streaming --json */
} Printer;

static int print_event(const Event *e, void *userdata) {
        Printer *p = userdata;
        if (p->array)
                return json_array_append_new(p->array, event_to_json(e)) < 0 ? -ENOMEM : 0;
        if (p->out)   /* its data copied as stored */
                return out_array_add(p->out, event_to_json(e),
                                     e->data_text ? &(OutStored) { "data", e->data_text, "{}" } : NULL);

        /* Only the data's top-level scalars: decoding all of it (facts and
         * all) was 80% of a listing. Data that is not JSON shows none. */
        char t[20], s1[64], s2[64], s3[64], d[512], d2[512];
        json_t *data = vg_json_text_scalars(e->data_text);
        detail(e, data, d, sizeof(d));
        json_decref(data);
        out_cells({ out_time(e->time, t), 19 }, { out_safe(e->source, s1, sizeof(s1)), 9 },
                  { out_safe(e->kind, s2, sizeof(s2)), 22 }, { out_safe(e->domain, s3, sizeof(s3)), 20 },
                  { e->decision ? e->decision : "-", 8 }, { out_safe(d, d2, sizeof(d2)), 0 });
        return 0;
}

/* Also used by "show" for a domain's recent events. */
int events_print(Store *s, const EventFilter *f, bool json, json_t **ret_array) {
        OutArray out;
        Printer p = { .array = ret_array ? json_array() : NULL, .out = json && !ret_array ? &out : NULL };
        VgError err = { "" };
        if (ret_array && !p.array)
                return cli_error("out of memory");
        if (p.out)
                out_array_begin(&out, 0);
        else if (!ret_array)
                out_cells({ "TIME (UTC)", 19 }, { "SOURCE", 9 }, { "KIND", 22 }, { "DOMAIN", 20 },
                          { "DECISION", 8 }, { "DETAIL", 0 });
        /* Streamed JSON copies each event's data as stored (a listing
         * of every event spent 80% of its time decoding and encoding it);
         * the table reads a few fields of it. Only "show" decodes it. */
        EventFilter q = *f;
        q.data_text = !p.array;
        int r = store_query_events(s, &q, print_event, &p, &err);
        if (p.out) {
                /* Ends the array even after an error: what was printed
                 * stays valid JSON, and the error goes to stderr. */
                int k = out_array_end(&out);
                if (r == 0)
                        return k;
        }
        if (r < 0) {
                json_decref(p.array);
                return cli_error("%s", err.text[0] ? err.text : strerror(-r));
        }
        if (ret_array)
                *ret_array = p.array;
        return EXIT_OK;
}

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_DOMAIN = 0x100, OPT_KIND, OPT_SOURCE, OPT_NETWORK, OPT_SINCE, OPT_UNTIL,
               OPT_LIMIT, OPT_JSON, OPT_FORMAT, OPT_FOLLOW, OPT_AFTER_ID, OPT_STATE, OPT_HELP };
        static const struct option opts[] = {
                { "domain", required_argument, NULL, OPT_DOMAIN },
                { "kind", required_argument, NULL, OPT_KIND },
                { "source", required_argument, NULL, OPT_SOURCE },
                { "network", required_argument, NULL, OPT_NETWORK },
                { "since", required_argument, NULL, OPT_SINCE },
                { "until", required_argument, NULL, OPT_UNTIL },
                { "limit", required_argument, NULL, OPT_LIMIT },
                { "json", no_argument, NULL, OPT_JSON },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "follow", no_argument, NULL, OPT_FOLLOW },
                { "after-id", required_argument, NULL, OPT_AFTER_ID },
                { "state", required_argument, NULL, OPT_STATE },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        EventFilter f = { 0 };
        StreamOptions so = { .after_id = -1, .poll_ms = 2000 };
        const char *format = NULL;
        int c, r;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_DOMAIN: f.domain = optarg; break;
                case OPT_KIND: f.kind_prefix = optarg; break;
                case OPT_SOURCE: f.source = optarg; break;
                case OPT_NETWORK: f.network = optarg; break;
                case OPT_SINCE:
                        if ((r = cli_parse_time(&cmd_events, "--since", optarg, &f.since_us)))
                                return r;
                        break;
                case OPT_UNTIL:
                        if ((r = cli_parse_time(&cmd_events, "--until", optarg, &f.until_us)))
                                return r;
                        break;
                case OPT_LIMIT:
                        if ((r = cli_parse_limit(&cmd_events, optarg, &f.limit)))
                                return r;
                        break;
                case OPT_JSON: cli->json = true; break;
                case OPT_FORMAT:
                        if (!vg_streq(optarg, "json") && !vg_streq(optarg, "ecs"))
                                return cli_usage_error(&cmd_events, "--format takes json or ecs, got '%s'", optarg);
                        format = optarg;
                        break;
                case OPT_FOLLOW: so.follow = true; break;
                case OPT_AFTER_ID: {
                        char *end;
                        errno = 0;
                        long long n = strtoll(optarg, &end, 10);
                        if (errno || *end || !*optarg || n < 0)
                                return cli_usage_error(&cmd_events, "--after-id takes an event id, 0 or more "
                                                       "(0: from the first event), got '%s'", optarg);
                        so.after_id = n;
                        break;
                }
                case OPT_STATE: so.state = optarg; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_events);
                default: return cli_usage_error(&cmd_events, "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(&cmd_events, "unexpected argument '%s'", argv[optind]);
        if (!format && (so.follow || so.state || so.after_id >= 0))
                format = "json";   /* a stream is JSON lines */
        if (format && (f.limit || f.until_us))
                return cli_usage_error(&cmd_events, "--limit and --until end a listing; a stream (--format, "
                                       "--follow, --state, --after-id) takes every event after its position");

        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        if (!format)
                return events_print(s, &f, cli->json, NULL);
        char host_id[HOST_ID_SIZE];
        VgError err = { "" };
        so.ecs = vg_streq(format, "ecs");
        if (so.ecs) {
                if (host_id_of(cli->config, host_id, &err) == 0)
                        so.host_id = host_id;
                else
                        fprintf(stderr, "virtgov: warning: no host.id in the documents: %s\n", err.text);
        }
        return events_stream(cli, s, &f, &so);
}

const Command cmd_events = {
        .name = "events",
        .usage = "events [--domain NAME|UUID] [--kind PREFIX] [--source SOURCE] [--network NAME]\n"
                 "               [--since TIME] [--until TIME] [--limit N] [--json]\n"
                 "       virtgov events --format json|ecs [--follow] [--after-id ID] [--state FILE] [FILTERS]",
        .summary = "List recorded events, oldest first.",
        .help =
        "Every define, start, stop and undefine of a VM, every network change and every\n"
        "host-account change is one event. Without options all events are listed.\n"
        "\n"
        "Options:\n"
        "  --domain NAME|UUID  events of this domain (by name or UUID)\n"
        "  --kind PREFIX       events whose kind starts with PREFIX: 'domain.', 'network.',\n"
        "                      'domain.started', 'account.'\n"
        "  --source SOURCE     hook, libvirt, reconcile, accounts, cli or daemon\n"
        "  --network NAME      events of this libvirt network\n"
        "  --since TIME        events at or after TIME\n"
        "  --until TIME        events before TIME\n"
        "  --limit N           only the newest N that match (still printed oldest first); N is\n"
        "                      1 or more: without --limit, every event that matches\n"
        "  --json              a JSON array of event objects with the fields id, time, ref,\n"
        "                      source, kind, host, domain, uuid, decision, reason, actor, data\n"
        "                      and hash (its link in the hash chain, see 'virtgov verify')\n"
        "\n"
        "A stream for a shipper (one JSON object a line, in id order, flushed by batch):\n"
        "  --format json|ecs   json: each event's own JSON (as --json); ecs: a document of\n"
        "                      the Elastic Common Schema (event.*, host.*, user.*, related.*,\n"
        "                      virtgov.* for the rest; the mapping is in the README)\n"
        "  --follow            after the events there are, wait for new ones until SIGINT,\n"
        "                      SIGTERM or SIGHUP, which end it between two batches\n"
        "  --after-id ID       start after event ID (0: the first); overrides --state's\n"
        "                      position\n"
        "  --state FILE        keep the last event written (its id and hash) in FILE, written\n"
        "                      after each batch is flushed, and start after it: each event\n"
        "                      once across restarts. At start the inventory must still hold\n"
        "                      that event with that hash, or the stream refuses (exit 1): an\n"
        "                      inventory rolled back, truncated or replaced is named, not\n"
        "                      shipped from a position that means something else. A stream\n"
        "                      killed (SIGKILL) between a batch and its state writes that\n"
        "                      batch again: event.sequence and event.id tell a copy apart.\n"
        "  The filters above apply; --limit and --until do not (a stream has no end).\n"
        "  host.id is the machine-id (config machine_id_file).\n"
        "\n"
        "TIME is RFC 3339 (2026-11-22T09:30:00Z, 2026-11-22T19:30:00+10:00), a date\n"
        "(2026-11-22, midnight UTC), 'now', or an age: 30s, 15m, 2h, 7d, 2w.\n"
        "Times are shown and stored in UTC.\n"
        "\n"
        "Events that virtgov-hook had to spool (inventory locked or read-only) are folded\n"
        "into the inventory first when you may write it; otherwise a note says how many wait.\n"
        "\n"
        "Examples:\n"
        "  virtgov events --domain web-7 --since 7d\n"
        "  virtgov --json events --kind network. --limit 20\n"
        "  virtgov events --format ecs --follow --state /var/lib/virtgov/ship.state\n",
        .run = run,
};
