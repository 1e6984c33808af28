/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checks of libvirt's own configuration: qemu.conf, and the config and
 * the sockets of the daemons that run (libvirtd or virtqemud). Who can
 * manage VMs through them is assess/checks-access.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "priv.h"

/* A value as it is written in the file. */
static const char *shown(const VconfValue *v, char *buf, size_t n) {
        if (v->type == VCONF_STRING)
                snprintf(buf, n, "\"%s\"", v->str);
        else if (v->type == VCONF_NUMBER)
                snprintf(buf, n, "%lld", v->num);
        else {
                size_t k = (size_t) snprintf(buf, n, "[");
                for (size_t i = 0; i < v->n_items && k < n; i++) {
                        char item[256];
                        k += (size_t) snprintf(buf + k, n - k, "%s%s", i ? ", " : " ", shown(&v->items[i], item,
                                                                                             sizeof(item)));
                }
                if (k < n)
                        snprintf(buf + k, n - k, " ]");
        }
        return buf;
}

/* " (line N sets it again; libvirt uses this first one)" for a key set
 * twice, else "". */
static const char *twice(const Vconf *conf, const VconfEntry *e, char *buf, size_t n) {
        buf[0] = '\0';
        for (size_t i = 0; i < conf->n; i++)
                if (&conf->v[i] != e && !strcmp(conf->v[i].name, e->name) && conf->v[i].line > e->line) {
                        snprintf(buf, n, " (line %u sets it again; libvirt uses this first one)", conf->v[i].line);
                        break;
                }
        return buf;
}

static bool is_root_name(const char *s) {
        return !strcmp(s, "root") || !strcmp(s, "+0") || !strcmp(s, "0");
}

/* A key of conf (read from path) against k. */
static void judge_key(AssessCtx *x, const AssessCheck *c, const char *path, const Vconf *conf, const KeyCheck *k) {
        const VconfEntry *e = vconf_get(conf, k->key);
        if (!e) {
                assess_add(x, c, k->dflt_ok ? ASSESS_PASS : ASSESS_FAIL, path, NULL,
                           "%s is not set: libvirt's default %s %s", k->key, k->dflt ? k->dflt : "applies",
                           k->dflt_ok ? "holds" : "does not meet it");
                return;
        }
        char at[4200], val[512], dup[128];
        assess_at(at, sizeof(at), path, e->line);
        shown(&e->value, val, sizeof(val));
        twice(conf, e, dup, sizeof(dup));
        const VconfValue *v = &e->value;
        bool is_bool = k->rule == KEY_BOOL_TRUE || k->rule == KEY_BOOL_FALSE;
        if (is_bool && (v->type != VCONF_NUMBER || v->negative || v->num > 1) && strcmp(k->key, "seccomp_sandbox")) {
                /* libvirt refuses the file then: its daemon does not start. */
                assess_add(x, c, ASSESS_ERROR, at, NULL, "%s = %s: libvirt expects 0 or 1 and refuses the file%s",
                           k->key, val, dup);
                return;
        }
        if (!is_bool && v->type != VCONF_STRING) {
                assess_add(x, c, ASSESS_ERROR, at, NULL, "%s = %s: libvirt expects a string and refuses the file%s",
                           k->key, val, dup);
                return;
        }
        bool ok = false;
        switch (k->rule) {
        case KEY_BOOL_TRUE: ok = v->type == VCONF_NUMBER && v->num == 1; break;
        case KEY_BOOL_FALSE: ok = v->num == 0; break;
        case KEY_STRING_NOT: ok = strcmp(v->str, k->value) != 0; break;
        case KEY_STRING_IS: ok = strcmp(v->str, k->value) == 0; break;
        case KEY_NOT_ROOT: ok = !is_root_name(v->str); break;
        }
        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, at, NULL, "%s = %s%s", k->key, val, dup);
}

void assess_check_qemu_key(AssessCtx *x, const AssessCheck *c) {
        const Vconf *q = assess_qemu_conf(x, c);
        if (q)
                judge_key(x, c, x->qemu_path, q, c->arg);
}

/* ---- qemu.conf: confinement ---- */

/* The MAC libvirt confines guests with: "apparmor", "selinux", "none", or
 * NULL when qemu.conf leaves it to libvirt (the first one the host has).
 * An empty list leaves it to libvirt too: qemuSecurityInit uses the list
 * only when its first entry exists, else it probes as for no key. ""
 * stands for what libvirt cannot use (a number, a list of them). */
