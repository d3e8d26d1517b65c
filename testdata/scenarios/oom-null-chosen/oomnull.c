// SPDX-License-Identifier: GPL-2.0
/*
 * oomnull: reproduce the state of a known oops in oom_evaluate_task() (an
 * old kernel without upstream commit 9066e5cfb73c's prerequisite): a
 * struct oom_control whose chosen is NULL while chosen_points is LONG_MIN,
 * which thread_group_leader(oc->chosen) then dereferenced.
 *
 * oomnull_init() calls oomnull_build(), which builds a global-OOM
 * oom_control on its own stack (as __alloc_pages_may_oom() would, plus the
 * fields select_bad_process() sets: totalpages, chosen = NULL,
 * chosen_points = LONG_MIN), hands its address to oomnull_show() (so it
 * stays in memory), prints it ("oomnull: oc=ADDR", the truth), and panics
 * from its own frame, where oc is live.
 *
 * total_swap_pages is not exported to modules: scenario.sh passes its
 * address from /proc/kallsyms (swap_addr=0x...).
 */
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/topology.h>
#include <linux/limits.h>

static unsigned long swap_addr;
module_param(swap_addr, ulong, 0444);
MODULE_PARM_DESC(swap_addr, "address of total_swap_pages (from /proc/kallsyms)");

/* noipa: no inlining and no clone, so oc's address really escapes here. */
static noinline __attribute__((__noipa__)) void oomnull_show(struct oom_control *oc)
{
	pr_info("oomnull: oc=%px\n", oc);
	pr_info("oomnull: zonelist=%px nodemask=%px memcg=%px gfp_mask=%#x order=%d totalpages=%lu chosen=%px chosen_points=%ld constraint=%d\n",
		oc->zonelist, oc->nodemask, oc->memcg, (unsigned int)oc->gfp_mask, oc->order,
		oc->totalpages, oc->chosen, oc->chosen_points, (int)oc->constraint);
}

static noinline __attribute__((__noipa__)) int oomnull_build(long swap_pages)
{
	struct oom_control oc = {
		.zonelist = node_zonelist(numa_node_id(), GFP_KERNEL),
		.nodemask = NULL,
		.memcg = NULL,
		.gfp_mask = GFP_KERNEL,
		.order = 0,
		.totalpages = totalram_pages() + swap_pages,
		.chosen = NULL,
		.chosen_points = LONG_MIN,
		.constraint = CONSTRAINT_NONE,
	};

	oomnull_show(&oc);
	OPTIMIZER_HIDE_VAR(oc.chosen);
	if (!oc.chosen && oc.chosen_points == LONG_MIN)
		panic("oomnull: NULL oc->chosen with chosen_points LONG_MIN");
	/* Not reached; keeps oc's address escaping past the panic. */
	oomnull_show(&oc);
	return 0;
}

static int __init oomnull_init(void)
{
	int ret;

	if (!swap_addr) {
		pr_err("oomnull: swap_addr= (the address of total_swap_pages) is required\n");
		return -EINVAL;
	}
	ret = oomnull_build(READ_ONCE(*(long *)swap_addr));
	/* Not reached; the call after it keeps oomnull_build() from being a
	 * tail call, so oomnull_init keeps its frame on the stack. */
	pr_err("oomnull: oomnull_build returned %d without a panic\n", ret);
	return ret;
}
module_init(oomnull_init);

static void __exit oomnull_exit(void)
{
}
module_exit(oomnull_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag test scenario: a live oom_control with chosen NULL and chosen_points LONG_MIN");
