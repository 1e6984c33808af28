/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one glob matcher: every pattern virtgov matches a name against goes
 * through here, so that a pattern means the same in a policy rule (name,
 * uuid, owner, host) and in a change ticket's domains. Approvals and
 * trusted images have no patterns: they are keyed exactly (a domain's
 * UUID or name, an image's resolved path).
 */
#pragma once

#include <stdbool.h>

/*
 * Whether s matches pattern by fnmatch(3) with no flags: '*', '?' and
 * bracket expressions, negated by '!' or '^' ("vic[!x]*"), a backslash
 * quoting the next character; case-sensitive; '/' and a leading '.' are
 * not special. A NULL pattern or string, or a pattern fnmatch cannot
 * read, matches nothing.
 */
bool glob_match(const char *pattern, const char *s);
