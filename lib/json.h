/* JSON values: what commands build their --json documents from, and what
 * `diff` reads snapshots back into.  memdiag's own small module, so that
 * neither the standalone program nor the crash extension needs a JSON
 * library at run time (crash installations have no libjson-c.so, and a
 * static one is not built for a shared object).
 *
 * A value is a tree node with a reference count.  Constructors return a
 * value holding one reference, or NULL when out of memory; the add
 * functions take over the reference they are given.  NULL stands for JSON
 * null wherever a value is expected, so an allocation failure deep in a
 * document degrades to a null there instead of needing a check at every
 * call site.
 */
#ifndef MEMDIAG_JSON_H
#define MEMDIAG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct md_json;

enum md_json_type {
	MD_JSON_NULL,
	MD_JSON_BOOL,
	MD_JSON_INT,		/* int64_t or uint64_t */
	MD_JSON_STRING,
	MD_JSON_ARRAY,
	MD_JSON_OBJECT,
};

struct md_json *md_json_object(void);
struct md_json *md_json_array(void);
/* A copy of s; NULL s gives NULL (JSON null). */
struct md_json *md_json_string(const char *s);
struct md_json *md_json_int64(int64_t v);
struct md_json *md_json_uint64(uint64_t v);
struct md_json *md_json_bool(bool v);

/* Adds key: val to obj, or replaces the value of key where it already is
 * (members keep the order they were first added in).  Takes val's
 * reference even on failure (-1: obj not an object, out of memory). */
int md_json_object_add(struct md_json *obj, const char *key, struct md_json *val);
/* Appends val to arr; takes val's reference even on failure. */
int md_json_array_add(struct md_json *arr, struct md_json *val);

/* Another reference to v (returned), and dropping one (the last frees v
 * and, in turn, its members).  Both accept NULL. */
struct md_json *md_json_get(struct md_json *v);
void md_json_put(struct md_json *v);

/* MD_JSON_NULL for NULL. */
enum md_json_type md_json_type(const struct md_json *v);

/* The value of key in obj (NULL for a JSON null): false when obj is not an
 * object or has no such key. */
bool md_json_object_get(const struct md_json *obj, const char *key, struct md_json **val);
/* Members by position, in order: 0 for what is not an object. */
size_t md_json_object_length(const struct md_json *obj);
const char *md_json_object_key(const struct md_json *obj, size_t i);
struct md_json *md_json_object_value(const struct md_json *obj, size_t i);

/* Elements: 0 and NULL for what is not an array (or out of range). */
size_t md_json_array_length(const struct md_json *arr);
struct md_json *md_json_array_get(const struct md_json *arr, size_t i);

/* An integer's value (a uint64_t above INT64_MAX gives INT64_MAX), a
 * boolean's 0 or 1; 0 for anything else. */
int64_t md_json_get_int64(const struct md_json *v);
/* A string's text (up to a "\u0000" in it, if any); NULL for non-strings. */
const char *md_json_get_string(const struct md_json *v);

/* Text of v, indented by two spaces a level: the layout memdiag has always
 * printed (json-c's "pretty" one: no space after ':', an empty array
 * or object as "[" or "{", newline, indent, "]" or "}").  Flags: MD_JSON_ESCAPE_SLASH writes '/' as
 * "\/".  A malloc()ed string, NULL when out of memory. */
#define MD_JSON_ESCAPE_SLASH 1u
char *md_json_to_string(const struct md_json *v, unsigned int flags);

/* Parsing standard JSON (RFC 8259) text, len bytes.  Numbers must be
 * integers in the int64_t or uint64_t range (a snapshot holds nothing
 * else); strings may hold any bytes, as memdiag writes kernel strings
 * unchecked.  Nesting deeper than MD_JSON_MAX_DEPTH is refused rather than
 * recursed into.  On error NULL, and why gets "line L, column C: what"
 * (why_size bytes at most, NUL included); a text that is only "null" is
 * refused too, NULL being the error return. */
#define MD_JSON_MAX_DEPTH 64
struct md_json *md_json_parse(const char *text, size_t len, char *why, size_t why_size);
/* The same for the contents of a file; why then may also be the system's
 * reason the file could not be read. */
struct md_json *md_json_parse_file(const char *path, char *why, size_t why_size);

#endif
