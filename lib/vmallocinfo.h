/* vmalloc by caller: the busy vmap areas (lib/vmalloc.c) grouped by
 * vm->caller, as /proc/vmallocinfo would be if summed per caller. */
#ifndef MEMDIAG_VMALLOCINFO_H
#define MEMDIAG_VMALLOCINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "vmalloc.h"

struct md_tasks;
struct md_output;

/* include/linux/vmalloc.h: #defines, so not in the BTF. */
#define MD_VM_IOREMAP 0x1
#define MD_VM_ALLOC 0x2
#define MD_VM_MAP 0x4
#define MD_VM_USERMAP 0x8
#define MD_VM_DMA_COHERENT 0x10
#define MD_VM_SPARSE 0x1000	/* 6.9; no older kernel sets the bit */

struct md_vmalloc_caller {
	uint64_t caller;	/* vm->caller; 0 for vm_map_ram areas and callerless ones */
	bool vm_map_ram;	/* areas without a vm_struct */
	bool unreadable;	/* areas whose vm_struct could not be read */
	char name[128];		/* "vleaky_alloc_one+0x15 [vleaky]" */
	uint64_t areas, pages, size;	/* size: vm->size summed, guard pages included */
	uint64_t stack_areas, stack_pages;	/* of those, tasks' kernel stacks */
	uint64_t flags;		/* vm->flags of its areas, or'ed */
};

struct md_vmalloc_callers {
	struct md_vmalloc_caller *callers;	/* by pages, then size, largest first */
	size_t nr_callers;
	uint64_t areas, pages, size;		/* totals */
	uint64_t stack_areas, stack_pages;
	bool stacks_known;			/* tasks were given */
};

/* Group v's areas by caller.  tasks (or NULL): tag the areas that are a
 * task's kernel stack (task->stack inside the area). */
struct md_error *md_vmalloc_by_caller(struct md_session *s, const struct md_vmalloc *v,
				      const struct md_tasks *tasks, struct md_vmalloc_callers **ret);
void md_vmalloc_callers_destroy(struct md_vmalloc_callers *c);

/* An area's caller as /proc/vmallocinfo names it ("vm_map_ram" for an
 * area without a vm_struct). */
void md_vmalloc_area_caller(struct md_session *s, const struct md_vmap_area *a, char *buf, size_t len);
/* vm->flags as /proc/vmallocinfo's words ("vmalloc", "ioremap", ...). */
struct md_json;
void md_vmalloc_flags_text(uint64_t flags, char *buf, size_t len);
struct md_json *md_vmalloc_flags_json(uint64_t flags);

/* mm/vmalloc.c vmalloc_nr_pages(): pages vmalloc holds (VmallocUsed). */
struct md_error *md_vmalloc_nr_pages(struct md_session *s, int64_t *ret);

/* The `vmalloc` command. */
struct md_args;
struct md_error *md_cmd_vmalloc(struct md_session *s, const struct md_args *a, struct md_output *out);

#endif
