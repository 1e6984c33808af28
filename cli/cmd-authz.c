/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * approve, revoke, ticket: the authorizations the policy consults. Each
 * change is made in one transaction with an event naming who made it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "virtgov/ticket.h"
#include "virtgov/cleanup.h"

/* Appends a "cli" event about a change, inside the caller's transaction. */
static int change_event(Store *s, const char *kind, const char *domain, const char *uuid, json_t *data,
                        VgError *err) {
        Event *e = event_new("cli", kind);
        if (!e) {
                json_decref(data);
                return -ENOMEM;
        }
        event_set(&e->actor, cli_actor());
        event_set(&e->domain, domain);
        event_set(&e->uuid, uuid);
        json_decref(e->data);
        e->data = data;
        int r = store_append_event(s, e, NULL, err);
        event_free(e);
        return r < 0 ? r : 0;
}

static void fmt(int64_t us, char buf[static VG_TIME_MAX]) {
        vg_time_format(us, buf);
}

/* ---- approve / revoke ---- */

typedef struct ApproveOpts {
        const char *owner, *ticket;
        int64_t until_us;
} ApproveOpts;

static int approve_one(Store *s, const char *key, const char *name, const char *uuid, const ApproveOpts *o,
                       VgError *err) {
        char until[VG_TIME_MAX];
        if (o->until_us)
                fmt(o->until_us, until);
        Approval a = { .key = key, .owner = o->owner, .ticket = o->ticket, .until_us = o->until_us,
                       .approved_by = cli_actor(), .time_us = vg_now_us() };
        int r = store_approval_put(s, &a, err);
        if (r == 0)
                r = change_event(s, "approval.granted", name, uuid,
                                 json_pack("{s:s, s:o, s:o, s:o}", "key", key,
                                           "until", o->until_us ? json_string(until) : json_null(),
                                           "owner", event_json_string(o->owner),
                                           "ticket", event_json_string(o->ticket)), err);
        return r;
}

typedef struct All {
        Store *s;
        const ApproveOpts *o;
        size_t n;
        VgError *err;
} All;

static int approve_row(const DomainRow *d, void *u) {
        All *a = u;
        a->n++;
        return approve_one(a->s, d->uuid, d->name, d->uuid, a->o, a->err);
}

static int run_approve(Cli *cli, int argc, char **argv) {
        enum { OPT_OWNER = 0x100, OPT_TICKET, OPT_UNTIL, OPT_ALL, OPT_HELP };
        static const struct option opts[] = {
                { "owner", required_argument, NULL, OPT_OWNER },
                { "ticket", required_argument, NULL, OPT_TICKET },
                { "until", required_argument, NULL, OPT_UNTIL },
                { "all-existing", no_argument, NULL, OPT_ALL },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        ApproveOpts o = { 0 };
        bool all = false;
        int c, r;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_OWNER: o.owner = optarg; break;
                case OPT_TICKET: o.ticket = optarg; break;
                case OPT_UNTIL:
                        if ((r = cli_parse_time(&cmd_approve, "--until", optarg, &o.until_us)))
                                return r;
                        if (o.until_us <= vg_now_us())
                                return cli_usage_error(&cmd_approve, "--until '%s' is in the past (use +8h for "
                                                       "eight hours from now)", optarg);
                        break;
                case OPT_ALL: all = true; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_approve);
                default: return cli_usage_error(&cmd_approve, "unknown option");
                }
        }
        if (all == (optind < argc) || argc - optind > 1)
                return cli_usage_error(&cmd_approve, "give one domain name or UUID, or --all-existing");

        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        if (store_begin(s, &err) < 0)
                return cli_error("%s", err.text);
        if (all) {
                All a = { s, &o, 0, &err };
                r = store_list_domains(s, 0, approve_row, &a, &err);
                if (r == 0 && (r = store_commit(s, &err)) == 0)
                        printf("approved %zu domain(s) known to the inventory\n", a.n);
        } else {
                /* A known domain is approved by UUID: a later domain that
                 * reuses the name is not covered. An unknown name is
                 * approved by name, so a VM can be approved before it is
                 * defined. */
                DomainRow *d = NULL;
                char echo[256];
                const char *key = argv[optind];
                if (store_find_domain(s, key, &d, NULL) == 0)
                        key = d->uuid;
                r = approve_one(s, key, d ? d->name : argv[optind], d ? d->uuid : NULL, &o, &err);
                if (r == 0 && (r = store_commit(s, &err)) == 0)
                        printf("approved '%s'%s%s%s\n", out_safe(argv[optind], echo, sizeof(echo)),
                               d ? " (uuid " : " (by name: not in the inventory yet", d ? d->uuid : "", ")");
                domain_row_free(d);
        }
        if (r < 0) {
                store_rollback(s);
                return cli_error("%s", err.text);
        }
        return EXIT_OK;
}

