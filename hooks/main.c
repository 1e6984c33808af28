/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtgov-hook: libvirt runs it as
 *
 *     /etc/libvirt/hooks/qemu.d/50-virtgov     NAME OP SUBOP EXTRA   (domain XML on stdin)
 *     /etc/libvirt/hooks/network.d/50-virtgov  NAME OP SUBOP EXTRA   (<hookData> on stdin)
 *
 * It records the call as one event and exits. Rules it lives by:
 *  - it never calls libvirt: libvirt is waiting for it, holding the domain's
 *    job, and a call back would deadlock;
 *  - it bounds its own run time (hook_timeout_ms): libvirt waits forever;
 *  - it exits non-zero only at prepare, migrate and restore, when the
 *    policy denies (never at reconnect: that kills a running guest);
 *  - nothing is lost: the event goes to the spool's journal, which the
 *    daemon folds into the inventory; what cannot go there goes into the
 *    inventory directly, and what cannot go anywhere is said on stderr,
 *    which libvirt logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/config.h"
#include "virtgov/model/domxml.h"
#include "virtgov/model/event.h"
#include "virtgov/policy/gate.h"
#include "virtgov/model/kinds.h"
#include "virtgov/store/spool.h"
#include "virtgov/store/store.h"
#include "virtgov/util/text.h"

typedef enum { DRIVER_QEMU, DRIVER_NETWORK } Driver;

/* ---- the backstop: a hard bound on the whole run ---- */

/* Filled before the inventory is touched, so that the timer can still put
 * the event in the spool using only async-signal-safe calls. */
static char emergency_dir[PATH_MAX], emergency_tmp[PATH_MAX], emergency_path[PATH_MAX];
static char *emergency_text;
/* What the timer exits with: 1 only at a gated op under a policy. */
static volatile sig_atomic_t timeout_exit;

static void write_str(const char *s) {
        (void) !write(STDERR_FILENO, s, strlen(s));
}

static void on_timeout(int sig) {
        if (emergency_text) {
                (void) mkdir(emergency_dir, 0700);
                int fd = open(emergency_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd >= 0) {
                        bool ok = write(fd, emergency_text, strlen(emergency_text)) ==
                                  (ssize_t) strlen(emergency_text) && fsync(fd) == 0;
                        close(fd);
                        if (ok && rename(emergency_tmp, emergency_path) == 0) {
                                write_str(timeout_exit ? "virtgov: hook ran out of time; event spooled; denied\n"
                                                       : "virtgov: hook ran out of time; event spooled\n");
                                _exit(timeout_exit);
                        }
                }
        }
        write_str("virtgov: hook ran out of time; event NOT recorded\n");
        _exit(timeout_exit);
}

static void arm_timer(unsigned ms) {
        struct sigaction sa = { .sa_handler = on_timeout };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };
        setitimer(ITIMER_REAL, &it, NULL);
}

/* (Re)renders the event for the timer; data: its data's text, or NULL.
 * SIGALRM is blocked while the pointer changes hands, so the handler never
 * sees a freed text. */
static void prepare_emergency(const Config *c, const Event *e, const char *data) {
        char *text = event_render(e, data);

        sigset_t alrm, old;
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        sigprocmask(SIG_BLOCK, &alrm, &old);
        char *prev = emergency_text;
        emergency_text = text;
        snprintf(emergency_dir, sizeof(emergency_dir), "%s", c->spool_dir);
        snprintf(emergency_path, sizeof(emergency_path), "%s/%s.json", c->spool_dir, e->ref);
        snprintf(emergency_tmp, sizeof(emergency_tmp), "%s/.%s.tmp", c->spool_dir, e->ref);
        sigprocmask(SIG_SETMASK, &old, NULL);
        free(prev);
}

/* ---- building the event ---- */

static Driver driver_from_argv0(const char *argv0) {
        /* .../qemu.d/50-virtgov or .../network.d/50-virtgov, or installed as
         * the main script .../qemu or .../network */
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", argv0 ? argv0 : "");
        char *slash = strrchr(buf, '/');
        const char *base = slash ? slash + 1 : buf;
        if (!strcmp(base, "network"))
                return DRIVER_NETWORK;
        if (!strcmp(base, "qemu"))
                return DRIVER_QEMU;
        if (slash) {
                *slash = '\0';
                char *parent = strrchr(buf, '/');
                parent = parent ? parent + 1 : buf;
                if (!strcmp(parent, "network.d"))
                        return DRIVER_NETWORK;
                if (!strcmp(parent, "qemu.d"))
                        return DRIVER_QEMU;
        }
        /* Installed under another name: libvirt's main hook is "qemu". */
        return DRIVER_QEMU;
}


