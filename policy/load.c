/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading the policy: strict JSON, unknown keys refused, every error placed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/policy/policy.h"

#define POLICY_MAX_BYTES (4 * 1024 * 1024)

typedef struct Loader {
        const char *text;
        size_t len;
        const char *path;
        VgError *err;
} Loader;

/* jansson does not keep positions after parsing: place an error at the
 * first occurrence of the key in the text, which is where a person looks. */
static void locate(const Loader *l, const char *key, int *line, int *col) {
        *line = *col = 0;
        if (!key)
                return;
        char quoted[300];
        snprintf(quoted, sizeof(quoted), "\"%s\"", key);
        /* text is len bytes, not a C string (found by the fuzzer) */
        const char *hit = memmem(l->text, l->len, quoted, strlen(quoted));
        if (!hit)
                return;
        *line = 1;
        const char *bol = l->text;
        for (const char *p = l->text; p < hit; p++)
                if (*p == '\n') {
                        (*line)++;
                        bol = p + 1;
                }
        *col = (int) (hit - bol) + 1;
}

__attribute__((format(printf, 4, 5)))
static int fail(const Loader *l, const char *key, const char *where, const char *fmt, ...) {
        char msg[700];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        int line, col;
        locate(l, key, &line, &col);
        if (line)
                return vg_error(l->err, -EINVAL, "%s:%d:%d: %s: %s", l->path, line, col, where, msg);
        return vg_error(l->err, -EINVAL, "%s: %s: %s", l->path, where, msg);
}

/* Refuses keys not in known (NULL-terminated). */
static int check_keys(const Loader *l, json_t *obj, const char *where, const char *const *known) {
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v) {
                bool ok = false;
                for (size_t i = 0; known[i] && !ok; i++)
                        ok = !strcmp(key, known[i]);
                if (!ok) {
                        char list[512] = "";
                        for (size_t i = 0; known[i]; i++) {
                                strcat(list, i ? ", " : "");
                                strcat(list, known[i]);
                        }
                        return fail(l, key, where, "unknown key '%s' (known: %s)", key, list);
                }
        }
        return 0;
}

static int get_enum(const Loader *l, json_t *obj, const char *key, const char *where, const char *a,
                    const char *b, int *ret) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return 0;
        const char *s = json_string_value(v);
        if (s && !strcmp(s, a))
                *ret = 0;
        else if (s && !strcmp(s, b))
                *ret = 1;
        else
                return fail(l, key, where, "'%s' must be \"%s\" or \"%s\"", key, a, b);
        return 0;
}

static int get_str(const Loader *l, json_t *obj, const char *key, const char *where, char **ret) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return 0;
        if (!json_is_string(v) || !*json_string_value(v))
                return fail(l, key, where, "'%s' must be a non-empty string", key);
        return (*ret = strdup(json_string_value(v))) ? 0 : -ENOMEM;
}

static int get_bool(const Loader *l, json_t *obj, const char *key, const char *where, bool *ret) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return 0;
        if (!json_is_boolean(v))
                return fail(l, key, where, "'%s' must be true or false", key);
        *ret = json_is_true(v);
        return 0;
}

static int get_uint(const Loader *l, json_t *obj, const char *key, const char *where, uint64_t max, uint64_t *ret) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || (uint64_t) json_integer_value(v) > max)
                return fail(l, key, where, "'%s' must be a whole number from 1 to %llu", key,
                            (unsigned long long) max);
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

static int get_strv(const Loader *l, json_t *obj, const char *key, const char *where, bool paths, char ***ret) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return 0;
        if (!json_is_array(v))
                return fail(l, key, where, "'%s' must be an array of strings", key);
        char **a = calloc(json_array_size(v) + 1, sizeof(char *));
        if (!a)
                return -ENOMEM;
        *ret = a;
        size_t i;
        json_t *s;
        json_array_foreach(v, i, s) {
                if (!json_is_string(s) || !*json_string_value(s))
                        return fail(l, key, where, "'%s'[%zu] must be a non-empty string", key, i);
                if (paths && json_string_value(s)[0] != '/')
                        return fail(l, key, where, "'%s'[%zu] must be an absolute path, got '%s'", key, i,
                                    json_string_value(s));
                if (!(a[i] = strdup(json_string_value(s))))
                        return -ENOMEM;
        }
        return 0;
}

