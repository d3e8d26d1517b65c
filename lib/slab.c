/* SLUB accounting: every cache on slab_caches, counted exactly.
 *
 * The kernel's own lists do not hold every slab: a full slab is on no list
 * unless the cache keeps SLAB_STORE_USER.  So the slabs are found the other
 * way round, from the struct pages: one sequential pass over the vmemmap
 * (read in large blocks) files every slab page under the cache its
 * slab_cache points at.  Then, per cache, the free objects are counted by
 * walking each slab's freelist and each CPU's lockless freelist, as
 * mm/slub.c count_free() and the /proc/slabinfo code would see them, and the
 * lists and the kernel's counters (kmem_cache_node nr_slabs/total_objects)
 * are checked against what the pass found.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "slab.h"

#define MAX_ERRORS_PER_CACHE 8
#define VMEMMAP_CHUNK (1u << 20)	/* bytes of struct page read at once */

/* How a struct page says "I am a slab". */
enum slab_mark {
	SLAB_MARK_PAGE_FLAG,	/* PG_slab in page->flags (before 6.10) */
	SLAB_MARK_TYPE_BIT,	/* PG_slab as a page_type bit (6.10, 6.11) */
	SLAB_MARK_TYPE_BYTE,	/* PGTY_slab in page_type's top byte (6.12+) */
};

struct slab_layout {
	/* struct kmem_cache */
	uint64_t kc_list, kc_name, kc_flags, kc_size, kc_object_size, kc_offset, kc_inuse;
	uint64_t kc_red_left_pad, kc_random, kc_oo, kc_min, kc_cpu_slab, kc_node;
	/* struct kmem_cache_cpu */
	uint64_t cpu_freelist, cpu_slab, cpu_page, cpu_partial;
	/* struct kmem_cache_node */
	uint64_t node_nr_partial, node_partial, node_nr_slabs, node_total_objects, node_full;
	/* struct slab, or struct page before it was split out */
	const char *slab_type;
	uint64_t slab_cache, slab_freelist, slab_list, slab_next;
	struct md_member slab_inuse, slab_objects, slab_frozen;
	/* struct page */
	uint64_t page_flags, page_compound_head, page_type;
	enum slab_mark mark;
	uint64_t mark_value;
	/* slab_flags_t bits */
	uint64_t flag_reclaim, flag_store_user;
};

static void add_message(char ***list, size_t *n, const char *fmt, va_list ap)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(char *));
	char *msg;

	if (!grown)
		return;
	*list = grown;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	grown[(*n)++] = msg;
}

static void cache_error(struct md_slab_cache *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_message(&c->errors, &c->nr_errors, fmt, ap);
	va_end(ap);
}

static void state_error(struct md_slab_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_message(&st->errors, &st->nr_errors, fmt, ap);
	va_end(ap);
}

static void cache_error_obj(struct md_slab_cache *c, struct md_error *err)
{
	char *msg = md_error_string(err);

	cache_error(c, "%s", msg ? msg : "out of memory");
	free(msg);
	md_error_destroy(err);
}

/* A flag bit: an enumerator of enum _slab_flag_bits where the kernel has one
 * (6.9, "mm/slab: introduce kmem_cache flag bits as an enum"), else the old
 * #define value from include/linux/slab.h. */
static uint64_t slab_flag(struct md_session *s, const char *bit_name, uint64_t old_value)
{
	int64_t bit;
	struct md_error *err = md_enumerator(s, bit_name, &bit);

	if (err) {
		md_error_destroy(err);
		return old_value;
	}
	return 1ULL << bit;
}

static struct md_error *slab_mark(struct md_session *s, struct slab_layout *l)
{
	int64_t v;
	struct md_error *err;

	/* 6.12 "mm: introduce page_type enum": the type is page_type >> 24. */
	if (!(err = md_enumerator(s, "PGTY_slab", &v))) {
		l->mark = SLAB_MARK_TYPE_BYTE;
		l->mark_value = v;
		return md_member_offset(s, "struct page", "page_type", &l->page_type);
	}
	md_error_destroy(err);
	if ((err = md_enumerator(s, "PG_slab", &v)))
		return md_error_wrap(err, "cannot tell slab pages: neither PGTY_slab nor PG_slab");
	if (v < 64) {
		l->mark = SLAB_MARK_PAGE_FLAG;
		l->mark_value = v;
		return NULL;
	}
	/* 6.10 "mm: free up PG_slab": PG_slab is a page_type bit, set when clear. */
	l->mark = SLAB_MARK_TYPE_BIT;
	l->mark_value = v;
	return md_member_offset(s, "struct page", "page_type", &l->page_type);
}

static struct md_error *resolve_layout(struct md_session *s, struct slab_layout *l)
{
	uint64_t size;
	struct md_error *err;

