/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "policy check" and "policy test": see a policy's verdicts before they bite. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/policy/gate.h"
#include "virtgov/model/kinds.h"

static int check(Cli *cli, int argc, char **argv) {
        if (argc > 2)
                return cli_usage_error(&cmd_policy, "policy check takes at most one FILE");
        const char *path = argc == 2 ? argv[1] : cli->config->policy;
        Policy *p = NULL;
        VgError err = { "" };
        if (policy_load(path, &p, &err) < 0)
                return cli_error("%s", err.text);
        if (cli->json) {
                json_t *names = json_array();
                for (size_t i = 0; i < p->n_rules; i++)
                        json_array_append_new(names, json_string(p->rules[i].name));
                json_t *o = json_pack("{s:s, s:b, s:s, s:s, s:s, s:o}", "policy", path, "valid", 1,
                                      "mode", p->mode == POLICY_ENFORCE ? "enforce" : "audit",
                                      "default", p->fallback == VERDICT_ALLOW ? "allow" : "deny",
                                      "on_error", p->on_error == VERDICT_ALLOW ? "allow" : "deny", "rules", names);
                policy_free(p);
                return out_json(o);
        }
        printf("policy '%s' is valid: mode %s, default %s, on_error %s, %zu rule(s)\n", path,
               p->mode == POLICY_ENFORCE ? "enforce" : "audit", p->fallback == VERDICT_ALLOW ? "allow" : "deny",
               p->on_error == VERDICT_ALLOW ? "allow" : "deny", p->n_rules);
        for (size_t i = 0; i < p->n_rules; i++)
                printf("  %zu. %s\n", i + 1, p->rules[i].name);
        policy_free(p);
        return EXIT_OK;
}

static int test(Cli *cli, int argc, char **argv) {
        enum { OPT_XML = 0x100, OPT_OP, OPT_AT, OPT_POLICY, OPT_HOST, OPT_JSON };
        static const struct option opts[] = {
                { "xml", required_argument, NULL, OPT_XML },
                { "op", required_argument, NULL, OPT_OP },
                { "at", required_argument, NULL, OPT_AT },
                { "policy", required_argument, NULL, OPT_POLICY },
                { "host", required_argument, NULL, OPT_HOST },
                { "json", no_argument, NULL, OPT_JSON },
                {}
        };
        const char *xml_path = NULL, *op = "start", *policy = cli->config->policy;
        char host[256];
        gethostname(host, sizeof(host));
        host[sizeof(host) - 1] = '\0';
        const char *host_p = host;
        int64_t at = vg_now_us();
        int c, r;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_XML: xml_path = optarg; break;
                case OPT_OP:
                        if (strcmp(optarg, "start") && strcmp(optarg, "migrate") && strcmp(optarg, "restore") &&
                            strcmp(optarg, "define"))
                                return cli_usage_error(&cmd_policy, "--op must be start, migrate, restore or define");
                        op = optarg;
                        break;
                case OPT_AT:
                        if ((r = cli_parse_time(&cmd_policy, "--at", optarg, &at)))
                                return r;
                        break;
                case OPT_POLICY: policy = optarg; break;
                case OPT_HOST: host_p = optarg; break;
                case OPT_JSON: cli->json = true; break;
                default: return cli_usage_error(&cmd_policy, "unknown option");
                }
        }
        if (!xml_path || optind != argc)
                return cli_usage_error(&cmd_policy, "policy test needs --xml FILE (virsh dumpxml NAME > FILE)");

        _cleanup_free_ char *xml = NULL;
        size_t len;
        VgError err = { "" };
        if ((r = cli_read_input(xml_path, cli->config->max_xml_bytes, &xml, &len)) < 0)
                return cli_error("%s: %s", xml_path, cli_input_error(r));
        DomainFacts *f = NULL;
        if (domxml_parse(xml, len, &f, &err) < 0)
                return cli_error("%s: %s", xml_path, err.text);

        /* The inventory is consulted as the hook would; a missing one is an
         * error the policy's on_error decides, as it would be in the hook. */
        Store *s = NULL;
        VgError serr = { "" };
        if (store_open(cli->config->inventory, STORE_READ, cli->config->busy_timeout_ms, &s, &serr) < 0)
                s = NULL;
        GateResult g;
        gate_decide(policy, s, serr.text, f, op, host_p, at, &g);
        store_close(s);
        domain_facts_free(f);

        bool deny = g.verdict == VERDICT_DENY;
        if (cli->json) {
                json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:o, s:O}", "op", op,
                                      "verdict", deny ? "deny" : "allow", "enforced", g.enforced, "error", g.error,
                                      "rule", g.rule ? json_string(g.rule) : json_null(), "detail", g.detail);
                gate_result_clear(&g);
                out_json(o);
                return deny ? EXIT_FAIL : EXIT_OK;
        }
        /* The reasons name the domain, its owner and its ticket, as
         * written by whoever defined it: text only (out_put_safe). */
        char t[VG_TIME_MAX], a[512], b[256];
        vg_time_format(at, t);
        printf("%s of '%s' at %s: %s%s (rule '%s')\n", op, out_safe(xml_path, a, sizeof(a)), t, deny ? "DENY" : "allow",
               deny && !g.enforced ? " (audit mode: recorded as a violation, not blocked)" : "",
               out_safe(g.rule ? g.rule : "none", b, sizeof(b)));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(g.detail, "reasons"), i, v) {
                fputs("  - ", stdout);
                out_put_safe(json_string_value(v), stdout);
                putchar('\n');
        }
        if (!json_array_size(json_object_get(g.detail, "reasons")) && g.reason) {
                fputs("  - ", stdout);
                out_put_safe(g.reason, stdout);
                putchar('\n');
        }
        json_int_t skipped = json_integer_value(json_object_get(g.detail, "skipped_rows"));
        if (skipped)
                printf("  (%lld approval or ticket row(s) of this domain skipped: no decision can use them; "
                       "'virtgov verify' lists them)\n", (long long) skipped);
        gate_result_clear(&g);
        return deny ? EXIT_FAIL : EXIT_OK;
}

