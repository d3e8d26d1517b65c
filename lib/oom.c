/* The OOM killer, recomputed from the dump (mm/oom_kill.c):
 * - each process scored by oom_badness() and ranked as select_bad_process()
 *   and oom_evaluate_task() would rank them;
 * - the victims: signal->oom_mm, the mm's MMF_ flags, oom_reaper_list,
 *   oom_victims, and who holds oom_lock;
 * - every well-formed struct oom_control on a kernel stack, checked
 *   against the task list (the 4.18 oops on a NULL oc->chosen with
 *   chosen_points LONG_MIN is the case this is for);
 * - the last OOM report in the kernel log, so the recomputed table can be
 *   read beside the kernel's own dump_tasks().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cgroup.h"
#include "flagnames.h"
#include "oom.h"
#include "options.h"
#include "output.h"
#include "table.h"
#include "printk.h"
#include "vmalloc.h"

/* include/linux/sched.h and sched/coredump.h: #defines, so not in the
 * kernel's type information; unchanged from 4.14 to 6.12. */
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000
#define MMF_OOM_SKIP 21		/* reaped, or of no interest to the OOM killer */
#define MMF_UNSTABLE 22		/* the oom_reaper has unmapped the mm */
#define MMF_OOM_REAP_QUEUED 25
#define TIF_MEMDIE 20		/* arch/x86/include/asm/thread_info.h */
#define OOM_SCORE_ADJ_MIN (-1000)
#define MUTEX_FLAGS 0x07	/* kernel/locking/mutex.c MUTEX_FLAGS */

struct oom_layout {
	uint64_t vfork_done, real_parent, ti_flags, reaper_next, oom_flag_origin, mm_flags;
	uint64_t oc_size, oc_zonelist, oc_nodemask, oc_memcg, oc_gfp_mask, oc_order;
	uint64_t oc_totalpages, oc_chosen, oc_chosen_points, oc_constraint;
	uint64_t pgdat_zonelists, pgdat_size, zonelist_size, nr_zonelists;
	int64_t nr_constraints;		/* CONSTRAINT_MEMCG + 1 */
	unsigned int nr_orders;
	uint64_t memcg_memory_max, memcg_swap_max;
	uint64_t memcg_css, css_ss, css_parent, css_set_subsys, task_cgroups;
	int64_t memory_cgrp_id;
};

/* What the analysis carries besides its result. */
struct oom_ctx {
	struct md_session *s;
	struct oom_layout l;
	struct md_oom *o;
	struct md_flag_names gfp_names;	/* mm/debug.c gfpflag_names[] */
	uint64_t *zonelists;		/* every node's node_zonelists[] */
	size_t nr_zonelists;
};

#define oom_error(o, ...) md_messages_add(&(o)->errors, &(o)->nr_errors, __VA_ARGS__)
#define oom_error_obj(o, err) md_messages_add_error(&(o)->errors, &(o)->nr_errors, err)

static struct md_error *resolve_layout(struct md_session *s, struct oom_layout *l)
{
	struct md_member zonelists, free_area;
	uint64_t free_area_size;
	struct md_error *err;

	const struct md_field fields[] = {
		{ "struct task_struct", "vfork_done", &l->vfork_done },
		{ "struct task_struct", "real_parent", &l->real_parent },
		{ "struct task_struct", "thread_info.flags", &l->ti_flags, 1 },	/* THREAD_INFO_IN_TASK */
		{ "struct task_struct", "oom_reaper_list", &l->reaper_next, 1 },	/* CONFIG_MMU */
		{ "struct task_struct", "cgroups", &l->task_cgroups, 1 },	/* CONFIG_CGROUPS */
		{ "struct signal_struct", "oom_flag_origin", &l->oom_flag_origin },
		{ "struct mm_struct", "flags", &l->mm_flags },
		{ "struct oom_control", "zonelist", &l->oc_zonelist },
		{ "struct oom_control", "nodemask", &l->oc_nodemask },
		{ "struct oom_control", "memcg", &l->oc_memcg },
		{ "struct oom_control", "gfp_mask", &l->oc_gfp_mask },
		{ "struct oom_control", "order", &l->oc_order },
		{ "struct oom_control", "totalpages", &l->oc_totalpages },
		{ "struct oom_control", "chosen", &l->oc_chosen },
		{ "struct oom_control", "chosen_points", &l->oc_chosen_points },
		{ "struct oom_control", "constraint", &l->oc_constraint },
		{ "struct mem_cgroup", "memory.max", &l->memcg_memory_max, 1 },	/* CONFIG_MEMCG */
		{ "struct mem_cgroup", "swap.max", &l->memcg_swap_max, 1 },
		{ "struct mem_cgroup", "css", &l->memcg_css, 1 },
		{ "struct cgroup_subsys_state", "ss", &l->css_ss, 1 },
		{ "struct cgroup_subsys_state", "parent", &l->css_parent, 1 },
		{ "struct css_set", "subsys", &l->css_set_subsys, 1 },
	};
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_type_size(s, "struct oom_control", &l->oc_size)) ||
	    (err = md_type_size(s, "struct pglist_data", &l->pgdat_size)) ||
	    (err = md_type_size(s, "struct zonelist", &l->zonelist_size)) ||
	    (err = md_member(s, "struct pglist_data", "node_zonelists", &zonelists)) ||
	    (err = md_member(s, "struct zone", "free_area", &free_area)) ||
	    (err = md_type_size(s, "struct free_area", &free_area_size)) ||
	    (err = md_enumerator(s, "CONSTRAINT_MEMCG", &l->nr_constraints)))
		return err;
	l->nr_constraints++;
	l->pgdat_zonelists = zonelists.bit_offset / 8;
	l->nr_zonelists = l->zonelist_size ? zonelists.size / l->zonelist_size : 0;
	l->nr_orders = free_area_size ? free_area.size / free_area_size : 0;
	l->memory_cgrp_id = md_enumerator_or(s, "memory_cgrp_id", -1);
	return NULL;
}

/* mm/debug.c gfpflag_names[]: the table the kernel prints gfp masks with
 * (%pGg), composite names first. */
static void read_gfp_names(struct oom_ctx *c)
{
	struct md_error *err = md_flag_names_read(c->s, "gfpflag_names", &c->gfp_names);

	if (err)
		md_messages_add_error(&c->o->errors, &c->o->nr_errors,
				      md_error_wrap(err, "gfpflag_names[]: gfp masks not decoded"));
}

static bool test_bit(uint64_t word, unsigned int bit)
{
	return (word >> bit) & 1;
}

/* mm/oom_kill.c oom_unkillable_task(): init and kernel threads. */
static bool unkillable(const struct md_task *t)
{
	return t->tgid == 1 || (t->flags & PF_KTHREAD);
}

/* find_lock_task_mm(): the first thread of p's group that has an mm. */
static const struct md_task *task_with_mm(const struct md_tasks *tasks, const struct md_task *p)
{
	for (const struct md_task *t = p; t < tasks->tasks + tasks->nr_tasks && t->tgid == p->tgid; t++)
		if (t->mm)
			return t;
	return NULL;
}

/* include/linux/sched/mm.h in_vfork(). */
static bool in_vfork(struct oom_ctx *c, const struct md_task *t)
{
	uint64_t vfork_done, parent, parent_mm;
	struct md_error *err;

	if ((err = md_read_u64(c->s, t->address + c->l.vfork_done, &vfork_done)) ||
	    (vfork_done && (err = md_read_u64(c->s, t->address + c->l.real_parent, &parent)))) {
		oom_error_obj(c->o, md_error_wrap(err, "pid %d (%s): in_vfork() taken as false", t->pid, t->comm));
		return false;
	}
	if (!vfork_done)
		return false;
	for (size_t i = 0; i < c->o->tasks->nr_tasks; i++)
		if (c->o->tasks->tasks[i].address == parent)
			return (parent_mm = c->o->tasks->tasks[i].mm) && parent_mm == t->mm;
	return false;
}

/* A task's mm counter as this kernel's OOM killer reads it: get_mm_counter(),
 * or the precise get_mm_counter_sum() since Linux kernel commit 5898aa8f9a0b
 * ("mm: fix OOM killer inaccuracy on large many-core systems") (in v7.0;
 * marked for stable).  That change is in code only, so decide_counters()
 * tells them apart from the dump. */
static uint64_t oom_counter(const struct md_oom *o, const struct md_task *t, int item)
{
	return o->rss_sums ? t->rss_sum[item] : t->rss[item];
}

static uint64_t oom_rss(const struct md_oom *o, const struct md_task *t)
{
	return o->rss_sums ? md_task_rss_sum(t) : md_task_rss(t);
}

