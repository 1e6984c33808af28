/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host under the hypervisor: kernel settings and the CPU, the services
 * that listen, sshd and auditd, and virtgov itself.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "priv.h"

/* ---- kernel and CPU ---- */

void assess_check_sysctl(AssessCtx *x, const AssessCheck *c) {
        const SysctlCheck *s = c->arg;
        char v[64], where[256];
        snprintf(where, sizeof(where), "sysctl %s", s->name);
        int r = assess_sysctl(x, c, s->name, v, sizeof(v));
        if (r == -ENOENT) {
                if (s->absent_ok)
                        assess_add(x, c, ASSESS_PASS, where, NULL, "%s is not present: %s", s->name, s->absent_ok);
                else
                        assess_add(x, c, ASSESS_FAIL, where, NULL, "%s is not present: this kernel lacks the "
                                   "protection", s->name);
                return;
        }
        if (r < 0)
                return;
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v) {
                assess_add(x, c, ASSESS_ERROR, where, NULL, "%s = '%s': not a number", s->name, v);
                return;
        }
        assess_add(x, c, n >= s->min && n <= s->max ? ASSESS_PASS : ASSESS_FAIL, where, NULL, "%s = %ld", s->name, n);
}

void assess_check_userns(AssessCtx *x, const AssessCheck *c) {
        /* Debian's switch, Ubuntu's AppArmor restriction, else the count. */
        static const struct {
                const char *name;
                long ok;
        } ways[] = { { "kernel.unprivileged_userns_clone", 0 }, { "kernel.apparmor_restrict_unprivileged_userns", 1 },
                     { "user.max_user_namespaces", 0 } };
        for (size_t i = 0; i < ELEMENTSOF(ways); i++) {
                char v[64], where[256];
                int r = assess_sysctl(x, c, ways[i].name, v, sizeof(v));
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return;
                snprintf(where, sizeof(where), "sysctl %s", ways[i].name);
                assess_add(x, c, atol(v) == ways[i].ok ? ASSESS_PASS : ASSESS_FAIL, where, NULL, "%s = %s",
                           ways[i].name, v);
                return;
        }
        assess_add(x, c, ASSESS_ERROR, "sysctl user.max_user_namespaces", NULL,
                   "none of the sysctls that restrict user namespaces is present");
}

void assess_check_cpu_vulns(AssessCtx *x, const AssessCheck *c) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/devices/system/cpu/vulnerabilities", x->p->sys_dir);
        DIR *d = assess_opendir(x, dir);
        if (!d) {
                assess_add(x, c, errno == ENOENT ? ASSESS_NA : ASSESS_ERROR, dir, NULL, "cannot list %s: %s", dir,
                           strerror(errno));
                return;
        }
        size_t n = 0, bad = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                char rel[600], v[512];
                snprintf(rel, sizeof(rel), "devices/system/cpu/vulnerabilities/%s", de->d_name);
                if (assess_sysfs(x, c, rel, v, sizeof(v)) < 0)
                        continue;
                n++;
                if (!strncmp(v, "Vulnerable", 10)) {
                        char where[4500];
                        snprintf(where, sizeof(where), "%s/%s", dir, de->d_name);
                        assess_add(x, c, ASSESS_FAIL, where, NULL, "%s: %s", de->d_name, v);
                        bad++;
                }
        }
        closedir(d);
        if (!bad)
                assess_add(x, c, ASSESS_PASS, dir, NULL, "%zu known vulnerabilities: each mitigated or not affecting "
                           "this CPU", n);
}

