/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit stream's records, through libauparse, into AuditEvents. */
#include <auparse.h>
#include <errno.h>
#include <inttypes.h>
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtgov/audit/audit.h"

struct AuditParser {
        auparse_state_t *au;
        AuditEventFn fn;
        void *userdata;
};

static void event_clear(AuditEvent *ev) {
        free(ev->op);
        free(ev->acct);
        free(ev->exe);
        free(ev->comm);
        free(ev->terminal);
        free(ev->addr);
        free(ev->hostname);
        free(ev->key);
        for (size_t i = 0; i < ev->argc; i++)
                free(ev->argv[i]);
        free(ev->argv);
}

static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;
        if (!s || !*s || *s == '-')
                return false;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

/* A string field, the first time it is seen: the kernel's own fields come
 * before msg='...' in a user record, so a user message cannot replace them
 * (its exe, addr, terminal are the sender's word, and said so by the type). */
static void take(char **field, const char *value) {
        if (!*field && value)
                *field = strdup(value);
}

static void take_arg(AuditEvent *ev, const char *name, const char *value, size_t *bytes) {
        /* a0, a1, ...; not argc, not aN_len, not the aN[k] pieces of an
         * argument the kernel split (then it is cut). */
        const char *p = name + 1;
        if (name[0] != 'a' || !*p || strspn(p, "0123456789") != strlen(p)) {
                if (name[0] == 'a' && strchr(name, '['))
                        ev->argv_cut = true;
                return;
        }
        size_t len = value ? strlen(value) : 0;
        if (!value || ev->argc >= AUDIT_ARGV_MAX || *bytes + len > AUDIT_ARGV_MAX_BYTES) {
                ev->argv_cut = true;
                return;
        }
        char **v = realloc(ev->argv, (ev->argc + 2) * sizeof(char *));
        if (!v)
                return;
        ev->argv = v;
        if (!(v[ev->argc] = strdup(value)))
                return;
        v[++ev->argc] = NULL;
        *bytes += len;
}

/* The interpreted value of the current field (hex decoded), for the fields
 * that may be encoded; the raw text for the rest. auparse interprets ids
 * by asking NSS, which is I/O the daemon does not want per record: ids are
 * taken raw. */
static const char *field_value(auparse_state_t *au, const char *name, bool interpret) {
        const char *v = interpret ? auparse_interpret_field(au) : auparse_get_field_str(au);
        return v ? v : auparse_get_field_str(au);
}

static void take_field(AuditEvent *ev, auparse_state_t *au, int type, size_t *bytes) {
        const char *name = auparse_get_field_name(au);
        uint64_t n;
        if (!name)
                return;
        if (type == AUDIT_EXECVE) {
                take_arg(ev, name, field_value(au, name, true), bytes);
                return;
        }
        if (!strcmp(name, "auid") && parse_u64(auparse_get_field_str(au), &n) && ev->auid == VG_AUID_UNSET)
                ev->auid = (uint32_t) n;
        else if (!strcmp(name, "uid") && parse_u64(auparse_get_field_str(au), &n) && ev->uid == VG_AUID_UNSET)
                ev->uid = (uint32_t) n;
        else if (!strcmp(name, "ses") && parse_u64(auparse_get_field_str(au), &n) && ev->ses == VG_AUID_UNSET)
                ev->ses = (uint32_t) n;
        else if (!strcmp(name, "pid") && parse_u64(auparse_get_field_str(au), &n) && !ev->pid)
                ev->pid = (int64_t) n;
        else if (!strcmp(name, "id") && parse_u64(auparse_get_field_str(au), &n) && ev->id < 0 && n < UINT32_MAX)
                ev->id = (int64_t) n;
        else if (!strcmp(name, "res") || !strcmp(name, "success")) {
                const char *v = auparse_get_field_str(au);
                if (v && ev->n_records == 1)   /* the event's first word on it */
                        ev->success = !strcmp(v, "success") || !strcmp(v, "yes") || !strcmp(v, "1");
        } else if (!strcmp(name, "op"))
                take(&ev->op, field_value(au, name, false));
        else if (!strcmp(name, "acct"))
                take(&ev->acct, field_value(au, name, true));
        else if (!strcmp(name, "exe"))
                take(&ev->exe, field_value(au, name, true));
        else if (!strcmp(name, "comm"))
                take(&ev->comm, field_value(au, name, true));
        else if (!strcmp(name, "terminal") || !strcmp(name, "tty"))
                take(&ev->terminal, field_value(au, name, false));
        else if (!strcmp(name, "addr"))
                take(&ev->addr, field_value(au, name, false));
        else if (!strcmp(name, "hostname"))
                take(&ev->hostname, field_value(au, name, false));
        else if (!strcmp(name, "key"))
                take(&ev->key, field_value(au, name, true));
}

