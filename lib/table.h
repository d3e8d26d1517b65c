/* The presentation of a command's rows: one description of each field
 * (its JSON key with the unit in it, its text heading and width, its kind:
 * a struct md_column)
 * renders a row both as a text table line and as a JSON object, so the
 * two outputs cannot drift apart and every key follows doc/json.md:
 *   - a size's key ends in its unit: _bytes, _pages or _kb;
 *   - an address is a "0x%016x" string, NULL a null.
 * A field reads its row through a member (MD_MEMBER) or a getter. */
#ifndef MEMDIAG_TABLE_H
#define MEMDIAG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

struct md_output;

enum md_column_kind {
	MD_COL_COUNT,		/* unsigned count */
	MD_COL_INT,		/* signed integer */
	MD_COL_BYTES,		/* memory in bytes: key "..._bytes" */
	MD_COL_PAGES,		/* memory in pages: key "..._pages" */
	MD_COL_KB,		/* memory in kB (/proc's unit): key "..._kb" */
	MD_COL_ADDRESS,	/* kernel address */
	MD_COL_STRING,
	MD_COL_BOOL,		/* text "yes"/"no" */
};

/* What a getter fills: u for counts, sizes, addresses and booleans, i for
 * INT, s for STRING. */
struct md_value {
	uint64_t u;
	int64_t i;
	const char *s;
	char buf[128];		/* where a getter may build s */
	bool unknown;		/* could not be read: JSON null, text "?" */
};

struct md_column {
	const char *key;	/* JSON key; NULL: text only */
	const char *heading;	/* text heading; NULL: JSON only */
	enum md_column_kind kind;
	int width;		/* text width; negative: left-aligned */
	unsigned int shift;	/* text shows a size >> shift (10: KiB) */
	bool human;		/* text shows a size as "12.5 MiB" */
	bool wide;		/* in text only with --wide (80 columns otherwise) */
	const char *suffix;	/* after the number in text ("k") */
	const char *unknown_text;	/* text of an unknown value; NULL: "?" */
	/* the row's member, or a getter (ctx is the caller's) */
	size_t offset, size;
	bool is_signed;
	bool chars;		/* the member is a char array, not a pointer */
	void (*get)(const void *ctx, const void *row, struct md_value *v);
};

/* The member m of a row of type T: an integer or a bool; a char pointer
 * (const char *name). */
#define MD_MEMBER(T, m) .offset = offsetof(T, m), .size = sizeof(((T *)0)->m), \
	.is_signed = (__typeof__(((T *)0)->m))-1 < 1
#define MD_STRING_MEMBER(T, m) .offset = offsetof(T, m), .size = sizeof(((T *)0)->m)
/* an array member, char name[64] */
#define MD_CHARS_MEMBER(T, m) .offset = offsetof(T, m), .size = sizeof(((T *)0)->m), .chars = true

/* Tables are arrays of fields ending with one whose key and heading are
 * both NULL. */

/* The heading line, then a row's line (each with a newline), text mode. */
void md_table_heading(struct md_output *out, const struct md_column *fields);
void md_table_row(struct md_output *out, const struct md_column *fields, const void *ctx,
		  const void *row);

/* A row as a JSON object of its keyed fields, in order; callers may add
 * more members to it. */
struct md_json *md_table_row_json(const struct md_column *fields, const void *ctx, const void *row);

#endif
