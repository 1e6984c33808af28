/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running kernel, from fixtures: a /proc/modules, a modules.dep and a
 * module tree of real relocatable objects with a .modinfo section (built
 * by the compiler, KERNEL_FIXTURE_DIR), signed by appending the magic;
 * a /boot and /lib/modules of installed releases; a dpkg database that
 * ships some of the modules. This host's kernel has no modules at all:
 * the fixtures are the only way, and they are enough.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/host/kernel-priv.h"
#include "test-helpers.h"
#include "virtgov/host/dpkg-version.h"

#define RELEASE "6.1.0-18-amd64"
#define SIG_MAGIC "~Module signature appended~\n"

static char *dir;

static void setup(void) {
        dir = scratch_new();
}

static void teardown(void) {
        scratch_remove(dir);
}

TestSuite(kernel, .init = setup, .fini = teardown);

static char *at(const char *name) {
        return path_join(dir, name);
}

static void mkdirs(const char *rel) {
        char *p = at(rel);
        cr_assert_eq(vg_mkdir_p(p, 0755), 0, "%s", p);
        free(p);
}

/* rel: the fixture object obj (NULL: text), then tail appended. */
static void put(const char *rel, const char *obj, const char *text, const char *tail) {
        char p[4200], parent[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        snprintf(parent, sizeof(parent), "%s", p);
        *strrchr(parent, '/') = '\0';
        cr_assert_eq(vg_mkdir_p(parent, 0755), 0);
        FILE *f = fopen(p, "we");
        cr_assert_not_null(f, "%s", p);
        if (obj) {
                char src[4200];
                size_t len = 0;
                snprintf(src, sizeof(src), "%s/%s", KERNEL_FIXTURE_DIR, obj);
                char *b = read_data(src, &len);
                cr_assert(fwrite(b, 1, len, f) == len);
                free(b);
        }
        if (text)
                fputs(text, f);
        if (tail)
                fputs(tail, f);
        cr_assert_eq(fclose(f), 0);
}

static void put_bin(const char *rel, const void *b, size_t n) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        FILE *f = fopen(p, "we");
        cr_assert(f && fwrite(b, 1, n, f) == n && fclose(f) == 0, "%s", p);
}

static char *data(const char *name, size_t *len) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/kernel/%s", TEST_DATA_DIR, name);
        return read_data(p, len);
}

/* The fixture host: modules of every kind, three kernels in /boot (one of
 * another flavour), an old one's modules.dep, taint P, O and E. */
static void host(void) {
        size_t len;
        char *t = data("proc-modules", &len);
        put("proc-modules", NULL, t, NULL);
        free(t);
        t = data("modules.dep", &len);
        put("lib/modules/" RELEASE "/modules.dep", NULL, t, NULL);
        free(t);
        const char *m = "lib/modules/" RELEASE "/";
        char p[512];
#define AT(rel) (snprintf(p, sizeof(p), "%s%s", m, rel), p)
        put(AT("kernel/arch/x86/kvm/vgkvm.ko"), "vgkvm.o", NULL, SIG_MAGIC);
        put(AT("kernel/arch/x86/kvm/vgkvm-intel.ko"), "vgkvm.o", NULL, SIG_MAGIC);
        put(AT("updates/dkms/vgoot.ko"), "vgoot.o", NULL, NULL);
        put(AT("kernel/drivers/vgforced.ko"), "vgkvm.o", NULL, SIG_MAGIC);
        put(AT("kernel/drivers/vgxz.ko.xz"), NULL, "", NULL);
        put_bin(p, "\xfd" "7zXZ\0\0\4not really xz", 20);
        put(AT("kernel/drivers/vgbad.ko"), NULL, "#!/bin/sh\necho a script, not a module\n", NULL);
#undef AT
        put("lib/modules/6.1.0-9-amd64/modules.dep", NULL, "", NULL);
        mkdirs("lib/modules/6.0.0-1-amd64");   /* left by a removed package: no modules.dep */
        put("boot/vmlinuz-" RELEASE, NULL, "k", NULL);
        put("boot/vmlinuz-6.1.0-20-amd64", NULL, "k", NULL);
        put("boot/vmlinuz-6.1.0-21-rt-amd64", NULL, "k", NULL);
        put("boot/config-6.1.0-22-amd64", NULL, "k", NULL);
        put("tainted", NULL, "12289\n", NULL);
}

