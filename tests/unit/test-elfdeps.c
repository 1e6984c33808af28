/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf-fake.h"
#include "test-helpers.h"
#include "../../lib/host/elfdeps-priv.h"
#include "virtgov/host/elfdeps.h"

#define SH(...) do {                                                    \
                char *c_ = NULL;                                        \
                cr_assert(asprintf(&c_, __VA_ARGS__) > 0);              \
                cr_assert_eq(system(c_), 0, "%s", c_);                  \
                free(c_);                                               \
        } while (0)

static char *dir;
static void setup(void) { dir = scratch_new(); }
static void teardown(void) { scratch_remove(dir); }
TestSuite(elfdeps, .init = setup, .fini = teardown);

static const ElfdepsEntry *entry(const ElfdepsList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->entries[i].name, name))
                        return &l->entries[i];
        return NULL;
}

static ElfdepsList *resolve_ok(const char *path, const ElfdepsOptions *o) {
        ElfdepsList *l = NULL;
        VgError err = { "" };
        int r = elfdeps_resolve(path, o, &l, &err);
        cr_assert_eq(r, 0, "resolve %s: %d %s", path, r, err.text);
        return l;
}

/* What ldd prints, one line per object: "path" for one it found (as
 * opened), "!name" for one it did not. Sorted, joined by newlines. */
static char *ldd_view(const char *bin) {
        char cmd[4200], line[4200];
        snprintf(cmd, sizeof(cmd), "ldd '%s' 2>/dev/null | sed -n -e 's/^\\t\\([^ ]*\\) => not found$/!\\1/p' "
                 "-e 's/^\\t.* => \\(\\/[^ ]*\\) (0x.*$/\\1/p' -e 's/^\\t\\(\\/[^ ]*\\) (0x.*$/\\1/p' | sort", bin);
        FILE *p = popen(cmd, "re");
        cr_assert_not_null(p);
        char *out = calloc(1, 1 << 16);
        while (fgets(line, sizeof(line), p))
                strcat(out, line);
        pclose(p);
        return out;
}

/* The same view of our list, through sort(1) so the orders agree. */
static char *our_view(const ElfdepsList *l) {
        char tmp[4200];
        snprintf(tmp, sizeof(tmp), "%s/ours", dir);
        FILE *f = fopen(tmp, "we");
        for (size_t i = 0; i < l->n; i++)
                if (l->entries[i].status == ELFDEPS_FOUND)
                        fprintf(f, "%s\n", l->entries[i].path);
                else
                        fprintf(f, "!%s\n", l->entries[i].name);
        fclose(f);
        SH("sort '%1$s' > '%1$s.sorted'", tmp);
        strcat(tmp, ".sorted");
        return read_data(tmp, NULL);
}

static void same_as_ldd(const char *bin) {
        if (access(bin, X_OK) != 0)
                cr_skip_test("%s is not installed", bin);
        ElfdepsList *l = resolve_ok(bin, NULL);
        char *ours = our_view(l), *theirs = ldd_view(bin);
        cr_assert(l->n >= 5, "%s: only %zu objects", bin, l->n);
        cr_assert_str_eq(ours, theirs, "%s: ours\n%s\nldd's\n%s", bin, ours, theirs);
        free(ours); free(theirs);
        elfdeps_list_free(l);
}

Test(elfdeps, qemu_closure_is_what_ldd_prints) { same_as_ldd("/usr/bin/qemu-system-x86_64"); }
Test(elfdeps, libvirtd_closure_is_what_ldd_prints) { same_as_ldd("/usr/sbin/libvirtd"); }

/* bin/m needs lib/liba.so needs lib/sub/libb.so, built by cc with the
 * given link flags for m and liba: rpaths with $ORIGIN, as packagers
 * write them. */
static void build_abm(const char *m_flags, const char *a_flags) {
        if (system("cc --version >/dev/null 2>&1") != 0)
                cr_skip_test("no C compiler");
        SH("mkdir -p %1$s/bin %1$s/lib/sub && echo 'int b(void){return 2;}' > %1$s/b.c && "
           "echo 'int b(void); int a(void){return b();}' > %1$s/a.c && "
           "echo 'int a(void); int main(void){return a();}' > %1$s/m.c", dir);
        SH("cc -shared -fPIC -o %1$s/lib/sub/libb.so %1$s/b.c", dir);
        SH("cc -shared -fPIC -o %1$s/lib/liba.so %1$s/a.c -L%1$s/lib/sub -lb %2$s", dir, a_flags);
        SH("cc -o %1$s/bin/m %1$s/m.c -L%1$s/lib -la -Wl,-rpath-link,%1$s/lib/sub %2$s", dir, m_flags);
}

