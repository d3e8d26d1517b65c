// SPDX-License-Identifier: GPL-2.0
/*
 * leaky: leak `nr` kmalloc(100) objects (kmalloc-128), all allocated by the
 * one noinline function leaky_alloc_one(), with a recognisable content:
 *   word 0: &leaky_ops (a const ops table in the module's .rodata)
 *   word 1: LEAKY_MAGIC, word 2: sequence id.
 * keep=1: objects stay linked on the module-global leaky_list (reachable).
 * keep=0: nothing keeps a pointer to them (true orphans, a real leak).
 * Shared by testdata/scenarios/leak-tracked and leak-untracked.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/string.h>

#define LEAKY_MAGIC 0x4c45414b59303031ULL /* "100YKAEL" in memory, LE */
#define LEAKY_SIZE 100                      /* served by kmalloc-128 */

struct leaky_ops {
	const char *name;
	u64 (*id)(const void *obj);
};

struct leaky_obj {
	const struct leaky_ops *ops;
	u64 magic;
	u64 seq;
	struct list_head node;	/* linked only when keep=1 */
};

static u64 leaky_id(const void *obj)
{
	return ((const struct leaky_obj *)obj)->seq;
}

static const struct leaky_ops leaky_ops = { .name = "leaky", .id = leaky_id };

static int nr = 20000;
module_param(nr, int, 0444);
MODULE_PARM_DESC(nr, "number of objects to leak");
static bool keep = true;
module_param(keep, bool, 0444);
MODULE_PARM_DESC(keep, "1: keep objects on a module list; 0: drop every reference");

static LIST_HEAD(leaky_list);
static int leaky_count;

/* noipa: no inlining and no .constprop/.isra clone, so every object's
 * allocation site is exactly "leaky_alloc_one+0x.../0x... [leaky]". */
static noinline __attribute__((__noipa__)) struct leaky_obj *leaky_alloc_one(u64 seq)
{
	struct leaky_obj *o = kmalloc(LEAKY_SIZE, GFP_KERNEL);

	if (!o)
		return NULL;
	BUILD_BUG_ON(sizeof(*o) > LEAKY_SIZE);
	memset(o, 0, LEAKY_SIZE);	/* no stale bytes in the tail */
	o->ops = &leaky_ops;
	o->magic = LEAKY_MAGIC;
	o->seq = seq;
	return o;
}

/* Overwrite the stack area the allocation loop used, so that no pointer to
 * an orphan survives in a dead frame (insmod's stack is freed unscrubbed). */
static noinline __attribute__((__noipa__)) void leaky_scrub_stack(void)
{
	char buf[1536];

	memzero_explicit(buf, sizeof(buf));
}

static noinline __attribute__((__noipa__)) int leaky_fill(void)
{
	struct leaky_obj *o;
	int i, n = 0;

	for (i = 0; i < nr; i++) {
		o = leaky_alloc_one(i);
		if (!o)
			break;
		if (keep)
			list_add_tail(&o->node, &leaky_list);
		n++;
	}
	return n;
}

static int __init leaky_init(void)
{
	leaky_count = leaky_fill();
	leaky_scrub_stack();
	pr_info("leaky: allocated %d objects of %d bytes by leaky_alloc_one, keep=%d, ops=%px\n",
		leaky_count, LEAKY_SIZE, keep, &leaky_ops);
	return 0;
}
module_init(leaky_init);

/* Only kept objects can be given back; orphans stay leaked forever. */
static void __exit leaky_exit(void)
{
	struct leaky_obj *o, *tmp;

	list_for_each_entry_safe(o, tmp, &leaky_list, node)
		kfree(o);
}
module_exit(leaky_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag test scenario: leak kmalloc-128 objects");
