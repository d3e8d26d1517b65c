/* Kernel types from a vmlinux's BTF (the .BTF section, CONFIG_DEBUG_INFO_BTF),
 * for the front ends' targets: sizes, members (through anonymous structs and
 * unions, bit-fields placed exactly) and enumerators, as lib/target.h asks.
 *
 * BTF is a few MB of a vmlinux of hundreds and needs no DWARF walk, so a
 * look-up costs microseconds (lib/types.c caches the answers).
 *
 * The reader is our own, with no libbpf or libelf: crash installations have
 * neither library, and Debian's static archives of them are not PIC, so the
 * crash extension could not carry them.  It follows the kernel's
 * include/uapi/linux/btf.h and Documentation/bpf/btf.rst:
 *
 *   header   magic 0xeB9F, version 1, flags, hdr_len, then type_off/len and
 *            str_off/len, both relative to the end of the header (hdr_len,
 *            which newer producers may make longer than these 24 bytes);
 *   types    records of 12 bytes (name_off, info: vlen 0-15, kind 24-28,
 *            kind_flag 31; size or type), each followed by its kind's data;
 *            type ids count from 1 in record order, 0 is void;
 *   strings  NUL-terminated, starting with the empty string.
 *
 * Everything is checked once when the section is indexed (record bounds,
 * known kinds, string offsets, referenced ids, no typedef/qualifier/array
 * chain that loops), so a damaged section gives an error, never a crash or a
 * hang; the walks of the look-ups are bounded besides.  The answers are
 * those libbpf's btf__resolve_size(), btf__find_by_name_kind() and friends
 * gave to this file's earlier version; only x86-64 (little-endian) is read.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btf_types.h"
#include "hash.h"
#include "types.h"

/* ------------------------------------------------------------------------ */
/* The format (include/uapi/linux/btf.h)                                    */

#define BTF_MAGIC_NATIVE	0xeB9F
#define BTF_MAGIC_SWAPPED	0x9FeB
#define BTF_HDR_MIN		24	/* magic .. str_len */
#define BTF_TYPE_REC		12	/* name_off, info, size/type */

enum btf_kind {
	K_UNKN, K_INT, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF,
	K_VOLATILE, K_CONST, K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC,
	K_FLOAT, K_DECL_TAG, K_TYPE_TAG, K_ENUM64,
};

#define BTF_INT_BOOL	4	/* encoding bits of an INT's extra word */

/* Walk limits: libbpf's for size resolution (so that answers match), and
 * generous ones elsewhere that no real kernel comes near. */
#define MAX_RESOLVE_DEPTH	32	/* btf__resolve_size()'s */
#define MAX_MOD_CHAIN		256	/* typedefs and qualifiers in a row */
#define MAX_NESTING		64	/* anonymous members and path components */
#define MAX_MEMBER_VISITS	(1UL << 20)	/* members one look-up may look at */

static inline uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));	/* hdr_len need not keep records aligned */
	return v;
}

static inline uint32_t t_info(const unsigned char *t) { return rd32(t + 4); }
static inline unsigned t_kind(const unsigned char *t) { return (t_info(t) >> 24) & 0x1f; }
static inline unsigned t_vlen(const unsigned char *t) { return t_info(t) & 0xffff; }
static inline bool t_kflag(const unsigned char *t) { return t_info(t) >> 31; }
/* The size (INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT) or the type
 * referred to (the others) */
static inline uint32_t t_st(const unsigned char *t) { return rd32(t + 8); }
/* Kind-specific data after the record: INT's encoding word, ARRAY's
 * {type, index_type, nelems}, and the vlen entries of the others */
static inline const unsigned char *t_extra(const unsigned char *t) { return t + BTF_TYPE_REC; }

/* struct btf_member {name_off, type, offset}: offset holds the bit-field
 * size in its top 8 bits when the struct's kind_flag is set. */
static inline const unsigned char *t_member(const unsigned char *t, unsigned i)
{
	return t_extra(t) + 12 * (size_t)i;
}

static inline uint32_t member_bit_offset(const unsigned char *t, unsigned i)
{
	uint32_t off = rd32(t_member(t, i) + 8);

	return t_kflag(t) ? off & 0xffffff : off;
}

static inline uint32_t member_bitfield_size(const unsigned char *t, unsigned i)
{
	return t_kflag(t) ? rd32(t_member(t, i) + 8) >> 24 : 0;
}

