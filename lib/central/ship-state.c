/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipper's state (ship.h): the host's row, its installation, its
 * signed head, and its domains, disks and interfaces, replaced in the
 * centre in one transaction, with the integrity state (ship-integrity.c).
 * The inventory is read twice when the state changed (once for its
 * digest, once to send it) rather than held: the daemon's memory does not
 * grow with the number of domains.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ship-priv.h"
#include "virtgov/util/cleanup.h"

/* ---- the digest (ship_digest_add) ---- */

static void digest_int(uint64_t *h, long long v) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", v);
        ship_digest_add(h, buf);
}

static int digest_domain(const DomainRow *d, void *u) {
        uint64_t *h = u;
        const char *f[] = { d->uuid, d->name, d->state, d->owner, d->ticket, d->purpose, d->first_seen,
                            d->last_seen, d->last_start, d->last_stop, d->facts };
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                ship_digest_add(h, f[i]);
        digest_int(h, d->persistent);
        return 0;
}

static int digest_device(const DeviceRow *d, void *u) {
        uint64_t *h = u;
        const char *f[] = { d->uuid, d->type, d->source, d->target, d->mac, d->backing };
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                ship_digest_add(h, f[i]);
        digest_int(h, d->kind * 4 + d->readonly * 2 + d->shareable);
        return 0;
}

/* ---- the host's facts ---- */

void ship_state_clear(ShipState *st) {
        HostFacts *f = &st->facts;
        free(f->libvirt_uuid);
        free(f->libvirt);
        free(f->qemu);
        free(f->kernel);
        free(f->lock_manager);
}

/* A string member of the newest event of kind's data[obj], or NULL. */
static char *newest(Store *s, const char *kind, const char *obj, const char *key) {
        _cleanup_(event_freep) Event *e = NULL;
        VgError err = { "" };
        if (store_last_event(s, kind, &e, &err) < 0)
                return NULL;
        const char *v = json_string_value(json_object_get(json_object_get(e->data, obj), key));
        return v ? strdup(v) : NULL;
}

/* An integer member of the newest event of kind's data[obj], or -1. */
static long long newest_int(Store *s, const char *kind, const char *obj, const char *key) {
        _cleanup_(event_freep) Event *e = NULL;
        VgError err = { "" };
        if (store_last_event(s, kind, &e, &err) < 0)
                return -1;
        json_t *v = json_object_get(json_object_get(e->data, obj), key);
        return json_is_integer(v) && json_integer_value(v) >= 0 ? (long long) json_integer_value(v) : -1;
}

/* qemu.conf's lock_manager ("" when not set), or NULL when unreadable. */
static char *lock_manager(const char *path) {
        if (!path)
                return NULL;
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char line[512];
        char *found = NULL;
        while (!found && fgets(line, sizeof(line), f)) {
                char *p = line + strspn(line, " \t");
                if (strncmp(p, "lock_manager", 12) != 0)
                        continue;
                p += 12 + strspn(p + 12, " \t");
                if (*p != '=')
                        continue;
                p += 1 + strspn(p + 1, " \t\"");
                p[strcspn(p, "\"\n")] = '\0';
                found = p;
        }
        fclose(f);
        return strdup(found ? found : "");
}

static void host_facts_read(Store *s, const ShipRound *r, HostFacts *f) {
        VgError err = { "" };
        *f = (HostFacts) { 0 };
        gethostname(f->hostname, sizeof(f->hostname) - 1);
        if (machine_id_read(r->machine_id_file, f->machine_id, &err) < 0)
                f->machine_id[0] = '\0';
        f->libvirt_uuid = newest(s, "host.identity", "identity", "libvirt_uuid");
        f->libvirt = newest(s, "host.software", "versions", "libvirt");
        f->qemu = newest(s, "host.software", "versions", "hypervisor");
        f->kernel = newest(s, "host.software", "versions", "kernel");
        f->lock_manager = lock_manager(r->qemu_conf);
        f->cpus = newest_int(s, "host.capacity", "node", "cpus");
        f->memory_kib = newest_int(s, "host.capacity", "node", "memory_kib");
}

