/* whatis ADDR...: what each address is (see whatis.h).
 *
 * An address is placed by the x86-64 layout first (direct map, vmemmap,
 * vmalloc, kernel image, modules; Documentation/arch/x86/x86_64/mm.rst),
 * then every index that can say more is asked: the slab walk (lib/slab.c,
 * the object and whether it is free), the free lists (lib/buddy.c), the
 * busy vmap areas and their pages (lib/vmalloc.c), the tasks and their
 * stacks (lib/tasks.c), the per-CPU areas (__per_cpu_offset[]).  What an
 * index cannot tell (a page the dump lacks) is said in the address's
 * errors; the other facts are still given.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"
#include "options.h"
#include "output.h"
#include "page.h"
#include "pgtable.h"
#include "slab.h"
#include "stackdepot.h"
#include "tasks.h"
#include "track.h"
#include "vmalloc.h"
#include "vmallocinfo.h"
#include "whatis.h"

/* The indexes, each read on first need and its failure kept to be named
 * for every address that needed it. */
struct whatis_ctx {
	struct md_session *s;
	struct md_page_layout pl;
	char *pl_err;
	bool pl_tried;
	struct md_buddy *buddy;
	char *buddy_err;
	bool buddy_tried;
	struct md_vmalloc *vm;
	char *vm_err;
	bool vm_tried;
	struct md_tasks *tasks;
	char *tasks_err;
	bool tasks_tried;
	struct md_track_layout track;
	char *track_err;
	bool track_tried;
	uint64_t pcpu_unit_size;	/* 0: unknown */
	char *pcpu_err;
	bool pcpu_tried;
};

struct what_track {
	bool present;
	struct md_track t;
	uint64_t frames[MD_MAX_FRAMES];
	size_t nr_frames;
};

/* Everything known of one address. */
struct what {
	uint64_t addr;
	const char *region;
	char symbol[160];		/* kernel or module symbol, "" if none */
	/* slab */
	bool in_slab;
	struct md_slab_object slab;
	struct what_track alloc, free;
	/* page */
	bool has_page;
	struct md_page page, head;
	uint64_t page_offset;		/* of addr in the page (or in the struct page, for vmemmap) */
	const char *owner;
	const struct md_slab_cache *page_slab;	/* vmemmap: the cache whose slab the page is */
	const struct md_buddy_zone *free_zone;
	const struct md_buddy_block *free_block;
	char owner_detail[192];
	/* vmalloc */
	const struct md_vmap_area *area;
	/* task */
	const struct md_task *task;
	const char *task_part;
	/* per-CPU */
	int cpu;
	uint64_t cpu_offset;
	char **errors;
	size_t nr_errors;
};

#define what_error(w, err) md_messages_add_error(&(w)->errors, &(w)->nr_errors, err)

/* An index that could not be read: its message kept (NULL: read), to be
 * named for every address that needed it. */
static char *failed(struct md_error *err, const char *what)
{
	char *msg;

	if (!err)
		return NULL;
	err = md_error_wrap(err, "%s", what);
	msg = md_error_string(err);
	md_error_destroy(err);
	return msg ? msg : strdup("out of memory");
}

/* A lazily read index: NULL with its error named once per address. */
static const struct md_page_layout *page_layout(struct whatis_ctx *c, struct what *w)
{
	if (!c->pl_tried) {
		c->pl_tried = true;
		c->pl_err = failed(md_page_layout(c->s, &c->pl), "struct page not read");
	}
	if (c->pl_err) {
		md_messages_add(&w->errors, &w->nr_errors, "%s", c->pl_err);
		return NULL;
	}
	return &c->pl;
}

static struct md_buddy *buddy(struct whatis_ctx *c, struct what *w)
{
	if (!c->buddy_tried) {
		c->buddy_tried = true;
		c->buddy_err = failed(md_buddy_read(c->s, true, &c->buddy), "free lists not read");
	}
	if (c->buddy_err)
		md_messages_add(&w->errors, &w->nr_errors, "%s", c->buddy_err);
	return c->buddy;
}

static struct md_vmalloc *vmalloc_areas(struct whatis_ctx *c, struct what *w)
{
	if (!c->vm_tried) {
		c->vm_tried = true;
		c->vm_err = failed(md_vmalloc_get(c->s, &c->vm), "vmalloc areas not read");
	}
	if (c->vm_err)
		md_messages_add(&w->errors, &w->nr_errors, "%s", c->vm_err);
	return c->vm;
}