/* An argument as a JSON string, cut to a sane length: libvirt's are short,
 * and a hostile one must not bloat the inventory. */
static void set_arg(json_t *data, const char *key, const char *v) {
        char buf[257];
        if (!v)
                return;
        snprintf(buf, sizeof(buf), "%s", v);
        json_object_set_new(data, key, event_json_string(buf));
}

/* Adds the facts from stdin to e. For a domain, hands the parsed facts to
 * the caller (*ret_facts), who puts them on e after the policy decided; on
 * failure err says why. */
static int add_facts(Event *e, Driver d, const char *xml, size_t len, int read_r, const Config *c,
                     DomainFacts **ret_facts, VgError *ret_err) {
        VgError err = { "" };
        int r;

        if (read_r == -EFBIG)
                r = vg_error(&err, -EFBIG, "XML on stdin is larger than max_xml_bytes (%zu); not parsed",
                             c->max_xml_bytes);
        else if (read_r < 0)
                r = vg_error(&err, read_r, "cannot read stdin: %s", strerror(-read_r));
        else if (d == DRIVER_QEMU) {
                DomainFacts *f = NULL;
                r = domxml_parse(xml, len, &f, &err);
                if (r == 0) {
                        if (f->uuid)
                                event_set(&e->uuid, f->uuid);
                        if (!e->domain)
                                event_set(&e->domain, f->name);
                        else if (strcmp(e->domain, f->name))
                                json_object_set_new(e->data, "xml_name", event_json_string(f->name));
                        /* Its JSON goes on the event once the policy has
                         * looked (and maybe completed backing chains). */
                        *ret_facts = f;
                }
        } else {
                NetworkFacts *f = NULL;
                r = netxml_parse(xml, len, &f, &err);
                if (r == 0) {
                        json_t *facts = network_facts_to_json(f);
                        json_object_update(e->data, facts);
                        json_decref(facts);
                        /* A port belongs to a domain: file the event under it. */
                        event_set(&e->domain, f->owner_name);
                        event_set(&e->uuid, f->owner_uuid);
                        network_facts_free(f);
                }
        }
        if (r < 0) {
                json_object_set_new(e->data, "error", event_json_string(err.text));
                json_object_set_new(e->data, "input_bytes", json_integer((json_int_t) len));
                *ret_err = err;
        }
        return r;
}

/* The event as far as the arguments tell; facts from stdin come after. */
/* k: the kind of op (kinds.h), NULL for an op libvirt has no name for
 * here, recorded as domain.unknown or network.unknown. */
static Event *build_event(int argc, char **argv, Driver d, const EventKind *k, const char *config_error) {
        const char *op = argc > 2 ? argv[2] : NULL;
        Event *e = event_new("hook", k ? k->name : d == DRIVER_QEMU ? "domain.unknown" : "network.unknown");
        if (!e)
                return NULL;
        json_object_set_new(e->data, "driver", json_string(d == DRIVER_QEMU ? "qemu" : "network"));
        set_arg(e->data, "op", op);
        set_arg(e->data, "subop", argc > 3 ? argv[3] : NULL);
        set_arg(e->data, "extra", argc > 4 ? argv[4] : NULL);
        if (argc < 3)
                json_object_set_new(e->data, "error",
                                    json_string("missing arguments: expected OBJECT OP SUBOP EXTRA"));
        if (config_error)
                json_object_set_new(e->data, "config_error", event_json_string(config_error));

        if (d == DRIVER_QEMU && argc > 1) {
                char name[257];
                snprintf(name, sizeof(name), "%s", argv[1]);
                event_set(&e->domain, name);
        } else if (d == DRIVER_NETWORK && argc > 1)
                set_arg(e->data, "network", argv[1]);
        return e;
}

/* ---- deciding ---- */

static Event *derived(const Event *e, const char *kind, const GateResult *g) {
        Event *x = event_new("hook", kind);
        if (!x)
                return NULL;
        event_set(&x->host, e->host);
        event_set(&x->domain, e->domain);
        event_set(&x->uuid, e->uuid);
        event_set(&x->decision, g->verdict == VERDICT_ALLOW ? "allow" : "deny");
        event_set(&x->reason, g->reason);
        json_object_set(x->data, "policy", g->detail);
        json_object_set(x->data, "op", json_object_get(e->data, "op"));
        return x;
}

/*
 * Decides, and writes the outcome into the events: e carries the effective
 * decision (a deny in audit mode lets the start go ahead: allow), a
 * policy.violation or policy.error event is added when due. Returns true
 * when the operation must be blocked.
 */
