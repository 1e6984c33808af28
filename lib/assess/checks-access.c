/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who can manage VMs through libvirt, which is being root on the host by
 * another name: the members of the group that owns the read-write socket,
 * the polkit rules that grant org.libvirt.unix.manage, and the sudoers
 * rules that grant virsh. Each must be listed in assess_vm_admins.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* The group that owns the read-write socket: the first daemon's
 * unix_sock_group, else "libvirt" (Debian's and Fedora's packages). */
static const char *vm_group(AssessCtx *x) {
        for (size_t i = 0; i < x->n_daemons; i++)
                if (x->daemons[i].conf) {
                        const VconfEntry *e = vconf_get(x->daemons[i].conf, "unix_sock_group");
                        return e && e->value.type == VCONF_STRING ? e->value.str : "libvirt";
                }
        return "libvirt";
}

void assess_check_access_group(AssessCtx *x, const AssessCheck *c) {
        const Accounts *a = assess_accounts(x, c);
        if (!a || assess_daemons(x, c) < 0)
                return;
        const char *g = vm_group(x);
        char where[4200];
        snprintf(where, sizeof(where), "%s/group", x->p->etc_dir);
        const Group *grp = NULL;
        for (size_t i = 0; i < a->n_groups; i++)
                if (!strcmp(a->groups[i].name, g))
                        grp = &a->groups[i];
        if (!grp) {
                assess_add(x, c, ASSESS_PASS, where, NULL, "no group '%s': nobody manages VMs through it", g);
                return;
        }
        size_t n = 0;
        for (size_t i = 0; i < grp->n_members; i++, n++)
                assess_add(x, c, assess_listed(x->p->vm_admins, grp->members[i]) ? ASSESS_PASS : ASSESS_FAIL, where,
                           NULL, "'%s' is a member of '%s': root-equivalent through libvirt%s", grp->members[i], g,
                           assess_listed(x->p->vm_admins, grp->members[i]) ? ", and listed in assess_vm_admins"
                                                                           : ", and not listed in assess_vm_admins");
        for (size_t i = 0; i < a->n_accounts; i++)
                if (a->accounts[i].gid == grp->gid) {
                        n++;
                        bool ok = assess_listed(x->p->vm_admins, a->accounts[i].name);
                        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, where, NULL,
                                   "'%s' has '%s' as primary group: root-equivalent through libvirt%s",
                                   a->accounts[i].name, g, ok ? "" : ", and not listed in assess_vm_admins");
                }
        if (!n)
                assess_add(x, c, ASSESS_PASS, where, NULL, "group '%s' has no members", g);
}

/* One polkit rules file that names org.libvirt.unix.manage: each group
 * and user it tests for is given VM management. */
static void polkit_file(AssessCtx *x, const AssessCheck *c, const char *path, const char *g, size_t *n) {
        _cleanup_free_ char *t = NULL;
        if (assess_read(x, c, path, 0, &t, NULL) < 0 || !strstr(t, "org.libvirt.unix.manage"))
                return;
        (*n)++;
        unsigned line = 1;
        bool subject = false;
        for (char *s = t; *s; s++) {
                if (*s == '\n')
                        line++;
                const char *kinds[] = { "isInGroup(", "subject.user ==", "subject.user===" };
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        if (strncmp(s, kinds[k], strlen(kinds[k])))
                                continue;
                        subject = true;
                        char *q = s + strlen(kinds[k]);
                        while (*q == ' ' || *q == '=')
                                q++;
                        if (*q != '"' && *q != '\'')
                                continue;
                        char quote = *q++, name[128];
                        size_t len = strcspn(q, quote == '"' ? "\"\n" : "'\n");
                        snprintf(name, sizeof(name), "%.*s", (int) (len < sizeof(name) ? len : sizeof(name) - 1), q);
                        bool group = k == 0;
                        bool ok = group ? !strcmp(name, g) || assess_listed(x->p->vm_admins, name)
                                        : assess_listed(x->p->vm_admins, name);
                        char at[4200];
                        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, assess_at(at, sizeof(at), path, line), NULL,
                                   "grants org.libvirt.unix.manage to %s '%s'%s", group ? "group" : "user", name,
                                   ok ? "" : ", not the VM group nor in assess_vm_admins");
                }
        }
        if (!subject)
                assess_add(x, c, ASSESS_FAIL, path, NULL,
                           "names org.libvirt.unix.manage without testing the subject: it may grant it to anyone");
}

static void polkit_dir(AssessCtx *x, const AssessCheck *c, const char *dir, const char *g, size_t *n) {
        DIR *d = assess_opendir(x, dir);
        if (!d) {
                if (errno != ENOENT)
                        assess_add(x, c, ASSESS_ERROR, dir, NULL, "cannot list %s: %s", dir, strerror(errno));
                return;
        }
        char **names = NULL;
        size_t k = 0;
        for (struct dirent *de; (de = readdir(d));) {
                size_t l = strlen(de->d_name);
                if (l > 6 && !strcmp(de->d_name + l - 6, ".rules") && vg_grow((void **) &names, &k, sizeof(char *)) == 0)
                        names[k - 1] = strdup(de->d_name);
        }
        closedir(d);
        for (size_t i = 0; i < k; i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i] ? names[i] : "");
                if (names[i])
                        polkit_file(x, c, path, g, n);
                free(names[i]);
        }
        free(names);
}

void assess_check_access_polkit(AssessCtx *x, const AssessCheck *c) {
        if (assess_daemons(x, c) < 0)
                return;
        char dir[4200];
        size_t n = 0, before = x->run->n;
        snprintf(dir, sizeof(dir), "%s/polkit-1/rules.d", x->p->etc_dir);
        polkit_dir(x, c, dir, vm_group(x), &n);
        polkit_dir(x, c, x->p->polkit_share, vm_group(x), &n);
        if (x->run->n == before)
                assess_add(x, c, ASSESS_PASS, dir, NULL, "no polkit rule grants org.libvirt.unix.manage");
}

void assess_check_access_sudoers(AssessCtx *x, const AssessCheck *c) {
        const Accounts *a = assess_accounts(x, c);
        if (!a)
                return;
        size_t n = 0;
        for (size_t i = 0; i < a->n_sudoers; i++)
                for (size_t k = 0; k < a->sudoers[i].n_lines; k++) {
                        const char *l = a->sudoers[i].lines[k];
                        if (!strstr(l, "virsh") && !strstr(l, "virt-install") && !strstr(l, "virt-manager"))
                                continue;
                        char who[128];
                        snprintf(who, sizeof(who), "%.*s", (int) strcspn(l, " \t"), l);
                        const char *name = who[0] == '%' ? who + 1 : who;
                        bool ok = assess_listed(x->p->vm_admins, name) || assess_listed(x->p->vm_admins, who);
                        char path[4200];
                        snprintf(path, sizeof(path), "%s/%s", x->p->etc_dir, a->sudoers[i].path);
                        assess_add(x, c, ok ? ASSESS_PASS : ASSESS_FAIL, path, NULL, "grants virsh: %s%s", l,
                                   ok ? "" : " (not in assess_vm_admins)");
                        n++;
                }
        if (!n) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/sudoers", x->p->etc_dir);
                assess_add(x, c, ASSESS_PASS, path, NULL, "no sudoers rule grants virsh");
        }
}