static struct md_tasks *tasks(struct whatis_ctx *c, struct what *w)
{
	if (!c->tasks_tried) {
		c->tasks_tried = true;
		c->tasks_err = failed(md_tasks_get(c->s, &c->tasks), "tasks not read");
	}
	if (c->tasks_err)
		md_messages_add(&w->errors, &w->nr_errors, "%s", c->tasks_err);
	return c->tasks;
}

/* Why a stack may have no owner: tasks that could not be read. */
static void tasks_unread(struct what *w, const struct md_tasks *t)
{
	if (t && t->incomplete)
		md_messages_add(&w->errors, &w->nr_errors, "the task list could not be read whole: "
				"this may be the kernel stack of a task not read");
	for (size_t i = 0; t && i < t->nr_idle_errors; i++)
		md_messages_add(&w->errors, &w->nr_errors, "%s: this may be its kernel stack",
				t->idle_errors[i]);
}

/* ------------------------------------------------------------- slab */

static void read_track(struct whatis_ctx *c, struct what *w, enum md_track_item item,
		       struct what_track *ret)
{
	const struct md_slab_cache *cache = w->slab.cache;
	unsigned char buf[512];
	struct md_stackdepot *depot;
	struct md_error *err;
	uint64_t at;

	if (!c->track_tried) {
		c->track_tried = true;
		c->track_err = failed(md_track_layout(c->s, &c->track), "its tracks not read");
	}
	if (c->track_err) {
		md_messages_add(&w->errors, &w->nr_errors, "%s", c->track_err);
		return;
	}
	at = md_track_offset(cache, &c->track, item);
	if (c->track.size > sizeof(buf) || at + c->track.size > cache->size) {
		what_error(w, md_error_create(MD_ERR_CORRUPT, "%s: a track at +%" PRIu64 " runs past its "
					      "%u-byte slot", cache->name, at, cache->size));
		return;
	}
	if ((err = md_read(c->s, w->slab.object + at, buf, c->track.size))) {
		what_error(w, md_error_wrap(err, "its %s track", item == MD_TRACK_ALLOC ? "alloc" : "free"));
		return;
	}
	md_track_decode(&c->track, buf, &ret->t);
	ret->present = ret->t.addr != 0;
	memcpy(ret->frames, ret->t.stack, ret->t.nr_stack * sizeof(ret->frames[0]));
	ret->nr_frames = ret->t.nr_stack;
	if (!ret->present || !ret->t.handle)
		return;
	err = md_stackdepot_get(c->s, &depot);
	if (!err)
		err = md_stackdepot_fetch(c->s, depot, ret->t.handle, ret->frames, MD_MAX_FRAMES,
					  &ret->nr_frames);
	if (err)
		what_error(w, md_error_wrap(err, "the stack of its %s track",
					    item == MD_TRACK_ALLOC ? "alloc" : "free"));
}

/* An address in no slab the walk found, when the walk was not whole:
 * it may be in a slab the walk missed. */
static void slab_walk_gaps(struct whatis_ctx *c, struct what *w)
{
	struct md_slab_state *st;
	struct md_error *err = md_slab_walk(c->s, &st);
	size_t unreadable = 0, first = 0;

	if (err) {
		md_error_destroy(err);
		return;	/* md_slab_object_at() said why */
	}
	for (size_t i = st->nr_caches; i-- > 0;)
		if (st->caches[i].unreadable) {
			unreadable++;
			first = i;
		}
	if (st->nr_errors)
		md_messages_add(&w->errors, &w->nr_errors, "the slab walk was not whole (%s): "
				"this may be in a slab it missed", st->errors[0]);
	else if (unreadable)
		md_messages_add(&w->errors, &w->nr_errors, "%zu slab caches could not be read (the "
				"first: kmem_cache 0x%" PRIx64 "): this may be in one of their slabs",
				unreadable, st->caches[first].address);
}

static void find_slab(struct whatis_ctx *c, struct what *w)
{
	struct md_error *err = md_slab_object_at(c->s, w->addr, &w->slab);

	if (md_error_catch(&err, MD_ERR_LOOKUP)) {
		slab_walk_gaps(c, w);
		return;
	}
	if (err) {
		what_error(w, md_error_wrap(err, "slab caches not read"));
		return;
	}
	w->in_slab = true;
	if (w->slab.state_error) {
		what_error(w, w->slab.state_error);
		w->slab.state_error = NULL;
	}
	if (!w->slab.in_object || !w->slab.cache->store_user)
		return;
	read_track(c, w, MD_TRACK_ALLOC, &w->alloc);
	read_track(c, w, MD_TRACK_FREE, &w->free);
}

