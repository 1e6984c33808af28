/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectime N INPUT PROGRAM [ARGS...]: fork and exec PROGRAM N times with
 * INPUT on stdin (as libvirt runs a hook), and print one line of JSON: the
 * median, p10, p90, p99 and mean wall time and the median CPU time (user
 * plus system) in microseconds, the largest peak RSS in KiB, and how many
 * runs exited non-zero. The mean and p99 show what the median hides: the
 * occasional run that does more (a checkpoint, say).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        if (argc < 4) {
                fprintf(stderr, "usage: exectime N INPUT PROGRAM [ARGS...]\n");
                return 2;
        }
        int n = atoi(argv[1]);
        if (n < 1) {
                fprintf(stderr, "exectime: N must be at least 1\n");
                return 2;
        }
        double *t = calloc((size_t) n, sizeof(double)), *cpu = calloc((size_t) n, sizeof(double)), sum = 0;
        if (!t || !cpu)
                return 1;
        long maxrss = 0;
        int failed = 0;
        for (int i = 0; i < n; i++) {
                int in = open(argv[2], O_RDONLY | O_CLOEXEC);
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                pid_t pid = fork();
                if (pid == 0) {
                        dup2(in, 0);
                        int null = open("/dev/null", O_WRONLY);
                        dup2(null, 1);
                        dup2(null, 2);
                        execv(argv[3], argv + 3);
                        _exit(127);
                }
                int status;
                struct rusage ru;
                wait4(pid, &status, 0, &ru);
                clock_gettime(CLOCK_MONOTONIC, &b);
                close(in);
                t[i] = (double) (b.tv_sec - a.tv_sec) * 1e6 + (double) (b.tv_nsec - a.tv_nsec) / 1e3;
                sum += t[i];
                cpu[i] = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                         (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
                if (ru.ru_maxrss > maxrss)
                        maxrss = ru.ru_maxrss;
                if (!WIFEXITED(status) || WEXITSTATUS(status))
                        failed++;
        }
        qsort(t, (size_t) n, sizeof(double), cmp);
        qsort(cpu, (size_t) n, sizeof(double), cmp);
        printf("{\"median_us\": %.0f, \"p10_us\": %.0f, \"p90_us\": %.0f, \"p99_us\": %.0f, \"mean_us\": %.0f,"
               " \"cpu_median_us\": %.0f, \"max_rss_kib\": %ld, \"failed\": %d}\n",
               t[n / 2], t[n / 10], t[n * 9 / 10], t[n * 99 / 100], sum / n, cpu[n / 2], maxrss, failed);
        return 0;
}
