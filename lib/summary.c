/* The `memdiag` command: where the memory went, and what to run next.
 *
 * 1. /proc/meminfo at the dump, from the kernel's counters (lib/meminfo.c).
 * 2. Used memory (MemTotal - MemFree) split into buckets that do not
 *    overlap, each from the counter the kernel keeps for it; what no
 *    counter covers is "unaccounted".
 * 3. The largest consumers of the buckets: processes by RSS (lib/tasks.c),
 *    slab caches by memory (lib/slab.c, as slableak counts them), vmalloc
 *    callers (lib/vmallocinfo.c).
 * 4. Verdicts, each with its evidence and the command to run next.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "buddy.h"
#include "dcache.h"
#include "oom.h"
#include "options.h"
#include "output.h"
#include "slableak.h"
#include "summary.h"
#include "tasks.h"
#include "vmallocinfo.h"
#include "vmstat.h"

/* What makes a verdict, in percent of MemTotal.  A 512 MiB idle guest
 * uses about 6% of its RAM: 1% in vmalloc, 3% in slab. */
#define HOG_SHARE 25		/* one process holding this much is named */
#define USER_SHARE 50		/* user memory (anon + shmem) dominates */
#define SLAB_GROWTH_SHARE 10	/* SUnreclaim */
#define RECLAIMABLE_SHARE 10	/* SReclaimable */
#define VMALLOC_SHARE 5		/* vmalloc other than task stacks */
#define KERNEL_SHARE 10		/* page tables, kernel stacks, per-CPU */
#define UNACCOUNTED_SHARE 15
#define HUGETLB_FREE_SHARE 25	/* hugetlb pages set aside and unused */
#define LOW_AVAILABLE_SHARE 5	/* MemAvailable */
/* include/linux/mmzone.h PAGE_ALLOC_COSTLY_ORDER: the allocator retries
 * orders up to it hard and gives up above; a zone that cannot serve the
 * next order while plenty of memory is free is fragmented. */
#define COSTLY_ORDER 3
#define TOP_DEFAULT 5

enum bucket_id {
	B_ANON, B_SHMEM, B_CACHE, B_SRECL, B_SUNRECL, B_STACKS, B_PGTABLES, B_VMALLOC, B_PERCPU,
	B_HUGETLB, B_OTHER, B_PCP, B_UNACCOUNTED, NR_BUCKETS
};

struct bucket {
	const char *name;
	const char *from;	/* which counters, for the reader */
	int64_t kb;
	bool known;
};

struct verdict {
	const char *kind;
	char *text;
	char *next;		/* command to run, or NULL */
	int64_t weight;		/* kB it is about; the largest are listed first */
	size_t order;		/* found in, for ties */
};

/* An OOM, exhaustion and leaks come first whatever their size. */
#define WEIGHT_OOM INT64_MAX
#define WEIGHT_EXHAUSTED (INT64_MAX - 1)
#define WEIGHT_LEAK (INT64_MAX - 2)

struct task_row {
	const struct md_task *t;
	uint64_t rss;		/* pages: file + anon + shmem, per-CPU parts included */
};

struct summary {
	struct md_session *s;
	struct md_output *out;	/* for progress only: the result is rendered after */
	int top;
	bool counters;		/* -s */
	struct md_vmstat *vm;
	struct md_meminfo *mi;
	struct md_slab_state *slab;	/* the session's */
	struct md_vmalloc *vmalloc;	/* the session's */
	struct md_vmalloc_callers *callers;
	struct md_tasks *tasks;		/* the session's */
	struct md_buddy *buddy;
	struct md_oom *oom;

	bool have_used;
	int64_t total_kb, free_kb, used_kb;
	struct bucket b[NR_BUCKETS];

	struct task_row *rows;	/* processes by RSS */
	size_t nr_rows;
	/* processes whose mm could not be read (its page not in the dump, or
	 * damaged): not in rows, so rows[0] may not be the largest */
	size_t nr_unread;
	const struct md_task *first_unread;
	struct md_slab_cache **recl, **unrecl;	/* caches by memory */
	size_t nr_recl, nr_unrecl;
	uint64_t recl_bytes, unrecl_bytes;	/* in the caches found */

	struct verdict *verdicts;
	size_t nr_verdicts, verdicts_cap;
	char **errors;		/* parts that could not be read; the rest is shown */
	size_t nr_errors;
};

#define problem(sm, ...) md_messages_add(&(sm)->errors, &(sm)->nr_errors, __VA_ARGS__)

static bool fatal(struct md_error *err)
{
	return md_error_root_code(err) == MD_ERR_INTERRUPTED || md_error_root_code(err) == MD_ERR_NOMEM;
}

/* A part that could not be read: reported, and the summary goes on.
 * Returns err if the command must stop (Ctrl-C, out of memory). */
static struct md_error *part_failed(struct summary *sm, struct md_error *err, const char *part)
{
	if (fatal(err))
		return err;
	md_messages_add_error(&sm->errors, &sm->nr_errors, md_error_wrap(err, "%s", part));
	return NULL;
}

static double share(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * part / whole : 0;
}

static const char *kb_text(int64_t kb, char buf[32])
{
	return md_human_bytes(kb < 0 ? 0 : (uint64_t)kb << 10, buf);
}

static void verdict(struct summary *sm, const char *kind, int64_t weight, const char *next,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void verdict(struct summary *sm, const char *kind, int64_t weight, const char *next,
		    const char *fmt, ...)
{
	struct verdict *v;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text || !md_array_reserve(&sm->verdicts, &sm->verdicts_cap, sm->nr_verdicts,
				       sizeof(*sm->verdicts), 8)) {
		free(text);
		problem(sm, "a verdict was lost: out of memory");
		return;
	}
	v = &sm->verdicts[sm->nr_verdicts++];
	v->kind = kind;
	v->text = text;
	v->next = next ? strdup(next) : NULL;
	v->weight = weight;
	v->order = sm->nr_verdicts - 1;
}

