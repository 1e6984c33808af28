/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * integrity-schedule.c's watch table: the profiles' rules and the inotify watches
 * they need, and which inotify events name a path a check looks at.
 * Only integrity-schedule.c calls it; it calls the library, the recorder and the
 * log, nothing above.
 */
#pragma once

#include <stdbool.h>
#include <sys/inotify.h>

#include "daemon.h"
#include "virtgov/integrity/integrity.h"

typedef struct WatchDir {
        int wd;
        char *path;       /* as the rules spell it: an inode reached under two spellings has two rows */
} WatchDir;

typedef struct IntegrityWatch {
        Daemon *d;
        int fd;                     /* inotify (the caller's: opened and closed there) */
        IntegrityProfile **profiles;
        size_t n_profiles;
        bool load_failed;         /* the last refresh could not read them: profiles are older */
        WatchDir *dirs;             /* sorted by wd, then path */
        size_t n_dirs;
        bool limit_said;            /* the watch limit was hit and said */
        bool unread_said;           /* a domain file libvirt holds could not be read, and it was said */
        bool stale;                 /* rebuild the table at the next refresh */
} IntegrityWatch;

/* Whether the configuration names any profile: with none, integrity
 * monitoring is off, nothing watched or checked. */
bool integrityd_configured(const Config *c);

/*
 * Reads the profiles again, as integrity_check does (a domain defined
 * since may name another emulator, a module may have been loaded), and
 * rebuilds the watches when the rules changed or w->stale. A watch limit
 * hit is said once (daemon.degraded) until a rebuild fits again. A profile
 * that cannot be read keeps the old rules (the check says why). True when
 * the rules changed.
 */
bool integrityd_watch_refresh(IntegrityWatch *w);

/* One inotify event (not IN_Q_OVERFLOW): whether it names a path a check
 * looks at. A directory that came, went or moved marks w->stale. */
bool integrityd_watch_event(IntegrityWatch *w, const struct inotify_event *ev);

/* The directories watched (an inode once, however many spellings). */
size_t integrityd_watch_count(const IntegrityWatch *w);

/* Frees the table and the profiles; the watches go with the fd. */
void integrityd_watch_clear(IntegrityWatch *w);
