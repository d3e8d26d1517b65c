/* vmalloc by caller, and the `vmalloc` command.
 *
 * /proc/vmallocinfo (mm/vmalloc.c vmalloc_info_show(), s_show() before
 * 6.9) prints one line per busy area: the range of vm->addr and vm->size
 * (the guard page included), vm->caller with %pS, pages=vm->nr_pages,
 * phys=, and a word per flag.  Here the same areas are summed per caller,
 * which is what a leak looks like: one caller holding thousands of areas.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "output.h"
#include "table.h"
#include "tasks.h"
#include "vmallocinfo.h"
#include "vmstat.h"

struct md_error *md_vmalloc_nr_pages(struct md_session *s, int64_t *ret)
{
	uint64_t addr;
	struct md_error *err;

	struct md_vmstat *v;
	unsigned int item;

	if (!(err = md_symbol(s, "nr_vmalloc_pages", &addr))) {
		if ((err = md_read(s, addr, ret, 8)))
			return md_error_wrap(err, "nr_vmalloc_pages");
		return NULL;
	}
	if (md_error_root_code(err) != MD_ERR_LOOKUP)
		return md_error_wrap(err, "nr_vmalloc_pages");
	md_error_destroy(err);
	/* Linux kernel commit b9ec0ed90706 ("mm: vmalloc: streamline vmalloc
	 * memory accounting") (in v7.1) made it the node item NR_VMALLOC: the exact count at the dump is the folded
	 * value plus the CPUs' deltas (node_page_state_snapshot()). */
	if ((err = md_vmstat_read(s, &v)))
		return md_error_wrap(err, "NR_VMALLOC");
	if ((err = md_vmstat_item(s, v, MD_VMSTAT_NODE, "NR_VMALLOC", &item)))
		err = md_error_wrap(err, "neither nr_vmalloc_pages nor NR_VMALLOC");
	else if (!v->node)
		err = md_error_create(MD_ERR_FAULT, "NR_VMALLOC: vm_node_stat[] unreadable");
	else
		*ret = v->node[item] + (v->node_pcpu ? v->node_pcpu[item] : 0);
	md_vmstat_destroy(v);
	return err;
}

enum area_kind { AREA_VM, AREA_VM_MAP_RAM, AREA_UNREADABLE };

/* An area's key: its caller, areas without a (readable) vm_struct apart. */
struct keyed {
	uint64_t caller;
	enum area_kind kind;
	size_t area;
};

static enum area_kind area_kind(const struct md_vmap_area *a)
{
	if (!a->vm)
		return AREA_VM_MAP_RAM;
	return a->size ? AREA_VM : AREA_UNREADABLE;	/* a vm_struct is never empty */
}

static int compare_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->caller < y->caller ? -1 : x->caller > y->caller;
}

