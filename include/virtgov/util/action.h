/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running an action program (integrity_action): a program the host's
 * people chose to be run on a finding (page someone, take the host out of
 * the scheduler), run the same way every time, in bounded time, with what
 * happened kept for the record.
 *
 * The program runs as `PROGRAM KIND` with
 *   - stdin:  a pipe holding the input (one JSON object), then end of file;
 *   - stdout and stderr: one pipe, whose first ACTION_OUTPUT_MAX bytes are
 *     kept and the rest read and dropped, so the program never blocks on it;
 *   - environment: PATH=/usr/sbin:/usr/bin:/sbin:/bin and
 *     VIRTGOV_EVENT_KIND=KIND, nothing else;
 *   - no other descriptor, its working directory "/", default signal
 *     dispositions and an empty signal mask, in a session (and process
 *     group) of its own;
 *   - timeout_ms after its start its process group gets SIGTERM, and
 *     SIGKILL a second later if it is still there; it is always reaped.
 *
 * A run is a state machine without a thread or a loop of its own:
 * action_step does whatever is ready (read output, reap, send a signal
 * that is due) and never blocks. The daemon calls it from its event loop
 * when action_pollfds' descriptors are ready or action_deadline_us comes;
 * action_wait drives the same steps with poll() for a caller that may
 * block (tests, the daemon's stop).
 */
#pragma once

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/util/util.h"

/* Output kept for the record: enough for a pager's answer or an error
 * message, small enough for every event to carry. */
#define ACTION_OUTPUT_MAX 4096
/* The input must fit into the pipe before the program starts (written
 * whole, it needs no writing afterwards and can never block): a finding is
 * a few hundred bytes, its detail a few KiB at most. */
#define ACTION_INPUT_MAX (64 * 1024)
/* From SIGTERM to SIGKILL. */
#define ACTION_KILL_GRACE_MS 1000

typedef struct ActionSpec {
        const char *program;    /* absolute path */
        const char *kind;       /* argv[1] and VIRTGOV_EVENT_KIND */
        const char *input;      /* stdin; NULL: empty */
        unsigned timeout_ms;
} ActionSpec;

typedef struct ActionResult {
        bool exited;            /* it exited: status is its exit status */
        int status;
        int signal;             /* else it was killed by this signal */
        bool timed_out;         /* we sent it SIGTERM for running too long */
        int64_t duration_ms;    /* start to reaping */
        char output[ACTION_OUTPUT_MAX];
        size_t output_len;      /* bytes kept in output */
        uint64_t output_bytes;  /* bytes it wrote in all */
} ActionResult;

typedef struct ActionRun ActionRun;

/*
 * Starts the program of spec. Refused before anything runs: a program
 * path that is not absolute (-EINVAL), missing (-ENOENT), not a regular
 * executable file (-EACCES), not trusted as vg_check_trusted says when
 * run as root (-EPERM), input longer than ACTION_INPUT_MAX (-E2BIG); err
 * says which and names the program. Else 0 and the running *ret.
 */
int action_start(const ActionSpec *spec, ActionRun **ret, VgError *err);

/* Does what is ready, without blocking: reads output, reaps, signals when
 * due. true once the program was reaped: the result is final. */
bool action_step(ActionRun *run);

/* The descriptors to wait on for reading (output, and the process's pidfd
 * when the kernel has them), at most 2; how many. */
size_t action_pollfds(const ActionRun *run, struct pollfd fds[2]);

/* When action_step must be called even if no descriptor is ready
 * (CLOCK_MONOTONIC µs); INT64_MAX: never. */
int64_t action_deadline_us(const ActionRun *run);

/* action_step and poll until the program was reaped (at most its timeout
 * and ACTION_KILL_GRACE_MS, unless it hangs unkillably in the kernel). */
void action_wait(ActionRun *run);

/* The result so far; final once action_step returned true. */
const ActionResult *action_result(const ActionRun *run);

/* The program's process id (its process group's too). */
pid_t action_pid(const ActionRun *run);

/* Frees run; a program still running is killed (SIGKILL to its group) and
 * reaped first. NULL is a no-op; returns NULL. */
ActionRun *action_free(ActionRun *run);
DEFINE_POINTER_CLEANUP(ActionRun, action_free)

/*
 * What a finished run did, for an event's data: exit_status (null when
 * killed), signal ("SIGTERM", null when it exited), timed_out,
 * duration_ms, output (the kept bytes as text: bytes that are not UTF-8,
 * and NUL, become U+FFFD), output_bytes, output_truncated. NULL on ENOMEM.
 */
json_t *action_result_json(const ActionResult *res);

/* One line on what a finished run did: "exited with status 3", "timed out
 * after 1000 ms: killed by SIGTERM". */
void action_result_describe(const ActionResult *res, unsigned timeout_ms, char *buf, size_t size);

/* Whether the run did what was asked: exited 0, within its time. */
bool action_result_ok(const ActionResult *res);
