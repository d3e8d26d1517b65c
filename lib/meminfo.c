/* /proc/meminfo at the time of the dump, computed line by line as
 * fs/proc/meminfo.c meminfo_proc_show() computes it, from the folded global
 * counters it reads (lib/vmstat.c) and the variables behind si_meminfo(),
 * si_swapinfo(), si_mem_available() (mm/page_alloc.c in 6.1, mm/show_mem.c
 * in 6.12), vm_commit_limit(), vmalloc_nr_pages(), pcpu_nr_pages(),
 * hugetlb_report_meminfo() and x86's arch_report_meminfo().
 *
 * A line is printed when this kernel prints it: where the kernel's line
 * depends on a config option, the option is recognised by the symbol or
 * enumerator it brings.  A counter beyond the machine's memory cannot be
 * right: its lines are marked bad and explained, the others still stand.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "vmallocinfo.h"
#include "vmstat.h"

#define MAX_BDEV_INODES 1000000	/* bound on the blockdev superblock's inode list */

/* A value on its way to a line: pages (or kB, or a count) with its
 * unfolded per-CPU delta, and whether it could be had at all. */
struct value {
	int64_t v, d;
	bool ok;		/* false: the line is left out */
	bool bad;		/* impossible contents: the line is marked */
	char why[200];		/* for !ok or bad */
};

struct calc {
	struct md_session *s;
	const struct md_vmstat *v;
	struct md_meminfo *m;
	uint64_t page_kb;	/* kB per page */
	int64_t limit;		/* pages: no memory counter can exceed the memory map */
};

static struct value known(int64_t v)
{
	return (struct value){ .v = v, .ok = true };
}

static struct value unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct value unknown(const char *fmt, ...)
{
	struct value x = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x.why, sizeof(x.why), fmt, ap);
	va_end(ap);
	return x;
}

static struct value from_error(struct md_error *err, const char *what)
{
	char *msg = md_error_string(err);
	struct value x = unknown("%s: %s", what, msg ? msg : "out of memory");

	free(msg);
	md_error_destroy(err);
	return x;
}

/* Arithmetic on values read from the dump saturates: a corrupt counter
 * must come out as an impossible number, which bounded() names, never as
 * undefined behaviour. */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_mul_overflow(a, b, &r) ? ((a < 0) != (b < 0) ? INT64_MIN : INT64_MAX) : r;
}

static struct value combine(struct value a, struct value b, int sign)
{
	struct value x = a;

	x.v = sat_add(a.v, sat_mul(sign, b.v));
	x.d = sat_add(a.d, sat_mul(sign, b.d));
	x.ok = a.ok && b.ok;
	x.bad = a.bad || b.bad;
	if (!x.why[0] || (a.ok && !b.ok))
		memcpy(x.why, b.why, sizeof(x.why));
	return x;
}

/* x, also left out or bad when on is. */
static struct value depends(struct value x, struct value on)
{
	struct value y = combine(x, on, 0);

	y.v = x.v;
	y.d = x.d;
	return y;
}

static struct value add(struct value a, struct value b)
{
	return combine(a, b, 1);
}

static struct value sub(struct value a, struct value b)
{
	return combine(a, b, -1);
}

/* A memory counter bounded by the memory map (in units of unit_kb kB). */
static struct value bounded(struct calc *c, struct value x, uint64_t unit_kb, const char *what)
{
	int64_t limit = c->limit * (int64_t)(c->page_kb / unit_kb);

	if (x.ok && (x.v > limit || x.v < -limit)) {
		x.bad = true;
		snprintf(x.why, sizeof(x.why), "%s is %" PRId64 ", beyond the %" PRId64 " %s of the "
			 "memory map: corrupt", what, x.v, limit, unit_kb == 1 ? "kB" : "pages");
	}
	return x;
}

/* global_zone_page_state() / global_node_page_state_pages(): the global
 * array's value, negative values read as 0 (CONFIG_SMP).  optional: the
 * kernel prints no line when it lacks the item. */
static struct value counter(struct calc *c, enum md_vmstat_kind kind, const char *item,
			    bool optional, uint64_t unit_kb)
{
	const int64_t *global = kind == MD_VMSTAT_ZONE ? c->v->zone : c->v->node;
	const int64_t *pcpu = kind == MD_VMSTAT_ZONE ? c->v->zone_pcpu : c->v->node_pcpu;
	const char *array = kind == MD_VMSTAT_ZONE ? "vm_zone_stat" : "vm_node_stat";
	struct md_error *err;
	unsigned int i;
	char what[96];
	struct value x;

	if ((err = md_vmstat_item(c->s, c->v, kind, item, &i))) {
		if (optional && md_error_root_code(err) == MD_ERR_LOOKUP) {
			md_error_destroy(err);
			return (struct value){ 0 };	/* absent, as the kernel's line is */
		}
		return from_error(err, item);
	}
	if (!global)
		return unknown("%s[] unreadable", array);
	x = known(global[i]);
	x.d = pcpu[i];
	snprintf(what, sizeof(what), "%s[%s]", array, item);
	x = bounded(c, x, unit_kb, what);
	if (x.v < 0)
		x.v = 0;
	return x;
}

