/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-driven: every folder under tests/data/domxml/, tests/data/netxml/
 * and tests/data/snapxml/ holds input.xml and either expected.json (the
 * facts, exactly; for a snapshot {"creation_time": N}) or error.txt (a
 * fragment the error text must contain).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/model/domxml.h"

typedef enum { KIND_DOMAIN, KIND_NETWORK, KIND_SNAPSHOT } Kind;

static int parse_to_json(Kind k, const char *xml, size_t len, json_t **ret, VgError *err) {
        if (k == KIND_SNAPSHOT) {
                int64_t t = 0;
                int r = snapxml_creation_time(xml, len, &t, err);
                if (r == 0)
                        *ret = json_pack("{s:I}", "creation_time", (json_int_t) t);
                return r;
        }
        if (k == KIND_DOMAIN) {
                DomainFacts *f = NULL;
                int r = domxml_parse(xml, len, &f, err);
                if (r == 0) {
                        *ret = domain_facts_to_json(f);
                        /* The hook's text of the same facts says the same. */
                        char *text = domain_facts_text(f);
                        json_error_t jerr;
                        json_t *from_text = text ? json_loads(text, 0, &jerr) : NULL;
                        cr_expect(from_text && json_equal(from_text, *ret), "domain_facts_text: %s",
                                  text ? text : "NULL");
                        json_decref(from_text);
                        free(text);
                        domain_facts_free(f);
                }
                return r;
        }
        NetworkFacts *f = NULL;
        int r = netxml_parse(xml, len, &f, err);
        if (r == 0) {
                *ret = network_facts_to_json(f);
                network_facts_free(f);
        }
        return r;
}

static size_t run_cases(const char *sub, Kind k) {
        char root[4096];
        snprintf(root, sizeof(root), "%s/%s", TEST_DATA_DIR, sub);
        DIR *d = opendir(root);
        cr_assert_not_null(d, "no data dir %s", root);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char p[8192];
                size_t len;
                snprintf(p, sizeof(p), "%s/%s/input.xml", root, de->d_name);
                char *xml = read_data(p, &len);
                cr_assert_not_null(xml, "%s", p);
                snprintf(p, sizeof(p), "%s/%s/expected.json", root, de->d_name);
                char *expected = read_data(p, NULL);
                snprintf(p, sizeof(p), "%s/%s/error.txt", root, de->d_name);
                char *error = read_data(p, NULL);
                cr_assert(expected || error, "case %s has neither expected.json nor error.txt", de->d_name);

                json_t *got = NULL;
                VgError err = { "" };
                int r = parse_to_json(k, xml, len, &got, &err);
                if (expected) {
                        cr_expect_eq(r, 0, "case %s: %s", de->d_name, err.text);
                        json_error_t jerr;
                        json_t *want = json_loads(expected, 0, &jerr);
                        cr_assert_not_null(want, "case %s: expected.json: %s", de->d_name, jerr.text);
                        char *g = got ? json_dumps(got, JSON_SORT_KEYS) : strdup("(none)");
                        char *w = json_dumps(want, JSON_SORT_KEYS);
                        cr_expect(json_equal(got, want), "case %s:\n got  %s\n want %s", de->d_name, g, w);
                        free(g);
                        free(w);
                        json_decref(want);
                } else {
                        error[strcspn(error, "\n")] = '\0';
                        cr_expect_lt(r, 0, "case %s: parsed but should fail", de->d_name);
                        cr_expect(strstr(err.text, error), "case %s: error '%s' lacks '%s'", de->d_name,
                                  err.text, error);
                }
                json_decref(got);
                free(xml);
                free(expected);
                free(error);
                n++;
        }
        closedir(d);
        return n;
}

Test(domxml, data_cases) {
        cr_assert_geq(run_cases("domxml", KIND_DOMAIN), 10);
}

Test(netxml, data_cases) {
        cr_assert_geq(run_cases("netxml", KIND_NETWORK), 4);
}

Test(snapxml, data_cases) {
        cr_assert_geq(run_cases("snapxml", KIND_SNAPSHOT), 7);
}

Test(domxml, deep_nesting_is_refused_not_a_crash) {
        size_t depth = 100000;
        char *xml = malloc(depth * 7 + 64);
        char *p = xml + sprintf(xml, "<domain><name>x</name>");
        for (size_t i = 0; i < depth; i++)
                p += sprintf(p, "<a>");
        *p = '\0';
        DomainFacts *f = NULL;
        VgError err = { "" };
        cr_assert_lt(domxml_parse(xml, strlen(xml), &f, &err), 0);
        cr_assert(strstr(err.text, "line 1"), "%s", err.text);
        free(xml);
}

Test(domxml, empty_input_is_an_error) {
        DomainFacts *f = NULL;
        VgError err = { "" };
        cr_assert_eq(domxml_parse("", 0, &f, &err), -EINVAL);
        cr_assert(strstr(err.text, "empty input"), "%s", err.text);
}

