/* The kernel's page tables (see pgtable.h), walked from init_top_pgt as
 * arch/x86/mm/pgtable.c and the hardware do: each level's entry names the
 * next table's page (read through the direct map), a PUD or PMD entry with
 * _PAGE_PSE maps a 1 GiB or 2 MiB page itself. */
#include "pgtable.h"

#include <inttypes.h>

#define PAGE_PRESENT 0x1ULL	/* arch/x86/include/asm/pgtable_types.h _PAGE_PRESENT */
#define PAGE_PSE 0x80ULL	/* _PAGE_PSE */
#define PFN_MASK 0x000ffffffffff000ULL	/* PTE_PFN_MASK with 52 physical bits */

struct md_error *md_kernel_virt_to_phys(struct md_session *s, uint64_t addr, uint64_t *ret)
{
	/* 5-level paging: a P4D level under the PGD (the session's phys_bits
	 * says which, from __pgtable_l5_enabled) */
	const unsigned int levels = s->kernel.phys_bits == 52 ? 5 : 4;
	static const char *const names[] = { "pte", "pmd", "pud", "p4d", "pgd" };
	uint64_t table, entry;
	struct md_error *err;

	if ((err = md_symbol(s, "init_top_pgt", &table)))
		return md_error_wrap(err, "the kernel's page tables");
	for (unsigned int level = levels; level-- > 0;) {
		const unsigned int shift = 12 + 9 * level;
		const uint64_t index = (addr >> shift) & 511;

		if ((err = md_read_u64(s, table + index * 8, &entry)))
			return md_error_wrap(err, "translating 0x%" PRIx64 ": %s[%" PRIu64 "]", addr,
					     level == levels - 1 ? "pgd" : names[level], index);
		if (!(entry & PAGE_PRESENT))
			return md_error_create(MD_ERR_LOOKUP, "0x%" PRIx64 " is not mapped: %s[%" PRIu64
					       "] = 0x%" PRIx64, addr, level == levels - 1 ? "pgd" :
					       names[level], index, entry);
		if (level == 0 || ((level == 1 || level == 2) && (entry & PAGE_PSE))) {
			const uint64_t size = 1ULL << shift;

			*ret = (entry & PFN_MASK & ~(size - 1)) | (addr & (size - 1));
			return NULL;
		}
		table = s->kernel.page_offset + (entry & PFN_MASK);
	}
	return md_error_create(MD_ERR_CORRUPT, "translating 0x%" PRIx64 ": no level ended the walk", addr);
}