	/* 5.17 split struct slab out of struct page ("mm: Split slab into its own type"). */
	l->slab_type = "struct slab";
	if ((err = md_type_size(s, "struct slab", &size))) {
		md_error_destroy(err);
		l->slab_type = "struct page";
	}
	const struct md_field fields[] = {
		{ "struct kmem_cache", "list", &l->kc_list },
		{ "struct kmem_cache", "name", &l->kc_name },
		{ "struct kmem_cache", "flags", &l->kc_flags },
		{ "struct kmem_cache", "size", &l->kc_size },
		{ "struct kmem_cache", "object_size", &l->kc_object_size },
		{ "struct kmem_cache", "offset", &l->kc_offset },
		{ "struct kmem_cache", "inuse", &l->kc_inuse },
		{ "struct kmem_cache", "red_left_pad", &l->kc_red_left_pad, 1 },
		{ "struct kmem_cache", "random", &l->kc_random, 1 },	/* SLAB_FREELIST_HARDENED */
		{ "struct kmem_cache", "oo", &l->kc_oo },
		{ "struct kmem_cache", "min", &l->kc_min },
		{ "struct kmem_cache", "cpu_slab", &l->kc_cpu_slab },
		{ "struct kmem_cache", "node", &l->kc_node },
		{ "struct kmem_cache_cpu", "freelist", &l->cpu_freelist },
		/* 5.17 renamed kmem_cache_cpu.page to .slab */
		{ "struct kmem_cache_cpu", "slab", &l->cpu_slab, 1 },
		{ "struct kmem_cache_cpu", "page", &l->cpu_page, 1 },
		{ "struct kmem_cache_cpu", "partial", &l->cpu_partial, 1 },	/* SLUB_CPU_PARTIAL */
		{ "struct kmem_cache_node", "nr_partial", &l->node_nr_partial },
		{ "struct kmem_cache_node", "partial", &l->node_partial },
		/* CONFIG_SLUB_DEBUG keeps counters and a full list */
		{ "struct kmem_cache_node", "nr_slabs", &l->node_nr_slabs, 1 },
		{ "struct kmem_cache_node", "total_objects", &l->node_total_objects, 1 },
		{ "struct kmem_cache_node", "full", &l->node_full, 1 },
		{ l->slab_type, "slab_cache", &l->slab_cache },
		{ l->slab_type, "freelist", &l->slab_freelist },
		{ l->slab_type, "slab_list", &l->slab_list },
		{ l->slab_type, "next", &l->slab_next, 1 },
		{ "struct page", "flags", &l->page_flags },
		{ "struct page", "compound_head", &l->page_compound_head },
	};
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))))
		return err;
	if (l->cpu_slab == MD_NO_OFFSET)
		l->cpu_slab = l->cpu_page;
	if (l->cpu_slab == MD_NO_OFFSET)
		return md_error_create(MD_ERR_LOOKUP, "this kernel lacks kmem_cache_cpu.slab and .page");
	const struct { const char *name; struct md_member *m; } bits[] = {
		{ "inuse", &l->slab_inuse }, { "objects", &l->slab_objects }, { "frozen", &l->slab_frozen },
	};
	for (size_t i = 0; i < 3; i++) {
		err = s->target.ops->member(s->target.priv, l->slab_type, bits[i].name, bits[i].m);
		if (err)
			return md_error_wrap(err, "this kernel lacks %s.%s, which memdiag needs",
					     l->slab_type, bits[i].name);
		if (!bits[i].m->bit_size)
			bits[i].m->bit_size = bits[i].m->size * 8;
	}
	l->flag_reclaim = slab_flag(s, "_SLAB_RECLAIM_ACCOUNT", 0x00020000);
	l->flag_store_user = slab_flag(s, "_SLAB_STORE_USER", 0x00010000);
	return slab_mark(s, l);
}

static uint64_t get_bits(const void *buf, const struct md_member *m)
{
	uint64_t v = md_get_u64(buf, m->bit_offset / 8) >> (m->bit_offset % 8);

	return m->bit_size >= 64 ? v : v & ((1ULL << m->bit_size) - 1);
}

static bool page_is_slab(const struct slab_layout *l, const unsigned char *page)
{
	uint32_t type;

	switch (l->mark) {
	case SLAB_MARK_PAGE_FLAG:
		return (md_get_u64(page, l->page_flags) >> l->mark_value) & 1;
	case SLAB_MARK_TYPE_BIT:
		/* include/linux/page-flags.h (6.10) PageType(): base set, bit clear */
		type = md_get_u32(page, l->page_type);
		return (type & (0x80000000u | l->mark_value)) == 0x80000000u;
	case SLAB_MARK_TYPE_BYTE:
		return md_get_u32(page, l->page_type) >> 24 == l->mark_value;
	}
	return false;
}

/* Cache address -> index, open addressing. */
struct cache_map {
	uint64_t *keys;
	size_t *values;
	size_t mask;
};

static struct md_error *cache_map_build(struct cache_map *m, const struct md_slab_state *st)
{
	size_t cap = 16;

	while (cap < st->nr_caches * 2)
		cap *= 2;
	m->keys = calloc(cap, sizeof(uint64_t));
	m->values = calloc(cap, sizeof(size_t));
	m->mask = cap - 1;
	if (!m->keys || !m->values)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < st->nr_caches; i++) {
		size_t h = (st->caches[i].address >> 6) & m->mask;

		while (m->keys[h])
			h = (h + 1) & m->mask;
		m->keys[h] = st->caches[i].address;
		m->values[h] = i;
	}
	return NULL;
}

