/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inotify, in the daemon's one loop: the account files (passwd, group,
 * shadow, gshadow, sudoers, sudoers.d/) and the hook's spool.
 *
 * The directories are watched, not the files: useradd, vipw and visudo
 * replace a file by renaming a new one over it, which a watch on the old
 * file would never see.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/inotify.h>
#include <syslog.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "audit-reader.h"
#include "log.h"
#include "watch.h"
#include "virtgov/util/cleanup.h"

/* Tools write passwd, shadow and group one after the other: wait for the
 * burst to settle and diff once. */
#define ACCOUNTS_SETTLE_MS 300
/* A file missing mid-rename is back within milliseconds; one still
 * unreadable after a second retry is a gap in the record. */
#define ACCOUNTS_RETRY_MS 1000

static const char *const account_files[] = { "passwd", "group", "shadow", "gshadow", "sudoers" };

struct Watchd {
        uint64_t digest_key;     /* keys those digests: random, this run's only */
        int inotify_fd, wd_etc, wd_sudoers, wd_spool;
        int accounts_timer;      /* debounce: tools write several files */
        unsigned accounts_failures;  /* reads failed in a row */
};

typedef struct Emit {
        Daemon *d;
        size_t n;
        const Accounts *old, *now;
        bool live;               /* a change just made, not one found at start */
} Emit;

static int emit_event(Event *e, void *userdata) {
        Emit *em = userdata;
        em->n++;
        auditr_claim_account(em->d, e, em->old, em->now, em->live);   /* who did it */
        recorder_record(em->d->rec, e);
        return 0;
}

static void save_baseline(Daemon *d) {
        json_t *j = accounts_to_json(d->accounts);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        VgError err = { "" };
        if (!text)
                vg_error(&err, -ENOMEM, "out of memory");
        if (!text || store_meta_set(recorder_store(d->rec), "accounts", text, &err) < 0)
                log_msg(LOG_WARNING, "cannot save the accounts baseline: %s", err.text);
}

static void accounts_rescan(Daemon *d) {
        Accounts *now = NULL;
        VgError err = { "" };
        if (accounts_read(d->config->etc_dir, d->watch->digest_key, &now, &err) < 0) {
                /* Mid-rename a file can be briefly missing: try again
                 * soon, rather than wait for a next change that may never
                 * come. Said in the log at once, recorded if it lasts. */
                if (d->watch->accounts_failures++ == 0)
                        log_msg(LOG_WARNING, "reading accounts: %s; trying again", err.text);
                else if (d->watch->accounts_failures == 2)
                        recorder_degraded(d->rec, NULL, "account changes not recorded: the account files are "
                                          "unreadable", err.text, "it tries again every second until they can be read");
                virEventUpdateTimeout(d->watch->accounts_timer, ACCOUNTS_RETRY_MS);
                return;
        }
        if (d->watch->accounts_failures >= 2)
                log_msg(LOG_INFO, "account files readable again");
        d->watch->accounts_failures = 0;
        Emit em = { d, 0, d->accounts, now, true };
        accounts_diff(d->accounts, now, (const char *const *) d->priv_groups, emit_event, &em);
        accounts_free(d->accounts);
        d->accounts = now;
        if (em.n)
                save_baseline(d);
}

static void on_accounts_timer(int timer, void *opaque) {
        Daemon *d = opaque;
        virEventUpdateTimeout(timer, -1);
        accounts_rescan(d);
}

/* A first look at the accounts: how many, and who is privileged and why. */
static void record_baseline(Daemon *d) {
        Event *e = event_new("accounts", "account.baseline");
        if (!e) {
                log_not_recorded("account.baseline", NULL);
                return;
        }
        json_t *privileged = json_array();
        for (size_t i = 0; i < d->accounts->n_accounts; i++) {
                const char *name = d->accounts->accounts[i].name;
                json_t *why = accounts_privileges(d->accounts, name, (const char *const *) d->priv_groups);
                if (json_array_size(why))
                        json_array_append_new(privileged, json_pack("{s:o, s:o}", "user",
                                              event_json_string(name), "privileges", why));
                else
                        json_decref(why);
        }
        json_object_set_new(e->data, "accounts", json_integer((json_int_t) d->accounts->n_accounts));
        json_object_set_new(e->data, "groups", json_integer((json_int_t) d->accounts->n_groups));
        json_object_set_new(e->data, "privileged", privileged);
        recorder_record(d->rec, e);
}

/* The baseline: the last snapshot the inventory holds, diffed against now,
 * so changes made while the daemon was down are recorded too. */