static int compare_verdicts(const void *a, const void *b)
{
	const struct verdict *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A meminfo line in kB; false if this dump has none or it is bad. */
static bool line_kb(const struct summary *sm, const char *name, int64_t *ret)
{
	const struct md_meminfo_line *l = sm->mi ? md_meminfo_find(sm->mi, name) : NULL;

	*ret = l && !l->bad ? (int64_t)l->value : 0;
	return l && !l->bad;
}

/* ------------------------------------------------------------ buckets */

static void set_bucket(struct summary *sm, enum bucket_id id, const char *name, const char *from,
		       bool known, int64_t kb)
{
	sm->b[id] = (struct bucket){ name, from, kb < 0 ? 0 : kb, known };
}

static void compute_buckets(struct summary *sm)
{
	int64_t anon, shmem, cached, buffers, swapcached, srecl, sunrecl, stacks, pt, spt = 0, vused;
	int64_t percpu, hugetlb = 0, kreclaimable, bounce, pcp = 0, sum = 0;
	int64_t first_chunk = sm->mi ? (int64_t)sm->mi->percpu_first_chunk_kb : 0;
	bool vmap_stack = sm->mi && sm->mi->vmap_stack;
	bool a = line_kb(sm, "AnonPages", &anon), sh = line_kb(sm, "Shmem", &shmem);
	bool r = line_kb(sm, "SReclaimable", &srecl), u = line_kb(sm, "SUnreclaim", &sunrecl);
	bool st = line_kb(sm, "KernelStack", &stacks);
	bool ok, all = true;

	sm->have_used = line_kb(sm, "MemTotal", &sm->total_kb) & line_kb(sm, "MemFree", &sm->free_kb);
	sm->used_kb = sm->total_kb - sm->free_kb;
	set_bucket(sm, B_ANON, "user anonymous", "AnonPages", a, anon);
	set_bucket(sm, B_SHMEM, "shmem/tmpfs", "Shmem: tmpfs files, shared memory (in Cached)", sh, shmem);
	/* NR_FILE_PAGES holds Cached, Buffers, SwapCached and Shmem */
	ok = line_kb(sm, "Cached", &cached) & line_kb(sm, "Buffers", &buffers) &
	     line_kb(sm, "SwapCached", &swapcached) & sh;
	set_bucket(sm, B_CACHE, "page cache", "Cached + Buffers + SwapCached - Shmem", ok,
		   cached + buffers + swapcached - shmem);
	set_bucket(sm, B_SRECL, "slab, reclaimable", "SReclaimable", r, srecl);
	set_bucket(sm, B_SUNRECL, "slab, unreclaimable", "SUnreclaim", u, sunrecl);
	set_bucket(sm, B_STACKS, "kernel stacks", "KernelStack", st, stacks);
	ok = line_kb(sm, "PageTables", &pt);
	if (sm->mi && md_meminfo_find(sm->mi, "SecPageTables"))
		ok &= line_kb(sm, "SecPageTables", &spt);
	set_bucket(sm, B_PGTABLES, "page tables", "PageTables + SecPageTables", ok, pt + spt);
	/* With VMAP_STACK the stacks' pages are vmalloc'ed: counted once, as stacks. */
	ok = line_kb(sm, "VmallocUsed", &vused) && (!vmap_stack || st);
	set_bucket(sm, B_VMALLOC, "vmalloc", vmap_stack ? "VmallocUsed - KernelStack (VMAP_STACK)"
		   : "VmallocUsed", ok, vused - (vmap_stack ? stacks : 0));
	ok = line_kb(sm, "Percpu", &percpu);
	set_bucket(sm, B_PERCPU, "per-CPU allocator", "Percpu less its first chunk (boot memory, "
		   "outside MemTotal)", ok, percpu - first_chunk);
	ok = sm->mi && (!md_meminfo_find(sm->mi, "Hugetlb") || line_kb(sm, "Hugetlb", &hugetlb));
	set_bucket(sm, B_HUGETLB, "hugetlb pool", "Hugetlb: huge pages set aside, used or not", ok, hugetlb);
	ok = line_kb(sm, "KReclaimable", &kreclaimable) & line_kb(sm, "Bounce", &bounce) & r;
	set_bucket(sm, B_OTHER, "other kernel counters", "KReclaimable - SReclaimable (misc reclaimable) "
		   "+ Bounce", ok, kreclaimable - srecl + bounce);
	if (sm->buddy) {
		ok = true;
		for (size_t i = 0; i < sm->buddy->nr_zones; i++) {
			ok &= sm->buddy->zones[i].pcp_known;
			pcp += sm->buddy->zones[i].pcp_pages * (sm->s->kernel.page_size >> 10);
		}
	} else {
		ok = false;
	}
	set_bucket(sm, B_PCP, "free on per-CPU lists", "free pages the per-CPU lists hold, "
		   "not counted in MemFree", ok, pcp);
	for (int i = 0; i < B_UNACCOUNTED; i++) {
		if (sm->b[i].known)
			sum += sm->b[i].kb;
		all &= sm->b[i].known;
	}
	sm->b[B_UNACCOUNTED] = (struct bucket){ "unaccounted", "used less the buckets above: pages no "
		"counter covers (alloc_pages() by drivers, page fragments, ...)",
		sm->used_kb - sum, all && sm->have_used };
}

/* ---------------------------------------------------------- consumers */

static int compare_rows(const void *a, const void *b)
{
	const struct task_row *x = a, *y = b;

	if (x->rss != y->rss)
		return x->rss < y->rss ? 1 : -1;
	return x->t->pid - y->t->pid;
}

static int compare_mm(const void *a, const void *b)
{
	const struct task_row *x = a, *y = b;

	return x->t->mm < y->t->mm ? -1 : x->t->mm > y->t->mm;
}

/* Processes by RSS: one row per mm (threads share theirs).  RSS with the
 * counters' per-CPU parts, as /proc/PID/status shows it (6.2+:
 * fs/proc/task_mmu.c task_mem() get_mm_counter_sum()). */
static struct md_error *task_rows(struct summary *sm)
{
	size_t n = 0, kept = 0;

	if (!sm->tasks)
		return NULL;
	if (!(sm->rows = calloc(sm->tasks->nr_tasks + 1, sizeof(*sm->rows))))
		return md_error_nomem();
	for (size_t i = 0; i < sm->tasks->nr_tasks; i++) {
		const struct md_task *t = &sm->tasks->tasks[i];

		if (!t->leader || !t->mm)
			continue;
		if (t->mm_read)
			sm->rows[n++] = (struct task_row){ t, md_task_rss_sum(t) };
		else if (!sm->nr_unread++)
			sm->first_unread = t;
	}
	qsort(sm->rows, n, sizeof(*sm->rows), compare_mm);
	for (size_t i = 0; i < n; i++)
		if (!kept || sm->rows[kept - 1].t->mm != sm->rows[i].t->mm)
			sm->rows[kept++] = sm->rows[i];
	qsort(sm->rows, kept, sizeof(*sm->rows), compare_rows);
	sm->nr_rows = kept;
	return NULL;
}

static struct md_error *cache_rows(struct summary *sm)
{
	const struct md_slab_state *st = sm->slab;

	if (!st)
		return NULL;
	sm->recl = calloc(st->nr_caches + 1, sizeof(*sm->recl));
	sm->unrecl = calloc(st->nr_caches + 1, sizeof(*sm->unrecl));
	if (!sm->recl || !sm->unrecl)
		return md_error_nomem();
	for (size_t i = 0; i < st->nr_caches; i++) {
		struct md_slab_cache *c = &st->caches[i];

		if (c->reclaimable) {
			sm->recl[sm->nr_recl++] = c;
			sm->recl_bytes += c->bytes;
		} else {
			sm->unrecl[sm->nr_unrecl++] = c;
			sm->unrecl_bytes += c->bytes;
		}
	}
	qsort(sm->recl, sm->nr_recl, sizeof(*sm->recl), md_slab_cache_compare_bytes);
	qsort(sm->unrecl, sm->nr_unrecl, sizeof(*sm->unrecl), md_slab_cache_compare_bytes);
	return NULL;
}

/* The vmalloc caller holding the most memory that is not task stacks. */
static const struct md_vmalloc_caller *largest_caller(const struct summary *sm)
{
	const struct md_vmalloc_caller *best = NULL;

	if (!sm->callers)
		return NULL;
	for (size_t i = 0; i < sm->callers->nr_callers; i++) {
		const struct md_vmalloc_caller *c = &sm->callers->callers[i];

		if (!best || c->pages - c->stack_pages > best->pages - best->stack_pages)
			best = c;
	}
	return best;
}

/* ----------------------------------------------------------- verdicts */

/* lib/oom.c: whether the OOM killer was at work when the dump was taken. */
static void oom_verdict(struct summary *sm)
{
	char why[256];

	if (sm->oom && md_oom_in_progress(sm->oom, why, sizeof(why)))
		verdict(sm, "oom", WEIGHT_OOM, "oomstate", "an OOM was in progress: %s", why);
}

static struct md_error *slab_verdicts(struct summary *sm)
{
	char a[32], b[32];
	int64_t sunrecl = sm->b[B_SUNRECL].kb, srecl = sm->b[B_SRECL].kb;
	const char *leak_cache = NULL;

	for (size_t i = 0; sm->slab && i < sm->nr_unrecl + sm->nr_recl; i++) {
		struct md_slab_cache *c = i < sm->nr_unrecl ? sm->unrecl[i] : sm->recl[i - sm->nr_unrecl];
		struct md_leak_report *r;
		struct md_error *err;
		char next[96];

		if (!md_leak_candidate(c))
			continue;
		if ((err = md_leak_analyze(sm->s, sm->out, c, NULL, &r))) {
			if ((err = part_failed(sm, err, c->name)))
				return err;
			continue;
		}
		/* what reading its objects met, after the parts' problems */
		for (size_t j = 0; j < r->nr_errors; j++)
			problem(sm, "%s: %s", c->name, r->errors[j]);
		md_leak_judge(sm->s, r);
		if (r->level == MD_LEAK_PROBABLE || r->level == MD_LEAK_POSSIBLE) {
			/* without tracks the orphan scan is the confirmation */
			snprintf(next, sizeof(next), "slableak %s%s", r->tracked ? "" : "-u ", c->name);
			verdict(sm, "slab-leak", WEIGHT_LEAK, next, "kernel slab leak: %s", r->verdict ? r->verdict : c->name);
			leak_cache = leak_cache ? leak_cache : c->name;
		}
		md_leak_report_destroy(r);
	}
	if (sm->b[B_SUNRECL].known && share(sunrecl, sm->total_kb) >= SLAB_GROWTH_SHARE && sm->nr_unrecl &&
	    (!leak_cache || strcmp(leak_cache, sm->unrecl[0]->name))) {
		char next[96];

		bool shmem_inodes;
		struct md_error *err;

		/* mm/shmem.c: a tmpfs file's inode lives as long as the file */
		if ((err = md_slab_cache_is(sm->s, sm->unrecl[0], "shmem_inode_cachep", &shmem_inodes))) {
			if (md_error_root_code(err) == MD_ERR_LOOKUP)
				md_error_destroy(err);	/* no tmpfs in this kernel */
			else if ((err = part_failed(sm, err, "shmem_inode_cachep")))
				return err;
		}
		snprintf(next, sizeof(next), "slableak %s", sm->unrecl[0]->name);
		verdict(sm, "slab-growth", sunrecl, next, "SUnreclaim %s (%.0f%% of used, %.0f%% of RAM): kernel slab "
			"growth, largest %s %s%s", kb_text(sunrecl, a), share(sunrecl, sm->used_kb),
			share(sunrecl, sm->total_kb), sm->unrecl[0]->name, md_human_bytes(sm->unrecl[0]->bytes, b),
			shmem_inodes ? ": the inodes of tmpfs and shmem files, which deleting the files (or "
			"unmounting) frees" : "");
	}
	if (sm->b[B_SRECL].known && share(srecl, sm->total_kb) >= RECLAIMABLE_SHARE && sm->nr_recl) {
		struct md_dcache_census *d = NULL;
		char next[96], *held = NULL;
		bool dentries;
		struct md_error *err;

		/* dentries in use are not reclaimable: say what holds them */
		if ((err = md_dcache_is_dentry_cache(sm->s, sm->recl[0], &dentries)) ||
		    (dentries && (err = md_dcache_census(sm->s, sm->recl[0], &d)))) {
			if ((err = part_failed(sm, err, "dentry census")))
				return err;
		}
		if (d) {
			/* its problems: counted in the text, listed by slableak dentry */
			held = md_dcache_census_text(d);
			md_dcache_census_destroy(d);
		}
		snprintf(next, sizeof(next), "slableak %s", sm->recl[0]->name);
		verdict(sm, "reclaimable-slab", srecl, next, "reclaimable slab (%s) %s: SReclaimable %s (%.0f%% of "
			"RAM), a cache the kernel would reclaim under memory pressure, not a leak%s%s",
			sm->recl[0]->name, md_human_bytes(sm->recl[0]->bytes, a), kb_text(srecl, b),
			share(srecl, sm->total_kb), held ? "; but of its dentries, " : "", held ? held : "");
		free(held);
	}
	return NULL;
}

static void user_verdict(struct summary *sm)
{
	uint64_t page_kb = sm->s->kernel.page_size >> 10;
	int64_t user = sm->b[B_ANON].kb + sm->b[B_SHMEM].kb;
	char a[32], b[32];

	if (sm->nr_rows && share(sm->rows[0].rss * page_kb, sm->total_kb) >= HOG_SHARE) {
		const struct md_task *t = sm->rows[0].t;
		char c[32];

		verdict(sm, "user", user, "oomstate", "user space: pid %d (%s) holds %.0f%% of RAM (RSS %s, "
			"anon %s); user memory (AnonPages + Shmem) %s, %.0f%% of used", t->pid, t->comm,
			share(sm->rows[0].rss * page_kb, sm->total_kb),
			kb_text(sm->rows[0].rss * page_kb, a), kb_text(t->rss_sum[MD_RSS_ANON] * page_kb, b),
			kb_text(user, c), share(user, sm->used_kb));
	} else if (sm->b[B_ANON].known && share(user, sm->total_kb) >= USER_SHARE) {
		if (sm->nr_rows && (sm->nr_unread || sm->tasks->incomplete)) {
			/* the largest may be one not read */
			char unread[160] = "";

			if (sm->nr_unread)
				snprintf(unread, sizeof(unread), ", %zu of them unreadable (the first, pid %d "
					 "(%s): its mm could not be read)", sm->nr_unread,
					 sm->first_unread->pid, sm->first_unread->comm);
			verdict(sm, "user", user, "oomstate", "user space: user memory (AnonPages + Shmem) %s, %.0f%% "
				"of RAM, across %zu processes%s%s; of those read, the largest, pid %d (%s), "
				"holds %.0f%%", kb_text(user, a), share(user, sm->total_kb),
				sm->nr_rows + sm->nr_unread, unread, sm->tasks->incomplete ?
				"; more may be missing (the task list could not be read whole)" : "",
				sm->rows[0].t->pid, sm->rows[0].t->comm,
				share(sm->rows[0].rss * page_kb, sm->total_kb));
		} else if (sm->nr_rows) {
			verdict(sm, "user", user, "oomstate", "user space: user memory (AnonPages + Shmem) %s, %.0f%% "
				"of RAM, across %zu processes; the largest, pid %d (%s), holds %.0f%%",
				kb_text(user, a), share(user, sm->total_kb), sm->nr_rows, sm->rows[0].t->pid,
				sm->rows[0].t->comm, share(sm->rows[0].rss * page_kb, sm->total_kb));
		} else {
			verdict(sm, "user", user, "oomstate", "user space: user memory (AnonPages + Shmem) %s, %.0f%% "
				"of RAM (processes unreadable)", kb_text(user, a), share(user, sm->total_kb));
		}
	}
}

static void vmalloc_verdict(struct summary *sm)
{
	int64_t kb = sm->b[B_VMALLOC].kb;
	const struct md_vmalloc_caller *c = largest_caller(sm);
	char a[32], b[32], n[32];

	if (!sm->b[B_VMALLOC].known || share(kb, sm->total_kb) < VMALLOC_SHARE)
		return;
	if (c)
		verdict(sm, "vmalloc", kb, "vmalloc", "vmalloc %s (%.0f%% of RAM, %.0f%% of used, task stacks "
			"apart): largest caller %s, %s areas, %s", kb_text(kb, a), share(kb, sm->total_kb),
			share(kb, sm->used_kb), c->name, md_count(c->areas - c->stack_areas, n),
			md_human_bytes((c->pages - c->stack_pages) * sm->s->kernel.page_size, b));
	else
		verdict(sm, "vmalloc", kb, "vmalloc", "vmalloc %s (%.0f%% of RAM, %.0f%% of used, task stacks "
			"apart)", kb_text(kb, a), share(kb, sm->total_kb), share(kb, sm->used_kb));
}

/* A zone with memory to spare (order 0 passes the high watermark) whose
 * low watermark fails at an order up to COSTLY_ORDER + 1 for want of a
 * block: mm/page_alloc.c __zone_watermark_ok() as buddyfrag checks it. */
static void fragmentation_verdicts(struct summary *sm)
{
	const struct md_buddy *b = sm->buddy;
	uint64_t page = sm->s->kernel.page_size;

	for (size_t i = 0; b && i < b->nr_zones; i++) {
		const struct md_buddy_zone *z = &b->zones[i];
		char free[32], block[32];
		unsigned int o;

		if (!md_buddy_watermark_ok(b, z, 0, 2))
			continue;
		for (o = 1; o <= COSTLY_ORDER + 1 && o < b->nr_orders; o++)
			if (!md_buddy_watermark_ok(b, z, o, 1))
				break;
		if (o > COSTLY_ORDER + 1 || o >= b->nr_orders)
			continue;
		verdict(sm, "fragmentation", 0, "buddyfrag", "fragmentation: order >= %u unavailable in %s "
			"(node %u): %s free, but no free block of %s or more a GFP_KERNEL request may take", o,
			z->name, z->nid,
			md_human_bytes(z->free_pages * page, free), md_human_bytes(page << o, block));
	}
}

static void kernel_verdicts(struct summary *sm)
{
	static const struct { enum bucket_id id; const char *kind, *what, *next; int min; } big[] = {
		{ B_PGTABLES, "page-tables", "page tables", "oomstate", KERNEL_SHARE },
		{ B_STACKS, "kernel-stacks", "kernel stacks", "oomstate", KERNEL_SHARE },
		{ B_PERCPU, "percpu", "per-CPU allocations", NULL, KERNEL_SHARE },
		{ B_UNACCOUNTED, "unaccounted", "unaccounted memory (allocated pages no counter covers: "
		  "drivers' alloc_pages(), page fragments)", NULL, UNACCOUNTED_SHARE },
	};
	int64_t hfree, hsize, available;
	char a[32];

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		const struct bucket *x = &sm->b[big[i].id];

		if (x->known && share(x->kb, sm->total_kb) >= big[i].min)
			verdict(sm, big[i].kind, x->kb, big[i].next, "%s %s: %.0f%% of RAM, %.0f%% of used",
				big[i].what, kb_text(x->kb, a), share(x->kb, sm->total_kb),
				share(x->kb, sm->used_kb));
	}
	if (line_kb(sm, "HugePages_Free", &hfree) && line_kb(sm, "Hugepagesize", &hsize) &&
	    share(hfree * hsize, sm->total_kb) >= HUGETLB_FREE_SHARE)
		verdict(sm, "hugetlb", hfree * hsize, NULL, "hugetlb pool: %s in free huge pages (%.0f%% of RAM), set "
			"aside and unused", kb_text(hfree * hsize, a), share(hfree * hsize, sm->total_kb));
	if (sm->have_used && line_kb(sm, "MemAvailable", &available) &&
	    share(available, sm->total_kb) < LOW_AVAILABLE_SHARE)
		verdict(sm, "memory-low", WEIGHT_EXHAUSTED, NULL, "memory exhausted: MemAvailable %s, %.1f%% of RAM",
			kb_text(available, a), share(available, sm->total_kb));
}