static uint64_t digest_host(const HostFacts *f, const ShipRound *r) {
        uint64_t h = SHIP_DIGEST_SEED;
        const char *v[] = { f->hostname, f->machine_id, f->libvirt_uuid, f->libvirt, f->qemu, f->kernel,
                            f->lock_manager, r->host_group, r->instance };
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                ship_digest_add(&h, v[i]);
        digest_int(&h, f->cpus);
        digest_int(&h, f->memory_kib);
        return h;
}

static const char *tri(int v) {
        return v < 0 ? NULL : v ? "true" : "false";
}

static int send_domain(const DomainRow *d, void *u) {
        Rows *w = u;
        json_t *facts = d->facts ? json_loads(d->facts, 0, NULL) : NULL;
        json_t *vcpus = json_object_get(facts, "vcpus"), *mem = json_object_get(facts, "memory_kib");
        ShipParams *p = &w->p;
        int k = ship_param(p, d->uuid) | ship_param(p, d->name) | ship_param(p, d->state) |
                ship_param(p, tri(d->persistent)) | ship_param(p, d->owner) | ship_param(p, d->ticket) |
                ship_param(p, d->purpose);
        k |= json_is_integer(vcpus) ? ship_paramf(p, "%lld", (long long) json_integer_value(vcpus)) : ship_param(p, NULL);
        k |= json_is_integer(mem) ? ship_paramf(p, "%lld", (long long) json_integer_value(mem)) : ship_param(p, NULL);
        k |= ship_param(p, d->first_seen) | ship_param(p, d->last_seen) | ship_param(p, d->last_start) |
             ship_param(p, d->last_stop);
        json_decref(facts);
        return ship_rows_end(w, k);
}

typedef struct Devices {
        Rows disks, ifaces;
        char uuid[64];
        unsigned n_disks, n_ifaces;
} Devices;

static int send_device(const DeviceRow *d, void *u) {
        Devices *v = u;
        if (strcmp(v->uuid, d->uuid ? d->uuid : "")) {
                snprintf(v->uuid, sizeof(v->uuid), "%s", d->uuid ? d->uuid : "");
                v->n_disks = v->n_ifaces = 0;
        }
        if (d->kind == DEVICE_DISK) {
                ShipParams *p = &v->disks.p;
                int k = ship_param(p, d->uuid) | ship_paramf(p, "%u", v->n_disks++) | ship_param(p, d->type) |
                        ship_param(p, d->source) | ship_param(p, d->target) | ship_param(p, tri(d->readonly)) |
                        ship_param(p, tri(d->shareable)) | ship_param(p, d->backing);
                return ship_rows_end(&v->disks, k);
        }
        ShipParams *p = &v->ifaces.p;
        int k = ship_param(p, d->uuid) | ship_paramf(p, "%u", v->n_ifaces++) | ship_param(p, d->type) |
                ship_param(p, d->source) | ship_param(p, d->target) | ship_param(p, d->mac);
        return ship_rows_end(&v->ifaces, k);
}

static const char *const domain_expr[] = { "@::text", "@::text", "@::text", "@::boolean", "@::text", "@::text",
                                           "@::text", "@::integer", "@::bigint", "@::text", "@::text", "@::text",
                                           "@::text" };
/* The backing chain's JSON array as text[] (NULL stays NULL). */
#define BACKING_EXPR "CASE WHEN @::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(@::jsonb)) END"
static const char *const disk_expr[] = { "@::text", "@::integer", "@::text", "@::text", "@::text", "@::boolean",
                                         "@::boolean",
                                         BACKING_EXPR };
static const char *const iface_expr[] = { "@::text", "@::integer", "@::text", "@::text", "@::text", "@::text" };

