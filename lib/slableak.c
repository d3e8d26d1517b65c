/* slableak CACHE: who holds a cache's objects.
 *
 * Every allocated object (lib/slab.c md_slab_for_each_object) is attributed
 * twice:
 *   - to its allocation caller, when the cache keeps SLAB_STORE_USER tracks:
 *     the struct track after the object, found as mm/slub.c get_track()
 *     finds it, grouped by track->addr as /sys/kernel/slab/CACHE/alloc_calls
 *     groups them (mm/slub.c list_locations()), with the stack from the
 *     stack depot handle;
 *   - to a content signature: what each of its first words points at (a
 *     kernel or module symbol, another cache's object, vmalloc, user space,
 *     text, a plain number).  Objects of one kind look alike, and a symbol
 *     in the signature (an ops table, say) usually names their owner.
 * The verdict weighs the largest group against the cache.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "dcache.h"
#include "options.h"
#include "output.h"
#include "table.h"
#include "hash.h"
#include "dcache.h"
#include "slableak.h"
#include "orphans.h"
#include "stackdepot.h"

#define SIGNATURE_WORDS 8	/* words of an object its signature looks at */

/* A signature: the class of each of an object's first words (an index
 * into struct analysis's class_names). */
struct signature {
	uint32_t words;
	uint32_t cls[SIGNATURE_WORDS];
};
#define MAX_FRAMES MD_MAX_FRAMES
#define MAX_ROWS 10		/* suspects printed per kind */
/* In a generic (kmalloc) cache, a leak worth the name: this many objects
 * from one source ... */
#define LEAK_MIN_OBJECTS 10000
/* ... holding at least this share of the cache's allocated objects
 * (probable; half of it: possible).  A dedicated cache holds one kind of
 * object by design, so only unreferenced objects (-u) count there. */
#define LEAK_MIN_SHARE 0.5
/* With -u, in any cache: this many objects of one source that nothing
 * points at, and at least half of that source's objects. */
#define LEAK_MIN_ORPHANS 1000


/* key -> index into the caller's array, open addressing.  A key is a
 * u64 (0 is reserved, never stored) or, in a map made with strings set, a
 * string copied in, or, with blob set to its size, a fixed-size key copied
 * in (both kept as their pointer). */
struct index_map {
	bool strings;
	size_t blob;
	uint64_t *keys;		/* 0: empty slot */
	uint64_t *hashes;
	size_t *values;
	size_t cap, len;
};

struct suspects {
	struct md_leak_suspect *v;
	size_t n, cap;
};

struct analysis {
	struct md_session *s;
	struct md_slab_state *st;
	const struct md_slab_index *index;	/* the slab state's */
	const struct md_orphans *orphans;	/* -u: the reference scan, else NULL */
	struct md_leak_report *r;
	struct md_track_layout track;
	bool tracked;			/* the cache keeps tracks and their layout is known */
	uint64_t track_at;		/* offset of the alloc track from the object */
	struct index_map caller_map;	/* track addr -> callers index */
	struct suspects callers, signatures;
	struct index_map signature_map;	/* struct signature -> signatures index */
	/* A word's class is an index into class_names: the fixed ones first
	 * (enum word_class), then "&sym [mod]" and "->cache" as met, each
	 * name once.  A signature is built from these numbers, so the walk
	 * prints no text per object; a new signature's text is made once. */
	char **class_names;
	size_t nr_classes, classes_cap;
	struct index_map class_map;	/* class name -> class_names index */
	struct index_map symbol_map;	/* word value in kernel or modules -> class */
	struct index_map cache_map;	/* struct md_slab_cache pointer -> class */
	/* The last answers, which the next object most often repeats (objects
	 * of one kind point at one ops table, at neighbours in one slab): a
	 * walk of 30 million objects spent a third of its analysis in the
	 * maps and the slab index. */
	uint64_t last_symbol, last_symbol_class;
	struct md_slab_hit last_slab;	/* slab_end 0: none yet */
	uint32_t last_slab_class;
	struct signature *last_signature;	/* the key in signature_map, and its index */
	size_t last_signature_index;
	struct md_dcache_walk *dcache;	/* the dentry cache's census, fed by the same walk */
	struct md_output *out;		/* progress, NULL for none */
	double started;			/* of the walk, for its rate */
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* ------------------------------------------------------------------ maps */

static bool map_grow(struct index_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256;
	uint64_t *keys = calloc(cap, sizeof(*keys)), *hashes = calloc(cap, sizeof(*hashes));
	size_t *values = calloc(cap, sizeof(*values));

	if (!keys || !hashes || !values) {
		free(keys);
		free(hashes);
		free(values);
		return false;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t h;

		if (!m->keys[i])
			continue;
		for (h = m->hashes[i] & (cap - 1); keys[h]; h = (h + 1) & (cap - 1))
			;
		keys[h] = m->keys[i];
		hashes[h] = m->hashes[i];
		values[h] = m->values[i];
	}
	free(m->keys);
	free(m->hashes);
	free(m->values);
	m->keys = keys;
	m->hashes = hashes;
	m->values = values;
	m->cap = cap;
	return true;
}

/* The slot for key: *found says whether it is there already. */
static size_t *map_slot(struct index_map *m, uint64_t key, uint64_t hash, bool *found)
{
	size_t h;

	if (2 * (m->len + 1) > m->cap && !map_grow(m))
		return NULL;
	for (h = hash & (m->cap - 1); m->keys[h]; h = (h + 1) & (m->cap - 1)) {
		if (m->hashes[h] == hash &&
		    (m->strings ? !strcmp((const char *)(uintptr_t)m->keys[h], (const char *)(uintptr_t)key) :
		     m->blob ? !memcmp((const void *)(uintptr_t)m->keys[h], (const void *)(uintptr_t)key, m->blob) :
				  m->keys[h] == key)) {
			*found = true;
			return &m->values[h];
		}
	}
	if (m->strings || m->blob) {
		void *copy = m->strings ? strdup((const char *)(uintptr_t)key) : malloc(m->blob);

		if (!copy)
			return NULL;
		if (m->blob)
			memcpy(copy, (const void *)(uintptr_t)key, m->blob);
		key = (uintptr_t)copy;
	}
	*found = false;
	m->keys[h] = key;
	m->hashes[h] = hash;
	m->len++;
	return &m->values[h];
}

static size_t *u64_map_slot(struct index_map *m, uint64_t key, bool *found)
{
	return map_slot(m, key, mix64(key), found);
}

static size_t *str_map_slot(struct index_map *m, const char *key, bool *found)
{
	return map_slot(m, (uintptr_t)key, md_hash_bytes(key, strlen(key)), found);
}

static size_t *blob_map_slot(struct index_map *m, const void *key, bool *found)
{
	return map_slot(m, (uintptr_t)key, md_hash_bytes(key, m->blob), found);
}

static void map_free(struct index_map *m)
{
	for (size_t i = 0; (m->strings || m->blob) && i < m->cap; i++)
		free((char *)(uintptr_t)m->keys[i]);
	free(m->keys);
	free(m->hashes);
	free(m->values);
}

static struct md_leak_suspect *suspect_new(struct suspects *list, const char *what, size_t *index)
{
	struct md_leak_suspect *x;

