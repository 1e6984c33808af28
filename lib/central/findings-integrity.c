/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fleet's findings from integrity, hardening, tickets and accounts
 * (query.h): one statement per class, each returning (severity, hosts,
 * subject, detail) rows, run by findings.c after the fleet's table. They
 * read what ship-integrity.c mirrors (migration 3) and the events. Each
 * compares hosts: what one host finds of itself its own `virtgov
 * integrity check`, `assess` and `report accounts` say. Nothing here
 * prints. */
#include <stddef.h>

#include "priv.h"

/* actor-burst's figures: an actor changing accounts on this many hosts
 * within this window. Three hosts: two is a person fixing a pair (a
 * primary and its standby); ten minutes: a script run over the fleet
 * takes seconds to minutes, a person doing it by hand longer. */
#define BURST_HOSTS "3"
#define BURST_MINUTES "10"

#define UTC(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* In the order of central_finding_classes, after the fleet's. */
const FindingCheck central_checks_integrity[] = {
        /* integrity-outlier: for one path at one (package, version) (an
         * unpackaged path: by path alone), every host but one holds one
         * digest and that one another. At least three hosts, so that
         * "the others" agree among themselves; where the hosts hold
         * three digests or more (a conffile each host edits) there is no
         * consensus to be an outlier of, and nothing fires. A path in two
         * profiles of one host counts once. */
        { .class = "integrity-outlier", .sql = "WITH hb AS (SELECT DISTINCT host_id, path, coalesce(package, '') AS package, "
          "coalesce(version, '') AS version, sha256 FROM virtgov.baseline WHERE sha256 <> ''), "
          "g AS (SELECT path, package, version FROM hb GROUP BY 1, 2, 3 "
          "HAVING min(sha256) <> max(sha256) AND count(DISTINCT host_id) >= 3 AND count(DISTINCT sha256) = 2), "
          "d AS (SELECT hb.path, hb.package, hb.version, hb.sha256, count(DISTINCT hb.host_id) AS n, "
          "min(hb.host_id) AS host FROM hb JOIN g USING (path, package, version) GROUP BY 1, 2, 3, 4) "
          "SELECT 'high', o.host, o.path, o.host || '''s digest ' || left(o.sha256, 16) || '... differs from the ' "
          "|| m.n || ' other hosts'' ' || left(m.sha256, 16) || '... of ' "
          "|| CASE WHEN o.package = '' THEN 'the same unpackaged path' "
          "ELSE o.package || ' ' || o.version END "
          "FROM d o JOIN d m ON m.path = o.path AND m.package = o.package AND m.version = o.version "
          "AND m.sha256 <> o.sha256 WHERE o.n = 1 AND m.n >= 2 ORDER BY o.path, o.package, o.version, o.host" },
        /* assessment-outlier: one host fails (or errs on) a check that
         * every other host that judged it passes, at least two of them.
         * Hosts where it does not apply are not asked; one with an
         * exception (excepted) does not pass, so nothing fires. */
        { .class = "assessment-outlier", .sql = "WITH g AS (SELECT check_id FROM virtgov.assessment GROUP BY check_id "
          "HAVING count(*) FILTER (WHERE result IN ('fail', 'error')) = 1 "
          "AND count(*) FILTER (WHERE result = 'pass') >= 2 "
          "AND count(*) FILTER (WHERE result NOT IN ('pass', 'fail', 'error', 'not-applicable')) = 0) "
          "SELECT 'medium', a.host_id, a.check_id, a.host_id || ' ' || CASE WHEN a.result = 'error' "
          "THEN 'could not judge' ELSE 'fails' END || ' what the ' "
          "|| (SELECT count(*) FROM virtgov.assessment p WHERE p.check_id = a.check_id AND p.result = 'pass') "
          "|| ' other hosts pass' FROM virtgov.assessment a JOIN g USING (check_id) "
          "WHERE a.result IN ('fail', 'error') ORDER BY a.check_id, a.host_id" },
        /* ticket-overuse: a ticket's scope is the domains its domain glob
         * names. A glob without a wildcard names one domain, and a ticket
         * no host holds is taken as one (its scope unknown, the narrowest
         * is assumed): used by decisions (domain.prepare,
         * integrity.accepted: data.ticket or data.facts.ticket, as
         * event_ticket reads it) on more than one host for more than one
         * subject (a domain by UUID, else by name; an accept's the host's
         * files), it was used past that scope. One domain on two hosts is
         * a migration, within it. A wildcard ticket's scope is every host
         * where a domain matches: never fires. */
        { .class = "ticket-overuse", .sql = "WITH u AS (SELECT e.host_id, e.kind, coalesce(j->>'ticket', "
          "j->'facts'->>'ticket') AS ticket, coalesce(nullif(e.uuid, ''), nullif(e.domain, ''), "
          "'files of ' || e.host_id) AS subject FROM virtgov.events e CROSS JOIN LATERAL "
          "(SELECT e.data::jsonb AS j) x WHERE e.kind IN ('domain.prepare', 'integrity.accepted')), "
          "t AS (SELECT id, min(domain_glob) AS glob, bool_or(domain_glob ~ '[][*?]') AS wild, "
          "min(coalesce(action, 'start')) AS action FROM virtgov.tickets GROUP BY id), "
          "o AS (SELECT ticket FROM u WHERE coalesce(ticket, '') <> '' GROUP BY ticket "
          "HAVING min(host_id) <> max(host_id) AND count(DISTINCT subject) > 1) "
          "SELECT 'high', string_agg(DISTINCT u.host_id, ',' ORDER BY u.host_id), o.ticket, "
          "'scope ' || coalesce('''' || t.glob || ''' (' || t.action || ')', 'unknown (no host holds it)') "
          "|| ', used on ' || count(DISTINCT u.host_id) || ' hosts for ' || count(DISTINCT u.subject) "
          "|| ' subjects: ' || string_agg(DISTINCT u.host_id || ' ' || u.subject, ', ') "
          "FROM o JOIN u USING (ticket) LEFT JOIN t ON t.id = o.ticket WHERE NOT coalesce(t.wild, false) "
          "GROUP BY o.ticket, t.glob, t.action ORDER BY o.ticket" },
        /* actor-burst: one actor (audit's, not "unknown") changing
         * accounts, groups or sudoers on BURST_HOSTS hosts or more within
         * BURST_MINUTES minutes (a window starting at each of its
         * changes; the widest one said). account.baseline is a snapshot,
         * not a change. */
        { .class = "actor-burst", .sql = "WITH c AS (SELECT host_id, actor, at FROM virtgov.events "
          "WHERE (kind LIKE 'account.%' OR kind LIKE 'group.%' OR kind = 'sudoers.changed') "
          "AND kind <> 'account.baseline' AND coalesce(actor, '') NOT IN ('', 'unknown')), "
          "w AS (SELECT a.actor, a.at AS start, count(DISTINCT b.host_id) AS n, count(*) AS changes, "
          "string_agg(DISTINCT b.host_id, ',' ORDER BY b.host_id) AS hosts FROM c a JOIN c b "
          "ON b.actor = a.actor AND b.at >= a.at AND b.at < a.at + interval '" BURST_MINUTES " minutes' "
          "GROUP BY a.actor, a.at) "
          "SELECT DISTINCT ON (actor) 'high', hosts, actor, changes || ' account changes on ' || n "
          "|| ' hosts within " BURST_MINUTES " minutes from ' || " UTC("start") " FROM w "
          "WHERE n >= " BURST_HOSTS " ORDER BY actor, n DESC, start" },
        {},
};
