/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Write transactions, and what their end owes the hook: the copy of the
 * authorization tables, removed by a change within one, made again once
 * it has ended (store/authz-copy.c). Every file that writes calls these;
 * they call only the statements and the copy, so that no circle of calls
 * runs through a transaction.
 */
#include "priv.h"

/* The chain's head is cached for one write transaction only: another
 * writer may append between two of ours. */
int store_begin(Store *s, VgError *err) {
        s->head_valid = false;
        /* A new transaction removes the copy of the authorizations anew
         * before it changes them, whatever the last one did. */
        s->authz_changed = false;
        return store_exec(s, STMT_BEGIN, err);
}

int store_commit(Store *s, VgError *err) {
        int r = store_exec(s, STMT_COMMIT, err);
        if (r == 0 && s->authz_changed)
                store_authz_copy(s);
        return r;
}

void store_rollback(Store *s) {
        s->head_valid = false;
        if (!sqlite3_get_autocommit(s->db))
                store_exec(s, STMT_ROLLBACK, NULL);
        if (s->authz_changed)
                store_authz_copy(s);
}
