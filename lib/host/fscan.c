/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "virtgov/host/fscan.h"
#include "virtgov/util/util.h"

/* The read buffer of fscan_hash_fd, on its stack and page-aligned. The
 * alignment is the point: with the kernel copying into a buffer 16 bytes
 * past a page boundary (malloc's for 1 MiB), reading and hashing the 165 MB
 * of an isolation check took 260 ms of CPU; aligned, 170. 128 KiB stays
 * in L2 between the copy and the hash; 1 MiB was no faster. */
#define READ_CHUNK (128 << 10)
#define MAX_XATTR_LIST 4096
#define MAX_XATTR_VALUE 4096     /* labels, capabilities, IMA signatures: hundreds of bytes */

static const char *const attr_names[] = { "type", "mode", "uid", "gid", "size", "inode", "mtime", "ctime",
                                          "target", "xattrs", "sha256" };

const char *fscan_attr_name(unsigned attr) {
        for (size_t i = 0; i < ELEMENTSOF(attr_names); i++)
                if (attr == 1u << i)
                        return attr_names[i];
        return NULL;
}

void fscan_file_clear(FscanFile *f) {
        free(f->path);
        free(f->target);
        free(f->xattrs);
        *f = (FscanFile) { 0 };
}

FscanList *fscan_list_free(FscanList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                fscan_file_clear(&l->files[i]);
        free(l->files);
        for (size_t i = 0; i < l->n_tags; i++)
                free(l->tags[i]);
        free(l->tags);
        free(l);
        return NULL;
}

const char *fscan_list_tag(FscanList *l, const char *tag) {
        if (!tag)
                return NULL;
        for (size_t i = 0; i < l->n_tags; i++)
                if (!strcmp(l->tags[i], tag))
                        return l->tags[i];
        char *copy = strdup(tag);
        if (!copy || vg_grow((void **) &l->tags, &l->n_tags, sizeof(char *)) < 0) {
                free(copy);
                return NULL;
        }
        return l->tags[l->n_tags - 1] = copy;
}

static char type_of(mode_t m) {
        return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's'
             : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : '?';
}

static void from_stat(FscanFile *f, const struct stat *st) {
        f->type = type_of(st->st_mode);
        f->mode = st->st_mode & 07777;
        f->uid = st->st_uid;
        f->gid = st->st_gid;
        f->size = (uint64_t) st->st_size;
        f->ino = st->st_ino;
        f->dev = st->st_dev;
        f->mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
        f->ctime_ns = (int64_t) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The security.* attributes (SELinux labels, file capabilities, IMA), as
 * sorted "name=hex" lines: the attributes an attacker changes to widen
 * what a binary may do without touching its bytes. */
static int read_xattrs(const char *path, char **ret) {
        char list[MAX_XATTR_LIST];
        ssize_t n = llistxattr(path, list, sizeof(list));
        *ret = NULL;
        if (n < 0)
                return errno == ENOTSUP || errno == ENODATA ? 0 : -errno;
        const char *names[256];
        size_t k = 0;
        for (char *p = list; p < list + n && k < ELEMENTSOF(names); p += strlen(p) + 1)
                if (!strncmp(p, "security.", 9))
                        names[k++] = p;
        if (!k)
                return 0;
        qsort(names, k, sizeof(*names), cmp_str);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        unsigned char value[MAX_XATTR_VALUE];
        int r = 0;
        for (size_t i = 0; i < k; i++) {
                ssize_t v = lgetxattr(path, names[i], value, sizeof(value));
                if (v < 0 && !r)
                        r = -errno;
                char hex[2 * MAX_XATTR_VALUE + 1];
                fprintf(f, "%s=%s\n", names[i], vg_hex(value, v < 0 ? 0 : (size_t) v, hex));
        }
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        *ret = out;
        return r;
}

/* The attributes of path that lstat gives. */
static int measure(const char *path, const struct stat *st, unsigned attrs, FscanFile *f) {
        *f = (FscanFile) { .attrs = attrs };
        from_stat(f, st);
        return (f->path = strdup(path)) ? 0 : -ENOMEM;
}

/* What lstat does not give: a symlink's target and the security.*
 * attributes, as f's rule counts them. */
static int read_extras(FscanFile *f) {
        const char *path = f->path;
        unsigned attrs = f->attrs;
        if (f->type == 'l' && (attrs & FSCAN_TARGET)) {
                char buf[PATH_MAX + 1];
                ssize_t n = readlink(path, buf, sizeof(buf) - 1);
                if (n >= 0) {
                        buf[n] = '\0';
                        if (!(f->target = strdup(buf)))
                                return -ENOMEM;
                } else
                        f->error = -errno;
        }
        if (attrs & FSCAN_XATTRS) {
                int r = read_xattrs(path, &f->xattrs);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && f->xattrs) {
                        free(f->xattrs);
                        f->xattrs = NULL;
                }
                if (r < 0 && !f->error)
                        f->error = r;
        }
        return 0;
}

