/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt for the reports' live facts, loaded with dlopen() when a report
 * first needs it. Linking libvirt into virtgov made every command, even
 * "virtgov events", pay for loading it and its ~45 dependencies at exec
 * (15 ms here); now only a report with live facts does.
 *
 * Code that includes this header calls the libvirt functions below by their
 * usual names: each name is redirected to the pointer live_load() filled.
 */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define LIVE_FUNCTIONS(X) \
        X(virConnectOpenReadOnly) X(virConnectClose) X(virConnectGetURI) X(virSetErrorFunc) \
        X(virGetLastErrorMessage) X(virNodeGetInfo) X(virConnectListAllStoragePools) \
        X(virStoragePoolGetName) X(virStoragePoolFree) X(virStoragePoolGetXMLDesc) X(virStoragePoolGetInfo) \
        X(virConnectListAllNetworks) X(virNetworkGetName) X(virNetworkFree) X(virDomainLookupByUUIDString) \
        X(virDomainListAllSnapshots) X(virDomainSnapshotGetXMLDesc) X(virDomainSnapshotGetName) \
        X(virDomainSnapshotFree) X(virDomainFree) X(virStoragePoolGetUUIDString) X(virStoragePoolListAllVolumes) \
        X(virStorageVolGetInfo) X(virStorageVolFree)

#define LIVE_DECLARE(f) extern __typeof__(&f) live_##f;
LIVE_FUNCTIONS(LIVE_DECLARE)
#undef LIVE_DECLARE

/* Loads libvirt. 0, or -ENOENT with *why saying what failed (the caller
 * reports that the live checks were skipped). */
int live_load(const char **why);

#ifndef LIVE_IMPLEMENTATION
#define virConnectOpenReadOnly (*live_virConnectOpenReadOnly)
#define virConnectClose (*live_virConnectClose)
#define virConnectGetURI (*live_virConnectGetURI)
#define virSetErrorFunc (*live_virSetErrorFunc)
#define virGetLastErrorMessage (*live_virGetLastErrorMessage)
#define virNodeGetInfo (*live_virNodeGetInfo)
#define virConnectListAllStoragePools (*live_virConnectListAllStoragePools)
#define virStoragePoolGetName (*live_virStoragePoolGetName)
#define virStoragePoolFree (*live_virStoragePoolFree)
#define virStoragePoolGetXMLDesc (*live_virStoragePoolGetXMLDesc)
#define virStoragePoolGetInfo (*live_virStoragePoolGetInfo)
#define virConnectListAllNetworks (*live_virConnectListAllNetworks)
#define virNetworkGetName (*live_virNetworkGetName)
#define virNetworkFree (*live_virNetworkFree)
#define virDomainLookupByUUIDString (*live_virDomainLookupByUUIDString)
#define virDomainListAllSnapshots (*live_virDomainListAllSnapshots)
#define virDomainSnapshotGetXMLDesc (*live_virDomainSnapshotGetXMLDesc)
#define virDomainSnapshotGetName (*live_virDomainSnapshotGetName)
#define virDomainSnapshotFree (*live_virDomainSnapshotFree)
#define virDomainFree (*live_virDomainFree)
#define virStoragePoolGetUUIDString (*live_virStoragePoolGetUUIDString)
#define virStoragePoolListAllVolumes (*live_virStoragePoolListAllVolumes)
#define virStorageVolGetInfo (*live_virStorageVolGetInfo)
#define virStorageVolFree (*live_virStorageVolFree)
#endif
