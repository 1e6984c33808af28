/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit stream's socket, the kernel's audit status, and the parser
 * (audit-reader.h). A thread reads the socket into a queue (audit-queue.c);
 * the rest is the loop's: the queue's eventfd is a handle on libvirt's
 * event loop, the status check, the pace and the flush are timers on it.
 */
#include <errno.h>
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "audit-priv.h"
#include "log.h"

/* The kernel's lost counter and enabled flag are read this often: a loss
 * is said within seconds, and one status request every 5 s costs nothing. */
#define AUDIT_STATUS_MS 5000
/* A syscall event's records arrive one by one up to its EOE; if the
 * stream pauses in the middle of one, it is completed after this. */
#define AUDIT_FLUSH_MS 100
/* The socket's receive buffer: 10,000 records a second of 300 bytes
 * (bench/audit.sh) for the time a reconcile or a fold holds the loop (up
 * to a second) is 3 MiB; the kernel caps it at net.core.rmem_max, and
 * what overflows is an audit.lost. */
#define AUDIT_RCVBUF (8 * 1024 * 1024)
/* After a read, the socket is left for this long: the recorder commits
 * each loop iteration's events in one transaction, and a stream read as
 * it trickles in (ten records a millisecond at 10,000 a second) made a
 * transaction of a few events each, whose page writes, not the records,
 * were the daemon's time. 25 ms makes them a few hundred, and is all the
 * delay it adds; a claim reads the socket at once whatever the pace. */
#define AUDIT_PACE_MS 25

static void record_lost(AuditReader *a, const char *where, uint32_t n, const char *why) {
        Event *e = event_new("audit", "audit.lost");
        if (!e) {
                log_not_recorded("audit.lost", NULL);
                return;
        }
        char reason[512];
        if (n)
                snprintf(reason, sizeof(reason), "%u audit record(s) lost in %s: %s", n, where, why);
        else
                snprintf(reason, sizeof(reason), "audit records lost in %s: %s", where, why);
        event_set(&e->reason, reason);
        json_object_set_new(e->data, "where", json_string(where));
        if (n)
                json_object_set_new(e->data, "lost", json_integer(n));
        if (a->status_known)
                json_object_set_new(e->data, "kernel", json_pack("{s:I, s:I, s:I, s:I}", "lost_total",
                                    (json_int_t) a->status.lost, "backlog", (json_int_t) a->status.backlog,
                                    "backlog_limit", (json_int_t) a->status.backlog_limit, "rate_limit",
                                    (json_int_t) a->status.rate_limit));
        log_msg(LOG_WARNING, "%s", reason);
        recorder_record(a->d->rec, e);
}

static void on_audit_event(const AuditEvent *ev, void *userdata) {
        AuditReader *a = userdata;
        a->events++;
        switch (audit_family(ev)) {
        case AUDIT_FAMILY_ACCESS: {
                AuditAccessOptions opt = { .cron = a->d->config->audit_cron };
                Event *e = NULL;
                if (audit_access_event(ev, a->d->accounts, &opt, &e) < 0)
                        log_not_recorded("access", NULL);
                else if (e)
                        recorder_record(a->d->rec, e);
                break;
        }
        case AUDIT_FAMILY_ACCOUNT: case AUDIT_FAMILY_GROUP:
                auditm_account_record(a, ev);
                break;
        case AUDIT_FAMILY_EXEC:
                auditm_command(a, ev);
                break;
        case AUDIT_FAMILY_NONE:
                break;
        }
}

static void feed(int type, const char *text, size_t len, void *userdata) {
        AuditReader *a = userdata;
        a->records++;
        /* (A record the parser refuses is not one: nothing to say.) */
        (void) audit_parser_feed(a->parser, type, text, len);
}

/* Reads what the socket holds now, without waiting, into the parser, and
 * completes the events it can. */
static void drain(AuditReader *a) {
        if (!a || !a->queue)
                return;
        AuditQueueLoss loss;
        int last_type = auditq_take(a->queue, feed, a, &loss);
        if (loss.overflows)
                record_lost(a, "virtgov-inventoryd's audit socket", 0,
                            "its receive buffer overflowed (net.core.rmem_max caps it)");
        if (loss.dropped)
                record_lost(a, "virtgov-inventoryd's audit queue", (uint32_t) loss.dropped,
                            "records waited for the inventory beyond its 16 MiB");
        if (!last_type)
                return;
        if (audit_type_continues(last_type))
                virEventUpdateTimeout(a->flush_timer, AUDIT_FLUSH_MS);
        else
                audit_parser_flush(a->parser);
}

