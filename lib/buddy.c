/* The buddy allocator, read the way /proc/buddyinfo and /proc/pagetypeinfo
 * show it (mm/vmstat.c frag_show_print(), pagetypeinfo_showfree_print()),
 * but from the free lists themselves: every zone->free_area[order].
 * free_list[mt] is walked, with each block's struct page checked (inside
 * the memory map, inside the zone, buddy order == the list's order, seen
 * once), so a corrupt list is reported for itself and the rest still counts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "buddy.h"
#include "options.h"
#include "output.h"
#include "vmstat.h"

struct buddy_layout {
	uint64_t zone_size, node_zones, nr_node_zones;
	uint64_t wmark, wmark_boost, highatomic, lowmem_reserve, lowmem_reserve_size;
	uint64_t pageset, start_pfn, managed, spanned, present, name, free_area, vm_stat;
	uint64_t free_area_size, free_list, nr_free;
	uint64_t page_lru, page_private;
	uint64_t pcp_count;		/* from the per-CPU pointer pageset; MD_NO_OFFSET: unknown */
	int64_t nr_free_pages_item, nr_free_cma_item;	/* -1 if absent */
};

#define zone_error(z, ...) md_messages_add(&(z)->errors, &(z)->nr_errors, __VA_ARGS__)

static struct md_error *resolve_layout(struct md_session *s, struct buddy_layout *l,
				       struct md_buddy *b)
{
	struct md_member free_area, node_zones, free_list, lowmem;
	uint64_t highatomic_free = MD_NO_OFFSET, old_pageset = MD_NO_OFFSET, old_pcp = MD_NO_OFFSET;
	int64_t nr_types;
	struct md_error *err;

	const struct md_field fields[] = {
		{ "struct zone", "_watermark", &l->wmark },
		{ "struct zone", "watermark_boost", &l->wmark_boost },
		{ "struct zone", "nr_reserved_highatomic", &l->highatomic },
		/* 6.12 counts the free HighAtomic pages themselves (mm/page_alloc:
		 * "fix over-subtraction of highatomic reserve"): the watermark
		 * check subtracts those, not the whole reserve. */
		{ "struct zone", "nr_free_highatomic", &highatomic_free, 1 },
		{ "struct zone", "per_cpu_pageset", &l->pageset, 1 },
		/* Linux kernel commit 28f836b6777b ("mm/page_alloc: split per
		 * cpu page lists and zone stats") (in v5.14): before it the
		 * per-CPU lists were zone->pageset->pcp. */
		{ "struct zone", "pageset", &old_pageset, 1 },
		{ "struct per_cpu_pageset", "pcp", &old_pcp, 1 },
		{ "struct zone", "zone_start_pfn", &l->start_pfn },
		{ "struct zone", "managed_pages", &l->managed },
		{ "struct zone", "spanned_pages", &l->spanned },
		{ "struct zone", "present_pages", &l->present },
		{ "struct zone", "name", &l->name },
		{ "struct zone", "vm_stat", &l->vm_stat },
		{ "struct free_area", "nr_free", &l->nr_free },
		{ "struct page", "lru", &l->page_lru },
		{ "struct page", "private", &l->page_private },
		{ "struct per_cpu_pages", "count", &l->pcp_count },
	};
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_type_size(s, "struct zone", &l->zone_size)) ||
	    (err = md_type_size(s, "struct free_area", &l->free_area_size)) ||
	    (err = md_member(s, "struct zone", "free_area", &free_area)) ||
	    (err = md_member(s, "struct zone", "lowmem_reserve", &lowmem)) ||
	    (err = md_member(s, "struct free_area", "free_list", &free_list)) ||
	    (err = md_member(s, "struct pglist_data", "node_zones", &node_zones)) ||
	    (err = md_enumerator(s, "MIGRATE_TYPES", &nr_types)) ||
	    (err = md_enumerator(s, "NR_FREE_PAGES", &l->nr_free_pages_item)))
		return err;
	if (highatomic_free != MD_NO_OFFSET)
		l->highatomic = highatomic_free;
	if (l->pageset == MD_NO_OFFSET && old_pageset != MD_NO_OFFSET && old_pcp != MD_NO_OFFSET) {
		l->pageset = old_pageset;
		l->pcp_count += old_pcp;
	} else if (l->pageset == MD_NO_OFFSET) {
		l->pcp_count = MD_NO_OFFSET;
	}
	l->free_area = free_area.bit_offset / 8;
	l->free_list = free_list.bit_offset / 8;
	l->lowmem_reserve = lowmem.bit_offset / 8;
	l->lowmem_reserve_size = lowmem.size / 8;
	l->node_zones = node_zones.bit_offset / 8;
	l->nr_node_zones = l->zone_size ? node_zones.size / l->zone_size : 0;
	b->nr_orders = l->free_area_size ? free_area.size / l->free_area_size : 0;
	b->nr_types = nr_types;
	if (!b->nr_orders || b->nr_orders > MD_BUDDY_MAX_ORDERS || nr_types <= 0 ||
	    nr_types > MD_BUDDY_MAX_TYPES || free_list.size != (uint64_t)nr_types * 16 ||
	    l->lowmem_reserve_size > 8)
		return md_error_create(MD_ERR_CORRUPT, "unexpected geometry: %u orders, %" PRId64
				       " migratetypes", b->nr_orders, nr_types);
	l->nr_free_cma_item = md_enumerator_or(s, "NR_FREE_CMA_PAGES", -1);
	b->pcptypes = md_enumerator_or(s, "MIGRATE_PCPTYPES", 3);
	b->type_highatomic = md_enumerator_or(s, "MIGRATE_HIGHATOMIC", -1);
	b->type_cma = md_enumerator_or(s, "MIGRATE_CMA", -1);
	return NULL;
}