static struct value zone_pages(struct calc *c, const char *item)
{
	return counter(c, MD_VMSTAT_ZONE, item, false, c->page_kb);
}

static struct value node_pages(struct calc *c, const char *item)
{
	return counter(c, MD_VMSTAT_NODE, item, false, c->page_kb);
}

/* A variable of 1, 4 or 8 bytes; signed reads sign-extend. */
static struct value variable(struct calc *c, const char *symbol, size_t size, bool is_signed)
{
	uint64_t addr, raw = 0;
	struct md_error *err;

	if ((err = md_symbol(c->s, symbol, &addr)) || (err = md_read(c->s, addr, &raw, size)))
		return from_error(err, symbol);
	if (is_signed && size < 8 && (raw >> (size * 8 - 1)) & 1)
		raw |= ~0ULL << (size * 8);
	return known((int64_t)raw);
}

static bool have_symbol(struct calc *c, const char *symbol)
{
	uint64_t addr;
	struct md_error *err = md_symbol(c->s, symbol, &addr);

	md_error_destroy(err);
	return !err;
}

/* An item some kernels dropped, printing 0 in its place. */
static struct value counter_or_zero(struct calc *c, enum md_vmstat_kind kind, const char *item)
{
	unsigned int i;
	struct md_error *err = md_vmstat_item(c->s, c->v, kind, item, &i);

	if (err && md_error_root_code(err) == MD_ERR_LOOKUP) {
		md_error_destroy(err);
		return known(0);
	}
	if (err)
		return from_error(err, item);
	return counter(c, kind, item, false, c->page_kb);
}