static const char *security_driver(const Vconf *q, const VconfEntry **ret) {
        const VconfEntry *e = vconf_get(q, "security_driver");
        *ret = e;
        if (!e)
                return NULL;
        if (e->value.type == VCONF_STRING)
                return e->value.str;
        if (e->value.type == VCONF_LIST && !e->value.n_items)
                return NULL;
        if (e->value.type == VCONF_LIST && e->value.items[0].type == VCONF_STRING)
                return e->value.items[0].str;
        return "";
}

void assess_check_qemu_security_driver(AssessCtx *x, const AssessCheck *c) {
        const Vconf *q = assess_qemu_conf(x, c);
        if (!q)
                return;
        const VconfEntry *e;
        const char *d = security_driver(q, &e);
        char at[4200], val[512];
        if (!e) {
                assess_add(x, c, ASSESS_PASS, x->qemu_path, NULL,
                           "security_driver is not set: libvirt uses the host's MAC (SELinux or AppArmor)");
                return;
        }
        assess_at(at, sizeof(at), x->qemu_path, e->line);
        if (!d) {
                assess_add(x, c, ASSESS_PASS, at, NULL, "security_driver = [ ]: an empty list is as if unset: "
                           "libvirt uses the host's MAC (SELinux or AppArmor)");
                return;
        }
        bool none = !strcmp(d, "none");
        for (size_t i = 0; e->value.type == VCONF_LIST && i < e->value.n_items; i++)
                none |= e->value.items[i].type == VCONF_STRING && !strcmp(e->value.items[i].str, "none");
        assess_add(x, c, none || !*d ? ASSESS_FAIL : ASSESS_PASS, at, NULL, "security_driver = %s",
                   shown(&e->value, val, sizeof(val)));
}

/* Whether AppArmor, SELinux (enforcing) are on: 1, 0, or < 0 with an
 * error result added. */
static int mac_state(AssessCtx *x, const AssessCheck *c, bool *apparmor, bool *selinux) {
        char aa[16] = "", se[16] = "";
        int r1 = assess_sysfs(x, c, "module/apparmor/parameters/enabled", aa, sizeof(aa));
        int r2 = assess_sysfs(x, c, "fs/selinux/enforce", se, sizeof(se));
        if ((r1 < 0 && r1 != -ENOENT) || (r2 < 0 && r2 != -ENOENT))
                return -EIO;
        *apparmor = r1 == 0 && aa[0] == 'Y';
        *selinux = r2 == 0 && se[0] == '1';
        return 0;
}

void assess_check_qemu_mac_active(AssessCtx *x, const AssessCheck *c) {
        const Vconf *q = assess_qemu_conf(x, c);
        bool aa, se;
        if (!q || mac_state(x, c, &aa, &se) < 0)
                return;
        const VconfEntry *e;
        const char *d = security_driver(q, &e);
        char where[4200];
        snprintf(where, sizeof(where), "%s/module/apparmor/parameters/enabled, %s/fs/selinux/enforce", x->p->sys_dir,
                 x->p->sys_dir);
        if (d && !strcmp(d, "apparmor"))
                assess_add(x, c, aa ? ASSESS_PASS : ASSESS_FAIL, where, NULL,
                           "qemu.conf names AppArmor, which is %s", aa ? "enabled" : "not enabled");
        else if (d && !strcmp(d, "selinux"))
                assess_add(x, c, se ? ASSESS_PASS : ASSESS_FAIL, where, NULL,
                           "qemu.conf names SELinux, which is %s", se ? "enforcing" : "not enforcing");
        else if (d && (!strcmp(d, "none") || !*d))
                assess_add(x, c, ASSESS_FAIL, where, NULL, "qemu.conf turns confinement off (security_driver)");
        else
                assess_add(x, c, aa || se ? ASSESS_PASS : ASSESS_FAIL, where, NULL, "%s",
                           aa ? "AppArmor is enabled" : se ? "SELinux is enforcing"
                                                           : "neither AppArmor nor SELinux is active: guests run "
                                                             "unconfined");
}