	if (!md_array_reserve(&list->v, &list->cap, list->n, sizeof(*list->v), 64))
		return NULL;
	x = &list->v[list->n];
	memset(x, 0, sizeof(*x));
	if (!(x->what = strdup(what)))
		return NULL;
	*index = list->n++;
	return x;
}

static void suspect_sample(struct md_leak_suspect *x, uint64_t addr)
{
	if (x->nr_samples < sizeof(x->samples) / sizeof(x->samples[0]))
		x->samples[x->nr_samples++] = addr;
}

/* ------------------------------------------------------------ callers */

/* Counts the object for its caller; *ret is that caller, NULL if untracked. */
static struct md_error *count_caller(struct analysis *a, uint64_t addr, const unsigned char *obj,
				     size_t len, struct md_leak_suspect **ret)
{
	struct md_track t;
	struct md_leak_suspect *x;
	size_t *slot, idx;
	bool found;

	*ret = NULL;
	if (a->track_at + a->track.size > len)
		return NULL;
	md_track_decode(&a->track, obj + a->track_at, &t);
	if (!t.addr)
		return NULL;	/* allocated before tracking started (early boot) */
	a->r->tracked++;
	if (!(slot = u64_map_slot(&a->caller_map, t.addr, &found)))
		return md_error_nomem();
	if (found) {
		x = &a->callers.v[*slot];
	} else {
		char name[160];

		md_address_text(a->s, t.addr, name, sizeof(name));
		if (!(x = suspect_new(&a->callers, name, &idx)))
			return md_error_nomem();
		*slot = idx;
		x->addr = t.addr;
		x->min_when = x->max_when = t.when;
		x->handle = t.handle;
		memcpy(x->stack, t.stack, t.nr_stack * sizeof(t.stack[0]));
		x->nr_stack = t.nr_stack;
	}
	x->objects++;
	suspect_sample(x, addr);
	*ret = x;
	/* jiffies wrap: compare as the kernel's time_before() does */
	if ((int64_t)(t.when - x->min_when) < 0)
		x->min_when = t.when;
	if ((int64_t)(t.when - x->max_when) > 0)
		x->max_when = t.when;
	for (size_t i = 0; i < x->nr_pids; i++)
		if (x->pids[i] == t.pid)
			return NULL;
	if (x->nr_pids < sizeof(x->pids) / sizeof(x->pids[0]))
		x->pids[x->nr_pids++] = t.pid;
	else
		x->more_pids++;
	return NULL;
}

/* ---------------------------------------------------------- signatures */

/* The classes every signature may use, numbered as their names below. */
enum word_class {
	CLASS_FREEPTR,		/* the allocated object's stale free pointer */
	CLASS_ZERO,
	CLASS_KERNEL,		/* kernel or module address with no symbol */
	CLASS_PAGE,		/* direct map, outside any slab object */
	CLASS_STRUCT_PAGE,
	CLASS_VMALLOC,
	CLASS_TEXT,
	CLASS_USER,
	CLASS_INT,
	NR_FIXED_CLASSES
};

static const char *const fixed_class_names[NR_FIXED_CLASSES] = {
	"-", "0", "kernel", "page", "struct-page", "vmalloc", "text", "user", "int",
};

/* The class named name, made if new. */
static struct md_error *intern_class(struct analysis *a, const char *name, uint32_t *ret)
{
	size_t *slot;
	bool found;

	if (!md_array_reserve(&a->class_names, &a->classes_cap, a->nr_classes, sizeof(*a->class_names), 64) ||
	    !(slot = str_map_slot(&a->class_map, name, &found)))
		return md_error_nomem();
	if (!found) {
		if (!(a->class_names[a->nr_classes] = strdup(name))) {
			*slot = CLASS_KERNEL;	/* the key stays: give it a class */
			return md_error_nomem();
		}
		*slot = a->nr_classes++;
	}
	*ret = *slot;
	return NULL;
}

static struct md_error *classes_init(struct analysis *a)
{
	struct md_error *err;
	uint32_t cls;

	a->class_map.strings = true;
	a->signature_map.blob = sizeof(struct signature);
	for (size_t i = 0; i < NR_FIXED_CLASSES; i++)
		if ((err = intern_class(a, fixed_class_names[i], &cls)))
			return err;
	return NULL;
}

/* "&sym [mod]" for a word inside kernel or module text/data, CLASS_KERNEL
 * if none; found once per value. */
static struct md_error *symbol_class(struct analysis *a, uint64_t v, uint32_t *ret)
{
	char name[160], *plus;
	size_t *slot;
	bool found;
	struct md_error *err;

	if (v == a->last_symbol && v) {
		*ret = a->last_symbol_class;
		return NULL;
	}
	if (!(slot = u64_map_slot(&a->symbol_map, v, &found)))
		return md_error_nomem();
	if (found) {
		a->last_symbol = v;
		*ret = a->last_symbol_class = *slot;
		return NULL;
	}
	*slot = *ret = CLASS_KERNEL;
	err = md_address_name(a->s, v, name + 1, sizeof(name) - 1);
	if (err && md_error_catch(&err, MD_ERR_LOOKUP))
		return NULL;
	if (err) {	/* a module's word, which its unread symbols cannot name */
		md_error_destroy(err);
		snprintf(name + 1, sizeof(name) - 1, "? (symbols unreadable)");
	}
	/* Drop "+0x10": objects of one kind point at one symbol, not always
	 * at one offset in it (a list_head inside a module's static data). */
	name[0] = '&';
	if ((plus = strchr(name, '+'))) {
		const char *mod = strchr(plus, ' ');

		memmove(plus, mod ? mod : "", strlen(mod ? mod : "") + 1);
	}
	if ((err = intern_class(a, name, ret)))
		return err;
	*slot = *ret;
	return NULL;
}

/* "->cache" for a word pointing at an object of that cache. */
static struct md_error *cache_class(struct analysis *a, const struct md_slab_cache *c, uint32_t *ret)
{
	char name[160];
	size_t *slot;
	bool found;
	struct md_error *err;

	if (!(slot = u64_map_slot(&a->cache_map, (uintptr_t)c, &found)))
		return md_error_nomem();
	if (found) {
		*ret = *slot;
		return NULL;
	}
	*slot = *ret = CLASS_PAGE;
	snprintf(name, sizeof(name), "->%s", c->name);
	if ((err = intern_class(a, name, ret)))
		return err;
	*slot = *ret;
	return NULL;
}

static bool printable_word(uint64_t v)
{
	int chars = 0;

	for (int i = 0; i < 8; i++, v >>= 8) {
		unsigned char c = v & 0xff;

		if (c == 0 && chars >= 4) {
			/* the rest must be NULs: a short string's end */
			return (v >> 8) == 0;
		}
		if (c < 0x20 || c > 0x7e)	/* isprint() in the C locale */
			return false;
		chars++;
	}
	return true;
}

/* What one word of an object is. */
static struct md_error *word_class(struct analysis *a, uint64_t v, uint32_t *ret)
{
	const struct md_kernel *k = &a->s->kernel;
	struct md_slab_hit hit;

