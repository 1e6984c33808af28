/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hardening assessment. Every check of the table runs against each of
 * its fixtures (tests/data/assess/checks/ID/good*, bad*, error*: each a tree
 * laid out as the host's files are; a good and a bad one at least) through
 * assess_run, the code the real run uses: good* must pass, bad* fail,
 * error* report an error. A fixture may hold virtgov.conf
 * (the configuration), modes ("path octal" lines: git keeps no modes) and
 * now (the time it is judged at, as --since takes it).
 *
 * libvirt's config syntax: tests/data/assess/vconf/{valid,invalid}/CASE/
 * {input, output | error}, read as libvirt reads it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "test-helpers.h"
#include "virtgov/assess/assess.h"
#include "virtgov/util/config.h"

#define CHECKS_DIR TEST_DATA_DIR "/assess/checks"
#define VCONF_DIR TEST_DATA_DIR "/assess/vconf"

/* A copy of a fixture tree in a scratch directory, with its modes. */
static char *fixture_copy(const char *src) {
        char *dir = scratch_new();
        char cmd[8500];
        snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", src, dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        _cleanup_free_ char *modes = read_data(scratch_path(dir, "modes"), NULL);
        for (char *save = NULL, *l = modes ? strtok_r(modes, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
                char path[1024];
                unsigned mode;
                cr_assert_eq(sscanf(l, "%1023s %o", path, &mode), 2, "modes: %s", l);
                cr_assert_eq(chmod(scratch_path(dir, path), mode), 0, "chmod %s", path);
        }
        return dir;
}

/* Runs check id over the fixture tree at src; returns its status and
 * leaves the run in *ret for the message. */
static AssessStatus run_fixture(const char *src, const char *id, AssessRun **ret) {
        char *dir = fixture_copy(src);
        _cleanup_(config_freep) Config *c = config_new();
        VgError err = { "" };
        const char *conf = scratch_path(dir, "virtgov.conf");
        if (access(conf, F_OK) == 0)
                cr_assert_eq(config_load_file(c, conf, &err), 0, "%s", err.text);
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, c, dir), 0);
        _cleanup_free_ char *now = read_data(scratch_path(dir, "now"), NULL);
        if (now) {
                now[strcspn(now, "\n")] = '\0';
                cr_assert_eq(vg_time_parse(now, vg_now_us(), &p.now_us), 0, "now: %s", now);
        }
        const char *only[] = { id, NULL };
        cr_assert_eq(assess_run(&p, only, NULL, ret, &err), 0, "%s", err.text);
        assess_paths_clear(&p);
        scratch_remove(dir);
        cr_assert_eq((*ret)->n_ran, 1);
        size_t n;
        return (*ret)->status[(*ret)->ran[0] - assess_checks(&n)];
}

static void say_results(const AssessRun *r, char *buf, size_t n) {
        size_t k = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < r->n && k < n; i++)
                k += (size_t) snprintf(buf + k, n - k, "\n  %s: %s [%s]", assess_status_name(r->results[i].status),
                                       r->results[i].found, r->results[i].where ? r->results[i].where : "");
}

Test(assess, table) {
        size_t n;
        const AssessCheck *c = assess_checks(&n);
        cr_assert_geq(n, 45, "the issue asks for at least 45 checks");
        for (size_t i = 0; i < n; i++) {
                cr_assert(c[i].id && c[i].area && c[i].title && c[i].rationale && c[i].ism && c[i].doc &&
                          c[i].expected && c[i].remediation && c[i].fn, "%s: a field is missing", c[i].id);
                cr_assert_eq(assess_check_find(c[i].id), &c[i], "%s is not unique", c[i].id);
        }
}

/* What a fixture's name says its check must report: good* pass, bad*
 * fail, error* error (an input the check cannot judge: never a pass). */
