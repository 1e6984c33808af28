/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A domain's event as the daemon records it: the domain's identity, and on
 * request its facts from libvirt's XML. Used by the callbacks (conn.c) and
 * by reconcile alike, so both record the same shape.
 */
#pragma once

#include <jansson.h>
#include <libvirt/libvirt.h>

#include "virtgov/model/event.h"

/*
 * A new event of source and kind for dom on host (name, UUID). With
 * xml_flags >= 0, also its facts in data: "facts" from the XML libvirt
 * gives with those flags (0: the live definition; VIR_DOMAIN_XML_INACTIVE:
 * the stored one), "persistent", and for a persistent domain its stored
 * definition's facts ("config_facts", to tell a changed definition from a
 * running guest's details) and "autostart". Facts libvirt does not give are
 * left out. NULL when out of memory.
 */
Event *domevent_new(virDomainPtr dom, const char *host, const char *source, const char *kind, int xml_flags);

/* The facts of dom's XML as libvirt gives it with flags, as JSON; NULL when
 * libvirt gives none (the domain went) or it does not parse. */
json_t *domevent_facts(virDomainPtr dom, unsigned flags);
