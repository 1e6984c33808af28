/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's log: "2026-11-30 03:30:12 upgrade libc6:amd64 2.36-9 2.36-10" and
 * its kin, read into the last transaction per package. Rotated logs are
 * read too, the .gz ones through zlib (in every Debian base system). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dpkg-priv.h"

/* A dpkg.log grows by about 50 bytes a line; years of a busy host stay
 * well under this. */
#define DPKG_LOG_MAX (256 * 1024 * 1024)
/* logrotate keeps 12 by Debian's default; more is still read, up to this. */
#define DPKG_LOG_ROTATIONS_MAX 100

static bool digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* "YYYY-MM-DD HH:MM:SS" in local time, as dpkg writes it. */
static bool parse_time(const char *s, int64_t *ret_us) {
        struct tm tm = { .tm_isdst = -1 };
        if (s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' ||
            !digits(s, 4, &tm.tm_year) || !digits(s + 5, 2, &tm.tm_mon) || !digits(s + 8, 2, &tm.tm_mday) ||
            !digits(s + 11, 2, &tm.tm_hour) || !digits(s + 14, 2, &tm.tm_min) || !digits(s + 17, 2, &tm.tm_sec) ||
            tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60)
                return false;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = mktime(&tm);
        if (t == (time_t) -1)
                return false;
        *ret_us = (int64_t) t * 1000000;
        return true;
}

/* Splits the words after the time into w (at most max), in a copy. */
static size_t split_words(char *s, char **w, size_t max) {
        size_t n = 0;
        for (char *save = NULL, *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                if (n == max)
                        return max + 1;
                w[n++] = t;
        }
        return n;
}

static bool copy_word(char *dst, size_t size, const char *src) {
        if (!strcmp(src, "<none>"))
                src = "";
        return (size_t) snprintf(dst, size, "%s", src) < size;
}

static DpkgAction action_from(const char *w) {
        for (DpkgAction a = DPKG_ACTION_INSTALL; a < _DPKG_ACTION_MAX; a++)
                if (!strcmp(dpkg_action_to_string(a), w))
                        return a;
        return DPKG_ACTION_NONE;
}

int dpkg_log_parse_line(const char *line, size_t len, DpkgLogLine *ret) {
        char buf[1024];
        /* 20 for the time; the rest is 4 words of at most 255 each. */
        if (len < 21 || len >= sizeof(buf) || memchr(line, '\0', len) || line[19] != ' ')
                return -EINVAL;
        DpkgLogLine l = { 0 };
        if (!parse_time(line, &l.time_us))
                return -EINVAL;
        memcpy(buf, line + 20, len - 20);
        buf[len - 20] = '\0';
        char *w[4];
        size_t n = split_words(buf, w, 4);
        if (n == 0 || (l.action = action_from(w[0])) == DPKG_ACTION_NONE)
                return -EINVAL;
        switch (l.action) {
        case DPKG_ACTION_STARTUP:       /* startup archives unpack */
        case DPKG_ACTION_CONFFILE:      /* conffile /etc/foo install|keep */
                if (n != 3)
                        return -EINVAL;
                break;
        case DPKG_ACTION_STATUS:        /* status installed pkg:arch version */
                if (n != 4 || !copy_word(l.state, sizeof(l.state), w[1]) ||
                    !copy_word(l.package, sizeof(l.package), w[2]) ||
                    !copy_word(l.new_version, sizeof(l.new_version), w[3]))
                        return -EINVAL;
                break;
        default:                        /* upgrade pkg:arch old new, and the rest */
                if (n != 4 || !copy_word(l.package, sizeof(l.package), w[1]) ||
                    !copy_word(l.old_version, sizeof(l.old_version), w[2]) ||
                    !copy_word(l.new_version, sizeof(l.new_version), w[3]))
                        return -EINVAL;
        }
        if ((l.action != DPKG_ACTION_STARTUP && l.action != DPKG_ACTION_CONFFILE) && !l.package[0])
                return -EINVAL;
        *ret = l;
        return 0;
}

static const char *change_key(const Dpkg *d, uint32_t i) {
        return d->changes[i].package;
}

