/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts from libvirt XML: the domain XML a qemu hook reads on stdin (or the
 * daemon gets from virDomainGetXMLDesc), the <hookData> a network hook
 * reads, a storage pool's and a snapshot's XML (report sprawl). The input
 * is untrusted: it is read through the hardened DOM (xmldom.h: no network,
 * no entities, no DOCTYPE, bounded depth and element count) and bounded by
 * the caller's size cap.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

#define VG_METADATA_NS "urn:virtgov:1"

typedef struct DiskFacts {
        char *type;          /* file, block, network, volume, dir, nvme, ... */
        char *device;        /* disk, cdrom, floppy, lun */
        char *source;        /* path, device, "proto:name", "pool/volume" */
        char *format;        /* driver type: raw, qcow2, ... */
        char *target;        /* vda, sdb */
        bool readonly, shareable;
        char **backing;      /* backing chain as written, NULL-terminated */
        size_t n_backing;
} DiskFacts;

typedef struct InterfaceFacts {
        char *type;          /* network, bridge, direct, user, ... */
        char *source;        /* network name, bridge, or host device */
        char *mac;
        char *model;
} InterfaceFacts;

typedef struct GraphicsFacts {
        char *type;          /* vnc, spice, ... */
        char *listen;        /* address, or NULL */
} GraphicsFacts;

typedef struct SeclabelFacts {
        char *type;          /* dynamic, static, none */
        char *model;         /* selinux, apparmor, dac, or NULL */
} SeclabelFacts;

typedef struct DomainFacts {
        char *name, *uuid;
        char *owner, *ticket, *purpose;    /* urn:virtgov:1 metadata */
        char *virt_type;                   /* kvm, qemu */
        char *arch, *machine, *emulator;
        char *loader, *kernel, *initrd;    /* <os>: firmware and boot files QEMU reads */
        unsigned vcpus;
        uint64_t memory_kib;
        bool qemu_commandline;             /* <qemu:commandline> present */
        DiskFacts *disks; size_t n_disks;
        InterfaceFacts *ifaces; size_t n_ifaces;
        GraphicsFacts *graphics; size_t n_graphics;
        SeclabelFacts *seclabels; size_t n_seclabels;
} DomainFacts;

typedef struct NetworkFacts {
        char *name, *uuid, *bridge, *forward;
        /* set when the hook is about a port (port-created / port-deleted) */
        char *port_uuid, *owner_name, *owner_uuid, *port_mac;
} NetworkFacts;

/*
 * Parses domain XML. On failure returns -EINVAL (not XML, not a <domain>,
 * DOCTYPE present, ...) or -ENOMEM, and err says what and where: "line L,
 * column C: ...". Nothing is returned on failure.
 */
int domxml_parse(const char *xml, size_t len, DomainFacts **ret, VgError *err);
/* libvirt's status XML of a running domain (qemu_run_dir/NAME.xml): the
 * facts of the <domain> its <domstatus> holds. Same contract. */
int domxml_parse_status(const char *xml, size_t len, DomainFacts **ret, VgError *err);
DomainFacts *domain_facts_free(DomainFacts *f);
DEFINE_POINTER_CLEANUP(DomainFacts, domain_facts_free)

/* Parses a network hook's <hookData>; same contract as domxml_parse. */
int netxml_parse(const char *xml, size_t len, NetworkFacts **ret, VgError *err);
NetworkFacts *network_facts_free(NetworkFacts *f);
DEFINE_POINTER_CLEANUP(NetworkFacts, network_facts_free)

/* The facts as a new JSON object (caller owns the reference); absent facts
 * are left out. NULL only on ENOMEM. */
json_t *domain_facts_to_json(const DomainFacts *f);
json_t *network_facts_to_json(const NetworkFacts *f);
/* The same object as domain_facts_to_json's, as JSON text, written
 * without building the tree (the hook's way: a tenth of the
 * instructions); its keys are not sorted. One difference: a string that is
 * not UTF-8 (a backing file named in a qcow2 header) is kept, its bytes
 * from 0x80 up as '?' (vg_json_string_write), where the tree leaves it
 * out. NULL only on ENOMEM. */
char *domain_facts_text(const DomainFacts *f);

/* A storage pool's XML: for a pool of type dir, its target path in *ret
 * (malloc'd); NULL for other types. Errors as for domxml_parse. */
int poolxml_dir(const char *xml, size_t len, char **ret, VgError *err);

/* A domain snapshot's XML (virDomainSnapshotGetXMLDesc): when it was
 * taken, in seconds since 1970, from <domainsnapshot><creationTime>.
 * -EINVAL when it is not such XML or has no such time, and errors as for
 * domxml_parse. */
int snapxml_creation_time(const char *xml, size_t len, int64_t *ret, VgError *err);

/* The facts back from their JSON form (as recorded on an event), for
 * re-deciding old activations. -EINVAL if j is not such an object. */
int domain_facts_from_json(const json_t *j, DomainFacts **ret);