void assess_check_qemu_apparmor_profiles(AssessCtx *x, const AssessCheck *c) {
        const Vconf *q = assess_qemu_conf(x, c);
        bool aa, se;
        if (!q || mac_state(x, c, &aa, &se) < 0)
                return;
        const VconfEntry *e;
        const char *d = security_driver(q, &e);
        if (!aa || (d && strcmp(d, "apparmor"))) {
                assess_add(x, c, ASSESS_NA, NULL, NULL, "AppArmor is not what confines the guests here");
                return;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/kernel/security/apparmor/profiles", x->p->sys_dir);
        _cleanup_free_ char *t = NULL;
        int r = assess_read(x, c, path, 0, &t, NULL);
        if (r == -ENOENT)
                assess_add(x, c, ASSESS_ERROR, path, NULL, "AppArmor is enabled but its profile list is not there "
                           "(securityfs not mounted?)");
        if (r < 0)
                return;
        bool daemon = false;
        size_t bad = 0;
        for (char *save = NULL, *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                bool enforce = strstr(l, "(enforce)") != NULL;
                if (!strncmp(l, "libvirtd ", 9) || !strncmp(l, "/usr/sbin/libvirtd ", 19) ||
                    !strncmp(l, "virtqemud ", 10) || !strncmp(l, "/usr/sbin/virtqemud ", 20)) {
                        daemon |= enforce;
                        if (!enforce) {
                                assess_add(x, c, ASSESS_FAIL, path, NULL, "profile %s", l);
                                bad++;
                        }
                } else if (!strncmp(l, "libvirt-", 8) && !enforce) {
                        assess_add(x, c, ASSESS_FAIL, path, NULL, "guest profile %s", l);
                        bad++;
                }
        }
        if (!daemon && !bad)
                assess_add(x, c, ASSESS_FAIL, path, NULL, "no libvirtd or virtqemud profile is loaded in enforce mode");
        else if (!bad)
                assess_add(x, c, ASSESS_PASS, path, NULL, "libvirt's profiles are loaded and enforcing");
}

void assess_check_qemu_namespaces(AssessCtx *x, const AssessCheck *c) {
        const Vconf *q = assess_qemu_conf(x, c);
        if (!q)
                return;
        const VconfEntry *e = vconf_get(q, "namespaces");
        char at[4200], val[512];
        if (!e) {
                assess_add(x, c, ASSESS_PASS, x->qemu_path, NULL,
                           "namespaces is not set: libvirt's default [ \"mount\" ] holds");
                return;
        }
        assess_at(at, sizeof(at), x->qemu_path, e->line);
        bool mount = false;
        for (size_t i = 0; e->value.type == VCONF_LIST && i < e->value.n_items; i++)
                mount |= e->value.items[i].type == VCONF_STRING && !strcmp(e->value.items[i].str, "mount");
        assess_add(x, c, mount ? ASSESS_PASS : ASSESS_FAIL, at, NULL, "namespaces = %s",
                   shown(&e->value, val, sizeof(val)));
}

/* VNC or SPICE: a listen address of loopback, or TLS. */
static void judge_display(AssessCtx *x, const AssessCheck *c, const char *proto) {
        const Vconf *q = assess_qemu_conf(x, c);
        if (!q)
                return;
        char lk[32], tk[32], at[4200];
        snprintf(lk, sizeof(lk), "%s_listen", proto);
        snprintf(tk, sizeof(tk), "%s_tls", proto);
        const VconfEntry *l = vconf_get(q, lk), *t = vconf_get(q, tk);
        const char *addr = l && l->value.type == VCONF_STRING ? l->value.str : "127.0.0.1";
        bool tls = t && t->value.type == VCONF_NUMBER && t->value.num == 1;
        const VconfEntry *sock = !strcmp(proto, "vnc") ? vconf_get(q, "vnc_auto_unix_socket") : NULL;
        if (sock && sock->value.type == VCONF_NUMBER && sock->value.num == 1) {
                assess_add(x, c, ASSESS_PASS, assess_at(at, sizeof(at), x->qemu_path, sock->line), NULL,
                           "vnc_auto_unix_socket = 1: VNC is on a UNIX socket, not TCP");
                return;
        }
        assess_at(at, sizeof(at), x->qemu_path, l ? l->line : t ? t->line : 0);
        bool ok = assess_loopback(addr) || tls;
        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, at, NULL, "%s = \"%s\"%s, %s = %d%s", lk, addr,
                   l ? "" : " (default)", tk, tls, t ? "" : " (default)");
}

void assess_check_qemu_vnc(AssessCtx *x, const AssessCheck *c) {
        judge_display(x, c, "vnc");
}

void assess_check_qemu_spice(AssessCtx *x, const AssessCheck *c) {
        judge_display(x, c, "spice");
}

/* ---- the daemons' config ---- */

typedef void (*DaemonJudge)(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf);

