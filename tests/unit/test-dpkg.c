/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's database: fixtures under tests/data/dpkg/<case>/ (an admindir
 * with its dpkg.log), the hostile ones, and this machine's own dpkg. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/host/dpkg-priv.h"
#include "test-helpers.h"
#include "virtgov/host/dpkg.h"

#define CASE_DIR TEST_DATA_DIR "/dpkg/"

/* dpkg logs local time; the fixtures' times are read as UTC. */
static void utc(void) {
        setenv("TZ", "UTC", 1);
        tzset();
}

static Dpkg *open_case(const char *name) {
        char admin[4096], log[4096];
        snprintf(admin, sizeof(admin), CASE_DIR "%s", name);
        snprintf(log, sizeof(log), CASE_DIR "%s/dpkg.log", name);
        Dpkg *d = NULL;
        VgError err = { "" };
        cr_assert_eq(dpkg_open(admin, log, &d, &err), 0, "%s", err.text);
        return d;
}

static DpkgFile owner(Dpkg *d, const char *path) {
        DpkgFile f;
        VgError err = { "" };
        cr_assert_eq(dpkg_owner(d, path, &f, &err), 0, "%s", err.text);
        return f;
}

static int64_t utc_us(int y, int mo, int da, int h, int mi, int s) {
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = da, .tm_hour = h, .tm_min = mi, .tm_sec = s };
        return (int64_t) timegm(&tm) * 1000000;
}

TestSuite(dpkg, .init = utc);