/*
 * The SHA-256 of the regular file f describes. Opened without following a
 * symlink and non-blocking, and checked to be the file lstat saw: a path
 * swapped for a FIFO or a device between the two is never read. If it
 * changed while it was read, -ESTALE: the next check reads it again.
 */
static int hash_file(FscanFile *f) {
        int fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOATIME);
        if (fd < 0 && errno == EPERM)   /* O_NOATIME needs the file's owner or CAP_FOWNER */
                fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat before, after;
        int r = 0;
        if (fstat(fd, &before) < 0)
                r = -errno;
        else if (!S_ISREG(before.st_mode) || before.st_ino != f->ino || before.st_dev != f->dev)
                r = -ESTALE;
        if (r < 0) {
                close(fd);
                return r;
        }
        r = fscan_hash_fd(fd, f->sha256);
        if (r == 0 && fstat(fd, &after) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return r;
        if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
            after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
            after.st_ctim.tv_nsec != before.st_ctim.tv_nsec)
                return -ESTALE;
        /* What the content belongs to is what was read: the stat after. */
        from_stat(f, &after);
        return 0;
}

int fscan_hash_fd(int fd, char hex[FSCAN_SHA256_HEX]) {
        _Alignas(4096) unsigned char buf[READ_CHUNK];
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        for (;;) {
                ssize_t n = read(fd, buf, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                sha256_update(&ctx, (size_t) n, buf);
        }
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_digest(&ctx, sizeof(d), d);
        vg_hex(d, sizeof(d), hex);
        return 0;
}

int fscan_file(const char *path, unsigned attrs, FscanFile *ret) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return -errno;
        int r = measure(path, &st, attrs, ret);
        if (r == 0)
                r = read_extras(ret);
        ret->time_us = vg_now_us();
        if (r < 0) {
                fscan_file_clear(ret);
                return r;
        }
        if (ret->type == 'f' && (attrs & FSCAN_SHA256)) {
                r = hash_file(ret);
                if (r < 0)
                        ret->error = r;
        }
        return 0;
}

/* ---- the walk ---- */

typedef struct Walk {
        FscanList *l;
        const FscanOptions *opt;
} Walk;

static bool excluded(const Walk *w, const char *path) {
        for (const char *const *x = w->opt->exclude; x && *x; x++) {
                size_t n = strlen(*x);
                if (!strncmp(path, *x, n) && (path[n] == '\0' || path[n] == '/' || (n == 1 && **x == '/')))
                        return true;
        }
        return false;
}