/* ------------------------------------------------------------- pages */

static const struct md_buddy_block *free_block(struct whatis_ctx *c, struct what *w, uint64_t pfn,
					       const struct md_buddy_zone **zone)
{
	const struct md_buddy *b = buddy(c, w);

	for (size_t i = 0; b && i < b->nr_zones; i++) {
		const struct md_buddy_zone *z = &b->zones[i];

		for (size_t j = 0; j < z->nr_free_blocks; j++) {
			const struct md_buddy_block *blk = &z->free_blocks[j];

			if (pfn >= blk->pfn && pfn - blk->pfn < (1ULL << blk->order)) {
				*zone = z;
				return blk;
			}
		}
	}
	return NULL;
}

/* The task whose kernel stack holds addr. */
static const struct md_task *stack_owner(struct whatis_ctx *c, struct what *w, uint64_t addr)
{
	const struct md_tasks *t = tasks(c, w);

	for (size_t i = 0; t && i < t->nr_tasks + t->nr_idle; i++) {
		const struct md_task *task = i < t->nr_tasks ? &t->tasks[i] : &t->idle[i - t->nr_tasks];

		if (task->stack && addr >= task->stack && addr - task->stack < md_task_stack_size(c->s, task))
			return task;
	}
	return NULL;
}

/* Who holds the page: a slab, the free lists, a vmalloc area, user memory
 * (anon), the page cache, or nothing the kernel records. */
static void page_owner(struct whatis_ctx *c, struct what *w, const struct md_page_layout *pl)
{
	const struct md_page *h = &w->head;
	const struct md_vmalloc_page *vp = NULL;
	struct md_vmalloc *v;
	struct md_error *err;

	if (w->in_slab || w->page_slab) {
		w->owner = "slab";
		snprintf(w->owner_detail, sizeof(w->owner_detail), "%s",
			 (w->in_slab ? w->slab.cache : w->page_slab)->name);
		return;
	}
	if ((w->free_block = free_block(c, w, w->page.pfn, &w->free_zone))) {
		w->owner = "free";
		return;
	}
	if ((v = vmalloc_areas(c, w)) && (err = md_vmalloc_page_owner(c->s, v, h->page, &vp)))
		what_error(w, err);
	if (vp) {
		const struct md_vmap_area *a = &v->areas[vp->area];
		char caller[128];

		w->owner = "vmalloc";
		md_vmalloc_area_caller(c->s, a, caller, sizeof(caller));
		snprintf(w->owner_detail, sizeof(w->owner_detail), "page %u of 0x%" PRIx64 " (%s)",
			 vp->index, a->addr, caller);
		if (!w->task && (w->task = stack_owner(c, w, a->addr)))
			w->task_part = "kernel stack";
		return;
	}
	if (md_page_reserved(pl, h)) {
		w->owner = "reserved";
	} else if (h->mapping & MD_PAGE_MAPPING_ANON) {
		w->owner = (h->mapping & MD_PAGE_MAPPING_FLAGS) == MD_PAGE_MAPPING_FLAGS ? "ksm" :
			   (h->mapping & MD_PAGE_MAPPING_FLAGS) == MD_PAGE_MAPPING_ANON ? "anon" : "movable";
	} else if (h->mapping) {
		w->owner = "page cache";
		snprintf(w->owner_detail, sizeof(w->owner_detail), "mapping 0x%" PRIx64 " index %" PRIu64,
			 h->mapping, h->index);
	} else if (h->refcount > 0) {
		w->owner = "in use";	/* alloc_pages() by someone who records nothing */
	} else {
		w->owner = "unused";
		snprintf(w->owner_detail, sizeof(w->owner_detail), "refcount 0 and on no free list: "
			 "on a CPU's page list, or being freed");
	}
	if (!h->mapping && v && v->nr_page_errors)
		md_messages_add(&w->errors, &w->nr_errors, "it may be a vmalloc page: %zu areas' page "
				"lists could not be read, the first: %s", v->nr_page_errors, v->page_errors[0]);
}