const Command cmd_approve = {
        .name = "approve",
        .usage = "approve NAME|UUID [--owner OWNER] [--ticket ID] [--until TIME]\n"
                 "       virtgov approve --all-existing [--until TIME]",
        .summary = "Approve a domain for activation (rules with \"approved\": true).",
        .help =
        "Records an approval, and an approval.granted event naming who approved.\n"
        "A domain the inventory knows is approved by its UUID; an unknown name is\n"
        "approved by name, so a VM can be approved before it is defined.\n"
        "\n"
        "  --owner OWNER   who answers for it (recorded with the approval)\n"
        "  --ticket ID     the change ticket that authorized it (recorded)\n"
        "  --until TIME    the approval ends then: +8h, +30d, 2026-12-31T00:00:00Z\n"
        "  --all-existing  approve every domain the inventory knows now, so a host\n"
        "                  with hundreds of VMs can move to enforce without stranding any\n",
        .run = run_approve,
};

static int run_revoke(Cli *cli, int argc, char **argv) {
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                return c == 'h' ? cli_help(&cmd_revoke) : cli_usage_error(&cmd_revoke, "unknown option");
        if (optind + 1 != argc)
                return cli_usage_error(&cmd_revoke, "give one domain name or UUID");

        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        DomainRow *d = NULL;
        store_find_domain(s, argv[optind], &d, NULL);
        int r = store_begin(s, &err);
        /* Revoke under both keys: it may have been approved by name first. */
        int a = r < 0 ? r : store_approval_delete(s, argv[optind], NULL);
        int b = r < 0 || !d ? -ENOENT : store_approval_delete(s, d->uuid, NULL);
        if (r == 0 && a < 0 && b < 0) {
                store_rollback(s);
                domain_row_free(d);
                return cli_error("no approval for '%s'", argv[optind]);
        }
        if (r == 0)
                r = change_event(s, "approval.revoked", d ? d->name : argv[optind], d ? d->uuid : NULL,
                                 json_pack("{s:s}", "key", argv[optind]), &err);
        if (r == 0)
                r = store_commit(s, &err);
        domain_row_free(d);
        if (r < 0) {
                store_rollback(s);
                return cli_error("%s", err.text);
        }
        char echo[256];
        printf("revoked the approval of '%s'\n", out_safe(argv[optind], echo, sizeof(echo)));
        return EXIT_OK;
}

const Command cmd_revoke = {
        .name = "revoke",
        .usage = "revoke NAME|UUID",
        .summary = "Withdraw a domain's approval.",
        .help = "Removes the approval (by UUID and by name) and records approval.revoked.\n",
        .run = run_revoke,
};

/* ---- tickets ---- */

