/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The facts' JSON form, both ways, their text and their freeing, walked
 * from one table of their fields (domxml.h has the structs; domxml.c
 * reads them from XML).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/model/domxml.h"
#include "virtgov/util/jsontext.h"

/* ---- the facts' fields, listed once ----
 *
 * Turning facts into JSON, reading them back and freeing them all walk
 * these tables: a fact is added to its struct and to its table, and
 * nowhere else. The JSON keys, their order and what is left out are those
 * of the events recorded so far. */

typedef enum {
        FIELD_STR,    /* char *; left out when NULL */
        FIELD_FLAG,   /* bool; written only when true */
        FIELD_BOOL,   /* bool; always written */
        FIELD_UINT,   /* unsigned; left out when 0 */
        FIELD_U64,    /* uint64_t; left out when 0 */
        FIELD_STRV,   /* char **, NULL-terminated, with a count; left out when empty */
        FIELD_LIST,   /* an array of structs with a count; always written */
} FieldKind;

typedef struct Fields Fields;

typedef struct Field {
        char key[24];           /* not a pointer: a table of them would need
                                 * relocating at each of the hook's starts */
        FieldKind kind;
        size_t at;              /* offset of the member */
        size_t count;           /* FIELD_STRV, FIELD_LIST: offset of its size_t count */
        const Fields *list;     /* FIELD_LIST: the fields of its elements */
} Field;

struct Fields {
        size_t size;            /* of the struct */
        const Field *v;
        size_t n;
};

/* The offset of T's member m, which must be of type type: a kind that
 * does not fit its member's type does not compile. */