void assess_check_cpu_smt(AssessCtx *x, const AssessCheck *c) {
        char v[64], where[4200];
        snprintf(where, sizeof(where), "%s/devices/system/cpu/smt/control", x->p->sys_dir);
        int r = assess_sysfs(x, c, "devices/system/cpu/smt/control", v, sizeof(v));
        if (r == -ENOENT) {
                assess_add(x, c, ASSESS_NA, where, NULL, "the kernel has no SMT control");
                return;
        }
        if (r < 0)
                return;
        if (strcmp(v, "on")) {
                assess_add(x, c, ASSESS_PASS, where, NULL, "SMT control: %s", v);
                return;
        }
        /* SMT on matters where the kernel says a flaw leaks across
         * siblings (L1TF, MDS, MMIO stale data...). */
        static const char *const smt_flaws[] = { "l1tf", "mds", "mmio_stale_data", "tsx_async_abort" };
        for (size_t i = 0; i < ELEMENTSOF(smt_flaws); i++) {
                char rel[256], s[512];
                snprintf(rel, sizeof(rel), "devices/system/cpu/vulnerabilities/%s", smt_flaws[i]);
                if (assess_sysfs(x, c, rel, s, sizeof(s)) == 0 && strstr(s, "SMT vulnerable")) {
                        assess_add(x, c, ASSESS_FAIL, where, NULL, "SMT is on and %s says: %s", smt_flaws[i], s);
                        return;
                }
        }
        assess_add(x, c, ASSESS_PASS, where, NULL, "SMT is on; no flaw the kernel knows leaks across siblings here");
}

void assess_check_ksm(AssessCtx *x, const AssessCheck *c) {
        char v[64], where[4200];
        snprintf(where, sizeof(where), "%s/kernel/mm/ksm/run", x->p->sys_dir);
        int r = assess_sysfs(x, c, "kernel/mm/ksm/run", v, sizeof(v));
        if (r == -ENOENT)
                assess_add(x, c, ASSESS_PASS, where, NULL, "the kernel has no KSM");
        else if (r == 0)
                assess_add(x, c, strcmp(v, "1") ? ASSESS_PASS : ASSESS_FAIL, where, NULL, "ksm/run = %s%s", v,
                           strcmp(v, "1") ? "" : ": pages are merged across guests");
}

void assess_check_nested(AssessCtx *x, const AssessCheck *c) {
        static const char *const mods[] = { "kvm_intel", "kvm_amd" };
        size_t seen = 0;
        for (size_t i = 0; i < ELEMENTSOF(mods); i++) {
                char rel[256], v[64], where[4200];
                snprintf(rel, sizeof(rel), "module/%s/parameters/nested", mods[i]);
                snprintf(where, sizeof(where), "%s/%s", x->p->sys_dir, rel);
                int r = assess_sysfs(x, c, rel, v, sizeof(v));
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return;
                seen++;
                bool on = v[0] == 'Y' || v[0] == '1';
                assess_add(x, c, on ? ASSESS_FAIL : ASSESS_PASS, where, NULL, "%s nested = %s", mods[i], v);
        }
        if (!seen)
                assess_add(x, c, ASSESS_NA, NULL, NULL, "neither kvm_intel nor kvm_amd is loaded");
}

void assess_check_iommu(AssessCtx *x, const AssessCheck *c) {
        if (assess_domains(x, c) < 0)
                return;
        const char *who = NULL;
        for (size_t i = 0; i < x->n_domains && !who; i++)
                if (x->domains[i].root && assess_dom_has_hostdev(x->domains[i].root))
                        who = x->domains[i].name;
        if (!who) {
                assess_add(x, c, ASSESS_NA, NULL, NULL, "no domain passes a host device through");
                return;
        }
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/class/iommu", x->p->sys_dir);
        size_t n = 0;
        DIR *d = assess_opendir(x, dir);
        for (struct dirent *de; d && (de = readdir(d));)
                n += de->d_name[0] != '.';
        if (d)
                closedir(d);
        assess_add(x, c, n ? ASSESS_PASS : ASSESS_FAIL, dir, who,
                   n ? "%zu IOMMU(s) active; '%s' passes a device through"
                     : "no IOMMU is active (%zu) and '%s' passes a device through: it can DMA into host memory",
                   n, who);
}

/* ---- services ---- */

