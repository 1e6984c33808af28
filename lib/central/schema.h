/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The central room's private header: the migrations embed.py writes. */
#pragma once

typedef struct CentralMigration {
        unsigned version;     /* 1, 2, ...: the NNN of sql/NNN-name.sql */
        const char *name;
        const char *sql;
} CentralMigration;

extern const CentralMigration central_migrations[];
extern const unsigned central_migrations_n;
