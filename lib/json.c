#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "array.h"
#include "hash.h"
#include "json.h"

struct member {
	char *key;
	struct md_json *val;
};

struct md_json {
	enum md_json_type type;
	unsigned int refs;
	union {
		bool b;
		struct {
			int64_t i;
			bool is_unsigned;	/* i holds a uint64_t */
		} num;
		struct {
			char *s;
			size_t len;	/* may hold '\0's, from "\u0000" */
		} str;
		struct {
			struct md_json **items;
			size_t n, cap;
		} arr;
		struct {
			struct member *items;
			size_t n, cap;
			/* Positions + 1 of the members by key hash, open
			 * addressing; made once an object outgrows a short
			 * linear search, so a parsed object with a million
			 * keys is not a quadratic job. */
			size_t *index;
			size_t index_cap;
		} obj;
	};
};

#define INDEX_FROM 16	/* members searched linearly below this */

static struct md_json *new_value(enum md_json_type type)
{
	struct md_json *v = calloc(1, sizeof(*v));

	if (v) {
		v->type = type;
		v->refs = 1;
	}
	return v;
}

struct md_json *md_json_object(void)
{
	return new_value(MD_JSON_OBJECT);
}

struct md_json *md_json_array(void)
{
	return new_value(MD_JSON_ARRAY);
}

static struct md_json *string_len(const char *s, size_t len)
{
	struct md_json *v = new_value(MD_JSON_STRING);

	if (!v)
		return NULL;
	if (!(v->str.s = malloc(len + 1))) {
		free(v);
		return NULL;
	}
	memcpy(v->str.s, s, len);
	v->str.s[len] = '\0';
	v->str.len = len;
	return v;
}

struct md_json *md_json_string(const char *s)
{
	return s ? string_len(s, strlen(s)) : NULL;
}

struct md_json *md_json_int64(int64_t i)
{
	struct md_json *v = new_value(MD_JSON_INT);

	if (v)
		v->num.i = i;
	return v;
}

struct md_json *md_json_uint64(uint64_t u)
{
	struct md_json *v = new_value(MD_JSON_INT);

	if (v) {
		v->num.i = (int64_t)u;
		v->num.is_unsigned = true;
	}
	return v;
}

struct md_json *md_json_bool(bool b)
{
	struct md_json *v = new_value(MD_JSON_BOOL);

	if (v)
		v->b = b;
	return v;
}

struct md_json *md_json_get(struct md_json *v)
{
	if (v)
		v->refs++;
	return v;
}

void md_json_put(struct md_json *v)
{
	if (!v || --v->refs)
		return;
	switch (v->type) {
	case MD_JSON_STRING:
		free(v->str.s);
		break;
	case MD_JSON_ARRAY:
		for (size_t i = 0; i < v->arr.n; i++)
			md_json_put(v->arr.items[i]);
		free(v->arr.items);
		break;
	case MD_JSON_OBJECT:
		for (size_t i = 0; i < v->obj.n; i++) {
			free(v->obj.items[i].key);
			md_json_put(v->obj.items[i].val);
		}
		free(v->obj.items);
		free(v->obj.index);
		break;
	default:
		break;
	}
	free(v);
}

enum md_json_type md_json_type(const struct md_json *v)
{
	return v ? v->type : MD_JSON_NULL;
}

/* ---------------------------------------------------------------- objects */

static size_t index_slot(const struct md_json *obj, const char *key)
{
	size_t mask = obj->obj.index_cap - 1;
	size_t i = md_hash_bytes(key, strlen(key)) & mask;

	while (obj->obj.index[i] && strcmp(obj->obj.items[obj->obj.index[i] - 1].key, key))
		i = (i + 1) & mask;
	return i;
}

/* An index of twice the members' room, so it is at most half full. */
static bool reindex(struct md_json *obj)
{
	size_t cap = 2 * obj->obj.cap;
	size_t *index = calloc(cap, sizeof(*index));

	if (!index)
		return false;
	free(obj->obj.index);
	obj->obj.index = index;
	obj->obj.index_cap = cap;
	for (size_t i = 0; i < obj->obj.n; i++)
		index[index_slot(obj, obj->obj.items[i].key)] = i + 1;
	return true;
}

