/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The running kernel (lib/integrity/kernel-run.c does the work): "integrity kernel"
 * prints every loaded module with its status; "report integrity" gets a
 * row for each kernel finding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "virtgov/util/cleanup.h"
#include "virtgov/integrity/kernel-run.h"

/* "out-of-tree, unsigned (taint OE); changed: mode,sha256; package
 * linux-image-6.1.0-18-amd64 6.1.76-1; compressed (xz): ...". */
static void module_why(const KernelModule *m, char *buf, size_t n) {
        char words[256], changed[256] = "";
        size_t k = 0, c = 0;
        kernel_status_words(m->status, words, sizeof(words));
        for (unsigned a = 1; a <= FSCAN_SHA256; a <<= 1)
                if (m->changed & a)
                        c += (size_t) snprintf(changed + c, c < sizeof(changed) ? sizeof(changed) - c : 0, "%s%s",
                                               c ? "," : "", fscan_attr_name(a));
#define ADD(...) (k += (size_t) snprintf(buf + k, k < n ? n - k : 0, __VA_ARGS__))
        ADD("module %s: %s", m->name, words);
        if (m->taint[0])
                ADD(" (taint %s)", m->taint);
        if (changed[0])
                ADD("; changed since the baseline: %s", changed);
        if (m->package)
                ADD("; package %s %s%s", m->package, m->package_version ? m->package_version : "",
                    m->package_verified ? ", its MD5 matches" : "");
        if (m->status & KERNEL_UNRESOLVED)
                ADD("; modules.dep names no file for it");
        if (m->info.problem[0])
                ADD("; %s", m->info.problem);
#undef ADD
}

/* The facts about the kernel as a whole that call for action: each as a
 * kind, the file it concerns and why. */
typedef void (*IssueFn)(void *u, const char *kind, const char *path, const char *why);

static void kernel_issues(const KernelCheck *kc, const Config *c, IssueFn fn, void *u) {
        const KernelState *k = kc->state;
        char why[1024], path[4200];
        if (k->reboot_pending) {
                if (k->running_installed || !k->newest)
                        snprintf(why, sizeof(why), "kernel %s runs and %s is installed: a reboot is pending",
                                 k->release, k->newest ? k->newest : "another");
                else
                        snprintf(why, sizeof(why), "kernel %s runs and is no longer installed%s%s: a reboot is pending",
                                 k->release, k->newest ? "; the newest is " : "", k->newest ? k->newest : "");
                snprintf(path, sizeof(path), "%s/vmlinuz-%s", c->kernel_boot_dir, k->newest ? k->newest : k->release);
                fn(u, "reboot-pending", path, why);
        }
        if (k->taint_known && k->taint) {
                char letters[65];
                size_t n = (size_t) snprintf(why, sizeof(why), "the kernel is tainted (%llu, %s):",
                                             (unsigned long long) k->taint, kernel_taint_letters(k->taint, letters));
                for (unsigned b = 0; b < 64; b++) {
                        if (!(k->taint & (1ULL << b)))
                                continue;
                        const KernelTaintFlag *f = kernel_taint_flag(b);
                        n += (size_t) snprintf(why + n, n < sizeof(why) ? sizeof(why) - n : 0, " %c %s;",
                                               f ? f->letter : '?', f ? f->meaning : "an unknown flag");
                }
                if (n && n < sizeof(why))
                        why[n - 1] = '\0';
                fn(u, "tainted", c->kernel_tainted, why);
        }
        if (k->modules_supported && !k->have_modules_dep) {
                snprintf(path, sizeof(path), "%s/modules.dep", k->modules_dir);
                fn(u, "no-modules-dep", path, "modules.dep is missing: no loaded module can be resolved to its file");
        }
        if (k->n_skipped) {
                snprintf(why, sizeof(why), "%zu line(s) of /proc/modules and modules.dep not understood; the first: %s",
                         k->n_skipped, k->first_skipped);
                fn(u, "unparsed", NULL, why);   /* the why names the file */
        }
}

/* ---- report integrity: a row per finding ---- */

static void integrity_issue(void *u, const char *kind, const char *path, const char *why) {
        Report *r = u;
        char now[VG_TIME_MAX];
        vg_time_format(r->now_us, now);
        report_add(r, "kernel", true, REPORT_COLS(path, NULL, kind, NULL, NULL, NULL, NULL, now), NULL, "%s", why);
}