static struct md_error *judge(struct summary *sm)
{
	struct md_error *err;
	char a[32], b[32];

	oom_verdict(sm);
	if ((err = slab_verdicts(sm)))
		return err;
	user_verdict(sm);
	vmalloc_verdict(sm);
	fragmentation_verdicts(sm);
	kernel_verdicts(sm);
	if (!sm->nr_verdicts) {
		int64_t available = 0;
		bool known = line_kb(sm, "MemAvailable", &available);
		char c[32];

		bool partial = sm->nr_errors || !sm->b[B_UNACCOUNTED].known;

		verdict(sm, "none", 0, NULL, "nothing alarming%s: %s of %s in use (%.0f%% of RAM)%s%s; no slab "
			"leak pattern, no fragmentation", partial ? " in what could be read (see the problems "
			"below)" : "", kb_text(sm->used_kb, a), kb_text(sm->total_kb, b),
			share(sm->used_kb, sm->total_kb), known ? ", MemAvailable " : "",
			known ? kb_text(available, c) : "");
	}
	qsort(sm->verdicts, sm->nr_verdicts, sizeof(*sm->verdicts), compare_verdicts);
	return NULL;
}

/* -------------------------------------------------------------- reading */

/* Problems the parts met, one line each, pointing at the command that
 * shows them in full. */
