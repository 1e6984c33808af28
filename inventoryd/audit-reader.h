/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's audit stream, in the daemon's one loop: who did it.
 *
 * A NETLINK_AUDIT socket bound to the read-only multicast group
 * (AUDIT_NLGRP_READLOG, CAP_AUDIT_READ) receives every record the kernel
 * logs, beside auditd when it runs and without it when it does not; each
 * is parsed by libauparse (lib/audit/audit.c) into events. From them:
 *
 *   - PAM's session and login records become access.* events at once;
 *   - shadow-utils' account and group records wait (audit-match.c) for
 *     the account watcher's diff, which takes their actor; one no diff
 *     claims (an account added and removed before the files settled) is
 *     recorded on its own;
 *   - the execs of virtgov's rules (virsh, virt-install, ...) are kept a
 *     few seconds, for the domain event that follows one to name its
 *     person;
 *   - the kernel's lost counter, read every AUDIT_STATUS_MS, and an
 *     overflow of our own socket are audit.lost events.
 *
 * Audit off, the socket refused, the status unreadable: each is said once
 * (daemon.degraded with the fix) and the daemon goes on without.
 */
#pragma once

#include "daemon.h"

/* Starts reading (when the config's audit is on), turning audit on when
 * it is off and audit_enable says so. Never fails: what it cannot do it
 * says. */
void auditr_start(Daemon *d);

/* Stops reading: records what the stream said and nothing claimed, then
 * closes the sockets. A no-op when not started. */
void auditr_stop(Daemon *d);

/*
 * An account or group event of the watcher's diff (old to new), before it
 * is recorded: it gets its actor from the audit record of the same change
 * (e->actor and data.actor), or actor "unknown" with data.why. live: the
 * diff of a change just made (false: one found at start, made while the
 * daemon was down).
 */
void auditr_claim_account(Daemon *d, Event *e, const Accounts *old, const Accounts *new, bool live);

/*
 * A domain event from libvirt, before it is recorded: when a VM command
 * (virsh, virt-install, ...) of one person named this domain within
 * audit_actor_window_s before it, e gets that actor and
 * data.actor_evidence (the command line, pid, time and how it was
 * matched). Nothing else is guessed.
 */
void auditr_claim_domain(Daemon *d, Event *e);
