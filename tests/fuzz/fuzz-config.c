/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtgov.conf: key = value lines, read by the hook, the daemon and the CLI. */
#include "virtgov/util/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Config *c = config_new();
        VgError err = { "" };
        if (!c)
                return 0;
        if (config_parse(c, (const char *) data, size, "fuzz.conf", &err) == 0) {
                (void) config_validate(c, &err);
                config_strv_free(config_split(c->uris));
                config_strv_free(config_split(c->image_dirs));
        }
        config_free(c);
        return 0;
}
