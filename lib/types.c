/* Kernel types from BTF or DWARF (see types.h).
 *
 * Every answer, found or not, is cached here: the core asks the same
 * questions repeatedly and probes for members that some kernels lack, and
 * a DWARF answer costs libdw's decoding of a struct's members.  Errors
 * other than "not found" (a damaged section) are not cached: they are
 * said every time. */
#include <stdlib.h>
#include <string.h>

#include "dwarf_types.h"
#include "hash.h"
#include "types.h"

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

struct md_types {
	struct md_btf_types *btf;	/* one of the two */
	struct md_dwarf_types *dwarf;
	struct cache_entry *cache;
	size_t cache_cap, cache_len;
};

/* ------------------------------------------------------------------------ */
/* Spellings                                                                */

/* C's spellings of base types as DWARF names them. */
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

const char *md_type_spelling(const char *type, enum md_type_tag *tag)
{
	static const struct { const char *word; enum md_type_tag tag; } tagged[] = {
		{ "struct", MD_TAG_STRUCT }, { "union", MD_TAG_UNION }, { "enum", MD_TAG_ENUM },
	};

	while (*type == ' ')
		type++;
	for (size_t i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++) {
		size_t n = strlen(tagged[i].word);
		const char *name = type + n;

		if (strncmp(type, tagged[i].word, n) || *name != ' ')
			continue;
		while (*name == ' ')
			name++;
		*tag = tagged[i].tag;
		return name;
	}
	*tag = MD_TAG_NONE;
	return base_type_name(type);
}

bool md_type_is_pointer(const char *type)
{
	size_t n = strlen(type);

	while (n && type[n - 1] == ' ')
		n--;
	return n && type[n - 1] == '*';
}

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

static struct cache_entry *cache_find(struct md_types *t, const char *key, size_t klen)
{
	struct cache_entry *e;

	if (!t->cache)
		return NULL;
	e = cache_slot(t->cache, t->cache_cap, key, klen);
	return e->key ? e : NULL;
}

static bool cache_grow(struct md_types *t)
{
	size_t cap = t->cache_cap ? t->cache_cap * 2 : 256;
	struct cache_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < t->cache_cap; i++) {
		struct cache_entry *e = &t->cache[i];

		if (e->key)
			*cache_slot(slots, cap, e->key, e->klen) = *e;
	}
	free(t->cache);
	t->cache = slots;
	t->cache_cap = cap;
	return true;
}

/* Stores e, taking its key: its slot, or NULL (key freed) if out of memory. */
static struct cache_entry *cache_add(struct md_types *t, struct cache_entry *e)
{
	struct cache_entry *slot;

	if (2 * (t->cache_len + 1) > t->cache_cap && !cache_grow(t)) {
		free(e->key);
		return NULL;
	}
	slot = cache_slot(t->cache, t->cache_cap, e->key, e->klen);
	*slot = *e;
	t->cache_len++;
	return slot;
}

/* The cached answer to (kind, a, b), or the source's, kept: *hit is the
 * entry, with found false for "not found".  Other errors travel up. */
static struct md_error *answer(struct md_types *t, enum cache_kind kind, const char *a,
			       const char *b, struct cache_entry **hit)
{
	struct cache_entry e = { 0 };
	struct md_error *err;

	e.klen = cache_key(kind, a, b, &e.key);
	if (!e.key)
		return md_error_nomem();
	if ((*hit = cache_find(t, e.key, e.klen))) {
		free(e.key);
		return NULL;
	}
	switch (kind) {
	case C_SIZE:
		err = t->btf ? md_btf_type_size(t->btf, a, &e.u.size) :
			       md_dwarf_type_size(t->dwarf, a, &e.u.size);
		break;
	case C_MEMBER:
		err = t->btf ? md_btf_member(t->btf, a, b, &e.u.member) :
			       md_dwarf_member(t->dwarf, a, b, &e.u.member);
		break;
	default:
		err = t->btf ? md_btf_enumerator(t->btf, a, &e.u.value) :
			       md_dwarf_enumerator(t->dwarf, a, &e.u.value);
		break;
	}
	e.found = !err;
	if (!md_error_catch(&err, MD_ERR_LOOKUP) && err) {
		free(e.key);
		return err;
	}
	if (!(*hit = cache_add(t, &e)))
		return md_error_nomem();
	return NULL;
}