static void describe_page(struct whatis_ctx *c, struct what *w, uint64_t pfn)
{
	const struct md_page_layout *pl = page_layout(c, w);
	struct md_error *err;

	if (!pl)
		return;
	if ((err = md_page_read(c->s, pl, pfn, &w->page))) {
		what_error(w, err);
		return;
	}
	w->has_page = true;
	w->head = w->page;
	if (pl->names_error) {
		char *msg = md_error_string(pl->names_error);

		md_messages_add(&w->errors, &w->nr_errors, "page flags in hex where unnamed: "
				"pageflag_names[]: %s", msg ? msg : "out of memory");
		free(msg);
	}
	if (w->page.head != w->page.page) {
		uint64_t head_pfn = (w->page.head - c->s->kernel.vmemmap) / c->s->kernel.page_struct_size;

		if (w->page.head < c->s->kernel.vmemmap || head_pfn > pfn ||
		    (err = md_page_read(c->s, pl, head_pfn, &w->head))) {
			what_error(w, err ? err : md_error_create(MD_ERR_CORRUPT, "its compound head 0x%"
								  PRIx64 " is no struct page before it",
								  w->page.head));
			w->head = w->page;
		}
	}
	page_owner(c, w, pl);
}

/* ------------------------------------------------------------- per-CPU */

static void find_percpu(struct whatis_ctx *c, struct what *w)
{
	const struct md_kernel *k = &c->s->kernel;
	uint64_t start = 0, unit = 0;
	uint32_t size;
	struct md_error *err;

	if (!c->pcpu_tried) {
		c->pcpu_tried = true;
		/* mm/percpu.c: every CPU's unit is pcpu_unit_size bytes at
		 * __per_cpu_offset[cpu] + __per_cpu_start */
		if (!(err = md_symbol(c->s, "pcpu_unit_size", &unit)) &&
		    !(err = md_read_u32(c->s, unit, &size)))
			c->pcpu_unit_size = size;
		c->pcpu_err = failed(err, "per-CPU areas not told: pcpu_unit_size");
	}
	if (c->pcpu_err)
		md_messages_add(&w->errors, &w->nr_errors, "%s", c->pcpu_err);
	if (!c->pcpu_unit_size || !k->per_cpu_offset)
		return;
	/* x86-64 linked the per-CPU section at 0 (kallsyms may lack the
	 * symbol then); elsewhere __per_cpu_start is where it starts */
	if ((err = md_symbol(c->s, "__per_cpu_start", &start)) && !md_error_catch(&err, MD_ERR_LOOKUP)) {
		what_error(w, md_error_wrap(err, "per-CPU areas not told: __per_cpu_start"));
		return;
	}
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		uint64_t base = k->per_cpu_offset[cpu] + start;

		if (md_cpu_possible(k, cpu) && w->addr >= base && w->addr - base < c->pcpu_unit_size) {
			w->cpu = (int)cpu;
			w->cpu_offset = w->addr - k->per_cpu_offset[cpu];
			return;
		}
	}
}

/* ------------------------------------------------------------- placing */

static void name_symbol(struct whatis_ctx *c, struct what *w)
{
	struct md_error *err = md_address_name(c->s, w->addr, w->symbol, sizeof(w->symbol));

	if (err) {
		w->symbol[0] = '\0';
		if (!md_error_catch(&err, MD_ERR_LOOKUP))
			what_error(w, err);
	}
}

/* vmalloc and module addresses: the area, the page behind the address
 * (vm->pages[]), and the task whose stack it is. */