typedef struct Paths {
        char *proc_modules, *tainted, *modules_root, *boot_dir;
        KernelPaths p;
} Paths;

static Paths paths(void) {
        Paths x = { at("proc-modules"), at("tainted"), at("lib/modules"), at("boot"), { 0 } };
        x.p = (KernelPaths) { x.proc_modules, x.tainted, x.modules_root, x.boot_dir, RELEASE };
        return x;
}

static void paths_free(Paths *x) {
        free(x->proc_modules);
        free(x->tainted);
        free(x->modules_root);
        free(x->boot_dir);
}

static const KernelModule *module(const KernelState *k, const char *name) {
        for (size_t i = 0; i < k->n_modules; i++)
                if (!strcmp(k->modules[i].name, name))
                        return &k->modules[i];
        cr_assert_fail("no module %s", name);
        return NULL;
}

static const char *words(unsigned status) {
        static char buf[256];
        return kernel_status_words(status, buf, sizeof(buf));
}

Test(kernel, version_order) {
        static const struct { const char *a, *b; int want; } cases[] = {
                { "6.1.0-9-amd64", "6.1.0-18-amd64", -1 },   /* digits as numbers */
                { "1.0~rc1", "1.0", -1 },                    /* '~' before the end */
                { "1.0", "1.0a", -1 },                        /* letters after the end */
                { "1.0a", "1.0+", -1 },                       /* letters before other signs */
                { "1:0.9", "2.0", 1 },                        /* the epoch first */
                { "1.0", "1.00", 0 },
                { "1.0", "1.0-1", -1 },                       /* no revision before any */
                { "2.30-1", "2.4-1", 1 },
                { "6.1.76-1", "6.1.76-1+deb12u1", -1 },
                { NULL, "", 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = dpkg_version_compare(cases[i].a, cases[i].b), s = dpkg_version_compare(cases[i].b, cases[i].a);
                cr_expect_eq((r > 0) - (r < 0), cases[i].want, "%s vs %s: %d", cases[i].a, cases[i].b, r);
                cr_expect_eq((s > 0) - (s < 0), -cases[i].want, "%s vs %s: %d", cases[i].b, cases[i].a, s);
        }
        cr_expect_str_eq(kernel_flavour("6.1.0-18-amd64"), "-amd64");
        cr_expect_str_eq(kernel_flavour("6.1.0-18-cloud-amd64"), "-cloud-amd64");
        cr_expect_str_eq(kernel_flavour("5.15.0-91-generic"), "-generic");
        cr_expect_str_eq(kernel_flavour("6.8.0"), "");
}

Test(kernel, taint_words) {
        char l[65];
        cr_expect_str_eq(kernel_taint_letters(12289, l), "POE");
        cr_expect_str_eq(kernel_taint_letters(0, l), "");
        cr_expect_str_eq(kernel_taint_letters((1ULL << 40) | 2, l), "F?");
        cr_expect_str_eq(kernel_taint_flag(13)->meaning, "unsigned module was loaded");
        cr_expect_eq(kernel_taint_flag(19)->letter, 'J');
        cr_expect_null(kernel_taint_flag(20));
        cr_expect_str_eq(words(0), "ok");
        cr_expect_str_eq(words(KERNEL_OUT_OF_TREE | KERNEL_NOT_PACKAGED), "out-of-tree,not-from-a-package");
        cr_expect_null(kernel_status_name(KERNEL_CHANGED | KERNEL_MISSING));
}

static int count_line(const KernelProcLine *l, void *u) {
        KernelProcLine *v = u;
        size_t i = 0;
        while (v[i].name)
                i++;
        v[i] = *l;
        return 0;
}

/* Each line's fields, and each bad line skipped, the first named. */
Test(kernel, proc_modules_lines) {
        size_t len;
        char *t = data("proc-modules", &len);
        KernelProcLine v[16] = { 0 };
        KernelSkips sk = { 0 };
        cr_assert_eq(kernel_proc_modules_parse(t, len, "proc-modules", &sk, count_line, v), 0);
        cr_expect_eq(sk.n, 2);
        cr_expect_str_eq(sk.first, "proc-modules:9: a size that is not a number", "%s", sk.first);
        cr_expect(v[2].name_len == 5 && !strncmp(v[2].name, "vgoot", 5));
        cr_expect_str_eq(v[2].taint, "POE");
        cr_expect_eq(v[1].size, 1146880);
        cr_expect_str_eq(v[6].state, "Loading");
        cr_expect_str_eq(v[6].taint, "", "'+' is a state, not a taint");
        cr_expect_null(v[8].name);
        free(t);
        static const char *const bad[] = {
                "kvm 1 0 - Live\n", "kvm 1 0 - Dead 0x0\n", "kvm 1 0 - Live 0x0 (oe)\n", "kvm 1 0 - Live 0x0 OE\n",
                "kvm-intel 1 0 - Live 0x0\n", "kvm 1 0 - Live 0x0 (OE) extra more\n", "kvm x 0 - Live 0x0\n",
                "kvm 1 0 - Live 0x0 (OEOEOEOEOEOEOEOEOE)\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                KernelProcLine w[2] = { 0 };
                KernelSkips s = { 0 };
                cr_expect_eq(kernel_proc_modules_parse(bad[i], strlen(bad[i]), "m", &s, count_line, w), 0);
                cr_expect(s.n == 1 && !strncmp(s.first, "m:1: ", 5), "%s: %s", bad[i], s.first);
        }
        /* Without CONFIG_MODULE_UNLOAD: no counts, "- -". */
        KernelProcLine w[2] = { 0 };
        KernelSkips s = { 0 };
        const char *nounload = "kvm 1146880 - - Live 0xffffffffc0800000\n";
        cr_expect_eq(kernel_proc_modules_parse(nounload, strlen(nounload), "m", &s, count_line, w), 0);
        cr_expect(s.n == 0 && w[0].name);
}

Test(kernel, modules_dep) {
        const char *text = "kernel/a/kvm-intel.ko.xz: kernel/a/kvm.ko.xz\n/abs/extra/vgx.ko:\n"
                           "kernel/b/kvm_intel.ko:\nnonsense\nkernel/c/x.o:\n";
        KernelDep d;
        KernelSkips s = { 0 };
        cr_assert_eq(kernel_dep_parse(text, strlen(text), "modules.dep", &d, &s), 0);
        cr_expect_eq(d.n, 3);
        cr_expect_eq(s.n, 2);
        cr_expect_str_eq(s.first, "modules.dep:4: expected 'FILE: DEPENDENCIES'");
        cr_expect_str_eq(kernel_dep_find(&d, "kvm_intel"), "kernel/a/kvm-intel.ko.xz", "the first line wins");
        cr_expect_str_eq(kernel_dep_find(&d, "vgx"), "/abs/extra/vgx.ko");
        cr_expect_null(kernel_dep_find(&d, "kvm"));
        kernel_dep_clear(&d);
}

/* What a compiled module says of itself; and no prefix of it crashes. */
Test(kernel, modinfo) {
        char src[4200];
        size_t len = 0;
        snprintf(src, sizeof(src), "%s/vgkvm.o", KERNEL_FIXTURE_DIR);
        uint8_t *b = (uint8_t *) read_data(src, &len);
        KernelModinfo m;
        kernel_modinfo_parse(b, len, &m);
        cr_expect_eq(m.format, KERNEL_FILE_ELF);
        cr_expect(m.has_modinfo && m.intree, "%s", m.problem);
        cr_expect_not(m.signature);
        cr_expect_str_eq(m.name, "vgkvm");
        cr_expect_str_eq(m.license, "GPL");
        cr_expect(!strncmp(m.vermagic, RELEASE " SMP", strlen(RELEASE) + 4));
        uint8_t *signed_ = malloc(len + sizeof(SIG_MAGIC));
        memcpy(signed_, b, len);
        memcpy(signed_ + len, SIG_MAGIC, sizeof(SIG_MAGIC) - 1);
        kernel_modinfo_parse(signed_, len + sizeof(SIG_MAGIC) - 1, &m);
        cr_expect(m.signature && m.intree);
        for (size_t n = 0; n < len; n++) {
                kernel_modinfo_parse(b, n, &m);
                cr_expect(m.problem[0] || m.has_modinfo, "prefix %zu", n);
        }
        kernel_modinfo_parse(b, 100, &m);
        cr_expect(strstr(m.problem, "truncated"), "%s", m.problem);
        /* Each header field broken in turn: never a crash. */
        for (size_t i = 0; i < 64; i++) {
                uint8_t *c = malloc(len);
                memcpy(c, b, len);
                c[i] ^= 0xff;
                kernel_modinfo_parse(c, len, &m);
                free(c);
        }
        free(signed_);
        free(b);
        kernel_modinfo_parse((const uint8_t *) "\x28\xb5\x2f\xfd....", 8, &m);
        cr_expect_eq(m.format, KERNEL_FILE_ZSTD);
        cr_expect(strstr(m.problem, "compressed (zstd)"));
        kernel_modinfo_parse((const uint8_t *) "hello", 5, &m);
        cr_expect_eq(m.format, KERNEL_FILE_OTHER);
        cr_expect_str_eq(m.problem, "not ELF, nor xz, zstd or gzip");
        snprintf(src, sizeof(src), "%s/vgoot.o", KERNEL_FIXTURE_DIR);
        cr_assert_eq(kernel_modinfo_file(src, &m), 0);
        cr_expect(m.has_modinfo && !m.intree && !strcmp(m.license, "Proprietary"));
        cr_expect_eq(kernel_modinfo_file("/dev/null", &m), -EBADFD);
        cr_expect_eq(kernel_modinfo_file("/nonexistent/x.ko", &m), -ENOENT);
}

/* The module-file check against the fixture /proc/modules and tree. */
Test(kernel, read_fixture_host) {
        host();
        Paths x = paths();
        KernelState *k = NULL;
        VgError err = { "" };
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_expect(k->modules_supported && k->have_modules_dep);
        cr_expect_eq(k->n_modules, 8);
        cr_expect_eq(k->n_skipped, 3, "two /proc/modules lines, one modules.dep line: %zu", k->n_skipped);
        cr_expect(strstr(k->first_skipped, "modules.dep:8: expected 'FILE: DEPENDENCIES'"), "%s", k->first_skipped);
        cr_expect_str_eq(words(module(k, "vgkvm")->status), "ok");
        cr_expect_str_eq(words(module(k, "vgkvm_intel")->status), "ok");
        cr_expect(strstr(module(k, "vgkvm_intel")->path, "/kernel/arch/x86/kvm/vgkvm-intel.ko"));
        cr_expect_str_eq(words(module(k, "vgoot")->status), "out-of-tree,unsigned,proprietary");
        cr_expect_str_eq(words(module(k, "vgforced")->status), "forced");
        cr_expect_str_eq(words(module(k, "vggone")->status), "missing");
        cr_expect_str_eq(words(module(k, "vgxz")->status), "ok", "judged by the kernel's letters alone");
        cr_expect_eq(module(k, "vgxz")->info.format, KERNEL_FILE_XZ);
        cr_expect_str_eq(words(module(k, "vgbad")->status), "not-a-module");
        cr_expect_str_eq(words(module(k, "vgrootkit")->status), "unresolved,out-of-tree,unsigned");
        cr_expect_null(module(k, "vgrootkit")->path);
        cr_expect(module(k, "vgoot")->finding && !module(k, "vgkvm")->finding);
        cr_expect(k->taint_known && k->taint == 12289);
        /* 6.1.0-20 of its flavour is newer; 6.1.0-21-rt is another
         * flavour; config-6.1.0-22 is no kernel; 6.0.0-1 has no
         * modules.dep left. */
        cr_assert_eq(k->n_installed, 4);
        cr_expect_str_eq(k->installed[0], "6.1.0-9-amd64");
        cr_expect_str_eq(k->installed[3], "6.1.0-21-rt-amd64");
        cr_expect_str_eq(k->newest, "6.1.0-20-amd64");
        cr_expect(k->running_installed && k->reboot_pending);
        kernel_state_free(k);

        /* Booted into the newest: nothing pending. */
        x.p.release = "6.1.0-20-amd64";
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_expect_not(k->reboot_pending);
        cr_expect_not(k->have_modules_dep);
        cr_expect_str_eq(words(module(k, "vgkvm")->status), "unresolved", "no modules.dep: none resolved");
        kernel_state_free(k);
        /* Running a kernel whose package is gone. */
        x.p.release = "6.1.0-17-amd64";
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_expect(!k->running_installed && k->reboot_pending);
        kernel_state_free(k);
        paths_free(&x);
}

Test(kernel, bad_input) {
        host();
        Paths x = paths();
        KernelState *k = NULL;
        VgError err = { "" };
        put("tainted", NULL, "lots\n", NULL);
        cr_expect_eq(kernel_read(&x.p, &k, &err), -EINVAL);
        cr_expect(strstr(err.text, "tainted': expected a decimal number, got 'lots"), "%s", err.text);
        /* No tainted file: unknown; no /proc/modules: no modules. */
        char *t = at("tainted"), *pm = at("proc-modules");
        cr_assert_eq(unlink(t), 0);
        cr_assert_eq(unlink(pm), 0);
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_expect(!k->taint_known && !k->modules_supported && !k->n_modules);
        kernel_state_free(k);
        /* Garbage: every line skipped, none a crash. */
        put("proc-modules", NULL, "\x01\x02 \n(((\n\n" "a b c d e f g h i j\n" "x 1 0 - Live 0x0 (", NULL);
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_expect_eq(k->n_modules, 0);
        cr_expect(k->n_skipped >= 4);
        kernel_state_free(k);
        free(t);
        free(pm);
        paths_free(&x);
}

static void dpkg_db(void) {
        char md5[33], line[512], *p;
        p = at("lib/modules/" RELEASE "/kernel/arch/x86/kvm/vgkvm.ko");
        cr_assert_eq(dpkg_md5_file(p, md5, NULL), 0);
        free(p);
        put("dpkg/status", NULL,
            "Package: linux-image-" RELEASE "\nStatus: install ok installed\nArchitecture: amd64\n"
            "Version: 6.1.76-1\nDescription: Linux\n", NULL);
        const char *m = "lib/modules/" RELEASE;
        char list[4096];
        snprintf(list, sizeof(list), "%s/%s/kernel/arch/x86/kvm/vgkvm.ko\n%s/%s/kernel/arch/x86/kvm/vgkvm-intel.ko\n"
                 "%s/%s/kernel/drivers/vgforced.ko\n", dir, m, dir, m, dir, m);
        put("dpkg/info/linux-image-" RELEASE ".list", NULL, list, NULL);
        /* md5sums: paths without the leading '/'. vgforced's is not its. */
        snprintf(list, sizeof(list), "%s  %s/%s/kernel/arch/x86/kvm/vgkvm.ko\n"
                 "%s  %s/%s/kernel/arch/x86/kvm/vgkvm-intel.ko\n"
                 "00000000000000000000000000000000  %s/%s/kernel/drivers/vgforced.ko\n",
                 md5, dir + 1, m, md5, dir + 1, m, dir + 1, m);
        snprintf(line, sizeof(line), "dpkg/info/linux-image-%s.md5sums", RELEASE);
        put(line, NULL, list, NULL);
}

/* Each module's file against a baseline of the tree and the package. */
Test(kernel, compare) {
        host();
        dpkg_db();
        Paths x = paths();
        char *root = at("lib/modules/" RELEASE), *admin = at("dpkg");
        FscanRoot roots[] = { { root, true, FSCAN_ALL, "isolation" } };
        FscanList *base = NULL;
        VgError err = { "" };
        /* The baseline has neither vgforced nor vgbad. */
        char *forced = at("lib/modules/" RELEASE "/kernel/drivers/vgforced.ko");
        char *bad = at("lib/modules/" RELEASE "/kernel/drivers/vgbad.ko");
        const char *exclude[] = { forced, bad, NULL };
        FscanOptions opt = { .exclude = exclude, .threads = 1 };
        cr_assert_eq(fscan_scan(roots, 1, &opt, &base, &err), 0, "%s", err.text);
        /* Then vgkvm-intel is changed, and vgxz is removed. */
        put("lib/modules/" RELEASE "/kernel/arch/x86/kvm/vgkvm-intel.ko", "vgkvm.o", "X", SIG_MAGIC);
        char *xz = at("lib/modules/" RELEASE "/kernel/drivers/vgxz.ko.xz");
        cr_assert_eq(unlink(xz), 0);
        KernelState *k = NULL;
        Dpkg *d = NULL;
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_assert_eq(dpkg_open(admin, "/nonexistent/dpkg.log", &d, &err), 0, "%s", err.text);
        cr_assert_eq(kernel_compare(k, base, d, &err), 0, "%s", err.text);
        cr_expect(k->baseline_compared && k->packages_compared);
        const KernelModule *m = module(k, "vgkvm");
        cr_expect_str_eq(words(m->status), "ok");
        cr_expect(m->package_verified && !strcmp(m->package, "linux-image-" RELEASE ":amd64") &&
                  !strcmp(m->package_version, "6.1.76-1"), "%s %s", m->package, m->package_version);
        m = module(k, "vgkvm_intel");
        cr_expect_str_eq(words(m->status), "changed,package-mismatch");
        cr_expect(m->changed & FSCAN_SHA256);
        cr_expect(m->finding);
        m = module(k, "vgforced");
        cr_expect_str_eq(words(m->status), "not-in-baseline,forced,package-mismatch");
        cr_expect_str_eq(words(module(k, "vgoot")->status), "out-of-tree,unsigned,proprietary,not-from-a-package");
        cr_expect_str_eq(words(module(k, "vgxz")->status), "missing");
        cr_expect_str_eq(words(module(k, "vgbad")->status), "not-in-baseline,not-from-a-package,not-a-module");
        kernel_state_free(k);
        dpkg_free(d);
        /* A packaged file the package vouches for needs no baseline row:
         * not-in-baseline alone is then no finding. */
        FscanList empty = { 0 };
        cr_assert_eq(kernel_read(&x.p, &k, &err), 0, "%s", err.text);
        cr_assert_eq(dpkg_open(admin, "/nonexistent/dpkg.log", &d, &err), 0, "%s", err.text);
        cr_assert_eq(kernel_compare(k, &empty, d, &err), 0, "%s", err.text);
        m = module(k, "vgkvm");
        cr_expect_str_eq(words(m->status), "not-in-baseline");
        cr_expect_not(m->finding);
        cr_expect(module(k, "vgoot")->finding);
        kernel_state_free(k);
        dpkg_free(d);
        fscan_list_free(base);
        free(root);
        free(admin);
        free(forced);
        free(bad);
        free(xz);
        paths_free(&x);
}
