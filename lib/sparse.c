/* Memory sections, as mm/sparse.c keeps them with CONFIG_SPARSEMEM_EXTREME
 * (always on x86-64): mem_section points at roots of SECTIONS_PER_ROOT
 * struct mem_section each, and a root is NULL where no section exists. */
#include <inttypes.h>
#include <stdlib.h>

#include "sparse.h"

/* arch/x86/include/asm/sparsemem.h: 128 MiB sections on x86-64. */
#define SECTION_SIZE_BITS 27

struct md_error *md_pfn_present(struct md_session *s, uint64_t pfn, bool *ret)
{
	uint64_t sym, roots, root, size, map_off, map;
	/* include/linux/mmzone.h: bit 0 of section_mem_map, an enum since 5.x */
	int64_t present_bit = md_enumerator_or(s, "SECTION_MARKED_PRESENT_BIT", 0);
	uint64_t nr = pfn >> (SECTION_SIZE_BITS - s->kernel.page_shift), per_root;
	struct md_error *err;

	if ((err = md_symbol(s, "mem_section", &sym)) ||
	    (err = md_type_size(s, "struct mem_section", &size)) ||
	    (err = md_member_offset(s, "struct mem_section", "section_mem_map", &map_off)))
		return md_error_wrap(err, "memory sections");
	per_root = s->kernel.page_size / size;	/* SECTIONS_PER_ROOT */
	if ((err = md_read_u64(s, sym, &roots)))
		return md_error_wrap(err, "mem_section");
	/* MAX_PHYSMEM_BITS is 52 with 5-level paging: no section beyond */
	if (!roots || nr >> (52 - SECTION_SIZE_BITS)) {
		*ret = false;
		return NULL;
	}
	if ((err = md_read_u64(s, roots + nr / per_root * 8, &root)))
		return md_error_wrap(err, "mem_section root of section %" PRIu64, nr);
	if (!root) {
		*ret = false;
		return NULL;
	}
	if ((err = md_read_u64(s, root + nr % per_root * size + map_off, &map)))
		return md_error_wrap(err, "mem_section %" PRIu64, nr);
	*ret = map >> present_bit & 1;
	return NULL;
}

struct md_error *md_present_end_pfn(struct md_session *s, uint64_t *ret)
{
	const struct md_kernel *k = &s->kernel;
	int64_t present_bit = md_enumerator_or(s, "SECTION_MARKED_PRESENT_BIT", 0);
	uint64_t sym, roots_addr, size, map_off, per_root, nr_roots, *roots, map;
	struct md_error *err;

	if ((err = md_symbol(s, "mem_section", &sym)) ||
	    (err = md_type_size(s, "struct mem_section", &size)) ||
	    (err = md_member_offset(s, "struct mem_section", "section_mem_map", &map_off)))
		return md_error_wrap(err, "memory sections");
	if (!size || size > k->page_size)
		return md_error_create(MD_ERR_CORRUPT, "struct mem_section of %" PRIu64 " bytes", size);
	if ((err = md_read_u64(s, sym, &roots_addr)))
		return md_error_wrap(err, "mem_section");
	/* mm/sparse.c sparse_index_alloc(): NR_SECTION_ROOTS pointers */
	per_root = k->page_size / size;
	nr_roots = ((1ULL << (k->phys_bits - SECTION_SIZE_BITS)) + per_root - 1) / per_root;
	if (!(roots = malloc(nr_roots * 8)))
		return md_error_nomem();
	if ((err = md_read(s, roots_addr, roots, nr_roots * 8))) {
		free(roots);
		return md_error_wrap(err, "mem_section roots");
	}
	for (uint64_t r = nr_roots; r-- > 0;) {
		for (uint64_t i = per_root; roots[r] && i-- > 0;) {
			if ((err = md_read_u64(s, roots[r] + i * size + map_off, &map))) {
				free(roots);
				return md_error_wrap(err, "mem_section %" PRIu64, r * per_root + i);
			}
			if (map >> present_bit & 1) {
				free(roots);
				*ret = (r * per_root + i + 1) << (SECTION_SIZE_BITS - k->page_shift);
				return NULL;
			}
		}
	}
	free(roots);
	return md_error_create(MD_ERR_CORRUPT, "no memory section is present");
}
