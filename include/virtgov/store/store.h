/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inventory: one SQLite database in WAL mode.
 *
 *   events   append-only; every field of Event. Triggers refuse UPDATE and
 *            DELETE. A unique ref makes appending the same event twice a
 *            no-op, which is what lets the spool be folded exactly once.
 *   domains  current state per domain UUID, derived from the events in the
 *            same transaction that appends them; devices, each domain's
 *            disks and interfaces, derived with it from its facts.
 *   approvals, tickets, images
 *            what authorizes an activation: the CLI writes them, the gate
 *            reads them. Rows come as typed structs (Approval, Ticket,
 *            ImageRecord, DeviceRow, EventCount), never as strings by
 *            position.
 *   meta     small keyed state.
 *
 * Statements are prepared on first use, once, owned by the Store, and
 * finalized by store_close(). Schema changes are numbered migrations
 * applied by any writer that opens an older inventory. (The code: one
 * file per job behind lib/store/priv.h.)
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtgov/authz/approval.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/event.h"
#include "virtgov/model/finding.h"
#include "virtgov/host/fscan.h"
#include "virtgov/host/image.h"
#include "virtgov/authz/ticket.h"
#include "virtgov/util/util.h"

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
/*
 * The path of the inventory's copy of its approvals, tickets and trusted
 * images (INVENTORY-authz), for the hook: opened with STORE_READ, the
 * store's approval, ticket and image queries read it as they read the
 * inventory, at a fraction of the cost. Writers keep it: it never allows
 * what the inventory does not, and when it cannot be trusted it is not
 * there (store/authz-copy.c). NULL on ENOMEM.
 */
char *store_authz_path(const char *inventory);
/* Opens the copy for reading, if it is the copy of the inventory at that
 * path: -ENOENT when there is none, -ESTALE when it was made from another
 * file (the inventory restored or replaced). */
int store_open_authz(const char *inventory, unsigned busy_timeout_ms, Store **ret);
/* A writer's check that the copy is this inventory's, of this schema
 * version, and with rows, that it holds the same rows: 0 when it does, 1
 * when it did not and was made again (or, failing that, removed). Each
 * writer's open runs it without rows; the daemon with, now and then. */
int store_authz_check(Store *s, bool rows);

/* For a process that opens one connection, from one thread, and exits
 * (the hook): SQLite without its global mutexes, memory statistics and
 * bulk page-cache allocation (pages it never reads, that it would touch).
 * Before anything else of SQLite's; a no-op after it. */
void store_init_short_lived(void);

/* Bounds SQLite's page cache of this connection to kib (its default is
 * 2,000 KiB): for a long-lived connection whose working set is small. */
int store_set_cache_kib(Store *s, unsigned kib, VgError *err);

/* The bound store_set_cache_kib set, in KiB (0: unknown). */
unsigned store_cache_kib(Store *s);

/* Finalizes every statement and closes. NULL is a no-op; returns NULL. */
Store *store_close(Store *s);
/* store_closep() for _cleanup_: closes the Store a variable holds. */
DEFINE_POINTER_CLEANUP(Store, store_close)

/* The schema version this program writes. */
int store_schema_version(void);

/*
 * Appends e and applies it to the domains table, in one transaction unless
 * the caller holds one (store_begin). data is the text of e's data as
 * event_data_text renders it, from a writer that has rendered it already
 * (the hook: for its emergency copy), or NULL to render it here. Sets
 * e->id. Returns 0 when appended,
 * 1 when an event with the same ref is already there (nothing written), or
 * a negative errno as for store_open.
 */
int store_append_event(Store *s, Event *e, const char *data, VgError *err);

/* Group several appends (and puts) into one write transaction, as the
 * spool fold and the CLI's changes do: store_begin takes the write lock
 * (waiting up to busy_timeout_ms), store_commit makes it all durable,
 * store_rollback drops it (a no-op outside a transaction). */
int store_begin(Store *s, VgError *err);
int store_commit(Store *s, VgError *err);
void store_rollback(Store *s);

