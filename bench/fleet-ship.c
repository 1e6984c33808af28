/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet-ship: the central inventory's ingest, through the daemon's own
 * shipper (ship_round, central/ship.h), for a fleet of simulated hosts.
 *
 *   fleet-ship DSN INVENTORY HOSTS THREADS BATCH SECONDS RATE START PIDFILE
 *
 * Host i (1..HOSTS) writes as host id "bench-i" through its own role
 * "virtgov_host_bench_i" (DSN plus " user=..."; the roles, row-level
 * security and passwords are the bench's set-up). Every host ships the
 * same local inventory, INVENTORY: the centre keys rows by host id, so
 * HOSTS hosts with E events each are HOSTS x E rows to it. Each host's
 * position starts at START: the centre already holds that many of its
 * events (the history bench/fleet/history.sql wrote), as after years of
 * shipping; the inventory's events after START are its backlog.
 *
 * THREADS workers take the hosts in turn, one round at a time, each round
 * connecting and disconnecting as the daemon's do: at most THREADS server
 * connections at once.
 *
 * 1. Drain: every host ships the whole inventory (its events and, the
 *    first time, its domains, disks and interfaces): the backlog of an
 *    outage, or of a mass reboot. Printed: events/s, rounds/s, the
 *    rounds' p50/p99 and the time to drain.
 * 2. Stream, for SECONDS (0: skipped): a writer appends RATE / HOSTS
 *    events a second to INVENTORY (every host gets each: RATE events a
 *    second fleet-wide), while the workers go on taking the hosts in
 *    turn. A round's lag is the time from the append of the oldest event
 *    it shipped to its commit: each event's lag is at most its round's.
 *    Printed: events/s shipped, the lag's p50/p99/max over the rounds.
 *
 * The server and its clients share this machine's cores, where a fleet's
 * hosts bring their own: each phase also prints the CPU time the server
 * spent (PIDFILE: the cluster's postmaster.pid; its processes' times and
 * those of the backends it reaped) and the shipper's own, and from the
 * first the events one server core takes a second.
 */
#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "virtgov/central/ship.h"
#include "virtgov/model/event.h"
#include "virtgov/store/store.h"

typedef struct Host {
        int64_t cursor;
        uint64_t digest, integrity_digest;
} Host;

static const char *dsn_base, *inventory;
static long n_hosts, n_threads, batch;
static Host *hosts;
static atomic_long next_host;
static atomic_int stop, phase_stream;
static atomic_llong shipped, rounds_done;
static atomic_llong failures;

/* per-event append times of the stream (id - first_id), and round figures */
#define MAX_STREAM (1 << 22)
static int64_t *appended;       /* us; 0: not appended by the writer */
static int64_t first_stream_id;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t *samples;        /* round times or lags, us */
static size_t n_samples, cap_samples;

static void sample(int64_t us) {
        pthread_mutex_lock(&lock);
        if (n_samples == cap_samples) {
                cap_samples = cap_samples ? 2 * cap_samples : 65536;
                samples = realloc(samples, cap_samples * sizeof(*samples));
                if (!samples)
                        abort();
        }
        samples[n_samples++] = us;
        pthread_mutex_unlock(&lock);
}

static int cmp64(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return (x > y) - (x < y);
}

/* p50, p99 and max of the samples so far, in ms; then forgets them. */
static void print_samples(const char *what) {
        pthread_mutex_lock(&lock);
        qsort(samples, n_samples, sizeof(*samples), cmp64);
        if (n_samples)
                printf("  %-22s p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms   (%zu rounds)\n", what,
                       samples[n_samples / 2] / 1e3, samples[n_samples * 99 / 100] / 1e3,
                       samples[n_samples - 1] / 1e3, n_samples);
        n_samples = 0;
        pthread_mutex_unlock(&lock);
}

/* ---- CPU time: the server's and the shipper's ---- */

static long postmaster;

/* utime + stime of /proc/PID/stat, and cutime + cstime when children;
 * its parent's pid in *ppid. Ticks; -1 when gone. */
static long long proc_ticks(long pid, bool children, long *ppid) {
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');   /* after comm, which may hold spaces */
        long long ut, st, cut, cst;
        if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld %lld %lld", ppid, &ut, &st,
                         &cut, &cst) != 5)
                return -1;
        return ut + st + (children ? cut + cst : 0);
}