static bool decide(const Config *c, const char *op, DomainFacts *f, const char *facts_err, Event **events,
                   size_t *n) {
        Event *e = events[0];
        GateResult g;
        Policy *p = NULL;
        if (gate_load(c->policy, &p, &g) == 1) {
                /* What the gate reads: the inventory's copy of its
                 * approvals, tickets and trusted images when p needs
                 * nothing else (reading the whole inventory's schema was a
                 * third of the hook's instructions at prepare); the
                 * inventory when there is no copy of it, or the copy could
                 * not be read. Only under a policy, and only to decide:
                 * recording goes to the spool. */
                store_init_short_lived();
                for (bool copy = f && !gate_needs_inventory(p);; copy = false) {
                        VgError serr = { "" };
                        Store *s = NULL;
                        if (copy && store_open_authz(c->inventory, c->busy_timeout_ms, &s) < 0)
                                continue;
                        if (!copy && f && store_open(c->inventory, STORE_APPEND, c->busy_timeout_ms, &s, &serr) < 0)
                                s = NULL;
                        /* The gate names what it could not use: the XML first, else the store. */
                        const char *why = !f ? facts_err : s ? NULL : serr.text;
                        gate_decide_policy(p, s, why, f, op, e->host, vg_now_us(), &g);
                        store_close(s);
                        if (!copy || !g.error)
                                break;
                        gate_result_clear(&g);
                }
                policy_free(p);
        }
        bool block = g.verdict == VERDICT_DENY && g.enforced;

        event_set(&e->decision, block ? "deny" : "allow");
        if (g.verdict == VERDICT_DENY && !block) {
                char buf[1100];
                snprintf(buf, sizeof(buf), "audit: would deny: %s", g.reason ? g.reason : "");
                event_set(&e->reason, buf);
        } else
                event_set(&e->reason, g.reason);
        json_object_set(e->data, "policy", g.detail);
        if (g.rule)
                json_object_set_new(e->data, "rule", json_string(g.rule));

        if (g.error && (events[*n] = derived(e, "policy.error", &g)))
                (*n)++;
        if (g.verdict == VERDICT_DENY && !block && (events[*n] = derived(e, "policy.violation", &g)))
                (*n)++;
        if (block) {
                const char *what = !strcmp(op, "start") ? "start" : !strcmp(op, "migrate") ? "incoming migration"
                                 : "restore";
                /* The one line libvirt shows the person who ran virsh: the
                 * name comes from whoever defined the domain, so it reaches
                 * the terminal as text only (vg_text_terminal). */
                bool named = g.rule && !g.error;
                char name[256], reason[1024], rule[256];
                fprintf(stderr, "virtgov: %s of '%s' denied: %s%s%s%s\n", what,
                        vg_text_terminal(e->domain ? e->domain : "?", name, sizeof(name)),
                        vg_text_terminal(g.reason ? g.reason : "denied", reason, sizeof(reason)),
                        named ? " (rule '" : "", named ? vg_text_terminal(g.rule, rule, sizeof(rule)) : "",
                        named ? "')" : "");
        }
        gate_result_clear(&g);
        return block;
}

/* ---- recording ---- */

/* The text of e's data with f's as its member "facts" (domain_facts_text:
 * the tree of jansson's was 290k of 750k instructions at 'started'). NULL
 * on ENOMEM. */
static char *data_with_facts(const Event *e, const DomainFacts *f) {
        _cleanup_free_ char *data = event_data_text(e);
        _cleanup_free_ char *facts = f ? domain_facts_text(f) : NULL;
        char *text = NULL;
        if (!data || (f && !facts))
                return NULL;
        if (!f)
                return TAKE_PTR(data);
        /* data is "{...}", compact */
        size_t len = strlen(data);
        if (asprintf(&text, "%.*s%s\"facts\":%s}", (int) len - 1, data, len > 2 ? "," : "", facts) < 0)
                return NULL;
        return text;
}

/* Into the spool's journal, all in one record write and one fdatasync:
 * the daemon folds them into the inventory as soon as they land, and
 * chains them there (if it is down, the next virtgov command run by who
 * may write the inventory does). The hook's own SQL was most of its cost:
 * preparing the insert and the domain's upsert, reading the schema to do
 * so, a write transaction and its syncs. Only when the spool cannot take
 * them do they go into the inventory here. data0, text0: events[0]'s
 * data and the event rendered with it (for the timer already). */
