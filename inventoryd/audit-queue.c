/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit socket's reader thread (audit-priv.h): the daemon's one thread
 * besides the loop, and why. The loop commits events to the inventory, and
 * a commit's fdatasync held it for up to seconds on a busy host
 * (bench/audit.sh: 3.5 s of CPU in 22 s, yet records dropped); meanwhile
 * the kernel drops what does not fit the socket's buffer, which
 * net.core.rmem_max caps (an overflow of 4 MiB is half a second at 10,000
 * records a second). This thread only moves records from the socket into
 * memory, bounded, and wakes the loop; everything else stays in the loop.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libaudit.h>
#include <linux/netlink.h>

#include "audit-priv.h"

/* Records are packed into chunks this big, each mapped on its own, so a
 * chunk given back is given back to the system: a burst leaves no heap
 * behind it. (malloc would map them too, at first: glibc raises its mmap
 * threshold after the first free of a mapped block, and later chunks
 * came from a heap that kept the burst's size: 35 MiB of RSS growth in
 * bench/audit.sh.) */
#define CHUNK_BYTES (256 * 1024)

typedef struct Chunk {
        struct Chunk *next;
        size_t used;
        unsigned char data[];
} Chunk;

/* One record in a chunk: its type and length, then its text. */
typedef struct Packed {
        uint16_t type;
        uint16_t len;
} Packed;

struct AuditQueue {
        int fd, wake_fd, stop_fd;
        size_t max_bytes;
        pthread_t thread;
        pthread_mutex_t lock;
        /* under lock */
        Chunk *head, *tail;
        size_t bytes;
        uint64_t dropped, overflows;
};

static Chunk *chunk_new(void) {
        Chunk *c = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED)
                return NULL;
        c->next = NULL;
        c->used = 0;
        return c;
}

static void chunk_free(Chunk *c) {
        munmap(c, CHUNK_BYTES);
}

/* Appends one record; false when the queue is full or memory short. */
static bool push(AuditQueue *q, uint16_t type, const char *text, size_t len) {
        size_t need = sizeof(Packed) + len, room = CHUNK_BYTES - sizeof(Chunk);
        if (need > room || q->bytes + need > q->max_bytes)
                return false;
        if (!q->tail || room - q->tail->used < need) {
                Chunk *c = chunk_new();
                if (!c)
                        return false;
                if (q->tail)
                        q->tail->next = c;
                else
                        q->head = c;
                q->tail = c;
        }
        Packed p = { type, (uint16_t) len };
        memcpy(q->tail->data + q->tail->used, &p, sizeof(p));
        memcpy(q->tail->data + q->tail->used + sizeof(p), text, len);
        q->tail->used += need;
        q->bytes += need;
        return true;
}

static void *reader(void *opaque) {
        AuditQueue *q = opaque;
        char buf[MAX_AUDIT_MESSAGE_LENGTH + NLMSG_HDRLEN + 64] __attribute__((aligned(__alignof__(struct nlmsghdr))));
        for (;;) {
                struct pollfd p[2] = { { q->fd, POLLIN, 0 }, { q->stop_fd, POLLIN, 0 } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                bool woke = false;
                for (;;) {
                        ssize_t n = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0 && errno == ENOBUFS) {
                                pthread_mutex_lock(&q->lock);
                                q->overflows++;
                                pthread_mutex_unlock(&q->lock);
                                woke = true;
                                continue;
                        }
                        if (n <= 0)
                                break;
                        /* One record per datagram; its nlmsg_len is the
                         * payload's length, not the message's (the kernel's
                         * quirk, kernel/audit.c audit_log_end): the
                         * datagram's size says where it ends. */
                        if ((size_t) n <= NLMSG_HDRLEN)
                                continue;
                        const struct nlmsghdr *h = (const struct nlmsghdr *) buf;
                        pthread_mutex_lock(&q->lock);
                        if (!push(q, h->nlmsg_type, buf + NLMSG_HDRLEN, (size_t) n - NLMSG_HDRLEN))
                                q->dropped++;
                        pthread_mutex_unlock(&q->lock);
                        woke = true;
                }
                if (woke) {
                        uint64_t one = 1;
                        (void) !write(q->wake_fd, &one, sizeof(one));
                }
        }
        return NULL;
}

int auditq_start(int fd, size_t max_bytes, AuditQueue **ret) {
        AuditQueue *q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (AuditQueue) { .fd = fd, .max_bytes = max_bytes, .wake_fd = -1, .stop_fd = -1 };
        pthread_mutex_init(&q->lock, NULL);
        q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        int r = q->wake_fd < 0 || q->stop_fd < 0 ? -errno : -pthread_create(&q->thread, NULL, reader, q);
        if (r < 0) {
                if (q->wake_fd >= 0)
                        close(q->wake_fd);
                if (q->stop_fd >= 0)
                        close(q->stop_fd);
                pthread_mutex_destroy(&q->lock);
                free(q);
                return r;
        }
        *ret = q;
        return 0;
}

int auditq_wake_fd(const AuditQueue *q) {
        return q->wake_fd;
}

int auditq_take(AuditQueue *q, AuditRecordFn fn, void *userdata, AuditQueueLoss *loss) {
        uint64_t n;
        (void) !read(q->wake_fd, &n, sizeof(n));
        pthread_mutex_lock(&q->lock);
        Chunk *c = q->head;
        q->head = q->tail = NULL;
        q->bytes = 0;
        *loss = (AuditQueueLoss) { q->dropped, q->overflows };
        q->dropped = q->overflows = 0;
        pthread_mutex_unlock(&q->lock);
        int last = 0;
        while (c) {
                for (size_t off = 0; off < c->used;) {
                        Packed p;
                        memcpy(&p, c->data + off, sizeof(p));
                        fn(p.type, (const char *) c->data + off + sizeof(p), p.len, userdata);
                        last = p.type;
                        off += sizeof(p) + p.len;
                }
                Chunk *next = c->next;
                chunk_free(c);
                c = next;
        }
        return last;
}

AuditQueue *auditq_stop(AuditQueue *q) {
        if (!q)
                return NULL;
        uint64_t one = 1;
        (void) !write(q->stop_fd, &one, sizeof(one));
        pthread_join(q->thread, NULL);
        for (Chunk *c = q->head, *next; c; c = next) {
                next = c->next;
                chunk_free(c);
        }
        close(q->wake_fd);
        close(q->stop_fd);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return NULL;
}