static void describe_area(struct whatis_ctx *c, struct what *w)
{
	const struct md_kernel *k = &c->s->kernel;
	struct md_vmalloc *v = vmalloc_areas(c, w);
	uint64_t page, i;
	struct md_error *err;

	if (!v || !(w->area = md_vmalloc_find(v, w->addr)))
		return;
	if ((w->task = stack_owner(c, w, w->addr)))
		w->task_part = "kernel stack";
	else if (w->area->vm_flags & MD_VM_ALLOC)	/* stacks are vmalloc()ed */
		tasks_unread(w, c->tasks);
	if (!w->area->vm || !w->area->pages || !w->area->nr_pages || w->addr < w->area->addr) {
		/* vmap() of pages it does not own (IRQ stacks), ioremap(),
		 * vm_map_ram(): the page tables know */
		uint64_t phys;

		err = md_kernel_virt_to_phys(c->s, w->addr, &phys);
		if (md_error_catch(&err, MD_ERR_LOOKUP))
			return;	/* a guard page */
		if (err) {
			what_error(w, err);
			return;
		}
		w->page_offset = phys & (k->page_size - 1);
		if ((phys >> k->page_shift) < k->max_pfn)
			describe_page(c, w, phys >> k->page_shift);
		return;
	}
	i = (w->addr - w->area->addr) >> k->page_shift;
	if (i >= w->area->nr_pages)
		return;	/* the guard page */
	if ((err = md_read_u64(c->s, w->area->pages + 8 * i, &page))) {
		what_error(w, md_error_wrap(err, "vm->pages[%" PRIu64 "]", i));
		return;
	}
	if (page < k->vmemmap || (page - k->vmemmap) % k->page_struct_size) {
		what_error(w, md_error_create(MD_ERR_CORRUPT, "vm->pages[%" PRIu64 "] is 0x%" PRIx64
					      ", no struct page", i, page));
		return;
	}
	w->page_offset = w->addr & (k->page_size - 1);
	describe_page(c, w, (page - k->vmemmap) / k->page_struct_size);
}

static void place(struct whatis_ctx *c, struct what *w)
{
	const struct md_kernel *k = &c->s->kernel;
	uint64_t a = w->addr;
	const uint64_t direct_end = k->page_offset + (k->max_pfn << k->page_shift);
	const uint64_t vmemmap_end = k->vmemmap + k->max_pfn * k->page_struct_size;

	w->cpu = -1;
	if (a < MD_USER_END) {
		w->region = "user space";
	} else if (a >= k->page_offset && a < direct_end) {
		w->region = "direct map";
		find_slab(c, w);
		w->page_offset = a & (k->page_size - 1);
		describe_page(c, w, (a - k->page_offset) >> k->page_shift);
		if (!w->task && (w->task = stack_owner(c, w, a)))
			w->task_part = "kernel stack";
		find_percpu(c, w);
	} else if (a >= k->vmemmap && a < vmemmap_end) {
		const uint64_t pfn = (a - k->vmemmap) / k->page_struct_size;
		struct md_slab_object so;
		struct md_error *err = md_slab_object_at(c->s, k->page_offset + (pfn << k->page_shift), &so);

		/* a slab page's struct page: its cache, not an object */
		if (!err)
			w->page_slab = so.cache;
		else if (!md_error_catch(&err, MD_ERR_LOOKUP))
			what_error(w, md_error_wrap(err, "slab caches not read"));
		md_error_destroy(so.state_error);
		w->region = "vmemmap";
		w->page_offset = (a - k->vmemmap) % k->page_struct_size;
		describe_page(c, w, pfn);
	} else if (a >= k->vmalloc_start && a - k->vmalloc_start < k->vmalloc_size) {
		w->region = "vmalloc";
		describe_area(c, w);
		find_percpu(c, w);
	} else if (a >= MD_KERNEL_IMAGE_START && a < MD_MODULES_VADDR) {
		w->region = "kernel image";
		name_symbol(c, w);
	} else if (a >= MD_MODULES_VADDR && a < MD_MODULES_END) {
		w->region = "modules";
		name_symbol(c, w);
		describe_area(c, w);
	} else {
		w->region = "none";
	}
	/* a task_struct is a slab object the task list knows */
	if (w->in_slab && w->slab.in_object && !w->task && !strcmp(w->slab.cache->name, "task_struct")) {
		const struct md_tasks *t = tasks(c, w);

		if (t && (w->task = md_tasks_find(t, w->slab.object)))
			w->task_part = "task_struct";
	}
}

/* ------------------------------------------------------------- output */

static const char *state_word(const struct what *w)
{
	return md_slab_object_state_name(w->slab.state);
}

static void track_text(struct whatis_ctx *c, struct md_output *out, const char *what,
		       const struct what_track *t)
{
	const struct md_kernel *k = &c->s->kernel;
	char name[160];

	if (!t->present)
		return;
	md_address_text(c->s, t->t.addr, name, sizeof(name));
	md_printf(out, "  %s by %s\n    pid %d", what, name, t->t.pid);
	if (t->t.cpu >= 0)
		md_printf(out, " on cpu %d", t->t.cpu);
	if (k->jiffies_known && k->hz && (int64_t)(k->jiffies - t->t.when) >= 0)
		md_printf(out, ", %.1f s before the dump", (double)(k->jiffies - t->t.when) / k->hz);
	md_printf(out, "\n");
	for (size_t i = 0; i < t->nr_frames; i++) {
		md_address_text(c->s, t->frames[i], name, sizeof(name));
		md_printf(out, "      %s\n", name);
	}
}

