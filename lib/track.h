/* SLUB's struct track: who allocated and who last freed an object of a
 * cache with SLAB_STORE_USER (mm/slub.c set_track(), get_track()). */
#ifndef MEMDIAG_TRACK_H
#define MEMDIAG_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Frames kept of a caller's stack. */
#define MD_MAX_FRAMES 32

struct md_slab_cache;

struct md_track_layout {
	uint64_t size, addr, handle, pid, cpu, when;	/* handle MD_NO_OFFSET without STACKDEPOT */
	uint64_t addrs;		/* the stack before the stack depot, else MD_NO_OFFSET */
	size_t nr_addrs;
};

/* One decoded track.  addr 0: never set (allocated before tracking began). */
struct md_track {
	uint64_t addr;		/* the caller */
	uint64_t when;		/* jiffies */
	int pid, cpu;
	uint32_t handle;	/* stack depot handle, 0 if none */
	uint64_t stack[MD_MAX_FRAMES];	/* the stack kept in the track itself (before 5.18) */
	size_t nr_stack;
};

enum md_track_item { MD_TRACK_ALLOC, MD_TRACK_FREE };

struct md_error *md_track_layout(struct md_session *s, struct md_track_layout *ret);
/* Where item's track lies from an object's start (mm/slub.c get_track()). */
uint64_t md_track_offset(const struct md_slab_cache *c, const struct md_track_layout *t,
			 enum md_track_item item);
/* The track at bytes (t->size of them). */
void md_track_decode(const struct md_track_layout *t, const unsigned char *bytes, struct md_track *ret);

#endif
