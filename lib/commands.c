/* The command table and dispatch, shared by both front ends. */
#include <stdlib.h>
#include <string.h>

#include "buddy.h"
#include "oom.h"
#include "options.h"
#include "output.h"
#include "session.h"
#include "slableak.h"
#include "snapshot.h"
#include "summary.h"
#include "vmallocinfo.h"
#include "whatis.h"

#ifndef MD_VERSION
#define MD_VERSION "unknown"	/* built without the Makefile */
#endif
const char md_version[] = MD_VERSION;

static const char *const memdiag_description[] = {
	"Where the memory went, at the time of the dump, and what to run next,",
	"in 80 columns (--wide: every column), conclusion first:",
	"",
	"VERDICT: one finding a line, with its evidence and the command to run",
	"next: a kernel slab leak (a kmalloc cache one source dominates, as",
	"slableak -l judges it), kernel slab growth (SUnreclaim >= 10% of RAM),",
	"a reclaimable cache (SReclaimable >= 10%: not a leak), user space (a",
	"process holding >= 25% of RAM, or user memory >= 50%), vmalloc (>= 5%,",
	"stacks apart), fragmentation (a zone with memory to spare that cannot",
	"serve an order up to 4 at its low watermark), an OOM in progress, page",
	"tables, stacks or per-CPU memory >= 10%, unaccounted >= 15%, MemAvailable",
	"< 5%; or \"nothing alarming\".",
	"",
	"USED MEMORY: MemTotal - MemFree split into buckets that do not overlap,",
	"each with its share of RAM and of used memory, and a bar of the latter:",
	"user anonymous (AnonPages), shmem/tmpfs (Shmem), page cache (the rest of",
	"the file pages), reclaimable and unreclaimable slab, kernel stacks, page",
	"tables, vmalloc (without the task stacks it holds with VMAP_STACK), the",
	"per-CPU allocator (without its boot-time first chunk, which is not part",
	"of MemTotal), the hugetlb pool, other kernel counters, free pages on the",
	"per-CPU lists (not counted in MemFree), and \"unaccounted\": what is left,",
	"pages allocated outside any counter (alloc_pages() by drivers, page",
	"fragments of the network stack, ...).  --wide adds the counters each",
	"bucket comes from.",
	"",
	"TOP CONSUMERS: processes by RSS; unreclaimable and reclaimable slab caches",
	"by memory (counted from the slabs, as slableak does; slab memory in no",
	"cache is large kmalloc()); vmalloc callers (as the vmalloc command).",
	"",
	"MEMINFO: /proc/meminfo as the machine would have printed it, computed",
	"line by line as fs/proc/meminfo.c does, from the same counters: the",
	"global vm_zone_stat[]/vm_node_stat[] (folded), _totalram_pages,",
	"totalreserve_pages and the zones' low watermarks (MemAvailable, as",
	"si_mem_available()), the block devices' page cache (Buffers),",
	"nr_vmalloc_pages, the per-CPU allocator, hstates[], the swap areas.",
	"Units are those of /proc/meminfo: kB (KernelStack is kept in kB by the",
	"kernel, the others in pages); HugePages_* are counts.  Each CPU holds",
	"small changes not yet folded into the counters; /proc/meminfo leaves",
	"them out, and so does this table: they are listed after it.  Socket",
	"memory charged to TCP and UDP is shown too.  A counter that cannot be",
	"right (beyond the memory map) marks its lines with \"!\" and says why.",
	NULL,
};

static const struct md_option memdiag_options[] = {
	{ 'n', "N", "a count", 0, 100000, (const char *const[]){
		"N consumers of each kind (default 5)", NULL } },
	{ 's', .help = (const char *const[]){
		"also every counter: zone and node items (global, per-CPU",
		"deltas, per zone and node), NUMA events, VM events, by the",
		"names /proc/vmstat uses (in pages; /proc/vmstat shows the THP",
		"items in huge pages and pgpgin/pgpgout halved, in kB)", NULL } },
	{ 0 },
};

