/* The kernel's own page tables (x86-64, 4 or 5 levels): where a kernel
 * virtual address is in physical memory, for mappings no other index
 * records (vmap() of existing pages, the IRQ stacks, ioremap). */
#ifndef MEMDIAG_PGTABLE_H
#define MEMDIAG_PGTABLE_H

#include <stdint.h>

#include "session.h"

/* MD_ERR_LOOKUP: not mapped (an entry on the way not present);
 * MD_ERR_FAULT: a page-table page not in the dump. */
struct md_error *md_kernel_virt_to_phys(struct md_session *s, uint64_t addr, uint64_t *ret);

#endif