static int load_require(const Loader *l, json_t *req, const char *where, PolicyRequire *r) {
        static const char *const known[] = { "approved", "owner", "ticket", "image_dirs", "trusted_images",
                                             "networks", "max_vcpus", "max_memory_mib",
                                             "no_qemu_commandline", "no_seclabel_none", "integrity", NULL };
        if (!json_is_object(req))
                return fail(l, "require", where, "'require' must be an object");
        int k;
        uint64_t vcpus = 0;
        if ((k = check_keys(l, req, where, known)) < 0 ||
            (k = get_bool(l, req, "approved", where, &r->approved)) < 0 ||
            (k = get_bool(l, req, "owner", where, &r->owner)) < 0 ||
            (k = get_bool(l, req, "ticket", where, &r->ticket)) < 0 ||
            (k = get_bool(l, req, "trusted_images", where, &r->trusted_images)) < 0 ||
            (k = get_bool(l, req, "no_qemu_commandline", where, &r->no_qemu_commandline)) < 0 ||
            (k = get_bool(l, req, "no_seclabel_none", where, &r->no_seclabel_none)) < 0 ||
            (k = get_bool(l, req, "integrity", where, &r->integrity)) < 0 ||
            (k = get_strv(l, req, "image_dirs", where, true, &r->image_dirs)) < 0 ||
            (k = get_strv(l, req, "networks", where, false, &r->networks)) < 0 ||
            (k = get_uint(l, req, "max_vcpus", where, 65536, &vcpus)) < 0 ||
            (k = get_uint(l, req, "max_memory_mib", where, UINT64_C(1) << 40, &r->max_memory_mib)) < 0)
                return k;
        r->max_vcpus = (unsigned) vcpus;
        return 0;
}

static int load_rule(const Loader *l, json_t *j, size_t i, PolicyRule *r) {
        static const char *const known[] = { "name", "match", "action", "require", "comment", NULL };
        static const char *const match_known[] = { "name", "uuid", "owner", "host", "ops", NULL };
        static const char *const ops[] = { "start", "migrate", "restore", "define" };
        char where[64], mwhere[80], rwhere[80];
        snprintf(where, sizeof(where), "rules[%zu]", i);
        snprintf(mwhere, sizeof(mwhere), "rules[%zu].match", i);
        snprintf(rwhere, sizeof(rwhere), "rules[%zu].require", i);
        if (!json_is_object(j))
                return fail(l, NULL, where, "a rule must be an object");
        int k;
        if ((k = check_keys(l, j, where, known)) < 0 || (k = get_str(l, j, "name", where, &r->name)) < 0)
                return k;
        if (!r->name)
                return fail(l, NULL, where, "every rule needs a 'name' (it is recorded with each decision)");

        json_t *m = json_object_get(j, "match");
        if (m) {
                if (!json_is_object(m))
                        return fail(l, "match", where, "'match' must be an object");
                if ((k = check_keys(l, m, mwhere, match_known)) < 0 ||
                    (k = get_str(l, m, "name", mwhere, &r->match_name)) < 0 ||
                    (k = get_str(l, m, "uuid", mwhere, &r->match_uuid)) < 0 ||
                    (k = get_str(l, m, "owner", mwhere, &r->match_owner)) < 0 ||
                    (k = get_str(l, m, "host", mwhere, &r->match_host)) < 0 ||
                    (k = get_strv(l, m, "ops", mwhere, false, &r->match_ops)) < 0)
                        return k;
                for (size_t o = 0; r->match_ops && r->match_ops[o]; o++) {
                        bool ok = false;
                        for (size_t x = 0; x < ELEMENTSOF(ops); x++)
                                ok = ok || !strcmp(r->match_ops[o], ops[x]);
                        if (!ok)
                                return fail(l, r->match_ops[o], mwhere, "unknown op '%s' (known: start, "
                                            "migrate, restore, define)", r->match_ops[o]);
                }
        }
        json_t *action = json_object_get(j, "action"), *req = json_object_get(j, "require");
        if (!!action == !!req)
                return fail(l, r->name, where, "rule '%s' needs exactly one of 'action' and 'require'", r->name);
        if (action) {
                int v = 0;
                if ((k = get_enum(l, j, "action", where, "allow", "deny", &v)) < 0)
                        return k;
                r->has_action = true;
                r->action = v ? VERDICT_DENY : VERDICT_ALLOW;
                return 0;
        }
        return load_require(l, req, rwhere, &r->require);
}