Test(elfdeps, origin_runpath_each_object_its_own) {
        build_abm("-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'", "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/sub'");
        char *m = path_join(dir, "bin/m");
        ElfdepsList *l = resolve_ok(m, NULL);
        const ElfdepsEntry *a = entry(l, "liba.so"), *b = entry(l, "libb.so");
        cr_assert(a && b && a->status == ELFDEPS_FOUND && b->status == ELFDEPS_FOUND);
        cr_assert_eq(a->source, ELFDEPS_SOURCE_RUNPATH);
        cr_assert_eq(b->source, ELFDEPS_SOURCE_RUNPATH);
        /* The path as opened keeps "..": ld.so's $ORIGIN for a library is
         * the directory it was opened from, not its real path. */
        char *want = path_join(dir, "bin/../lib/sub/libb.so"), *real = path_join(dir, "lib/sub/libb.so");
        cr_assert_str_eq(b->path, want);
        cr_assert_str_eq(b->realpath, real);
        cr_assert_eq(b->depth, 2);
        cr_assert_str_eq(l->entries[b->needed_by].name, "liba.so");
        char *ours = our_view(l), *theirs = ldd_view(m);
        cr_assert_str_eq(ours, theirs);
        /* A symlink to the executable: $ORIGIN is its real directory. */
        char *link = path_join(dir, "link");
        cr_assert_eq(symlink(m, link), 0);
        elfdeps_list_free(l);
        l = resolve_ok(link, NULL);
        cr_assert_eq(entry(l, "libb.so")->status, ELFDEPS_FOUND);
        elfdeps_list_free(l);
        free(ours); free(theirs); free(want); free(real); free(m); free(link);
}

Test(elfdeps, runpath_does_not_reach_what_a_library_needs) {
        /* liba has no rpath: m's RUNPATH serves m's own DT_NEEDED only. */
        build_abm("-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib:$ORIGIN/../lib/sub'", "");
        char *m = path_join(dir, "bin/m");
        ElfdepsList *l = resolve_ok(m, NULL);
        cr_assert_eq(entry(l, "liba.so")->status, ELFDEPS_FOUND);
        cr_assert_eq(entry(l, "libb.so")->status, ELFDEPS_NOT_FOUND);
        char *ours = our_view(l), *theirs = ldd_view(m);
        cr_assert_str_eq(ours, theirs);
        free(ours); free(theirs); free(m);
        elfdeps_list_free(l);
}

Test(elfdeps, rpath_is_inherited_by_what_a_library_needs) {
        build_abm("-Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib:$ORIGIN/../lib/sub'", "");
        char *m = path_join(dir, "bin/m");
        ElfdepsList *l = resolve_ok(m, NULL);
        const ElfdepsEntry *b = entry(l, "libb.so");
        cr_assert_eq(b->status, ELFDEPS_FOUND);
        cr_assert_eq(b->source, ELFDEPS_SOURCE_RPATH);
        char *ours = our_view(l), *theirs = ldd_view(m);
        cr_assert_str_eq(ours, theirs);
        free(ours); free(theirs); free(m);
        elfdeps_list_free(l);
}

/* A fake tree under dir/root: options rooted there, no cache unless made. */
static ElfdepsOptions rooted(void) {
        static char root[4200];
        snprintf(root, sizeof(root), "%s/root", dir);
        vg_mkdir_p(root, 0755);
        return (ElfdepsOptions) { .root = root };
}

#define LIBDIR "lib/x86_64-linux-gnu/"