Test(domxml, no_network_fetch_for_external_dtd) {
        /* A public DTD id with NONET must fail closed, not fetch. */
        const char *xml = "<?xml version='1.0'?>\n<!DOCTYPE domain SYSTEM 'http://192.0.2.1/x.dtd'>\n"
                          "<domain><name>x</name></domain>";
        DomainFacts *f = NULL;
        VgError err = { "" };
        cr_assert_eq(domxml_parse(xml, strlen(xml), &f, &err), -EINVAL);
        cr_assert(strstr(err.text, "DOCTYPE"), "%s", err.text);
}

Test(read_fd, cap_is_enforced_on_a_64_MiB_stream) {
        int p[2];
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                static char block[65536];
                memset(block, '<', sizeof(block));
                for (int i = 0; i < 1024; i++)
                        if (write(p[1], block, sizeof(block)) < 0)
                                _exit(0);
                _exit(0);
        }
        close(p[1]);
        char *buf = NULL;
        size_t len = 0;
        cr_assert_eq(vg_read_fd(p[0], 4 << 20, &buf, &len), -EFBIG);
        cr_assert_null(buf);
        close(p[0]);
}

Test(read_fd, exact_cap_is_accepted) {
        int p[2];
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        char data[5000];
        memset(data, 'x', sizeof(data));
        cr_assert_eq(write(p[1], data, sizeof(data)), (ssize_t) sizeof(data));
        close(p[1]);
        char *buf = NULL;
        size_t len = 0;
        cr_assert_eq(vg_read_fd(p[0], sizeof(data), &buf, &len), 0);
        cr_assert_eq(len, sizeof(data));
        cr_assert_eq(buf[len], '\0');
        free(buf);
        close(p[0]);
}

Test(domxml, facts_survive_a_json_round_trip) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/domxml/full/input.xml", TEST_DATA_DIR);
        size_t len = 0;
        char *xml = read_data(p, &len);
        cr_assert_not_null(xml);
        DomainFacts *f = NULL, *back = NULL;
        cr_assert_eq(domxml_parse(xml, len, &f, NULL), 0);
        json_t *j = domain_facts_to_json(f);
        cr_assert_eq(domain_facts_from_json(j, &back), 0);
        json_t *j2 = domain_facts_to_json(back);
        cr_assert(json_equal(j, j2));
        domain_facts_free(back);
        json_t *not_facts = json_array();
        cr_assert_eq(domain_facts_from_json(not_facts, &back), -EINVAL);
        json_decref(not_facts);
        json_decref(j);
        json_decref(j2);
        domain_facts_free(f);
        free(xml);
}

Test(domxml, facts_text_escapes_what_json_must) {
        DomainFacts f = { 0 };
        char name[] = "q\"b\\s\x01\t\n\r\b\f\x0b end";
        char owner[] = "caf\xc3\xa9 \xf0\x9f\x90\xa7 bad\xff \xc0\xaf \xed\xa0\x80 cut\xe2\x82";
        char *backing[] = { "/a\"b", NULL };
        DiskFacts disk = { .source = "/img", .readonly = true, .backing = backing, .n_backing = 1 };
        f.name = name;
        f.owner = owner;
        f.vcpus = 4;
        f.memory_kib = UINT64_C(1) << 40;
        f.disks = &disk;
        f.n_disks = 1;
        char *text = domain_facts_text(&f);
        cr_assert_not_null(text);
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        cr_assert_not_null(j, "%s: %s", text, jerr.text);
        cr_expect_str_eq(json_string_value(json_object_get(j, "name")), name);
        /* Not UTF-8: every byte from 0x80 up becomes '?', as
         * event_json_string has it. */
        cr_expect_str_eq(json_string_value(json_object_get(j, "owner")), "caf?? ???? bad? ?? ??? cut??");
        cr_expect_eq(json_integer_value(json_object_get(j, "memory_kib")), (json_int_t) 1 << 40);
        cr_expect(json_is_false(json_object_get(j, "qemu_commandline")));
        json_t *d = json_array_get(json_object_get(j, "disks"), 0);
        cr_expect(json_is_true(json_object_get(d, "readonly")));
        cr_expect_null(json_object_get(d, "shareable"));
        cr_expect_str_eq(json_string_value(json_array_get(json_object_get(d, "backing"), 0)), "/a\"b");
        cr_expect_eq(json_array_size(json_object_get(j, "interfaces")), 0);
        cr_expect(strstr(text, "\\u0001") && strstr(text, "\\t\\n\\r\\b\\f"), "%s", text);
        json_decref(j);
        free(text);
}