static struct md_slab_cache *cache_map_find(const struct cache_map *m, struct md_slab_state *st,
					     uint64_t addr)
{
	size_t h = (addr >> 6) & m->mask;

	if (!addr)
		return NULL;
	while (m->keys[h]) {
		if (m->keys[h] == addr)
			return &st->caches[m->values[h]];
		h = (h + 1) & m->mask;
	}
	return NULL;
}

static struct md_error *add_slab(struct md_slab_cache *c, const struct md_slab *slab)
{
	if (c->nr_slabs == c->slabs_cap) {
		size_t cap = c->slabs_cap ? c->slabs_cap * 2 : 64;
		struct md_slab *grown = realloc(c->slabs, cap * sizeof(*grown));

		if (!grown)
			return md_error_create(MD_ERR_NOMEM, "out of memory");
		c->slabs = grown;
		c->slabs_cap = cap;
	}
	c->slabs[c->nr_slabs++] = *slab;
	return NULL;
}

static struct md_error *file_slab_pages(struct md_session *s, const struct slab_layout *l,
					struct md_slab_state *st, const struct cache_map *map,
					const unsigned char *buf, uint64_t first_page, size_t nr_pages)
{
	const uint64_t psize = s->kernel.page_struct_size;

	for (size_t i = 0; i < nr_pages; i++) {
		const unsigned char *page = buf + i * psize;
		struct md_slab_cache *c;
		struct md_slab slab;
		struct md_error *err;

		if ((md_get_u64(page, l->page_compound_head) & 1) || !page_is_slab(l, page))
			continue;	/* tail pages carry nothing of the slab */
		c = cache_map_find(map, st, md_get_u64(page, l->slab_cache));
		if (!c) {
			st->unknown_cache_slabs++;
			continue;
		}
		slab.page = first_page + i * psize;
		slab.freelist = md_get_u64(page, l->slab_freelist);
		slab.inuse = get_bits(page, &l->slab_inuse);
		slab.objects = get_bits(page, &l->slab_objects);
		slab.frozen = get_bits(page, &l->slab_frozen);
		if ((err = add_slab(c, &slab)))
			return err;
	}
	return NULL;
}

/* One pass over every node's struct pages. */
static struct md_error *scan_vmemmap(struct md_session *s, const struct slab_layout *l,
				     struct md_slab_state *st)
{
	const struct md_kernel *k = &s->kernel;
	const uint64_t psize = k->page_struct_size;
	const size_t per_chunk = VMEMMAP_CHUNK / psize;
	uint64_t start_off, spanned_off;
	struct cache_map map = { 0 };
	unsigned char *buf = malloc(per_chunk * psize);
	struct md_error *err;

	if (!buf)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	if ((err = md_member_offset(s, "struct pglist_data", "node_start_pfn", &start_off)) ||
	    (err = md_member_offset(s, "struct pglist_data", "node_spanned_pages", &spanned_off)) ||
	    (err = cache_map_build(&map, st)))
		goto out;
	for (unsigned int nid = 0; nid < k->nr_nodes; nid++) {
		uint64_t pgdat = k->node_pgdat[nid], start, spanned, pfn, skipped = 0;

		if (!pgdat)
			continue;
		if ((err = md_read_u64(s, pgdat + start_off, &start)) ||
		    (err = md_read_u64(s, pgdat + spanned_off, &spanned))) {
			state_error(st, "node %u: cannot read its pfn range", nid);
			md_error_destroy(err);
			err = NULL;
			continue;
		}
		for (pfn = start; pfn < start + spanned; pfn += per_chunk) {
			size_t n = start + spanned - pfn < per_chunk ? start + spanned - pfn : per_chunk;
			uint64_t page = k->vmemmap + pfn * psize;

			if (md_interrupted(s)) {
				err = md_error_create(MD_ERR_INTERRUPTED, "interrupted");
				goto out;
			}
			err = md_read(s, page, buf, n * psize);
			if (!err) {
				err = file_slab_pages(s, l, st, &map, buf, page, n);
				if (err)
					goto out;
				continue;
			}
			md_error_destroy(err);
			err = NULL;
			/* A hole in the memory map: retry page by page of vmemmap. */
			for (size_t done = 0; done < n;) {
				uint64_t addr = page + done * psize;
				size_t step = (k->page_size - (addr & (k->page_size - 1))) / psize;
				struct md_error *e;

				if (step == 0)
					step = 1;
				if (step > n - done)
					step = n - done;
				e = md_read(s, addr, buf, step * psize);
				if (e) {
					md_error_destroy(e);
					skipped += step;
				} else if ((err = file_slab_pages(s, l, st, &map, buf, addr, step))) {
					goto out;
				}
				done += step;
			}
		}
		if (skipped)
			state_error(st, "node %u: struct pages of %" PRIu64 " pfns not in the dump; "
				    "slabs there are not counted", nid, skipped);
	}
out:
	free(map.keys);
	free(map.values);
	free(buf);
	return err;
}