struct md_error *md_types_size(struct md_types *t, const char *type, uint64_t *ret)
{
	struct cache_entry *hit;
	struct md_error *err = answer(t, C_SIZE, type, NULL, &hit);

	if (err)
		return err;
	if (!hit->found)
		return md_error_create(MD_ERR_LOOKUP, "no type %s", type);
	*ret = hit->u.size;
	return NULL;
}

struct md_error *md_types_member(struct md_types *t, const char *type, const char *member,
				 struct md_member *ret)
{
	struct cache_entry *hit;
	struct md_error *err = answer(t, C_MEMBER, type, member, &hit);

	if (err)
		return err;
	if (!hit->found)
		return md_error_create(MD_ERR_LOOKUP, "%s has no member %s", type, member);
	*ret = hit->u.member;
	return NULL;
}

struct md_error *md_types_enumerator(struct md_types *t, const char *name, int64_t *ret)
{
	struct cache_entry *hit;
	struct md_error *err = answer(t, C_ENUM, name, NULL, &hit);

	if (err)
		return err;
	if (!hit->found)
		return md_error_create(MD_ERR_LOOKUP, "no enumerator %s", name);
	*ret = hit->u.value;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

struct md_error *md_types_source_parse(const char *word, const char *what,
				       enum md_types_source *ret)
{
	if (!strcmp(word, "auto"))
		*ret = MD_TYPES_AUTO;
	else if (!strcmp(word, "btf"))
		*ret = MD_TYPES_BTF;
	else if (!strcmp(word, "dwarf"))
		*ret = MD_TYPES_DWARF;
	else
		return md_error_create(MD_ERR_INVALID, "%s: unknown source of types '%s' "
				       "(btf, dwarf or auto%s)", what, word,
				       strcmp(word, "gdb") ? "" : "; gdb's types exist only in crash");
	return NULL;
}

static struct md_error *wrap(struct md_btf_types *bt, struct md_dwarf_types *dt,
			     struct md_types **ret)
{
	struct md_types *t = calloc(1, sizeof(*t));

	if (!t) {
		md_btf_types_destroy(bt);
		md_dwarf_types_destroy(dt);
		return md_error_nomem();
	}
	t->btf = bt;
	t->dwarf = dt;
	*ret = t;
	return NULL;
}

struct md_error *md_types_from_btf(struct md_btf_types *bt, struct md_types **ret)
{
	return wrap(bt, NULL, ret);
}

struct md_error *md_types_open(const char *path, enum md_types_source source,
			       struct md_types **ret)
{
	struct md_btf_types *bt = NULL;
	struct md_dwarf_types *dt = NULL;
	struct md_error *err;

	if (source != MD_TYPES_DWARF) {
		err = md_btf_types_open(path, &bt);
		if (source == MD_TYPES_BTF || !md_error_catch(&err, MD_ERR_LOOKUP) || bt)
			return err ? err : wrap(bt, NULL, ret);
	}
	if ((err = md_dwarf_types_open(path, &dt))) {
		if (source == MD_TYPES_AUTO && md_error_root_code(err) == MD_ERR_LOOKUP) {
			md_error_destroy(err);
			return md_error_create(MD_ERR_LOOKUP, "%s has no types: neither BTF (.BTF) nor "
					       "DWARF (.debug_info); a stripped vmlinux? give the one "
					       "with debuginfo", path);
		}
		return err;
	}
	return wrap(NULL, dt, ret);
}

const char *md_types_name(const struct md_types *t)
{
	return t->btf ? "BTF" : "DWARF";
}

void md_types_destroy(struct md_types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cache_cap; i++)
		free(t->cache[i].key);
	free(t->cache);
	md_btf_types_destroy(t->btf);
	md_dwarf_types_destroy(t->dwarf);
	free(t);
}