static int ticket_put(Store *s, const Ticket *t, const char *how, VgError *err) {
        char from[VG_TIME_MAX], until[VG_TIME_MAX];
        fmt(t->from_us, from);
        fmt(t->until_us, until);
        const char *action = t->action ? t->action : "start";
        Ticket row = *t;
        row.action = action;
        row.added_by = cli_actor();
        row.time_us = vg_now_us();
        int r = store_ticket_put(s, &row, err);
        if (r == 0)
                r = change_event(s, "ticket.added", NULL, NULL,
                                 json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "ticket", t->id, "domain", t->domain_glob,
                                           "action", action, "from", from, "until", until,
                                           "approved_by", event_json_string(t->approved_by), "via", how), err);
        return r;
}

static int ticket_add(Cli *cli, int argc, char **argv) {
        enum { OPT_DOMAIN = 0x100, OPT_ACTION, OPT_FROM, OPT_UNTIL, OPT_BY };
        static const struct option opts[] = {
                { "domain", required_argument, NULL, OPT_DOMAIN },
                { "action", required_argument, NULL, OPT_ACTION },
                { "from", required_argument, NULL, OPT_FROM },
                { "until", required_argument, NULL, OPT_UNTIL },
                { "approved-by", required_argument, NULL, OPT_BY },
                {}
        };
        Ticket t = { 0 };
        int c, r;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_DOMAIN: t.domain_glob = optarg; break;
                case OPT_ACTION: t.action = optarg; break;
                case OPT_FROM:
                        if ((r = cli_parse_time(&cmd_ticket, "--from", optarg, &t.from_us)))
                                return r;
                        break;
                case OPT_UNTIL:
                        if ((r = cli_parse_time(&cmd_ticket, "--until", optarg, &t.until_us)))
                                return r;
                        break;
                case OPT_BY: t.approved_by = optarg; break;
                default: return cli_usage_error(&cmd_ticket, "unknown option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(&cmd_ticket, "ticket add takes one ID");
        t.id = argv[optind];
        VgError why = { "" };
        if (ticket_check(&t, &why) < 0)
                return cli_usage_error(&cmd_ticket, "%s", why.text);

        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        r = store_begin(s, &err);
        if (r == 0)
                r = ticket_put(s, &t, "cli", &err);
        if (r == 0)
                r = store_commit(s, &err);
        if (r < 0) {
                store_rollback(s);
                return cli_error("%s", err.text);
        }
        char echo[256];
        printf("ticket '%s' added\n", out_safe(t.id, echo, sizeof(echo)));
        return EXIT_OK;
}

/* An export from a change system: checked whole first, then stored in one
 * transaction. All or nothing. */
static int ticket_import(Cli *cli, int argc, char **argv) {
        if (argc != 2)
                return cli_usage_error(&cmd_ticket, "ticket import takes one FILE");
        const char *file = argv[1];
        _cleanup_free_ char *text = NULL;
        size_t len;
        /* A change system's export of a year's tickets is a few MiB. */
        int r = vg_read_file(file, 64 * 1024 * 1024, &text, &len);
        if (r < 0)
                return cli_error("%s: %s", file, r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
        VgError err = { "" };
        json_t *j = NULL;
        _cleanup_free_ Ticket *t = NULL;
        size_t n = 0;
        if (ticket_import_parse(text, len, file, vg_now_us(), &j, &t, &n, &err) < 0)
                return cli_error("%s (nothing imported)", err.text);
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s) {
                json_decref(j);
                return EXIT_FAIL;
        }
        r = store_begin(s, &err);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = ticket_put(s, &t[i], "import", &err);
        if (r == 0)
                r = store_commit(s, &err);
        json_decref(j);
        if (r < 0) {
                store_rollback(s);
                return cli_error("%s (nothing imported)", err.text);
        }
        printf("imported %zu ticket(s) from %s\n", n, file);
        return EXIT_OK;
}

typedef struct TList {
        json_t *array;
        int64_t now;
} TList;

static int ticket_row(const Ticket *t, void *u) {
        TList *l = u;
        char from[VG_TIME_MAX], until[VG_TIME_MAX], time[VG_TIME_MAX];
        fmt(t->from_us, from);
        fmt(t->until_us, until);
        fmt(t->time_us, time);
        const char *status = l->now < t->from_us ? "pending" : l->now >= t->until_us ? "expired" : "active";
        json_array_append_new(l->array, json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:s}",
                "id", t->id, "domain", event_json_string(t->domain_glob),
                "action", event_json_string(t->action), "from", from, "until", until, "status", status,
                "approved_by", event_json_string(t->approved_by),
                "added_by", event_json_string(t->added_by), "time", time));
        return 0;
}