static const char *const memdiag_examples[] = {
	"  The summary (the standalone program runs it when no command is given):",
	"    crash> memdiag",
	"    $ memdiag VMLINUX VMCORE",
	"",
	"  With ten consumers of each kind, as JSON:",
	"    $ memdiag --json VMLINUX VMCORE memdiag -n 10",
	NULL,
};

static const char *const slableak_description[] = {
	"Lists every SLUB cache with its objects counted exactly: allocated,",
	"total and slabs come from the slabs themselves (a pass over the memory map",
	"finds full slabs that no list tracks; freelists and per-CPU freelists are",
	"walked), not from the kernel's counters.  Where those counters, a list or",
	"a freelist disagree with what was found, the cache's row is followed by a",
	"line starting with \"!\" that says so; the other caches are still listed.",
	"Caches are sorted by memory, largest first.",
	"",
	"Columns: OBJSIZE (object_size), ALLOCATED, TOTAL (objects), SLABS,",
	"MEM(KiB) (memory in slabs), RECL (SLAB_RECLAIM_ACCOUNT: counted as",
	"SReclaimable), NAME; with --wide also CACHE (the struct kmem_cache",
	"address, first) and SSIZE (slab size).",
	NULL,
};

static const struct md_option slableak_options[] = {
	{ 'n', "N", "a count", 0, 1000000000, (const char *const[]){
		"list only the N caches using the most memory", NULL } },
	{ 'l', .help = (const char *const[]){
		"add a leak verdict for every cache (the same analysis as CACHE)", NULL } },
	{ 'u', .help = (const char *const[]){
		"unreferenced objects, as kmemleak finds them: from the roots",
		"(kernel .data/.bss/ro_after_init, per-CPU areas, struct pages,",
		"module memory) follow every word that points into an allocated",
		"slab object, a vmalloc area or a page allocation; objects nothing",
		"reachable points into are orphans.  With CACHE, ORPHANS columns",
		"per caller and signature (1,000 or more orphans, half of a source's",
		"objects, make a probable leak in any cache); without, the caches",
		"with the most orphans.  It reads most kernel memory: progress is",
		"shown on a terminal's stderr.  Task stacks are reached through",
		"their tasks (VMAP_STACK areas).", NULL } },
	{ 0 },
};

static const char *const slableak_operand_help[] = {
	"only this cache (a name, or a struct kmem_cache address where",
	"two caches share a name), with its accounting (slabs on CPUs, partial",
	"and full lists, the kernel's counters) and who holds its objects:",
	"- allocation callers, when the cache keeps tracks (slub_debug=U):",
	"  each object's struct track, grouped by caller as alloc_calls",
	"  does, with the stack from the stack depot, pids and ages;",
	"- content signatures: what each object's first 8 words point at",
	"  (&symbol [module], ->other-cache, vmalloc, user, text, int, 0);",
	"  objects of one kind look alike, and a symbol names the owner;",
	"- a verdict: probable leak when one source holds half or more of",
	"  a kmalloc cache and at least 10,000 objects; a reclaimable cache",
	"  (dentry, inode) is said to be reclaimable, not a leak.",
	NULL,
};

static const char *const slableak_examples[] = {
	"  The ten largest caches:",
	"    crash> slableak -n 10",
	"",
	"  One cache and its accounting:",
	"    crash> slableak kmalloc-128",
	"",
	"  Which of its objects nothing points to any more:",
	"    crash> slableak -u kmalloc-128",
	NULL,
};

static const char *const snapshot_description[] = {
	"Prints, as JSON, every slab cache's allocated objects and memory with its",
	"largest allocation callers (SLAB_STORE_USER caches) and content",
	"signatures, for comparing with a later dump of the same machine:",
	"",
	"    $ memdiag VMLINUX VMCORE.1 snapshot > old.json",
	"    $ memdiag VMLINUX VMCORE.2 snapshot > new.json",
	"    $ memdiag diff old.json new.json",
	"",
	"The diff ranks caches by growth in memory, then allocation callers and",
	"signatures by growth in objects.",
	NULL,
};

