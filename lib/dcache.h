/* The dentry cache by what holds it: which dentries the kernel could free
 * under memory pressure (or drop_caches) and which their users pin, as
 * fs/dcache.c sees them. */
#ifndef MEMDIAG_DCACHE_H
#define MEMDIAG_DCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "slab.h"

#define MD_DCACHE_MAX_FS 8

/* In-use dentries of one filesystem type. */
struct md_dcache_fs {
	char name[32];		/* file_system_type.name: "tmpfs", "proc" */
	uint64_t in_use;
};

struct md_dcache_census {
	uint64_t dentries;	/* allocated objects read */
	uint64_t in_use;	/* d_lockref.count > 0: shrink_dentry_list() skips them */
	uint64_t unused;	/* count 0 with an inode: on the LRU, reclaimable */
	uint64_t negative;	/* count 0, no inode: reclaimable */
	uint64_t slot_size;	/* bytes per dentry in the cache */
	struct md_dcache_fs fs[MD_DCACHE_MAX_FS];	/* most in use first */
	size_t nr_fs;
	uint64_t other_fs_in_use;	/* beyond the ones listed, or of an unreadable type */
	char **errors;		/* slabs or dentries not read; the counts omit them */
	size_t nr_errors;
};

/* Whether c is the kernel's dentry cache (fs/dcache.c dentry_cache, or
 * where the symbol is gone its name and struct dentry's size). */
struct md_error *md_dcache_is_dentry_cache(struct md_session *s, const struct md_slab_cache *c,
					   bool *ret);

/* Reads every allocated dentry of the dentry cache c. */
struct md_error *md_dcache_census(struct md_session *s, struct md_slab_cache *c,
				  struct md_dcache_census **ret);
void md_dcache_census_destroy(struct md_dcache_census *d);

/* The same fed one object at a time, by a caller walking the cache for
 * its own ends (slableak), so the cache is read once: begin, each
 * allocated object's bytes, then end (which returns the census and frees
 * the walk) or abort. */
struct md_dcache_walk;
struct md_error *md_dcache_walk_begin(struct md_session *s, const struct md_slab_cache *c,
				      struct md_dcache_walk **ret);
struct md_error *md_dcache_walk_object(struct md_dcache_walk *w, const unsigned char *obj);
struct md_dcache_census *md_dcache_walk_end(struct md_dcache_walk *w);
void md_dcache_walk_abort(struct md_dcache_walk *w);

/* What would free the dentries, in a sentence for a verdict: "110,729 in
 * use (20.3 MiB), freed only when their users let go: 100,106 on tmpfs,
 * ..., 288 elsewhere (a file on tmpfs pins its dentry until it is
 * deleted); 600,000 negative and 10 unused (109.9 MiB), which memory
 * pressure or drop_caches frees". */
char *md_dcache_census_text(const struct md_dcache_census *d);

#endif