static void part_problems(struct summary *sm)
{
	size_t n = 0, caches = 0;

	if (sm->slab) {
		for (size_t i = 0; i < sm->slab->nr_caches; i++) {
			n += sm->slab->caches[i].nr_errors;
			caches += sm->slab->caches[i].nr_errors > 0;
		}
		if (n || sm->slab->nr_errors)
			problem(sm, "slab: %zu problems in %zu caches, %zu outside any cache; slab figures may "
				"be low (slableak lists them)", n, caches, sm->slab->nr_errors);
	}
	if (sm->vmalloc && sm->vmalloc->nr_errors)
		problem(sm, "vmalloc: %zu problems, the first: %s (vmalloc lists them)",
			sm->vmalloc->nr_errors, sm->vmalloc->errors[0]);
	if (sm->tasks && sm->tasks->nr_errors)
		problem(sm, "processes: %zu problems, the first: %s", sm->tasks->nr_errors,
			sm->tasks->errors[0]);
	if (sm->buddy) {
		n = sm->buddy->nr_errors;
		for (size_t i = 0; i < sm->buddy->nr_zones; i++)
			n += sm->buddy->zones[i].nr_errors;
		if (n)
			problem(sm, "free lists: %zu problems (buddyfrag lists them)", n);
	}
}