void report_integrity_kernel(Report *r) {
        KernelCheck kc;
        VgError err = { "" };
        char now[VG_TIME_MAX], why[2048], words[256];
        vg_time_format(r->now_us, now);
        /* The kernel's facts are read live: not reading them is said, and
         * the rest of the report stands. */
        if (kernel_check(r->store, r->cli->config, &kc, &err) < 0) {
                report_add(r, "kernel", true, REPORT_COLS(NULL, NULL, "unreadable", NULL, NULL, NULL, NULL, now), NULL,
                           "the running kernel could not be checked: %s", err.text);
                return;
        }
        kernel_issues(&kc, r->cli->config, integrity_issue, r);
        for (size_t i = 0; i < kc.state->n_modules; i++) {
                const KernelModule *m = &kc.state->modules[i];
                if (!m->finding)
                        continue;
                char changed[256] = "";
                size_t c = 0;
                for (unsigned a = 1; a <= FSCAN_SHA256; a <<= 1)
                        if (m->changed & a)
                                c += (size_t) snprintf(changed + c, c < sizeof(changed) ? sizeof(changed) - c : 0,
                                                       "%s%s", c ? "," : "", fscan_attr_name(a));
                module_why(m, why, sizeof(why));
                report_add(r, "kernel", true,
                           REPORT_COLS(m->path ? m->path : m->name, NULL, kernel_status_words(m->status, words,
                                       sizeof(words)), changed[0] ? changed : NULL, m->package, NULL, NULL, now),
                           json_pack("{s:s, s:s}", "module", m->name, "taint", m->taint), "%s", why);
        }
        kernel_check_clear(&kc);
}

/* ---- integrity kernel: every module ---- */

static const char *const columns[] = { "module", "status", "taint", "package", "path", NULL };

static const ReportDef report_kernel = {
        .name = "kernel",
        .summary = "the running kernel: its modules, taint and release",
        .columns = columns,
        .offline = true,
};

static void kernel_issue(void *u, const char *kind, const char *path, const char *why) {
        report_add(u, "kernel", true, REPORT_COLS(NULL, kind, NULL, NULL, path), NULL, "%s", why);
}

static json_t *module_rest(const KernelModule *m) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:b, s:s?}", "state", m->state, "format",
                              kernel_format_name(m->info.format), "size", (json_int_t) m->size, "package_verified",
                              m->package_verified, "package_version", m->package_version);
        if (m->info.has_modinfo)
                json_object_set_new(o, "intree", json_boolean(m->info.intree));
        if (m->info.format == KERNEL_FILE_ELF)
                json_object_set_new(o, "signature", json_boolean(m->info.signature));
        if (m->info.vermagic[0])
                json_object_set_new(o, "vermagic", json_string(m->info.vermagic));
        return o;
}

static json_t *sections(const KernelCheck *kc) {
        const KernelState *k = kc->state;
        json_t *installed = json_array(), *words = json_array();
        for (size_t i = 0; i < k->n_installed; i++)
                json_array_append_new(installed, json_string(k->installed[i]));
        for (unsigned b = 0; b < 64; b++)
                if (k->taint & (1ULL << b)) {
                        const KernelTaintFlag *f = kernel_taint_flag(b);
                        char l[2] = { f ? f->letter : '?', '\0' };
                        json_array_append_new(words, json_pack("{s:i, s:s, s:s}", "bit", (int) b, "letter", l,
                                                               "meaning", f ? f->meaning : "unknown"));
                }
        char letters[65];
        json_t *taint = k->taint_known ? json_pack("{s:I, s:s, s:o}", "value", (json_int_t) k->taint, "letters",
                                                   kernel_taint_letters(k->taint, letters), "flags", words)
                                       : (json_decref(words), json_null());
        return json_pack("{s:s, s:s?, s:o, s:b, s:b, s:o, s:s, s:s, s:b, s:I}", "release", k->release, "newest",
                         k->newest, "installed", installed, "running_installed", k->running_installed,
                         "reboot_pending", k->reboot_pending, "taint", taint, "baseline", kc->baseline,
                         "packages", kc->packages, "modules_supported", k->modules_supported, "modules",
                         (json_int_t) k->n_modules);
}