#define AT(T, m, type) (offsetof(T, m) + 0 * sizeof(_Generic(((T *) 0)->m, type: 0)))
#define F_STR(T, k, m) { .key = (k), .kind = FIELD_STR, .at = AT(T, m, char *) }
#define F_FLAG(T, k, m) { .key = (k), .kind = FIELD_FLAG, .at = AT(T, m, bool) }
#define F_BOOL(T, k, m) { .key = (k), .kind = FIELD_BOOL, .at = AT(T, m, bool) }
#define F_UINT(T, k, m) { .key = (k), .kind = FIELD_UINT, .at = AT(T, m, unsigned) }
#define F_U64(T, k, m) { .key = (k), .kind = FIELD_U64, .at = AT(T, m, uint64_t) }
/* the count is the member n_<m> */
#define F_STRV(T, k, m) { .key = (k), .kind = FIELD_STRV, .at = AT(T, m, char **), .count = AT(T, n_##m, size_t) }
#define F_LIST(T, k, m, fields) { .key = (k), .kind = FIELD_LIST, .at = offsetof(T, m), \
                                .count = AT(T, n_##m, size_t), .list = &(fields) }
#define FIELDS(T, v) { sizeof(T), (v), ELEMENTSOF(v) }

static const Field disk_v[] = {
        F_STR(DiskFacts, "type", type),
        F_STR(DiskFacts, "device", device),
        F_STR(DiskFacts, "source", source),
        F_STR(DiskFacts, "format", format),
        F_STR(DiskFacts, "target", target),
        F_FLAG(DiskFacts, "readonly", readonly),
        F_FLAG(DiskFacts, "shareable", shareable),
        F_STRV(DiskFacts, "backing", backing),
};
static const Field interface_v[] = {
        F_STR(InterfaceFacts, "type", type),
        F_STR(InterfaceFacts, "source", source),
        F_STR(InterfaceFacts, "mac", mac),
        F_STR(InterfaceFacts, "model", model),
};
static const Field graphics_v[] = {
        F_STR(GraphicsFacts, "type", type),
        F_STR(GraphicsFacts, "listen", listen),
};
static const Field seclabel_v[] = {
        F_STR(SeclabelFacts, "type", type),
        F_STR(SeclabelFacts, "model", model),
};
static const Fields disk_fields = FIELDS(DiskFacts, disk_v);
static const Fields interface_fields = FIELDS(InterfaceFacts, interface_v);
static const Fields graphics_fields = FIELDS(GraphicsFacts, graphics_v);
static const Fields seclabel_fields = FIELDS(SeclabelFacts, seclabel_v);

static const Field domain_v[] = {
        F_STR(DomainFacts, "name", name),
        F_STR(DomainFacts, "uuid", uuid),
        F_STR(DomainFacts, "owner", owner),
        F_STR(DomainFacts, "ticket", ticket),
        F_STR(DomainFacts, "purpose", purpose),
        F_STR(DomainFacts, "type", virt_type),
        F_STR(DomainFacts, "arch", arch),
        F_STR(DomainFacts, "machine", machine),
        F_STR(DomainFacts, "emulator", emulator),
        F_STR(DomainFacts, "loader", loader),
        F_STR(DomainFacts, "kernel", kernel),
        F_STR(DomainFacts, "initrd", initrd),
        F_UINT(DomainFacts, "vcpus", vcpus),
        F_U64(DomainFacts, "memory_kib", memory_kib),
        F_BOOL(DomainFacts, "qemu_commandline", qemu_commandline),
        F_LIST(DomainFacts, "disks", disks, disk_fields),
        F_LIST(DomainFacts, "interfaces", ifaces, interface_fields),
        F_LIST(DomainFacts, "graphics", graphics, graphics_fields),
        F_LIST(DomainFacts, "seclabels", seclabels, seclabel_fields),
};
static const Fields domain_fields = FIELDS(DomainFacts, domain_v);

/* The network hook's keys say what they are on a port event's data. */
static const Field network_v[] = {
        F_STR(NetworkFacts, "network", name),
        F_STR(NetworkFacts, "network_uuid", uuid),
        F_STR(NetworkFacts, "bridge", bridge),
        F_STR(NetworkFacts, "forward", forward),
        F_STR(NetworkFacts, "port_uuid", port_uuid),
        F_STR(NetworkFacts, "owner", owner_name),
        F_STR(NetworkFacts, "owner_uuid", owner_uuid),
        F_STR(NetworkFacts, "mac", port_mac),
};
static const Fields network_fields = FIELDS(NetworkFacts, network_v);

#define MEMBER(obj, f, type) ((type *) (void *) ((char *) (obj) + (f)->at))
#define COUNT(obj, f) (*(size_t *) (void *) ((char *) (obj) + (f)->count))

static void fields_free(const Fields *t, void *obj) {
        for (size_t i = 0; i < t->n; i++) {
                const Field *f = &t->v[i];
                if (f->kind != FIELD_STR && f->kind != FIELD_STRV && f->kind != FIELD_LIST)
                        continue;   /* owns nothing */
                char *v = *MEMBER(obj, f, char *);   /* a string, a char **, or an array of structs */
                for (size_t j = 0; f->kind == FIELD_STRV && j < COUNT(obj, f); j++)
                        free(((char **) (void *) v)[j]);
                for (size_t j = 0; f->kind == FIELD_LIST && j < COUNT(obj, f); j++)
                        fields_free(f->list, v + j * f->list->size);
                free(v);
        }
}

static json_t *fields_to_json(const Fields *t, const void *obj);

/* One member as JSON; NULL when it is left out. */
static json_t *field_to_json(const Field *f, const void *obj) {
        void *o = (void *) obj;
        switch (f->kind) {
        case FIELD_STR:
                return *MEMBER(o, f, char *) ? json_string(*MEMBER(o, f, char *)) : NULL;
        case FIELD_FLAG:
                return *MEMBER(o, f, bool) ? json_true() : NULL;
        case FIELD_BOOL:
                return json_boolean(*MEMBER(o, f, bool));
        case FIELD_UINT:
                return *MEMBER(o, f, unsigned) ? json_integer(*MEMBER(o, f, unsigned)) : NULL;
        case FIELD_U64:
                return *MEMBER(o, f, uint64_t) ? json_integer((json_int_t) *MEMBER(o, f, uint64_t)) : NULL;
        case FIELD_STRV:
        case FIELD_LIST:
                break;
        }
        size_t n = COUNT(o, f);
        if (f->kind == FIELD_STRV && !n)
                return NULL;
        json_t *a = json_array();
        char *v = *MEMBER(o, f, char *);
        for (size_t j = 0; a && j < n; j++)
                json_array_append_new(a, f->kind == FIELD_STRV ? json_string(((char **) (void *) v)[j])
                                                               : fields_to_json(f->list, v + j * f->list->size));
        return a;
}

static json_t *fields_to_json(const Fields *t, const void *obj) {
        json_t *o = json_object();
        for (size_t i = 0; o && i < t->n; i++) {
                json_t *v = field_to_json(&t->v[i], obj);
                if (v)
                        json_object_set_new(o, t->v[i].key, v);
        }
        return o;
}

/* The same as JSON text, written straight from the table: building
 * jansson's tree of a domain's facts and dumping it was 290k of the hook's
 * 750k instructions at 'started'; this is a tenth of that. The keys come in
 * the table's order, not sorted, and strings as vg_json_string_write
 * writes them: whoever stores the text loads it and stores it canonical
 * (spool.h). */

static void fields_to_text(const Fields *t, const void *obj, FILE *out) {
        void *o = (void *) obj;
        bool first = true;
        fputc_unlocked('{', out);
        for (size_t i = 0; i < t->n; i++) {
                const Field *f = &t->v[i];
                bool have = f->kind == FIELD_STR ? *MEMBER(o, f, char *) != NULL
                          : f->kind == FIELD_FLAG ? *MEMBER(o, f, bool)
                          : f->kind == FIELD_UINT ? *MEMBER(o, f, unsigned) != 0
                          : f->kind == FIELD_U64 ? *MEMBER(o, f, uint64_t) != 0
                          : f->kind == FIELD_STRV ? COUNT(o, f) != 0
                          : true;   /* FIELD_BOOL, FIELD_LIST */
                if (!have)
                        continue;
                if (!first)
                        fputc_unlocked(',', out);
                first = false;
                vg_json_string_write(f->key, out);
                fputc_unlocked(':', out);
                switch (f->kind) {
                case FIELD_STR:
                        vg_json_string_write(*MEMBER(o, f, char *), out);
                        continue;
                case FIELD_FLAG:
                case FIELD_BOOL:
                        fputs_unlocked(*MEMBER(o, f, bool) ? "true" : "false", out);
                        continue;
                case FIELD_UINT:
                        fprintf(out, "%u", *MEMBER(o, f, unsigned));
                        continue;
                case FIELD_U64:
                        /* as json_integer((json_int_t) v) has it */
                        fprintf(out, "%" PRId64, (int64_t) *MEMBER(o, f, uint64_t));
                        continue;
                case FIELD_STRV:
                case FIELD_LIST:
                        break;
                }
                char *v = *MEMBER(o, f, char *);
                fputc_unlocked('[', out);
                for (size_t j = 0; j < COUNT(o, f); j++) {
                        if (j)
                                fputc_unlocked(',', out);
                        if (f->kind == FIELD_STRV)
                                vg_json_string_write(((char **) (void *) v)[j], out);
                        else
                                fields_to_text(f->list, v + j * f->list->size, out);
                }
                fputc_unlocked(']', out);
        }
        fputc_unlocked('}', out);
}

static int fields_from_json(const Fields *t, const json_t *j, void *obj);

/* The strings of array j into a NULL-terminated *ret of *ret_n; what is
 * not a string is skipped. */
static int strv_from_json(const json_t *j, char ***ret, size_t *ret_n) {
        size_t n = json_array_size(j);
        if (!n)
                return 0;
        if (!(*ret = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                const char *s = json_string_value(json_array_get(j, k));
                if (s && !((*ret)[(*ret_n)++] = strdup(s)))
                        return -ENOMEM;
        }
        return 0;
}

/* One member from its key in j. Strings take only strings; numbers
 * whatever jansson makes of the value (0 for a non-number). */
static int field_from_json(const Field *f, const json_t *j, void *obj) {
        json_t *v = json_object_get(j, f->key);
        switch (f->kind) {
        case FIELD_STR: {
                const char *str = json_string_value(v);
                char **m = MEMBER(obj, f, char *);
                *m = vg_strdup0(str);
                return str && !*m ? -ENOMEM : 0;
        }
        case FIELD_FLAG:
        case FIELD_BOOL:
                *MEMBER(obj, f, bool) = json_is_true(v);
                return 0;
        case FIELD_UINT:
                *MEMBER(obj, f, unsigned) = (unsigned) json_integer_value(v);
                return 0;
        case FIELD_U64:
                *MEMBER(obj, f, uint64_t) = (uint64_t) json_integer_value(v);
                return 0;
        case FIELD_STRV:
                return strv_from_json(v, MEMBER(obj, f, char **), &COUNT(obj, f));
        case FIELD_LIST:
                break;
        }
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e) {
                void **arr = MEMBER(obj, f, void *);
                if (vg_grow(arr, &COUNT(obj, f), f->list->size) < 0)
                        return -ENOMEM;
                int r = fields_from_json(f->list, e, (char *) *arr + (COUNT(obj, f) - 1) * f->list->size);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fields_from_json(const Fields *t, const json_t *j, void *obj) {
        for (size_t i = 0; i < t->n; i++) {
                int r = field_from_json(&t->v[i], j, obj);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the public face of the tables ---- */

DomainFacts *domain_facts_free(DomainFacts *f) {
        if (f)
                fields_free(&domain_fields, f);
        free(f);
        return NULL;
}

NetworkFacts *network_facts_free(NetworkFacts *f) {
        if (f)
                fields_free(&network_fields, f);
        free(f);
        return NULL;
}

json_t *domain_facts_to_json(const DomainFacts *f) {
        return fields_to_json(&domain_fields, f);
}

json_t *network_facts_to_json(const NetworkFacts *f) {
        return fields_to_json(&network_fields, f);
}

char *domain_facts_text(const DomainFacts *f) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return NULL;
        fields_to_text(&domain_fields, f, out);
        if (fclose(out) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

int domain_facts_from_json(const json_t *j, DomainFacts **ret) {
        if (!json_is_object(j) || !json_is_string(json_object_get(j, "name")))
                return -EINVAL;
        _cleanup_(domain_facts_freep) DomainFacts *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        int r = fields_from_json(&domain_fields, j, f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}
