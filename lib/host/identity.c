/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "virtgov/host/identity.h"
#include "virtgov/util/cleanup.h"

int machine_id_read(const char *path, char out[static HOST_ID_SIZE], VgError *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = vg_read_file(path, 256, &buf, &len);
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, vg_read_error(r));
        /* 32 hex digits and a newline; systemd writes lowercase, and a
         * file in another case or length is not one it wrote. */
        size_t n = strspn(buf, "0123456789abcdef");
        if (n != MACHINE_ID_LEN || (len > n && strcmp(buf + n, "\n")) || strspn(buf, "0") == n)
                return vg_error(err, -EINVAL, "%s: not a machine-id (32 lowercase hex digits, not all zero)", path);
        memcpy(out, buf, MACHINE_ID_LEN);
        out[MACHINE_ID_LEN] = '\0';
        return 0;
}

int host_id_of(const Config *c, char out[static HOST_ID_SIZE], VgError *err) {
        if (!c->host_id)
                return machine_id_read(c->machine_id_file, out, err);
        /* config_validate bounds it; a Config built otherwise is checked here */
        if (strlen(c->host_id) >= HOST_ID_SIZE)
                return vg_error(err, -EINVAL, "host_id is longer than %d bytes", HOST_ID_SIZE - 1);
        strcpy(out, c->host_id);
        return 0;
}