static void accounts_start(Daemon *d) {
        VgError err = { "" };
        _cleanup_free_ char *text = NULL;
        Accounts *base = NULL;
        int r = store_meta_get(recorder_store(d->rec), "accounts", &text, &err);
        json_t *j = r == 0 ? json_loads(text, 0, NULL) : NULL;
        if (r == 0 && !j)
                vg_error(&err, -EINVAL, "not JSON");
        if ((r < 0 && r != -ENOENT) || (r == 0 && (!j || accounts_from_json(j, &base, &err) < 0)))
                /* A new baseline is no diff: say what is lost. */
                recorder_degraded(d->rec, NULL, "the stored accounts baseline is unreadable", err.text,
                                  "a new one is taken: account changes made while the daemon was down are not "
                                  "recorded");
        json_decref(j);

        if (accounts_read(d->config->etc_dir, d->watch->digest_key, &d->accounts, &err) < 0) {
                recorder_degraded(d->rec, NULL, "account changes made while the daemon was down not recorded: "
                                  "the account files are unreadable", err.text, "fix their permissions and restart");
                accounts_free(base);
                return;
        }
        if (!base) {
                record_baseline(d);
        } else {
                Emit em = { d, 0, base, d->accounts, false };
                accounts_diff(base, d->accounts, (const char *const *) d->priv_groups, emit_event, &em);
                accounts_free(base);
        }
        save_baseline(d);
}

static bool is_account_file(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(account_files); i++)
                if (!strcmp(name, account_files[i]))
                        return true;
        return false;
}

/* The hook renames finished files into the spool (IN_MOVED_TO). If the
 * spool directory goes (IN_DELETE_SELF, IN_MOVE_SELF), it is made again and
 * watched again: the hook would re-create it and spool into it. */
static void watch_spool(Daemon *d) {
        int r = vg_mkdir_p(d->config->spool_dir, 0700);
        if (r < 0)
                log_msg(LOG_WARNING, "spool '%s': %s", d->config->spool_dir, strerror(-r));
        d->watch->wd_spool = inotify_add_watch(d->watch->inotify_fd, d->config->spool_dir,
                                               IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
        if (d->watch->wd_spool < 0)
                log_msg(LOG_WARNING, "cannot watch spool '%s': %s", d->config->spool_dir, strerror(errno));
}

static void watch_sudoers_d(Daemon *d) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/sudoers.d", d->config->etc_dir);
        d->watch->wd_sudoers = inotify_add_watch(d->watch->inotify_fd, path, IN_CLOSE_WRITE | IN_MOVED_TO |
                                                 IN_MOVED_FROM | IN_DELETE | IN_CREATE);
}

static void on_inotify(int watch, int fd, int events, void *opaque) {
        Daemon *d = opaque;
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool accounts = false, spool = false;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *) p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                /* Events were dropped: look at everything. */
                                log_msg(LOG_WARNING, "inotify queue overflow: re-reading the accounts "
                                        "and the spool");
                                accounts = spool = true;
                                continue;
                        }
                        if (ev->wd == d->watch->wd_spool && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
                                log_msg(LOG_WARNING, "spool '%s' was removed: making it again",
                                        d->config->spool_dir);
                                inotify_rm_watch(fd, d->watch->wd_spool);
                                watch_spool(d);
                                spool = true;
                        } else if (ev->wd == d->watch->wd_spool)
                                spool = true;
                        else if (ev->wd == d->watch->wd_sudoers)
                                accounts = true;
                        else if (ev->wd == d->watch->wd_etc && ev->len) {
                                if (is_account_file(ev->name))
                                        accounts = true;
                                else if (!strcmp(ev->name, "sudoers.d")) {
                                        watch_sudoers_d(d);
                                        accounts = true;
                                }
                        }
                }
        }
        if (spool)
                (void) recorder_fold_spool(d->rec);   /* a failure is logged and retried */
        if (accounts)
                virEventUpdateTimeout(d->watch->accounts_timer, ACCOUNTS_SETTLE_MS);
}

int watch_init(Daemon *d) {
        Watchd *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (Watchd) { .inotify_fd = -1, .wd_etc = -1, .wd_sudoers = -1, .wd_spool = -1, .accounts_timer = -1 };
        /* The digests tell a changed password without keeping its hash:
         * keyed, so that they are no hash of it either. */
        if (getrandom(&w->digest_key, sizeof(w->digest_key), 0) != sizeof(w->digest_key))
                w->digest_key = (uint64_t) vg_now_us() ^ (uint64_t) getpid();
        d->watch = w;
        accounts_start(d);
        d->watch->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (d->watch->inotify_fd < 0) {
                log_msg(LOG_ERR, "inotify: %s", strerror(errno));
                return -errno;
        }
        d->watch->wd_etc = inotify_add_watch(d->watch->inotify_fd, d->config->etc_dir,
                                             IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE);
        if (d->watch->wd_etc < 0)
                log_msg(LOG_WARNING, "cannot watch '%s': %s", d->config->etc_dir, strerror(errno));
        watch_sudoers_d(d);
        watch_spool(d);
        d->watch->accounts_timer = virEventAddTimeout(-1, on_accounts_timer, d, NULL);
        if (virEventAddHandle(d->watch->inotify_fd, VIR_EVENT_HANDLE_READABLE, on_inotify, d, NULL) < 0)
                return -EIO;
        return 0;
}

void watch_close(Daemon *d) {
        if (d->watch && d->watch->inotify_fd >= 0)
                close(d->watch->inotify_fd);
        if (d->watch)
                d->watch->inotify_fd = -1;
}

void watch_free(Daemon *d) {
        d->accounts = accounts_free(d->accounts);
        free(d->watch);
        d->watch = NULL;
}
