/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "image trust|list|verify": the library of trusted images (golden images
 * and their backing files). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/host/image.h"

/* The library row for path: its hash and the stat fields the hook compares. */
static int put_row(Store *s, const char *path, const char *hex, const ImageStat *st, const char *by, VgError *err) {
        ImageRecord rec = { .path = path, .sha256 = hex, .stat = *st, .trusted_by = by, .time_us = vg_now_us() };
        return store_image_put(s, &rec, err);
}

static int trust_one(Store *s, const char *path, VgError *err) {
        char hex[65];
        uint64_t size;
        ImageStat st;
        int r = image_stat(path, &st);
        if (r < 0)
                return vg_error(err, r, "image '%s': %s", path, strerror(-r));
        if ((r = image_sha256(path, hex, &size, err)) < 0)
                return r;
        /* Hashed while someone wrote to it: not the file we stat'ed. */
        ImageStat after;
        if (image_stat(path, &after) < 0 || after.mtime_ns != st.mtime_ns || after.size != size)
                return vg_error(err, -EAGAIN, "image '%s' changed while it was hashed; is a VM using it?", path);

        if ((r = put_row(s, path, hex, &st, cli_actor(), err)) < 0)
                return r;
        Event *e = event_new("cli", "image.trusted");
        if (!e)
                return -ENOMEM;
        event_set(&e->actor, cli_actor());
        event_json_set_name(e->data, "path", path);
        json_object_set_new(e->data, "sha256", json_string(hex));
        json_object_set_new(e->data, "size", json_integer((json_int_t) size));
        r = store_append_event(s, e, NULL, err);
        event_free(e);
        if (r >= 0) {
                fputs("trusted ", stdout);
                out_put_safe(path, stdout);
                printf("  sha256 %s\n", hex);
        }
        return r < 0 ? r : 0;
}

static int trust(Cli *cli, int argc, char **argv) {
        if (argc < 2)
                return cli_usage_error(&cmd_image, "image trust needs one or more PATHs");
        _cleanup_(store_closep) Store *s = cli_open_store_write(cli);
        if (!s)
                return EXIT_FAIL;
        VgError err = { "" };
        int r = 0;
        for (int i = 1; i < argc && r == 0; i++) {
                char real[PATH_MAX];
                if (!realpath(argv[i], real))
                        return cli_error("image '%s': %s", argv[i], strerror(errno));
                char **chain = NULL;
                if ((r = image_backing_chain(real, &chain, &err)) < 0)
                        break;
                /* The image and every file it is built on: a golden image is
                 * only as trustworthy as its base. One transaction each. */
                if ((r = store_begin(s, &err)) == 0) {
                        r = trust_one(s, real, &err);
                        for (size_t k = 0; r == 0 && chain[k]; k++)
                                r = chain[k][0] == '/' ? trust_one(s, chain[k], &err)
                                  : vg_error(&err, -EINVAL, "image '%s': backing '%s' is not a local file and "
                                             "cannot be trusted", real, chain[k]);
                        r = r == 0 ? store_commit(s, &err) : (store_rollback(s), r);
                }
                image_chain_free(chain);
        }
        return r < 0 ? cli_error("%s", err.text) : EXIT_OK;
}

typedef struct Walk {
        json_t *array;
        bool verify;
        size_t bad;
} Walk;

static int image_row(const ImageRecord *r, void *u) {
        Walk *w = u;
        char time[VG_TIME_MAX];
        vg_time_format(r->time_us, time);
        json_array_append_new(w->array, json_pack("{s:s, s:s, s:I, s:o, s:s}", "path", r->path, "sha256", r->sha256,
                                                  "size", (json_int_t) r->stat.size,
                                                  "trusted_by", event_json_string(r->trusted_by), "time", time));
        return 0;
}

