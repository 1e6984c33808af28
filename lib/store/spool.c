/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spool (spool.h): one append-only journal that writers add framed
 * records to, and that a fold claims by renaming it. Older spools (and the
 * hook's timer, which may only use async-signal-safe calls) hold one JSON
 * file per event; the fold takes those too.
 *
 * Why a journal and not a file per event: a file per event cost the writer
 * two fsyncs (the file, the directory) and the fold an open, a read and an
 * unlink each. The unlink alone was about half of the fold's 220 us per
 * event on ext4 (4,500 events/s at best, 3,000/s through the daemon). A
 * journal costs the writer one fdatasync and the fold one rename, one read
 * and one unlink per burst.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtgov/util/cleanup.h"
#include "virtgov/store/spool.h"

/* One spooled event is an Event's JSON: a few KiB. */
#define SPOOL_FILE_MAX (8 * 1024 * 1024)
/* A journal claimed by a fold is read whole: the daemon folds it as soon as
 * it is written to, so it is large only after a long outage. */
#define SPOOL_JOURNAL_MAX ((size_t) 1 << 30)
#define SUFFIX ".json"
#define JOURNAL "journal"
#define CLAIMED "folding."
/* A record: RS, "vg1 ", the CRC-32 of the text in 8 hex digits, a space,
 * its length in decimal, LF, the text (an Event's JSON, which never holds
 * a raw RS: JSON escapes control characters), LF. */
#define RS '\x1e'
#define HEADER_MAX 32

/* CRC-32 (IEEE 802.3, as zlib's): a torn or partly zeroed record, as a
 * crash in the middle of an append can leave, does not pass for a whole
 * one. */
static uint32_t crc32_of(const char *p, size_t n) {
        static uint32_t table[256];
        if (!table[1])
                for (uint32_t i = 0; i < 256; i++) {
                        uint32_t c = i;
                        for (int k = 0; k < 8; k++)
                                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
                        table[i] = c;
                }
        uint32_t c = 0xffffffffu;
        for (size_t i = 0; i < n; i++)
                c = table[(c ^ (uint8_t) p[i]) & 0xff] ^ (c >> 8);
        return c ^ 0xffffffffu;
}

/* The record of text (len bytes) in a new buffer. */
static char *record_new(const char *text, size_t len, size_t *ret_len) {
        char *rec = malloc(len + HEADER_MAX + 2);
        if (!rec)
                return NULL;
        int h = snprintf(rec, HEADER_MAX + 1, "%cvg1 %08x %zu\n", RS, crc32_of(text, len), len);
        memcpy(rec + h, text, len);
        rec[h + len] = '\n';
        *ret_len = (size_t) h + len + 1;
        return rec;
}

/* Opens dir/journal for appending, under a shared lock, and only if it is
 * still the journal (a fold renames it, then waits for the shared locks to
 * go: who locks the renamed file after that finds it is no longer the
 * journal, and opens the new one). *ret_created: this call made it, so the
 * directory must be synced for it to survive a crash. */
static int journal_open(int dfd, bool *ret_created) {
        for (int attempt = 0; attempt < 64; attempt++) {
                bool created = false;
                int fd = openat(dfd, JOURNAL, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 && errno == ENOENT) {
                        fd = openat(dfd, JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                                    0600);
                        created = fd >= 0;
                        if (fd < 0 && errno == EEXIST)
                                continue;
                }
                if (fd < 0)
                        return -errno;
                struct stat a, b;
                if (flock(fd, LOCK_SH) < 0 || fstat(fd, &a) < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (fstatat(dfd, JOURNAL, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
                    a.st_dev == b.st_dev) {
                        *ret_created = created;
                        return fd;
                }
                close(fd);   /* claimed by a fold meanwhile */
        }
        return -EAGAIN;
}

int spool_write(const char *dir, const Event *e, VgError *err) {
        _cleanup_free_ char *text = event_render(e, NULL);
        if (!text)
                return vg_error(err, -ENOMEM, "out of memory");
        const char *texts[] = { text };
        return spool_append(dir, texts, 1, err);
}

int spool_append(const char *dir, const char *const *texts, size_t n_texts, VgError *err) {
        int r;
        /* The records, one after the other, for one write. */
        size_t len = 0;
        _cleanup_free_ char *rec = NULL;
        for (size_t i = 0; i < n_texts; i++) {
                size_t l;
                _cleanup_free_ char *one = record_new(texts[i], strlen(texts[i]), &l);
                char *grown = one ? realloc(rec, len + l) : NULL;
                if (!grown)
                        return vg_error(err, -ENOMEM, "out of memory");
                memcpy(grown + len, one, l);
                rec = grown;
                len += l;
        }

        /* Made (with its parents) only when missing: a hook runs this on
         * every call. */
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 && errno == ENOENT) {
                if ((r = vg_mkdir_p(dir, 0700)) < 0)
                        return vg_error(err, r, "spool '%s': cannot create: %s", dir, strerror(-r));
                dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (dfd < 0)
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        bool created = false;
        _cleanup_close_ int fd = journal_open(dfd, &created);
        if (fd < 0)
                return vg_error(err, fd, "spool '%s/" JOURNAL "': %s", dir, strerror(-fd));
        /* One write: O_APPEND puts it whole at the end, whoever else
         * appends at the same time (the inode's lock serializes writes). A
         * short one leaves a torn record, which the fold sets aside. */
        ssize_t n = write(fd, rec, len);
        if (n != (ssize_t) len)
                return vg_error(err, n < 0 ? -errno : -ENOSPC, "spool '%s/" JOURNAL "': %s", dir,
                                n < 0 ? strerror(errno) : "short write");
        if (fdatasync(fd) < 0 || (created && fsync(dfd) < 0))
                return vg_error(err, -errno, "spool '%s/" JOURNAL "': %s", dir, strerror(errno));
        return 0;   /* closing fd drops the lock */
}

static bool is_spool_name(const char *name) {
        size_t l = strlen(name);
        return l > strlen(SUFFIX) && name[0] != '.' && !strcmp(name + l - strlen(SUFFIX), SUFFIX);
}

static bool is_journal_name(const char *name) {
        return !strcmp(name, JOURNAL) || !strncmp(name, CLAIMED, strlen(CLAIMED));
}

static void reject(int dfd, const char *name) {
        mkdirat(dfd, "rejected", 0700);
        _cleanup_free_ char *to = NULL;
        if (asprintf(&to, "rejected/%s", name) >= 0)
                renameat(dfd, name, dfd, to);
}

/* Keeps bytes of a journal that are no record in rejected/NAME.OFFSET. */
static void reject_bytes(int dfd, const char *name, size_t off, const char *p, size_t n) {
        mkdirat(dfd, "rejected", 0700);
        char to[512];
        snprintf(to, sizeof(to), "rejected/%s.%zu", name, off);
        _cleanup_close_ int fd = openat(dfd, to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
                (void) !write(fd, p, n);
}

/* One event's JSON appended inside the caller's transaction: 0 appended
 * or already there (counted), 1 not an event, < 0 a store error. */
static int fold_text(const char *text, size_t len, Store *s, SpoolStats *st, VgError *err) {
        json_error_t jerr;
        json_t *j = json_loadb(text, len, 0, &jerr);
        Event *e = NULL;
        if (!j || event_from_json(j, &e, NULL) < 0) {
                json_decref(j);
                return 1;
        }
        json_decref(j);
        int r = store_append_event(s, e, NULL, err);
        event_free(e);
        if (r < 0)
                return r;
        if (r == 1)
                st->duplicates++;
        else
                st->folded++;
        return 0;
}

/* Appends one spooled file's event inside the caller's transaction. A
 * malformed file is moved aside at once (it holds nothing to commit). */
static int fold_one(int dfd, const char *name, Store *s, SpoolStats *st, VgError *err) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 1 : vg_error(err, -errno, "spool file '%s': %s", name, strerror(errno));

        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = vg_read_fd(fd, SPOOL_FILE_MAX, &buf, &len);
        if (r == 0 && (r = fold_text(buf, len, s, st, err)) < 0)
                return r;
        if (r != 0) {
                reject(dfd, name);
                st->rejected++;
        }
        return 1;   /* unlinked by the caller after commit, if not moved aside */
}

/* One transaction per batch: a burst of spooled events costs one fsync per
 * FOLD_BATCH, not one each. */
#define FOLD_BATCH 512

/* Ends a batch's transaction, r its result so far: committed, or (r < 0,
 * or the commit failed) rolled back with the counts put back to before:
 * nothing of it was folded, and what it came from stays for the next fold
 * (what was rejected was moved aside already). */
static int batch_end(Store *s, int r, SpoolStats *st, const SpoolStats *before, VgError *err) {
        if (r == 0 && (r = store_commit(s, err)) == 0)
                return 0;
        store_rollback(s);
        st->folded = before->folded;
        st->duplicates = before->duplicates;
        return r;
}

static int fold_batch(int dfd, char **names, size_t n, Store *s, SpoolStats *st, VgError *err) {
        SpoolStats before = *st;
        int r = store_begin(s, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                r = fold_one(dfd, names[i], s, st, err);
                if (r == 1)
                        r = 0;
        }
        if ((r = batch_end(s, r, st, &before, err)) < 0)
                return r;
        /* Only now that the events are committed may their files go. */
        for (size_t i = 0; i < n; i++)
                if (unlinkat(dfd, names[i], 0) < 0 && errno != ENOENT)
                        return vg_error(err, -errno, "spool file '%s': cannot remove: %s", names[i], strerror(errno));
        return 0;
}

/* The record at p (n bytes to the end): its text and length, and the size
 * of the whole record; false when p holds no whole, intact record. */
static bool record_parse(const char *p, size_t n, const char **ret_text, size_t *ret_len, size_t *ret_size) {
        const char *nl = memchr(p, '\n', n < HEADER_MAX ? n : HEADER_MAX);
        unsigned crc;
        size_t len;
        int used = 0;
        if (!nl || p[0] != RS || sscanf(p + 1, "vg1 %8x %zu%n", &crc, &len, &used) != 2 || p + 1 + used != nl)
                return false;
        size_t h = (size_t) (nl - p) + 1;
        if (n < h + 1 || len > n - h - 1 || nl[1 + len] != '\n' || crc32_of(nl + 1, len) != crc)
                return false;
        *ret_text = nl + 1;
        *ret_len = len;
        *ret_size = h + len + 1;
        return true;
}

/* Folds a claimed journal, name, then removes it. Its records go in
 * transactions of FOLD_BATCH; bytes that are no intact record (a torn
 * append) are kept in rejected/ and counted. A fold that dies half-way
 * leaves the file, and the next one finds what was committed already
 * there (each event's ref is unique). */
static int fold_journal(int dfd, const char *name, Store *s, SpoolStats *st, VgError *err) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : vg_error(err, -errno, "spool file '%s': %s", name, strerror(errno));
        /* Writers that opened it as the journal before it was claimed hold
         * a shared lock until their record is synced: wait for them. Who
         * comes later sees it is no longer the journal. */
        if (flock(fd, LOCK_EX) < 0 || flock(fd, LOCK_UN) < 0)
                return vg_error(err, -errno, "spool file '%s': %s", name, strerror(errno));
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = vg_read_fd(fd, SPOOL_JOURNAL_MAX, &buf, &len);
        if (r < 0)
                return vg_error(err, r, "spool file '%s': %s", name, strerror(-r));

        SpoolStats before = *st;
        size_t in_batch = 0, off = 0;
        while (r == 0 && off < len) {
                const char *text;
                size_t tlen, size;
                if (!record_parse(buf + off, len - off, &text, &tlen, &size)) {
                        /* Up to the next record's start: RS never occurs in one. */
                        const char *next = memchr(buf + off + 1, RS, len - off - 1);
                        size = next ? (size_t) (next - (buf + off)) : len - off;
                        reject_bytes(dfd, name, off, buf + off, size);
                        st->rejected++;
                        off += size;
                        continue;
                }
                if (in_batch == 0 && (r = store_begin(s, err)) < 0)
                        break;
                if ((r = fold_text(text, tlen, s, st, err)) == 1) {
                        reject_bytes(dfd, name, off, buf + off, size);
                        st->rejected++;
                        r = 0;
                }
                off += size;
                if (r == 0 && (++in_batch == FOLD_BATCH || off == len)) {
                        r = batch_end(s, r, st, &before, err);
                        in_batch = 0;
                        before = *st;
                }
        }
        if (in_batch || r < 0)
                if ((r = batch_end(s, r, st, &before, err)) < 0)
                        return r;
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                return vg_error(err, -errno, "spool file '%s': cannot remove: %s", name, strerror(errno));
        return 0;
}

/* Claims the journal for this fold: renamed, writers go on in a new one. */
static int journal_claim(int dfd, const char *dir, VgError *err) {
        char name[64];
        snprintf(name, sizeof(name), CLAIMED "%ld.%lld", (long) getpid(), (long long) vg_now_us());
        if (renameat(dfd, JOURNAL, dfd, name) < 0 && errno != ENOENT)
                return vg_error(err, -errno, "spool '%s/" JOURNAL "': cannot claim it: %s", dir, strerror(errno));
        return 0;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int spool_fold(const char *dir, Store *s, SpoolStats *ret_stats, VgError *err) {
        SpoolStats st = { 0 };
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT) {
                        if (ret_stats)
                                *ret_stats = st;
                        return 0;
                }
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        }
        int r = journal_claim(dfd, dir, err);
        if (r < 0)
                return r;
        int dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dfd2 < 0)
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        DIR *d = fdopendir(dfd2);
        if (!d) {
                close(dfd2);
                return vg_error(err, -errno, "spool '%s': %s", dir, strerror(errno));
        }
        char *names[FOLD_BATCH];
        size_t n = 0;
        /* Claimed journals (this fold's, and any a fold that died left),
         * folded after the listing, oldest first. */
        char **claimed = NULL;
        size_t n_claimed = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (!strncmp(de->d_name, CLAIMED, strlen(CLAIMED))) {
                        char *c = strdup(de->d_name);
                        if (!c || vg_grow((void **) &claimed, &n_claimed, sizeof(char *)) < 0) {
                                free(c);
                                r = vg_error(err, -ENOMEM, "out of memory");
                                break;
                        }
                        claimed[n_claimed - 1] = c;
                        continue;
                }
                if (!is_spool_name(de->d_name))
                        continue;
                if (!(names[n] = strdup(de->d_name))) {
                        r = vg_error(err, -ENOMEM, "out of memory");
                        break;
                }
                if (++n == FOLD_BATCH) {
                        r = fold_batch(dfd, names, n, s, &st, err);
                        for (size_t i = 0; i < n; i++)
                                free(names[i]);
                        n = 0;
                }
        }
        if (r == 0 && n)
                r = fold_batch(dfd, names, n, s, &st, err);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        closedir(d);
        if (n_claimed)
                qsort(claimed, n_claimed, sizeof(char *), cmp_names);
        for (size_t i = 0; i < n_claimed; i++) {
                if (r == 0)
                        r = fold_journal(dfd, claimed[i], s, &st, err);
                free(claimed[i]);
        }
        free(claimed);
        /* Make the removals durable, so a crash does not bring files back
         * (harmless, since they would be duplicates, but noisy). Not when
         * nothing was there: the daemon folds at every hook's append, and
         * again at its own rename of the journal. */
        if (n_claimed || st.folded || st.duplicates || st.rejected)
                fsync(dfd);
        if (ret_stats)
                *ret_stats = st;
        return r;
}

/* The records in a journal: its RS bytes (a torn one counts, as it will
 * be set aside and counted by the fold). */
static size_t journal_records(int dfd, const char *name) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char buf[65536];
        size_t n = 0;
        ssize_t k;
        if (fd < 0)
                return 0;
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                for (const char *p = buf; (p = memchr(p, RS, (size_t) (buf + k - p))); p++)
                        n++;
        return n;
}

int spool_count(const char *dir, size_t *ret) {
        size_t n = 0;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                *ret = 0;
                return r == -ENOENT ? 0 : r;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (is_spool_name(de->d_name))
                        n++;
                else if (is_journal_name(de->d_name))
                        n += journal_records(fd, de->d_name);
        closedir(d);
        *ret = n;
        return 0;
}