static struct md_error *read_cache(struct md_session *s, const struct slab_layout *l,
				   uint64_t addr, struct md_slab_cache *c)
{
	uint64_t cache_size, name;
	unsigned char *buf;
	struct md_error *err;

	if ((err = md_type_size(s, "struct kmem_cache", &cache_size)))
		return err;
	buf = malloc(cache_size);
	if (!buf)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	err = md_read(s, addr, buf, cache_size);
	if (err) {
		free(buf);
		return err;
	}
	c->address = addr;
	c->flags = md_get_u32(buf, l->kc_flags);	/* slab_flags_t is 32 bits */
	c->size = md_get_u32(buf, l->kc_size);
	c->object_size = md_get_u32(buf, l->kc_object_size);
	c->offset = md_get_u32(buf, l->kc_offset);
	c->inuse = md_get_u32(buf, l->kc_inuse);
	c->red_left_pad = l->kc_red_left_pad == MD_NO_OFFSET ? 0 : md_get_u32(buf, l->kc_red_left_pad);
	c->random = l->kc_random == MD_NO_OFFSET ? 0 : md_get_u64(buf, l->kc_random);
	/* mm/slub.c oo_order()/oo_objects(): OO_SHIFT 16 */
	c->oo_order = md_get_u32(buf, l->kc_oo) >> 16;
	c->oo_objects = md_get_u32(buf, l->kc_oo) & 0xffff;
	c->min_order = md_get_u32(buf, l->kc_min) >> 16;
	c->min_objects = md_get_u32(buf, l->kc_min) & 0xffff;
	c->cpu_slab = md_get_u64(buf, l->kc_cpu_slab);
	c->reclaimable = c->flags & l->flag_reclaim;
	c->store_user = c->flags & l->flag_store_user;
	name = md_get_u64(buf, l->kc_name);
	free(buf);
	if ((err = md_read_cstring(s, name, c->name, sizeof(c->name))))
		snprintf(c->name, sizeof(c->name), "(unreadable name at 0x%" PRIx64 ")", name);
	md_error_destroy(err);
	if (c->size == 0 || c->size < c->object_size || c->offset >= c->size + 8)
		return md_error_create(MD_ERR_CORRUPT, "kmem_cache 0x%" PRIx64 " (%s): size %u, "
				       "object_size %u, offset %u make no sense",
				       addr, c->name, c->size, c->object_size, c->offset);
	/* MAX_PAGE_ORDER is 10 on x86-64; anything far above is garbage. */
	if (c->oo_order > 16 || c->min_order > 16) {
		unsigned int oo = c->oo_order, min = c->min_order;

		c->oo_order = c->min_order = 0;
		return md_error_create(MD_ERR_CORRUPT, "kmem_cache 0x%" PRIx64 " (%s): slab orders "
				       "%u and %u make no sense", addr, c->name, oo, min);
	}
	return NULL;
}

/* slab_caches, with a bound and a check that the list comes back home. */
static struct md_error *read_cache_list(struct md_session *s, const struct slab_layout *l,
					struct md_slab_state *st)
{
	uint64_t head, next;
	size_t cap = 0;
	struct md_error *err;

	if ((err = md_symbol(s, "slab_caches", &head)) || (err = md_read_u64(s, head, &next)))
		return md_error_wrap(err, "reading slab_caches");
	while (next != head) {
		struct md_slab_cache *c;
		uint64_t addr = next - l->kc_list;

		if (st->nr_caches >= 100000) {
			state_error(st, "slab_caches: more than 100000 entries, a cycle? stopped there");
			break;
		}
		if (st->nr_caches == cap) {
			struct md_slab_cache *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(st->caches, cap * sizeof(*grown));
			if (!grown)
				return md_error_create(MD_ERR_NOMEM, "out of memory");
			st->caches = grown;
		}
		c = &st->caches[st->nr_caches];
		memset(c, 0, sizeof(*c));
		err = read_cache(s, l, addr, c);
		if (err) {
			/* Keep what we know; its list link may still be good. */
			if (!c->name[0])
				snprintf(c->name, sizeof(c->name), "(kmem_cache 0x%" PRIx64 ")", addr);
			c->address = addr;
			c->unreadable = true;
			cache_error_obj(c, err);
		}
		st->nr_caches++;
		if ((err = md_read_u64(s, next, &next))) {
			state_error(st, "slab_caches: list broken after %s (0x%" PRIx64 "); "
				    "caches after it are missing", c->name, addr);
			md_error_destroy(err);
			break;
		}
	}
	return NULL;
}

static int compare_slab_page(const void *a, const void *b)
{
	uint64_t x = ((const struct md_slab *)a)->page, y = ((const struct md_slab *)b)->page;

	return x < y ? -1 : x > y;
}

static struct md_slab *find_slab(struct md_slab_cache *c, uint64_t page)
{
	struct md_slab key = { .page = page };

	if (!c->nr_slabs)
		return NULL;
	return bsearch(&key, c->slabs, c->nr_slabs, sizeof(key), compare_slab_page);
}

/* Where each slab sits in the kernel's bookkeeping; one byte per slab. */
enum { ON_CPU = 1, ON_CPU_PARTIAL = 2, ON_NODE_PARTIAL = 4, ON_NODE_FULL = 8 };

struct cpu_freelist {
	size_t slab;		/* index in c->slabs */
	uint64_t freelist;	/* kmem_cache_cpu.freelist */
	unsigned int cpu;
};