static int compare_callers(const void *a, const void *b)
{
	const struct md_vmalloc_caller *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void caller_name(struct md_session *s, struct md_vmalloc_caller *c)
{
	if (c->vm_map_ram) {
		snprintf(c->name, sizeof(c->name), "vm_map_ram");
		return;
	}
	if (c->unreadable) {
		snprintf(c->name, sizeof(c->name), "(vm_struct unreadable)");
		return;
	}
	if (!c->caller) {
		snprintf(c->name, sizeof(c->name), "(no caller)");
		return;
	}
	md_address_text(s, c->caller, c->name, sizeof(c->name));
}

void md_vmalloc_area_caller(struct md_session *s, const struct md_vmap_area *a, char *buf, size_t len)
{
	struct md_vmalloc_caller c = { .caller = a->caller, .vm_map_ram = area_kind(a) == AREA_VM_MAP_RAM,
				       .unreadable = area_kind(a) == AREA_UNREADABLE };

	caller_name(s, &c);
	snprintf(buf, len, "%s", c.name);
}

/* A bit per area: the kernel stack of some task. */
static uint64_t *stack_areas(const struct md_vmalloc *v, const struct md_tasks *tasks)
{
	uint64_t *bits = calloc(v->nr_areas / 64 + 1, sizeof(uint64_t));

	if (!bits)
		return NULL;
	for (size_t i = 0; i < tasks->nr_tasks; i++) {
		const struct md_vmap_area *a = md_vmalloc_find(v, tasks->tasks[i].stack);

		if (a) {
			size_t n = a - v->areas;

			bits[n / 64] |= 1ULL << (n % 64);
		}
	}
	return bits;
}

struct md_error *md_vmalloc_by_caller(struct md_session *s, const struct md_vmalloc *v,
				      const struct md_tasks *tasks, struct md_vmalloc_callers **ret)
{
	struct md_vmalloc_callers *r = calloc(1, sizeof(*r));
	struct keyed *keys = calloc(v->nr_areas + 1, sizeof(*keys));
	uint64_t *stacks = tasks ? stack_areas(v, tasks) : NULL;

	if (!r || !keys || (tasks && !stacks)) {
		free(r);
		free(keys);
		free(stacks);
		return md_error_nomem();
	}
	r->stacks_known = tasks != NULL;
	for (size_t i = 0; i < v->nr_areas; i++)
		keys[i] = (struct keyed){ v->areas[i].caller, area_kind(&v->areas[i]), i };
	qsort(keys, v->nr_areas, sizeof(*keys), compare_keyed);
	r->callers = calloc(v->nr_areas + 1, sizeof(*r->callers));
	if (!r->callers) {
		free(keys);
		free(stacks);
		md_vmalloc_callers_destroy(r);
		return md_error_nomem();
	}
	for (size_t i = 0; i < v->nr_areas; i++) {
		const struct md_vmap_area *a = &v->areas[keys[i].area];
		struct md_vmalloc_caller *c;
		/* vm_map_ram areas have no vm_struct: their own range counts */
		uint64_t size = keys[i].kind == AREA_VM ? a->size : a->end - a->start;
		bool stack = stacks && (stacks[keys[i].area / 64] >> (keys[i].area % 64)) & 1;

		if (!i || compare_keyed(&keys[i - 1], &keys[i])) {
			c = &r->callers[r->nr_callers++];
			c->caller = keys[i].caller;
			c->vm_map_ram = keys[i].kind == AREA_VM_MAP_RAM;
			c->unreadable = keys[i].kind == AREA_UNREADABLE;
			caller_name(s, c);
		}
		c = &r->callers[r->nr_callers - 1];
		c->areas++;
		c->pages += a->nr_pages;
		c->size += size;
		c->flags |= a->vm_flags;
		c->stack_areas += stack;
		c->stack_pages += stack ? a->nr_pages : 0;
		r->areas++;
		r->pages += a->nr_pages;
		r->size += size;
		r->stack_areas += stack;
		r->stack_pages += stack ? a->nr_pages : 0;
	}
	free(keys);
	free(stacks);
	qsort(r->callers, r->nr_callers, sizeof(*r->callers), compare_callers);
	*ret = r;
	return NULL;
}

void md_vmalloc_callers_destroy(struct md_vmalloc_callers *c)
{
	if (!c)
		return;
	free(c->callers);
	free(c);
}

/* ------------------------------------------------------------- command */

static const struct { uint64_t flag; const char *word; } flag_words[] = {
	/* vmalloc_info_show()'s order */
	{ MD_VM_IOREMAP, "ioremap" },
	{ MD_VM_SPARSE, "sparse" },
	{ MD_VM_ALLOC, "vmalloc" },
	{ MD_VM_MAP, "vmap" },
	{ MD_VM_USERMAP, "user" },
	{ MD_VM_DMA_COHERENT, "dma-coherent" },
};

void md_vmalloc_flags_text(uint64_t flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]) && n < len; i++)
		if (flags & flag_words[i].flag)
			n += snprintf(buf + n, len - n, "%s%s", n ? " " : "", flag_words[i].word);
}

struct md_json *md_vmalloc_flags_json(uint64_t flags)
{
	struct md_json *a = md_json_array();

	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
		if (flags & flag_words[i].flag)
			md_json_array_add(a, md_json_string(flag_words[i].word));
	return a;
}

static bool vpages(const struct md_session *s, const struct md_vmap_area *a)
{
	/* is_vmalloc_addr(v->pages): the page array was itself vmalloc'ed */
	return a->pages >= s->kernel.vmalloc_start && a->pages - s->kernel.vmalloc_start < s->kernel.vmalloc_size;
}

/* One area as /proc/vmallocinfo prints it (without the N<node>= counts). */
static void area_text(struct md_session *s, const struct md_vmap_area *a, struct md_output *out)
{
	struct md_vmalloc_caller c = { .caller = a->caller, .vm_map_ram = !a->vm };
	char flags[96];

	if (area_kind(a) == AREA_UNREADABLE) {
		md_printf(out, "0x%016" PRIx64 "-0x%016" PRIx64 " %7" PRIu64 " (vm_struct 0x%" PRIx64
			  " unreadable)\n", a->start, a->end, a->end - a->start, a->vm);
		return;
	}
	if (!a->vm) {
		md_printf(out, "0x%016" PRIx64 "-0x%016" PRIx64 " %7" PRIu64 " vm_map_ram\n", a->start,
			  a->end, a->end - a->start);
		return;
	}
	md_printf(out, "0x%016" PRIx64 "-0x%016" PRIx64 " %7" PRIu64, a->addr, a->addr + a->size, a->size);
	if (a->caller) {
		caller_name(s, &c);
		md_printf(out, " %s", c.name);
	}
	if (a->nr_pages)
		md_printf(out, " pages=%" PRIu64, a->nr_pages);
	if (a->phys_addr)
		md_printf(out, " phys=0x%016" PRIx64, a->phys_addr);
	md_vmalloc_flags_text(a->vm_flags, flags, sizeof(flags));
	md_printf(out, "%s%s%s\n", flags[0] ? " " : "", flags, vpages(s, a) ? " vpages" : "");
}

