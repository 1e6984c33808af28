/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain XML as libvirt hands it to the hook on stdin, and what the hook
 * does with it next: facts to JSON and back (the inventory round trip).
 * The same bytes are also read as snapshot XML (a <domainsnapshot> holds
 * a <domain>, so the seeds and dictionary serve both), as report sprawl
 * reads it, and as a running domain's status XML (a <domstatus> holds one
 * too), as the isolation profile reads qemu_run_dir. */
#include "virtgov/model/domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DomainFacts *f = NULL, *back = NULL;
        VgError err = { "" };
        int64_t t;
        (void) snapxml_creation_time((const char *) data, size, &t, &err);
        if (domxml_parse_status((const char *) data, size, &f, &err) == 0)
                f = domain_facts_free(f);
        if (domxml_parse((const char *) data, size, &f, &err) < 0)
                return 0;
        json_t *j = domain_facts_to_json(f);
        if (j && domain_facts_from_json(j, &back) == 0)
                domain_facts_free(back);
        json_decref(j);
        domain_facts_free(f);
        return 0;
}