Test(poolxml, dir_pools_give_their_target_path) {
        const char *dir = "<pool type='dir'><name>vgpool</name>\n"
                          "<target><path> /var/lib/libvirt/images/vgpool </path></target></pool>";
        const char *lvm = "<pool type='logical'><name>vg</name><target><path>/dev/vg</path></target></pool>";
        char *path = NULL;
        VgError err = { "" };
        cr_assert_eq(poolxml_dir(dir, strlen(dir), &path, &err), 0, "%s", err.text);
        cr_assert_str_eq(path, "/var/lib/libvirt/images/vgpool");
        free(path);
        cr_assert_eq(poolxml_dir(lvm, strlen(lvm), &path, &err), 0, "%s", err.text);
        cr_assert_null(path, "only a dir pool's path is a directory of images");
        cr_assert_eq(poolxml_dir("<pool", 5, &path, &err), -EINVAL);
        cr_assert(strstr(err.text, "line 1, column "), "%s", err.text);
}

/* ---- domdefs: libvirt's domain files, for what the domains run ---- */

#include <sys/stat.h>

#include "virtgov/util/config.h"
#include "virtgov/host/domdefs.h"

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f, "%s", path);
        fputs(text, f);
        fclose(f);
}

#define DOMAIN(name, os, emulator) \
        "<domain type='kvm'><name>" name "</name><os>" os "</os><devices><emulator>" emulator \
        "</emulator></devices></domain>\n"

Test(domdefs, definitions_and_running_domains_each_path_once_and_what_was_not_read_said) {
        char *dir = scratch_new();
        char cfg[256], run[256];   /* (scratch_new: /tmp/virtgov-test-XXXXXX) */
        snprintf(cfg, sizeof(cfg), "%s/qemu", dir);
        snprintf(run, sizeof(run), "%s/run", dir);
        cr_assert_eq(mkdir(cfg, 0700), 0);
        cr_assert_eq(mkdir(run, 0700), 0);
        cr_assert_eq(mkdir(scratch_path(cfg, "autostart"), 0700), 0);
        write_file(scratch_path(cfg, "a.xml"),
                   DOMAIN("a", "<loader>/usr/share/OVMF/vg.fd</loader>", "/usr/bin/vg-qemu-a"));
        write_file(scratch_path(cfg, "b.xml"), DOMAIN("b", "", "/usr/bin/vg-qemu-a"));
        write_file(scratch_path(cfg, "broken.xml"), "<domain><name>broken</name>");
        write_file(scratch_path(cfg, "notes.txt"), "not a definition: not read");
        cr_assert_eq(mkfifo(scratch_path(cfg, "fifo.xml"), 0600), 0);
        /* A transient domain: only its status XML says what it runs. */
        write_file(scratch_path(run, "c.xml"), "<domstatus state='running' pid='42'><monitor path='/x'/>"
                   DOMAIN("c", "<kernel>/var/lib/vg/vmlinuz</kernel>", "/usr/bin/vg-qemu-c") "</domstatus>\n");
        write_file(scratch_path(run, "d.xml"), DOMAIN("d", "", "/usr/bin/vg-not-a-status"));

        char **paths = NULL, **unread = NULL;
        cr_assert_eq(domdefs_paths(cfg, run, 1 << 20, &paths, &unread), 0);
        const char *want[] = { "/usr/bin/vg-qemu-a", "/usr/bin/vg-qemu-c", "/usr/share/OVMF/vg.fd",
                               "/var/lib/vg/vmlinuz", NULL };
        for (size_t i = 0; want[i]; i++)
                cr_expect(paths[i] && !strcmp(paths[i], want[i]), "path %zu: %s, not %s", i, paths[i], want[i]);
        cr_expect_null(paths[4], "sorted, each once");
        cr_assert_not_null(unread[0]);
        cr_assert_not_null(unread[1]);
        cr_assert_not_null(unread[2]);
        cr_expect_null(unread[3], "three not read: %s", unread[3]);
        cr_expect(strstr(unread[0], "/qemu/broken.xml: line ") != NULL, "%s", unread[0]);
        cr_expect(strstr(unread[1], "/qemu/fifo.xml: not a regular file") != NULL, "%s", unread[1]);
        cr_expect(strstr(unread[2], "/run/d.xml: line 1: root element is <domain>, expected <domstatus>") != NULL,
                  "%s", unread[2]);
        config_strv_free(paths);
        config_strv_free(unread);

        /* No directory, no domain: nothing to say. A file too big is said. */
        cr_assert_eq(domdefs_paths(scratch_path(dir, "none"), scratch_path(dir, "none2"), 1 << 20, &paths, &unread),
                     0);
        cr_expect_null(paths[0]);
        cr_expect_null(unread[0]);
        config_strv_free(paths);
        config_strv_free(unread);
        cr_assert_eq(domdefs_paths(cfg, scratch_path(dir, "none"), 64, &paths, &unread), 0);
        cr_expect(strstr(unread[0], "/qemu/a.xml: larger than max_xml_bytes (64)") != NULL, "%s", unread[0]);
        config_strv_free(paths);
        config_strv_free(unread);
        scratch_remove(dir);
}