/* Walks a list_head of slabs (node partial or full), marking them. */
static uint64_t walk_slab_list(struct md_session *s, const struct slab_layout *l,
			       struct md_slab_cache *c, uint8_t *where, uint8_t mark,
			       uint64_t head, const char *what, unsigned int nid)
{
	uint64_t next, count = 0;
	struct md_error *err;

	if ((err = md_read_u64(s, head, &next))) {
		cache_error(c, "node %u %s list: head unreadable", nid, what);
		md_error_destroy(err);
		return 0;
	}
	while (next != head) {
		struct md_slab *slab = find_slab(c, next - l->slab_list);

		if (!slab) {
			cache_error(c, "node %u %s list: 0x%" PRIx64 " is not a slab of this cache; "
				    "rest of the list not walked", nid, what, next - l->slab_list);
			break;
		}
		if (where[slab - c->slabs] & mark) {
			cache_error(c, "node %u %s list: cycle at slab 0x%" PRIx64, nid, what, slab->page);
			break;
		}
		where[slab - c->slabs] |= mark;
		count++;
		if ((err = md_read_u64(s, next, &next))) {
			cache_error(c, "node %u %s list: link of slab 0x%" PRIx64 " unreadable",
				    nid, what, slab->page);
			md_error_destroy(err);
			break;
		}
	}
	return count;
}

static void walk_nodes(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c,
		       uint8_t *where)
{
	for (unsigned int nid = 0; nid < s->kernel.nr_nodes; nid++) {
		uint64_t node, nr_partial, walked, v;
		struct md_error *err;

		if ((err = md_read_u64(s, c->address + l->kc_node + nid * 8, &node))) {
			cache_error_obj(c, md_error_wrap(err, "node %u", nid));
			continue;
		}
		if (!node)
			continue;
		if ((err = md_read_u64(s, node + l->node_nr_partial, &nr_partial))) {
			cache_error_obj(c, md_error_wrap(err, "node %u kmem_cache_node", nid));
			continue;
		}
		walked = walk_slab_list(s, l, c, where, ON_NODE_PARTIAL, node + l->node_partial,
					"partial", nid);
		c->node_partial_slabs += walked;
		if (walked != nr_partial)
			cache_error(c, "node %u: nr_partial is %" PRIu64 " but %" PRIu64
				    " slabs are on the partial list", nid, nr_partial, walked);
		if (c->store_user && l->node_full != MD_NO_OFFSET)
			c->node_full_slabs += walk_slab_list(s, l, c, where, ON_NODE_FULL,
							     node + l->node_full, "full", nid);
		if (l->node_nr_slabs == MD_NO_OFFSET || l->node_total_objects == MD_NO_OFFSET)
			continue;
		c->have_kernel_counters = true;
		if (!(err = md_read_u64(s, node + l->node_nr_slabs, &v)))
			c->kernel_nr_slabs += v;
		if (!err && !(err = md_read_u64(s, node + l->node_total_objects, &v)))
			c->kernel_total_objects += v;
		if (err) {
			c->have_kernel_counters = false;
			md_error_destroy(err);
		}
	}
}

/* Per CPU: the active slab with its lockless freelist, and the partial chain. */
static size_t walk_cpus(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c,
			uint8_t *where, struct cpu_freelist *cpu_free)
{
	size_t nr_cpu_free = 0;

	for (unsigned int cpu = 0; cpu < s->kernel.nr_cpus; cpu++) {
		uint64_t pcp = c->cpu_slab + s->kernel.per_cpu_offset[cpu], freelist, slab_addr, next;
		struct md_slab *slab;
		struct md_error *err;
		unsigned int steps = 0;

		if (!md_cpu_possible(&s->kernel, cpu))
			continue;
		if ((err = md_read_u64(s, pcp + l->cpu_freelist, &freelist)) ||
		    (err = md_read_u64(s, pcp + l->cpu_slab, &slab_addr))) {
			cache_error_obj(c, md_error_wrap(err, "cpu %u kmem_cache_cpu", cpu));
			continue;
		}
		if (slab_addr) {
			slab = find_slab(c, slab_addr);
			if (!slab) {
				cache_error(c, "cpu %u: active slab 0x%" PRIx64 " is not a slab of this cache",
					    cpu, slab_addr);
			} else {
				where[slab - c->slabs] |= ON_CPU;
				c->cpu_slabs++;
				cpu_free[nr_cpu_free++] = (struct cpu_freelist){ slab - c->slabs, freelist, cpu };
			}
		} else if (freelist) {
			cache_error(c, "cpu %u: lockless freelist 0x%" PRIx64 " without an active slab",
				    cpu, freelist);
		}
		if (l->cpu_partial == MD_NO_OFFSET)
			continue;
		if ((err = md_read_u64(s, pcp + l->cpu_partial, &next))) {
			cache_error_obj(c, md_error_wrap(err, "cpu %u partial slabs", cpu));
			continue;
		}
		while (next) {
			slab = find_slab(c, next);
			if (!slab) {
				cache_error(c, "cpu %u partial: 0x%" PRIx64 " is not a slab of this cache",
					    cpu, next);
				break;
			}
			if ((where[slab - c->slabs] & ON_CPU_PARTIAL) || ++steps > c->nr_slabs) {
				cache_error(c, "cpu %u partial: cycle at slab 0x%" PRIx64, cpu, next);
				break;
			}
			where[slab - c->slabs] |= ON_CPU_PARTIAL;
			c->cpu_partial_slabs++;
			if ((err = md_read_u64(s, next + l->slab_next, &next))) {
				cache_error_obj(c, md_error_wrap(err, "cpu %u partial chain", cpu));
				break;
			}
		}
	}
	return nr_cpu_free;
}

