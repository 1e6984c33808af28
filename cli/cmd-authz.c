/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * approve, revoke, ticket: the authorizations the policy consults. Each
 * change is made in one transaction with an event naming who made it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "virtgov/authz/authz.h"
#include "virtgov/authz/ticket.h"
#include "virtgov/util/cleanup.h"

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
        VgError why = { "" };
        Approval want = { .key = all ? "(every domain)" : argv[optind], .owner = o.owner, .ticket = o.ticket };
        if (authz_check_approval(&want, &why) < 0)
                return cli_usage_error(&cmd_approve, "%s", why.text);

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

/* A ticket's scope as the events record it: what it covers and when. */
static json_t *scope_json(const Ticket *t) {
        char from[VG_TIME_MAX], until[VG_TIME_MAX];
        fmt(t->from_us, from);
        fmt(t->until_us, until);
        return json_pack("{s:o, s:s, s:s, s:s, s:o}", "domain", event_json_string(t->domain_glob),
                         "action", t->action ? t->action : "start", "from", from, "until", until,
                         "approved_by", event_json_string(t->approved_by));
}

/* The ticket the inventory holds under an ID, as its scope, or NULL. */
static int old_scope(const Ticket *t, void *u) {
        json_t **ret = u;
        json_decref(*ret);
        *ret = scope_json(t);
        return *ret ? 0 : -ENOMEM;
}

typedef enum { PUT_ADDED, PUT_REPLACED, PUT_SAME } PutResult;

/*
 * Stores t, unless the inventory holds its ID already: then an identical
 * ticket is left as it is (PUT_SAME: a change system's export imported
 * again), and one with another scope is -EEXIST unless replace, for a
 * silent replace once let a later import widen a ticket unseen. A replace
 * is a ticket.replaced event with the old scope and the new.
 */
static int ticket_put(Store *s, const Ticket *t, const char *how, bool replace, PutResult *ret, VgError *err) {
        Ticket row = *t;
        row.action = t->action ? t->action : "start";
        row.added_by = cli_actor();
        row.time_us = vg_now_us();
        json_t *old = NULL, *new = scope_json(&row);
        int r = new ? store_tickets(s, NULL, t->id, old_scope, &old, err) : -ENOMEM;
        if (r == 0 && old && json_equal(old, new)) {
                *ret = PUT_SAME;
        } else if (r == 0 && old && !replace) {
                char *was = json_dumps(old, JSON_COMPACT);
                r = vg_error(err, -EEXIST, "ticket '%s' is in the inventory already, with another scope (%s): "
                             "give --replace to replace it", t->id, was ? was : "?");
                free(was);
        } else if (r == 0 && (r = store_ticket_put(s, &row, err)) == 0) {
                json_t *data = old ? json_pack("{s:s, s:O, s:O, s:s}", "ticket", t->id, "old", old, "new", new,
                                               "via", how)
                                   : json_pack("{s:s, s:s}", "ticket", t->id, "via", how);
                if (data && !old)
                        json_object_update(data, new);
                *ret = old ? PUT_REPLACED : PUT_ADDED;
                r = change_event(s, old ? "ticket.replaced" : "ticket.added", NULL, NULL, data, err);
        }
        json_decref(old);
        json_decref(new);
        return r == -ENOMEM ? vg_error(err, r, "out of memory") : r;
}

static int ticket_add(Cli *cli, int argc, char **argv) {
        enum { OPT_DOMAIN = 0x100, OPT_ACTION, OPT_FROM, OPT_UNTIL, OPT_BY, OPT_REPLACE };
        static const struct option opts[] = {
                { "domain", required_argument, NULL, OPT_DOMAIN },
                { "action", required_argument, NULL, OPT_ACTION },
                { "from", required_argument, NULL, OPT_FROM },
                { "until", required_argument, NULL, OPT_UNTIL },
                { "approved-by", required_argument, NULL, OPT_BY },
                { "replace", no_argument, NULL, OPT_REPLACE },
                {}
        };
        Ticket t = { 0 };
        bool replace = false;
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
                case OPT_REPLACE: replace = true; break;
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
        PutResult done = PUT_ADDED;
        r = store_begin(s, &err);
        if (r == 0)
                r = ticket_put(s, &t, "cli", replace, &done, &err);
        /* Even an identical ticket is refused without --replace: an add
         * says what it did, and the person meant a new ticket. */
        if (r == 0 && done == PUT_SAME && !replace)
                r = vg_error(&err, -EEXIST, "ticket '%s' is in the inventory already, as given", t.id);
        if (r == 0)
                r = store_commit(s, &err);
        if (r < 0) {
                store_rollback(s);
                return cli_error("%s", err.text);
        }
        char echo[256];
        printf("ticket '%s' %s\n", out_safe(t.id, echo, sizeof(echo)),
               done == PUT_ADDED ? "added" : done == PUT_REPLACED ? "replaced" : "unchanged");
        return EXIT_OK;
}

