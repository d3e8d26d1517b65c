// SPDX-License-Identifier: GPL-2.0
/*
 * mdfreeze: the lab's oracle of the dumped instant.
 *
 * The guest prints its /proc views just before the host stops it, but the
 * kernel runs on in between: a pcp list drains into the buddy lists, a
 * scenario's own work (frag's 50 ms sweep) frees pages, 6.7+'s
 * decay_pcp_high() gives pages back every second.  Exact oracles need the
 * counts of the very moment that is dumped.
 *
 * Writing to /sys/kernel/debug/mdfreeze stops every CPU (stop_machine():
 * the others spin with interrupts off, holding no lock), prints the free
 * block counts on the data port (ttyS1) by polling the UART, as
 * mm/vmstat.c frag_show_print() and pagetypeinfo_showfree_print() count
 * them, then ends with "@@MEMDIAG-FROZEN" and never returns.  Nothing in
 * the guest runs again: the host stops the VM and dumps exactly the state
 * that was printed.
 *
 * migratetype_names[] is not exported: types are printed by number, and the
 * lab names them in the order of the guest's own /proc/pagetypeinfo.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/stop_machine.h>

#define DATA_PORT 0x2f8		/* ttyS1, the lab's data port (COM2) */
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static void port_putc(char c)
{
	while (!(inb(DATA_PORT + UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	outb(c, DATA_PORT);
}

static void port_printf(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; buf[i]; i++)
		port_putc(buf[i]);
}

/* mm/vmstat.c walk_zones_in_node(..., assert_populated = true, ...) */
#define for_each_frozen_zone(nid, zone, i)				\
	for_each_online_node(nid)					\
		for (i = 0; i < MAX_NR_ZONES; i++)			\
			if ((zone = &NODE_DATA(nid)->node_zones[i]),	\
			    populated_zone(zone))

static int freeze(void *unused)
{
	struct zone *zone;
	int nid, i;
	unsigned int order, mtype;

	port_printf("@@BEGIN frozen/buddyinfo\n");
	for_each_frozen_zone(nid, zone, i) {
		port_printf("Node %d, zone %8s ", nid, zone->name);
		for (order = 0; order < ARRAY_SIZE(zone->free_area); order++)
			port_printf("%6lu ", zone->free_area[order].nr_free);
		port_printf("\n");
	}
	port_printf("@@END frozen/buddyinfo\n");

	port_printf("@@BEGIN frozen/pagetypeinfo\n");
	for_each_frozen_zone(nid, zone, i) {
		for (mtype = 0; mtype < MIGRATE_TYPES; mtype++) {
			port_printf("Node %4d, zone %8s, type %12u ", nid, zone->name, mtype);
			for (order = 0; order < ARRAY_SIZE(zone->free_area); order++) {
				unsigned long n = 0;
				struct list_head *p;

				/* no cap: pagetypeinfo's 100000 would only hide a difference */
				list_for_each(p, &zone->free_area[order].free_list[mtype])
					n++;
				port_printf("%6lu ", n);
			}
			port_printf("\n");
		}
	}
	port_printf("@@END frozen/pagetypeinfo\n");
	port_printf("@@MEMDIAG-FROZEN\n");
	for (;;)
		cpu_relax();
	return 0;
}

static ssize_t freeze_write(struct file *f, const char __user *buf, size_t len, loff_t *pos)
{
	/* Let what the capture's processes left behind settle first (deferred
	 * vfree of their stacks, RCU-freed task_structs), so that a scenario's
	 * own periodic work sees it before the instant is frozen: frag's 50 ms
	 * sweep once missed an order-4 block freed just before the freeze. */
	msleep(1000);
	stop_machine(freeze, NULL, NULL);
	return len;	/* not reached */
}

static const struct file_operations freeze_fops = {
	.owner = THIS_MODULE,
	.write = freeze_write,
};

static struct dentry *freeze_file;

static int __init mdfreeze_init(void)
{
	freeze_file = debugfs_create_file("mdfreeze", 0200, NULL, NULL, &freeze_fops);
	return IS_ERR_OR_NULL(freeze_file) ? -ENODEV : 0;
}

static void __exit mdfreeze_exit(void)
{
	debugfs_remove(freeze_file);
}

module_init(mdfreeze_init);
module_exit(mdfreeze_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag lab: print the free lists and stop every CPU, for the dump");