	*ret = CLASS_INT;
	if (v == 0)
		*ret = CLASS_ZERO;
	else if (v >= MD_KERNEL_IMAGE_START && v < MD_MODULES_END)
		return symbol_class(a, v, ret);
	else if (v >= k->page_offset && v < k->page_offset + (k->max_pfn << k->page_shift)) {
		const struct md_slab_hit *l = &a->last_slab;
		enum md_slab_where where;
		struct md_error *err;

		if (v >= l->slab_start && v < l->slab_end) {	/* md_slab_index_find()'s answer, again */
			uint64_t first = l->slab_start + l->cache->red_left_pad;

			*ret = v >= first && (v - first) / l->cache->size < l->nr_slots ? a->last_slab_class
									   : CLASS_PAGE;
			return NULL;
		}
		if (!a->index || (where = md_slab_index_find(a->index, v, &hit)) == MD_SLAB_MISS) {
			*ret = CLASS_PAGE;
			return NULL;
		}
		if (where == MD_SLAB_PADDING) {
			*ret = CLASS_PAGE;
			return NULL;
		}
		if ((err = cache_class(a, hit.cache, ret)))
			return err;
		a->last_slab = hit;
		a->last_slab_class = *ret;
	} else if (v >= k->vmemmap && v < k->vmemmap + k->max_pfn * k->page_struct_size)
		*ret = CLASS_STRUCT_PAGE;
	else if (v >= k->vmalloc_start && v - k->vmalloc_start < k->vmalloc_size)
		*ret = CLASS_VMALLOC;
	else if (printable_word(v))
		*ret = CLASS_TEXT;
	else if (v >= 0x400000 && v < MD_USER_END && v > 0xffffffffULL)
		*ret = CLASS_USER;
	return NULL;
}

/* A signature's text: its classes' names, a space apart. */
static char *signature_text(const struct analysis *a, const struct signature *sig)
{
	char text[SIGNATURE_WORDS * 168];
	size_t used = 0;

	text[0] = '\0';
	for (size_t i = 0; i < sig->words; i++) {
		int n = snprintf(text + used, sizeof(text) - used, "%s%s", i ? " " : "",
				 a->class_names[sig->cls[i]]);

		if (n < 0 || (size_t)n >= sizeof(text) - used)
			break;
		used += n;
	}
	return strdup(text);
}

static struct md_error *count_signature(struct analysis *a, uint64_t addr, const unsigned char *obj,
					size_t len, struct md_leak_suspect **ret)
{
	const struct md_slab_cache *c = a->r->cache;
	struct signature sig = { .words = c->object_size / 8 };
	struct md_leak_suspect *x;
	struct md_error *err;
	size_t *slot, idx;
	bool found;

	if (sig.words > SIGNATURE_WORDS)
		sig.words = SIGNATURE_WORDS;
	if (sig.words * 8 > len)
		sig.words = len / 8;
	for (size_t i = 0; i < sig.words; i++) {
		/* The free pointer of an allocated object is stale: skip it. */
		if (c->offset == i * 8 && c->offset < c->inuse)
			sig.cls[i] = CLASS_FREEPTR;
		else if ((err = word_class(a, md_get_u64(obj, i * 8), &sig.cls[i])))
			return err;
	}
	if (a->last_signature && !memcmp(a->last_signature, &sig, sizeof(sig))) {
		x = &a->signatures.v[a->last_signature_index];
		goto count;
	}
	if (!(slot = blob_map_slot(&a->signature_map, &sig, &found)))
		return md_error_nomem();
	if (found) {
		x = &a->signatures.v[*slot];
	} else {
		char *text = signature_text(a, &sig);

		x = text ? suspect_new(&a->signatures, text, &idx) : NULL;
		free(text);
		if (!x) {
			*slot = 0;	/* the key stays: count it with the first */
			return md_error_nomem();
		}
		*slot = idx;
	}
	/* the map's own copy of the key, which stays while the map does */
	a->last_signature = (struct signature *)(uintptr_t)a->signature_map.keys[slot - a->signature_map.values];
	a->last_signature_index = *slot;
count:
	x->objects++;
	suspect_sample(x, addr);
	*ret = x;
	return NULL;
}

static struct md_error *attribute_object(void *arg, const struct md_slab_cache *c, uint64_t addr,
					 const unsigned char *obj, size_t len)
{
	struct analysis *a = arg;
	struct md_leak_suspect *caller = NULL, *signature = NULL;
	struct md_error *err;

	if (!(++a->r->objects & 0xffff) && a->out)
		md_progress_rate(a->out, a->r->cache->name, "objects", a->r->objects, a->r->cache->allocated,
				 &a->started);
	if (a->tracked && (err = count_caller(a, addr, obj, len, &caller)))
		return err;
	if ((err = count_signature(a, addr, obj, len, &signature)))
		return err;
	if (a->dcache && (err = md_dcache_walk_object(a->dcache, obj)))
		return err;
	if (a->orphans && md_orphans_is_orphan(a->orphans, addr)) {
		a->r->orphans++;
		signature->orphans++;
		if (caller)
			caller->orphans++;
	}
	return NULL;
}

static int compare_suspects(const void *x, const void *y)
{
	const struct md_leak_suspect *a = x, *b = y;

	if (a->objects != b->objects)
		return a->objects < b->objects ? 1 : -1;
	return strcmp(a->what, b->what);
}

#define report_error(r, err) md_messages_add_error(&(r)->errors, &(r)->nr_errors, err)

static void analysis_free(struct analysis *a)
{
	map_free(&a->caller_map);
	map_free(&a->symbol_map);
	map_free(&a->cache_map);
	map_free(&a->class_map);
	map_free(&a->signature_map);
	for (size_t i = 0; i < a->nr_classes; i++)
		free(a->class_names[i]);
	free(a->class_names);
	for (size_t i = 0; i < a->callers.n; i++)
		free(a->callers.v[i].what);
	free(a->callers.v);
	for (size_t i = 0; i < a->signatures.n; i++)
		free(a->signatures.v[i].what);
	free(a->signatures.v);
	md_dcache_walk_abort(a->dcache);
}

struct md_error *md_leak_analyze(struct md_session *s, struct md_output *out, struct md_slab_cache *c,
				 const struct md_orphans *orphans, struct md_leak_report **ret)
{
	struct analysis a = { .s = s, .out = out, .orphans = orphans };
	struct md_error *err;
	size_t walk_errors;
	bool dentries;

	if ((err = md_slab_walk(s, &a.st)))
		return err;
	if (!(a.r = calloc(1, sizeof(*a.r))))
		return md_error_nomem();
	a.r->cache = c;
	a.r->orphans_scanned = orphans != NULL;
	if ((err = classes_init(&a)))
		goto fail;
	if ((err = md_slab_index_get(s, a.st, &a.index)))
		goto fail;
	/* The signatures name the cache a word points into; a cache read in
	 * part leaves some of its objects unknown ("page"). */
	{
		size_t hurt = 0;
		const char *first = NULL;

		for (size_t i = 0; i < a.st->nr_caches; i++) {
			if (&a.st->caches[i] != c && a.st->caches[i].nr_errors && !hurt++)
				first = a.st->caches[i].name;
		}
		if (hurt)
			md_messages_add(&a.r->errors, &a.r->nr_errors, "%zu other caches (%s first) "
					"were read in part: a word pointing at their unread objects shows "
					"as \"page\" in the signatures (slableak lists them)", hurt, first);
	}
	if (c->store_user) {
		err = md_track_layout(s, &a.track);
		if (err) {
			report_error(a.r, err);
			err = NULL;
		} else {
			a.tracked = true;
			a.track_at = md_track_offset(c, &a.track, MD_TRACK_ALLOC);
		}
	}
	/* "reclaimable" is half the truth for dentries: say which are pinned */
	if ((err = md_dcache_is_dentry_cache(s, c, &dentries)) ||
	    (dentries && (err = md_dcache_walk_begin(s, c, &a.dcache)))) {
		if (md_error_root_code(err) == MD_ERR_NOMEM)
			goto fail;
		report_error(a.r, err);
		err = NULL;
	}
	walk_errors = a.r->nr_errors;
	err = md_slab_for_each_object(s, c, attribute_object, &a, &a.r->errors, &a.r->nr_errors);
	if (out)
		md_progress_done(out);
	if (err)
		goto fail;
	if (a.dcache) {
		a.r->dcache = md_dcache_walk_end(a.dcache);
		a.dcache = NULL;
		/* the slabs the walk could not read are missing from its counts */
		for (size_t i = walk_errors; i < a.r->nr_errors; i++)
			md_messages_add(&a.r->dcache->errors, &a.r->dcache->nr_errors, "%s", a.r->errors[i]);
	}
	if (a.callers.n)
		qsort(a.callers.v, a.callers.n, sizeof(*a.callers.v), compare_suspects);
	if (a.signatures.n)
		qsort(a.signatures.v, a.signatures.n, sizeof(*a.signatures.v), compare_suspects);
	a.r->callers = a.callers.v;
	a.r->nr_callers = a.callers.n;
	a.r->signatures = a.signatures.v;
	a.r->nr_signatures = a.signatures.n;
	a.callers = (struct suspects){ 0 };
	a.signatures = (struct suspects){ 0 };
	analysis_free(&a);
	md_leak_judge(s, a.r);
	*ret = a.r;
	return NULL;
fail:
	analysis_free(&a);
	md_leak_report_destroy(a.r);
	return err;
}

void md_leak_report_destroy(struct md_leak_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_callers; i++)
		free(r->callers[i].what);
	free(r->callers);
	for (size_t i = 0; i < r->nr_signatures; i++)
		free(r->signatures[i].what);
	free(r->signatures);
	md_messages_free(r->errors, r->nr_errors);
	md_dcache_census_destroy(r->dcache);
	free(r->verdict);
	free(r);
}

