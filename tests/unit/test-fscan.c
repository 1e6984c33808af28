/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/host/fscan.h"

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

static FscanList *scan(unsigned attrs, const FscanOptions *opt) {
        FscanRoot root = { dir, true, attrs, "t" };
        FscanList *l = NULL;
        VgError err = { "" };
        cr_assert_eq(fscan_scan(&root, 1, opt, &l, &err), 0, "%s", err.text);
        return l;
}

TestSuite(fscan, .init = setup, .fini = teardown);

/* Every kind of file is listed with its type; only regular files are read,
 * so a FIFO never blocks the scan and a device is never opened. */
Test(fscan, types_and_content) {
        put("abc", "abc");
        cr_assert_eq(mkdir(at("sub"), 0750), 0);
        put("sub/empty", "");
        cr_assert_eq(symlink("abc", at("link")), 0);
        cr_assert_eq(mkfifo(at("fifo"), 0600), 0);
        cr_assert_eq(mknod(at("null"), S_IFCHR | 0600, makedev(1, 3)), 0);
        _cleanup_(fscan_list_freep) FscanList *l = scan(FSCAN_ALL, NULL);
        cr_assert_eq(l->n, 7);   /* the root, abc, sub, sub/empty, link, fifo, null */
        const FscanFile *f = fscan_find(l, at("abc"));
        cr_assert(f);
        cr_expect_eq(f->type, 'f');
        cr_expect_eq(f->size, 3);
        cr_expect_str_eq(f->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        cr_expect_str_eq(fscan_find(l, at("sub/empty"))->sha256,
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        f = fscan_find(l, at("link"));
        cr_expect_eq(f->type, 'l');
        cr_expect_str_eq(f->target, "abc");
        cr_expect_str_eq(f->sha256, "");
        cr_expect_eq(fscan_find(l, at("fifo"))->type, 'p');
        cr_expect_eq(fscan_find(l, at("null"))->type, 'c');
        cr_expect_str_eq(fscan_find(l, at("null"))->sha256, "");
        cr_expect_eq(fscan_find(l, at("sub"))->mode, 0750);
        cr_expect_eq(l->n_hashed, 2);
        cr_expect_eq(l->n_errors, 0);
        for (size_t i = 1; i < l->n; i++)
                cr_expect_lt(strcmp(l->files[i - 1].path, l->files[i].path), 0, "sorted and unique");
}

/* Names are bytes: a newline or a byte that is not UTF-8 is kept as is. */
Test(fscan, hostile_names) {
        put("new\nline", "x");
        put("bad\xff\xfe", "y");
        _cleanup_(fscan_list_freep) FscanList *l = scan(FSCAN_ALL, NULL);
        cr_expect(fscan_find(l, at("new\nline")));
        cr_expect(fscan_find(l, at("bad\xff\xfe")));
}

/* An excluded path is skipped with all beneath it, and a path under two
 * roots takes the first root's rule. */
Test(fscan, exclude_and_first_rule) {
        cr_assert_eq(mkdir(at("skip"), 0755), 0);
        put("skip/x", "x");
        put("skipnot", "y");
        put("nvram", "guest writes this");
        FscanRoot roots[] = { { at("nvram"), false, FSCAN_OWNER_ONLY, "nvram" }, { dir, true, FSCAN_ALL, "all" } };
        const char *exclude[] = { at("skip"), NULL };
        FscanOptions opt = { .exclude = exclude };
        FscanList *l = NULL;
        cr_assert_eq(fscan_scan(roots, 2, &opt, &l, NULL), 0);
        cr_expect_null(fscan_find(l, at("skip")));
        cr_expect_null(fscan_find(l, at("skip/x")));
        cr_expect(fscan_find(l, at("skipnot")));
        const FscanFile *nv = fscan_find(l, at("nvram"));
        cr_assert(nv);
        cr_expect_eq(nv->attrs, FSCAN_OWNER_ONLY);
        cr_expect_str_eq(nv->tag, "nvram");
        cr_expect_str_eq(fscan_find(l, at("skipnot"))->tag, "all");
        cr_expect_eq(l->n_tags, 2);
        cr_expect_str_eq(nv->sha256, "", "an owner-only file is never read");
        fscan_list_free(l);
}

/* Two paths of one inode (a hard link; a library under /lib and /usr/lib
 * on a merged /usr): both carry its hash, read once. If it changed after
 * the walk saw the second path, that path is read itself, so that its hash
 * and its stat belong together. */
Test(fscan, one_inode_two_paths) {
        put("a", "abc");
        cr_assert_eq(link(at("a"), at("b")), 0);
        _cleanup_(fscan_list_freep) FscanList *l = scan(FSCAN_ALL, NULL);
        const FscanFile *a = fscan_find(l, at("a")), *b = fscan_find(l, at("b"));
        cr_expect_str_eq(a->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        cr_expect_str_eq(b->sha256, a->sha256);
        cr_expect_eq(l->n_hashed, 2);
        cr_expect_eq(l->bytes_hashed, 3, "read once");

        FscanRoot root = { dir, true, FSCAN_ALL, "t" };
        _cleanup_(fscan_list_freep) FscanList *w = NULL;
        cr_assert_eq(fscan_walk(&root, 1, NULL, &w, NULL), 0);
        put("a", "abcd");   /* the inode's content, after the walk */
        cr_assert_eq(fscan_measure(w, NULL, NULL), 0);
        a = fscan_find(w, at("a"));
        b = fscan_find(w, at("b"));
        cr_expect_str_eq(a->sha256, "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
        cr_expect_str_eq(b->sha256, a->sha256);
        cr_expect_eq(b->size, 4, "the stat of what was read");
        cr_expect_eq(b->mtime_ns, a->mtime_ns);
        cr_expect_eq(w->n_errors, 0);
}

/* A root named again adds nothing (its path keeps the first root's rule),
 * unless it descends further than the roots of that path before it. */
Test(fscan, a_root_named_twice) {
        cr_assert_eq(mkdir(at("d"), 0755), 0);
        put("d/x", "x");
        put("f", "f");
        char f[4200], d[4200];
        snprintf(f, sizeof(f), "%s", at("f"));
        snprintf(d, sizeof(d), "%s", at("d"));
        FscanRoot roots[] = { { f, false, FSCAN_OWNER_ONLY, "first" }, { d, false, FSCAN_ALL, "first" },
                              { f, false, FSCAN_ALL, "again" }, { d, true, FSCAN_ALL, "deeper" },
                              { d, true, FSCAN_ALL, "again" } };
        FscanList *l = NULL;
        cr_assert_eq(fscan_scan(roots, ELEMENTSOF(roots), NULL, &l, NULL), 0);
        cr_expect_eq(l->n, 3);
        cr_expect_str_eq(fscan_find(l, f)->tag, "first");
        cr_expect_eq(fscan_find(l, f)->attrs, FSCAN_OWNER_ONLY);
        cr_expect_str_eq(fscan_find(l, d)->tag, "first");
        cr_assert(fscan_find(l, at("d/x")));
        cr_expect_str_eq(fscan_find(l, at("d/x"))->tag, "deeper");
        fscan_list_free(l);
}

/* A root that does not exist is absent, not an error: a removed file is
 * drift, which the comparison finds. */
Test(fscan, missing_root) {
        FscanRoot root = { at("nothing-here"), true, FSCAN_ALL, NULL };
        FscanList *l = NULL;
        cr_assert_eq(fscan_scan(&root, 1, NULL, &l, NULL), 0);
        cr_expect_eq(l->n, 0);
        cr_expect_eq(l->n_errors, 0);
        fscan_list_free(l);
}

static const FscanFile *same_as(const FscanFile *cur, void *u) {
        const FscanFile *old = fscan_find(u, cur->path);
        unsigned stat_attrs = FSCAN_TYPE | FSCAN_SIZE | FSCAN_INODE | FSCAN_MTIME | FSCAN_CTIME;
        return old && !fscan_diff(old, cur, stat_attrs) ? old : NULL;
}

/* What stat shows unchanged is not read again; a changed file is. */
Test(fscan, previous_skips_unchanged) {
        put("a", "one");
        put("b", "two");
        _cleanup_(fscan_list_freep) FscanList *first = scan(FSCAN_ALL, NULL);
        cr_assert_eq(first->n_hashed, 2);
        put("b", "TWO, longer");
        FscanOptions opt = { .previous = same_as, .userdata = first };
        _cleanup_(fscan_list_freep) FscanList *second = scan(FSCAN_ALL, &opt);
        cr_expect_eq(second->n_hashed, 1);
        cr_expect_str_eq(fscan_find(second, at("a"))->sha256, fscan_find(first, at("a"))->sha256);
        unsigned d = fscan_diff(fscan_find(first, at("b")), fscan_find(second, at("b")), FSCAN_ALL);
        cr_expect(d & FSCAN_SHA256);
        cr_expect(d & FSCAN_SIZE);
        cr_expect_not(d & FSCAN_MODE);
        cr_expect_str_eq(fscan_attr_name(FSCAN_SHA256), "sha256");

        /* Attributes are taken over with the hash when stat shows no
         * change (the first scan's, planted here, come back as they are);
         * a changed security.* attribute changes the ctime and is read. */
        FscanFile *fa = (FscanFile *) fscan_find(first, at("a"));
        fa->xattrs = strdup("security.planted=00\n");
        static const unsigned char cap[20] = { 0x01, 0x00, 0x00, 0x02 };
        cr_assert_eq(setxattr(at("b"), "security.capability", cap, sizeof(cap), 0), 0);
        _cleanup_(fscan_list_freep) FscanList *third = scan(FSCAN_ALL, &opt);
        cr_expect_str_eq(fscan_find(third, at("a"))->xattrs, "security.planted=00\n");
        cr_assert(fscan_find(third, at("b"))->xattrs);
        cr_expect(strstr(fscan_find(third, at("b"))->xattrs, "security.capability="));
}

/* A change of mode alone, and of security.* attributes alone, is drift. */
Test(fscan, mode_and_xattrs) {
        put("bin", "#!/bin/sh\n");
        _cleanup_(fscan_list_freep) FscanList *a = scan(FSCAN_ALL, NULL);
        cr_assert_eq(chmod(at("bin"), 04755), 0);
        /* A file capability: what makes a binary privileged without
         * setuid. Root may set any security.* attribute on ext4 and tmpfs. */
        static const unsigned char cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };
        int xr = setxattr(at("bin"), "security.capability", cap, sizeof(cap), 0);
        cr_assert_eq(xr, 0, "setxattr: %s", strerror(errno));
        _cleanup_(fscan_list_freep) FscanList *b = scan(FSCAN_ALL, NULL);
        const FscanFile *after = fscan_find(b, at("bin"));
        cr_expect_eq(after->mode, 04755);
        cr_assert(after->xattrs);
        cr_expect(strstr(after->xattrs, "security.capability=01000002"));
        unsigned d = fscan_diff(fscan_find(a, at("bin")), after, FSCAN_ALL);
        cr_expect(d & FSCAN_MODE);
        cr_expect(d & FSCAN_XATTRS);
        cr_expect_not(d & FSCAN_SHA256);
        cr_expect_eq(fscan_diff(fscan_find(a, at("bin")), after, FSCAN_SHA256), 0, "the mask");
}

/* One thread or many: the same result. */
Test(fscan, threads_agree) {
        for (int i = 0; i < 200; i++) {
                char name[32], text[64];
                snprintf(name, sizeof(name), "f%03d", i);
                snprintf(text, sizeof(text), "content %d", i * 7919);
                put(name, text);
        }
        FscanOptions one = { .threads = 1 }, many = { .threads = 8 };
        _cleanup_(fscan_list_freep) FscanList *a = scan(FSCAN_ALL, &one);
        _cleanup_(fscan_list_freep) FscanList *b = scan(FSCAN_ALL, &many);
        cr_assert_eq(a->n, b->n);
        for (size_t i = 0; i < a->n; i++)
                cr_expect_str_eq(a->files[i].sha256, b->files[i].sha256);
        cr_expect_eq(b->n_hashed, 200);
}
