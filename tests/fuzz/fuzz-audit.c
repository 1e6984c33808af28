/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit stream as the daemon reads it: records ("TYPE TEXT" per line,
 * TYPE the netlink message type in decimal, TEXT the multicast payload)
 * through the prefix and libauparse into events, and each event through
 * everything virtgov makes of it: actor, access event, account kind,
 * command line. Anyone on the host with CAP_AUDIT_WRITE (sshd, a PAM
 * service) writes these records' msg='...' part. */
#include <stdlib.h>
#include <string.h>

#include "virtgov/audit/audit.h"

static void each(const AuditEvent *ev, void *u) {
        const Accounts *accounts = u;
        char *name = NULL;
        json_t *o = NULL;
        if (audit_actor(ev, accounts, &name, &o) == 0) {
                free(name);
                json_decref(o);
        }
        for (int cron = 0; cron < 2; cron++) {
                AuditAccessOptions opt = { .cron = cron };
                Event *e = NULL;
                if (audit_access_event(ev, accounts, &opt, &e) == 0 && e) {
                        free(event_render(e, NULL));
                        event_free(e);
                }
        }
        json_decref(audit_command_line(ev));
        (void) audit_account_kind(ev);
        (void) audit_family(ev);
        (void) audit_program(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Accounts *accounts;
        if (!accounts) {
                accounts = calloc(1, sizeof(*accounts));
                accounts_parse_passwd(accounts, "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        }
        char *text = malloc(size + 1);
        AuditParser *p = audit_parser_new(each, accounts);
        if (!text || !p)
                goto out;
        memcpy(text, data, size);
        text[size] = '\0';
        for (char *line = text, *next; line && line < text + size; line = next) {
                size_t len = strcspn(line, "\n");
                next = line[len] ? line + len + 1 : NULL;
                line[len] = '\0';
                char *end;
                long type = strtol(line, &end, 10);
                if (end == line || *end != ' ')
                        continue;
                end++;
                /* the length as a datagram gives it: up to its end, NULs and all */
                audit_parser_feed(p, (int) type, end, (size_t) (line + len - end));
        }
        audit_parser_flush(p);
out:
        audit_parser_free(p);
        free(text);
        return 0;
}