/* The process that holds socket inode, into buf: "sshd (pid 812)". */
static const char *socket_owner(AssessCtx *x, uint64_t inode, char *buf, size_t n) {
        char want[64];
        snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long) inode);
        snprintf(buf, n, "an unknown process");
        for (size_t i = 0; i < x->n_procs; i++) {
                char dir[4200];
                snprintf(dir, sizeof(dir), "%s/%d/fd", x->p->proc_dir, x->procs[i].pid);
                DIR *d = assess_opendir(x, dir);
                for (struct dirent *de; d && (de = readdir(d));) {
                        char path[4500], link[128];
                        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                        ssize_t l = assess_readlink(x, path, link, sizeof(link) - 1);
                        if (l <= 0)
                                continue;
                        link[l] = '\0';
                        if (!strcmp(link, want)) {
                                snprintf(buf, n, "%s (pid %d)", x->procs[i].comm, x->procs[i].pid);
                                closedir(d);
                                return buf;
                        }
                }
                if (d)
                        closedir(d);
        }
        return buf;
}

void assess_check_listeners(AssessCtx *x, const AssessCheck *c) {
        if (assess_procs(x, c) < 0)
                return;
        static const struct {
                const char *file, *proto;
                bool v6, tcp;
        } tabs[] = { { "tcp", "tcp", false, true }, { "tcp6", "tcp", true, true }, { "udp", "udp", false, false },
                     { "udp6", "udp", true, false } };
        size_t n = 0, bad = 0;
        for (size_t t = 0; t < ELEMENTSOF(tabs); t++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/net/%s", x->p->proc_dir, tabs[t].file);
                _cleanup_free_ char *text = NULL;
                int r = assess_read(x, c, path, 0, &text, NULL);
                if (r == -ENOENT)
                        continue;   /* no IPv6 */
                if (r < 0)
                        return;
                for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        AssessListener li;
                        if (!assess_proc_net_line(l, tabs[t].v6, tabs[t].tcp, &li) || li.loopback)
                                continue;
                        n++;
                        char key[32], who[128];
                        snprintf(key, sizeof(key), "%u/%s", li.port, tabs[t].proto);
                        if (assess_listed(x->p->listen_allow, key))
                                continue;
                        bad++;
                        assess_add(x, c, ASSESS_FAIL, path, NULL, "%s on %s: %s, not in assess_listen_allow", key,
                                   li.addr, socket_owner(x, li.inode, who, sizeof(who)));
                }
        }
        if (!bad)
                assess_add(x, c, ASSESS_PASS, NULL, NULL, "%zu socket(s) listen beyond loopback, each allowed", n);
}

/* sshd refuses a config whose includes nest deeper than this
 * (SERVCONF_MAX_DEPTH in OpenSSH's servconf.c). */
#define SSHD_INCLUDE_DEPTH 16
/* Far more files than any host's sshd config: each Include line reads
 * its files again, so a few lines naming the same file multiply (8 lines
 * of "Include /etc/ssh/sshd_config" are 8^16 reads before sshd's depth
 * limit). The walk stops here with an error, in milliseconds. */
#define SSHD_INCLUDE_FILES 256

/* One search for a key through sshd's config and its includes: where it
 * stands, and what it has spent. */
typedef struct SshdWalk {
        const char *key;
        char *val, *at;
        size_t vn, an;
        bool stop;               /* a Match block: what follows is conditional */
        unsigned files;          /* read so far */
        const char *chain[SSHD_INCLUDE_DEPTH + 1];   /* the files being read, outermost first */
} SshdWalk;

/* An Include's pattern as a path of the assessment: relative to
 * etc_dir/ssh as sshd takes it to /etc/ssh, an absolute /etc path under
 * etc_dir, another absolute one under the root (assess_glob resolves it
 * inside the root). */
static void sshd_include_pattern(AssessCtx *x, const char *v, char *pat, size_t n) {
        if (v[0] != '/')
                snprintf(pat, n, "%s/ssh/%s", x->p->etc_dir, v);
        else if (!strncmp(v, "/etc/", 5))
                snprintf(pat, n, "%s/%s", x->p->etc_dir, v + 5);
        else
                snprintf(pat, n, "%s%s", x->p->root ? x->p->root : "", v);
}

static int sshd_find(AssessCtx *x, const AssessCheck *c, const char *path, unsigned depth, SshdWalk *w);

