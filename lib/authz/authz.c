/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "virtgov/authz/authz.h"

const char *authz_quote(const char *s, char buf[static 72]) {
        if (!s)
                return "";
        if (strnlen(s, 65) <= 64)
                return s;
        snprintf(buf, 72, "%.64s...", s);
        return buf;
}

int authz_check_length(const char *s, size_t max, VgError *err, const char *fmt, ...) {
        if (!s || strnlen(s, max + 1) <= max)
                return 0;
        char what[160] = "";
        va_list ap;
        va_start(ap, fmt);
        if (err)
                vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return vg_error(err, -ENAMETOOLONG, "%s is %zu bytes, over the limit of %zu", what, strlen(s), max);
}

int authz_check_approval(const Approval *a, VgError *err) {
        char q[72];
        if (!a->key || !*a->key)
                return vg_error(err, -EINVAL, "an approval needs a domain name or UUID");
        int r = authz_check_length(a->key, AUTHZ_NAME_MAX, err, "the approval of '%s': its key",
                                   authz_quote(a->key, q));
        const struct { const char *name, *value; } f[] = {
                { "owner", a->owner }, { "ticket", a->ticket }, { "approver", a->approved_by } };
        for (size_t i = 0; r == 0 && i < sizeof(f) / sizeof(f[0]); i++)
                r = authz_check_length(f[i].value, AUTHZ_NAME_MAX, err, "the approval of '%s': its %s", a->key,
                                       f[i].name);
        return r;
}

int authz_check_image(const ImageRecord *r, VgError *err) {
        char q[72];
        if (!r->path || r->path[0] != '/')
                return vg_error(err, -EINVAL, "trusted image '%s': not an absolute path",
                                authz_quote(r->path, q));
        int k = authz_check_length(r->path, PATH_MAX - 1, err, "trusted image '%s': its path", authz_quote(r->path, q));
        if (k < 0)
                return k;
        return authz_check_length(r->trusted_by, AUTHZ_NAME_MAX, err, "trusted image '%s': trusted_by", r->path);
}