/* The kernel's own OOM report (dump_task()) printed one of the two: where a
 * task's two differ, its row says which.  Without such a row: the older. */
static void decide_counters(struct oom_ctx *c)
{
	const struct md_oom_report *r = c->o->report;
	size_t sums = 0, approx = 0;

	for (size_t i = 0; r && i < r->nr_rows; i++) {
		const struct md_oom_report_row *row = &r->rows[i];
		const struct md_task *t = NULL;

		for (size_t j = 0; j < c->o->tasks->nr_tasks && !t; j++)
			if (c->o->tasks->tasks[j].pid == row->pid && c->o->tasks->tasks[j].mm_read)
				t = &c->o->tasks->tasks[j];
		if (!t || md_task_rss(t) == md_task_rss_sum(t))
			continue;
		sums += (uint64_t)row->rss == md_task_rss_sum(t);
		approx += (uint64_t)row->rss == md_task_rss(t);
	}
	c->o->rss_sums = sums > approx;
}

#define MM_UNREADABLE "mm unreadable"

/* mm/oom_kill.c oom_badness(): LONG_MIN with the reason, or the points. */
static int64_t badness(struct oom_ctx *c, const struct md_task *p, uint64_t totalpages,
		       const struct md_task **mm_task, const char **why_not)
{
	const struct md_task *t;
	int64_t points, adj;

	*mm_task = t = task_with_mm(c->o->tasks, p);
	if (unkillable(p)) {
		*why_not = p->tgid == 1 ? "init" : "kernel thread";
		return MD_OOM_POINTS_MIN;
	}
	if (!t) {
		*why_not = "no mm (exited)";
		return MD_OOM_POINTS_MIN;
	}
	if (!t->mm_read) {
		/* its mm_struct could not be read (the task list's errors say
		 * why): no points, rather than points from counters of 0 */
		*why_not = MM_UNREADABLE;
		return MD_OOM_POINTS_MIN;
	}
	adj = p->oom_score_adj;
	if (adj == OOM_SCORE_ADJ_MIN) {
		*why_not = "oom_score_adj -1000";
		return MD_OOM_POINTS_MIN;
	}
	if (test_bit(t->mm_flags, MMF_OOM_SKIP)) {
		*why_not = "MMF_OOM_SKIP";
		return MD_OOM_POINTS_MIN;
	}
	if (in_vfork(c, t)) {
		*why_not = "in vfork";
		return MD_OOM_POINTS_MIN;
	}
	*why_not = NULL;
	points = oom_rss(c->o, t) + oom_counter(c->o, t, MD_RSS_SWAP) + t->pgtables_bytes / c->s->kernel.page_size;
	return points + adj * (int64_t)(totalpages / 1000);
}

/* The memcg a task is charged to: task->cgroups->subsys[memory_cgrp_id]
 * (struct mem_cgroup starts with its css), or 0. */
static uint64_t task_memcg(struct oom_ctx *c, const struct md_task *t)
{
	uint64_t cset, css;
	struct md_error *err;

	if (c->l.task_cgroups == MD_NO_OFFSET || c->l.css_set_subsys == MD_NO_OFFSET ||
	    c->l.memory_cgrp_id < 0)
		return 0;
	if ((err = md_read_u64(c->s, t->address + c->l.task_cgroups, &cset)) ||
	    (err = md_read_u64(c->s, cset + c->l.css_set_subsys + c->l.memory_cgrp_id * 8, &css))) {
		oom_error_obj(c->o, md_error_wrap(err, "pid %d (%s): its memcg", t->pid, t->comm));
		return 0;
	}
	return css;
}

/* mem_cgroup_scan_tasks() visits memcg and its descendants. */
static bool in_memcg(struct oom_ctx *c, const struct md_task *t, uint64_t memcg)
{
	uint64_t css = task_memcg(c, t);

	for (int depth = 0; css && depth < 64; depth++) {
		if (css == memcg)
			return true;
		struct md_error *err = md_read_u64(c->s, css + c->l.css_parent, &css);

		if (err) {
			oom_error_obj(c->o, md_error_wrap(err, "pid %d (%s): memcg ancestry, taken as outside",
							  t->pid, t->comm));
			return false;
		}
	}
	return false;
}

static bool tif_memdie(struct oom_ctx *c, const struct md_task *t)
{
	uint64_t flags;
	struct md_error *err;

	if (c->l.ti_flags == MD_NO_OFFSET)
		return false;
	if ((err = md_read_u64(c->s, t->address + c->l.ti_flags, &flags))) {
		oom_error_obj(c->o, md_error_wrap(err, "pid %d (%s): TIF_MEMDIE taken as clear", t->pid, t->comm));
		return false;
	}
	return test_bit(flags, TIF_MEMDIE);
}

static int compare_scores(const void *a, const void *b)
{
	const struct md_oom_score *x = a, *y = b;

	if (x->points != y->points)
		return x->points < y->points ? 1 : -1;
	/* Equal points: oom_evaluate_task() keeps the later task. */
	return x->task < y->task ? 1 : -1;
}

/* select_bad_process() over every process (or the memcg's), ranked. */
static struct md_error *score_tasks(struct oom_ctx *c)
{
	struct md_oom *o = c->o;
	size_t cap = 0;

	for (size_t i = 0; i < o->tasks->nr_tasks; i++) {
		const struct md_task *p = &o->tasks->tasks[i];
		struct md_oom_score sc = { .task = p };
		struct md_error *err;

		if (!p->leader || (o->memcg && !in_memcg(c, p, o->memcg)))
			continue;
		sc.points = badness(c, p, o->totalpages, &sc.mm_task, &sc.why_not);
		if (sc.points != MD_OOM_POINTS_MIN) {
			uint8_t origin = 0;

			/* oom_task_origin(): swapoff and ksm ask to go first. */
			if ((err = md_read(c->s, p->signal + c->l.oom_flag_origin, &origin, 1)))
				oom_error_obj(o, md_error_wrap(err, "pid %d (%s): oom_task_origin() taken as "
								 "false", p->pid, p->comm));
			else if (origin)
				sc.points = MD_OOM_POINTS_MAX;
		}
		if (p->oom_mm && (err = md_read_u64(c->s, p->oom_mm + c->l.mm_flags, &sc.oom_mm_flags)))
			oom_error_obj(o, md_error_wrap(err, "pid %d (%s): signal->oom_mm 0x%" PRIx64 " unreadable",
						       p->pid, p->comm, p->oom_mm));
		sc.tif_memdie = tif_memdie(c, p);
		if (!md_array_reserve(&o->scores, &cap, o->nr_scores, sizeof(*o->scores), 128))
			return md_error_nomem();
		o->scores[o->nr_scores++] = sc;
	}
	qsort(o->scores, o->nr_scores, sizeof(*o->scores), compare_scores);
	for (size_t i = 0; i < o->nr_scores && o->scores[i].points != MD_OOM_POINTS_MIN; i++)
		o->scores[i].rank = i + 1;
	return NULL;
}

/* A kernel variable's value, or absent when the kernel has no such symbol
 * or it cannot be read (which is named in o's errors). */
static int64_t read_long_or(struct oom_ctx *c, const char *symbol, size_t size, int64_t absent)
{
	uint64_t addr, v = 0;
	struct md_error *err;

	if ((err = md_symbol(c->s, symbol, &addr)) || (err = md_read(c->s, addr, &v, size))) {
		if (!md_error_catch(&err, MD_ERR_LOOKUP))
			oom_error_obj(c->o, md_error_wrap(err, "%s unreadable", symbol));
		return absent;
	}
	return size == 4 ? (int32_t)v : (int64_t)v;
}

/* mm/memcontrol.c mem_cgroup_get_max(), with swap counted as cgroup v2
 * does (memory.max + the smaller of swap.max and the swap there is). */
static struct md_error *memcg_totalpages(struct oom_ctx *c, uint64_t memcg, uint64_t *ret)
{
	uint64_t max, swap_max = 0, ss, memory_subsys;
	struct md_error *err;

	if (c->l.memcg_memory_max == MD_NO_OFFSET || c->l.memcg_css == MD_NO_OFFSET ||
	    c->l.css_ss == MD_NO_OFFSET)
		return md_error_create(MD_ERR_LOOKUP, "this kernel has no memory cgroups");
	/* A mem_cgroup's css belongs to the memory controller. */
	if ((err = md_symbol(c->s, "memory_cgrp_subsys", &memory_subsys)) ||
	    (err = md_read_u64(c->s, memcg + c->l.memcg_css + c->l.css_ss, &ss)) ||
	    (err = md_read_u64(c->s, memcg + c->l.memcg_memory_max, &max)))
		return md_error_wrap(err, "mem_cgroup 0x%" PRIx64, memcg);
	if (ss != memory_subsys)
		return md_error_create(MD_ERR_INVALID, "0x%" PRIx64 " is not a struct mem_cgroup: its "
				       "css.ss is 0x%" PRIx64 ", not memory_cgrp_subsys", memcg, ss);
	if (c->l.memcg_swap_max != MD_NO_OFFSET)
		md_error_destroy(md_read_u64(c->s, memcg + c->l.memcg_swap_max, &swap_max));
	*ret = max + (swap_max < c->o->total_swap ? swap_max : c->o->total_swap);
	return NULL;
}