/* The files an Include at path:line names, each searched in turn. */
static int sshd_include(AssessCtx *x, const AssessCheck *c, const char *path, unsigned line, const char *v,
                        unsigned depth, SshdWalk *w) {
        char pat[4200], at[4400];
        assess_at(at, sizeof(at), path, line);
        if (depth + 1 > SSHD_INCLUDE_DEPTH) {
                assess_add(x, c, ASSESS_ERROR, at, NULL, "Include %s: includes nest deeper than %u: sshd refuses "
                           "the config", v, SSHD_INCLUDE_DEPTH);
                return -ELOOP;
        }
        sshd_include_pattern(x, v, pat, sizeof(pat));
        char **files = NULL;
        size_t n = 0;
        int r = assess_glob(x, pat, &files, &n);
        if (r < 0) {
                assess_add(x, c, ASSESS_ERROR, at, NULL, "Include %s: %s", v,
                           r == -E2BIG ? "matches too many files" : strerror(-r));
                return r;
        }
        r = -ENOENT;
        for (size_t i = 0; i < n && r == -ENOENT && !w->stop; i++) {
                /* A file that includes itself, directly or through others,
                 * recurses until sshd's depth limit: sshd refuses it. */
                for (unsigned k = 0; k <= depth; k++)
                        if (!strcmp(w->chain[k], files[i])) {
                                assess_add(x, c, ASSESS_ERROR, at, NULL, "Include %s: %s includes itself: sshd "
                                           "refuses the config (includes nest deeper than %u)", v, files[i],
                                           SSHD_INCLUDE_DEPTH);
                                r = -ELOOP;
                                break;
                        }
                if (r == -ENOENT)
                        r = sshd_find(x, c, files[i], depth + 1, w);
        }
        assess_glob_free(files, n);
        return r;
}

/* sshd's setting of w->key (first value wins, up to the first Match
 * block), following Include; into w->val with its file:line in w->at. 0
 * found, -ENOENT not set, other errors with a result added. */
static int sshd_find(AssessCtx *x, const AssessCheck *c, const char *path, unsigned depth, SshdWalk *w) {
        if (++w->files > SSHD_INCLUDE_FILES) {
                assess_add(x, c, ASSESS_ERROR, path, NULL, "sshd's config and its includes name more than %u "
                           "files: not judged", SSHD_INCLUDE_FILES);
                return -E2BIG;
        }
        w->chain[depth] = path;
        _cleanup_free_ char *t = NULL;
        int r = assess_read(x, c, path, 0, &t, NULL);
        if (r < 0)
                return r;
        unsigned line = 0;
        for (char *save = NULL, *l = t; l && !w->stop; l = save) {
                char *nl = strchr(l, '\n');
                save = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                line++;
                while (*l == ' ' || *l == '\t')
                        l++;
                char *k = l;
                size_t kl = strcspn(l, " \t=");
                char *v = l + kl;
                while (*v == ' ' || *v == '\t' || *v == '=')
                        v++;
                if (!kl || *k == '#')
                        continue;
                if (kl == 7 && !strncasecmp(k, "Include", 7)) {
                        /* Each of its patterns, in order, up to a word
                         * that starts a comment. */
                        for (char *save2 = NULL, *pat = strtok_r(v, " \t\r", &save2); pat && *pat != '#';
                             pat = strtok_r(NULL, " \t\r", &save2)) {
                                r = sshd_include(x, c, path, line, pat, depth, w);
                                if (r != -ENOENT)
                                        return r;
                                if (w->stop)
                                        return -ENOENT;
                        }
                        continue;
                }
                v[strcspn(v, " \t\r#")] = '\0';
                if (kl == 5 && !strncasecmp(k, "Match", 5)) {
                        w->stop = true;   /* what follows is conditional */
                        return -ENOENT;
                }
                if (kl == strlen(w->key) && !strncasecmp(k, w->key, kl)) {
                        snprintf(w->val, w->vn, "%s", v);
                        assess_at(w->at, w->an, path, line);
                        return 0;
                }
        }
        return -ENOENT;
}