static struct md_json *area_json(struct md_session *s, const struct md_vmap_area *a)
{
	enum area_kind kind = area_kind(a);
	struct md_vmalloc_caller c = { .caller = a->caller, .vm_map_ram = kind == AREA_VM_MAP_RAM,
				       .unreadable = kind == AREA_UNREADABLE };
	struct md_json *o = md_json_object();
	char buf[32];

	caller_name(s, &c);
	snprintf(buf, sizeof(buf), "0x%016" PRIx64, kind == AREA_VM ? a->addr : a->start);
	md_json_object_add(o, "start", md_json_string(buf));
	md_json_object_add(o, "size_bytes", md_json_int64(kind == AREA_VM ? a->size : a->end - a->start));
	md_json_object_add(o, "caller", md_json_string(c.name));
	md_json_object_add(o, "memory_pages", md_json_int64(a->nr_pages));
	if (a->phys_addr) {
		snprintf(buf, sizeof(buf), "0x%016" PRIx64, a->phys_addr);
		md_json_object_add(o, "phys", md_json_string(buf));
	}
	md_json_object_add(o, "flags", md_vmalloc_flags_json(a->vm_flags));
	md_json_object_add(o, "vpages", md_json_bool(a->vm && vpages(s, a)));
	return o;
}

static void get_caller_memory(const void *ctx, const void *row, struct md_value *v)
{
	const struct md_session *s = ctx;
	const struct md_vmalloc_caller *c = row;

	v->u = c->pages * s->kernel.page_size;
}

/* the tasks not read, in text: a filtered dump can lose dozens */
#define MAX_TASK_PROBLEMS 3

/* "FLAGS" in text: the kinds of area, and how many are task stacks */
static void get_caller_flags(const void *ctx, const void *row, struct md_value *v)
{
	const struct md_vmalloc_caller *c = row;
	char flags[96];

	md_vmalloc_flags_text(c->flags, flags, sizeof(flags));
	if (c->stack_areas)
		snprintf(v->buf, sizeof(v->buf), "%.90s (%" PRIu64 " task stacks)", flags, c->stack_areas);
	else
		snprintf(v->buf, sizeof(v->buf), "%s", flags);
	v->s = v->buf;
}

static void get_caller_stacks(const void *ctx, const void *row, struct md_value *v)
{
	v->u = ((const struct md_vmalloc_caller *)row)->stack_areas;
}

/* Callers in 80 columns: the name last, where a long one costs no
 * alignment; --wide adds the size with guard pages and the kinds. */
static const struct md_column caller_columns[] = {
	{ "address", NULL, MD_COL_ADDRESS, 0, MD_MEMBER(struct md_vmalloc_caller, caller) },
	{ "areas", "AREAS", MD_COL_COUNT, 7, MD_MEMBER(struct md_vmalloc_caller, areas) },
	{ "memory_pages", "PAGES", MD_COL_PAGES, 8, MD_MEMBER(struct md_vmalloc_caller, pages) },
	{ "memory_bytes", "MEMORY", MD_COL_BYTES, 10, .human = true, .get = get_caller_memory },
	{ NULL, "STACKS", MD_COL_COUNT, 6, .get = get_caller_stacks },
	{ "size_bytes", "SIZE", MD_COL_BYTES, 10, .human = true, .wide = true,
	  MD_MEMBER(struct md_vmalloc_caller, size) },
	{ NULL, "FLAGS", MD_COL_STRING, -24, .wide = true, .get = get_caller_flags },
	{ "caller", "CALLER", MD_COL_STRING, -1, MD_CHARS_MEMBER(struct md_vmalloc_caller, name) },
	{ NULL },
};

static struct md_json *caller_json(const struct md_session *s, const struct md_vmalloc_caller *c,
				   bool stacks_known)
{
	struct md_json *o = md_table_row_json(caller_columns, s, c);

	md_json_object_add(o, "task_stacks", stacks_known ? md_json_int64(c->stack_areas) : NULL);
	md_json_object_add(o, "flags", md_vmalloc_flags_json(c->flags));
	return o;
}

