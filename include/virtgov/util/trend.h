/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A figure's trend over time: the least-squares line through recorded
 * points, and when a falling figure (a storage pool's available bytes)
 * reaches zero at that rate. Pure arithmetic: no I/O, no clock.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct TrendPoint {
        int64_t time_us;   /* when it was recorded */
        double value;
} TrendPoint;

/* The least-squares slope of value over time, in value per day, into
 * *ret. -EDOM when it has none: fewer than 2 points, or all at one time. */
int trend_slope_per_day(const TrendPoint *p, size_t n, double *ret);

/* Days until the value, now now_value, reaches zero at the slope of p's
 * points. -EDOM when it does not: no slope (above), or one that is flat or
 * rising (the figure falls by less than 1 a day), or now_value already at or below 0
 * (then *ret is 0 and the return 0: it is full now). */
int trend_days_until_zero(const TrendPoint *p, size_t n, double now_value, double *ret);