static bool fixture_want(const char *name, AssessStatus *ret) {
        static const struct {
                const char *prefix;
                AssessStatus want;
        } kinds[] = { { "good", ASSESS_PASS }, { "bad", ASSESS_FAIL }, { "error", ASSESS_ERROR } };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (!strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix))) {
                        *ret = kinds[i].want;
                        return true;
                }
        return false;
}

/* Every check, each of its fixtures (at least a good and a bad one),
 * through the real run. */
Test(assess, every_check_good_and_bad) {
        size_t n;
        const AssessCheck *c = assess_checks(&n);
        for (size_t i = 0; i < n; i++) {
                char dir[1024];
                snprintf(dir, sizeof(dir), "%s/%s", CHECKS_DIR, c[i].id);
                for (size_t k = 0; k < 2; k++) {
                        char src[1100];
                        struct stat st;
                        snprintf(src, sizeof(src), "%s/%s", dir, k ? "bad" : "good");
                        cr_assert_eq(stat(src, &st), 0, "%s has no %s fixture (%s)", c[i].id, k ? "bad" : "good",
                                     src);
                }
                struct dirent **names;
                int m = scandir(dir, &names, NULL, alphasort);
                cr_assert_geq(m, 0, "%s", dir);
                for (int f = 0; f < m; f++) {
                        AssessStatus want;
                        if (fixture_want(names[f]->d_name, &want)) {
                                char src[1400], msg[8192];
                                snprintf(src, sizeof(src), "%s/%s", dir, names[f]->d_name);
                                AssessRun *r = NULL;
                                AssessStatus s = run_fixture(src, c[i].id, &r);
                                say_results(r, msg, sizeof(msg));
                                cr_expect_eq(s, want, "%s %s: %s, expected %s:%s", c[i].id, names[f]->d_name,
                                             assess_status_name(s), assess_status_name(want), msg);
                                assess_run_free(r);
                        }
                        free(names[f]);
                }
                free(names);
        }
}

/* An input that cannot be read is an error naming it, never a pass. */
Test(assess, unreadable_input_is_an_error) {
        char *dir = scratch_new();
        cr_assert_eq(mkdir(scratch_path(dir, "etc"), 0755), 0);
        cr_assert_eq(mkdir(scratch_path(dir, "etc/libvirt"), 0755), 0);
        /* a directory where qemu.conf should be */
        cr_assert_eq(mkdir(scratch_path(dir, "etc/libvirt/qemu.conf"), 0755), 0);
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, dir), 0);
        const char *only[] = { "VG-QEMU-001", "VG-KRN-001", NULL };
        AssessRun *r;
        VgError err = { "" };
        cr_assert_eq(assess_run(&p, only, NULL, &r, &err), 0);
        cr_expect_eq(r->status[0], ASSESS_ERROR);
        cr_expect(strstr(r->results[0].found, "qemu.conf"), "%s", r->results[0].found);
        assess_run_free(r);
        /* a syntax error: libvirt refuses the file, the checks say where */
        rmdir(scratch_path(dir, "etc/libvirt/qemu.conf"));
        write_text(scratch_path(dir, "etc/libvirt/qemu.conf"), "user = \"qemu\"\nsecurity_driver none\n");
        cr_assert_eq(assess_run(&p, only, NULL, &r, &err), 0);
        cr_expect_eq(r->status[0], ASSESS_ERROR);
        cr_expect(strstr(r->results[0].found, "qemu.conf:2:17: expecting an assignment"), "%s", r->results[0].found);
        assess_run_free(r);
        assess_paths_clear(&p);
        scratch_remove(dir);
}

/* The checks in only, run over the tree at root with the defaults. */
static AssessRun *run_root(const char *root, const char *const *only) {
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, root), 0);
        AssessRun *r = NULL;
        VgError err = { "" };
        cr_assert_eq(assess_run(&p, only, NULL, &r, &err), 0, "%s", err.text);
        assess_paths_clear(&p);
        return r;
}

