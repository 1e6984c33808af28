/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/store/spool.h"
#include <dirent.h>

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

Test(spool, write_creates_a_private_dir_and_one_record_per_event) {
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

/* The journal's bytes, appended to as a torn write would leave them. */
static void journal_append(const char *bytes, size_t n) {
        char *j = path_join(spool, "journal");
        int fd = open(j, O_WRONLY | O_APPEND | O_CREAT, 0600);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, bytes, n), (ssize_t) n);
        close(fd);
        free(j);
}

static char *journal_text(void) {
        char *j = path_join(spool, "journal");
        FILE *f = fopen(j, "r");
        cr_assert_not_null(f);
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        free(j);
        return buf;
}

Test(spool, a_torn_record_is_set_aside_and_the_records_after_it_fold) {
        event_free(spooled("domain.prepare"));
        /* A writer that died half-way through its append: the first half
         * of a record, then the next writer's whole one after it. */
        const char *whole = journal_text();
        journal_append(whole, strlen(whole) / 2);
        event_free(spooled("domain.started"));
        /* And one whose bytes were damaged (a CRC that does not match). */
        char *damaged = strdup(journal_text());
        size_t len = strlen(damaged);
        char *last = strrchr(damaged, '\x1e');
        char *brace = strchr(last, '{');
        brace[1] = brace[1] == 'x' ? 'y' : 'x';
        journal_append(last, (size_t) (damaged + len - last));
        free(damaged);

        size_t waiting;
        cr_assert_eq(spool_count(spool, &waiting), 0);
        cr_assert_eq(waiting, 4);
        SpoolStats st;
        VgError err = { "" };
        cr_assert_eq(spool_fold(spool, s, &st, &err), 0, "%s", err.text);
        cr_assert_eq(st.folded, 2);
        cr_assert_eq(st.rejected, 2);
        cr_assert_eq(stored(), 2);
        cr_assert_eq(spool_count(spool, &waiting), 0);
        cr_assert_eq(waiting, 0);
        char *rejected = path_join(spool, "rejected");
        DIR *d = opendir(rejected);
        cr_assert_not_null(d);
        int kept = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                kept += de->d_name[0] != '.';
        closedir(d);
        cr_assert_eq(kept, 2, "the torn and the damaged record are kept in rejected/");
        free(rejected);
}

Test(spool, a_fold_that_died_mid_journal_is_folded_again_once) {
        /* A fold that claimed the journal and committed its first event,
         * then died: its claimed file is left, with the event in. */
        Event *a = spooled("domain.prepare");
        event_free(spooled("domain.started"));
        cr_assert_eq(store_append_event(s, a, NULL, NULL), 0);
        char *j = path_join(spool, "journal"), *claimed = path_join(spool, "folding.1.1");
        cr_assert_eq(rename(j, claimed), 0);
        /* Meanwhile a hook began a new journal. */
        event_free(spooled("domain.stopped"));
        SpoolStats st;
        cr_assert_eq(spool_fold(spool, s, &st, NULL), 0);
        cr_assert_eq(st.folded, 2);
        cr_assert_eq(st.duplicates, 1);
        cr_assert_eq(stored(), 3);
        cr_assert_eq(access(claimed, F_OK), -1);
        cr_assert_eq(access(j, F_OK), -1);
        event_free(a);
        free(j);
        free(claimed);
}

Test(spool, one_event_files_of_older_spools_still_fold) {
        mkdir(spool, 0700);
        Event *e = event_new("hook", "domain.prepare");
        event_set(&e->domain, "web-7");
        char *text = event_render(e, NULL), name[128];
        snprintf(name, sizeof(name), "%s.json", e->ref);
        char *file = path_join(spool, name);
        write_text(file, text);
        event_free(spooled("domain.started"));
        SpoolStats st;
        cr_assert_eq(spool_fold(spool, s, &st, NULL), 0);
        cr_assert_eq(st.folded, 2);
        cr_assert_eq(access(file, F_OK), -1);
        free(file);
        free(text);
        event_free(e);
}

/* 50 writers at once (as 50 hooks that found the inventory locked), 20
 * events each, while folds claim the journal under them: every event is
 * folded, each once. */
Test(spool, concurrent_writers_and_folds_lose_nothing) {
        enum { WRITERS = 50, EACH = 20 };
        cr_assert_eq(vg_mkdir_p(spool, 0700), 0);
        pid_t pids[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                cr_assert_geq(pids[w], 0);
                if (pids[w] == 0) {
                        for (int i = 0; i < EACH; i++) {
                                Event *e = event_new("hook", "domain.started");
                                event_set(&e->domain, "web-7");
                                if (spool_write(spool, e, NULL) < 0)
                                        _exit(1);
                                event_free(e);
                        }
                        _exit(0);
                }
        }
        size_t folded = 0;
        SpoolStats st;
        VgError err = { "" };
        for (int running = WRITERS; running;) {
                cr_assert_eq(spool_fold(spool, s, &st, &err), 0, "%s", err.text);
                folded += st.folded;
                cr_assert_eq(st.rejected, 0);
                int status;
                pid_t p;
                while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
                        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                        running--;
                }
                usleep(1000);
        }
        cr_assert_eq(spool_fold(spool, s, &st, &err), 0, "%s", err.text);
        folded += st.folded;
        cr_assert_eq(st.rejected, 0);
        cr_assert_eq(folded, WRITERS * EACH);
        cr_assert_eq(stored(), WRITERS * EACH);
        size_t waiting;
        cr_assert_eq(spool_count(spool, &waiting), 0);
        cr_assert_eq(waiting, 0);
}
