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

#include "array.h"
#include "list.h"
#include "output.h"
#include "readahead.h"
#include "slab.h"
#include "sparse.h"

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
	uint64_t kc_cpu_sheaves, kc_sheaf_capacity, kc_per_node;
	/* struct kmem_cache_cpu, MD_NO_OFFSET since 7.0 */
	uint64_t cpu_freelist, cpu_slab, cpu_page, cpu_partial;
	/* struct kmem_cache_node */
	uint64_t node_nr_partial, node_partial, node_nr_slabs, node_total_objects, node_full, node_barn;
	/* node i's kmem_cache_node and barn pointers: at kc_node + i * node_stride
	 * (+ pn_node, + pn_barn) */
	uint64_t node_stride, pn_node, pn_barn;
	/* sheaves: struct slub_percpu_sheaves, struct slab_sheaf, struct node_barn */
	uint64_t pcs_main, pcs_spare, pcs_rcu_free, sheaf_size, sheaf_objects, sheaf_barn_list;
	uint64_t barn_full, barn_nr_full;
	/* struct slab, or struct page before it was split out */
	const char *slab_type;
	uint64_t slab_cache, slab_freelist, slab_list, slab_next;
	struct md_member slab_inuse, slab_objects, slab_frozen;
	/* struct page */
	uint64_t page_flags, page_compound_head, page_type;
	struct md_compound_layout compound;
	bool compound_known;	/* else a slab's order is told from its object count */
	enum slab_mark mark;
	uint64_t mark_value;
	/* slab_flags_t bits */
	uint64_t flag_reclaim, flag_store_user;
	/* __per_cpu_end: the static per-CPU area ends there, and every
	 * alloc_percpu() pointer (cpu_slab, cpu_sheaves) lies beyond it */
	uint64_t percpu_static_end;
};

#define cache_error(c, ...) md_messages_add(&(c)->errors, &(c)->nr_errors, __VA_ARGS__)
#define state_error(st, ...) md_messages_add(&(st)->errors, &(st)->nr_errors, __VA_ARGS__)
#define cache_error_obj(c, err) md_messages_add_error(&(c)->errors, &(c)->nr_errors, err)

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

	/* Linux kernel commit 4ffca5a96678 ("mm: support only one page_type
	 * per page") (in v6.12): the type is page_type >> 24. */
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
	/* Linux kernel commit 46df8e73a4a3 ("mm: free up PG_slab") (in v6.10):
	 * PG_slab is a page_type bit, set when clear. */
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
		/* Linux kernel commit 32c894c7274b ("slab: remove struct
		 * kmem_cache_cpu") (in v7.0): no per-CPU slabs any more. */
		{ "struct kmem_cache", "cpu_slab", &l->kc_cpu_slab, 1 },
		/* Linux kernel commit 2d517aa09bbc ("slab: add opt-in caching
		 * layer of percpu sheaves") (in v6.18): per-CPU sheaves of free
		 * objects, refilled from and flushed to per-node barns. */
		{ "struct kmem_cache", "cpu_sheaves", &l->kc_cpu_sheaves, 1 },
		{ "struct kmem_cache", "sheaf_capacity", &l->kc_sheaf_capacity, 1 },
		{ "struct slub_percpu_sheaves", "main", &l->pcs_main, 1 },
		{ "struct slub_percpu_sheaves", "spare", &l->pcs_spare, 1 },
		{ "struct slub_percpu_sheaves", "rcu_free", &l->pcs_rcu_free, 1 },
		{ "struct slab_sheaf", "size", &l->sheaf_size, 1 },
		{ "struct slab_sheaf", "objects", &l->sheaf_objects, 1 },
		{ "struct slab_sheaf", "barn_list", &l->sheaf_barn_list, 1 },
		{ "struct node_barn", "sheaves_full", &l->barn_full, 1 },
		{ "struct node_barn", "nr_full", &l->barn_nr_full, 1 },
		{ "struct kmem_cache_node", "barn", &l->node_barn, 1 },	/* 6.18 to 7.0 */
		{ "struct kmem_cache", "node", &l->kc_node, 1 },
		/* Linux kernel commit 5ba6bc27b1f9 ("slab: decouple pointer to
		 * barn from kmem_cache_node") (in v7.1): node[] became per_node[]. */
		{ "struct kmem_cache", "per_node", &l->kc_per_node, 1 },
		{ "struct kmem_cache_per_node_ptrs", "node", &l->pn_node, 1 },
		{ "struct kmem_cache_per_node_ptrs", "barn", &l->pn_barn, 1 },
		{ "struct kmem_cache_cpu", "freelist", &l->cpu_freelist, 1 },
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
	};
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_compound_head_offset(s, &l->page_compound_head)))
		return err;
	/* a slab's size from its compound order, as mm/slub.c slab_order() */
	if (!(err = md_compound_layout(s, &l->compound)))
		l->compound_known = true;
	else if (!md_error_catch(&err, MD_ERR_LOOKUP))
		return err;
	if (l->cpu_slab == MD_NO_OFFSET)
		l->cpu_slab = l->cpu_page;
	if (l->kc_cpu_slab != MD_NO_OFFSET && (l->cpu_slab == MD_NO_OFFSET || l->cpu_freelist == MD_NO_OFFSET))
		return md_error_create(MD_ERR_LOOKUP, "this kernel lacks kmem_cache_cpu.slab and .page");
	if (l->kc_cpu_slab == MD_NO_OFFSET && l->kc_cpu_sheaves == MD_NO_OFFSET)
		return md_error_create(MD_ERR_LOOKUP, "struct kmem_cache has neither cpu_slab nor cpu_sheaves");
	if (l->kc_cpu_sheaves != MD_NO_OFFSET &&
	    (l->pcs_main == MD_NO_OFFSET || l->pcs_spare == MD_NO_OFFSET || l->sheaf_size == MD_NO_OFFSET ||
	     l->sheaf_objects == MD_NO_OFFSET || l->sheaf_barn_list == MD_NO_OFFSET ||
	     l->barn_full == MD_NO_OFFSET || l->kc_sheaf_capacity == MD_NO_OFFSET))
		return md_error_create(MD_ERR_LOOKUP, "struct kmem_cache has cpu_sheaves, but the sheaf "
				       "types lack a member memdiag reads (slub_percpu_sheaves.main/spare, "
				       "slab_sheaf.size/objects/barn_list, node_barn.sheaves_full)");
	/* x86-64 per-CPU symbols are offsets from 0 before v6.15 and kernel
	 * addresses since (7.2's vm_event_states: 0xffffffff83dd1e20); either
	 * way alloc_percpu() pointers lie above __per_cpu_end */
	if ((err = md_symbol(s, "__per_cpu_end", &l->percpu_static_end))) {
		if (!md_error_catch(&err, MD_ERR_LOOKUP))
			return err;
		l->percpu_static_end = 0;	/* cannot tell: no check */
	}
	if (l->kc_per_node != MD_NO_OFFSET) {
		if (l->pn_node == MD_NO_OFFSET ||
		    (err = md_type_size(s, "struct kmem_cache_per_node_ptrs", &l->node_stride)))
			return err ? err : md_error_create(MD_ERR_LOOKUP, "kmem_cache_per_node_ptrs has no node");
		l->kc_node = l->kc_per_node;
	} else if (l->kc_node != MD_NO_OFFSET) {
		l->node_stride = 8;
		l->pn_node = 0;
		l->pn_barn = MD_NO_OFFSET;
	} else {
		return md_error_create(MD_ERR_LOOKUP, "struct kmem_cache has neither node nor per_node");
	}
	const struct { const char *name; struct md_member *m; } bits[] = {
		{ "inuse", &l->slab_inuse }, { "objects", &l->slab_objects }, { "frozen", &l->slab_frozen },
	};
	for (size_t i = 0; i < 3; i++) {
		err = md_member(s, l->slab_type, bits[i].name, bits[i].m);
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
	if (!md_array_reserve(&c->slabs, &c->slabs_cap, c->nr_slabs, sizeof(*c->slabs), 64))
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	c->slabs[c->nr_slabs++] = *slab;
	return NULL;
}

