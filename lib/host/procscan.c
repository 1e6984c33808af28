/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "virtgov/host/procscan.h"

/* libvirt's daemons: what runs QEMU, logs for it, locks its disks. */
static const char *const daemons[] = { "libvirtd", "virtqemud", "virtlogd", "virtlockd", "virtnetworkd",
                                       "virtproxyd", NULL };

#define DELETED " (deleted)"
/* /proc/PID/maps of a QEMU: a few hundred lines. Far more is not one. */
#define MAPS_MAX (16 << 20)

void proc_targets_clear(ProcTargets *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].role);
                free(t->v[i].domain);
        }
        free(t->v);
        *t = (ProcTargets) { 0 };
}

/* Reads a small /proc file of pid into *ret (NUL-terminated). */
static int read_proc(const char *proc_dir, pid_t pid, const char *name, size_t max, char **ret, size_t *len) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%d/%s", proc_dir, (int) pid, name);
        return vg_read_file(path, max, ret, len);
}

/* starttime, field 22 of /proc/PID/stat: after the ')' that ends comm
 * (which may hold spaces and parentheses itself), the 20th field. */
int proc_start_ticks(const char *proc_dir, pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_proc(proc_dir, pid, "stat", 4096, &buf, &len);
        if (r < 0)
                return r;
        return proc_stat_start_ticks(buf, ret);
}

int proc_stat_start_ticks(const char *buf, uint64_t *ret) {
        const char *p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (errno || end == p + 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}

double proc_start_time(const char *proc_dir, pid_t pid) {
        uint64_t ticks;
        if (proc_start_ticks(proc_dir, pid, &ticks) < 0)
                return 0;
        /* On CLOCK_BOOTTIME, made wall time through the clocks themselves:
         * btime in /proc/stat rounds to whole seconds. */
        struct timespec real, boot;
        clock_gettime(CLOCK_REALTIME, &real);
        clock_gettime(CLOCK_BOOTTIME, &boot);
        double boot_epoch = (double) real.tv_sec + real.tv_nsec / 1e9 - (double) boot.tv_sec - boot.tv_nsec / 1e9;
        return boot_epoch + (double) ticks / (double) sysconf(_SC_CLK_TCK);
}

static int target_add(ProcTargets *t, const char *proc_dir, pid_t pid, const char *role, const char *domain) {
        uint64_t ticks;
        if (proc_start_ticks(proc_dir, pid, &ticks) < 0)
                return 0;   /* gone meanwhile */
        if (vg_grow((void **) &t->v, &t->n, sizeof(*t->v)) < 0)
                return -ENOMEM;
        ProcTarget *x = &t->v[t->n - 1];
        *x = (ProcTarget) { .pid = pid, .start_ticks = ticks, .role = strdup(role), .domain = vg_strdup0(domain) };
        return !x->role || (domain && !x->domain) ? -ENOMEM : 0;
}

/* Whether pid's command line is the QEMU libvirt started for domain:
 * "-name" followed by "guest=NAME,..." (or "NAME" alone, older libvirt). */
static bool is_qemu_of(const char *proc_dir, pid_t pid, const char *domain) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (read_proc(proc_dir, pid, "cmdline", 1 << 20, &buf, &len) < 0)
                return false;
        size_t dl = strlen(domain);
        for (size_t i = 0; i < len;) {
                const char *arg = buf + i;
                i += strlen(arg) + 1;
                if (strcmp(arg, "-name") || i >= len)
                        continue;
                const char *v = buf + i;
                if (!strncmp(v, "guest=", 6))
                        v += 6;
                /* The name ends at a ',' that is not doubled (QEMU's escape). */
                size_t k = 0, n = 0;
                while (v[k] && k <= 2 * dl + 1) {
                        if (v[k] == ',' && v[k + 1] == ',')
                                k++;
                        else if (v[k] == ',')
                                break;
                        if (n >= dl || v[k] != domain[n])
                                return false;
                        k++, n++;
                }
                return n == dl && (!v[k] || v[k] == ',');
        }
        return false;
}