/* The kernel's own names (mm/page_alloc.c migratetype_names[]), so that
 * rows read as /proc/pagetypeinfo's. */
static void read_type_names(struct md_session *s, struct md_buddy *b)
{
	uint64_t names, ptr;
	struct md_error *err = md_symbol(s, "migratetype_names", &names);

	for (unsigned int t = 0; t < b->nr_types; t++) {
		if (!err)
			err = md_read_u64(s, names + t * 8, &ptr);
		if (!err)
			err = md_read_cstring(s, ptr, b->type_names[t], sizeof(b->type_names[t]));
		if (err)
			snprintf(b->type_names[t], sizeof(b->type_names[t]), "type%u", t);
	}
	if (err)
		md_messages_add_error(&b->errors, &b->nr_errors,
				      md_error_wrap(err, "migratetype_names[]: numbered instead"));
}

static struct md_error *keep_block(struct md_buddy_zone *z, uint64_t pfn, unsigned int order,
				   unsigned int mt)
{
	if (!md_array_reserve(&z->free_blocks, &z->free_blocks_cap, z->nr_free_blocks,
			      sizeof(*z->free_blocks), 1024))
		return md_error_nomem();
	z->free_blocks[z->nr_free_blocks++] = (struct md_buddy_block){ pfn, order, mt };
	return NULL;
}

struct walk {
	struct md_session *s;
	const struct buddy_layout *l;
	const struct md_buddy *b;
	uint64_t *seen;		/* a bit per pfn: already on some free list */
	bool keep_blocks;
};

/* One free list: count its blocks; a bad link ends the list with an error. */
static struct md_error *walk_free_list(struct walk *w, struct md_buddy_zone *z, unsigned int order,
				       unsigned int mt)
{
	const struct md_kernel *k = &w->s->kernel;
	const char *type = w->b->type_names[mt];
	uint64_t head = z->address + w->l->free_area + order * w->l->free_area_size +
			w->l->free_list + mt * 16;
	uint64_t next, wrong_order = 0, outside = 0, prev = head;
	unsigned char page[512];
	struct md_error *err;

	if (k->page_struct_size > sizeof(page))
		return md_error_create(MD_ERR_CORRUPT, "struct page of %" PRIu64 " bytes",
				       k->page_struct_size);
	if ((err = md_read_u64(w->s, head, &next))) {
		z->list_broken[order][mt] = true;
		zone_error(z, "order %u %s list: head unreadable", order, type);
		md_error_destroy(err);
		return NULL;
	}
	while (next != head) {
		uint64_t entry = next - w->l->page_lru, pfn, private;

		if (md_interrupted(w->s))
			return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
		if (entry < k->vmemmap || (entry - k->vmemmap) % k->page_struct_size ||
		    (pfn = (entry - k->vmemmap) / k->page_struct_size) >= k->max_pfn) {
			z->list_broken[order][mt] = true;
			zone_error(z, "order %u %s list: after %s0x%" PRIx64 " a bad pointer 0x%" PRIx64
				   " (not a struct page): %" PRIu64 " blocks counted, the rest of the list "
				   "is lost", order, type, prev == head ? "the list head " : "",
				   prev, next, z->blocks[order][mt]);
			break;
		}
		if (w->seen[pfn / 64] & (1ULL << (pfn % 64))) {
			z->list_broken[order][mt] = true;
			zone_error(z, "order %u %s list: pfn 0x%" PRIx64 " seen twice (a cycle, or a "
				   "block on two lists): stopped after %" PRIu64 " blocks", order, type,
				   pfn, z->blocks[order][mt]);
			break;
		}
		w->seen[pfn / 64] |= 1ULL << (pfn % 64);
		if ((err = md_read(w->s, entry, page, k->page_struct_size))) {
			z->list_broken[order][mt] = true;
			zone_error(z, "order %u %s list: struct page 0x%" PRIx64 " unreadable: %" PRIu64
				   " blocks counted, the rest is lost", order, type, entry,
				   z->blocks[order][mt]);
			md_error_destroy(err);
			break;
		}
		private = md_get_u64(page, w->l->page_private);	/* buddy_order() */
		wrong_order += private != order;
		outside += pfn < z->start_pfn || pfn >= z->start_pfn + z->spanned;
		z->blocks[order][mt]++;
		if (w->keep_blocks && (err = keep_block(z, pfn, order, mt)))
			return err;
		prev = next;
		next = md_get_u64(page, w->l->page_lru);	/* lru.next */
	}
	if (wrong_order)
		zone_error(z, "order %u %s list: %" PRIu64 " blocks whose struct page says another order",
			   order, type, wrong_order);
	if (outside)
		zone_error(z, "order %u %s list: %" PRIu64 " blocks outside the zone's pfn range",
			   order, type, outside);
	return NULL;
}

