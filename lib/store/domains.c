/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domains table (current state per domain, derived from the events by
 * store/append.c) and what is derived from each domain's facts: its
 * devices and the totals of the defined domains.
 */
#include <errno.h>
#include <stddef.h>

#include "virtgov/util/cleanup.h"
#include "priv.h"

DomainRow *domain_row_free(DomainRow *d) {
        free(d);
        return NULL;
}

/* The row at st (DOMAIN_COLUMNS), borrowed from the statement: valid until
 * it steps again. No allocation: a listing reads 100,000 of them, and
 * copying each column cost a fifth of `list`. */
static void row_to_domain(sqlite3_stmt *st, DomainRow *d) {
#define T(i) ((const char *) sqlite3_column_text(st, (i)))
        *d = (DomainRow) {
                .uuid = T(0), .name = T(1), .host = T(2), .state = T(3),
                .persistent = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4),
                .owner = T(5), .ticket = T(6), .purpose = T(7),
                .first_seen = T(9), .last_seen = T(10), .last_start = T(11), .last_stop = T(12),
                .autostart = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 13),
                .type = T(15),
        };
#undef T
}

/* A DomainRow's strings, each once: what domain_row_dup copies. */
static const size_t domain_row_strings[] = {
        offsetof(DomainRow, uuid), offsetof(DomainRow, name), offsetof(DomainRow, host),
        offsetof(DomainRow, state), offsetof(DomainRow, owner), offsetof(DomainRow, ticket),
        offsetof(DomainRow, purpose), offsetof(DomainRow, first_seen), offsetof(DomainRow, last_seen),
        offsetof(DomainRow, last_start), offsetof(DomainRow, last_stop), offsetof(DomainRow, type),
        offsetof(DomainRow, facts),
};
#define ROW_STRING(row, i) (*(const char **) ((char *) (row) + domain_row_strings[i]))

/* A copy of the borrowed row b that owns its strings: one allocation. */
static DomainRow *domain_row_dup(const DomainRow *b) {
        size_t size = sizeof(DomainRow);
        for (size_t i = 0; i < ELEMENTSOF(domain_row_strings); i++)
                size += ROW_STRING(b, i) ? strlen(ROW_STRING(b, i)) + 1 : 0;
        DomainRow *d = malloc(size);
        if (!d)
                return NULL;
        *d = *b;
        char *p = (char *) (d + 1);
        for (size_t i = 0; i < ELEMENTSOF(domain_row_strings); i++)
                if (ROW_STRING(b, i)) {
                        ROW_STRING(d, i) = p;
                        p = stpcpy(p, ROW_STRING(b, i)) + 1;
                }
        return d;
}

json_t *domain_row_to_json(const DomainRow *d) {
        json_t *o = json_object();
        if (!o)
                return NULL;
#define S(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
        S("name", d->name);
        S("uuid", d->uuid);
        S("host", d->host);
        S("state", d->state);
        json_object_set_new(o, "persistent", d->persistent < 0 ? json_null() : json_boolean(d->persistent));
        json_object_set_new(o, "autostart", d->autostart < 0 ? json_null() : json_boolean(d->autostart));
        S("owner", d->owner);
        S("ticket", d->ticket);
        S("purpose", d->purpose);
        S("first_seen", d->first_seen);
        S("last_seen", d->last_seen);
        S("last_start", d->last_start);
        S("last_stop", d->last_stop);
#undef S
        /* Its place only: show decodes the facts, list --json copies their
         * text (decoding them was half of list --json at 100,000 domains). */
        json_object_set_new(o, "facts", json_null());
        return o;
}

/* Each row of st (DOMAIN_COLUMNS) to cb, borrowed. The number of rows, or
 * cb's negative return, or an error. */