static int find_qemus(const char *proc_dir, const char *run_dir, const char *domain, ProcTargets *t,
                      VgError *err) {
        DIR *d = opendir(run_dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return vg_error(err, -errno, "%s: %s", run_dir, strerror(errno));
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n <= 4 || strcmp(de->d_name + n - 4, ".pid"))
                        continue;
                _cleanup_free_ char *name = strndup(de->d_name, n - 4);
                if (!name) {
                        r = vg_error(err, -ENOMEM, "out of memory");
                        break;
                }
                if (domain && strcmp(name, domain))
                        continue;
                char path[4096], *buf = NULL;
                size_t len;
                snprintf(path, sizeof(path), "%s/%s", run_dir, de->d_name);
                if (vg_read_file(path, 64, &buf, &len) < 0)
                        continue;   /* removed as the domain stopped */
                char *end;
                long pid = strtol(buf, &end, 10);
                bool ok = end != buf && (*end == '\0' || *end == '\n') && pid > 0 && pid < (1L << 22);
                free(buf);
                if (ok && is_qemu_of(proc_dir, (pid_t) pid, name) &&
                    target_add(t, proc_dir, (pid_t) pid, "qemu", name) < 0)
                        r = vg_error(err, -ENOMEM, "out of memory");
        }
        closedir(d);
        return r;
}

static int find_daemons(const char *proc_dir, ProcTargets *t, VgError *err) {
        DIR *d = opendir(proc_dir);
        if (!d)
                return vg_error(err, -errno, "%s: %s", proc_dir, strerror(errno));
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0)
                        continue;
                _cleanup_free_ char *comm = NULL;
                size_t len;
                if (read_proc(proc_dir, (pid_t) pid, "comm", 64, &comm, &len) < 0)
                        continue;
                comm[strcspn(comm, "\n")] = '\0';
                for (size_t i = 0; daemons[i]; i++)
                        if (!strcmp(comm, daemons[i]) && target_add(t, proc_dir, (pid_t) pid, comm, NULL) < 0)
                                r = vg_error(err, -ENOMEM, "out of memory");
        }
        closedir(d);
        return r;
}

int proc_targets_find(const char *proc_dir, const char *qemu_run_dir, const char *domain, ProcTargets *ret,
                      VgError *err) {
        *ret = (ProcTargets) { 0 };
        int r = domain ? 0 : find_daemons(proc_dir, ret, err);
        if (r == 0)
                r = find_qemus(proc_dir, qemu_run_dir, domain, ret, err);
        if (r < 0)
                proc_targets_clear(ret);
        return r;
}

/* ---- the hash cache ---- */

typedef struct CacheEntry {
        uint64_t dev, ino, size;
        int64_t mtime_ns, ctime_ns;
        char sha256[FSCAN_SHA256_HEX];
} CacheEntry;

struct ProcCache {
        CacheEntry *v;
        size_t n, cap;            /* open addressing, cap a power of two */
        size_t hashed, hits;
        uint64_t bytes;
        ProcPrevious previous;
        void *userdata;
};

void proc_cache_previous(ProcCache *c, ProcPrevious fn, void *userdata) {
        c->previous = fn;
        c->userdata = userdata;
}

ProcCache *proc_cache_new(void) {
        return calloc(1, sizeof(ProcCache));
}

ProcCache *proc_cache_free(ProcCache *c) {
        if (c) {
                free(c->v);
                free(c);
        }
        return NULL;
}

void proc_cache_stats(const ProcCache *c, size_t *hashed, size_t *hits, uint64_t *bytes) {
        *hashed = c->hashed;
        *hits = c->hits;
        *bytes = c->bytes;
}

static size_t slot_of(const ProcCache *c, uint64_t dev, uint64_t ino) {
        uint64_t h = (ino * 0x9e3779b97f4a7c15ULL) ^ (dev * 0xc2b2ae3d27d4eb4fULL);
        return (size_t) (h ^ (h >> 29)) & (c->cap - 1);
}

static CacheEntry *cache_find(ProcCache *c, const ProcMapping *m) {
        if (!c->cap)
                return NULL;
        for (size_t i = slot_of(c, m->dev, m->ino);; i = (i + 1) & (c->cap - 1)) {
                CacheEntry *e = &c->v[i];
                if (!e->sha256[0])
                        return NULL;
                if (e->dev == m->dev && e->ino == m->ino)
                        return e;
        }
}

/* The entry of m's file, put in (replacing what its inode held before:
 * the same inode with another size or time is the file changed). */
static int cache_put(ProcCache *c, const ProcMapping *m) {
        if ((c->n + 1) * 2 > c->cap) {
                ProcCache bigger = { .cap = c->cap ? c->cap * 2 : 256 };
                if (!(bigger.v = calloc(bigger.cap, sizeof(CacheEntry))))
                        return -ENOMEM;
                for (size_t i = 0; i < c->cap; i++)
                        if (c->v[i].sha256[0]) {
                                size_t k = slot_of(&bigger, c->v[i].dev, c->v[i].ino);
                                while (bigger.v[k].sha256[0])
                                        k = (k + 1) & (bigger.cap - 1);
                                bigger.v[k] = c->v[i];
                        }
                free(c->v);
                c->v = bigger.v;
                c->cap = bigger.cap;
        }
        size_t i = slot_of(c, m->dev, m->ino);
        while (c->v[i].sha256[0] && !(c->v[i].dev == m->dev && c->v[i].ino == m->ino))
                i = (i + 1) & (c->cap - 1);
        c->n += !c->v[i].sha256[0];
        c->v[i] = (CacheEntry) { m->dev, m->ino, m->size, m->mtime_ns, m->ctime_ns, "" };
        memcpy(c->v[i].sha256, m->sha256, sizeof(m->sha256));
        return 0;
}

