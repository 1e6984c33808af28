/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "host-key": the host's Ed25519 key that signs the chain heads (head.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "virtgov/host/identity.h"
#include "virtgov/ship/head.h"
#include "virtgov/util/cleanup.h"

static int run(Cli *cli, int argc, char **argv) {
        enum { OPT_INIT = 0x100, OPT_HEAD, OPT_JSON, OPT_HELP };
        static const struct option opts[] = {
                { "init", no_argument, NULL, OPT_INIT },
                { "head", no_argument, NULL, OPT_HEAD },
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        bool init = false, head = false;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_INIT: init = true; break;
                case OPT_HEAD: head = true; break;
                case OPT_JSON: cli->json = true; break;
                case 'h': case OPT_HELP: return cli_help(&cmd_host_key);
                default: return cli_usage_error(&cmd_host_key, "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(&cmd_host_key, "unexpected argument '%s'", argv[optind]);

        const char *path = cli->config->host_key;
        HostKey k;
        VgError err = { "" };
        int made = 0, r;
        if (init)
                r = made = head_key_init(path, &k, &err);
        else if (head)
                r = head_key_load(path, &k, &err);
        else
                r = head_key_load_public(path, &k, &err);
        if (r == -ENOENT && head)
                return cli_error("no host key at %s: 'virtgov host-key --init' as root makes it", path);
        if (r < 0)
                return cli_error("%s", err.text);
        char pub[2 * HEAD_KEY_SIZE + 1], host[HOST_ID_SIZE] = "";
        head_key_public_hex(&k, pub);
        VgError herr = { "" };
        if (host_id_of(cli->config, host, &herr) < 0)
                fprintf(stderr, "virtgov: warning: %s\n", herr.text);

        _cleanup_free_ char *line = NULL;
        if (head) {
                _cleanup_(store_closep) Store *s = cli_open_store(cli);
                if (!s)
                        return EXIT_FAIL;
                Head h;
                r = head_current(s, host, &k, &h, &line, &err);
                if (r == -ENOENT)
                        return cli_error("the inventory has no event yet: no head to sign");
                if (r < 0)
                        return cli_error("%s", err.text);
        }
        explicit_bzero(&k, sizeof(k));
        if (cli->json) {
                json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "algorithm", "ed25519", "public_key", pub,
                                      "host_id", host, "key", path);
                if (init)
                        json_object_set_new(j, "made", json_boolean(made == 1));
                if (line)
                        json_object_set_new(j, "head", json_string(line));
                return out_json(j);
        }
        if (line) {
                printf("%s\n", line);
                return EXIT_OK;
        }
        printf("ed25519 %s host=%s%s\n", pub, host[0] ? host : "unknown", made == 1 ? " (made now)" : "");
        return EXIT_OK;
}

const Command cmd_host_key = {
        .name = "host-key",
        .usage = "host-key [--init] [--head] [--json]",
        .summary = "The host's key that signs the chain heads sent to the central log.",
        .help =
        "virtgov-inventoryd sends the head of the events' hash chain to syslog each\n"
        "reconcile interval, signed with this host's Ed25519 key:\n"
        "\n"
        "  chain.head id=ID hash=HASH host=MACHINE-ID time=TIME sig=SIGNATURE\n"
        "\n"
        "A collector that holds the public key tells a head this host sent from one\n"
        "written by someone else; 'virtgov verify --heads FILE' checks the local chain\n"
        "against every head of this host in an export of the central log.\n"
        "\n"
        "Without options, prints the public key (64 hex digits) and the host's\n"
        "machine-id, read from the key's .pub file (no root needed).\n"
        "\n"
        "Options:\n"
        "  --init   make the key if there is none (as root: the private key is 0600,\n"
        "           its public half .pub 0644), then print the public key. The package\n"
        "           runs it at install; the daemon makes the key at its first start.\n"
        "  --head   print the current chain head, signed, as the daemon sends it (as\n"
        "           root): an anchor to copy off the host by hand\n"
        "  --json   {\"algorithm\", \"public_key\", \"host_id\", \"key\"[, \"made\"][, \"head\"]}\n"
        "\n"
        "The key's path is the config's host_key (default /var/lib/virtgov/host.key).\n"
        "A new key (a reinstalled host) makes the heads signed with the old one fail\n"
        "'verify --heads': keep the key with the inventory's backups.\n",
        .run = run,
};