/* What a run said of check id: its status, and its results' text. */
static AssessStatus status_of(const AssessRun *r, const char *id, char *msg, size_t n) {
        size_t k = 0, nc;
        msg[0] = '\0';
        for (size_t i = 0; i < r->n; i++)
                if (!strcmp(r->results[i].check->id, id) && k < n)
                        k += (size_t) snprintf(msg + k, n - k, " %s [%s];", r->results[i].found,
                                               r->results[i].where ? r->results[i].where : "");
        return r->status[assess_check_find(id) - assess_checks(&nc)];
}

/* A FIFO where a file should be, as qemu.conf or named by sshd's Include,
 * is an error that says so, at once: it used to block the run forever
 * (an open without O_NONBLOCK waits for a writer). The timeout is the
 * test's: before the fix it hung here. */
Test(assess, fifo_is_refused_not_waited_on, .timeout = 20) {
        char *dir = scratch_new();
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/etc/libvirt' '%s/etc/ssh' && mkfifo '%s/etc/libvirt/qemu.conf' "
                 "'%s/etc/ssh/fifo.conf' && echo 'Include fifo.conf' > '%s/etc/ssh/sshd_config'", dir, dir, dir, dir,
                 dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        const char *only[] = { "VG-QEMU-001", "VG-SVC-003", NULL };
        AssessRun *r = run_root(dir, only);
        char msg[4096];
        for (size_t i = 0; only[i]; i++) {
                cr_expect_eq(status_of(r, only[i], msg, sizeof(msg)), ASSESS_ERROR, "%s:%s", only[i], msg);
                cr_expect(strstr(msg, "not a regular file"), "%s:%s", only[i], msg);
        }
        assess_run_free(r);
        scratch_remove(dir);
}

/* sshd_config including itself N times used to cost N^depth reads (8
 * lines: over a minute). A cycle is sshd's own error (it refuses
 * includes nested past 16 levels), and the walk is bounded besides. */
Test(assess, sshd_include_cycle_is_an_error_at_once, .timeout = 20) {
        char *dir = scratch_new();
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/etc/ssh' && for i in 1 2 3 4 5 6 7 8; do "
                 "echo 'Include /etc/ssh/sshd_config'; done > '%s/etc/ssh/sshd_config' && "
                 "printf 'Include b.conf\\nInclude b.conf\\n' > '%s/etc/ssh/a.conf' && "
                 "printf 'Include a.conf\\nInclude a.conf\\n' > '%s/etc/ssh/b.conf'", dir, dir, dir, dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        const char *only[] = { "VG-SVC-002", "VG-SVC-003", NULL };
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        AssessRun *r = run_root(dir, only);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        char msg[4096];
        for (size_t i = 0; only[i]; i++) {
                cr_expect_eq(status_of(r, only[i], msg, sizeof(msg)), ASSESS_ERROR, "%s:%s", only[i], msg);
                cr_expect(strstr(msg, "includes itself"), "%s:%s", only[i], msg);
        }
        assess_run_free(r);
        double took = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        cr_expect_lt(took, 1.0, "took %.2f s", took);
        /* Through another file: a.conf and b.conf include each other. */
        snprintf(cmd, sizeof(cmd), "echo 'Include a.conf' > '%s/etc/ssh/sshd_config'", dir);
        cr_assert_eq(system(cmd), 0);
        r = run_root(dir, only);
        cr_expect_eq(status_of(r, "VG-SVC-003", msg, sizeof(msg)), ASSESS_ERROR, "%s", msg);
        cr_expect(strstr(msg, "a.conf includes itself"), "%s", msg);
        assess_run_free(r);
        scratch_remove(dir);
}

/* A fixture's daemon started at its tree's boot (proc/stat's btime) plus
 * its start ticks, whenever the machine running the test booted: hooks
 * older than this machine's boot (a source tree unpacked from a tarball
 * on a KVM host rebooted since) once made VG-VG-001's bad fixture pass,
 * and the package's build fail there. */
