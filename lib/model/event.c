/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/event.h"
#include "virtgov/util/jsontext.h"
#include "virtgov/util/text.h"
#include "virtgov/util/util.h"

/* 32 hex digits: the time in milliseconds (48 bits), then 80 random bits.
 * Unique without coordination between the hook, the daemon and other
 * hosts: two refs alike need the same millisecond and the same 80 random
 * bits. The time first puts refs in about the order they are appended, so
 * that the events' UNIQUE index on ref grows at its right edge: with 128
 * random bits each append dirtied a leaf page of it anywhere, and a write
 * transaction of 100 events wrote about 100 of those pages to the WAL and
 * waited for them in its fdatasync (bench/ingest: 3.95 writes per event
 * to 1.79, 13,500 to 17,000 events/s). */
static int make_ref(int64_t now_us, char **ret) {
        unsigned char b[10];
        size_t got = 0;
        while (got < sizeof(b)) {
                ssize_t k = getrandom(b + got, sizeof(b) - got, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) k;
        }
        char *s = malloc(33);
        if (!s)
                return -ENOMEM;
        /* 48 bits of milliseconds, big-endian, then the random bits. */
        uint64_t ms = (uint64_t) now_us / 1000;
        uint8_t t[6];
        for (int i = 5; i >= 0; i--, ms >>= 8)
                t[i] = ms & 0xff;
        vg_hex(t, sizeof(t), s);
        vg_hex(b, sizeof(b), s + 12);
        *ret = s;
        return 0;
}

Event *event_new(const char *source, const char *kind) {
        _cleanup_(event_freep) Event *e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        int64_t now = vg_now_us();
        vg_time_format(now, e->time);
        e->source = strdup(source);
        e->kind = strdup(kind);
        e->data = json_object();
        if (!e->source || !e->kind || !e->data || make_ref(now, &e->ref) < 0)
                return NULL;

        char host[256];
        if (gethostname(host, sizeof(host)) == 0) {
                host[sizeof(host) - 1] = '\0';
                e->host = strdup(host);
        }
        return TAKE_PTR(e);
}

Event *event_free(Event *e) {
        if (!e)
                return NULL;
        free(e->ref);
        free(e->source);
        free(e->kind);
        free(e->host);
        free(e->domain);
        free(e->uuid);
        free(e->decision);
        free(e->reason);
        free(e->actor);
        json_decref(e->data);
        free(e);
        return NULL;
}

