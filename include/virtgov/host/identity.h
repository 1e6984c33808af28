/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's identity. By default its machine-id (machine-id(5)), 32
 * lowercase hex digits, the same for the life of the installation and
 * unlike its name never reused by another host: a central log and the
 * central inventory tell hosts apart by it. Config host_id overrides it,
 * for hosts cloned from one image (which share a machine-id until it is
 * made again) and for a test that runs several hosts on one machine.
 */
#pragma once

#include "virtgov/util/config.h"
#include "virtgov/util/util.h"

#define MACHINE_ID_LEN 32
/* A host id: a machine-id, or config host_id (at most 64 bytes). */
#define HOST_ID_SIZE 65

/* Reads and checks the machine-id at path (config machine_id_file).
 * -ENOENT, another read error, or -EINVAL for content that is not one,
 * with err naming the file. */
int machine_id_read(const char *path, char out[static HOST_ID_SIZE], VgError *err);

/* The host's id: config host_id when set, else machine_id_read of
 * machine_id_file. */
int host_id_of(const Config *c, char out[static HOST_ID_SIZE], VgError *err);
