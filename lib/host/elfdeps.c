/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loader's search, after glibc's elf/dl-load.c (_dl_map_object) and
 * elf/dl-deps.c (breadth-first over DT_NEEDED), without running anything.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfdeps-priv.h"
#include "virtgov/util/cleanup.h"

/* One object: what the caller gets, and what the search needs of it. */
typedef struct Obj {
        ElfdepsEntry e;
        ElfObject elf;
        char **rpath, **runpath;   /* expanded; NULL when the tag is absent */
        dev_t dev;
        ino_t ino;
} Obj;

typedef struct Resolver {
        ElfRoot root;
        Obj top;          /* the file resolved; index ELFDEPS_TOP */
        Obj *objs;        /* the entries, in load order */
        size_t n, max;
        LdCache *cache;
        char *cache_problem;
        char **dirs;      /* default directories */
        char *lib, *platform;
        ElfdepsMemo *memo;        /* NULL, or the options', if it is of this root */
        bool cache_borrowed;      /* cache is the memo's */
} Resolver;

/* What trying one candidate file gave. */
enum { TRY_TAKEN, TRY_NEXT, TRY_LOADED };

static const struct {
        uint16_t machine;
        uint8_t cls;
        const char *triplet, *platform;
} arches[] = {
        { EM_X86_64, ELFCLASS64, "x86_64-linux-gnu", "x86_64" },
        { EM_X86_64, ELFCLASS32, "x86_64-linux-gnux32", "x86_64" },
        { EM_386, ELFCLASS32, "i386-linux-gnu", "i686" },
        { EM_AARCH64, ELFCLASS64, "aarch64-linux-gnu", "aarch64" },
};

const char *elfdeps_source_name(ElfdepsSource s) {
        static const char *const names[] = {
                [ELFDEPS_SOURCE_NONE] = "none", [ELFDEPS_SOURCE_INTERP] = "interp",
                [ELFDEPS_SOURCE_PATH] = "path", [ELFDEPS_SOURCE_RPATH] = "rpath",
                [ELFDEPS_SOURCE_RUNPATH] = "runpath", [ELFDEPS_SOURCE_CACHE] = "ld.so.cache",
                [ELFDEPS_SOURCE_DEFAULT] = "default",
        };
        return (unsigned) s < ELEMENTSOF(names) ? names[s] : "none";
}

static Obj *obj_at(Resolver *r, size_t i) {
        return i == ELFDEPS_TOP ? &r->top : &r->objs[i];
}

static void obj_done(Obj *o) {
        free(o->e.name);
        free(o->e.path);
        free(o->e.realpath);
        free(o->e.problem);
        elfdeps_elf_done(&o->elf);
        elfdeps_strv_free(o->rpath);
        elfdeps_strv_free(o->runpath);
        *o = (Obj) { 0 };
}

static void resolver_done(Resolver *r) {
        obj_done(&r->top);
        for (size_t i = 0; i < r->n; i++)
                obj_done(&r->objs[i]);
        free(r->objs);
        if (!r->cache_borrowed)
                ldcache_free(r->cache);
        free(r->cache_problem);
        elfdeps_strv_free(r->dirs);
        free(r->lib);
        free(r->platform);
        elfroot_close(&r->root);
}

/* The RPATH and RUNPATH directories with $ORIGIN the directory of origin_of
 * (ld.so: the executable's real path, a library's path as opened). */
static int obj_expand(Resolver *r, Obj *o, const char *origin_of) {
        _cleanup_free_ char *origin = strdup(origin_of);
        if (!origin)
                return -ENOMEM;
        char *slash = strrchr(origin, '/');
        if (slash)
                slash[slash == origin ? 1 : 0] = '\0';
        ElfDst d = { .origin = slash ? origin : NULL, .lib = r->lib, .platform = r->platform };
        int rc = 0;
        if (o->elf.rpath && (rc = elfdst_split(o->elf.rpath, &d, &o->rpath)) < 0)
                return rc;
        if (o->elf.runpath && (rc = elfdst_split(o->elf.runpath, &d, &o->runpath)) < 0)
                return rc;
        return 0;
}

