/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The watch table of integrity-schedule.c (integrity-watch.h).
 *
 * Directories are watched, not files: editors, cp and dpkg replace a file
 * by renaming a new one over it, and a watch on the old inode would see
 * nothing after the first replace. A rule on a file watches its parent,
 * a rule on a directory every directory beneath it, and the parent of
 * every rule's path too, so that the path itself appearing, going or
 * being replaced is seen. An event counts when integrity_rule_for covers
 * its path: the same test the scan makes, so an event counts exactly when
 * a check would look at what it names.
 *
 * The table is rebuilt, never patched: when a directory comes, goes or
 * moves, the next check first rebuilds it from the rules, then scans;
 * what happened in a new directory before its watch existed is found by
 * that scan.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "integrity-watch.h"
#include "log.h"
#include "virtgov/integrity/run.h"

#define WATCH_MASK (IN_ATTRIB | IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
                    IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
/* A watched directory itself went: the table is stale. */
#define GONE_MASK (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)
/* What a write changes: nothing that an owner-only rule (nvram) counts. */
#define CONTENT_ATTRS (FSCAN_SIZE | FSCAN_MTIME | FSCAN_CTIME | FSCAN_SHA256)

bool integrityd_configured(const Config *c) {
        return c->integrity_profiles && c->integrity_profiles[strspn(c->integrity_profiles, " \t,")];
}

/* ---- the profiles ---- */

/* A domain file of libvirt's that could not be read: what its domain
 * runs may not be watched. Said once (daemon.degraded) until all are read
 * again or a reload asks. */
static void say_unread(IntegrityWatch *w, char *const *unread) {
        if (unread[0] && !w->unread_said) {
                char why[1024];
                int n = snprintf(why, sizeof(why), "not read: %s", unread[0]);
                for (size_t i = 1; unread[i] && n >= 0 && (size_t) n < sizeof(why); i++)
                        n += snprintf(why + n, sizeof(why) - (size_t) n, "; %s", unread[i]);
                recorder_degraded(w->d->rec, NULL, "what a domain runs may not be watched", why,
                                  "make libvirt's domain XML readable to the daemon, or fix the file");
        }
        w->unread_said = unread[0] != NULL;
}

/* The profiles as integrity_check loads them, so that what is watched is
 * what is checked. */
static int load_profiles(IntegrityWatch *w, IntegrityProfile ***ret, size_t *n_ret, VgError *err) {
        const Config *c = w->d->config;
        _cleanup_(config_strv_freep) char **names = config_split(c->integrity_profiles), **unread = NULL;
        if (!names)
                return vg_error(err, -ENOMEM, "out of memory");
        int r = integrity_profiles_load(recorder_store(w->d->rec), c, (const char *const *) names, ret, n_ret,
                                        &unread, err);
        if (r == 0)
                say_unread(w, unread);
        return r;
}

static bool same_profiles(IntegrityProfile *const *a, size_t na, IntegrityProfile *const *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++) {
                if (strcmp(a[i]->name, b[i]->name) || a[i]->n_rules != b[i]->n_rules)
                        return false;
                for (size_t j = 0; j < a[i]->n_rules; j++) {
                        const IntegrityRule *x = &a[i]->rules[j], *y = &b[i]->rules[j];
                        if (strcmp(x->path, y->path) || x->recurse != y->recurse || x->exclude != y->exclude ||
                            x->attrs != y->attrs)
                                return false;
                }
        }
        return true;
}

/* ---- the watch table ---- */

typedef struct Table {
        WatchDir *v;
        size_t n;
        size_t n_unwatched;   /* refused for the watch limit */
} Table;

static void table_clear(WatchDir *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

static int dir_cmp(const void *a, const void *b) {
        const WatchDir *x = a, *y = b;
        return x->wd != y->wd ? (x->wd < y->wd ? -1 : 1) : strcmp(x->path, y->path);
}

/* The first row of wd in a sorted table, or NULL. */
static WatchDir *dir_first(WatchDir *v, size_t n, int wd) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (v[mid].wd < wd)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && v[lo].wd == wd ? &v[lo] : NULL;
}

