/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify --heads (heads.h). An export of the central log holds the heads
 * of many hosts, in any order, and repeats; each line is read for one
 * (head_parse: syslog text, journal export, JSON lines alike). This host's
 * are those with its machine-id; each must carry its key's signature and
 * be held by the local chain (the same id with the same hash). The first
 * one lost, by id, is named: the inventory was rolled back or truncated
 * before it, or replaced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heads.h"
#include "virtgov/host/identity.h"
#include "virtgov/ship/head.h"
#include "virtgov/util/cleanup.h"

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void lost(HeadsCheck *hc, const Head *h, const char *why) {
        hc->lost++;
        if (hc->first_lost && hc->first_lost < h->id)
                return;
        hc->first_lost = h->id;
        snprintf(hc->problem, sizeof(hc->problem), "head %" PRId64 " of %s (hash %.16s...) %s", h->id,
                 h->time[0] ? h->time : "an unknown time", h->hash, why);
}

static int check_one(Store *s, const Head *h, HeadsCheck *hc, VgError *err) {
        char have[CHAIN_HEX_SIZE];
        int r = store_chain_hash(s, h->id, have, err);
        if (r == -ENOENT) {
                lost(hc, h, "is not in the inventory: it was rolled back to an older copy or truncated");
                return 0;
        }
        if (r < 0)
                return r;
        if (strcmp(have, h->hash))
                lost(hc, h, "has another hash in the inventory: the inventory was replaced, or its chain "
                     "rewritten up to there");
        else
                hc->held++;
        return 0;
}

int heads_check(Store *s, const Config *config, const char *path, HeadsCheck *hc, VgError *err) {
        HostKey k;
        char host[HOST_ID_SIZE];
        int r;
        memset(hc, 0, sizeof(*hc));
        if ((r = head_key_load_public(config->host_key, &k, err)) < 0 ||
            (r = host_id_of(config, host, err)) < 0)
                return r;
        bool in = !strcmp(path, "-");
        _cleanup_(fclosep) FILE *f = in ? NULL : fopen(path, "re");
        if (!in && !f)
                return vg_error(err, -errno, "%s: %m", path);
        FILE *from = in ? stdin : f;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, from)) >= 0) {
                lineno++;
                Head h;
                VgError perr = { "" };
                int k2 = head_parse(line, &h, &perr);
                if (k2 < 0)
                        return vg_error(err, k2, "%s, line %zu: %s", in ? "stdin" : path, lineno, perr.text);
                if (k2 == 0)
                        continue;
                if (!h.host[0] && !h.has_sig) {
                        hc->unsigned_heads++;
                        continue;
                }
                if (strcmp(h.host, host)) {
                        hc->other_hosts++;
                        continue;
                }
                if (!head_verify(&h, &k)) {
                        hc->bad_sig++;
                        continue;
                }
                if ((r = check_one(s, &h, hc, err)) < 0)
                        return r;
        }
        if (ferror(from))
                return vg_error(err, -EIO, "%s: read error", in ? "stdin" : path);
        if (!hc->problem[0] && hc->bad_sig)
                snprintf(hc->problem, sizeof(hc->problem), "%zu head(s) name this host (%s) but are not signed by its "
                         "key: written by someone else, or signed by a key this host no longer has", hc->bad_sig, host);
        if (!hc->problem[0] && !hc->held)
                snprintf(hc->problem, sizeof(hc->problem), "no head of this host (%s) signed by its key in %s: "
                         "nothing was checked", host, in ? "stdin" : path);
        return 0;
}