static void read_globals(struct oom_ctx *c)
{
	struct md_oom *o = c->o;
	uint64_t lock, owner, head, next;
	struct md_error *err;
	int64_t swap = read_long_or(c, "total_swap_pages", 8, -1);
	int64_t ram = read_long_or(c, "_totalram_pages", 8, -1);

	if (ram < 0)
		oom_error(o, "totalpages taken from the memory map");
	o->totalram = ram < 0 ? c->s->kernel.max_pfn : (uint64_t)ram;
	o->total_swap = swap < 0 ? 0 : (uint64_t)swap;
	o->totalpages = o->totalram + o->total_swap;	/* constrained_alloc() */
	o->panic_on_oom = read_long_or(c, "sysctl_panic_on_oom", 4, -1);
	o->oom_victims = read_long_or(c, "oom_victims", 4, -1);
	if (!(err = md_symbol(c->s, "oom_lock", &lock)) && !(err = md_read_u64(c->s, lock, &owner)))
		o->oom_lock_owner = owner & ~(uint64_t)MUTEX_FLAGS;
	else
		oom_error_obj(o, md_error_wrap(err, "oom_lock unreadable"));
	/* mm/oom_kill.c oom_reaper_list, linked through task->oom_reaper_list
	 * (CONFIG_MMU kernels only: without the member there is no list). */
	if (c->l.reaper_next == MD_NO_OFFSET)
		return;
	if ((err = md_symbol(c->s, "oom_reaper_list", &head)) || (err = md_read_u64(c->s, head, &next))) {
		oom_error_obj(o, md_error_wrap(err, "oom_reaper_list unreadable"));
		return;
	}
	for (size_t cap = 0, n = 0; next; n++) {
		const struct md_task *t = md_tasks_find(o->tasks, next);

		if (!t || n >= o->tasks->nr_tasks) {
			oom_error(o, "oom_reaper_list: 0x%" PRIx64 " is not a task on the task list", next);
			return;
		}
		if (!md_array_reserve(&o->reaper_list, &cap, o->nr_reaper_list,
				      sizeof(*o->reaper_list), 8))
			return;
		o->reaper_list[o->nr_reaper_list++] = t;
		if ((err = md_read_u64(c->s, next + c->l.reaper_next, &next))) {
			oom_error_obj(o, md_error_wrap(err, "oom_reaper_list: the list breaks after pid %d (%s)",
						       t->pid, t->comm));
			return;
		}
	}
}

static void read_zonelists(struct oom_ctx *c)
{
	const struct md_kernel *k = &c->s->kernel;
	size_t cap = 0;

	for (unsigned int nid = 0; nid < k->nr_nodes; nid++)
		for (uint64_t z = 0; k->node_pgdat[nid] && z < c->l.nr_zonelists; z++) {
			if (!md_array_reserve(&c->zonelists, &cap, c->nr_zonelists,
					      sizeof(*c->zonelists), 8))
				return;
			c->zonelists[c->nr_zonelists++] =
				k->node_pgdat[nid] + c->l.pgdat_zonelists + z * c->l.zonelist_size;
		}
}

static bool is_zonelist(const struct oom_ctx *c, uint64_t v)
{
	for (size_t i = 0; i < c->nr_zonelists; i++)
		if (c->zonelists[i] == v)
			return true;
	return false;
}

static bool inside_pgdat(const struct oom_ctx *c, uint64_t v)
{
	const struct md_kernel *k = &c->s->kernel;

	for (unsigned int nid = 0; nid < k->nr_nodes; nid++)
		if (k->node_pgdat[nid] && v >= k->node_pgdat[nid] && v < k->node_pgdat[nid] + c->l.pgdat_size)
			return true;
	return false;
}

/* Where kmalloc'ed objects (task_struct, mem_cgroup, mempolicy) live. */
static bool direct_map_or_null(const struct md_session *s, uint64_t v)
{
	const struct md_kernel *k = &s->kernel;

	return !v || (v >= k->page_offset && v < k->page_offset + (k->max_pfn << k->page_shift) &&
		      !(v & 7));
}

/* Whether the bytes at buf are a struct oom_control as __alloc_pages_may_oom()
 * or mem_cgroup_out_of_memory() build one: its zonelist one of a node's
 * (NULL for a memcg OOM), every other field in its range.  struct
 * alloc_context also starts with a zonelist, but its third word points
 * into the pgdat, where no memcg is. */
static bool well_formed(struct oom_ctx *c, const unsigned char *buf)
{
	const struct oom_layout *l = &c->l;
	uint64_t zonelist = md_get_u64(buf, l->oc_zonelist), memcg = md_get_u64(buf, l->oc_memcg);
	uint64_t chosen = md_get_u64(buf, l->oc_chosen), total = md_get_u64(buf, l->oc_totalpages);
	uint32_t gfp = md_get_u32(buf, l->oc_gfp_mask);
	int32_t order = (int32_t)md_get_u32(buf, l->oc_order);
	int32_t constraint = (int32_t)md_get_u32(buf, l->oc_constraint);

	if (!(zonelist ? is_zonelist(c, zonelist) : memcg != 0))
		return false;
	/* nodemask is NULL unless a mempolicy constrains the OOM
	 * (out_of_memory()), and then it is the policy's. */
	/* chosen is checked only where nothing else identifies the struct (a
	 * memcg OOM): a zonelist of a node is proof enough, and a garbage
	 * chosen must be reported as an anomaly of the control, not make
	 * the control vanish (check_control()). */
	if (!direct_map_or_null(c->s, md_get_u64(buf, l->oc_nodemask)) ||
	    !direct_map_or_null(c->s, memcg) || inside_pgdat(c, memcg) ||
	    (!zonelist && chosen != UINT64_MAX && !direct_map_or_null(c->s, chosen)))
		return false;
	if (c->gfp_names.n && (gfp & ~c->gfp_names.known))
		return false;
	/* order -1 with no gfp_mask: a sysrq-triggered OOM. */
	if (order < -1 || order >= (int32_t)l->nr_orders || (!gfp && order != -1))
		return false;
	if (constraint < 0 || constraint >= l->nr_constraints || total > c->o->totalram + c->o->total_swap)
		return false;
	if (!zonelist) {
		/* mm/memcontrol.c mem_cgroup_out_of_memory(): no nodemask, a
		 * real mem_cgroup; once constrained_alloc() has set totalpages,
		 * the constraint is CONSTRAINT_MEMCG (the last enumerator).
		 * Stack words that look like the rest are common on 7.2. */
		uint64_t max;
		struct md_error *err;

		if (md_get_u64(buf, l->oc_nodemask) || (total && constraint != l->nr_constraints - 1))
			return false;
		if ((err = memcg_totalpages(c, memcg, &max))) {
			md_error_destroy(err);	/* not a mem_cgroup: not an oom_control */
			return false;
		}
	}
	return true;
}

static const char *constraint_name(int32_t constraint)
{
	/* include/linux/oom.h enum oom_constraint and oom_constraint_text[]. */
	static const char *const names[] = {
		"CONSTRAINT_NONE", "CONSTRAINT_CPUSET", "CONSTRAINT_MEMORY_POLICY", "CONSTRAINT_MEMCG",
	};

	return constraint >= 0 && constraint < 4 ? names[constraint] : "?";
}

#define note(oc, ...) md_messages_add(&(oc)->notes, &(oc)->nr_notes, __VA_ARGS__)
#define anomaly(oc, ...) md_messages_add(&(oc)->anomalies, &(oc)->nr_anomalies, __VA_ARGS__)