Test(elfdeps, rpath_is_ignored_when_runpath_is_there) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, "opt/r/libx.so", &(Fake) { .soname = "libx.so" }));
        free(fake_write(o.root, "opt/u/libx.so", &(Fake) { .soname = "libx.so" }));
        free(fake_write(o.root, "bin/both", &(Fake) { .needed = { "libx.so" }, .rpath = "/opt/r", .runpath = "/opt/u" }));
        free(fake_write(o.root, "bin/rpath", &(Fake) { .needed = { "libx.so" }, .rpath = "/opt/r:/opt/u" }));
        ElfdepsList *l = resolve_ok("/bin/both", &o);
        cr_assert_str_eq(entry(l, "libx.so")->path, "/opt/u/libx.so");
        cr_assert_eq(entry(l, "libx.so")->source, ELFDEPS_SOURCE_RUNPATH);
        elfdeps_list_free(l);
        l = resolve_ok("/bin/rpath", &o);
        cr_assert_str_eq(entry(l, "libx.so")->path, "/opt/r/libx.so");
        elfdeps_list_free(l);
        /* A library with a RUNPATH does not use its loader's RPATH either. */
        free(fake_write(o.root, "opt/a/liba.so", &(Fake) { .needed = { "libx.so" }, .runpath = "/opt/u" }));
        free(fake_write(o.root, "bin/chain", &(Fake) { .needed = { "liba.so" }, .rpath = "/opt/a:/opt/r" }));
        l = resolve_ok("/bin/chain", &o);
        cr_assert_eq(entry(l, "liba.so")->source, ELFDEPS_SOURCE_RPATH);
        cr_assert_str_eq(entry(l, "libx.so")->path, "/opt/u/libx.so");
        elfdeps_list_free(l);
}

Test(elfdeps, cache_comes_before_default_dirs_and_other_machines_are_skipped) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, "opt/c/liby.so.1", &(Fake) { 0 }));
        free(fake_write(o.root, "opt/c32/liby.so.1", &(Fake) { .cls = ELFCLASS32, .machine = EM_386 }));
        free(fake_write(o.root, LIBDIR "liby.so.1", &(Fake) { 0 }));
        free(fake_write(o.root, LIBDIR "libz.so.1", &(Fake) { .cls = ELFCLASS32, .machine = EM_386 }));
        free(fake_write(o.root, "usr/lib/libz.so.1", &(Fake) { .machine = EM_AARCH64 }));
        free(fake_write(o.root, "usr/lib64/libz.so.1", &(Fake) { 0 }));
        free(fake_write(o.root, "bin/p", &(Fake) { .needed = { "liby.so.1", "libz.so.1" } }));
        char *etc = path_join(o.root, "etc");
        vg_mkdir_p(etc, 0755);
        char *cache = path_join(etc, "ld.so.cache");
        fake_cache(cache, (const char *[]) { "liby.so.1", "liby.so.1" },
                   (const char *[]) { "/opt/c32/liby.so.1", "/opt/c/liby.so.1" }, 2);
        ElfdepsList *l = resolve_ok("/bin/p", &o);
        cr_assert_null(l->cache_problem);
        cr_assert_str_eq(entry(l, "liby.so.1")->path, "/opt/c/liby.so.1", "the 32-bit entry is skipped");
        cr_assert_eq(entry(l, "liby.so.1")->source, ELFDEPS_SOURCE_CACHE);
        cr_assert_str_eq(entry(l, "libz.so.1")->path, "/usr/lib64/libz.so.1", "i386, aarch64 skipped");
        cr_assert_eq(entry(l, "libz.so.1")->source, ELFDEPS_SOURCE_DEFAULT);
        elfdeps_list_free(l);
        /* A broken cache is ignored, as ld.so ignores it, and said. */
        write_text(cache, "glibc-ld.so.cache1.1 but short");
        l = resolve_ok("/bin/p", &o);
        cr_assert_not_null(l->cache_problem);
        cr_assert_str_eq(entry(l, "liby.so.1")->path, "/" LIBDIR "liby.so.1");
        elfdeps_list_free(l);
        free(etc); free(cache);
}