static void what_text(struct whatis_ctx *c, struct md_output *out, const struct what *w)
{
	char buf[160], flags[512];

	md_printf(out, "0x%" PRIx64 ": %s", w->addr, w->region);
	if (w->symbol[0])
		md_printf(out, ", %s", w->symbol);
	md_printf(out, "\n");
	if (w->in_slab && w->slab.in_object)
		md_printf(out, "  %s object 0x%" PRIx64 " (+0x%" PRIx64 " of %u bytes), %s\n",
			  w->slab.cache->name, w->slab.object, w->addr - w->slab.object,
			  w->slab.cache->object_size, state_word(w));
	else if (w->in_slab)
		md_printf(out, "  in a slab of %s, outside every object\n", w->slab.cache->name);
	if (w->in_slab)
		md_printf(out, "  slab 0x%" PRIx64 " at 0x%" PRIx64 ", cache 0x%" PRIx64 "\n",
			  w->slab.page, w->slab.slab_start, w->slab.cache->address);
	track_text(c, out, "allocated", &w->alloc);
	track_text(c, out, "freed", &w->free);
	if (w->area) {
		md_vmalloc_area_caller(c->s, w->area, buf, sizeof(buf));
		md_printf(out, "  vmalloc area 0x%" PRIx64 "-0x%" PRIx64 ", %" PRIu64 " pages\n    by %s\n",
			  w->area->start, w->area->end, w->area->nr_pages, buf);
	}
	if (w->task)
		md_printf(out, "  %s of pid %d (%s), task 0x%" PRIx64 "\n", w->task_part, w->task->pid,
			  w->task->comm, w->task->address);
	if (w->cpu >= 0)
		md_printf(out, "  per-CPU area of cpu %d, offset 0x%" PRIx64 "\n", w->cpu, w->cpu_offset);
	if (w->has_page) {
		md_page_flags_text(&c->pl, w->page.flags, flags, sizeof(flags));
		int len = snprintf(buf, sizeof(buf), "  page 0x%" PRIx64 " pfn 0x%" PRIx64 ": %s", w->page.page,
				   w->page.pfn, w->owner);

		/* the owner's detail on the same line if it fits in 80 columns */
		if (w->owner_detail[0] && len + 3 + strlen(w->owner_detail) <= 80)
			md_printf(out, "%s (%s)\n", buf, w->owner_detail);
		else if (w->owner_detail[0])
			md_printf(out, "%s\n    %s\n", buf, w->owner_detail);
		else
			md_printf(out, "%s\n", buf);
		if (w->free_block)
			md_printf(out, "    a free block of order %u at pfn 0x%" PRIx64 ", %s, node %u %s\n",
				  w->free_block->order, w->free_block->pfn,
				  c->buddy->type_names[w->free_block->migratetype], w->free_zone->nid,
				  w->free_zone->name);
		md_printf(out, "    flags 0x%" PRIx64 " (%s), refcount %d\n", w->page.flags,
			  strcmp(flags, "none") ? flags : "no page flags", w->page.refcount);
		if (w->head.page != w->page.page)
			md_printf(out, "    tail of compound page 0x%" PRIx64 " (pfn 0x%" PRIx64 ")\n",
				  w->head.page, w->head.pfn);
	}
	for (size_t i = 0; i < w->nr_errors; i++)
		md_print_problem(out, 2, "%s", w->errors[i]);
}

static struct md_json *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return md_json_string(buf);
}

static struct md_json *track_json(struct whatis_ctx *c, const struct what_track *t)
{
	struct md_json *o, *stack;
	char name[160];

	if (!t->present)
		return NULL;
	o = md_json_object();
	stack = md_json_array();
	md_address_text(c->s, t->t.addr, name, sizeof(name));
	md_json_object_add(o, "caller", md_json_string(name));
	md_json_object_add(o, "caller_address", md_json_address(t->t.addr));
	md_json_object_add(o, "pid", md_json_int64(t->t.pid));
	md_json_object_add(o, "cpu", md_json_int64(t->t.cpu));
	md_json_object_add(o, "when_jiffies", md_json_uint64(t->t.when));
	for (size_t i = 0; i < t->nr_frames; i++) {
		md_address_text(c->s, t->frames[i], name, sizeof(name));
		md_json_array_add(stack, md_json_string(name));
	}
	md_json_object_add(o, "stack", stack);
	return o;
}

