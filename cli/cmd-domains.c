/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "list" and "show": the domains table, the current state of each domain. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "virtgov/util/cleanup.h"

static int print_row(const DomainRow *d, void *userdata) {
        OutArray *out = userdata;
        if (out)
                return out_array_add(out, domain_row_to_json(d), &(OutStored) { "facts", d->facts, "null" });
        char a[64], b[16], c[32], e[32], t1[20], t2[20];
        out_cells({ out_safe(d->name, a, sizeof(a)), 24 }, { out_safe(d->state, b, sizeof(b)), 11 },
                  { out_safe(d->owner, c, sizeof(c)), 16 }, { out_safe(d->ticket, e, sizeof(e)), 14 },
                  { out_time(d->last_start, t1), 19 }, { out_time(d->last_stop, t2), 19 },
                  { d->uuid, 0 });
        return 0;
}

static int parse_simple(const Command *cmd, Cli *cli, int argc, char **argv, bool *all) {
        enum { OPT_ALL = 0x100, OPT_JSON, OPT_HELP };
        static const struct option opts[] = {
                { "all", no_argument, NULL, OPT_ALL },
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "ah", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': case OPT_ALL:
                        if (!all)
                                return cli_usage_error(cmd, "unknown option '--all'");
                        *all = true;
                        break;
                case OPT_JSON: cli->json = true; break;
                case 'h': case OPT_HELP: cli_help(cmd); return -1;
                default: return cli_usage_error(cmd, "unknown option");
                }
        }
        return 0;
}

static int run_list(Cli *cli, int argc, char **argv) {
        bool all = false;
        int r = parse_simple(&cmd_list, cli, argc, argv, &all);
        if (r)
                return r < 0 ? EXIT_OK : r;
        if (optind < argc)
                return cli_usage_error(&cmd_list, "unexpected argument '%s'", argv[optind]);

        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        /* Streamed, a domain at a time: at 100,000 domains one document
         * of them all took 1.2 GB. */
        OutArray out;
        if (cli->json)
                out_array_begin(&out, 0);
        else
                out_cells({ "NAME", 24 }, { "STATE", 11 }, { "OWNER", 16 }, { "TICKET", 14 },
                          { "LAST START (UTC)", 19 }, { "LAST STOP (UTC)", 19 }, { "UUID", 0 });
        VgError err = { "" };
        r = store_list_domains(s, (all ? LIST_ALL : 0) | (cli->json ? LIST_FACTS_TEXT : 0), print_row,
                               cli->json ? &out : NULL, &err);
        /* The array is closed even after an error: what was printed stays
         * valid JSON, and the error goes to stderr. */
        int k = cli->json ? out_array_end(&out) : EXIT_OK;
        if (r < 0)
                return cli_error("%s", err.text[0] ? err.text : strerror(-r));
        return k;
}

const Command cmd_list = {
        .name = "list",
        .usage = "list [--all] [--json]",
        .summary = "List the domains the inventory knows, with state, owner and ticket.",
        .help =
        "One line per domain (by UUID): its name, state as last recorded (running,\n"
        "shutoff, paused, crashed, undefined, unknown), owner and ticket from its\n"
        "urn:virtgov:1 metadata, and the last start and stop.\n"
        "\n"
        "Options:\n"
        "  -a, --all   include domains that have been undefined\n"
        "  --json      a JSON array of domain objects: name, uuid, host, state, persistent,\n"
        "              owner, ticket, purpose, first_seen, last_seen, last_start, last_stop,\n"
        "              facts (disks, interfaces, vCPUs, memory, ... as last seen)\n",
        .run = run_list,
};