static void record(const Config *c, Event **events, size_t n, const char *data0, const char *text0) {
        char *own[3] = { NULL, NULL, NULL };
        const char *texts[3] = { text0 };
        VgError err = { "" };
        int r = 0;
        for (size_t i = 1; i < n; i++)
                if (!(texts[i] = own[i] = event_render(events[i], NULL)))
                        r = vg_error(&err, -ENOMEM, "out of memory");
        if (!text0)
                r = vg_error(&err, -ENOMEM, "out of memory");
        if (r == 0)
                r = spool_append(c->spool_dir, texts, n, &err);
        for (size_t i = 1; i < n; i++)
                free(own[i]);
        if (r == 0)
                return;

        /* The spool cannot take them: straight into the inventory, the
         * first with the data it was rendered with (the facts). */
        json_t *d = data0 ? json_loads(data0, 0, NULL) : NULL;
        if (d) {
                json_decref(events[0]->data);
                events[0]->data = d;
        }
        VgError serr = { "" };
        Store *s = NULL;
        if (store_open(c->inventory, STORE_APPEND, c->busy_timeout_ms, &s, &serr) < 0)
                s = NULL;
        for (size_t i = 0; i < n; i++) {
                Event *e = events[i];
                if (s && store_append_event(s, e, NULL, &serr) >= 0)
                        fprintf(stderr, "virtgov: %s; event recorded in the inventory directly\n", err.text);
                else {
                        char name[256];
                        fprintf(stderr, "virtgov: %s; and %s: event %s %s of '%s' NOT recorded\n",
                                err.text, serr.text, e->kind, e->time, vg_text_terminal(e->domain, name, sizeof(name)));
                }
        }
        store_close(s);
}

int main(int argc, char **argv) {
        VgError cerr = { "" };
        Config *c = NULL;
        const char *config_error = NULL;

        if (config_load(NULL, &c, &cerr) < 0) {
                /* Record with the defaults rather than lose the event. */
                config_error = cerr.text;
                fprintf(stderr, "virtgov: %s (using defaults)\n", cerr.text);
                c = config_new();
                if (!c)
                        return 0;
        }
        /* The driver comes from where libvirt put us: qemu.d or network.d. */
        Driver d = driver_from_argv0(argv[0]);
        /* The op's kind, once: what is recorded, and whether (and as what)
         * the policy decides at it: only the ops libvirt lets a hook block. */
        const EventKind *k = event_kind_of_hook_op(d == DRIVER_NETWORK, argc > 2 ? argv[2] : NULL);
        const char *op = k && (k->flags & KIND_GATED) ? k->gate_op : NULL;
        /* Running out of time at a gated op is an error like any other:
         * deny, unless there is no policy at all, judged as the gate judges
         * it (a dangling link or a removable absence is no "no policy"). */
        bool policy_present = op && (access(c->policy, F_OK) == 0 || errno != ENOENT ||
                                     vg_check_absent(c->policy, NULL) != -ENOENT);
        timeout_exit = policy_present ? 1 : 0;
        arm_timer(c->hook_timeout_ms);

        Event *events[3] = { build_event(argc, argv, d, k, config_error), NULL, NULL };
        size_t n = 1;
        if (!events[0]) {
                fprintf(stderr, "virtgov: out of memory; event NOT recorded\n");
                config_free(c);
                return timeout_exit;
        }
        /* From here on, even a stdin that never closes cannot lose the call:
         * the timer spools what the arguments said. */
        prepare_emergency(c, events[0], NULL);

        DomainFacts *facts = NULL;
        VgError ferr = { "" };
        if (argc >= 3) {
                _cleanup_free_ char *xml = NULL;
                size_t len = 0;
                int read_r = vg_read_fd(STDIN_FILENO, c->max_xml_bytes, &xml, &len);
                add_facts(events[0], d, xml, len, read_r, c, &facts, &ferr);
        }

        bool block = op && decide(c, op, facts, ferr.text, events, &n);
        /* Decided: from here the timer only bounds the recording, and its
         * exit is the decision's. It was deny regardless, so a start the
         * policy allowed, recorded as allowed, was refused when closing
         * the inventory ran past the bound (seen under load: 50 hooks at
         * once under ASan). */
        timeout_exit = block;
        /* The facts, once: after the gate, which may have completed backing
         * chains from the images' headers. As text, put last in the data's:
         * who folds the spool stores the data canonical. */
        _cleanup_free_ char *data = data_with_facts(events[0], facts);
        /* The timer's copy now carries the facts and the decision; the
         * spool gets the same text. */
        prepare_emergency(c, events[0], data);
        record(c, events, n, data, emergency_text);
        /* Recorded (or said not to be): the timer has nothing left to save. */
        setitimer(ITIMER_REAL, &(struct itimerval) { { 0, 0 }, { 0, 0 } }, NULL);

        for (size_t i = 0; i < n; i++)
                event_free(events[i]);
        domain_facts_free(facts);
        config_free(c);
        /* Never non-zero but for a gated op that policy denies: libvirt
         * kills a running guest on a failed reconnect. */
        return block ? 1 : 0;
}
