/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's software and identity, recorded when they change (hostfacts.h). */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <syslog.h>

#include "hostfacts.h"
#include "log.h"
#include "recorder.h"
#include "virtgov/host/identity.h"
#include "virtgov/model/xmldom.h"
#include "virtgov/util/cleanup.h"

static int last_data(const Event *e, void *userdata) {
        json_t **ret = userdata;
        json_decref(*ret);
        *ret = json_incref(e->data);
        return 0;
}

/* The data of the last event of kind for c's host, or NULL (none, or
 * unreadable: then said, and recorded anew: unknown is not unchanged). */
static json_t *last_of(Conn *c, const char *kind) {
        json_t *last = NULL;
        EventFilter f = { .kind = kind, .host = c->host, .limit = 1 };
        VgError err = { "" };
        if (store_query_events(recorder_store(c->d->rec), &f, last_data, &last, &err) < 0)
                log_msg(LOG_WARNING, "'%s': the last %s is unreadable (%s): recording it anew", c->uri, kind,
                        err.text);
        return last;
}

/* Records kind with data[key] = now (and previous = what was) when now
 * differs from the last one. */
static void note(Conn *c, const char *kind, const char *key, json_t *now) {
        json_t *last = last_of(c, kind);
        json_t *was = last ? json_object_get(last, key) : NULL;
        if (!was || !json_equal(was, now)) {
                Event *e = event_new("daemon", kind);
                if (e) {
                        event_set(&e->host, c->host);
                        json_object_set(e->data, key, now);
                        if (was)
                                json_object_set(e->data, "previous", was);
                        recorder_record(c->d->rec, e);
                } else
                        log_not_recorded(kind, NULL);
        }
        json_decref(last);
}

/* libvirt, QEMU and kernel versions. */
static void note_software(Conn *c) {
        unsigned long lib = 0, hv = 0;
        char buf[64];
        json_t *now = json_object();
        if (virConnectGetLibVersion(c->conn, &lib) == 0) {
                snprintf(buf, sizeof(buf), "%lu.%lu.%lu", lib / 1000000, lib / 1000 % 1000, lib % 1000);
                json_object_set_new(now, "libvirt", json_string(buf));
        }
        if (virConnectGetVersion(c->conn, &hv) == 0) {
                snprintf(buf, sizeof(buf), "%lu.%lu.%lu", hv / 1000000, hv / 1000 % 1000, hv % 1000);
                json_object_set_new(now, "hypervisor", json_string(buf));
        }
        const char *type = virConnectGetType(c->conn);
        if (type)
                json_object_set_new(now, "driver", json_string(type));
        struct utsname u;
        if (c->local && uname(&u) == 0)
                json_object_set_new(now, "kernel", json_string(u.release));

        note(c, "host.software", "versions", now);
        json_decref(now);
}

/* libvirt's UUID of the host (its capabilities' <host><uuid>), or NULL. */
static char *libvirt_host_uuid(Conn *c) {
        _cleanup_free_ char *caps = virConnectGetCapabilities(c->conn);
        _cleanup_(xmldom_freep) XNode *root = NULL;
        VgError err = { "" };
        if (!caps || xmldom_parse(caps, strlen(caps), &root, &err) < 0)
                return NULL;
        XNode *host = xnode_child(root, "host"), *uuid = host ? xnode_child(host, "uuid") : NULL;
        return uuid ? xnode_text(uuid) : NULL;
}

/* The machine-id (local connections only: a remote host's is not ours
 * to read) and libvirt's host UUID. A central log names a host by them;
 * a change (a reinstall, a cloned disk, a moved inventory) is an event. */
static void note_identity(Conn *c) {
        json_t *now = json_object();
        if (!now) {
                log_not_recorded("host.identity", NULL);
                return;
        }
        if (c->local) {
                char id[HOST_ID_SIZE];
                VgError err = { "" };
                if (machine_id_read(c->d->config->machine_id_file, id, &err) == 0)
                        json_object_set_new(now, "machine_id", json_string(id));
                else
                        log_msg(LOG_WARNING, "host.identity without the machine-id: %s", err.text);
                /* the id the host goes by when config sets one */
                if (c->d->config->host_id)
                        json_object_set_new(now, "host_id", json_string(c->d->config->host_id));
        }
        _cleanup_free_ char *uuid = libvirt_host_uuid(c);
        if (uuid)
                json_object_set_new(now, "libvirt_uuid", event_json_string(uuid));
        else
                log_msg(LOG_WARNING, "'%s': host.identity without libvirt's host UUID: %s", c->uri,
                        virGetLastErrorMessage());
        note(c, "host.identity", "identity", now);
        json_decref(now);
}

/* The host's logical CPUs and memory (libvirt's node information): what
 * the fleet report divides the running domains' vCPUs and memory by. The
 * free memory is left out: it changes every second, and each change would
 * be an event; the centre reckons the headroom from the domains instead. */
static void note_capacity(Conn *c) {
        virNodeInfo ni;
        if (virNodeGetInfo(c->conn, &ni) < 0) {
                log_msg(LOG_WARNING, "'%s': host.capacity not recorded: the node's information is unreadable: %s",
                        c->uri, virGetLastErrorMessage());
                return;
        }
        ni.model[sizeof(ni.model) - 1] = '\0';
        json_t *now = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "cpus", (json_int_t) ni.cpus,
                                "memory_kib", (json_int_t) ni.memory, "mhz", (json_int_t) ni.mhz, "nodes",
                                (json_int_t) ni.nodes, "sockets", (json_int_t) ni.sockets, "cores",
                                (json_int_t) ni.cores, "threads", (json_int_t) ni.threads, "model", ni.model);
        if (!now) {
                log_not_recorded("host.capacity", NULL);
                return;
        }
        note(c, "host.capacity", "node", now);
        json_decref(now);
}

void hostfacts_note(Conn *c) {
        note_software(c);
        note_identity(c);
        note_capacity(c);
}