static void print_facts(json_t *facts) {
        json_t *v;
        size_t i;
        char a[512], b[512];
        if (!json_is_object(facts))
                return;
        if ((v = json_object_get(facts, "vcpus")))
                printf("  vCPUs:      %lld\n", (long long) json_integer_value(v));
        if ((v = json_object_get(facts, "memory_kib")))
                printf("  memory:     %lld MiB\n", (long long) json_integer_value(v) / 1024);
        printf("  arch:       %s\n", out_safe(json_string_value(json_object_get(facts, "arch")), a, sizeof(a)));
        printf("  emulator:   %s\n", out_safe(json_string_value(json_object_get(facts, "emulator")), a, sizeof(a)));
        json_array_foreach(json_object_get(facts, "disks"), i, v) {
                printf("  disk %-5s  %s (%s, %s)\n",
                       out_safe(json_string_value(json_object_get(v, "target")), a, sizeof(a)),
                       out_safe(json_string_value(json_object_get(v, "source")), b, sizeof(b)),
                       json_string_value(json_object_get(v, "device")) ?: "-",
                       json_string_value(json_object_get(v, "format")) ?: "-");
                json_t *bk;
                size_t j;
                json_array_foreach(json_object_get(v, "backing"), j, bk)
                        printf("    backed by %s\n", out_safe(json_string_value(bk), a, sizeof(a)));
        }
        json_array_foreach(json_object_get(facts, "interfaces"), i, v)
                printf("  interface   %s %s mac %s\n",
                       out_safe(json_string_value(json_object_get(v, "type")), a, sizeof(a)),
                       out_safe(json_string_value(json_object_get(v, "source")), b, sizeof(b)),
                       json_string_value(json_object_get(v, "mac")) ?: "-");
        json_array_foreach(json_object_get(facts, "graphics"), i, v)
                printf("  graphics    %s listen %s\n",
                       out_safe(json_string_value(json_object_get(v, "type")), a, sizeof(a)),
                       out_safe(json_string_value(json_object_get(v, "listen")), b, sizeof(b)));
        if (json_is_true(json_object_get(facts, "qemu_commandline")))
                printf("  qemu:commandline present (arguments passed to QEMU unchecked)\n");
}

static int run_show(Cli *cli, int argc, char **argv) {
        int r = parse_simple(&cmd_show, cli, argc, argv, NULL);
        if (r)
                return r < 0 ? EXIT_OK : r;
        if (optind + 1 != argc)
                return cli_usage_error(&cmd_show, "expected one domain name or UUID");
        const char *key = argv[optind];

        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        DomainRow *d = NULL;
        if (store_find_domain(s, key, &d, &err) < 0)
                return cli_error("%s", err.text);

        /* Events by UUID: a name can be reused by another domain later. */
        EventFilter f = { .domain = d->uuid, .limit = 20 };
        json_t *events = NULL;
        r = events_print(s, &f, true, &events);
        if (r != EXIT_OK) {
                domain_row_free(d);
                return r;
        }
        if (cli->json) {
                json_t *o = domain_row_to_json(d), *facts = d->facts ? json_loads(d->facts, 0, NULL) : NULL;
                json_object_set_new(o, "facts", facts ? facts : json_null());
                json_object_set_new(o, "events", events);
                domain_row_free(d);
                return out_json(o);
        }
        char a[256], t[20];
        printf("%s\n", out_safe(d->name, a, sizeof(a)));
        printf("  uuid:       %s\n", d->uuid);
        printf("  state:      %s\n", d->state);
        printf("  persistent: %s\n", d->persistent < 0 ? "unknown" : d->persistent ? "yes" : "no");
        printf("  owner:      %s\n", out_safe(d->owner, a, sizeof(a)));
        printf("  ticket:     %s\n", out_safe(d->ticket, a, sizeof(a)));
        printf("  purpose:    %s\n", out_safe(d->purpose, a, sizeof(a)));
        printf("  host:       %s\n", out_safe(d->host, a, sizeof(a)));
        printf("  first seen: %s\n", out_time(d->first_seen, t));
        printf("  last start: %s\n", out_time(d->last_start, t));
        printf("  last stop:  %s\n", out_time(d->last_stop, t));
        json_t *facts = d->facts ? json_loads(d->facts, 0, NULL) : NULL;
        print_facts(facts);
        json_decref(facts);
        json_decref(events);
        printf("\nRecent events:\n");
        r = events_print(s, &f, false, NULL);
        domain_row_free(d);
        return r;
}

const Command cmd_show = {
        .name = "show",
        .usage = "show NAME|UUID [--json]",
        .summary = "Show one domain: its facts and its last 20 events.",
        .help =
        "Looks the domain up by UUID, else by name (the most recently seen domain of that\n"
        "name, preferring one that is still defined). Prints its state, governance\n"
        "metadata, the facts from its XML as last seen (disks with backing chains,\n"
        "interfaces, graphics listeners, vCPUs, memory) and its 20 most recent events.\n"
        "\n"
        "Options:\n"
        "  --json   one JSON object: the fields of 'virtgov list --json' plus 'events'\n",
        .run = run_show,
};
