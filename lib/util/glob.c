/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fnmatch.h>

#include "virtgov/util/glob.h"

bool glob_match(const char *pattern, const char *s) {
        /* fnmatch's error (an unreadable pattern) is not a match. glibc's
         * fnmatch does not backtrack exponentially: a 1,000-byte pattern
         * of stars against a 255-byte name takes microseconds. */
        return pattern && s && fnmatch(pattern, s, 0) == 0;
}
