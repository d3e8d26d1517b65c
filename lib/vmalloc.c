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
#include "list.h"
#include "vmalloc.h"

#define MAX_AREAS 10000000	/* more than any kernel has: a cycle */

struct vmalloc_layout {
	uint64_t va_start, va_end, va_list, va_vm, va_rb, rb_left, rb_right;
	uint64_t vm_flags, vm_nr_pages, vm_caller, vm_size, vm_addr, vm_phys_addr, vm_pages;
	uint64_t vm_struct_size;
	uint64_t node_size, node_busy_head, node_busy_root;	/* struct vmap_node, 6.9+ */
};

static struct md_error *resolve_layout(struct md_session *s, struct vmalloc_layout *l)
{
	const struct md_field fields[] = {
		{ "struct vmap_area", "va_start", &l->va_start },
		{ "struct vmap_area", "va_end", &l->va_end },
		{ "struct vmap_area", "list", &l->va_list },
		{ "struct vmap_area", "vm", &l->va_vm },
		{ "struct vmap_area", "rb_node", &l->va_rb },
		{ "struct rb_node", "rb_left", &l->rb_left },
		{ "struct rb_node", "rb_right", &l->rb_right },
		{ "struct vm_struct", "flags", &l->vm_flags },
		{ "struct vm_struct", "nr_pages", &l->vm_nr_pages },
		{ "struct vm_struct", "caller", &l->vm_caller },
		{ "struct vm_struct", "size", &l->vm_size },
		{ "struct vm_struct", "addr", &l->vm_addr },
		{ "struct vm_struct", "phys_addr", &l->vm_phys_addr },
		{ "struct vm_struct", "pages", &l->vm_pages },
	};
	struct md_error *err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]));

	if (!err)
		err = md_type_size(s, "struct vm_struct", &l->vm_struct_size);
	if (!err && l->vm_struct_size > 256)
		err = md_error_create(MD_ERR_CORRUPT, "struct vm_struct of %" PRIu64 " bytes",
				      l->vm_struct_size);
	return err;
}

static struct md_error *add_area(struct md_vmalloc *v, size_t *cap, const struct md_vmap_area *a)
{
	if (!md_array_reserve(&v->areas, cap, v->nr_areas, sizeof(*v->areas), 1024))
		return md_error_nomem();
	v->areas[v->nr_areas++] = *a;
	return NULL;
}

/* One busy area.  Its vm_struct, if unreadable, is reported and the area
 * kept without it. */
static struct md_error *read_area(struct md_session *s, const struct vmalloc_layout *l, uint64_t va,
				  struct md_vmalloc *v, struct md_vmap_area *a)
{
	unsigned char vm[256];
	struct md_error *err;

	memset(a, 0, sizeof(*a));
	if ((err = md_read_u64(s, va + l->va_start, &a->start)) ||
	    (err = md_read_u64(s, va + l->va_end, &a->end)) ||
	    (err = md_read_u64(s, va + l->va_vm, &a->vm)))
		return err;
	if (a->vm) {
		if (l->vm_struct_size > sizeof(vm))
			return md_error_create(MD_ERR_CORRUPT, "struct vm_struct of %" PRIu64 " bytes: "
					       "memdiag reads at most %zu", l->vm_struct_size, sizeof(vm));
		if ((err = md_read(s, a->vm, vm, l->vm_struct_size))) {
			md_messages_add_error(&v->errors, &v->nr_errors,
					      md_error_wrap(err, "vm_struct 0x%" PRIx64, a->vm));
		} else {
			a->vm_flags = md_get_u64(vm, l->vm_flags);
			a->caller = md_get_u64(vm, l->vm_caller);
			a->nr_pages = md_get_u32(vm, l->vm_nr_pages);	/* unsigned int */
			a->addr = md_get_u64(vm, l->vm_addr);
			a->size = md_get_u64(vm, l->vm_size);
			a->phys_addr = md_get_u64(vm, l->vm_phys_addr);
			a->pages = md_get_u64(vm, l->vm_pages);
			/* the pages back the area, which is a guard page larger
			 * than them at most (mm/vmalloc.c __get_vm_area_node()) */
			if (a->end > a->start && a->nr_pages > (a->end - a->start) >> s->kernel.page_shift) {
				md_messages_add(&v->errors, &v->nr_errors, "vm_struct 0x%" PRIx64 ": nr_pages %"
						PRIu64 " cannot be in an area of %" PRIu64 " pages: counted as 0",
						a->vm, (uint64_t)a->nr_pages, (a->end - a->start) >> s->kernel.page_shift);
				a->nr_pages = 0;
			}
		}
	}
	return NULL;
}

/* Whether [start, end) lies in the space vmap areas come from: VMALLOC_START
 * to VMALLOC_END, or the modules' (mm/vmalloc.c __get_vm_area_node() is
 * given one of the two); anything else is a corrupt area, which must not
 * be scanned or cost the valid areas it would overlap. */