/* DELETE and INSERT of this host's domains, disks and interfaces. */
static int replace_domains(Central *c, Store *s, const ShipRound *r, VgError *err) {
        const char *const tables[] = { "interfaces", "disks", "domains" };
        int k = ship_clear(c, r->host_id, tables, ELEMENTSOF(tables), err);
        if (k < 0)
                return k;
        Rows dom;
        k = ship_rows_init(&dom, c, r, "INSERT INTO virtgov.domains (host_id, uuid, name, state, persistent, owner, "
                       "ticket, purpose, vcpus, memory_kib, first_seen, last_seen, last_start, last_stop) VALUES ",
                       domain_expr, ELEMENTSOF(domain_expr), "shipping the domains", err);
        if (k >= 0 && (k = store_list_domains(s, LIST_FACTS_TEXT, send_domain, &dom, err)) >= 0)
                k = ship_rows_flush(&dom);
        ship_params_clear(&dom.p);
        if (k < 0)
                return k;
        Devices v = { 0 };
        if ((k = ship_rows_init(&v.disks, c, r, "INSERT INTO virtgov.disks (host_id, uuid, idx, type, source, target, "
                           "readonly, shareable, backing) VALUES ", disk_expr, ELEMENTSOF(disk_expr),
                           "shipping the disks", err)) >= 0 &&
            (k = ship_rows_init(&v.ifaces, c, r, "INSERT INTO virtgov.interfaces (host_id, uuid, idx, type, source, "
                           "target, mac) VALUES ", iface_expr, ELEMENTSOF(iface_expr), "shipping the interfaces",
                           err)) >= 0 &&
            (k = store_devices(s, send_device, &v, err)) >= 0 && (k = ship_rows_flush(&v.disks)) >= 0)
                k = ship_rows_flush(&v.ifaces);
        ship_params_clear(&v.disks.p);
        ship_params_clear(&v.ifaces.p);
        return k;
}

/* ---- the host's row, its installation, its head ---- */