/* The cluster's CPU seconds so far: the postmaster with the backends it
 * reaped, and each live child. */
static double server_cpu_s(void) {
        long ppid;
        long long t = proc_ticks(postmaster, true, &ppid);
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                char *end;
                long pid = strtol(e->d_name, &end, 10);
                long long c;
                if (*end || pid == postmaster || (c = proc_ticks(pid, false, &ppid)) < 0 || ppid != postmaster)
                        continue;
                t += c;
        }
        if (d)
                closedir(d);
        return (double) t / (double) sysconf(_SC_CLK_TCK);
}

static double own_cpu_s(void) {
        struct rusage u;
        getrusage(RUSAGE_SELF, &u);
        return (double) (u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
               (double) (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void print_cpu(long long events, double server0, double own0) {
        double server = server_cpu_s() - server0, own = own_cpu_s() - own0;
        printf("  CPU: the server %.1f s, the shipper %.1f s: %.0f events per server CPU second\n", server, own,
               server > 0 ? (double) events / server : 0.0);
}

static void *worker(void *arg) {
        (void) arg;
        char dsn[512], host_id[32];
        for (;;) {
                long i = atomic_fetch_add(&next_host, 1);
                if (!atomic_load(&phase_stream) && i >= n_hosts)
                        return NULL;
                if (atomic_load(&stop))
                        return NULL;
                i %= n_hosts;
                Host *h = &hosts[i];
                snprintf(dsn, sizeof(dsn), "%s user=virtgov_host_bench_%ld", dsn_base, i + 1);
                snprintf(host_id, sizeof(host_id), "bench-%ld", i + 1);
                ShipRound r = {
                        .inventory = inventory, .busy_timeout_ms = 5000, .dsn = dsn, .app = "fleet-ship",
                        .host_id = host_id, .host_group = "bench", .instance = host_id,
                        .machine_id_file = "/etc/machine-id", .batch = (unsigned) batch,
                        .cursor = h->cursor, .state_digest = h->digest, .integrity_digest = h->integrity_digest,
                };
                VgError err = { "" };
                int64_t t0 = vg_now_us();
                int k = ship_round(&r, &err);
                int64_t t1 = vg_now_us();
                if (k < 0) {
                        if (atomic_fetch_add(&failures, 1) < 5)
                                fprintf(stderr, "fleet-ship: %s: %s\n", host_id, err.text);
                        continue;
                }
                atomic_fetch_add(&shipped, (long long) r.n_new);
                atomic_fetch_add(&rounds_done, 1);
                if (!atomic_load(&phase_stream))
                        sample(t1 - t0);
                else if (r.shipped_to > h->cursor && h->cursor + 1 >= first_stream_id) {
                        int64_t a = appended[h->cursor + 1 - first_stream_id];
                        if (a)
                                sample(t1 - a);
                }
                h->cursor = r.shipped_to;
                h->digest = r.new_state_digest;
                h->integrity_digest = r.new_integrity_digest;
        }
}

/* Appends RATE / HOSTS events a second to the inventory, a few at a time. */
static long rate;
static void *writer(void *arg) {
        (void) arg;
        Store *s = NULL;
        VgError err = { "" };
        if (store_open(inventory, STORE_WRITE, 5000, &s, &err) < 0) {
                fprintf(stderr, "fleet-ship: %s\n", err.text);
                atomic_store(&stop, 1);
                return NULL;
        }
        double per_s = (double) rate / (double) n_hosts;
        int64_t start = vg_now_us(), n = 0;
        while (!atomic_load(&stop)) {
                int64_t due = (int64_t) ((double) (vg_now_us() - start) / 1e6 * per_s);
                for (; n < due && n < MAX_STREAM; n++) {
                        Event *e = event_new("libvirt", "domain.started");
                        event_set(&e->domain, "vm-000001");
                        if (store_append_event(s, e, NULL, &err) < 0) {
                                fprintf(stderr, "fleet-ship: %s\n", err.text);
                                atomic_store(&stop, 1);
                        } else
                                appended[e->id - first_stream_id] = vg_now_us();
                        event_free(e);
                }
                usleep(10000);
        }
        store_close(s);
        return NULL;
}

int main(int argc, char **argv) {
        if (argc != 10) {
                fprintf(stderr, "usage: fleet-ship DSN INVENTORY HOSTS THREADS BATCH SECONDS RATE START PIDFILE\n");
                return 2;
        }
        dsn_base = argv[1];
        inventory = argv[2];
        n_hosts = atol(argv[3]);
        n_threads = atol(argv[4]);
        batch = atol(argv[5]);
        long seconds = atol(argv[6]);
        rate = atol(argv[7]);
        long start = atol(argv[8]);
        FILE *pf = fopen(argv[9], "re");
        if (!pf || fscanf(pf, "%ld", &postmaster) != 1 || postmaster < 1) {
                fprintf(stderr, "fleet-ship: %s: no postmaster pid\n", argv[9]);
                return 2;
        }
        fclose(pf);
        if (n_hosts < 1 || n_threads < 1 || n_threads > 1000 || batch < 1 || batch > SHIP_BATCH_MAX) {
                fprintf(stderr, "fleet-ship: HOSTS >= 1, THREADS 1..1000, BATCH 1..%d\n", SHIP_BATCH_MAX);
                return 2;
        }
        hosts = calloc((size_t) n_hosts, sizeof(*hosts));
        appended = calloc(MAX_STREAM, sizeof(*appended));
        pthread_t *t = calloc((size_t) n_threads, sizeof(*t));
        if (!hosts || !appended || !t)
                return 1;
        for (long i = 0; i < n_hosts; i++)
                hosts[i].cursor = start;

        printf("drain: %ld hosts ship the inventory's backlog, %ld connections at most, batch %ld\n", n_hosts,
               n_threads, batch);
        double server0 = server_cpu_s(), own0 = own_cpu_s();
        int64_t t0 = vg_now_us();
        for (long i = 0; i < n_threads; i++)
                pthread_create(&t[i], NULL, worker, NULL);
        for (long i = 0; i < n_threads; i++)
                pthread_join(t[i], NULL);
        double s = (double) (vg_now_us() - t0) / 1e6;
        long long ev = atomic_load(&shipped), ro = atomic_load(&rounds_done);
        printf("  %lld events in %.1f s: %.0f events/s, %.0f rounds (connections)/s, %lld failed rounds\n", ev, s,
               (double) ev / s, (double) ro / s, (long long) atomic_load(&failures));
        print_samples("round");
        print_cpu(ev, server0, own0);
        if (seconds <= 0 || atomic_load(&failures))
                return atomic_load(&failures) ? 1 : 0;

        Store *st = NULL;
        VgError err = { "" };
        int64_t head = 0;
        char hex[CHAIN_HEX_SIZE];
        if (store_open(inventory, STORE_READ, 5000, &st, &err) < 0 || store_chain_head(st, &head, hex, &err) < 0) {
                fprintf(stderr, "fleet-ship: %s\n", err.text);
                return 1;
        }
        store_close(st);
        first_stream_id = head + 1;
        atomic_store(&shipped, 0);
        atomic_store(&rounds_done, 0);
        atomic_store(&phase_stream, 1);
        printf("stream: %ld events/s fleet-wide (%.2f per host), %ld s\n", rate, (double) rate / (double) n_hosts,
               seconds);
        pthread_t w;
        server0 = server_cpu_s();
        own0 = own_cpu_s();
        t0 = vg_now_us();
        pthread_create(&w, NULL, writer, NULL);
        for (long i = 0; i < n_threads; i++)
                pthread_create(&t[i], NULL, worker, NULL);
        sleep((unsigned) seconds);
        atomic_store(&stop, 1);
        for (long i = 0; i < n_threads; i++)
                pthread_join(t[i], NULL);
        pthread_join(w, NULL);
        s = (double) (vg_now_us() - t0) / 1e6;
        ev = atomic_load(&shipped);
        ro = atomic_load(&rounds_done);
        printf("  %lld events in %.1f s: %.0f events/s shipped, %.0f rounds (connections)/s\n", ev, s,
               (double) ev / s, (double) ro / s);
        print_samples("lag (append to commit)");
        print_cpu(ev, server0, own0);
        return atomic_load(&failures) ? 1 : 0;
}