static bool same_file(Resolver *r, dev_t dev, ino_t ino) {
        if (r->top.e.path && r->top.dev == dev && r->top.ino == ino)
                return true;
        for (size_t i = 0; i < r->n; i++)
                if (r->objs[i].e.status == ELFDEPS_FOUND && r->objs[i].dev == dev && r->objs[i].ino == ino)
                        return true;
        return false;
}

/* ---- the files opened, measured once per memo ---- */

/* What opening and parsing one candidate file gave: everything try_file
 * decides from. */
typedef struct Measured {
        char *path;
        uint64_t hash;
        int open_rc;              /* 0, or elfroot_open_file's -errno */
        dev_t dev;
        ino_t ino;
        int header_rc, rc;        /* elfdeps_elf_parse's, of the header and of the whole */
        ElfObject elf;            /* parsed whole (its ident from the header when that failed) */
        int realpath_rc;
        char *realpath;
        char *problem;            /* the message of the first step that failed */
} Measured;

struct ElfdepsMemo {
        char *root;               /* the root its files are under ("" for /) */
        Measured *v;
        size_t n;
        bool have_cache;
        char *cache_path;         /* ld.so.cache as loaded: the key */
        LdCache *cache;
        char *cache_problem;
};

static void measured_done(Measured *m) {
        free(m->path);
        elfdeps_elf_done(&m->elf);
        free(m->realpath);
        free(m->problem);
        *m = (Measured) { 0 };
}

ElfdepsMemo *elfdeps_memo_new(void) {
        return calloc(1, sizeof(ElfdepsMemo));
}

ElfdepsMemo *elfdeps_memo_free(ElfdepsMemo *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++)
                measured_done(&m->v[i]);
        free(m->v);
        free(m->root);
        free(m->cache_path);
        ldcache_free(m->cache);
        free(m->cache_problem);
        free(m);
        return NULL;
}

