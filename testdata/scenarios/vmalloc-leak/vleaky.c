// SPDX-License-Identifier: GPL-2.0
/*
 * vleaky: keep `nr` vmalloc areas of `size` bytes, all allocated by the one
 * noinline function vleaky_alloc_one(), so /proc/vmallocinfo names it as
 * the caller of every area ("vleaky_alloc_one+0x.../0x... [vleaky]").
 * Each area starts with VLEAKY_MAGIC and its sequence id.
 */
#include <linux/module.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/string.h>

#define VLEAKY_MAGIC 0x564c45414b593031ULL

static int nr = 2000;
module_param(nr, int, 0444);
MODULE_PARM_DESC(nr, "number of vmalloc areas");
static int size = 16384;
module_param(size, int, 0444);
MODULE_PARM_DESC(size, "bytes per area");

static void **areas;	/* module-global: the areas stay reachable */
static int nr_areas;

/* noipa: no inlining or cloning, so vmalloc's caller is exactly this. */
static noinline __attribute__((__noipa__)) void *vleaky_alloc_one(u64 seq)
{
	u64 *p = vmalloc(size);

	if (!p)
		return NULL;
	memset(p, 0x56, size);	/* every page dirty, recognisable */
	p[0] = VLEAKY_MAGIC;
	p[1] = seq;
	return p;
}

static int __init vleaky_init(void)
{
	if (nr <= 0 || size < 16)
		return -EINVAL;
	areas = kcalloc(nr, sizeof(*areas), GFP_KERNEL);
	if (!areas)
		return -ENOMEM;
	for (nr_areas = 0; nr_areas < nr; nr_areas++) {
		areas[nr_areas] = vleaky_alloc_one(nr_areas);
		if (!areas[nr_areas])
			break;
	}
	pr_info("vleaky: %d vmalloc areas of %d bytes by vleaky_alloc_one\n", nr_areas, size);
	return 0;
}
module_init(vleaky_init);

static void __exit vleaky_exit(void)
{
	while (nr_areas--)
		vfree(areas[nr_areas]);
	kfree(areas);
}
module_exit(vleaky_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag test scenario: hold many vmalloc areas");
