/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/audit/audit.c: records as the kernel multicasts them (taken from this
 * kernel's stream: useradd, PAM, virsh under a watch rule), through
 * libauparse, into what virtgov records. */
#include <criterion/criterion.h>
#include <errno.h>
#include <libaudit.h>
#include <string.h>

#include "virtgov/audit/audit.h"

typedef struct Got {
        AuditEvent ev[8];
        json_t *cmd[8];
        char *acct[8], *exe[8], *op[8], *key[8];
        size_t n;
} Got;

/* Copies what the tests look at: the event is borrowed. */
static void collect(const AuditEvent *ev, void *u) {
        Got *g = u;
        cr_assert_lt(g->n, 8);
        g->ev[g->n] = *ev;
        g->acct[g->n] = ev->acct ? strdup(ev->acct) : NULL;
        g->exe[g->n] = ev->exe ? strdup(ev->exe) : NULL;
        g->op[g->n] = ev->op ? strdup(ev->op) : NULL;
        g->key[g->n] = ev->key ? strdup(ev->key) : NULL;
        g->cmd[g->n] = audit_command_line(ev);
        /* the kept copy points at the copies only */
        AuditEvent *k = &g->ev[g->n];
        k->acct = g->acct[g->n];
        k->exe = g->exe[g->n];
        k->op = g->op[g->n];
        k->key = g->key[g->n];
        k->comm = k->terminal = k->addr = k->hostname = NULL;
        k->argv = NULL;
        g->n++;
}

static void got_clear(Got *g) {
        for (size_t i = 0; i < g->n; i++) {
                free(g->acct[i]);
                free(g->exe[i]);
                free(g->op[i]);
                free(g->key[i]);
                json_decref(g->cmd[i]);
        }
        g->n = 0;
}

static void feed(AuditParser *p, int type, const char *text) {
        cr_assert_eq(audit_parser_feed(p, type, text, strlen(text)), 0, "%s", text);
}

Test(audit, useradd_records_are_two_events_with_the_login_uid) {
        Got g = { 0 };
        AuditParser *p = audit_parser_new(collect, &g);
        feed(p, AUDIT_ADD_GROUP, "audit(1796022018.442:30): pid=12228 uid=0 auid=1000 ses=1 msg='op=adding group "
             "acct=\"vgexpuser\" exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=? res=success'");
        feed(p, AUDIT_ADD_USER, "audit(1796022018.446:31): pid=12228 uid=0 auid=1000 ses=1 msg='op=adding user "
             "id=1001 exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=? res=success'");
        audit_parser_flush(p);
        cr_assert_eq(g.n, 2);
        cr_expect_eq(g.ev[0].type, AUDIT_ADD_GROUP);
        cr_expect_str_eq(g.ev[0].type_name, "ADD_GROUP");
        cr_expect_eq(g.ev[0].serial, 30);
        cr_expect_eq(g.ev[0].time_us, 1796022018442000LL);
        cr_expect_eq(g.ev[0].auid, 1000);
        cr_expect_eq(g.ev[0].pid, 12228);
        cr_expect(g.ev[0].success);
        cr_expect_str_eq(g.acct[0], "vgexpuser");
        cr_expect_str_eq(g.exe[0], "/usr/sbin/useradd");
        cr_expect_eq(audit_family(&g.ev[0]), AUDIT_FAMILY_GROUP);
        cr_expect_str_eq(audit_account_kind(&g.ev[0]), "group.added");
        cr_expect_eq(g.ev[1].id, 1001);
        cr_expect_null(g.acct[1]);
        cr_expect_eq(audit_family(&g.ev[1]), AUDIT_FAMILY_ACCOUNT);
        cr_expect_str_eq(audit_account_kind(&g.ev[1]), "account.added");
        audit_parser_free(p);
        got_clear(&g);
}

/* useradd -M -u 1993 vgprobe && userdel vgprobe, as this kernel sent them
 * (shadow 4.13): the user records name the uid alone, the group records of
 * the same command the account's name. */
Test(audit, useradd_and_userdel_name_their_account_in_their_group_records) {
        Got g = { 0 };
        AuditParser *p = audit_parser_new(collect, &g);
        feed(p, AUDIT_ADD_GROUP, "audit(1796650593.267:3): pid=16917 uid=0 auid=1990 ses=1 msg='op=adding group "
             "acct=\"vgprobe\" exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=? res=success'");
        feed(p, AUDIT_ADD_USER, "audit(1796650593.267:4): pid=16917 uid=0 auid=1990 ses=1 msg='op=adding user "
             "id=1993 exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=? res=success'");
        feed(p, AUDIT_DEL_USER, "audit(1796650593.443:5): pid=16912 uid=0 auid=1990 ses=1 msg='op=deleting user "
             "entries id=1993 exe=\"/usr/sbin/userdel\" hostname=? addr=? terminal=? res=success'");
        feed(p, AUDIT_DEL_GROUP, "audit(1796650593.443:6): pid=16912 uid=0 auid=1990 ses=1 msg='op=deleting group "
             "acct=\"vgprobe\" exe=\"/usr/sbin/userdel\" hostname=? addr=? terminal=? res=success'");
        feed(p, AUDIT_ADD_GROUP, "audit(1796650594.001:7): pid=16920 uid=0 auid=1990 ses=1 msg='op=adding group "
             "acct=\"vgteam\" exe=\"/usr/sbin/groupadd\" hostname=? addr=? terminal=? res=success'");
        feed(p, AUDIT_ADD_GROUP, "audit(1796650594.002:8): pid=16921 uid=0 auid=1990 ses=1 msg='op=adding group "
             "acct=\"vgfail\" exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=? res=failed'");
        audit_parser_flush(p);
        cr_assert_eq(g.n, 6);
        cr_expect_str_eq(audit_command_account(&g.ev[0]), "vgprobe", "useradd's own group bears its user's name");
        cr_expect_null(audit_command_account(&g.ev[1]), "ADD_USER names the uid alone");
        cr_expect_eq(g.ev[1].id, 1993);
        cr_expect_null(audit_command_account(&g.ev[2]));
        cr_expect_str_eq(audit_command_account(&g.ev[3]), "vgprobe");
        cr_expect_null(audit_command_account(&g.ev[4]), "groupadd names a group, not an account");
        cr_expect_null(audit_command_account(&g.ev[5]), "a failed run names nothing it acted on");
        audit_parser_free(p);
        got_clear(&g);
}

Test(audit, usermod_group_changes_and_password_changes_have_their_kinds) {
        AuditEvent ev = { .type = AUDIT_USER_CHAUTHTOK, .success = true, .op = "adding user to group" };
        cr_expect_str_eq(audit_account_kind(&ev), "group.member-added");
        ev.op = "deleting user from shadow group";
        cr_expect_str_eq(audit_account_kind(&ev), "group.member-removed");
        ev.op = "PAM:chauthtok";
        cr_expect_str_eq(audit_account_kind(&ev), "account.password-changed");
        ev.success = false;
        cr_expect_null(audit_account_kind(&ev), "a failed attempt changed nothing");
}

Test(audit, an_unset_login_uid_is_no_login_session) {
        AuditEvent ev = { .auid = VG_AUID_UNSET, .uid = 0, .ses = VG_AUID_UNSET, .pid = 7, .serial = 3,
                          .time_us = 1000000, .type_name = "ADD_USER" };
        char *name = NULL;
        json_t *o = NULL;
        cr_assert_eq(audit_actor(&ev, NULL, &name, &o), 0);
        cr_expect_str_eq(name, "no login session");
        cr_expect(json_is_null(json_object_get(o, "auid")));
        cr_expect_null(json_object_get(o, "name"));
        free(name);
        json_decref(o);
}

Test(audit, a_login_uid_is_named_from_the_accounts) {
        Accounts *a = calloc(1, sizeof(*a));
        cr_assert_eq(accounts_parse_passwd(a, "alice:x:1000:1000::/home/alice:/bin/bash\n"), 0);
        AuditEvent ev = { .auid = 1000, .uid = 0, .ses = 4, .pid = 9, .serial = 5, .time_us = 2000000,
                          .exe = "/usr/sbin/useradd", .terminal = "pts/0", .type_name = "ADD_USER" };
        char *name = NULL;
        json_t *o = NULL;
        cr_assert_eq(audit_actor(&ev, a, &name, &o), 0);
        cr_expect_str_eq(name, "alice");
        cr_expect_eq(json_integer_value(json_object_get(o, "auid")), 1000);
        cr_expect_str_eq(json_string_value(json_object_get(o, "terminal")), "pts/0");
        cr_expect_str_eq(json_string_value(json_object_get(o, "audit")), "2.000:5");
        free(name);
        json_decref(o);
        ev.auid = 1234;
        cr_assert_eq(audit_actor(&ev, a, &name, &o), 0);
        cr_expect_str_eq(name, "uid 1234", "no account: the number, never a guess");
        free(name);
        json_decref(o);
        accounts_free(a);
}

typedef struct Access {
        const Accounts *a;
        AuditAccessOptions opt;
        Event *e;
        size_t n;
} Access;

static void to_access(const AuditEvent *ev, void *u) {
        Access *x = u;
        x->n++;
        cr_assert_eq(audit_access_event(ev, x->a, &x->opt, &x->e), 0);
}

static Event *access_of(const char *text, int type, const Accounts *a, bool cron) {
        Access x = { a, { .cron = cron }, NULL, 0 };
        AuditParser *p = audit_parser_new(to_access, &x);
        feed(p, type, text);
        audit_parser_flush(p);
        audit_parser_free(p);
        cr_assert_eq(x.n, 1);
        return x.e;
}

Test(audit, pam_session_records_are_access_events) {
        Accounts *a = calloc(1, sizeof(*a));
        cr_assert_eq(accounts_parse_passwd(a, "alice:x:1000:1000::/home/alice:/bin/bash\n"), 0);
        Event *e = access_of("audit(1700000000.100:10): pid=50 uid=0 auid=1000 ses=3 msg='op=PAM:session_open "
                             "grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 "
                             "addr=10.0.0.5 terminal=ssh res=success'", AUDIT_USER_START, a, false);
        cr_assert_not_null(e);
        cr_expect_str_eq(e->kind, "access.login");
        cr_expect_str_eq(e->source, "audit");
        cr_expect_str_eq(e->actor, "alice");
        cr_expect_str_eq(json_string_value(json_object_get(e->data, "user")), "alice");
        cr_expect_str_eq(json_string_value(json_object_get(e->data, "addr")), "10.0.0.5");
        cr_expect_str_eq(json_string_value(json_object_get(e->data, "method")), "sshd");
        event_free(e);

        e = access_of("audit(1700000000.200:11): pid=51 uid=0 auid=1000 ses=3 msg='op=PAM:session_open "
                      "acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'",
                      AUDIT_USER_START, a, false);
        cr_expect_str_eq(e->kind, "access.sudo");
        cr_expect_str_eq(e->actor, "alice", "sudo does not hide the person");
        event_free(e);

        /* A name typed into a login prompt may be a password: one that is
         * no account here is not kept. */
        e = access_of("audit(1700000000.300:12): pid=52 uid=0 auid=4294967295 ses=4294967295 "
                      "msg='op=PAM:authentication acct=\"hunter2!\" exe=\"/usr/sbin/sshd\" hostname=10.9.9.9 "
                      "addr=10.9.9.9 terminal=ssh res=failed'", AUDIT_USER_AUTH, a, false);
        cr_expect_str_eq(e->kind, "access.failed");
        cr_expect_str_eq(e->actor, "no login session");
        cr_expect_null(json_object_get(e->data, "user"));
        cr_expect(json_is_true(json_object_get(e->data, "user_unknown")));
        char *text = event_render(e, NULL);
        cr_expect_null(strstr(text, "hunter2"));
        free(text);
        event_free(e);

        e = access_of("audit(1700000000.400:13): pid=53 uid=0 auid=1000 ses=3 msg='op=login id=1000 "
                      "exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 addr=10.0.0.5 terminal=ssh res=success'",
                      AUDIT_USER_LOGIN, a, false);
        cr_expect_null(e, "sshd's successful USER_LOGIN repeats its session's start");

        const char *cron = "audit(1700000000.500:14): pid=54 uid=0 auid=0 ses=9 msg='op=PAM:session_open "
                           "acct=\"root\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron res=success'";
        cr_expect_null(access_of(cron, AUDIT_USER_START, a, false), "cron is left out by default");
        e = access_of(cron, AUDIT_USER_START, a, true);
        cr_expect_str_eq(e->kind, "access.login");
        event_free(e);
        accounts_free(a);
}

Test(audit, a_virsh_exec_is_one_event_with_its_interpreted_command_line) {
        Got g = { 0 };
        AuditParser *p = audit_parser_new(collect, &g);
        feed(p, AUDIT_SYSCALL, "audit(1700000001.000:20): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 "
             "a2=3 a3=4 items=2 ppid=1 pid=4242 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
             "fsgid=0 tty=pts0 ses=3 comm=\"virsh\" exe=\"/usr/bin/virsh\" key=\"virtgov-vm\"");
        /* "my vm" hex-encoded, as the kernel writes an argument with a space */
        feed(p, AUDIT_EXECVE, "audit(1700000001.000:20): argc=4 a0=\"virsh\" a1=\"start\" a2=6D7920766D a3=\"--console\"");
        feed(p, AUDIT_CWD, "audit(1700000001.000:20): cwd=\"/root\"");
        feed(p, AUDIT_EOE, "audit(1700000001.000:20): ");
        /* (auparse 3.0.9 in feed mode completes an event at the next
         * serial or a flush, not at its EOE: the daemon flushes when the
         * stream pauses after an EOE.) */
        audit_parser_flush(p);
        cr_assert_eq(g.n, 1, "the records of one serial are one event (%zu)", g.n);
        cr_expect_eq(audit_family(&g.ev[0]), AUDIT_FAMILY_EXEC);
        cr_expect_eq(g.ev[0].n_records, 4);
        cr_expect_eq(g.ev[0].pid, 4242);
        cr_expect(g.ev[0].success);
        cr_expect_str_eq(json_string_value(json_array_get(g.cmd[0], 2)), "my vm");
        cr_expect_eq(json_array_size(g.cmd[0]), 4);
        audit_parser_free(p);
        got_clear(&g);
}

Test(audit, secrets_are_not_kept_from_command_lines) {
        char *a1[] = { "virsh", "secret-set-value", "abc", "--base64", "c2VjcmV0", NULL };
        AuditEvent ev = { .argv = a1, .argc = 5 };
        json_t *j = audit_command_line(&ev);
        char *s = json_dumps(j, JSON_COMPACT);
        cr_expect_str_eq(s, "[\"virsh\",\"secret-set-value\",\"(not kept)\",\"(not kept)\",\"(not kept)\"]");
        free(s);
        json_decref(j);
        char *a2[] = { "qemu-img", "convert", "--object", "secret,id=s0,data=letmein", "a.qcow2", NULL };
        ev = (AuditEvent) { .argv = a2, .argc = 5 };
        j = audit_command_line(&ev);
        s = json_dumps(j, JSON_COMPACT);
        cr_expect_null(strstr(s, "letmein"));
        cr_expect(strstr(s, "a.qcow2"));
        free(s);
        json_decref(j);
        char *a3[] = { "/usr/bin/passwd", "alice", NULL };
        ev = (AuditEvent) { .argv = a3, .argc = 2 };
        j = audit_command_line(&ev);
        cr_expect_str_eq(json_string_value(json_array_get(j, 1)), "(not kept)", "passwd's arguments never");
        json_decref(j);
}

Test(audit, what_is_not_a_record_is_refused) {
        Got g = { 0 };
        AuditParser *p = audit_parser_new(collect, &g);
        cr_expect_eq(audit_parser_feed(p, AUDIT_USER_START, "hello", 5), -EINVAL);
        cr_expect_eq(audit_parser_feed(p, 0, "audit(1.0:1): x=y", 17), -EINVAL);
        /* a newline cannot smuggle a second record in */
        const char *two = "audit(1.000:1): pid=1 uid=0 auid=0 ses=1 msg='op=x res=success'\ntype=ADD_USER msg=audit(1.000:2): x";
        cr_expect_eq(audit_parser_feed(p, AUDIT_USER_START, two, strlen(two)), 0);
        audit_parser_flush(p);
        cr_expect_eq(g.n, 1);
        cr_expect_eq(g.ev[0].type, AUDIT_USER_START);
        audit_parser_free(p);
        got_clear(&g);
}

Test(audit, the_rules_watch_the_vm_commands_and_identity_files) {
        char *t = audit_rules_text("/etc");
        cr_expect(strstr(t, "-w /usr/bin/virsh -p x -k virtgov-vm\n"));
        cr_expect(strstr(t, "-w /usr/bin/virt-install -p x -k virtgov-vm\n"));
        cr_expect(strstr(t, "-w /etc/passwd -p wa -k virtgov-identity\n"));
        cr_expect(strstr(t, "-w /etc/libvirt -p wa -k virtgov-libvirt\n"));
        free(t);
        t = audit_rules_text("/tmp/x");
        cr_expect(strstr(t, "-w /tmp/x/sudoers.d -p wa"));
        free(t);
}
