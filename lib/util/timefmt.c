/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virtgov/util/util.h"

int64_t vg_now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void vg_time_format(int64_t us, char buf[static VG_TIME_MAX]) {
        time_t s = (time_t) (us / 1000000);
        long frac = (long) (us % 1000000);
        if (frac < 0) {
                frac += 1000000;
                s -= 1;
        }
        struct tm tm;
        gmtime_r(&s, &tm);
        /* Years past 9999 do not fit RFC 3339 (and not VG_TIME_MAX). */
        unsigned year = (unsigned) (tm.tm_year + 1900) % 10000u;
        snprintf(buf, VG_TIME_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%06luZ",
                 year, (unsigned) (tm.tm_mon + 1) % 100u, (unsigned) tm.tm_mday % 100u,
                 (unsigned) tm.tm_hour % 100u, (unsigned) tm.tm_min % 100u,
                 (unsigned) tm.tm_sec % 100u, (unsigned long) frac % 1000000ul);
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static int parse_age(const char *s, int64_t now_us, int64_t *ret_us) {
        /* "+8h" is that long after now (for --until), "8h" that long ago. */
        int sign = -1;
        if (*s == '+') {
                sign = 1;
                s++;
        }
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno || end == s || n < 0 || !isdigit((unsigned char) *s))
                return -EINVAL;
        int64_t unit;
        if (!strcmp(end, "s"))
                unit = 1;
        else if (!strcmp(end, "m") || !strcmp(end, "min"))
                unit = 60;
        else if (!strcmp(end, "h"))
                unit = 3600;
        else if (!strcmp(end, "d"))
                unit = 86400;
        else if (!strcmp(end, "w"))
                unit = 7 * 86400;
        else
                return -EINVAL;
        if (n > INT64_MAX / 1000000 / unit)
                return -EINVAL;
        *ret_us = now_us + sign * (int64_t) n * unit * 1000000;
        return 0;
}

int vg_time_parse(const char *s, int64_t now_us, int64_t *ret_us) {
        if (!s || !*s)
                return -EINVAL;
        if (!strcmp(s, "now")) {
                *ret_us = now_us;
                return 0;
        }
        if (parse_age(s, now_us, ret_us) == 0)
                return 0;

        const char *p = s;
        struct tm tm = { 0 };
        int y, mo, d, h = 0, mi = 0, sec = 0;
        long frac_us = 0;
        int64_t offset_s = 0;

        if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
            *p++ != '-' || digits(&p, 2, &d) < 0)
                return -EINVAL;
        if (*p == 'T' || *p == 't' || *p == ' ') {
                p++;
                if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (digits(&p, 2, &sec) < 0)
                                return -EINVAL;
                        if (*p == '.' || *p == ',') {
                                p++;
                                long scale = 100000;
                                if (!isdigit((unsigned char) *p))
                                        return -EINVAL;
                                for (; isdigit((unsigned char) *p); p++) {
                                        frac_us += (*p - '0') * scale;
                                        scale /= 10;
                                }
                        }
                }
                if (*p == 'Z' || *p == 'z')
                        p++;
                else if (*p == '+' || *p == '-') {
                        int sign = *p++ == '-' ? -1 : 1, oh, om;
                        if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 ||
                            oh > 23 || om > 59)
                                return -EINVAL;
                        offset_s = sign * (oh * 3600 + om * 60);
                }
        }
        if (*p != '\0')
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;

        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        time_t t = timegm(&tm);
        /* timegm normalises 2026-02-31 to March: refuse dates that moved. */
        struct tm back;
        gmtime_r(&t, &back);
        if (back.tm_mday != d && sec != 60)
                return -EINVAL;
        *ret_us = ((int64_t) t - offset_s) * 1000000 + frac_us;
        return 0;
}