static const char *const snapshot_examples[] = {
	"    crash> snapshot > /tmp/before.json",
	NULL,
};

static const char *const buddyfrag_description[] = {
	"The buddy allocator at the time of the dump, zone by zone, from the free",
	"lists themselves (zone->free_area[order].free_list[migratetype] walked,",
	"each block's struct page checked; a broken list is reported and marked",
	"with \"!\", and everything else is still counted):",
	"  - free blocks per order (as /proc/buddyinfo) and per migratetype (as",
	"    /proc/pagetypeinfo, with the kernel's own migratetype names);",
	"  - the walked counts against free_area.nr_free and NR_FREE_PAGES",
	"    (\"verified\" or the difference); pages on the per-CPU lists;",
	"  - watermarks, watermark boost, highatomic reserve, lowmem_reserve;",
	"  - per order: the fragmentation index (extfrag_index: near 1.000 means",
	"    failure for fragmentation, near 0 for lack of memory, -1.000 means a",
	"    block is free), the unusable free space index, and whether the",
	"    kernel's __zone_watermark_ok() passes at min, low and high for a",
	"    GFP_KERNEL request in the zone;",
	"  - a verdict: the lowest order no free block can serve, and how much",
	"    memory is free but in smaller blocks.",
	NULL,
};

static const struct md_option buddyfrag_options[] = {
	{ 'n', "NODE", "a node number", 0, 1 << 20, (const char *const[]){ "only this node", NULL } },
	{ 'z', "ZONE", .help = (const char *const[]){
		"only this zone (DMA, DMA32, Normal, Movable, ...)", NULL } },
	{ 'o', "ORDER", "an order", 0, MD_BUDDY_MAX_ORDERS - 1, (const char *const[]){
		"only this order in the per-order table (and for -v)", NULL } },
	{ 'v', .help = (const char *const[]){ "list every free block: pfn, order, migratetype", NULL } },
	{ 0 },
};

static const char *const buddyfrag_examples[] = {
	"  Could an order-4 allocation succeed?",
	"    crash> buddyfrag -o 4",
	"",
	"  Where are DMA32's free order-3 blocks?",
	"    crash> buddyfrag -z DMA32 -o 3 -v",
	NULL,
};

static const char *const oomstate_description[] = {
	"The OOM killer's view of the machine when the dump was taken, recomputed",
	"from the dump the way mm/oom_kill.c computes it.  It opens with its",
	"VERDICT: an OOM in progress (on whose stack, global or memcg, order, gfp,",
	"whom it chose), else the kernel log's last OOM report, else whom",
	"select_bad_process() would choose now.  Then:",
	"  - every process with its memory (pages: total_vm, RSS split into anon,",
	"    file and shmem, swap entries; page-table bytes), oom_score_adj, and the",
	"    points oom_badness() gives it, ranked as select_bad_process() would:",
	"    RANK 1 is the task it would kill.  LONG_MIN rows say why (init, kernel",
	"    thread, oom_score_adj -1000, MMF_OOM_SKIP, in vfork, no mm);",
	"    totalpages is RAM + swap as constrained_alloc() takes it, or with -m",
	"    the memcg's limit (cpuset and mempolicy constraints are not applied);",
	"  - oom_lock's owner, oom_victims, the oom_reaper's list, and every victim",
	"    (signal->oom_mm): its mm's MMF_OOM_SKIP / MMF_UNSTABLE /",
	"    MMF_OOM_REAP_QUEUED, so whether its memory was already reaped;",
	"  - every struct oom_control on a kernel stack (found by scanning each",
	"    task's stack for one whose zonelist is a node's and whose other fields",
	"    are in range): gfp_mask decoded with the kernel's own names, order,",
	"    totalpages, chosen and chosen_points, constraint, and the checks:",
	"    chosen NULL with chosen_points LONG_MIN, chosen not on the task list,",
	"    not a thread-group leader, already exiting, or chosen_points not equal",
	"    to its badness recomputed now.  Lines starting \"! ANOMALY\" are those;",
	"  - the last OOM report in the kernel log (\"invoked oom-killer\" and its",
	"    dump_tasks table) and whether the dump holds the same figures (IN",
	"    DUMP: same, gone, differs; --wide shows the dump's beside the log's),",
	"    so a change between the report and the crash shows.",
	NULL,
};

