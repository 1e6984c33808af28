/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The path index: every package's info/P.list and info/P.md5sums in one
 * hash table, built on the first lookup, and dpkg_owner over it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpkg-priv.h"

/* The largest .list on a Debian host (linux-image's, texlive's) is a few
 * MiB; 256 MiB is "something is wrong". */
#define DPKG_INFO_MAX (256 * 1024 * 1024)

static const char *record_key(const Dpkg *d, uint32_t i) {
        return d->records[i].path;
}

static uint32_t find_record(const Dpkg *d, const char *path, uint32_t pkg) {
        uint32_t i = dpkg_map_get(d, &d->path_map, path);
        while (i != DPKG_NONE && d->records[i].pkg != pkg)
                i = d->records[i].next;
        return i;
}

/* Adds (path, pkg); returns the record's index or DPKG_NONE on -ENOMEM.
 * A later owner goes second in the chain, not last: every package lists
 * /usr and /usr/share, and walking those chains made the load quadratic
 * (1.7 s instead of 0.1 s here). So the chain is not in status order. */
static uint32_t add_record(Dpkg *d, const char *path, uint32_t pkg) {
        uint32_t head = dpkg_map_get(d, &d->path_map, path);
        if (d->n_records >= DPKG_NONE - 1 || vg_grow((void **) &d->records, &d->n_records, sizeof(DpkgRecord)) < 0)
                return DPKG_NONE;
        uint32_t i = (uint32_t) (d->n_records - 1);
        d->records[i] = (DpkgRecord) { .path = path, .pkg = pkg, .next = DPKG_NONE, .conffile = DPKG_NONE };
        if (head != DPKG_NONE) {
                d->records[i].next = d->records[head].next;
                d->records[head].next = i;
        } else if (dpkg_map_put(d, &d->path_map, i) < 0) {
                d->n_records--;
                return DPKG_NONE;
        }
        return i;
}