int event_set(char **field, const char *value) {
        char *n = NULL;
        if (value && !(n = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = n;
        return 0;
}

json_t *event_json_string(const char *s) {
        if (!s)
                return json_null();
        json_t *j = json_string(s);
        /* Invalid UTF-8 (a hostile domain name) must not drop the field:
         * keep it with the bad bytes replaced. */
        if (!j) {
                _cleanup_free_ char *copy = strdup(s);
                if (!copy)
                        return NULL;
                for (unsigned char *p = (unsigned char *) copy; *p; p++)
                        if (*p >= 0x80)
                                *p = '?';
                j = json_string(copy);
        }
        return j;
}

int event_json_set_name(json_t *o, const char *key, const char *s) {
        _cleanup_free_ char *hex = NULL, *bytes_key = NULL;
        if (vg_text_bytes_hex(s, &hex) < 0 || json_object_set_new(o, key, event_json_string(s)) < 0)
                return -ENOMEM;
        if (!hex)
                return 0;
        if (asprintf(&bytes_key, "%s" VG_TEXT_BYTES_SUFFIX, key) < 0)
                return -ENOMEM;
        return json_object_set_new(o, bytes_key, json_string(hex)) < 0 ? -ENOMEM : 0;
}

json_t *event_to_json(const Event *e) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        if (e->id > 0)
                json_object_set_new(o, "id", json_integer(e->id));
        json_object_set_new(o, "time", json_string(e->time));
        event_json_set_name(o, "ref", e->ref);
        event_json_set_name(o, "source", e->source);
        event_json_set_name(o, "kind", e->kind);
        event_json_set_name(o, "host", e->host);
        event_json_set_name(o, "domain", e->domain);
        event_json_set_name(o, "uuid", e->uuid);
        event_json_set_name(o, "decision", e->decision);
        event_json_set_name(o, "reason", e->reason);
        event_json_set_name(o, "actor", e->actor);
        json_object_set_new(o, "data", e->data ? json_incref(e->data) : json_object());
        if (e->hash[0])
                json_object_set_new(o, "hash", json_string(e->hash));
        return o;
}

char *event_data_text(const Event *e) {
        return e->data ? json_dumps(e->data, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
}

char *event_render(const Event *e, const char *data) {
        _cleanup_free_ char *own = data ? NULL : event_data_text(e);
        if (!data && !(data = own))
                return NULL;
        /* event_to_json's members, written directly (building and dumping
         * the tree was 40k instructions, twice per run of the hook), keys in
         * JSON_SORT_KEYS's order; id and hash only when set. */
        const struct {
                const char *key, *value;
                bool when;
        } m[] = {
                { "actor", e->actor, true },
                { "decision", e->decision, true },
                { "domain", e->domain, true },
                { "hash", e->hash, e->hash[0] != '\0' },
                { "host", e->host, true },
                { "id", NULL, e->id > 0 },
                { "kind", e->kind, true },
                { "reason", e->reason, true },
                { "ref", e->ref, true },
                { "source", e->source, true },
                { "time", e->time, true },
                { "uuid", e->uuid, true },
        };
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        char sep = '{';
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                if (!m[i].when)
                        continue;
                fprintf(f, "%c\"%s\":", sep, m[i].key);
                sep = ',';
                if (!strcmp(m[i].key, "id"))
                        fprintf(f, "%" PRId64, e->id);
                else
                        vg_json_string_write(m[i].value, f);
                /* event_json_set_name's key_bytes, which sorts right after key */
                if (m[i].value && !vg_utf8_valid(m[i].value)) {
                        fprintf(f, ",\"%s" VG_TEXT_BYTES_SUFFIX "\":", m[i].key);
                        vg_text_put_hex(m[i].value, f);
                }
        }
        fprintf(f, ",\"data\":%s}", data);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static int get_str(const json_t *j, const char *key, bool required, char **field, VgError *err) {
        json_t *v = json_object_get(j, key);
        if (!v || json_is_null(v)) {
                if (required)
                        return vg_error(err, -EINVAL, "field '%s' is missing", key);
                return 0;
        }
        if (!json_is_string(v))
                return vg_error(err, -EINVAL, "field '%s' must be a string", key);
        /* A name that is not UTF-8 comes back whole from its key_bytes
         * (event_json_set_name): the spool keeps it as the hook saw it. */
        char bytes_key[64];
        snprintf(bytes_key, sizeof(bytes_key), "%s" VG_TEXT_BYTES_SUFFIX, key);
        const char *hex = json_string_value(json_object_get(j, bytes_key));
        if (!hex)
                return event_set(field, json_string_value(v));
        char *bytes = NULL;
        int r = vg_text_from_hex(hex, &bytes);
        if (r < 0)
                return r == -ENOMEM ? r : vg_error(err, r, "field '%s' is not hex", bytes_key);
        free(*field);
        *field = bytes;
        return 0;
}

int event_from_json(const json_t *j, Event **ret, VgError *err) {
        if (!json_is_object(j))
                return vg_error(err, -EINVAL, "an event must be a JSON object");
        _cleanup_(event_freep) Event *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;

        json_t *t = json_object_get(j, "time");
        int64_t us;
        if (!json_is_string(t) || vg_time_parse(json_string_value(t), 0, &us) < 0)
                return vg_error(err, -EINVAL, "field 'time' is missing or not RFC 3339");
        vg_time_format(us, e->time);

        int r;
        if ((r = get_str(j, "ref", true, &e->ref, err)) < 0 ||
            (r = get_str(j, "source", true, &e->source, err)) < 0 ||
            (r = get_str(j, "kind", true, &e->kind, err)) < 0 ||
            (r = get_str(j, "host", false, &e->host, err)) < 0 ||
            (r = get_str(j, "domain", false, &e->domain, err)) < 0 ||
            (r = get_str(j, "uuid", false, &e->uuid, err)) < 0 ||
            (r = get_str(j, "decision", false, &e->decision, err)) < 0 ||
            (r = get_str(j, "reason", false, &e->reason, err)) < 0 ||
            (r = get_str(j, "actor", false, &e->actor, err)) < 0)
                return r;
        if (!event_kind_valid(e->kind))
                return vg_error(err, -EINVAL, "field 'kind' is not a kind name: '%s'", e->kind);
        if (e->decision && strcmp(e->decision, "allow") && strcmp(e->decision, "deny"))
                return vg_error(err, -EINVAL, "field 'decision' must be allow, deny or null");

        json_t *d = json_object_get(j, "data");
        if (d && !json_is_object(d))
                return vg_error(err, -EINVAL, "field 'data' must be an object");
        e->data = d ? json_incref(d) : json_object();
        *ret = TAKE_PTR(e);
        return 0;
}

bool event_kind_valid(const char *kind) {
        if (!kind || !*kind || strlen(kind) > 64)
                return false;
        const char *dot = strchr(kind, '.');
        if (!dot || dot == kind || !dot[1])
                return false;
        for (const char *p = kind; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-.", *p))
                        return false;
        return true;
}

const char *event_ticket(const json_t *data) {
        const char *t = json_string_value(json_object_get(data, "ticket"));
        return t ? t : json_string_value(json_object_get(json_object_get(data, "facts"), "ticket"));
}
