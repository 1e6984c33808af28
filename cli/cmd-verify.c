/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "verify": recompute the events' hash chain and name the first broken
 * link; optionally check it against anchors copied from the central log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heads.h"
#include "virtgov/integrity/run.h"
#include "virtgov/util/cleanup.h"

typedef struct Anchor {
        int64_t id;
        char hash[CHAIN_HEX_SIZE];
} Anchor;

/* "ID:HASH", as the daemon's chain.head syslog line prints them. */
static int parse_anchor(const char *arg, Anchor *a) {
        char *end;
        errno = 0;
        long long id = strtoll(arg, &end, 10);
        uint8_t raw[CHAIN_HASH_SIZE];
        if (errno || end == arg || *end != ':' || id < 1 || chain_unhex(end + 1, raw) < 0)
                return -EINVAL;
        a->id = id;
        chain_hex(raw, a->hash);
        return 0;
}

/* The authorization rows no decision can use, for the report. */
static int invalid_row(const char *kind, const char *key, const char *why, void *u) {
        return json_array_append_new(u, json_pack("{s:s, s:s, s:s}", "kind", kind, "key", key, "why", why));
}

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_FROM = 0x100, OPT_ANCHOR, OPT_HEADS, OPT_JSON, OPT_HELP };
        static const struct option opts[] = {
                { "from", required_argument, NULL, OPT_FROM },
                { "anchor", required_argument, NULL, OPT_ANCHOR },
                { "heads", required_argument, NULL, OPT_HEADS },
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        int64_t from = 1;
        Anchor anchors[64];
        size_t n_anchors = 0;
        const char *heads = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_FROM: {
                        char *end;
                        errno = 0;
                        long long v = strtoll(optarg, &end, 10);
                        if (errno || *end || end == optarg || v < 1)
                                return cli_usage_error(&cmd_verify, "--from takes an event id (1 or more), got '%s'",
                                                       optarg);
                        from = v;
                        break;
                }
                case OPT_ANCHOR:
                        if (n_anchors == sizeof(anchors) / sizeof(anchors[0]))
                                return cli_usage_error(&cmd_verify, "at most 64 --anchor options");
                        if (parse_anchor(optarg, &anchors[n_anchors]) < 0)
                                return cli_usage_error(&cmd_verify, "--anchor takes ID:HASH (an event id and 64 hex "
                                                       "digits, as in the daemon's chain.head line), got '%s'",
                                                       optarg);
                        n_anchors++;
                        break;
                case OPT_HEADS: heads = optarg; break;
                case OPT_JSON: cli->json = true; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_verify);
                default: return cli_usage_error(&cmd_verify, "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(&cmd_verify, "unexpected argument '%s'", argv[optind]);

        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        ChainVerify v;
        int r = store_verify_chain(s, from, &v, &err);
        if (r < 0)
                return cli_error("%s", err.text);

        /* An anchor is a (id, hash) the central log holds. A chain that
         * verifies but disagrees with one was cut short or rebuilt. */
        char anchor_problem[256] = "";
        for (size_t i = 0; r == 0 && i < n_anchors; i++) {
                char have[CHAIN_HEX_SIZE];
                int k = store_chain_hash(s, anchors[i].id, have, &err);
                if (k == -ENOENT)
                        snprintf(anchor_problem, sizeof(anchor_problem), "anchor %lld: no such event: the "
                                 "inventory was truncated", (long long) anchors[i].id);
                else if (k < 0)
                        return cli_error("%s", err.text);
                else if (strcmp(have, anchors[i].hash))
                        snprintf(anchor_problem, sizeof(anchor_problem), "anchor %lld: the event's hash differs "
                                 "from the anchor's: the chain was rewritten from there on or before",
                                 (long long) anchors[i].id);
                if (anchor_problem[0]) {
                        v.broken_id = anchors[i].id;
                        snprintf(v.problem, sizeof(v.problem), "%s", anchor_problem);
                        r = 1;
                }
        }

        /* Heads from the central log, signed by this host: each must be
         * in the chain as it was sent. */
        HeadsCheck hc = { 0 };
        if (heads) {
                if (heads_check(s, cli->config, heads, &hc, &err) < 0)
                        return cli_error("--heads: %s", err.text);
                if (r == 0 && hc.problem[0]) {
                        v.broken_id = hc.first_lost;
                        snprintf(v.problem, sizeof(v.problem), "%s", hc.problem);
                        r = 1;
                }
        }

        /* The integrity baseline rests on the chain: its newest digest is
         * in a chained event, and the table must still match it. */
        VgError berr = { "" };
        int b = integrity_verify_baseline(s, NULL, &berr);
        if (b < 0 && b != -ENOENT && b != -EBADMSG && b != -EPROTO)
                return cli_error("%s", berr.text);
        const char *baseline = b == 0 ? "intact" : b == -ENOENT ? "none" : berr.text;

        /* Rows of the approvals, tickets and trusted images that no
         * decision can use (authz.h): an older virtgov's, or edited by
         * hand. Every decision skips them; an auditor is told. */
        json_t *invalid = json_array();
        if (!invalid)
                return cli_error("out of memory");
        if (store_authz_invalid(s, invalid_row, invalid, NULL, &err) < 0) {
                json_decref(invalid);
                return cli_error("%s", err.text);
        }
        size_t n_invalid = json_array_size(invalid);

        if (cli->json) {
                json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:s, s:I, s:s}", "intact", r == 0, "from", (json_int_t) from,
                                      "checked", (json_int_t) v.checked, "head_id", (json_int_t) v.head_id,
                                      "head_hash", v.head_hash, "anchors", (json_int_t) n_anchors,
                                      "integrity_baseline", baseline);
                if (r) {
                        json_object_set_new(j, "broken_id", json_integer(v.broken_id));
                        json_object_set_new(j, "problem", json_string(v.problem));
                }
                if (heads)
                        json_object_set_new(j, "heads", json_pack("{s:I, s:I, s:I, s:I, s:I}", "held", (json_int_t) hc.held,
                                                                  "lost", (json_int_t) hc.lost, "other_hosts",
                                                                  (json_int_t) hc.other_hosts, "unsigned",
                                                                  (json_int_t) hc.unsigned_heads, "bad_signature",
                                                                  (json_int_t) hc.bad_sig));
                json_object_set_new(j, "invalid_authorizations", invalid);
                invalid = NULL;
                out_json(j);
        } else if (r == 0) {
                printf("chain intact: %lld events checked (ids %lld to %lld), %zu anchors\n"
                       "head: %lld:%s\n", (long long) v.checked, (long long) (v.checked ? v.first_id : 0),
                       (long long) v.head_id, n_anchors, (long long) v.head_id, v.head_hash);
        } else {
                printf("chain BROKEN: %s\n"
                       "intact before it: %lld events checked, last good link %lld:%s\n",
                       v.problem, (long long) v.checked, (long long) v.head_id,
                       v.head_hash);
        }
        if (!cli->json) {
                if (heads)
                        printf("heads: %zu of this host held, %zu lost, %zu not signed by its key; %zu of other "
                               "hosts and %zu unsigned skipped\n", hc.held, hc.lost, hc.bad_sig, hc.other_hosts,
                               hc.unsigned_heads);
                printf("integrity baseline: %s\n", baseline);
                printf("authorizations: %s", n_invalid ? "" : "every row usable\n");
                if (n_invalid)
                        printf("%zu row(s) no decision can use (skipped: they authorize nothing)\n", n_invalid);
                size_t i;
                json_t *x;
                json_array_foreach(invalid, i, x) {
                        char buf[1200];
                        printf("  %s\n", out_safe(json_string_value(json_object_get(x, "why")), buf, sizeof(buf)));
                }
        }
        json_decref(invalid);
        return r == 0 && b != -EBADMSG && b != -EPROTO && !n_invalid ? EXIT_OK : EXIT_FAIL;
}

