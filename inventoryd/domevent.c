/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "domevent.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/model/domxml.h"

json_t *domevent_facts(virDomainPtr dom, unsigned flags) {
        _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, flags);
        if (!xml)
                return NULL;
        DomainFacts *f = NULL;
        if (domxml_parse(xml, strlen(xml), &f, NULL) < 0)
                return NULL;
        json_t *j = domain_facts_to_json(f);
        domain_facts_free(f);
        return j;
}

Event *domevent_new(virDomainPtr dom, const char *host, const char *source, const char *kind, int xml_flags) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        Event *e = event_new(source, kind);
        if (!e)
                return NULL;
        event_set(&e->host, host);
        event_set(&e->domain, virDomainGetName(dom));
        if (virDomainGetUUIDString(dom, uuid) == 0)
                event_set(&e->uuid, uuid);
        if (xml_flags < 0)
                return e;

        /* Facts: the live definition when it runs, the inactive one when it
         * is only defined; the inactive one is also kept apart (config_facts)
         * to tell a changed definition from a running guest's details. */
        json_t *facts = domevent_facts(dom, (unsigned) xml_flags);
        if (facts)
                json_object_set_new(e->data, "facts", facts);
        int persistent = virDomainIsPersistent(dom), autostart = 0;
        if (persistent >= 0)
                json_object_set_new(e->data, "persistent", json_boolean(persistent));
        if (persistent == 1) {
                json_t *cf = xml_flags == VIR_DOMAIN_XML_INACTIVE && facts ? json_incref(facts)
                           : domevent_facts(dom, VIR_DOMAIN_XML_INACTIVE);
                if (cf)
                        json_object_set_new(e->data, "config_facts", cf);
                if (virDomainGetAutostart(dom, &autostart) == 0)
                        json_object_set_new(e->data, "autostart", json_boolean(autostart));
        }
        return e;
}