static int64_t zone_stat(const unsigned char *zone, const struct buddy_layout *l, int64_t item)
{
	return item < 0 ? 0 : (int64_t)md_get_u64(zone, l->vm_stat + item * 8);
}

static void read_pcp(struct md_session *s, const struct buddy_layout *l, const unsigned char *zone,
		     struct md_buddy_zone *z)
{
	const struct md_kernel *k = &s->kernel;
	uint64_t pageset;

	if (l->pcp_count == MD_NO_OFFSET) {
		zone_error(z, "per-CPU page lists not counted: struct zone has neither per_cpu_pageset nor pageset");
		return;
	}
	pageset = md_get_u64(zone, l->pageset);
	z->pcp_known = true;
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		uint32_t count;
		struct md_error *err;

		if (!md_cpu_possible(k, cpu))
			continue;
		if ((err = md_read_u32(s, pageset + k->per_cpu_offset[cpu] + l->pcp_count, &count))) {
			zone_error(z, "CPU %u's per-CPU page list unreadable", cpu);
			md_error_destroy(err);
			z->pcp_known = false;
			continue;
		}
		z->pcp_pages += (int32_t)count > 0 ? count : 0;
	}
}

static struct md_error *read_zone(struct walk *w, unsigned int nid, unsigned int index,
				  uint64_t addr, unsigned char *zone, struct md_buddy_zone *z)
{
	const struct buddy_layout *l = w->l;
	struct md_error *err;

	z->nid = nid;
	z->index = index;
	z->address = addr;
	z->start_pfn = md_get_u64(zone, l->start_pfn);
	z->spanned = md_get_u64(zone, l->spanned);
	z->present = md_get_u64(zone, l->present);
	z->managed = md_get_u64(zone, l->managed);
	if ((err = md_read_zone_name(w->s, md_get_u64(zone, l->name), index, z->name, sizeof(z->name))))
		md_messages_add_error(&z->errors, &z->nr_errors, err);
	for (int i = 0; i < 3; i++)
		z->wmark[i] = md_get_u64(zone, l->wmark + i * 8);
	z->boost = md_get_u64(zone, l->wmark_boost);
	z->highatomic_reserve = md_get_u64(zone, l->highatomic);
	z->nr_lowmem_reserve = l->lowmem_reserve_size;
	for (unsigned int i = 0; i < z->nr_lowmem_reserve; i++)
		z->lowmem_reserve[i] = (int64_t)md_get_u64(zone, l->lowmem_reserve + i * 8);
	z->nr_free_pages = zone_stat(zone, l, l->nr_free_pages_item);
	z->nr_free_cma = zone_stat(zone, l, l->nr_free_cma_item);
	read_pcp(w->s, l, zone, z);
	for (unsigned int o = 0; o < w->b->nr_orders; o++) {
		z->nr_free[o] = md_get_u64(zone, l->free_area + o * l->free_area_size + l->nr_free);
		for (unsigned int mt = 0; mt < w->b->nr_types; mt++) {
			if ((err = walk_free_list(w, z, o, mt)))
				return err;
			z->free_pages += z->blocks[o][mt] << o;
		}
	}
	return NULL;
}

static struct md_error *add_zone(struct md_buddy *b, size_t *cap, struct md_buddy_zone **ret)
{
	if (!md_array_reserve(&b->zones, cap, b->nr_zones, sizeof(*b->zones), 8))
		return md_error_nomem();
	*ret = &b->zones[b->nr_zones++];
	memset(*ret, 0, sizeof(**ret));
	return NULL;
}

static struct md_error *read_nodes(struct walk *w, struct md_buddy *b, unsigned char *zone)
{
	const struct md_kernel *k = &w->s->kernel;
	size_t cap = 0;
	struct md_error *err;

	for (unsigned int nid = 0; nid < k->nr_nodes; nid++) {
		if (!k->node_pgdat[nid])
			continue;
		for (unsigned int i = 0; i < w->l->nr_node_zones; i++) {
			uint64_t addr = k->node_pgdat[nid] + w->l->node_zones + i * w->l->zone_size;
			struct md_buddy_zone *z = NULL;

			if ((err = md_read(w->s, addr, zone, w->l->zone_size))) {
				md_messages_add_error(&b->errors, &b->nr_errors,
						      md_error_wrap(err, "node %u zone %u", nid, i));
				continue;
			}
			if (!md_get_u64(zone, w->l->present))
				continue;	/* not populated: /proc/buddyinfo skips it too */
			if ((err = add_zone(b, &cap, &z)) || (err = read_zone(w, nid, i, addr, zone, z)))
				return err;
		}
	}
	return NULL;
}