static const struct md_option oomstate_options[] = {
	{ 'm', "MEMCG", .help = (const char *const[]){
		"rank as a memcg OOM would: only the tasks of this memory cgroup",
		"and its descendants, totalpages its memory.max plus swap.  MEMCG",
		"is a path as under /sys/fs/cgroup (/ is the root, /system.slice a",
		"child), or a struct mem_cgroup's address (hex)", NULL } },
	{ 'a', .help = (const char *const[]){
		"also list processes without an mm (kernel threads, exited)", NULL } },
	{ 0 },
};

static const char *const oomstate_examples[] = {
	"  Which task would the OOM killer choose, and was oc sane?",
	"    crash> oomstate",
	"",
	"  The same inside one memory cgroup:",
	"    crash> oomstate -m /system.slice/foo.service",
	NULL,
};

static const char *const vmalloc_description[] = {
	"The kernel's busy vmap areas (vmalloc, vmap, ioremap, module memory,",
	"VMAP_STACK task stacks, per-CPU chunks) summed per caller (vm->caller,",
	"named with its module), as /proc/vmallocinfo would read if grouped:",
	"areas, pages vmalloc allocated for them (pages=), their memory, and their",
	"size in address space (vm->size, which includes the guard page), with the",
	"kinds of area (ioremap, vmalloc, vmap, user, dma-coherent).  Callers are",
	"sorted by memory (pages), then by size.  Areas that are a task's kernel",
	"stack are counted apart, so that stacks do not hide a leak.  The totals",
	"end with VmallocUsed (nr_vmalloc_pages), the counter /proc/meminfo shows.",
	"A broken area list is reported with \"!\"; the areas past the break are",
	"read from the list's other end and from the busy tree, and what still",
	"could not be read shows as the pages VmallocUsed has and the areas lack.",
	NULL,
};

static const struct md_option vmalloc_options[] = {
	{ 'a', .help = (const char *const[]){
		"also list every area as /proc/vmallocinfo does (without the",
		"N<node>= page counts); lazily freed areas awaiting purge",
		"(\"unpurged vm_area\") hold no pages and are not listed", NULL } },
	{ 'n', "N", "a count", 0, 1000000000, (const char *const[]){
		"only the N callers holding the most memory", NULL } },
	{ 0 },
};

static const char *const vmalloc_examples[] = {
	"  Who holds vmalloc memory:",
	"    crash> vmalloc -n 10",
	"",
	"  Every area, as the machine's /proc/vmallocinfo:",
	"    crash> vmalloc -a",
	NULL,
};

static const char *const whatis_description[] = {
	"What each address is, from everything memdiag reads of the dump (as",
	"crash's `kmem ADDRESS` and drgn's identify_address()):",
	"  - a slab object: its cache, the object and the offset into it, whether",
	"    it is allocated or free (on its slab's freelist, its CPU's lockless",
	"    freelist or a sheaf), and, when the cache keeps SLAB_STORE_USER",
	"    tracks, who allocated and who last freed it, with their stacks;",
	"  - the page behind it: struct page, pfn, flags by the kernel's names,",
	"    and its owner: slab, free (the free block, its order, migratetype",
	"    and zone, from the free lists), vmalloc (the area), anon, page cache,",
	"    reserved, or \"in use\" (allocated by someone who records nothing);",
	"  - a vmalloc or module area and its caller; a task's kernel stack or",
	"    task_struct; a kernel or module symbol; a CPU's per-CPU area.",
	"A struct page's own address (vmemmap) is described as that page.  What",
	"cannot be told (a page the dump lacks) is said on a \"!\" line.",
	"",
	"An argument is a hex address (0x optional) or a symbol, either with a",
	"+OFFSET (hex); *ARGUMENT is the pointer stored there.",
	"",
	"In crash, whose own whatis tells a symbol's type, it is mdwhatis.",
	NULL,
};