/* Entries are added in the roots' order: sort_unique's tie-break. */
static int add(Walk *w, const char *path, const struct stat *st, const FscanRoot *root, int error) {
        unsigned attrs = root->attrs;
        const char *tag = fscan_list_tag(w->l, root->tag);
        if (root->tag && !tag)
                return -ENOMEM;
        if (vg_grow((void **) &w->l->files, &w->l->n, sizeof(FscanFile)) < 0)
                return -ENOMEM;
        FscanFile *f = &w->l->files[w->l->n - 1];
        int r;
        if (st)
                r = measure(path, st, attrs, f);
        else {
                *f = (FscanFile) { .attrs = attrs, .type = '?' };
                r = (f->path = strdup(path)) ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        f->tag = tag;
        if (error && !f->error)
                f->error = error;
        if (f->error)
                w->l->n_errors++;
        return 0;
}

/* Everything beneath dir (already added), depth first. Directories that
 * cannot be read are entries with their error; the walk goes on. */
static int walk_dir(Walk *w, const char *dir, const FscanRoot *root, unsigned depth) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int e = -errno;
                if (fd >= 0)
                        close(fd);
                FscanFile *self = &w->l->files[w->l->n - 1];
                if (!self->error) {
                        self->error = e;
                        w->l->n_errors++;
                }
                return 0;
        }
        int r = 0;
        struct dirent *de;
        size_t dlen = strlen(dir), slash = dir[dlen - 1] != '/';
        while (r == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                size_t nlen = strlen(de->d_name);
                char *path = malloc(dlen + slash + nlen + 1);
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(path, dir, dlen);
                path[dlen] = '/';
                memcpy(path + dlen + slash, de->d_name, nlen + 1);
                struct stat st;
                if (excluded(w, path))
                        ;
                else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)   /* gone since readdir: not there */
                                r = add(w, path, NULL, root, -errno);
                } else {
                        r = add(w, path, &st, root, 0);
                        /* PATH_MAX bounds the depth too; this bounds the fds. */
                        if (r == 0 && S_ISDIR(st.st_mode) && depth < 256)
                                r = walk_dir(w, path, root, depth + 1);
                }
                free(path);
        }
        closedir(d);
        return r;
}

/* ---- hashing on every core ---- */

typedef struct Hashing {
        FscanList *l;
        size_t *todo;             /* the files to read, largest first */
        size_t n;
        atomic_size_t next;
        atomic_size_t hashed;
        atomic_uint_fast64_t bytes;
} Hashing;

static void hash_one(Hashing *h, FscanFile *f) {
        int r = hash_file(f);
        if (r < 0)
                f->error = r;
        else {
                atomic_fetch_add(&h->hashed, 1);
                atomic_fetch_add(&h->bytes, f->size);
        }
}

static void *hash_worker(void *u) {
        Hashing *h = u;
        for (size_t i; (i = atomic_fetch_add(&h->next, 1)) < h->n;)
                hash_one(h, &h->l->files[h->todo[i]]);
        return NULL;
}

/* Largest first; of one size, one inode's paths side by side. */
static int cmp_size_desc(const void *a, const void *b, void *u) {
        const FscanFile *f = u, *x = &f[*(const size_t *) a], *y = &f[*(const size_t *) b];
        return x->size != y->size ? (x->size < y->size) - (x->size > y->size)
             : x->dev != y->dev ? (x->dev > y->dev) - (x->dev < y->dev) : (x->ino > y->ino) - (x->ino < y->ino);
}

static const unsigned same_file = FSCAN_SIZE | FSCAN_INODE | FSCAN_MTIME | FSCAN_CTIME;

