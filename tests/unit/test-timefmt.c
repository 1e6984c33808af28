/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "test-helpers.h"

static int64_t parse(const char *s) {
        int64_t us = 0;
        cr_assert_eq(vg_time_parse(s, 1000000000000000LL, &us), 0, "parse '%s'", s);
        return us;
}

Test(timefmt, format_is_rfc3339_utc_with_microseconds) {
        char buf[VG_TIME_MAX];
        vg_time_format(1795370141123456LL, buf);
        cr_assert_str_eq(buf, "2026-11-22T17:55:41.123456Z");
        vg_time_format(0, buf);
        cr_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
}

Test(timefmt, parse_round_trips_format) {
        char buf[VG_TIME_MAX];
        int64_t now = vg_now_us();
        vg_time_format(now, buf);
        cr_assert_eq(parse(buf), now);
}

Test(timefmt, parse_accepts_the_documented_forms) {
        cr_assert_eq(parse("2026-11-22T17:55:41Z"), 1795370141000000LL);
        cr_assert_eq(parse("2026-11-22T17:55:41.5Z"), 1795370141500000LL);
        cr_assert_eq(parse("2026-11-23T03:55:41+10:00"), 1795370141000000LL);
        cr_assert_eq(parse("2026-11-22 17:55:41"), 1795370141000000LL);
        cr_assert_eq(parse("2026-11-22 17:55"), 1795370100000000LL);
        cr_assert_eq(parse("2026-11-22"), 1795305600000000LL);
        cr_assert_eq(parse("now"), 1000000000000000LL);
        cr_assert_eq(parse("30s"), 1000000000000000LL - 30000000LL);
        cr_assert_eq(parse("2h"), 1000000000000000LL - 7200000000LL);
        cr_assert_eq(parse("7d"), 1000000000000000LL - 7LL * 86400000000LL);
        cr_assert_eq(parse("1w"), 1000000000000000LL - 7LL * 86400000000LL);
        cr_assert_eq(parse("+8h"), 1000000000000000LL + 8LL * 3600000000LL);
}

Test(timefmt, parse_refuses_what_is_not_a_time) {
        const char *bad[] = { "", "yesterday", "2026-13-01", "2026-02-31", "2026-11-22T25:00Z",
                              "2026-11-22T10:00:00+1000", "2026-11-22Tjunk", "-5m", "5 m", "+", "+x", "++1h",
                              "99999999999999999999d", "2026-11-22T10:00:00.Z", "2026-1-2" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int64_t us;
                cr_expect_eq(vg_time_parse(bad[i], 0, &us), -EINVAL, "'%s' was accepted", bad[i]);
        }
}

/* vg_grow (util.c, beside the time functions): each element lands zeroed
 * and keeps its value across the doublings (ASan sees any write past the
 * storage it derives from the count). */
Test(util, grow_keeps_elements_across_doublings) {
        long *a = NULL;
        size_t n = 0;
        for (long i = 0; i < 1000; i++) {
                cr_assert_eq(vg_grow((void **) &a, &n, sizeof(*a)), 0);
                cr_assert_eq(n, (size_t) i + 1);
                cr_assert_eq(a[i], 0);
                a[i] = i * 7;
        }
        for (long i = 0; i < 1000; i++)
                cr_assert_eq(a[i], i * 7);
        /* Shrinking by lowering the count, then growing again. */
        n = 3;
        for (long i = 3; i < 40; i++) {
                cr_assert_eq(vg_grow((void **) &a, &n, sizeof(*a)), 0);
                a[i] = -i;
        }
        cr_assert_eq(a[2], 14);
        cr_assert_eq(a[39], -39);
        free(a);
}
