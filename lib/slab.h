/* SLUB: every cache of slab_caches, counted exactly from the slabs themselves. */
#ifndef MEMDIAG_SLAB_H
#define MEMDIAG_SLAB_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct md_output;

/* Where a slab sits in the kernel's bookkeeping (md_slab.where bits). */
enum {
	MD_SLAB_ON_CPU = 1,		/* a CPU's active slab */
	MD_SLAB_ON_CPU_PARTIAL = 2,	/* on a CPU's partial chain */
	MD_SLAB_ON_NODE_PARTIAL = 4,	/* on a node's partial list */
	MD_SLAB_ON_NODE_FULL = 8,	/* on a node's full list (SLAB_STORE_USER) */
};

/* One slab found in the vmemmap scan. */
struct md_slab {
	uint64_t page;		/* its struct slab / struct page */
	uint64_t freelist;	/* slab->freelist */
	uint64_t cpu_freelist;	/* its CPU's lockless freelist, when MD_SLAB_ON_CPU */
	uint32_t inuse, objects;
	int cpu;		/* the CPU whose active slab it is, or -1 */
	unsigned int nid;	/* the node whose memory map holds it */
	uint8_t where;		/* MD_SLAB_ON_* bits */
	int8_t order;		/* its compound order (struct page), -1 if unknown */
	bool frozen;
};

/* How CONFIG_SLAB_FREELIST_HARDENED pointers decode in this kernel. */
enum md_freeptr_mode { MD_FREEPTR_SWAB, MD_FREEPTR_NO_SWAB };

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
	uint64_t cpu_slab;	/* __percpu struct kmem_cache_cpu *, 0 since 7.0 */
	uint64_t cpu_sheaves;	/* __percpu struct slub_percpu_sheaves *, 0 before 6.18 */
	uint32_t sheaf_capacity;	/* 0: this cache has no sheaves */
	bool reclaimable;
	bool store_user;	/* SLAB_STORE_USER: struct track after each object */
	bool unreadable;	/* its kmem_cache could not be read or makes no sense */
	enum md_freeptr_mode freeptr_mode;

	struct md_slab *slabs;	/* every slab of this cache */
	size_t nr_slabs, slabs_cap;

	/* Results of the walk. */
	uint64_t allocated, total, bytes;
	uint64_t cpu_slabs, cpu_partial_slabs, node_partial_slabs, node_full_slabs;
	/* Objects in sheaves (6.18+): free, though their slabs count them in
	 * inuse.  Sorted addresses, and how many sat where. */
	uint64_t *sheaf_objects;
	size_t nr_sheaf_objects, sheaf_objects_cap;
	uint64_t sheaf_cpu_objects, sheaf_rcu_objects, sheaf_barn_objects;
	uint64_t *sheaf_cpu_objects_by_cpu;	/* main + spare per CPU (nr_cpus), or NULL */
	bool have_kernel_counters;
	uint64_t kernel_nr_slabs, kernel_total_objects;	/* sum of kmem_cache_node counters */
	char **errors;
	size_t nr_errors;
};

struct md_slab_state {
	struct md_slab_cache *caches;
	size_t nr_caches;
	uint64_t unknown_cache_slabs;	/* slab pages whose slab_cache is no known cache */
	struct md_slab_index *index;	/* md_slab_index_get() */
	char **errors;			/* problems not tied to one cache */
	size_t nr_errors;
};

/* Walk every cache once per session; later calls return the same state. */
struct md_error *md_slab_walk(struct md_session *s, struct md_slab_state **ret);
void md_slab_state_destroy(struct md_slab_state *st);

struct md_slab_cache *md_slab_find_cache(struct md_slab_state *st, const char *name);
/* Whether c is the cache the kernel's variable symbol points to
 * (dentry_cache, shmem_inode_cachep) or is (a static struct kmem_cache):
 * by address, for a module may name its own cache alike.  A kernel without
 * the symbol: MD_ERR_LOOKUP. */
struct md_error *md_slab_cache_is(struct md_session *s, const struct md_slab_cache *c,
				  const char *symbol, bool *ret);
/* Bytes of one slab of the cache (its order from the slab's object count). */
uint64_t md_slab_bytes(const struct md_session *s, const struct md_slab_cache *c,
		       const struct md_slab *slab);

/* Called for each allocated object: addr is the object (after any left red
 * zone), obj its bytes, len the bytes of its slot from there (object,
 * padding, free pointer and tracks).  An error stops the iteration. */
typedef struct md_error *md_slab_object_fn(void *arg, const struct md_slab_cache *c,
					   uint64_t addr, const unsigned char *obj, size_t len);
/* Every allocated object of c, reading each slab once.  Slabs that cannot
 * be read are skipped and named in the caller's message list (errors,
 * lib/error.h): the walk counted a full slab without reading it. */
struct md_error *md_slab_for_each_object(struct md_session *s, struct md_slab_cache *c,
					 md_slab_object_fn *fn, void *arg, char ***errors,
					 size_t *nr_errors);

/* Which slab object an address points into, for every cache at once.
 * Each object slot of every slab has a number (0 .. nr_slots - 1), for
 * callers that keep a bit per object. */
struct md_slab_index;
/* Built on first use and kept with the state (st->index). */
struct md_error *md_slab_index_get(struct md_session *s, struct md_slab_state *st,
				   const struct md_slab_index **ret);
uint64_t md_slab_index_nr_slots(const struct md_slab_index *ix);

enum md_slab_where {
	MD_SLAB_MISS,		/* in no slab */
	MD_SLAB_PADDING,	/* in a slab, outside every object slot */
	MD_SLAB_OBJECT,		/* in an object slot, allocated or free */
};
struct md_slab_hit {
	struct md_slab_cache *cache;
	uint64_t object;	/* the slot's object address (after any left red zone) */
	uint64_t slot;
	/* its slab: [slab_start, slab_end), slots first_slot .. + nr_slots */
	uint64_t slab_start, slab_end, first_slot, nr_slots;
};
/* MD_SLAB_PADDING fills ret's cache and slab bounds only. */
enum md_slab_where md_slab_index_find(const struct md_slab_index *ix, uint64_t addr,
				      struct md_slab_hit *ret);

/* One address in a slab, as `whatis` tells it. */
enum md_slab_object_state {
	MD_SLAB_OBJ_ALLOCATED,
	MD_SLAB_OBJ_FREE,	/* on its slab's freelist */
	MD_SLAB_OBJ_CPU_FREE,	/* on its CPU's lockless freelist (the CPU's active slab) */
	MD_SLAB_OBJ_IN_SHEAF,	/* in a per-CPU or barn sheaf (6.18+) */
	MD_SLAB_OBJ_UNKNOWN,	/* state_error says why */
};
struct md_slab_object {
	struct md_slab_cache *cache;
	const struct md_slab *slab;	/* NULL if the walk kept none at that page */
	uint64_t page;			/* its struct slab / struct page */
	uint64_t slab_start, slab_end;
	bool in_object;			/* false: in the slab, outside every object slot */
	uint64_t object, index;		/* the object (after any left red zone), its slot */
	enum md_slab_object_state state;
	struct md_error *state_error;	/* the caller's to destroy */
};
/* MD_ERR_LOOKUP: addr is in no slab the walk found. */
struct md_error *md_slab_object_at(struct md_session *s, uint64_t addr, struct md_slab_object *ret);
const char *md_slab_object_state_name(enum md_slab_object_state state);

#endif
