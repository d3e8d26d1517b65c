/* slableak: which slab cache holds the memory, and who allocated it. */
#ifndef MEMDIAG_SLABLEAK_H
#define MEMDIAG_SLABLEAK_H

#include <stdint.h>

#include "slab.h"
#include "track.h"

enum md_leak_level {
	MD_LEAK_NONE,		/* nothing points at a leak */
	MD_LEAK_RECLAIMABLE,	/* big, but the kernel frees it under pressure */
	MD_LEAK_POSSIBLE,	/* one source dominates, evidence is weaker */
	MD_LEAK_PROBABLE,	/* one source dominates a generic cache, or orphans */
};

/* A group of allocated objects that one source explains: a caller from
 * struct track, or a content signature. */
struct md_leak_suspect {
	char *what;		/* "leaky_alloc_one+0x1e/0x60 [leaky]", or a signature */
	uint64_t objects;
	uint64_t samples[3];
	size_t nr_samples;
	/* callers only */
	uint64_t addr;
	uint32_t handle;	/* stack depot handle of the first object */
	uint64_t stack[MD_MAX_FRAMES];	/* or its stack itself, before the depot */
	size_t nr_stack;
	uint64_t min_when, max_when;	/* jiffies */
	int pids[8];
	size_t nr_pids, more_pids;	/* distinct pids kept, and beyond those */
	uint64_t orphans;	/* objects nothing reachable points at (-u) */
};

struct md_leak_report {
	struct md_slab_cache *cache;
	struct md_leak_suspect *callers;	/* sorted by objects */
	size_t nr_callers;
	uint64_t tracked;			/* objects with a decoded track */
	struct md_leak_suspect *signatures;	/* sorted by objects */
	size_t nr_signatures;
	uint64_t objects;			/* allocated objects seen */
	uint64_t orphans;			/* -u: of those, unreferenced */
	bool orphans_scanned;
	struct md_dcache_census *dcache;	/* the dentry cache's: what holds its dentries */
	enum md_leak_level level;
	char *verdict;
	char **errors;
	size_t nr_errors;
};

struct md_orphans;
struct md_dcache_census;

/* Attribute every allocated object of c to a caller and a signature, and
 * with orphans (the -u scan, else NULL) count the unreferenced ones. */
struct md_error *md_leak_analyze(struct md_session *s, struct md_output *out, struct md_slab_cache *c,
				 const struct md_orphans *orphans, struct md_leak_report **ret);
void md_leak_report_destroy(struct md_leak_report *r);
/* Sets r->level and r->verdict from what r holds. */
void md_leak_judge(struct md_session *s, struct md_leak_report *r);

const char *md_leak_level_name(enum md_leak_level level);

/* Whether md_leak_judge() could call c a leak without the orphan scan (-u):
 * a generic (kmalloc) cache with enough allocated objects.  Lets a caller
 * analyze only those. */
bool md_leak_candidate(const struct md_slab_cache *c);

/* qsort() order of struct md_slab_cache pointers: most memory first, then by name. */
int md_slab_cache_compare_bytes(const void *a, const void *b);

/* The `slableak` command. */
struct md_args;
struct md_error *md_cmd_slableak(struct md_session *s, const struct md_args *a, struct md_output *out);

#endif