const Command cmd_verify = {
        .name = "verify",
        .usage = "verify [--from ID] [--anchor ID:HASH]... [--heads FILE] [--json]",
        .summary = "Check the events' hash chain and the integrity baseline: was anything edited?",
        .help =
        "Every event row carries the SHA-256 of the row before it and its own, over its\n"
        "id and every field. verify recomputes the chain in id order and stops at the\n"
        "first broken link, naming the event: edited (its content does not match its\n"
        "hash), deleted (an id is missing), or edited and re-hashed (the next row no\n"
        "longer links to it).\n"
        "\n"
        "A chain rebuilt from scratch, or cut short at the end, is consistent in itself.\n"
        "What catches those is a copy kept elsewhere: virtgov-inventoryd sends the hash of\n"
        "every event and, each reconcile interval, the chain's head to syslog, signed\n"
        "with the host's key (virtgov host-key):\n"
        "  chain.head id=ID hash=HASH host=MACHINE-ID time=TIME sig=SIGNATURE\n"
        "Give an export of the central log as --heads, or single pairs as --anchor.\n"
        "\n"
        "It also checks the integrity baseline (virtgov integrity) against the digest\n"
        "the newest chained event recorded for it: a baseline row edited outside\n"
        "virtgov no longer matches.\n"
        "\n"
        "And it lists the rows of the approvals, tickets and trusted images that no\n"
        "decision can use (a glob or name over its bound, a ticket with no glob or\n"
        "an unreadable window: an older virtgov's rows, or edited by hand). Every\n"
        "decision skips them, so they authorize nothing.\n"
        "\n"
        "Options:\n"
        "  --from ID          start at event ID, taking the row before it as given\n"
        "                     (default: from the first event)\n"
        "  --anchor ID:HASH   also require event ID to have this hash; repeatable\n"
        "  --heads FILE       every chain head in FILE ('-': stdin), an export of the\n"
        "                     central log: syslog text, 'journalctl -o export' or\n"
        "                     'journalctl -o json' lines. The heads of this host (its\n"
        "                     machine-id) must be signed by its key and held by the\n"
        "                     chain; the first lost (the inventory rolled back to an\n"
        "                     older copy, truncated or replaced) is named. Heads of other\n"
        "                     hosts are skipped, and so are unsigned ones of an older\n"
        "                     virtgov; a file with no head of this host fails\n"
        "  --json             {intact, from, checked, head_id, head_hash, anchors,\n"
        "                     integrity_baseline, invalid_authorizations: [{kind, key,\n"
        "                     why}], with --heads: heads {held, lost, other_hosts,\n"
        "                     unsigned, bad_signature}, and when broken: broken_id,\n"
        "                     problem}\n"
        "\n"
        "Exit status: 0 intact, 1 broken (the chain, or the integrity baseline), an\n"
        "authorization row no decision can use, or an error; 2 usage error.\n"
        "\n"
        "Examples:\n"
        "  virtgov verify\n"
        "  virtgov verify --anchor 48213:9f2c...e1\n"
        "  journalctl -o export -t virtgov | virtgov verify --heads -\n",
        .run = run,
};