Test(dpkg, status_packages_and_names) {
        Dpkg *d = open_case("basic");
        DpkgStats st;
        dpkg_stats(d, &st);
        cr_assert_eq(st.n_packages, 5, "not-installed stanzas are left out");
        cr_assert_eq(st.n_diversions, 2);
        cr_assert_eq(st.n_skipped, 0, "%s", st.first_skipped);
        DpkgFile f = owner(d, "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
        cr_assert_str_eq(f.package, "libfoo1:amd64", "Multi-Arch: same: info/libfoo1:amd64.list");
        cr_assert_str_eq(f.version, "1.2-3");
        cr_assert_str_eq(f.state, "installed");
        cr_assert(f.has_md5);
        cr_assert_str_eq(f.md5, "7f56cc8ba99c4a7418502fe074317b43");
        cr_assert_not(f.conffile);
        f = owner(d, "/nonexistent");
        cr_assert_null(f.package);
        cr_assert_not(f.diverted);
        dpkg_free(d);
}

Test(dpkg, conffiles_and_flags) {
        Dpkg *d = open_case("basic");
        DpkgFile f = owner(d, "/etc/conf-pkg/main.conf");
        cr_assert_str_eq(f.package, "conf-pkg:all");
        cr_assert(f.conffile);
        cr_assert_str_eq(f.conffile_md5, "e7ad02f1f111c00c7c748a7154afb6dc");
        cr_assert_eq(f.conffile_flags, 0);
        cr_assert_not(f.has_md5, "md5sums leaves conffiles out");
        cr_assert_eq(owner(d, "/etc/conf-pkg/old.conf").conffile_flags, DPKG_CONFFILE_OBSOLETE);
        cr_assert_eq(owner(d, "/etc/conf-pkg/gone.conf").conffile_flags, DPKG_CONFFILE_REMOVE_ON_UPGRADE);
        f = owner(d, "/etc/conf-pkg/with space.conf");
        cr_assert_str_eq(f.conffile_md5, "00112233445566778899aabbccddeeff", "a path with a space");
        f = owner(d, "/etc/conf-pkg/fresh.conf");
        cr_assert(f.conffile);
        cr_assert_str_eq(f.conffile_md5, "", "newconffile");
        f = owner(d, "/etc/leftover.conf");
        cr_assert_str_eq(f.package, "leftover:amd64", "a config-files package has only its conffiles");
        cr_assert_str_eq(f.state, "config-files");
        dpkg_free(d);
}

Test(dpkg, shared_paths) {
        Dpkg *d = open_case("basic");
        DpkgFile f = owner(d, "/usr/share/doc/hello/README");
        cr_assert_eq(f.n_owners, 2);
        cr_assert_str_eq(f.package, "hello:amd64", "the owner with an MD5 wins");
        f = owner(d, "/usr/share");
        cr_assert_eq(f.n_owners, 2);
        cr_assert_str_eq(f.package, "hello:amd64", "then the first in the status file");
        dpkg_free(d);
}

Test(dpkg, usrmerge_alias_both_ways) {
        Dpkg *d = open_case("basic");
        DpkgFile f = owner(d, "/lib/x86_64-linux-gnu/libfoo.so.1");
        cr_assert_str_eq(f.package, "libfoo1:amd64");
        cr_assert_str_eq(f.listed_path, "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
        f = owner(d, "/usr/bin/hello-legacy");
        cr_assert_str_eq(f.package, "hello:amd64");
        cr_assert_str_eq(f.listed_path, "/bin/hello-legacy");
        cr_assert_str_eq(owner(d, "/bin/hello-legacy").listed_path, "/bin/hello-legacy");
        dpkg_set_usrmerge(d, false);
        cr_assert_null(owner(d, "/usr/bin/hello-legacy").package);
        dpkg_free(d);
}

Test(dpkg, diversions) {
        Dpkg *d = open_case("basic");
        DpkgFile f = owner(d, "/usr/bin/hello");
        cr_assert(f.diverted);
        cr_assert_str_eq(f.package, "divert-pkg:all", "the diverter's own copy stays at the path");
        cr_assert_str_eq(f.diverted_to, "/usr/bin/hello.real");
        cr_assert_str_eq(f.diverted_by, "divert-pkg");
        f = owner(d, "/usr/bin/hello.real");
        cr_assert_str_eq(f.package, "hello:amd64", "the diverted package's file moved here");
        cr_assert_str_eq(f.diverted_from, "/usr/bin/hello");
        cr_assert_str_eq(f.listed_path, "/usr/bin/hello");
        cr_assert_str_eq(f.md5, "eeb0146b2ba5d6113c5f0f7e468747c8");
        f = owner(d, "/usr/bin/conf-tool");
        cr_assert(f.diverted);
        cr_assert_null(f.package, "a local diversion: the admin's file");
        cr_assert_str_eq(f.diverted_by, ":");
        cr_assert_str_eq(owner(d, "/usr/bin/conf-tool.orig").package, "conf-pkg:all");
        dpkg_free(d);
}

Test(dpkg, log_last_change_across_rotations) {
        Dpkg *d = open_case("basic");
        DpkgChange c;
        VgError err = { "" };
        cr_assert_eq(dpkg_last_change(d, "hello:amd64", &c, &err), 0, "%s", err.text);
        cr_assert_eq(c.action, DPKG_ACTION_UPGRADE);
        cr_assert_str_eq(c.old_version, "1.1-1");
        cr_assert_str_eq(c.new_version, "2.0-1");
        cr_assert_eq(c.time_us, utc_us(2026, 11, 30, 3, 30, 12));
        cr_assert_eq(c.last_time_us, utc_us(2026, 11, 30, 3, 30, 14), "configure counts");
        cr_assert_eq(dpkg_last_change(d, "libfoo1:amd64", &c, &err), 0);
        cr_assert_eq(c.action, DPKG_ACTION_INSTALL, "from dpkg.log.2.gz");
        cr_assert_str_eq(c.old_version, "");
        cr_assert_eq(c.last_time_us, utc_us(2026, 1, 1, 10, 0, 0), "a trigger run changes no file");
        cr_assert_eq(dpkg_last_change(d, "conf-pkg:all", &c, &err), 0);
        cr_assert_eq(c.last_time_us, utc_us(2026, 6, 1, 12, 0, 3), "from dpkg.log.1");
        cr_assert_eq(dpkg_last_change(d, "leftover:amd64", &c, &err), 0);
        cr_assert_eq(c.action, DPKG_ACTION_REMOVE);
        cr_assert_str_eq(c.new_version, "");
        cr_assert_eq(dpkg_last_change(d, "hello", &c, &err), -ENOENT, "the log qualifies names");
        cr_assert_eq(dpkg_last_change(d, "never:amd64", &c, &err), -ENOENT);
        DpkgStats st;
        dpkg_stats(d, &st);
        cr_assert_eq(st.n_log_lines, 18);
        cr_assert_eq(st.n_skipped, 0, "%s", st.first_skipped);
        dpkg_free(d);
}

Test(dpkg, missing_status_is_an_error_naming_it) {
        Dpkg *d = NULL;
        VgError err = { "" };
        cr_assert_eq(dpkg_open(CASE_DIR "no-status", NULL, &d, &err), -ENOENT);
        cr_assert_null(d);
        cr_assert(strstr(err.text, "no-status/status"), "%s", err.text);
}

Test(dpkg, missing_logs_are_no_error) {
        Dpkg *d = NULL;
        VgError err = { "" };
        cr_assert_eq(dpkg_open(CASE_DIR "basic", "/nonexistent/dpkg.log", &d, &err), 0);
        DpkgChange c;
        cr_assert_eq(dpkg_last_change(d, "hello:amd64", &c, &err), -ENOENT);
        dpkg_free(d);
}

Test(dpkg, hostile_status_skips_with_a_count) {
        Dpkg *d = open_case("hostile");
        DpkgStats st;
        dpkg_stats(d, &st);
        cr_assert_eq(st.n_packages, 3, "ok1 (CRLF), ok2, last (no final newline)");
        cr_assert_eq(st.n_diversions, 1);
        cr_assert_eq(st.n_skipped, 14, "%zu", st.n_skipped);
        cr_assert(strstr(st.first_skipped, "hostile/status:8: a continuation line outside a stanza"), "%s",
                  st.first_skipped);
        DpkgFile f = owner(d, "/etc/ok2.conf");
        cr_assert_str_eq(f.package, "ok2:all");
        cr_assert(f.conffile);
        cr_assert_null(owner(d, "/etc/bad.conf").package);
        cr_assert_str_eq(owner(d, "/usr/bin/ok1").version, "1", "the first stanza of a package is kept");
        dpkg_free(d);
}

Test(dpkg, hostile_info_files) {
        Dpkg *d = open_case("hostile");
        DpkgFile f = owner(d, "/usr/bin/ok1");
        cr_assert_str_eq(f.md5, "4bb916da5a7ea9b96d7626fb84d59ab7");
        cr_assert(f.has_md5, "a CRLF md5sums line");
        cr_assert_str_eq(owner(d, "/usr/share/caf\xe9-\xff").package, "ok1:amd64", "bytes that are not UTF-8");
        cr_assert(owner(d, "/usr/bin/no-newline-at-eof").has_md5);
        cr_assert_null(owner(d, "/usr/bin/nul").package);
        cr_assert_null(owner(d, "/usr/bin/not-in-list").package);
        DpkgStats st;
        dpkg_stats(d, &st);
        /* 14 from status and diversions; 2 in ok1.list, 3 in ok1.md5sums,
         * and the missing info/last.list */
        cr_assert_eq(st.n_skipped, 14 + 6, "%zu", st.n_skipped);
        dpkg_free(d);
}

Test(dpkg, hostile_log_lines) {
        Dpkg *d = open_case("hostile");
        DpkgChange c;
        cr_assert_eq(dpkg_last_change(d, "ok1:amd64", &c, NULL), 0);
        cr_assert_eq(c.action, DPKG_ACTION_INSTALL);
        cr_assert_str_eq(c.new_version, "1", "a CRLF line");
        cr_assert_eq(c.last_time_us, utc_us(2026, 11, 30, 3, 30, 13), "a last line without newline");
        DpkgStats st;
        dpkg_stats(d, &st);
        cr_assert_eq(st.n_log_lines, 2);
        cr_assert_eq(st.n_skipped, 14 + 7, "%zu", st.n_skipped);
        dpkg_free(d);
}

Test(dpkg, huge_field) {
        size_t big = 32 << 20;
        char *buf = malloc(big + 256);
        int n = sprintf(buf, "Package: big\nStatus: install ok installed\nArchitecture: amd64\nVersion: ");
        memset(buf + n, '1', big);
        strcpy(buf + n + big, "\nDescription: x\n");
        Dpkg *d;
        cr_assert_eq(dpkg_new("/nonexistent", NULL, &d), 0);
        cr_assert_eq(dpkg_parse_status(d, buf, strlen(buf), "status"), 0);
        DpkgStats st;
        dpkg_stats(d, &st);
        cr_assert_eq(st.n_packages, 0, "a 32 MiB version is no version");
        cr_assert_eq(st.n_skipped, 1);
        dpkg_free(d);
        free(buf);
}

Test(dpkg, log_line_parser) {
        DpkgLogLine l;
        const char *ok = "2026-11-30 03:30:12 status installed libc6:amd64 2.36-9";
        cr_assert_eq(dpkg_log_parse_line(ok, strlen(ok), &l), 0);
        cr_assert_eq(l.action, DPKG_ACTION_STATUS);
        cr_assert_str_eq(l.state, "installed");
        cr_assert_str_eq(l.package, "libc6:amd64");
        cr_assert_str_eq(l.new_version, "2.36-9");
        const char *bad[] = {
                "", "2026-11-30 03:30:12", "2026-11-30 03:30:12 ", "2026-11-30T03:30:12 install a:b <none> 1",
                "2026-11-30 25:30:12 install a:b <none> 1", "2026-11-30 03:30:12 install a:b <none>",
                "2026-11-30 03:30:12 startup", "2026-11-30 03:30:12 purge <none> <none> <none>",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(dpkg_log_parse_line(bad[i], strlen(bad[i]), &l), -EINVAL, "%s", bad[i]);
}

/* ---- MD5 ---- */

Test(dpkg, md5_regular_file) {
        char *dir = scratch_new(), *p = path_join(dir, "f"), hex[33];
        write_text(p, "hello\n");
        cr_assert_eq(dpkg_md5_file(p, hex, NULL), 0);
        cr_assert_str_eq(hex, "b1946ac92492d2347c6235b4d2611184");
        free(p);
        scratch_remove(dir);
}

Test(dpkg, md5_never_opens_links_fifos_devices) {
        char *dir = scratch_new(), *target = path_join(dir, "f"), *link = path_join(dir, "l");
        char *fifo = path_join(dir, "fifo"), hex[33];
        write_text(target, "x");
        cr_assert_eq(symlink(target, link), 0);
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        VgError err = { "" };
        cr_assert_eq(dpkg_md5_file(link, hex, &err), -ELOOP);
        cr_assert(strstr(err.text, "symbolic link"), "%s", err.text);
        cr_assert_eq(dpkg_md5_file(fifo, hex, &err), -EBADFD, "and no hang: a FIFO is never opened");
        cr_assert_eq(dpkg_md5_file("/dev/null", hex, &err), -EBADFD);
        cr_assert_eq(dpkg_md5_file(dir, hex, &err), -EBADFD);
        cr_assert_eq(dpkg_md5_file("/nonexistent/x", hex, &err), -ENOENT);
        free(target); free(link); free(fifo);
        scratch_remove(dir);
}

/* ---- classification ---- */

static const DpkgChange upgraded = {
        .action = DPKG_ACTION_UPGRADE, .time_us = 2000, .old_version = "1.0", .new_version = "2.0", .last_time_us = 2100,
};

static const DpkgFile plain = { .package = "hello:amd64", .version = "2.0", .has_md5 = true,
                                .md5 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
static const DpkgFile conf = { .package = "conf-pkg:all", .version = "5", .conffile = true,
                               .conffile_md5 = "cccccccccccccccccccccccccccccccc" };
static const DpkgFile conf_new = { .package = "conf-pkg:all", .version = "5", .conffile = true };
static const DpkgFile nomd5 = { .package = "hello:amd64", .version = "2.0" };
static const DpkgFile unowned = { 0 };

#define A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define C32 "cccccccccccccccccccccccccccccccc"
#define E32 "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

Test(dpkg, classify_rules) {
        static const struct {
                const DpkgFile *file;
                const DpkgChange *change;
                int64_t baseline;
                const char *current;
                DpkgVerdict want;
        } cases[] = {
                { &plain, &upgraded, 1000, A32, DPKG_VERDICT_PACKAGE_UPDATE },
                { &plain, &upgraded, 1000, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", DPKG_VERDICT_PACKAGE_UPDATE },
                { &plain, &upgraded, 2050, A32, DPKG_VERDICT_PACKAGE_UPDATE },  /* configure after it */
                { &plain, &upgraded, 3000, A32, DPKG_VERDICT_UNEXPLAINED },     /* no change since */
                { &plain, NULL, 1000, A32, DPKG_VERDICT_UNEXPLAINED },          /* none logged */
                { &plain, &upgraded, 1000, E32, DPKG_VERDICT_UNEXPLAINED },     /* not the package's */
                { &plain, &upgraded, 1000, NULL, DPKG_VERDICT_UNEXPLAINED },    /* gone */
                { &nomd5, &upgraded, 1000, A32, DPKG_VERDICT_UNEXPLAINED },
                { &unowned, &upgraded, 1000, A32, DPKG_VERDICT_UNEXPLAINED },
                { NULL, NULL, 1000, A32, DPKG_VERDICT_UNEXPLAINED },
                { &conf, &upgraded, 1000, C32, DPKG_VERDICT_PACKAGE_UPDATE },   /* new maintainer version */
                { &conf, &upgraded, 1000, E32, DPKG_VERDICT_CONFFILE_EDIT },    /* kept the admin's */
                { &conf, NULL, 1000, E32, DPKG_VERDICT_CONFFILE_EDIT },
                { &conf, NULL, 1000, NULL, DPKG_VERDICT_CONFFILE_EDIT },        /* deleted */
                { &conf, NULL, 1000, C32, DPKG_VERDICT_UNEXPLAINED },           /* put back by hand */
                { &conf_new, &upgraded, 1000, E32, DPKG_VERDICT_UNEXPLAINED },  /* newconffile */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                DpkgFacts facts = { .path = "/x", .baseline_time_us = cases[i].baseline, .current_md5 = cases[i].current,
                                    .file = cases[i].file, .change = cases[i].change };
                DpkgClassification c;
                dpkg_classify(&facts, &c);
                cr_assert_eq(c.verdict, cases[i].want, "case %zu: %s (%s)", i, dpkg_verdict_to_string(c.verdict), c.reason);
                cr_assert_not_null(c.reason);
                if (c.verdict == DPKG_VERDICT_PACKAGE_UPDATE) {
                        cr_assert_str_eq(c.package, cases[i].file->package);
                        cr_assert_str_eq(c.old_version, "1.0");
                        cr_assert_str_eq(c.new_version, "2.0");
                }
        }
}

Test(dpkg, names) {
        cr_assert_str_eq(dpkg_verdict_to_string(DPKG_VERDICT_PACKAGE_UPDATE), "package_update");
        cr_assert_str_eq(dpkg_verdict_to_string(DPKG_VERDICT_CONFFILE_EDIT), "conffile_edit");
        cr_assert_str_eq(dpkg_action_to_string(DPKG_ACTION_TRIGPROC), "trigproc");
        cr_assert_null(dpkg_verdict_to_string((DpkgVerdict) 99));
}

/* ---- this machine's dpkg ---- */

static char *run(const char *cmd) {
        FILE *p = popen(cmd, "re");
        cr_assert_not_null(p);
        char buf[4096] = "";
        size_t n = fread(buf, 1, sizeof(buf) - 1, p);
        buf[n] = '\0';
        pclose(p);
        buf[strcspn(buf, "\n")] = '\0';
        return strdup(buf);
}

Test(dpkg, this_machine) {
        if (access(DPKG_DEFAULT_ADMINDIR "/status", R_OK) < 0)
                cr_skip_test("no dpkg database here");
        Dpkg *d;
        VgError err = { "" };
        cr_assert_eq(dpkg_open(NULL, NULL, &d, &err), 0, "%s", err.text);
        DpkgFile f = owner(d, "/usr/bin/dpkg");
        cr_assert_str_eq(f.package, "dpkg:amd64");
        char hex[33];
        cr_assert_eq(dpkg_md5_file("/usr/bin/dpkg", hex, &err), 0, "%s", err.text);
        cr_assert_str_eq(hex, f.md5);
        char *sum = run("md5sum /usr/bin/dpkg");
        cr_assert(!strncmp(sum, hex, 32), "md5sum says %s", sum);
        free(sum);
        /* merged /usr: libc is listed as /lib/..., found as /usr/lib/... */
        cr_assert_not_null(owner(d, "/usr/lib/x86_64-linux-gnu/libc.so.6").package);
        if (access("/etc/libvirt/qemu.conf", F_OK) == 0) {
                char *who = run("dpkg-query -S /etc/libvirt/qemu.conf 2>/dev/null | cut -d: -f1");
                f = owner(d, "/etc/libvirt/qemu.conf");
                cr_assert(f.conffile);
                cr_assert(!strncmp(f.package, who, strlen(who)) && f.package[strlen(who)] == ':',
                          "%s vs dpkg-query's %s", f.package, who);
                free(who);
        }
        DpkgStats st;
        dpkg_stats(d, &st);
        cr_log_info("this machine: %zu packages, %zu paths, %zu MD5s, index %.1f ms, %zu KiB, %zu skipped%s%s",
                    st.n_packages, st.n_paths, st.n_md5s, st.index_load_us / 1000.0, st.index_bytes / 1024,
                    st.n_skipped, st.n_skipped ? ": first " : "", st.first_skipped);
        dpkg_free(d);
}

/* A restricted index answers the same for the paths it was given (their
 * merged-/usr alias and diversions included), nothing for the rest, and
 * holds a small fraction of the whole index. */
Test(dpkg, restricted_index_answers_the_same) {
        static const char *const paths[] = { "/usr/lib/x86_64-linux-gnu/libfoo.so.1", "/etc/conf-pkg/main.conf",
                                             "/usr/bin/hello-legacy", "/usr/bin/hello.real",
                                             "/usr/share/doc/hello/README" };
        Dpkg *all = open_case("basic"), *some = open_case("basic");
        cr_assert_eq(dpkg_restrict(some, paths, sizeof(paths) / sizeof(paths[0])), 0);
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                DpkgFile a = owner(all, paths[i]), b = owner(some, paths[i]);
                cr_expect_str_eq(b.package ? b.package : "-", a.package ? a.package : "-", "%s", paths[i]);
                cr_expect_str_eq(b.md5, a.md5, "%s", paths[i]);
                cr_expect_eq(b.conffile, a.conffile, "%s", paths[i]);
                cr_expect_str_eq(b.conffile_md5, a.conffile_md5, "%s", paths[i]);
                cr_expect_eq(b.diverted, a.diverted, "%s", paths[i]);
                cr_expect_eq(b.n_owners, a.n_owners, "%s", paths[i]);
        }
        cr_expect_null(owner(some, "/usr/share").package, "not asked for: not indexed");
        cr_expect_not_null(owner(all, "/usr/share").package);
        DpkgStats sa, ss;
        dpkg_stats(all, &sa);
        dpkg_stats(some, &ss);
        cr_expect_lt(ss.n_paths, sa.n_paths);
        cr_expect_eq(ss.n_skipped, sa.n_skipped, "nothing left out is counted as skipped");
        cr_expect_eq(dpkg_restrict(some, paths, 1), -EBUSY);
        dpkg_free(all);
        dpkg_free(some);
}

/* The restricted index reads the info files a block at a time: answers
 * the same as the whole index for paths at the start, across the block
 * boundaries, after a line longer than a block and on a last line without
 * a newline. */
Test(dpkg, restricted_index_reads_large_info_files_the_same) {
        char admin[] = "/tmp/vg-dpkg-big.XXXXXX";
        cr_assert_not_null(mkdtemp(admin));
        char path[200], info[100];
        snprintf(info, sizeof(info), "%s/info", admin);
        cr_assert_eq(mkdir(info, 0755), 0);
        snprintf(path, sizeof(path), "%s/status", admin);
        FILE *f = fopen(path, "w");
        fputs("Package: big\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/big.list", info);
        FILE *list = fopen(path, "w");
        snprintf(path, sizeof(path), "%s/big.md5sums", info);
        FILE *sums = fopen(path, "w");
        enum { N = 20000 };
        for (int i = 0; i < N; i++) {
                if (i == N / 2) {   /* a line of 200 KiB: no path, skipped */
                        for (int k = 0; k < 200 * 1024; k++)
                                fputc('x', list);
                        fputc('\n', list);
                }
                fprintf(list, "/usr/share/big/file-%05d%s", i, i == N - 1 ? "" : "\n");
                fprintf(sums, "%032x  usr/share/big/file-%05d\n", i, i);
        }
        fclose(list);
        fclose(sums);
        char wanted[4][64];
        const char *paths[4];
        const int at[] = { 0, 2730, N / 2 + 1, N - 1 };   /* 24 bytes a line: 2730 crosses 64 KiB */
        for (size_t i = 0; i < 4; i++) {
                snprintf(wanted[i], sizeof(wanted[i]), "/usr/share/big/file-%05d", at[i]);
                paths[i] = wanted[i];
        }
        Dpkg *all = NULL, *some = NULL;
        VgError err = { "" };
        cr_assert_eq(dpkg_open(admin, "/nonexistent", &all, &err), 0, "%s", err.text);
        cr_assert_eq(dpkg_open(admin, "/nonexistent", &some, &err), 0, "%s", err.text);
        cr_assert_eq(dpkg_restrict(some, paths, 4), 0);
        for (size_t i = 0; i < 4; i++) {
                DpkgFile a = owner(all, paths[i]), b = owner(some, paths[i]);
                cr_expect_str_eq(a.package ? a.package : "-", "big:amd64", "%s", paths[i]);
                cr_expect_str_eq(b.package ? b.package : "-", "big:amd64", "%s", paths[i]);
                cr_expect(a.has_md5 && b.has_md5, "%s", paths[i]);
                cr_expect_str_eq(b.md5, a.md5, "%s", paths[i]);
        }
        DpkgStats sa, ss;
        dpkg_stats(all, &sa);
        dpkg_stats(some, &ss);
        cr_expect_eq(ss.n_skipped, sa.n_skipped, "%s / %s", ss.first_skipped, sa.first_skipped);
        dpkg_free(all);
        dpkg_free(some);
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", admin);
        cr_expect_eq(system(cmd), 0);
}