void assess_check_sshd(AssessCtx *x, const AssessCheck *c) {
        const char *key = c->arg;
        char path[4200], val[128], at[4400];
        snprintf(path, sizeof(path), "%s/ssh/sshd_config", x->p->etc_dir);
        struct stat st;
        if (assess_stat(x, path, false, &st) == -ENOENT) {
                assess_add(x, c, ASSESS_NA, path, NULL, "sshd is not installed");
                return;
        }
        SshdWalk w = { .key = key, .val = val, .vn = sizeof(val), .at = at, .an = sizeof(at) };
        int r = sshd_find(x, c, path, 0, &w);
        if (r < 0 && r != -ENOENT)
                return;
        bool root = !strcasecmp(key, "PermitRootLogin");
        if (r == -ENOENT)   /* OpenSSH's defaults since 7.0 */
                snprintf(val, sizeof(val), "%s", root ? "prohibit-password" : "yes");
        bool ok = root ? strcasecmp(val, "yes") != 0 : strcasecmp(val, "no") == 0;
        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, r == 0 ? at : path, NULL, "%s %s%s", key, val,
                   r == 0 ? "" : " (OpenSSH's default)");
}

void assess_check_auditd_running(AssessCtx *x, const AssessCheck *c) {
        if (assess_procs(x, c) < 0)
                return;
        bool on = assess_proc_running(x, "auditd");
        assess_add(x, c, on ? ASSESS_PASS : ASSESS_FAIL, x->p->proc_dir, NULL, "auditd is %s", on ? "running"
                                                                                            : "not running");
}

void assess_check_audit_rules(AssessCtx *x, const AssessCheck *c) {
        static const char *const files[] = { "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow",
                                             "/etc/sudoers" };
        char pat[4200];
        snprintf(pat, sizeof(pat), "%s/audit/rules.d/*.rules", x->p->etc_dir);
        char **rules = NULL;
        size_t n_rules = 0;
        int gr = assess_glob(x, pat, &rules, &n_rules);
        if (gr < 0) {
                assess_add(x, c, ASSESS_ERROR, pat, NULL, "cannot list %s: %s", pat, strerror(-gr));
                return;
        }
        char main_rules[4200];
        snprintf(main_rules, sizeof(main_rules), "%s/audit/audit.rules", x->p->etc_dir);
        bool seen[ELEMENTSOF(files)] = { false };
        size_t read = 0;
        for (size_t i = 0; i <= n_rules; i++) {
                const char *path = i < n_rules ? rules[i] : main_rules;
                _cleanup_free_ char *t = NULL;
                int r = assess_read(x, c, path, 0, &t, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        continue;   /* said; the others still count */
                read++;
                for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                        char w[64], p[64];
                        snprintf(w, sizeof(w), "-w %s ", files[f]);
                        snprintf(p, sizeof(p), "path=%s ", files[f]);
                        seen[f] |= strstr(t, w) || strstr(t, p);
                }
        }
        assess_glob_free(rules, n_rules);
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/audit", x->p->etc_dir);
        if (!read) {
                assess_add(x, c, ASSESS_FAIL, dir, NULL, "no audit rules");
                return;
        }
        char missing[256] = "";
        for (size_t f = 0; f < ELEMENTSOF(files); f++)
                if (!seen[f])
                        snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                                 missing[0] ? ", " : "", files[f]);
        assess_add(x, c, missing[0] ? ASSESS_FAIL : ASSESS_PASS, dir, NULL, "%s%s",
                   missing[0] ? "no watch rule for " : "every identity file is watched", missing);
}

/* ---- virtgov itself ---- */