/* What an oom_control's chosen and chosen_points say, and what cannot be. */
static void check_control(struct oom_ctx *c, struct md_oom_control *oc)
{
	const struct md_task *t;
	const char *why;

	if (!oc->chosen) {
		if (oc->chosen_points == MD_OOM_POINTS_MIN)
			anomaly(oc, "chosen is NULL while chosen_points is LONG_MIN: select_bad_process() "
				"ran and chose no task, and whatever uses oc->chosen now dereferences "
				"NULL (the 4.18 oops in oom_evaluate_task())");
		else if (oc->chosen_points == 0)
			note(oc, "no victim chosen yet: select_bad_process() has not run%s",
			     c->o->panic_on_oom > 0 ? " (panic_on_oom is set: the kernel panics before it)" : "");
		else
			anomaly(oc, "chosen is NULL but chosen_points is %" PRId64, oc->chosen_points);
		return;
	}
	if (oc->chosen == UINT64_MAX) {
		note(oc, "selection aborted (chosen -1): an earlier victim is still exiting");
		return;
	}
	if (!(t = oc->chosen_task = md_tasks_find(c->o->tasks, oc->chosen))) {
		anomaly(oc, "chosen 0x%" PRIx64 " is not a task on the task list", oc->chosen);
		return;
	}
	if (!t->leader)
		anomaly(oc, "chosen pid %d (%s) is not a thread-group leader (tgid %d)", t->pid, t->comm,
			t->tgid);
	if ((t->flags & PF_EXITING) || t->exit_state)
		anomaly(oc, "chosen pid %d (%s) is already exiting (flags 0x%" PRIx64 ", exit_state %"
			PRIu64 ")", t->pid, t->comm, t->flags, t->exit_state);
	oc->chosen_badness = badness(c, t, oc->totalpages, &(const struct md_task *){ NULL }, &why);
	if (why && !strcmp(why, MM_UNREADABLE))
		note(oc, "pid %d's badness cannot be recomputed: its mm_struct is unreadable in this dump "
		     "(see the errors)", t->pid);
	else if (oc->chosen_points == MD_OOM_POINTS_MAX)
		note(oc, "chosen_points LONG_MAX: the task asked to be chosen first (oom_task_origin())");
	else if (oc->chosen_points != oc->chosen_badness)
		anomaly(oc, "chosen_points %" PRId64 " differs from pid %d's badness recomputed now, %"
			PRId64 "%s%s", oc->chosen_points, t->pid, oc->chosen_badness,
			why ? ": " : " (memory changed since, or the wrong totalpages)", why ? why : "");
	else
		note(oc, "chosen_points equals pid %d's badness recomputed from the dump", t->pid);
}

static void scan_stack(struct oom_ctx *c, const struct md_task *t, unsigned char *buf, size_t size,
		       size_t *cap)
{
	struct md_oom *o = c->o;
	struct md_error *err;

	if ((err = md_read(c->s, t->stack, buf, size))) {
		md_messages_add_error(&o->errors, &o->nr_errors,
				      md_error_wrap(err, "pid %d (%s): kernel stack 0x%" PRIx64,
						    t->pid, t->comm, t->stack));
		o->nr_stacks_unread++;
		return;
	}
	for (size_t off = 0; off + c->l.oc_size <= size; off += 8) {
		const unsigned char *p = buf + off;
		struct md_oom_control *oc;

		if (!well_formed(c, p))
			continue;
		if (!md_array_reserve(&o->controls, cap, o->nr_controls, sizeof(*o->controls), 4))
			return;
		oc = &o->controls[o->nr_controls++];
		*oc = (struct md_oom_control){
			.address = t->stack + off, .owner = t,
			.dead_frame = !t->on_cpu && t->ksp && t->stack + off < t->ksp,
			.zonelist = md_get_u64(p, c->l.oc_zonelist),
			.nodemask = md_get_u64(p, c->l.oc_nodemask),
			.memcg = md_get_u64(p, c->l.oc_memcg),
			.gfp_mask = md_get_u32(p, c->l.oc_gfp_mask),
			.order = (int32_t)md_get_u32(p, c->l.oc_order),
			.totalpages = md_get_u64(p, c->l.oc_totalpages),
			.chosen = md_get_u64(p, c->l.oc_chosen),
			.chosen_points = (int64_t)md_get_u64(p, c->l.oc_chosen_points),
			.constraint = (int32_t)md_get_u32(p, c->l.oc_constraint),
		};
		md_flag_names_format(&c->gfp_names, oc->gfp_mask, oc->gfp_flags, sizeof(oc->gfp_flags));
		check_control(c, oc);
	}
}

static void find_controls(struct oom_ctx *c)
{
	const struct md_tasks *tasks = c->o->tasks;
	unsigned char *buf = NULL;
	size_t buf_size = 0, cap = 0;

	read_zonelists(c);
	for (size_t i = 0; i < tasks->nr_tasks && !md_interrupted(c->s); i++) {
		const struct md_task *t = &tasks->tasks[i];
		uint64_t size;

		if (!t->stack || t->exit_state)
			continue;
		size = md_task_stack_size(c->s, t);
		if (size > buf_size) {
			unsigned char *grown = realloc(buf, size);

			if (!grown)
				break;
			buf = grown;
			buf_size = size;
		}
		scan_stack(c, t, buf, size, &cap);
	}
	free(buf);
}

/* --- the last OOM report in the log (mm/oom_kill.c dump_header(), dump_tasks()) --- */

static const char *const report_columns[] = {
	"pid", "uid", "tgid", "total_vm", "rss", "rss_anon", "rss_file", "rss_shmem",
	"pgtables_bytes", "swapents", "oom_score_adj",
};
/* their JSON keys: the processes table's, with their units */
static const char *const report_keys[] = {
	"pid", "uid", "tgid", "total_vm_pages", "rss_pages", "rss_anon_pages", "rss_file_pages",
	"rss_shmem_pages", "pgtables_bytes", "swap_entries_pages", "oom_score_adj",
};

static int64_t *row_field(struct md_oom_report_row *r, size_t column)
{
	int64_t *fields[] = {
		&r->pid, &r->uid, &r->tgid, &r->total_vm, &r->rss, &r->rss_anon, &r->rss_file,
		&r->rss_shmem, &r->pgtables_bytes, &r->swapents, &r->oom_score_adj,
	};

	return fields[column];
}

/* "[  pid  ]   uid  tgid total_vm      rss ... name": which known column
 * each header word is, in order; the last column is the name. */
static size_t parse_header(const char *text, int *columns, size_t max)
{
	char copy[256], *save, *word;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", text);
	for (word = strtok_r(copy, " []", &save); word && n < max; word = strtok_r(NULL, " []", &save)) {
		if (!strcmp(word, "name"))
			break;
		columns[n] = -1;
		for (size_t i = 0; i < sizeof(report_columns) / sizeof(report_columns[0]); i++)
			if (!strcmp(word, report_columns[i]))
				columns[n] = i;
		n++;
	}
	return n;
}

static bool parse_row(const char *text, const int *columns, size_t nr_columns,
		      struct md_oom_report_row *r)
{
	const char *p = text;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < sizeof(report_columns) / sizeof(report_columns[0]); i++)
		*row_field(r, i) = -1;
	if (*p++ != '[')
		return false;
	for (size_t i = 0; i < nr_columns; i++) {
		char *end;
		long long v;

		while (*p == ' ' || *p == ']')
			p++;
		v = strtoll(p, &end, 10);
		if (end == p)
			return false;
		if (columns[i] >= 0)
			*row_field(r, columns[i]) = v;
		p = end;
	}
	while (*p == ' ')
		p++;
	snprintf(r->name, sizeof(r->name), "%s", p);
	return true;
}

