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

#endif
