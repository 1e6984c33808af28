/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The recorder: the one way into the inventory for the daemon's modules.
 * It queues the events they record and commits each loop iteration's in one
 * transaction, spools what cannot be committed, folds the hook's spool,
 * copies every event to the journal and/or syslog ('log', config.h: a
 * cursor in the inventory for each says how far) and sends the chain head
 * there as an anchor. The connection, reconcile and
 * watcher modules call it; it calls none of them, nor main.c.
 */
#pragma once

#include "virtgov/util/config.h"
#include "virtgov/model/event.h"
#include "virtgov/store/store.h"

typedef struct Recorder Recorder;

/*
 * A recorder over the open inventory store, which it takes (recorder_free
 * closes it), with config for the spool and syslog (borrowed: see
 * recorder_set_config). Its timers go on libvirt's event loop: register the
 * default implementation first. 0, or -ENOMEM with store closed.
 */
int recorder_new(Store *store, const Config *config, Recorder **ret);

/* Commits what is queued, removes the timers, closes the store. NULL is a
 * no-op; returns NULL. */
Recorder *recorder_free(Recorder *r);

/* The configuration from now on (after a reload); the spool directory must
 * be the one the recorder was made with. Borrowed: keep it alive. Where
 * the copies go ('log') is decided again here, as at recorder_new. */
void recorder_set_config(Recorder *r, const Config *config);

/* Where the copies go, in words ("the journal", "syslog", "the journal and
 * syslog", "nowhere"), for the daemon's start message. */
const char *recorder_targets(const Recorder *r);

/*
 * Records e, taking it. It is queued and committed with the rest of this
 * loop iteration's events (one fsync per burst, not per event), at the end
 * of the iteration or at once when the queue is full. An event that cannot
 * be committed is spooled; one that cannot be spooled either is logged
 * with its kind and domain. Never silently dropped, so there is nothing to
 * return.
 */
void recorder_record(Recorder *r, Event *e);

/* Commits the queue now, in one transaction, then copies (the journal,
 * syslog). */
void recorder_flush(Recorder *r);

/* fn(opaque) runs on the loop after each commit that added events (a
 * flush, a fold of the spool): the central shipper's cue (central.h).
 * One at a time; fn NULL removes it. fn must not record. */
void recorder_on_commit(Recorder *r, void (*fn)(void *opaque), void *opaque);

/* fn(opaque, e) for every event of the inventory, whoever recorded it,
 * once, in id order, after the commit (integrity_action's cue: the
 * daemon's checks and the CLI's alike). Its position is meta
 * action_cursor, which starts at the head: the history is not replayed.
 * fn returns 1 when it acted on e: the position is kept then (and at
 * recorder_free), not after every pass, which would cost a commit each;
 * after a crash the events after the position kept are offered again
 * (those fn passed over, and at most the batch of the last it acted on). A negative return stops the pass there; the next
 * tick (1 s) tries that event again. fn NULL removes it (the position
 * stays). */
void recorder_on_event(Recorder *r, int (*fn)(void *opaque, const Event *e), void *opaque);

/*
 * The inventory, after committing the queue: what is read through it
 * includes every event recorded before this call, and state written beside
 * the events (a baseline, a snapshot) never runs ahead of the events it
 * sums up. The modules above reach the inventory only through it, so none
 * has to remember to flush first. Call it for each read rather than keep
 * the pointer, unless what later events could change does not matter to
 * the read (reconcile reads a page of domains under one call).
 */
Store *recorder_store(Recorder *r);

/* Folds the hook's spool into the inventory, after committing the queue
 * (the daemon's own events keep their order before the folded ones). On a
 * failure (inventory locked, full, read-only) it logs and tries again
 * after 1 s, doubling up to a minute; -EAGAIN then, else 0. */
int recorder_fold_spool(Recorder *r);

/* Sends every event not yet copied (the hook's too) to the journal and/or
 * syslog, as 'log' says, each from its own cursor on (journal_cursor,
 * syslog_cursor; a journal copy without one starts at syslog's). A stall
 * (nobody listening, the inventory unreadable) is said once until it
 * ends, and the copy resumes from where it stopped. */
void recorder_forward(Recorder *r);

/* Sends the chain head ("chain.head id=N hash=H") to the journal (an entry
 * with VIRTGOV_SEQ and VIRTGOV_HASH) and/or syslog: with the hash
 * on every copied event it lets `virtgov verify --anchor` catch a chain cut
 * short or rebuilt on the host. */
void recorder_anchor(Recorder *r);

/* Makes the hook's copy of the authorization tables again if it no longer
 * holds what the inventory holds (store_authz_check), and says so; and
 * says (daemon.degraded) which of their rows no decision can use
 * (store_authz_invalid), once until they change. */
void recorder_check_authz(Recorder *r);

/*
 * Something the daemon should do and did not: what (one phrase), why (the
 * error), fix (what the reader can do; NULL: nothing to say). Said once in
 * the log (LOG_ERR) and recorded as a daemon.degraded event filed under
 * host (NULL: none), so an auditor sees the gap in the record itself.
 */
void recorder_degraded(Recorder *r, const char *host, const char *what, const char *why, const char *fix);