static struct md_error *gather(struct summary *sm)
{
	struct md_session *s = sm->s;
	struct md_error *err;

	if ((err = md_vmstat_read(s, &sm->vm)) && (err = part_failed(sm, err, "the kernel's counters")))
		return err;
	if (sm->vm && (err = md_meminfo_read(s, sm->vm, &sm->mi)))
		return err;
	if ((err = md_slab_walk(s, &sm->slab)) && (err = part_failed(sm, err, "slab caches")))
		return err;
	if ((err = md_tasks_get(s, &sm->tasks)) && (err = part_failed(sm, err, "processes")))
		return err;
	if ((err = md_vmalloc_get(s, &sm->vmalloc)) && (err = part_failed(sm, err, "vmalloc")))
		return err;
	if (sm->vmalloc && (err = md_vmalloc_by_caller(s, sm->vmalloc, sm->tasks, &sm->callers)))
		return err;
	if ((err = md_buddy_read(s, false, &sm->buddy)) && (err = part_failed(sm, err, "free lists")))
		return err;
	if ((err = md_oom_read(s, 0, &sm->oom)) && (err = part_failed(sm, err, "OOM state")))
		return err;
	if ((err = task_rows(sm)) || (err = cache_rows(sm)))
		return err;
	compute_buckets(sm);
	part_problems(sm);
	return judge(sm);
}

static void summary_free(struct summary *sm)
{
	md_vmstat_destroy(sm->vm);
	md_meminfo_destroy(sm->mi);
	md_vmalloc_callers_destroy(sm->callers);
	md_buddy_destroy(sm->buddy);
	md_oom_destroy(sm->oom);
	free(sm->rows);
	free(sm->recl);
	free(sm->unrecl);
	for (size_t i = 0; i < sm->nr_verdicts; i++) {
		free(sm->verdicts[i].text);
		free(sm->verdicts[i].next);
	}
	free(sm->verdicts);
	md_messages_free(sm->errors, sm->nr_errors);
}

/* ---------------------------------------------------------------- text */