static void on_readable(int watch, int fd, int events, void *opaque) {
        AuditReader *a = opaque;
        drain(a);
        /* Not readable again until the pace timer says so. */
        virEventUpdateHandle(a->mcast_watch, 0);
        virEventUpdateTimeout(a->pace_timer, AUDIT_PACE_MS);
}

static void on_pace(int timer, void *opaque) {
        AuditReader *a = opaque;
        virEventUpdateTimeout(timer, -1);
        virEventUpdateHandle(a->mcast_watch, VIR_EVENT_HANDLE_READABLE);
}

static void on_flush(int timer, void *opaque) {
        AuditReader *a = opaque;
        virEventUpdateTimeout(timer, -1);
        audit_parser_flush(a->parser);
}

static void on_sweep(int timer, void *opaque) {
        auditm_sweep(opaque, false);
}

/* The kernel's status: audit turned off under us, records it dropped. */
static void check_status(AuditReader *a) {
        AuditStatus st;
        int r = a->ctl_fd >= 0 ? audit_kernel_status(a->ctl_fd, &st) : -EBADF;
        if (r < 0) {
                if (!a->said_status) {
                        a->said_status = true;
                        char why[256];
                        snprintf(why, sizeof(why), "the audit status request (AUDIT_GET) failed: %s%s", strerror(-r),
                                 r == -EPERM ? " (it needs CAP_AUDIT_CONTROL, in the initial PID namespace)" : "");
                        recorder_degraded(a->d->rec, NULL, "whether the kernel's audit is on, and how many records "
                                          "it dropped, is not known", why, "records are read while audit is on; "
                                          "to see it turned off and its losses, give the daemon CAP_AUDIT_CONTROL "
                                          "(a drop-in for virtgov-inventoryd.service), or watch 'auditctl -s'");
                }
                return;
        }
        if (a->status_known && st.lost > a->status.lost) {
                uint32_t n = st.lost - a->status.lost;
                a->status = st;
                record_lost(a, "the kernel", n, "its backlog or rate limit was exceeded; raise the backlog "
                            "limit (auditctl -b) or lower the rules' volume");
        }
        bool was_on = !a->status_known || a->status.enabled;
        a->status = st;
        a->status_known = true;
        if (st.enabled)
                a->said_off = false;
        if (st.enabled && !was_on)
                log_msg(LOG_INFO, "the kernel's audit is on again: reading its records");
        if (st.enabled || a->said_off)
                return;
        if (a->d->config->audit_enable) {
                r = audit_kernel_set_enabled(a->ctl_fd, true);
                if (r == 0) {
                        Event *e = event_new("daemon", "audit.enabled");
                        if (e) {
                                event_set(&e->reason, "the kernel's audit was off: turned on (audit_enable = yes)");
                                recorder_record(a->d->rec, e);
                        }
                        a->status.enabled = 1;
                        return;
                }
                a->said_off = true;
                char why[256];
                snprintf(why, sizeof(why), "it is off and turning it on failed: %s%s", strerror(-r),
                         r == -EPERM ? " (it needs CAP_AUDIT_CONTROL)" : "");
                recorder_degraded(a->d->rec, NULL, "no actor for account changes, no access events, no VM "
                                  "commands: the kernel's audit is off", why,
                                  "give the daemon CAP_AUDIT_CONTROL, or run 'auditctl -e 1', or install auditd");
                return;
        }
        a->said_off = true;
        recorder_degraded(a->d->rec, NULL, "no actor for account changes, no access events, no VM commands: the "
                          "kernel's audit is off", "its enabled flag is 0 (booted with audit off, or turned off)",
                          "set 'audit_enable = yes' (the daemon then needs CAP_AUDIT_CONTROL), or run "
                          "'auditctl -e 1', or install and start auditd");
}

static void on_status(int timer, void *opaque) {
        check_status(opaque);
}