/* NR_FREE_PAGES with the per-CPU deltas not yet folded, as
 * zone_page_state_snapshot() (mm/vmstat.c) adds them: only that sum equals
 * the pages on the lists at an arbitrary instant.  lib/vmstat.c reads them. */
static void read_free_deltas(struct md_session *s, const struct buddy_layout *l, struct md_buddy *b)
{
	struct md_vmstat *v;
	struct md_error *err = md_vmstat_read(s, &v);

	if (err) {
		md_messages_add_error(&b->errors, &b->nr_errors,
				      md_error_wrap(err, "NR_FREE_PAGES's per-CPU deltas not read"));
		return;
	}
	for (size_t i = 0; i < b->nr_zones; i++) {
		struct md_buddy_zone *z = &b->zones[i];

		for (size_t j = 0; j < v->nr_zones; j++) {
			const struct md_vmstat_zone *vz = &v->zones[j];

			if (vz->address != z->address || !vz->pcpu || l->nr_free_pages_item < 0 ||
			    l->nr_free_pages_item >= (int64_t)v->nr_zone_items)
				continue;
			z->nr_free_pages_pcpu = vz->pcpu[l->nr_free_pages_item];
			z->nr_free_pages_pcpu_known = true;
		}
	}
	md_vmstat_destroy(v);
}

struct md_error *md_buddy_read(struct md_session *s, bool keep_blocks, struct md_buddy **ret)
{
	struct buddy_layout l;
	struct md_buddy *b = calloc(1, sizeof(*b));
	struct walk w = { .s = s, .l = &l, .b = b, .keep_blocks = keep_blocks };
	unsigned char *zone = NULL;
	struct md_error *err;

	if (!b)
		return md_error_nomem();
	if ((err = resolve_layout(s, &l, b))) {
		err = md_error_wrap(err, "the buddy allocator");
		goto fail;
	}
	read_type_names(s, b);
	w.seen = calloc(s->kernel.max_pfn / 64 + 1, 8);
	zone = malloc(l.zone_size);
	if (!w.seen || !zone) {
		err = md_error_nomem();
		goto fail;
	}
	if ((err = read_nodes(&w, b, zone)))
		goto fail;
	read_free_deltas(s, &l, b);
	free(w.seen);
	free(zone);
	*ret = b;
	return NULL;
fail:
	free(w.seen);
	free(zone);
	md_buddy_destroy(b);
	return err;
}

void md_buddy_destroy(struct md_buddy *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nr_zones; i++) {
		free(b->zones[i].free_blocks);
		md_messages_free(b->zones[i].errors, b->zones[i].nr_errors);
	}
	free(b->zones);
	md_messages_free(b->errors, b->nr_errors);
	free(b);
}

/* ------------------------------------------------------------ formulas */

/* mm/vmstat.c fill_contig_page_info() */
struct contig_page_info {
	uint64_t free_pages, free_blocks_total, free_blocks_suitable;
};

static void fill_contig_page_info(const struct md_buddy *b, const struct md_buddy_zone *z,
				  unsigned int suitable_order, struct contig_page_info *info)
{
	memset(info, 0, sizeof(*info));
	for (unsigned int o = 0; o < b->nr_orders; o++) {
		uint64_t blocks = 0;

		for (unsigned int mt = 0; mt < b->nr_types; mt++)
			blocks += z->blocks[o][mt];
		info->free_blocks_total += blocks;
		info->free_pages += blocks << o;
		if (o >= suitable_order)
			info->free_blocks_suitable += blocks << (o - suitable_order);
	}
}

/* mm/vmstat.c __fragmentation_index() */
int md_buddy_fragmentation_index(const struct md_buddy *b, const struct md_buddy_zone *z,
				 unsigned int order)
{
	struct contig_page_info info;
	uint64_t requested = 1ULL << order;

	fill_contig_page_info(b, z, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + info.free_pages * 1000 / requested) / info.free_blocks_total);
}

/* mm/vmstat.c unusable_free_index() */
int md_buddy_unusable_index(const struct md_buddy *b, const struct md_buddy_zone *z,
			    unsigned int order)
{
	struct contig_page_info info;

	fill_contig_page_info(b, z, order, &info);
	if (!info.free_pages)
		return 1000;
	return (int)((info.free_pages - (info.free_blocks_suitable << order)) * 1000 / info.free_pages);
}

/* A free block of at least order in a list a plain request may take. */
static bool suitable_block(const struct md_buddy *b, const struct md_buddy_zone *z, unsigned int order)
{
	for (unsigned int o = order; o < b->nr_orders; o++)
		for (int mt = 0; mt < b->pcptypes && mt < (int)b->nr_types; mt++)
			if (z->blocks[o][mt])
				return true;
	return false;
}

/* Free pages as __zone_watermark_ok() sees them: NR_FREE_PAGES less
 * __zone_watermark_unusable_free() for alloc_flags 0. */
/* In 128 bits: the counters come from the dump, and a corrupt one must
 * give a wrong answer that the zone's own "!" lines explain, never
 * undefined behaviour. */