/* MAX_PAGE_ORDER on x86-64 (include/linux/mmzone.h): no allocation is larger. */
#define MAX_PAGE_ORDER 10

/* The compound order of the slab whose struct page is page (i of the
 * nr_pages in buf), read as mm/slub.c slab_order() does: 0 for a page
 * that is no compound head, else the head's order in the next page.
 * -1 if that cannot be read or makes no sense (then named). */
static int8_t read_slab_order(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c,
			      const unsigned char *buf, size_t i, size_t nr_pages, uint64_t page)
{
	const uint64_t psize = s->kernel.page_struct_size;
	uint8_t order;
	struct md_error *err;

	if (!l->compound_known)
		return -1;
	if (!(md_get_u64(buf + i * psize, l->page_flags) & l->compound.pg_head))
		return 0;
	if (i * psize + l->compound.order < nr_pages * psize) {
		order = buf[i * psize + l->compound.order];
	} else if ((err = md_read(s, page + l->compound.order, &order, 1))) {
		md_error_destroy(err);	/* told from the object count */
		return -1;
	}
	if (order == 0 || order > MAX_PAGE_ORDER) {
		cache_error(c, "slab 0x%" PRIx64 ": compound order %u makes no sense; its size is told "
			    "from its object count", md_page_to_virt(&s->kernel, page), order);
		return -1;
	}
	return order;
}