static unsigned int slab_order(const struct md_session *s, const struct md_slab_cache *c,
			       const struct md_slab *slab)
{
	unsigned int order = 0;

	if (slab->objects == c->oo_objects)
		return c->oo_order;
	if (slab->objects == c->min_objects)
		return c->min_order;
	while (order < 16 && (s->kernel.page_size << order) < (uint64_t)slab->objects * c->size + c->red_left_pad)
		order++;
	return order;
}

/* Is p the start of an object of this slab?  (mm/slub.c check_valid_pointer) */
static bool valid_object(const struct md_slab_cache *c, uint64_t base, uint32_t objects, uint64_t p)
{
	uint64_t first = base + c->red_left_pad;

	return p >= first && p < first + (uint64_t)objects * c->size && (p - first) % c->size == 0;
}

enum freeptr_mode { FREEPTR_SWAB, FREEPTR_NO_SWAB };

/* mm/slub.c freelist_ptr_decode() (6.1: freelist_ptr()): with
 * CONFIG_SLAB_FREELIST_HARDENED the stored pointer is
 * ptr ^ s->random ^ swab(address it is stored at); before 5.7 without swab. */
static uint64_t decode_freeptr(const struct md_slab_cache *c, uint64_t stored, uint64_t at,
			       enum freeptr_mode mode)
{
	if (!c->random)
		return stored;
	return stored ^ c->random ^ (mode == FREEPTR_SWAB ? __builtin_bswap64(at) : at);
}

/* Counts the free objects on one freelist inside the slab's bytes. */
static struct md_error *count_freelist(const struct md_slab_cache *c, const unsigned char *mem,
				       uint64_t base, uint32_t objects, uint64_t head,
				       enum freeptr_mode *mode, uint32_t *ret)
{
	uint32_t n = 0;
	uint64_t p = head;

	while (p) {
		uint64_t at, stored, next;

		if (!valid_object(c, base, objects, p))
			return md_error_create(MD_ERR_CORRUPT, "free pointer 0x%" PRIx64 " is not an "
					       "object of slab 0x%" PRIx64, p, base);
		if (++n > objects)
			return md_error_create(MD_ERR_CORRUPT, "freelist of slab 0x%" PRIx64 " is longer "
					       "than its %u objects: a cycle", base, objects);
		at = p + c->offset;
		stored = md_get_u64(mem, at - base);
		next = decode_freeptr(c, stored, at, *mode);
		if (next && !valid_object(c, base, objects, next) && *mode == FREEPTR_SWAB) {
			uint64_t alt = decode_freeptr(c, stored, at, FREEPTR_NO_SWAB);

			if (valid_object(c, base, objects, alt)) {
				*mode = FREEPTR_NO_SWAB;
				next = alt;
			}
		}
		p = next;
	}
	*ret = n;
	return NULL;
}

static void count_objects(struct md_session *s, struct md_slab_cache *c, const uint8_t *where,
			  const struct cpu_freelist *cpu_free, size_t nr_cpu_free)
{
	enum freeptr_mode mode = FREEPTR_SWAB;
	unsigned char *mem = NULL;
	size_t mem_size = 0;
	uint64_t mismatched = 0;

	for (size_t i = 0; i < c->nr_slabs; i++) {
		const struct md_slab *slab = &c->slabs[i];
		uint64_t bytes = s->kernel.page_size << slab_order(s, c, slab);
		uint64_t base = md_page_to_virt(&s->kernel, slab->page);
		const struct cpu_freelist *cpu = NULL;
		uint32_t free_objects = 0, n;
		struct md_error *err;

		c->total += slab->objects;
		c->bytes += bytes;
		for (size_t j = 0; (where[i] & ON_CPU) && j < nr_cpu_free; j++)
			if (cpu_free[j].slab == i)
				cpu = &cpu_free[j];
		if (!slab->freelist && !(cpu && cpu->freelist)) {
			c->allocated += slab->objects;
			continue;
		}
		if (bytes > mem_size) {
			unsigned char *grown = realloc(mem, bytes);

			if (!grown) {
				cache_error(c, "out of memory reading slab 0x%" PRIx64, base);
				break;
			}
			mem = grown;
			mem_size = bytes;
		}
		if ((err = md_read(s, base, mem, bytes))) {
			/* Fall back on the kernel's own count for this slab. */
			cache_error_obj(c, md_error_wrap(err, "slab 0x%" PRIx64 " (%u objects, %u in use "
							 "by its counter)", base, slab->objects, slab->inuse));
			c->allocated += slab->inuse;
			continue;
		}
		err = count_freelist(c, mem, base, slab->objects, slab->freelist, &mode, &n);
		if (!err) {
			free_objects += n;
			if (cpu)
				err = count_freelist(c, mem, base, slab->objects, cpu->freelist, &mode, &n);
			if (cpu && !err)
				free_objects += n;
		}
		if (err) {
			cache_error_obj(c, err);
			c->allocated += slab->inuse;
			continue;
		}
		if (free_objects > slab->objects)
			free_objects = slab->objects;
		/* Off a CPU, a slab's inuse counter is exact (mm/slub.c __slab_free). */
		if (!(where[i] & ON_CPU) && slab->inuse + free_objects != slab->objects)
			mismatched++;
		c->allocated += slab->objects - free_objects;
	}
	if (mismatched)
		cache_error(c, "%" PRIu64 " slabs' inuse counters disagree with their freelists", mismatched);
	free(mem);
}

