/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's identity: its machine-id (machine-id(5)), 32 lowercase hex
 * digits, the same for the life of the installation and unlike its name
 * never reused by another host. A central log tells hosts apart by it.
 */
#pragma once

#include "virtgov/util/util.h"

#define HOST_ID_SIZE 33

/* Reads and checks the machine-id at path (config machine_id_file).
 * -ENOENT, another read error, or -EINVAL for content that is not one,
 * with err naming the file. */
int host_id_read(const char *path, char out[static HOST_ID_SIZE], VgError *err);
