/* Memory sections (mm/sparse.c): which pfns of a node's span have memory. */
#ifndef MEMDIAG_SPARSE_H
#define MEMDIAG_SPARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/* Whether pfn lies in a present memory section (include/linux/mmzone.h
 * present_section_nr()): a node's span may hold holes without memory, and
 * without struct pages (the PCI hole below 4 GiB), which no dump can hold.
 * Errors: the section table cannot be read. */
struct md_error *md_pfn_present(struct md_session *s, uint64_t pfn, bool *ret);

/* One past the last pfn of the highest present memory section, which no
 * RAM, so no max_pfn and no node's span, can pass.  MD_ERR_LOOKUP without
 * a section table; MD_ERR_CORRUPT if no section is present. */
struct md_error *md_present_end_pfn(struct md_session *s, uint64_t *ret);

/* What compound_order() needs of struct page (include/linux/mm.h). */
struct md_compound_layout {
	uint64_t flags, compound_head;	/* offsets in struct page */
	uint64_t order;			/* the order's byte, from the head's struct page */
	uint64_t pg_head;		/* 1 << PG_head */
};

/* MD_ERR_LOOKUP where this kernel's types do not say. */
struct md_error *md_compound_head_offset(struct md_session *s, uint64_t *ret);
struct md_error *md_compound_layout(struct md_session *s, struct md_compound_layout *ret);

#endif