static int open_stream(AuditReader *a, char *why, size_t n) {
        a->mcast_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
        if (a->mcast_fd < 0) {
                snprintf(why, n, "a NETLINK_AUDIT socket: %s%s", strerror(errno),
                         errno == EPROTONOSUPPORT ? " (a kernel without CONFIG_AUDIT)" : "");
                return -errno;
        }
        int size = AUDIT_RCVBUF;
        (void) setsockopt(a->mcast_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = AUDIT_NLGRP_READLOG };
        if (bind(a->mcast_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = errno;
                snprintf(why, n, "joining the audit multicast group: %s%s", strerror(e),
                         e == EPERM ? " (it needs CAP_AUDIT_READ)" : "");
                close(a->mcast_fd);
                a->mcast_fd = -1;
                return -e;
        }
        return 0;
}

void auditr_start(Daemon *d) {
        if (!d->config->audit)
                return;
        AuditReader *a = calloc(1, sizeof(*a));
        if (!a) {
                log_msg(LOG_ERR, "out of memory: the audit stream is not read");
                return;
        }
        *a = (AuditReader) { .d = d, .mcast_fd = -1, .ctl_fd = -1, .mcast_watch = -1, .status_timer = -1,
                             .flush_timer = -1, .sweep_timer = -1, .pace_timer = -1 };
        d->audit = a;
        char why[256];
        if (!(a->parser = audit_parser_new(on_audit_event, a))) {
                a->off = strdup("out of memory");
                log_msg(LOG_ERR, "out of memory: the audit stream is not read");
                return;
        }
        if (open_stream(a, why, sizeof(why)) < 0) {
                a->off = strdup(why);
                recorder_degraded(d->rec, NULL, "no actor for account changes, no access events, no VM commands: "
                                  "the audit stream cannot be read", why, "run the daemon with CAP_AUDIT_READ in "
                                  "the initial network namespace, or set 'audit = no' to say it is not wanted");
                return;
        }
        int r = auditq_start(a->mcast_fd, AUDIT_QUEUE_BYTES, &a->queue);
        if (r < 0) {
                snprintf(why, sizeof(why), "its reader thread: %s", strerror(-r));
                a->off = strdup(why);
                recorder_degraded(d->rec, NULL, "no actor for account changes, no access events, no VM commands: "
                                  "the audit stream cannot be read", why, "restart the daemon");
                return;
        }
        a->mcast_watch = virEventAddHandle(auditq_wake_fd(a->queue), VIR_EVENT_HANDLE_READABLE, on_readable, a,
                                           NULL);
        a->flush_timer = virEventAddTimeout(-1, on_flush, a, NULL);
        a->pace_timer = virEventAddTimeout(-1, on_pace, a, NULL);
        a->sweep_timer = virEventAddTimeout(AUDIT_HOLD_MS / 2, on_sweep, a, NULL);
        /* The control socket only asks; the daemon never takes auditd's
         * place (no AUDIT_SET pid): auditd, when it runs, keeps its log. */
        a->ctl_fd = audit_open();
        check_status(a);
        a->status_timer = virEventAddTimeout(AUDIT_STATUS_MS, on_status, a, NULL);
        log_msg(LOG_INFO, "reading the kernel's audit stream%s", a->status_known && !a->status.enabled ?
                " (audit is off: nothing arrives until it is turned on)" : "");
}

void auditr_stop(Daemon *d) {
        AuditReader *a = d->audit;
        if (!a)
                return;
        /* Last records first, then what nobody claimed: the watcher is
         * closed already, no diff will. */
        drain(a);
        if (a->parser)
                audit_parser_flush(a->parser);
        auditm_sweep(a, true);
        int *timers[] = { &a->status_timer, &a->flush_timer, &a->sweep_timer, &a->pace_timer };
        for (size_t i = 0; i < 4; i++)
                if (*timers[i] >= 0)
                        virEventRemoveTimeout(*timers[i]);
        if (a->mcast_watch >= 0)
                virEventRemoveHandle(a->mcast_watch);
        a->queue = auditq_stop(a->queue);
        if (a->mcast_fd >= 0)
                close(a->mcast_fd);
        if (a->ctl_fd >= 0)
                audit_close(a->ctl_fd);
        audit_parser_free(a->parser);
        auditm_free(a);
        free(a->off);
        free(a);
        d->audit = NULL;
}

/* The claims are audit-match.c's. A claim must see every record sent
 * before it (a command's last records may still wait in the queue when
 * its change is seen), so the stream is read to its end first, here: the
 * matcher is handed what was read and never calls back. */
void auditr_claim_account(Daemon *d, Event *e, const Accounts *old, const Accounts *new, bool live) {
        AuditReader *a = d->audit;
        /* (A diff found at start is not matched: nothing to read. The
         * event the parser holds open is completed now, not after
         * AUDIT_FLUSH_MS, so that its record can be claimed.) */
        if (live && a && !a->off) {
                drain(a);
                audit_parser_flush(a->parser);
        }
        auditm_claim_account(a, e, old, new, live);
}

void auditr_claim_domain(Daemon *d, Event *e) {
        AuditReader *a = d->audit;
        if (a && !a->off)
                drain(a);
        auditm_claim_domain(a, e);
}
