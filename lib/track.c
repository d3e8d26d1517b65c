/* SLUB's struct track (see track.h). */
#include "track.h"
#include "slab.h"

#include <string.h>

struct md_error *md_track_layout(struct md_session *s, struct md_track_layout *t)
{
	struct md_error *err;

	const struct md_field fields[] = {
		{ "struct track", "addr", &t->addr },
		/* CONFIG_STACKDEPOT: commit 5cf909c553e9 (below) */
		{ "struct track", "handle", &t->handle, 1 },
		{ "struct track", "pid", &t->pid },
		{ "struct track", "cpu", &t->cpu, 1 },
		{ "struct track", "when", &t->when },
	};
	struct md_member addrs;

	if ((err = md_type_size(s, "struct track", &t->size)) ||
	    (err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))))
		return md_error_wrap(err, "SLUB's struct track");
	/* Before the stack depot, CONFIG_STACKTRACE kept the stack in the
	 * track itself, zero-terminated when shorter (mm/slub.c set_track()).
	 * Linux kernel commit 5cf909c553e9 ("mm/slub: use stackdepot to save
	 * stack trace in objects") (in v5.18) replaced addrs[] by handle. */
	t->addrs = MD_NO_OFFSET;
	t->nr_addrs = 0;
	err = md_member(s, "struct track", "addrs", &addrs);
	if (!err) {
		t->addrs = addrs.bit_offset / 8;
		t->nr_addrs = addrs.size / 8;
		if (t->nr_addrs > MD_MAX_FRAMES)
			t->nr_addrs = MD_MAX_FRAMES;
	} else if (md_error_catch(&err, MD_ERR_LOOKUP)) {
		/* a stack depot kernel */
	} else {
		return md_error_wrap(err, "SLUB's struct track");
	}
	return NULL;
}

uint64_t md_track_offset(const struct md_slab_cache *c, const struct md_track_layout *t,
			 enum md_track_item item)
{
	/* mm/slub.c get_info_end(): the tracks follow the free pointer when
	 * it is stored outside the object (freeptr_outside_object()); the
	 * free track follows the alloc track. */
	uint64_t at = c->offset >= c->inuse ? c->inuse + 8 : c->inuse;

	return at + (item == MD_TRACK_FREE ? t->size : 0);
}

void md_track_decode(const struct md_track_layout *t, const unsigned char *bytes, struct md_track *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->addr = md_get_u64(bytes, t->addr);
	ret->when = md_get_u64(bytes, t->when);
	ret->pid = (int)md_get_u32(bytes, t->pid);
	ret->cpu = t->cpu != MD_NO_OFFSET ? (int)md_get_u32(bytes, t->cpu) : -1;
	if (t->handle != MD_NO_OFFSET)
		ret->handle = md_get_u32(bytes, t->handle);
	for (size_t i = 0; t->addrs != MD_NO_OFFSET && i < t->nr_addrs; i++) {
		uint64_t pc = md_get_u64(bytes, t->addrs + 8 * i);

		if (!pc)
			break;
		ret->stack[ret->nr_stack++] = pc;
	}
}
