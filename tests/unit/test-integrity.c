/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/integrity/integrity.h"

static char *dir;

static void setup(void) {
        dir = scratch_new();
}

static void teardown(void) {
        scratch_remove(dir);
}

static const char *at(const char *name) {
        return scratch_path(dir, name);
}

static void put(const char *name, const char *text) {
        write_text(at(name), text);
}

TestSuite(integrity, .init = setup, .fini = teardown);

static IntegrityProfile *parse(const char *text, VgError *err) {
        IntegrityProfile *p = NULL;
        int r = integrity_profile_parse("site", text, strlen(text), "site.profile", &p, err);
        return r < 0 ? NULL : p;
}

Test(integrity, profile_lines) {
        VgError err = { "" };
        _cleanup_(integrity_profile_freep) IntegrityProfile *p = parse(
                "# site rules\n"
                "/etc/libvirt   all\n"
                "=/etc\n"
                "/var/lib/libvirt/qemu/nvram owner   # guests write it\n"
                "/opt/fw type,mode,sha256\n"
                "\n"
                "!/etc/libvirt/qemu/autostart\n", &err);
        cr_assert(p, "%s", err.text);
        cr_assert_eq(p->n_rules, 5);
        cr_expect_str_eq(p->rules[0].path, "/etc/libvirt");
        cr_expect(p->rules[0].recurse);
        cr_expect_eq(p->rules[0].attrs, FSCAN_ALL);
        cr_expect_not(p->rules[1].recurse);
        cr_expect_eq(p->rules[2].attrs, FSCAN_OWNER_ONLY);
        cr_expect_eq(p->rules[3].attrs, FSCAN_TYPE | FSCAN_MODE | FSCAN_SHA256);
        cr_expect(p->rules[4].exclude);
}