/* Keeps text alive as long as the index: the records point into it. */
static int keep(Dpkg *d, char *text, size_t len) {
        if (vg_grow((void **) &d->arenas, &d->n_arenas, sizeof(char *)) < 0) {
                free(text);
                return -ENOMEM;
        }
        d->arenas[d->n_arenas - 1] = text;
        d->stats.index_bytes += len + 1;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

bool dpkg_wanted(const Dpkg *d, const char *path) {
        return !d->restricted || (d->n_wanted && bsearch(&path, d->wanted, d->n_wanted, sizeof(char *), cmp_str));
}

/* Restricted, only the wanted paths of text (len + 1 bytes: each line is
 * cut in place) are copied out: the whole of it is most of the 18 MiB. */
static int list_wanted(Dpkg *d, uint32_t pkg, char *text, size_t len, const char *name, size_t first_line) {
        d->path_map.key = record_key;
        DpkgLines it = { text, text + len, first_line };
        const char *line;
        size_t n;
        bool nul;
        while (dpkg_next_line(&it, &line, &n, &nul)) {
                ((char *) line)[n] = '\0';
                /* Counted as the whole index counts them. */
                if ((nul || line[0] != '/') && n > 0)
                        dpkg_skip(d, name, it.lineno, "not an absolute path, or a NUL byte");
                if (nul || line[0] != '/' || !dpkg_wanted(d, line))
                        continue;
                char *copy = strdup(line);
                if (!copy || keep(d, copy, n) < 0 || add_record(d, copy, pkg) == DPKG_NONE)
                        return -ENOMEM;
        }
        return 0;
}

int dpkg_index_add_list(Dpkg *d, uint32_t pkg, char *buf, size_t len, const char *name) {
        if (d->restricted) {
                _cleanup_free_ char *text = buf;
                return list_wanted(d, pkg, text, len, name, 0);
        }
        if (keep(d, buf, len) < 0)
                return -ENOMEM;
        d->path_map.key = record_key;
        DpkgLines it = { buf, buf + len, 0 };
        const char *line;
        size_t n;
        bool nul;
        while (dpkg_next_line(&it, &line, &n, &nul)) {
                /* The paths stay in buf: cut each at its end. */
                ((char *) line)[n] = '\0';
                if (nul || line[0] != '/') {
                        if (n > 0)
                                dpkg_skip(d, name, it.lineno, "not an absolute path, or a NUL byte");
                        continue;
                }
                if (!strcmp(line, "/."))    /* every package lists the root */
                        continue;
                if (add_record(d, line, pkg) == DPKG_NONE)
                        return -ENOMEM;
        }
        return 0;
}

/* "<32 hex>  usr/bin/foo": two spaces (or " *", md5sum's binary mark), and
 * the path without its leading '/'. */
static int md5sums_lines(Dpkg *d, uint32_t pkg, const char *buf, size_t len, const char *name, size_t first_line) {
        DpkgLines it = { buf, buf + len, first_line };
        const char *line;
        size_t n;
        bool nul;
        char path[4096];
        while (dpkg_next_line(&it, &line, &n, &nul)) {
                uint8_t md5[16];
                if (n == 0)
                        continue;
                bool shape = !nul && n >= 35 && n - 34 < sizeof(path) - 1 && line[32] == ' ' &&
                             (line[33] == ' ' || line[33] == '*');
                const char *rel = line + 34;
                size_t rn = shape ? n - 34 : 0;
                bool abs = shape && rel[0] == '/';
                if (shape) {
                        path[0] = '/';
                        memcpy(path + 1, rel + abs, rn - abs);
                        path[rn - abs + 1] = '\0';
                }
                /* The MD5 parsed only for a path the index keeps: parsing
                 * every line was most of a restricted load's CPU (134,000
                 * lines here). A line not kept is not checked further. */
                if (shape && !dpkg_wanted(d, path))
                        continue;
                if (!shape || vg_unhex(line, sizeof(md5), md5) < 0) {
                        dpkg_skip(d, name, it.lineno, "not an MD5 and a path, or a NUL byte");
                        continue;
                }
                uint32_t i = find_record(d, path, pkg);
                if (i == DPKG_NONE) {
                        /* The record would need the path stored: dpkg itself
                         * only trusts .list for what a package owns. */
                        dpkg_skip(d, name, it.lineno, "a path the package's .list does not have");
                        continue;
                }
                memcpy(d->records[i].md5, md5, 16);
                d->records[i].has_md5 = true;
                d->stats.n_md5s++;
        }
        return 0;
}

int dpkg_index_add_md5sums(Dpkg *d, uint32_t pkg, const char *buf, size_t len, const char *name) {
        return md5sums_lines(d, pkg, buf, len, name, 0);
}

/* Conffiles come from the status file: marks the package's record of each
 * (adding one when .list lacks it, as for a package in config-files). */
int dpkg_index_add_conffiles(Dpkg *d) {
        d->path_map.key = record_key;
        for (uint32_t p = 0; p < d->n_packages; p++)
                for (uint32_t c = 0; c < d->packages[p].n_conffiles; c++) {
                        const char *path = d->packages[p].conffiles[c].path;
                        if (!dpkg_wanted(d, path))
                                continue;
                        uint32_t i = find_record(d, path, p);
                        if (i == DPKG_NONE && (i = add_record(d, path, p)) == DPKG_NONE)
                                return -ENOMEM;
                        d->records[i].conffile = c;
                }
        return 0;
}

static int read_info(Dpkg *d, const DpkgPackage *p, const char *ext, char **ret_path, char **ret_buf,
                     size_t *ret_len, VgError *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/info/%s.%s", d->admindir, p->multiarch_same ? p->qname : p->name, ext) < 0)
                return -ENOMEM;
        int r = vg_read_file(path, DPKG_INFO_MAX, ret_buf, ret_len);
        if (r == -ENOENT) {
                /* dpkg says the same for a missing .list ("assuming
                 * package has no files currently installed"); many
                 * packages have no md5sums at all. */
                *ret_buf = NULL;
                if (!strcmp(ext, "list") && strcmp(p->state, "config-files"))
                        dpkg_skip(d, path, 0, "missing: the package is taken to have no files");
        } else if (r < 0)
                return vg_error(err, r, "%s: %s", path, strerror(-r));
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* ---- reading the info files a block at a time ---- */

#define STREAM_BLOCK (64 * 1024)

static size_t count_lines(const char *p, size_t n) {
        size_t k = 0;
        for (const char *e = p + n; (p = memchr(p, '\n', (size_t) (e - p))); p++)
                k++;
        return k;
}

/* Each complete line of path given to the index, a block at a time (the
 * restricted index keeps a few lines of each): read whole, the largest
 * .md5sums here (google-cloud-cli's, 5 MiB, in a buffer grown to 8 MiB)
 * was the peak of a daemon's check that found drift. -ENOENT when path
 * does not exist; -EFBIG past DPKG_INFO_MAX for one line. */
static int stream_info(Dpkg *d, uint32_t pkg, const char *path, bool md5sums) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        size_t cap = STREAM_BLOCK, have = 0, lineno = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);   /* + 1: the last line is cut in place */
        if (!buf)
                return -ENOMEM;
        for (bool eof = false; !eof;) {
                ssize_t k = read(fd, buf + have, cap - have);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                have += (size_t) k;
                eof = k == 0;
                const char *nl = eof ? NULL : memrchr(buf, '\n', have);
                size_t upto = eof ? have : nl ? (size_t) (nl - buf) + 1 : 0;
                if (!upto && have == cap) {   /* one line longer than the buffer */
                        if (cap >= DPKG_INFO_MAX)
                                return -EFBIG;
                        char *b = realloc(buf, 2 * cap + 1);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        cap *= 2;
                        continue;
                }
                if (!upto)
                        continue;
                size_t lines = count_lines(buf, upto);
                int r = md5sums ? md5sums_lines(d, pkg, buf, upto, path, lineno)
                                : list_wanted(d, pkg, buf, upto, path, lineno);
                if (r < 0)
                        return r;
                lineno += lines;
                memmove(buf, buf + upto, have - upto);
                have -= upto;
        }
        return 0;
}

