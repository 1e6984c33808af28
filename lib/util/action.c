/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The action runner (action.h). posix_spawn, not fork: glibc's is a
 * clone(CLONE_VM|CLONE_VFORK), so the daemon's pages are not copied, and
 * it reports a failed exec (ENOENT, EACCES, ENOEXEC) to the caller rather
 * than as an exit status of 127 that a program could also give.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "virtgov/util/action.h"

#define ACTION_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
/* Without a pidfd (Linux before 5.3) the process is looked at this often. */
#define ACTION_POLL_MS 50
/* Reads per step: a program that writes without end still lets the loop
 * turn (the descriptor stays readable, so the next step comes at once). */
#define ACTION_READS_PER_STEP 16

struct ActionRun {
        pid_t pid;
        int out_fd;               /* the read end of its stdout and stderr; -1 once closed */
        int pid_fd;               /* pidfd: readable once it exited; -1: none */
        unsigned timeout_ms;
        int64_t start_us, term_us;   /* CLOCK_MONOTONIC; term_us 0 until SIGTERM */
        bool killed, reaped;
        ActionResult res;
};

static int64_t mono_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* ---- starting ---- */

/* What makes the program refused before anything runs. */
static int check_program(const char *program, VgError *err) {
        if (!program || program[0] != '/')
                return vg_error(err, -EINVAL, "'%s': an action program must be named by its absolute path",
                                program ? program : "");
        struct stat st;
        if (stat(program, &st) < 0)
                return vg_error(err, -errno, "'%s': %s", program, strerror(errno));
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                return vg_error(err, -EACCES, "'%s': not an executable file", program);
        int r = vg_check_trusted(program, err);
        if (r < 0 && r != -EPERM)
                return vg_error(err, r, "'%s': %s", program, strerror(-r));
        return r;
}

/* The pipe of stdin, holding all of input already: the program can read
 * it whenever it likes, and we never write to it after the start (nor get
 * SIGPIPE from a program that did not read it). ret[0] is the read end. */
static int input_pipe(const char *input, int ret[2], VgError *err) {
        size_t len = input ? strlen(input) : 0;
        if (len > ACTION_INPUT_MAX)
                return vg_error(err, -E2BIG, "the input is %zu bytes, more than %d", len, ACTION_INPUT_MAX);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return vg_error(err, -errno, "pipe: %s", strerror(errno));
        /* A pipe holds 64 KiB, but only 4 KiB for a user over
         * fs.pipe-user-pages-soft: asked for what is needed, and never
         * waited on (non-blocking write end). */
        if (len > 4096)
                (void) fcntl(p[1], F_SETPIPE_SZ, (int) len);
        int r = fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
        for (size_t done = 0; r == 0 && done < len;) {
                ssize_t k = write(p[1], input + done, len - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = errno == EAGAIN ? -E2BIG : -errno;
                else
                        done += (size_t) k;
        }
        close(p[1]);
        if (r < 0) {
                close(p[0]);
                return vg_error(err, r, "writing the input to a pipe: %s", strerror(-r));
        }
        ret[0] = p[0];
        return 0;
}

static int spawn(const ActionSpec *spec, int in_fd, int out_fd, pid_t *ret, VgError *err) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        /* The daemon blocks SIGTERM, SIGINT and SIGHUP for its signalfd
         * and ignores SIGPIPE; a child would inherit both, and a blocked
         * SIGTERM would leave only SIGKILL to end it. A session of its
         * own: its process group is signalled whole, so a shell script's
         * children go with it and do not hold the output pipe open. */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
        /* Every descriptor of ours is O_CLOEXEC; a library's that is not
         * must not reach the program either. */
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawn_file_actions_addchdir_np(&fa, "/");

        char kind_env[128];
        snprintf(kind_env, sizeof(kind_env), "VIRTGOV_EVENT_KIND=%s", spec->kind ? spec->kind : "");
        char *const argv[] = { (char *) spec->program, (char *) (spec->kind ? spec->kind : ""), NULL };
        char *const envp[] = { (char *) ACTION_PATH, kind_env, NULL };
        int r = posix_spawn(ret, spec->program, &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return vg_error(err, -r, "'%s': cannot run it: %s", spec->program, strerror(r));
        return 0;
}

int action_start(const ActionSpec *spec, ActionRun **ret, VgError *err) {
        int r = check_program(spec->program, err);
        if (r < 0)
                return r;
        int in[2] = { -1, -1 }, out[2] = { -1, -1 };
        if ((r = input_pipe(spec->input, in, err)) < 0)
                return r;
        if (pipe2(out, O_CLOEXEC) < 0 || fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
                r = vg_error(err, -errno, "pipe: %s", strerror(errno));
                close_fd(&in[0]);
                close_fd(&out[0]);
                close_fd(&out[1]);
                return r;
        }
        ActionRun *run = calloc(1, sizeof(*run));
        if (!run)
                r = vg_error(err, -ENOMEM, "out of memory");
        pid_t pid = 0;
        if (r == 0)
                r = spawn(spec, in[0], out[1], &pid, err);
        close_fd(&in[0]);
        close_fd(&out[1]);   /* the program's now: its end of file is ours */
        if (r < 0) {
                close_fd(&out[0]);
                free(run);
                return r;
        }
        *run = (ActionRun) { .pid = pid, .out_fd = out[0], .timeout_ms = spec->timeout_ms, .start_us = mono_us() };
#ifdef SYS_pidfd_open
        run->pid_fd = (int) syscall(SYS_pidfd_open, pid, 0);   /* O_CLOEXEC always */
#else
        run->pid_fd = -1;
#endif
        *ret = run;
        return 0;
}

/* ---- running ---- */

/* Reads what is there, at most reads times: the first ACTION_OUTPUT_MAX
 * bytes kept, the rest counted. Closes at end of file. */
static void drain(ActionRun *run, unsigned reads) {
        char scratch[16384];
        ActionResult *res = &run->res;
        while (run->out_fd >= 0 && reads--) {
                bool keep = res->output_len < sizeof(res->output);
                char *to = keep ? res->output + res->output_len : scratch;
                size_t room = keep ? sizeof(res->output) - res->output_len : sizeof(scratch);
                ssize_t k = read(run->out_fd, to, room);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) {   /* end of file, or an error no later read mends */
                        close_fd(&run->out_fd);
                        return;
                }
                if (keep)
                        res->output_len += (size_t) k;
                res->output_bytes += (uint64_t) k;
        }
}