static uint64_t hash_path(const char *s) {
        uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

/* Opens and parses path as try_file needs it, every step recorded. */
static int measure(Resolver *r, const char *path, Measured *m) {
        VgError err = { "" };
        struct stat st = { 0 };
        *m = (Measured) { .path = strdup(path), .hash = hash_path(path) };
        if (!m->path)
                return -ENOMEM;
        _cleanup_close_ int fd = elfroot_open_file(&r->root, path, &st);
        m->open_rc = fd < 0 ? fd : 0;
        if (fd < 0)
                return 0;
        m->dev = st.st_dev;
        m->ino = st.st_ino;
        ElfSource src = { .fd = fd, .size = (uint64_t) st.st_size };
        m->header_rc = elfdeps_elf_parse(&src, path, true, &m->elf, &err);
        ElfObject ident = { .cls = m->elf.cls, .data = m->elf.data, .machine = m->elf.machine };
        elfdeps_elf_done(&m->elf);
        /* Parsed whole even when of another class (then unused): one
         * measure serves every question try_file asks of the file. */
        if (m->header_rc == 0 && (m->rc = elfdeps_elf_parse(&src, path, false, &m->elf, &err)) < 0)
                elfdeps_elf_done(&m->elf);
        if (m->header_rc < 0 || m->rc < 0)
                m->elf = ident;   /* the class check needs only these */
        int rc = m->header_rc < 0 ? m->header_rc : m->rc;
        if (rc == -ENOMEM)
                return rc;
        if (rc == 0 && (m->realpath_rc = elfroot_realpath(&r->root, fd, path, &m->realpath)) == -ENOMEM)
                return -ENOMEM;
        if (rc < 0 && !(m->problem = strdup(err.text)))
                return -ENOMEM;
        return 0;
}

/* The measure of path: the memo's, or made now (into *scratch when there
 * is no memo). */
static int measured(Resolver *r, const char *path, Measured *scratch, const Measured **ret) {
        ElfdepsMemo *memo = r->memo;
        uint64_t h = hash_path(path);
        for (size_t i = 0; memo && i < memo->n; i++)
                if (memo->v[i].hash == h && !strcmp(memo->v[i].path, path)) {
                        *ret = &memo->v[i];
                        return 0;
                }
        int rc = measure(r, path, scratch);
        if (rc < 0) {
                measured_done(scratch);
                return rc;
        }
        if (memo) {
                if (vg_grow((void **) &memo->v, &memo->n, sizeof(*memo->v)) < 0) {
                        measured_done(scratch);
                        return -ENOMEM;
                }
                memo->v[memo->n - 1] = *scratch;
                *scratch = (Measured) { 0 };
                *ret = &memo->v[memo->n - 1];
        } else
                *ret = scratch;
        return 0;
}

/*
 * Opens path as a candidate for o: TRY_TAKEN (o is found, or bad: the
 * loader stops at a file it cannot use), TRY_NEXT (absent, or of another
 * class or machine: the loader searches on), TRY_LOADED (a file already in
 * the list, as ld.so matches by device and inode), or -ENOMEM.
 */
static int try_file(Resolver *r, const char *path, Obj *o, ElfdepsSource source) {
        _cleanup_(measured_done) Measured scratch = { 0 };
        const Measured *m;
        int rc = measured(r, path, &scratch, &m);
        if (rc < 0)
                return rc;
        int fd = m->open_rc;
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -EACCES || fd == -ELOOP || fd == -ENAMETOOLONG)
                return TRY_NEXT;
        if (fd == 0 && same_file(r, m->dev, m->ino))
                return TRY_LOADED;
        if (fd == 0 && m->header_rc == 0 && (m->elf.cls != r->top.elf.cls || m->elf.data != r->top.elf.data ||
                                             m->elf.machine != r->top.elf.machine))
                return TRY_NEXT;
        if (!(o->e.path = strdup(path)))
                return -ENOMEM;
        o->e.source = source;
        rc = fd < 0 ? fd : m->header_rc < 0 ? m->header_rc : m->rc;
        if (rc < 0) {
                o->e.status = ELFDEPS_BAD;
                if (fd < 0)
                        return asprintf(&o->e.problem, "'%s': %s", path, fd == -ENODEV
                                        ? "not a regular file (never opened for reading)"
                                        : fd == -EAGAIN ? "replaced while it was opened" : strerror(-fd)) < 0
                               ? -ENOMEM : TRY_TAKEN;
                return (o->e.problem = strdup(m->problem)) ? TRY_TAKEN : -ENOMEM;
        }
        o->e.status = ELFDEPS_FOUND;
        o->dev = m->dev;
        o->ino = m->ino;
        if (m->realpath_rc < 0) {   /* gone since it was opened */
                o->e.status = ELFDEPS_BAD;
                return asprintf(&o->e.problem, "'%s': %s", path, strerror(-m->realpath_rc)) < 0 ? -ENOMEM : TRY_TAKEN;
        }
        if (!(o->e.realpath = strdup(m->realpath)) || elfdeps_elf_copy(&m->elf, &o->elf) < 0)
                return -ENOMEM;
        rc = obj_expand(r, o, path);
        return rc < 0 ? rc : TRY_TAKEN;
}

static int try_dirs(Resolver *r, char **dirs, const char *name, Obj *o, ElfdepsSource source) {
        for (size_t i = 0; dirs && dirs[i]; i++) {
                char path[PATH_MAX];
                if (snprintf(path, sizeof(path), "%s/%s", dirs[i], name) >= (int) sizeof(path))
                        continue;
                int rc = try_file(r, path, o, source);
                if (rc != TRY_NEXT)
                        return rc;
        }
        return TRY_NEXT;
}

