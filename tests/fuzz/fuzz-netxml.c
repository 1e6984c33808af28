/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A network hook's stdin: <hookData> with a network, and for port and
 * plugged ops a port or an interface. */
#include "virtgov/model/domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NetworkFacts *f = NULL;
        VgError err = { "" };
        if (netxml_parse((const char *) data, size, &f, &err) < 0)
                return 0;
        json_decref(network_facts_to_json(f));
        network_facts_free(f);
        return 0;
}