/* ---- measuring one process ---- */

void proc_image_clear(ProcImage *p) {
        free(p->target.role);
        free(p->target.domain);
        free(p->exe);
        for (size_t i = 0; i < p->n_maps; i++)
                free(p->maps[i].path);
        free(p->maps);
        free(p->error_text);
        *p = (ProcImage) { 0 };
}

static int64_t ns_of(struct timespec t) {
        return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A path the kernel gave with " (deleted)" at its end: cut, and said. */
static bool strip_deleted(char *path) {
        size_t n = strlen(path), k = strlen(DELETED);
        if (n > k && !strcmp(path + n - k, DELETED)) {
                path[n - k] = '\0';
                return true;
        }
        return false;
}

/* Hashes the open file fd is (the process's view of it), through the
 * cache. */
static int measure_fd(ProcCache *c, int fd, ProcMapping *m) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return m->error = -errno;
        if (!S_ISREG(st.st_mode))
                return m->error = -EBADFD;
        m->dev = st.st_dev;
        m->ino = st.st_ino;
        m->size = (uint64_t) st.st_size;
        m->mtime_ns = ns_of(st.st_mtim);
        m->ctime_ns = ns_of(st.st_ctim);
        CacheEntry *e = cache_find(c, m);
        if (e && e->size == m->size && e->mtime_ns == m->mtime_ns && e->ctime_ns == m->ctime_ns) {
                memcpy(m->sha256, e->sha256, sizeof(m->sha256));
                c->hits++;
                return 0;
        }
        const char *prev = c->previous ? c->previous(m, c->userdata) : NULL;
        if (prev && strlen(prev) == FSCAN_SHA256_HEX - 1) {
                memcpy(m->sha256, prev, FSCAN_SHA256_HEX);
                c->hits++;
                return cache_put(c, m);
        }
        int r = fscan_hash_fd(fd, m->sha256);
        if (r < 0)
                return m->error = r;
        c->hashed++;
        c->bytes += m->size;
        return cache_put(c, m);
}

/* Whether path names another file than the one measured now. */
static bool replaced(const ProcMapping *m, bool deleted) {
        struct stat st;
        return deleted || lstat(m->path, &st) < 0 || (uint64_t) st.st_dev != m->dev || (uint64_t) st.st_ino != m->ino;
}

static int mapping_add(ProcImage *p, const char *path, bool exe) {
        if (vg_grow((void **) &p->maps, &p->n_maps, sizeof(*p->maps)) < 0)
                return -ENOMEM;
        ProcMapping *m = &p->maps[p->n_maps - 1];
        m->exe = m->executable = exe;
        if (!(m->path = strdup(path)))
                return -ENOMEM;
        return 0;
}

static int fail(ProcImage *p, int r, const char *what, const char *path) {
        p->error = r;
        const char *hint = r == -EACCES || r == -EPERM
                ? ": reading another user's process takes CAP_SYS_PTRACE, its map_files CAP_CHECKPOINT_RESTORE"
                : "";
        return asprintf(&p->error_text, "%s %s: %s%s", what, path, strerror(-r), hint) < 0 ? -ENOMEM : 0;
}

int proc_mapping_open(const char *proc_dir, pid_t pid, const ProcMapping *m) {
        char path[4096];
        if (m->exe)
                snprintf(path, sizeof(path), "%s/%d/exe", proc_dir, (int) pid);
        else
                snprintf(path, sizeof(path), "%s/%d/map_files/%s", proc_dir, (int) pid, m->range);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || (uint64_t) st.st_dev != m->dev || (uint64_t) st.st_ino != m->ino ||
            (uint64_t) st.st_size != m->size || ns_of(st.st_mtim) != m->mtime_ns) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

