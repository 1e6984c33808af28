/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The action runner (virtgov/util/action.h), against real /bin/sh scripts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/util/action.h"

static char *dir;

static void setup(void) {
        dir = scratch_new();
}

static void teardown(void) {
        scratch_remove(dir);
        dir = NULL;
}

TestSuite(action, .init = setup, .fini = teardown, .timeout = 30);

/* A script in the scratch directory, mode 0755; its path. */
static const char *script(const char *name, const char *body) {
        const char *p = scratch_path(dir, name);
        char text[4096];
        snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
        write_text(p, text);
        cr_assert_eq(chmod(p, 0755), 0);
        return p;
}

/* Runs program to its end; its result (static). */
static const ActionResult *run(const char *program, const char *input, unsigned timeout_ms) {
        static ActionResult res;
        ActionSpec spec = { .program = program, .kind = "integrity.finding", .input = input, .timeout_ms = timeout_ms };
        ActionRun *r = NULL;
        VgError err = { "" };
        cr_assert_eq(action_start(&spec, &r, &err), 0, "%s", err.text);
        action_wait(r);
        cr_assert(action_step(r));
        res = *action_result(r);
        action_free(r);
        return &res;
}

static const char *output(const ActionResult *res) {
        static char buf[ACTION_OUTPUT_MAX + 1];
        memcpy(buf, res->output, res->output_len);
        buf[res->output_len] = '\0';
        return buf;
}

static int64_t mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(action, the_program_gets_the_input_its_kind_and_a_defined_environment) {
        char body[1024];
        snprintf(body, sizeof(body),
                 "cat > '%s/got'\n"
                 "echo \"argv=$1 kind=$VIRTGOV_EVENT_KIND path=$PATH cwd=$(pwd)\"\n"
                 "env | grep -Ev '^(PWD|SHLVL|_|OLDPWD)=' | sort > '%s/env'", dir, dir);
        const ActionResult *res = run(script("record", body), "{\"path\": \"/etc/x\"}", 5000);
        cr_expect(action_result_ok(res));
        cr_expect(res->exited);
        cr_expect_eq(res->status, 0);
        cr_expect_str_eq(output(res), "argv=integrity.finding kind=integrity.finding "
                                      "path=/usr/sbin:/usr/bin:/sbin:/bin cwd=/\n");
        size_t len;
        char *got = read_data(scratch_path(dir, "got"), &len);
        cr_assert_not_null(got);
        cr_expect_str_eq(got, "{\"path\": \"/etc/x\"}");
        free(got);
        char *env = read_data(scratch_path(dir, "env"), &len);
        cr_assert_not_null(env);
        cr_expect_str_eq(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nVIRTGOV_EVENT_KIND=integrity.finding\n");
        free(env);
}

Test(action, stdout_and_stderr_are_one_record_and_the_status_is_kept) {
        const ActionResult *res = run(script("fail", "echo out; echo err >&2; exit 3"), NULL, 5000);
        cr_expect(res->exited);
        cr_expect_eq(res->status, 3);
        cr_expect_not(action_result_ok(res));
        cr_expect_str_eq(output(res), "out\nerr\n");
        char how[128];
        action_result_describe(res, 5000, how, sizeof(how));
        cr_expect_str_eq(how, "exited with status 3");
}

/* Past its time its whole process group gets SIGTERM: the shell and the
 * sleep it waits for, which would otherwise live on. */
Test(action, past_its_time_the_process_group_is_terminated) {
        char body[512];
        snprintf(body, sizeof(body), "sleep 30 & echo $! > '%s/child'\necho started\nwait", dir);
        int64_t t0 = mono_ms();
        const ActionResult *res = run(script("slow", body), NULL, 300);
        int64_t took = mono_ms() - t0;
        cr_expect(res->timed_out);
        cr_expect_not(res->exited);
        cr_expect_eq(res->signal, SIGTERM);
        cr_expect_lt(took, 1500, "took %lld ms", (long long) took);
        cr_expect_geq(res->duration_ms, 300);
        cr_expect_str_eq(output(res), "started\n");
        char how[128];
        action_result_describe(res, 300, how, sizeof(how));
        cr_expect_str_eq(how, "ran past its 300 ms and was killed by SIGTERM");

        size_t len;
        char *pid = read_data(scratch_path(dir, "child"), &len);
        cr_assert_not_null(pid);
        char stat[64];
        snprintf(stat, sizeof(stat), "/proc/%d/stat", atoi(pid));
        free(pid);
        /* Gone, or a zombie its new parent has yet to reap. */
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) {
                char *s = read_data(stat, &len);
                char *paren = s ? strrchr(s, ')') : NULL;
                gone = !s || (paren && paren[2] == 'Z');
                free(s);
                if (!gone)
                        usleep(10000);
        }
        cr_expect(gone, "the script's child outlived it");
}

Test(action, one_that_ignores_sigterm_gets_sigkill_a_second_later) {
        const ActionResult *res = run(script("stubborn", "trap '' TERM\necho x\nwhile :; do sleep 0.1; done"), NULL,
                                      200);
        cr_expect(res->timed_out);
        cr_expect_eq(res->signal, SIGKILL);
        cr_expect_geq(res->duration_ms, 200 + ACTION_KILL_GRACE_MS);
        cr_expect_lt(res->duration_ms, 200 + ACTION_KILL_GRACE_MS + 1000);
}

