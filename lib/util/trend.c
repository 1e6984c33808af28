/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A figure's trend over time (trend.h). */
#include <errno.h>
#include <math.h>

#include "virtgov/util/trend.h"

#define US_PER_DAY 86400e6

int trend_slope_per_day(const TrendPoint *p, size_t n, double *ret) {
        if (n < 2)
                return -EDOM;
        /* Times from the first point, in days: microseconds since 1970
         * squared would lose the digits that matter. */
        double mx = 0, my = 0;
        for (size_t i = 0; i < n; i++) {
                mx += (double) (p[i].time_us - p[0].time_us) / US_PER_DAY;
                my += p[i].value;
        }
        mx /= (double) n;
        my /= (double) n;
        double sxx = 0, sxy = 0;
        for (size_t i = 0; i < n; i++) {
                double dx = (double) (p[i].time_us - p[0].time_us) / US_PER_DAY - mx;
                sxx += dx * dx;
                sxy += dx * (p[i].value - my);
        }
        if (sxx <= 0 || !isfinite(sxy / sxx))
                return -EDOM;
        *ret = sxy / sxx;
        return 0;
}

int trend_days_until_zero(const TrendPoint *p, size_t n, double now_value, double *ret) {
        double slope;
        if (now_value <= 0) {
                *ret = 0;
                return 0;
        }
        int r = trend_slope_per_day(p, n, &slope);
        if (r < 0)
                return r;
        /* A figure that falls by less than a byte a day is flat. */
        if (slope > -1.0)
                return -EDOM;
        *ret = now_value / -slope;
        return 0;
}