/* An export from a change system: checked whole first, then stored in one
 * transaction. All or nothing. */
static int ticket_import(Cli *cli, int argc, char **argv) {
        bool replace = argc == 3 && !strcmp(argv[1], "--replace");
        if (argc != 2 + replace)
                return cli_usage_error(&cmd_ticket, "ticket import takes [--replace] and one FILE");
        const char *file = argv[1 + replace];
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = cli_read_input(file, AUTHZ_IMPORT_MAX, &text, &len);
        if (r < 0)
                return cli_error("%s: %s (nothing imported)", file,
                                 r == -EFBIG ? "larger than 16 MiB, the limit of one import: split it"
                                             : cli_input_error(r));
        VgError err = { "" };
        json_t *j = NULL;
        _cleanup_free_ Ticket *t = NULL;
        size_t n = 0, counts[3] = { 0 };
        if (ticket_import_parse(text, len, file, vg_now_us(), &j, &t, &n, &err) < 0)
                return cli_error("%s (nothing imported)", err.text);
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s) {
                json_decref(j);
                return EXIT_FAIL;
        }
        r = store_begin(s, &err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                PutResult done;
                VgError why = { "" };
                if ((r = ticket_put(s, &t[i], "import", replace, &done, &why)) < 0)
                        vg_error(&err, r, "%s: ticket %zu: %s", file, i, why.text);
                else
                        counts[done]++;
        }
        json_decref(j);
        if (r == 0)
                r = store_commit(s, &err);
        if (r < 0) {
                store_rollback(s);
                return cli_error("%s (nothing imported)", err.text);
        }
        char echo[256];
        printf("imported %zu ticket(s) from %s: %zu added, %zu replaced, %zu already in the inventory\n", n,
               out_safe(file, echo, sizeof(echo)), counts[PUT_ADDED], counts[PUT_REPLACED], counts[PUT_SAME]);
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
                 "                     [--approved-by WHO] [--replace]\n"
                 "       virtgov ticket list [--json]\n"
                 "       virtgov ticket import [--replace] FILE",
        .summary = "Record change tickets whose window authorizes activations.",
        .help =
        "A ticket covers a domain when the domain's name matches its --domain glob\n"
        "('web-*', 'db-[!x]?': fnmatch(3), as the policy's globs), and covers an\n"
        "activation only while now is inside [--from, --until). A domain's\n"
        "urn:virtgov:1 <ticket> metadata is a claim: a domain whose metadata names a\n"
        "ticket that does not cover it is denied wherever tickets are consulted. A\n"
        "'start' ticket covers start, incoming migration and restore; 'define'\n"
        "covers definitions (checked by virtgov-inventoryd); 'any' covers both.\n"
        "An ID is at most 255 bytes, a glob 1024.\n"
        "\n"
        "An ID the inventory holds already is refused unless --replace, which\n"
        "records a ticket.replaced event with the old and the new scope.\n"
        "\n"
        "import reads an export from a change system: a JSON array of objects with\n"
        "id, domain, action, from, until and approved_by (times in RFC 3339), at most\n"
        "16 MiB (FILE - reads standard input). The whole file is imported or nothing\n"
        "is: an ID that comes twice, or one the inventory holds with another scope\n"
        "(without --replace), refuses it. A ticket the inventory holds as given is\n"
        "left as it is. Each ticket added is a ticket.added event.\n"
        "\n"
        "list shows every ticket with its status (pending, active, expired).\n",
        .run = run_ticket,
};
