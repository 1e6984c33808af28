/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "virtgov/host/identity.h"
#include "virtgov/util/cleanup.h"

int host_id_read(const char *path, char out[static HOST_ID_SIZE], VgError *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = vg_read_file(path, 256, &buf, &len);
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, vg_read_error(r));
        /* 32 hex digits and a newline; systemd writes lowercase, and a
         * file in another case or length is not one it wrote. */
        size_t n = strspn(buf, "0123456789abcdef");
        if (n != HOST_ID_SIZE - 1 || (len > n && strcmp(buf + n, "\n")) || strspn(buf, "0") == n)
                return vg_error(err, -EINVAL, "%s: not a machine-id (32 lowercase hex digits, not all zero)", path);
        memcpy(out, buf, HOST_ID_SIZE - 1);
        out[HOST_ID_SIZE - 1] = '\0';
        return 0;
}
