/* The stack depot, read the way lib/stackdepot.c stack_depot_fetch() (6.1)
 * and depot_fetch_stack() (6.12) do: a handle is a union handle_parts whose
 * bit-fields give a pool index and an offset in that pool, in units of
 * 1 << DEPOT_STACK_ALIGN bytes; the pool holds a struct stack_record with
 * `size` return addresses in `entries`.  The bit-field widths come from the
 * kernel's own union handle_parts, so page size and extra bits need no
 * guessing.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "stackdepot.h"

/* include/linux/stackdepot.h DEPOT_STACK_ALIGN (lib/stackdepot.c
 * STACK_ALLOC_ALIGN before 6.3): a constant, so no type says it. */
#define DEPOT_STACK_ALIGN 4
/* DEPOT_POOL_ORDER (STACK_ALLOC_ORDER): pools are 4 pages. */
#define DEPOT_POOL_ORDER 2

struct md_stackdepot {
	uint64_t pools;			/* stack_pools[] (stack_slabs[] before 6.3), where it is */
	uint64_t nr_pools_var;		/* pools_num / pool_index / depot_index, 0 if none */
	bool index_plus_1;		/* 6.8+: handles store pool index + 1 */
	struct md_member index, offset;	/* union handle_parts bit-fields */
	uint64_t size_off, entries_off;	/* struct stack_record */
};

struct md_error *md_stackdepot_get(struct md_session *s, struct md_stackdepot **ret)
{
	static const char *const count_vars[] = { "pools_num", "pool_index", "depot_index" };
	struct md_stackdepot *d;
	struct md_error *err;

	if (s->stackdepot) {
		*ret = s->stackdepot;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	/* 6.3 "lib/stackdepot: rename slab to pool": stack_slabs -> stack_pools */
	err = md_symbol(s, "stack_pools", &d->pools);
	if (err) {
		md_error_destroy(err);
		err = md_symbol(s, "stack_slabs", &d->pools);
	}
	if (err)
		goto fail;
	/* "stackdepot: Make max number of pools boot-time configurable" (in
	 * v6.17) made stack_pools a pointer to an array of stack_max_pools,
	 * allocated at boot; that variable came with it. */
	{
		uint64_t max_pools, array;
		struct md_error *e = md_symbol(s, "stack_max_pools", &max_pools);

		if (!e) {
			if ((err = md_read_u64(s, d->pools, &array)))
				goto fail;
			d->pools = array;
		} else if (md_error_root_code(e) != MD_ERR_LOOKUP) {
			err = e;
			goto fail;
		} else {
			md_error_destroy(e);
		}
	}
	/* The index member: pool_index_plus_1 (6.8+), pool_index (6.3), slabindex. */
	d->index_plus_1 = true;
	err = md_member(s, "union handle_parts", "pool_index_plus_1", &d->index);
	if (err) {
		md_error_destroy(err);
		d->index_plus_1 = false;
		err = md_member(s, "union handle_parts", "pool_index", &d->index);
	}
	if (err) {
		md_error_destroy(err);
		err = md_member(s, "union handle_parts", "slabindex", &d->index);
	}
	if (err || (err = md_member(s, "union handle_parts", "offset", &d->offset)) ||
	    (err = md_member_offset(s, "struct stack_record", "size", &d->size_off)) ||
	    (err = md_member_offset(s, "struct stack_record", "entries", &d->entries_off)))
		goto fail;
	if (!d->index.bit_size || !d->offset.bit_size ||
	    d->index.bit_offset + d->index.bit_size > 32 || d->offset.bit_offset + d->offset.bit_size > 32) {
		err = md_error_create(MD_ERR_CORRUPT, "union handle_parts has an unexpected layout");
		goto fail;
	}
	for (size_t i = 0; i < sizeof(count_vars) / sizeof(count_vars[0]); i++) {
		struct md_error *e = md_symbol(s, count_vars[i], &d->nr_pools_var);

		if (!e)
			break;
		md_error_destroy(e);
		d->nr_pools_var = 0;
	}
	s->stackdepot = d;
	*ret = d;
	return NULL;
fail:
	free(d);
	return md_error_wrap(err, "the stack depot");
}

void md_stackdepot_destroy(struct md_stackdepot *d)
{
	free(d);
}

static uint32_t handle_bits(uint32_t handle, const struct md_member *m)
{
	return (uint32_t)(((uint64_t)handle >> m->bit_offset) & ((1ULL << m->bit_size) - 1));
}

struct md_error *md_stackdepot_fetch(struct md_session *s, struct md_stackdepot *d,
				     uint32_t handle, uint64_t *frames, size_t max, size_t *nr)
{
	uint64_t pool_size = s->kernel.page_size << DEPOT_POOL_ORDER;
	uint64_t index, offset, pool, record;
	uint32_t size, nr_pools;
	struct md_error *err;

	*nr = 0;
	if (!handle)
		return NULL;
	index = handle_bits(handle, &d->index);
	offset = (uint64_t)handle_bits(handle, &d->offset) << DEPOT_STACK_ALIGN;
	if (d->index_plus_1) {
		if (index == 0)
			return md_error_create(MD_ERR_CORRUPT, "stack handle 0x%08x has pool index 0", handle);
		index--;
	}
	/* The number of pools in use: pools_num counts them, the older
	 * variables name the last one. */
	if (d->nr_pools_var && (err = md_read_u32(s, d->nr_pools_var, &nr_pools)))
		return md_error_wrap(err, "stack handle 0x%08x: the number of pools", handle);
	if (d->nr_pools_var && index >= nr_pools + (d->index_plus_1 ? 0 : 1))
		return md_error_create(MD_ERR_CORRUPT, "stack handle 0x%08x: pool %" PRIu64
				       " of %u", handle, index, nr_pools);
	if (offset + d->entries_off > pool_size)
		return md_error_create(MD_ERR_CORRUPT, "stack handle 0x%08x: offset %" PRIu64
				       " beyond its pool", handle, offset);
	if ((err = md_read_u64(s, d->pools + index * 8, &pool)))
		return md_error_wrap(err, "stack handle 0x%08x: pool %" PRIu64, handle, index);
	if (!pool)
		return md_error_create(MD_ERR_CORRUPT, "stack handle 0x%08x: pool %" PRIu64
				       " was never allocated", handle, index);
	record = pool + offset;
	if ((err = md_read_u32(s, record + d->size_off, &size)))
		return md_error_wrap(err, "stack handle 0x%08x", handle);
	if (offset + d->entries_off + (uint64_t)size * 8 > pool_size)
		return md_error_create(MD_ERR_CORRUPT, "stack handle 0x%08x: %u frames do not fit "
				       "its pool", handle, size);
	if (size > max)
		size = max;
	if (size && (err = md_read(s, record + d->entries_off, frames, (size_t)size * 8)))
		return md_error_wrap(err, "stack handle 0x%08x frames", handle);
	*nr = size;
	return NULL;
}
