/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory floor of the daemon: a libvirt client that connects to URI,
 * subscribes to domain lifecycle events and runs the event loop for a
 * moment, and nothing else. Prints its peak RSS as JSON. Whatever the
 * daemon holds above this is virtgov's own. */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <string.h>

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *u) {
        return 0;
}

static void on_tick(int timer, void *u) {
}

static long status_kib(const char *key) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long v = -1;
        while (f && fgets(line, sizeof(line), f))
                if (!strncmp(line, key, strlen(key)))
                        sscanf(line + strlen(key), ": %ld", &v);
        if (f)
                fclose(f);
        return v;
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: virtfloor URI\n");
                return 2;
        }
        virEventRegisterDefaultImpl();
        virConnectPtr c = virConnectOpen(argv[1]);
        if (!c)
                return 1;
        if (virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL) < 0)
                return 1;
        virEventAddTimeout(10, on_tick, NULL, NULL);
        for (int i = 0; i < 10; i++)
                virEventRunDefaultImpl();
        printf("{\"peak_rss_kib\": %ld, \"anon_kib\": %ld, \"file_kib\": %ld}\n", status_kib("VmHWM"),
               status_kib("RssAnon"), status_kib("RssFile"));
        virConnectClose(c);
        return 0;
}