/* The rest is read and dropped: a program writing much never blocks. */
Test(action, the_first_4_kib_of_output_are_kept_and_the_rest_counted) {
        const ActionResult *res = run(script("chatty", "head -c 100000 /dev/zero | tr '\\0' a"), NULL, 5000);
        cr_expect(action_result_ok(res));
        cr_expect_eq(res->output_len, ACTION_OUTPUT_MAX);
        cr_expect_eq(res->output_bytes, 100000);
        json_t *j = action_result_json(res);
        cr_assert_not_null(j);
        cr_expect(json_is_true(json_object_get(j, "output_truncated")));
        cr_expect_eq(json_integer_value(json_object_get(j, "output_bytes")), 100000);
        cr_expect_eq(strlen(json_string_value(json_object_get(j, "output"))), ACTION_OUTPUT_MAX);
        json_decref(j);
}

Test(action, output_that_is_not_utf8_becomes_valid_text) {
        const ActionResult *res = run(script("binary", "printf 'ok \\377\\376 \\303\\251 \\000 \\355\\240\\200 end'"),
                                      NULL, 5000);
        json_t *j = action_result_json(res);
        cr_assert_not_null(j);
        cr_expect_str_eq(json_string_value(json_object_get(j, "output")),
                         "ok \xef\xbf\xbd\xef\xbf\xbd \xc3\xa9 \xef\xbf\xbd "
                         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
        cr_expect(json_is_integer(json_object_get(j, "exit_status")));
        cr_expect(json_is_null(json_object_get(j, "signal")));
        cr_expect(json_is_false(json_object_get(j, "timed_out")));
        json_decref(j);
}

Test(action, no_descriptor_but_0_1_2_reaches_the_program) {
        int fd = open("/dev/null", O_RDONLY);   /* no O_CLOEXEC: as a careless library's */
        cr_assert_geq(fd, 0);
        cr_assert_eq(dup2(fd, 47), 47);
        close(fd);
        const ActionResult *res =
                run(script("fds", "for f in 3 4 5 6 7 8 9 47; do [ -e /proc/self/fd/$f ] && echo \"leaked $f\"; done\n"
                                  "echo done"), NULL, 5000);
        close(47);
        cr_expect_str_eq(output(res), "done\n");
}

/* Written whole before the start: a program that reads none of it exits
 * and the runner gets no SIGPIPE (this test does not ignore it). */
Test(action, a_program_that_reads_no_input_is_fine) {
        static char input[ACTION_INPUT_MAX + 1];
        memset(input, 'x', ACTION_INPUT_MAX);
        const ActionResult *res = run(script("deaf", "exit 0"), input, 5000);
        cr_expect(action_result_ok(res));
}

Test(action, what_cannot_run_is_refused_and_says_why) {
        ActionRun *r = NULL;
        VgError err = { "" };
        ActionSpec spec = { .program = "relative/prog", .kind = "integrity.finding", .timeout_ms = 1000 };
        cr_expect_eq(action_start(&spec, &r, &err), -EINVAL);
        cr_expect(strstr(err.text, "absolute"), "%s", err.text);

        spec.program = scratch_path(dir, "missing");
        cr_expect_eq(action_start(&spec, &r, &err), -ENOENT);
        cr_expect(strstr(err.text, "missing"), "%s", err.text);

        spec.program = script("plain", "exit 0");
        cr_assert_eq(chmod(spec.program, 0644), 0);
        cr_expect_eq(action_start(&spec, &r, &err), -EACCES);
        cr_expect(strstr(err.text, "not an executable file"), "%s", err.text);

        spec.program = dir;
        cr_expect_eq(action_start(&spec, &r, &err), -EACCES);

        static char big[ACTION_INPUT_MAX + 2];
        memset(big, 'x', ACTION_INPUT_MAX + 1);
        spec.program = script("ok", "exit 0");
        spec.input = big;
        cr_expect_eq(action_start(&spec, &r, &err), -E2BIG);
        cr_expect_null(r);
}

/* As root, a program anyone may change is refused, as a policy file is. */
Test(action, as_root_a_program_others_may_write_is_refused) {
        if (geteuid() != 0)
                cr_skip_test("not root");
        ActionRun *r = NULL;
        VgError err = { "" };
        ActionSpec spec = { .program = script("open", "exit 0"), .kind = "integrity.finding", .timeout_ms = 1000 };
        cr_assert_eq(chmod(spec.program, 0777), 0);
        cr_expect_eq(action_start(&spec, &r, &err), -EPERM);
        cr_expect(strstr(err.text, "anyone may write it"), "%s", err.text);
}

Test(action, freeing_a_running_program_kills_and_reaps_it) {
        ActionRun *r = NULL;
        VgError err = { "" };
        ActionSpec spec = { .program = script("long", "sleep 30"), .kind = "k", .timeout_ms = 60000 };
        cr_assert_eq(action_start(&spec, &r, &err), 0, "%s", err.text);
        pid_t pid = action_pid(r);
        cr_expect_not(action_step(r));
        cr_expect_gt(action_deadline_us(r), 0);
        int64_t t0 = mono_ms();
        action_free(r);
        cr_expect_lt(mono_ms() - t0, 1000);
        cr_expect_eq(kill(pid, 0), -1, "reaped: no such process");
}