/* The head and the modules as an aligned table. */
static void print_text(const KernelCheck *kc, const Report *r) {
        const KernelState *k = kc->state;
        char a[256], b[256], c[256], d[256], e[4200], letters[65];
        size_t findings = 0, modules = 0;
        for (size_t i = 0; i < r->n_rows; i++)
                findings += r->rows[i].finding;
        for (size_t i = 0; i < k->n_modules; i++)
                modules += k->modules[i].finding;
        printf("kernel        %s (running)%s\n", out_safe(k->release, a, sizeof(a)),
               k->running_installed || !k->n_installed ? "" : ", no longer installed");
        printf("newest        %s%s\n", k->newest ? out_safe(k->newest, a, sizeof(a)) : "none found",
               k->reboot_pending ? ": reboot pending" : "");
        printf("installed    ");
        for (size_t i = 0; i < k->n_installed; i++)
                printf(" %s", out_safe(k->installed[i], a, sizeof(a)));
        printf("%s\n", k->n_installed ? "" : " none found");
        if (!k->taint_known)
                printf("taint         unknown\n");
        else if (!k->taint)
                printf("taint         0: not tainted\n");
        else
                for (unsigned bit = 0, first = 1; bit < 64; bit++) {
                        if (!(k->taint & (1ULL << bit)))
                                continue;
                        const KernelTaintFlag *f = kernel_taint_flag(bit);
                        if (first)
                                printf("taint         %llu (%s):\n", (unsigned long long) k->taint,
                                       kernel_taint_letters(k->taint, letters));
                        printf("                %c  %s\n", f ? f->letter : '?', f ? f->meaning : "an unknown flag");
                        first = 0;
                }
        printf("baseline      %s\npackages      %s\nfindings      %zu\n", kc->baseline, kc->packages, findings);
        if (!k->modules_supported) {
                printf("modules       none: the kernel has no module support\n");
                return;
        }
        printf("modules       %zu loaded, %zu with a finding\n\n", k->n_modules, modules);
        int w[4] = { 6, 6, 5, 7 };
        for (size_t i = 0; i < k->n_modules; i++) {
                const KernelModule *m = &k->modules[i];
                int lens[4] = { (int) strlen(m->name), (int) strlen(kernel_status_words(m->status, a, sizeof(a))),
                                (int) strlen(m->taint), m->package ? (int) strlen(m->package) : 1 };
                for (int j = 0; j < 4; j++)
                        w[j] = lens[j] > w[j] ? lens[j] : w[j];
        }
        out_cells({ "MODULE", w[0] }, { "STATUS", w[1] }, { "TAINT", w[2] }, { "PACKAGE", w[3] }, { "FILE", 0 });
        for (size_t i = 0; i < k->n_modules; i++) {
                const KernelModule *m = &k->modules[i];
                out_cells({ out_safe(m->name, a, sizeof(a)), w[0] },
                          { kernel_status_words(m->status, b, sizeof(b)), w[1] },
                          { m->taint[0] ? m->taint : "-", w[2] }, { out_safe(m->package, c, sizeof(c)), w[3] },
                          { out_safe(m->path ? m->path : "(unresolved)", e, sizeof(e)), 0 });
        }
        bool head = false;
        for (size_t i = 0; i < k->n_modules; i++) {
                const KernelModule *m = &k->modules[i];
                if (!m->info.problem[0] || !m->finding)
                        continue;
                printf("%s  %s: %s\n", head ? "" : "\nnotes:\n", out_safe(m->name, a, sizeof(a)),
                       out_safe(m->info.problem, d, sizeof(d)));
                head = true;
        }
        for (size_t i = 0; i < r->n_rows; i++)
                if (!strcmp(r->rows[i].category, "kernel")) {
                        printf("%s  %s\n", head ? "" : "\nnotes:\n", out_safe(r->rows[i].why, e, sizeof(e)));
                        head = true;
                }
}

int integrity_kernel(Cli *cli, bool csv, bool fail) {
        _cleanup_(store_closep) Store *s = cli_open_store(cli);
        if (!s)
                return EXIT_FAIL;
        KernelCheck kc;
        VgError err = { "" };
        if (kernel_check(s, cli->config, &kc, &err) < 0)
                return cli_error("%s", err.text);
        Report r = { .cli = cli, .def = &report_kernel, .store = s, .now_us = vg_now_us() };
        r.since_us = r.now_us;
        gethostname(r.host, sizeof(r.host));
        r.host[sizeof(r.host) - 1] = '\0';
        char why[2048], words[256];
        kernel_issues(&kc, cli->config, kernel_issue, &r);
        for (size_t i = 0; i < kc.state->n_modules; i++) {
                const KernelModule *m = &kc.state->modules[i];
                module_why(m, why, sizeof(why));
                report_add(&r, "module", m->finding,
                           REPORT_COLS(m->name, kernel_status_words(m->status, words, sizeof(words)), m->taint,
                                       m->package, m->path),
                           module_rest(m), "%s", why);
        }
        int k;
        if (cli->json || csv) {
                r.sections = sections(&kc);
                k = report_print(&r, csv, fail);
        } else {
                print_text(&kc, &r);
                k = r.rows_lost ? cli_error("out of memory") : EXIT_OK;
                for (size_t i = 0; k == EXIT_OK && fail && i < r.n_rows; i++)
                        if (r.rows[i].finding)
                                k = 3;
        }
        report_rows_clear(&r);
        json_decref(r.sections);
        kernel_check_clear(&kc);
        return k;
}