/* Each error names the file, the line and, where it can, the column. */
Test(integrity, profile_errors) {
        static const struct { const char *text, *want; } cases[] = {
                { "etc/libvirt\n", "site.profile:1:1: 'etc/libvirt' is not an absolute path" },
                { "/etc\n/usr colour\n", "site.profile:2:6: 'colour': expected" },
                { "/etc all extra\n", "site.profile:1: expected 'PATH [ATTRIBUTES]'" },
                { "!/etc all\n", "site.profile:1:7: 'all': an excluded path takes no attributes" },
                { "/etc mode,,\n", "site.profile:1:6: 'mode,,'" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                VgError err = { "" };
                cr_expect_null(parse(cases[i].text, &err), "case %zu", i);
                cr_expect(strstr(err.text, cases[i].want), "case %zu: got '%s'", i, err.text);
        }
        IntegrityProfile *p = NULL;
        VgError err = { "" };
        cr_expect_eq(integrity_profile_parse("x", "/a\0b\n", 5, "x.profile", &p, &err), -EINVAL);
        cr_expect(strstr(err.text, "NUL"));
}

Test(integrity, profile_load) {
        VgError err = { "" };
        IntegrityProfile *p = NULL;
        put("site.profile", "/srv/firmware\n");
        cr_assert_eq(chmod(at("site.profile"), 0644), 0);
        cr_assert_eq(integrity_profile_load("site", dir, NULL, &p, &err), 0, "%s", err.text);
        cr_expect_str_eq(p->rules[0].path, "/srv/firmware");
        integrity_profile_free(p);
        cr_expect_eq(integrity_profile_load("nope", dir, NULL, &p, &err), -ENOENT);
        cr_expect(strstr(err.text, "no profile 'nope'"), "%s", err.text);
        cr_expect_eq(integrity_profile_load("../etc/x", dir, NULL, &p, &err), -EINVAL);
        /* The built-in ones need no file. */
        cr_assert_eq(integrity_profile_load("host", dir, NULL, &p, &err), 0);
        cr_expect_str_eq(p->rules[0].path, "/usr/bin");
        integrity_profile_free(p);
}

/* The isolation profile takes what the domains name, nvram as owner only,
 * virtgov's own files, and the files of the virtualization modules loaded
 * now, found through modules.dep. */
Test(integrity, isolation_context) {
        put("modules", "kvm_intel 409600 0 - Live 0x0\nkvm 1146880 1 kvm_intel, Live 0x0\n"
                       "ext4 1000 1 - Live 0x0\nvhost_net 36864 0 - Live 0x0\n");
        cr_assert_eq(mkdir(at("lib"), 0755), 0);
        put("lib/modules.dep", "kernel/arch/x86/kvm/kvm.ko.xz:\nkernel/arch/x86/kvm/kvm-intel.ko.xz: "
                               "kernel/arch/x86/kvm/kvm.ko.xz\nkernel/fs/ext4/ext4.ko.xz:\n");
        const char *emu[] = { "/opt/qemu/bin/qemu-custom", NULL }, *nv[] = { "/var/lib/libvirt/qemu/nvram", NULL };
        char modules[512], lib[512];   /* at()'s buffers are reused */
        snprintf(modules, sizeof(modules), "%s", at("modules"));
        snprintf(lib, sizeof(lib), "%s", at("lib"));
        IntegrityContext ctx = { .domain_paths = emu, .nvram_paths = nv, .proc_modules = modules,
                                 .modules_dir = lib, .kernel_image = "/boot/vmlinuz-test" };
        IntegrityProfile *p = NULL;
        VgError err = { "" };
        cr_assert_eq(integrity_profile_load("isolation", dir, &ctx, &p, &err), 0, "%s", err.text);
        bool emulator = false, nvram = false, kvm = false, intel = false, vhost = false, ext4 = false, kernel = false;
        char want_kvm[600], want_intel[600], want_vhost[600];
        snprintf(want_kvm, sizeof(want_kvm), "%s/kernel/arch/x86/kvm/kvm.ko.xz", lib);
        snprintf(want_intel, sizeof(want_intel), "%s/kernel/arch/x86/kvm/kvm-intel.ko.xz", lib);
        snprintf(want_vhost, sizeof(want_vhost), "%s/vhost_net.ko", lib);
        for (size_t i = 0; i < p->n_rules; i++) {
                const IntegrityRule *r = &p->rules[i];
                emulator |= !strcmp(r->path, emu[0]) && r->attrs == FSCAN_ALL;
                nvram |= !strcmp(r->path, nv[0]) && r->attrs == FSCAN_OWNER_ONLY;
                kvm |= !strcmp(r->path, want_kvm);
                intel |= !strcmp(r->path, want_intel);
                vhost |= !strcmp(r->path, want_vhost);   /* not in modules.dep: its absence will show */
                ext4 |= strstr(r->path, "ext4") != NULL;
                kernel |= !strcmp(r->path, "/boot/vmlinuz-test");
        }
        cr_expect(emulator);
        cr_expect(nvram);
        cr_expect(kvm);
        cr_expect(intel, "kvm-intel.ko for kvm_intel");
        cr_expect(vhost);
        cr_expect_not(ext4, "not a virtualization module");
        cr_expect(kernel);
        integrity_profile_free(p);
        /* A program a domain names brings the libraries it loads, as
         * ld.so finds them (a real one of this machine: env needs libc),
         * and the loader's own configuration is watched. */
        const char *env[] = { "/usr/bin/env", NULL };
        ctx.domain_paths = env;
        cr_assert_eq(integrity_profile_load("isolation", dir, &ctx, &p, &err), 0, "%s", err.text);
        bool libc = false, preload = false;
        for (size_t i = 0; i < p->n_rules; i++) {
                libc |= strstr(p->rules[i].path, "/libc.so.6") != NULL && !p->rules[i].recurse;
                preload |= !strcmp(p->rules[i].path, "/etc/ld.so.preload");
        }
        cr_expect(libc, "env's libc.so.6");
        cr_expect(preload);
        integrity_profile_free(p);
        /* No /proc/modules (a kernel without modules): none, and no error. */
        ctx.proc_modules = at("no-such-file");
        cr_assert_eq(integrity_profile_load("isolation", dir, &ctx, &p, &err), 0);
        for (size_t i = 0; i < p->n_rules; i++)
                cr_expect_null(strstr(p->rules[i].path, ".ko"));
        integrity_profile_free(p);
}

static IntegrityProfile *tree_profile(void) {
        char text[600];
        /* The nvram rule first: a path under two rules takes the first's. */
        snprintf(text, sizeof(text), "%s owner\n%s all\n!%s\n", at("nvram"), dir, at("skip"));
        VgError err = { "" };
        IntegrityProfile *p = NULL;
        cr_assert_eq(integrity_profile_parse("t", text, strlen(text), "t.profile", &p, &err), 0, "%s", err.text);
        return p;
}

static FscanList *scan(IntegrityProfile *p, const FscanList *base, bool full) {
        FscanList *l = NULL;
        VgError err = { "" };
        cr_assert_eq(integrity_scan(&p, 1, base, full, 2, &l, &err), 0, "%s", err.text);
        return l;
}

/* Added, removed and changed, in path order; what does not count for a
 * file (the content of an owner-only one) is no drift. */
Test(integrity, compare) {
        put("conf", "listen_tls = 1\n");
        put("gone", "x");
        put("nvram", "vars");
        cr_assert_eq(mkdir(at("skip"), 0755), 0);
        put("skip/noise", "1");
        _cleanup_(integrity_profile_freep) IntegrityProfile *p = tree_profile();
        _cleanup_(fscan_list_freep) FscanList *base = scan(p, NULL, false);
        cr_expect_null(fscan_find(base, at("skip/noise")));
        char digest[FSCAN_SHA256_HEX];
        integrity_digest(base, NULL, digest);

        put("conf", "listen_tls = 0\n");
        cr_assert_eq(unlink(at("gone")), 0);
        put("new-hook", "#!/bin/sh\n");
        put("nvram", "vars written by the guest");
        put("skip/noise", "2");
        _cleanup_(fscan_list_freep) FscanList *now = scan(p, base, false);
        Drift *d = NULL;
        size_t n = 0;
        cr_assert_eq(integrity_compare(base, now, &d, &n), 0);
        /* Not the directory: its times change with its entries, which
         * are findings of their own. */
        cr_assert_eq(n, 3, "got %zu", n);
        cr_expect_eq(d[0].kind, DRIFT_CHANGED);
        cr_expect_str_eq(d[0].now->path, at("conf"));
        cr_expect(d[0].changed & FSCAN_SHA256);
        cr_expect_eq(d[1].kind, DRIFT_REMOVED);
        cr_expect_str_eq(d[1].was->path, at("gone"));
        cr_expect_eq(d[2].kind, DRIFT_ADDED);
        cr_expect_str_eq(d[2].now->path, at("new-hook"));
        free(d);
        /* But its mode is. */
        cr_assert_eq(chmod(dir, 0777), 0);
        _cleanup_(fscan_list_freep) FscanList *open = scan(p, base, false);
        cr_assert_eq(integrity_compare(base, open, &d, &n), 0);
        cr_expect(n == 4 && !strcmp(d[0].now->path, dir) && d[0].changed == FSCAN_MODE);
        free(d);

        /* The same list digests the same; any field changed, differently. */
        char again[FSCAN_SHA256_HEX];
        integrity_digest(base, NULL, again);
        cr_expect_str_eq(again, digest);
        base->files[1].mode ^= 02;
        integrity_digest(base, NULL, again);
        cr_expect_str_neq(again, digest);
        /* A profile's digest covers its own rows only. */
        char mine[FSCAN_SHA256_HEX], other[FSCAN_SHA256_HEX], none[FSCAN_SHA256_HEX];
        FscanList empty = { 0 };
        integrity_digest(base, base->files[1].tag, mine);
        integrity_digest(base, "other", other);
        integrity_digest(&empty, NULL, none);
        cr_expect_str_eq(mine, again);
        cr_expect_str_eq(other, none);
        base->files[1].tag = fscan_list_tag(base, "other");
        integrity_digest(base, "other", again);
        cr_expect_str_neq(again, none);
}

/* Without --full a file that stat shows unchanged is not read again; with
 * it, every file is (an edit that put size and times back is caught). */
Test(integrity, full_reads_everything) {
        put("qemu.conf", "security_driver = \"apparmor\"\n");
        put("hook", "#!/bin/sh\n");
        _cleanup_(integrity_profile_freep) IntegrityProfile *p = tree_profile();
        _cleanup_(fscan_list_freep) FscanList *base = scan(p, NULL, false);
        cr_expect_eq(base->n_hashed, 2);
        _cleanup_(fscan_list_freep) FscanList *quick = scan(p, base, false);
        cr_expect_eq(quick->n_hashed, 0);
        _cleanup_(fscan_list_freep) FscanList *full = scan(p, base, true);
        cr_expect_eq(full->n_hashed, 2);
        /* A forged hash in the baseline: only a full check reads the file
         * and sees that it does not match. */
        FscanFile *b = (FscanFile *) fscan_find(base, at("hook"));
        memset(b->sha256, '0', 64);
        Drift *d = NULL;
        size_t n = 0;
        _cleanup_(fscan_list_freep) FscanList *quick2 = scan(p, base, false);
        cr_assert_eq(integrity_compare(base, quick2, &d, &n), 0);
        cr_expect_eq(n, 0, "the quick check trusts the baseline's hash");
        free(d);
        _cleanup_(fscan_list_freep) FscanList *full2 = scan(p, base, true);
        cr_assert_eq(integrity_compare(base, full2, &d, &n), 0);
        cr_expect_eq(n, 1);
        cr_expect(n == 1 && (d[0].changed & FSCAN_SHA256));
        free(d);
}

/* The patterns a domain names expand as glob(3) expands them, though each
 * directory is listed once: a '*' between slashes, a leading dot matched
 * only by a dot, a pattern matching nothing gives nothing, a path without
 * magic is itself even when absent. */
Test(integrity, globs_expand_as_glob_does) {
        const char *tree[] = { "lib/x86_64-linux-gnu/libvirt.so.0", "lib/x86_64-linux-gnu/libvirt.so.0.9",
                               "lib/x86_64-linux-gnu/libvirt-qemu.so.0", "lib/x86_64-linux-gnu/libz.so.1",
                               "lib/i386-linux-gnu/libvirt.so.0", "lib/.hidden/libvirt.so.0",
                               "lib/x86_64-linux-gnu/.libvirt.so.9", "bin/qemu-system-x86_64", "bin/qemu-img" };
        for (size_t i = 0; i < ELEMENTSOF(tree); i++) {
                char d[600];
                snprintf(d, sizeof(d), "%s", at(tree[i]));
                *strrchr(d, '/') = '\0';
                cr_assert_eq(vg_mkdir_p(d, 0755), 0);
                put(tree[i], "x");
        }
        cr_assert_eq(symlink("x86_64-linux-gnu", at("lib/multiarch")), 0);
        char pats[6][600];
        snprintf(pats[0], sizeof(pats[0]), "%s/lib/*/libvirt.so*", dir);
        snprintf(pats[1], sizeof(pats[1]), "%s/lib/*/libvirt-qemu.so*", dir);
        snprintf(pats[2], sizeof(pats[2]), "%s/bin/qemu-system-*", dir);
        snprintf(pats[3], sizeof(pats[3]), "%s/lib/*/lib[vz]*.so.?", dir);
        snprintf(pats[4], sizeof(pats[4]), "%s/lib/*/no-such-*", dir);
        snprintf(pats[5], sizeof(pats[5]), "%s/opt/absent", dir);
        const char *paths[] = { pats[0], pats[1], pats[2], pats[3], pats[4], pats[5], NULL };
        IntegrityContext ctx = { .domain_paths = paths, .proc_modules = at("no-such-file") };
        IntegrityProfile *p = NULL;
        VgError err = { "" };
        cr_assert_eq(integrity_profile_load("isolation", dir, &ctx, &p, &err), 0, "%s", err.text);
        size_t want = 0, got = 0;
        for (size_t k = 0; paths[k]; k++) {
                glob_t g;
                bool none = glob(paths[k], GLOB_NOSORT, NULL, &g) != 0;
                for (size_t i = 0; !none && i < g.gl_pathc; i++, want++) {
                        bool found = false;
                        for (size_t j = 0; j < p->n_rules && !found; j++)
                                found = !strcmp(p->rules[j].path, g.gl_pathv[i]);
                        cr_expect(found, "%s (from %s)", g.gl_pathv[i], paths[k]);
                }
                globfree(&g);
        }
        for (size_t j = 0; j < p->n_rules; j++)
                got += !strncmp(p->rules[j].path, dir, strlen(dir)) && strcmp(p->rules[j].path, pats[5]);
        cr_expect_eq(got, want, "%zu rules under the tree, glob(3) gives %zu", got, want);
        cr_expect_eq(want, 15, "the fixture: %zu", want);
        bool absent = false;
        for (size_t j = 0; j < p->n_rules; j++)
                absent |= !strcmp(p->rules[j].path, pats[5]);
        cr_expect(absent, "a path without magic is watched though absent");
        integrity_profile_free(p);
}