Test(assess, hooks_judged_against_the_trees_boot_not_this_hosts) {
        char *dir = fixture_copy(CHECKS_DIR "/VG-VG-001/bad");
        char cmd[4096];
        /* 2017: after the fixture's boot (2001), before any running host's */
        snprintf(cmd, sizeof(cmd), "touch -h -d @1500000000 '%s'/etc/libvirt/hooks/*/50-virtgov", dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        const char *only[] = { "VG-VG-001", NULL };
        AssessRun *r = run_root(dir, only);
        char msg[4096];
        cr_expect_eq(status_of(r, "VG-VG-001", msg, sizeof(msg)), ASSESS_FAIL, "%s", msg);
        cr_expect(strstr(msg, "installed after libvirtd (pid 31) started"), "%s", msg);
        assess_run_free(r);
        scratch_remove(dir);
}

/* Under a root, the exceptions file is the tree's, read inside it: an
 * absolute symlink to /etc/passwd names the tree's /etc/passwd (absent
 * here), never the host's (whose text jansson's error would quote). */
Test(assess, exceptions_read_inside_the_root) {
        char *dir = scratch_new();
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/etc/virtgov' && ln -s /etc/passwd "
                 "'%s/etc/virtgov/assess-exceptions.json'", dir, dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, dir), 0);
        AssessExceptions *ex = NULL;
        VgError err = { "" };
        cr_expect_eq(assess_exceptions_load_paths(&p, &ex, &err), -ENOENT, "%s", err.text);
        /* and the tree's file, through the same absolute link */
        snprintf(cmd, sizeof(cmd), "echo '[{\"id\": \"VG-KRN-014\", \"ticket\": \"CHG-1\"}]' > '%s/etc/passwd'", dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        cr_assert_eq(assess_exceptions_load_paths(&p, &ex, &err), 0, "%s", err.text);
        cr_expect_eq(ex->n, 1);
        assess_exceptions_free(ex);
        assess_paths_clear(&p);
        scratch_remove(dir);
}

Test(assess, unknown_check_is_refused) {
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, "/nonexistent"), 0);
        const char *only[] = { "VG-NOPE-001", NULL };
        AssessRun *r = NULL;
        VgError err = { "" };
        cr_expect_eq(assess_run(&p, only, NULL, &r, &err), -EINVAL);
        cr_expect(strstr(err.text, "VG-NOPE-001"));
        assess_paths_clear(&p);
}

/* ---- libvirt's config syntax, data-driven ---- */

static void vconf_dump(const VconfValue *v, char *buf, size_t n) {
        size_t k = strlen(buf);
        if (v->type == VCONF_STRING)
                snprintf(buf + k, n - k, "\"%s\"", v->str);
        else if (v->type == VCONF_NUMBER)
                snprintf(buf + k, n - k, "%lld", v->num);
        else {
                snprintf(buf + k, n - k, "[");
                for (size_t i = 0; i < v->n_items; i++) {
                        if (i)
                                strncat(buf, ",", n - strlen(buf) - 1);
                        vconf_dump(&v->items[i], buf, n);
                }
                strncat(buf, "]", n - strlen(buf) - 1);
        }
}