static __int128 usable_free(const struct md_buddy_zone *z, unsigned int order)
{
	__int128 free = z->nr_free_pages < 0 ? 0 : z->nr_free_pages;	/* zone_page_state() */

	return free - (((__int128)1 << order) - 1) - (__int128)z->highatomic_reserve -
	       (z->nr_free_cma > 0 ? z->nr_free_cma : 0);
}

bool md_buddy_watermark_ok(const struct md_buddy *b, const struct md_buddy_zone *z,
			   unsigned int order, int wmark)
{
	/* wmark_pages(): the watermark plus its boost; the request's own zone
	 * as highest_zoneidx, so lowmem_reserve[index] (0 for itself). */
	__int128 mark = (__int128)z->wmark[wmark] + z->boost;
	__int128 reserve = z->index < z->nr_lowmem_reserve ? z->lowmem_reserve[z->index] : 0;

	if (usable_free(z, order) <= mark + reserve)
		return false;
	return order == 0 || suitable_block(b, z, order);
}

/* ------------------------------------------------------------- command */

struct options {
	int nid;		/* -1: all */
	const char *zone;	/* NULL: all */
	int order;		/* -1: 1 .. nr_orders - 1 */
	bool verbose;
};

static int largest_free_order(const struct md_buddy *b, const struct md_buddy_zone *z)
{
	for (int o = b->nr_orders - 1; o >= 0; o--)
		for (unsigned int mt = 0; mt < b->nr_types; mt++)
			if (z->blocks[o][mt])
				return o;
	return -1;
}

static uint64_t order_blocks(const struct md_buddy *b, const struct md_buddy_zone *z, unsigned int o)
{
	uint64_t n = 0;

	for (unsigned int mt = 0; mt < b->nr_types; mt++)
		n += z->blocks[o][mt];
	return n;
}

/* The lowest order a GFP_KERNEL request cannot get at the low watermark
 * for want of a block (not of free pages); -1 if every order can. */
static int first_blocked_order(const struct md_buddy *b, const struct md_buddy_zone *z)
{
	for (unsigned int o = 1; o < b->nr_orders; o++)
		if (!suitable_block(b, z, o))
			return o;
	return -1;
}

/* The zone's verdict, and its kind for JSON: "low_memory" (at the low
 * watermark), "fragmented" (some order has no block), "ok". */
static char *zone_verdict(struct md_session *s, const struct md_buddy *b,
			  const struct md_buddy_zone *z, const char **kind)
{
	uint64_t page = s->kernel.page_size;
	int blocked = first_blocked_order(b, z);
	char free[32], size[32], *v = NULL;
	int n;

	md_human_bytes(z->free_pages * page, free);
	*kind = !md_buddy_watermark_ok(b, z, 0, 1) ? "low_memory" : blocked < 0 ? "ok" : "fragmented";
	if (!md_buddy_watermark_ok(b, z, 0, 1))
		n = asprintf(&v, "%s: %s free, at or below the low watermark (%" PRIu64 " pages): "
			     "allocations of any order wait for reclaim", z->name, free,
			     z->wmark[1] + z->boost);
	else if (blocked < 0)
		n = asprintf(&v, "%s: %s free; every order up to %u can be satisfied (largest free "
			     "block order %d)", z->name, free, b->nr_orders - 1, largest_free_order(b, z));
	else
		n = asprintf(&v, "%s: %s free, none of it in blocks >= order %d (%s): order-%d+ "
			     "allocations depend on compaction", z->name, free, blocked,
			     md_human_bytes(page << blocked, size), blocked);
	return n < 0 ? NULL : v;
}

static bool zone_selected(const struct options *o, const struct md_buddy_zone *z)
{
	/* "dma32" as well as "DMA32": as a user types it */
	return (o->nid < 0 || (unsigned int)o->nid == z->nid) &&
	       (!o->zone || !strcasecmp(o->zone, z->name));
}

static void orders_text(const struct md_buddy *b, const struct md_buddy_zone *z,
			const struct options *opt, struct md_output *out)
{
	md_printf(out, "  ORDER  EXTFRAG  UNUSABLE  WMARK_MIN  WMARK_LOW  WMARK_HIGH\n");
	for (unsigned int o = opt->order >= 0 ? (unsigned int)opt->order : 1; o < b->nr_orders; o++) {
		int frag = md_buddy_fragmentation_index(b, z, o);
		int unusable = md_buddy_unusable_index(b, z, o);

		md_printf(out, "  %5u  %s%d.%03d  %8d.%03d  %9s  %9s  %10s\n", o, frag < 0 ? "-" : " ",
			  abs(frag) / 1000, abs(frag) % 1000, unusable / 1000, unusable % 1000,
			  md_buddy_watermark_ok(b, z, o, 0) ? "ok" : "fail",
			  md_buddy_watermark_ok(b, z, o, 1) ? "ok" : "fail",
			  md_buddy_watermark_ok(b, z, o, 2) ? "ok" : "fail");
		if (opt->order >= 0)
			break;
	}
}

