/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hashfloor [--no-read] [THREADS] < LIST: the SHA-256 of every file named
 * in LIST (NUL-separated, as find -print0 writes it), on THREADS threads
 * (default: every online CPU), each reading with read() into a
 * page-aligned 128 KiB buffer of its own (as virtgov's fscan does) and
 * hashing with nettle, the library virtgov hashes with. No walk, no stat,
 * no xattrs, no database: what any baseline of those files must at least
 * do, so bench/integrity.sh sets virtgov's baseline against it.
 *
 * --no-read: the hashing alone, no I/O. Each file's size is taken before
 * the clock starts; then as many bytes as the file holds are hashed, one
 * SHA-256 per file, from the buffer (warm in the cache). What this CPU
 * needs for those bytes whatever the reading costs: bench/isolation-full.sh
 * sets a full check against it.
 *
 * Prints one line of JSON: files, bytes read (or hashed), files that could
 * not be read, and the seconds spent hashing (the list read and split
 * before the clock starts). The caller times the whole process too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#define CHUNK (128 << 10)
#define MAX_THREADS 256

typedef struct Work {
        char **paths;
        uint64_t *sizes;          /* --no-read: each file's size; NULL: read the files */
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

/* size bytes hashed from buf, CHUNK at a time, as if read. */
static void hash_bytes(uint64_t size, const unsigned char *buf, uint64_t *bytes, uint8_t d[SHA256_DIGEST_SIZE]) {
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        for (uint64_t left = size; left;) {
                size_t n = left < CHUNK ? (size_t) left : CHUNK;
                sha256_update(&ctx, n, buf);
                left -= n;
        }
        *bytes += size;
        sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
}

static void *worker(void *u) {
        Work *w = u;
        /* Page-aligned: the kernel copies into a buffer 16 bytes past a
         * page (malloc's for 1 MiB) half again as slowly. */
        unsigned char *buf = aligned_alloc(4096, CHUNK);
        if (!buf)
                return (void *) 1;
        memset(buf, 0x5a, CHUNK);
        uint64_t bytes = 0;
        unsigned x = 0;
        for (size_t i; (i = atomic_fetch_add(&w->next, 1)) < w->n;) {
                uint8_t d[SHA256_DIGEST_SIZE];
                if (w->sizes)
                        hash_bytes(w->sizes[i], buf, &bytes, d);
                if (!w->sizes && hash_one(w->paths[i], buf, &bytes, d) < 0)
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
        bool no_read = argc > 1 && !strcmp(argv[1], "--no-read");
        argc -= no_read;
        argv += no_read;
        long threads = argc > 1 ? strtol(argv[1], NULL, 10) : cpus;
        if (argc > 2 || threads < 1 || threads > MAX_THREADS) {
                fprintf(stderr, "usage: hashfloor [--no-read] [THREADS 1-%d] < NUL-separated list of files\n",
                        MAX_THREADS);
                return 2;
        }
        Work w = { 0 };
        int r = read_list(&w);
        if (r < 0) {
                fprintf(stderr, "hashfloor: reading the list: %s\n", strerror(-r));
                return 1;
        }
        if (no_read && !(w.sizes = calloc(w.n ? w.n : 1, sizeof(uint64_t)))) {
                fprintf(stderr, "hashfloor: out of memory\n");
                return 1;
        }
        for (size_t i = 0; no_read && i < w.n; i++) {
                struct stat st;
                if (stat(w.paths[i], &st) == 0)
                        w.sizes[i] = (uint64_t) st.st_size;
                else
                        w.failed++;
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