static void report_destroy(struct md_oom_report *r)
{
	if (!r)
		return;
	free(r->header);
	free(r->constraint_line);
	free(r->outcome);
	free(r->rows);
	free(r);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void read_report(struct oom_ctx *c)
{
	struct md_log *log;
	struct md_oom_report *r;
	struct md_error *err = md_log_read(c->s, &log);
	size_t start = SIZE_MAX, cap = 0;
	int columns[16];
	size_t nr_columns = 0;

	if (err) {
		md_messages_add_error(&c->o->errors, &c->o->nr_errors, err);
		return;
	}
	if (log->nr_corrupt)
		oom_error(c->o, "the kernel log: %zu records lost to corrupt descriptors (a scribbled ring?): "
			  "an OOM report among them is not seen", log->nr_corrupt);
	for (size_t i = 0; i < log->nr_records; i++)
		if (strstr(log->records[i].text, " invoked oom-killer: "))
			start = i;
	if (start == SIZE_MAX || !(r = calloc(1, sizeof(*r)))) {
		md_log_destroy(log);
		return;
	}
	r->header = dup_or_null(log->records[start].text);
	r->ts_nsec = log->records[start].ts_nsec;
	for (size_t i = start + 1; i < log->nr_records; i++) {
		const char *text = log->records[i].text;

		if (strstr(text, " invoked oom-killer: "))
			break;
		if (!strncmp(text, "[  pid  ]", 9)) {
			nr_columns = parse_header(text, columns, sizeof(columns) / sizeof(columns[0]));
			r->has_split_rss = strstr(text, "rss_anon") != NULL;
		} else if (nr_columns && text[0] == '[') {
			if (md_array_reserve(&r->rows, &cap, r->nr_rows, sizeof(*r->rows), 64) &&
			    parse_row(text, columns, nr_columns, &r->rows[r->nr_rows]))
				r->nr_rows++;
		} else if (!strncmp(text, "oom-kill:", 9) && !r->constraint_line) {
			r->constraint_line = dup_or_null(text);
		} else if ((!strncmp(text, "Out of memory", 13) || !strncmp(text, "Memory cgroup out of memory", 27) ||
			    !strncmp(text, "Kernel panic", 12)) && !r->outcome) {
			r->outcome = dup_or_null(text);
		}
	}
	md_log_destroy(log);
	c->o->report = r;
}

struct md_error *md_oom_read(struct md_session *s, uint64_t memcg, struct md_oom **ret)
{
	struct oom_ctx c = { .s = s };
	struct md_error *err;

	if (!(c.o = calloc(1, sizeof(*c.o))))
		return md_error_nomem();
	if ((err = resolve_layout(s, &c.l)) || (err = md_tasks_get(s, &c.o->tasks)))
		goto fail;
	for (size_t i = 0; i < c.o->tasks->nr_errors; i++)
		oom_error(c.o, "%s", c.o->tasks->errors[i]);
	read_globals(&c);
	if (memcg) {
		c.o->memcg = memcg;
		if ((err = memcg_totalpages(&c, memcg, &c.o->totalpages)))
			goto fail;
	}
	read_gfp_names(&c);
	read_report(&c);
	decide_counters(&c);
	if ((err = score_tasks(&c)))
		goto fail;
	find_controls(&c);
	free(c.zonelists);
	*ret = c.o;
	return NULL;
fail:
	free(c.zonelists);
	md_oom_destroy(c.o);
	return err;
}

void md_oom_destroy(struct md_oom *o)
{
	if (!o)
		return;
	free(o->scores);
	free(o->reaper_list);
	for (size_t i = 0; i < o->nr_controls; i++) {
		md_messages_free(o->controls[i].notes, o->controls[i].nr_notes);
		md_messages_free(o->controls[i].anomalies, o->controls[i].nr_anomalies);
	}
	free(o->controls);
	report_destroy(o->report);
	md_messages_free(o->errors, o->nr_errors);
	free(o);
}

static const struct md_task *victim(const struct md_oom *o, size_t *i)
{
	for (; *i < o->nr_scores; ++*i)
		if (o->scores[*i].task->oom_mm)
			return o->scores[(*i)++].task;
	return NULL;
}

bool md_oom_in_progress(const struct md_oom *o, char *why, size_t len)
{
	const struct md_task *owner = o->oom_lock_owner ? md_tasks_find(o->tasks, o->oom_lock_owner) : NULL;
	size_t i = 0;
	const struct md_task *v;

	for (size_t k = 0; k < o->nr_controls; k++) {
		const struct md_oom_control *oc = &o->controls[k];

		if (oc->dead_frame)
			continue;
		snprintf(why, len, "a struct oom_control on pid %d (%s)'s stack%s%s", oc->owner->pid,
			 oc->owner->comm, oc->nr_anomalies ? ", and it is broken: " : "",
			 oc->nr_anomalies ? oc->anomalies[0] : "");
		return true;
	}
	if (owner) {
		snprintf(why, len, "oom_lock held by pid %d (%s)", owner->pid, owner->comm);
		return true;
	}
	if (o->oom_lock_owner) {
		/* The holder's task_struct is missing (a filtered dump can lose
		 * its slab page): the log's last report names who invoked it. */
		const char *h = o->report ? o->report->header : NULL;
		const char *end = h ? strstr(h, " invoked oom-killer") : NULL;

		if (end)
			snprintf(why, len, "oom_lock held by task 0x%" PRIx64 " (not among the tasks read from the dump); the "
				 "log's last OOM report: %.*s invoked oom-killer", o->oom_lock_owner,
				 (int)(end - h), h);
		else
			snprintf(why, len, "oom_lock held by task 0x%" PRIx64 " (not among the tasks read from the dump)",
				 o->oom_lock_owner);
		return true;
	}
	if ((v = victim(o, &i))) {
		snprintf(why, len, "pid %d (%s) is an OOM victim still alive", v->pid, v->comm);
		return true;
	}
	if (o->oom_victims > 0 || o->nr_reaper_list) {
		snprintf(why, len, "%" PRId64 " OOM victims not yet gone", o->oom_victims);
		return true;
	}
	return false;
}

/* --- output --- */

static void points_text(int64_t points, char *buf, size_t len)
{
	if (points == MD_OOM_POINTS_MIN)
		snprintf(buf, len, "LONG_MIN");
	else if (points == MD_OOM_POINTS_MAX)
		snprintf(buf, len, "LONG_MAX");
	else
		snprintf(buf, len, "%" PRId64, points);
}

static const char *mm_state(uint64_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", test_bit(flags, MMF_OOM_SKIP) ? " MMF_OOM_SKIP" : "",
		 test_bit(flags, MMF_UNSTABLE) ? " MMF_UNSTABLE" : "",
		 test_bit(flags, MMF_OOM_REAP_QUEUED) ? " MMF_OOM_REAP_QUEUED" : "");
	return buf[0] ? buf + 1 : "none";
}

static const char *reaped(uint64_t flags)
{
	/* mm/oom_kill.c oom_reap_task_mm() sets MMF_UNSTABLE before unmapping,
	 * oom_reap_task() MMF_OOM_SKIP when done (or given up). */
	if (test_bit(flags, MMF_OOM_SKIP))
		return "reaped (or exit_mmap done): MMF_OOM_SKIP";
	if (test_bit(flags, MMF_UNSTABLE))
		return "being reaped: MMF_UNSTABLE";
	if (test_bit(flags, MMF_OOM_REAP_QUEUED))
		return "queued for the oom_reaper";
	return "not reaped";
}

/* --- the verdict --- */

struct oom_verdict {
	const char *kind;	/* doc/json.md: in_progress, earlier, none */
	char text[1024];
	const char *next;
};

/* The control select_bad_process() is working on: the first live one. */
static const struct md_oom_control *live_control(const struct md_oom *o)
{
	for (size_t i = 0; i < o->nr_controls; i++)
		if (!o->controls[i].dead_frame)
			return &o->controls[i];
	return NULL;
}

/* "pid 96 (memhog), 48631 points = 87% of totalpages" */
static void candidate_text(const struct md_oom *o, const struct md_task *t, int64_t points, char *buf,
			   size_t len)
{
	char p[32];

	points_text(points, p, sizeof(p));
	if (points > 0 && points != MD_OOM_POINTS_MAX && o->totalpages)
		snprintf(buf, len, "pid %d (%s), %s points = %.0f%% of totalpages", t->pid, t->comm, p,
			 100.0 * points / o->totalpages);
	else
		snprintf(buf, len, "pid %d (%s), %s points", t->pid, t->comm, p);
}

/* What the dump says of the OOM killer, in a few lines: whether it was at
 * work, on whose behalf, whom it chose; else the log's last report; else
 * whom it would choose now.  Next: where the memory went. */
static void oom_verdict(const struct md_oom *o, struct oom_verdict *v)
{
	const struct md_oom_control *oc = live_control(o);
	const struct md_oom_score *first = o->nr_scores && o->scores[0].rank == 1 ? &o->scores[0] : NULL;
	char why[512], who[160] = "";
	size_t n;

	v->next = o->memcg ? "oomstate -a" : "memdiag";
	if (md_oom_in_progress(o, why, sizeof(why))) {
		v->kind = "in_progress";
		n = snprintf(v->text, sizeof(v->text), "OOM in progress: %s", why);
		if (oc && n < sizeof(v->text)) {
			n += snprintf(v->text + n, sizeof(v->text) - n, "; %s OOM, order %d, gfp %s",
				      oc->memcg ? "memcg" : "global", oc->order, oc->gfp_flags);
			if (oc->chosen_task)
				candidate_text(o, oc->chosen_task, oc->chosen_points, who, sizeof(who));
			if (n < sizeof(v->text) && who[0])
				snprintf(v->text + n, sizeof(v->text) - n, "; chose %s", who);
			else if (n < sizeof(v->text) && !oc->chosen && oc->nr_notes)
				snprintf(v->text + n, sizeof(v->text) - n, "; %s", oc->notes[0]);
		}
		return;
	}
	if (o->report) {
		const char *h = o->report->header, *end = strstr(h, " invoked oom-killer");

		v->kind = "earlier";
		n = snprintf(v->text, sizeof(v->text), "no OOM in progress; the kernel log's last OOM report, at "
			     "%" PRIu64 ".%06" PRIu64 " s: %.*s invoked the OOM killer", o->report->ts_nsec / 1000000000,
			     o->report->ts_nsec / 1000 % 1000000, end ? (int)(end - h) : (int)strlen(h), h);
		if (o->report->outcome && n < sizeof(v->text))
			snprintf(v->text + n, sizeof(v->text) - n, "; %s", o->report->outcome);
		return;
	}
	v->kind = "none";
	if (first)
		candidate_text(o, first->task, first->points, who, sizeof(who));
	snprintf(v->text, sizeof(v->text), "no OOM in progress and none in the kernel log%s%s",
		 who[0] ? "; select_bad_process() would choose " : "", who);
}