static void vconf_cases(const char *kind) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/%s", VCONF_DIR, kind);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "%s", dir);
        size_t cases = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                char path[2048];
                size_t len;
                snprintf(path, sizeof(path), "%s/%s/input", dir, de->d_name);
                _cleanup_free_ char *input = read_data(path, &len);
                cr_assert_not_null(input, "%s", path);
                Vconf *c = NULL;
                VgError err = { "" };
                int r = vconf_parse(input, len, "qemu.conf", &c, &err);
                snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, !strcmp(kind, "valid") ? "output" : "error");
                _cleanup_free_ char *want = read_data(path, NULL);
                cr_assert_not_null(want, "%s", path);
                if (!strcmp(kind, "valid")) {
                        cr_expect_eq(r, 0, "%s: %s", de->d_name, err.text);
                        char got[4096] = "";
                        for (size_t i = 0; c && i < c->n; i++) {
                                size_t k = strlen(got);
                                snprintf(got + k, sizeof(got) - k, "%s%s@%u=", vconf_get(c, c->v[i].name) == &c->v[i]
                                                                                       ? "*" : "",
                                         c->v[i].name, c->v[i].line);
                                vconf_dump(&c->v[i].value, got, sizeof(got));
                                strncat(got, "\n", sizeof(got) - strlen(got) - 1);
                        }
                        cr_expect_str_eq(got, want, "%s", de->d_name);
                } else {
                        want[strcspn(want, "\n")] = '\0';
                        cr_expect_eq(r, -EINVAL, "%s", de->d_name);
                        cr_expect_str_eq(err.text, want, "%s", de->d_name);
                }
                vconf_free(c);
                cases++;
        }
        closedir(d);
        cr_assert_gt(cases, 3);
}

Test(assess, vconf_valid) {
        vconf_cases("valid");
}

Test(assess, vconf_invalid) {
        vconf_cases("invalid");
}

/* ---- exceptions ---- */

Test(assess, exceptions_errors_name_the_place) {
        static const struct {
                const char *text, *want;
        } cases[] = {
                { "[ { \"id\": \"VG-KRN-014\", \"ticket\": \"CHG-1\",\n  \"scope\": \"x\" } ]",
                  "ex.json:2:3: exception 1: unknown key 'scope'" },
                { "[ { \"id\": \"VG-KRN-014\", \"ticket\": \"CHG-1\" },\n  { \"id\": \"VG-NOPE-9\", \"ticket\": \"T\" } ]",
                  "ex.json:2:5: exception 2: no check 'VG-NOPE-9'" },
                { "[ { \"id\": \"VG-KRN-014\" } ]", "ex.json:1:3: exception 1: needs an 'id' and a 'ticket'" },
                { "[ { \"id\": \"VG-KRN-014\", \"ticket\": \"T\", \"expires\": \"soon\" } ]",
                  "ex.json:1:40: exception 1: 'expires' is not a time" },
                { "[ { \"id\": \"VG-KRN-014\",, } ]", "ex.json:1:24:" },
                { "{ }", "ex.json:1:1: expected an array" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                AssessExceptions *e = NULL;
                VgError err = { "" };
                cr_expect_eq(assess_exceptions_parse(cases[i].text, strlen(cases[i].text), "ex.json", vg_now_us(), &e,
                                                     &err), -EINVAL, "case %zu", i);
                cr_expect(!strncmp(err.text, cases[i].want, strlen(cases[i].want)), "case %zu: '%s', want '%s'", i,
                          err.text, cases[i].want);
        }
}

/* The typical exception: libvirt's NAT network needs ip_forward. Until it
 * expires the check is excepted with its ticket; after, it fails again
 * and the entry is a warning with its position. */
Test(assess, exception_applies_until_it_expires) {
        char src[1024];
        snprintf(src, sizeof(src), "%s/VG-KRN-014/bad", CHECKS_DIR);
        char *dir = fixture_copy(src);
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, dir), 0);
        static const char text[] = "[\n  { \"id\": \"VG-KRN-014\", \"ticket\": \"CHG-2041\", \"expires\": \"2030-01-01\",\n"
                                   "    \"reason\": \"libvirt's default NAT network\" }\n]\n";
        const char *only[] = { "VG-KRN-014", NULL };
        for (int late = 0; late < 2; late++) {
                int64_t now;
                cr_assert_eq(vg_time_parse(late ? "2030-02-01" : "2029-12-01", 0, &now), 0);
                p.now_us = now;
                AssessExceptions *e = NULL;
                VgError err = { "" };
                cr_assert_eq(assess_exceptions_parse(text, sizeof(text) - 1, "ex.json", now, &e, &err), 0, "%s", err.text);
                AssessRun *r;
                cr_assert_eq(assess_run(&p, only, e, &r, &err), 0);
                if (!late) {
                        cr_expect_eq(r->status[r->ran[0] - assess_checks(&(size_t) { 0 })], ASSESS_EXCEPTED);
                        cr_expect_str_eq(r->results[0].ticket, "CHG-2041");
                        cr_expect_eq(e->n_warnings, 0);
                } else {
                        cr_expect_eq(r->results[0].status, ASSESS_FAIL);
                        cr_assert_eq(e->n_warnings, 1);
                        cr_expect(!strncmp(e->warnings[0], "ex.json:2:3: the exception of VG-KRN-014 under ticket "
                                           "CHG-2041 expired", 60), "%s", e->warnings[0]);
                }
                assess_run_free(r);
                assess_exceptions_free(e);
        }
        assess_paths_clear(&p);
        scratch_remove(dir);
}