/* ------------------------------------------------------------- verdict */

const char *md_leak_level_name(enum md_leak_level level)
{
	switch (level) {
	case MD_LEAK_PROBABLE:
		return "probable leak";
	case MD_LEAK_POSSIBLE:
		return "possible leak";
	case MD_LEAK_RECLAIMABLE:
		return "reclaimable";
	case MD_LEAK_NONE:
		break;
	}
	return "no leak seen";
}

/* A signature that names something (a symbol or another cache), so that
 * objects sharing it are of one kind, not merely all numbers. */
static bool signature_names_owner(const char *sig)
{
	return strchr(sig, '&') || strstr(sig, "->");
}

/* kmalloc-N and its variants serve every caller, so one source holding most
 * of them stands out; a dedicated cache holds one kind of object anyway. */
static bool generic_cache(const char *name)
{
	return strstr(name, "kmalloc-") != NULL;
}

bool md_leak_candidate(const struct md_slab_cache *c)
{
	return !c->unreadable && generic_cache(c->name) && c->allocated >= LEAK_MIN_OBJECTS;
}

/* With -u: the source with the most unreferenced objects, if it has enough
 * of them to call a leak (mostly orphans, and many). */
static const struct md_leak_suspect *orphan_source(const struct md_leak_suspect *list, size_t n)
{
	const struct md_leak_suspect *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (!best || list[i].orphans > best->orphans)
			best = &list[i];
	if (!best || best->orphans < LEAK_MIN_ORPHANS || 2 * best->orphans < best->objects)
		return NULL;
	return best;
}

void md_leak_judge(struct md_session *s, struct md_leak_report *r)
{
	const struct md_slab_cache *c = r->cache;
	const struct md_leak_suspect *top = NULL, *orphaned = NULL;
	char n1[32], n2[32], n3[32], b1[32], age[64] = "", unref[64] = "";
	bool by_caller = false;
	double share;

	if (r->tracked && r->nr_callers) {
		top = &r->callers[0];
		by_caller = true;
		if (r->orphans_scanned)
			orphaned = orphan_source(r->callers, r->nr_callers);
	} else if (r->nr_signatures) {
		top = &r->signatures[0];
		if (r->orphans_scanned)
			orphaned = orphan_source(r->signatures, r->nr_signatures);
	}
	if (orphaned)
		top = orphaned;
	free(r->verdict);
	r->verdict = NULL;
	if (c->reclaimable && !orphaned && r->dcache) {
		char *held = md_dcache_census_text(r->dcache);

		r->level = MD_LEAK_RECLAIMABLE;
		if (!held || asprintf(&r->verdict, "%s: %s objects (%s) in a reclaimable cache "
				      "(SLAB_RECLAIM_ACCOUNT), not a leak, but not all of it reclaimable: %s",
				      c->name, md_count(c->allocated, n1), md_human_bytes(c->bytes, b1),
				      held) < 0)
			r->verdict = NULL;
		free(held);
		return;
	}
	if (c->reclaimable && !orphaned) {
		r->level = MD_LEAK_RECLAIMABLE;
		if (asprintf(&r->verdict, "%s: %s objects (%s) in a reclaimable cache "
			     "(SLAB_RECLAIM_ACCOUNT): the kernel frees them under memory pressure, "
			     "not a leak", c->name, md_count(c->allocated, n1),
			     md_human_bytes(c->bytes, b1)) < 0)
			r->verdict = NULL;
		return;
	}
	if (!top || !r->objects) {
		r->level = MD_LEAK_NONE;
		if (asprintf(&r->verdict, "%s: no allocated objects to attribute", c->name) < 0)
			r->verdict = NULL;
		return;
	}
	share = (double)top->objects / r->objects;
	if (orphaned)
		r->level = MD_LEAK_PROBABLE;	/* nothing points at them: kmemleak's criterion */
	else if (!generic_cache(c->name) || top->objects < LEAK_MIN_OBJECTS ||
		 !(by_caller || signature_names_owner(top->what)))
		r->level = MD_LEAK_NONE;
	else if (share >= LEAK_MIN_SHARE)
		r->level = MD_LEAK_PROBABLE;
	else if (share >= LEAK_MIN_SHARE / 2)
		r->level = MD_LEAK_POSSIBLE;
	else
		r->level = MD_LEAK_NONE;
	if (by_caller && s->kernel.hz) {
		if (s->kernel.jiffies_known)
			snprintf(age, sizeof(age), ", oldest %" PRIu64 " s",
				 (s->kernel.jiffies - top->min_when) / s->kernel.hz);
		else	/* the session's problems say why; the verdict too */
			snprintf(age, sizeof(age), ", age unknown (jiffies unreadable)");
	}
	if (r->orphans_scanned)
		snprintf(unref, sizeof(unref), ", %s unreferenced", md_count(top->orphans, n3));
	if (asprintf(&r->verdict, "%s: %s of %s objects (%s) %s %s%s%s: %s", c->name,
		     md_count(top->objects, n1), md_count(r->objects, n2),
		     md_human_bytes(top->objects * c->size, b1),
		     by_caller ? "allocated by" : "look alike:", top->what, age, unref,
		     md_leak_level_name(r->level)) < 0)
		r->verdict = NULL;
}

/* ------------------------------------------------------------- command */

#define MAX_ERRORS_PER_CACHE 8

