/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hash chain over the events table. Each row stores the hash of the row
 * before it (prev_hash) and its own (hash):
 *
 *   hash = SHA-256("virtgov-event-v1" || prev || be64(id) || field...)
 *
 * over the row's id and its eleven text columns in schema order (time, ref,
 * source, kind, host, domain, uuid, decision, reason, actor, data), each
 * field encoded as 0x00 for NULL or 0x01 || be64(length) || bytes. The
 * encoding is unambiguous: no two different rows hash the same input. The
 * first row's prev is 32 zero bytes. Editing a row changes its hash;
 * deleting or reordering rows breaks the prev link of the row after.
 * Nothing here knows SQLite: the store binds what it hashes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CHAIN_FIELDS 11
#define CHAIN_HASH_SIZE 32
#define CHAIN_HEX_SIZE (2 * CHAIN_HASH_SIZE + 1)

/* One row as the store has it: fields[i] NULL for SQL NULL. */
typedef struct ChainRow {
        int64_t id;
        const char *field[CHAIN_FIELDS];
        size_t len[CHAIN_FIELDS];
} ChainRow;

void chain_hash(const uint8_t prev[CHAIN_HASH_SIZE], const ChainRow *row, uint8_t out[CHAIN_HASH_SIZE]);

/* Lowercase hex, NUL-terminated. */
void chain_hex(const uint8_t h[CHAIN_HASH_SIZE], char out[CHAIN_HEX_SIZE]);

/* 0, or -EINVAL unless hex is exactly 64 hex digits. */
int chain_unhex(const char *hex, uint8_t out[CHAIN_HASH_SIZE]);