/* A domain glob excepts one domain's failure, not another's. */
Test(assess, exception_scope_is_a_domain_glob) {
        char *dir = scratch_new();
        char cmd[4400];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/etc/libvirt/qemu' && for d in lab-1 prod-1; do printf \"<domain "
                 "type='kvm'><name>$d</name><devices><shmem name='x'/></devices></domain>\" > \"%s/etc/libvirt/qemu/$d.xml\"; done",
                 dir, dir);
        cr_assert_eq(system(cmd), 0);
        static const char text[] = "[ { \"id\": \"VG-DOM-005\", \"domain\": \"lab-*\", \"ticket\": \"LAB-7\" } ]";
        AssessExceptions *e = NULL;
        VgError err = { "" };
        cr_assert_eq(assess_exceptions_parse(text, sizeof(text) - 1, "ex.json", vg_now_us(), &e, &err), 0);
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, dir), 0);
        const char *only[] = { "VG-DOM-005", NULL };
        AssessRun *r;
        cr_assert_eq(assess_run(&p, only, e, &r, &err), 0);
        cr_assert_eq(r->n, 2);
        cr_expect_str_eq(r->results[0].domain, "lab-1");
        cr_expect_eq(r->results[0].status, ASSESS_EXCEPTED);
        cr_expect_str_eq(r->results[1].domain, "prod-1");
        cr_expect_eq(r->results[1].status, ASSESS_FAIL);
        cr_expect_eq(r->status[r->ran[0] - assess_checks(&(size_t) { 0 })], ASSESS_FAIL);
        assess_run_free(r);
        assess_exceptions_free(e);
        assess_paths_clear(&p);
        scratch_remove(dir);
}

/* ---- drift ---- */

typedef struct Seen {
        char kinds[8][32];
        char checks[8][16];
        size_t n;
} Seen;

static int collect(Event *e, void *u) {
        Seen *s = u;
        if (s->n < 8) {
                snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%s", e->kind);
                const char *c = json_string_value(json_object_get(e->data, "check"));
                snprintf(s->checks[s->n], sizeof(s->checks[0]), "%s", c ? c : "");
                s->n++;
        }
        event_free(e);
        return 0;
}

static AssessRun *run_tree(const char *dir, const char *const *only) {
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, dir), 0);
        AssessRun *r;
        VgError err = { "" };
        cr_assert_eq(assess_run(&p, only, NULL, &r, &err), 0);
        assess_paths_clear(&p);
        return r;
}