Test(elfdeps, interpreter_first_and_reused_by_soname_and_cycles_end) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, "lib64/ld-fake.so.2", &(Fake) { .soname = "ld-fake.so.2" }));
        free(fake_write(o.root, LIBDIR "liba.so", &(Fake) { .needed = { "libb.so", "liba.so" } }));
        free(fake_write(o.root, LIBDIR "libb.so", &(Fake) { .needed = { "liba.so", "ld-fake.so.2" } }));
        char *alias = path_join(o.root, LIBDIR "libalias.so");
        cr_assert_eq(symlink("liba.so", alias), 0);   /* the same file by another name: ld.so matches the inode */
        free(alias);
        free(fake_write(o.root, "bin/p", &(Fake) { .interp = "/lib64/ld-fake.so.2",
                                                   .needed = { "liba.so", "libmissing.so", "ld-fake.so.2",
                                                               "libalias.so" } }));
        ElfdepsList *l = resolve_ok("/bin/p", &o);
        cr_assert_eq(l->n, 4, "interp, liba, libmissing, libb: each once (got %zu)", l->n);
        cr_assert_eq(l->entries[0].source, ELFDEPS_SOURCE_INTERP);
        cr_assert_str_eq(l->entries[0].path, "/lib64/ld-fake.so.2");
        cr_assert_eq(entry(l, "libmissing.so")->status, ELFDEPS_NOT_FOUND);
        cr_assert_null(entry(l, "libmissing.so")->path);
        cr_assert_eq(entry(l, "libb.so")->depth, 2);
        elfdeps_list_free(l);
}

Test(elfdeps, nodeflib_stops_before_cache_and_default_dirs) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, LIBDIR "libq.so", &(Fake) { 0 }));
        free(fake_write(o.root, "bin/p", &(Fake) { .needed = { "libq.so" }, .nodeflib = true }));
        ElfdepsList *l = resolve_ok("/bin/p", &o);
        cr_assert_eq(entry(l, "libq.so")->status, ELFDEPS_NOT_FOUND);
        elfdeps_list_free(l);
}

Test(elfdeps, symlinks_resolve_inside_the_root) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, "usr/" LIBDIR "libs.so.1.2", &(Fake) { 0 }));
        char *lib = path_join(o.root, "lib"), *so = path_join(o.root, "usr/" LIBDIR "libs.so.1");
        cr_assert_eq(symlink("/usr/lib", lib), 0, "absolute: would escape without RESOLVE_IN_ROOT");
        cr_assert_eq(symlink("libs.so.1.2", so), 0);
        free(fake_write(o.root, "bin/p", &(Fake) { .needed = { "libs.so.1" } }));
        ElfdepsList *l = resolve_ok("/bin/p", &o);
        const ElfdepsEntry *e = entry(l, "libs.so.1");
        cr_assert_str_eq(e->path, "/" LIBDIR "libs.so.1");
        cr_assert_str_eq(e->realpath, "/usr/" LIBDIR "libs.so.1.2");
        elfdeps_list_free(l);
        free(lib); free(so);
}

Test(elfdeps, thousands_of_needed_meet_a_said_limit) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, "bin/p", &(Fake) { .extra_needed = 3000 }));
        ElfdepsList *l = NULL;
        VgError err = { "" };
        cr_assert_eq(elfdeps_resolve("/bin/p", &o, &l, &err), -E2BIG);
        cr_assert(strstr(err.text, "more than 1024"), "%s", err.text);
        o.max_objects = 4000;
        l = resolve_ok("/bin/p", &o);
        cr_assert_eq(l->n, 3000);
        cr_assert_eq(l->entries[2999].status, ELFDEPS_NOT_FOUND);
        elfdeps_list_free(l);
}

