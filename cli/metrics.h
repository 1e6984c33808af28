/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The facts of `virtgov metrics` per domain, per host and of the daemon and
 * the chain (metrics-facts.c), printed on standard output in the
 * Prometheus text exposition format: each family with its HELP and TYPE
 * lines, its samples together, every label value through
 * vg_text_put_prom_label. cmd-metrics.c calls them; they call nothing of
 * it. Each returns 0 or a negative errno with err set.
 */
#pragma once

#include <stdbool.h>

#include "cli.h"

/* virtgov_domain_info{uuid,name,host,owner,ticket,state} 1 and
 * virtgov_domain_running{uuid,name}, for every domain not undefined, and
 * virtgov_domains{state} (undefined ones too) from the same walk. */
int metrics_domains(Store *s, VgError *err);

/* virtgov_host_info{host,host_id,libvirt_uuid,libvirt_version,
 * qemu_version,kernel} 1: one per host with a host.software or
 * host.identity event (its newest), and this machine even without one.
 * host_id is this machine's id (host_id_of: config host_id, else its machine-id)
 * for it, the recorded one for another. A value nobody recorded is empty,
 * never a guess. */
int metrics_host(const Config *c, Store *s, VgError *err);

/* virtgov_policy_decisions_total{op,decision}, virtgov_audit_lost_total
 * and virtgov_events_total{kind,decision} with
 * virtgov_last_event_timestamp_seconds, from one count of the events. */
int metrics_events(Store *s, VgError *err);

/* virtgov_chain_head_seq and, when verify, virtgov_chain_verify_ok (the
 * whole chain recomputed: store_verify_chain). */
int metrics_chain(Store *s, bool verify, VgError *err);

/* virtgov_daemon_up (the daemon holds the inventory's lock now) and
 * virtgov_daemon_degraded (a daemon.degraded since its last start). */
int metrics_daemon(const Config *c, Store *s, VgError *err);

/* With a [central] section: virtgov_central_pending_events and
 * virtgov_central_lag_seconds, from the position the daemon keeps
 * (SHIP_CURSOR_KEY). Without one: nothing. */
int metrics_central(const Config *c, Store *s, VgError *err);
