/* Kernel types from a vmlinux's BTF (the .BTF section, CONFIG_DEBUG_INFO_BTF),
 * for the front ends' targets: sizes, members (through anonymous structs and
 * unions, bit-fields placed exactly) and enumerators, as lib/target.h asks.
 *
 * BTF is a few MB of a vmlinux of hundreds and needs no DWARF walk, so a
 * look-up costs microseconds.  Every answer, found or not, is cached: the
 * core asks the same questions repeatedly and probes for members that some
 * kernels lack.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "btf_types.h"
#include "hash.h"

enum cache_kind { C_SIZE = 's', C_MEMBER = 'm', C_ENUM = 'e' };

struct cache_entry {
	char *key;		/* kind, type, NUL, member */
	size_t klen;
	bool found;
	union {
		uint64_t size;
		struct md_member member;
		int64_t value;
	} u;
};

struct md_btf_types {
	struct btf *btf;
	struct cache_entry *cache;
	size_t cache_cap, cache_len;
};

/* ------------------------------------------------------------------------ */
/* Answer cache                                                             */

static size_t cache_key(enum cache_kind kind, const char *a, const char *b, char **ret)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	char *k = malloc(la + lb + 2);

	*ret = k;
	if (!k)
		return 0;
	k[0] = kind;
	memcpy(k + 1, a, la + 1);
	memcpy(k + la + 2, b ? b : "", lb);
	return la + lb + 2;
}

