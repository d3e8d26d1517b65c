/* SLUB: every cache of slab_caches, counted exactly from the slabs themselves. */
#ifndef MEMDIAG_SLAB_H
#define MEMDIAG_SLAB_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct md_output;

/* One slab found in the vmemmap scan. */
struct md_slab {
	uint64_t page;		/* its struct slab / struct page */
	uint64_t freelist;	/* slab->freelist */
	uint32_t inuse, objects;
	bool frozen;
};

struct md_slab_cache {
	uint64_t address;
	char name[64];
	uint64_t flags;
	uint32_t size;		/* slot size, s->size */
	uint32_t object_size;
	uint32_t offset;	/* free pointer offset */
	uint32_t inuse;		/* s->inuse: end of object + free pointer */
	uint32_t red_left_pad;
	uint64_t random;	/* CONFIG_SLAB_FREELIST_HARDENED */
	unsigned int oo_order, oo_objects, min_order, min_objects;
	uint64_t cpu_slab;	/* __percpu struct kmem_cache_cpu * */
	bool reclaimable;
	bool store_user;	/* SLAB_STORE_USER: struct track after each object */
	bool unreadable;	/* its kmem_cache could not be read or makes no sense */

	struct md_slab *slabs;	/* every slab of this cache */
	size_t nr_slabs, slabs_cap;

	/* Results of the walk. */
	uint64_t allocated, total, bytes;
	uint64_t cpu_slabs, cpu_partial_slabs, node_partial_slabs, node_full_slabs;
	bool have_kernel_counters;
	uint64_t kernel_nr_slabs, kernel_total_objects;	/* sum of kmem_cache_node counters */
	char **errors;
	size_t nr_errors;
};

struct md_slab_state {
	struct md_slab_cache *caches;
	size_t nr_caches;
	uint64_t unknown_cache_slabs;	/* slab pages whose slab_cache is no known cache */
	char **errors;			/* problems not tied to one cache */
	size_t nr_errors;
};

/* Walk every cache once per session; later calls return the same state. */
struct md_error *md_slab_walk(struct md_session *s, struct md_slab_state **ret);
void md_slab_state_destroy(struct md_slab_state *st);

/* The `slableak` command. */
struct md_error *md_cmd_slableak(struct md_session *s, int argc, char **argv, struct md_output *out);

#endif