/* (The zones' verdicts open the output: md_cmd_buddyfrag().) */

/* Where the zone's free memory is, order by order: a bar of each order's
 * share of the free pages.  Free memory all in low orders is
 * fragmentation at a glance. */
static void histogram_text(struct md_session *s, const struct md_buddy *b, const struct md_buddy_zone *z,
			   struct md_output *out)
{
	char bar[64], size[32];

	md_printf(out, "  free memory by order (share of the zone's free pages):\n");
	for (unsigned int o = 0; o < b->nr_orders; o++) {
		uint64_t pages = order_blocks(b, z, o) << o;

		md_printf(out, "  %5u  %-40s %10s %5.1f%%\n", o, md_bar(pages, z->free_pages, 40, bar),
			  md_human_bytes(pages * s->kernel.page_size, size),
			  z->free_pages ? 100.0 * pages / z->free_pages : 0.0);
	}
}

static void zone_text(struct md_session *s, const struct md_buddy *b, const struct md_buddy_zone *z,
		      const struct options *opt, struct md_output *out)
{
	char h1[32], h2[32], line[256];
	bool nr_free_ok = true;
	int64_t exact_free = z->nr_free_pages + (z->nr_free_pages_pcpu_known ? z->nr_free_pages_pcpu : 0);
	unsigned int per_table = out->wide ? b->nr_orders : 8;
	size_t len;

	snprintf(line, sizeof(line), "NODE %u  ZONE %s  (struct zone 0x%016" PRIx64 ", pfn 0x%" PRIx64
		 "-0x%" PRIx64 ", %" PRIu64 " present, %" PRIu64 " managed pages)", z->nid, z->name, z->address,
		 z->start_pfn, z->start_pfn + z->spanned, z->present, z->managed);
	md_printf(out, "\n");
	md_print_wrapped(out, 0, 2, line);
	histogram_text(s, b, z, out);
	/* blocks per order and migratetype: 8 orders a table in 80 columns */
	for (unsigned int first = 0; first < b->nr_orders; first += per_table) {
		unsigned int end = first + per_table < b->nr_orders ? first + per_table : b->nr_orders;

		md_printf(out, "  %-12s", "ORDER");
		for (unsigned int o = first; o < end; o++)
			md_printf(out, " %7u", o);
		md_printf(out, "\n  %-12s", "free blocks");
		for (unsigned int o = first; o < end; o++)
			md_printf(out, " %7" PRIu64, order_blocks(b, z, o));
		md_printf(out, "\n");
		for (unsigned int mt = 0; mt < b->nr_types; mt++) {
			md_printf(out, "  %-12s", b->type_names[mt]);
			for (unsigned int o = first; o < end; o++)
				md_printf(out, " %6" PRIu64 "%s", z->blocks[o][mt], z->list_broken[o][mt] ? "!" : " ");
			md_printf(out, "\n");
		}
	}
	for (unsigned int o = 0; o < b->nr_orders; o++) {
		if (order_blocks(b, z, o) == z->nr_free[o])
			continue;
		nr_free_ok = false;
		md_print_problem(out, 2, "order %u: %" PRIu64 " blocks on the lists, free_area.nr_free says %"
				 PRIu64, o, order_blocks(b, z, o), z->nr_free[o]);
	}
	len = snprintf(line, sizeof(line), "free pages: %" PRIu64 " (%s) on the lists; nr_free per order: "
		       "%s; NR_FREE_PAGES %" PRId64, z->free_pages,
		       md_human_bytes(z->free_pages * s->kernel.page_size, h1),
		       nr_free_ok ? "verified" : "differs (above)", z->nr_free_pages);
	if (z->nr_free_pages_pcpu_known && len < sizeof(line))
		len += snprintf(line + len, sizeof(line) - len, " %+" PRId64 " per-CPU", z->nr_free_pages_pcpu);
	if (len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ": %s",
			 (int64_t)z->free_pages == exact_free ? "verified" : "differs");
	md_print_wrapped(out, 2, 4, line);
	if ((int64_t)z->free_pages != exact_free)
		md_print_problem(out, 2, "the lists hold %" PRId64 " pages %s than NR_FREE_PAGES%s",
				 (int64_t)z->free_pages - exact_free,
				 (int64_t)z->free_pages > exact_free ? "more" : "fewer",
				 z->nr_free_pages_pcpu_known ? " with its per-CPU deltas" : "");
	if (z->pcp_known)
		md_printf(out, "  per-CPU lists: %" PRIu64 " pages (%s), not counted as free above\n",
			  z->pcp_pages, md_human_bytes(z->pcp_pages * s->kernel.page_size, h2));
	len = snprintf(line, sizeof(line), "watermarks (pages): min %" PRIu64 " low %" PRIu64 " high %" PRIu64
		       " boost %" PRIu64 "; highatomic %" PRIu64 "; lowmem_reserve", z->wmark[0], z->wmark[1],
		       z->wmark[2], z->boost, z->highatomic_reserve);
	for (unsigned int i = 0; i < z->nr_lowmem_reserve && len < sizeof(line); i++)
		len += snprintf(line + len, sizeof(line) - len, " %" PRId64, z->lowmem_reserve[i]);
	md_print_wrapped(out, 2, 4, line);
	orders_text(b, z, opt, out);
	md_printf(out, "  largest free order: %d\n", largest_free_order(b, z));
	for (size_t i = 0; i < z->nr_errors; i++)
		md_print_problem(out, 2, "%s", z->errors[i]);
	if (opt->verbose) {
		md_printf(out, "  free blocks%s:\n  %16s  ORDER  TYPE\n", opt->order >= 0 ? " of that order" : "",
			  "PFN");
		for (size_t i = 0; i < z->nr_free_blocks; i++) {
			const struct md_buddy_block *blk = &z->free_blocks[i];

			if (opt->order < 0 || blk->order == opt->order)
				md_printf(out, "  %#16" PRIx64 "  %5u  %s\n", blk->pfn, blk->order,
					  b->type_names[blk->migratetype]);
		}
	}
}

