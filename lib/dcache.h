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

/* Whether c is the kernel's dentry cache (dentry_cache, fs/dcache.c); a
 * kernel without the symbol has none. */
struct md_error *md_dcache_is_dentry_cache(struct md_session *s, const struct md_slab_cache *c,
					   bool *ret);

/* Reads every allocated dentry of the cache c (the "dentry" cache). */
struct md_error *md_dcache_census(struct md_session *s, struct md_slab_cache *c,
				  struct md_dcache_census **ret);
void md_dcache_census_destroy(struct md_dcache_census *d);

/* What would free the dentries, in a sentence for a verdict:
 * "100,000 in use (18.3 MiB), which only their users free: 100,000 on
 * tmpfs (a file there pins its dentry until it is deleted); 600,000
 * negative and 10,000 unused, which memory pressure or drop_caches free". */
char *md_dcache_census_text(const struct md_dcache_census *d);

#endif
