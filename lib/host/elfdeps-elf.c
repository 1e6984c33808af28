/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One ELF file's PT_INTERP and dynamic section, from a buffer or by pread.
 * Every offset and size comes from a file that may be hostile: each read
 * is bounds-checked against the file size (overflow-safe), each table is
 * capped (elfdeps-priv.h), each string must end inside its table.
 * Both classes and both byte orders are read; which ones a process can
 * load together is the caller's business.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfdeps-priv.h"
#include "virtgov/util/cleanup.h"

/* How far past the last wanted string of a string table is read: a
 * library name or a run path longer than this is read with the whole
 * table. */
#define STRTAB_TAIL 4096

/* The few fields read, at their offsets for each class. */
typedef struct Layout {
        size_t ehdr, phoff, phentsize_at, phnum_at, phdr, word;
        size_t p_offset, p_vaddr, p_filesz;
} Layout;

static const Layout layout32 = { 52, 28, 42, 44, 32, 4, 4, 8, 16 };
static const Layout layout64 = { 64, 32, 54, 56, 56, 8, 8, 16, 32 };

typedef struct Reader {
        const ElfSource *src;
        const char *what;
        VgError *err;
        const Layout *l;
        bool big;
} Reader;

static int src_read(const Reader *r, uint64_t off, uint64_t len, void *dst) {
        const ElfSource *s = r->src;
        if (off > s->size || len > s->size - off)
                return vg_error(r->err, -ENOEXEC, "'%s': truncated: %llu bytes at offset %llu, past the end (%llu bytes)",
                                r->what, (unsigned long long) len, (unsigned long long) off,
                                (unsigned long long) s->size);
        if (s->buf) {
                memcpy(dst, s->buf + off, len);
                return 0;
        }
        for (uint64_t done = 0; done < len;) {
                ssize_t n = pread(s->fd, (char *) dst + done, len - done, (off_t) (off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)   /* the file shrank since fstat: as truncated */
                        return vg_error(r->err, n < 0 ? -errno : -ENOEXEC, "'%s': read at offset %llu failed: %s",
                                        r->what, (unsigned long long) (off + done),
                                        n < 0 ? strerror(errno) : "end of file");
                done += (uint64_t) n;
        }
        return 0;
}

/* A malloc'ed copy of len bytes at off (len <= cap, else -ENOEXEC). */
static int src_dup(const Reader *r, uint64_t off, uint64_t len, uint64_t cap, const char *table, uint8_t **ret) {
        if (len > cap)
                return vg_error(r->err, -ENOEXEC, "'%s': %s of %llu bytes (more than %llu)", r->what, table,
                                (unsigned long long) len, (unsigned long long) cap);
        uint8_t *b = malloc(len ? len : 1);
        if (!b)
                return -ENOMEM;
        int rc = src_read(r, off, len, b);
        if (rc < 0) {
                free(b);
                return rc;
        }
        *ret = b;
        return 0;
}

static uint16_t get16(const Reader *r, const uint8_t *p) {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return r->big ? be16toh(v) : le16toh(v);
}

static uint32_t get32(const Reader *r, const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return r->big ? be32toh(v) : le32toh(v);
}

/* An address-sized field: Elf32_Word/Addr/Off or their 64-bit forms. */
static uint64_t getw(const Reader *r, const uint8_t *p) {
        if (r->l->word == 4)
                return get32(r, p);
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return r->big ? be64toh(v) : le64toh(v);
}

static int parse_ident(Reader *r, ElfObject *o, uint8_t *ehdr) {
        if (src_read(r, 0, EI_NIDENT, ehdr) < 0 || memcmp(ehdr, ELFMAG, SELFMAG) != 0)
                return vg_error(r->err, -ENOEXEC, "'%s': not an ELF file", r->what);
        o->cls = ehdr[EI_CLASS];
        o->data = ehdr[EI_DATA];
        if ((o->cls != ELFCLASS32 && o->cls != ELFCLASS64) || (o->data != ELFDATA2LSB && o->data != ELFDATA2MSB) ||
            ehdr[EI_VERSION] != EV_CURRENT)
                return vg_error(r->err, -ENOEXEC, "'%s': unsupported ELF class %u, data %u or version %u",
                                r->what, ehdr[EI_CLASS], ehdr[EI_DATA], ehdr[EI_VERSION]);
        r->l = o->cls == ELFCLASS64 ? &layout64 : &layout32;
        r->big = o->data == ELFDATA2MSB;
        int rc = src_read(r, 0, r->l->ehdr, ehdr);
        if (rc < 0)
                return rc;
        o->type = get16(r, ehdr + 16);
        o->machine = get16(r, ehdr + 18);
        if (o->type != ET_EXEC && o->type != ET_DYN)
                return vg_error(r->err, -ENOEXEC, "'%s': ELF type %u is neither an executable nor a shared object",
                                r->what, o->type);
        return 0;
}

/* The file offset of the bytes at vaddr..vaddr+len, which must lie in the
 * file-backed part of one PT_LOAD segment (where ld.so maps them from). */
static int vaddr_to_offset(const Reader *r, const uint8_t *ph, size_t phnum, size_t phent, uint64_t vaddr,
                           uint64_t len, uint64_t *ret) {
        for (size_t i = 0; i < phnum; i++) {
                const uint8_t *p = ph + i * phent;
                if (get32(r, p) != PT_LOAD)
                        continue;
                uint64_t va = getw(r, p + r->l->p_vaddr), fsz = getw(r, p + r->l->p_filesz);
                if (vaddr < va || vaddr - va > fsz || len > fsz - (vaddr - va))
                        continue;
                uint64_t off = getw(r, p + r->l->p_offset);
                if (off > UINT64_MAX - (vaddr - va))
                        continue;
                *ret = off + (vaddr - va);
                return 0;
        }
        return vg_error(r->err, -ENOEXEC, "'%s': string table at address 0x%llx is in no loaded segment", r->what,
                        (unsigned long long) vaddr);
}

/* A copy of the string at off in the table, which must end inside it. */
/* Bytes [from, to) of a string table of size bytes, read into tab. */
typedef struct StrWindow {
        const char *tab;
        uint64_t from, to, size;
} StrWindow;

/* The string at off; -EAGAIN when it runs past a window that is not the
 * whole table (the caller reads the whole table then). */
static int strtab_get(const Reader *r, const StrWindow *w, uint64_t off, const char *tag, char **ret) {
        const char *s = off >= w->from && off < w->to ? w->tab + (off - w->from) : NULL;
        bool ends = s && memchr(s, '\0', w->to - off);
        if (off < w->size && !ends && (w->from > 0 || w->to < w->size))
                return -EAGAIN;
        if (!ends)
                return vg_error(r->err, -ENOEXEC, "'%s': %s string at %llu is outside the string table or not terminated",
                                r->what, tag, (unsigned long long) off);
        if (*s == '\0')
                return vg_error(r->err, -ENOEXEC, "'%s': empty %s string", r->what, tag);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* The dynamic entries read, before their strings are looked up. */
typedef struct DynTags {
        uint64_t strtab, strsz, soname, rpath, runpath;
        bool has_strtab, has_strsz, has_soname, has_rpath, has_runpath;
        uint64_t *needed;
        size_t n_needed;
} DynTags;

static int dyn_scan(const Reader *r, const uint8_t *dyn, uint64_t size, DynTags *t, ElfObject *o) {
        size_t ent = 2 * r->l->word;
        for (uint64_t at = 0; at + ent <= size; at += ent) {
                uint64_t tag = getw(r, dyn + at), val = getw(r, dyn + at + r->l->word);
                /* Later entries win, as in ld.so's l_info[] table. */
                switch (tag) {
                case DT_NULL:
                        return 0;
                case DT_NEEDED:
                        if (vg_grow((void **) &t->needed, &t->n_needed, sizeof(uint64_t)) < 0)
                                return -ENOMEM;
                        t->needed[t->n_needed - 1] = val;
                        break;
                case DT_STRTAB: t->strtab = val; t->has_strtab = true; break;
                case DT_STRSZ: t->strsz = val; t->has_strsz = true; break;
                case DT_SONAME: t->soname = val; t->has_soname = true; break;
                case DT_RPATH: t->rpath = val; t->has_rpath = true; break;
                case DT_RUNPATH: t->runpath = val; t->has_runpath = true; break;
                case DT_FLAGS_1: o->nodeflib = (val & DF_1_NODEFLIB) != 0; break;
                default: break;
                }
        }
        return 0;   /* no DT_NULL: ld.so would stop at the segment's end too */
}

static int dyn_strings(const Reader *r, const DynTags *t, const StrWindow *w, ElfObject *o) {
        int rc = 0;
        if (t->has_soname && (rc = strtab_get(r, w, t->soname, "DT_SONAME", &o->soname)) < 0)
                return rc;
        if (t->has_rpath && (rc = strtab_get(r, w, t->rpath, "DT_RPATH", &o->rpath)) < 0)
                return rc;
        if (t->has_runpath && (rc = strtab_get(r, w, t->runpath, "DT_RUNPATH", &o->runpath)) < 0)
                return rc;
        o->needed = calloc(t->n_needed + 1, sizeof(char *));
        if (!o->needed)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_needed; i++) {
                if ((rc = strtab_get(r, w, t->needed[i], "DT_NEEDED", &o->needed[i])) < 0)
                        return rc;
                o->n_needed++;
        }
        return 0;
}

/* What dyn_strings set, undone. */
static void dyn_strings_clear(ElfObject *o) {
        free(o->soname);
        free(o->rpath);
        free(o->runpath);
        for (size_t i = 0; i < o->n_needed; i++)
                free(o->needed[i]);
        free(o->needed);
        o->soname = o->rpath = o->runpath = NULL;
        o->needed = NULL;
        o->n_needed = 0;
}

static int parse_dynamic(const Reader *r, const uint8_t *ph, size_t phnum, size_t phent, const uint8_t *p,
                         ElfObject *o) {
        _cleanup_free_ uint8_t *dyn = NULL;
        _cleanup_free_ uint8_t *tab = NULL;
        DynTags t = { 0 };
        uint64_t off = 0, size = getw(r, p + r->l->p_filesz);
        int rc = src_dup(r, getw(r, p + r->l->p_offset), size, ELF_DYNAMIC_MAX, "dynamic section", &dyn);
        if (rc < 0)
                return rc;
        if ((rc = dyn_scan(r, dyn, size, &t, o)) < 0)
                goto out;
        if (!t.has_soname && !t.has_rpath && !t.has_runpath && t.n_needed == 0)
                goto out;   /* nothing that needs the string table */
        if (!t.has_strtab || !t.has_strsz) {
                rc = vg_error(r->err, -ENOEXEC, "'%s': dynamic section without DT_STRTAB or DT_STRSZ", r->what);
                goto out;
        }
        if ((rc = vaddr_to_offset(r, ph, phnum, phent, t.strtab, t.strsz, &off)) < 0)
                goto out;
        /* The strings wanted sit close together (qemu-system-x86_64's
         * 60 names: 440 bytes of a 573 KB table, which was read whole for
         * each of ten programs of a profile, 5.3 MB a check): read from
         * the first to a little past the last, and the whole table only
         * when one runs past that. */
        uint64_t lo = UINT64_MAX, hi = 0;
        uint64_t some[] = { t.has_soname ? t.soname : UINT64_MAX, t.has_rpath ? t.rpath : UINT64_MAX,
                            t.has_runpath ? t.runpath : UINT64_MAX };
        for (size_t i = 0; i < ELEMENTSOF(some) + t.n_needed; i++) {
                uint64_t x = i < ELEMENTSOF(some) ? some[i] : t.needed[i - ELEMENTSOF(some)];
                if (x == UINT64_MAX)
                        continue;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
        }
        StrWindow w = { .size = t.strsz };
        w.from = lo < t.strsz ? lo : t.strsz;
        w.to = hi < t.strsz - STRTAB_TAIL ? hi + STRTAB_TAIL : t.strsz;
        w.to = w.to < w.from ? w.from : w.to;
        if (t.strsz <= STRTAB_TAIL || t.strsz > ELF_STRTAB_MAX)
                w.from = 0, w.to = t.strsz;
        if ((rc = src_dup(r, off + w.from, w.to - w.from, ELF_STRTAB_MAX, "string table", &tab)) < 0)
                goto out;
        w.tab = (const char *) tab;
        rc = dyn_strings(r, &t, &w, o);
        if (rc == -EAGAIN) {
                dyn_strings_clear(o);
                free(tab);
                tab = NULL;
                w = (StrWindow) { .to = t.strsz, .size = t.strsz };
                if ((rc = src_dup(r, off, t.strsz, ELF_STRTAB_MAX, "string table", &tab)) < 0)
                        goto out;
                w.tab = (const char *) tab;
                rc = dyn_strings(r, &t, &w, o);
        }
out:
        free(t.needed);
        return rc;
}

static int parse_interp(const Reader *r, const uint8_t *p, ElfObject *o) {
        _cleanup_free_ uint8_t *s = NULL;
        uint64_t size = getw(r, p + r->l->p_filesz);
        int rc = src_dup(r, getw(r, p + r->l->p_offset), size, PATH_MAX, "PT_INTERP", &s);
        if (rc < 0)
                return rc;
        if (size == 0 || !memchr(s, '\0', size) || s[0] == '\0')
                return vg_error(r->err, -ENOEXEC, "'%s': PT_INTERP is empty or not terminated", r->what);
        free(o->interp);
        o->interp = strdup((const char *) s);
        return o->interp ? 0 : -ENOMEM;
}

static int parse_segments(Reader *r, const uint8_t *ehdr, ElfObject *o) {
        uint64_t phoff = getw(r, ehdr + r->l->phoff);
        size_t phent = get16(r, ehdr + r->l->phentsize_at), phnum = get16(r, ehdr + r->l->phnum_at);
        if (phnum == 0)
                return 0;   /* nothing to map: no dependencies */
        if (phnum == PN_XNUM || phent < r->l->phdr)
                return vg_error(r->err, -ENOEXEC, "'%s': unsupported program header table (%zu entries of %zu bytes)",
                                r->what, phnum, phent);
        _cleanup_free_ uint8_t *ph = NULL;
        int rc = src_dup(r, phoff, (uint64_t) phnum * phent, ELF_PHDRS_MAX, "program header table", &ph);
        if (rc < 0)
                return rc;
        const uint8_t *dynamic = NULL;
        for (size_t i = 0; i < phnum; i++) {
                const uint8_t *p = ph + i * phent;
                uint32_t type = get32(r, p);
                if (type == PT_DYNAMIC)
                        dynamic = p;   /* the last one, as ld.so */
                else if (type == PT_INTERP && (rc = parse_interp(r, p, o)) < 0)
                        return rc;
        }
        return dynamic ? parse_dynamic(r, ph, phnum, phent, dynamic, o) : 0;
}

int elfdeps_elf_parse(const ElfSource *src, const char *what, bool header_only, ElfObject *ret, VgError *err) {
        *ret = (ElfObject) { 0 };
        Reader r = { .src = src, .what = what, .err = err };
        uint8_t ehdr[64];
        int rc = parse_ident(&r, ret, ehdr);
        if (rc >= 0 && !header_only)
                rc = parse_segments(&r, ehdr, ret);
        if (rc < 0)
                elfdeps_elf_done(ret);
        return rc;
}

void elfdeps_elf_done(ElfObject *o) {
        for (size_t i = 0; o->needed && i < o->n_needed; i++)
                free(o->needed[i]);
        free(o->needed);
        free(o->interp);
        free(o->soname);
        free(o->rpath);
        free(o->runpath);
        *o = (ElfObject) { 0 };
}

int elfdeps_elf_copy(const ElfObject *src, ElfObject *dst) {
        *dst = *src;
        dst->interp = dst->soname = dst->rpath = dst->runpath = NULL;
        dst->needed = NULL;
        dst->n_needed = 0;
        const char *const from[] = { src->interp, src->soname, src->rpath, src->runpath };
        char **to[] = { &dst->interp, &dst->soname, &dst->rpath, &dst->runpath };
        for (size_t i = 0; i < ELEMENTSOF(from); i++)
                if (from[i] && !(*to[i] = strdup(from[i])))
                        goto fail;
        if (src->needed && !(dst->needed = calloc(src->n_needed + 1, sizeof(char *))))
                goto fail;
        for (size_t i = 0; i < src->n_needed; i++, dst->n_needed++)
                if (!(dst->needed[i] = strdup(src->needed[i])))
                        goto fail;
        return 0;
fail:
        elfdeps_elf_done(dst);
        return -ENOMEM;
}