static void reap(ActionRun *run) {
        int st;
        pid_t p;
        do
                p = waitpid(run->pid, &st, WNOHANG);
        while (p < 0 && errno == EINTR);
        if (p == 0)
                return;
        run->reaped = true;
        run->res.duration_ms = (mono_us() - run->start_us) / 1000;
        if (p < 0)   /* ECHILD: reaped by someone else; nothing is known */
                return;
        if (WIFEXITED(st)) {
                run->res.exited = true;
                run->res.status = WEXITSTATUS(st);
        } else if (WIFSIGNALED(st)) {
                run->res.signal = WTERMSIG(st);
        }
}

static void signal_group(ActionRun *run, int sig) {
        if (kill(-run->pid, sig) < 0)
                (void) kill(run->pid, sig);   /* (it left its group) */
}

bool action_step(ActionRun *run) {
        if (run->reaped)
                return true;
        drain(run, ACTION_READS_PER_STEP);
        reap(run);
        if (!run->reaped) {
                int64_t now = mono_us();
                if (!run->term_us && now >= run->start_us + (int64_t) run->timeout_ms * 1000) {
                        run->res.timed_out = true;
                        run->term_us = now;
                        signal_group(run, SIGTERM);
                } else if (run->term_us && !run->killed && now >= run->term_us + ACTION_KILL_GRACE_MS * 1000) {
                        run->killed = true;
                        signal_group(run, SIGKILL);
                }
                return false;
        }
        /* What it wrote before it exited is in the pipe now. A child it
         * left behind may hold the pipe open: not waited for, it gets
         * SIGPIPE on its next write. */
        drain(run, 4 * ACTION_READS_PER_STEP);
        close_fd(&run->out_fd);
        close_fd(&run->pid_fd);
        return true;
}

size_t action_pollfds(const ActionRun *run, struct pollfd fds[2]) {
        size_t n = 0;
        if (run->out_fd >= 0)
                fds[n++] = (struct pollfd) { .fd = run->out_fd, .events = POLLIN };
        if (run->pid_fd >= 0)
                fds[n++] = (struct pollfd) { .fd = run->pid_fd, .events = POLLIN };
        return n;
}