static void walk_cache(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c)
{
	uint8_t *where = calloc(c->nr_slabs ? c->nr_slabs : 1, 1);
	struct cpu_freelist *cpu_free = calloc(s->kernel.nr_cpus, sizeof(*cpu_free));
	size_t nr_cpu_free;

	if (!where || !cpu_free) {
		cache_error(c, "out of memory");
		goto out;
	}
	if (c->nr_slabs)
		qsort(c->slabs, c->nr_slabs, sizeof(*c->slabs), compare_slab_page);
	if (c->unreadable) {
		/* Its geometry is unknown: trust each slab's own counters. */
		for (size_t i = 0; i < c->nr_slabs; i++) {
			c->allocated += c->slabs[i].inuse;
			c->total += c->slabs[i].objects;
			c->bytes += s->kernel.page_size << slab_order(s, c, &c->slabs[i]);
		}
		cache_error(c, "counted from the slabs' inuse counters only");
		goto out;
	}
	nr_cpu_free = walk_cpus(s, l, c, where, cpu_free);
	walk_nodes(s, l, c, where);
	count_objects(s, c, where, cpu_free, nr_cpu_free);
	if (c->have_kernel_counters && c->kernel_nr_slabs != c->nr_slabs)
		cache_error(c, "the kernel counts %" PRIu64 " slabs (kmem_cache_node.nr_slabs), "
			    "the memory map has %zu", c->kernel_nr_slabs, c->nr_slabs);
	if (c->have_kernel_counters && c->kernel_total_objects != c->total)
		cache_error(c, "the kernel counts %" PRIu64 " objects (kmem_cache_node.total_objects), "
			    "the slabs hold %" PRIu64, c->kernel_total_objects, c->total);
out:
	free(where);
	free(cpu_free);
}

struct md_error *md_slab_walk(struct md_session *s, struct md_slab_state **ret)
{
	struct slab_layout l;
	struct md_slab_state *st;
	struct md_error *err;

	if (s->slab) {
		*ret = s->slab;
		return NULL;
	}
	if ((err = resolve_layout(s, &l)))
		return md_error_wrap(err, "SLUB");
	st = calloc(1, sizeof(*st));
	if (!st)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	if ((err = read_cache_list(s, &l, st)) || (err = scan_vmemmap(s, &l, st))) {
		md_slab_state_destroy(st);
		return err;
	}
	for (size_t i = 0; i < st->nr_caches; i++) {
		if (md_interrupted(s)) {
			md_slab_state_destroy(st);
			return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
		}
		walk_cache(s, &l, &st->caches[i]);
	}
	if (st->unknown_cache_slabs)
		state_error(st, "%" PRIu64 " slab pages point at no cache on slab_caches",
			    st->unknown_cache_slabs);
	s->slab = st;
	*ret = st;
	return NULL;
}

static void free_messages(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void md_slab_state_destroy(struct md_slab_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nr_caches; i++) {
		free(st->caches[i].slabs);
		free_messages(st->caches[i].errors, st->caches[i].nr_errors);
	}
	free(st->caches);
	free_messages(st->errors, st->nr_errors);
	free(st);
}

/* ---------------------------------------------------------------- command */

static int compare_cache_bytes(const void *a, const void *b)
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

static struct json_object *cache_json(const struct md_session *s, const struct md_slab_cache *c)
{
	struct json_object *o = json_object_new_object(), *errors = json_object_new_array();
	char addr[32];

	snprintf(addr, sizeof(addr), "0x%016" PRIx64, c->address);
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "object_size", json_object_new_int64(c->object_size));
	json_object_object_add(o, "slot_size", json_object_new_int64(c->size));
	json_object_object_add(o, "allocated", json_object_new_int64(c->allocated));
	json_object_object_add(o, "total", json_object_new_int64(c->total));
	json_object_object_add(o, "slabs", json_object_new_int64(c->nr_slabs));
	json_object_object_add(o, "slab_size", json_object_new_int64(slab_size(s, c)));
	json_object_object_add(o, "bytes", json_object_new_int64(c->bytes));
	json_object_object_add(o, "reclaimable", json_object_new_boolean(c->reclaimable));
	for (size_t i = 0; i < c->nr_errors; i++)
		json_object_array_add(errors, json_object_new_string(c->errors[i]));
	json_object_object_add(o, "errors", errors);
	return o;
}