static int ticket_list(Cli *cli) {
        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        TList l = { json_array(), vg_now_us() };
        VgError err = { "" };
        if (store_tickets(s, NULL, NULL, ticket_row, &l, &err) < 0) {
                json_decref(l.array);
                return cli_error("%s", err.text);
        }
        if (cli->json)
                return out_json(l.array);
        out_cells({ "ID", 16 }, { "DOMAINS", 20 }, { "ACTION", 7 }, { "FROM (UTC)", 19 },
                  { "UNTIL (UTC)", 19 }, { "STATUS", 8 }, { "APPROVED BY", 0 });
        size_t i;
        json_t *v;
        json_array_foreach(l.array, i, v) {
                char a[64], b[64], t1[20], t2[20], c[64];
#define S(k) json_string_value(json_object_get(v, k))
                out_cells({ out_safe(S("id"), a, sizeof(a)), 16 },
                          { out_safe(S("domain"), b, sizeof(b)), 20 }, { S("action") ?: "-", 7 },
                          { out_time(S("from"), t1), 19 }, { out_time(S("until"), t2), 19 },
                          { S("status"), 8 }, { out_safe(S("approved_by"), c, sizeof(c)), 0 });
#undef S
        }
        json_decref(l.array);
        return EXIT_OK;
}

static int run_ticket(Cli *cli, int argc, char **argv) {
        if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
                return argc < 2 ? cli_usage_error(&cmd_ticket, "expected add, list or import") : cli_help(&cmd_ticket);
        const char *verb = argv[1];
        if (!strcmp(verb, "add"))
                return ticket_add(cli, argc - 1, argv + 1);
        if (!strcmp(verb, "import"))
                return ticket_import(cli, argc - 1, argv + 1);
        if (!strcmp(verb, "list")) {
                for (int i = 2; i < argc; i++) {
                        if (strcmp(argv[i], "--json"))
                                return cli_usage_error(&cmd_ticket, "unexpected '%s'", argv[i]);
                        cli->json = true;
                }
                return ticket_list(cli);
        }
        return cli_usage_error(&cmd_ticket, "unknown verb '%s'", verb);
}

const Command cmd_ticket = {
        .name = "ticket",
        .usage = "ticket add ID --domain GLOB [--action start|define|any] --from TIME --until TIME\n"
                 "                     [--approved-by WHO]\n"
                 "       virtgov ticket list [--json]\n"
                 "       virtgov ticket import FILE",
        .summary = "Record change tickets whose window authorizes activations.",
        .help =
        "A ticket covers a domain when the domain's urn:virtgov:1 <ticket> metadata\n"
        "names it, or when its name matches the ticket's --domain glob ('web-*'), and\n"
        "covers an activation only while now is inside [--from, --until). A 'start'\n"
        "ticket covers start, incoming migration and restore; 'define' covers\n"
        "definitions (checked by virtgov-inventoryd); 'any' covers both.\n"
        "\n"
        "import reads an export from a change system: a JSON array of objects with\n"
        "id, domain, action, from, until and approved_by (times in RFC 3339). The whole\n"
        "file is imported or nothing is. Each ticket added is a ticket.added event.\n"
        "\n"
        "list shows every ticket with its status (pending, active, expired).\n",
        .run = run_ticket,
};
