/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Chain heads a central log can check by the thousand. The daemon sends
 * the head of the events' hash chain (the newest event's id and hash) each
 * reconcile interval, signed with the host's Ed25519 key:
 *
 *   chain.head id=812 hash=<64 hex> host=<machine-id> time=<RFC 3339> sig=<128 hex>
 *
 * The signature covers the text before " sig=". A collector tells a head
 * this host sent from one written by someone else with the host's public
 * key (`virtgov host-key`); `virtgov verify --heads FILE` takes every
 * head of this host from an export of the central log and says which the
 * local chain holds: an inventory rolled back, truncated or replaced
 * fails, naming the first head it lost.
 *
 * The key: 32 random bytes (Ed25519's private key), as 64 hex digits and a
 * newline in config host_key (0600, root), its public half beside it in
 * host_key.pub (0644) for those who verify without root.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "virtgov/model/chain.h"
#include "virtgov/util/util.h"

#define HEAD_KEY_SIZE 32
#define HEAD_SIG_SIZE 64
#define HEAD_HOST_MAX 64

typedef struct HostKey {
        uint8_t priv[HEAD_KEY_SIZE];   /* zero when only the public half was read */
        uint8_t pub[HEAD_KEY_SIZE];
        bool has_priv;
} HostKey;

/* Reads the private key at path, and derives its public half. -ENOENT
 * when there is none; -EINVAL for a file that is not a key. */
int head_key_load(const char *path, HostKey *k, VgError *err);

/* Reads the public half: path.pub, or the private key when that is
 * missing and readable. */
int head_key_load_public(const char *path, HostKey *k, VgError *err);

/* Makes the key if path does not exist (O_EXCL, 0600, fsync), writes
 * path.pub, and loads it. 1 made, 0 was there, or a negative errno. */
int head_key_init(const char *path, HostKey *k, VgError *err);

/* The public half as 64 hex digits (65 bytes with the NUL). */
void head_key_public_hex(const HostKey *k, char out[static 2 * HEAD_KEY_SIZE + 1]);

typedef struct Head {
        int64_t id;
        char hash[CHAIN_HEX_SIZE];
        char host[HEAD_HOST_MAX + 1];      /* "" in a head of an older virtgov */
        char time[VG_TIME_MAX];            /* "" likewise */
        uint8_t sig[HEAD_SIG_SIZE];
        bool has_sig;
        char signed_text[256];             /* what the signature covers */
} Head;

/* The line of a head, signed with k (k NULL: unsigned). 0 or -ENOMEM. */
int head_format(const Head *h, const HostKey *k, char **ret);

/* The head of the inventory's chain now (its newest event), timed now,
 * for host_id (the machine-id; "unknown" when NULL or ""), and its line
 * signed with k (NULL: unsigned): what the daemon sends and 'host-key
 * --head' prints. 0; -ENOENT when the inventory has no event yet; or a
 * negative errno with err set. */
struct Store;
int head_current(struct Store *s, const char *host_id, const HostKey *k, Head *h, char **ret, VgError *err);

/* Finds a head in one line of an export: a syslog line, a journal export
 * ("MESSAGE=chain.head ..."), or a JSON line whose message holds it. 1
 * found, 0 none, -EINVAL for a head that is cut or malformed (err says
 * how). */
int head_parse(const char *line, Head *h, VgError *err);

/* Whether h's signature is k's. */
bool head_verify(const Head *h, const HostKey *k);