typedef struct EventFilter {
        const char *domain;       /* name or UUID */
        const char *kind;         /* exactly this kind */
        const char *kind_prefix;  /* "domain.", "network.start" (and network.started), ... */
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

/* The newest event of this kind, a copy (event_free); -ENOENT when none. */
int store_last_event(Store *s, const char *kind, Event **ret, VgError *err);

/* A domain's row. In store_list_domains' callback it is borrowed: its
 * strings are the query's, valid until the callback returns. From
 * store_find_domain it is the caller's, one allocation with its strings,
 * and goes to domain_row_free. */
typedef struct DomainRow {
        const char *uuid, *name, *host, *state, *owner, *ticket, *purpose;
        int persistent;           /* 1, 0, or -1 when not known */
        int autostart;            /* 1, 0, or -1 when not known */
        const char *first_seen, *last_seen, *last_start, *last_stop;
        const char *type;         /* <domain type=...> of its facts: kvm, qemu, lxc, ... */
        /* Its facts as last seen by anyone, the JSON text as stored (not
         * decoded: `list --json` copies it, jsontext.h), or NULL. From
         * store_find_domain, and in store_list_domains' callback with
         * LIST_FACTS_TEXT; NULL in other listings. */
        const char *facts;
} DomainRow;

/* Frees a row from store_find_domain. NULL is a no-op; returns NULL. */
DomainRow *domain_row_free(DomainRow *d);
/* The row as a JSON object (its fields by name, and "facts": null, in
 * its place: the caller decodes or copies d->facts), or NULL when out of
 * memory. */
json_t *domain_row_to_json(const DomainRow *d);

typedef int (*DomainCallback)(const DomainRow *d, void *userdata);

/* What store_list_domains returns. A listing that does not show the facts
 * should not read them (100,000 domains), and one that shows them copies
 * their text (jsontext.h): decoding them cost half of `list --json`. */
enum {
        LIST_ALL = 1 << 0,         /* undefined domains too */
        LIST_FACTS_TEXT = 1 << 1,  /* facts set */
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
/* A cursor: an event id kept under key (the copies', the shipper's).
 * store_meta_get_id returns -ENOENT, *ret untouched, for a key never set. */
int store_meta_get_id(Store *s, const char *key, int64_t *ret, VgError *err);
int store_meta_set_id(Store *s, const char *key, int64_t id, VgError *err);

/*
 * Authorizations: approvals, change tickets and trusted images. Times are
 * kept as RFC 3339 text (as everywhere in the inventory) and given here in
 * microseconds; numbers are INTEGER columns. The strings of a row passed
 * to a callback are the query's, valid until the callback returns: copy
 * what you keep.
 */
typedef int (*ApprovalCallback)(const Approval *a, void *userdata);
typedef int (*TicketCallback)(const Ticket *t, void *userdata);

/* Insert or replace the approval of a->key, with all of a's fields
 * (until_us 0: no end; time_us: when it was granted). */
int store_approval_put(Store *s, const Approval *a, VgError *err);
/* Removes the approval keyed key (a name or a UUID, as approved); -ENOENT,
 * with err saying so, when there was none. */
int store_approval_delete(Store *s, const char *key, VgError *err);
/* Insert or replace the ticket t->id, with all of t's fields (action as
 * given: the CLI stores "start" for none; added_by and time_us: who put it
 * in and when). */
int store_ticket_put(Store *s, const Ticket *t, VgError *err);

/* The approvals of a domain (keyed by its name or its UUID: at most two),
 * or all by key when both are NULL. An until that is not a time reads as 0
 * (no end), as it always has. Returns 0, cb's negative return, or an
 * error. */
int store_approvals(Store *s, const char *name, const char *uuid, ApprovalCallback cb, void *u, VgError *err);
/* The tickets that concern the domain called name: the one its metadata
 * names (ticket_id, may be NULL), and those whose domain glob matches name
 * (ticket_covers); with name NULL, the ticket ticket_id; with both NULL,
 * all (by start, then id): every one, however many. Rows come as stored,
 * unchecked (ticket_check). A from that is not a time reads as never
 * (INT64_MAX), an until as expired (0). Returns as store_approvals. */
int store_tickets(Store *s, const char *name, const char *ticket_id, TicketCallback cb, void *u, VgError *err);

typedef int (*ImageCallback)(const ImageRecord *r, void *userdata);

/* Insert or replace the library's record of r->path. */
int store_image_put(Store *s, const ImageRecord *r, VgError *err);
/* The image at path, or every image by path when path is NULL. Returns
 * as store_approvals. */
int store_images(Store *s, const char *path, ImageCallback cb, void *u, VgError *err);

/*
 * The rows of the three tables that no decision can use (authz.h): an
 * approval, ticket or trusted image that fails its check at read, as one
 * written by an older virtgov or by hand may. The gate skips them (they
 * authorize nothing); this finds them to be reported. cb gets the kind
 * ("approval", "ticket", "trusted image"), the row's key (shortened when
 * long) and why; *ret_n (may be NULL) how many. Returns as store_approvals.
 */
typedef int (*AuthzInvalidCallback)(const char *kind, const char *key, const char *why, void *userdata);
int store_authz_invalid(Store *s, AuthzInvalidCallback cb, void *u, size_t *ret_n, VgError *err);

/* One device of a defined domain, from its definition's facts (the
 * daemon's, else the hook's), as the inventory keeps them. */
typedef enum DeviceKind { DEVICE_DISK, DEVICE_INTERFACE } DeviceKind;
typedef struct DeviceRow {
        const char *domain, *uuid;
        DeviceKind kind;
        const char *type, *source;
        const char *target;      /* disks */
        const char *mac;         /* interfaces */
        bool readonly, shareable;
        const char *backing;     /* the chain as a JSON array text, when the XML gave one */
} DeviceRow;
typedef int (*DeviceCallback)(const DeviceRow *d, void *userdata);

/* The devices of every defined domain, in name order and, within one, its
 * disks then its interfaces. -EBADMSG, naming the domain, when a domain's
 * facts are not JSON. Returns as store_approvals otherwise. */
int store_devices(Store *s, DeviceCallback cb, void *u, VgError *err);

/* The events of one kind with one decision: how many, and the newest's time. */
typedef struct EventCount {
        const char *kind;
        const char *decision;    /* "allow", "deny", or NULL for none */
        int64_t count;
        int64_t newest_us;
} EventCount;
typedef int (*EventCountCallback)(const EventCount *c, void *userdata);

/* Every kind and decision that has events, by kind. Returns as
 * store_approvals. */
int store_event_counts(Store *s, EventCountCallback cb, void *u, VgError *err);

/* Audit records lost, as the audit.lost events say: the sum of their
 * data.lost, counting an event without a count as 1 (at least one record
 * went, and how many is unknown). 0 when there is none. 0 with *ret set,
 * or a negative errno with err. */
int store_audit_lost(Store *s, int64_t *ret, VgError *err);

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

/* ---- integrity monitoring (store/integrity.c) ----
 *
 * The baseline: one row per watched file (fscan.h's FscanFile, its tag the
 * profile), never its content. Changed only in a transaction that also
 * appends the event carrying the new digest (integrity/run.h). */

/* The whole baseline, in path order: a path in two profiles has a row in
 * each (the tag tells them apart), so a path may appear twice. */
int store_baseline_load(Store *s, FscanList **ret, VgError *err);
/* The rows of one profile, in path order: what a check of it reads (the
 * other profiles' rows are not read, nor digested). */
int store_baseline_load_profile(Store *s, const char *profile, FscanList **ret, VgError *err);
/* The rows of these profiles (NULL-ended) replaced by l's. */
int store_baseline_replace(Store *s, const char *const *profiles, const FscanList *l, VgError *err);
/* One file's row in its profile (f->tag), inserted or replaced; or
 * removed. */
int store_baseline_put(Store *s, const FscanFile *f, VgError *err);
int store_baseline_remove(Store *s, const char *path, const char *profile, VgError *err);

/* The open findings of the last check, in path order. Borrowed: valid
 * during the callback. */
typedef int (*FindingCallback)(const IntegrityFinding *f, void *userdata);
int store_findings(Store *s, FindingCallback cb, void *u, VgError *err);
/* The findings of these profiles (NULL-ended) replaced by f[0..n): each
 * keeps its first_seen_us (0: now_us), and is last seen now_us. */
int store_findings_replace(Store *s, const char *const *profiles, const IntegrityFinding *f, size_t n, int64_t now_us,
                           VgError *err);
int store_findings_remove(Store *s, const char *path, VgError *err);

/* The baseline's rows of one path, one per profile that watches it (none:
 * not watched). */
int store_baseline_of(Store *s, const char *path, FscanList **ret, VgError *err);

/* Whether path's baseline once held sha256 and was since replaced (an
 * accepted change, a package update, a retaken baseline): 0 and when it
 * was replaced, or -ENOENT. */
int store_superseded_find(Store *s, const char *path, const char *sha256, int64_t *replaced_us, VgError *err);

/* A running process's status as the last check saw it (integrity/proc.h).
 * Borrowed strings: valid during the callback. */
typedef struct ProcessRecord {
        int64_t pid;
        uint64_t start_ticks;
        const char *role, *domain, *exe;
        const char *status;      /* "current", "unknown", "stale", "tampered" */
        const char *why;         /* one sentence, for what is not current */
        const char *detail;      /* JSON text: the mappings that are not current */
        int64_t since_us;        /* since when it has had this status */
        int64_t checked_us;
} ProcessRecord;
typedef int (*ProcessCallback)(const ProcessRecord *p, void *userdata);
/* libvirt's daemons first, then each domain's QEMU by name. */
int store_processes(Store *s, ProcessCallback cb, void *u, VgError *err);
/* Forgets the processes of one domain's QEMU (NULL: every process), as a
 * check about to record them again does. */
int store_processes_clear(Store *s, const char *domain, VgError *err);
int store_process_put(Store *s, const ProcessRecord *p, VgError *err);

/* What the defined domains name that QEMU runs or reads: their emulators,
 * loaders, kernels and initrds,
 * NULL-ended (*n without the NULL), each once. */
int store_domain_paths(Store *s, char ***ret, size_t *n, VgError *err);