static int record_line(Dpkg *d, const DpkgLogLine *l) {
        bool unpack = l->action == DPKG_ACTION_INSTALL || l->action == DPKG_ACTION_UPGRADE ||
                      l->action == DPKG_ACTION_REMOVE || l->action == DPKG_ACTION_PURGE;
        /* Trigger runs and status lines change no file of the package:
         * libc-bin is "triggered" by every library installed. */
        if (!unpack && l->action != DPKG_ACTION_CONFIGURE)
                return 0;
        d->change_map.key = change_key;
        uint32_t i = dpkg_map_get(d, &d->change_map, l->package);
        if (i == DPKG_NONE) {
                if (vg_grow((void **) &d->changes, &d->n_changes, sizeof(DpkgLogEntry)) < 0)
                        return -ENOMEM;
                i = (uint32_t) (d->n_changes - 1);
                if (!(d->changes[i].package = strdup(l->package)) || dpkg_map_put(d, &d->change_map, i) < 0) {
                        free(d->changes[i].package);
                        d->n_changes--;
                        return -ENOMEM;
                }
        }
        DpkgChange *c = &d->changes[i].change;
        /* Later lines win even if the clock went back a little: the files
         * are read oldest first and dpkg appends. */
        if (unpack) {
                c->action = l->action;
                c->time_us = l->time_us;
                memcpy(c->old_version, l->old_version, sizeof(c->old_version));
                memcpy(c->new_version, l->new_version, sizeof(c->new_version));
        }
        if (l->time_us > c->last_time_us)
                c->last_time_us = l->time_us;
        return 0;
}

int dpkg_parse_log(Dpkg *d, const char *buf, size_t len, const char *name) {
        DpkgLines it = { buf, buf + len, 0 };
        const char *line;
        size_t n;
        bool nul;
        while (dpkg_next_line(&it, &line, &n, &nul)) {
                DpkgLogLine l;
                if (n == 0)
                        continue;
                if (dpkg_log_parse_line(line, n, &l) < 0) {
                        dpkg_skip(d, name, it.lineno, "not a line dpkg writes");
                        continue;
                }
                d->stats.n_log_lines++;
                if (record_line(d, &l) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A whole .gz into memory, at most max bytes. */
static int read_gz(const char *path, size_t max, char **ret_buf, size_t *ret_len) {
        gzFile gz = gzopen(path, "rbe");
        if (!gz)
                return errno ? -errno : -ENOMEM;
        size_t len = 0, cap = 65536;
        _cleanup_free_ char *buf = malloc(cap + 1);
        int r = buf ? 0 : -ENOMEM, n = 0;
        while (r == 0 && (n = gzread(gz, buf + len, (unsigned) (cap - len))) > 0) {
                len += (size_t) n;
                if (len > max)
                        r = -EFBIG;
                else if (len == cap) {
                        char *b = realloc(buf, cap * 2 + 1);
                        if (!b)
                                r = -ENOMEM;
                        else
                                buf = b, cap *= 2;
                }
        }
        if (r == 0 && n < 0)
                r = -EIO;      /* a truncated or corrupt archive */
        gzclose(gz);
        if (r < 0)
                return r;
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int read_one_log(Dpkg *d, const char *path, bool gz, VgError *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = gz ? read_gz(path, DPKG_LOG_MAX, &buf, &len) : vg_read_file(path, DPKG_LOG_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, r == -EIO ? "not a whole gzip file" : strerror(-r));
        if (dpkg_parse_log(d, buf, len, path) < 0)
                return vg_error(err, -ENOMEM, "%s: out of memory", path);
        return 1;
}

static int load_log(Dpkg *d, VgError *err) {
        /* Oldest first: LOGFILE.N.gz down to .2.gz, then .1, then LOGFILE. */
        int last = 1;
        for (int i = 2; i <= DPKG_LOG_ROTATIONS_MAX; i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s.%d.gz", d->logfile, i) < 0)
                        return -ENOMEM;
                if (access(p, F_OK) < 0)
                        break;
                last = i;
        }
        for (int i = last; i >= 0; i--) {
                _cleanup_free_ char *p = NULL;
                int r = i == 0 ? asprintf(&p, "%s", d->logfile)
                      : i == 1 ? asprintf(&p, "%s.1", d->logfile) : asprintf(&p, "%s.%d.gz", d->logfile, i);
                if (r < 0)
                        return -ENOMEM;
                if ((r = read_one_log(d, p, i >= 2, err)) < 0)
                        return r;
        }
        d->log_loaded = true;
        return 0;
}

int dpkg_last_change(Dpkg *d, const char *package, DpkgChange *ret, VgError *err) {
        if (!d->log_loaded) {
                int r = load_log(d, err);
                if (r < 0)
                        return r;
        }
        uint32_t i = dpkg_map_get(d, &d->change_map, package);
        if (i == DPKG_NONE)
                return -ENOENT;
        *ret = d->changes[i].change;
        return 0;
}