static struct md_json *what_json(struct whatis_ctx *c, const struct what *w)
{
	struct md_json *o = md_json_object(), *x;
	char buf[512];

	md_json_object_add(o, "address", md_json_address(w->addr));
	md_json_object_add(o, "region", md_json_string(w->region));
	md_json_object_add(o, "symbol", w->symbol[0] ? md_json_string(w->symbol) : NULL);
	x = NULL;
	if (w->in_slab) {
		x = md_json_object();
		md_json_object_add(x, "cache", md_json_string(w->slab.cache->name));
		md_json_object_add(x, "cache_address", md_json_address(w->slab.cache->address));
		md_json_object_add(x, "slab", md_json_address(w->slab.page));
		md_json_object_add(x, "slab_memory", md_json_address(w->slab.slab_start));
		md_json_object_add(x, "in_object", md_json_bool(w->slab.in_object));
		if (w->slab.in_object) {
			md_json_object_add(x, "object", md_json_address(w->slab.object));
			md_json_object_add(x, "offset_bytes", md_json_uint64(w->addr - w->slab.object));
			md_json_object_add(x, "object_size_bytes", md_json_uint64(w->slab.cache->object_size));
			md_json_object_add(x, "index", md_json_uint64(w->slab.index));
			md_json_object_add(x, "state", md_json_string(state_word(w)));
			md_json_object_add(x, "alloc_track", track_json(c, &w->alloc));
			md_json_object_add(x, "free_track", track_json(c, &w->free));
		}
	}
	md_json_object_add(o, "slab", x);
	x = NULL;
	if (w->has_page) {
		x = md_json_object();
		md_json_object_add(x, "page", md_json_address(w->page.page));
		md_json_object_add(x, "pfn", md_json_uint64(w->page.pfn));
		md_json_object_add(x, "physical", hex(w->page.pfn << c->s->kernel.page_shift | w->page_offset));
		md_json_object_add(x, "owner", md_json_string(w->owner));
		md_json_object_add(x, "owner_detail", w->owner_detail[0] ? md_json_string(w->owner_detail) : NULL);
		md_page_flags_text(&c->pl, w->page.flags, buf, sizeof(buf));
		md_json_object_add(x, "flags", hex(w->page.flags));
		md_json_object_add(x, "flag_names", md_json_string(buf));
		md_json_object_add(x, "refcount", md_json_int64(w->page.refcount));
		md_json_object_add(x, "mapcount", md_json_int64(w->page.mapcount));
		md_json_object_add(x, "mapping", md_json_address(w->page.mapping));
		md_json_object_add(x, "head", md_json_address(w->head.page));
		if (w->free_block) {
			struct md_json *f = md_json_object();

			md_json_object_add(f, "pfn", md_json_uint64(w->free_block->pfn));
			md_json_object_add(f, "order", md_json_uint64(w->free_block->order));
			md_json_object_add(f, "migratetype",
					   md_json_string(c->buddy->type_names[w->free_block->migratetype]));
			md_json_object_add(f, "node", md_json_uint64(w->free_zone->nid));
			md_json_object_add(f, "zone", md_json_string(w->free_zone->name));
			md_json_object_add(x, "free_block", f);
		}
	}
	md_json_object_add(o, "page", x);
	x = NULL;
	if (w->area) {
		x = md_json_object();
		md_vmalloc_area_caller(c->s, w->area, buf, sizeof(buf));
		md_json_object_add(x, "start", md_json_address(w->area->start));
		md_json_object_add(x, "end", md_json_address(w->area->end));
		md_json_object_add(x, "size_bytes", md_json_uint64(w->area->end - w->area->start));
		md_json_object_add(x, "memory_pages", md_json_uint64(w->area->nr_pages));
		md_json_object_add(x, "caller", md_json_string(buf));
		md_json_object_add(x, "caller_address", md_json_address(w->area->caller));
		md_json_object_add(x, "flags", md_vmalloc_flags_json(w->area->vm_flags));
	}
	md_json_object_add(o, "vmalloc", x);
	x = NULL;
	if (w->task) {
		x = md_json_object();
		md_json_object_add(x, "pid", md_json_int64(w->task->pid));
		md_json_object_add(x, "comm", md_json_string(w->task->comm));
		md_json_object_add(x, "task", md_json_address(w->task->address));
		md_json_object_add(x, "part", md_json_string(w->task_part));
	}
	md_json_object_add(o, "task", x);
	x = NULL;
	if (w->cpu >= 0) {
		x = md_json_object();
		md_json_object_add(x, "cpu", md_json_int64(w->cpu));
		md_json_object_add(x, "offset", hex(w->cpu_offset));
	}
	md_json_object_add(o, "percpu", x);
	md_json_object_add(o, "errors", md_json_strings(w->errors, w->nr_errors));
	return o;
}

