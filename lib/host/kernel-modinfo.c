/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a module file says of itself: its .modinfo section (the
 * "key=value\0" strings modinfo(8) prints) and whether a signature is
 * appended (scripts/sign-file writes it after the ELF object, ending with
 * the magic). Only the ELF header, the section headers, their names and
 * .modinfo are read, with pread: a module file can be tens of MB.
 *
 * The file is outside input: every offset and size is checked against
 * the file's size before it is used, and what cannot be read is said in
 * problem, never an error: a module file that is not a module is a
 * finding about the host, not a failure of the check.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel-priv.h"

#define SIG_MAGIC "~Module signature appended~\n"

typedef struct Reader {
        const KernelSource *src;
        bool big, is64;
} Reader;

/* len bytes at off, all or -EIO. */
static int src_read(const KernelSource *s, uint64_t off, size_t len, void *dst) {
        if (off > s->size || len > s->size - off)
                return -EIO;
        if (s->buf) {
                memcpy(dst, s->buf + off, len);
                return 0;
        }
        for (size_t done = 0; done < len;) {
                ssize_t k = pread(s->fd, (uint8_t *) dst + done, len - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EIO;
                done += (size_t) k;
        }
        return 0;
}

static uint64_t get(const Reader *r, const uint8_t *p, size_t n) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
                v |= (uint64_t) p[r->big ? n - 1 - i : i] << (8 * i);
        return v;
}

/* An Elf32/Elf64 field: its offset and size in each class. */
#define F(r, p, o32, n32, o64, n64) ((r)->is64 ? get(r, (p) + (o64), n64) : get(r, (p) + (o32), n32))

typedef struct Section {
        uint32_t name, type;
        uint64_t offset, size;
} Section;

static Section section(const Reader *r, const uint8_t *sh) {
        return (Section) { (uint32_t) get(r, sh, 4), (uint32_t) get(r, sh + 4, 4),
                           F(r, sh, 16, 4, 24, 8), F(r, sh, 20, 4, 32, 8) };
}

static void problem(KernelModinfo *m, const char *why) {
        snprintf(m->problem, sizeof(m->problem), "%s", why);
}

static void take(char *dst, size_t n, const char *v, size_t len) {
        if (len >= n)
                len = n - 1;
        memcpy(dst, v, len);
        dst[len] = '\0';
}

/* "key=value\0" strings; padding NULs between them. */
static void modinfo_strings(const char *s, size_t n, KernelModinfo *m) {
        m->has_modinfo = true;
        for (size_t i = 0; i < n;) {
                const char *e = memchr(s + i, '\0', n - i);
                size_t len = e ? (size_t) (e - (s + i)) : n - i;
                const char *kv = s + i, *eq = memchr(kv, '=', len);
                i += len + 1;
                if (!eq)
                        continue;
                size_t kl = (size_t) (eq - kv), vl = len - kl - 1;
                if (kl == 6 && !memcmp(kv, "intree", 6))
                        m->intree = vl == 1 && eq[1] == 'Y';
                else if (kl == 4 && !memcmp(kv, "name", 4))
                        take(m->name, sizeof(m->name), eq + 1, vl);
                else if (kl == 7 && !memcmp(kv, "license", 7))
                        take(m->license, sizeof(m->license), eq + 1, vl);
                else if (kl == 8 && !memcmp(kv, "vermagic", 8))
                        take(m->vermagic, sizeof(m->vermagic), eq + 1, vl);
        }
}