/* Bytes of a record with its kind's data; 0 for a kind we do not know. */
static size_t type_rec_size(const unsigned char *t)
{
	size_t vlen = t_vlen(t);

	switch (t_kind(t)) {
	case K_PTR: case K_FWD: case K_TYPEDEF: case K_VOLATILE: case K_CONST:
	case K_RESTRICT: case K_FUNC: case K_FLOAT: case K_TYPE_TAG:
		return BTF_TYPE_REC;
	case K_INT: case K_VAR: case K_DECL_TAG:
		return BTF_TYPE_REC + 4;
	case K_ARRAY:
		return BTF_TYPE_REC + 12;
	case K_STRUCT: case K_UNION: case K_DATASEC: case K_ENUM64:
		return BTF_TYPE_REC + 12 * vlen;
	case K_ENUM: case K_FUNC_PROTO:
		return BTF_TYPE_REC + 8 * vlen;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

/* An enumerator: the type holding it and its index there (type 0: empty). */
struct enum_slot {
	uint32_t type;
	uint32_t index;
};

struct md_btf_types {
	unsigned char *data;		/* the whole section, ours */
	const unsigned char *types;	/* type records */
	const char *strs;		/* string section */
	uint32_t str_len;
	uint32_t *offs;			/* offs[id]: record of type id in types */
	uint32_t nr;			/* ids 1..nr-1 exist */
	uint32_t ptr_size;
	/* First type of each (kind, name) among the kinds find_type() asks:
	 * ids, 0 for an empty slot. */
	uint32_t *names;
	size_t names_mask;
	/* First enumerator of each name */
	struct enum_slot *enums;
	size_t enums_mask;
};

static const unsigned char void_type[BTF_TYPE_REC];	/* id 0: kind UNKN */

/* NULL for an id beyond the last; void for 0. */
static const unsigned char *type_by_id(const struct md_btf_types *bt, uint32_t id)
{
	if (id == 0)
		return void_type;
	if (id >= bt->nr)
		return NULL;
	return bt->types + bt->offs[id];
}

/* Offsets are checked when indexing; "" for a bad one all the same. */
static const char *str_at(const struct md_btf_types *bt, uint32_t off)
{
	return off < bt->str_len ? bt->strs + off : "";
}

static const char *type_name(const struct md_btf_types *bt, const unsigned char *t)
{
	return str_at(bt, rd32(t));
}

/* ------------------------------------------------------------------------ */
/* Indexing and checking a section                                          */

static struct md_error *bad(const char *path, const char *fmt, uint32_t a, uint32_t b)
{
	char what[160];

	snprintf(what, sizeof(what), fmt, a, b);
	return md_error_create(MD_ERR_FORMAT, "%s: bad .BTF section: %s", path, what);
}

static size_t table_mask(size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	return cap - 1;
}

static uint64_t name_hash(const char *name, unsigned kind)
{
	return (md_hash_bytes(name, strlen(name)) ^ kind) * 0x100000001b3ULL;
}

static bool indexed_kind(unsigned kind)
{
	switch (kind) {
	case K_STRUCT: case K_UNION: case K_ENUM: case K_ENUM64: case K_TYPEDEF:
	case K_INT: case K_FLOAT:
		return true;
	default:
		return false;
	}
}

/* The ids of records, each checked to lie within the type section and to
 * be of a known kind. */
static struct md_error *index_records(struct md_btf_types *bt, uint32_t type_len,
				      const char *path)
{
	size_t max = type_len / BTF_TYPE_REC + 1, pos = 0;
	uint32_t id = 1;

	bt->offs = malloc(max * sizeof(*bt->offs));
	if (!bt->offs)
		return md_error_nomem();
	bt->offs[0] = 0;
	while (pos < type_len) {
		const unsigned char *t = bt->types + pos;
		size_t len;

		if (type_len - pos < BTF_TYPE_REC)
			return bad(path, "%u bytes of garbage after type %u", type_len - pos, id - 1);
		if (!(len = type_rec_size(t)))
			return bad(path, "type %u has unknown kind %u", id, t_kind(t));
		if (len > type_len - pos)
			return bad(path, "type %u runs past the type section (%u bytes)", id, type_len);
		bt->offs[id++] = pos;
		pos += len;
	}
	bt->nr = id;
	return NULL;
}

#define CHECK_STR(off, what)							\
	do {									\
		if ((off) >= bt->str_len)					\
			return bad(path, "type %u: " what " at string offset %u, past the end", \
				   id, (off));					\
	} while (0)
#define CHECK_ID(ref)								\
	do {									\
		if ((ref) >= bt->nr)						\
			return bad(path, "type %u refers to type %u, which does not exist", \
				   id, (ref));					\
	} while (0)

/* Every string offset and type id a record holds, in range. */
static struct md_error *check_type(struct md_btf_types *bt, uint32_t id, const char *path)
{
	const unsigned char *t = type_by_id(bt, id), *x = t_extra(t);
	unsigned vlen = t_vlen(t);

	CHECK_STR(rd32(t), "name");
	switch (t_kind(t)) {
	case K_INT: case K_FWD: case K_FLOAT:
		break;
	case K_PTR: case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
	case K_FUNC: case K_VAR: case K_DECL_TAG: case K_TYPE_TAG:
		CHECK_ID(t_st(t));
		break;
	case K_ARRAY:
		CHECK_ID(rd32(x));
		CHECK_ID(rd32(x + 4));
		break;
	case K_STRUCT: case K_UNION:
		/* A member of type void is what zeroed bytes read as (the
		 * kernel's btf_struct_resolve() refuses it too): a struct
		 * that lost its members must not read as a kernel without
		 * them. */
		for (unsigned i = 0; i < vlen; i++, x += 12) {
			CHECK_STR(rd32(x), "member name");
			CHECK_ID(rd32(x + 4));
			if (!rd32(x + 4))
				return bad(path, "type %u: member %u is of type void (zeroed?)", id, i);
		}
		break;
	case K_ENUM:
	case K_ENUM64:
		/* every enumerator has a name (btf_enum_check_meta()) */
		for (unsigned i = 0; i < vlen; i++, x += t_kind(t) == K_ENUM ? 8 : 12) {
			CHECK_STR(rd32(x), "enumerator name");
			if (!rd32(x))
				return bad(path, "type %u: enumerator %u has no name (zeroed?)", id, i);
		}
		break;
	case K_FUNC_PROTO:
		CHECK_ID(t_st(t));
		for (unsigned i = 0; i < vlen; i++, x += 8) {
			CHECK_STR(rd32(x), "parameter name");
			CHECK_ID(rd32(x + 4));
		}
		break;
	case K_DATASEC:
		for (unsigned i = 0; i < vlen; i++, x += 12)
			CHECK_ID(rd32(x));
		break;
	}
	return NULL;
}

/* The type a size resolution goes on to from t, or 0 where it stops. */
static uint32_t chain_next(const unsigned char *t)
{
	switch (t_kind(t)) {
	case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
	case K_VAR: case K_DECL_TAG: case K_TYPE_TAG:
		return t_st(t);
	case K_ARRAY:
		return rd32(t_extra(t));
	default:
		return 0;
	}
}

/* No chain of typedefs, qualifiers, tags and array elements comes back on
 * itself (C cannot say that; damaged BTF could): each type has at most one
 * successor, so one walk per type with three colours finds every loop. */
static struct md_error *check_chains(struct md_btf_types *bt, const char *path)
{
	enum { NEW, ON_PATH, DONE };
	unsigned char *state = calloc(bt->nr, 1);
	uint32_t id;

	if (!state)
		return md_error_nomem();
	for (uint32_t start = 1; start < bt->nr; start++) {
		for (id = start; id && state[id] == NEW; id = chain_next(type_by_id(bt, id)))
			state[id] = ON_PATH;
		if (id && state[id] == ON_PATH) {
			free(state);
			return bad(path, "type %u is part of a typedef/qualifier/array loop", id, 0);
		}
		for (id = start; id && state[id] == ON_PATH; id = chain_next(type_by_id(bt, id)))
			state[id] = DONE;
	}
	free(state);
	return NULL;
}

static struct md_error *index_names(struct md_btf_types *bt)
{
	size_t n = 0, ne = 0;

	for (uint32_t id = 1; id < bt->nr; id++) {
		const unsigned char *t = type_by_id(bt, id);

		n += indexed_kind(t_kind(t));
		if (t_kind(t) == K_ENUM || t_kind(t) == K_ENUM64)
			ne += t_vlen(t);
	}
	bt->names_mask = table_mask(n);
	bt->enums_mask = table_mask(ne);
	bt->names = calloc(bt->names_mask + 1, sizeof(*bt->names));
	bt->enums = calloc(bt->enums_mask + 1, sizeof(*bt->enums));
	if (!bt->names || !bt->enums)
		return md_error_nomem();
	/* In id order, keeping the first of a name as libbpf's linear search
	 * found it. */
	for (uint32_t id = 1; id < bt->nr; id++) {
		const unsigned char *t = type_by_id(bt, id);
		unsigned kind = t_kind(t);

		if (indexed_kind(kind)) {
			const char *name = type_name(bt, t);
			size_t i = name_hash(name, kind) & bt->names_mask;
			const unsigned char *o;

			for (; bt->names[i]; i = (i + 1) & bt->names_mask) {
				o = type_by_id(bt, bt->names[i]);
				if (t_kind(o) == kind && !strcmp(type_name(bt, o), name))
					break;
			}
			if (!bt->names[i])
				bt->names[i] = id;
		}
		if (kind == K_ENUM || kind == K_ENUM64) {
			size_t step = kind == K_ENUM ? 8 : 12;

			for (unsigned k = 0; k < t_vlen(t); k++) {
				const char *name = str_at(bt, rd32(t_extra(t) + step * k));
				size_t i = md_hash_bytes(name, strlen(name)) & bt->enums_mask;

				for (; bt->enums[i].type; i = (i + 1) & bt->enums_mask) {
					const struct enum_slot *s = &bt->enums[i];
					const unsigned char *o = type_by_id(bt, s->type);
					size_t ostep = t_kind(o) == K_ENUM ? 8 : 12;

					if (!strcmp(str_at(bt, rd32(t_extra(o) + ostep * s->index)), name))
						break;
				}
				if (!bt->enums[i].type)
					bt->enums[i] = (struct enum_slot){ id, k };
			}
		}
	}
	return NULL;
}

/* libbpf's guess when no ELF header says it: the size of a "long". */
static uint32_t guess_ptr_size(const struct md_btf_types *bt)
{
	static const char *const longs[] = {
		"long", "long int", "int long", "unsigned long", "long unsigned",
		"unsigned long int", "unsigned int long", "long unsigned int",
		"long int unsigned", "int unsigned long", "int long unsigned",
	};

	for (uint32_t id = 1; id < bt->nr; id++) {
		const unsigned char *t = type_by_id(bt, id);

		if (t_kind(t) != K_INT || (t_st(t) != 4 && t_st(t) != 8))
			continue;
		for (size_t j = 0; j < sizeof(longs) / sizeof(longs[0]); j++)
			if (!strcmp(type_name(bt, t), longs[j]))
				return t_st(t);
	}
	return 8;	/* x86-64's */
}

static void btf_free(struct md_btf_types *bt)
{
	free(bt->data);
	free(bt->offs);
	free(bt->names);
	free(bt->enums);
	free(bt);
}

/* Index data (size bytes, malloc'ed: taken, freed on error). */
static struct md_error *parse(unsigned char *data, size_t size, const char *path,
			      uint32_t ptr_size, struct md_btf_types **ret)
{
	struct md_btf_types *bt = calloc(1, sizeof(*bt));
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
	uint16_t magic;
	struct md_error *err = NULL;

	if (!bt) {
		free(data);
		return md_error_nomem();
	}
	bt->data = data;
	if (size < BTF_HDR_MIN) {
		err = bad(path, "%u bytes, too short for a header", size, 0);
		goto fail;
	}
	memcpy(&magic, data, sizeof(magic));
	if (magic == BTF_MAGIC_SWAPPED) {
		err = md_error_create(MD_ERR_FORMAT, "%s: bad .BTF section: byte-swapped "
				      "(big-endian) BTF is not supported", path);
		goto fail;
	}
	if (magic != BTF_MAGIC_NATIVE) {
		err = bad(path, "magic 0x%04x, not 0xeb9f", magic, 0);
		goto fail;
	}
	if (data[2] != 1) {
		err = bad(path, "version %u, not 1", data[2], 0);
		goto fail;
	}
	hdr_len = rd32(data + 4);
	type_off = rd32(data + 8);
	type_len = rd32(data + 12);
	str_off = rd32(data + 16);
	str_len = rd32(data + 20);
	if (hdr_len < BTF_HDR_MIN || hdr_len > size) {
		err = bad(path, "header length %u (section of %u bytes)", hdr_len, size);
		goto fail;
	}
	if ((uint64_t)type_off + type_len > size - hdr_len ||
	    (uint64_t)str_off + str_len > size - hdr_len) {
		err = bad(path, "types or strings past the section's end (%u + %u bytes)",
			  hdr_len, size - hdr_len);
		goto fail;
	}
	if (type_len && str_len && type_off < (uint64_t)str_off + str_len &&
	    str_off < (uint64_t)type_off + type_len) {
		err = bad(path, "types at %u overlap strings at %u", type_off, str_off);
		goto fail;
	}
	bt->types = data + hdr_len + type_off;
	bt->strs = (const char *)data + hdr_len + str_off;
	bt->str_len = str_len;
	if (!str_len || bt->strs[0] || bt->strs[str_len - 1]) {
		err = bad(path, "string section (%u bytes) does not start and end with NUL",
			  str_len, 0);
		goto fail;
	}
	/* Every string is unique and none empty but the first: NULs in a row
	 * are damage (a zeroed page), and would turn names into "". */
	for (const char *p = bt->strs + 1; (p = memchr(p, '\0', bt->strs + str_len - 1 - p)); p++) {
		if (!p[1]) {
			err = bad(path, "string section has NULs in a row at offset %u (zeroed?)",
				  (uint32_t)(p - bt->strs), 0);
			goto fail;
		}
	}
	if ((err = index_records(bt, type_len, path)))
		goto fail;
	for (uint32_t id = 1; id < bt->nr; id++)
		if ((err = check_type(bt, id, path)))
			goto fail;
	if ((err = check_chains(bt, path)) || (err = index_names(bt)))
		goto fail;
	bt->ptr_size = ptr_size ? ptr_size : guess_ptr_size(bt);
	*ret = bt;
	return NULL;
fail:
	btf_free(bt);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Look-ups                                                                 */

/* btf__find_by_name_kind(): the first id of that kind and name; 0 for
 * "void", -1 if none.  Only the kinds indexed_kind() lists. */
static int64_t find_by_name_kind(const struct md_btf_types *bt, const char *name, unsigned kind)
{
	size_t i;

	if (!strcmp(name, "void"))
		return 0;
	for (i = name_hash(name, kind) & bt->names_mask; bt->names[i];
	     i = (i + 1) & bt->names_mask) {
		const unsigned char *t = type_by_id(bt, bt->names[i]);

		if (t_kind(t) == kind && !strcmp(type_name(bt, t), name))
			return bt->names[i];
	}
	return -1;
}

/* btf__resolve_size(): through typedefs, qualifiers, tags and arrays to a
 * sized type; negative if there is none (void, a declaration, a function),
 * the chain is too long or the size overflows 32 bits. */
static int64_t resolve_size(const struct md_btf_types *bt, uint32_t id)
{
	const unsigned char *t = type_by_id(bt, id);
	uint32_t nelems = 1;
	int64_t size = -1;

	for (int depth = 0; depth < MAX_RESOLVE_DEPTH && t && t_kind(t) != K_UNKN &&
			    t_kind(t) != K_FWD; depth++) {
		switch (t_kind(t)) {
		case K_INT: case K_STRUCT: case K_UNION: case K_ENUM: case K_ENUM64:
		case K_DATASEC: case K_FLOAT:
			size = t_st(t);
			goto done;
		case K_PTR:
			size = bt->ptr_size;
			goto done;
		case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
		case K_VAR: case K_DECL_TAG: case K_TYPE_TAG:
			id = t_st(t);
			break;
		case K_ARRAY: {
			uint32_t n = rd32(t_extra(t) + 8);

			if (nelems && n > UINT32_MAX / nelems)
				return -1;
			nelems *= n;
			id = rd32(t_extra(t));
			break;
		}
		default:	/* FUNC, FUNC_PROTO */
			return -1;
		}
		t = type_by_id(bt, id);
	}
done:
	if (size < 0 || (nelems && size > UINT32_MAX / nelems))
		return -1;
	return (int64_t)nelems * size;
}

/* Typedefs and qualifiers say nothing about layout: look through them.
 * NULL past a chain no real kernel has. */
static const unsigned char *skip_mods(const struct md_btf_types *bt, uint32_t id)
{
	const unsigned char *t = type_by_id(bt, id);

	for (int n = 0; t; n++) {
		switch (t_kind(t)) {
		case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT: case K_TYPE_TAG:
			if (n == MAX_MOD_CHAIN)
				return NULL;
			t = type_by_id(bt, t_st(t));
			continue;
		}
		break;
	}
	return t;
}

static bool is_composite(const unsigned char *t)
{
	return t && (t_kind(t) == K_STRUCT || t_kind(t) == K_UNION);
}

/* The BTF id of a type spelled as the core spells it (lib/types.h); 0 or
 * negative if none. */
static int64_t find_type(const struct md_btf_types *bt, const char *type)
{
	static const unsigned untagged[] = { K_TYPEDEF, K_INT, K_FLOAT };
	static const unsigned tags[] = { K_STRUCT, K_UNION, K_ENUM };
	enum md_type_tag tag;
	const char *name = md_type_spelling(type, &tag);
	int64_t id;

	switch (tag) {
	case MD_TAG_STRUCT: return find_by_name_kind(bt, name, K_STRUCT);
	case MD_TAG_UNION: return find_by_name_kind(bt, name, K_UNION);
	case MD_TAG_ENUM:
		id = find_by_name_kind(bt, name, K_ENUM);
		return id < 0 ? find_by_name_kind(bt, name, K_ENUM64) : id;
	case MD_TAG_NONE:
		break;
	}
	for (size_t i = 0; i < sizeof(untagged) / sizeof(untagged[0]); i++)
		if ((id = find_by_name_kind(bt, name, untagged[i])) > 0)
			return id;
	/* A bare tag, as crash's STRUCT_SIZE("kmem_cache") takes it. */
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if ((id = find_by_name_kind(bt, name, tags[i])) > 0)
			return id;
	return -1;
}

struct md_error *md_btf_type_size(struct md_btf_types *bt, const char *type, uint64_t *ret)
{
	int64_t size = -1, id;

	if (md_type_is_pointer(type))
		size = bt->ptr_size;
	else if ((id = find_type(bt, type)) > 0)
		size = resolve_size(bt, (uint32_t)id);
	if (size < 0)
		return md_error_create(MD_ERR_LOOKUP, "no type %s", type);
	*ret = (uint64_t)size;
	return NULL;
}

/* Where a member of one struct/union member's layout really is: BTF without
 * kind_flag keeps a bit-field's position in its int type. */
static void member_layout(const struct md_btf_types *bt, const unsigned char *t, unsigned i,
			  uint64_t base, struct md_member *ret)
{
	uint32_t type = rd32(t_member(t, i) + 4);
	const unsigned char *mt = skip_mods(bt, type);
	int64_t size = resolve_size(bt, type);

	ret->bit_offset = base + member_bit_offset(t, i);
	ret->bit_size = member_bitfield_size(t, i);
	ret->size = size > 0 ? (uint64_t)size : 0;
	if (!t_kflag(t) && mt && t_kind(mt) == K_INT) {
		uint32_t enc = rd32(t_extra(mt));
		uint32_t bits = enc & 0xff, offset = (enc >> 16) & 0xff;

		if (((enc >> 24) & 0x0f) != BTF_INT_BOOL && bits < (uint32_t)(t_st(mt) * 8u)) {
			ret->bit_offset += offset;
			ret->bit_size = bits;
		}
	}
}

/* One member look-up: its bounds against damaged BTF. */
struct member_walk {
	const struct md_btf_types *bt;
	unsigned long visits;
};

/* Find the dotted path in composite type id, looking into unnamed members
 * as C does.  0 if found, -ENOENT if not, -ENOTDIR if a path component
 * before the last is no struct or union, -ELOOP past the walk's bounds. */
static int find_member(struct member_walk *w, uint32_t id, const char *path, uint64_t base,
		       int depth, struct md_member *ret)
{
	const struct md_btf_types *bt = w->bt;
	const unsigned char *t = skip_mods(bt, id);
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);

	if (!is_composite(t))
		return -ENOTDIR;
	if (depth >= MAX_NESTING)
		return -ELOOP;
	for (unsigned i = 0; i < t_vlen(t); i++) {
		const unsigned char *m = t_member(t, i);
		const char *name = str_at(bt, rd32(m));
		uint64_t bit = base + member_bit_offset(t, i);
		int r;

		if (++w->visits > MAX_MEMBER_VISITS)
			return -ELOOP;
		if (!*name) {
			if (is_composite(skip_mods(bt, rd32(m + 4))) &&
			    (r = find_member(w, rd32(m + 4), path, bit, depth + 1, ret)) != -ENOENT)
				return r;
			continue;
		}
		if (strlen(name) != n || memcmp(name, path, n))
			continue;
		if (dot)
			return find_member(w, rd32(m + 4), dot + 1, bit, depth + 1, ret);
		member_layout(bt, t, i, base, ret);
		return 0;
	}
	return -ENOENT;
}

struct md_error *md_btf_member(struct md_btf_types *bt, const char *type, const char *member,
			       struct md_member *ret)
{
	struct member_walk w = { bt, 0 };
	int64_t id = find_type(bt, type);
	int r = -ENOENT;

	if (id > 0 && *member)
		r = find_member(&w, (uint32_t)id, member, 0, 0, ret);
	if (r == -ELOOP)
		return md_error_create(MD_ERR_FORMAT, "bad BTF: %s nests too deeply to find %s",
				       type, member);
	if (r)
		return md_error_create(MD_ERR_LOOKUP, "%s has no member %s", type, member);
	return NULL;
}

/* The first enumerator of that name in any enum, 32- or 64-bit. */
static bool find_enumerator(const struct md_btf_types *bt, const char *name, int64_t *ret)
{
	for (size_t i = md_hash_bytes(name, strlen(name)) & bt->enums_mask; bt->enums[i].type;
	     i = (i + 1) & bt->enums_mask) {
		const unsigned char *t = type_by_id(bt, bt->enums[i].type);
		const unsigned char *e;

		if (t_kind(t) == K_ENUM) {
			e = t_extra(t) + 8 * (size_t)bt->enums[i].index;
			if (strcmp(str_at(bt, rd32(e)), name))
				continue;
			/* kind_flag marks a signed enum */
			*ret = t_kflag(t) ? (int64_t)(int32_t)rd32(e + 4) : (int64_t)rd32(e + 4);
		} else {
			e = t_extra(t) + 12 * (size_t)bt->enums[i].index;
			if (strcmp(str_at(bt, rd32(e)), name))
				continue;
			*ret = (int64_t)((uint64_t)rd32(e + 8) << 32 | rd32(e + 4));
		}
		return true;
	}
	return false;
}

struct md_error *md_btf_enumerator(struct md_btf_types *bt, const char *name, int64_t *ret)
{
	if (!*name || !find_enumerator(bt, name, ret))
		return md_error_create(MD_ERR_LOOKUP, "no enumerator %s", name);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

struct md_error *md_btf_types_from_buffer(void *data, size_t size, const char *path,
					  struct md_btf_types **ret)
{
	if (size > UINT32_MAX) {	/* BTF's offsets are 32-bit */
		free(data);
		return md_error_create(MD_ERR_FORMAT, "%s: bad .BTF section: %zu bytes, too big",
				       path, size);
	}
	return parse(data, size, path, 0, ret);
}

struct md_error *md_btf_types_from_data(const void *data, size_t size, const char *path,
					struct md_btf_types **ret)
{
	unsigned char *copy = malloc(size ? size : 1);

	if (!copy)
		return md_error_nomem();
	if (size)
		memcpy(copy, data, size);
	return md_btf_types_from_buffer(copy, size, path, ret);
}

/* len bytes at off, all of them: 0, or -1 with errno (0: the file ended). */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static struct md_error *read_error(const char *path, const char *what)
{
	if (errno)
		return md_error_create(MD_ERR_OS, "%s: cannot read %s: %s", path, what,
				       strerror(errno));
	return md_error_create(MD_ERR_FORMAT, "%s: truncated: its %s is cut off", path, what);
}

/* Within a file of fsize bytes? */
static bool in_file(uint64_t off, uint64_t len, uint64_t fsize)
{
	return off <= fsize && len <= fsize - off;
}

/* Far beyond any vmlinux (about a hundred sections, names in a few kB):
 * a header saying more is damaged, and we would not allocate for it. */
#define MAX_SECTIONS		(1 << 20)
#define MAX_SECTION_NAMES	(16 << 20)

/* The .BTF section of the ELF file fd: its bytes (malloc'ed) into *ret. */
static struct md_error *read_btf_section(int fd, const char *path, uint64_t fsize,
					 unsigned char **ret, size_t *ret_size)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL, first;
	unsigned char *table = NULL;
	char *names = NULL;
	uint64_t shnum, shstrndx, names_size;
	const Elf64_Shdr *btf = NULL;
	struct md_error *err = NULL;

	if (fsize < sizeof(eh))
		return md_error_create(MD_ERR_FORMAT, "%s: not an ELF file", path);
	if (pread_full(fd, &eh, sizeof(eh), 0))
		return read_error(path, "ELF header");
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return md_error_create(MD_ERR_FORMAT, "%s: not an ELF file", path);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return md_error_create(MD_ERR_FORMAT, "%s: not a 64-bit little-endian ELF file",
				       path);
	if (!eh.e_shoff)
		return md_error_create(MD_ERR_LOOKUP, "%s has no .BTF section (no sections)", path);
	if (eh.e_shentsize < sizeof(Elf64_Shdr) || !in_file(eh.e_shoff, sizeof(first), fsize))
		return md_error_create(MD_ERR_FORMAT, "%s: truncated or bad ELF file: section "
				       "headers at 0x%llx", path, (unsigned long long)eh.e_shoff);
	/* Over 0xff00 sections, the first header holds the count and index */
	if (pread_full(fd, &first, sizeof(first), eh.e_shoff))
		return read_error(path, "section headers");
	shnum = eh.e_shnum ? eh.e_shnum : first.sh_size;
	shstrndx = eh.e_shstrndx == SHN_XINDEX ? first.sh_link : eh.e_shstrndx;
	if (!shnum || shnum > MAX_SECTIONS || shnum > fsize / eh.e_shentsize ||
	    !in_file(eh.e_shoff, shnum * eh.e_shentsize, fsize) || shstrndx >= shnum)
		return md_error_create(MD_ERR_FORMAT, "%s: truncated or bad ELF file: %llu section "
				       "headers at 0x%llx, names in %llu", path,
				       (unsigned long long)shnum, (unsigned long long)eh.e_shoff,
				       (unsigned long long)shstrndx);
	/* The table as it is, then each header where it begins */
	if (!(table = malloc(shnum * eh.e_shentsize)) || !(sh = malloc(shnum * sizeof(*sh)))) {
		err = md_error_nomem();
		goto out;
	}
	if (pread_full(fd, table, shnum * eh.e_shentsize, eh.e_shoff)) {
		err = read_error(path, "section headers");
		goto out;
	}
	for (uint64_t i = 0; i < shnum; i++)
		memcpy(&sh[i], table + i * eh.e_shentsize, sizeof(*sh));
	names_size = sh[shstrndx].sh_size;
	if (sh[shstrndx].sh_type == SHT_NOBITS || names_size > MAX_SECTION_NAMES ||
	    !in_file(sh[shstrndx].sh_offset, names_size, fsize)) {
		err = md_error_create(MD_ERR_FORMAT, "%s: truncated or bad ELF file: section "
				      "names (%llu bytes at 0x%llx)", path,
				      (unsigned long long)names_size,
				      (unsigned long long)sh[shstrndx].sh_offset);
		goto out;
	}
	if (!(names = malloc(names_size + 1))) {
		err = md_error_nomem();
		goto out;
	}
	if (pread_full(fd, names, names_size, sh[shstrndx].sh_offset)) {
		err = read_error(path, "section names");
		goto out;
	}
	names[names_size] = '\0';
	for (uint64_t i = 0; i < shnum; i++) {
		if (sh[i].sh_name >= names_size && (i || sh[i].sh_name)) {
			err = md_error_create(MD_ERR_FORMAT, "%s: bad ELF file: section %llu's name "
					      "at %u, past the names' end", path,
					      (unsigned long long)i, sh[i].sh_name);
			goto out;
		}
		if (sh[i].sh_name < names_size && !strcmp(names + sh[i].sh_name, ".BTF"))
			btf = &sh[i];	/* the last, as libbpf took it */
	}
	if (!btf) {
		err = md_error_create(MD_ERR_LOOKUP, "%s has no .BTF section", path);
		goto out;
	}
	if (btf->sh_type == SHT_NOBITS || (btf->sh_flags & SHF_COMPRESSED) ||
	    btf->sh_size > UINT32_MAX || !in_file(btf->sh_offset, btf->sh_size, fsize)) {
		err = md_error_create(MD_ERR_FORMAT, "%s: bad .BTF section: %llu bytes at 0x%llx%s",
				      path, (unsigned long long)btf->sh_size,
				      (unsigned long long)btf->sh_offset,
				      btf->sh_type == SHT_NOBITS ? ", not in the file" :
				      btf->sh_flags & SHF_COMPRESSED ? ", compressed" :
				      ", past the file's end");
		goto out;
	}
	if (!(*ret = malloc(btf->sh_size ? btf->sh_size : 1))) {
		err = md_error_nomem();
		goto out;
	}
	if (pread_full(fd, *ret, btf->sh_size, btf->sh_offset)) {
		err = read_error(path, ".BTF section");
		free(*ret);
		goto out;
	}
	*ret_size = btf->sh_size;
out:
	free(names);
	free(sh);
	free(table);
	return err;
}

struct md_error *md_btf_types_open(const char *path, struct md_btf_types **ret)
{
	struct md_error *err;
	unsigned char *data = NULL;
	struct stat st;
	size_t size = 0;
	int fd;

	/* O_NONBLOCK: a FIFO must not hang the open; it is no vmlinux anyway */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)	/* as libbpf answered: nothing to use */
			return md_error_create(MD_ERR_LOOKUP, "%s has no .BTF section: %s", path,
					       strerror(errno));
		return md_error_create(MD_ERR_OS, "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &st)) {
		err = md_error_create(MD_ERR_OS, "%s: cannot stat: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		err = md_error_create(MD_ERR_FORMAT, "%s: not a regular file", path);
	} else {
		err = read_btf_section(fd, path, (uint64_t)st.st_size, &data, &size);
	}
	close(fd);
	if (err)
		return err;
	return parse(data, size, path, 8, ret);	/* ELF64: 8-byte pointers */
}

void md_btf_types_destroy(struct md_btf_types *bt)
{
	if (!bt)
		return;
	btf_free(bt);
}
