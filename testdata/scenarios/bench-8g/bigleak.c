// SPDX-License-Identifier: GPL-2.0
/*
 * bigleak: hold `nr` kmalloc(192) objects (kmalloc-192, the size of a
 * struct dentry), all allocated by the one noinline function
 * bigleak_alloc_one(), for scripts/bench's scaling dumps (issue 16).
 * Each object:
 *   word 0: &bigleak_ops (a const ops table in the module's .rodata)
 *   word 1: BIGLEAK_MAGIC, word 2: sequence id, words 3-4: list node,
 *   then an inline name like a dentry's d_iname ("f<seq>").
 * Every object stays on bigleak_list (reachable, as dentries are through
 * their hash): the leak is a growth, not orphans.
 * Shared by the bench-* scenarios.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/string.h>

#define BIGLEAK_MAGIC 0x4249474c45414b31ULL	/* "1KAELGIB" in memory, LE */
#define BIGLEAK_SIZE 192

struct bigleak_ops {
	const char *name;
	u64 (*id)(const void *obj);
};

struct bigleak_obj {
	const struct bigleak_ops *ops;
	u64 magic;
	u64 seq;
	struct list_head node;
	char name[32];
};

static u64 bigleak_id(const void *obj)
{
	return ((const struct bigleak_obj *)obj)->seq;
}

static const struct bigleak_ops bigleak_ops = { .name = "bigleak", .id = bigleak_id };

static int nr = 1000000;
module_param(nr, int, 0444);
MODULE_PARM_DESC(nr, "number of objects to hold");

static LIST_HEAD(bigleak_list);
static int bigleak_count;

/* noipa: every object's allocation site is exactly bigleak_alloc_one. */
static noinline __attribute__((__noipa__)) struct bigleak_obj *bigleak_alloc_one(u64 seq)
{
	struct bigleak_obj *o = kmalloc(BIGLEAK_SIZE, GFP_KERNEL | __GFP_NOWARN);

	if (!o)
		return NULL;
	BUILD_BUG_ON(sizeof(*o) > BIGLEAK_SIZE);
	memset(o, 0, BIGLEAK_SIZE);
	o->ops = &bigleak_ops;
	o->magic = BIGLEAK_MAGIC;
	o->seq = seq;
	snprintf(o->name, sizeof(o->name), "f%llu", seq);
	return o;
}

static int __init bigleak_init(void)
{
	struct bigleak_obj *o;
	int i;

	for (i = 0; i < nr; i++) {
		o = bigleak_alloc_one(i);
		if (!o)
			break;
		list_add_tail(&o->node, &bigleak_list);
		bigleak_count++;
		if (!(i & 0xffff))	/* millions of iterations in one insmod */
			cond_resched();
	}
	pr_info("bigleak: holding %d objects of %d bytes from bigleak_alloc_one, ops=%px\n",
		bigleak_count, BIGLEAK_SIZE, &bigleak_ops);
	return 0;
}
module_init(bigleak_init);

static void __exit bigleak_exit(void)
{
	struct bigleak_obj *o, *tmp;

	list_for_each_entry_safe(o, tmp, &bigleak_list, node)
		kfree(o);
}
module_exit(bigleak_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag bench scenario: hold millions of kmalloc-192 objects");