static struct md_error *file_slab_pages(struct md_session *s, const struct slab_layout *l,
					struct md_slab_state *st, const struct cache_map *map,
					const unsigned char *buf, uint64_t first_page, size_t nr_pages,
					unsigned int nid)
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
		memset(&slab, 0, sizeof(slab));
		slab.cpu = -1;
		slab.nid = nid;
		slab.page = first_page + i * psize;
		slab.freelist = md_get_u64(page, l->slab_freelist);
		slab.inuse = md_get_bits(page, &l->slab_inuse);
		slab.objects = md_get_bits(page, &l->slab_objects);
		slab.frozen = md_get_bits(page, &l->slab_frozen);
		slab.order = read_slab_order(s, l, c, buf, i, nr_pages, slab.page);
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
	struct cache_map map = { 0 };
	unsigned char *buf = malloc(per_chunk * psize);
	struct md_error *err;

	if (!buf)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	if ((err = cache_map_build(&map, st)))
		goto out;
	for (unsigned int nid = 0; nid < k->nr_nodes; nid++) {
		uint64_t start = k->node_span[nid].start_pfn, spanned = k->node_span[nid].spanned;
		uint64_t pfn, skipped = 0, unsure = 0;

		if (!k->node_pgdat[nid])
			continue;
		if (!k->node_span[nid].read) {	/* the session's problems say why */
			state_error(st, "node %u: pfn range unknown, its slabs not counted", nid);
			continue;
		}
		/* The span is bounded by the memory map: a corrupt one would
		 * have the walk read terabytes of vmemmap that cannot exist. */
		if (k->max_pfn && (start >= k->max_pfn || spanned > k->max_pfn - start)) {
			state_error(st, "node %u: span of %" PRIu64 " pages from pfn 0x%" PRIx64 " is beyond "
				    "max_pfn 0x%" PRIx64 ": corrupt; walked up to max_pfn", nid, spanned, start,
				    k->max_pfn);
			if (start >= k->max_pfn)
				continue;
			spanned = k->max_pfn - start;
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
				err = file_slab_pages(s, l, st, &map, buf, page, n, nid);
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
					bool present = true;
					struct md_error *pe = md_pfn_present(s, (addr - k->vmemmap) / psize, &present);

					md_error_destroy(e);
					if (pe && !unsure++)	/* then counted as missing */
						md_messages_add_error(&st->errors, &st->nr_errors, md_error_wrap(pe,
							"node %u: cannot tell holes in its span from missing pages", nid));
					else
						md_error_destroy(pe);
					if (present)	/* no struct pages in a hole: nothing lost */
						skipped += step;
				} else if ((err = file_slab_pages(s, l, st, &map, buf, addr, step, nid))) {
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

/* A cache name is printable ASCII (mm/slab_common.c names, "kmalloc-128"). */
static bool printable(const char *name)
{
	for (; *name; name++)
		if (*name < 0x20 || *name > 0x7e)
			return false;
	return true;
}

/* The fields of struct kmem_cache that counting needs, as (offset, size). */
static bool counted_fields_read(const struct slab_layout *l, const bool *missing)
{
	const uint64_t fields[][2] = {
		{ l->kc_flags, 4 }, { l->kc_size, 4 }, { l->kc_object_size, 4 }, { l->kc_offset, 4 },
		{ l->kc_inuse, 4 }, { l->kc_oo, 4 }, { l->kc_min, 4 }, { l->kc_red_left_pad, 4 },
		{ l->kc_random, 8 }, { l->kc_cpu_slab, 8 }, { l->kc_cpu_sheaves, 8 },
		{ l->kc_sheaf_capacity, 4 },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i][0] != MD_NO_OFFSET && !md_bytes_read(missing, fields[i][0], fields[i][1]))
			return false;
	return true;
}

/* kmem_cache.name; one that cannot be read, or is no cache name, is named
 * so and the cache is called by where its name is. */
static void read_cache_name(struct md_session *s, struct md_slab_cache *c, uint64_t name)
{
	struct md_error *err = md_read_cstring(s, name, c->name, sizeof(c->name));

	if (err) {
		snprintf(c->name, sizeof(c->name), "(unreadable name at 0x%" PRIx64 ")", name);
		cache_error_obj(c, md_error_wrap(err, "its name"));
	} else if (!c->name[0] || !printable(c->name)) {
		snprintf(c->name, sizeof(c->name), "(corrupt name at 0x%" PRIx64 ")", name);
		cache_error(c, "its name at 0x%" PRIx64 " is not a cache name", name);
	}
}

/* One struct kmem_cache, read page by page: a page the dump lacks (a
 * filtered dump of 6.10+ may lack the slab page a cache straddles) costs
 * only the fields in it, as crash reads them one by one. */
static struct md_error *read_cache(struct md_session *s, const struct slab_layout *l,
				   uint64_t addr, struct md_slab_cache *c)
{
	uint64_t cache_size;
	unsigned char *buf;
	bool *missing, name_read;
	struct md_error *err, *fault;

	if ((err = md_type_size(s, "struct kmem_cache", &cache_size)))
		return err;
	/* The kernel allocates a kmem_cache only up to its nr_node_ids'th
	 * node pointer, not node[MAX_NUMNODES] (mm/slub.c kmem_cache_init():
	 * create_boot_cache() of "kmem_cache" with offsetof(struct kmem_cache,
	 * node) + nr_node_ids pointers; per_node the same since 7.0): read no
	 * further.  At the top of RAM the rest is not even mapped (seen on a
	 * 6.12 boot: 7 caches "unreadable" in the last slab page of RAM). */
	if (l->kc_node + s->kernel.nr_nodes * l->node_stride < cache_size)
		cache_size = l->kc_node + s->kernel.nr_nodes * l->node_stride;
	buf = malloc(cache_size);
	missing = malloc(cache_size);
	if (!buf || !missing) {
		free(buf);
		free(missing);
		return md_error_nomem();
	}
	md_read_partial(s, addr, buf, cache_size, missing, &fault);
	name_read = md_bytes_read(missing, l->kc_name, 8);
	if (fault && !counted_fields_read(l, missing)) {
		/* not counted, but named if its name can be read */
		if (name_read)
			read_cache_name(s, c, md_get_u64(buf, l->kc_name));
		free(buf);
		free(missing);
		return fault;
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
	c->cpu_slab = l->kc_cpu_slab == MD_NO_OFFSET ? 0 : md_get_u64(buf, l->kc_cpu_slab);
	c->cpu_sheaves = l->kc_cpu_sheaves == MD_NO_OFFSET ? 0 : md_get_u64(buf, l->kc_cpu_sheaves);
	c->sheaf_capacity = l->kc_cpu_sheaves == MD_NO_OFFSET ? 0 : md_get_u32(buf, l->kc_sheaf_capacity);
	c->reclaimable = c->flags & l->flag_reclaim;
	c->store_user = c->flags & l->flag_store_user;
	if (fault) {	/* counted in full, but some other field is lost */
		if (name_read)
			cache_error_obj(c, md_error_wrap(fault, "part of its kmem_cache (not what counting needs)"));
		else
			cache_error_obj(c, md_error_wrap(fault, "its name pointer"));
	}
	if (!name_read) {
		free(buf);
		free(missing);
		snprintf(c->name, sizeof(c->name), "(kmem_cache 0x%" PRIx64 ")", addr);
		goto check;
	}
	read_cache_name(s, c, md_get_u64(buf, l->kc_name));
	free(buf);
	free(missing);
check:
	/* MAX_PAGE_ORDER is 10 on x86-64; anything far above is garbage
	 * (checked first: a cache refused for its size is still listed, and
	 * its slab size shifts by this order). */
	if (c->oo_order > 16 || c->min_order > 16) {
		unsigned int oo = c->oo_order, min = c->min_order;

		c->oo_order = c->min_order = 0;
		return md_error_create(MD_ERR_CORRUPT, "kmem_cache 0x%" PRIx64 " (%s): slab orders "
				       "%u and %u make no sense", addr, c->name, oo, min);
	}
	if (c->size == 0 || c->size < c->object_size || c->offset >= c->size + 8)
		return md_error_create(MD_ERR_CORRUPT, "kmem_cache 0x%" PRIx64 " (%s): size %u, "
				       "object_size %u, offset %u make no sense",
				       addr, c->name, c->size, c->object_size, c->offset);
	/* mm/slub.c alloc_kmem_cache_cpus(), init_percpu_sheaves(): alloc_percpu() */
	if ((l->kc_cpu_slab != MD_NO_OFFSET && c->cpu_slab < l->percpu_static_end) ||
	    (l->kc_cpu_sheaves != MD_NO_OFFSET && c->cpu_sheaves && c->cpu_sheaves < l->percpu_static_end)) {
		uint64_t ptr = l->kc_cpu_slab != MD_NO_OFFSET ? c->cpu_slab : c->cpu_sheaves;

		c->cpu_slab = c->cpu_sheaves = 0;
		return md_error_create(MD_ERR_CORRUPT, "kmem_cache 0x%" PRIx64 " (%s): per-CPU pointer 0x%"
				       PRIx64 " is no per-CPU allocation (below __per_cpu_end 0x%" PRIx64 ")",
				       addr, c->name, ptr, l->percpu_static_end);
	}
	return NULL;
}

/* More caches than any kernel has (a few hundred): a longer list is a cycle. */
#define MAX_CACHES 65536

/* Appends the cache whose list_head is at node; one it cannot read is kept,
 * unreadable, with what is known of it. */
static struct md_error *add_cache(struct md_session *s, const struct slab_layout *l,
				  struct md_slab_state *st, size_t *cap, uint64_t node)
{
	struct md_slab_cache *c;
	uint64_t addr = node - l->kc_list;
	struct md_error *err;

	if (!md_array_reserve(&st->caches, cap, st->nr_caches, sizeof(*st->caches), 256))
		return md_error_nomem();
	c = &st->caches[st->nr_caches++];
	memset(c, 0, sizeof(*c));
	if ((err = read_cache(s, l, addr, c))) {
		if (!c->name[0])
			snprintf(c->name, sizeof(c->name), "(kmem_cache 0x%" PRIx64 ")", addr);
		c->address = addr;
		c->unreadable = true;
		cache_error_obj(c, err);
	}
	return NULL;
}

/* slab_caches (mm/slab_common.c), walked as lib/list.c walks any list: each
 * link checked against its back pointer, a break named and walked round
 * from the other end, a cycle stopped at MAX_CACHES. */
static struct md_error *read_cache_list(struct md_session *s, const struct slab_layout *l,
					struct md_slab_state *st)
{
	struct md_list list;
	uint64_t head;
	size_t cap = 0;
	struct md_error *err;

	if ((err = md_symbol(s, "slab_caches", &head)))
		return md_error_wrap(err, "reading slab_caches");
	if ((err = md_list_walk(s, head, MAX_CACHES, &list)))
		return err;
	if (list.broken && list.broken_at == head && !list.nr) {
		err = md_error_wrap(list.broken, "reading slab_caches");
		list.broken = NULL;
		md_list_release(&list);
		return err;
	}
	for (size_t i = 0; i < list.nr; i++) {
		/* the one node both walks stopped at lies between them */
		if (list.gap && i == list.nr_forward && (err = add_cache(s, l, st, &cap, list.gap)))
			goto out;
		if ((err = add_cache(s, l, st, &cap, list.nodes[i])))
			goto out;
	}
	if (list.gap && list.nr_forward == list.nr && (err = add_cache(s, l, st, &cap, list.gap)))
		goto out;
	if (list.broken) {
		if (list.broken_at == head)
			md_messages_add_error(&st->errors, &st->nr_errors,
					      md_error_wrap(list.broken, "slab_caches: the list head"));
		else
			md_messages_add_error(&st->errors, &st->nr_errors,
					      md_error_wrap(list.broken, "slab_caches: the list breaks at "
							    "kmem_cache 0x%" PRIx64, list.broken_at - l->kc_list));
		list.broken = NULL;
	}
	if (list.broken_back && !list.gap)
		md_messages_add_error(&st->errors, &st->nr_errors,
				      md_error_wrap(list.broken_back, "slab_caches, walked from its other "
						    "end: the caches between the two breaks are missing"));
	else if (list.broken_back)
		md_messages_add_error(&st->errors, &st->nr_errors,
				      md_error_wrap(list.broken_back, "slab_caches, walked from its other "
						    "end up to kmem_cache 0x%" PRIx64, list.gap - l->kc_list));
	list.broken_back = NULL;
	err = NULL;
out:
	md_list_release(&list);
	return err;
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

/* Walks a list_head of slabs (node partial or full), marking them. */
static uint64_t walk_slab_list(struct md_session *s, const struct slab_layout *l,
			       struct md_slab_cache *c, uint8_t mark,
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
		if (slab->where & mark) {
			cache_error(c, "node %u %s list: cycle at slab 0x%" PRIx64, nid, what, slab->page);
			break;
		}
		slab->where |= mark;
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

static void walk_nodes(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c)
{
	bool counters_lost = false;

	for (unsigned int nid = 0; nid < s->kernel.nr_nodes; nid++) {
		uint64_t node, nr_partial, walked, v;
		struct md_error *err;

		if ((err = md_read_u64(s, c->address + l->kc_node + nid * l->node_stride + l->pn_node, &node))) {
			cache_error_obj(c, md_error_wrap(err, "node %u", nid));
			continue;
		}
		if (!node)
			continue;
		if ((err = md_read_u64(s, node + l->node_nr_partial, &nr_partial))) {
			cache_error_obj(c, md_error_wrap(err, "node %u kmem_cache_node", nid));
			continue;
		}
		walked = walk_slab_list(s, l, c, MD_SLAB_ON_NODE_PARTIAL, node + l->node_partial,
					"partial", nid);
		c->node_partial_slabs += walked;
		if (walked != nr_partial)
			cache_error(c, "node %u: nr_partial is %" PRIu64 " but %" PRIu64
				    " slabs are on the partial list", nid, nr_partial, walked);
		if (c->store_user && l->node_full != MD_NO_OFFSET)
			c->node_full_slabs += walk_slab_list(s, l, c, MD_SLAB_ON_NODE_FULL,
							     node + l->node_full, "full", nid);
		if (l->node_nr_slabs == MD_NO_OFFSET || l->node_total_objects == MD_NO_OFFSET)
			continue;
		if (!(err = md_read_u64(s, node + l->node_nr_slabs, &v)))
			c->kernel_nr_slabs += v;
		if (!err && !(err = md_read_u64(s, node + l->node_total_objects, &v)))
			c->kernel_total_objects += v;
		if (err) {	/* one node's counters lost: no total to compare with */
			counters_lost = true;
			cache_error_obj(c, md_error_wrap(err, "node %u: its counters (not compared)", nid));
		}
		c->have_kernel_counters = !counters_lost;
	}
}

/* Per CPU: the active slab with its lockless freelist, and the partial chain. */
static void walk_cpus(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c)
{
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
				slab->where |= MD_SLAB_ON_CPU;
				slab->cpu = cpu;
				slab->cpu_freelist = freelist;
				c->cpu_slabs++;
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
			if ((slab->where & MD_SLAB_ON_CPU_PARTIAL) || ++steps > c->nr_slabs) {
				cache_error(c, "cpu %u partial: cycle at slab 0x%" PRIx64, cpu, next);
				break;
			}
			slab->where |= MD_SLAB_ON_CPU_PARTIAL;
			c->cpu_partial_slabs++;
			if ((err = md_read_u64(s, next + l->slab_next, &next))) {
				cache_error_obj(c, md_error_wrap(err, "cpu %u partial chain", cpu));
				break;
			}
		}
	}
}

/* A sheaf's objects (mm/slub.c struct slab_sheaf: size, then objects[size]),
 * added to the cache's list of objects sitting in sheaves. */
static void add_sheaf(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c,
		      uint64_t sheaf, const char *what, unsigned int where, uint64_t *counter)
{
	uint32_t size;
	uint64_t *objects;
	struct md_error *err;

	if ((err = md_read_u32(s, sheaf + l->sheaf_size, &size))) {
		cache_error_obj(c, md_error_wrap(err, "%s %u: sheaf 0x%" PRIx64, what, where, sheaf));
		return;
	}
	if (!size)
		return;
	/* The per-CPU and barn sheaves are never larger than the cache's
	 * capacity (only prefilled ones handed to callers can be). */
	if (size > c->sheaf_capacity) {
		cache_error(c, "%s %u: sheaf 0x%" PRIx64 " holds %u objects, more than the cache's "
			    "sheaf_capacity %u: corrupt, not counted", what, where, sheaf, size, c->sheaf_capacity);
		return;
	}
	if (!md_array_reserve(&c->sheaf_objects, &c->sheaf_objects_cap, c->nr_sheaf_objects + size,
			      sizeof(*c->sheaf_objects), 256)) {
		cache_error(c, "out of memory");
		return;
	}
	objects = c->sheaf_objects + c->nr_sheaf_objects;
	if ((err = md_read(s, sheaf + l->sheaf_objects, objects, (size_t)size * 8))) {
		cache_error_obj(c, md_error_wrap(err, "%s %u: objects of sheaf 0x%" PRIx64, what, where, sheaf));
		return;
	}
	c->nr_sheaf_objects += size;
	*counter += size;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The objects SLUB keeps free outside the slabs' freelists, for a cache
 * with sheaves (mm/slub.c): each CPU's main and spare sheaves, its rcu_free
 * sheaf (objects kfree_rcu() freed, waiting for a grace period), and each
 * node's barn of full sheaves (empty ones hold none).  Their slabs count
 * them in inuse; they are free all the same. */
static void walk_sheaves(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c)
{
	const struct { uint64_t off; const char *what; bool rcu; } per_cpu[] = {
		{ l->pcs_main, "cpu", false }, { l->pcs_spare, "cpu", false },
		{ l->pcs_rcu_free, "cpu", true },
	};

	if (!c->cpu_sheaves || !c->sheaf_capacity)
		return;
	/* Every possible CPU's, an offline one's too: a CPU a panic stopped
	 * keeps its sheaves' free objects. */
	if (!(c->sheaf_cpu_objects_by_cpu = calloc(s->kernel.nr_cpus, sizeof(uint64_t))))
		cache_error(c, "out of memory");
	for (unsigned int cpu = 0; cpu < s->kernel.nr_cpus; cpu++) {
		uint64_t pcs = c->cpu_sheaves + s->kernel.per_cpu_offset[cpu];
		uint64_t before = c->sheaf_cpu_objects;

		if (!md_cpu_possible(&s->kernel, cpu))
			continue;
		for (size_t i = 0; i < sizeof(per_cpu) / sizeof(per_cpu[0]); i++) {
			uint64_t sheaf;
			struct md_error *err;

			if (per_cpu[i].off == MD_NO_OFFSET)
				continue;
			if ((err = md_read_u64(s, pcs + per_cpu[i].off, &sheaf))) {
				cache_error_obj(c, md_error_wrap(err, "cpu %u sheaves", cpu));
				break;
			}
			if (sheaf)
				add_sheaf(s, l, c, sheaf, per_cpu[i].what, cpu,
					  per_cpu[i].rcu ? &c->sheaf_rcu_objects : &c->sheaf_cpu_objects);
		}
		if (c->sheaf_cpu_objects_by_cpu)
			c->sheaf_cpu_objects_by_cpu[cpu] = c->sheaf_cpu_objects - before;
	}
	for (unsigned int nid = 0; nid < s->kernel.nr_nodes; nid++) {
		uint64_t barn = 0, node, nr_full;
		struct md_list full;
		struct md_error *err = NULL;

		/* 7.1+: per_node[nid].barn; 6.18 to 7.0: kmem_cache_node.barn */
		if (l->pn_barn != MD_NO_OFFSET)
			err = md_read_u64(s, c->address + l->kc_node + nid * l->node_stride + l->pn_barn, &barn);
		else if (l->node_barn != MD_NO_OFFSET &&
			 !(err = md_read_u64(s, c->address + l->kc_node + nid * l->node_stride, &node)) && node)
			err = md_read_u64(s, node + l->node_barn, &barn);
		if (!err && barn && l->barn_nr_full != MD_NO_OFFSET)
			err = md_read_u64(s, barn + l->barn_nr_full, &nr_full);
		if (err) {
			cache_error_obj(c, md_error_wrap(err, "node %u barn", nid));
			continue;
		}
		if (!barn)
			continue;
		nr_full &= 0xffffffff;	/* unsigned int */
		if ((err = md_list_walk(s, barn + l->barn_full, 1024, &full))) {
			cache_error_obj(c, md_error_wrap(err, "node %u barn", nid));
			continue;
		}
		if (full.broken) {
			cache_error_obj(c, md_error_wrap(full.broken, "node %u barn: its list of full "
							 "sheaves is broken (%zu sheaves reached)", nid, full.nr));
			full.broken = NULL;
		}
		if (full.broken_back) {
			cache_error_obj(c, md_error_wrap(full.broken_back, "node %u barn, walked from its "
							 "other end: the sheaves between the breaks are lost", nid));
			full.broken_back = NULL;
		}
		for (size_t i = 0; i < full.nr; i++)
			add_sheaf(s, l, c, full.nodes[i] - l->sheaf_barn_list, "node barn", nid,
				  &c->sheaf_barn_objects);
		if (l->barn_nr_full != MD_NO_OFFSET && full.nr != nr_full)
			cache_error(c, "node %u barn: nr_full is %" PRIu64 " but %zu sheaves are on its "
				    "full list", nid, nr_full, full.nr);
		md_list_release(&full);
	}
	if (c->nr_sheaf_objects)	/* qsort(NULL, 0) is undefined */
		qsort(c->sheaf_objects, c->nr_sheaf_objects, sizeof(*c->sheaf_objects), compare_u64);
}

static unsigned int slab_order(const struct md_session *s, const struct md_slab_cache *c,
			       const struct md_slab *slab)
{
	unsigned int order = 0;

	if (slab->order >= 0)
		return slab->order;
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

/* mm/slub.c freelist_ptr_decode() (6.1: freelist_ptr()): with
 * CONFIG_SLAB_FREELIST_HARDENED the stored pointer is
 * ptr ^ s->random ^ swab(address it is stored at); before 5.7 without swab. */
static uint64_t decode_freeptr(const struct md_slab_cache *c, uint64_t stored, uint64_t at,
			       enum md_freeptr_mode mode)
{
	if (!c->random)
		return stored;
	return stored ^ c->random ^ (mode == MD_FREEPTR_SWAB ? __builtin_bswap64(at) : at);
}

/* Marks the free objects of one freelist inside the slab's bytes in
 * free_map (one bit per object) and counts them. */
static struct md_error *walk_freelist(const struct md_slab_cache *c, const unsigned char *mem,
				      uint64_t base, uint32_t objects, uint64_t head,
				      enum md_freeptr_mode *mode, uint64_t *free_map, uint32_t *ret)
{
	uint32_t n = 0;
	uint64_t p = head;

	while (p) {
		uint64_t at, stored, next, idx;

		if (!valid_object(c, base, objects, p))
			return md_error_create(MD_ERR_CORRUPT, "free pointer 0x%" PRIx64 " is not an "
					       "object of slab 0x%" PRIx64, p, base);
		if (++n > objects)
			return md_error_create(MD_ERR_CORRUPT, "freelist of slab 0x%" PRIx64 " is longer "
					       "than its %u objects: a cycle", base, objects);
		idx = (p - base - c->red_left_pad) / c->size;
		if (free_map[idx / 64] & (1ULL << (idx % 64)))
			return md_error_create(MD_ERR_CORRUPT, "freelist of slab 0x%" PRIx64 " reaches "
					       "object 0x%" PRIx64 " twice: a cycle", base, p);
		free_map[idx / 64] |= 1ULL << (idx % 64);
		at = p + c->offset;
		stored = md_get_u64(mem, at - base);
		next = decode_freeptr(c, stored, at, *mode);
		if (next && !valid_object(c, base, objects, next) && *mode == MD_FREEPTR_SWAB) {
			uint64_t alt = decode_freeptr(c, stored, at, MD_FREEPTR_NO_SWAB);

			if (valid_object(c, base, objects, alt)) {
				*mode = MD_FREEPTR_NO_SWAB;
				next = alt;
			}
		}
		p = next;
	}
	*ret = n;
	return NULL;
}

/* The first sheaf object at or above addr. */
static size_t sheaf_lower_bound(const struct md_slab_cache *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nr_sheaf_objects;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->sheaf_objects[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Marks the objects of the slab at base that sit in sheaves; one that is
 * also on a freelist is an error (freed twice). */
static struct md_error *mark_sheaf_objects(const struct md_slab_cache *c, uint64_t base, uint64_t bytes,
					   uint32_t objects, uint64_t *free_map, uint32_t *ret)
{
	uint32_t n = 0;

	for (size_t i = sheaf_lower_bound(c, base); i < c->nr_sheaf_objects && c->sheaf_objects[i] < base + bytes; i++) {
		uint64_t p = c->sheaf_objects[i], idx;

		if (!valid_object(c, base, objects, p))
			return md_error_create(MD_ERR_CORRUPT, "sheaf object 0x%" PRIx64 " is not an object "
					       "of slab 0x%" PRIx64, p, base);
		idx = (p - base - c->red_left_pad) / c->size;
		if (free_map[idx / 64] & (1ULL << (idx % 64)))
			return md_error_create(MD_ERR_CORRUPT, "object 0x%" PRIx64 " of slab 0x%" PRIx64
					       " is in a sheaf and free in the slab, or in two sheaves",
					       p, base);
		free_map[idx / 64] |= 1ULL << (idx % 64);
		n++;
	}
	*ret = n;
	return NULL;
}

/* Whether any sheaf object lies in [base, base + bytes). */
static bool sheaf_objects_in(const struct md_slab_cache *c, uint64_t base, uint64_t bytes)
{
	size_t i = sheaf_lower_bound(c, base);

	return i < c->nr_sheaf_objects && c->sheaf_objects[i] < base + bytes;
}

/* A slab's bytes, bytes = md_slab_bytes() of them, into mem. */
static struct md_error *read_slab(struct md_session *s, const struct md_slab_cache *c,
				  const struct md_slab *slab, unsigned char *mem, uint64_t bytes)
{
	uint64_t base = md_page_to_virt(&s->kernel, slab->page);
	struct md_error *err;

	/* objects lie size apart from the slab's start, each red_left_pad
	 * into its slot (mm/slub.c shuffle_freelist(), fixup_red_left()) */
	if (c->red_left_pad >= c->size || (uint64_t)slab->objects * c->size > bytes)
		return md_error_create(MD_ERR_CORRUPT, "slab 0x%" PRIx64 ": %u objects of %u bytes do not fit "
				       "its %" PRIu64 " bytes", base, slab->objects, c->size, bytes);
	if ((err = md_read(s, base, mem, bytes)))
		return md_error_wrap(err, "slab 0x%" PRIx64 " (%u objects, %u in use by its counter)",
				     base, slab->objects, slab->inuse);
	return NULL;
}

/* Which of the objects of a slab read into mem are free: the slab's own
 * freelist (*nr_own of them) and, for a CPU's active slab, that CPU's
 * lockless freelist (*nr_free counts both); *nr_sheaf sit in sheaves.
 * They are marked in free_map, which comes zeroed. */
static struct md_error *free_objects(const struct md_slab_cache *c, const struct md_slab *slab,
				     uint64_t base, uint64_t bytes, const unsigned char *mem,
				     enum md_freeptr_mode *mode, uint64_t *free_map, uint32_t *nr_free,
				     uint32_t *nr_own, uint32_t *nr_sheaf)
{
	struct md_error *err;
	uint32_t n = 0, m = 0;

	*nr_sheaf = 0;
	err = walk_freelist(c, mem, base, slab->objects, slab->freelist, mode, free_map, &n);
	if (!err && (slab->where & MD_SLAB_ON_CPU))
		err = walk_freelist(c, mem, base, slab->objects, slab->cpu_freelist, mode, free_map, &m);
	if (!err && c->nr_sheaf_objects)
		err = mark_sheaf_objects(c, base, bytes, slab->objects, free_map, nr_sheaf);
	*nr_free = n + m;
	*nr_own = n;
	return err;
}

static size_t free_map_words(uint32_t objects)
{
	return (objects + 63) / 64;
}

/* The slab's bytes into *mem (grown as needed) and which of its objects
 * are free (free_objects()). */
static struct md_error *slab_free_map(struct md_session *s, struct md_slab_cache *c,
				      const struct md_slab *slab, unsigned char **mem, size_t *mem_size,
				      uint64_t *free_map, uint32_t *nr_free, uint32_t *nr_own,
				      uint32_t *nr_sheaf)
{
	uint64_t bytes = md_slab_bytes(s, c, slab);
	struct md_error *err;

	*nr_free = *nr_own = *nr_sheaf = 0;
	memset(free_map, 0, free_map_words(slab->objects) * 8);
	if (!md_buffer_reserve(mem, mem_size, bytes))
		return md_error_create(MD_ERR_NOMEM, "out of memory reading slab 0x%" PRIx64,
				       md_page_to_virt(&s->kernel, slab->page));
	if ((err = read_slab(s, c, slab, *mem, bytes)))
		return err;
	return free_objects(c, slab, md_page_to_virt(&s->kernel, slab->page), bytes, *mem,
			    &c->freeptr_mode, free_map, nr_free, nr_own, nr_sheaf);
}

/* Largest objects-per-slab of a cache's slabs, for sizing free maps. */
static uint32_t max_objects(const struct md_slab_cache *c)
{
	uint32_t max = 1;

	for (size_t i = 0; i < c->nr_slabs; i++)
		if (c->slabs[i].objects > max)
			max = c->slabs[i].objects;
	return max;
}

static void count_objects(struct md_session *s, struct md_slab_cache *c)
{
	unsigned char *mem = NULL;
	size_t mem_size = 0;
	uint64_t mismatched = 0, in_sheaves_total = 0, *free_map = calloc(free_map_words(max_objects(c)), 8);

	if (!free_map) {
		cache_error(c, "out of memory");
		return;
	}
	for (size_t i = 0; i < c->nr_slabs; i++) {
		const struct md_slab *slab = &c->slabs[i];
		uint32_t free_objects, own_free, in_sheaves;
		struct md_error *err;

		c->total += slab->objects;
		c->bytes += md_slab_bytes(s, c, slab);
		if (!slab->freelist && !(slab->cpu_freelist && (slab->where & MD_SLAB_ON_CPU)) &&
		    !sheaf_objects_in(c, md_page_to_virt(&s->kernel, slab->page), md_slab_bytes(s, c, slab))) {
			if (slab->inuse != slab->objects)	/* no free object: its counter says full */
				mismatched++;
			c->allocated += slab->objects;
			continue;
		}
		if ((err = slab_free_map(s, c, slab, &mem, &mem_size, free_map, &free_objects, &own_free,
					 &in_sheaves))) {
			/* Fall back on the kernel's own count for this slab. */
			cache_error_obj(c, err);
			c->allocated += slab->inuse;
			continue;
		}
		/* A slab's inuse counter leaves out exactly the objects on
		 * its own freelist: a CPU's active slab was taken with inuse =
		 * objects (mm/slub.c get_freelist()), and only a free from
		 * another CPU, onto that freelist, lowers it (__slab_free());
		 * the owner's frees go to its lockless freelist.  Objects in
		 * sheaves count as in use. */
		if (slab->inuse + own_free != slab->objects)
			mismatched++;
		c->allocated += slab->objects - free_objects - in_sheaves;
		in_sheaves_total += in_sheaves;
	}
	if (mismatched)
		cache_error(c, "%" PRIu64 " slabs' inuse counters disagree with their freelists", mismatched);
	if (in_sheaves_total != c->nr_sheaf_objects)
		cache_error(c, "%zu objects in its sheaves, %" PRIu64 " of them in its slabs",
			    c->nr_sheaf_objects, in_sheaves_total);
	free(free_map);
	free(mem);
}

/* ------------------------------------------------------- object walks */

struct object_walk {
	struct md_session *s;
	struct md_slab_cache *c;
	md_slab_object_fn *fn;
	void *arg;
	uint64_t unread_slabs, unread_objects;
	struct md_error *first_unread;
};

/* One slab, as read (err, else its bytes in mem and its free map), to the
 * walk's fn: its allocated objects in address order.  A slab that could
 * not be read is counted and left out; only running out of memory, an
 * interrupt or fn's error stop the walk. */
static struct md_error *walk_slab(struct object_walk *w, const struct md_slab *slab, struct md_error *err,
				  const unsigned char *mem, const uint64_t *free_map)
{
	const struct md_slab_cache *c = w->c;
	uint64_t base = md_page_to_virt(&w->s->kernel, slab->page);

	if (md_interrupted(w->s)) {
		md_error_destroy(err);
		return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
	}
	if (err) {
		/* The count took a full slab's objects as allocated
		 * without reading them: say which ones are left out. */
		if (md_error_root_code(err) == MD_ERR_NOMEM)
			return err;
		w->unread_slabs++;
		w->unread_objects += slab->objects;
		md_error_keep_first(&w->first_unread, err);
		return NULL;
	}
	for (uint32_t j = 0; j < slab->objects && !err; j++) {
		uint64_t off = c->red_left_pad + (uint64_t)j * c->size;

		if (free_map[j / 64] & (1ULL << (j % 64)))
			continue;
		err = w->fn(w->arg, c, base + off, mem + off, c->size - c->red_left_pad);
	}
	return err;
}

static struct md_error *walk_one_by_one(struct object_walk *w)
{
	struct md_slab_cache *c = w->c;
	unsigned char *mem = NULL;
	size_t mem_size = 0;
	uint64_t *free_map = calloc(free_map_words(max_objects(c)), 8);
	struct md_error *err = NULL;

	if (!free_map)
		return md_error_nomem();
	for (size_t i = 0; i < c->nr_slabs && !err; i++) {
		uint32_t nr_free, nr_own, nr_sheaf;

		err = slab_free_map(w->s, c, &c->slabs[i], &mem, &mem_size, free_map, &nr_free,
				    &nr_own, &nr_sheaf);
		err = walk_slab(w, &c->slabs[i], err, mem, free_map);
	}
	free(free_map);
	free(mem);
	return err;
}

/* Read ahead (lib/readahead.c): a job is a batch of consecutive slabs of
 * about BATCH_BYTES, read back to back into its slot. */
#define BATCH_BYTES (1 << 20)
#define BATCHES_PER_WORKER 16

struct batch_slab {
	size_t off;		/* of its bytes in the batch's mem */
	struct md_error *err;	/* reading it; the walk takes it */
};

struct batch {
	unsigned char *mem;
	size_t mem_size;
	uint64_t *free_maps;	/* words per slab each */
	size_t free_maps_size;
	struct batch_slab *slabs;	/* nr_slabs of them filled */
	size_t slabs_size, nr_slabs;
};

struct batches {
	struct md_slab_cache *c;
	enum md_freeptr_mode mode;	/* settled by the count (md_slab_walk()) */
	size_t *bounds;			/* batch b: slabs bounds[b] .. bounds[b + 1] - 1 */
	size_t nr, words;
};

static struct md_error *fill_batch(struct md_session *reader, void *arg, size_t job, void *slot)
{
	const struct batches *bt = arg;
	struct batch *b = slot;
	const struct md_slab_cache *c = bt->c;
	size_t first = bt->bounds[job], n = bt->bounds[job + 1] - first, used = 0;
	enum md_freeptr_mode mode = bt->mode;

	b->nr_slabs = 0;
	if (!md_buffer_reserve(&b->free_maps, &b->free_maps_size, n * bt->words * 8) ||
	    !md_buffer_reserve(&b->slabs, &b->slabs_size, n * sizeof(*b->slabs)))
		return md_error_nomem();
	b->nr_slabs = n;
	memset(b->free_maps, 0, n * bt->words * 8);
	for (size_t i = 0; i < n; i++) {
		const struct md_slab *slab = &c->slabs[first + i];
		uint64_t bytes = md_slab_bytes(reader, c, slab);
		uint32_t nr_free, nr_own, nr_sheaf;
		struct md_error *err;

		if (!md_buffer_reserve(&b->mem, &b->mem_size, used + bytes)) {
			/* the slabs so far hold their errors: none for the rest */
			for (size_t j = i; j < n; j++)
				b->slabs[j] = (struct batch_slab){ 0, NULL };
			return md_error_nomem();
		}
		err = read_slab(reader, c, slab, b->mem + used, bytes);
		if (!err)
			err = free_objects(c, slab, md_page_to_virt(&reader->kernel, slab->page), bytes,
					   b->mem + used, &mode, b->free_maps + i * bt->words, &nr_free,
					   &nr_own, &nr_sheaf);
		b->slabs[i] = (struct batch_slab){ used, err };
		used += bytes;
	}
	return NULL;
}

/* The batches' bounds; false when there are none. */
static bool plan_batches(struct md_session *s, struct batches *bt)
{
	const struct md_slab_cache *c = bt->c;
	size_t cap = 0, bytes = 0;

	bt->nr = 0;
	for (size_t i = 0; i < c->nr_slabs; i++) {
		if (bytes == 0) {
			if (!md_array_reserve(&bt->bounds, &cap, bt->nr + 2, sizeof(*bt->bounds), 64))
				return false;
			bt->bounds[bt->nr++] = i;
		}
		bytes += md_slab_bytes(s, c, &c->slabs[i]);
		if (bytes >= BATCH_BYTES)
			bytes = 0;
	}
	if (bt->nr)
		bt->bounds[bt->nr] = c->nr_slabs;
	return bt->nr > 0;
}

/* The walk with other threads reading ahead; *done false when they could
 * not start (the caller walks alone then). */
static struct md_error *walk_read_ahead(struct object_walk *w, bool *done)
{
	struct batches bt = { .c = w->c, .mode = w->c->freeptr_mode, .words = free_map_words(max_objects(w->c)) };
	size_t nr_slots = md_readahead_workers() * BATCHES_PER_WORKER;
	struct batch *batches = NULL;
	void **slots = NULL;
	struct md_readahead *ra = NULL;
	struct md_error *err = NULL;

	*done = false;
	if (!nr_slots || !plan_batches(w->s, &bt))
		goto out;
	if (!(batches = calloc(nr_slots, sizeof(*batches))) || !(slots = calloc(nr_slots, sizeof(*slots)))) {
		err = md_error_nomem();
		goto out;
	}
	for (size_t i = 0; i < nr_slots; i++)
		slots[i] = &batches[i];
	if ((err = md_readahead_start(w->s, bt.nr, slots, nr_slots, fill_batch, &bt, &ra)) || !ra)
		goto out;
	*done = true;
	for (size_t job = 0; job < bt.nr && !err; job++) {
		struct batch *b;

		if ((err = md_readahead_next(ra, (void **)&b)))
			break;
		for (size_t i = bt.bounds[job]; i < bt.bounds[job + 1]; i++) {
			struct batch_slab *bs = &b->slabs[i - bt.bounds[job]];
			struct md_error *slab_err = bs->err;

			bs->err = NULL;
			if (!err)
				err = walk_slab(w, &w->c->slabs[i], slab_err, b->mem + bs->off,
						b->free_maps + (i - bt.bounds[job]) * bt.words);
			else
				md_error_destroy(slab_err);
		}
		md_readahead_done(ra);
	}
out:
	md_readahead_stop(ra);
	for (size_t i = 0; batches && i < nr_slots; i++) {
		/* read and not walked (the walk stopped): their errors */
		for (size_t j = 0; j < batches[i].nr_slabs; j++)
			md_error_destroy(batches[i].slabs[j].err);
		free(batches[i].mem);
		free(batches[i].free_maps);
		free(batches[i].slabs);
	}
	free(batches);
	free(slots);
	free(bt.bounds);
	return err;
}

struct md_error *md_slab_for_each_object(struct md_session *s, struct md_slab_cache *c,
					 md_slab_object_fn *fn, void *arg, char ***errors,
					 size_t *nr_errors)
{
	struct object_walk w = { .s = s, .c = c, .fn = fn, .arg = arg };
	struct md_error *err = NULL;
	bool done = false;

	if (c->unreadable)
		return NULL;
	if ((err = walk_read_ahead(&w, &done)) || !done)
		err = err ? err : walk_one_by_one(&w);
	if (w.first_unread)
		md_messages_add_error(errors, nr_errors, md_error_wrap(w.first_unread, "%s: %" PRIu64
				      " slabs (up to %" PRIu64 " objects) unreadable, their objects "
				      "left out; the first", c->name, w.unread_slabs, w.unread_objects));
	return err;
}

uint64_t md_slab_bytes(const struct md_session *s, const struct md_slab_cache *c,
		       const struct md_slab *slab)
{
	return s->kernel.page_size << slab_order(s, c, slab);
}

struct md_error *md_slab_cache_is(struct md_session *s, const struct md_slab_cache *c,
				  const char *symbol, bool *ret)
{
	uint64_t sym, cache;
	struct md_error *err;

	*ret = false;
	if ((err = md_symbol(s, symbol, &sym)))
		return err;
	if (sym == c->address) {	/* a static struct kmem_cache */
		*ret = true;
		return NULL;
	}
	if ((err = md_read_u64(s, sym, &cache)))
		return md_error_wrap(err, "%s", symbol);
	*ret = cache == c->address;
	return NULL;
}

struct md_slab_cache *md_slab_find_cache(struct md_slab_state *st, const char *name)
{
	for (size_t i = 0; i < st->nr_caches; i++)
		if (!strcmp(st->caches[i].name, name))
			return &st->caches[i];
	return NULL;
}

/* mm/slub.c check_slab(): a slab holds no more objects than its order
 * has room for.  A corrupt count would be counted, and would reach into
 * the slabs that follow it: named, and cut to what fits. */
static void check_slab_objects(struct md_session *s, struct md_slab_cache *c)
{
	if (c->unreadable)	/* its slot size is unknown */
		return;
	for (size_t i = 0; i < c->nr_slabs; i++) {
		struct md_slab *slab = &c->slabs[i];
		uint64_t fit;

		if (slab->order < 0)
			continue;
		fit = (s->kernel.page_size << slab->order) / c->size;	/* order_objects() */
		if (slab->objects <= fit)
			continue;
		cache_error(c, "slab 0x%" PRIx64 ": %u objects cannot fit its order-%d pages of %u-byte "
			    "slots: corrupt; counted as %" PRIu64, md_page_to_virt(&s->kernel, slab->page),
			    slab->objects, slab->order, c->size, fit);
		slab->objects = fit;
		if (slab->inuse > fit)
			slab->inuse = fit;
	}
}

static void walk_cache(struct md_session *s, const struct slab_layout *l, struct md_slab_cache *c)
{
	if (c->nr_slabs)
		qsort(c->slabs, c->nr_slabs, sizeof(*c->slabs), compare_slab_page);
	check_slab_objects(s, c);
	if (c->unreadable) {
		/* Its geometry is unknown: trust each slab's own counters. */
		for (size_t i = 0; i < c->nr_slabs; i++) {
			c->allocated += c->slabs[i].inuse;
			c->total += c->slabs[i].objects;
			c->bytes += md_slab_bytes(s, c, &c->slabs[i]);
		}
		cache_error(c, "counted from the slabs' inuse counters only");
		return;
	}
	if (c->cpu_slab)
		walk_cpus(s, l, c);
	walk_sheaves(s, l, c);
	walk_nodes(s, l, c);
	count_objects(s, c);
	if (c->have_kernel_counters && c->kernel_nr_slabs != c->nr_slabs)
		cache_error(c, "the kernel counts %" PRIu64 " slabs (kmem_cache_node.nr_slabs), "
			    "the memory map has %zu", c->kernel_nr_slabs, c->nr_slabs);
	if (c->have_kernel_counters && c->kernel_total_objects != c->total)
		cache_error(c, "the kernel counts %" PRIu64 " objects (kmem_cache_node.total_objects), "
			    "the slabs hold %" PRIu64, c->kernel_total_objects, c->total);
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

static void index_destroy(struct md_slab_index *ix);

void md_slab_state_destroy(struct md_slab_state *st)
{
	if (!st)
		return;
	index_destroy(st->index);
	for (size_t i = 0; i < st->nr_caches; i++) {
		free(st->caches[i].slabs);
		free(st->caches[i].sheaf_objects);
		free(st->caches[i].sheaf_cpu_objects_by_cpu);
		md_messages_free(st->caches[i].errors, st->caches[i].nr_errors);
	}
	free(st->caches);
	md_messages_free(st->errors, st->nr_errors);
	free(st);
}

/* ---------------------------------------------------------- address index */

struct slab_range {
	uint64_t start, end;		/* the slab's bytes in the direct map */
	uint64_t first_slot;		/* number of its first object slot */
	struct md_slab_cache *cache;
};

struct md_slab_index {
	struct slab_range *ranges;	/* sorted by start, disjoint */
	size_t n;
	uint64_t nr_slots;
	/* The orphan scan asks for every word of memory: a page's range in
	 * one look.  by_page[(addr - base) >> shift] is 0 (no slab), the range's
	 * number + 1, or PAGE_SHARED (several: a page that a damaged dump gives
	 * two slabs, found by the binary search as before).  NULL past
	 * MAX_INDEX_PAGES. */
	uint32_t *by_page;
	uint64_t base, pages;
	unsigned int shift;
};

#define PAGE_SHARED UINT32_MAX
#define MAX_INDEX_PAGES (1ULL << 24)	/* 64 MiB of table, for 64 GiB of pages */

static int compare_range(const void *a, const void *b)
{
	uint64_t x = ((const struct slab_range *)a)->start, y = ((const struct slab_range *)b)->start;

	return x < y ? -1 : x > y;
}

/* Object slots of a range: mm/slub.c lays out whole slots after red_left_pad. */
static uint64_t range_slots(const struct slab_range *r)
{
	return (r->end - r->start - r->cache->red_left_pad) / r->cache->size;
}

/* The page table of the index, if it is small enough to be worth it;
 * without it (no memory, a span too large) the binary search answers. */
static void index_pages(struct md_slab_index *ix, unsigned int shift)
{
	uint64_t end = 0;

	if (!ix->n || ix->n >= PAGE_SHARED)
		return;
	ix->shift = shift;
	ix->base = ix->ranges[0].start >> shift << shift;
	for (size_t i = 0; i < ix->n; i++)
		end = ix->ranges[i].end > end ? ix->ranges[i].end : end;
	if (end <= ix->base || ((end - ix->base - 1) >> shift) >= MAX_INDEX_PAGES)
		return;
	ix->pages = ((end - ix->base - 1) >> shift) + 1;
	if (!(ix->by_page = calloc(ix->pages, sizeof(*ix->by_page))))
		return;
	for (size_t i = 0; i < ix->n; i++) {
		const struct slab_range *r = &ix->ranges[i];

		for (uint64_t p = (r->start - ix->base) >> shift;
		     r->end > r->start && p <= (r->end - 1 - ix->base) >> shift; p++)
			ix->by_page[p] = ix->by_page[p] ? PAGE_SHARED : i + 1;
	}
}

static struct md_error *index_build(struct md_session *s, struct md_slab_state *st,
				    struct md_slab_index **ret)
{
	struct md_slab_index *ix = calloc(1, sizeof(*ix));
	size_t n = 0;

	if (!ix)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < st->nr_caches; i++)
		n += st->caches[i].unreadable ? 0 : st->caches[i].nr_slabs;
	ix->ranges = calloc(n ? n : 1, sizeof(*ix->ranges));
	if (!ix->ranges) {
		free(ix);
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < st->nr_caches; i++) {
		struct md_slab_cache *c = &st->caches[i];

		for (size_t j = 0; !c->unreadable && c->size && j < c->nr_slabs; j++) {
			uint64_t start = md_page_to_virt(&s->kernel, c->slabs[j].page);

			ix->ranges[ix->n++] = (struct slab_range){
				start, start + md_slab_bytes(s, c, &c->slabs[j]), 0, c };
		}
	}
	qsort(ix->ranges, ix->n, sizeof(*ix->ranges), compare_range);
	for (size_t i = 0; i < ix->n; i++) {
		ix->ranges[i].first_slot = ix->nr_slots;
		ix->nr_slots += range_slots(&ix->ranges[i]);
	}
	index_pages(ix, s->kernel.page_shift);
	*ret = ix;
	return NULL;
}

static void index_destroy(struct md_slab_index *ix)
{
	if (!ix)
		return;
	free(ix->by_page);
	free(ix->ranges);
	free(ix);
}

struct md_error *md_slab_index_get(struct md_session *s, struct md_slab_state *st,
				   const struct md_slab_index **ret)
{
	struct md_error *err;

	if (!st->index && (err = index_build(s, st, &st->index)))
		return err;
	*ret = st->index;
	return NULL;
}

uint64_t md_slab_index_nr_slots(const struct md_slab_index *ix)
{
	return ix->nr_slots;
}

/* Where addr falls in r, which holds it. */
static enum md_slab_where range_locate(const struct slab_range *r, uint64_t addr,
				       struct md_slab_hit *ret)
{
	uint64_t first = r->start + r->cache->red_left_pad, idx;

	ret->cache = r->cache;
	ret->slab_start = r->start;
	ret->slab_end = r->end;
	ret->first_slot = r->first_slot;
	ret->nr_slots = range_slots(r);
	if (addr < first)
		return MD_SLAB_PADDING;
	idx = (addr - first) / r->cache->size;
	if (idx >= range_slots(r))
		return MD_SLAB_PADDING;	/* the slab's tail */
	ret->object = first + idx * r->cache->size;
	ret->slot = r->first_slot + idx;
	return MD_SLAB_OBJECT;
}

enum md_slab_where md_slab_index_find(const struct md_slab_index *ix, uint64_t addr,
				      struct md_slab_hit *ret)
{
	size_t lo = 0, hi = ix->n;

	if (ix->by_page) {
		uint64_t p = (addr - ix->base) >> ix->shift;
		uint32_t v = addr >= ix->base && p < ix->pages ? ix->by_page[p] : 0;

		if (!v)
			return MD_SLAB_MISS;
		if (v != PAGE_SHARED) {
			const struct slab_range *r = &ix->ranges[v - 1];

			return addr >= r->start && addr < r->end ? range_locate(r, addr, ret) : MD_SLAB_MISS;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct slab_range *r = &ix->ranges[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return range_locate(r, addr, ret);
	}
	return MD_SLAB_MISS;
}

/* ------------------------------------------------------------------------ */
/* One address                                                              */

const char *md_slab_object_state_name(enum md_slab_object_state state)
{
	static const char *const names[] = {
		[MD_SLAB_OBJ_ALLOCATED] = "allocated",
		[MD_SLAB_OBJ_FREE] = "free",
		[MD_SLAB_OBJ_CPU_FREE] = "free (on its CPU's lockless freelist)",
		[MD_SLAB_OBJ_IN_SHEAF] = "free (in a sheaf)",
		[MD_SLAB_OBJ_UNKNOWN] = "unknown",
	};

	return names[state];
}

struct md_error *md_slab_object_at(struct md_session *s, uint64_t addr, struct md_slab_object *ret)
{
	const struct md_slab_index *ix;
	struct md_slab_state *st;
	struct md_slab_hit hit = { 0 };
	struct md_slab_cache *c;
	struct md_slab *slab;
	struct md_error *err;
	unsigned char *mem = NULL;
	size_t mem_size = 0;
	uint64_t *own = NULL, *all = NULL, idx;
	uint32_t nr_free, nr_own, nr_sheaf, n = 0;
	enum md_slab_where where;

	memset(ret, 0, sizeof(*ret));
	if ((err = md_slab_walk(s, &st)) || (err = md_slab_index_get(s, st, &ix)))
		return err;
	if ((where = md_slab_index_find(ix, addr, &hit)) == MD_SLAB_MISS)
		return md_error_create(MD_ERR_LOOKUP, "0x%" PRIx64 " is in no slab", addr);
	c = ret->cache = hit.cache;
	ret->slab_start = hit.slab_start;
	ret->slab_end = hit.slab_end;
	ret->page = s->kernel.vmemmap + ((hit.slab_start - s->kernel.page_offset) >> s->kernel.page_shift) *
		    s->kernel.page_struct_size;
	ret->slab = slab = find_slab(c, ret->page);
	ret->in_object = where == MD_SLAB_OBJECT;
	ret->state = MD_SLAB_OBJ_UNKNOWN;
	if (!ret->in_object || !slab)
		return NULL;
	ret->object = hit.object;
	ret->index = idx = hit.slot - hit.first_slot;
	/* Which freelist holds it, if any: the slab's own, its CPU's, a sheaf
	 * (slab_free_map() marks all three in one map). */
	own = calloc((slab->objects + 63) / 64, 8);
	all = calloc((slab->objects + 63) / 64, 8);
	if (!own || !all) {
		err = md_error_nomem();
		goto out;
	}
	if ((err = slab_free_map(s, c, slab, &mem, &mem_size, all, &nr_free, &nr_own, &nr_sheaf))) {
		/* the object is in a slab, its state unknown: say why */
		ret->state_error = md_error_wrap(err, "which objects of its slab are free");
		err = NULL;
		goto out;
	}
	if (idx >= slab->objects) {
		ret->state_error = md_error_create(MD_ERR_CORRUPT, "object %" PRIu64 " of a slab of %u",
						   idx, slab->objects);
		goto out;
	}
	ret->state = MD_SLAB_OBJ_ALLOCATED;
	if (all[idx / 64] & (1ULL << (idx % 64))) {
		enum md_freeptr_mode mode = c->freeptr_mode;

		ret->state = MD_SLAB_OBJ_FREE;
		err = walk_freelist(c, mem, md_page_to_virt(&s->kernel, slab->page), slab->objects,
				    slab->freelist, &mode, own, &n);
		if (err)	/* free, but on which list is not known */
			ret->state_error = md_error_wrap(err, "its slab's own freelist");
		else if (!(own[idx / 64] & (1ULL << (idx % 64))))
			ret->state = (slab->where & MD_SLAB_ON_CPU) && slab->cpu_freelist ?
				     MD_SLAB_OBJ_CPU_FREE : MD_SLAB_OBJ_IN_SHEAF;
		err = NULL;
	}
out:
	free(own);
	free(all);
	free(mem);
	return err;
}