/* ld.so's order for a name without '/', needed by object who. */
static int search(Resolver *r, size_t who, const char *name, Obj *o) {
        Obj *w = obj_at(r, who);
        int rc;
        /* DT_RPATH of the object and of each object that loaded it, up to
         * the executable; each only if that object has no DT_RUNPATH, and
         * none at all if the object needing the name has one. */
        for (size_t l = who; !w->elf.runpath; l = obj_at(r, l)->e.needed_by) {
                Obj *x = obj_at(r, l);
                if (!x->elf.runpath && (rc = try_dirs(r, x->rpath, name, o, ELFDEPS_SOURCE_RPATH)) != TRY_NEXT)
                        return rc;
                if (l == ELFDEPS_TOP)
                        break;
        }
        /* (LD_LIBRARY_PATH would come here: ignored, see elfdeps.h.) */
        if ((rc = try_dirs(r, w->runpath, name, o, ELFDEPS_SOURCE_RUNPATH)) != TRY_NEXT)
                return rc;
        if (w->elf.nodeflib)
                return TRY_NEXT;
        size_t pos = 0;
        for (const char *p; (p = ldcache_next(r->cache, name, &pos));)
                if ((rc = try_file(r, p, o, ELFDEPS_SOURCE_CACHE)) != TRY_NEXT)
                        return rc;
        return try_dirs(r, r->dirs, name, o, ELFDEPS_SOURCE_DEFAULT);
}

/* A name with a '/' is opened as written, after token expansion. */
static int open_named(Resolver *r, size_t who, const char *name, Obj *o) {
        Obj *w = obj_at(r, who);
        _cleanup_free_ char *origin = strdup(w->e.realpath && who == ELFDEPS_TOP ? w->e.realpath : w->e.path);
        if (!origin)
                return -ENOMEM;
        char *slash = strrchr(origin, '/');
        slash[slash == origin ? 1 : 0] = '\0';
        ElfDst d = { .origin = origin, .lib = r->lib, .platform = r->platform };
        _cleanup_free_ char *path = NULL;
        int rc = elfdst_expand(name, &d, &path);
        if (rc == -ENOMEM)
                return rc;
        if (rc < 0 || path[0] != '/')
                return asprintf(&o->e.problem, "'%s' is relative to the working directory or cannot be expanded",
                                name) < 0 ? -ENOMEM : TRY_NEXT;
        return try_file(r, path, o, ELFDEPS_SOURCE_PATH);
}

/* Whether ld.so would take name to be an object already in the list. */
static bool already(Resolver *r, const char *name) {
        if (r->top.elf.soname && !strcmp(r->top.elf.soname, name))
                return true;
        for (size_t i = 0; i < r->n; i++) {
                const Obj *o = &r->objs[i];
                if (!strcmp(o->e.name, name) || (o->elf.soname && !strcmp(o->elf.soname, name)) ||
                    (o->e.path && !strcmp(o->e.path, name)))
                        return true;
        }
        return false;
}

/* Adds the object for name, needed by who (or the interpreter, when
 * interp), unless the loader would reuse one already in the list. */
static int add_needed(Resolver *r, size_t who, const char *name, bool interp, VgError *err) {
        if (already(r, name))
                return 0;
        if (r->n >= r->max)
                return vg_error(err, -E2BIG, "'%s': more than %zu shared objects to load", r->top.e.path, r->max);
        Obj o = { .e = { .needed_by = who, .depth = who == ELFDEPS_TOP ? 1 : r->objs[who].e.depth + 1 } };
        o.e.name = strdup(name);
        int rc = !o.e.name ? -ENOMEM
                 : interp ? try_file(r, name, &o, ELFDEPS_SOURCE_INTERP)
                 : strchr(name, '/') ? open_named(r, who, name, &o) : search(r, who, name, &o);
        if (rc == TRY_NEXT) {
                o.e.status = ELFDEPS_NOT_FOUND;
                o.e.source = ELFDEPS_SOURCE_NONE;
                free(o.e.path);
                o.e.path = NULL;
                if (!o.e.problem && !(o.e.problem = strdup("not found")))
                        rc = -ENOMEM;
        }
        if (rc >= 0 && rc != TRY_LOADED && (rc = vg_grow((void **) &r->objs, &r->n, sizeof(Obj))) >= 0) {
                r->objs[r->n - 1] = o;
                return 0;
        }
        obj_done(&o);
        return rc == TRY_LOADED ? 0 : rc;
}

/* $LIB, $PLATFORM and the default directories for the executable's
 * machine, unless the options name them. */
