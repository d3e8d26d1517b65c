// SPDX-License-Identifier: GPL-2.0
/*
 * fragger: leave the buddy allocator with plenty of free memory but no free
 * block of order >= min_order (4) in any zone it can reach.
 *
 * The trick: for every aligned 2^min_order block that holds a page we own,
 * keep exactly one page of it allocated (pinned, unmovable) and free the
 * rest.  Such a block can never become wholly free, so nothing merges to
 * min_order or above; the freed rest shows up as order 0..min_order-1 blocks.
 *
 * 1. grab: take every free block, highest order first, down to order 0,
 *    never dipping below `margin_mb` of free memory nor into reserves, and
 *    without waking kswapd/compaction (no reclaim flags).
 * 2. release: sort what we hold by pfn, keep the last owned page of each
 *    aligned block, free the others.
 * 3. sweep: grab any block of order >= min_order still free (the margin, or
 *    pages someone freed since) and fragment it the same way.  A delayed work
 *    repeats the sweep every interval_ms while the module is loaded, so
 *    blocks freed later (e.g. insmod's own pages when it exits) are caught.
 */
#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/vmstat.h>
#include <linux/list.h>
#include <linux/list_sort.h>
#include <linux/workqueue.h>
#include <linux/version.h>

/* Highest allocatable order: MAX_ORDER was exclusive before 6.4, inclusive
 * from 6.4, and renamed MAX_PAGE_ORDER in 6.8. */
#if defined(MAX_PAGE_ORDER)
#define TOP_ORDER MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define TOP_ORDER MAX_ORDER
#else
#define TOP_ORDER (MAX_ORDER - 1)
#endif

/* No reclaim, no kswapd wake-up, no reserves: fail quietly instead. */
#define FRAG_GFP (__GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC)

static int min_order = 4;
module_param(min_order, int, 0444);
MODULE_PARM_DESC(min_order, "leave no free block of this order or above");
static int margin_mb = 8;
module_param(margin_mb, int, 0444);
MODULE_PARM_DESC(margin_mb, "stop grabbing when free memory falls to this (MiB)");
static int interval_ms = 50;
module_param(interval_ms, int, 0444);
MODULE_PARM_DESC(interval_ms, "period of the sweep that re-fragments freed blocks");

static LIST_HEAD(held);		/* pages we keep, linked by page->lru */
static unsigned long nr_held, nr_swept;
static DEFINE_MUTEX(frag_lock);
static void frag_sweep_work(struct work_struct *w);
static DECLARE_DELAYED_WORK(frag_work, frag_sweep_work);

static unsigned long free_pages_now(void)
{
	return global_zone_page_state(NR_FREE_PAGES);
}

/* Split a fresh 2^order block into single pages and put them on @list. */
static void take_block(struct page *page, int order, struct list_head *list)
{
	unsigned long i;

	split_page(page, order);
	for (i = 0; i < (1UL << order); i++)
		list_add_tail(&page[i].lru, list);
}

static int cmp_pfn(void *priv, const struct list_head *a, const struct list_head *b)
{
	unsigned long pa = page_to_pfn(list_entry(a, struct page, lru));
	unsigned long pb = page_to_pfn(list_entry(b, struct page, lru));

	return pa < pb ? -1 : pa > pb;
}

/* Keep the last page of each aligned 2^min_order group in the (pfn-sorted)
 * @list, free the others. */
static void release(struct list_head *list)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, list, lru) {
		unsigned long grp = page_to_pfn(page) >> min_order;
		bool last = list_is_last(&page->lru, list) ||
			    page_to_pfn(list_next_entry(page, lru)) >> min_order != grp;

		list_del(&page->lru);
		if (last) {
			list_add_tail(&page->lru, &held);
			nr_held++;
		} else {
			__free_page(page);
		}
	}
}

/* Fragment every free block of order >= min_order; returns blocks taken. */
static unsigned long sweep(void)
{
	unsigned long n = 0;
	struct page *page;
	LIST_HEAD(list);
	int order;

	for (order = TOP_ORDER; order >= min_order; order--) {
		while ((page = alloc_pages(FRAG_GFP, order))) {
			take_block(page, order, &list);	/* already pfn-sorted */
			release(&list);
			n++;
		}
	}
	return n;
}

static void frag_sweep_work(struct work_struct *w)
{
	unsigned long n;

	mutex_lock(&frag_lock);
	n = sweep();
	nr_swept += n;
	mutex_unlock(&frag_lock);
	if (n)
		pr_info("fragger: sweep fragmented %lu more block(s)\n", n);
	schedule_delayed_work(&frag_work, msecs_to_jiffies(interval_ms));
}

static int __init fragger_init(void)
{
	unsigned long margin = (unsigned long)margin_mb << (20 - PAGE_SHIFT);
	unsigned long grabbed = 0, before = free_pages_now();
	struct page *page;
	LIST_HEAD(list);
	int order;

	if (min_order < 1 || min_order > TOP_ORDER)
		return -EINVAL;
	mutex_lock(&frag_lock);
	for (order = TOP_ORDER; order >= 0; order--) {
		while (free_pages_now() > margin + (1UL << order) &&
		       (page = alloc_pages(FRAG_GFP, order))) {
			take_block(page, order, &list);
			grabbed += 1UL << order;
		}
	}
	list_sort(NULL, &list, cmp_pfn);
	release(&list);
	nr_swept = sweep();
	mutex_unlock(&frag_lock);
	pr_info("fragger: free %lu pages before, grabbed %lu, hold %lu, swept %lu blocks, free now %lu; no free block of order >= %d should remain\n",
		before, grabbed, nr_held, nr_swept, free_pages_now(), min_order);
	schedule_delayed_work(&frag_work, msecs_to_jiffies(interval_ms));
	return 0;
}
module_init(fragger_init);

static void __exit fragger_exit(void)
{
	struct page *page, *tmp;

	cancel_delayed_work_sync(&frag_work);
	list_for_each_entry_safe(page, tmp, &held, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}
module_exit(fragger_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag test scenario: fragment the buddy allocator");
