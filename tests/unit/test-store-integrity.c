/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The integrity check's rows: the baseline's superseded contents and
 * the processes' statuses. */
#include <errno.h>

#include "store-fixture.h"

TestSuite(store_integrity, .init = setup, .fini = teardown);

static int seen_process(const ProcessRecord *p, void *u) {
        Seen *seen = u;
        size_t n = strlen(seen->text);
        snprintf(seen->text + n, sizeof(seen->text) - n, "%lld %s %s %s;", (long long) p->pid, p->role,
                 p->domain ? p->domain : "-", p->status);
        return 0;
}

/* What a baseline row held is kept when it is replaced or removed (a
 * process may still run it), and dropped once the baseline holds it again;
 * processes' statuses are replaced per domain or all at once. */
Test(store_integrity, superseded_hashes_and_process_statuses) {
        Store *s = open_new();
        VgError err = { "" };
        FscanFile f = { .path = "/usr/bin/qemu", .tag = "isolation", .type = 'f', .attrs = FSCAN_ALL,
                        .sha256 = "aa" };
        cr_assert_eq(store_baseline_put(s, &f, &err), 0, "%s", err.text);
        int64_t when = 0;
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", &when, &err), -ENOENT);
        snprintf(f.sha256, sizeof(f.sha256), "bb");
        cr_assert_eq(store_baseline_put(s, &f, &err), 0, "%s", err.text);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", &when, &err), 0, "%s", err.text);
        cr_assert_gt(when, 0);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "bb", NULL, &err), -ENOENT, "the current one is not");
        FscanList *rows = NULL;
        cr_assert_eq(store_baseline_of(s, "/usr/bin/qemu", &rows, &err), 0, "%s", err.text);
        cr_assert_eq(rows->n, 1);
        cr_assert_str_eq(rows->files[0].sha256, "bb");
        fscan_list_free(rows);
        /* Retaken with the first content again: it is current, not superseded. */
        snprintf(f.sha256, sizeof(f.sha256), "aa");
        FscanList l = { .files = &f, .n = 1 };
        const char *profiles[] = { "isolation", NULL };
        cr_assert_eq(store_baseline_replace(s, profiles, &l, &err), 0, "%s", err.text);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", NULL, &err), -ENOENT);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "bb", NULL, &err), 0, "%s", err.text);
        cr_assert_eq(store_baseline_remove(s, "/usr/bin/qemu", "isolation", &err), 0, "%s", err.text);
        cr_assert_eq(store_superseded_find(s, "/usr/bin/qemu", "aa", NULL, &err), 0, "a removed row's content too");

        ProcessRecord p[] = {
                { .pid = 10, .start_ticks = 1, .role = "qemu", .domain = "web-7", .status = "stale", .since_us = 1,
                  .checked_us = 2 },
                { .pid = 11, .start_ticks = 1, .role = "qemu", .domain = "db-1", .status = "current", .since_us = 1,
                  .checked_us = 2 },
                { .pid = 5, .start_ticks = 1, .role = "virtqemud", .status = "tampered", .since_us = 1, .checked_us = 2 },
        };
        for (size_t i = 0; i < ELEMENTSOF(p); i++)
                cr_assert_eq(store_process_put(s, &p[i], &err), 0, "%s", err.text);
        Seen seen = { "" };
        cr_assert_eq(store_processes(s, seen_process, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "5 virtqemud - tampered;11 qemu db-1 current;10 qemu web-7 stale;");
        cr_assert_eq(store_processes_clear(s, "web-7", &err), 0, "%s", err.text);
        seen.text[0] = '\0';
        cr_assert_eq(store_processes(s, seen_process, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "5 virtqemud - tampered;11 qemu db-1 current;");
        cr_assert_eq(store_processes_clear(s, NULL, &err), 0, "%s", err.text);
        seen.text[0] = '\0';
        cr_assert_eq(store_processes(s, seen_process, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "");
        store_close(s);
}