static int walk_domains(Store *s, sqlite3_stmt *st, bool facts_text, DomainCallback cb, void *userdata,
                        VgError *err) {
        int rc, r = 0, n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                DomainRow d;
                row_to_domain(st, &d);
                if (facts_text)
                        d.facts = (const char *) sqlite3_column_text(st, 8);
                n++;
                if ((r = cb(&d, userdata)) < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sql_fail(s, rc, err, "listing domains");
        store_stmt_done(st);
        return r < 0 ? r : n;
}

int store_list_domains(Store *s, unsigned flags, DomainCallback cb, void *userdata, VgError *err) {
        sqlite3_stmt *st;
        StmtId id = flags & LIST_FACTS_TEXT ? (flags & LIST_ALL ? STMT_LIST_ALL_DOMAINS : STMT_LIST_DOMAINS)
                                       : (flags & LIST_ALL ? STMT_LIST_ALL_DOMAINS_LEAN : STMT_LIST_DOMAINS_LEAN);
        int r = store_stmt(s, id, &st, err);
        if (r < 0)
                return r;
        r = walk_domains(s, st, flags & LIST_FACTS_TEXT, cb, userdata, err);
        return r < 0 ? r : 0;
}

int store_host_domains(Store *s, const char *host, const char *after, unsigned limit, DomainCallback cb,
                       void *userdata, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_HOST_DOMAINS, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, host);
        bind_text(st, 2, after ? after : "");
        sqlite3_bind_int64(st, 3, limit);
        return walk_domains(s, st, false, cb, userdata, err);
}

int store_find_domain(Store *s, const char *key, DomainRow **ret, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_FIND_DOMAIN, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                store_stmt_done(st);
                return vg_error(err, -ENOENT, "no domain '%s' in the inventory", key);
        }
        if (rc != SQLITE_ROW) {
                r = store_sql_fail(s, rc, err, "finding a domain");
                store_stmt_done(st);
                return r;
        }
        DomainRow b;
        row_to_domain(st, &b);
        b.facts = (const char *) sqlite3_column_text(st, 8);
        DomainRow *d = domain_row_dup(&b);
        store_stmt_done(st);
        if (!d)
                return vg_error(err, -ENOMEM, "out of memory");
        *ret = d;
        return 0;
}

int store_config_facts(Store *s, const char *uuid, char **ret, VgError *err) {
        return store_get_text(s, STMT_CONFIG_FACTS, uuid, ret, err, "reading a domain's definition");
}

typedef struct DeviceWalk {
        Store *s;
        DeviceCallback cb;
        void *u;
        VgError *err;
} DeviceWalk;

/* A row of STMT_DEVICES: name, uuid, kind, type, source, target, mac,
 * readonly, shareable, backing. */
static int device_row(sqlite3_stmt *st, void *walk) {
        DeviceWalk *w = walk;
#define T(i) ((const char *) sqlite3_column_text(st, (i)))
        const char *kind = T(2);
        if (!vg_streq(kind, "disk") && !vg_streq(kind, "interface"))
                return vg_error(w->err, -EBADMSG, "inventory '%s': domain '%s' (%s): its facts are not JSON"
                                " (edited outside virtgov?)", w->s->path, T(0), T(1));
        DeviceRow d = { .domain = T(0), .uuid = T(1), .kind = kind[0] == 'd' ? DEVICE_DISK : DEVICE_INTERFACE,
                        .type = T(3), .source = T(4), .target = T(5), .mac = T(6),
                        .readonly = sqlite3_column_int(st, 7) == 1, .shareable = sqlite3_column_int(st, 8) == 1,
                        .backing = T(9) };
#undef T
        return w->cb(&d, w->u);
}

int store_devices(Store *s, DeviceCallback cb, void *u, VgError *err) {
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_DEVICES, &st, err);
        if (r < 0)
                return r;
        DeviceWalk w = { s, cb, u, err };
        return store_walk(s, st, device_row, &w, err, "listing devices");
}

int store_domain_totals(Store *s, bool running_only, DomainTotals *ret, VgError *err) {
        *ret = (DomainTotals) { 0 };
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_DOMAIN_TOTALS, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, running_only);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = (DomainTotals) { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                        sqlite3_column_int64(st, 2) };
        store_stmt_done(st);
        return rc == SQLITE_ROW ? 0 : store_sql_fail(s, rc, err, "summing domains");
}
