/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hashfloor [THREADS] < LIST: the SHA-256 of every file named in LIST
 * (NUL-separated, as find -print0 writes it), on THREADS threads (default:
 * every online CPU), each reading with read() into a 1 MiB buffer of its
 * own and hashing with nettle, the library virtgov hashes with. No walk,
 * no stat, no xattrs, no database: what any baseline of those files must
 * at least do, so bench/integrity.sh sets virtgov's baseline against it.
 * Prints one line of JSON: files, bytes read, files that could not be
 * read, and the seconds spent hashing (the list read and split before the
 * clock starts). The caller times the whole process too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

#define CHUNK (1 << 20)
#define MAX_THREADS 256

typedef struct Work {
        char **paths;
        size_t n;
        atomic_size_t next;
        atomic_uint_fast64_t bytes;
        atomic_size_t failed;
        atomic_uint digest_xor;    /* a use of each digest, so none is optimized away */
} Work;

static int hash_one(const char *path, unsigned char *buf, uint64_t *bytes, uint8_t d[SHA256_DIGEST_SIZE]) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        int r = 0;
        for (;;) {
                ssize_t n = read(fd, buf, CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                sha256_update(&ctx, (size_t) n, buf);
                *bytes += (uint64_t) n;
        }
        close(fd);
        sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
        return r;
}

static void *worker(void *u) {
        Work *w = u;
        unsigned char *buf = malloc(CHUNK);
        if (!buf)
                return (void *) 1;
        uint64_t bytes = 0;
        unsigned x = 0;
        for (size_t i; (i = atomic_fetch_add(&w->next, 1)) < w->n;) {
                uint8_t d[SHA256_DIGEST_SIZE];
                if (hash_one(w->paths[i], buf, &bytes, d) < 0)
                        atomic_fetch_add(&w->failed, 1);
                else
                        x ^= (unsigned) d[0] | (unsigned) d[31] << 8;
        }
        atomic_fetch_add(&w->bytes, bytes);
        atomic_fetch_xor(&w->digest_xor, x);
        free(buf);
        return NULL;
}

/* All of stdin, and the NUL-separated names in it (pointers into it). */
static int read_list(Work *w) {
        size_t cap = 1 << 20, len = 0;
        char *text = malloc(cap);
        for (;;) {
                if (!text)
                        return -ENOMEM;
                ssize_t n = read(0, text + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == cap)
                        text = realloc(text, cap *= 2);
        }
        size_t count = 1;
        for (size_t i = 0; i < len; i++)
                count += !text[i];
        if (!(w->paths = malloc(count * sizeof(char *))))
                return -ENOMEM;
        text[len] = '\0';   /* len < cap: a last name without its NUL ends too */
        for (size_t i = 0; i < len; i += strlen(text + i) + 1)
                if (text[i])
                        w->paths[w->n++] = text + i;
        return 0;
}

int main(int argc, char **argv) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        long threads = argc > 1 ? strtol(argv[1], NULL, 10) : cpus;
        if (argc > 2 || threads < 1 || threads > MAX_THREADS) {
                fprintf(stderr, "usage: hashfloor [THREADS 1-%d] < NUL-separated list of files\n", MAX_THREADS);
                return 2;
        }
        Work w = { 0 };
        int r = read_list(&w);
        if (r < 0) {
                fprintf(stderr, "hashfloor: reading the list: %s\n", strerror(-r));
                return 1;
        }
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pthread_t t[MAX_THREADS];
        long started = 0;
        /* The main thread hashes too, as virtgov's does. */
        for (; started + 1 < threads; started++)
                if (pthread_create(&t[started], NULL, worker, &w) != 0)
                        break;
        void *res = worker(&w);
        for (long i = 0; i < started; i++) {
                void *x;
                pthread_join(t[i], &x);
                res = res ? res : x;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (res) {
                fprintf(stderr, "hashfloor: out of memory\n");
                return 1;
        }
        printf("{\"files\": %zu, \"bytes\": %llu, \"unreadable\": %zu, \"threads\": %ld, \"seconds\": %.6f, "
               "\"xor\": %u}\n", w.n, (unsigned long long) atomic_load(&w.bytes), atomic_load(&w.failed),
               started + 1, (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9,
               atomic_load(&w.digest_xor));
        return 0;
}