static struct md_json *u64_array(const uint64_t *v, size_t n)
{
	struct md_json *a = md_json_array();

	for (size_t i = 0; i < n; i++)
		md_json_array_add(a, md_json_int64(v[i]));
	return a;
}

static struct md_json *zone_json(struct md_session *s, const struct md_buddy *b,
				 const struct md_buddy_zone *z, const struct options *opt)
{
	struct md_json *o = md_json_object(), *types = md_json_object();
	struct md_json *orders = md_json_array();
	struct md_json *reserve = md_json_array();
	uint64_t per_order[MD_BUDDY_MAX_ORDERS], col[MD_BUDDY_MAX_ORDERS];
	const char *kind;
	char addr[32], *verdict = zone_verdict(s, b, z, &kind);
	int blocked = first_blocked_order(b, z);

	snprintf(addr, sizeof(addr), "0x%016" PRIx64, z->address);
	md_json_object_add(o, "node", md_json_int64(z->nid));
	md_json_object_add(o, "zone", md_json_string(z->name));
	md_json_object_add(o, "address", md_json_string(addr));
	md_json_object_add(o, "start_pfn", md_json_int64(z->start_pfn));
	md_json_object_add(o, "present_pages", md_json_int64(z->present));
	md_json_object_add(o, "managed_pages", md_json_int64(z->managed));
	for (unsigned int ord = 0; ord < b->nr_orders; ord++)
		per_order[ord] = order_blocks(b, z, ord);
	md_json_object_add(o, "free_blocks", u64_array(per_order, b->nr_orders));
	for (unsigned int mt = 0; mt < b->nr_types; mt++) {
		for (unsigned int ord = 0; ord < b->nr_orders; ord++)
			col[ord] = z->blocks[ord][mt];
		md_json_object_add(types, b->type_names[mt], u64_array(col, b->nr_orders));
	}
	md_json_object_add(o, "free_blocks_by_type", types);
	md_json_object_add(o, "nr_free", u64_array(z->nr_free, b->nr_orders));
	md_json_object_add(o, "free_pages", md_json_int64(z->free_pages));
	md_json_object_add(o, "nr_free_pages", md_json_int64(z->nr_free_pages));
	md_json_object_add(o, "nr_free_pages_pcpu_delta_pages", z->nr_free_pages_pcpu_known ?
			   md_json_int64(z->nr_free_pages_pcpu) : NULL);
	md_json_object_add(o, "pcp_pages", z->pcp_known ? md_json_int64(z->pcp_pages) : NULL);
	md_json_object_add(o, "watermark_min_pages", md_json_int64(z->wmark[0]));
	md_json_object_add(o, "watermark_low_pages", md_json_int64(z->wmark[1]));
	md_json_object_add(o, "watermark_high_pages", md_json_int64(z->wmark[2]));
	md_json_object_add(o, "watermark_boost_pages", md_json_int64(z->boost));
	md_json_object_add(o, "highatomic_reserve_pages", md_json_int64(z->highatomic_reserve));
	for (unsigned int i = 0; i < z->nr_lowmem_reserve; i++)
		md_json_array_add(reserve, md_json_int64(z->lowmem_reserve[i]));
	md_json_object_add(o, "lowmem_reserve_pages", reserve);
	for (unsigned int ord = 0; ord < b->nr_orders; ord++) {
		struct md_json *r = md_json_object();

		md_json_object_add(r, "order", md_json_int64(ord));
		md_json_object_add(r, "extfrag_index",
				   md_json_int64(md_buddy_fragmentation_index(b, z, ord)));
		md_json_object_add(r, "unusable_index",
				   md_json_int64(md_buddy_unusable_index(b, z, ord)));
		md_json_object_add(r, "watermark_ok_min",
				   md_json_bool(md_buddy_watermark_ok(b, z, ord, 0)));
		md_json_object_add(r, "watermark_ok_low",
				   md_json_bool(md_buddy_watermark_ok(b, z, ord, 1)));
		md_json_object_add(r, "watermark_ok_high",
				   md_json_bool(md_buddy_watermark_ok(b, z, ord, 2)));
		md_json_array_add(orders, r);
	}
	md_json_object_add(o, "orders", orders);
	md_json_object_add(o, "largest_free_order", md_json_int64(largest_free_order(b, z)));
	md_json_object_add(o, "first_unsatisfiable_order", blocked < 0 ? NULL : md_json_int64(blocked));
	md_json_object_add(o, "verdict", md_json_verdict(kind, verdict, NULL));
	free(verdict);
	md_json_object_add(o, "errors", md_json_strings(z->errors, z->nr_errors));
	if (opt->verbose) {
		struct md_json *blocks = md_json_array();

		for (size_t i = 0; i < z->nr_free_blocks; i++) {
			const struct md_buddy_block *blk = &z->free_blocks[i];
			struct md_json *r;

			if (opt->order >= 0 && blk->order != opt->order)
				continue;
			r = md_json_object();
			md_json_object_add(r, "pfn", md_json_int64(blk->pfn));
			md_json_object_add(r, "order", md_json_int64(blk->order));
			md_json_object_add(r, "type", md_json_string(b->type_names[blk->migratetype]));
			md_json_array_add(blocks, r);
		}
		md_json_object_add(o, "blocks", blocks);
	}
	return o;
}