static struct cache_entry *cache_slot(struct cache_entry *slots, size_t cap,
				      const char *key, size_t klen)
{
	size_t i = md_hash_bytes(key, klen) & (cap - 1);

	while (slots[i].key && (slots[i].klen != klen || memcmp(slots[i].key, key, klen)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static struct cache_entry *cache_find(struct md_btf_types *bt, const char *key, size_t klen)
{
	struct cache_entry *e;

	if (!bt->cache)
		return NULL;
	e = cache_slot(bt->cache, bt->cache_cap, key, klen);
	return e->key ? e : NULL;
}

static bool cache_grow(struct md_btf_types *bt)
{
	size_t cap = bt->cache_cap ? bt->cache_cap * 2 : 256;
	struct cache_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < bt->cache_cap; i++) {
		struct cache_entry *e = &bt->cache[i];

		if (e->key)
			*cache_slot(slots, cap, e->key, e->klen) = *e;
	}
	free(bt->cache);
	bt->cache = slots;
	bt->cache_cap = cap;
	return true;
}

/* Stores e, taking its key; false (key freed) if out of memory. */
static bool cache_add(struct md_btf_types *bt, struct cache_entry *e)
{
	if (2 * (bt->cache_len + 1) > bt->cache_cap && !cache_grow(bt)) {
		free(e->key);
		return false;
	}
	*cache_slot(bt->cache, bt->cache_cap, e->key, e->klen) = *e;
	bt->cache_len++;
	return true;
}

/* Typedefs and qualifiers say nothing about layout: look through them. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id, uint32_t *ret_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (ret_id)
		*ret_id = id;
	return t;
}

/* C's spellings of base types as BTF (from DWARF) names them. */
static const char *base_type_name(const char *name)
{
	static const char *const alias[][2] = {
		{ "unsigned", "unsigned int" },
		{ "long", "long int" },
		{ "unsigned long", "long unsigned int" },
		{ "long long", "long long int" },
		{ "unsigned long long", "long long unsigned int" },
		{ "short", "short int" },
		{ "unsigned short", "short unsigned int" },
		{ "signed char", "signed char" },
		{ "bool", "_Bool" },
	};

	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(name, alias[i][0]))
			return alias[i][1];
	return name;
}

/* The BTF id of a type spelled as in C ("struct x", "enum y", "u64");
 * negative if none. */
static int find_type(const struct btf *btf, const char *type)
{
	static const struct { const char *word; int kind; } tagged[] = {
		{ "struct", BTF_KIND_STRUCT }, { "union", BTF_KIND_UNION }, { "enum", BTF_KIND_ENUM },
	};
	static const int untagged[] = { BTF_KIND_TYPEDEF, BTF_KIND_INT, BTF_KIND_FLOAT };
	int id;

	while (*type == ' ')
		type++;
	for (size_t i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++) {
		size_t n = strlen(tagged[i].word);
		const char *name = type + n;

		if (strncmp(type, tagged[i].word, n) || *name != ' ')
			continue;
		while (*name == ' ')
			name++;
		id = btf__find_by_name_kind(btf, name, tagged[i].kind);
		if (id < 0 && tagged[i].kind == BTF_KIND_ENUM)
			id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
		return id;
	}
	type = base_type_name(type);
	for (size_t i = 0; i < sizeof(untagged) / sizeof(untagged[0]); i++)
		if ((id = btf__find_by_name_kind(btf, type, untagged[i])) > 0)
			return id;
	/* A bare tag, as crash's STRUCT_SIZE("kmem_cache") takes it. */
	for (size_t i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++)
		if ((id = btf__find_by_name_kind(btf, type, tagged[i].kind)) > 0)
			return id;
	return -1;
}

static bool looks_like_pointer(const char *type)
{
	size_t n = strlen(type);

	while (n && type[n - 1] == ' ')
		n--;
	return n && type[n - 1] == '*';
}

struct md_error *md_btf_type_size(struct md_btf_types *bt, const char *type, uint64_t *ret)
{
	struct cache_entry e = { 0 }, *hit;
	long long size = -1;
	int id;

	e.klen = cache_key(C_SIZE, type, NULL, &e.key);
	if (!e.key)
		return md_error_nomem();
	if ((hit = cache_find(bt, e.key, e.klen))) {
		free(e.key);
		goto answer;
	}
	if (looks_like_pointer(type))
		size = btf__pointer_size(bt->btf);
	else if ((id = find_type(bt->btf, type)) > 0)
		size = btf__resolve_size(bt->btf, id);
	e.found = size >= 0;
	e.u.size = e.found ? (uint64_t)size : 0;
	hit = &e;
	if (!cache_add(bt, &e))
		return md_error_nomem();
answer:
	if (!hit->found)
		return md_error_create(MD_ERR_LOOKUP, "no type %s", type);
	*ret = hit->u.size;
	return NULL;
}

/* Where a member of one struct/union member's layout really is: BTF without
 * kind_flag keeps a bit-field's position in its int type. */
static void member_layout(const struct btf *btf, const struct btf_type *t, int i,
			  uint64_t base, struct md_member *ret)
{
	const struct btf_member *m = btf_members(t) + i;
	const struct btf_type *mt = skip_mods(btf, m->type, NULL);
	long long size = btf__resolve_size(btf, m->type);

	ret->bit_offset = base + btf_member_bit_offset(t, i);
	ret->bit_size = btf_member_bitfield_size(t, i);
	ret->size = size > 0 ? (uint64_t)size : 0;
	if (!btf_kflag(t) && mt && btf_is_int(mt) && btf_int_encoding(mt) != BTF_INT_BOOL &&
	    btf_int_bits(mt) < mt->size * 8) {
		ret->bit_offset += btf_int_offset(mt);
		ret->bit_size = btf_int_bits(mt);
	}
}

/* Find the dotted path in composite type id, looking into unnamed members
 * as C does.  0 if found, -ENOENT if not, -ENOTDIR if a path component
 * before the last is no struct or union. */
static int find_member(const struct btf *btf, uint32_t id, const char *path, uint64_t base,
		       struct md_member *ret)
{
	const struct btf_type *t = skip_mods(btf, id, &id);
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);

	if (!t || !btf_is_composite(t))
		return -ENOTDIR;
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = btf_members(t) + i;
		const char *name = btf__name_by_offset(btf, m->name_off);
		uint64_t bit = base + btf_member_bit_offset(t, i);
		int r;

		if (!name || !*name) {
			const struct btf_type *mt = skip_mods(btf, m->type, NULL);

			if (mt && btf_is_composite(mt) &&
			    (r = find_member(btf, m->type, path, bit, ret)) != -ENOENT)
				return r;
			continue;
		}
		if (strlen(name) != n || memcmp(name, path, n))
			continue;
		if (dot)
			return find_member(btf, m->type, dot + 1, bit, ret);
		member_layout(btf, t, i, base, ret);
		return 0;
	}
	return -ENOENT;
}