struct options {
	uint64_t memcg;
	bool all;
};

/* The processes table: a row is a struct md_oom_score, ctx the md_oom.
 * Counters come from the task whose mm is counted (the thread group's
 * first task with one); "?" and null where they could not be read. */
static const struct md_task *score_mm_task(const struct md_oom_score *sc)
{
	return sc->mm_task ? sc->mm_task : sc->task;
}

static bool counters_known(const struct md_oom_score *sc)
{
	const struct md_task *t = score_mm_task(sc);

	return t->mm_read || !t->mm;
}

static void get_rank(const void *ctx, const void *row, struct md_value *v)
{
	const struct md_oom_score *sc = row;

	v->u = sc->rank;
	v->unknown = !sc->rank;
}

static void get_pid(const void *ctx, const void *row, struct md_value *v)
{
	v->i = ((const struct md_oom_score *)row)->task->pid;
}

static void get_tgid(const void *ctx, const void *row, struct md_value *v)
{
	v->i = ((const struct md_oom_score *)row)->task->tgid;
}

static void get_has_mm(const void *ctx, const void *row, struct md_value *v)
{
	v->u = ((const struct md_oom_score *)row)->mm_task != NULL;
}

static void get_uid(const void *ctx, const void *row, struct md_value *v)
{
	const struct md_task *t = ((const struct md_oom_score *)row)->task;

	v->u = t->uid;
	v->unknown = !t->uid_read;
}

/* the rss counters by their index; MD_RSS_COUNTERS: oom_badness()'s sum */
static void get_counter(const struct md_oom *o, const struct md_oom_score *sc, int which,
			struct md_value *v)
{
	const struct md_task *t = score_mm_task(sc);

	v->unknown = !counters_known(sc);
	v->u = which < 0 ? oom_rss(o, t) : oom_counter(o, t, which);
}

static void get_total_vm(const void *ctx, const void *row, struct md_value *v)
{
	v->u = score_mm_task(row)->total_vm;
	v->unknown = !counters_known(row);
}

static void get_rss(const void *ctx, const void *row, struct md_value *v)
{
	get_counter(ctx, row, -1, v);
}

static void get_anon(const void *ctx, const void *row, struct md_value *v)
{
	get_counter(ctx, row, MD_RSS_ANON, v);
}

static void get_file(const void *ctx, const void *row, struct md_value *v)
{
	get_counter(ctx, row, MD_RSS_FILE, v);
}

static void get_shmem(const void *ctx, const void *row, struct md_value *v)
{
	get_counter(ctx, row, MD_RSS_SHMEM, v);
}

static void get_swap(const void *ctx, const void *row, struct md_value *v)
{
	get_counter(ctx, row, MD_RSS_SWAP, v);
}

static void get_rss_with_percpu(const void *ctx, const void *row, struct md_value *v)
{
	v->u = md_task_rss_sum(score_mm_task(row));
	v->unknown = !counters_known(row);
}

static void get_pgtables(const void *ctx, const void *row, struct md_value *v)
{
	v->u = score_mm_task(row)->pgtables_bytes;
	v->unknown = !counters_known(row);
}

static void get_adj(const void *ctx, const void *row, struct md_value *v)
{
	v->i = ((const struct md_oom_score *)row)->task->oom_score_adj;
}

static void get_points(const void *ctx, const void *row, struct md_value *v)
{
	points_text(((const struct md_oom_score *)row)->points, v->buf, sizeof(v->buf));
	v->s = v->buf;
}

/* "COMM" in text: the name, and why the task cannot be chosen */
static void get_comm(const void *ctx, const void *row, struct md_value *v)
{
	const struct md_oom_score *sc = row;

	if (sc->why_not)
		snprintf(v->buf, sizeof(v->buf), "%s  (%s)", sc->task->comm, sc->why_not);
	else
		snprintf(v->buf, sizeof(v->buf), "%s", sc->task->comm);
	v->s = v->buf;
}

/* In 80 columns: what oom_badness() adds up and the ranking; --wide adds
 * the rest of dump_tasks()'s columns. */
static const struct md_column process_columns[] = {
	{ "rank", "RANK", MD_COL_COUNT, 5, .unknown_text = "-", .get = get_rank },
	{ "pid", "PID", MD_COL_INT, 8, .get = get_pid },
	{ "tgid", "TGID", MD_COL_INT, 8, .wide = true, .get = get_tgid },
	{ "uid", "UID", MD_COL_COUNT, 5, .wide = true, .get = get_uid },
	{ "has_mm", NULL, MD_COL_BOOL, 0, .get = get_has_mm },
	{ "total_vm_pages", "TOTAL_VM", MD_COL_PAGES, 9, .wide = true, .get = get_total_vm },
	{ "rss_pages", "RSS", MD_COL_PAGES, 8, .get = get_rss },
	{ "rss_anon_pages", "ANON", MD_COL_PAGES, 8, .get = get_anon },
	{ "rss_file_pages", "FILE", MD_COL_PAGES, 9, .wide = true, .get = get_file },
	{ "rss_shmem_pages", "SHMEM", MD_COL_PAGES, 7, .wide = true, .get = get_shmem },
	{ "swap_entries_pages", "SWAPENTS", MD_COL_PAGES, 8, .get = get_swap },
	{ "rss_with_percpu_pages", NULL, MD_COL_PAGES, 0, .get = get_rss_with_percpu },
	{ "pgtables_bytes", "PGTABLES", MD_COL_BYTES, 8, .wide = true, .get = get_pgtables },
	{ "oom_score_adj", "ADJ", MD_COL_INT, 6, .get = get_adj },
	{ NULL, "POINTS", MD_COL_STRING, 9, .get = get_points },
	{ NULL, "COMM", MD_COL_STRING, -1, .get = get_comm },
	{ NULL },
};

/* The log's dump_tasks() table next to what the dump holds for the same
 * pids: a row is a struct report_line.  80 columns show the log's figures
 * and whether the dump agrees; --wide puts the dump's beside them. */
struct report_line {
	const struct md_oom *o;
	const struct md_oom_report_row *row;
	const struct md_task *t;	/* the pid's task with an mm, or NULL: gone */
};

/* a column the log's table may lack (-1) */
static void log_field(int64_t field, struct md_value *v)
{
	v->i = field;
	v->unknown = field < 0;
}

static void get_log_pid(const void *ctx, const void *row, struct md_value *v)
{
	v->i = ((const struct report_line *)row)->row->pid;
}

static void get_log_name(const void *ctx, const void *row, struct md_value *v)
{
	v->s = ((const struct report_line *)row)->row->name;
}

static void get_log_rss(const void *ctx, const void *row, struct md_value *v)
{
	log_field(((const struct report_line *)row)->row->rss, v);
}

static void get_log_pgtables(const void *ctx, const void *row, struct md_value *v)
{
	log_field(((const struct report_line *)row)->row->pgtables_bytes, v);
}

static void get_log_swap(const void *ctx, const void *row, struct md_value *v)
{
	log_field(((const struct report_line *)row)->row->swapents, v);
}

static void get_log_adj(const void *ctx, const void *row, struct md_value *v)
{
	v->i = ((const struct report_line *)row)->row->oom_score_adj;
}

static void get_dump_rss(const void *ctx, const void *row, struct md_value *v)
{
	const struct report_line *l = row;

	v->unknown = !l->t;
	v->u = l->t ? oom_rss(l->o, l->t) : 0;
}

static void get_dump_pgtables(const void *ctx, const void *row, struct md_value *v)
{
	const struct report_line *l = row;

	v->unknown = !l->t;
	v->u = l->t ? l->t->pgtables_bytes : 0;
}

static void get_dump_swap(const void *ctx, const void *row, struct md_value *v)
{
	const struct report_line *l = row;

	v->unknown = !l->t;
	v->u = l->t ? oom_counter(l->o, l->t, MD_RSS_SWAP) : 0;
}