/* Position of key in obj, or -1. */
static ssize_t find_member(const struct md_json *obj, const char *key)
{
	if (obj->obj.index) {
		size_t slot = index_slot(obj, key);

		return (ssize_t)obj->obj.index[slot] - 1;
	}
	for (size_t i = 0; i < obj->obj.n; i++)
		if (!strcmp(obj->obj.items[i].key, key))
			return i;
	return -1;
}

int md_json_object_add(struct md_json *obj, const char *key, struct md_json *val)
{
	size_t old_cap;
	ssize_t at;
	char *copy;

	if (!obj || obj->type != MD_JSON_OBJECT || obj == val)
		goto fail;
	if ((at = find_member(obj, key)) >= 0) {
		md_json_put(obj->obj.items[at].val);
		obj->obj.items[at].val = val;
		return 0;
	}
	old_cap = obj->obj.cap;
	if (!md_array_reserve(&obj->obj.items, &obj->obj.cap, obj->obj.n, sizeof(*obj->obj.items), 8))
		goto fail;
	if (!(copy = strdup(key)))
		goto fail;
	obj->obj.items[obj->obj.n++] = (struct member){ copy, val };
	if (obj->obj.n >= INDEX_FROM && (obj->obj.cap != old_cap || !obj->obj.index)) {
		if (!reindex(obj)) {
			/* Without its index the object is searched linearly. */
			free(obj->obj.index);
			obj->obj.index = NULL;
		}
	} else if (obj->obj.index) {
		obj->obj.index[index_slot(obj, copy)] = obj->obj.n;
	}
	return 0;
fail:
	if (obj != val)
		md_json_put(val);
	return -1;
}

bool md_json_object_get(const struct md_json *obj, const char *key, struct md_json **val)
{
	ssize_t at;

	if (!obj || obj->type != MD_JSON_OBJECT || (at = find_member(obj, key)) < 0)
		return false;
	if (val)
		*val = obj->obj.items[at].val;
	return true;
}

size_t md_json_object_length(const struct md_json *obj)
{
	return obj && obj->type == MD_JSON_OBJECT ? obj->obj.n : 0;
}

const char *md_json_object_key(const struct md_json *obj, size_t i)
{
	return i < md_json_object_length(obj) ? obj->obj.items[i].key : NULL;
}

struct md_json *md_json_object_value(const struct md_json *obj, size_t i)
{
	return i < md_json_object_length(obj) ? obj->obj.items[i].val : NULL;
}

/* ----------------------------------------------------------------- arrays */

int md_json_array_add(struct md_json *arr, struct md_json *val)
{
	if (!arr || arr->type != MD_JSON_ARRAY || arr == val ||
	    !md_array_reserve(&arr->arr.items, &arr->arr.cap, arr->arr.n, sizeof(*arr->arr.items), 8)) {
		if (arr != val)
			md_json_put(val);
		return -1;
	}
	arr->arr.items[arr->arr.n++] = val;
	return 0;
}

size_t md_json_array_length(const struct md_json *arr)
{
	return arr && arr->type == MD_JSON_ARRAY ? arr->arr.n : 0;
}

struct md_json *md_json_array_get(const struct md_json *arr, size_t i)
{
	return i < md_json_array_length(arr) ? arr->arr.items[i] : NULL;
}

/* ----------------------------------------------------------------- scalars */

int64_t md_json_get_int64(const struct md_json *v)
{
	switch (md_json_type(v)) {
	case MD_JSON_INT:
		if (v->num.is_unsigned && (uint64_t)v->num.i > INT64_MAX)
			return INT64_MAX;
		return v->num.i;
	case MD_JSON_BOOL:
		return v->b;
	default:
		return 0;
	}
}

const char *md_json_get_string(const struct md_json *v)
{
	return md_json_type(v) == MD_JSON_STRING ? v->str.s : NULL;
}

