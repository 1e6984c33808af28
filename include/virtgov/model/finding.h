/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An integrity finding: a watched file that drifted from its baseline, as
 * the inventory keeps it. The integrity room makes findings, the store
 * keeps them, the gate and the reports read them: a record passed between
 * rooms, like the event, so it is model's, below them all, and store.h
 * need not include integrity.h (a later room). The scan and the drift it
 * yields, and integrity_finding_clear, stay in integrity.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum DriftKind { DRIFT_ADDED, DRIFT_REMOVED, DRIFT_CHANGED } DriftKind;

/* "added", "removed", "changed". Inline, as drift_class_name: the hook
 * reads findings (store.h) without linking the scanner. */
static inline const char *drift_kind_name(DriftKind k) {
        return k == DRIFT_ADDED ? "added" : k == DRIFT_REMOVED ? "removed" : "changed";
}

typedef enum DriftClass {
        DRIFT_UNEXPLAINED,        /* a finding */
        DRIFT_PACKAGE_UPDATE,     /* matches what a dpkg transaction installed since */
        DRIFT_CONFFILE_EDIT,      /* a package's conffile, edited by hand */
} DriftClass;

/* "unexplained", "package_update", "conffile_edit": one spelling in the
 * JSON, the text, the inventory and the metrics' labels (scripts match on
 * it). The event kind integrity.package-update is another vocabulary:
 * event kinds are dotted and hyphenated (kinds.c). */
static inline const char *drift_class_name(DriftClass c) {
        return c == DRIFT_PACKAGE_UPDATE ? "package_update" : c == DRIFT_CONFFILE_EDIT ? "conffile_edit" : "unexplained";
}

/* One finding of a check, as the inventory keeps it until it is accepted
 * or goes away. Strings are owned by the result that holds it. */
typedef struct IntegrityFinding {
        char *path;
        char *profile;
        DriftKind kind;
        DriftClass cls;
        unsigned changed;         /* FscanAttr (fscan.h) */
        char *package, *old_version, *new_version;   /* package_update, conffile_edit */
        char *detail;             /* JSON text: each changed attribute's old and new value */
        bool is_new;              /* not among the findings of the check before */
        int64_t first_seen_us, last_seen_us;   /* as the inventory keeps it */
} IntegrityFinding;