static bool report_line_same(const struct report_line *l)
{
	return l->t && (uint64_t)l->row->rss == oom_rss(l->o, l->t) &&
	       (uint64_t)l->row->pgtables_bytes == l->t->pgtables_bytes &&
	       (uint64_t)l->row->swapents == oom_counter(l->o, l->t, MD_RSS_SWAP);
}

static void get_in_dump(const void *ctx, const void *row, struct md_value *v)
{
	const struct report_line *l = row;

	v->s = !l->t ? "gone" : report_line_same(l) ? "same" : "differs";
}

static const struct md_column report_text_columns[] = {
	{ NULL, "PID", MD_COL_INT, 8, .get = get_log_pid },
	{ NULL, "NAME", MD_COL_STRING, -16, .get = get_log_name },
	{ NULL, "RSS", MD_COL_INT, 9, .get = get_log_rss },
	{ NULL, "RSS(DUMP)", MD_COL_COUNT, 10, .wide = true, .unknown_text = "-", .get = get_dump_rss },
	{ NULL, "PGTABLES", MD_COL_INT, 10, .get = get_log_pgtables },
	{ NULL, "PGTABLES(DUMP)", MD_COL_COUNT, 14, .wide = true, .unknown_text = "-", .get = get_dump_pgtables },
	{ NULL, "SWAPENTS", MD_COL_INT, 9, .get = get_log_swap },
	{ NULL, "SWAP(DUMP)", MD_COL_COUNT, 10, .wide = true, .unknown_text = "-", .get = get_dump_swap },
	{ NULL, "ADJ", MD_COL_INT, 6, .get = get_log_adj },
	{ NULL, "IN DUMP", MD_COL_STRING, -1, .get = get_in_dump },
	{ NULL },
};

static struct report_line report_line(const struct md_oom *o, size_t i)
{
	struct report_line l = { o, &o->report->rows[i], NULL };

	for (size_t k = 0; k < o->tasks->nr_tasks && !l.t; k++)
		if (o->tasks->tasks[k].pid == l.row->pid && o->tasks->tasks[k].mm)
			l.t = &o->tasks->tasks[k];
	return l;
}

static void report_text(const struct md_oom *o, struct md_output *out)
{
	const struct md_oom_report *r = o->report;
	char line[256];

	md_printf(out, "  its tasks (pages; PGTABLES in bytes; IN DUMP: does the dump hold the same?)\n");
	md_table_heading(out, report_text_columns);
	for (size_t i = 0; i < r->nr_rows; i++) {
		struct report_line l = report_line(o, i);

		md_table_row(out, report_text_columns, o, &l);
	}
	/* what differs, where the dump's columns are not shown */
	for (size_t i = 0; i < r->nr_rows && !md_output_is_wide(out); i++) {
		struct report_line l = report_line(o, i);

		if (!l.t || report_line_same(&l))
			continue;
		snprintf(line, sizeof(line), "pid %" PRId64 " in the dump: RSS %" PRIu64 ", PGTABLES %" PRIu64
			 ", SWAPENTS %" PRIu64, l.row->pid, oom_rss(o, l.t), l.t->pgtables_bytes,
			 oom_counter(o, l.t, MD_RSS_SWAP));
		md_print_wrapped(out, 2, 4, line);
	}
}

static void print_text(const struct md_oom *o, const struct options *opt, struct md_output *out)
{
	const struct md_task *owner = o->oom_lock_owner ? md_tasks_find(o->tasks, o->oom_lock_owner) : NULL;
	char buf[160];
	bool any_victim = false;
	struct oom_verdict v;

	oom_verdict(o, &v);
	md_printf(out, "VERDICT\n");
	md_print_wrapped(out, 2, 4, v.text);
	snprintf(buf, sizeof(buf), "-> run: %s", v.next);
	md_print_wrapped(out, 4, 6, buf);
	md_printf(out, "\n");
	md_printf(out, "totalpages %" PRIu64 " (%s)  panic_on_oom %" PRId64 "  oom_victims %" PRId64 "\n",
		  o->totalpages, o->memcg ? "the memcg's limit + swap" : "RAM + swap",
		  o->panic_on_oom, o->oom_victims);
	if (owner)
		md_printf(out, "oom_lock   held by pid %d (%s)\n", owner->pid, owner->comm);
	else if (o->oom_lock_owner)
		md_printf(out, "oom_lock   held by 0x%" PRIx64 ", not a task on the task list\n", o->oom_lock_owner);
	else
		md_printf(out, "oom_lock   free\n");
	md_printf(out, "oom_reaper %s", o->nr_reaper_list ? "list:" : "list empty");
	for (size_t i = 0; i < o->nr_reaper_list; i++)
		md_printf(out, " %d (%s)", o->reaper_list[i]->pid, o->reaper_list[i]->comm);
	md_printf(out, "\n\n");

	snprintf(buf, sizeof(buf), "PROCESSES, as select_bad_process() ranks them (pages; POINTS = "
		 "oom_badness(); counters as %s())", o->rss_sums ? "get_mm_counter_sum" : "get_mm_counter");
	md_print_wrapped(out, 0, 2, buf);
	md_table_heading(out, process_columns);
	for (size_t i = 0; i < o->nr_scores; i++) {
		const struct md_oom_score *sc = &o->scores[i];

		if (!opt->all && !sc->mm_task)
			continue;
		md_table_row(out, process_columns, o, sc);
	}
	if (!opt->all)
		md_printf(out, "(processes without an mm, kernel threads included, are listed with -a)\n");

	md_printf(out, "\nOOM VICTIMS\n");
	for (size_t i = 0; i < o->nr_scores; i++) {
		const struct md_oom_score *sc = &o->scores[i];
		const struct md_task *t = sc->task;

		if (!t->oom_mm)
			continue;
		any_victim = true;
		md_printf(out, "  pid %d (%s): signal->oom_mm 0x%" PRIx64 ", mm flags %s, %s%s%s\n", t->pid,
			  t->comm, t->oom_mm, mm_state(sc->oom_mm_flags, buf, sizeof(buf)),
			  reaped(sc->oom_mm_flags), sc->tif_memdie ? ", TIF_MEMDIE" : "",
			  (t->flags & PF_EXITING) ? ", exiting" : "");
	}
	if (!any_victim && o->tasks->incomplete)
		md_print_wrapped(out, 2, 4, "none among the processes that could be read (some are lost: see "
				 "the problems below)");
	else if (!any_victim)
		md_printf(out, "  none (no process has signal->oom_mm)\n");

	md_printf(out, "\nSTRUCT OOM_CONTROL ON KERNEL STACKS\n");
	if (!o->nr_controls && o->nr_stacks_unread)
		md_printf(out, "  none found on the stacks that could be read (%zu could not%s)\n",
			  o->nr_stacks_unread, o->tasks->incomplete ? "; tasks lost" : "");
	else if (!o->nr_controls && o->tasks->incomplete)
		md_printf(out, "  none found on the stacks that could be read (some tasks are lost)\n");
	else if (!o->nr_controls)
		md_printf(out, "  none found (no task is inside out_of_memory())\n");
	for (size_t i = 0; i < o->nr_controls; i++) {
		const struct md_oom_control *oc = &o->controls[i];

		md_printf(out, "  struct oom_control 0x%" PRIx64 " on pid %d (%s)'s stack%s\n", oc->address,
			  oc->owner->pid, oc->owner->comm,
			  oc->dead_frame ? " (below its saved stack pointer: a stale frame)" : "");
		md_printf(out, "    zonelist       0x%" PRIx64 "\n", oc->zonelist);
		md_printf(out, "    nodemask       0x%" PRIx64 "%s\n", oc->nodemask, oc->nodemask ? "" : " (all nodes)");
		md_printf(out, "    memcg          0x%" PRIx64 "%s\n", oc->memcg, oc->memcg ? "" : " (global OOM)");
		md_printf(out, "    gfp_mask       %#x(%s)\n", oc->gfp_mask, oc->gfp_flags);
		md_printf(out, "    order          %d\n", oc->order);
		md_printf(out, "    totalpages     %" PRIu64 "\n", oc->totalpages);
		if (oc->chosen_task)
			md_printf(out, "    chosen         0x%" PRIx64 " pid %d (%s)\n", oc->chosen,
				  oc->chosen_task->pid, oc->chosen_task->comm);
		else
			md_printf(out, "    chosen         0x%" PRIx64 "%s\n", oc->chosen, oc->chosen ? "" : " (NULL)");
		points_text(oc->chosen_points, buf, sizeof(buf));
		md_printf(out, "    chosen_points  %s\n", buf);
		if (oc->chosen_task) {
			points_text(oc->chosen_badness, buf, sizeof(buf));
			md_printf(out, "    recomputed     %s\n", buf);
		}
		md_printf(out, "    constraint     %s\n", constraint_name(oc->constraint));
		for (size_t k = 0; k < oc->nr_notes; k++)
			md_print_wrapped_after(out, "    note: ", 6, oc->notes[k]);
		for (size_t k = 0; k < oc->nr_anomalies; k++)
			md_print_problem(out, 4, "ANOMALY: %s", oc->anomalies[k]);
	}

	md_printf(out, "\nTHE LAST OOM REPORT IN THE KERNEL LOG\n");
	if (!o->report) {
		md_printf(out, "  none\n");
	} else {
		const struct md_oom_report *r = o->report;

		char line[1024];

		snprintf(line, sizeof(line), "[%" PRIu64 ".%06" PRIu64 "] %s", r->ts_nsec / 1000000000,
			 r->ts_nsec / 1000 % 1000000, r->header);
		md_print_wrapped(out, 2, 4, line);
		if (r->constraint_line)
			md_print_wrapped(out, 2, 4, r->constraint_line);
		if (r->outcome)
			md_print_wrapped(out, 2, 4, r->outcome);
		report_text(o, out);
	}
	for (size_t i = 0; i < o->nr_errors; i++)
		md_print_problem(out, 0, "%s", o->errors[i]);
}