static void each_daemon(AssessCtx *x, const AssessCheck *c, DaemonJudge fn) {
        if (assess_daemons(x, c) < 0)
                return;
        static const Vconf empty = { 0 };
        for (size_t i = 0; i < x->n_daemons; i++) {
                const DaemonConf *d = &x->daemons[i];
                if (d->l.r < 0)
                        assess_add_error(x, c, &d->l);
                else
                        fn(x, c, d, d->conf ? d->conf : &empty);
        }
}

static const char *str_of(const Vconf *conf, const char *key, const char *dflt, unsigned *line) {
        const VconfEntry *e = vconf_get(conf, key);
        *line = e ? e->line : 0;
        return e && e->value.type == VCONF_STRING ? e->value.str : dflt;
}

static long long num_of(const Vconf *conf, const char *key, long long dflt, unsigned *line) {
        const VconfEntry *e = vconf_get(conf, key);
        *line = e ? e->line : 0;
        return e && e->value.type == VCONF_NUMBER ? e->value.num : dflt;
}

static void judge_daemon_key(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        judge_key(x, c, d->conf_path, conf, c->arg);
}

void assess_check_daemon_key(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_daemon_key);
}

static void judge_tcp(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l1, l2;
        char at[4200];
        long long tcp = num_of(conf, "listen_tcp", 0, &l1);
        const char *auth = str_of(conf, "auth_tcp", "sasl", &l2);
        if (tcp != 1)
                assess_add(x, c, ASSESS_PASS, assess_at(at, sizeof(at), d->conf_path, l1), NULL,
                           "%s: listen_tcp = %lld%s", d->name, tcp, l1 ? "" : " (default)");
        else
                assess_add(x, c, strcmp(auth, "none") ? ASSESS_PASS : ASSESS_FAIL,
                           assess_at(at, sizeof(at), d->conf_path, l2 ? l2 : l1), NULL,
                           "%s: listen_tcp = 1, auth_tcp = \"%s\"%s", d->name, auth, l2 ? "" : " (default)");
}

void assess_check_daemon_tcp(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_tcp);
}

static void judge_tls(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l1, l2, l3;
        char at[4200];
        long long tls = num_of(conf, "listen_tls", 1, &l1);
        long long noverify = num_of(conf, "tls_no_verify_certificate", 0, &l2);
        long long nosanity = num_of(conf, "tls_no_sanity_certificate", 0, &l3);
        if (tls != 1) {
                assess_add(x, c, ASSESS_PASS, assess_at(at, sizeof(at), d->conf_path, l1), NULL,
                           "%s: listen_tls = %lld: no TLS listener", d->name, tls);
                return;
        }
        bool ok = noverify != 1 && nosanity != 1;
        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, assess_at(at, sizeof(at), d->conf_path, l2 ? l2 : l3), NULL,
                   "%s: tls_no_verify_certificate = %lld, tls_no_sanity_certificate = %lld%s", d->name, noverify,
                   nosanity, ok ? ": clients must present a certificate the CA signed" : "");
}

void assess_check_daemon_tls(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_tls);
}

static unsigned perms_of(const char *s) {
        return (unsigned) strtoul(s, NULL, 8);
}

/* libvirt's default auth on the read-write socket: polkit where it was
 * built with polkit (Debian, Fedora), which authorizes each connection
 * itself. */
#define DEFAULT_AUTH_RW "polkit"

static void judge_rw_perms(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l1, l2;
        char at[4200];
        const char *auth = str_of(conf, "auth_unix_rw", DEFAULT_AUTH_RW, &l1);
        bool checked = !strcmp(auth, "polkit") || !strcmp(auth, "sasl");
        const char *perms = str_of(conf, "unix_sock_rw_perms", checked ? "0777" : "0700", &l2);
        bool world = perms_of(perms) & 0002;
        assess_add(x, c, !world || checked ? ASSESS_PASS : ASSESS_FAIL,
                   assess_at(at, sizeof(at), d->conf_path, l2 ? l2 : l1), NULL,
                   "%s: unix_sock_rw_perms = \"%s\"%s, auth_unix_rw = \"%s\"%s%s", d->name, perms,
                   l2 ? "" : " (default)", auth, l1 ? "" : " (default)",
                   world && checked ? ": every local user may connect, and polkit decides" : "");
}

void assess_check_daemon_rw_perms(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_rw_perms);
}