/* "?" and "(none)" are audit's way of saying there is no value. */
static void no_placeholder(char **s) {
        if (*s && (!strcmp(*s, "?") || !strcmp(*s, "(none)") || !strcmp(*s, "(null)"))) {
                free(*s);
                *s = NULL;
        }
}

static void on_event(auparse_state_t *au, auparse_cb_event_t t, void *userdata) {
        AuditParser *p = userdata;
        if (t != AUPARSE_CB_EVENT_READY || auparse_first_record(au) <= 0)
                return;
        AuditEvent ev = { .auid = VG_AUID_UNSET, .uid = VG_AUID_UNSET, .ses = VG_AUID_UNSET, .id = -1 };
        const au_event_t *ts = auparse_get_timestamp(au);
        /* (A time no kernel writes, past the year 36812, is none.) */
        if (ts) {
                ev.serial = ts->serial;
                if (ts->sec >= 0 && ts->sec < (time_t) 1 << 40)
                        ev.time_us = (int64_t) ts->sec * 1000000 + (int64_t) (ts->milli % 1000) * 1000;
        }
        ev.type = auparse_get_type(au);
        const char *tn = audit_msg_type_to_name(ev.type);
        if (tn)
                snprintf(ev.type_name, sizeof(ev.type_name), "%s", tn);
        else
                snprintf(ev.type_name, sizeof(ev.type_name), "UNKNOWN[%d]", ev.type);
        size_t bytes = 0;
        do {
                ev.n_records++;
                int type = auparse_get_type(au);
                if (auparse_first_field(au) <= 0)
                        continue;
                do
                        take_field(&ev, au, type, &bytes);
                while (auparse_next_field(au) > 0);
        } while (auparse_next_record(au) > 0);
        char **strs[] = { &ev.op, &ev.acct, &ev.exe, &ev.comm, &ev.terminal, &ev.addr, &ev.hostname, &ev.key };
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
                no_placeholder(strs[i]);
        p->fn(&ev, p->userdata);
        event_clear(&ev);
}

AuditParser *audit_parser_new(AuditEventFn fn, void *userdata) {
        AuditParser *p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->au = auparse_init(AUSOURCE_FEED, NULL);
        if (!p->au) {
                free(p);
                return NULL;
        }
        p->fn = fn;
        p->userdata = userdata;
        /* Raw: the values go into JSON, which escapes them; auparse's own
         * escaping would be applied twice. */
        auparse_set_escape_mode(p->au, AUPARSE_ESC_RAW);
        auparse_add_callback(p->au, on_event, p, NULL);
        return p;
}

AuditParser *audit_parser_free(AuditParser *p) {
        if (!p)
                return NULL;
        auparse_flush_feed(p->au);
        auparse_destroy(p->au);
        free(p);
        return NULL;
}

int audit_parser_feed(AuditParser *p, int type, const char *text, size_t len) {
        /* The kernel's records are at most MAX_AUDIT_MESSAGE_LENGTH (8970)
         * bytes; a line is what auparse takes. */
        len = strnlen(text, len);
        const char *nl = memchr(text, '\n', len);
        if (nl)
                len = (size_t) (nl - text);
        if (type <= 0 || type > 0xffff || len < 8 || len > 16384 || strncmp(text, "audit(", 6))
                return -EINVAL;
        const char *name = audit_msg_type_to_name(type);
        char tbuf[32];
        if (!name) {
                snprintf(tbuf, sizeof(tbuf), "UNKNOWN[%d]", type);
                name = tbuf;
        }
        char *line = NULL;
        int n = asprintf(&line, "type=%s msg=%.*s\n", name, (int) len, text);
        if (n < 0)
                return -ENOMEM;
        int r = auparse_feed(p->au, line, (size_t) n);
        free(line);
        return r < 0 ? -EINVAL : 0;
}

