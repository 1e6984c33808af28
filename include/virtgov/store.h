/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inventory: one SQLite database in WAL mode.
 *
 *   events   append-only; every field of Event. Triggers refuse UPDATE and
 *            DELETE. A unique ref makes appending the same event twice a
 *            no-op, which is what lets the spool be folded exactly once.
 *   domains  current state per domain UUID, derived from the events in the
 *            same transaction that appends them.
 *
 * Statements are prepared on first use, once, owned by the Store, and
 * finalized by store_close(). Schema changes are numbered migrations
 * applied by any writer that opens an older inventory.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtgov/event.h"
#include "virtgov/util.h"

typedef struct Store Store;

typedef enum StoreMode {
        STORE_READ,      /* queries only; never writes, never migrates */
        STORE_WRITE,     /* the inventory must exist already */
        STORE_CREATE,    /* create it (and its schema) if missing */
        /* The hook's: STORE_WRITE, but it never migrates, for a migration
         * can take longer than a hook may run (schema 9 at 1,000,000
         * events: 5.9 s). An older schema is read as it is, and appends
         * to it fail with -EPROTO (the hook spools the event). */
        STORE_APPEND,
} StoreMode;

/*
 * Opens the inventory at path. busy_timeout_ms bounds every wait for
 * another writer's lock. Errors (err says which file and why):
 *   -ENOENT  no inventory there (every mode but STORE_CREATE)
 *   -EROFS   a write mode was asked and the file or its directory is read-only
 *   -EBUSY   locked by another writer for longer than busy_timeout_ms
 *   -EPROTO  the inventory's schema is newer than this program
 *   -EIO     not an SQLite database, or corrupt
 */
int store_open(const char *path, StoreMode mode, unsigned busy_timeout_ms, Store **ret, VgError *err);

/* Bounds SQLite's page cache of this connection to kib (its default is
 * 2,000 KiB): for a long-lived connection whose working set is small. */
int store_set_cache_kib(Store *s, unsigned kib, VgError *err);

/* Finalizes every statement and closes. NULL is a no-op; returns NULL. */
Store *store_close(Store *s);

/* The schema version this program writes. */
int store_schema_version(void);

/*
 * Appends e and applies it to the domains table, in one transaction unless
 * the caller holds one (store_begin). Sets e->id. Returns 0 when appended,
 * 1 when an event with the same ref is already there (nothing written), or
 * a negative errno as for store_open.
 */
int store_append_event(Store *s, Event *e, VgError *err);
/* The same, with data the text of e's data as event_data_text rendered it
 * (NULL: render it here), for a writer that has rendered it already. */
int store_append_rendered(Store *s, Event *e, const char *data, VgError *err);

/* Group several appends into one transaction (the spool fold does). */
int store_begin(Store *s, VgError *err);
int store_commit(Store *s, VgError *err);
void store_rollback(Store *s);

typedef struct EventFilter {
        const char *domain;       /* name or UUID */
        const char *kind_prefix;  /* "domain.", "network.start", ... */
        const char *source;
        const char *network;      /* data.network */
        const char *host;
        const char *decision;     /* "allow" or "deny" */
        int64_t after_id;         /* 0: unused; else only ids above it (-1: all), in id order */
        int64_t since_us, until_us;  /* 0: unbounded */
        unsigned limit;           /* the newest N; 0: all */
        /* NULL: each event's whole data. Else (up to 8 JSON paths, NULL
         * ended) only these parts of it, each under its path as the key
         * ({"$.facts.owner": "alice"}; null when absent), taken out by
         * SQLite instead of jansson decoding all of it: a report that reads
         * two fields of 300,000 events' facts. */
        const char *const *data_paths;
        /* Each event's data as stored, in Event.data_text, undecoded: for
         * output that copies it (jsontext.h). */
        bool data_text;
} EventFilter;

typedef int (*EventCallback)(const Event *e, void *userdata);

