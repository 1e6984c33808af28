/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tickets and approvals as they come in: their bounds (authz.h) and a
 * change system's import, all or nothing. */
#include <errno.h>

#include "test-helpers.h"
#include "virtgov/authz/authz.h"
#include "virtgov/util/glob.h"
#include "virtgov/authz/ticket.h"

static int import(const char *text, size_t *ret_n, VgError *err) {
        json_t *j = NULL;
        Ticket *t = NULL;
        int r = ticket_import_parse(text, strlen(text), "t.json", 1800000000000000, &j, &t, ret_n, err);
        free(t);
        json_decref(j);
        return r;
}

#define WINDOW "\"from\": \"2020-01-01T00:00:00Z\", \"until\": \"2099-01-01T00:00:00Z\""

/* An ID twice once imported both, the later (wider) scope winning unseen:
 * now nothing is imported, and the error names the ID and both places. */
Test(ticket, an_import_with_an_id_twice_is_refused) {
        VgError err = { "" };
        size_t n = 0;
        cr_assert_eq(import("[ { \"id\": \"A\", \"domain\": \"a\", " WINDOW " },"
                            "  { \"id\": \"B\", \"domain\": \"b\", " WINDOW " },"
                            "  { \"id\": \"A\", \"domain\": \"*\", " WINDOW " } ]", &n, &err), -EEXIST);
        cr_expect_str_eq(err.text, "t.json: ticket 2: ID 'A' is ticket 0's too: an ID may come once");
        cr_assert_eq(import("[ { \"id\": \"A\", \"domain\": \"a\", " WINDOW " },"
                            "  { \"id\": \"a\", \"domain\": \"b\", " WINDOW " } ]", &n, &err), 0, "%s", err.text);
        cr_expect_eq(n, 2, "IDs are case-sensitive, as the inventory's key is");
}

/* The bounds at input: an ID or approver over 255 bytes, a glob over
 * 1024. One expired ticket with a 50,001-byte glob once failed every
 * decision on the host. */
Test(ticket, fields_over_their_bounds_are_refused) {
        char glob[AUTHZ_GLOB_MAX + 2], name[AUTHZ_NAME_MAX + 2];
        memset(glob, '*', sizeof(glob) - 1);
        glob[sizeof(glob) - 1] = '\0';
        memset(name, 'n', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        VgError err = { "" };
        Ticket t = { .id = "T", .domain_glob = glob, .from_us = 1, .until_us = 2 };
        cr_expect_eq(ticket_check(&t, &err), -ENAMETOOLONG);
        cr_expect_str_eq(err.text, "ticket 'T': its domain glob is 1025 bytes, over the limit of 1024");
        glob[AUTHZ_GLOB_MAX] = '\0';
        cr_expect_eq(ticket_check(&t, &err), 0, "%s", err.text);
        t.id = name;
        cr_expect_eq(ticket_check(&t, &err), -ENAMETOOLONG);
        cr_expect(strstr(err.text, "its ID is 256 bytes, over the limit of 255"), "%s", err.text);
        t.id = "T";
        t.approved_by = name;
        cr_expect_eq(ticket_check(&t, &err), -ENAMETOOLONG);

        Approval a = { .key = name };
        cr_expect_eq(authz_check_approval(&a, &err), -ENAMETOOLONG);
        a = (Approval) { .key = "web-7", .ticket = name };
        cr_expect_eq(authz_check_approval(&a, &err), -ENAMETOOLONG);
        a = (Approval) { .key = "" };
        cr_expect_eq(authz_check_approval(&a, &err), -EINVAL);

        char text[4096];
        snprintf(text, sizeof(text), "[ { \"id\": \"T\", \"domain\": \"%s*\", " WINDOW " } ]", glob);
        size_t n;
        cr_expect_eq(import(text, &n, &err), -ENAMETOOLONG);
        cr_expect(strstr(err.text, "t.json: ticket 0: ticket 'T': its domain glob is 1025 bytes"), "%s", err.text);
}

/* One matcher, fnmatch's, for tickets as for policy rules. */
Test(ticket, a_ticket_covers_what_its_glob_matches) {
        Ticket t = { .id = "T", .domain_glob = "vic[!x]*" };
        cr_expect(ticket_covers(&t, "victim"));
        cr_expect(!ticket_covers(&t, "vixen"));
        t.domain_glob = "vic[^x]*";
        cr_expect(ticket_covers(&t, "victim"));
        t.domain_glob = "VIC*";
        cr_expect(!ticket_covers(&t, "victim"), "case-sensitive");
        t.domain_glob = "*";
        cr_expect(ticket_covers(&t, ".hidden/with-slash"), "'/' and a leading '.' are not special");
        t.domain_glob = NULL;
        cr_expect(!ticket_covers(&t, "victim"), "no glob covers nothing");
        cr_expect(glob_match("[", "["), "an unclosed bracket is itself, as in fnmatch");
}
