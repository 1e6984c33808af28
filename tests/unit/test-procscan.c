/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Measuring running processes (procscan.h) and judging them against an
 * inventory's baseline (integrity/proc.h), with real processes: this
 * test's own and children it starts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/integrity/proc.h"

static char *dir;
static pid_t child = -1;

static void setup(void) {
        dir = scratch_new();
}

static void teardown(void) {
        if (child > 0) {
                kill(-child, SIGKILL);   /* the shell and its sleep */
                waitpid(child, NULL, 0);
        }
        child = -1;
        scratch_remove(dir);
}

TestSuite(procscan, .init = setup, .fini = teardown);

Test(procscan, maps_lines) {
        char l1[] = "7f2c1a000000-7f2c1a022000 r-xp 00002000 fe:00 1234567      /usr/lib/x86_64-linux-gnu/libc.so.6";
        char *range, *perms, *path;
        uint64_t ino;
        cr_assert(proc_maps_line(l1, &range, &perms, &ino, &path));
        cr_assert_str_eq(range, "7f2c1a000000-7f2c1a022000");
        cr_assert_str_eq(perms, "r-xp");
        cr_assert_eq(ino, 1234567);
        cr_assert_str_eq(path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
        char l2[] = "7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ";
        cr_assert(proc_maps_line(l2, &range, &perms, &ino, &path));
        cr_assert_null(path);
        /* A path with spaces, a newline the kernel escaped, and deleted. */
        char l3[] = "1000-2000 r--p 00000000 fe:00 42 /opt/a b\\012c (deleted)";
        cr_assert(proc_maps_line(l3, &range, &perms, &ino, &path));
        cr_assert_str_eq(path, "/opt/a b\nc (deleted)");
        char bad1[] = "garbage";
        cr_assert_not(proc_maps_line(bad1, &range, &perms, &ino, &path));
        char bad2[] = "1000-2000 r--p 0 fe:00 x4 /a";
        cr_assert_not(proc_maps_line(bad2, &range, &perms, &ino, &path));
        char bad3[] = "";
        cr_assert_not(proc_maps_line(bad3, &range, &perms, &ino, &path));
}

/* This very process: its executable and its libraries, hashed as mapped,
 * each file once; a second read of the same process hashes nothing. */
Test(procscan, reads_own_process_through_the_cache) {
        /* A start time that is not the process's own: refused. */
        ProcTarget t = { .pid = getpid(), .role = "test" };
        ProcCache *c = proc_cache_new();
        ProcImage img;
        cr_assert_eq(proc_image_read("/proc", &t, c, &img), 0);
        cr_assert_eq(img.error, -ESRCH, "a start time that is not the process's own: another process");
        proc_image_clear(&img);

        _cleanup_free_ char *stat = NULL;
        size_t len;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) getpid());
        cr_assert_eq(vg_read_file(path, 4096, &stat, &len), 0);
        char *p = strrchr(stat, ')');
        for (int field = 2; field < 22; field++)
                p = strchr(p + 1, ' ');
        t.start_ticks = strtoull(p + 1, NULL, 10);

        cr_assert_eq(proc_image_read("/proc", &t, c, &img), 0);
        cr_assert_eq(img.error, 0, "%s", img.error_text ? img.error_text : "");
        cr_assert(img.n_maps >= 2, "the executable and at least libc");
        cr_assert(img.maps[0].exe && img.maps[0].executable);
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        cr_assert_gt(n, 0);
        exe[n] = '\0';
        cr_assert_str_eq(img.maps[0].path, exe);
        FscanFile f;
        cr_assert_eq(fscan_file(exe, FSCAN_ALL, &f), 0);
        cr_assert_str_eq(img.maps[0].sha256, f.sha256, "the mapped executable hashes as the file does");
        fscan_file_clear(&f);
        bool libc = false;
        for (size_t i = 0; i < img.n_maps; i++) {
                cr_assert_eq(img.maps[i].error, 0, "%s: %d", img.maps[i].path, img.maps[i].error);
                cr_assert_eq(strlen(img.maps[i].sha256), 64);
                libc |= strstr(img.maps[i].path, "libc.so") != NULL && img.maps[i].executable;
                for (size_t k = 0; k < i; k++)
                        cr_assert(img.maps[k].ino != img.maps[i].ino || strcmp(img.maps[k].path, img.maps[i].path),
                                  "%s listed twice", img.maps[i].path);
        }
        cr_assert(libc, "libc is mapped executable");
        size_t hashed, hits;
        uint64_t bytes;
        proc_cache_stats(c, &hashed, &hits, &bytes);
        cr_assert_eq(hits, 0);
        size_t first = hashed;
        size_t maps = img.n_maps;
        proc_image_clear(&img);

        cr_assert_eq(proc_image_read("/proc", &t, c, &img), 0);
        proc_cache_stats(c, &hashed, &hits, &bytes);
        cr_assert_eq(hashed, first, "nothing read again: %zu then %zu", first, hashed);
        cr_assert_geq(hits, maps - 1);
        proc_image_clear(&img);
        proc_cache_free(c);
}

/* A pid file found through the run directory: the domain's process when
 * its command line says "-name guest=NAME", never another. */
Test(procscan, finds_a_domain_by_pid_file_and_command_line) {
        child = fork();
        cr_assert_geq(child, 0);
        if (child == 0) {
                setpgid(0, 0);
                execl("/bin/sh", "sh", "-c", "sleep 30; :", "-name", "guest=vm,,a,debug-threads=on", (char *) NULL);
                _exit(127);
        }
        char pid[32];
        snprintf(pid, sizeof(pid), "%d\n", (int) child);
        write_text(scratch_path(dir, "vm,a.pid"), pid);
        write_text(scratch_path(dir, "other.pid"), pid);
        write_text(scratch_path(dir, "junk.pid"), "not a pid");
        ProcTargets t = { 0 };
        for (int i = 0; i < 100 && !t.n; i++) {   /* until the child has exec'd */
                proc_targets_clear(&t);
                cr_assert_eq(proc_targets_find("/proc", dir, NULL, &t, NULL), 0);
                for (size_t k = 0; k < t.n; k++)
                        if (strcmp(t.v[k].role, "qemu")) {   /* a libvirt daemon of the host: not ours */
                                free(t.v[k].role);
                                free(t.v[k].domain);
                                t.v[k--] = t.v[--t.n];
                        }
                if (!t.n)
                        usleep(10000);
        }
        cr_assert_eq(t.n, 1, "the child, once, as the domain 'vm,a' (QEMU doubles a comma)");
        cr_assert_eq(t.v[0].pid, child);
        cr_assert_str_eq(t.v[0].domain, "vm,a");
        cr_assert_gt(t.v[0].start_ticks, 0);
        proc_targets_clear(&t);
        VgError err = { "" };
        cr_assert_eq(proc_targets_find("/proc", scratch_path(dir, "none"), "vm,a", &t, &err), 0,
                     "no run directory: no domain runs");
        cr_assert_eq(t.n, 0);
}