static int hash_all(FscanList *l, const FscanOptions *opt) {
        _cleanup_free_ size_t *todo = malloc((l->n ? l->n : 1) * sizeof(size_t));
        _cleanup_free_ size_t *of = calloc(l->n ? l->n : 1, sizeof(size_t));   /* 1 + the path read for it */
        Hashing h = { .l = l, .todo = todo };
        if (!todo || !of)
                return -ENOMEM;
        /* What stat shows unchanged is taken over; the rest is read. */
        for (size_t i = 0; i < l->n; i++) {
                FscanFile *f = &l->files[i];
                if (f->error)
                        continue;
                const FscanFile *prev = opt->previous ? opt->previous(f, opt->userdata) : NULL;
                bool content = f->type == 'f' && (f->attrs & FSCAN_SHA256);
                if (prev && (!content || prev->sha256[0])) {
                        memcpy(f->sha256, content ? prev->sha256 : "", content ? sizeof(f->sha256) : 1);
                        if ((prev->xattrs && !(f->xattrs = strdup(prev->xattrs))) ||
                            (prev->target && !(f->target = strdup(prev->target))))
                                return -ENOMEM;
                        continue;
                }
                if (read_extras(f) == -ENOMEM)
                        return -ENOMEM;
                if (content && !f->error)
                        todo[h.n++] = i;
        }
        /* Largest first, so that the threads finish together: in path
         * order a 31 MB library came late and one core hashed it alone.
         * An inode under two paths (a library under /lib and /usr/lib on
         * a merged /usr: 15 of the 165 MB of an isolation check) is read
         * once, for the first. */
        qsort_r(todo, h.n, sizeof(size_t), cmp_size_desc, l->files);
        size_t k = 0;
        for (size_t j = 0; j < h.n; j++)
                if (k && !fscan_diff(&l->files[todo[k - 1]], &l->files[todo[j]], same_file))
                        of[todo[j]] = todo[k - 1] + 1;
                else
                        todo[k++] = todo[j];
        h.n = k;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned n = opt->threads ? opt->threads : cpus > 0 ? (unsigned) cpus : 1, started = 0;
        pthread_t t[64];
        /* The calling thread hashes too: one thread needs no other. */
        for (; started + 1 < n && started < ELEMENTSOF(t); started++)
                if (pthread_create(&t[started], NULL, hash_worker, &h) != 0)
                        break;
        hash_worker(&h);
        for (unsigned i = 0; i < started; i++)
                pthread_join(t[i], NULL);
        /* The other path takes the hash when the first was read as the
         * file stat showed for both (from_stat: as it was read); else it
         * is read itself. */
        for (size_t i = 0; i < l->n; i++) {
                const FscanFile *first = of[i] ? &l->files[of[i] - 1] : NULL;
                if (first && !first->error && !fscan_diff(first, &l->files[i], same_file)) {
                        memcpy(l->files[i].sha256, first->sha256, sizeof(first->sha256));
                        atomic_fetch_add(&h.hashed, 1);
                } else if (first)
                        hash_one(&h, &l->files[i]);
        }
        l->n_hashed = atomic_load(&h.hashed);
        l->bytes_hashed = atomic_load(&h.bytes);
        return 0;
}

/* ---- the scan ---- */

/* Path order; of equal paths, the one added first (its root came first). */
static int cmp_index(const void *a, const void *b, void *u) {
        const FscanFile *f = u;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int c = strcmp(f[x].path, f[y].path);
        return c ? c : (x > y) - (x < y);
}