Test(elfdeps, a_file_that_is_not_an_elf_object_fails_the_resolve) {
        ElfdepsOptions o = rooted();
        char *text = path_join(o.root, "text"), *fifo = path_join(o.root, "fifo"), *sub = path_join(o.root, "d");
        write_text(text, "#!/bin/sh\necho not ELF\n");
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        cr_assert_eq(mkdir(sub, 0700), 0);
        struct { const char *path; int r; const char *says; } cases[] = {
                { "/text", -ENOEXEC, "not an ELF file" },
                { "/fifo", -ENODEV, "not a regular file" },   /* and no hang: it is never opened to read */
                { "/d", -EISDIR, "Is a directory" },
                { "/absent", -ENOENT, "No such file" },
                { "relative", -EINVAL, "not an absolute path" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ElfdepsList *l = NULL;
                VgError err = { "" };
                cr_assert_eq(elfdeps_resolve(cases[i].path, &o, &l, &err), cases[i].r, "%s: %s", cases[i].path, err.text);
                cr_assert(strstr(err.text, cases[i].says), "%s: %s", cases[i].path, err.text);
                cr_assert_null(l);
        }
        ElfdepsList *l = NULL;
        cr_assert_eq(elfdeps_resolve("/dev/null", NULL, &l, NULL), -ENODEV, "a device is not opened either");
        free(text); free(fifo); free(sub);
}

Test(elfdeps, a_bad_library_is_an_entry_and_the_rest_resolves) {
        ElfdepsOptions o = rooted();
        free(fake_write(o.root, LIBDIR "libok.so", &(Fake) { 0 }));
        char *junk = path_join(o.root, LIBDIR "libjunk.so"), *fifo = path_join(o.root, LIBDIR "libfifo.so");
        char *sub = path_join(o.root, LIBDIR "libdir.so");
        write_text(junk, "INPUT(-lfoo)\n");   /* a linker script, as libc.so is */
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        cr_assert_eq(mkdir(sub, 0700), 0);
        free(fake_write(o.root, "bin/p", &(Fake) { .needed = { "libjunk.so", "libfifo.so", "libdir.so", "libok.so" } }));
        ElfdepsList *l = resolve_ok("/bin/p", &o);
        cr_assert_eq(l->n, 4);
        cr_assert_eq(entry(l, "libok.so")->status, ELFDEPS_FOUND);
        const char *bad[] = { "libjunk.so", "libfifo.so", "libdir.so" }, *why[] = { "not an ELF", "not a regular", "directory" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const ElfdepsEntry *e = entry(l, bad[i]);
                cr_assert_eq(e->status, ELFDEPS_BAD, "%s", bad[i]);
                cr_assert(e->problem && strcasestr(e->problem, why[i]), "%s: %s", bad[i], e->problem);
        }
        elfdeps_list_free(l);
        free(junk); free(fifo); free(sub);
}

static int parse_buf(const FakeBuf *f, ElfObject *o, VgError *err) {
        ElfSource src = { .buf = f->b, .size = f->len };
        return elfdeps_elf_parse(&src, "buf", false, o, err);
}

Test(elfdeps, every_truncation_is_an_error_never_a_crash) {
        FakeBuf f = fake_build(&(Fake) { .interp = "/lib/ld.so", .needed = { "liba.so", "libb.so" }, .runpath = "/x" });
        ElfObject o;
        VgError err = { "" };
        cr_assert_eq(parse_buf(&f, &o, &err), 0, "%s", err.text);
        cr_assert_eq(o.n_needed, 2);
        elfdeps_elf_done(&o);
        for (size_t len = 0; len < f.len; len++) {
                FakeBuf cut = f;
                cut.len = len;
                err.text[0] = '\0';
                cr_assert_eq(parse_buf(&cut, &o, &err), -ENOEXEC, "cut at %zu", len);
                cr_assert(err.text[0], "cut at %zu: no message", len);
        }
        free(f.b);
}

/* The offset of the value of the first dynamic entry with tag in a
 * 64-bit little-endian fake without interpreter. */
static size_t dyn_value(const FakeBuf *f, uint64_t tag) {
        uint64_t off;
        memcpy(&off, f->b + 64 + 56 + 8, 8);
        for (size_t at = off; at + 16 <= f->len; at += 16) {
                uint64_t t;
                memcpy(&t, f->b + at, 8);
                if (t == tag)
                        return at + 8;
        }
        cr_assert_fail("no tag %llu", (unsigned long long) tag);
        return 0;
}

Test(elfdeps, offsets_out_of_range_and_unterminated_strings_are_named) {
        struct { const char *what; size_t field; uint64_t value; const char *says; } cases[] = {
                { "phoff", 32, 1u << 30, "truncated" },
                { "phentsize", 54, 8, "program header table" },
                { "dynamic offset", 64 + 56 + 8, 1ull << 40, "truncated" },
                { "dynamic size", 64 + 56 + 32, 1ull << 62, "more than" },
                { "strtab address", 0, 0x10, "no loaded segment" },
                { "strsz cuts the last string", 1, 0, "not terminated" },
                { "needed past the table", 2, 1u << 20, "outside the string table" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                FakeBuf f = fake_build(&(Fake) { .needed = { "liba.so", "libb.so" } });
                size_t at = cases[i].field;
                uint64_t v = cases[i].value;
                if (at == 0)
                        at = dyn_value(&f, DT_STRTAB);
                else if (at == 1) {
                        at = dyn_value(&f, DT_STRSZ);
                        memcpy(&v, f.b + at, 8);
                        v -= 1;   /* drops the last NUL */
                } else if (at == 2)
                        at = dyn_value(&f, DT_NEEDED);
                memcpy(f.b + at, &v, at == 54 ? 2 : 8);
                ElfObject o;
                VgError err = { "" };
                cr_assert_eq(parse_buf(&f, &o, &err), -ENOEXEC, "%s", cases[i].what);
                cr_assert(strstr(err.text, cases[i].says), "%s: %s", cases[i].what, err.text);
                free(f.b);
        }
}

Test(elfdeps, both_classes_and_byte_orders_are_read) {
        uint8_t classes[] = { ELFCLASS32, ELFCLASS64 }, orders[] = { ELFDATA2LSB, ELFDATA2MSB };
        for (size_t c = 0; c < 2; c++)
                for (size_t d = 0; d < 2; d++) {
                        FakeBuf f = fake_build(&(Fake) { .cls = classes[c], .data = orders[d], .machine = EM_PPC,
                                                         .interp = "/lib/ld.so.1", .needed = { "libc.so.6" },
                                                         .soname = "libme.so", .rpath = "$ORIGIN" });
                        ElfObject o;
                        VgError err = { "" };
                        cr_assert_eq(parse_buf(&f, &o, &err), 0, "class %u data %u: %s", classes[c], orders[d], err.text);
                        cr_assert_eq(o.cls, classes[c]);
                        cr_assert_eq(o.machine, EM_PPC);
                        cr_assert_str_eq(o.interp, "/lib/ld.so.1");
                        cr_assert_str_eq(o.needed[0], "libc.so.6");
                        cr_assert_str_eq(o.soname, "libme.so");
                        cr_assert_str_eq(o.rpath, "$ORIGIN");
                        elfdeps_elf_done(&o);
                        free(f.b);
                }
}

Test(elfdeps, dynamic_string_tokens_expand_as_in_ld_so) {
        ElfDst d = { .origin = "/opt/q/bin", .lib = "lib/x86_64-linux-gnu", .platform = NULL };
        struct { const char *in, *out; int r; } cases[] = {
                { "$ORIGIN/../lib", "/opt/q/bin/../lib", 0 },
                { "${ORIGIN}lib", "/opt/q/binlib", 0 },
                { "/usr/$LIB", "/usr/lib/x86_64-linux-gnu", 0 },
                { "$ORIGINAL/x", "$ORIGINAL/x", 0 },   /* not the token: kept as written */
                { "/a/$FOO", "/a/$FOO", 0 },
                { "/p/$PLATFORM", NULL, -ENOENT },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = NULL;
                cr_assert_eq(elfdst_expand(cases[i].in, &d, &out), cases[i].r, "%s", cases[i].in);
                if (cases[i].out)
                        cr_assert_str_eq(out, cases[i].out);
                free(out);
        }
        char **dirs = NULL;
        cr_assert_eq(elfdst_split("::$ORIGIN/x/:rel:/p/$PLATFORM:/usr/$LIB", &d, &dirs), 0);
        cr_assert_str_eq(dirs[0], "/opt/q/bin/x");
        cr_assert_str_eq(dirs[1], "/usr/lib/x86_64-linux-gnu");
        cr_assert_null(dirs[2], "empty, relative and unexpandable elements are dropped");
        elfdeps_strv_free(dirs);
}

Test(elfdeps, the_hosts_ld_so_cache_parses) {
        size_t len = 0;
        char *buf = read_data("/etc/ld.so.cache", &len);
        if (!buf)
                cr_skip_test("no /etc/ld.so.cache");
        LdCache *c = NULL;
        VgError err = { "" };
        cr_assert_eq(ldcache_parse(buf, len, &c, &err), 0, "%s", err.text);
        size_t pos = 0;
        const char *p = ldcache_next(c, "libc.so.6", &pos);
        cr_assert(p && strstr(p, "/libc.so.6"), "%s", p ? p : "(none)");
        for (size_t cut = 0; cut < 64 && cut < len; cut++)
                cr_assert_eq(ldcache_parse(buf, cut, &c, &err) < 0 || (ldcache_free(c), 1), 1);
        ldcache_free(c);
        free(buf);
}

/* The cache's entries of a soname, in file order, whatever the others. */
Test(elfdeps, ld_so_cache_gives_a_sonames_entries_in_file_order) {
        char *cache = path_join(dir, "ld.so.cache");
        fake_cache(cache, (const char *[]) { "liba.so", "libb.so", "liba.so", "libc.so", "liba.so" },
                   (const char *[]) { "/1/liba.so", "/2/libb.so", "/3/liba.so", "/4/libc.so", "/5/liba.so" }, 5);
        size_t len = 0;
        char *buf = read_data(cache, &len);
        LdCache *c = NULL;
        VgError err = { "" };
        cr_assert_eq(ldcache_parse(buf, len, &c, &err), 0, "%s", err.text);
        size_t pos = 0;
        cr_expect_str_eq(ldcache_next(c, "liba.so", &pos), "/1/liba.so");
        cr_expect_str_eq(ldcache_next(c, "liba.so", &pos), "/3/liba.so");
        cr_expect_str_eq(ldcache_next(c, "liba.so", &pos), "/5/liba.so");
        cr_expect_null(ldcache_next(c, "liba.so", &pos));
        cr_expect_null(ldcache_next(c, "liba.so", &pos), "and stays at the end");
        pos = 0;
        cr_expect_str_eq(ldcache_next(c, "libc.so", &pos), "/4/libc.so");
        pos = 0;
        cr_expect_null(ldcache_next(c, "libd.so", &pos));
        cr_expect_null(ldcache_next(NULL, "liba.so", &pos));
        ldcache_free(c);
        free(buf);
        free(cache);
}

/* The string table is read from the first wanted string to a little past
 * the last; a last string longer than that is read with the whole table,
 * and a string not terminated is still an error. */
Test(elfdeps, a_long_last_string_reads_the_whole_table) {
        static char runpath[6001];
        for (size_t i = 0; i < sizeof(runpath) - 1; i += 3)
                memcpy(runpath + i, ":/r", 3);
        runpath[sizeof(runpath) - 1] = '\0';
        FakeBuf f = fake_build(&(Fake) { .needed = { "liba.so" }, .soname = "libme.so", .runpath = runpath + 1 });
        ElfObject o;
        VgError err = { "" };
        cr_assert_eq(parse_buf(&f, &o, &err), 0, "%s", err.text);
        cr_assert_str_eq(o.runpath, runpath + 1);
        cr_assert_str_eq(o.soname, "libme.so");
        cr_assert_eq(o.n_needed, 1);
        cr_assert_str_eq(o.needed[0], "liba.so");
        elfdeps_elf_done(&o);
        free(f.b);
}

/* Resolves that share a memo answer as resolves without one: this
 * machine's programs, which share libc and more. */
Test(elfdeps, a_memo_changes_no_answer) {
        static const char *const programs[] = { "/usr/bin/env", "/usr/bin/ls", "/usr/bin/sqlite3", "/usr/bin/env",
                                                "/usr/bin/python3" };
        ElfdepsMemo *memo = elfdeps_memo_new();
        cr_assert_not_null(memo);
        size_t compared = 0;
        for (size_t i = 0; i < ELEMENTSOF(programs); i++) {
                ElfdepsList *a = NULL, *b = NULL;
                VgError err = { "" };
                if (elfdeps_resolve(programs[i], NULL, &a, &err) < 0)
                        continue;   /* not installed here */
                ElfdepsOptions opt = { .memo = memo };
                cr_assert_eq(elfdeps_resolve(programs[i], &opt, &b, &err), 0, "%s", err.text);
                cr_assert_eq(a->n, b->n, "%s", programs[i]);
                for (size_t k = 0; k < a->n; k++) {
                        const ElfdepsEntry *x = &a->entries[k], *y = &b->entries[k];
                        cr_expect_str_eq(y->name, x->name);
                        cr_expect_str_eq(y->path ? y->path : "-", x->path ? x->path : "-", "%s", x->name);
                        cr_expect_str_eq(y->realpath ? y->realpath : "-", x->realpath ? x->realpath : "-");
                        cr_expect_eq(y->status, x->status, "%s", x->name);
                        cr_expect_eq(y->source, x->source, "%s", x->name);
                        cr_expect_eq(y->needed_by, x->needed_by, "%s", x->name);
                        compared++;
                }
                elfdeps_list_free(a);
                elfdeps_list_free(b);
        }
        cr_expect_gt(compared, 2);
        elfdeps_memo_free(memo);
        cr_expect_null(elfdeps_memo_free(NULL));
}