Test(assess, drift_regressed_then_fixed) {
        char *dir = scratch_new();
        char cmd[4400];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/proc/sys/kernel' && echo 2 > '%s/proc/sys/kernel/randomize_va_space' && "
                 "echo 1 > '%s/proc/sys/kernel/kptr_restrict'", dir, dir, dir);
        cr_assert_eq(system(cmd), 0);
        const char *only[] = { "VG-KRN-001", "VG-KRN-002", NULL };
        AssessRun *r1 = run_tree(dir, only);
        Seen s = { 0 };
        cr_assert_eq(assess_drift(r1, NULL, "cli", collect, &s), 0);
        cr_expect_eq(s.n, 1, "a first run is only its assess.run");
        cr_expect_str_eq(s.kinds[0], "assess.run");
        _cleanup_free_ char *state1 = assess_state_text(r1, NULL);
        write_text(scratch_path(dir, "proc/sys/kernel/randomize_va_space"), "0\n");
        AssessRun *r2 = run_tree(dir, only);
        cr_expect_str_neq(r1->digest, r2->digest);
        s = (Seen) { 0 };
        cr_assert_eq(assess_drift(r2, state1, "daemon", collect, &s), 0);
        cr_assert_eq(s.n, 2);
        cr_expect_str_eq(s.kinds[1], "assess.regressed");
        cr_expect_str_eq(s.checks[1], "VG-KRN-001");
        _cleanup_free_ char *state2 = assess_state_text(r2, state1);
        write_text(scratch_path(dir, "proc/sys/kernel/randomize_va_space"), "2\n");
        AssessRun *r3 = run_tree(dir, only);
        cr_expect_str_eq(r1->digest, r3->digest, "the same results hash the same");
        s = (Seen) { 0 };
        cr_assert_eq(assess_drift(r3, state2, "daemon", collect, &s), 0);
        cr_assert_eq(s.n, 2);
        cr_expect_str_eq(s.kinds[1], "assess.fixed");
        /* A run of one check keeps the other's state. */
        const char *one[] = { "VG-KRN-001", NULL };
        AssessRun *r4 = run_tree(dir, one);
        _cleanup_free_ char *state4 = assess_state_text(r4, "{\"VG-KRN-002\": \"fail\", \"VG-KRN-001\": \"fail\"}");
        cr_expect_str_eq(state4, "{\"VG-KRN-001\":\"pass\",\"VG-KRN-002\":\"fail\"}");
        assess_run_free(r4);
        assess_run_free(r1);
        assess_run_free(r2);
        assess_run_free(r3);
        scratch_remove(dir);
}

/* ---- the other parsers ---- */

Test(assess, lz4_frames) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/VG-PAT-001/bad/var/lib/apt/lists/"
                 "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4", CHECKS_DIR);
        size_t len, out_len;
        _cleanup_free_ char *in = read_data(path, &len);
        cr_assert_not_null(in);
        char *out;
        cr_assert_eq(assess_lz4_decode((const uint8_t *) in, len, 1 << 20, &out, &out_len), 0);
        cr_expect_eq(out_len, 40 * strlen("Package: qemu-system-x86\nVersion: 1:7.2+dfsg-7+deb12u18\nArchitecture: amd64\n"
                                          "Filename: pool/x.deb\n\nPackage: qemu-system-x86\nVersion: 1:7.2+dfsg-7+"
                                          "deb12u16\nArchitecture: amd64\nFilename: pool/x.deb\n\nPackage: bash\nVersion: "
                                          "9\nArchitecture: amd64\nFilename: pool/x.deb\n\n"));
        cr_expect(!strncmp(out, "Package: qemu-system-x86\n", 25));
        free(out);
        cr_expect_eq(assess_lz4_decode((const uint8_t *) in, len, 100, &out, &out_len), -EFBIG);
        cr_expect_eq(assess_lz4_decode((const uint8_t *) in, len / 2, 1 << 20, &out, &out_len), -EBADMSG);
        cr_expect_eq(assess_lz4_decode((const uint8_t *) "garbage!", 8, 1 << 20, &out, &out_len), -EBADMSG);
}