void audit_parser_flush(AuditParser *p) {
        auparse_flush_feed(p->au);
}

bool audit_type_continues(int type) {
        /* 1300-1399 are the kernel's syscall-event records, closed by EOE
         * (1320); the user-space messages (1100-1299, 2100-2999) and the
         * rest stand alone. */
        return type >= AUDIT_FIRST_EVENT && type <= AUDIT_LAST_EVENT && type != AUDIT_EOE;
}

/* ---- what virtgov makes of an event ---- */

AuditFamily audit_family(const AuditEvent *ev) {
        switch (ev->type) {
        case AUDIT_ADD_USER: case AUDIT_DEL_USER: case AUDIT_USER_MGMT: case AUDIT_USER_CHAUTHTOK:
        case AUDIT_ACCT_LOCK: case AUDIT_ACCT_UNLOCK:
                return AUDIT_FAMILY_ACCOUNT;
        case AUDIT_ADD_GROUP: case AUDIT_DEL_GROUP: case AUDIT_GRP_MGMT: case AUDIT_GRP_CHAUTHTOK:
                return AUDIT_FAMILY_GROUP;
        case AUDIT_USER_AUTH: case AUDIT_USER_START: case AUDIT_USER_END: case AUDIT_USER_ERR:
        case AUDIT_USER_LOGIN: case AUDIT_USER_LOGOUT:
                return AUDIT_FAMILY_ACCESS;
        case AUDIT_SYSCALL:
                /* (several keys are joined by \x01) */
                return ev->key && strstr(ev->key, AUDIT_KEY_VM) ? AUDIT_FAMILY_EXEC : AUDIT_FAMILY_NONE;
        default:
                return AUDIT_FAMILY_NONE;
        }
}

const char *audit_account_kind(const AuditEvent *ev) {
        const char *op = ev->op ? ev->op : "";
        if (!ev->success)
                return NULL;
        switch (ev->type) {
        case AUDIT_ADD_USER: return "account.added";
        case AUDIT_DEL_USER: return "account.removed";
        case AUDIT_ADD_GROUP: return "group.added";
        case AUDIT_DEL_GROUP: return "group.removed";
        case AUDIT_GRP_MGMT: case AUDIT_GRP_CHAUTHTOK: return "group.changed";
        case AUDIT_ACCT_LOCK: case AUDIT_ACCT_UNLOCK: return "account.password-changed";
        case AUDIT_USER_MGMT: case AUDIT_USER_CHAUTHTOK:
                /* usermod files its group changes under USER_CHAUTHTOK:
                 * "adding user to group", "deleting user from group". */
                if (strstr(op, "to group") || strstr(op, "to shadow group"))
                        return "group.member-added";
                if (strstr(op, "from group") || strstr(op, "from shadow group"))
                        return "group.member-removed";
                if (strstr(op, "chauthtok") || strstr(op, "password"))
                        return "account.password-changed";
                return "account.changed";
        default:
                return NULL;
        }
}

static const char *base_name(const char *path) {
        const char *s = path ? strrchr(path, '/') : NULL;
        return s ? s + 1 : path;
}

const char *audit_command_account(const AuditEvent *ev) {
        const char *program = base_name(ev->exe);
        if (!ev->success || !ev->acct || !program || (strcmp(program, "useradd") && strcmp(program, "userdel")))
                return NULL;
        return ev->acct;
}

const char *audit_event_ref(const AuditEvent *ev, char *buf, size_t n) {
        snprintf(buf, n, "%" PRId64 ".%03d:%" PRIu64, ev->time_us / 1000000, (int) (ev->time_us / 1000 % 1000),
                 ev->serial);
        return buf;
}

static void set_str(json_t *o, const char *key, const char *v) {
        if (v)
                json_object_set_new(o, key, event_json_string(v));
}