/* The section headers of an ELF object, .modinfo among them. */
static void elf_sections(const KernelSource *src, const uint8_t *eh, KernelModinfo *m) {
        Reader r = { src, eh[EI_DATA] == ELFDATA2MSB, eh[EI_CLASS] == ELFCLASS64 };
        if ((eh[EI_CLASS] != ELFCLASS32 && eh[EI_CLASS] != ELFCLASS64) ||
            (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB))
                return problem(m, "not ELF: an unknown class or byte order");
        if (get(&r, eh + 16, 2) != ET_REL)
                return problem(m, "not a module: an ELF object that is not relocatable (ET_REL)");
        uint64_t shoff = F(&r, eh, 32, 4, 40, 8);
        uint64_t shentsize = F(&r, eh, 46, 2, 58, 2), shnum = F(&r, eh, 48, 2, 60, 2);
        uint64_t shstrndx = F(&r, eh, 50, 2, 62, 2);
        size_t want = r.is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
        if (!shoff || shentsize < want || shentsize > 4096)
                return problem(m, "not a module: no section headers");
        uint8_t first[4096];
        /* More than 0xff00 sections: the count and the names' index are
         * in section 0 (ELF gABI, "Extended Section Numbering"). */
        if (shnum == 0 || shstrndx == SHN_XINDEX) {
                if (src_read(src, shoff, shentsize, first) < 0)
                        return problem(m, "truncated: the section headers are past the end of the file");
                if (shnum == 0)
                        shnum = F(&r, first, 20, 4, 32, 8);
                if (shstrndx == SHN_XINDEX)
                        shstrndx = get(&r, first + (r.is64 ? 40 : 24), 4);
        }
        if (!shnum || shnum > KERNEL_SHDRS_MAX / shentsize || shstrndx >= shnum)
                return problem(m, "not a module: section counts out of range");
        _cleanup_free_ uint8_t *sh = malloc(shnum * shentsize);
        if (!sh)
                return problem(m, "out of memory reading the section headers");
        if (src_read(src, shoff, shnum * shentsize, sh) < 0)
                return problem(m, "truncated: the section headers are past the end of the file");
        Section names = section(&r, sh + shstrndx * shentsize);
        if (names.type != SHT_STRTAB || !names.size || names.size > KERNEL_SHSTRTAB_MAX)
                return problem(m, "not a module: no section name table");
        _cleanup_free_ char *tab = malloc(names.size);
        if (!tab || src_read(src, names.offset, names.size, tab) < 0)
                return problem(m, "truncated: the section name table is past the end of the file");
        for (uint64_t i = 0; i < shnum; i++) {
                Section s = section(&r, sh + i * shentsize);
                if (s.name >= names.size || names.size - s.name < sizeof(".modinfo") ||
                    memcmp(tab + s.name, ".modinfo", sizeof(".modinfo")))
                        continue;
                if (s.type != SHT_PROGBITS || s.size > KERNEL_MODINFO_MAX)
                        return problem(m, "not a module: a .modinfo section that holds no strings");
                _cleanup_free_ char *mi = malloc(s.size ? s.size : 1);
                if (!mi || src_read(src, s.offset, s.size, mi) < 0)
                        return problem(m, "truncated: .modinfo is past the end of the file");
                modinfo_strings(mi, s.size, m);
                return;
        }
        problem(m, "not a module: no .modinfo section");
}

void kernel_modinfo_read(const KernelSource *src, KernelModinfo *m) {
        *m = (KernelModinfo) { .format = KERNEL_FILE_OTHER };
        uint8_t eh[64] = { 0 };
        size_t n = src->size < sizeof(eh) ? (size_t) src->size : sizeof(eh);
        if (src_read(src, 0, n, eh) < 0)
                return problem(m, "unreadable");
        static const struct { KernelFormat f; const char *magic; size_t n; } packed[] = {
                { KERNEL_FILE_XZ, "\xfd" "7zXZ\0", 6 },
                { KERNEL_FILE_ZSTD, "\x28\xb5\x2f\xfd", 4 },
                { KERNEL_FILE_GZIP, "\x1f\x8b", 2 },
        };
        for (size_t i = 0; i < ELEMENTSOF(packed); i++)
                if (n >= packed[i].n && !memcmp(eh, packed[i].magic, packed[i].n)) {
                        m->format = packed[i].f;
                        snprintf(m->problem, sizeof(m->problem), "compressed (%s): .modinfo and signature not read",
                                 kernel_format_name(m->format));
                        return;
                }
        if (n < 4 || memcmp(eh, ELFMAG, SELFMAG))
                return problem(m, "not ELF, nor xz, zstd or gzip");
        if (n < (eh[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
                return problem(m, "truncated: shorter than an ELF header");
        m->format = KERNEL_FILE_ELF;
        char tail[sizeof(SIG_MAGIC) - 1];
        m->signature = src->size >= sizeof(tail) && src_read(src, src->size - sizeof(tail), sizeof(tail), tail) == 0 &&
                       !memcmp(tail, SIG_MAGIC, sizeof(tail));
        elf_sections(src, eh, m);
}

void kernel_modinfo_parse(const uint8_t *buf, size_t len, KernelModinfo *ret) {
        KernelSource src = { .buf = buf, .fd = -1, .size = len };
        kernel_modinfo_read(&src, ret);
}

int kernel_modinfo_file(const char *path, KernelModinfo *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* Never a FIFO or a device planted where a module should be. */
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        KernelSource src = { .fd = fd, .size = (uint64_t) st.st_size };
        kernel_modinfo_read(&src, ret);
        return 0;
}