struct md_error *md_cmd_vmalloc(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	struct md_vmalloc *v;
	struct md_tasks *tasks = NULL;
	struct md_vmalloc_callers *c;
	struct md_error *err;
	bool all = md_arg_given(a, 'a');
	long limit = md_arg_number(a, 'n', -1);
	int64_t used = -1;
	size_t shown;

	if ((err = md_vmalloc_get(s, &v)))
		return err;
	if ((err = md_tasks_get(s, &tasks))) {
		if (md_error_root_code(err) == MD_ERR_INTERRUPTED || md_error_root_code(err) == MD_ERR_NOMEM)
			return err;
		md_warn_error(out, md_error_wrap(err, "task stacks not told apart"));
		tasks = NULL;
	}
	if ((err = md_vmalloc_by_caller(s, v, tasks, &c)))
		return err;
	if ((err = md_vmalloc_nr_pages(s, &used)))
		md_warn_error(out, err);
	shown = limit >= 0 && (size_t)limit < c->nr_callers ? (size_t)limit : c->nr_callers;
	if (md_output_is_json(out)) {
		struct md_json *doc = md_output_doc(out), *list = md_json_array();

		for (size_t i = 0; i < shown; i++)
			md_json_array_add(list, caller_json(s, &c->callers[i], c->stacks_known));
		md_json_object_add(doc, "callers", list);
		/* a task that could not be read leaves its stack among the others
		 * (text: the first few, after the table) */
		for (size_t i = 0; tasks && i < tasks->nr_errors; i++)
			md_warn(out, "task stacks: %s", tasks->errors[i]);
		md_json_object_add(doc, "areas", md_json_int64(c->areas));
		md_json_object_add(doc, "memory_pages", md_json_int64(c->pages));
		md_json_object_add(doc, "size_bytes", md_json_int64(c->size));
		md_json_object_add(doc, "task_stack_areas",
				   c->stacks_known ? md_json_int64(c->stack_areas) : NULL);
		md_json_object_add(doc, "nr_vmalloc_pages", used >= 0 ? md_json_int64(used) : NULL);
		if (all) {
			struct md_json *areas = md_json_array();

			for (size_t i = 0; i < v->nr_areas; i++)
				md_json_array_add(areas, area_json(s, &v->areas[i]));
			md_json_object_add(doc, "area_list", areas);
		}
		md_json_object_add(doc, "errors", md_json_strings(v->errors, v->nr_errors));
	} else {
		char mem[32], size[32], line[256];

		/* the conclusion first: the totals and VmallocUsed */
		snprintf(line, sizeof(line), "%" PRIu64 " areas of %zu callers: %" PRIu64 " pages (%s), %s of "
			 "address space with guard pages", c->areas, c->nr_callers, c->pages,
			 md_human_bytes(c->pages * s->kernel.page_size, mem), md_human_bytes(c->size, size));
		if (c->stacks_known)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "; %" PRIu64 " areas are task "
				 "stacks (%" PRIu64 " pages)", c->stack_areas, c->stack_pages);
		md_print_wrapped(out, 0, 2, line);
		if (used >= 0)
			md_printf(out, "VmallocUsed (nr_vmalloc_pages, pages vmalloc() allocated): %" PRId64
				  " pages (%s)\n", used, md_human_bytes(used * s->kernel.page_size, mem));
		if (used >= 0 && v->nr_errors && c->pages < (uint64_t)used)
			md_print_problem(out, 2, "the areas read hold %" PRIu64 " of those %" PRId64 " pages: the "
					 "others are in areas that could not be read", c->pages, used);
		md_printf(out, "\n");
		if (all) {
			for (size_t i = 0; i < v->nr_areas; i++)
				area_text(s, &v->areas[i], out);
			md_printf(out, "\n");
		}
		md_table_heading(out, caller_columns);
		for (size_t i = 0; i < shown; i++)
			md_table_row(out, caller_columns, s, &c->callers[i]);
		if (shown < c->nr_callers)
			md_printf(out, "... %zu more callers (-n)\n", c->nr_callers - shown);
		for (size_t i = 0; i < v->nr_errors; i++)
			md_print_problem(out, 2, "%s", v->errors[i]);
		for (size_t i = 0; tasks && i < tasks->nr_errors && i < MAX_TASK_PROBLEMS; i++)
			md_print_problem(out, 2, "task stacks: %s", tasks->errors[i]);
		if (tasks && tasks->nr_errors > MAX_TASK_PROBLEMS)
			md_print_problem(out, 2, "task stacks: %zu more tasks could not be read (--json lists "
					 "them); their stacks are not told apart from other areas",
					 tasks->nr_errors - MAX_TASK_PROBLEMS);
	}
	md_vmalloc_callers_destroy(c);
	return NULL;
}