/* ---- replay ---- */

typedef struct Replay {
        Store *s;
        const char *policy;
        const Policy *loaded;     /* read once, for every activation */
        json_t *rows;
        size_t n, denied;
} Replay;

static int replay_one(const Event *e, void *u) {
        Replay *rp = u;
        const char *hook_op = json_string_value(json_object_get(e->data, "op"));
        const char *op = !hook_op ? NULL : !strcmp(hook_op, "prepare") ? "start"
                       : !strcmp(hook_op, "migrate") ? "migrate" : !strcmp(hook_op, "restore") ? "restore" : NULL;
        DomainFacts *f = NULL;
        if (!op || domain_facts_from_json(json_object_get(e->data, "facts"), &f) < 0)
                return 0;   /* an activation whose XML was unreadable: nothing to re-decide */
        int64_t at = 0;
        vg_time_parse(e->time, 0, &at);
        GateResult g;
        gate_decide_policy(rp->loaded, rp->s, NULL, f, op, e->host, at, &g);
        bool would_deny = g.verdict == VERDICT_DENY;
        rp->n++;
        rp->denied += would_deny;
        json_t *reasons = json_object_get(g.detail, "reasons");
        json_array_append_new(rp->rows, json_pack("{s:I, s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:o}",
                "id", (json_int_t) e->id, "time", e->time, "domain", event_json_string(e->domain),
                "uuid", event_json_string(e->uuid), "op", op, "was", event_json_string(e->decision),
                "would", would_deny ? "deny" : "allow", "rule", g.rule ? json_string(g.rule) : json_null(),
                "reasons", reasons ? json_incref(reasons) : json_array()));
        gate_result_clear(&g);
        domain_facts_free(f);
        return 0;
}