/* Watches the directory path. One that is missing, unreadable or not a
 * directory is not watched and is no error: the checks' scan says what
 * is wrong with it. */
static int watch_dir(IntegrityWatch *w, Table *t, const char *path) {
        int wd = inotify_add_watch(w->fd, path, WATCH_MASK);
        if (wd < 0) {
                /* ENOSPC: fs.inotify.max_user_watches; ENOMEM: the kernel's. */
                t->n_unwatched += errno == ENOSPC || errno == ENOMEM;
                return 0;
        }
        char *copy = strdup(path);
        if (!copy || vg_grow((void **) &t->v, &t->n, sizeof(WatchDir)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        t->v[t->n - 1] = (WatchDir) { wd, copy };
        return 0;
}

/* path (a buffer of PATH_MAX holding len bytes) and every directory
 * beneath it that the rules cover, symlinks not followed: as the scan. */
static int watch_tree(IntegrityWatch *w, Table *t, char *path, size_t len) {
        int r = watch_dir(w, t, path);
        DIR *dir = r == 0 ? opendir(path) : NULL;
        if (!dir)
                return r;
        struct dirent *de;
        while (r == 0 && (de = readdir(dir))) {
                size_t n = strlen(de->d_name);
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || len + 1 + n >= PATH_MAX)
                        continue;
                path[len] = '/';
                memcpy(path + len + 1, de->d_name, n + 1);
                struct stat st;
                bool is_dir = de->d_type == DT_DIR ||
                              (de->d_type == DT_UNKNOWN && lstat(path, &st) == 0 && S_ISDIR(st.st_mode));
                const char *profile;
                if (is_dir && integrity_rule_for(w->profiles, w->n_profiles, path, &profile))
                        r = watch_tree(w, t, path, len + 1 + n);
                path[len] = '\0';
        }
        closedir(dir);
        return r;
}

/* What one rule needs watched: its directory tree (a recursive rule on a
 * directory) and its parent (every rule). */
static int watch_rule(IntegrityWatch *w, Table *t, const IntegrityRule *rule) {
        char path[PATH_MAX];
        size_t len = strlen(rule->path);
        if (rule->exclude || rule->path[0] != '/' || len >= sizeof(path))
                return 0;
        memcpy(path, rule->path, len + 1);
        while (len > 1 && path[len - 1] == '/')
                path[--len] = '\0';
        struct stat st;
        int r = 0;
        if (rule->recurse && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                r = watch_tree(w, t, path, len);
        char *slash = strrchr(path, '/');
        if (r == 0 && len > 1) {
                slash[slash == path] = '\0';
                r = watch_dir(w, t, path);
        }
        return r;
}

static void say_limit(IntegrityWatch *w, size_t unwatched, size_t watched) {
        if (unwatched && !w->limit_said) {
                char why[200], max[32] = "?";
                FILE *f = fopen("/proc/sys/fs/inotify/max_user_watches", "re");
                if (f && !fgets(max, sizeof(max), f))
                        snprintf(max, sizeof(max), "?");
                if (f)
                        fclose(f);
                max[strcspn(max, "\n")] = '\0';
                snprintf(why, sizeof(why), "the inotify watch limit was reached at %zu directories, %zu more "
                         "are not watched (fs.inotify.max_user_watches = %s, shared by every program of the user)",
                         watched, unwatched, max);
                recorder_degraded(w->d->rec, NULL, "integrity changes are not all seen at once", why,
                                  "raise fs.inotify.max_user_watches and reload; meanwhile the periodic checks "
                                  "find them");
        } else if (!unwatched && w->limit_said) {
                log_msg(LOG_INFO, "integrity: every directory is watched again");
        }
        w->limit_said = unwatched > 0;
}

/* Rebuilds the table from the rules. The new watches are added before the
 * old ones go: inotify_add_watch gives a directory watched already its
 * old descriptor, so one in both tables is never unwatched in between. */
static void rewatch(IntegrityWatch *w) {
        Table t = { 0 };
        int r = 0;
        for (size_t i = 0; r == 0 && i < w->n_profiles; i++)
                for (size_t j = 0; r == 0 && j < w->profiles[i]->n_rules; j++)
                        r = watch_rule(w, &t, &w->profiles[i]->rules[j]);
        if (r < 0)
                log_msg(LOG_ERR, "integrity: out of memory: %zu directories watched, not all", t.n);
        if (t.n)
                qsort(t.v, t.n, sizeof(WatchDir), dir_cmp);
        size_t k = 0;
        for (size_t i = 0; i < t.n; i++) {
                if (k && !dir_cmp(&t.v[k - 1], &t.v[i]))
                        free(t.v[i].path);
                else
                        t.v[k++] = t.v[i];
        }
        t.n = k;
        for (size_t i = 0; i < w->n_dirs; i++)
                if ((!i || w->dirs[i - 1].wd != w->dirs[i].wd) && !dir_first(t.v, t.n, w->dirs[i].wd))
                        inotify_rm_watch(w->fd, w->dirs[i].wd);
        table_clear(w->dirs, w->n_dirs);
        w->dirs = t.v;
        w->n_dirs = t.n;
        say_limit(w, t.n_unwatched, integrityd_watch_count(w));
        w->stale = false;
}

bool integrityd_watch_refresh(IntegrityWatch *w) {
        IntegrityProfile **v = NULL;
        size_t n = 0;
        VgError err = { "" };
        bool changed = false;
        w->load_failed = false;
        if (!integrityd_configured(w->d->config))
                changed = w->n_profiles > 0;
        else if (load_profiles(w, &v, &n, &err) < 0) {
                w->load_failed = true;
                return false;
        }
        if (integrityd_configured(w->d->config) && !same_profiles(v, n, w->profiles, w->n_profiles))
                changed = true;
        if (changed) {
                integrity_profiles_free(w->profiles, w->n_profiles);
                w->profiles = v;
                w->n_profiles = n;
                w->stale = true;
        } else {
                integrity_profiles_free(v, n);
        }
        if (w->stale)
                rewatch(w);
        return changed;
}

/* Whether an event on dir names a path a check looks at, and marks the
 * table stale when a directory came or went there. */
static bool event_counts(IntegrityWatch *w, const WatchDir *dir, const struct inotify_event *ev) {
        char path[PATH_MAX];
        if (ev->len)
                snprintf(path, sizeof(path), "%s%s%s", dir->path, strcmp(dir->path, "/") ? "/" : "", ev->name);
        else
                snprintf(path, sizeof(path), "%s", dir->path);
        const char *profile;
        const IntegrityRule *rule = integrity_rule_for(w->profiles, w->n_profiles, path, &profile);
        if (!rule)
                return false;
        /* A guest writing its nvram changes nothing an owner rule counts. */
        if (!(ev->mask & ~(IN_MODIFY | IN_CLOSE_WRITE | IN_ISDIR)) && !(rule->attrs & CONTENT_ATTRS))
                return false;
        if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)))
                w->stale = true;
        return true;
}

bool integrityd_watch_event(IntegrityWatch *w, const struct inotify_event *ev) {
        WatchDir *dir = dir_first(w->dirs, w->n_dirs, ev->wd);
        if (!dir)
                return false;   /* a watch a rebuild removed */
        if (ev->mask & GONE_MASK) {
                w->stale = true;
                return true;
        }
        bool counts = false;
        for (; dir < w->dirs + w->n_dirs && dir->wd == ev->wd; dir++)
                counts |= event_counts(w, dir, ev);
        return counts;
}

size_t integrityd_watch_count(const IntegrityWatch *w) {
        size_t n = 0;
        for (size_t i = 0; i < w->n_dirs; i++)
                n += !i || w->dirs[i - 1].wd != w->dirs[i].wd;
        return n;
}

void integrityd_watch_clear(IntegrityWatch *w) {
        table_clear(w->dirs, w->n_dirs);
        integrity_profiles_free(w->profiles, w->n_profiles);
        w->dirs = NULL;
        w->profiles = NULL;
        w->n_dirs = w->n_profiles = 0;
}
