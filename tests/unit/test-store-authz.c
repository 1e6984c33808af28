/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Authorizations: approvals, tickets, trusted images (and their numbers'
 * migration), and the hook's copy of them. */
#include <errno.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-fixture.h"

TestSuite(store_authz, .init = setup, .fini = teardown);

static int keep_image(const ImageRecord *r, void *u) {
        ImageRecord *out = u;
        *out = *r;
        out->path = out->sha256 = out->trusted_by = NULL;   /* the query's: gone after the walk */
        return 0;
}

static int typeof_count(const char *sql) {
        sqlite3 *raw;
        int n = 0;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(raw, sql, count_int, &n, NULL), SQLITE_OK, "%s", sql);
        sqlite3_close(raw);
        return n;
}

/* Schema 11 keeps the images' numbers as INTEGER. An inventory of schema
 * 10, its numbers decimal text as the older virtgov wrote them (an inode
 * above INT64_MAX included), is converted by the first writer; events,
 * domains and the chain are left as they were; the hook's mode reads the
 * old text numbers as they are before that. */
Test(store_authz, migration_to_11_makes_image_numbers_integers) {
        Store *s = open_new();
        fill(s, 3);
        define_with_facts(s, "m", "u-m", "{\"disks\": [{\"source\": \"/i/m\"}]}");
        store_close(s);
        raw_exec(UNDO_SCHEMA_11 "PRAGMA user_version = 10;"
                 "INSERT INTO images VALUES ('/i/base', 'aa', '10737418240', '2049', '18446744073709551615',"
                 " '1763900000123456789', 'root', '2026-11-23T00:00:00.000000Z');"
                 "INSERT INTO images VALUES ('/i/m', 'bb', '4096', '64768', '131', '-5', NULL,"
                 " '2026-11-24T00:00:00.000000Z');");
        cr_assert_eq(typeof_count("SELECT count(*) FROM images WHERE typeof(size) = 'text'"), 2);

        VgError err = { "" };
        ImageRecord got = { 0 };
        cr_assert_eq(store_open(db, STORE_APPEND, 1000, &s, &err), 0, "%s", err.text);
        cr_assert_eq(store_images(s, "/i/m", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert(got.stat.size == 4096 && got.stat.dev == 64768 && got.stat.ino == 131 && got.stat.mtime_ns == -5);
        store_close(s);
        cr_assert_eq(user_version(), 10);

        s = open_new();   /* migrates */
        cr_assert_eq(user_version(), store_schema_version());
        cr_assert_eq(typeof_count("SELECT count(*) FROM images WHERE typeof(size) = 'integer' AND"
                                  " typeof(dev) = 'integer' AND typeof(ino) = 'integer' AND typeof(mtime_ns) = 'integer'"), 2);
        cr_assert_eq(store_images(s, "/i/base", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert_eq(got.stat.size, 10737418240ULL);
        cr_assert_eq(got.stat.dev, 2049);
        cr_assert_eq(got.stat.ino, UINT64_MAX);
        cr_assert_eq(got.stat.mtime_ns, 1763900000123456789LL);
        cr_assert_eq(got.time_us, 1795392000000000);
        cr_assert_eq(store_images(s, "/i/m", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert(got.stat.size == 4096 && got.stat.ino == 131 && got.stat.mtime_ns == -5);

        /* A new record round-trips every bit. */
        ImageRecord rec = { .path = "/i/new", .sha256 = "cc", .time_us = 1,
                            .stat = { .size = 1, .dev = UINT64_MAX - 1, .ino = 1ULL << 63, .mtime_ns = INT64_MIN } };
        cr_assert_eq(store_image_put(s, &rec, &err), 0, "%s", err.text);
        cr_assert_eq(store_images(s, "/i/new", keep_image, &got, &err), 0, "%s", err.text);
        cr_assert(got.stat.dev == UINT64_MAX - 1 && got.stat.ino == 1ULL << 63 && got.stat.mtime_ns == INT64_MIN);
        cr_assert_eq(count(s, (EventFilter) { 0 }), 4);
        cr_assert_str_eq(devices_text(s), "m disk type=(null) source=/i/m target=(null) mac=(null) ro=(null)"
                         " shared=(null) backing=(null)\n");
        store_close(s);
        ChainVerify v;
        cr_assert_eq(verify(&v), 0, "%s", v.problem);
}

static int seen_approval(const Approval *a, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s %s %s %lld %s %lld;", a->key, a->owner, a->ticket,
                 (long long) a->until_us, a->approved_by, (long long) a->time_us);
        return 0;
}

static int seen_ticket(const Ticket *t, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s %s %s %lld %lld %s %s %lld;", t->id, t->domain_glob, t->action,
                 (long long) t->from_us, (long long) t->until_us, t->approved_by, t->added_by, (long long) t->time_us);
        return 0;
}

static int seen_count(const EventCount *c, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s %s %lld %d;", c->kind, c->decision ? c->decision : "-",
                 (long long) c->count, c->newest_us > 0);
        return 0;
}

/* Every field of the typed rows goes in and comes out as it was. */
Test(store_authz, authorizations_and_counts_round_trip_typed) {
        Store *s = open_new();
        VgError err = { "" };
        Approval a = { .key = "u-7", .owner = "alice", .ticket = "CHG-1", .until_us = 2000000000000000,
                       .approved_by = "bob", .time_us = 1000000 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        Approval b = { .key = "web-9", .time_us = 2000000 };
        cr_assert_eq(store_approval_put(s, &b, &err), 0, "%s", err.text);
        Ticket t = { .id = "CHG-1", .domain_glob = "web-*", .action = "start", .from_us = 1000000,
                     .until_us = 3000000, .approved_by = "cab", .added_by = "carol", .time_us = 500000 };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);

        Seen seen = { "" };
        cr_assert_eq(store_approvals(s, "web-7", "u-7", seen_approval, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "u-7 alice CHG-1 2000000000000000 bob 1000000;");
        seen.text[0] = '\0';
        cr_assert_eq(store_approvals(s, NULL, NULL, seen_approval, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "u-7 alice CHG-1 2000000000000000 bob 1000000;web-9 (null) (null) 0 (null) 2000000;");
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, "web-7", NULL, seen_ticket, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "CHG-1 web-* start 1000000 3000000 cab carol 500000;");
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, "db-1", "CHG-2", seen_ticket, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "");

        Event *e = dom_event("domain.prepare", "web-7", "u-7", NULL);
        event_set(&e->decision, "deny");
        append(s, e);
        event_free(e);
        e = dom_event("domain.defined", "web-7", "u-7", NULL);
        append(s, e);
        event_free(e);
        seen.text[0] = '\0';
        cr_assert_eq(store_event_counts(s, seen_count, &seen, &err), 0, "%s", err.text);
        cr_assert_str_eq(seen.text, "domain.defined - 1 1;domain.prepare deny 1 1;");
        store_close(s);
}

static int seen_ticket_id(const Ticket *t, void *u) {
        Seen *s = u;
        size_t n = strlen(s->text);
        snprintf(s->text + n, sizeof(s->text) - n, "%s;", t->id);
        return 0;
}

static void put_ticket(Store *s, const char *id, const char *glob) {
        VgError err = { "" };
        Ticket t = { .id = id, .domain_glob = glob, .action = "start", .from_us = 1000000, .until_us = 3000000,
                     .time_us = 1 };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
}

/* A ticket's glob means what a policy rule's does (fnmatch): SQLite's GLOB
 * never matched "vic[!x]*" (it wants "[^x]"), so such a ticket covered
 * nothing. */
Test(store_authz, ticket_globs_match_as_fnmatch) {
        Store *s = open_new();
        put_ticket(s, "T-1", "vic[!x]*");
        put_ticket(s, "T-2", "vic[^x]*");
        put_ticket(s, "T-3", "VIC*");
        put_ticket(s, "T-4", "v?ctim");
        put_ticket(s, "T-5", "vic\\tim");
        put_ticket(s, "T-6", "vix*");
        Seen seen = { "" };
        VgError err = { "" };
        cr_assert_eq(store_tickets(s, "victim", NULL, seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-1;T-2;T-4;T-5;");
        /* The one its metadata names comes too, whatever its glob: the
         * engine says that claim is false (decide.c). */
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, "victim", "T-6", seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-1;T-2;T-4;T-5;T-6;");
        seen.text[0] = '\0';
        cr_assert_eq(store_tickets(s, NULL, "T-6", seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-6;");
        store_close(s);
}

/* A row with a glob SQLite's GLOB refuses ("LIKE or GLOB pattern too
 * complex", over 50,000 bytes) once failed the query of every domain's
 * tickets. Now it is read like any other; the bounds keep new ones out. */
Test(store_authz, a_huge_glob_does_not_fail_the_query) {
        Store *s = open_new();
        put_ticket(s, "T-1", "web-*");
        store_close(s);
        raw_exec("INSERT INTO tickets (id, domain_glob, action, valid_from, valid_until, time)"
                 " VALUES ('T-LONG', printf('%.50001c', 'x'), 'start', '2020-01-01T00:00:00Z',"
                 " '2020-01-02T00:00:00Z', '2020-01-01T00:00:00Z')");
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, NULL), 0);
        Seen seen = { "" };
        VgError err = { "" };
        cr_assert_eq(store_tickets(s, "web-7", NULL, seen_ticket_id, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "T-1;");
        store_close(s);
}

typedef struct Bad {
        char text[2048];
} Bad;

static int seen_invalid(const char *kind, const char *key, const char *why, void *u) {
        Bad *b = u;
        size_t n = strlen(b->text);
        snprintf(b->text + n, sizeof(b->text) - n, "%s '%s': %s;", kind, key, why);
        return 0;
}

/* Bounds at input: a name, ID or glob over its bound is not stored. */
Test(store_authz, authorizations_over_their_bounds_are_refused) {
        Store *s = open_new();
        VgError err = { "" };
        char big[2000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        Ticket t = { .id = "T-1", .domain_glob = big, .from_us = 1, .until_us = 2, .time_us = 1 };
        cr_expect_eq(store_ticket_put(s, &t, &err), -ENAMETOOLONG);
        cr_expect(strstr(err.text, "ticket 'T-1': its domain glob is 1999 bytes, over the limit of 1024"), "%s",
                  err.text);
        big[256] = '\0';
        t = (Ticket) { .id = big, .domain_glob = "web-*", .from_us = 1, .until_us = 2, .time_us = 1 };
        cr_expect_eq(store_ticket_put(s, &t, &err), -ENAMETOOLONG);
        Approval a = { .key = big, .time_us = 1 };
        cr_expect_eq(store_approval_put(s, &a, &err), -ENAMETOOLONG);
        a = (Approval) { .key = "web-7", .owner = big, .time_us = 1 };
        cr_expect_eq(store_approval_put(s, &a, &err), -ENAMETOOLONG);
        cr_expect(strstr(err.text, "the approval of 'web-7': its owner is 256 bytes"), "%s", err.text);
        ImageRecord im = { .path = "relative.qcow2", .sha256 = "ab", .time_us = 1 };
        cr_expect_eq(store_image_put(s, &im, &err), -EINVAL);
        big[255] = '\0';
        a = (Approval) { .key = big, .time_us = 1 };
        cr_expect_eq(store_approval_put(s, &a, &err), 0, "255 bytes is a name: %s", err.text);
        store_close(s);
}

/* Rows no check saw (an older virtgov's, or edited by hand) that no
 * decision can use are found, each with its key and why. */
Test(store_authz, invalid_authorizations_are_found) {
        Store *s = open_new();
        put_ticket(s, "T-OK", "web-*");
        store_close(s);
        raw_exec("INSERT INTO tickets (id, domain_glob, action, valid_from, valid_until, time) VALUES"
                 " ('T-LONG', printf('%.50001c', 'x'), 'start', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', 'x'),"
                 " ('T-NOGLOB', NULL, 'start', '2020-01-01T00:00:00Z', '2099-01-02T00:00:00Z', 'x'),"
                 " ('T-BADTIME', 'web-*', 'start', 'yesterday', '2099-01-02T00:00:00Z', 'x');"
                 "INSERT INTO approvals (key, time) VALUES (printf('%.300c', 'k'), 'x');"
                 "INSERT INTO images (path, sha256, size, dev, ino, mtime_ns, time) VALUES ('rel', 'ab', 0, 0, 0, 0, 'x')");
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, NULL), 0);
        Bad bad = { "" };
        size_t n = 0;
        VgError err = { "" };
        cr_assert_eq(store_authz_invalid(s, seen_invalid, &bad, &n, &err), 0, "%s", err.text);
        cr_expect_eq(n, 5, "%s", bad.text);
        cr_expect(strstr(bad.text, "approval 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...': "
                                   "the approval of 'kkkk"), "%s", bad.text);
        cr_expect(strstr(bad.text, "ticket 'T-LONG': ticket 'T-LONG': its domain glob is 50001 bytes, over the "
                                   "limit of 1024;"), "%s", bad.text);
        cr_expect(strstr(bad.text, "ticket 'T-NOGLOB': ticket 'T-NOGLOB' needs a domain glob"), "%s", bad.text);
        cr_expect(strstr(bad.text, "ticket 'T-BADTIME': ticket 'T-BADTIME': its window ends before it starts"),
                  "%s", bad.text);
        cr_expect(strstr(bad.text, "trusted image 'rel': trusted image 'rel': not an absolute path"), "%s", bad.text);
        store_close(s);
}

/* The hook's copy of the authorization tables (store_authz_path): there
 * after every change, made from what was committed, and gone while a
 * change is being made, so that it never allows what the inventory does
 * not. */
static size_t copy_approvals(const char *copy, const char *name) {
        Store *c = NULL;
        VgError err = { "" };
        cr_assert_eq(store_open(copy, STORE_READ, 1000, &c, &err), 0, "%s", err.text);
        Seen seen = { "" };
        cr_assert_eq(store_approvals(c, name, NULL, seen_approval, &seen, &err), 0, "%s", err.text);
        store_close(c);
        size_t n = 0;
        for (const char *p = seen.text; (p = strchr(p, ';')); p++)
                n++;
        return n;
}

Test(store_authz, authz_copy_follows_committed_changes_only) {
        Store *s = open_new();
        VgError err = { "" };
        char *copy = store_authz_path(db);
        struct stat st;
        cr_assert_eq(stat(copy, &st), 0, "no copy after creating the inventory");
        cr_expect_eq(st.st_mode & 0777, 0640);
        cr_expect_eq(copy_approvals(copy, "web-7"), 0);

        /* A change on its own (its own transaction): copied. */
        Approval a = { .key = "web-7", .approved_by = "bob", .time_us = 1000000 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1);
        Ticket t = { .id = "CHG-1", .domain_glob = "web-*", .from_us = 1, .until_us = 2, .time_us = 1 };
        cr_assert_eq(store_ticket_put(s, &t, &err), 0, "%s", err.text);
        ImageRecord im = { .path = "/img/a.qcow2", .sha256 = "ab", .time_us = 1 };
        cr_assert_eq(store_image_put(s, &im, &err), 0, "%s", err.text);
        Store *c = NULL;
        cr_assert_eq(store_open(copy, STORE_READ, 1000, &c, &err), 0, "%s", err.text);
        Seen seen = { "" };
        cr_assert_eq(store_tickets(c, "web-7", NULL, seen_ticket, &seen, &err), 0, "%s", err.text);
        cr_expect_str_eq(seen.text, "CHG-1 web-* (null) 1 2 (null) (null) 1;");
        store_close(c);

        /* Inside a transaction: no copy from the change until the commit. */
        cr_assert_eq(store_begin(s, &err), 0, "%s", err.text);
        cr_assert_eq(store_approval_delete(s, "web-7", &err), 0, "%s", err.text);
        cr_expect_eq(access(copy, F_OK), -1, "a copy still allows what is being revoked");
        cr_assert_eq(store_commit(s, &err), 0, "%s", err.text);
        cr_expect_eq(copy_approvals(copy, "web-7"), 0);

        /* Rolled back: the copy again, without what was not committed. */
        cr_assert_eq(store_begin(s, &err), 0, "%s", err.text);
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        cr_expect_eq(access(copy, F_OK), -1);
        store_rollback(s);
        cr_expect_eq(copy_approvals(copy, "web-7"), 0);

        /* Gone (a crash between the removal and the commit): the next
         * writer to open the inventory makes it again. */
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        store_close(s);
        cr_assert_eq(unlink(copy), 0);
        s = open_new();
        cr_expect_eq(copy_approvals(copy, "web-7"), 1);
        store_close(s);
        free(copy);
}

/* What did not go through the store: rows edited by hand (or a backup
 * restored in place) are caught by the daemon's check, a replaced file by
 * the hook's open of the copy and by the next writer's; a symlink to the
 * inventory has the same copy. */
Test(store_authz, authz_copy_catches_what_went_around_it) {
        Store *s = open_new();
        VgError err = { "" };
        Approval a = { .key = "web-7", .time_us = 1000000 };
        cr_assert_eq(store_approval_put(s, &a, &err), 0, "%s", err.text);
        store_close(s);
        char *copy = store_authz_path(db);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1);

        sqlite3 *raw = NULL;
        cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(raw, "DELETE FROM approvals", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1, "(the copy does not know yet)");
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, &err), 0, "%s", err.text);
        cr_expect_eq(copy_approvals(copy, "web-7"), 1, "(nor does a writer's open, which reads its header)");
        cr_expect_eq(store_authz_check(s, true), 1, "the daemon's check did not see the rows differ");
        cr_expect_eq(copy_approvals(copy, "web-7"), 0, "the daemon's check did not make the copy again");
        cr_expect_eq(store_authz_check(s, true), 0, "the copy made again does not match");

        Store *c = NULL;
        cr_expect_eq(store_open_authz(db, 1000, &c), 0);
        store_close(c);
        store_close(s);
        /* The inventory replaced by another file: that copy is not its. */
        char *other = path_join(dir, "other.db");
        char cmd[8192];
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && mv '%s' '%s'", db, other, other, db);
        cr_assert_eq(system(cmd), 0);
        cr_expect_eq(store_open_authz(db, 1000, &c), -ESTALE);
        /* and a writer's open makes it the new file's */
        cr_assert_eq(store_open(db, STORE_WRITE, 1000, &s, &err), 0, "%s", err.text);
        store_close(s);
        cr_expect_eq(store_open_authz(db, 1000, &c), 0);
        store_close(c);

        char *link = path_join(dir, "link.db");
        cr_assert_eq(symlink(db, link), 0);
        char *via_link = store_authz_path(link);
        cr_expect_str_eq(via_link, copy);
        free(via_link);
        free(link);
        free(other);
        free(copy);
}