int audit_actor(const AuditEvent *ev, const Accounts *accounts, char **ret_name, json_t **ret_obj) {
        char buf[64], ref[48];
        const char *name = NULL;
        if (ev->auid == VG_AUID_UNSET)
                name = "no login session";
        else {
                for (size_t i = 0; accounts && i < accounts->n_accounts && !name; i++)
                        if (accounts->accounts[i].uid == ev->auid)
                                name = accounts->accounts[i].name;
                if (!name) {
                        snprintf(buf, sizeof(buf), "uid %" PRIu32, ev->auid);
                        name = buf;
                }
        }
        json_t *o = json_object();
        char *n = strdup(name);
        if (!o || !n) {
                json_decref(o);
                free(n);
                return -ENOMEM;
        }
        if (ev->auid != VG_AUID_UNSET) {
                json_object_set_new(o, "name", event_json_string(name));
                json_object_set_new(o, "auid", json_integer(ev->auid));
        } else
                json_object_set_new(o, "auid", json_null());
        if (ev->uid != VG_AUID_UNSET)
                json_object_set_new(o, "uid", json_integer(ev->uid));
        if (ev->pid)
                json_object_set_new(o, "pid", json_integer(ev->pid));
        if (ev->ses != VG_AUID_UNSET)
                json_object_set_new(o, "session", json_integer(ev->ses));
        set_str(o, "exe", ev->exe);
        set_str(o, "terminal", ev->terminal);
        set_str(o, "addr", ev->addr);
        set_str(o, "hostname", ev->hostname);
        json_object_set_new(o, "audit", json_string(audit_event_ref(ev, ref, sizeof(ref))));
        json_object_set_new(o, "record", json_string(ev->type_name));
        *ret_name = n;
        *ret_obj = o;
        return 0;
}

static bool name_in(const char *name, const char *const *list) {
        for (size_t i = 0; name && list[i]; i++)
                if (!strcmp(name, list[i]))
                        return true;
        return false;
}

static const char *const sudo_programs[] = { "sudo", "su", "runuser", "pkexec", NULL };
static const char *const cron_programs[] = { "cron", "crond", "anacron", "atd", NULL };

int audit_access_event(const AuditEvent *ev, const Accounts *accounts, const AuditAccessOptions *opt, Event **ret) {
        const char *program = base_name(ev->exe);
        bool sudo = name_in(program, sudo_programs), cron = name_in(program, cron_programs);
        const char *kind = NULL;
        *ret = NULL;
        if (cron && !opt->cron)
                return 0;
        switch (ev->type) {
        case AUDIT_USER_START:
                kind = !ev->success ? "access.failed" : sudo ? "access.sudo" : "access.login";
                break;
        case AUDIT_USER_END:
                /* a sudo's end says nothing its start did not */
                kind = ev->success && !sudo ? "access.logout" : NULL;
                break;
        case AUDIT_USER_AUTH: case AUDIT_USER_LOGIN: case AUDIT_USER_ERR:
                /* A login's success is its session's start (USER_START,
                 * which every PAM service sends): sshd's and login's own
                 * USER_LOGIN would count it twice. */
                kind = ev->success ? NULL : "access.failed";
                break;
        default:
                break;
        }
        if (!kind)
                return 0;

        Event *e = event_new("audit", kind);
        char *actor = NULL;
        json_t *who = NULL;
        if (!e || audit_actor(ev, accounts, &actor, &who) < 0) {
                event_free(e);
                return -ENOMEM;
        }
        e->actor = actor;
        const Account *ac = NULL;
        for (size_t i = 0; accounts && ev->acct && i < accounts->n_accounts && !ac; i++)
                if (!strcmp(accounts->accounts[i].name, ev->acct))
                        ac = &accounts->accounts[i];
        if (ev->acct && !ac && !strcmp(kind, "access.failed"))
                json_object_set_new(e->data, "user_unknown", json_true());
        else
                set_str(e->data, "user", ev->acct);
        if (ac)
                json_object_set_new(e->data, "uid", json_integer(ac->uid));
        else if (ev->id >= 0 && !ev->acct)
                json_object_set_new(e->data, "uid", json_integer(ev->id));
        set_str(e->data, "method", program);
        set_str(e->data, "terminal", ev->terminal);
        set_str(e->data, "addr", ev->addr);
        set_str(e->data, "hostname", ev->hostname);
        set_str(e->data, "op", ev->op);
        json_object_set_new(e->data, "result", json_string(ev->success ? "success" : "failed"));
        json_object_set_new(e->data, "actor", who);
        char reason[512];
        snprintf(reason, sizeof(reason), "%s %s%s%s%s%s", ev->type_name, ac || strcmp(kind, "access.failed") ?
                 (ev->acct ? ev->acct : "?") : "(no such account)", program ? " by " : "", program ? program : "",
                 ev->addr ? " from " : "", ev->addr ? ev->addr : "");
        event_set(&e->reason, reason);
        *ret = e;
        return 0;
}

