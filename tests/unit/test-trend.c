/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A figure's trend: the least-squares slope and the days until zero
 * (trend.h), as report capacity tells when a pool is full. */
#include <criterion/criterion.h>
#include <errno.h>

#include "virtgov/util/trend.h"

#define DAY 86400000000LL
#define T0 1765000000000000LL   /* December 2025, in microseconds */

Test(trend, fewer_than_two_points_have_no_slope) {
        TrendPoint p[] = { { T0, 100 } };
        double d = -1;
        cr_expect_eq(trend_slope_per_day(p, 0, &d), -EDOM);
        cr_expect_eq(trend_slope_per_day(p, 1, &d), -EDOM);
        cr_expect_eq(trend_days_until_zero(p, 1, 100, &d), -EDOM);
        cr_expect_eq(d, -1, "*ret untouched on failure");
}

Test(trend, points_at_one_time_have_no_slope) {
        TrendPoint p[] = { { T0, 100 }, { T0, 50 } };
        double d;
        cr_expect_eq(trend_slope_per_day(p, 2, &d), -EDOM);
}

Test(trend, two_points_a_straight_line) {
        /* 1000 GB available, 10 GB less a day: 90 days left from 900. */
        TrendPoint p[] = { { T0, 1000e9 }, { T0 + 10 * DAY, 900e9 } };
        double slope, days;
        cr_assert_eq(trend_slope_per_day(p, 2, &slope), 0);
        cr_expect_float_eq(slope, -10e9, 1);
        cr_assert_eq(trend_days_until_zero(p, 2, 900e9, &days), 0);
        cr_expect_float_eq(days, 90, 1e-9);
}

Test(trend, least_squares_through_noise) {
        /* Least squares, not first and last: those say (95 - 101) / 4 =
         * -1.5 a day; the fit through all five says -1.6. 90 left at 1.6
         * a day is 56.25 days. */
        TrendPoint p[] = { { T0, 101 }, { T0 + DAY, 97 }, { T0 + 2 * DAY, 97 }, { T0 + 3 * DAY, 93 },
                           { T0 + 4 * DAY, 95 } };
        double slope, days;
        cr_assert_eq(trend_slope_per_day(p, 5, &slope), 0);
        cr_expect_float_eq(slope, -1.6, 1e-9);
        cr_assert_eq(trend_days_until_zero(p, 5, 90, &days), 0);
        cr_expect_float_eq(days, 56.25, 1e-9);
}

Test(trend, flat_or_rising_never_fills) {
        TrendPoint flat[] = { { T0, 500 }, { T0 + DAY, 500 }, { T0 + 2 * DAY, 500 } };
        TrendPoint up[] = { { T0, 500 }, { T0 + DAY, 600 } };
        double d;
        cr_expect_eq(trend_days_until_zero(flat, 3, 500, &d), -EDOM);
        cr_expect_eq(trend_days_until_zero(up, 2, 600, &d), -EDOM);
}

Test(trend, already_empty_is_zero_days) {
        TrendPoint up[] = { { T0, 500 }, { T0 + DAY, 600 } };
        double d = -1;
        cr_expect_eq(trend_days_until_zero(up, 2, 0, &d), 0);
        cr_expect_float_eq(d, 0, 1e-12);
}

Test(trend, seconds_apart_still_fit) {
        /* Two records a second apart, a GiB apart: the clock's
         * microseconds must not drown the slope. */
        TrendPoint p[] = { { T0, 2147483648.0 }, { T0 + 1000000, 1073741824.0 } };
        double days;
        cr_assert_eq(trend_days_until_zero(p, 2, 1073741824.0, &days), 0);
        cr_expect_float_eq(days, 1.0 / 86400, 1e-12);
}