static int list_or_verify(Cli *cli, int argc, char **argv, bool verify) {
        _cleanup_(store_closep) Store *s = verify ? cli_open_store_write(cli) : cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        Walk w = { json_array(), verify, 0 };
        VgError err = { "" };
        int r = 0;
        if (argc > 1)
                for (int i = 1; i < argc && r == 0; i++) {
                        char real[PATH_MAX];
                        r = store_images(s, realpath(argv[i], real) ? real : argv[i], image_row, &w, &err);
                }
        else
                r = store_images(s, NULL, image_row, &w, &err);
        if (r < 0) {
                json_decref(w.array);
                return cli_error("%s", err.text);
        }
        size_t i;
        json_t *v;
        json_array_foreach(w.array, i, v) {
                if (!verify)
                        continue;
                const char *path = json_string_value(json_object_get(v, "path"));
                char hex[65];
                VgError herr = { "" };
                const char *status = "ok";
                if (image_sha256(path, hex, NULL, &herr) < 0)
                        status = "missing";
                else if (strcmp(hex, json_string_value(json_object_get(v, "sha256"))))
                        status = "changed";
                json_object_set_new(v, "status", json_string(status));
                if (strcmp(status, "ok")) {
                        w.bad++;
                        Event *e = event_new("cli", "image.changed");
                        if (e) {
                                event_set(&e->actor, cli_actor());
                                event_set(&e->reason, !strcmp(status, "missing") ? "the image is missing"
                                          : "its SHA-256 is no longer the trusted one");
                                event_json_set_name(e->data, "path", path);
                                json_object_set_new(e->data, "status", json_string(status));
                                store_append_event(s, e, NULL, NULL);
                                event_free(e);
                        }
                } else {
                        /* Same content: refresh the stat fields, so a file
                         * that was only touched is trusted again. */
                        ImageStat st;
                        if (image_stat(path, &st) == 0)
                                put_row(s, path, hex, &st, json_string_value(json_object_get(v, "trusted_by")), NULL);
                }
        }
        if (cli->json) {
                out_json(w.array);
        } else {
                out_cells({ verify ? "STATUS" : "", 8 }, { "SHA-256", 64 }, { "SIZE", -12 },
                          { "PATH", 0 });
                json_array_foreach(w.array, i, v) {
                        char a[512], size[24];
                        snprintf(size, sizeof(size), "%lld", (long long) json_integer_value(json_object_get(v, "size")));
                        out_cells({ verify ? json_string_value(json_object_get(v, "status")) : "", 8 },
                                  { json_string_value(json_object_get(v, "sha256")), 64 },
                                  { size, -12 },
                                  { out_safe(json_string_value(json_object_get(v, "path")), a, sizeof(a)), 0 });
                }
                json_decref(w.array);
        }
        if (verify && w.bad)
                fprintf(stderr, "virtgov: %zu trusted image(s) changed or missing\n", w.bad);
        return w.bad ? EXIT_FAIL : EXIT_OK;
}

static int run(Cli *cli, int argc, char **argv) {
        if (argc < 2)
                return cli_usage_error(&cmd_image, "expected trust, list or verify");
        int n = 1;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--json"))
                        cli->json = true;
                else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return cli_help(&cmd_image);
                else
                        argv[n++] = argv[i];
        }
        const char *verb = argv[1];
        if (!strcmp(verb, "trust"))
                return trust(cli, n - 1, argv + 1);
        if (!strcmp(verb, "list"))
                return list_or_verify(cli, n - 1, argv + 1, false);
        if (!strcmp(verb, "verify"))
                return list_or_verify(cli, n - 1, argv + 1, true);
        return cli_usage_error(&cmd_image, "unknown verb '%s'", verb);
}

const Command cmd_image = {
        .name = "image",
        .usage = "image trust PATH...\n"
                 "       virtgov image list [PATH...] [--json]\n"
                 "       virtgov image verify [PATH...] [--json]",
        .summary = "Keep the library of trusted disk images (policy: \"trusted_images\").",
        .help =
        "trust   hashes each image (SHA-256) and every file in its qcow2 backing chain,\n"
        "        and records them with their size, device, inode and mtime. Each is an\n"
        "        image.trusted event naming who trusted it.\n"
        "list    shows the library.\n"
        "verify  hashes each trusted image again. Exit 1 if any changed or is missing\n"
        "        (recorded as image.changed). Run it from cron: at start the hook only\n"
        "        compares size, device, inode and mtime, which root can forge.\n"
        "\n"
        "A writable qcow2 overlay on a trusted base is accepted by \"trusted_images\":\n"
        "its top layer changes with every run; every file below it must be trusted.\n",
        .run = run,
};
