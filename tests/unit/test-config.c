/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"
#include "vg-paths.h"
#include "virtgov/util/config.h"

static char *dir;
static void setup(void) { dir = scratch_new(); }
static void teardown(void) { scratch_remove(dir); dir = NULL; }
TestSuite(config, .init = setup, .fini = teardown);

static int load_text(const char *text, Config **ret, VgError *err) {
        char *p = path_join(dir, "virtgov.conf");
        write_text(p, text);
        Config *c = config_new();
        int r = config_load_file(c, p, err);
        free(p);
        if (r == 0)
                r = config_validate(c, err);
        if (r < 0)
                config_free(c);
        else
                *ret = c;
        return r;
}

Test(config, defaults_are_the_compiled_paths) {
        Config *c = config_new();
        cr_assert_str_eq(c->inventory, VG_DEFAULT_INVENTORY);
        cr_assert_str_eq(c->spool_dir, VG_DEFAULT_SPOOL);
        cr_assert_str_eq(c->hooks_dir, VG_DEFAULT_HOOKS_DIR);
        cr_assert_eq(c->hook_timeout_ms, 5000);
        cr_assert_eq(c->busy_timeout_ms, 2000);
        cr_assert(c->syslog);
        cr_assert_eq(config_validate(c, NULL), 0);
        config_free(c);
}

Test(config, file_overrides_key_by_key) {
        Config *c = NULL;
        VgError err = { "" };
        int r = load_text("# virtgov\n\n  inventory = /srv/vg/inv.db  \n"
                          "hook_timeout_ms=9000\nsyslog = no\nmax_xml_bytes = 65536\n", &c, &err);
        cr_assert_eq(r, 0, "%s", err.text);
        cr_assert_str_eq(c->inventory, "/srv/vg/inv.db");
        cr_assert_str_eq(c->spool_dir, VG_DEFAULT_SPOOL);
        cr_assert_eq(c->hook_timeout_ms, 9000);
        cr_assert_eq(c->max_xml_bytes, 65536);
        cr_assert(!c->syslog);
        config_free(c);
}