/* Calls cb for each matching event in time order (id order with after_id). A negative return from
 * cb stops the walk and is returned. */
int store_query_events(Store *s, const EventFilter *f, EventCallback cb, void *userdata, VgError *err);

/* A domain's row. In store_list_domains' callback it is borrowed: its
 * strings are the query's, valid until the callback returns. From
 * store_find_domain it is the caller's, one allocation with its strings,
 * and goes to domain_row_free. */
typedef struct DomainRow {
        const char *uuid, *name, *host, *state, *owner, *ticket, *purpose;
        int persistent;           /* 1, 0, or -1 when not known */
        int autostart;            /* 1, 0, or -1 when not known */
        const char *first_seen, *last_seen, *last_start, *last_stop;
        /* store_find_domain only (NULL in listings): */
        json_t *facts;            /* object or NULL: as last seen by anyone */
        json_t *config_facts;     /* the inactive XML's, as the daemon last saw them */
        const char *type;         /* <domain type=...> of those facts: kvm, qemu, lxc, ... */
        /* Only in store_list_domains' callback with LIST_FACTS_TEXT: the
         * facts as stored, not decoded. */
        const char *facts_text;
} DomainRow;

DomainRow *domain_row_free(DomainRow *d);
json_t *domain_row_to_json(const DomainRow *d);

typedef int (*DomainCallback)(const DomainRow *d, void *userdata);

/* What store_list_domains returns. A listing that does not show the facts
 * should not read them (100,000 domains), and one that shows them copies
 * their text (jsontext.h): decoding them cost half of `list --json`. */
enum {
        LIST_ALL = 1 << 0,         /* undefined domains too */
        LIST_FACTS_TEXT = 1 << 1,  /* facts_text set */
};

/* Every domain by name, as flags say. */
int store_list_domains(Store *s, unsigned flags, DomainCallback cb, void *userdata, VgError *err);

/* A page of the domains of HOST that are not undefined, by UUID: the first
 * LIMIT after the UUID AFTER (NULL or "": from the start), without facts.
 * Returns how many there were (fewer than LIMIT: the last page), or cb's
 * negative return, or an error. Reconcile reads its host's domains a page
 * at a time, so that its memory does not grow with the inventory. */
int store_host_domains(Store *s, const char *host, const char *after, unsigned limit, DomainCallback cb,
                       void *userdata, VgError *err);

/* The domain with this UUID, or else the most recently seen one with this
 * name. -ENOENT if none. */
int store_find_domain(Store *s, const char *key, DomainRow **ret, VgError *err);

/* The text of a domain's config facts (the definition as the daemon last
 * saw it), by UUID: -ENOENT when it has none. */
int store_config_facts(Store *s, const char *uuid, char **ret, VgError *err);

/* Small keyed state (JSON text): baselines, cursors. store_meta_get returns
 * -ENOENT for a key never set. */
int store_meta_get(Store *s, const char *key, char **ret, VgError *err);
int store_meta_set(Store *s, const char *key, const char *value, VgError *err);

/*
 * Authorizations, as rows of text fields (times RFC 3339, NULL when unset):
 *   approval: key (UUID or name), owner, ticket, until, approved_by, time
 *   ticket:   id, domain_glob, action, valid_from, valid_until, approved_by,
 *             added_by, time
 * The fields are only valid during the callback.
 */
typedef struct StoreRow {
        const char *f[10];
} StoreRow;

typedef int (*RowCallback)(const StoreRow *row, void *userdata);

enum { APPROVAL_KEY, APPROVAL_OWNER, APPROVAL_TICKET, APPROVAL_UNTIL, APPROVAL_BY, APPROVAL_TIME };
enum { TICKET_ID, TICKET_GLOB, TICKET_ACTION, TICKET_FROM, TICKET_UNTIL, TICKET_APPROVED_BY,
       TICKET_ADDED_BY, TICKET_TIME };

