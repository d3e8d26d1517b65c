/* Rows rendered from their field descriptions (lib/table.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "table.h"

static void field_value(const struct md_column *f, const void *ctx, const void *row,
			struct md_value *v)
{
	const unsigned char *p = (const unsigned char *)row + f->offset;

	memset(v, 0, sizeof(*v));
	if (f->get) {
		f->get(ctx, row, v);
		return;
	}
	if (f->kind == MD_COL_STRING) {
		if (f->chars)
			v->s = (const char *)p;
		else
			memcpy(&v->s, p, sizeof(v->s));
		return;
	}
	if (f->size == 1)
		v->i = f->is_signed ? (int64_t)*(const int8_t *)p : (int64_t)*(const uint8_t *)p;
	else if (f->size == 2)
		v->i = f->is_signed ? (int64_t)*(const int16_t *)p : (int64_t)*(const uint16_t *)p;
	else if (f->size == 4)
		v->i = f->is_signed ? (int64_t)*(const int32_t *)p : (int64_t)*(const uint32_t *)p;
	else
		memcpy(&v->i, p, sizeof(v->i));
	v->u = (uint64_t)v->i;
}

static bool last(const struct md_column *f)
{
	return !f->key && !f->heading;
}

/* Whether f is a column of the text table. */
static bool in_text(const struct md_output *out, const struct md_column *f)
{
	return f->heading && (!f->wide || out->wide);
}

/* No column after f shows in text: f's text is not padded (no blanks at
 * the end of the line). */
static bool last_in_text(const struct md_output *out, const struct md_column *f)
{
	while (!last(++f))
		if (in_text(out, f))
			return false;
	return true;
}

void md_table_heading(struct md_output *out, const struct md_column *fields)
{
	const char *sep = "";

	for (const struct md_column *f = fields; !last(f); f++) {
		if (!in_text(out, f))
			continue;
		/* the last column left-aligned is not padded: no trailing blanks */
		if (f->width < 0 && last_in_text(out, f))
			md_printf(out, "%s%s", sep, f->heading);
		else
			md_printf(out, "%s%*s", sep, f->width, f->heading);
		sep = " ";
	}
	md_printf(out, "\n");
}

/* A value's text; buf holds what has to be built. */
static const char *value_text(const struct md_column *f, const struct md_value *v, char buf[48])
{
	if (v->unknown)
		return f->unknown_text ? f->unknown_text : "?";
	switch (f->kind) {
	case MD_COL_INT:
		snprintf(buf, 48, "%" PRId64 "%s", v->i, f->suffix ? f->suffix : "");
		return buf;
	case MD_COL_ADDRESS:
		snprintf(buf, 48, "%016" PRIx64, v->u);
		return buf;
	case MD_COL_STRING:
		return v->s ? v->s : "-";
	case MD_COL_BOOL:
		return v->u ? "yes" : "no";
	default:
		if (f->human && f->kind == MD_COL_BYTES)
			return md_human_bytes(v->u, buf);
		snprintf(buf, 48, "%" PRIu64 "%s", v->u >> f->shift, f->suffix ? f->suffix : "");
		return buf;
	}
}

void md_table_row(struct md_output *out, const struct md_column *fields, const void *ctx,
		  const void *row)
{
	const char *sep = "";
	char buf[48];

	for (const struct md_column *f = fields; !last(f); f++) {
		struct md_value v;
		const char *text;

		if (!in_text(out, f))
			continue;
		field_value(f, ctx, row, &v);
		text = value_text(f, &v, buf);
		if (f->width < 0 && last_in_text(out, f))
			md_printf(out, "%s%s", sep, text);
		else
			md_printf(out, "%s%*s", sep, f->width, text);
		sep = " ";
	}
	md_printf(out, "\n");
}

struct md_json *md_table_row_json(const struct md_column *fields, const void *ctx, const void *row)
{
	struct md_json *o = md_json_object();

	for (const struct md_column *f = fields; !last(f); f++) {
		struct md_value v;
		struct md_json *j;

		if (!f->key)
			continue;
		field_value(f, ctx, row, &v);
		if (v.unknown) {
			md_json_object_add(o, f->key, NULL);
			continue;
		}
		switch (f->kind) {
		case MD_COL_INT:
			j = md_json_int64(v.i);
			break;
		case MD_COL_ADDRESS:
			j = md_json_address(v.u);
			break;
		case MD_COL_STRING:
			j = md_json_string(v.s);
			break;
		case MD_COL_BOOL:
			j = md_json_bool(v.u != 0);
			break;
		default:
			j = md_json_uint64(v.u);
			break;
		}
		md_json_object_add(o, f->key, j);
	}
	return o;
}