static const char *const whatis_examples[] = {
	"  crash> mdwhatis ffff888003c3e080 init_task '*slab_caches'",
	"  $ memdiag --json VMLINUX VMCORE whatis 0xffffc90000010000",
	NULL,
};

#define HELP(name) .description = name##_description, .examples = name##_examples

const struct md_command md_commands[] = {
	{ "memdiag", "where the memory went: used memory by kind, top consumers, verdicts",
	  memdiag_options, HELP(memdiag), .run = md_cmd_memdiag },
	{ "slableak", "slab caches by memory, counted exactly; who holds a cache's objects",
	  slableak_options, "CACHE", 0, 1, slableak_operand_help, HELP(slableak), .run = md_cmd_slableak },
	{ "buddyfrag", "free blocks per zone, order and migratetype; fragmentation",
	  buddyfrag_options, HELP(buddyfrag), .run = md_cmd_buddyfrag },
	{ "oomstate", "the OOM killer: badness ranking, victims, oom_control, last report",
	  oomstate_options, HELP(oomstate), .run = md_cmd_oomstate },
	{ "vmalloc", "vmalloc areas by caller, as /proc/vmallocinfo summed",
	  vmalloc_options, HELP(vmalloc), .run = md_cmd_vmalloc },
	{ "snapshot", "slab caches and their allocation sources as JSON, for memdiag diff",
	  NULL, HELP(snapshot), .run = md_cmd_snapshot },
	{ "whatis", "what an address is: slab object, page, vmalloc area, stack, symbol",
	  NULL, "ADDRESS", 1, MD_WHATIS_MAX_ADDRESSES, NULL, HELP(whatis), .run = md_cmd_whatis },
	{ NULL },
};

/* A command that could not run still ends its JSON document, saying why. */
static void add_json_error(struct md_output *out, const struct md_error *err)
{
	char *msg;

	if (!err || !md_output_is_json(out))
		return;
	msg = md_error_string(err);
	md_json_object_add(md_output_doc(out), "error",
			   md_json_string(msg ? msg : "out of memory"));
	free(msg);
}

/* `COMMAND -h`: its page, as text even under --json (it is for a person). */
static struct md_error *write_page(const struct md_command *c, struct md_output *out)
{
	char *page = md_command_page(c);

	if (!page)
		return md_error_nomem();
	md_output_text(out, page);
	free(page);
	return NULL;
}

struct md_error *md_command_run(struct md_session *s, int argc, char **argv, struct md_output *out)
{
	const struct md_command *c = md_command_find(argv[0]);
	struct md_error *err;
	struct md_args a;
	bool was_json;

	if (!c)
		return md_error_create(MD_ERR_INVALID, "no command '%s'", argv[0]);
	if ((err = md_args_parse(c, argc, argv, &a)))
		return err;
	if (a.help) {
		md_args_release(&a);
		return write_page(c, out);
	}
	/* --json inside crash, whose output is text otherwise */
	was_json = md_output_set_json(out, md_output_is_json(out) || a.json);
	out->wide = a.wide;
	md_output_begin(out, c->name);
	if (md_output_is_json(out))
		md_json_envelope(md_output_doc(out), c->name, s->kernel.release, s->kernel.build_id);
	for (size_t i = 0; i < s->nr_problems; i++)
		md_warn(out, "%s", s->problems[i]);
	err = c->run(s, &a, out);
	add_json_error(out, err);
	md_output_end(out);
	md_output_set_json(out, was_json);
	out->wide = false;
	md_args_release(&a);
	return err;
}

struct md_error *md_diff_run(const char *old_path, const char *new_path, struct md_output *out)
{
	struct md_error *err;

	md_output_begin(out, "diff");
	if (md_output_is_json(out))	/* no dump: the kernels are the snapshots' */
		md_json_envelope(md_output_doc(out), "diff", NULL, NULL);
	err = md_snapshot_diff(old_path, new_path, out);
	add_json_error(out, err);
	md_output_end(out);
	return err;
}