void assess_check_vg_hooks(AssessCtx *x, const AssessCheck *c) {
        static const char *const dirs[] = { "qemu.d", "network.d" };
        if (assess_procs(x, c) < 0)
                return;
        /* libvirt reads a hook directory only if a hook was there when it
         * started: a daemon older than the hook has not picked it up. */
        const ProcEntry *daemon = NULL;
        for (size_t i = 0; i < x->n_procs; i++)
                if (x->procs[i].start && (!strcmp(x->procs[i].comm, "libvirtd") || !strcmp(x->procs[i].comm, "virtqemud")))
                        daemon = &x->procs[i];
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char path[4200];
                struct stat st;
                snprintf(path, sizeof(path), "%s/%s/50-virtgov", x->p->hooks_dir, dirs[i]);
                int r = assess_stat(x, path, false, &st);
                if (r < 0)
                        assess_add(x, c, r == -ENOENT ? ASSESS_FAIL : ASSESS_ERROR, path, NULL, "%s",
                                   r == -ENOENT ? "not installed: starts are neither recorded nor decided by "
                                                  "the hook"
                                                : strerror(-r));
                else if (!S_ISREG(st.st_mode) || !(st.st_mode & 0100))
                        assess_add(x, c, ASSESS_FAIL, path, NULL, "installed, mode %04o: not executable, libvirt "
                                   "skips it", (unsigned) (st.st_mode & 07777));
                else if (daemon && daemon->start < (double) st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9)
                        assess_add(x, c, ASSESS_FAIL, path, NULL, "installed after %s (pid %d) started: not picked "
                                   "up until it restarts", daemon->comm, daemon->pid);
                else
                        assess_add(x, c, ASSESS_PASS, path, NULL, "installed, mode %04o%s%s%s",
                                   (unsigned) (st.st_mode & 07777), daemon ? ", and picked up by " : "",
                                   daemon ? daemon->comm : "", daemon ? "" : " (no libvirt daemon runs)");
        }
}

void assess_check_vg_daemon(AssessCtx *x, const AssessCheck *c) {
        if (assess_procs(x, c) < 0)
                return;
        /* comm is cut at 15 bytes */
        bool on = assess_proc_running(x, "virtgov-invento");
        assess_add(x, c, on ? ASSESS_PASS : ASSESS_FAIL, x->p->proc_dir, NULL, "virtgov-inventoryd is %s",
                   on ? "running" : "not running: defines, undefines and bypasses go unrecorded");
}

void assess_check_vg_policy(AssessCtx *x, const AssessCheck *c) {
        _cleanup_free_ char *t = NULL;
        size_t len;
        int r = assess_read(x, c, x->p->policy, 0, &t, &len);
        if (r == -ENOENT) {
                assess_add(x, c, ASSESS_FAIL, x->p->policy, NULL, "no policy: every start is allowed");
                return;
        }
        if (r < 0)
                return;
        json_error_t e;
        json_t *j = json_loadb(t, len, 0, &e);
        if (!j) {
                char at[4400];
                snprintf(at, sizeof(at), "%s:%d:%d", x->p->policy, e.line, e.column);
                assess_add(x, c, ASSESS_ERROR, at, NULL, "not JSON: %s", e.text);
                return;
        }
        const char *mode = json_string_value(json_object_get(j, "mode"));
        assess_add(x, c, vg_streq(mode, "enforce") ? ASSESS_PASS : ASSESS_FAIL, x->p->policy, NULL, "mode %s%s",
                   mode ? mode : "(not set: audit)", vg_streq(mode, "enforce") ? "" : ": denials are only recorded");
        json_decref(j);
}

void assess_check_vg_modes(AssessCtx *x, const AssessCheck *c) {
        const struct {
                const char *path, *what;
                unsigned bad;    /* mode bits that must be clear */
        } files[] = { { x->p->inventory, "the inventory", 0007 }, { x->p->policy, "the policy", 0022 },
                      { x->p->config, "the configuration", 0022 }, { x->p->exceptions, "the exceptions", 0022 } };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                struct stat st;
                int r = assess_stat(x, files[i].path, false, &st);
                if (r < 0) {
                        if (r != -ENOENT)
                                assess_add(x, c, ASSESS_ERROR, files[i].path, NULL, "cannot stat: %s", strerror(-r));
                        continue;
                }
                unsigned mode = st.st_mode & 07777;
                assess_add(x, c, mode & files[i].bad ? ASSESS_FAIL : ASSESS_PASS, files[i].path, NULL,
                           "%s: mode %04o, uid %u%s", files[i].what, mode, (unsigned) st.st_uid,
                           !(mode & files[i].bad) ? ""
                           : files[i].bad == 0007 ? ": any user can read every event"
                                                  : ": writable by others than its owner");
        }
        if (x->run->n == 0 || x->run->results[x->run->n - 1].check != c)
                assess_add(x, c, ASSESS_NA, NULL, NULL, "none of virtgov's files exists yet");
}
