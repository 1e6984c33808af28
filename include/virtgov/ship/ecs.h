/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An event in the Elastic Common Schema: what a SIEM that speaks ECS
 * (Elasticsearch, OpenSearch, and the shippers that feed them) files and
 * searches without a parser of ours. One table, in lib/ship/ecs.c, maps
 * each event kind to ECS's categorization fields; README.md ("Shipping
 * events") documents the mapping, and a test checks that every kind of
 * kinds.c has a row and every value is one ECS allows.
 */
#pragma once

#include <jansson.h>

#include "virtgov/model/event.h"

#define ECS_VERSION "8.11.0"

/* A kind's row: event.category and event.type (NULL-ended, at most 3
 * each). The decision adds "allowed" or "denied" to the types. */
typedef struct EcsKind {
        const char *kind;
        const char *category[3];
        const char *type[4];
} EcsKind;

/* The row of kind; NULL for a kind no row names (a kind of a newer
 * virtgov read from the inventory: its document then carries no
 * category). */
const EcsKind *ecs_kind(const char *kind);

/* The rows, one at a time: start with prev NULL; NULL after the last. */
const EcsKind *ecs_kind_next(const EcsKind *prev);

/*
 * The ECS document of a stored event: @timestamp, message (the syslog
 * line), event.* (kind, category, type, action = the kind, outcome,
 * sequence = the id, hash = its link in the chain, id = its ref,
 * provider = its source, severity, reason), host.*, user.* and process.*
 * of the person who acted, related.user, and virtgov.* for the rest
 * (domain, decision, ticket, the data as stored). data_text: e's data as
 * stored, or NULL to take e->data. host_id: the host's identity, or NULL.
 * NULL only on ENOMEM; data that is not JSON (an inventory edited by
 * hand) goes into virtgov.data_text instead.
 */
json_t *ecs_event(const Event *e, const char *data_text, const char *host_id);
