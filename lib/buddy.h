/* The buddy allocator at the time of the dump: free blocks per zone, order
 * and migratetype, fragmentation indices, watermarks. */
#ifndef MEMDIAG_BUDDY_H
#define MEMDIAG_BUDDY_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

#define MD_BUDDY_MAX_ORDERS 16
#define MD_BUDDY_MAX_TYPES 8

/* One free block, for -v. */
struct md_buddy_block {
	uint64_t pfn;
	uint8_t order, migratetype;
};

struct md_buddy_zone {
	unsigned int nid, index;	/* node and zone index in node_zones[] */
	uint64_t address;		/* struct zone */
	char name[32];
	uint64_t start_pfn, spanned, present, managed;

	/* Walked from free_area[order].free_list[mt]. */
	uint64_t blocks[MD_BUDDY_MAX_ORDERS][MD_BUDDY_MAX_TYPES];
	uint64_t nr_free[MD_BUDDY_MAX_ORDERS];	/* free_area[order].nr_free */
	bool list_broken[MD_BUDDY_MAX_ORDERS][MD_BUDDY_MAX_TYPES];
	uint64_t free_pages;			/* walked: sum of blocks << order */
	int64_t nr_free_pages;			/* vm_stat[NR_FREE_PAGES] */
	int64_t nr_free_pages_pcpu;		/* its per-CPU deltas not yet folded */
	bool nr_free_pages_pcpu_known;
	int64_t nr_free_cma;			/* vm_stat[NR_FREE_CMA_PAGES], 0 without CMA */
	uint64_t pcp_pages;			/* pages on the per-CPU lists */
	bool pcp_known;

	uint64_t wmark[3];			/* min, low, high (without boost) */
	uint64_t boost, highatomic_reserve;	/* watermark_boost; free pages kept for HighAtomic */
	int64_t lowmem_reserve[8];
	unsigned int nr_lowmem_reserve;

	struct md_buddy_block *free_blocks;	/* every block walked, when asked for */
	size_t nr_free_blocks, free_blocks_cap;

	char **errors;
	size_t nr_errors;
};

struct md_buddy {
	unsigned int nr_orders;			/* NR_PAGE_ORDERS (MAX_ORDER before 6.4) */
	unsigned int nr_types;			/* MIGRATE_TYPES */
	char type_names[MD_BUDDY_MAX_TYPES][24];	/* the kernel's migratetype_names[] */
	int pcptypes, type_highatomic, type_cma;	/* MIGRATE_PCPTYPES, ...; -1 if absent */
	struct md_buddy_zone *zones;		/* populated zones, node by node */
	size_t nr_zones;
	char **errors;				/* problems not tied to one zone */
	size_t nr_errors;
};

/* Walk every populated zone's free lists.  keep_blocks: also record each
 * free block (for -v). */
struct md_error *md_buddy_read(struct md_session *s, bool keep_blocks, struct md_buddy **ret);
void md_buddy_destroy(struct md_buddy *b);

/* mm/vmstat.c: extfrag_index and unusable_free_index of a zone for an
 * order, in thousandths (as the kernel computes them before printing
 * "%d.%03d"); the former is -1000 when a suitable block exists. */
int md_buddy_fragmentation_index(const struct md_buddy *b, const struct md_buddy_zone *z,
				 unsigned int order);
int md_buddy_unusable_index(const struct md_buddy *b, const struct md_buddy_zone *z,
			    unsigned int order);

/* mm/page_alloc.c __zone_watermark_ok() with alloc_flags 0 (a GFP_KERNEL
 * request in the zone itself) against wmark (0 min, 1 low, 2 high). */
bool md_buddy_watermark_ok(const struct md_buddy *b, const struct md_buddy_zone *z,
			   unsigned int order, int wmark);

/* The `buddyfrag` command. */
struct md_output;
struct md_args;
struct md_error *md_cmd_buddyfrag(struct md_session *s, const struct md_args *a, struct md_output *out);

#endif