static void cache_text(const struct md_session *s, const struct md_slab_cache *c,
		       struct md_output *out)
{
	md_printf(out, "%016" PRIx64 " %8u %10" PRIu64 " %10" PRIu64 " %7zu %5" PRIu64 "k %10" PRIu64
		  "  %-7s %s\n", c->address, c->object_size, c->allocated, c->total, c->nr_slabs,
		  slab_size(s, c) >> 10, c->bytes >> 10, c->reclaimable ? "yes" : "no", c->name);
	for (size_t i = 0; i < c->nr_errors && i < MAX_ERRORS_PER_CACHE; i++)
		md_printf(out, "  ! %s: %s\n", c->name, c->errors[i]);
	if (c->nr_errors > MAX_ERRORS_PER_CACHE)
		md_printf(out, "  ! %s: ... and %zu more problems (--json lists all)\n", c->name,
			  c->nr_errors - MAX_ERRORS_PER_CACHE);
}

static void cache_accounting_text(const struct md_slab_cache *c, struct md_output *out)
{
	md_printf(out, "\n%s: %" PRIu64 " allocated, %" PRIu64 " free, %" PRIu64 " objects in %zu slabs"
		  " (slot %u bytes, %u per slab of order %u)\n", c->name, c->allocated,
		  c->total - c->allocated, c->total, c->nr_slabs, c->size, c->oo_objects, c->oo_order);
	md_printf(out, "  slabs: %" PRIu64 " active on CPUs, %" PRIu64 " CPU-partial, %" PRIu64
		  " node-partial, %" PRIu64 " on full lists, %" PRIu64 " full and on no list\n",
		  c->cpu_slabs, c->cpu_partial_slabs, c->node_partial_slabs, c->node_full_slabs,
		  c->nr_slabs - c->cpu_slabs - c->cpu_partial_slabs - c->node_partial_slabs -
		  c->node_full_slabs);
	if (c->have_kernel_counters)
		md_printf(out, "  kernel counters: %" PRIu64 " slabs, %" PRIu64 " objects%s\n",
			  c->kernel_nr_slabs, c->kernel_total_objects,
			  c->kernel_nr_slabs == c->nr_slabs && c->kernel_total_objects == c->total ?
			  " (verified)" : "");
}

struct md_error *md_cmd_slableak(struct md_session *s, int argc, char **argv, struct md_output *out)
{
	const char *only = NULL;
	long limit = -1;
	struct md_slab_state *st;
	struct md_slab_cache **rows;
	struct md_error *err;
	size_t nr_rows = 0;
	uint64_t reclaimable = 0, unreclaimable = 0;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			limit = strtol(argv[++i], &end, 10);
			if (*end || limit < 0)
				return md_error_create(MD_ERR_INVALID, "slableak: -n wants a count, not '%s'",
						       argv[i]);
		} else if (argv[i][0] == '-') {
			return md_error_create(MD_ERR_INVALID, "slableak: unknown option '%s' "
					       "(usage: slableak [-n N] [CACHE])", argv[i]);
		} else if (!only) {
			only = argv[i];
		} else {
			return md_error_create(MD_ERR_INVALID, "slableak: one cache at a time ('%s' and '%s')",
					       only, argv[i]);
		}
	}
	if ((err = md_slab_walk(s, &st)))
		return err;
	rows = calloc(st->nr_caches ? st->nr_caches : 1, sizeof(*rows));
	if (!rows)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < st->nr_caches; i++) {
		struct md_slab_cache *c = &st->caches[i];

		if (c->reclaimable)
			reclaimable += c->bytes;
		else
			unreclaimable += c->bytes;
		if (!only || !strcmp(c->name, only))
			rows[nr_rows++] = c;
	}
	if (only && !nr_rows) {
		free(rows);
		return md_error_create(MD_ERR_INVALID, "slableak: no slab cache named '%s'", only);
	}
	qsort(rows, nr_rows, sizeof(*rows), compare_cache_bytes);
	if (limit >= 0 && (size_t)limit < nr_rows)
		nr_rows = limit;

	if (md_output_is_json(out)) {
		struct json_object *doc = md_output_doc(out), *caches = json_object_new_array();
		struct json_object *errors = json_object_new_array();

		for (size_t i = 0; i < nr_rows; i++)
			json_object_array_add(caches, cache_json(s, rows[i]));
		json_object_object_add(doc, "caches", caches);
		for (size_t i = 0; i < st->nr_errors; i++)
			json_object_array_add(errors, json_object_new_string(st->errors[i]));
		json_object_object_add(doc, "errors", errors);
		json_object_object_add(doc, "reclaimable_bytes", json_object_new_int64(reclaimable));
		json_object_object_add(doc, "unreclaimable_bytes", json_object_new_int64(unreclaimable));
	} else {
		char a[32], b[32];

		md_printf(out, "CACHE             OBJSIZE  ALLOCATED      TOTAL   SLABS  SSIZE  MEM(KiB)"
			  "  RECLAIM NAME\n");
		for (size_t i = 0; i < nr_rows; i++)
			cache_text(s, rows[i], out);
		if (only)
			cache_accounting_text(rows[0], out);
		for (size_t i = 0; i < st->nr_errors; i++)
			md_printf(out, "  ! %s\n", st->errors[i]);
		md_printf(out, "\nslab memory: %s reclaimable, %s unreclaimable, in %zu caches\n",
			  md_human_bytes(reclaimable, a), md_human_bytes(unreclaimable, b), st->nr_caches);
	}
	free(rows);
	return NULL;
}
