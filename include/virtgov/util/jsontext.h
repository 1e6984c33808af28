/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stored JSON text written out as the CLI's indented JSON without decoding
 * it. The inventory keeps each event's data and each domain's facts as
 * compact JSON text; decoding that with jansson only to encode it again
 * was 80% of `virtgov events --json` (and of `report evidence`'s
 * events.json): 200,000 instructions per KiB to decode, 130,000 to encode.
 *
 * The output is byte for byte what
 *     json_dumpf(json_loads(text, 0, NULL), f, JSON_INDENT(2) | JSON_ENSURE_ASCII)
 * writes, for any text whose objects have no duplicate keys (jansson keeps
 * one of them; here both stay): the tests and a fuzzer compare the two.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Whether json_loads(text, 0, NULL) accepts text: an object or an array,
 * strict RFC 8259 in UTF-8, no \u0000 and no unpaired surrogate, integers
 * within long long and reals within double, nested at most 2048 deep.
 */
bool vg_json_text_valid(const char *text);

/*
 * Writes text to f indented, with every line after the first indented
 * `level` more levels of two spaces (where the value sits in a larger
 * document). -EINVAL, having written nothing, when vg_json_text_valid
 * refuses text. Write errors are f's (ferror).
 */
int vg_json_text_pretty(const char *text, unsigned level, FILE *f);

/*
 * The members of the object text whose values are not objects or arrays,
 * as json_loads decodes them (the last of a duplicate key), in a new
 * object; NULL when text is not an object json_loads accepts. For a view
 * that shows a few top-level fields of an event's data: decoding all of
 * it, facts and all, was 80% of `virtgov events`.
 */
json_t *vg_json_text_scalars(const char *text);

/*
 * Writes s as a JSON string, as json_dumpf writes event_json_string(s)
 * with JSON_ENSURE_ASCII: null for NULL; when s is not UTF-8, its bytes
 * from 0x80 up as '?'. For output built without jansson values.
 */
void vg_json_string_write(const char *s, FILE *f);
