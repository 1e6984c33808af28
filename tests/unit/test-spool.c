/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/spool.h"

static char *dir, *db, *spool;
static Store *s;

static void setup(void) {
        dir = scratch_new();
        db = path_join(dir, "inventory.db");
        spool = path_join(dir, "spool");
        VgError err = { "" };
        cr_assert_eq(store_open(db, STORE_CREATE, 1000, &s, &err), 0, "%s", err.text);
}
static void teardown(void) {
        store_close(s);
        free(db);
        free(spool);
        scratch_remove(dir);
}
TestSuite(spool, .init = setup, .fini = teardown);

static Event *spooled(const char *kind) {
        Event *e = event_new("hook", kind);
        event_set(&e->domain, "web-7");
        event_set(&e->uuid, "u-7");
        VgError err = { "" };
        cr_assert_eq(spool_write(spool, e, &err), 0, "%s", err.text);
        return e;
}

static int count_cb(const Event *e, void *u) {
        (*(int *) u)++;
        return 0;
}

static int stored(void) {
        int n = 0;
        EventFilter f = { 0 };
        cr_assert_eq(store_query_events(s, &f, count_cb, &n, NULL), 0);
        return n;
}

Test(spool, write_creates_a_private_dir_and_one_file_per_event) {
        event_free(spooled("domain.prepare"));
        event_free(spooled("domain.start"));
        struct stat st;
        cr_assert_eq(stat(spool, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0700);
        size_t n;
        cr_assert_eq(spool_count(spool, &n), 0);
        cr_assert_eq(n, 2);
}

Test(spool, fold_appends_each_event_once_and_empties_the_spool) {
        Event *a = spooled("domain.prepare"), *b = spooled("domain.started");
        SpoolStats st;
        VgError err = { "" };
        cr_assert_eq(spool_fold(spool, s, &st, &err), 0, "%s", err.text);
        cr_assert_eq(st.folded, 2);
        cr_assert_eq(st.duplicates, 0);
        cr_assert_eq(stored(), 2);
        size_t n;
        spool_count(spool, &n);
        cr_assert_eq(n, 0);
        cr_assert_eq(spool_fold(spool, s, &st, &err), 0);
        cr_assert_eq(st.folded, 0);
        cr_assert_eq(stored(), 2);
        event_free(a);
        event_free(b);
}

Test(spool, a_fold_that_died_before_unlink_is_not_doubled) {
        /* The state a crash between commit and unlink leaves behind: the
         * event is in the inventory and its file is still in the spool. */
        Event *e = spooled("domain.started");
        cr_assert_eq(store_append_event(s, e, NULL, NULL), 0);
        SpoolStats st;
        cr_assert_eq(spool_fold(spool, s, &st, NULL), 0);
        cr_assert_eq(st.folded, 0);
        cr_assert_eq(st.duplicates, 1);
        cr_assert_eq(stored(), 1);
        size_t n;
        spool_count(spool, &n);
        cr_assert_eq(n, 0);
        event_free(e);
}

Test(spool, malformed_files_are_moved_aside_not_lost) {
        mkdir(spool, 0700);
        char *bad = path_join(spool, "0123.json");
        write_text(bad, "{ not json");
        event_free(spooled("domain.prepare"));
        SpoolStats st;
        cr_assert_eq(spool_fold(spool, s, &st, NULL), 0);
        cr_assert_eq(st.folded, 1);
        cr_assert_eq(st.rejected, 1);
        char *moved = path_join(spool, "rejected/0123.json");
        cr_assert_eq(access(moved, F_OK), 0);
        free(moved);
        free(bad);
}

Test(spool, missing_dir_is_an_empty_spool) {
        SpoolStats st = { 9, 9, 9 };
        cr_assert_eq(spool_fold(spool, s, &st, NULL), 0);
        cr_assert_eq(st.folded + st.duplicates + st.rejected, 0);
        size_t n = 5;
        cr_assert_eq(spool_count(spool, &n), 0);
        cr_assert_eq(n, 0);
}

Test(spool, domain_state_comes_from_folded_events) {
        event_free(spooled("domain.started"));
        cr_assert_eq(spool_fold(spool, s, NULL, NULL), 0);
        DomainRow *d = NULL;
        cr_assert_eq(store_find_domain(s, "web-7", &d, NULL), 0);
        cr_assert_str_eq(d->state, "running");
        domain_row_free(d);
}