/* Sorts by path and keeps, of each path, the entry of the first root. */
static int sort_unique(FscanList *l) {
        size_t n = l->n;
        _cleanup_free_ size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
        FscanFile *sorted = malloc((n ? n : 1) * sizeof(FscanFile));
        if (!idx || !sorted) {
                free(sorted);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                idx[i] = i;
        qsort_r(idx, n, sizeof(size_t), cmp_index, l->files);
        size_t k = 0;
        l->n_errors = 0;
        for (size_t i = 0; i < n; i++) {
                FscanFile *f = &l->files[idx[i]];
                if (k && !strcmp(sorted[k - 1].path, f->path)) {
                        fscan_file_clear(f);
                        continue;
                }
                l->n_errors += f->error != 0;
                sorted[k++] = *f;
        }
        free(l->files);
        l->files = sorted;
        l->n = k;
        return 0;
}

static const FscanOptions none = { 0 };

static int cmp_root(const void *a, const void *b, void *u) {
        const FscanRoot *roots = u;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int c = strcmp(roots[x].path, roots[y].path);
        return c ? c : (x > y) - (x < y);
}

/* The roots that add nothing (their entries would lose to a root's
 * before them in sort_unique): a path a root before names too, descending
 * as far. The isolation profile names each library once for every program
 * that loads it: 2,602 roots for 640 paths, each lstat()ed. NULL: ENOMEM. */
static bool *redundant_roots(const FscanRoot *roots, size_t n) {
        _cleanup_free_ size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
        bool *skip = calloc(n ? n : 1, sizeof(bool));
        if (!idx || !skip) {
                free(skip);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                idx[i] = i;
        qsort_r(idx, n, sizeof(size_t), cmp_root, (void *) roots);
        bool deep = false;        /* a root before, of this path, descends */
        for (size_t k = 0; k < n; k++) {
                const FscanRoot *x = &roots[idx[k]];
                if (!k || strcmp(roots[idx[k - 1]].path, x->path))
                        deep = x->recurse;
                else if (deep || !x->recurse)
                        skip[idx[k]] = true;
                else
                        deep = true;
        }
        return skip;
}

int fscan_walk(const FscanRoot *roots, size_t n_roots, const FscanOptions *opt, FscanList **ret, VgError *err) {
        _cleanup_(fscan_list_freep) FscanList *l = calloc(1, sizeof(*l));
        _cleanup_free_ bool *skip = redundant_roots(roots, n_roots);
        if (!l || !skip)
                return vg_error(err, -ENOMEM, "out of memory");
        Walk w = { .l = l, .opt = opt ? opt : &none };
        int r = 0;
        for (size_t i = 0; r == 0 && i < n_roots; i++) {
                struct stat st;
                if (skip[i] || excluded(&w, roots[i].path))
                        continue;
                if (lstat(roots[i].path, &st) < 0) {
                        if (errno != ENOENT && errno != ENOTDIR)
                                r = add(&w, roots[i].path, NULL, &roots[i], -errno);
                        continue;
                }
                r = add(&w, roots[i].path, &st, &roots[i], 0);
                if (r == 0 && roots[i].recurse && S_ISDIR(st.st_mode))
                        r = walk_dir(&w, roots[i].path, &roots[i], 0);
        }
        int64_t now = vg_now_us();
        for (size_t i = 0; i < l->n; i++)
                l->files[i].time_us = now;
        if (r == 0)
                r = sort_unique(l);
        if (r < 0)
                return vg_error(err, r, "scanning files: %s", strerror(-r));
        *ret = TAKE_PTR(l);
        return 0;
}

int fscan_measure(FscanList *l, const FscanOptions *opt, VgError *err) {
        int r = hash_all(l, opt ? opt : &none);
        l->n_errors = 0;
        for (size_t i = 0; i < l->n; i++)
                l->n_errors += l->files[i].error != 0;
        return r < 0 ? vg_error(err, r, "scanning files: %s", strerror(-r)) : 0;
}

int fscan_scan(const FscanRoot *roots, size_t n_roots, const FscanOptions *opt, FscanList **ret, VgError *err) {
        _cleanup_(fscan_list_freep) FscanList *l = NULL;
        int r = fscan_walk(roots, n_roots, opt, &l, err);
        if (r == 0)
                r = fscan_measure(l, opt, err);
        if (r == 0)
                *ret = TAKE_PTR(l);
        return r;
}

const FscanFile *fscan_find(const FscanList *l, const char *path) {
        size_t lo = 0, hi = l ? l->n : 0;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(l->files[mid].path, path);
                if (!c)
                        return &l->files[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static bool streq0(const char *a, const char *b) {
        return a == b || (a && b && !strcmp(a, b));
}

unsigned fscan_diff(const FscanFile *a, const FscanFile *b, unsigned mask) {
        unsigned d = 0;
        d |= a->type != b->type ? FSCAN_TYPE : 0;
        d |= a->mode != b->mode ? FSCAN_MODE : 0;
        d |= a->uid != b->uid ? FSCAN_UID : 0;
        d |= a->gid != b->gid ? FSCAN_GID : 0;
        d |= a->size != b->size ? FSCAN_SIZE : 0;
        d |= a->ino != b->ino || a->dev != b->dev ? FSCAN_INODE : 0;
        d |= a->mtime_ns != b->mtime_ns ? FSCAN_MTIME : 0;
        d |= a->ctime_ns != b->ctime_ns ? FSCAN_CTIME : 0;
        d |= !streq0(a->target, b->target) ? FSCAN_TARGET : 0;
        d |= !streq0(a->xattrs, b->xattrs) ? FSCAN_XATTRS : 0;
        d |= strcmp(a->sha256, b->sha256) ? FSCAN_SHA256 : 0;
        return d & mask;
}