struct md_error *md_btf_member(struct md_btf_types *bt, const char *type, const char *member,
				  struct md_member *ret)
{
	struct cache_entry e = { 0 }, *hit;
	int id;

	e.klen = cache_key(C_MEMBER, type, member, &e.key);
	if (!e.key)
		return md_error_nomem();
	if ((hit = cache_find(bt, e.key, e.klen))) {
		free(e.key);
		goto answer;
	}
	id = find_type(bt->btf, type);
	e.found = id > 0 && *member && find_member(bt->btf, id, member, 0, &e.u.member) == 0;
	hit = &e;
	if (!cache_add(bt, &e))
		return md_error_nomem();
answer:
	if (!hit->found)
		return md_error_create(MD_ERR_LOOKUP, "%s has no member %s", type, member);
	*ret = hit->u.member;
	return NULL;
}

/* Every enum, 32- and 64-bit: the core asks for a handful, each cached. */
static bool find_enumerator(const struct btf *btf, const char *name, int64_t *ret)
{
	uint32_t n = btf__type_cnt(btf);

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (int i = 0; i < btf_vlen(t); i++, e++) {
				if (strcmp(btf__name_by_offset(btf, e->name_off), name))
					continue;
				/* kind_flag marks a signed enum */
				*ret = btf_kflag(t) ? (int64_t)e->val : (int64_t)(uint32_t)e->val;
				return true;
			}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (int i = 0; i < btf_vlen(t); i++, e++) {
				if (strcmp(btf__name_by_offset(btf, e->name_off), name))
					continue;
				*ret = (int64_t)btf_enum64_value(e);
				return true;
			}
		}
	}
	return false;
}

struct md_error *md_btf_enumerator(struct md_btf_types *bt, const char *name, int64_t *ret)
{
	struct cache_entry e = { 0 }, *hit;

	e.klen = cache_key(C_ENUM, name, NULL, &e.key);
	if (!e.key)
		return md_error_nomem();
	if ((hit = cache_find(bt, e.key, e.klen))) {
		free(e.key);
		goto answer;
	}
	e.found = *name && find_enumerator(bt->btf, name, &e.u.value);
	hit = &e;
	if (!cache_add(bt, &e))
		return md_error_nomem();
answer:
	if (!hit->found)
		return md_error_create(MD_ERR_LOOKUP, "no enumerator %s", name);
	*ret = hit->u.value;
	return NULL;
}

struct md_error *md_btf_types_from_data(const void *data, size_t size, const char *path,
					struct md_btf_types **ret)
{
	struct md_btf_types *bt = calloc(1, sizeof(*bt));

	if (!bt)
		return md_error_nomem();
	bt->btf = btf__new(data, size);	/* copies and checks it */
	if (!bt->btf) {
		int e = errno;

		free(bt);
		return md_error_create(MD_ERR_FORMAT, "%s: bad .BTF section: %s", path, strerror(e));
	}
	*ret = bt;
	return NULL;
}

struct md_error *md_btf_types_open(const char *path, struct md_btf_types **ret)
{
	struct md_btf_types *bt = calloc(1, sizeof(*bt));
	int e;

	if (!bt)
		return md_error_nomem();
	bt->btf = btf__parse_elf(path, NULL);	/* libbpf 1.x: NULL and errno */
	if (!bt->btf) {
		e = errno;
		free(bt);
		if (e == ENOENT)
			return md_error_create(MD_ERR_LOOKUP, "%s has no .BTF section", path);
		return md_error_create(MD_ERR_FORMAT, "%s: cannot read its BTF: %s", path,
				       strerror(e));
	}
	*ret = bt;
	return NULL;
}

void md_btf_types_destroy(struct md_btf_types *bt)
{
	if (!bt)
		return;
	for (size_t i = 0; i < bt->cache_cap; i++)
		free(bt->cache[i].key);
	free(bt->cache);
	btf__free(bt->btf);
	free(bt);
}
