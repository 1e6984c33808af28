/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text from outside (a domain name, an owner, a ticket id, a path) made
 * safe for where a person reads it. Any of it may be hostile: a name may
 * hold escape sequences for the terminal that shows it, a formula for the
 * spreadsheet that opens a CSV, a bidi override that makes "exe.txt" of
 * "txt.exe", or bytes that are not UTF-8. Each medium has one rule here,
 * and every writer of that medium goes through it:
 *
 *   terminal  printable ASCII as it is, every other byte '?'
 *   document  (CSV cells, HTML text) UTF-8 as it is, except controls
 *             (C0 but TAB and LF, DEL, C1) and the bidi controls
 *             (U+202A..U+202E, U+2066..U+2069), and bytes that are not
 *             UTF-8: each becomes U+FFFD
 *   CSV       a document cell, quoted as RFC 4180 asks, and a cell that
 *             starts with = + - @ TAB or CR prefixed by ' (OWASP's rule
 *             against formula injection)
 *   Prometheus  a label value of the text exposition format: a
 *             document's text, then \ " and LF escaped as \\ \" \n (the
 *             format's only escapes; it must be UTF-8, and one bad byte
 *             makes node_exporter refuse the whole file)
 *   JSON      lossless: a name that is not UTF-8 gets its bytes in hex
 *             beside it (vg_text_bytes_hex)
 *
 * No allocation but vg_text_bytes_hex's: the hook prints through it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The length of the UTF-8 sequence at s and its code point in *cp, or 0
 * when s does not start one (a stray continuation byte, an overlong form,
 * a surrogate, beyond U+10FFFF, cut short). s[0] is not NUL. */
size_t vg_utf8_next(const unsigned char *s, uint32_t *cp);

/* Whether s is UTF-8 throughout. NULL is. */
bool vg_utf8_valid(const char *s);

/* s for a terminal, copied into buf of n bytes (cut to fit): printable
 * ASCII kept, every other byte '?'. "-" for NULL. Returns buf (or "-"). */
const char *vg_text_terminal(const char *s, char *buf, size_t n);

/* The same, written to f whole without a copy. */
void vg_text_put_terminal(const char *s, FILE *f);

/* s as a document's text (the rule above) to f, with HTML's markup
 * characters & < > " ' as entities when html. Nothing for NULL. */
void vg_text_put_document(const char *s, bool html, FILE *f);

/* s as one CSV cell (the rule above; empty for NULL), without the
 * separator after it. */
void vg_text_put_csv(const char *s, FILE *f);

/* s as a Prometheus label value (the rule above), without the quotes
 * around it; nothing for NULL (an empty value: the label is absent). */
void vg_text_put_prom_label(const char *s, FILE *f);

/* The suffix of a JSON member that holds the bytes of the member named
 * before it: "path" and "path_bytes". */
#define VG_TEXT_BYTES_SUFFIX "_bytes"

/* For a name that becomes JSON: *ret_hex is NULL when s is NULL or UTF-8
 * (its JSON string says it exactly), otherwise a new string of s's bytes
 * as lowercase hex, to stand beside the readable string (where each byte
 * that is not UTF-8 is '?'). 0, or -ENOMEM with *ret_hex untouched. */
int vg_text_bytes_hex(const char *s, char **ret_hex);

/* The same hex as a JSON string ("636166e9") to f, for JSON written
 * without jansson; its caller asks vg_utf8_valid first. */
void vg_text_put_hex(const char *s, FILE *f);

/* The bytes of hex (as vg_text_bytes_hex writes them) as a new string:
 * 0, -EINVAL when hex is not an even count of hex digits or holds a NUL
 * byte, -ENOMEM. */
int vg_text_from_hex(const char *hex, char **ret);