static int set_defaults(Resolver *r, const ElfdepsOptions *opt) {
        const char *triplet = NULL, *platform = NULL;
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (arches[i].machine == r->top.elf.machine && arches[i].cls == r->top.elf.cls) {
                        triplet = arches[i].triplet;
                        platform = arches[i].platform;
                }
        bool is64 = r->top.elf.cls == ELFCLASS64;
        char multi[64] = "", umulti[64] = "";
        if (triplet) {
                snprintf(multi, sizeof(multi), "/lib/%s", triplet);
                snprintf(umulti, sizeof(umulti), "/usr/lib/%s", triplet);
        }
        /* Debian's glibc has slibdir /lib/<triplet>, so $LIB is
         * lib/<triplet> there (seen with LD_DEBUG=libs); elsewhere lib64 or
         * lib, as the distribution's slibdir. */
        const char *lib = opt->lib ? opt->lib
                          : triplet && elfroot_is_dir(&r->root, multi) ? multi + 1
                          : is64 && elfroot_is_dir(&r->root, "/lib64") ? "lib64" : "lib";
        if (!(r->lib = strdup(lib)))
                return -ENOMEM;
        if ((opt->platform || platform) && !(r->platform = strdup(opt->platform ? opt->platform : platform)))
                return -ENOMEM;
        const char *derived[] = { multi, umulti, "/lib", "/usr/lib", is64 ? "/lib64" : "", is64 ? "/usr/lib64" : "" };
        const char *const *dirs = opt->default_dirs;
        size_t n = 0;
        while (dirs && dirs[n])
                n++;
        if (!dirs)
                n = ELEMENTSOF(derived);
        if (!(r->dirs = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0, k = 0; i < n; i++) {
                const char *d = dirs ? dirs[i] : derived[i];
                if (d[0] == '/' && !(r->dirs[k++] = strdup(d)))
                        return -ENOMEM;
        }
        return 0;
}

static int load_cache_file(Resolver *r, const char *path);

/* ld.so.cache, if there is one (the memo's, when it has it). A cache that
 * cannot be used is ignored, as ld.so ignores it, and said in
 * cache_problem. */
static int load_cache(Resolver *r, const char *path) {
        if (!*path)
                return 0;
        ElfdepsMemo *m = r->memo;
        if (m && m->have_cache && !strcmp(m->cache_path, path)) {
                r->cache = m->cache;
                r->cache_borrowed = true;
                return m->cache_problem && !(r->cache_problem = strdup(m->cache_problem)) ? -ENOMEM : 0;
        }
        int rc = load_cache_file(r, path);
        /* Kept for the next resolve, the first cache's only. */
        if (rc == 0 && m && !m->have_cache && (m->cache_path = strdup(path))) {
                m->have_cache = true;
                m->cache = r->cache;
                r->cache_borrowed = true;
                if (r->cache_problem && !(m->cache_problem = strdup(r->cache_problem)))
                        return -ENOMEM;
        }
        return rc;
}

static int load_cache_file(Resolver *r, const char *path) {
        struct stat st;
        _cleanup_close_ int fd = elfroot_open_file(&r->root, path, &st);
        if (fd == -ENOENT)
                return 0;
        VgError err = { "" };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int rc = fd < 0 ? fd : vg_read_fd(fd, LDCACHE_MAX, &buf, &len);
        if (rc == -ENOMEM)
                return rc;
        if (rc >= 0)
                rc = ldcache_parse(buf, len, &r->cache, &err);
        if (rc == -ENOMEM)
                return rc;
        if (rc < 0 && asprintf(&r->cache_problem, "'%s': %s", path, err.text[0] ? err.text : strerror(-rc)) < 0)
                return -ENOMEM;
        return 0;
}

static int load_top(Resolver *r, const char *path, VgError *err) {
        struct stat st;
        _cleanup_close_ int fd = elfroot_open_file(&r->root, path, &st);
        if (fd < 0)
                return vg_error(err, fd, "'%s': %s", path, fd == -ENODEV ? "not a regular file (never opened for reading)"
                                                           : strerror(-fd));
        ElfSource src = { .fd = fd, .size = (uint64_t) st.st_size };
        int rc = elfdeps_elf_parse(&src, path, false, &r->top.elf, err);
        if (rc < 0)
                return rc;
        r->top.dev = st.st_dev;
        r->top.ino = st.st_ino;
        if (!(r->top.e.path = strdup(path)))
                return -ENOMEM;
        if ((rc = elfroot_realpath(&r->root, fd, path, &r->top.e.realpath)) < 0)
                return vg_error(err, rc, "'%s': %s", path, strerror(-rc));
        return 0;
}

/* Moves the entries out of the resolver into a list. */
static int make_list(Resolver *r, ElfdepsList **ret) {
        ElfdepsList *l = calloc(1, sizeof(*l));
        if (!l || (r->n && !(l->entries = calloc(r->n, sizeof(ElfdepsEntry))))) {
                free(l);
                return -ENOMEM;
        }
        l->path = TAKE_PTR(r->top.e.path);
        l->realpath = TAKE_PTR(r->top.e.realpath);
        l->cache_problem = TAKE_PTR(r->cache_problem);
        for (size_t i = 0; i < r->n; i++) {
                l->entries[i] = r->objs[i].e;
                r->objs[i].e = (ElfdepsEntry) { 0 };
        }
        l->n = r->n;
        *ret = l;
        return 0;
}

int elfdeps_resolve(const char *path, const ElfdepsOptions *opt, ElfdepsList **ret, VgError *err) {
        static const ElfdepsOptions defaults = { 0 };
        if (!opt)
                opt = &defaults;
        if (!path || path[0] != '/')
                return vg_error(err, -EINVAL, "'%s': not an absolute path", path ? path : "(null)");
        _cleanup_(resolver_done) Resolver r = { .root = { .fd = -1 } };
        r.max = opt->max_objects ? opt->max_objects : ELFDEPS_MAX_OBJECTS;
        int rc = elfroot_open(opt->root, &r.root, err);
        /* A memo is of one root: the first resolve's. */
        const char *root = opt->root ? opt->root : "";
        if (rc == 0 && opt->memo && !opt->memo->root && !(opt->memo->root = strdup(root)))
                return -ENOMEM;
        if (opt->memo && opt->memo->root && !strcmp(opt->memo->root, root))
                r.memo = opt->memo;
        if (rc < 0 || (rc = load_top(&r, path, err)) < 0)
                return rc;
        if ((rc = set_defaults(&r, opt)) < 0 || (rc = obj_expand(&r, &r.top, r.top.e.realpath)) < 0 ||
            (rc = load_cache(&r, opt->ld_cache ? opt->ld_cache : "/etc/ld.so.cache")) < 0)
                return rc;
        /* The interpreter is mapped first; a DT_NEEDED naming it by its
         * soname then finds it already there, as in ld.so. */
        if (r.top.elf.interp && (rc = add_needed(&r, ELFDEPS_TOP, r.top.elf.interp, true, err)) < 0)
                return rc;
        for (size_t i = 0; i < r.top.elf.n_needed; i++)
                if ((rc = add_needed(&r, ELFDEPS_TOP, r.top.elf.needed[i], false, err)) < 0)
                        return rc;
        /* Breadth-first: r.n grows while the loop runs. */
        for (size_t k = 0; k < r.n; k++)
                for (size_t i = 0; r.objs[k].e.status == ELFDEPS_FOUND && i < r.objs[k].elf.n_needed; i++)
                        if ((rc = add_needed(&r, k, r.objs[k].elf.needed[i], false, err)) < 0)
                                return rc;
        return make_list(&r, ret);
}

ElfdepsList *elfdeps_list_free(ElfdepsList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++) {
                free(l->entries[i].name);
                free(l->entries[i].path);
                free(l->entries[i].realpath);
                free(l->entries[i].problem);
        }
        free(l->entries);
        free(l->path);
        free(l->realpath);
        free(l->cache_problem);
        free(l);
        return NULL;
}
