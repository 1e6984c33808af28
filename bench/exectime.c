/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectime N INPUT PROGRAM [ARGS...] [-- PROGRAM [ARGS...]]...: fork and
 * exec each PROGRAM N times with INPUT on stdin (as libvirt runs a hook;
 * "@FILE" before a PROGRAM gives it FILE instead),
 * the programs taking turns, in a new order each round, so that each meets
 * the same moments of this noisy machine (and follows each of the others
 * as often) and their ratios hold even when its speed drifts. Prints a
 * line of JSON per program, in order: the median, p10, p90, p99 and mean
 * wall time and the median CPU time (user plus system) in microseconds,
 * the largest peak RSS in KiB, and how many runs exited non-zero. The mean
 * and p99 show what the median hides: the occasional run that does more
 * (a checkpoint, say).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct Program {
        char **argv;             /* NULL-terminated, in place in main's argv */
        const char *input;       /* on its stdin */
        double *t, *cpu, sum;
        long maxrss;
        int failed;
} Program;

static int cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static void run(Program *p, int i) {
        int in = open(p->input, O_RDONLY | O_CLOEXEC);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(in, 0);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);   /* dup2 clears it */
                dup2(null, 1);
                dup2(null, 2);
                execv(p->argv[0], p->argv);
                _exit(127);
        }
        int status;
        struct rusage ru;
        wait4(pid, &status, 0, &ru);
        clock_gettime(CLOCK_MONOTONIC, &b);
        close(in);
        p->t[i] = (double) (b.tv_sec - a.tv_sec) * 1e6 + (double) (b.tv_nsec - a.tv_nsec) / 1e3;
        p->sum += p->t[i];
        p->cpu[i] = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                    (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        if (ru.ru_maxrss > p->maxrss)
                p->maxrss = ru.ru_maxrss;
        if (!WIFEXITED(status) || WEXITSTATUS(status))
                p->failed++;
}

int main(int argc, char **argv) {
        if (argc < 4) {
                fprintf(stderr, "usage: exectime N INPUT PROGRAM [ARGS...] [-- PROGRAM [ARGS...]]...\n");
                return 2;
        }
        int n = atoi(argv[1]);
        if (n < 1) {
                fprintf(stderr, "exectime: N must be at least 1\n");
                return 2;
        }
        Program *progs = calloc((size_t) argc, sizeof(*progs));
        size_t np = 0;
        if (!progs)
                return 1;
        for (int a = 3; a < argc; a++) {
                if (!strcmp(argv[a], "--")) {
                        argv[a] = NULL;   /* ends the program before it */
                        continue;
                }
                if (a == 3 || !argv[a - 1]) {
                        Program *p = &progs[np++];
                        p->input = argv[2];
                        if (argv[a][0] == '@' && a + 1 < argc) {
                                p->input = argv[a] + 1;
                                a++;
                        }
                        p->argv = argv + a;
                        p->t = calloc((size_t) n, sizeof(double));
                        p->cpu = calloc((size_t) n, sizeof(double));
                        if (!p->t || !p->cpu)
                                return 1;
                }
        }
        /* Each round in a new order (Fisher-Yates, a fixed seed: the same
         * orders every run). In a fixed order, what a program followed
         * was always the same, and what one leaves behind is paid by the
         * next: with the daemon folding each hook's event as it lands, the
         * durable floor, run right after the no-op, never met a fold and
         * every hook met its predecessor's (the hook at 'started' measured
         * 1.44x the floor that way, 1.10x with the floor after a hook). */
        size_t *order = calloc(np, sizeof(*order));
        if (!order)
                return 1;
        for (size_t k = 0; k < np; k++)
                order[k] = k;
        srandom(1);
        for (int i = 0; i < n; i++) {
                for (size_t k = np - 1; k > 0; k--) {
                        size_t j = (size_t) random() % (k + 1), t = order[k];
                        order[k] = order[j];
                        order[j] = t;
                }
                for (size_t k = 0; k < np; k++)
                        run(&progs[order[k]], i);
        }
        free(order);
        for (size_t k = 0; k < np; k++) {
                Program *p = &progs[k];
                qsort(p->t, (size_t) n, sizeof(double), cmp);
                qsort(p->cpu, (size_t) n, sizeof(double), cmp);
                printf("{\"median_us\": %.0f, \"p10_us\": %.0f, \"p90_us\": %.0f, \"p99_us\": %.0f, \"mean_us\": %.0f,"
                       " \"cpu_median_us\": %.0f, \"max_rss_kib\": %ld, \"failed\": %d}\n",
                       p->t[n / 2], p->t[n / 10], p->t[n * 9 / 10], p->t[n * 99 / 100], p->sum / n, p->cpu[n / 2],
                       p->maxrss, p->failed);
        }
        return 0;
}
