/* vmalloc: the busy vmap areas, as mm/vmalloc.c keeps them.
 *
 * Up to 6.8 every busy area is on the global, address-sorted
 * vmap_area_list; since 6.9 ("mm: vmalloc: add a per-node busy tree and
 * list", the vmap_node split) each of nr_vmap_nodes nodes has its own
 * busy.head list.  Either way the lists are walked with a bound and the
 * result sorted, so a corrupt link costs the areas after it, not the walk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "vmalloc.h"

#define MAX_AREAS 10000000	/* more than any kernel has: a cycle */

struct vmalloc_layout {
	uint64_t va_start, va_end, va_list, va_vm;
	uint64_t vm_flags, vm_nr_pages, vm_caller, vm_size;
	uint64_t node_size, node_busy_head;	/* struct vmap_node, 6.9+ */
};

static struct md_error *resolve_layout(struct md_session *s, struct vmalloc_layout *l)
{
	const struct md_field fields[] = {
		{ "struct vmap_area", "va_start", &l->va_start },
		{ "struct vmap_area", "va_end", &l->va_end },
		{ "struct vmap_area", "list", &l->va_list },
		{ "struct vmap_area", "vm", &l->va_vm },
		{ "struct vm_struct", "flags", &l->vm_flags },
		{ "struct vm_struct", "nr_pages", &l->vm_nr_pages },
		{ "struct vm_struct", "caller", &l->vm_caller },
		{ "struct vm_struct", "size", &l->vm_size },
	};
	return md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]));
}

static struct md_error *add_area(struct md_vmalloc *v, size_t *cap, const struct md_vmap_area *a)
{
	if (!md_array_reserve(&v->areas, cap, v->nr_areas, sizeof(*v->areas), 1024))
		return md_error_nomem();
	v->areas[v->nr_areas++] = *a;
	return NULL;
}

/* One list of busy areas (list_head at head, linked through vmap_area.list). */
static struct md_error *walk_list(struct md_session *s, const struct vmalloc_layout *l,
				  uint64_t head, const char *name, struct md_vmalloc *v, size_t *cap)
{
	uint64_t next;
	size_t seen = 0;
	struct md_error *err;

	if ((err = md_read_u64(s, head, &next))) {
		md_messages_add_error(&v->errors, &v->nr_errors, md_error_wrap(err, "%s", name));
		return NULL;
	}
	while (next != head) {
		uint64_t va = next - l->va_list, flags, caller;
		uint32_t nr_pages;	/* unsigned int in struct vm_struct */
		struct md_vmap_area a = { 0 };

		if (md_interrupted(s))
			return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
		if (++seen > MAX_AREAS) {
			md_messages_add(&v->errors, &v->nr_errors, "%s: more than %d areas, a cycle? "
					"stopped there", name, MAX_AREAS);
			break;
		}
		if ((err = md_read_u64(s, va + l->va_start, &a.start)) ||
		    (err = md_read_u64(s, va + l->va_end, &a.end)) ||
		    (err = md_read_u64(s, va + l->va_vm, &a.vm)) ||
		    (err = md_read_u64(s, next, &next))) {
			md_messages_add_error(&v->errors, &v->nr_errors,
					      md_error_wrap(err, "%s: vmap_area 0x%" PRIx64 ", areas after "
							    "it are missing", name, va));
			break;
		}
		if (a.end <= a.start) {
			md_messages_add(&v->errors, &v->nr_errors, "%s: vmap_area 0x%" PRIx64
					" spans 0x%" PRIx64 "-0x%" PRIx64 ": skipped", name, va,
					a.start, a.end);
			continue;
		}
		if (a.vm) {
			if ((err = md_read_u64(s, a.vm + l->vm_flags, &flags)) ||
			    (err = md_read_u64(s, a.vm + l->vm_caller, &caller)) ||
			    (err = md_read_u32(s, a.vm + l->vm_nr_pages, &nr_pages))) {
				md_messages_add_error(&v->errors, &v->nr_errors,
						      md_error_wrap(err, "vm_struct 0x%" PRIx64, a.vm));
			} else {
				a.vm_flags = flags;
				a.caller = caller;
				a.nr_pages = nr_pages;
			}
		}
		if ((err = add_area(v, cap, &a)))
			return err;
	}
	return NULL;
}