/* ------------------------------------------------------------------ output */

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put_bytes(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_str(struct buf *b, const char *s)
{
	put_bytes(b, s, strlen(s));
}

static void put_indent(struct buf *b, int level)
{
	for (int i = 0; i < level; i++)
		put_bytes(b, "  ", 2);
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n > len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A quoted string: what JSON requires is escaped (and '/' if asked), and
 * a byte that is not UTF-8 (a task's comm, a string in a scribbled page)
 * as the code point of the same value, \u00XX, so the document stays
 * valid JSON (RFC 8259 8.1); valid UTF-8 is written as it is. */
static void put_quoted(struct buf *b, const char *s, size_t len, unsigned int flags)
{
	size_t start = 0;

	put_bytes(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		char esc[8];

		switch (c) {
		case '"': strcpy(esc, "\\\""); break;
		case '\\': strcpy(esc, "\\\\"); break;
		case '\b': strcpy(esc, "\\b"); break;
		case '\f': strcpy(esc, "\\f"); break;
		case '\n': strcpy(esc, "\\n"); break;
		case '\r': strcpy(esc, "\\r"); break;
		case '\t': strcpy(esc, "\\t"); break;
		case '/':
			if (!(flags & MD_JSON_ESCAPE_SLASH))
				continue;
			strcpy(esc, "\\/");
			break;
		default:
			if (c >= 0x80) {
				size_t n = utf8_length((const unsigned char *)s + i, len - i);

				if (n) {
					i += n - 1;
					continue;
				}
			} else if (c >= 0x20) {
				continue;
			}
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			break;
		}
		put_bytes(b, s + start, i - start);
		put_str(b, esc);
		start = i + 1;
	}
	put_bytes(b, s + start, len - start);
	put_bytes(b, "\"", 1);
}

/* v at nesting level level, its first line already indented. */
static void put_value(struct buf *b, const struct md_json *v, int level, unsigned int flags)
{
	char num[24];

	switch (md_json_type(v)) {
	case MD_JSON_NULL:
		put_str(b, "null");
		break;
	case MD_JSON_BOOL:
		put_str(b, v->b ? "true" : "false");
		break;
	case MD_JSON_INT:
		if (v->num.is_unsigned)
			snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)v->num.i);
		else
			snprintf(num, sizeof(num), "%" PRId64, v->num.i);
		put_str(b, num);
		break;
	case MD_JSON_STRING:
		put_quoted(b, v->str.s, v->str.len, flags);
		break;
	case MD_JSON_ARRAY:
		/* A newline after "[" even when empty: the layout of old. */
		put_str(b, "[\n");
		for (size_t i = 0; i < v->arr.n; i++) {
			if (i)
				put_str(b, ",\n");
			put_indent(b, level + 1);
			put_value(b, v->arr.items[i], level + 1, flags);
		}
		if (v->arr.n)
			put_str(b, "\n");
		put_indent(b, level);
		put_str(b, "]");
		break;
	case MD_JSON_OBJECT:
		put_str(b, "{\n");
		for (size_t i = 0; i < v->obj.n; i++) {
			if (i)
				put_str(b, ",\n");
			put_indent(b, level + 1);
			put_quoted(b, v->obj.items[i].key, strlen(v->obj.items[i].key), flags);
			put_str(b, ":");
			put_value(b, v->obj.items[i].val, level + 1, flags);
		}
		if (v->obj.n)
			put_str(b, "\n");
		put_indent(b, level);
		put_str(b, "}");
		break;
	}
}

char *md_json_to_string(const struct md_json *v, unsigned int flags)
{
	struct buf b = { 0 };

	put_value(&b, v, 0, flags);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ----------------------------------------------------------------- parsing */

struct parser {
	const char *text, *p, *end;
	char *why;
	size_t why_size;
	bool failed;
};

/* Records the first error, at p, as "line L, column C: ...". */
static void __attribute__((format(printf, 3, 4)))
parse_error(struct parser *ps, const char *at, const char *fmt, ...)
{
	size_t line = 1, column = 1;
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = true;
	if (!ps->why_size)
		return;
	for (const char *q = ps->text; q < at; q++) {
		if (*q == '\n') {
			line++;
			column = 1;
		} else {
			column++;
		}
	}
	n = snprintf(ps->why, ps->why_size, "line %zu, column %zu: ", line, column);
	if (n < 0 || (size_t)n >= ps->why_size)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->why + n, ps->why_size - n, fmt, ap);
	va_end(ap);
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* What is at p, for messages. */
static const char *found(const struct parser *ps, char buf[16])
{
	unsigned char c;

	if (ps->p >= ps->end)
		return "the end of the text";
	c = *ps->p;
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", c);
	return buf;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits after "\u" at p; -1 if they are not. */
static long hex4(const struct parser *ps, const char *p)
{
	long v = 0;

	if (ps->end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static void put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	put_bytes(b, u, n);
}

/* A string at p (its opening quote) into b, unescaped; false on error. */
static bool parse_string(struct parser *ps, struct buf *b)
{
	const char *quote = ps->p, *start = ++ps->p;

	b->len = 0;
	put_bytes(b, "", 0);	/* an empty string is still a string */
	while (ps->p < ps->end) {
		unsigned char c = *ps->p;
		const char *esc = ps->p;
		long cp, lo;

		if (c == '"') {
			put_bytes(b, start, ps->p - start);
			ps->p++;
			if (b->failed)
				parse_error(ps, esc, "out of memory");
			return !b->failed;
		}
		if (c < 0x20) {
			parse_error(ps, ps->p, "control character (byte 0x%02x) in a string", c);
			return false;
		}
		if (c != '\\') {
			ps->p++;
			continue;
		}
		put_bytes(b, start, ps->p - start);
		if (++ps->p >= ps->end)
			break;
		switch (*ps->p++) {
		case '"': put_bytes(b, "\"", 1); break;
		case '\\': put_bytes(b, "\\", 1); break;
		case '/': put_bytes(b, "/", 1); break;
		case 'b': put_bytes(b, "\b", 1); break;
		case 'f': put_bytes(b, "\f", 1); break;
		case 'n': put_bytes(b, "\n", 1); break;
		case 'r': put_bytes(b, "\r", 1); break;
		case 't': put_bytes(b, "\t", 1); break;
		case 'u':
			if ((cp = hex4(ps, ps->p)) < 0) {
				parse_error(ps, esc, "\\u not followed by 4 hex digits");
				return false;
			}
			ps->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				parse_error(ps, esc, "\\u%04lx: a low surrogate without a high one", cp);
				return false;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* UTF-16 pair: the low half must follow at once. */
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
				    (lo = hex4(ps, ps->p + 2)) < 0xdc00 || lo > 0xdfff) {
					parse_error(ps, esc, "\\u%04lx: a high surrogate without a low one", cp);
					return false;
				}
				ps->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(b, cp);
			break;
		default:
			parse_error(ps, esc, "unknown escape '\\%c'", ps->p[-1]);
			return false;
		}
		start = ps->p;
	}
	parse_error(ps, quote, "string not closed");
	return false;
}

/* An integer at p: -?(0|[1-9][0-9]*), within int64_t or uint64_t. */
static struct md_json *parse_number(struct parser *ps)
{
	const char *start = ps->p;
	bool negative = false;
	uint64_t u = 0;
	struct md_json *v;

	if (*ps->p == '-') {
		negative = true;
		ps->p++;
	}
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
		parse_error(ps, start, "'-' not followed by a digit");
		return NULL;
	}
	if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9') {
		parse_error(ps, start, "a number with a leading zero");
		return NULL;
	}
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
		unsigned d = *ps->p - '0';

		if (u > (UINT64_MAX - d) / 10) {
			parse_error(ps, start, "integer out of the 64-bit range");
			return NULL;
		}
		u = u * 10 + d;
		ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')) {
		parse_error(ps, start, "a number with a fraction or an exponent (only integers are read)");
		return NULL;
	}
	if (negative && u > (uint64_t)INT64_MAX + 1) {
		parse_error(ps, start, "integer out of the 64-bit range");
		return NULL;
	}
	if (negative)
		v = md_json_int64(u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u);
	else if (u > INT64_MAX)
		v = md_json_uint64(u);
	else
		v = md_json_int64(u);
	if (!v)
		parse_error(ps, start, "out of memory");
	return v;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return false;
	ps->p += n;
	return true;
}