const char *audit_program(const AuditEvent *ev) {
        const char *p = ev->argc ? base_name(ev->argv[0]) : NULL;
        return p && *p ? p : base_name(ev->exe);
}

/* Programs whose arguments are never kept: they take passwords or their
 * hashes (useradd -p, chpasswd -e on stdin aside). */
static const char *const secret_programs[] = { "passwd", "chpasswd", "chgpasswd", "gpasswd", "useradd",
                                               "usermod", "newusers", NULL };
/* virsh verbs after which every argument is a secret or names one. */
static const char *const secret_verbs[] = { "secret-set-value", NULL };

static bool names_secret(const char *arg) {
        static const char *const words[] = { "passw", "secret", "token", "passphrase", "credential", NULL };
        for (size_t i = 0; words[i]; i++)
                if (strcasestr(arg, words[i]))
                        return true;
        return false;
}

json_t *audit_command_line(const AuditEvent *ev) {
        if (!ev->argc)
                return NULL;
        json_t *a = json_array();
        if (!a)
                return NULL;
        bool all = name_in(base_name(ev->argv[0]), secret_programs);
        for (size_t i = 0; i < ev->argc; i++) {
                bool verb = name_in(ev->argv[i], secret_verbs);
                bool redact = i > 0 && (all || (names_secret(ev->argv[i]) && !verb));
                json_array_append_new(a, redact ? json_string("(not kept)") : event_json_string(ev->argv[i]));
                if (i > 0 && verb)
                        all = true;
        }
        if (ev->argv_cut)
                json_array_append_new(a, json_string("(cut)"));
        return a;
}

/* ---- the rules ---- */

static const AuditRule rules[] = {
        { "/usr/bin/virsh", "x", AUDIT_KEY_VM, "libvirt's shell: define, start, destroy, undefine, ..." },
        { "/usr/bin/virt-install", "x", AUDIT_KEY_VM, "creates and defines domains" },
        { "/usr/bin/virt-clone", "x", AUDIT_KEY_VM, "defines a copy of a domain" },
        { "/usr/bin/virt-manager", "x", AUDIT_KEY_VM, "the desktop manager of domains" },
        { "/usr/bin/qemu-img", "x", AUDIT_KEY_VM, "creates, converts and resizes disk images" },
        { "passwd", "wa", "virtgov-identity", "accounts" },
        { "group", "wa", "virtgov-identity", "groups" },
        { "shadow", "wa", "virtgov-identity", "passwords' state" },
        { "gshadow", "wa", "virtgov-identity", "group administrators" },
        { "sudoers", "wa", "virtgov-identity", "privilege grants" },
        { "sudoers.d", "wa", "virtgov-identity", "privilege grants" },
        { "libvirt", "wa", "virtgov-libvirt", "libvirt's configuration, domain definitions and hooks" },
        { NULL, NULL, NULL, NULL },
};

const AuditRule *audit_rules(void) {
        return rules;
}

char *audit_rules_text(const char *etc_dir) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        fputs("## virtgov: the VM commands people run, and writes to the identity files and to\n"
              "## libvirt's configuration. Generated by 'virtgov audit-rules'. A watch (-w)\n"
              "## with -p x records every execution of the file, a script's too (virt-install\n"
              "## runs as python3: a rule on the executable would not see it).\n", f);
        for (const AuditRule *r = rules; r->path; r++)
                fprintf(f, "-w %s%s%s -p %s -k %s\n", r->path[0] == '/' ? "" : etc_dir, r->path[0] == '/' ? "" : "/",
                        r->path, r->perms, r->key);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