int policy_parse(const char *text, size_t len, const char *path, Policy **ret, VgError *err) {
        Loader l = { text, len, path, err };
        json_error_t jerr;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return vg_error(err, -EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);

        _cleanup_(policy_freep) Policy *p = calloc(1, sizeof(*p));
        int k = 0, v = 0;
        if (!p || !(p->path = strdup(path))) {
                json_decref(root);
                return -ENOMEM;
        }
        static const char *const known[] = { "mode", "default", "on_error", "rules", "comment", NULL };
        /* Defaults: enforce, deny on error, allow when no rule matches (a
         * policy with no rules changes nothing but is recorded). */
        p->mode = POLICY_ENFORCE;
        p->fallback = VERDICT_ALLOW;
        p->on_error = VERDICT_DENY;
        if (!json_is_object(root))
                k = fail(&l, NULL, "top level", "a policy is a JSON object");
        else if ((k = check_keys(&l, root, "top level", known)) == 0 &&
                 (k = get_enum(&l, root, "mode", "top level", "enforce", "audit", &v)) == 0) {
                p->mode = json_object_get(root, "mode") && v ? POLICY_AUDIT : POLICY_ENFORCE;
                v = 0;
                if ((k = get_enum(&l, root, "default", "top level", "allow", "deny", &v)) == 0) {
                        p->fallback = v ? VERDICT_DENY : VERDICT_ALLOW;
                        v = 0;
                        if ((k = get_enum(&l, root, "on_error", "top level", "deny", "allow", &v)) == 0)
                                p->on_error = v ? VERDICT_ALLOW : VERDICT_DENY;
                }
        }
        json_t *rules = k == 0 ? json_object_get(root, "rules") : NULL;
        if (k == 0 && rules && !json_is_array(rules))
                k = fail(&l, "rules", "top level", "'rules' must be an array");
        if (k == 0 && rules) {
                p->rules = calloc(json_array_size(rules) + 1, sizeof(PolicyRule));
                if (!p->rules)
                        k = -ENOMEM;
                for (size_t i = 0; k == 0 && i < json_array_size(rules); i++) {
                        k = load_rule(&l, json_array_get(rules, i), i, &p->rules[i]);
                        p->n_rules = i + 1;
                        for (size_t j = 0; k == 0 && j < i; j++)
                                if (!strcmp(p->rules[j].name, p->rules[i].name))
                                        k = fail(&l, p->rules[i].name, "rules", "two rules are named '%s'",
                                                 p->rules[i].name);
                }
        }
        json_decref(root);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(p);
        return 0;
}

int policy_load(const char *path, Policy **ret, VgError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = vg_read_trusted_file(path, POLICY_MAX_BYTES, &text, &len, err);
        if (r == -EPERM)
                return r;
        if (r == -EFBIG)
                return vg_error(err, -EINVAL, "%s: larger than %d bytes, not a policy", path, POLICY_MAX_BYTES);
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, strerror(-r));
        if (memchr(text, '\0', len))
                return vg_error(err, -EINVAL, "%s: contains a NUL byte, not a policy", path);
        return policy_parse(text, len, path, ret, err);
}

static void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++) {
                PolicyRule *r = &p->rules[i];
                free(r->name); free(r->match_name); free(r->match_uuid); free(r->match_owner);
                free(r->match_host);
                strv_free(r->match_ops);
                strv_free(r->require.image_dirs);
                strv_free(r->require.networks);
        }
        free(p->rules);
        free(p->path);
        free(p);
        return NULL;
}