int md_slab_cache_compare_bytes(const void *a, const void *b)
{
	const struct md_slab_cache *x = *(const struct md_slab_cache *const *)a;
	const struct md_slab_cache *y = *(const struct md_slab_cache *const *)b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

static uint64_t slab_size(const struct md_session *s, const struct md_slab_cache *c)
{
	return s->kernel.page_size << c->oo_order;
}

static void get_slab_size(const void *ctx, const void *row, struct md_value *v)
{
	v->u = slab_size(ctx, row);
}

/* The cache list: each cache's row in text and JSON; in 80 columns the
 * kmem_cache address and slab size are left to --wide, and the kernel's
 * longest names (fsnotify_inode_mark_connector, 29) still fit. */
static const struct md_column cache_fields[] = {
	{ "address", "CACHE", MD_COL_ADDRESS, -16, .wide = true, MD_MEMBER(struct md_slab_cache, address) },
	{ "object_size_bytes", "OBJSIZE", MD_COL_BYTES, 7,
	  MD_MEMBER(struct md_slab_cache, object_size) },
	{ "slot_size_bytes", NULL, MD_COL_BYTES, 0, MD_MEMBER(struct md_slab_cache, size) },
	{ "allocated", "ALLOCATED", MD_COL_COUNT, 9, MD_MEMBER(struct md_slab_cache, allocated) },
	{ "total", "TOTAL", MD_COL_COUNT, 9, MD_MEMBER(struct md_slab_cache, total) },
	{ "slabs", "SLABS", MD_COL_COUNT, 7, MD_MEMBER(struct md_slab_cache, nr_slabs) },
	{ "slab_size_bytes", "SSIZE", MD_COL_BYTES, 6, .shift = 10, .suffix = "k", .wide = true,
	  .get = get_slab_size },
	{ "memory_bytes", "MEM(KiB)", MD_COL_BYTES, 8, .shift = 10, MD_MEMBER(struct md_slab_cache, bytes) },
	{ "reclaimable", "RECL", MD_COL_BOOL, -4, MD_MEMBER(struct md_slab_cache, reclaimable) },
	{ "name", "NAME", MD_COL_STRING, -1, MD_CHARS_MEMBER(struct md_slab_cache, name) },
	{ NULL },
};

static struct md_json *cache_json(const struct md_session *s, const struct md_slab_cache *c)
{
	struct md_json *o = md_table_row_json(cache_fields, s, c), *errors = md_json_array();

	if (c->cpu_sheaves) {
		struct md_json *sh = md_json_object();

		md_json_object_add(sh, "capacity", md_json_int64(c->sheaf_capacity));
		md_json_object_add(sh, "cpu", md_json_int64(c->sheaf_cpu_objects));
		if (c->sheaf_cpu_objects_by_cpu) {
			struct md_json *by_cpu = md_json_array();

			for (unsigned int cpu = 0; cpu < s->kernel.nr_cpus; cpu++)
				md_json_array_add(by_cpu, md_json_int64(c->sheaf_cpu_objects_by_cpu[cpu]));
			md_json_object_add(sh, "cpu_by_cpu", by_cpu);
		}
		md_json_object_add(sh, "rcu_free", md_json_int64(c->sheaf_rcu_objects));
		md_json_object_add(sh, "barn", md_json_int64(c->sheaf_barn_objects));
		md_json_object_add(o, "free_in_sheaves", sh);
	}
	for (size_t i = 0; i < c->nr_errors; i++)
		md_json_array_add(errors, md_json_string(c->errors[i]));
	md_json_object_add(o, "errors", errors);
	return o;
}

static void cache_text(const struct md_session *s, const struct md_slab_cache *c,
		       struct md_output *out)
{
	md_table_row(out, cache_fields, s, c);
	for (size_t i = 0; i < c->nr_errors && i < MAX_ERRORS_PER_CACHE; i++)
		md_print_problem(out, 2, "%s: %s", c->name, c->errors[i]);
	if (c->nr_errors > MAX_ERRORS_PER_CACHE)
		md_print_problem(out, 2, "%s: ... and %zu more problems (--json lists all)", c->name,
				 c->nr_errors - MAX_ERRORS_PER_CACHE);
}

static void cache_accounting_text(struct md_session *s, const struct md_slab_cache *c,
				  struct md_output *out)
{
	char line[512];

	snprintf(line, sizeof(line), "%s: %" PRIu64 " allocated, %" PRIu64 " free, %" PRIu64 " objects in %zu "
		 "slabs (slot %u bytes, %u per slab of order %u)", c->name, c->allocated,
		 c->total - c->allocated, c->total, c->nr_slabs, c->size, c->oo_objects, c->oo_order);
	md_printf(out, "\n");
	md_print_wrapped(out, 0, 2, line);
	snprintf(line, sizeof(line), "slabs: %" PRIu64 " active on CPUs, %" PRIu64 " CPU-partial, %" PRIu64
		 " node-partial, %" PRIu64 " on full lists, %" PRIu64 " full and on no list",
		 c->cpu_slabs, c->cpu_partial_slabs, c->node_partial_slabs, c->node_full_slabs,
		 c->nr_slabs - c->cpu_slabs - c->cpu_partial_slabs - c->node_partial_slabs -
		 c->node_full_slabs);
	md_print_wrapped(out, 2, 4, line);
	if (c->cpu_sheaves && c->sheaf_capacity) {
		snprintf(line, sizeof(line), "free objects in sheaves (capacity %u): %" PRIu64 " in CPUs' main "
			 "and spare, %" PRIu64 " in CPUs' rcu_free (freed by kfree_rcu(), waiting for a grace "
			 "period), %" PRIu64 " in the barns' full sheaves", c->sheaf_capacity,
			 c->sheaf_cpu_objects, c->sheaf_rcu_objects, c->sheaf_barn_objects);
		md_print_wrapped(out, 2, 4, line);
	}
	for (unsigned int nid = 0; nid < s->kernel.nr_nodes; nid++) {
		uint64_t slabs = 0, partial = 0, full = 0;

		for (size_t i = 0; i < c->nr_slabs; i++) {
			if (c->slabs[i].nid != nid)
				continue;
			slabs++;
			partial += !!(c->slabs[i].where & MD_SLAB_ON_NODE_PARTIAL);
			full += !!(c->slabs[i].where & MD_SLAB_ON_NODE_FULL);
		}
		if (slabs)
			md_printf(out, "  node %u: %" PRIu64 " slabs, %" PRIu64 " partial, %" PRIu64
				  " on the full list\n", nid, slabs, partial, full);
	}
	for (unsigned int cpu = 0; cpu < s->kernel.nr_cpus; cpu++) {
		const struct md_slab *active = NULL;

		for (size_t i = 0; i < c->nr_slabs; i++) {
			const struct md_slab *slab = &c->slabs[i];

			if ((slab->where & MD_SLAB_ON_CPU) && slab->cpu == (int)cpu)
				active = slab;
		}
		if (active)
			md_printf(out, "  cpu %u: active slab 0x%016" PRIx64 " (%u objects)\n", cpu,
				  md_page_to_virt(&s->kernel, active->page), active->objects);
	}
	if (c->have_kernel_counters)
		md_printf(out, "  kernel counters: %" PRIu64 " slabs, %" PRIu64 " objects%s\n",
			  c->kernel_nr_slabs, c->kernel_total_objects,
			  c->kernel_nr_slabs == c->nr_slabs && c->kernel_total_objects == c->total ?
			  " (verified)" : "");
}

/* The frames of a caller's stack, as names. */
static size_t caller_stack(struct md_session *s, const struct md_leak_suspect *x,
			   char names[][160], size_t max, struct md_error **errp)
{
	uint64_t frames[MAX_FRAMES];
	struct md_stackdepot *d;
	size_t nr = 0;

	*errp = NULL;
	if (x->nr_stack) {
		nr = x->nr_stack < max ? x->nr_stack : max;
		memcpy(frames, x->stack, nr * sizeof(frames[0]));
	} else if (!x->handle) {
		return 0;
	} else if ((*errp = md_stackdepot_get(s, &d)) ||
	    (*errp = md_stackdepot_fetch(s, d, x->handle, frames, max < MAX_FRAMES ? max : MAX_FRAMES, &nr)))
		return 0;
	for (size_t i = 0; i < nr; i++)
		md_address_text(s, frames[i], names[i], sizeof(names[i]));
	return nr;
}

static void caller_ages(struct md_session *s, const struct md_leak_suspect *x, int64_t *oldest,
			int64_t *youngest)
{
	const uint64_t now = s->kernel.jiffies;

	*oldest = *youngest = -1;
	if (!s->kernel.hz || !s->kernel.jiffies_known)	/* named among the session's problems */
		return;
	*oldest = (int64_t)(now - x->min_when) / (int64_t)s->kernel.hz;
	*youngest = (int64_t)(now - x->max_when) / (int64_t)s->kernel.hz;
}

static void leak_report_text(struct md_session *s, const struct md_leak_report *r,
			     struct md_output *out)
{
	const struct md_slab_cache *c = r->cache;
	char n1[32], b1[32], names[MAX_FRAMES][160], line[512];

	if (c->store_user) {
		snprintf(line, sizeof(line), "allocation callers (struct track of %s objects, as "
			 "/sys/kernel/slab/%s/alloc_calls):", md_count(r->tracked, n1), c->name);
		md_printf(out, "\n");
		md_print_wrapped(out, 0, 2, line);
		md_printf(out, "   OBJECTS      BYTES  AGE(s)    PIDS%s  CALLER\n",
			  r->orphans_scanned ? "   ORPHANS" : "");
	}
	for (size_t i = 0; c->store_user && i < r->nr_callers && i < MAX_ROWS; i++) {
		const struct md_leak_suspect *x = &r->callers[i];
		struct md_error *err;
		int64_t oldest, youngest;
		char ages[48] = "?", pids[48];
		size_t nr;

		caller_ages(s, x, &oldest, &youngest);
		if (oldest >= 0)
			snprintf(ages, sizeof(ages), "%" PRId64 "-%" PRId64, youngest, oldest);
		if (x->nr_pids == 1)
			snprintf(pids, sizeof(pids), "%d", x->pids[0]);
		else
			snprintf(pids, sizeof(pids), "%zu pids", x->nr_pids + x->more_pids);
		md_printf(out, "%10s %10s %7s %7s", md_count(x->objects, n1),
			  md_human_bytes(x->objects * c->size, b1), ages, pids);
		if (r->orphans_scanned)
			md_printf(out, " %9s", md_count(x->orphans, n1));
		md_printf(out, "  %s\n", x->what);
		nr = caller_stack(s, x, names, MAX_FRAMES, &err);
		if (err) {
			char *msg = md_error_string(err);

			md_printf(out, "        ! stack unreadable: %s\n", msg ? msg : "out of memory");
			free(msg);
			md_error_destroy(err);
		}
		for (size_t j = 0; j < nr; j++)
			md_printf(out, "        %s %s\n", j ? "  " : "stack:", names[j]);
		md_printf(out, "        objects:");
		for (size_t j = 0; j < x->nr_samples; j++)
			md_printf(out, " 0x%016" PRIx64, x->samples[j]);
		md_printf(out, "\n");
	}
	md_printf(out, "\ncontent signatures (first %d words of each of %s objects):\n",
		  SIGNATURE_WORDS, md_count(r->objects, n1));
	md_printf(out, "   OBJECTS  SHARE%s  SIGNATURE\n", r->orphans_scanned ? "   ORPHANS" : "");
	for (size_t i = 0; i < r->nr_signatures && i < MAX_ROWS; i++) {
		const struct md_leak_suspect *x = &r->signatures[i];
		int n;

		/* the row's figures, then the signature's words wrapped under it */
		n = snprintf(line, sizeof(line), "%10s %5.1f%%", md_count(x->objects, n1),
			     100.0 * x->objects / r->objects);
		if (r->orphans_scanned)
			n += snprintf(line + n, sizeof(line) - n, " %9s", md_count(x->orphans, n1));
		snprintf(line + n, sizeof(line) - n, "  ");
		md_print_wrapped_after(out, line, (int)strlen(line) + 2, x->what);
		md_printf(out, "        objects:");
		for (size_t j = 0; j < x->nr_samples; j++)
			md_printf(out, " 0x%016" PRIx64, x->samples[j]);
		md_printf(out, "\n");
	}
	if (r->orphans_scanned) {
		snprintf(line, sizeof(line), "unreferenced (-u): %s of %s allocated objects: nothing "
			 "reachable points into them", md_count(r->orphans, n1), md_count(r->objects, b1));
		md_printf(out, "\n");
		md_print_wrapped(out, 0, 2, line);
	}
	for (size_t i = 0; i < r->nr_errors; i++)
		md_print_problem(out, 2, "%s", r->errors[i]);
	for (size_t i = 0; r->dcache && i < r->dcache->nr_errors; i++)
		md_print_problem(out, 2, "dentry census: %s", r->dcache->errors[i]);
	snprintf(line, sizeof(line), "verdict: %s", r->verdict ? r->verdict : "(out of memory)");
	md_printf(out, "\n");
	md_print_wrapped(out, 0, 2, line);
}

static struct md_json *samples_json(const struct md_leak_suspect *x)
{
	struct md_json *a = md_json_array();
	char addr[32];

	for (size_t j = 0; j < x->nr_samples; j++) {
		snprintf(addr, sizeof(addr), "0x%016" PRIx64, x->samples[j]);
		md_json_array_add(a, md_json_string(addr));
	}
	return a;
}

static void leak_report_json(struct md_session *s, const struct md_leak_report *r,
			     struct md_json *doc)
{
	const struct md_slab_cache *c = r->cache;
	struct md_json *callers = md_json_array(), *sigs = md_json_array();
	char names[MAX_FRAMES][160], addr[32];

	for (size_t i = 0; i < r->nr_callers; i++) {
		const struct md_leak_suspect *x = &r->callers[i];
		struct md_json *o = md_json_object(), *stack = md_json_array();
		struct md_json *pids = md_json_array();
		struct md_error *err = NULL;
		int64_t oldest, youngest;
		size_t nr = i < MAX_ROWS ? caller_stack(s, x, names, MAX_FRAMES, &err) : 0;

		caller_ages(s, x, &oldest, &youngest);
		snprintf(addr, sizeof(addr), "0x%016" PRIx64, x->addr);
		md_json_object_add(o, "caller", md_json_string(x->what));
		md_json_object_add(o, "address", md_json_string(addr));
		md_json_object_add(o, "objects", md_json_int64(x->objects));
		md_json_object_add(o, "memory_bytes", md_json_int64(x->objects * c->size));
		if (r->orphans_scanned)
			md_json_object_add(o, "orphans", md_json_int64(x->orphans));
		for (size_t j = 0; j < x->nr_pids; j++)
			md_json_array_add(pids, md_json_int64(x->pids[j]));
		md_json_object_add(o, "pids", pids);
		md_json_object_add(o, "more_pids", md_json_int64(x->more_pids));
		md_json_object_add(o, "oldest_s", oldest >= 0 ? md_json_int64(oldest) : NULL);
		md_json_object_add(o, "youngest_s", youngest >= 0 ? md_json_int64(youngest) : NULL);
		for (size_t j = 0; j < nr; j++)
			md_json_array_add(stack, md_json_string(names[j]));
		md_json_object_add(o, "stack", stack);
		if (err) {
			char *msg = md_error_string(err);

			md_json_object_add(o, "stack_error", md_json_string(msg ? msg : "?"));
			free(msg);
			md_error_destroy(err);
		}
		md_json_object_add(o, "samples", samples_json(x));
		md_json_array_add(callers, o);
	}
	for (size_t i = 0; i < r->nr_signatures; i++) {
		const struct md_leak_suspect *x = &r->signatures[i];
		struct md_json *o = md_json_object();

		md_json_object_add(o, "signature", md_json_string(x->what));
		md_json_object_add(o, "objects", md_json_int64(x->objects));
		if (r->orphans_scanned)
			md_json_object_add(o, "orphans", md_json_int64(x->orphans));
		md_json_object_add(o, "memory_bytes", md_json_int64(x->objects * c->size));
		md_json_object_add(o, "samples", samples_json(x));
		md_json_array_add(sigs, o);
	}
	md_json_object_add(doc, "tracked", md_json_int64(r->tracked));
	md_json_object_add(doc, "attributed", md_json_int64(r->objects));
	if (r->orphans_scanned)
		md_json_object_add(doc, "orphans", md_json_int64(r->orphans));
	md_json_object_add(doc, "callers", callers);
	md_json_object_add(doc, "signatures", sigs);
	md_json_object_add(doc, "verdict", md_json_verdict(md_leak_level_name(r->level), r->verdict,
							    NULL));
	md_json_object_add(doc, "analysis_errors", md_json_strings(r->errors, r->nr_errors));
	if (r->dcache) {
		const struct md_dcache_census *d = r->dcache;
		struct md_json *o = md_json_object(), *fs = md_json_array();

		md_json_object_add(o, "dentries", md_json_uint64(d->dentries));
		md_json_object_add(o, "in_use", md_json_uint64(d->in_use));
		md_json_object_add(o, "unused", md_json_uint64(d->unused));
		md_json_object_add(o, "negative", md_json_uint64(d->negative));
		for (size_t i = 0; i < d->nr_fs; i++) {
			struct md_json *f = md_json_object();

			md_json_object_add(f, "type", md_json_string(d->fs[i].name));
			md_json_object_add(f, "in_use", md_json_uint64(d->fs[i].in_use));
			md_json_array_add(fs, f);
		}
		md_json_object_add(o, "in_use_by_fs", fs);
		md_json_object_add(o, "in_use_elsewhere", md_json_uint64(d->other_fs_in_use));
		md_json_object_add(o, "errors", md_json_strings(d->errors, d->nr_errors));
		md_json_object_add(doc, "dentries", o);
	}
}

static int compare_cache_orphans(const void *a, const void *b, void *arg)
{
	const struct md_orphans *o = arg;
	uint64_t x = md_orphans_in_cache(o, *(const struct md_slab_cache *const *)a);
	uint64_t y = md_orphans_in_cache(o, *(const struct md_slab_cache *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* -u: what the scan read and, without a cache (rows), the caches with the
 * most unreferenced objects. */
static void orphans_text(const struct md_orphans *o, struct md_slab_cache *const *rows, size_t n,
			 struct md_output *out)
{
	char n1[32], n2[32], b1[32];
	struct md_slab_cache **sorted;

	char line[512];

	snprintf(line, sizeof(line), "unreferenced objects (-u): %s of %s allocated; scanned %s of roots, "
		 "%" PRIu64 " objects, %" PRIu64 " vmap areas, %" PRIu64 " other pages",
		 md_count(o->orphans, n1), md_count(o->allocated_objects, n2),
		 md_human_bytes(o->root_bytes, b1), o->objects_scanned, o->areas_scanned,
		 o->pages_scanned);
	md_printf(out, "\n");
	md_print_wrapped(out, 0, 2, line);
	if (o->unreadable_bytes)	/* exact: each page lost can hide a reference */
		md_print_problem(out, 2, "%" PRIu64 " bytes (%s) of roots could not be read (not in the dump): "
				 "an object referenced only from there is counted unreferenced",
				 o->unreadable_bytes, md_human_bytes(o->unreadable_bytes, b1));
	if (o->pages_alone)
		md_print_problem(out, 2, "%" PRIu64 " reached page%s scanned alone: %s struct page could not "
				 "be read or made no sense, so the rest of a compound allocation was not "
				 "scanned", o->pages_alone, o->pages_alone == 1 ? " was" : "s were",
				 o->pages_alone == 1 ? "its" : "their");
	for (size_t i = 0; i < o->nr_errors; i++)
		md_print_problem(out, 2, "%s", o->errors[i]);
	if (!rows || !n || !(sorted = malloc(n * sizeof(*sorted))))
		return;
	memcpy(sorted, rows, n * sizeof(*sorted));
	qsort_r(sorted, n, sizeof(*sorted), compare_cache_orphans, (void *)o);
	md_printf(out, "    ORPHANS   ALLOCATED  SHARE  NAME\n");
	for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
		const struct md_slab_cache *c = sorted[i];
		uint64_t orphans = md_orphans_in_cache(o, c);

		if (!orphans)
			break;
		md_printf(out, "%11s %11s %5.1f%%  %s\n", md_count(orphans, n1),
			  md_count(c->allocated, n2), 100.0 * orphans / (c->allocated ? c->allocated : 1),
			  c->name);
	}
	free(sorted);
}

static struct md_json *orphans_json(const struct md_orphans *o, struct md_slab_cache **rows,
				    size_t n)
{
	struct md_json *doc = md_json_object(), *caches = md_json_array();

	md_json_object_add(doc, "allocated_objects", md_json_int64(o->allocated_objects));
	md_json_object_add(doc, "orphans", md_json_int64(o->orphans));
	md_json_object_add(doc, "root_bytes", md_json_int64(o->root_bytes));
	md_json_object_add(doc, "objects_scanned", md_json_int64(o->objects_scanned));
	md_json_object_add(doc, "areas_scanned", md_json_int64(o->areas_scanned));
	md_json_object_add(doc, "pages_scanned", md_json_int64(o->pages_scanned));
	md_json_object_add(doc, "unreadable_bytes", md_json_int64(o->unreadable_bytes));
	md_json_object_add(doc, "pages_alone", md_json_int64(o->pages_alone));
	md_json_object_add(doc, "errors", md_json_strings(o->errors, o->nr_errors));
	for (size_t i = 0; i < n; i++) {
		struct md_json *c = md_json_object();

		md_json_object_add(c, "name", md_json_string(rows[i]->name));
		md_json_object_add(c, "orphans",
				   md_json_int64(md_orphans_in_cache(o, rows[i])));
		md_json_array_add(caches, c);
	}
	md_json_object_add(doc, "caches", caches);
	return doc;
}

/* -l: a verdict for every cache. */
static struct md_error *all_verdicts(struct md_session *s, struct md_slab_cache **rows, size_t n,
				     const struct md_orphans *orphans, struct md_output *out)
{
	struct md_json *list = md_output_is_json(out) ? md_json_array() : NULL;
	size_t shown = 0;

	for (size_t i = 0; i < n; i++) {
		struct md_leak_report *r;
		struct md_error *err;

		if (rows[i]->unreadable || !rows[i]->allocated)
			continue;
		if ((err = md_leak_analyze(s, out, rows[i], orphans, &r))) {
			if (md_error_root_code(err) == MD_ERR_INTERRUPTED ||
			    md_error_root_code(err) == MD_ERR_NOMEM) {
				md_json_put(list);
				return err;
			}
			md_warn_error(out, md_error_wrap(err, "%s", rows[i]->name));
			continue;
		}
		if (list) {
			bool leak = r->level == MD_LEAK_PROBABLE || r->level == MD_LEAK_POSSIBLE;
			char next[96];
			struct md_json *o;

			snprintf(next, sizeof(next), "slableak %s", rows[i]->name);
			o = md_json_verdict(md_leak_level_name(r->level), r->verdict, leak ? next : NULL);
			md_json_object_add(o, "cache", md_json_string(rows[i]->name));
			if (r->nr_errors)
				md_json_object_add(o, "errors", md_json_strings(r->errors, r->nr_errors));
			md_json_array_add(list, o);
		} else if (r->level == MD_LEAK_PROBABLE || r->level == MD_LEAK_POSSIBLE ||
			   (r->level == MD_LEAK_RECLAIMABLE && rows[i]->allocated >= LEAK_MIN_OBJECTS)) {
			md_print_wrapped(out, 0, 2, r->verdict ? r->verdict : rows[i]->name);
			shown++;
		}
		/* the objects the verdict could not see */
		for (size_t j = 0; !list && j < r->nr_errors; j++)
			md_print_problem(out, 2, "%s", r->errors[j]);
		md_leak_report_destroy(r);
	}
	if (list)
		md_json_object_add(md_output_doc(out), "verdicts", list);
	else
		md_printf(out, "%zu of %zu caches with something to say; the others show no sign of a leak\n",
			  shown, n);
	return NULL;
}


struct md_error *md_cmd_slableak(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	const char *only = a->nr_operands ? a->operands[0] : NULL;
	long limit = md_arg_number(a, 'n', -1);
	bool verdicts = md_arg_given(a, 'l'), unreferenced = md_arg_given(a, 'u');
	struct md_orphans *orphans = NULL;
	struct md_slab_state *st;
	struct md_slab_cache **rows;
	struct md_leak_report *report = NULL;
	struct md_error *err;
	size_t nr_rows = 0, nr_all;
	uint64_t reclaimable = 0, unreclaimable = 0, only_addr = 0;

	/* a kmem_cache address too, as crash's kmem -s takes */
	if (only && (!strncmp(only, "0x", 2) || strspn(only, "0123456789abcdef") == 16)) {
		char *end;

		only_addr = strtoull(only, &end, 16);
		if (*end || !only_addr)
			only_addr = 0;
	}
	if ((err = md_slab_walk(s, &st)))
		return err;
	rows = calloc(st->nr_caches ? st->nr_caches : 1, sizeof(*rows));
	if (!rows)
		return md_error_nomem();
	for (size_t i = 0; i < st->nr_caches; i++) {
		struct md_slab_cache *c = &st->caches[i];

		if (c->reclaimable)
			reclaimable += c->bytes;
		else
			unreclaimable += c->bytes;
		if (!only || !strcmp(c->name, only) || (only_addr && c->address == only_addr))
			rows[nr_rows++] = c;
	}
	/* as a user may type it: "KMALLOC-128", "Dentry" */
	for (size_t i = 0; only && !nr_rows && i < st->nr_caches; i++)
		if (!strcasecmp(st->caches[i].name, only))
			rows[nr_rows++] = &st->caches[i];
	if (only && !nr_rows) {
		free(rows);
		return md_error_create(MD_ERR_INVALID, "slableak: no slab cache named '%s' (slableak lists "
				       "them all)", only);
	}
	qsort(rows, nr_rows, sizeof(*rows), md_slab_cache_compare_bytes);
	nr_all = nr_rows;
	if (only && nr_rows > 1)	/* a corrupt name, or a module's cache made twice */
		md_warn(out, "slableak: %zu caches are named '%s' (kmem_cache 0x%" PRIx64 ", 0x%" PRIx64
			"%s): the largest is analysed; give a kmem_cache address to pick another",
			nr_rows, only, rows[0]->address, rows[1]->address, nr_rows > 2 ? ", ..." : "");
	if (unreferenced && (err = md_orphans_get(s, out, &orphans))) {
		if (md_error_root_code(err) == MD_ERR_INTERRUPTED ||
		    md_error_root_code(err) == MD_ERR_NOMEM) {
			free(rows);
			return err;
		}
		md_warn_error(out, md_error_wrap(err, "-u"));
		orphans = NULL;
	}
	if (limit >= 0 && (size_t)limit < nr_rows)
		nr_rows = limit;
	if (only && !rows[0]->unreadable && (err = md_leak_analyze(s, out, rows[0], orphans, &report))) {
		free(rows);
		return err;
	}

	if (md_output_is_json(out)) {
		struct md_json *doc = md_output_doc(out), *caches = md_json_array();
		struct md_json *errors = md_json_array();

		for (size_t i = 0; i < nr_rows; i++)
			md_json_array_add(caches, cache_json(s, rows[i]));
		md_json_object_add(doc, "caches", caches);
		for (size_t i = 0; i < st->nr_errors; i++)
			md_json_array_add(errors, md_json_string(st->errors[i]));
		md_json_object_add(doc, "errors", errors);
		md_json_object_add(doc, "reclaimable_bytes", md_json_int64(reclaimable));
		md_json_object_add(doc, "unreclaimable_bytes", md_json_int64(unreclaimable));
		if (report)
			leak_report_json(s, report, doc);
		if (orphans)
			md_json_object_add(doc, "orphan_scan", orphans_json(orphans, rows, nr_all));
	} else {
		char a[32], b[32];

		/* the conclusion first: the totals, or the cache's verdict */
		if (!only)
			md_printf(out, "slab memory: %s reclaimable, %s unreclaimable, in %zu caches\n\n",
				  md_human_bytes(reclaimable, a), md_human_bytes(unreclaimable, b),
				  st->nr_caches);
		if (report && report->verdict) {
			md_printf(out, "VERDICT\n");
			md_print_wrapped(out, 2, 4, report->verdict);
			md_printf(out, "\n");
		}
		md_table_heading(out, cache_fields);
		for (size_t i = 0; i < nr_rows; i++)
			cache_text(s, rows[i], out);
		if (only)
			cache_accounting_text(s, rows[0], out);
		if (report)
			leak_report_text(s, report, out);
		for (size_t i = 0; i < st->nr_errors; i++)
			md_print_problem(out, 2, "%s", st->errors[i]);
		if (orphans)
			orphans_text(orphans, only ? NULL : rows, nr_all, out);
	}
	if (verdicts && !only) {
		if (!md_output_is_json(out))
			md_printf(out, "\n");
		err = all_verdicts(s, rows, nr_all, orphans, out);
	}
	md_leak_report_destroy(report);
	free(rows);
	return err;
}