static void meminfo_text(const struct summary *sm, struct md_output *out)
{
	const struct md_meminfo *mi = sm->mi;
	const int64_t page_kb = sm->s->kernel.page_size >> 10;
	size_t deltas = 0, len = 0;
	char *text = NULL, *save;
	FILE *f;

	md_printf(out, "MEMINFO at the dump: the kernel's counters as /proc/meminfo computes them\n");
	for (size_t i = 0; i < mi->nr_lines; i++) {
		const struct md_meminfo_line *l = &mi->lines[i];
		char label[32];
		int len = snprintf(label, sizeof(label), "%s:", l->name);

		/* the kernel's layout: a 16-column label and 8 digits, or a
		 * longer label and fewer digits ending in column 24 */
		md_printf(out, "%-16s%*" PRIu64 "%s%s\n", label, len > 16 ? 24 - len : 8, l->value,
			  l->kb ? " kB" : "", l->bad ? "  !" : "");
		deltas += l->has_delta && l->delta;
	}
	for (size_t i = 0; i < mi->nr_errors; i++)
		md_print_problem(out, 2, "%s", mi->errors[i]);
	for (size_t i = 0; i < sm->vm->nr_errors; i++)
		md_print_problem(out, 2, "%s", sm->vm->errors[i]);
	if (!(f = open_memstream(&text, &len)))
		return;
	if (mi->tcp_pages >= 0 || mi->udp_pages >= 0) {
		fprintf(f, "sockets (pages charged to the protocols; the memory is in slab and "
			"page allocations above):");
		if (mi->tcp_pages >= 0)
			fprintf(f, " TCP %" PRId64 " kB", mi->tcp_pages * page_kb);
		if (mi->tcp_pcpu_pages > 0)
			fprintf(f, " + %" PRId64 " kB per-CPU reserve", mi->tcp_pcpu_pages * page_kb);
		if (mi->udp_pages >= 0)
			fprintf(f, "%s UDP %" PRId64 " kB", mi->tcp_pages >= 0 ? "," : "", mi->udp_pages * page_kb);
		if (mi->udp_pcpu_pages > 0)
			fprintf(f, " + %" PRId64 " kB per-CPU reserve", mi->udp_pcpu_pages * page_kb);
		fputc('\n', f);
	}
	if (deltas) {
		fprintf(f, "per-CPU deltas not yet folded into those counters (/proc/meminfo leaves them "
			"out too):");
		for (size_t i = 0, n = 0; i < mi->nr_lines; i++) {
			const struct md_meminfo_line *l = &mi->lines[i];

			if (l->has_delta && l->delta)
				fprintf(f, "%s %s %+" PRId64 " kB", n++ ? "," : "", l->name, l->delta);
		}
		fputc('\n', f);
	}
	if (!fclose(f)) {
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			md_print_wrapped(out, 0, 2, line);
	}
	free(text);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void buckets_text(const struct summary *sm, struct md_output *out)
{
	char a[32], b[32];

	if (!sm->have_used) {
		md_printf(out, "\nUSED MEMORY: not computed (MemTotal or MemFree unknown)\n");
		return;
	}
	md_printf(out, "\nUSED MEMORY: %s of %s RAM (MemTotal - MemFree, %.1f%%)\n",
		  kb_text(sm->used_kb, a), kb_text(sm->total_kb, b), share(sm->used_kb, sm->total_kb));
	/* the bars are shares of used memory; --wide adds where each bucket's
	 * figure comes from (the help page says it too) */
	if (out->wide)
		md_printf(out, "%-80s%s\n", "  BUCKET                       SIZE   %RAM  %USED", "FROM");
	else
		md_printf(out, "  %-22s %10s %6s %6s\n", "BUCKET", "SIZE", "%RAM", "%USED");
	for (int i = 0; i < NR_BUCKETS; i++) {
		const struct bucket *x = &sm->b[i];
		char size[40], bar[64], line[160];

		/* unaccounted is negative when counters overlap */
		snprintf(size, sizeof(size), "%s%s", x->kb < 0 ? "-" : "", kb_text(x->kb < 0 ? -x->kb : x->kb, a));
		if (!x->known) {
			snprintf(line, sizeof(line), "  %-22s %10s", x->name, "?");
			bar[0] = '\0';
		} else {
			snprintf(line, sizeof(line), "  %-22s %10s %5.1f%% %5.1f%%", x->name, size,
				 share(x->kb, sm->total_kb), share(x->kb, sm->used_kb));
			md_bar(x->kb > 0 ? x->kb : 0, sm->used_kb > 0 ? sm->used_kb : 0, 30, bar);
		}
		if (out->wide && x->known)
			md_printf(out, "%s  %-30s%s\n", line, bar, x->from);
		else if (out->wide)
			md_printf(out, "%-80s%s\n", line, x->from);
		else
			md_printf(out, "%s%s%s\n", line, bar[0] ? "  " : "", bar);
	}
}

static void consumers_text(const struct summary *sm, struct md_output *out)
{
	uint64_t page = sm->s->kernel.page_size, page_kb = page >> 10;
	char a[32], b[32], c[32], d[32];
	size_t n;

	md_printf(out, "\nTOP CONSUMERS\n");
	if (sm->tasks) {
		md_printf(out, "  processes by RSS (anon + file + shmem pages mapped, as /proc/PID/status):\n");
		md_printf(out, "  %8s  %-16s %10s %6s %10s %10s %10s\n", "PID", "COMM", "RSS", "%RAM", "ANON",
			  "FILE", "SHMEM");
		for (size_t i = 0; i < sm->nr_rows && i < (size_t)sm->top; i++) {
			const struct md_task *t = sm->rows[i].t;

			md_printf(out, "  %8d  %-16s %10s %5.1f%% %10s %10s %10s\n", t->pid, t->comm,
				  kb_text(sm->rows[i].rss * page_kb, a),
				  share(sm->rows[i].rss * page_kb, sm->total_kb),
				  kb_text(t->rss_sum[MD_RSS_ANON] * page_kb, b), kb_text(t->rss_sum[MD_RSS_FILE] * page_kb, c),
				  kb_text(t->rss_sum[MD_RSS_SHMEM] * page_kb, d));
		}
	}
	for (int k = 0; sm->slab && k < 2; k++) {
		struct md_slab_cache **rows = k ? sm->recl : sm->unrecl;
		size_t nr = k ? sm->nr_recl : sm->nr_unrecl;
		int64_t counter = k ? sm->b[B_SRECL].kb : sm->b[B_SUNRECL].kb;
		uint64_t in_caches = k ? sm->recl_bytes : sm->unrecl_bytes;

		md_printf(out, "  %s slab caches (counted from the slabs, as slableak does):\n",
			  k ? "reclaimable" : "unreclaimable");
		for (n = 0; n < nr && n < (size_t)sm->top && rows[n]->bytes; n++)
			md_printf(out, "    %-24s %10s %5.1f%%  %s %s\n", rows[n]->name,
				  md_human_bytes(rows[n]->bytes, a), share(rows[n]->bytes >> 10, sm->total_kb),
				  md_count(rows[n]->allocated, b), plural(rows[n]->allocated, "object", "objects"));
		if (sm->b[k ? B_SRECL : B_SUNRECL].known && counter > (int64_t)(in_caches >> 10))
			md_printf(out, "    %-24s %10s %5.1f%%  %s\n", "(outside caches)",
				  kb_text(counter - (int64_t)(in_caches >> 10), a),
				  share(counter - (int64_t)(in_caches >> 10), sm->total_kb),
				  k ? "not in caches" : "not in caches: large kmalloc()");
	}
	if (sm->callers) {
		md_printf(out, "  vmalloc callers by memory:\n");
		for (n = 0; n < sm->callers->nr_callers && n < (size_t)sm->top; n++) {
			const struct md_vmalloc_caller *x = &sm->callers->callers[n];

			if (!x->pages)
				break;
			md_printf(out, "    %-30s %10s %5.1f%%  %s %s%s\n", x->name,
				  md_human_bytes(x->pages * page, a), share(x->pages * page_kb, sm->total_kb),
				  md_count(x->areas, b), plural(x->areas, "area", "areas"),
				  x->stack_areas ? ", task stacks" : "");
		}
	}
}

static void counters_text(const struct summary *sm, struct md_output *out)
{
	const struct md_vmstat *v = sm->vm;

	md_printf(out, "\nCOUNTERS (vm_zone_stat[], vm_node_stat[]: folded; PER-CPU: deltas not yet folded)\n");
	for (int kind = 0; kind < 2; kind++) {
		unsigned int n = kind ? v->nr_node_items : v->nr_zone_items;
		const int64_t *global = kind ? v->node : v->zone, *pcpu = kind ? v->node_pcpu : v->zone_pcpu;

		md_printf(out, "  %-32s %12s %8s", kind ? "node items" : "zone items", "GLOBAL", "PER-CPU");
		if (kind)
			for (size_t j = 0; j < v->nr_nodes; j++)
				md_printf(out, " %11s%u", "node", v->nodes[j].nid);
		else
			for (size_t j = 0; j < v->nr_zones; j++) {
				char col[48];

				snprintf(col, sizeof(col), "%u/%s", v->zones[j].nid, v->zones[j].name);
				if (v->zones[j].populated)
					md_printf(out, " %17s", col);
			}
		md_printf(out, "\n");
		for (unsigned int i = 0; i < n; i++) {
			const char *name = md_vmstat_name(v, kind ? MD_VMSTAT_NODE : MD_VMSTAT_ZONE, i);

			md_printf(out, "  %-32s %12" PRId64 " %8" PRId64, name ? name : "?",
				  global ? global[i] : 0, pcpu[i]);
			if (kind)
				for (size_t j = 0; j < v->nr_nodes; j++)
					md_printf(out, " %12" PRId64, v->nodes[j].stat[i]);
			else
				for (size_t j = 0; j < v->nr_zones; j++)
					if (v->zones[j].populated)
						md_printf(out, " %17" PRId64, v->zones[j].stat[i]);
			md_printf(out, "\n");
		}
	}
	if (v->numa)
		md_printf(out, "  NUMA events (vm_numa_event[] and the per-CPU counts /proc/vmstat folds in)\n");
	for (unsigned int i = 0; v->numa && i < v->nr_numa_items; i++) {
		const char *name = md_vmstat_name(v, MD_VMSTAT_NUMA, i);

		md_printf(out, "  %-32s %12" PRIu64 "\n", name ? name : "?", v->numa[i]);
	}
	if (v->events)
		md_printf(out, "  VM events (vm_event_states, summed over CPUs)\n");
	for (unsigned int i = 0; v->events && i < v->nr_event_items; i++) {
		const char *name = md_vmstat_name(v, MD_VMSTAT_EVENT, i);

		md_printf(out, "  %-32s %12" PRIu64 "\n", name ? name : "?", v->events[i]);
	}
}

/* The conclusion first, in 80 columns: each verdict with its evidence,
 * then the command to run next; the figures behind it follow. */
static void summary_text(const struct summary *sm, struct md_output *out)
{
	char line[256];

	md_printf(out, "VERDICT\n");
	for (size_t i = 0; i < sm->nr_verdicts; i++) {
		const struct verdict *v = &sm->verdicts[i];

		md_print_wrapped(out, 2, 4, v->text);
		if (v->next) {
			snprintf(line, sizeof(line), "-> run: %s", v->next);
			md_print_wrapped(out, 4, 6, line);
		}
	}
	for (size_t i = 0; i < sm->nr_errors; i++)
		md_print_problem(out, 2, "%s", sm->errors[i]);
	buckets_text(sm, out);
	consumers_text(sm, out);
	md_printf(out, "\n");
	if (sm->mi)
		meminfo_text(sm, out);
	else
		md_printf(out, "MEMINFO: not computed (the kernel's counters are unreadable, see above)\n");
	if (sm->counters && sm->vm)
		counters_text(sm, out);
}

/* ---------------------------------------------------------------- JSON */

/* {name: value} of n items of one kind; unnamed items are left out. */
static struct md_json *items_json(const struct md_vmstat *v, enum md_vmstat_kind kind,
				  const int64_t *values, unsigned int n)
{
	struct md_json *o = md_json_object();

	for (unsigned int i = 0; values && i < n; i++) {
		const char *name = md_vmstat_name(v, kind, i);

		if (name)
			md_json_object_add(o, name, md_json_int64(values[i]));
	}
	return o;
}

/* The zone and node items of one array pair as one object. */
static struct md_json *zone_node_json(const struct md_vmstat *v, const int64_t *zone,
				      const int64_t *node)
{
	struct md_json *o = items_json(v, MD_VMSTAT_ZONE, zone, v->nr_zone_items);
	struct md_json *nodes = items_json(v, MD_VMSTAT_NODE, node, v->nr_node_items);

	for (size_t i = 0; i < md_json_object_length(nodes); i++)
		md_json_object_add(o, md_json_object_key(nodes, i),
				   md_json_get(md_json_object_value(nodes, i)));
	md_json_put(nodes);
	return o;
}

static struct md_json *vmstat_json(const struct summary *sm)
{
	const struct md_vmstat *v = sm->vm;
	struct md_json *o = md_json_object();

	md_json_object_add(o, "global", zone_node_json(v, v->zone, v->node));
	md_json_object_add(o, "pcpu_delta", zone_node_json(v, v->zone_pcpu, v->node_pcpu));
	md_json_object_add(o, "numa_events", items_json(v, MD_VMSTAT_NUMA, (const int64_t *)v->numa,
							v->nr_numa_items));
	md_json_object_add(o, "events", items_json(v, MD_VMSTAT_EVENT, (const int64_t *)v->events,
						   v->nr_event_items));
	if (sm->counters) {
		struct md_json *zones = md_json_array(), *nodes = md_json_array();

		for (size_t j = 0; j < v->nr_zones; j++) {
			const struct md_vmstat_zone *z = &v->zones[j];
			struct md_json *x = md_json_object();

			md_json_object_add(x, "node", md_json_int64(z->nid));
			md_json_object_add(x, "zone", md_json_string(z->name));
			md_json_object_add(x, "populated", md_json_bool(z->populated));
			md_json_object_add(x, "stat", items_json(v, MD_VMSTAT_ZONE, z->stat, v->nr_zone_items));
			md_json_object_add(x, "pcpu_delta", items_json(v, MD_VMSTAT_ZONE, z->pcpu,
								       v->nr_zone_items));
			md_json_array_add(zones, x);
		}
		for (size_t j = 0; j < v->nr_nodes; j++) {
			const struct md_vmstat_node *n = &v->nodes[j];
			struct md_json *x = md_json_object();

			md_json_object_add(x, "node", md_json_int64(n->nid));
			md_json_object_add(x, "stat", items_json(v, MD_VMSTAT_NODE, n->stat, v->nr_node_items));
			md_json_object_add(x, "pcpu_delta", items_json(v, MD_VMSTAT_NODE, n->pcpu,
								       v->nr_node_items));
			md_json_array_add(nodes, x);
		}
		md_json_object_add(o, "zones", zones);
		md_json_object_add(o, "nodes", nodes);
	}
	return o;
}

static struct md_json *socket_json(int64_t pages, int64_t pcpu, uint64_t page)
{
	struct md_json *o;

	if (pages < 0)
		return NULL;
	o = md_json_object();
	md_json_object_add(o, "memory_bytes", md_json_int64(pages * page));
	md_json_object_add(o, "pcpu_reserve_bytes", pcpu >= 0 ? md_json_int64(pcpu * page) : NULL);
	return o;
}

static void summary_json(const struct summary *sm, struct md_output *out)
{
	struct md_json *doc = md_output_doc(out), *mi = md_json_object();
	struct md_json *delta = md_json_object(), *buckets = md_json_array();
	struct md_json *tasks = md_json_array(), *verdicts = md_json_array();
	struct md_json *sockets = md_json_object();
	uint64_t page = sm->s->kernel.page_size;
	struct md_json *errors = md_json_strings(sm->errors, sm->nr_errors);

	for (size_t i = 0; sm->mi && i < sm->mi->nr_lines; i++) {
		const struct md_meminfo_line *l = &sm->mi->lines[i];

		md_json_object_add(mi, l->name, md_json_int64(l->value));
		if (l->has_delta)
			md_json_object_add(delta, l->name, md_json_int64(l->delta));
	}
	/* /proc/meminfo's names, in its kB (HugePages_* are counts) */
	md_json_object_add(doc, "meminfo_kb", mi);
	md_json_object_add(doc, "meminfo_pcpu_delta_kb", delta);
	if (sm->mi) {
		md_json_object_add(doc, "meminfo_errors", md_json_strings(sm->mi->errors, sm->mi->nr_errors));
		md_json_object_add(sockets, "tcp", socket_json(sm->mi->tcp_pages, sm->mi->tcp_pcpu_pages,
							       page));
		md_json_object_add(sockets, "udp", socket_json(sm->mi->udp_pages, sm->mi->udp_pcpu_pages,
							       page));
	}
	md_json_object_add(doc, "sockets", sockets);
	if (sm->vm) {
		md_json_object_add(doc, "vmstat", vmstat_json(sm));
		md_json_object_add(doc, "vmstat_errors", md_json_strings(sm->vm->errors, sm->vm->nr_errors));
	}
	md_json_object_add(doc, "total_bytes", sm->have_used ? md_json_int64(sm->total_kb << 10) : NULL);
	md_json_object_add(doc, "used_bytes", sm->have_used ? md_json_int64(sm->used_kb << 10) : NULL);
	for (int i = 0; i < NR_BUCKETS; i++) {
		struct md_json *o = md_json_object();

		md_json_object_add(o, "bucket", md_json_string(sm->b[i].name));
		md_json_object_add(o, "memory_bytes", sm->b[i].known ? md_json_int64(sm->b[i].kb * 1024) : NULL);
		md_json_object_add(o, "from", md_json_string(sm->b[i].from));
		md_json_array_add(buckets, o);
	}
	md_json_object_add(doc, "buckets", buckets);
	for (size_t i = 0; i < sm->nr_rows && i < (size_t)sm->top; i++) {
		const struct md_task *t = sm->rows[i].t;
		struct md_json *o = md_json_object();

		md_json_object_add(o, "pid", md_json_int64(t->pid));
		md_json_object_add(o, "comm", md_json_string(t->comm));
		md_json_object_add(o, "rss_bytes", md_json_int64(sm->rows[i].rss * page));
		md_json_object_add(o, "anon_bytes", md_json_int64(t->rss_sum[MD_RSS_ANON] * page));
		md_json_object_add(o, "file_bytes", md_json_int64(t->rss_sum[MD_RSS_FILE] * page));
		md_json_object_add(o, "shmem_bytes", md_json_int64(t->rss_sum[MD_RSS_SHMEM] * page));
		md_json_array_add(tasks, o);
	}
	md_json_object_add(doc, "tasks", sm->tasks ? tasks : NULL);
	if (!sm->tasks)
		md_json_put(tasks);
	for (int k = 0; k < 2; k++) {
		struct md_slab_cache **rows = k ? sm->recl : sm->unrecl;
		size_t nr = k ? sm->nr_recl : sm->nr_unrecl;
		struct md_json *list = md_json_array();

		for (size_t n = 0; n < nr && n < (size_t)sm->top; n++) {
			struct md_json *o = md_json_object();

			md_json_object_add(o, "name", md_json_string(rows[n]->name));
			md_json_object_add(o, "memory_bytes", md_json_int64(rows[n]->bytes));
			md_json_object_add(o, "allocated", md_json_int64(rows[n]->allocated));
			md_json_array_add(list, o);
		}
		md_json_object_add(doc, k ? "slab_reclaimable" : "slab_unreclaimable", sm->slab ? list : NULL);
		if (!sm->slab)
			md_json_put(list);
	}
	if (sm->callers) {
		struct md_json *list = md_json_array();

		for (size_t n = 0; n < sm->callers->nr_callers && n < (size_t)sm->top; n++) {
			const struct md_vmalloc_caller *x = &sm->callers->callers[n];
			struct md_json *o = md_json_object();

			md_json_object_add(o, "caller", md_json_string(x->name));
			md_json_object_add(o, "areas", md_json_int64(x->areas));
			md_json_object_add(o, "memory_bytes", md_json_int64(x->pages * page));
			md_json_object_add(o, "task_stacks", md_json_int64(x->stack_areas));
			md_json_array_add(list, o);
		}
		md_json_object_add(doc, "vmalloc_callers", list);
	}
	for (size_t i = 0; i < sm->nr_verdicts; i++) {
		md_json_array_add(verdicts, md_json_verdict(sm->verdicts[i].kind, sm->verdicts[i].text,
							     sm->verdicts[i].next));
	}
	md_json_object_add(doc, "verdicts", verdicts);
	md_json_object_add(doc, "errors", errors);
}

/* ------------------------------------------------------------- command */

struct md_error *md_cmd_memdiag(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	struct summary sm = {
		.s = s,
		.out = out,
		.top = md_arg_number(a, 'n', TOP_DEFAULT),
		.counters = md_arg_given(a, 's'),
	};
	struct md_error *err;

	if (!(err = gather(&sm))) {
		if (md_output_is_json(out))
			summary_json(&sm, out);
		else
			summary_text(&sm, out);
	}
	summary_free(&sm);
	return err;
}
