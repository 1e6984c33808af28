/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vg_write_file, the one way a path a person named is written: a regular
 * file replaced whole, a device or FIFO (or a symlink to one) written
 * through and left in place, the rest refused. Issue 28: `report html
 * --out /dev/stdout` as root replaced the /dev/stdout symlink by a file. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "test-helpers.h"

static char *dir;

static void setup(void) {
        dir = scratch_new();
}

static void teardown(void) {
        scratch_remove(dir);
}

TestSuite(writefile, .init = setup, .fini = teardown);

static mode_t lmode(const char *path) {
        struct stat st;
        cr_assert_eq(lstat(path, &st), 0, "lstat %s", path);
        return st.st_mode & S_IFMT;
}

static char *contents(const char *path) {
        char *buf;
        size_t len;
        cr_assert_eq(vg_read_fd(open(path, O_RDONLY | O_CLOEXEC), 1 << 20, &buf, &len), 0);
        return buf;
}

static int write_hello(const char *path, VgError *err) {
        return vg_write_file(path, "hello\n", 6, 0640, err);
}

Test(writefile, regular_file_is_replaced_whole) {
        const char *path = scratch_path(dir, "out.html"), *old = scratch_path(dir, "old");
        write_text(path, "old\n");
        cr_assert_eq(link(path, old), 0);
        cr_assert_eq(write_hello(path, NULL), 0);
        char *now = contents(path), *before = contents(old);
        cr_expect_str_eq(now, "hello\n");
        cr_expect_str_eq(before, "old\n", "replaced by a rename, not written in place");
        free(now);
        free(before);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        cr_expect_eq(st.st_mode & 07777, 0640);

        const char *fresh = scratch_path(dir, "new.html");
        cr_assert_eq(write_hello(fresh, NULL), 0);
        cr_expect_eq(lmode(fresh), S_IFREG);
}

/* /dev/stdout is a symlink to /proc/self/fd/1: a pipe here. */
Test(writefile, symlink_to_proc_fd_is_written_through) {
        int p[2];
        cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);   /* nothing written: fail, not hang */
        char target[64];
        snprintf(target, sizeof(target), "/proc/self/fd/%d", p[1]);
        const char *link = scratch_path(dir, "stdout");
        cr_assert_eq(symlink(target, link), 0);
        cr_assert_eq(write_hello(link, NULL), 0);
        cr_expect_eq(lmode(link), S_IFLNK, "the symlink stays");
        char buf[16] = "";
        cr_expect_eq(read(p[0], buf, sizeof(buf)), 6);
        cr_expect_str_eq(buf, "hello\n");
        close(p[0]);
        close(p[1]);
}

Test(writefile, fifo_with_a_reader_is_written_through) {
        const char *fifo = scratch_path(dir, "fifo");
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        VgError err = { "" };
        cr_expect_eq(write_hello(fifo, &err), -ENXIO, "no reader: refused at once, not waited for");
        cr_expect(strstr(err.text, "no process reads it"), "%s", err.text);

        int r = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        cr_assert_geq(r, 0);
        cr_assert_eq(write_hello(fifo, &err), 0, "%s", err.text);
        cr_expect_eq(lmode(fifo), S_IFIFO);
        char buf[16] = "";
        cr_expect_eq(read(r, buf, sizeof(buf)), 6);
        cr_expect_str_eq(buf, "hello\n");
        close(r);
}

/* A character device made with mknod (root only): /dev/null's numbers. */
Test(writefile, char_device_is_written_through) {
        if (geteuid() != 0)
                cr_skip_test("mknod needs root");
        const char *null = scratch_path(dir, "null"), *link = scratch_path(dir, "to-null");
        cr_assert_eq(mknod(null, S_IFCHR | 0666, makedev(1, 3)), 0);
        cr_assert_eq(symlink(null, link), 0);
        cr_expect_eq(write_hello(null, NULL), 0);
        cr_expect_eq(write_hello(link, NULL), 0);
        cr_expect_eq(lmode(null), S_IFCHR, "the device node stays");
        cr_expect_eq(lmode(link), S_IFLNK);
}

Test(writefile, the_rest_is_refused) {
        VgError err = { "" };
        const char *sub = scratch_path(dir, "sub"), *file = scratch_path(dir, "file"),
                   *link = scratch_path(dir, "link"), *dlink = scratch_path(dir, "dlink");
        cr_assert_eq(mkdir(sub, 0700), 0);
        write_text(file, "kept\n");
        cr_assert_eq(symlink(file, link), 0);
        cr_assert_eq(symlink(sub, dlink), 0);

        cr_expect_eq(write_hello(sub, &err), -EISDIR);
        cr_expect_eq(write_hello(link, &err), -EEXIST);
        cr_expect(strstr(err.text, "symbolic link to a regular file"), "%s", err.text);
        cr_expect_eq(lmode(link), S_IFLNK);
        char *kept = contents(file);
        cr_expect_str_eq(kept, "kept\n");
        free(kept);
        cr_expect_eq(write_hello(dlink, &err), -EISDIR);   /* open(O_WRONLY) of a directory */
        cr_expect_eq(lmode(dlink), S_IFLNK);
        cr_expect_eq(write_hello(scratch_path(dir, "gone/x"), &err), -ENOENT);
}

/* In two steps: nothing changes at path until the close that keeps it,
 * and a close that does not keep it leaves no temporary file behind. */
Test(writefile, open_and_close_in_two_steps) {
        const char *path = scratch_path(dir, "events.json");
        write_text(path, "old\n");
        VgWrite w;
        cr_assert_eq(vg_write_open(path, 0640, &w, NULL), 0);
        cr_assert_eq(write(w.fd, "half", 4), 4);
        char *now = contents(path);
        cr_expect_str_eq(now, "old\n", "the old file whole while the new one is written");
        free(now);
        cr_assert_eq(vg_write_close(&w, false, NULL), 0);
        now = contents(path);
        cr_expect_str_eq(now, "old\n");
        free(now);
        char cmd[4300];
        snprintf(cmd, sizeof(cmd), "test -z \"$(ls '%s' | grep '\\.tmp\\.')\"", dir);
        cr_expect_eq(system(cmd), 0, "no temporary file left");

        cr_assert_eq(vg_write_open(path, 0640, &w, NULL), 0);
        cr_assert_eq(write(w.fd, "new\n", 4), 4);
        cr_assert_eq(vg_write_close(&w, true, NULL), 0);
        now = contents(path);
        cr_expect_str_eq(now, "new\n");
        free(now);
}
