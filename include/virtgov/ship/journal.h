/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events as journal entries: the daemon's copy of each stored event to
 * systemd's journal, with its fields apart, so that journalctl, a shipper
 * reading the journal (imjournal, Vector, Fluent Bit) and `journalctl -x`
 * (the catalog, contrib/virtgov.catalog) each get them without parsing the
 * text line. Built as its own library (libvirtgov-journal, lib/meson.build):
 * only the daemon links it and libsystemd, never the hook
 * (tests/test-hook-linkage.sh).
 *
 * One event, one entry:
 *   MESSAGE           the syslog text line of eventlog_format(), escaped
 *                     as it is there; no value is spliced in otherwise
 *   MESSAGE_ID        the kind's id from lib/model/kinds.c (absent for a kind
 *                     this virtgov does not know)
 *   PRIORITY          eventlog_severity(); SYSLOG_FACILITY 3 (daemon);
 *                     SYSLOG_IDENTIFIER virtgov
 *   VIRTGOV_KIND, _ID (the inventory row), _SEQ (its place in the hash
 *   chain: the row id, as the chain links rows in id order), _REF, _TIME
 *   (when it happened; the journal's own timestamp is when it was sent),
 *   _SOURCE, _HOST, _DOMAIN, _UUID, _DECISION, _REASON, _ACTOR, _AUID
 *   (data.actor.auid), _TICKET (data.ticket or data.facts.ticket), _HASH,
 *   _DATA (compact JSON, cut at EVENTLOG_JOURNAL_DATA_MAX): each only when
 *   the event has it. Values go as they are (the journal's native protocol
 *   carries any byte but NUL; newlines too).
 *   VIRTGOV_HOST_ID: the machine-id of the host that sends it (head.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtgov/model/event.h"
#include "virtgov/ship/head.h"

/* The most fields an entry has (the table in ship/journal.c, plus
 * room for the ones to come). */
#define EVENTLOG_JOURNAL_FIELDS_MAX 32
/* VIRTGOV_DATA is cut here with "...": a whole baseline's digests are
 * tens of KiB and belong in the inventory, not in every copy. */
#define EVENTLOG_JOURNAL_DATA_MAX 16384

/* The socket libsystemd sends to (it has no call that names it). */
#define EVENTLOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* The MESSAGE_ID of the chain head entry (eventlog_journal_send_head),
 * which is not an event kind. */
#define EVENTLOG_JOURNAL_HEAD_ID "1c6872ff7c1b46cca09f5e283e222640"

typedef struct JournalEntry {
        struct iovec iov[EVENTLOG_JOURNAL_FIELDS_MAX];
        size_t n;
        char *buf;               /* owned: every field's "NAME=value" */
} JournalEntry;

/*
 * Fills *ret with the entry for e (fields as above, in one allocation
 * that eventlog_journal_entry_done frees). Returns 0 or -ENOMEM. Pure: no
 * I/O, so that the unit tests read every field.
 */
int eventlog_journal_entry(const Event *e, const char *host_id, JournalEntry *ret);
void eventlog_journal_entry_done(JournalEntry *j);

/*
 * Sends e to the journal (sd_journal_sendv: a datagram to
 * /run/systemd/journal/socket, blocking while journald catches up, so a
 * burst is slowed, never dropped here). Returns 0 or a negative errno:
 * -ENOENT or -ECONNREFUSED when no journald listens.
 */
int eventlog_journal_send(const Event *e, const char *host_id);

/* Sends the chain head as its own entry: MESSAGE its line as head_format
 * made it (signed), VIRTGOV_KIND chain.head, VIRTGOV_SEQ, _HASH, _HOST_ID,
 * _TIME. 0 or a negative errno. */
int eventlog_journal_send_head(const Head *h, const char *line);

/* Whether a journald listens at the socket libsystemd sends to: what the
 * daemon's 'log = auto' asks at start and at each reload. */
bool eventlog_journal_present(void);