Test(config, unknown_key_names_file_line_column) {
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("inventory = /a\n\n   invntory = /b\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "virtgov.conf:3:4: unknown key 'invntory'"), "%s", err.text);
}

Test(config, central_section_and_host_id) {
        Config *c = NULL;
        VgError err = { "" };
        Config *fresh = config_new();
        cr_assert_null(fresh->central_dsn, "no central inventory by default");
        config_free(fresh);
        cr_assert_eq(load_text("host_id = web-01.example\n[central]\n dsn = host=/run/pg dbname=virtgov\n"
                               "host_group = rack-7\nbatch = 100\n", &c, &err), 0, "%s", err.text);
        cr_assert_str_eq(c->host_id, "web-01.example");
        cr_assert_str_eq(c->central_dsn, "host=/run/pg dbname=virtgov");
        cr_assert_str_eq(c->central_host_group, "rack-7");
        cr_assert_eq(c->central_batch, 100);
        cr_assert_eq(c->central_interval_s, 10);
        Config *d = config_dup(c);
        cr_assert_str_eq(d->central_dsn, c->central_dsn);
        cr_assert_neq(d->central_dsn, c->central_dsn);
        config_free(d);
        config_free(c);

        /* a top-level key after a section is the section's, and unknown there */
        cr_assert_eq(load_text("[central]\ninventory = /a\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":2:1: unknown key 'inventory' in [central] (known: dsn, host_group, batch, "
                         "interval_s)"), "%s", err.text);
        cr_assert_eq(load_text("central.dsn = x\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":1:1: unknown key 'central.dsn' (a section's keys follow"), "%s", err.text);
        cr_assert_eq(load_text("[fleet]\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":1:1: unknown section '[fleet]' (known: [central])"), "%s", err.text);
        cr_assert_eq(load_text("[central\n", &c, &err), -EINVAL);
        cr_assert_eq(load_text("[central]\ndsn = a\ndsn = b\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":3:1: 'central.dsn' is already set on line 2"), "%s", err.text);
        cr_assert_eq(load_text("host_id = a/b\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "host_id 'a/b' must be 1 to 64 letters"), "%s", err.text);
}

Test(config, bad_number_says_what_was_expected) {
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("hook_timeout_ms = 5s\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":1:19: 'hook_timeout_ms' expects a whole number from 100 to 600000, got '5s'"),
                  "%s", err.text);
        cr_assert_eq(load_text("hook_timeout_ms = 99\n", &c, &err), -EINVAL);
        cr_assert_eq(load_text("hook_timeout_ms = -1\n", &c, &err), -EINVAL);
        cr_assert_eq(load_text("hook_timeout_ms = 99999999999999999999999\n", &c, &err), -EINVAL);
}

Test(config, malformed_lines_and_values) {
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("inventory\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":1:1: expected 'key = value'"), "%s", err.text);
        cr_assert_eq(load_text("inventory = relative/path.db\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "must be an absolute path"), "%s", err.text);
        cr_assert_eq(load_text("syslog = maybe\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "expects yes or no"), "%s", err.text);
        cr_assert_eq(load_text("spool_dir =\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "has no value"), "%s", err.text);
}

Test(config, key_set_twice_is_an_error) {
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("syslog = yes\n#\nsyslog = no\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":3:1: 'syslog' is already set on line 1"), "%s", err.text);
}

Test(config, nul_byte_and_huge_file_refused) {
        char *p = path_join(dir, "bin.conf");
        FILE *f = fopen(p, "we");
        fwrite("syslog = no\n\0x", 1, 14, f);
        fclose(f);
        Config *c = config_new();
        VgError err = { "" };
        cr_assert_eq(config_load_file(c, p, &err), -EINVAL);
        cr_assert(strstr(err.text, "NUL byte"), "%s", err.text);

        f = fopen(p, "we");
        for (int i = 0; i < 200000; i++)
                fputs("# padding\n", f);
        fclose(f);
        cr_assert_eq(config_load_file(c, p, &err), -EFBIG);
        config_free(c);
        free(p);
}

Test(config, validation_checks_timeouts_against_each_other) {
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("hook_timeout_ms = 1000\nbusy_timeout_ms = 1000\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "busy_timeout_ms (1000) must be less than hook_timeout_ms (1000)"),
                  "%s", err.text);
}

Test(config, explicit_file_must_exist_default_may_not) {
        Config *c = NULL;
        VgError err = { "" };
        char *p = path_join(dir, "missing.conf");
        cr_assert_eq(config_load(p, &c, &err), -ENOENT);
        cr_assert(strstr(err.text, "missing.conf: no such file"), "%s", err.text);

        setenv("VIRTGOV_CONFIG", p, 1);
        cr_assert_eq(config_load(NULL, &c, &err), -ENOENT);
        write_text(p, "inventory = /x/y.db\n");
        cr_assert_eq(config_load(NULL, &c, &err), 0, "%s", err.text);
        cr_assert_str_eq(c->inventory, "/x/y.db");
        cr_assert_str_eq(c->path, p);
        config_free(c);
        unsetenv("VIRTGOV_CONFIG");
        free(p);
}

/* Root takes its config only from a file no one else could change. (The
 * hook, the daemon and the CLI run as root; CI runs these tests as root.) */
Test(config, root_refuses_a_file_others_could_change) {
        if (geteuid() != 0)
                cr_skip_test("needs root: the check applies to root only");
        char *p = path_join(dir, "virtgov.conf");
        write_text(p, "stale_days = 7\n");
        static const struct { unsigned mode; gid_t gid; const char *says; } cases[] = {
                { 0666, 0, "refusing it: anyone may write it" },
                { 0664, 4, "refusing it: its group may write it" },   /* adm, not root's */
                { 0664, 0, NULL },                                    /* root's group: fine */
                { 0644, 0, NULL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cr_assert_eq(chown(p, 0, cases[i].gid), 0);
                cr_assert_eq(chmod(p, cases[i].mode), 0);
                Config *c = config_new();
                VgError err = { "" };
                int r = config_load_file(c, p, &err);
                if (cases[i].says) {
                        cr_expect_eq(r, -EPERM, "mode %o gid %u accepted", cases[i].mode, cases[i].gid);
                        cr_expect(strstr(err.text, cases[i].says), "%s", err.text);
                        cr_expect(strstr(err.text, p), "%s", err.text);
                } else
                        cr_expect_eq(r, 0, "mode %o gid %u: %s", cases[i].mode, cases[i].gid, err.text);
                config_free(c);
        }
        /* a directory on the way that others may write */
        cr_assert_eq(chmod(p, 0644), 0);
        cr_assert_eq(chmod(dir, 0777), 0);
        Config *c = config_new();
        VgError err = { "" };
        cr_expect_eq(config_load_file(c, p, &err), -EPERM);
        cr_expect(strstr(err.text, "its directory"), "%s", err.text);
        config_free(c);
        chmod(dir, 0700);

        /* a symlink to it from a directory others may write: they could
         * point the link elsewhere */
        char *open_dir = path_join(dir, "open"), *link = path_join(open_dir, "virtgov.conf");
        cr_assert_eq(mkdir(open_dir, 0777), 0);
        cr_assert_eq(chmod(open_dir, 0777), 0);
        cr_assert_eq(symlink(p, link), 0);
        c = config_new();
        cr_expect_eq(config_load_file(c, link, &err), -EPERM);
        cr_expect(strstr(err.text, open_dir), "%s", err.text);
        config_free(c);
        free(link);
        free(open_dir);
        free(p);
}

/* A missing file means "none" (a missing policy allows every start), so
 * root believes the absence only where no one else could have caused it:
 * not a dangling symlink, not under a directory others may write. */
Test(config, root_believes_a_missing_file_only_where_others_could_not_remove_it) {
        if (geteuid() != 0)
                cr_skip_test("needs root: the check applies to root only");
        char *sub = path_join(dir, "etc"), *p = path_join(sub, "virtgov.conf");
        cr_assert_eq(mkdir(sub, 0755), 0);
        Config *c = config_new();
        VgError err = { "" };
        cr_expect_eq(config_load_file(c, p, &err), -ENOENT, "%s", err.text);

        cr_assert_eq(chmod(sub, 0777), 0);
        cr_expect_eq(config_load_file(c, p, &err), -EPERM);
        cr_expect(strstr(err.text, "its directory"), "%s", err.text);
        cr_expect(strstr(err.text, "missing"), "%s", err.text);
        /* and below it, where a directory on the way is missing too */
        char *deeper = path_join(sub, "gone/virtgov.conf");
        cr_expect_eq(config_load_file(c, deeper, &err), -EPERM, "%s", err.text);
        free(deeper);
        cr_assert_eq(chmod(sub, 0755), 0);

        cr_assert_eq(symlink("/nonexistent/virtgov.conf", p), 0);
        cr_expect_eq(config_load_file(c, p, &err), -EPERM);
        cr_expect(strstr(err.text, "a symlink to '/nonexistent/virtgov.conf', which does not exist"), "%s", err.text);
        unlink(p);
        config_free(c);
        rmdir(sub);
        free(p);
        free(sub);
}

/* integrity_action: none by default; an absolute path; empty is none
 * again (the one key that may be empty). */
Test(config, integrity_action_is_an_optional_absolute_path) {
        Config *c = NULL;
        VgError err = { "" };
        Config *d = config_new();
        cr_expect_null(d->integrity_action);
        cr_expect_eq(d->integrity_action_timeout_s, 10);
        config_free(d);

        cr_assert_eq(load_text("integrity_action = /usr/local/sbin/page\nintegrity_action_timeout_s = 3\n", &c, &err),
                     0, "%s", err.text);
        cr_expect_str_eq(c->integrity_action, "/usr/local/sbin/page");
        cr_expect_eq(c->integrity_action_timeout_s, 3);
        config_free(c);

        cr_assert_eq(load_text("integrity_action =\n", &c, &err), 0, "%s", err.text);
        cr_expect_null(c->integrity_action);
        config_free(c);

        cr_expect_eq(load_text("integrity_action = page\n", &c, &err), -EINVAL);
        cr_expect(strstr(err.text, ":1:20: 'integrity_action' must be an absolute path"), "%s", err.text);
        cr_expect_eq(load_text("integrity_action_timeout_s = 0\n", &c, &err), -EINVAL);
        cr_expect(strstr(err.text, "from 1 to 3600"), "%s", err.text);
        cr_expect_eq(load_text("hook_binary =\n", &c, &err), -EINVAL);
        cr_expect(strstr(err.text, "has no value"), "%s", err.text);
}

/* One reader for what a config names as a file: a FIFO is refused at
 * once (it used to block its reader until a writer came), and so are a
 * device and a directory; /proc files are regular and read. */
Test(config, reader_refuses_what_is_not_a_regular_file, .timeout = 10) {
        char *fifo = path_join(dir, "fifo");
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        const char *refused[] = { fifo, "/dev/null", dir };
        char *t = NULL;
        size_t len;
        VgError err = { "" };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                cr_expect_eq(vg_read_file(refused[i], 4096, &t, &len), -EBADFD, "%s", refused[i]);
                /* (as root, /dev/null, 0666, is refused as untrusted first) */
                cr_expect(vg_read_trusted_file(refused[i], 4096, &t, &len, &err) == -EBADFD ||
                          (geteuid() == 0 && i == 1), "%s", refused[i]);
        }
        cr_expect_str_eq(vg_read_error(-EBADFD), "not a regular file (a directory, FIFO, device or socket is not read)");
        cr_assert_eq(vg_read_file("/proc/self/stat", 4096, &t, &len), 0);
        cr_expect_gt(len, 0);
        free(t);
        free(fifo);
}

/* The daemon's check thread reads a copy while a reload frees the
 * original: the copy must hold every value and share no string. */
Test(config, dup_holds_every_value_and_shares_nothing) {
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("inventory = /srv/vg/inv.db\nintegrity_action =\nintegrity_profiles = host lab\n"
                               "busy_timeout_ms = 1234\n", &c, &err), 0, "%s", err.text);
        Config *d = config_dup(c);
        cr_assert_not_null(d);
        cr_assert_str_eq(d->inventory, "/srv/vg/inv.db");
        cr_assert_neq(d->inventory, c->inventory);
        cr_assert_str_eq(d->integrity_profiles, "host lab");
        cr_assert_neq(d->integrity_profiles, c->integrity_profiles);
        cr_assert_null(d->integrity_action);
        cr_assert_str_eq(d->path, c->path);
        cr_assert_neq(d->path, c->path);
        cr_assert_eq(d->busy_timeout_ms, 1234);
        config_free(c);   /* the copy outlives it (ASan's run would see a shared string) */
        cr_assert_str_eq(d->dpkg_admindir, "/var/lib/dpkg");
        config_free(d);
}

/* 'log': where the daemon copies events. auto (the default) is the
 * journal where journald listens, else syslog; the old 'syslog = no'
 * still means none, and may not contradict 'log'. */
Test(config, log_chooses_journal_syslog_both_or_none) {
        static const struct { const char *text; unsigned with, without; } cases[] = {
                { "", CONFIG_TO_JOURNAL, CONFIG_TO_SYSLOG },
                { "log = auto\n", CONFIG_TO_JOURNAL, CONFIG_TO_SYSLOG },
                { "log = journal\n", CONFIG_TO_JOURNAL, CONFIG_TO_JOURNAL },
                { "log = syslog\n", CONFIG_TO_SYSLOG, CONFIG_TO_SYSLOG },
                { "log = both\n", CONFIG_TO_JOURNAL | CONFIG_TO_SYSLOG, CONFIG_TO_JOURNAL | CONFIG_TO_SYSLOG },
                { "log = none\n", 0, 0 },
                { "syslog = no\n", 0, 0 },
                { "syslog = no\nlog = none\n", 0, 0 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Config *c = NULL;
                VgError err = { "" };
                cr_assert_eq(load_text(cases[i].text, &c, &err), 0, "%s: %s", cases[i].text, err.text);
                cr_expect_eq(config_log_targets(c, true), cases[i].with, "'%s' with journald", cases[i].text);
                cr_expect_eq(config_log_targets(c, false), cases[i].without, "'%s' without", cases[i].text);
                config_free(c);
        }
        Config *c = NULL;
        VgError err = { "" };
        cr_assert_eq(load_text("log = jornal\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, ":1:7: 'log' expects one of auto, journal, syslog, both, none, got 'jornal'"),
                  "%s", err.text);
        cr_assert_eq(load_text("syslog = no\nlog = journal\n", &c, &err), -EINVAL);
        cr_assert(strstr(err.text, "'syslog = no' and 'log = journal' disagree"), "%s", err.text);
        cr_expect_str_eq(config_log_name(CONFIG_LOG_BOTH), "both");
}