/* A value at p (past any space); NULL is either a JSON null or an error,
 * which ps->failed tells apart. */
static struct md_json *parse_value(struct parser *ps, struct buf *b, int depth)
{
	const char *start = ps->p;
	struct md_json *v;
	char c16[16];

	if (ps->p >= ps->end) {
		parse_error(ps, ps->p, "a value expected, found the end of the text");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		if (depth >= MD_JSON_MAX_DEPTH) {
			parse_error(ps, ps->p, "nested deeper than %d levels", MD_JSON_MAX_DEPTH);
			return NULL;
		}
		break;
	case '"':
		if (!parse_string(ps, b))
			return NULL;
		if (!(v = string_len(b->p, b->len)))
			parse_error(ps, start, "out of memory");
		return v;
	case 't':
	case 'f':
		if (!literal(ps, "true") && !literal(ps, "false"))
			goto unexpected;
		if (!(v = md_json_bool(*start == 't')))
			parse_error(ps, start, "out of memory");
		return v;
	case 'n':
		if (literal(ps, "null"))
			return NULL;
		goto unexpected;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		goto unexpected;
	}

	if (*ps->p == '[') {
		v = md_json_array();
		if (!v) {
			parse_error(ps, start, "out of memory");
			return NULL;
		}
		ps->p++;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return v;
		}
		for (;;) {
			struct md_json *item;

			skip_space(ps);
			item = parse_value(ps, b, depth + 1);
			if (ps->failed || md_json_array_add(v, item) < 0) {
				parse_error(ps, start, "out of memory");
				md_json_put(v);
				return NULL;
			}
			skip_space(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == ']') {
				ps->p++;
				return v;
			}
			parse_error(ps, ps->p, "',' or ']' expected, found %s", found(ps, c16));
			md_json_put(v);
			return NULL;
		}
	}

	v = md_json_object();
	if (!v) {
		parse_error(ps, start, "out of memory");
		return NULL;
	}
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return v;
	}
	for (;;) {
		struct md_json *item;
		const char *key_at;
		char *key;

		skip_space(ps);
		key_at = ps->p;
		if (ps->p >= ps->end || *ps->p != '"') {
			parse_error(ps, ps->p, "a member name (a string) expected, found %s", found(ps, c16));
			break;
		}
		if (!parse_string(ps, b))
			break;
		if (memchr(b->p, '\0', b->len)) {
			parse_error(ps, key_at, "a member name with \"\\u0000\" in it");
			break;
		}
		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			parse_error(ps, ps->p, "':' expected, found %s", found(ps, c16));
			break;
		}
		ps->p++;
		skip_space(ps);
		/* The key is kept in b only until the value's strings reuse it. */
		if (!(key = strdup(b->p))) {
			parse_error(ps, key_at, "out of memory");
			break;
		}
		item = parse_value(ps, b, depth + 1);
		if (ps->failed) {
			free(key);
			break;
		}
		if (md_json_object_add(v, key, item) < 0) {
			parse_error(ps, key_at, "out of memory");
			free(key);
			break;
		}
		free(key);
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return v;
		}
		parse_error(ps, ps->p, "',' or '}' expected, found %s", found(ps, c16));
		break;
	}
	md_json_put(v);
	return NULL;

