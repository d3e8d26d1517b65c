/* vmalloc: the kernel's busy vmap areas (vmalloc, vmap, module memory,
 * VMAP_STACK task stacks, per-CPU chunks). */
#ifndef MEMDIAG_VMALLOC_H
#define MEMDIAG_VMALLOC_H

#include <stdint.h>

#include "session.h"

struct md_vmap_area {
	uint64_t start, end;	/* va_start, va_end: the guard page included */
	uint64_t vm;		/* its struct vm_struct, 0 for vm_map_ram areas */
	uint64_t vm_flags;	/* vm->flags (VM_ALLOC, VM_IOREMAP, ...) */
	uint64_t nr_pages;	/* vm->nr_pages: pages vmalloc allocated for it */
	uint64_t caller;	/* vm->caller */
	uint64_t addr, size;	/* vm->addr, vm->size: what /proc/vmallocinfo prints */
	uint64_t phys_addr;	/* vm->phys_addr (ioremap) */
	uint64_t pages;		/* vm->pages: the page array (vmalloc'ed itself when large) */
};

/* A page vmalloc allocated for an area (its vm->pages[index]). */
struct md_vmalloc_page {
	uint64_t page;		/* struct page */
	uint32_t area;		/* index into areas[] */
	uint32_t index;		/* in the area's pages[] */
};

struct md_vmalloc {
	struct md_vmap_area *areas;	/* sorted by start, disjoint */
	size_t nr_areas;
	char **errors;			/* problems met on the way, areas still listed */
	size_t nr_errors;
	/* md_vmalloc_page_owner(): every area's pages, sorted by page; read
	 * on first use, errors (areas whose pages[] is unreadable) kept. */
	struct md_vmalloc_page *pages;
	size_t nr_pages;
	bool pages_read;
	char **page_errors;
	size_t nr_page_errors;
};

/* Every busy area, read once per session (kept in s->vmalloc). */
struct md_error *md_vmalloc_get(struct md_session *s, struct md_vmalloc **ret);
void md_vmalloc_destroy(struct md_vmalloc *v);

/* The area containing addr, or NULL. */
const struct md_vmap_area *md_vmalloc_find(const struct md_vmalloc *v, uint64_t addr);

/* The area whose vm->pages[] holds the struct page at page: *ret NULL if
 * none (areas whose pages[] could not be read are in v->page_errors). */
struct md_error *md_vmalloc_page_owner(struct md_session *s, struct md_vmalloc *v, uint64_t page,
				       const struct md_vmalloc_page **ret);

#endif