static int replay(Cli *cli, int argc, char **argv) {
        enum { OPT_SINCE = 0x100, OPT_POLICY, OPT_JSON, OPT_ALL };
        static const struct option opts[] = {
                { "since", required_argument, NULL, OPT_SINCE },
                { "policy", required_argument, NULL, OPT_POLICY },
                { "json", no_argument, NULL, OPT_JSON },
                { "all", no_argument, NULL, OPT_ALL },
                {}
        };
        EventFilter f = { .source = "hook" };
        Replay rp = { .policy = cli->config->policy, .rows = json_array() };
        bool all = false;
        int c, r;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_SINCE:
                        if ((r = cli_parse_time(&cmd_policy, "--since", optarg, &f.since_us)))
                                return r;
                        break;
                case OPT_POLICY: rp.policy = optarg; break;
                case OPT_JSON: cli->json = true; break;
                case OPT_ALL: all = true; break;
                default: return cli_usage_error(&cmd_policy, "unknown option");
                }
        }
        if (optind != argc)
                return cli_usage_error(&cmd_policy, "unexpected '%s'", argv[optind]);
        /* Loaded once; a broken candidate is refused up front rather than
         * "denying" everything. */
        _cleanup_(policy_freep) Policy *p = NULL;
        VgError err = { "" };
        if (policy_load(rp.policy, &p, &err) < 0) {
                json_decref(rp.rows);
                return cli_error("%s", err.text);
        }
        rp.loaded = p;

        rp.s = cli_open_store(cli);
        if (!rp.s) {
                json_decref(rp.rows);
                return EXIT_FAIL;
        }
        for (const EventKind *k = NULL; (k = event_kind_next(k, KIND_GATED));) {
                f.kind_prefix = k->name;
                if ((r = store_query_events(rp.s, &f, replay_one, &rp, &err)) < 0)
                        break;
        }
        store_close(rp.s);
        if (r < 0) {
                json_decref(rp.rows);
                return cli_error("%s", err.text);
        }
        if (cli->json)
                return out_json(json_pack("{s:s, s:I, s:I, s:o}", "policy", rp.policy, "replayed", (json_int_t) rp.n,
                                          "would_deny", (json_int_t) rp.denied, "activations", rp.rows));
        out_cells({ "TIME (UTC)", 19 }, { "DOMAIN", 20 }, { "OP", 8 }, { "WAS", 6 }, { "WOULD", 6 },
                  { "RULE", 18 }, { "WHY", 0 });
        size_t i;
        json_t *v;
        json_array_foreach(rp.rows, i, v) {
                bool deny = !strcmp(json_string_value(json_object_get(v, "would")), "deny");
                if (!deny && !all)
                        continue;
                char t[20], a[64], b[64], w[512];
#define S(k) json_string_value(json_object_get(v, k))
                out_cells({ out_time(S("time"), t), 19 }, { out_safe(S("domain"), a, sizeof(a)), 20 },
                          { S("op"), 8 }, { S("was") ?: "-", 6 }, { S("would"), 6 },
                          { out_safe(S("rule"), b, sizeof(b)), 18 },
                          { out_safe(json_string_value(json_array_get(json_object_get(v, "reasons"), 0)),
                                     w, sizeof(w)), 0 });
#undef S
        }
        printf("\n%zu activation(s) replayed under '%s': %zu would be denied\n", rp.n, rp.policy, rp.denied);
        json_decref(rp.rows);
        return EXIT_OK;
}

static int run(Cli *cli, int argc, char **argv) {
        if (argc < 2)
                return cli_usage_error(&cmd_policy, "expected check or test");
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
                return cli_help(&cmd_policy);
        if (!strcmp(argv[1], "check")) {
                int n = 1;
                for (int i = 2; i < argc; i++) {
                        if (!strcmp(argv[i], "--json"))
                                cli->json = true;
                        else
                                argv[n++] = argv[i];
                }
                argv[0] = argv[1];
                return check(cli, n, argv);
        }
        if (!strcmp(argv[1], "test"))
                return test(cli, argc - 1, argv + 1);
        if (!strcmp(argv[1], "replay"))
                return replay(cli, argc - 1, argv + 1);
        return cli_usage_error(&cmd_policy, "unknown verb '%s'", argv[1]);
}

const Command cmd_policy = {
        .name = "policy",
        .usage = "policy check [FILE] [--json]\n"
                 "       virtgov policy test --xml FILE [--op start|migrate|restore|define] [--at TIME]\n"
                 "                           [--policy FILE] [--host NAME] [--json]\n"
                 "       virtgov policy replay [--since TIME] [--policy FILE] [--all] [--json]",
        .summary = "Check a policy file, or see what it decides for a domain.",
        .help =
        "check  parses the policy (default: the 'policy' key, /etc/virtgov/policy.json)\n"
        "       and lists its rules. Exit 1 with file, line and column if it is invalid.\n"
        "test   decides for the domain XML in FILE (- reads standard input) exactly as\n"
        "       virtgov-hook would (same approvals and tickets from the inventory), at\n"
        "       --at (default now), and prints the verdict, the rule and every reason.\n"
        "       Exit 0 for allow, 1 for deny (also in audit mode, where the deny would\n"
        "       only be recorded).\n"
        "replay re-decides every recorded activation (the hook's prepare, migrate and\n"
        "       restore events, from the facts recorded on them) under a policy, at the\n"
        "       time each happened, and lists those it would deny (--all: every one).\n"
        "       Approvals, tickets and images are today's. Use it before moving from\n"
        "       audit to enforce: virtgov policy replay --since 30d --policy new.json\n"
        "\n"
        "Example:\n"
        "  virsh dumpxml web-7 | virtgov policy test --xml - --at '2026-12-01T02:00:00Z'\n",
        .run = run,
};