static bool in_vmap_space(const struct md_kernel *k, uint64_t start, uint64_t end)
{
	return (start >= k->vmalloc_start && end - k->vmalloc_start <= k->vmalloc_size) ||
	       (start >= MD_MODULES_VADDR && end <= MD_MODULES_END);
}

static struct md_error *keep_area(struct md_session *s, struct md_vmalloc *v, size_t *cap, const char *name,
				  uint64_t va, const struct md_vmap_area *a)
{
	if (a->end <= a->start || !in_vmap_space(&s->kernel, a->start, a->end)) {
		md_messages_add(&v->errors, &v->nr_errors, "%s: vmap_area 0x%" PRIx64 " spans 0x%" PRIx64
				"-0x%" PRIx64 ", %s: skipped", name, va, a->start, a->end,
				a->end <= a->start ? "backwards" : "outside the vmalloc and module space");
		return NULL;
	}
	return add_area(v, cap, a);
}

/* The busy tree (rb_node in each vmap_area), for the areas a broken list
 * hides: a node that cannot be read costs its subtree only.  The tree is
 * sorted by va_start (mm/vmalloc.c find_va_links()): each node must start
 * in [lo, hi) of its place, so a corrupt child pointing back up (a cycle,
 * which depth alone does not bound: each level doubles) or across is cut
 * off, and no node is walked twice. */
static struct md_error *walk_tree(struct md_session *s, const struct vmalloc_layout *l, uint64_t node,
				  unsigned int depth, uint64_t lo, uint64_t hi, const char *name,
				  struct md_vmalloc *v, size_t *cap)
{
	uint64_t va = node - l->va_rb, left, right;
	struct md_vmap_area a;
	struct md_error *err;

	if (!node || depth > 128)	/* an rbtree of 2^64 nodes is shallower */
		return NULL;
	if (md_interrupted(s))
		return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
	if ((err = read_area(s, l, va, v, &a)) ||
	    (err = md_read_u64(s, node + l->rb_left, &left)) ||
	    (err = md_read_u64(s, node + l->rb_right, &right))) {
		md_messages_add_error(&v->errors, &v->nr_errors, md_error_wrap(err, "%s: busy tree node "
				      "of vmap_area 0x%" PRIx64 " (its subtree lost)", name, va));
		return NULL;
	}
	if (a.start < lo || a.start >= hi) {
		md_messages_add(&v->errors, &v->nr_errors, "%s: busy tree: vmap_area 0x%" PRIx64 " starts "
				"at 0x%" PRIx64 ", out of order (a corrupt link): its subtree skipped",
				name, va, a.start);
		return NULL;
	}
	if ((err = keep_area(s, v, cap, name, va, &a)) ||
	    (err = walk_tree(s, l, left, depth + 1, lo, a.start, name, v, cap)))
		return err;
	return walk_tree(s, l, right, depth + 1, a.start + 1, hi, name, v, cap);
}

/* One list of busy areas (list_head at head, linked through vmap_area.list),
 * and, if it breaks, what the tree rooted at root still reaches.  Areas
 * found twice are merged once sorted. */
static struct md_error *walk_list(struct md_session *s, const struct vmalloc_layout *l,
				  uint64_t head, uint64_t root, const char *name, struct md_vmalloc *v,
				  size_t *cap)
{
	struct md_list list;
	struct md_vmap_area a;
	uint64_t node;
	size_t before;
	struct md_error *err;

	if ((err = md_list_walk(s, head, MAX_AREAS, &list)))
		return err;
	for (size_t i = 0; i < list.nr; i++) {
		uint64_t va = list.nodes[i] - l->va_list;

		if (md_interrupted(s)) {
			err = md_error_create(MD_ERR_INTERRUPTED, "interrupted");
			goto out;
		}
		if ((err = read_area(s, l, va, v, &a)))
			md_messages_add_error(&v->errors, &v->nr_errors,
					      md_error_wrap(err, "%s: vmap_area 0x%" PRIx64, name, va));
		else if ((err = keep_area(s, v, cap, name, va, &a)))
			goto out;
	}
	err = NULL;
	if (!list.broken)
		goto out;
	if (list.broken_at == head)
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(list.broken, "%s: list head 0x%" PRIx64, name, head));
	else
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(list.broken, "%s: the list breaks after vmap_area 0x%"
						    PRIx64, name, list.broken_at - l->va_list));
	if (list.broken_back)
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(list.broken_back, "%s, walked from its other end: the "
						    "areas between the two breaks are lost", name));
	list.broken = list.broken_back = NULL;
	before = v->nr_areas;
	if (root && (err = md_read_u64(s, root, &node))) {
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(err, "%s: the busy tree's root", name));
		err = NULL;
	} else if (root && (err = walk_tree(s, l, node, 0, 0, UINT64_MAX, name, v, cap))) {
		goto out;
	}
	md_messages_add(&v->errors, &v->nr_errors, "%s: %zu areas read from the list's other end, "
			"%zu from the busy tree (duplicates merged)", name, list.nr - list.nr_forward,
			v->nr_areas - before);
