/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The events as a stream of JSON lines (stream.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

typedef struct StreamOptions {
        bool ecs;              /* ECS documents; else the events' own JSON */
        bool follow;           /* wait for new ones until a signal */
        int64_t after_id;      /* -1: from the state, or the first event */
        const char *state;     /* the last event written, kept across runs; NULL: none */
        const char *host_id;   /* host.id of an ECS document; NULL: none */
        int poll_ms;           /* the longest wait between looks */
} StreamOptions;

/* Writes the events that match filter after the position, and with
 * o->follow those to come, until SIGINT, SIGTERM or SIGHUP. Prints its
 * own errors; returns an exit status. */
int events_stream(Cli *cli, Store *s, const EventFilter *filter, const StreamOptions *o);
