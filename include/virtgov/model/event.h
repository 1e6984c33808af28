/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event: the one record every part of virtgov writes and reads. Its
 * fields and kinds are those of doc/ARCHITECTURE.md ("extend, don't rename"). Its JSON
 * form is the same in the inventory export, the spool and `virtgov --json`.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/chain.h"
#include "virtgov/util/util.h"

typedef struct Event {
        int64_t id;              /* inventory row id; 0 until stored */
        char time[VG_TIME_MAX];  /* RFC 3339 UTC, microseconds */
        char *ref;               /* unique across hosts and time: folds a
                                  * spooled event into the inventory once */
        char *source;            /* hook, libvirt, reconcile, accounts, cli, daemon */
        char *kind;              /* domain.started, network.start, ... */
        char *host;              /* the host it happened on */
        char *domain, *uuid;     /* the domain, when there is one */
        char *decision;          /* allow, deny or NULL */
        char *reason;
        char *actor;             /* the person or program that acted, if known */
        json_t *data;            /* always an object; owned */
        /* Only in a query's callback, when EventFilter.data_text asked for
         * it: data as the inventory stores it, not decoded (data is then
         * empty). Borrowed: valid until the callback returns. */
        const char *data_text;
        char hash[CHAIN_HEX_SIZE];  /* its link in the hash chain; "" until stored */
} Event;

/*
 * A new event of the given source and kind, timed now, with a fresh ref and
 * an empty data object. NULL only on ENOMEM.
 */
Event *event_new(const char *source, const char *kind);
Event *event_free(Event *e);
DEFINE_POINTER_CLEANUP(Event, event_free)

/* Replace a string field; value may be NULL. 0 or -ENOMEM. */
int event_set(char **field, const char *value);

/* The JSON object of doc/ARCHITECTURE.md: id (when stored), time, ref, source, kind,
 * host, domain, uuid, decision, reason, actor, data. NULL on ENOMEM. */
json_t *event_to_json(const Event *e);

/* The canonical text of e's data: compact, keys sorted. It is what the
 * inventory stores and the hash chain hashes. NULL on ENOMEM. */
char *event_data_text(const Event *e);

/* The text of event_to_json(e), as the spool holds it. data: e's data as
 * event_data_text rendered it, or NULL to render it here; a writer that
 * needs the data's text twice renders it once (the hook: 1 KiB of facts,
 * 3% of its run). Keys sorted, except that data comes last. NULL on
 * ENOMEM. */
char *event_render(const Event *e, const char *data);

/*
 * Reads an event back from its JSON form (the spool). Requires time, ref,
 * source and kind as strings and data as an object; other fields optional.
 * Returns -EINVAL with err naming the missing or mistyped field.
 */
int event_from_json(const json_t *j, Event **ret, VgError *err);

/* A JSON string for s, or null for NULL. Bytes that are not valid UTF-8
 * (a hostile name) become '?' rather than losing the field. */
json_t *event_json_string(const char *s);

/* Sets o[key] to event_json_string(s) and, when s is not UTF-8, also
 * o[key "_bytes"] to its bytes in hex (vg_text_bytes_hex): two paths
 * that differ only in bytes that are not UTF-8 read alike in key and
 * differ in key_bytes, and the name round-trips. Every name or path from
 * outside that becomes a member of a JSON object goes through it. 0 or
 * -ENOMEM. */
int event_json_set_name(json_t *o, const char *key, const char *s);

/* The ticket an event's data names: an accept's, an exception's or a
 * ticket event's own (data.ticket), else the domain's (data.facts.ticket).
 * Borrowed from data; NULL when none. What every copy of the event
 * (journal, ECS) calls its ticket. */
const char *event_ticket(const json_t *data);

/* True if kind is a well-formed kind name: "object.verb", lowercase ASCII
 * letters, digits and '-', at most 64 bytes. */
bool event_kind_valid(const char *kind);