/* read_info's reading for the restricted index: streamed, the same
 * missing files skipped the same way. */
static int stream_index(Dpkg *d, uint32_t pkg, const char *ext, VgError *err) {
        const DpkgPackage *p = &d->packages[pkg];
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/info/%s.%s", d->admindir, p->multiarch_same ? p->qname : p->name, ext) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        int r = stream_info(d, pkg, path, !strcmp(ext, "md5sums"));
        if (r == -ENOENT) {
                if (!strcmp(ext, "list") && strcmp(p->state, "config-files"))
                        dpkg_skip(d, path, 0, "missing: the package is taken to have no files");
                return 0;
        }
        if (r < 0)
                return vg_error(err, r, "%s: %s", path, r == -ENOMEM ? "out of memory" : strerror(-r));
        return 0;
}

static int64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int load_index(Dpkg *d, VgError *err) {
        int64_t start = now_us();
        for (uint32_t p = 0; p < d->n_packages; p++) {
                static const char *const exts[] = { "list", "md5sums" };
                for (size_t e = 0; e < ELEMENTSOF(exts); e++) {
                        _cleanup_free_ char *path = NULL, *buf = NULL;
                        size_t len;
                        int r = d->restricted ? stream_index(d, p, exts[e], err)
                                              : read_info(d, &d->packages[p], exts[e], &path, &buf, &len, err);
                        if (r < 0)
                                return r;
                        if (d->restricted || !buf)
                                continue;
                        /* Kept: vg_read_fd's buffer may be twice the text. */
                        char *fit = e == 0 ? realloc(buf, len + 1) : NULL;
                        if (fit)
                                buf = fit;
                        r = e == 0 ? dpkg_index_add_list(d, p, TAKE_PTR(buf), len, path)
                                   : dpkg_index_add_md5sums(d, p, buf, len, path);
                        if (r < 0)
                                return vg_error(err, r, "%s: out of memory", path);
                }
        }
        if (dpkg_index_add_conffiles(d) < 0)
                return vg_error(err, -ENOMEM, "out of memory");
        /* No record is added once the index is loaded: give the
         * doubling's slack back to the allocator. */
        DpkgRecord *shrunk = d->n_records ? realloc(d->records, d->n_records * sizeof(DpkgRecord)) : NULL;
        if (shrunk)
                d->records = shrunk;
        d->index_loaded = true;
        d->stats.n_paths = d->path_map.n;
        d->stats.index_bytes += d->n_records * sizeof(DpkgRecord) + d->path_map.cap * sizeof(DpkgSlot);
        d->stats.index_load_us = now_us() - start;
        return 0;
}

/* ---- lookups ---- */

/* The other name of a path under merged /usr, or false. */
static bool usr_alias(const char *path, char *out, size_t size) {
        static const char *const dirs[] = { "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                size_t n = strlen(dirs[i]);
                size_t len = strlen(path);
                if (!strncmp(path, "/usr", 4) && !strncmp(path + 4, dirs[i], n)) {
                        memcpy(out, path + 4, len - 3);
                        return true;
                }
                if (!strncmp(path, dirs[i], n) && len + 5 <= size) {
                        memcpy(out, "/usr", 4);
                        memcpy(out + 4, path, len + 1);
                        return true;
                }
        }
        return false;
}

/* The best record of path: one whose package is (want_pkg) or is not
 * (!want_pkg) pkg, DPKG_NONE for any. A live conffile wins, then an MD5,
 * then the package first in the status file. */
static uint32_t best_record(const Dpkg *d, const char *path, uint32_t pkg, bool want_pkg, unsigned *ret_n) {
        uint32_t best = DPKG_NONE;
        int best_score = -1;
        *ret_n = 0;
        for (uint32_t i = dpkg_map_get(d, &d->path_map, path); i != DPKG_NONE; i = d->records[i].next) {
                const DpkgRecord *r = &d->records[i];
                ++*ret_n;
                if (pkg != DPKG_NONE && (r->pkg == pkg) != want_pkg)
                        continue;
                const DpkgConffile *c = r->conffile != DPKG_NONE ? &d->packages[r->pkg].conffiles[r->conffile] : NULL;
                int score = c && !(c->flags & DPKG_CONFFILE_OBSOLETE) ? 3 : r->has_md5 ? 2 : c ? 1 : 0;
                if (score > best_score || (score == best_score && r->pkg < d->records[best].pkg)) {
                        best = i;
                        best_score = score;
                }
        }
        return best;
}

