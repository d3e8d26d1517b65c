/* Memory sections, as mm/sparse.c keeps them with CONFIG_SPARSEMEM_EXTREME
 * (always on x86-64): mem_section points at roots of SECTIONS_PER_ROOT
 * struct mem_section each, and a root is NULL where no section exists. */
#include <inttypes.h>
#include <stdlib.h>

#include "sparse.h"

/* arch/x86/include/asm/sparsemem.h: 128 MiB sections on x86-64. */
#define SECTION_SIZE_BITS 27

/* The section table: where its roots are, and each section's size and
 * section_mem_map. */
struct sections {
	uint64_t roots, size, map_off, per_root;
	int64_t present_bit;
};

static struct md_error *read_sections(struct md_session *s, struct sections *t)
{
	uint64_t sym;
	struct md_error *err;

	/* include/linux/mmzone.h: bit 0 of section_mem_map, an enum since 5.x */
	t->present_bit = md_enumerator_or(s, "SECTION_MARKED_PRESENT_BIT", 0);
	if ((err = md_symbol(s, "mem_section", &sym)) ||
	    (err = md_type_size(s, "struct mem_section", &t->size)) ||
	    (err = md_member_offset(s, "struct mem_section", "section_mem_map", &t->map_off)))
		return md_error_wrap(err, "memory sections");
	if (!t->size || t->size > s->kernel.page_size)
		return md_error_create(MD_ERR_CORRUPT, "struct mem_section of %" PRIu64 " bytes", t->size);
	t->per_root = s->kernel.page_size / t->size;	/* SECTIONS_PER_ROOT */
	if ((err = md_read_u64(s, sym, &t->roots)))
		return md_error_wrap(err, "mem_section");
	return NULL;
}

struct md_error *md_pfn_present(struct md_session *s, uint64_t pfn, bool *ret)
{
	uint64_t nr = pfn >> (SECTION_SIZE_BITS - s->kernel.page_shift), root, map;
	struct sections t;
	struct md_error *err;

	if ((err = read_sections(s, &t)))
		return err;
	/* MAX_PHYSMEM_BITS is 52 with 5-level paging: no section beyond */
	if (!t.roots || nr >> (52 - SECTION_SIZE_BITS)) {
		*ret = false;
		return NULL;
	}
	if ((err = md_read_u64(s, t.roots + nr / t.per_root * 8, &root)))
		return md_error_wrap(err, "mem_section root of section %" PRIu64, nr);
	if (!root) {
		*ret = false;
		return NULL;
	}
	if ((err = md_read_u64(s, root + nr % t.per_root * t.size + t.map_off, &map)))
		return md_error_wrap(err, "mem_section %" PRIu64, nr);
	*ret = map >> t.present_bit & 1;
	return NULL;
}

struct md_error *md_present_end_pfn(struct md_session *s, uint64_t *ret)
{
	const struct md_kernel *k = &s->kernel;
	uint64_t nr_roots, *roots, map;
	struct sections t;
	struct md_error *err;

	if ((err = read_sections(s, &t)))
		return err;
	/* mm/sparse.c sparse_index_alloc(): NR_SECTION_ROOTS pointers */
	nr_roots = ((1ULL << (k->phys_bits - SECTION_SIZE_BITS)) + t.per_root - 1) / t.per_root;
	if (!(roots = malloc(nr_roots * 8)))
		return md_error_nomem();
	if ((err = md_read(s, t.roots, roots, nr_roots * 8))) {
		free(roots);
		return md_error_wrap(err, "mem_section roots");
	}
	for (uint64_t r = nr_roots; r-- > 0;) {
		for (uint64_t i = t.per_root; roots[r] && i-- > 0;) {
			if ((err = md_read_u64(s, roots[r] + i * t.size + t.map_off, &map))) {
				free(roots);
				return md_error_wrap(err, "mem_section %" PRIu64, r * t.per_root + i);
			}
			if (map >> t.present_bit & 1) {
				free(roots);
				*ret = (r * t.per_root + i + 1) << (SECTION_SIZE_BITS - k->page_shift);
				return NULL;
			}
		}
	}
	free(roots);
	return md_error_create(MD_ERR_CORRUPT, "no memory section is present");
}

/* The first member of these that the kernel has: its offset into *ret,
 * its number into *which. */
static struct md_error *first_member(struct md_session *s, const char *const (*members)[2], size_t n,
				     uint64_t *ret, size_t *which)
{
	struct md_error *err = NULL;

	for (*which = 0; *which < n; ++*which) {
		md_error_destroy(err);
		if (!(err = md_member_offset(s, members[*which][0], members[*which][1], ret)) ||
		    md_error_root_code(err) != MD_ERR_LOOKUP)
			return err;
	}
	return err;
}

struct md_error *md_compound_head_offset(struct md_session *s, uint64_t *ret)
{
	/* Linux kernel commit d50569612c29 ("mm: rename the 'compound_head'
	 * field in the 'struct page' to 'compound_info'") (in v7.1); bit 0
	 * still marks a tail page. */
	static const char *const heads[][2] = {
		{ "struct page", "compound_head" }, { "struct page", "compound_info" },
	};
	size_t which;
	struct md_error *err = first_member(s, heads, 2, ret, &which);

	return err && md_error_root_code(err) == MD_ERR_LOOKUP ?
	       md_error_wrap(err, "struct page has neither compound_head nor compound_info") : err;
}

struct md_error *md_compound_layout(struct md_session *s, struct md_compound_layout *ret)
{
	/* The order, in the first tail page: folio->_folio_order (5.18);
	 * Linux kernel commit ebc1baf5c9b4 ("mm: free up a word in the first
	 * tail page") (in v6.6) moved it to the low byte of folio->_flags_1;
	 * before folios, page->compound_order. */
	static const char *const orders[][2] = {
		{ "struct folio", "_folio_order" }, { "struct folio", "_flags_1" },
		{ "struct page", "compound_order" },
	};
	size_t which;
	int64_t bit;
	struct md_error *err;

	if ((err = md_member_offset(s, "struct page", "flags", &ret->flags)) ||
	    (err = md_enumerator(s, "PG_head", &bit)) ||
	    (err = md_compound_head_offset(s, &ret->compound_head)) ||
	    (err = first_member(s, orders, 3, &ret->order, &which)))
		return err;
	if (which == 2)	/* a struct folio spans the tail page; a struct page does not */
		ret->order += s->kernel.page_struct_size;
	ret->pg_head = 1ULL << bit;
	return NULL;
}