static int compare_area(const void *a, const void *b)
{
	uint64_t x = ((const struct md_vmap_area *)a)->start;
	uint64_t y = ((const struct md_vmap_area *)b)->start;

	return x < y ? -1 : x > y;
}

static struct md_error *read_areas(struct md_session *s, struct md_vmalloc *v)
{
	struct vmalloc_layout l;
	uint64_t head, nodes, nodes_addr;
	uint32_t nr_nodes;
	size_t cap = 0;
	struct md_error *err;

	if ((err = resolve_layout(s, &l)))
		return err;
	if (!(err = md_symbol(s, "vmap_area_list", &head)))
		return walk_list(s, &l, head, "vmap_area_list", v, &cap);
	md_error_destroy(err);
	/* 6.9 "mm: vmalloc: add a per-node busy tree and list" (vmap_nodes) */
	if ((err = md_symbol(s, "vmap_nodes", &nodes_addr)) ||
	    (err = md_read_u64(s, nodes_addr, &nodes)) ||
	    (err = md_symbol(s, "nr_vmap_nodes", &nodes_addr)) ||
	    (err = md_read_u32(s, nodes_addr, &nr_nodes)) ||
	    (err = md_type_size(s, "struct vmap_node", &l.node_size)) ||
	    (err = md_member_offset(s, "struct vmap_node", "busy.head", &l.node_busy_head)))
		return md_error_wrap(err, "no vmap_area_list and no vmap_nodes");
	if (nr_nodes == 0 || nr_nodes > 4096)
		return md_error_create(MD_ERR_CORRUPT, "nr_vmap_nodes is %u", nr_nodes);
	for (uint32_t i = 0; i < nr_nodes; i++) {
		char name[48];

		snprintf(name, sizeof(name), "vmap_nodes[%u].busy", i);
		if ((err = walk_list(s, &l, nodes + i * l.node_size + l.node_busy_head, name, v, &cap)))
			return err;
	}
	return NULL;
}

struct md_error *md_vmalloc_get(struct md_session *s, struct md_vmalloc **ret)
{
	struct md_vmalloc *v;
	struct md_error *err;

	if (s->vmalloc) {
		*ret = s->vmalloc;
		return NULL;
	}
	if (!(v = calloc(1, sizeof(*v))))
		return md_error_nomem();
	if ((err = read_areas(s, v))) {
		md_vmalloc_destroy(v);
		return md_error_wrap(err, "vmalloc areas");
	}
	if (v->nr_areas)
		qsort(v->areas, v->nr_areas, sizeof(*v->areas), compare_area);
	/* Overlaps mean a corrupt area: keep the first, so lookups stay sane. */
	size_t kept = v->nr_areas ? 1 : 0;

	for (size_t i = 1; i < v->nr_areas; i++) {
		const struct md_vmap_area *prev = &v->areas[kept - 1], *a = &v->areas[i];

		if (a->start < prev->end)
			md_messages_add(&v->errors, &v->nr_errors, "vmap area 0x%" PRIx64 "-0x%" PRIx64
					" overlaps 0x%" PRIx64 "-0x%" PRIx64 ": ignored",
					a->start, a->end, prev->start, prev->end);
		else
			v->areas[kept++] = *a;
	}
	v->nr_areas = kept;
	s->vmalloc = v;
	*ret = v;
	return NULL;
}

void md_vmalloc_destroy(struct md_vmalloc *v)
{
	if (!v)
		return;
	free(v->areas);
	md_messages_free(v->errors, v->nr_errors);
	free(v);
}

const struct md_vmap_area *md_vmalloc_find(const struct md_vmalloc *v, uint64_t addr)
{
	size_t lo = 0, hi = v->nr_areas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < v->areas[mid].start)
			hi = mid;
		else if (addr >= v->areas[mid].end)
			lo = mid + 1;
		else
			return &v->areas[mid];
	}
	return NULL;
}