static int upsert_host(Central *c, Store *s, const ShipRound *r, const HostFacts *f, int64_t head, VgError *err) {
        _cleanup_(ship_params_clear) ShipParams p = { 0 };
        _cleanup_free_ char *line = NULL;
        char pub[2 * HEAD_KEY_SIZE + 1] = "";
        Head h = { .id = head };
        if (r->key)
                head_key_public_hex(r->key, pub);
        if (h.id > 0) {
                int k = store_chain_hash(s, h.id, h.hash, err);
                if (k < 0)
                        return k;
                snprintf(h.host, sizeof(h.host), "%s", r->host_id);
                vg_time_format(vg_now_us(), h.time);
                if (head_format(&h, r->key, &line) < 0)
                        return vg_error(err, -ENOMEM, "out of memory");
        }
        const char *sig = line ? strstr(line, " sig=") : NULL;
        int k = ship_param(&p, r->host_id) | ship_param(&p, r->host_group ? r->host_group : "") |
                ship_param(&p, f->hostname[0] ? f->hostname : NULL) |
                ship_param(&p, f->machine_id[0] ? f->machine_id : NULL) | ship_param(&p, f->libvirt_uuid) |
                ship_param(&p, r->instance) | ship_param(&p, f->libvirt) | ship_param(&p, f->qemu) |
                ship_param(&p, f->kernel) | ship_param(&p, f->lock_manager) |
                ship_paramf(&p, "%lld", (long long) head) |
                (h.id ? ship_paramf(&p, "%lld", (long long) h.id) : ship_param(&p, NULL)) |
                ship_param(&p, h.id ? h.hash : NULL) | ship_param(&p, h.id ? h.time : NULL) |
                ship_param(&p, sig ? sig + 5 : NULL) | ship_param(&p, pub[0] ? pub : NULL) |
                (f->cpus >= 0 ? ship_paramf(&p, "%lld", f->cpus) : ship_param(&p, NULL)) |
                (f->memory_kib >= 0 ? ship_paramf(&p, "%lld", f->memory_kib) : ship_param(&p, NULL));
        if (k)
                return vg_error(err, -ENOMEM, "out of memory");
        /* One statement: the row, the installation's last_seen, and the
         * head. virtgov.heads keeps one head an hour at most (the row
         * holds the newest): a row per round would be 500 a second at
         * 5,000 hosts. */
        return ship_exec(c, "WITH inst AS (INSERT INTO virtgov.host_instances (host_id, instance) SELECT "
                         "$1::text, $6::text WHERE $6::text IS NOT NULL ON CONFLICT (host_id, instance) DO UPDATE "
                         "SET last_seen = now()), head AS (INSERT INTO virtgov.heads (host_id, seq, hash, time, sig) "
                         "SELECT $1::text, $12::bigint, $13::text, $14::text, $15::text WHERE $12::bigint IS NOT "
                         "NULL AND NOT EXISTS (SELECT FROM (SELECT received FROM virtgov.heads WHERE host_id = $1 "
                         "ORDER BY seq DESC LIMIT 1) l WHERE l.received > now() - interval '1 hour') ON CONFLICT DO "
                         "NOTHING) "
                         "INSERT INTO virtgov.hosts (host_id, host_group, hostname, machine_id, libvirt_uuid, "
                         "instance, libvirt_version, qemu_version, kernel, lock_manager, shipped_seq, head_seq, "
                         "head_hash, head_time, head_sig, host_key, cpus, memory_kib, updated) VALUES ($1, $2, $3, "
                         "$4, $5, $6, $7, $8, $9, $10, $11::bigint, $12::bigint, $13, $14, $15, $16, $17::integer, "
                         "$18::bigint, now()) ON CONFLICT (host_id) DO UPDATE SET host_group = EXCLUDED.host_group, "
                         "hostname = EXCLUDED.hostname, machine_id = EXCLUDED.machine_id, libvirt_uuid = "
                         "EXCLUDED.libvirt_uuid, instance = EXCLUDED.instance, libvirt_version = "
                         "EXCLUDED.libvirt_version, qemu_version = EXCLUDED.qemu_version, kernel = EXCLUDED.kernel, "
                         "lock_manager = EXCLUDED.lock_manager, shipped_seq = EXCLUDED.shipped_seq, head_seq = "
                         "coalesce(EXCLUDED.head_seq, virtgov.hosts.head_seq), head_hash = coalesce("
                         "EXCLUDED.head_hash, virtgov.hosts.head_hash), head_time = coalesce(EXCLUDED.head_time, "
                         "virtgov.hosts.head_time), head_sig = EXCLUDED.head_sig, host_key = EXCLUDED.host_key, "
                         "cpus = EXCLUDED.cpus, memory_kib = EXCLUDED.memory_kib, updated = now()",
                         &p, PGRES_COMMAND_OK, "shipping the host's row and head", NULL, err);
}

int ship_state_read(Store *s, const ShipRound *r, ShipState *st, VgError *err) {
        host_facts_read(s, r, &st->facts);
        uint64_t h = digest_host(&st->facts, r);
        int k = store_list_domains(s, LIST_FACTS_TEXT, digest_domain, &h, err);
        if (k < 0 || (k = store_devices(s, digest_device, &h, err)) < 0 ||
            (k = ship_integrity_digest(s, &st->integrity_digest, err)) < 0)
                return k;
        st->digest = h | 1;   /* never 0, which asks for the state */
        st->domains = st->digest != r->state_digest;
        st->integrity = st->integrity_digest != r->integrity_digest;
        return 0;
}

int ship_state_write(Central *c, Store *s, const ShipRound *r, const ShipState *st, int64_t head, VgError *err) {
        int k = upsert_host(c, s, r, &st->facts, head, err);
        if (k >= 0 && st->domains)
                k = replace_domains(c, s, r, err);
        if (k >= 0 && st->integrity)
                k = ship_integrity(c, s, r, err);
        return k;
}

void ship_state_done(ShipRound *r, const ShipState *st) {
        r->new_state_digest = st->digest;
        r->state_shipped = st->domains;
        r->new_integrity_digest = st->integrity_digest;
        r->integrity_shipped = st->integrity;
}
