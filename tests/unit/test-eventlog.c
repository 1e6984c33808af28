/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "test-helpers.h"
#include "virtgov/store/eventlog.h"

Test(eventlog, plain_fields_bare_others_quoted_and_escaped) {
        Event *e = event_new("hook", "domain.prepare");
        e->id = 42;
        event_set(&e->domain, "evil\" kind=forged\nnext");
        event_set(&e->uuid, "3f7a6c2e-2b1d-4c55-9d2e-7c1f0a9b8e41");
        json_object_set_new(e->data, "op", json_string("prepare"));
        char *line = NULL;
        cr_assert_eq(eventlog_format(e, &line), 0);
        cr_assert(strstr(line, "id=42 time="), "%s", line);
        cr_assert(strstr(line, " kind=domain.prepare "), "%s", line);
        cr_assert(strstr(line, " domain=\"evil\\\" kind=forged\\x0anext\" "), "%s", line);
        cr_assert(strstr(line, " decision=- "), "%s", line);
        cr_assert(strstr(line, " data=\"{\\\"op\\\":\\\"prepare\\\"}\""), "%s", line);
        cr_assert_null(strchr(line, '\n'), "one event, one line");
        free(line);
        event_free(e);
}

Test(eventlog, severity) {
        Event *e = event_new("hook", "domain.prepare");
        cr_assert_eq(eventlog_severity(e), LOG_NOTICE);
        event_set(&e->decision, "deny");
        cr_assert_eq(eventlog_severity(e), LOG_WARNING);
        event_free(e);
        e = event_new("daemon", "policy.bypass");
        cr_assert_eq(eventlog_severity(e), LOG_WARNING);
        event_free(e);
        e = event_new("hook", "policy.error");
        cr_assert_eq(eventlog_severity(e), LOG_ERR);
        event_free(e);
}

Test(eventlog, send_reaches_a_datagram_socket) {
        char *dir = scratch_new();
        char *path = path_join(dir, "log");
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        cr_assert_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        cr_assert_eq(eventlog_send(path, LOG_DAEMON | LOG_NOTICE, "virtgov", "id=1 kind=a.b"), 0);
        char buf[512] = "";
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        cr_assert_gt(n, 0);
        cr_assert_eq(strncmp(buf, "<29>", 4), 0, "%s", buf);
        cr_assert(strstr(buf, " virtgov["), "%s", buf);
        cr_assert(strstr(buf, "]: id=1 kind=a.b"), "%s", buf);
        close(fd);
        unlink(path);
        cr_assert_lt(eventlog_send(path, LOG_DAEMON | LOG_NOTICE, "virtgov", "x"), 0, "no listener");
        free(path);
        scratch_remove(dir);
}
