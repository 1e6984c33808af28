/* SPDX-License-Identifier: GPL-2.0-or-later */
/* passwd, group, shadow and sudoers text. The first byte picks the file;
 * each snapshot then goes through the baseline's JSON round trip and a diff
 * against an empty snapshot, as the daemon does. */
#include <stdlib.h>
#include <string.h>

#include "virtgov/host/accounts.h"

static int drop(Event *e, void *u) {
        event_free(e);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const priv[] = { "libvirt", "kvm", "sudo", "wheel", NULL };
        if (size < 1)
                return 0;
        char *text = strndup((const char *) data + 1, size - 1);   /* the files are C text */
        Accounts *a = calloc(1, sizeof(*a)), *empty = calloc(1, sizeof(*empty)), *back = NULL;
        if (!text || !a || !empty)
                goto out;
        switch (data[0] % 4) {
        case 0: accounts_parse_passwd(a, text); break;
        case 1: accounts_parse_group(a, text); break;
        case 2: accounts_parse_shadow(a, text, 0x5eed); break;
        case 3: accounts_parse_sudoers(a, "sudoers.d/fuzz", text); break;
        }
        json_t *j = accounts_to_json(a);
        VgError err = { "" };
        if (j && accounts_from_json(j, &back, &err) == 0)
                accounts_free(back);
        json_decref(j);
        for (size_t i = 0; i < a->n_accounts; i++)
                json_decref(accounts_privileges(a, a->accounts[i].name, priv));
        accounts_diff(empty, a, priv, drop, NULL);
        accounts_diff(a, empty, priv, drop, NULL);
out:
        accounts_free(a);
        accounts_free(empty);
        free(text);
        return 0;
}