/* -n or -z chose no zone: a usage error that lists the populated zones. */
static struct md_error *no_zone(const struct md_buddy *b, const struct options *opt)
{
	char *names = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&names, &len);
	struct md_error *err;

	if (!f)
		return md_error_nomem();
	for (size_t i = 0; i < b->nr_zones; i++)
		fprintf(f, "%s%u:%s", i ? ", " : "", b->zones[i].nid, b->zones[i].name);
	if (fclose(f)) {
		free(names);
		return md_error_nomem();
	}
	if (opt->zone)
		err = md_error_create(MD_ERR_INVALID, "buddyfrag: no populated zone '%s'%s (the populated "
				      "zones, node:name: %s)", opt->zone, opt->nid >= 0 ? " on that node" : "",
				      b->nr_zones ? names : "none");
	else
		err = md_error_create(MD_ERR_INVALID, "buddyfrag: no populated zone on node %d (the "
				      "populated zones, node:name: %s)", opt->nid, b->nr_zones ? names : "none");
	free(names);
	return err;
}

struct md_error *md_cmd_buddyfrag(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	struct options opt = {
		.nid = (int)md_arg_number(a, 'n', -1),
		.zone = md_arg_string(a, 'z'),
		.order = (int)md_arg_number(a, 'o', -1),
		.verbose = md_arg_given(a, 'v'),
	};
	struct md_buddy *b;
	struct md_error *err;
	size_t shown = 0;

	if ((err = md_buddy_read(s, opt.verbose, &b)))
		return err;
	if (opt.order >= (int)b->nr_orders) {
		err = md_error_create(MD_ERR_INVALID, "buddyfrag: -o %d: this kernel's orders are 0 to %u",
				      opt.order, b->nr_orders - 1);
		md_buddy_destroy(b);
		return err;
	}
	if (md_output_is_json(out)) {
		struct md_json *doc = md_output_doc(out), *zones = md_json_array();
		struct md_json *types = md_json_array();

		for (unsigned int mt = 0; mt < b->nr_types; mt++)
			md_json_array_add(types, md_json_string(b->type_names[mt]));
		md_json_object_add(doc, "orders", md_json_int64(b->nr_orders));
		md_json_object_add(doc, "migratetypes", types);
		for (size_t i = 0; i < b->nr_zones; i++) {
			if (!zone_selected(&opt, &b->zones[i]))
				continue;
			md_json_array_add(zones, zone_json(s, b, &b->zones[i], &opt));
			shown++;
		}
		md_json_object_add(doc, "zones", zones);
		md_json_object_add(doc, "errors", md_json_strings(b->errors, b->nr_errors));
	} else {
		/* the conclusion first: each zone's verdict */
		for (size_t i = 0; i < b->nr_zones; i++) {
			const char *kind;
			char *verdict;

			if (!zone_selected(&opt, &b->zones[i]))
				continue;
			if (!shown++)
				md_printf(out, "VERDICT\n");
			verdict = zone_verdict(s, b, &b->zones[i], &kind);
			md_print_wrapped(out, 2, 4, verdict ? verdict : "(out of memory)");
			free(verdict);
		}
		for (size_t i = 0; i < b->nr_zones; i++)
			if (zone_selected(&opt, &b->zones[i]))
				zone_text(s, b, &b->zones[i], &opt, out);
		for (size_t i = 0; i < b->nr_errors; i++)
			md_print_problem(out, 2, "%s", b->errors[i]);
	}
	/* -z or -n that chose nothing is the user's mistake; no zone at all
	 * read from the dump is the dump's, said on a line of its own */
	if (!shown && (opt.zone || opt.nid >= 0))
		err = no_zone(b, &opt);
	else if (!shown)
		md_warn(out, "buddyfrag: no populated zone could be read");
	md_buddy_destroy(b);
	return err;
}