/* Insert or replace the approval of row->f[APPROVAL_KEY]. */
int store_approval_put(Store *s, const StoreRow *row, VgError *err);
/* -ENOENT when there was none. */
int store_approval_delete(Store *s, const char *key, VgError *err);
/* Insert or replace the ticket row->f[TICKET_ID]. */
int store_ticket_put(Store *s, const StoreRow *row, VgError *err);

/* The approvals of a domain (by name or UUID), or all when both are NULL. */
int store_approvals(Store *s, const char *name, const char *uuid, RowCallback cb, void *u, VgError *err);
/* The tickets that name this domain (its metadata's ticket_id, or a
 * domain_glob matching name), or all when both are NULL. */
int store_tickets(Store *s, const char *name, const char *ticket_id, RowCallback cb, void *u, VgError *err);

/* The trusted-image library: path, sha256, size, dev, ino, mtime_ns,
 * trusted_by, time (numbers as decimal text). */
enum { IMAGE_PATH, IMAGE_SHA256, IMAGE_SIZE, IMAGE_DEV, IMAGE_INO, IMAGE_MTIME, IMAGE_BY, IMAGE_TIME };
int store_image_put(Store *s, const StoreRow *row, VgError *err);
/* The image at path, or every image when path is NULL. */
int store_images(Store *s, const char *path, RowCallback cb, void *u, VgError *err);

/* The devices of every defined domain, in name order and, within one, its
 * disks then its interfaces, from its definition's facts (the daemon's,
 * else the hook's), as the inventory keeps them for each: domain, uuid,
 * kind ("disk" or "interface"), type, source, target (disks), mac
 * (interfaces), readonly and shareable ("1" when set), backing (the chain
 * as a JSON array text, when the XML gave one). -EBADMSG, naming the
 * domain, when a domain's facts are not JSON. */
enum { DEVICE_DOMAIN, DEVICE_UUID, DEVICE_KIND, DEVICE_TYPE, DEVICE_SOURCE, DEVICE_TARGET, DEVICE_MAC,
       DEVICE_READONLY, DEVICE_SHAREABLE, DEVICE_BACKING };
int store_devices(Store *s, RowCallback cb, void *u, VgError *err);

/* Per kind and decision: kind, count, newest time, decision ('' for none). */
int store_event_counts(Store *s, RowCallback cb, void *u, VgError *err);

/* The defined domains (only the running ones if running_only): how many,
 * and their vCPUs and memory summed from their facts as last seen (the
 * running definition, else the daemon's). Summed in SQL: at 100,000
 * domains decoding each one's facts took 1.5 s. */
typedef struct DomainTotals {
        long long n, vcpus, memory_kib;
} DomainTotals;
int store_domain_totals(Store *s, bool running_only, DomainTotals *ret, VgError *err);

/*
 * Recomputes the hash chain (chain.h) from event from_id (<= 1: from the
 * first; the row before from_id is taken as given). Returns 0 when intact,
 * 1 when broken (v->broken_id and v->problem name the first broken link),
 * negative on a read error. v->head_* is the last intact link.
 */
typedef struct ChainVerify {
        int64_t first_id, checked;
        int64_t head_id;
        char head_hash[CHAIN_HEX_SIZE];
        int64_t broken_id;
        char problem[256];
} ChainVerify;
int store_verify_chain(Store *s, int64_t from_id, ChainVerify *v, VgError *err);

/* The newest event's id and stored hash (0 and "" when there is none). */
int store_chain_head(Store *s, int64_t *id, char hex[CHAIN_HEX_SIZE], VgError *err);

/* The stored hash of event id; -ENOENT if there is no such event. */
int store_chain_hash(Store *s, int64_t id, char hex[CHAIN_HEX_SIZE], VgError *err);

/* SQLite's integrity_check: "ok", or the first problems (then -EIO). */
int store_integrity_check(Store *s, char **ret, VgError *err);