out:
	md_list_release(&list);
	return err;
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
	if (!(err = md_symbol(s, "vmap_area_list", &head))) {
		uint64_t root;

		if ((err = md_symbol(s, "vmap_area_root", &root))) {
			md_error_destroy(err);
			root = 0;
		}
		return walk_list(s, &l, head, root, "vmap_area_list", v, &cap);
	}
	md_error_destroy(err);
	/* 6.9 "mm: vmalloc: add a per-node busy tree and list" (vmap_nodes) */
	if ((err = md_symbol(s, "vmap_nodes", &nodes_addr)) ||
	    (err = md_read_u64(s, nodes_addr, &nodes)) ||
	    (err = md_symbol(s, "nr_vmap_nodes", &nodes_addr)) ||
	    (err = md_read_u32(s, nodes_addr, &nr_nodes)) ||
	    (err = md_type_size(s, "struct vmap_node", &l.node_size)) ||
	    (err = md_member_offset(s, "struct vmap_node", "busy.head", &l.node_busy_head)) ||
	    (err = md_member_offset(s, "struct vmap_node", "busy.root", &l.node_busy_root)))
		return md_error_wrap(err, "no vmap_area_list and no vmap_nodes");
	if (nr_nodes == 0 || nr_nodes > 4096)
		return md_error_create(MD_ERR_CORRUPT, "nr_vmap_nodes is %u", nr_nodes);
	for (uint32_t i = 0; i < nr_nodes; i++) {
		char name[48];

		snprintf(name, sizeof(name), "vmap_nodes[%u].busy", i);
		if ((err = walk_list(s, &l, nodes + i * l.node_size + l.node_busy_head,
				     nodes + i * l.node_size + l.node_busy_root, name, v, &cap)))
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

		if (a->start == prev->start && a->end == prev->end && a->vm == prev->vm)
			continue;	/* the same area, reached twice after a broken list */
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
	free(v->pages);
	md_messages_free(v->page_errors, v->nr_page_errors);
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

static int compare_page(const void *a, const void *b)
{
	uint64_t x = ((const struct md_vmalloc_page *)a)->page, y = ((const struct md_vmalloc_page *)b)->page;

	return x < y ? -1 : x > y;
}

/* Every area's vm->pages[] (mm/vmalloc.c __vmalloc_area_node() fills it
 * with nr_pages struct page pointers). */
static struct md_error *read_pages(struct md_session *s, struct md_vmalloc *v)
{
	size_t cap = 0;
	uint64_t *buf = NULL;

	v->pages_read = true;
	for (size_t i = 0; i < v->nr_areas; i++) {
		const struct md_vmap_area *a = &v->areas[i];
		uint64_t *grown;
		struct md_error *err;

		if (!a->vm || !a->pages || !a->nr_pages)
			continue;
		if (a->nr_pages > (a->end - a->start) / s->kernel.page_size) {
			md_messages_add(&v->page_errors, &v->nr_page_errors, "vmap area 0x%" PRIx64 ": %"
					PRIu64 " pages in %" PRIu64 " bytes: its pages not looked at",
					a->start, a->nr_pages, a->end - a->start);
			continue;
		}
		if (!(grown = realloc(buf, a->nr_pages * 8))) {
			free(buf);
			return md_error_nomem();
		}
		buf = grown;
		if ((err = md_read(s, a->pages, buf, a->nr_pages * 8))) {
			md_messages_add_error(&v->page_errors, &v->nr_page_errors,
					      md_error_wrap(err, "vmap area 0x%" PRIx64 ": its pages[]", a->start));
			continue;
		}
		for (uint64_t j = 0; j < a->nr_pages; j++) {
			if (!buf[j])
				continue;
			if (!md_array_reserve(&v->pages, &cap, v->nr_pages, sizeof(*v->pages), 1024)) {
				free(buf);
				return md_error_nomem();
			}
			v->pages[v->nr_pages++] = (struct md_vmalloc_page){ buf[j], i, j };
		}
	}
	free(buf);
	if (v->nr_pages)
		qsort(v->pages, v->nr_pages, sizeof(*v->pages), compare_page);
	return NULL;
}

struct md_error *md_vmalloc_page_owner(struct md_session *s, struct md_vmalloc *v, uint64_t page,
				       const struct md_vmalloc_page **ret)
{
	struct md_vmalloc_page key = { .page = page };
	struct md_error *err;

	if (!v->pages_read && (err = read_pages(s, v)))
		return err;
	*ret = v->nr_pages ? bsearch(&key, v->pages, v->nr_pages, sizeof(key), compare_page) : NULL;
	return NULL;
}
