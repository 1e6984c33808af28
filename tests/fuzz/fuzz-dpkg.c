/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's files: the first byte picks the status file, the diversions file,
 * dpkg.log, or a .list and its .md5sums (split at the first "--\n"). Every
 * path and package then goes through the lookups the checker makes. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/host/dpkg-priv.h"

static void lookups(Dpkg *d) {
        DpkgFile f;
        DpkgChange c;
        /* no files on disk: what was fuzzed is the whole database */
        d->index_loaded = d->log_loaded = true;
        for (size_t i = 0; i < d->n_records && i < 64; i++) {
                dpkg_owner(d, d->records[i].path, &f, NULL);
                if (f.package)
                        dpkg_last_change(d, f.package, &c, NULL);
                DpkgFacts facts = { .path = d->records[i].path, .current_md5 = f.md5, .file = &f };
                DpkgClassification k;
                dpkg_classify(&facts, &k);
        }
        for (size_t i = 0; i < d->n_diversions; i++) {
                dpkg_owner(d, d->diversions[i].from, &f, NULL);
                dpkg_owner(d, d->diversions[i].to, &f, NULL);
        }
        DpkgStats st;
        dpkg_stats(d, &st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        Dpkg *d = NULL;
        if (dpkg_new("/nonexistent", "/nonexistent/dpkg.log", &d) < 0)
                return 0;
        const char *text = (const char *) data + 1;
        size_t len = size - 1;
        switch (data[0] % 4) {
        case 0:
                if (dpkg_parse_status(d, text, len, "status") == 0)
                        dpkg_index_add_conffiles(d);
                break;
        case 1:
                dpkg_parse_diversions(d, text, len, "diversions");
                break;
        case 2:
                dpkg_parse_log(d, text, len, "dpkg.log");
                d->log_loaded = true;
                for (size_t i = 0; i < d->n_changes; i++) {
                        DpkgChange c;
                        dpkg_last_change(d, d->changes[i].package, &c, NULL);
                }
                break;
        case 3: {
                static const char pkg[] = "Package: p\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n";
                const char *sep = memmem(text, len, "--\n", 3);
                size_t list_len = sep ? (size_t) (sep - text) : len;
                char *list = malloc(list_len + 1);   /* the index keeps it */
                if (!list || dpkg_parse_status(d, pkg, sizeof(pkg) - 1, "status") < 0) {
                        free(list);
                        break;
                }
                memcpy(list, text, list_len);
                list[list_len] = '\0';
                if (dpkg_index_add_list(d, 0, list, list_len, "p.list") == 0 && sep)
                        dpkg_index_add_md5sums(d, 0, sep + 3, len - list_len - 3, "p.md5sums");
                break;
        }
        }
        lookups(d);
        dpkg_free(d);
        return 0;
}
