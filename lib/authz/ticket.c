/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/authz/authz.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/util/glob.h"
#include "virtgov/authz/ticket.h"

bool ticket_covers(const Ticket *t, const char *name) {
        return glob_match(t->domain_glob, name);
}

int ticket_check(const Ticket *t, VgError *err) {
        char q[72];
        if (!t->id || !*t->id)
                return vg_error(err, -EINVAL, "a ticket needs an ID");
        /* The ID first: every later message quotes it. */
        int r = authz_check_length(t->id, AUTHZ_NAME_MAX, err, "ticket '%s': its ID", authz_quote(t->id, q));
        if (r < 0)
                return r;
        if (!t->domain_glob || !*t->domain_glob)
                return vg_error(err, -EINVAL, "ticket '%s' needs a domain glob (the domains it covers)", t->id);
        if ((r = authz_check_length(t->domain_glob, AUTHZ_GLOB_MAX, err, "ticket '%s': its domain glob", t->id)) < 0 ||
            (r = authz_check_length(t->approved_by, AUTHZ_NAME_MAX, err, "ticket '%s': its approver", t->id)) < 0)
                return r;
        if (t->action && strcmp(t->action, "start") && strcmp(t->action, "define") && strcmp(t->action, "any"))
                return vg_error(err, -EINVAL, "ticket '%s': action must be start, define or any, got '%s'", t->id,
                                authz_quote(t->action, q));
        if (!t->from_us || !t->until_us)
                return vg_error(err, -EINVAL, "ticket '%s' needs a window: from and until", t->id);
        if (t->from_us >= t->until_us)
                return vg_error(err, -EINVAL, "ticket '%s': its window ends before it starts", t->id);
        return 0;
}

static int ticket_from_json(const json_t *v, size_t i, const char *file, int64_t now, Ticket *t, VgError *err) {
        static const char *const known[] = { "id", "domain", "action", "from", "until", "approved_by", NULL };
        if (!json_is_object(v))
                return vg_error(err, -EINVAL, "%s: ticket %zu: not an object", file, i);
        const char *key;
        json_t *x;
        json_object_foreach((json_t *) v, key, x) {
                bool ok = false;
                for (size_t k = 0; known[k]; k++)
                        ok = ok || !strcmp(key, known[k]);
                if (!ok || !json_is_string(x))
                        return vg_error(err, -EINVAL, "%s: ticket %zu: %s '%s'", file, i,
                                        ok ? "not a string:" : "unknown key", key);
        }
        *t = (Ticket) { .id = json_string_value(json_object_get(v, "id")),
                        .domain_glob = json_string_value(json_object_get(v, "domain")),
                        .action = json_string_value(json_object_get(v, "action")),
                        .approved_by = json_string_value(json_object_get(v, "approved_by")) };
        const char *from = json_string_value(json_object_get(v, "from"));
        const char *until = json_string_value(json_object_get(v, "until"));
        if ((from && vg_time_parse(from, now, &t->from_us) < 0) ||
            (until && vg_time_parse(until, now, &t->until_us) < 0))
                return vg_error(err, -EINVAL, "%s: ticket %zu: 'from' and 'until' must be RFC 3339 times", file, i);
        VgError why = { "" };
        int r = ticket_check(t, &why);
        if (r < 0)
                return vg_error(err, r, "%s: ticket %zu: %s", file, i, why.text);
        return 0;
}

/* A second ticket of the same ID would replace the first unseen (the later
 * one's scope winning): the whole import is refused instead. seen maps
 * each ID to the index it first had. */
static int ticket_unique(json_t *seen, const Ticket *t, size_t i, const char *file, VgError *err) {
        json_t *first = json_object_get(seen, t->id);
        if (first)
                return vg_error(err, -EEXIST, "%s: ticket %zu: ID '%s' is ticket %" JSON_INTEGER_FORMAT "'s too: "
                                "an ID may come once", file, i, t->id, json_integer_value(first));
        return json_object_set_new(seen, t->id, json_integer((json_int_t) i)) == 0 ? 0
               : vg_error(err, -ENOMEM, "out of memory");
}

int ticket_import_parse(const char *text, size_t len, const char *file, int64_t now, json_t **ret_json,
                        Ticket **ret, size_t *ret_n, VgError *err) {
        json_error_t jerr;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return vg_error(err, -EINVAL, "%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
        if (!json_is_array(j)) {
                json_decref(j);
                return vg_error(err, -EINVAL, "%s: expected a JSON array of tickets", file);
        }
        size_t n = json_array_size(j);
        Ticket *t = calloc(n ? n : 1, sizeof(*t));
        json_t *seen = json_object();
        if (!t || !seen) {
                free(t);
                json_decref(seen);
                json_decref(j);
                return vg_error(err, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                int r = ticket_from_json(json_array_get(j, i), i, file, now, &t[i], err);
                if (r == 0)
                        r = ticket_unique(seen, &t[i], i, file, err);
                if (r < 0) {
                        free(t);
                        json_decref(seen);
                        json_decref(j);
                        return r;
                }
        }
        json_decref(seen);
        *ret_json = j;
        *ret = t;
        *ret_n = n;
        return 0;
}