/* ------------------------------------------------------------- command */

static const char usage[] = "usage: whatis [*]ADDRESS|SYMBOL[+OFFSET]...";

/* One argument: a hex address (0x optional) or a symbol, either with a
 * +OFFSET (hex); with a leading '*', the pointer stored there (as crash's
 * `rd`, then `kmem` of what it read).  *deref gets that read's failure,
 * said for this address alone; a wrong argument is a usage error. */
static struct md_error *parse_address(struct md_session *s, const char *arg, uint64_t *ret,
				      struct md_error **deref)
{
	const bool star = arg[0] == '*';
	char word[256], *plus, *end;
	const char *p;
	uint64_t offset = 0;
	struct md_error *err;

	*deref = NULL;
	snprintf(word, sizeof(word), "%s", arg + star);
	if ((plus = strchr(word, '+'))) {
		*plus++ = '\0';
		offset = strtoull(plus, &end, 16);
		if (!*plus || *end)
			return md_error_create(MD_ERR_INVALID, "whatis: '%s': +%s is no hex offset (%s)",
					       arg, plus, usage);
	}
	p = word[0] == '0' && (word[1] == 'x' || word[1] == 'X') ? word + 2 : word;
	if (*p && strspn(p, "0123456789abcdefABCDEF") == strlen(p) && strlen(p) <= 16) {
		*ret = strtoull(p, &end, 16);
	} else {
		err = md_symbol(s, word, ret);
		if (md_error_catch(&err, MD_ERR_LOOKUP))
			return md_error_create(MD_ERR_INVALID, "whatis: '%s' is neither a hex address nor a "
					       "symbol (%s)", arg, usage);
		if (err)
			return err;
	}
	*ret += offset;
	if (star && (err = md_read_u64(s, *ret, ret)))
		*deref = md_error_wrap(err, "%s", arg);
	return NULL;
}

static void ctx_release(struct whatis_ctx *c)
{
	free(c->pl_err);
	md_page_layout_release(&c->pl);
	free(c->buddy_err);
	md_buddy_destroy(c->buddy);
	free(c->vm_err);
	free(c->tasks_err);
	free(c->track_err);
	free(c->pcpu_err);
}

struct md_error *md_cmd_whatis(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	struct whatis_ctx c = { .s = s };
	struct md_json *list = md_json_array();
	uint64_t *addrs;
	struct md_error **derefs;
	struct md_error *err = NULL;
	int n = 0;

	addrs = calloc(a->nr_operands + 1, sizeof(*addrs));
	derefs = calloc(a->nr_operands + 1, sizeof(*derefs));
	if (!addrs || !derefs) {
		free(addrs);
		free(derefs);
		md_json_put(list);
		return md_error_nomem();
	}
	for (int i = 0; i < a->nr_operands && !err; i++, n++)
		err = parse_address(s, a->operands[i], &addrs[n], &derefs[n]);
	for (int i = 0; i < n && !err; i++) {
		struct what w = { .addr = addrs[i] };

		if (md_interrupted(s)) {
			err = md_error_create(MD_ERR_INTERRUPTED, "interrupted");
			break;
		}
		if (derefs[i]) {	/* the pointer could not be read: nothing to place */
			w.region = "unread pointer";
			w.cpu = -1;
			what_error(&w, derefs[i]);
			derefs[i] = NULL;
		} else {
			place(&c, &w);
		}
		if (md_output_is_json(out))
			md_json_array_add(list, what_json(&c, &w));
		else
			what_text(&c, out, &w);
		md_messages_free(w.errors, w.nr_errors);
	}
	if (md_output_is_json(out))
		md_json_object_add(md_output_doc(out), "addresses", list);
	else
		md_json_put(list);
	for (int i = 0; i < n; i++)
		md_error_destroy(derefs[i]);
	free(derefs);
	free(addrs);
	ctx_release(&c);
	return err;
}