static void add_line(struct calc *c, const char *name, struct value x, bool kb, bool delta)
{
	struct md_meminfo *m = c->m;
	struct md_meminfo_line *l;

	if (!x.ok) {
		if (x.why[0])
			md_messages_add(&m->errors, &m->nr_errors, "%s: left out: %s", name, x.why);
		return;
	}
	if (!md_array_reserve(&m->lines, &m->lines_cap, m->nr_lines, sizeof(*m->lines), 64)) {
		md_messages_add(&m->errors, &m->nr_errors, "%s: out of memory", name);
		return;
	}
	l = &m->lines[m->nr_lines++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->value = x.v < 0 ? 0 : x.v;	/* show_val_kb() prints an unsigned long */
	l->kb = kb;
	l->has_delta = delta;
	l->delta = delta ? x.d : 0;
	l->bad = x.bad;
	if (x.bad)
		md_messages_add(&m->errors, &m->nr_errors, "%s: %s", name, x.why);
}

/* show_val_kb(): pages shown in kB. */
static void pages_line(struct calc *c, const char *name, struct value x)
{
	x.v *= c->page_kb;
	x.d *= c->page_kb;
	add_line(c, name, x, true, true);
}

/* A line whose value the kernel computes without per-CPU counters. */
static void pages_line_exact(struct calc *c, const char *name, struct value x)
{
	x.v *= c->page_kb;
	add_line(c, name, x, true, false);
}

/* CONFIG_ZSWAP (mm/zswap.c): Zswap is zswap_total_pages(), the pages of
 * every pool's zsmalloc pool (zs_get_total_pages()); Zswapped is
 * zswap_stored_pages, the uncompressed pages stored. */
static void zswap_lines(struct calc *c)
{
	uint64_t head, list_off, zs_off, pages_off, addr, next, zs, n;
	struct md_error *err;
	struct value total = known(0);
	size_t seen = 0;

	if (!have_symbol(c, "zswap_stored_pages"))
		return;
	/* Only the form where a pool holds its zs_pool itself (the zpool
	 * layer gone); zswap_stored_pages is an atomic_long_t there. */
	const struct md_field fields[] = {
		{ "struct zswap_pool", "list", &list_off },
		{ "struct zswap_pool", "zs_pool", &zs_off },
		{ "struct zs_pool", "pages_allocated", &pages_off },
	};
	if ((err = md_resolve_fields(c->s, fields, sizeof(fields) / sizeof(fields[0])))) {
		total = from_error(err, "zswap pools behind a zpool are not read");
		add_line(c, "Zswap", total, true, false);
		add_line(c, "Zswapped", total, true, false);
		return;
	}
	if ((err = md_symbol(c->s, "zswap_pools", &head)) || (err = md_read_u64(c->s, head, &next))) {
		total = from_error(err, "zswap_pools");
	} else {
		while (next != head) {
			if (++seen > 1024) {
				total = unknown("zswap_pools: no end after 1024 pools");
				break;
			}
			addr = next - list_off;
			if ((err = md_read_u64(c->s, addr + zs_off, &zs)) ||
			    (err = md_read_u64(c->s, zs + pages_off, &n)) ||
			    (err = md_read_u64(c->s, next, &next))) {
				total = from_error(err, "zswap_pools");
				break;
			}
			total.v += (int64_t)n;
		}
	}
	pages_line_exact(c, "Zswap", bounded(c, total, c->page_kb, "zswap pool pages"));
	pages_line_exact(c, "Zswapped", bounded(c, variable(c, "zswap_stored_pages", 8, true),
						c->page_kb, "zswap_stored_pages"));
}

/* block/bdev.c nr_blockdev_pages(): the page cache of every block device
 * inode, from the blockdev superblock's inode list. */
static struct value blockdev_pages(struct calc *c)
{
	uint64_t sb_addr, sb, s_inodes, i_sb_list, i_mapping, nrpages, head, next, mapping, n;
	struct md_error *err;
	int64_t total = 0;
	size_t seen = 0;

	const struct md_field fields[] = {
		{ "struct super_block", "s_inodes", &s_inodes },
		{ "struct inode", "i_sb_list", &i_sb_list },
		{ "struct inode", "i_mapping", &i_mapping },
		{ "struct address_space", "nrpages", &nrpages },
	};
	if ((err = md_resolve_fields(c->s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_symbol(c->s, "blockdev_superblock", &sb_addr)) ||
	    (err = md_read_u64(c->s, sb_addr, &sb)))
		return from_error(err, "nr_blockdev_pages()");
	head = sb + s_inodes;
	if ((err = md_read_u64(c->s, head, &next)))
		return from_error(err, "blockdev_superblock->s_inodes");
	while (next != head) {
		uint64_t inode = next - i_sb_list;

		if (++seen > MAX_BDEV_INODES)
			return unknown("blockdev_superblock->s_inodes: more than %d inodes, a cycle?",
				       MAX_BDEV_INODES);
		if ((err = md_read_u64(c->s, inode + i_mapping, &mapping)) ||
		    (err = md_read_u64(c->s, mapping + nrpages, &n)) ||
		    (err = md_read_u64(c->s, next, &next)))
			return from_error(err, "blockdev_superblock->s_inodes: block device inode");
		total += n;
	}
	return bounded(c, known(total), c->page_kb, "nr_blockdev_pages()");
}

/* mm/swapfile.c si_swapinfo(): swap being switched off still counts.
 * Swap may exceed the memory map, so it is not bounded by it. */
static void swapinfo(struct calc *c, struct value *total, struct value *free)
{
	uint64_t flags_off, inuse_off, info;
	int64_t used, writeok;
	struct value nr_files = variable(c, "nr_swapfiles", 4, false);
	struct md_error *err;

	const struct md_field fields[] = {
		{ "struct swap_info_struct", "flags", &flags_off },
		{ "struct swap_info_struct", "inuse_pages", &inuse_off },
	};
	*free = depends(variable(c, "nr_swap_pages", 8, true), nr_files);
	*total = depends(variable(c, "total_swap_pages", 8, true), nr_files);
	if (!free->ok || !total->ok)
		return;
	if ((err = md_resolve_fields(c->s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_enumerator(c->s, "SWP_USED", &used)) ||
	    (err = md_enumerator(c->s, "SWP_WRITEOK", &writeok)) ||
	    (err = md_symbol(c->s, "swap_info", &info))) {
		*free = *total = from_error(err, "si_swapinfo()");
		return;
	}
	for (int64_t type = 0; type < nr_files.v && type < 64; type++) {
		uint64_t si, flags;
		uint32_t inuse;

		if ((err = md_read_u64(c->s, info + type * 8, &si)))
			goto fail;
		if (!si)
			continue;
		if ((err = md_read_u64(c->s, si + flags_off, &flags)) ||
		    (err = md_read_u32(c->s, si + inuse_off, &inuse)))
			goto fail;
		if ((flags & used) && !(flags & writeok)) {
			free->v += inuse;
			total->v += inuse;
		}
	}
	return;
fail:
	*free = *total = from_error(err, "swap_info[]");
}

/* mm/util.c vm_memory_committed(): percpu_counter_sum_positive() of
 * vm_committed_as.  The kernel sums online CPUs; an offline CPU's counter
 * was folded and zeroed when it went down, so possible CPUs sum the same. */
static struct value committed(struct calc *c)
{
	const struct md_kernel *k = &c->s->kernel;
	uint64_t addr, count_off, counters_off, counters;
	struct md_error *err;
	int64_t count;

	if ((err = md_symbol(c->s, "vm_committed_as", &addr)) ||
	    (err = md_member_offset(c->s, "struct percpu_counter", "count", &count_off)) ||
	    (err = md_read(c->s, addr + count_off, &count, 8)))
		return from_error(err, "vm_committed_as");
	/* !CONFIG_SMP: the count alone. */
	err = md_member_offset(c->s, "struct percpu_counter", "counters", &counters_off);
	if (err && md_error_root_code(err) == MD_ERR_LOOKUP) {
		md_error_destroy(err);
		return known(count < 0 ? 0 : count);
	}
	if (err || (err = md_read_u64(c->s, addr + counters_off, &counters)))
		return from_error(err, "vm_committed_as.counters");
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		int32_t n;

		if (!md_cpu_possible(k, cpu))
			continue;
		if ((err = md_read(c->s, counters + k->per_cpu_offset[cpu], &n, 4)))
			return from_error(err, "vm_committed_as's per-CPU counters");
		count += n;
	}
	return known(count < 0 ? 0 : count);
}

struct hstates {
	bool present;		/* CONFIG_HUGETLB_PAGE */
	struct value total_pages;	/* hugetlb_total_pages() */
	struct value total_kb;	/* the Hugetlb line */
	struct value nr, free, resv, surp, size_kb;	/* default_hstate's */
};

/* mm/hugetlb.c hugetlb_report_meminfo() and hugetlb_total_pages(). */
static void read_hstates(struct calc *c, struct hstates *h)
{
	uint64_t addr, size, order_off, nr_off, free_off, resv_off, surp_off;
	struct value max = variable(c, "hugetlb_max_hstate", 4, true);
	struct value def = variable(c, "default_hstate_idx", 4, false);
	struct md_error *err;

	memset(h, 0, sizeof(*h));
	h->present = have_symbol(c, "hstates");
	if (!h->present)
		return;
	const struct md_field fields[] = {
		{ "struct hstate", "order", &order_off },
		{ "struct hstate", "nr_huge_pages", &nr_off },
		{ "struct hstate", "free_huge_pages", &free_off },
		{ "struct hstate", "resv_huge_pages", &resv_off },
		{ "struct hstate", "surplus_huge_pages", &surp_off },
	};
	h->total_pages = h->total_kb = h->nr = h->free = h->resv = h->surp = h->size_kb =
		!max.ok ? max : def;
	if (!max.ok || !def.ok)
		return;
	if ((err = md_resolve_fields(c->s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_type_size(c->s, "struct hstate", &size)) || (err = md_symbol(c->s, "hstates", &addr))) {
		h->total_pages = h->total_kb = h->nr = h->free = h->resv = h->surp = h->size_kb =
			from_error(err, "hstates[]");
		return;
	}
	if (max.v < 0 || max.v > 64) {
		h->total_pages = h->total_kb = h->nr = h->free = h->resv = h->surp = h->size_kb =
			unknown("hugetlb_max_hstate is %" PRId64 ": corrupt", max.v);
		return;
	}
	h->total_pages = h->total_kb = known(0);
	/* Without a default hstate the kernel prints only the Hugetlb line. */
	h->nr.ok = h->free.ok = h->resv.ok = h->surp.ok = h->size_kb.ok = false;
	for (int64_t i = 0; i < max.v; i++) {
		uint64_t hs = addr + i * size, nr, fr, rs, sp, most;
		uint32_t order;

		if ((err = md_read_u32(c->s, hs + order_off, &order)) ||
		    (err = md_read_u64(c->s, hs + nr_off, &nr)) ||
		    (err = md_read_u64(c->s, hs + free_off, &fr)) ||
		    (err = md_read_u64(c->s, hs + resv_off, &rs)) ||
		    (err = md_read_u64(c->s, hs + surp_off, &sp))) {
			h->total_pages = h->total_kb = from_error(err, "hstates[]");
			return;
		}
		if (order > 30) {
			h->total_pages = h->total_kb = unknown("hstates[%" PRId64 "].order is %u: corrupt",
							       i, order);
			return;
		}
		/* no more huge pages of a size than the memory map can hold */
		most = (uint64_t)c->limit >> order;
		if (nr > most || fr > most || rs > most || sp > most) {
			h->total_pages = h->total_kb = h->nr = h->free = h->resv = h->surp = h->size_kb =
				unknown("hstates[%" PRId64 "]: %" PRIu64 " huge pages of order %u (%" PRIu64
					" free, %" PRIu64 " reserved, %" PRIu64 " surplus), beyond the %" PRId64
					" pages of the memory map: corrupt", i, nr, order, fr, rs, sp, c->limit);
			return;
		}
		h->total_pages.v += nr << order;
		h->total_kb.v += (nr << order) * c->page_kb;
		if (i == def.v) {
			h->nr = known(nr);
			h->free = known(fr);
			h->resv = known(rs);
			h->surp = known(sp);
			h->size_kb = known(c->page_kb << order);
		}
	}
	h->total_pages = bounded(c, h->total_pages, c->page_kb, "hugetlb pages");
}

/* mm/util.c vm_commit_limit(). */
static struct value commit_limit(struct calc *c, struct value totalram, const struct hstates *h,
				 struct value total_swap)
{
	struct value kbytes = variable(c, "sysctl_overcommit_kbytes", 8, false);
	struct value ratio = variable(c, "sysctl_overcommit_ratio", 4, true);
	struct value allowed;

	if (!kbytes.ok || !ratio.ok)
		return depends(kbytes, ratio);
	if (kbytes.v)
		allowed = known(kbytes.v / (int64_t)c->page_kb);
	else if (h->present)
		allowed = depends(known(sat_mul(sat_add(totalram.v, sat_mul(-1, h->total_pages.v)),
						ratio.v) / 100), depends(totalram, h->total_pages));
	else
		allowed = depends(known(sat_mul(totalram.v, ratio.v) / 100), totalram);
	return add(allowed, total_swap);
}

/* mm/percpu.c pcpu_nr_pages(), and how much of it is the first chunk: that
 * one is allocated from memblock at boot and is not part of MemTotal. */
static struct value percpu_pages(struct calc *c)
{
	struct value populated = variable(c, "pcpu_nr_populated", 8, false);
	struct value units = variable(c, "pcpu_nr_units", 4, true);
	uint64_t first, base, chunk_base, base_off, nr_pages_off;
	uint32_t nr_pages;
	struct md_error *err;
	struct value x;

	if (!populated.ok || !units.ok)
		return !populated.ok ? populated : units;
	x = bounded(c, known(sat_mul(populated.v, units.v)), c->page_kb, "pcpu_nr_populated * pcpu_nr_units");
	if ((err = md_member_offset(c->s, "struct pcpu_chunk", "base_addr", &base_off)) ||
	    (err = md_member_offset(c->s, "struct pcpu_chunk", "nr_pages", &nr_pages_off)) ||
	    (err = md_symbol(c->s, "pcpu_first_chunk", &first)) || (err = md_read_u64(c->s, first, &first)) ||
	    (err = md_symbol(c->s, "pcpu_base_addr", &base)) || (err = md_read_u64(c->s, base, &base)) ||
	    (err = md_read_u64(c->s, first + base_off, &chunk_base)) ||
	    (err = md_read_u32(c->s, first + nr_pages_off, &nr_pages))) {
		md_messages_add_error(&c->m->errors, &c->m->nr_errors,
				      md_error_wrap(err, "the first per-CPU chunk (counted as allocated)"));
		return x;
	}
	/* The first chunk's region ends where the first unit's static,
	 * reserved and dynamic areas do (pcpu_setup_first_chunk()). */
	if (!x.bad && chunk_base >= base &&
	    (chunk_base - base) / c->s->kernel.page_size + nr_pages <= (uint64_t)populated.v)
		c->m->percpu_first_chunk_kb = ((chunk_base - base) / c->s->kernel.page_size + nr_pages) *
					      units.v * c->page_kb;
	return x;
}

/* net/core/sock.c proto_memory_allocated(): max(0, memory_allocated); the
 * per-CPU reserves (6.0 "net: implement per-cpu reserves for
 * memory_allocated") are pages charged but not yet in it. */
static void socket_memory(struct calc *c, const char *global, const char *pcpu, int64_t *pages,
			  int64_t *pcpu_pages)
{
	const struct md_kernel *k = &c->s->kernel;
	struct value v = variable(c, global, 8, true);
	uint64_t addr;
	struct md_error *err;

	*pages = *pcpu_pages = -1;
	if (v.ok)
		v = bounded(c, v, c->page_kb, global);
	if (!v.ok || v.bad) {	/* a kernel without the protocol says nothing */
		if (v.bad || have_symbol(c, global))
			md_messages_add(&c->m->errors, &c->m->nr_errors, "socket memory: %s", v.why);
		return;
	}
	*pages = v.v < 0 ? 0 : v.v;
	if ((err = md_symbol(c->s, pcpu, &addr))) {
		md_error_destroy(err);
		return;
	}
	*pcpu_pages = 0;
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		int32_t n;

		if (!md_cpu_possible(k, cpu))
			continue;
		if ((err = md_read(c->s, addr + k->per_cpu_offset[cpu], &n, 4))) {
			md_messages_add_error(&c->m->errors, &c->m->nr_errors, md_error_wrap(err, "%s", pcpu));
			*pcpu_pages = -1;
			return;
		}
		*pcpu_pages += n;
	}
	if (*pcpu_pages > c->limit) {
		md_messages_add(&c->m->errors, &c->m->nr_errors, "socket memory: %s sums to %" PRId64
				" pages, beyond the %" PRId64 " of the memory map: corrupt", pcpu, *pcpu_pages,
				c->limit);
		*pcpu_pages = -1;
	}
}

/* x86 arch_report_meminfo() (arch/x86/mm/pat/set_memory.c): the direct
 * map's pages by size, 4 KiB, 2 MiB and 1 GiB. */
static void direct_map(struct calc *c)
{
	static const struct { const char *line, *level; uint64_t kb; } sizes[] = {
		{ "DirectMap4k", "PG_LEVEL_4K", 4 },
		{ "DirectMap2M", "PG_LEVEL_2M", 2048 },
		{ "DirectMap1G", "PG_LEVEL_1G", 1 << 20 },
	};
	struct value gb = variable(c, "direct_gbpages", 4, true);
	uint64_t addr;
	struct md_error *err;

	if (!have_symbol(c, "direct_pages_count"))
		return;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int64_t level;
		uint64_t n;
		struct value x;

		if (i == 2 && !(gb.ok && gb.v))
			break;	/* printed only with direct_gbpages */
		if ((err = md_enumerator(c->s, sizes[i].level, &level)) ||
		    (err = md_symbol(c->s, "direct_pages_count", &addr)) ||
		    (err = md_read_u64(c->s, addr + level * 8, &n)))
			x = from_error(err, "direct_pages_count[]");
		else
			x = known(n * sizes[i].kb);
		add_line(c, sizes[i].line, x, true, false);
	}
}

static void compute(struct calc *c)
{
	struct md_meminfo *m = c->m;
	struct value totalram = bounded(c, variable(c, "_totalram_pages", 8, true), c->page_kb,
					"_totalram_pages");
	struct value free = zone_pages(c, "NR_FREE_PAGES");
	struct value reserve = variable(c, "totalreserve_pages", 8, false);
	struct value inactive_anon = node_pages(c, "NR_INACTIVE_ANON");
	struct value active_anon = node_pages(c, "NR_ACTIVE_ANON");
	struct value inactive_file = node_pages(c, "NR_INACTIVE_FILE");
	struct value active_file = node_pages(c, "NR_ACTIVE_FILE");
	struct value unevictable = node_pages(c, "NR_UNEVICTABLE");
	/* the slab items are kept in pages globally (vmstat_item_in_bytes()) */
	struct value sreclaimable = node_pages(c, "NR_SLAB_RECLAIMABLE_B");
	struct value sunreclaim = node_pages(c, "NR_SLAB_UNRECLAIMABLE_B");
	struct value misc = node_pages(c, "NR_KERNEL_MISC_RECLAIMABLE");
	/* !CONFIG_SWAP has no swap cache: total_swapcache_pages() is 0 */
	struct value swapcache = counter(c, MD_VMSTAT_NODE, "NR_SWAPCACHE", true, c->page_kb);
	struct value buffers = blockdev_pages(c);
	struct value available, cached, swap_total, swap_free, x;
	struct hstates h;
	struct value wmarks = known(0);

	if (!swapcache.ok && !swapcache.why[0])
		swapcache = known(0);

	/* si_mem_available(): for_each_zone() sums low_wmark_pages() */
	for (size_t i = 0; i < c->v->nr_zones && wmarks.ok; i++) {
		const struct md_vmstat_zone *z = &c->v->zones[i];

		if (z->read)
			wmarks.v += z->wmark_low;
		else
			wmarks = unknown("node %u zone %u unreadable: its low watermark is unknown", z->nid,
					 z->index);
	}
	available = depends(depends(depends(sub(free, reserve), add(active_file, inactive_file)),
				    add(sreclaimable, misc)), wmarks);
	if (available.ok) {
		/* unsigned long arithmetic, as in the kernel */
		uint64_t pagecache = active_file.v + inactive_file.v;
		uint64_t reclaimable = sreclaimable.v + misc.v;
		uint64_t wmark_low = wmarks.v;

		pagecache -= pagecache / 2 < wmark_low ? pagecache / 2 : wmark_low;
		reclaimable -= reclaimable / 2 < wmark_low ? reclaimable / 2 : wmark_low;
		available.v += pagecache + reclaimable;
		if (available.v < 0)
			available.v = 0;
	}

	/* meminfo_proc_show(): Cached excludes swap cache and buffers */
	cached = sub(sub(node_pages(c, "NR_FILE_PAGES"), swapcache), buffers);
	if (cached.v < 0)
		cached.v = 0;
	swapinfo(c, &swap_total, &swap_free);
	read_hstates(c, &h);

	pages_line_exact(c, "MemTotal", totalram);
	pages_line(c, "MemFree", free);
	pages_line_exact(c, "MemAvailable", available);
	pages_line_exact(c, "Buffers", buffers);
	pages_line(c, "Cached", cached);
	pages_line(c, "SwapCached", swapcache);
	pages_line(c, "Active", add(active_anon, active_file));
	pages_line(c, "Inactive", add(inactive_anon, inactive_file));
	pages_line(c, "Active(anon)", active_anon);
	pages_line(c, "Inactive(anon)", inactive_anon);
	pages_line(c, "Active(file)", active_file);
	pages_line(c, "Inactive(file)", inactive_file);
	pages_line(c, "Unevictable", unevictable);
	pages_line(c, "Mlocked", zone_pages(c, "NR_MLOCK"));
	pages_line_exact(c, "SwapTotal", swap_total);
	pages_line_exact(c, "SwapFree", swap_free);
	zswap_lines(c);
	pages_line(c, "Dirty", node_pages(c, "NR_FILE_DIRTY"));
	pages_line(c, "Writeback", node_pages(c, "NR_WRITEBACK"));
	pages_line(c, "AnonPages", node_pages(c, "NR_ANON_MAPPED"));
	pages_line(c, "Mapped", node_pages(c, "NR_FILE_MAPPED"));
	pages_line(c, "Shmem", node_pages(c, "NR_SHMEM"));
	pages_line(c, "KReclaimable", add(sreclaimable, misc));
	pages_line(c, "Slab", add(sreclaimable, sunreclaim));
	pages_line(c, "SReclaimable", sreclaimable);
	pages_line(c, "SUnreclaim", sunreclaim);
	/* NR_KERNEL_STACK_KB is kept in kB, not pages */
	add_line(c, "KernelStack", counter(c, MD_VMSTAT_NODE, "NR_KERNEL_STACK_KB", false, 1), true, true);
	/* CONFIG_SHADOW_CALL_STACK, also in kB */
	add_line(c, "ShadowCallStack", counter(c, MD_VMSTAT_NODE, "NR_KERNEL_SCS_KB", true, 1), true, true);
	/* Linux kernel commit f0c0c115fb81 ("mm: memcontrol: account
	 * pagetables per node") (in v5.11) made it a node item. */
	pages_line(c, "PageTables", counter(c, md_vmstat_kind_of(c->v, "nr_page_table_pages", MD_VMSTAT_NODE),
					    "NR_PAGETABLE", false, c->page_kb));
	/* 6.0 "mm: add NR_SECONDARY_PAGETABLE to count secondary page table uses" */
	pages_line(c, "SecPageTables", counter(c, MD_VMSTAT_NODE, "NR_SECONDARY_PAGETABLE", true, c->page_kb));
	add_line(c, "NFS_Unstable", known(0), true, false);
	/* Both counters went, and the kernel prints 0: Linux kernel commit
	 * 194df9f66db8 ("mm: remove NR_BOUNCE zone stat") (in v6.16) and
	 * Linux kernel commit 8356a5a3b078 ("mm, vmstat: remove the
	 * NR_WRITEBACK_TEMP node_stat_item counter") (in v6.17). */
	pages_line(c, "Bounce", counter_or_zero(c, MD_VMSTAT_ZONE, "NR_BOUNCE"));
	pages_line(c, "WritebackTmp", counter_or_zero(c, MD_VMSTAT_NODE, "NR_WRITEBACK_TEMP"));
	pages_line_exact(c, "CommitLimit", commit_limit(c, totalram, &h, swap_total));
	pages_line_exact(c, "Committed_AS", committed(c));

	/* x86-64 VMALLOC_TOTAL: VMALLOC_END - VMALLOC_START, one byte less
	 * than the vmalloc area */
	add_line(c, "VmallocTotal", known((c->s->kernel.vmalloc_size - 1) >> 10), true, false);
	if (have_symbol(c, "nr_vmalloc_pages")) {
		int64_t n;
		struct md_error *err = md_vmalloc_nr_pages(c->s, &n);

		x = err ? from_error(err, "VmallocUsed") : known(n);
		pages_line_exact(c, "VmallocUsed", bounded(c, x, c->page_kb, "nr_vmalloc_pages"));
	} else {
		/* Linux kernel commit b9ec0ed90706 ("mm: vmalloc: streamline
		 * vmalloc memory accounting") (in v7.1) made it the node item
		 * NR_VMALLOC; meminfo prints the folded global value, as for
		 * the other node items. */
		pages_line(c, "VmallocUsed", node_pages(c, "NR_VMALLOC"));
	}
	add_line(c, "VmallocChunk", known(0), true, false);
	pages_line_exact(c, "Percpu", percpu_pages(c));
	/* CONFIG_MEMORY_FAILURE */
	if (have_symbol(c, "num_poisoned_pages"))
		pages_line_exact(c, "HardwareCorrupted", variable(c, "num_poisoned_pages", 8, true));
	/* CONFIG_TRANSPARENT_HUGEPAGE; the items themselves exist regardless */
	if (have_symbol(c, "transparent_hugepage_flags")) {
		pages_line(c, "AnonHugePages", node_pages(c, "NR_ANON_THPS"));
		pages_line(c, "ShmemHugePages", node_pages(c, "NR_SHMEM_THPS"));
		pages_line(c, "ShmemPmdMapped", node_pages(c, "NR_SHMEM_PMDMAPPED"));
		pages_line(c, "FileHugePages", node_pages(c, "NR_FILE_THPS"));
		pages_line(c, "FilePmdMapped", node_pages(c, "NR_FILE_PMDMAPPED"));
	}
	/* CONFIG_CMA: mm/cma.c cma_areas[] (totalcma_pages is defined without it) */
	if (have_symbol(c, "cma_areas")) {
		pages_line_exact(c, "CmaTotal", variable(c, "totalcma_pages", 8, false));
		pages_line(c, "CmaFree", zone_pages(c, "NR_FREE_CMA_PAGES"));
	}
	/* CONFIG_UNACCEPTED_MEMORY (6.5) */
	pages_line(c, "Unaccepted", counter(c, MD_VMSTAT_ZONE, "NR_UNACCEPTED", true, c->page_kb));
	/* Node items that the kernel prints when it has them: memory given to
	 * the hypervisor by balloon drivers, and pages of GPU objects and
	 * pools (drivers/gpu). */
	pages_line(c, "Balloon", counter(c, MD_VMSTAT_NODE, "NR_BALLOON_PAGES", true, c->page_kb));
	pages_line(c, "GPUActive", counter(c, MD_VMSTAT_NODE, "NR_GPU_ACTIVE", true, c->page_kb));
	pages_line(c, "GPUReclaim", counter(c, MD_VMSTAT_NODE, "NR_GPU_RECLAIM", true, c->page_kb));
	if (h.present) {
		add_line(c, "HugePages_Total", h.nr, false, false);
		add_line(c, "HugePages_Free", h.free, false, false);
		add_line(c, "HugePages_Rsvd", h.resv, false, false);
		add_line(c, "HugePages_Surp", h.surp, false, false);
		add_line(c, "Hugepagesize", h.size_kb, true, false);
		add_line(c, "Hugetlb", h.total_kb, true, false);
	}
	direct_map(c);

	/* The task stacks are vmalloc'ed when task_struct has stack_vm_area
	 * (CONFIG_VMAP_STACK): KernelStack's pages are then in VmallocUsed. */
	{
		uint64_t off;
		struct md_error *err = md_member_offset(c->s, "struct task_struct", "stack_vm_area", &off);

		m->vmap_stack = !err;
		md_error_destroy(err);
	}
	socket_memory(c, "tcp_memory_allocated", "tcp_memory_per_cpu_fw_alloc", &m->tcp_pages,
		      &m->tcp_pcpu_pages);
	socket_memory(c, "udp_memory_allocated", "udp_memory_per_cpu_fw_alloc", &m->udp_pages,
		      &m->udp_pcpu_pages);
}

struct md_error *md_meminfo_read(struct md_session *s, const struct md_vmstat *v,
				 struct md_meminfo **ret)
{
	struct md_meminfo *m = calloc(1, sizeof(*m));
	struct calc c = { .s = s, .v = v, .m = m };

	if (!m)
		return md_error_nomem();
	c.page_kb = s->kernel.page_size / 1024;
	c.limit = s->kernel.max_pfn ? s->kernel.max_pfn : INT64_MAX / 4096;
	compute(&c);
	*ret = m;
	return NULL;
}

void md_meminfo_destroy(struct md_meminfo *m)
{
	if (!m)
		return;
	free(m->lines);
	md_messages_free(m->errors, m->nr_errors);
	free(m);
}

const struct md_meminfo_line *md_meminfo_find(const struct md_meminfo *m, const char *name)
{
	for (size_t i = 0; i < m->nr_lines; i++)
		if (!strcmp(m->lines[i].name, name))
			return &m->lines[i];
	return NULL;
}