bool proc_maps_line(char *line, char **range, char **perms, uint64_t *ino, char **path) {
        /* "start-end perms offset dev inode   path" */
        char *save = NULL, *f[5];
        char *p = line;
        for (int i = 0; i < 5; i++) {
                f[i] = strtok_r(i ? NULL : p, " ", &save);
                if (!f[i])
                        return false;
        }
        if (!strchr(f[0], '-'))
                return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(f[4], &end, 10);
        if (errno || *end)
                return false;
        *range = f[0];
        *perms = f[1];
        *ino = v;
        *path = NULL;
        char *rest = save;
        if (rest) {
                while (*rest == ' ')
                        rest++;
                if (*rest)
                        *path = rest;
        }
        if (*path) {
                /* The kernel escapes a newline in a path as "\012". */
                char *w = *path;
                for (char *r = *path; *r; r++) {
                        if (r[0] == '\\' && r[1] == '0' && r[2] == '1' && r[3] == '2') {
                                *w++ = '\n';
                                r += 3;
                        } else
                                *w++ = *r;
                }
                *w = '\0';
        }
        return true;
}

/* Not a file of the disk: memfd (guest RAM), SysV shared memory, devices. */
static bool is_file_path(const char *path) {
        return path && path[0] == '/' && strncmp(path, "/memfd:", 7) && strncmp(path, "/SYSV", 5) &&
               strncmp(path, "/dev/", 5) && strncmp(path, "/anon_hugepage", 14);
}

static int read_maps(const char *proc_dir, ProcImage *p, ProcCache *c) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%d/map_files", proc_dir, (int) p->target.pid);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_proc(proc_dir, p->target.pid, "maps", MAPS_MAX, &buf, &len);
        if (r < 0)
                return fail(p, r, "reading", "maps");
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return fail(p, -errno, "opening", dir);
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *range, *perms, *path;
                uint64_t ino;
                if (!proc_maps_line(line, &range, &perms, &ino, &path) || !ino || !is_file_path(path))
                        continue;
                bool deleted = strip_deleted(path), exec = strchr(perms, 'x') != NULL;
                /* One entry per file: a library is mapped in several
                 * segments; the inode and path say it is the same. */
                ProcMapping *seen = NULL;
                for (size_t i = 0; i < p->n_maps && !seen; i++)
                        if (p->maps[i].ino == ino && !strcmp(p->maps[i].path, path))
                                seen = &p->maps[i];
                if (seen) {
                        seen->executable |= exec;
                        continue;
                }
                if (mapping_add(p, path, false) < 0)
                        return -ENOMEM;
                ProcMapping *m = &p->maps[p->n_maps - 1];
                m->executable = exec;
                m->ino = ino;   /* until measured: what dedups the other segments */
                snprintf(m->range, sizeof(m->range), "%s", range);
                int fd = openat(dfd, range, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        m->error = -errno;
                        continue;
                }
                r = measure_fd(c, fd, m);
                close(fd);
                if (r == -ENOMEM)
                        return r;
                if (!m->error)
                        m->replaced = replaced(m, deleted);
        }
        return 0;
}

int proc_image_read(const char *proc_dir, const ProcTarget *t, ProcCache *c, ProcImage *ret) {
        ProcImage p = { .target = { .pid = t->pid, .start_ticks = t->start_ticks, .role = strdup(t->role),
                                    .domain = vg_strdup0(t->domain) } };
        int r = !p.target.role || (t->domain && !p.target.domain) ? -ENOMEM : 0;
        char path[4096], target[4096];
        snprintf(path, sizeof(path), "%s/%d/exe", proc_dir, (int) t->pid);
        uint64_t ticks;
        if (r == 0 && (proc_start_ticks(proc_dir, t->pid, &ticks) < 0 || ticks != t->start_ticks)) {
                r = fail(&p, -ESRCH, "reading", path);   /* it ended, and its pid may be another's now */
                goto out;
        }
        ssize_t n = r == 0 ? readlink(path, target, sizeof(target) - 1) : -1;
        if (r == 0 && n < 0) {
                r = fail(&p, -errno, "reading", path);
                goto out;
        }
        if (r == 0) {
                target[n] = '\0';
                bool deleted = strip_deleted(target);
                p.exe = strdup(target);
                r = p.exe && mapping_add(&p, target, true) == 0 ? 0 : -ENOMEM;
                ProcMapping *m = r == 0 ? &p.maps[0] : NULL;
                int fd = m ? open(path, O_RDONLY | O_CLOEXEC) : -1;
                if (m && fd < 0)
                        m->error = -errno;
                if (fd >= 0) {
                        r = measure_fd(c, fd, m);
                        close(fd);
                        if (!m->error)
                                m->replaced = replaced(m, deleted);
                }
        }
        /* The mappings are read even when the executable could not be:
         * what is wrong with one is in its entry. */
        if (r != -ENOMEM)
                r = read_maps(proc_dir, &p, c);
out:
        if (r == -ENOMEM) {
                proc_image_clear(&p);
                return r;
        }
        *ret = p;
        return 0;
}