unexpected:
	parse_error(ps, ps->p, "a value expected, found %s", found(ps, c16));
	return NULL;
}

struct md_json *md_json_parse(const char *text, size_t len, char *why, size_t why_size)
{
	struct parser ps = { text, text, text + len, why, why_size, false };
	struct buf b = { 0 };
	struct md_json *v;
	char c16[16];

	if (why_size)
		why[0] = '\0';
	skip_space(&ps);
	v = parse_value(&ps, &b, 0);
	free(b.p);
	if (ps.failed)
		return NULL;
	skip_space(&ps);
	if (ps.p < ps.end) {
		parse_error(&ps, ps.p, "the text goes on after the value, with %s", found(&ps, c16));
		md_json_put(v);
		return NULL;
	}
	if (!v)
		parse_error(&ps, text, "the value is null");
	return v;
}

struct md_json *md_json_parse_file(const char *path, char *why, size_t why_size)
{
	struct buf b = { 0 };
	struct md_json *v;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(why, why_size, "%s", strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put_bytes(&b, chunk, n);
	if (ferror(f) || b.failed) {
		snprintf(why, why_size, "%s", b.failed ? "out of memory" : strerror(errno));
		fclose(f);
		free(b.p);
		return NULL;
	}
	fclose(f);
	v = md_json_parse(b.p ? b.p : "", b.len, why, why_size);
	free(b.p);
	return v;
}