static void fill(const Dpkg *d, uint32_t rec, unsigned n_owners, DpkgFile *f) {
        const DpkgRecord *r = &d->records[rec];
        const DpkgPackage *p = &d->packages[r->pkg];
        f->package = p->qname;
        f->version = p->version;
        f->state = p->state;
        f->listed_path = r->path;
        f->n_owners = n_owners;
        if ((f->has_md5 = r->has_md5))
                vg_hex(r->md5, 16, f->md5);
        if (r->conffile != DPKG_NONE) {
                const DpkgConffile *c = &p->conffiles[r->conffile];
                f->conffile = true;
                memcpy(f->conffile_md5, c->md5, sizeof(f->conffile_md5));
                f->conffile_flags = c->flags;
        }
}

/* The diverting package: diversions name it without its architecture. */
static uint32_t diverter(const Dpkg *d, const char *name) {
        uint32_t p = dpkg_map_get(d, &d->package_map, name);
        for (uint32_t i = 0; p == DPKG_NONE && i < d->n_packages; i++)
                if (!strcmp(d->packages[i].name, name))
                        p = i;
        return p;
}

/* Looks path up as listed; true if it is listed or diverted. */
static bool lookup(const Dpkg *d, const char *path, DpkgFile *f) {
        uint32_t v = dpkg_map_get(d, &d->divert_to, path), rec, by;
        unsigned n;
        if (v != DPKG_NONE) {
                /* The diverted-to path holds what other packages ship as "from". */
                const DpkgDiversion *dv = &d->diversions[v];
                by = diverter(d, dv->by);
                f->diverted = true;
                f->diverted_from = dv->from;
                f->diverted_by = dv->by;
                if ((rec = best_record(d, dv->from, by, false, &n)) != DPKG_NONE)
                        fill(d, rec, n, f);
                return true;
        }
        if ((v = dpkg_map_get(d, &d->divert_from, path)) != DPKG_NONE) {
                /* Only the diverter's own copy stays at the "from" path. */
                const DpkgDiversion *dv = &d->diversions[v];
                by = diverter(d, dv->by);
                f->diverted = true;
                f->diverted_to = dv->to;
                f->diverted_by = dv->by;
                if (by != DPKG_NONE && (rec = best_record(d, path, by, true, &n)) != DPKG_NONE)
                        fill(d, rec, n, f);
                return true;
        }
        if ((rec = best_record(d, path, DPKG_NONE, true, &n)) == DPKG_NONE)
                return false;
        fill(d, rec, n, f);
        return true;
}

/* path, its merged-/usr alias and the other end of a diversion of
 * either, into the wanted list. */
static int want(Dpkg *d, const char *path) {
        char alias[4096];
        const char *names[2] = { path, usr_alias(path, alias, sizeof(alias)) ? alias : NULL };
        for (size_t k = 0; k < 2 && names[k]; k++) {
                /* The diversion maps lookup() itself answers from. */
                uint32_t from = dpkg_map_get(d, &d->divert_from, names[k]);
                uint32_t to = dpkg_map_get(d, &d->divert_to, names[k]);
                const char *also[3] = { names[k], from != DPKG_NONE ? d->diversions[from].to : NULL,
                                        to != DPKG_NONE ? d->diversions[to].from : NULL };
                for (size_t j = 0; j < 3; j++) {
                        if (!also[j])
                                continue;
                        char *copy = strdup(also[j]);
                        if (!copy || vg_grow((void **) &d->wanted, &d->n_wanted, sizeof(char *)) < 0) {
                                free(copy);
                                return -ENOMEM;
                        }
                        d->wanted[d->n_wanted - 1] = copy;
                }
        }
        return 0;
}

int dpkg_restrict(Dpkg *d, const char *const *paths, size_t n) {
        if (d->index_loaded)
                return -EBUSY;
        d->restricted = true;
        for (size_t i = 0; i < n; i++)
                if (want(d, paths[i]) < 0)
                        return -ENOMEM;
        if (d->n_wanted)
                qsort(d->wanted, d->n_wanted, sizeof(char *), cmp_str);
        return 0;
}

int dpkg_owner(Dpkg *d, const char *path, DpkgFile *ret, VgError *err) {
        if (!d->index_loaded) {
                int r = load_index(d, err);
                if (r < 0)
                        return r;
        }
        DpkgFile f = { 0 };
        char alias[4096];
        if (!lookup(d, path, &f) && d->usrmerge && usr_alias(path, alias, sizeof(alias)))
                lookup(d, alias, &f);
        *ret = f;
        return 0;
}
