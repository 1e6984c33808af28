/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by accounts.c (parsing) and accounts-diff.c (privilege, diff). */
#pragma once

#include "virtgov/host/accounts.h"

/* The account or group of that name in a, or NULL. */
Account *accounts_find(const Accounts *a, const char *name);
Group *accounts_find_group(const Accounts *a, const char *name);