int64_t action_deadline_us(const ActionRun *run) {
        if (run->reaped)
                return INT64_MAX;
        int64_t t = INT64_MAX;
        if (!run->term_us)
                t = run->start_us + (int64_t) run->timeout_ms * 1000;
        else if (!run->killed)
                t = run->term_us + ACTION_KILL_GRACE_MS * 1000;
        if (run->pid_fd < 0) {
                int64_t poll_at = mono_us() + ACTION_POLL_MS * 1000;
                if (poll_at < t)
                        t = poll_at;
        }
        return t;
}

void action_wait(ActionRun *run) {
        while (!action_step(run)) {
                struct pollfd fds[2];
                size_t n = action_pollfds(run, fds);
                int64_t left = action_deadline_us(run);
                int ms = -1;
                if (left != INT64_MAX) {
                        left -= mono_us();
                        ms = left <= 0 ? 0 : (int) ((left + 999) / 1000);
                }
                (void) poll(fds, n, ms);
        }
}

const ActionResult *action_result(const ActionRun *run) {
        return &run->res;
}

pid_t action_pid(const ActionRun *run) {
        return run->pid;
}

ActionRun *action_free(ActionRun *run) {
        if (!run)
                return NULL;
        if (!run->reaped) {
                signal_group(run, SIGKILL);
                while (waitpid(run->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        close_fd(&run->out_fd);
        close_fd(&run->pid_fd);
        free(run);
        return NULL;
}

/* ---- the record ---- */

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0 when
 * it is not one (RFC 3629: no overlong forms, no surrogates) or is NUL. */
static size_t utf8_len(const unsigned char *p, size_t n) {
        unsigned c = p[0], cp, min;
        size_t len;
        if (c < 0x80)
                return c ? 1 : 0;
        if ((c & 0xe0) == 0xc0)
                len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
                len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
                len = 4, cp = c & 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

/* The output as a JSON string: jansson takes only valid UTF-8. */
static json_t *output_json(const char *s, size_t n) {
        _cleanup_free_ char *text = malloc(n * 3 + 1);
        if (!text)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n;) {
                size_t len = utf8_len((const unsigned char *) s + i, n - i);
                if (len) {
                        memcpy(text + k, s + i, len);
                        k += len;
                        i += len;
                } else {
                        memcpy(text + k, "\xef\xbf\xbd", 3);   /* U+FFFD */
                        k += 3;
                        i++;
                }
        }
        return json_stringn(text, k);
}

static void signal_name(int sig, char *buf, size_t size) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev)
                snprintf(buf, size, "SIG%s", abbrev);
        else
                snprintf(buf, size, "signal %d", sig);
}

json_t *action_result_json(const ActionResult *res) {
        char sig[32];
        signal_name(res->signal, sig, sizeof(sig));
        json_t *out = output_json(res->output, res->output_len);
        json_t *j = json_pack("{s:o, s:o, s:b, s:I, s:o, s:I, s:b}",
                              "exit_status", res->exited ? json_integer(res->status) : json_null(),
                              "signal", res->signal ? json_string(sig) : json_null(),
                              "timed_out", res->timed_out,
                              "duration_ms", (json_int_t) res->duration_ms,
                              "output", out ? out : json_null(),
                              "output_bytes", (json_int_t) res->output_bytes,
                              "output_truncated", res->output_bytes > res->output_len);
        return out ? j : (json_decref(j), NULL);
}

bool action_result_ok(const ActionResult *res) {
        return res->exited && res->status == 0 && !res->timed_out;
}

void action_result_describe(const ActionResult *res, unsigned timeout_ms, char *buf, size_t size) {
        char how[64], sig[32];
        signal_name(res->signal, sig, sizeof(sig));
        if (res->exited)
                snprintf(how, sizeof(how), "exited with status %d", res->status);
        else if (res->signal)
                snprintf(how, sizeof(how), "was killed by %s", sig);
        else
                snprintf(how, sizeof(how), "ended, how is not known");
        if (res->timed_out)
                snprintf(buf, size, "ran past its %u ms and %s", timeout_ms, how);
        else
                snprintf(buf, size, "%s", how);
}
