/* Unreferenced slab objects: a post-mortem take on kmemleak's scan
 * (mm/kmemleak.c kmemleak_scan()).  See orphans.c for roots and nodes. */
#ifndef MEMDIAG_ORPHANS_H
#define MEMDIAG_ORPHANS_H

#include <stdbool.h>
#include <stdint.h>

#include "slab.h"

struct md_output;

struct md_orphans {
	struct md_slab_state *st;
	const struct md_slab_index *index;	/* the state's */
	uint64_t *allocated;		/* a bit per object slot of the index */
	uint64_t *reached;		/* a bit per slot: something reachable points into it */
	uint64_t *cache_orphans;	/* per st->caches[i]: allocated and not reached */
	uint64_t allocated_objects, orphans;
	/* What the scan read, for the report. */
	uint64_t root_bytes, objects_scanned, areas_scanned, pages_scanned;
	uint64_t unreadable_bytes;	/* of roots and nodes: not in the dump */
	uint64_t pages_alone;		/* other pages of unknown extent, scanned alone */
	char **errors;
	size_t nr_errors;
};

/* Run the scan once per session (kept in s->orphans); progress goes to
 * the terminal through out. */
struct md_error *md_orphans_get(struct md_session *s, struct md_output *out,
				struct md_orphans **ret);
void md_orphans_destroy(struct md_orphans *o);

/* Whether the allocated object at addr (an object start) is unreferenced. */
bool md_orphans_is_orphan(const struct md_orphans *o, uint64_t addr);
/* Unreferenced objects of a cache of o->st. */
uint64_t md_orphans_in_cache(const struct md_orphans *o, const struct md_slab_cache *c);

#endif