static void judge_sock_group(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l;
        char at[4200];
        const char *g = str_of(conf, "unix_sock_group", NULL, &l);
        assess_at(at, sizeof(at), d->conf_path, l);
        if (!g) {
                assess_add(x, c, ASSESS_PASS, at, NULL, "%s: unix_sock_group is not set: the sockets are root's group",
                           d->name);
                return;
        }
        const Accounts *a = assess_accounts(x, c);
        if (!a)
                return;
        bool exists = false;
        for (size_t i = 0; i < a->n_groups; i++)
                exists |= !strcmp(a->groups[i].name, g);
        assess_add(x, c, exists ? ASSESS_PASS : ASSESS_FAIL, at, NULL, "%s: unix_sock_group = \"%s\"%s", d->name, g,
                   exists ? "" : ", a group that does not exist: whoever creates it gets the socket");
}

void assess_check_daemon_sock_group(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_sock_group);
}

static void judge_ro_perms(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l1, l2;
        char at[4200];
        const char *perms = str_of(conf, "unix_sock_ro_perms", "0777", &l1);
        const char *auth = str_of(conf, "auth_unix_ro", DEFAULT_AUTH_RW, &l2);
        bool open = (perms_of(perms) & 0006) && strcmp(auth, "sasl");
        assess_add(x, c, open ? ASSESS_FAIL : ASSESS_PASS, assess_at(at, sizeof(at), d->conf_path, l1 ? l1 : l2), NULL,
                   "%s: unix_sock_ro_perms = \"%s\"%s, auth_unix_ro = \"%s\"%s%s", d->name, perms,
                   l1 ? "" : " (default)", auth, l2 ? "" : " (default)",
                   open ? ": every local user can read every domain's definition and state" : "");
}

void assess_check_daemon_ro_perms(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_ro_perms);
}

static void judge_admin_perms(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l;
        char at[4200];
        const char *perms = str_of(conf, "unix_sock_admin_perms", "0700", &l);
        bool ok = !(perms_of(perms) & 0077);
        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, assess_at(at, sizeof(at), d->conf_path, l), NULL,
                   "%s: unix_sock_admin_perms = \"%s\"%s", d->name, perms, l ? "" : " (default)");
}

void assess_check_daemon_admin_perms(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_admin_perms);
}

static void judge_audit(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        unsigned l;
        char at[4200];
        long long level = num_of(conf, "audit_level", 1, &l);
        assess_add(x, c, level >= 1 ? ASSESS_PASS : ASSESS_FAIL, assess_at(at, sizeof(at), d->conf_path, l), NULL,
                   "%s: audit_level = %lld%s", d->name, level, l ? "" : " (default)");
}

void assess_check_daemon_audit_level(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_audit);
}

/* ---- the sockets as they are ---- */

static void judge_socket(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const char *suffix, bool admin,
                         const Vconf *conf) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s%s", x->p->run_libvirt, !strcmp(d->name, "libvirtd") ? "libvirt" : d->name,
                 suffix);
        struct stat st;
        int r = assess_stat(x, path, true, &st);
        if (r < 0) {
                if (r == -ENOENT)
                        assess_add(x, c, ASSESS_NA, path, NULL, "%s: no socket here (%s)", d->name,
                                   d->running ? "it listens elsewhere" : "not running");
                else
                        assess_add(x, c, ASSESS_ERROR, path, NULL, "cannot stat %s: %s", path, strerror(-r));
                return;
        }
        unsigned mode = st.st_mode & 07777;
        bool ok;
        const char *why = "";
        if (admin) {
                ok = !(mode & 0077);
                why = ok ? "" : ": the admin socket reconfigures the daemon itself";
        } else {
                unsigned l;
                const char *auth = str_of(conf, "auth_unix_rw", DEFAULT_AUTH_RW, &l);
                bool checked = !strcmp(auth, "polkit") || !strcmp(auth, "sasl");
                ok = !(mode & 0002) || checked;
                why = ok ? (mode & 0002 ? " (polkit authorizes each client)" : "")
                         : ": any local user can manage every VM, as root";
        }
        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, path, NULL, "%s: mode %04o, owner uid %u, group gid %u%s",
                   d->name, mode, (unsigned) st.st_uid, (unsigned) st.st_gid, why);
}

static void judge_socket_rw(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        judge_socket(x, c, d, "-sock", false, conf);
}

static void judge_socket_admin(AssessCtx *x, const AssessCheck *c, const DaemonConf *d, const Vconf *conf) {
        judge_socket(x, c, d, "-admin-sock", true, conf);
}

void assess_check_socket_rw(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_socket_rw);
}

void assess_check_socket_admin(AssessCtx *x, const AssessCheck *c) {
        each_daemon(x, c, judge_socket_admin);
}