Test(assess, proc_net_lines) {
        AssessListener l;
        cr_assert(assess_proc_net_line("   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                                       "     0        0 4242 1 0000000000000000 100 0 0 10 0", false, true, &l));
        cr_expect_eq(l.port, 22);
        cr_expect_str_eq(l.addr, "0.0.0.0");
        cr_expect_not(l.loopback);
        cr_expect_eq(l.inode, 4242);
        cr_assert(assess_proc_net_line("   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                                       "     0        0 4243 1", false, true, &l));
        cr_expect(l.loopback);
        cr_expect_str_eq(l.addr, "127.0.0.1");
        cr_assert(assess_proc_net_line("   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 "
                                       "07 00000000:00000000 00:00000000 00000000     0        0 999 2", true, false, &l));
        cr_expect(l.loopback, "::1 is loopback");
        cr_expect_eq(l.port, 53);
        /* established, not listening; the header; junk */
        cr_expect_not(assess_proc_net_line("   2: 0100007F:0016 0100007F:9C40 01 00000000:00000000 00:00000000 00000000"
                                           "     0        0 5 1", false, true, &l));
        cr_expect_not(assess_proc_net_line("  sl  local_address rem_address   st tx_queue", false, true, &l));
        /* A sign or blanks where hex digits belong (sscanf's %x takes
         * them: the fuzzer's port of 2^32 - 1). */
        cr_expect_not(assess_proc_net_line("   0: 00000000:-001 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                                           "     0        0 4242", false, true, &l));
        cr_expect_not(assess_proc_net_line("   0: -0000001:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                                           "     0        0 4242", false, true, &l));
        cr_expect_not(assess_proc_net_line("0: zz", false, true, &l));
}

/* A sysctl that is absent: a protection the kernel lacks (Yama), or a
 * feature it was built without, whose absence is the protection (SysRq). */
Test(assess, absent_sysctl) {
        char *dir = scratch_new();
        cr_assert_eq(mkdir(scratch_path(dir, "proc"), 0755), 0);
        const char *only[] = { "VG-KRN-004", "VG-KRN-015", NULL };
        AssessRun *r = run_tree(dir, only);
        size_t n;
        const AssessCheck *checks = assess_checks(&n);
        cr_expect_eq(r->status[assess_check_find("VG-KRN-004") - checks], ASSESS_FAIL);
        cr_expect_eq(r->status[assess_check_find("VG-KRN-015") - checks], ASSESS_PASS);
        assess_run_free(r);
        scratch_remove(dir);
}

/* A path glob scopes by the file a result names, its ":line" aside. */
Test(assess, exception_scope_is_a_path_glob) {
        char src[1024];
        snprintf(src, sizeof(src), "%s/VG-DOM-005/bad", CHECKS_DIR);
        char *dir = fixture_copy(src);
        char text[4400];
        snprintf(text, sizeof(text), "[ { \"id\": \"VG-DOM-005\", \"path\": \"%s/etc/libvirt/qemu/w*.xml\", "
                 "\"ticket\": \"LAB-8\" } ]", dir);
        AssessExceptions *e = NULL;
        VgError err = { "" };
        cr_assert_eq(assess_exceptions_parse(text, strlen(text), "ex.json", vg_now_us(), &e, &err), 0, "%s", err.text);
        AssessPaths p;
        cr_assert_eq(assess_paths_init(&p, NULL, dir), 0);
        const char *only[] = { "VG-DOM-005", NULL };
        AssessRun *r;
        cr_assert_eq(assess_run(&p, only, e, &r, &err), 0);
        cr_assert_eq(r->n, 1);
        cr_expect(strchr(r->results[0].where, ':'), "where has its line: %s", r->results[0].where);
        cr_expect_eq(r->results[0].status, ASSESS_EXCEPTED);
        assess_run_free(r);
        assess_exceptions_free(e);
        assess_paths_clear(&p);
        scratch_remove(dir);
}