static struct md_json *task_json(const struct md_task *t)
{
	struct md_json *j = md_json_object();

	md_json_object_add(j, "pid", md_json_int64(t->pid));
	md_json_object_add(j, "comm", md_json_string(t->comm));
	md_json_object_add(j, "task", md_json_address(t->address));
	return j;
}

static struct md_json *points_json(int64_t points)
{
	return points == MD_OOM_POINTS_MIN ? md_json_string("LONG_MIN") :
	       points == MD_OOM_POINTS_MAX ? md_json_string("LONG_MAX") :
	       md_json_int64(points);
}

static void print_json(const struct md_oom *o, struct md_output *out)
{
	struct md_json *doc = md_output_doc(out), *a;
	const struct md_task *owner = o->oom_lock_owner ? md_tasks_find(o->tasks, o->oom_lock_owner) : NULL;
	struct oom_verdict v;

	oom_verdict(o, &v);
	md_json_object_add(doc, "verdict", md_json_verdict(v.kind, v.text, v.next));
	md_json_object_add(doc, "total_pages", md_json_uint64(o->totalpages));
	md_json_object_add(doc, "rss_counters", md_json_string(o->rss_sums ? "get_mm_counter_sum" : "get_mm_counter"));
	md_json_object_add(doc, "memcg", md_json_address(o->memcg));
	md_json_object_add(doc, "panic_on_oom", md_json_int64(o->panic_on_oom));
	md_json_object_add(doc, "oom_victims", md_json_int64(o->oom_victims));
	md_json_object_add(doc, "oom_lock_owner", owner ? task_json(owner) : NULL);
	a = md_json_array();
	for (size_t i = 0; i < o->nr_reaper_list; i++)
		md_json_array_add(a, task_json(o->reaper_list[i]));
	md_json_object_add(doc, "oom_reaper_list", a);

	a = md_json_array();
	for (size_t i = 0; i < o->nr_scores; i++) {
		const struct md_oom_score *sc = &o->scores[i];
		const struct md_task *t = sc->mm_task ? sc->mm_task : sc->task;
		struct md_json *j = md_table_row_json(process_columns, o, sc);

		md_json_object_add(j, "comm", md_json_string(sc->task->comm));
		md_json_object_add(j, "task", md_json_address(sc->task->address));
		md_json_object_add(j, "points", points_json(sc->points));
		md_json_object_add(j, "not_eligible", sc->why_not ? md_json_string(sc->why_not) : NULL);
		md_json_object_add(j, "oom_mm", md_json_address(sc->task->oom_mm));
		md_json_object_add(j, "oom_mm_flags", md_json_uint64(sc->oom_mm_flags));
		md_json_object_add(j, "tif_memdie", md_json_bool(sc->tif_memdie));
		md_json_object_add(j, "mm_flags", md_json_uint64(t->mm_flags));
		md_json_array_add(a, j);
	}
	md_json_object_add(doc, "processes", a);

	a = md_json_array();
	for (size_t i = 0; i < o->nr_controls; i++) {
		const struct md_oom_control *oc = &o->controls[i];
		struct md_json *j = md_json_object();

		md_json_object_add(j, "address", md_json_address(oc->address));
		md_json_object_add(j, "task", task_json(oc->owner));
		md_json_object_add(j, "stale", md_json_bool(oc->dead_frame));
		md_json_object_add(j, "zonelist", md_json_address(oc->zonelist));
		md_json_object_add(j, "nodemask", md_json_address(oc->nodemask));
		md_json_object_add(j, "memcg", md_json_address(oc->memcg));
		md_json_object_add(j, "gfp_mask", md_json_int64(oc->gfp_mask));
		md_json_object_add(j, "gfp_flags", md_json_string(oc->gfp_flags));
		md_json_object_add(j, "order", md_json_int64(oc->order));
		md_json_object_add(j, "total_pages", md_json_uint64(oc->totalpages));
		md_json_object_add(j, "chosen", md_json_address(oc->chosen));
		md_json_object_add(j, "chosen_task", oc->chosen_task ? task_json(oc->chosen_task) : NULL);
		md_json_object_add(j, "chosen_points", points_json(oc->chosen_points));
		md_json_object_add(j, "recomputed_points",
				   oc->chosen_task ? points_json(oc->chosen_badness) : NULL);
		md_json_object_add(j, "constraint", md_json_string(constraint_name(oc->constraint)));
		md_json_object_add(j, "notes", md_json_strings(oc->notes, oc->nr_notes));
		md_json_object_add(j, "anomalies", md_json_strings(oc->anomalies, oc->nr_anomalies));
		md_json_array_add(a, j);
	}
	md_json_object_add(doc, "oom_controls", a);
	/* what the lists of victims and controls may lack */
	md_json_object_add(doc, "tasks_complete", md_json_bool(!o->tasks->incomplete));
	md_json_object_add(doc, "stacks_unread", md_json_uint64(o->nr_stacks_unread));

	if (o->report) {
		struct md_json *r = md_json_object(), *rows = md_json_array();

		md_json_object_add(r, "header", md_json_string(o->report->header));
		md_json_object_add(r, "ts_nsec", md_json_uint64(o->report->ts_nsec));
		md_json_object_add(r, "constraint", o->report->constraint_line ?
				   md_json_string(o->report->constraint_line) : NULL);
		md_json_object_add(r, "outcome", o->report->outcome ?
				   md_json_string(o->report->outcome) : NULL);
		for (size_t i = 0; i < o->report->nr_rows; i++) {
			struct md_oom_report_row *row = &o->report->rows[i];
			struct md_json *j = md_json_object();

			for (size_t k = 0; k < sizeof(report_columns) / sizeof(report_columns[0]); k++)
				if (*row_field(row, k) >= 0 || !strcmp(report_columns[k], "oom_score_adj"))
					md_json_object_add(j, report_keys[k],
							   md_json_int64(*row_field(row, k)));
			md_json_object_add(j, "name", md_json_string(row->name));
			md_json_array_add(rows, j);
		}
		md_json_object_add(r, "tasks", rows);
		md_json_object_add(doc, "log_report", r);
	} else {
		md_json_object_add(doc, "log_report", NULL);
	}
	md_json_object_add(doc, "errors", md_json_strings(o->errors, o->nr_errors));
}

struct md_error *md_cmd_oomstate(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	struct options opt = { .all = md_arg_given(a, 'a') };
	const char *memcg = md_arg_string(a, 'm');
	struct md_oom *o;
	struct md_error *err;

	if (memcg && memcg[0] == '/') {		/* a path, as under /sys/fs/cgroup */
		if ((err = md_memcg_by_path(s, memcg, &opt.memcg)))
			return md_error_wrap(err, "oomstate: -m %s", memcg);
	} else if (memcg) {
		char *end;

		opt.memcg = strtoull(memcg, &end, 16);
		if (!*memcg || *end || opt.memcg < s->kernel.page_offset)
			return md_error_create(MD_ERR_INVALID, "oomstate: -m wants a cgroup path (/a/b) or the "
					       "address of a struct mem_cgroup, not '%s'", memcg);
	}
	if ((err = md_oom_read(s, opt.memcg, &o)))
		return err;
	if (md_output_is_json(out))
		print_json(o, out);
	else
		print_text(o, &opt, out);
	md_oom_destroy(o);
	return NULL;
}
