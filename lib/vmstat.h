/* The kernel's memory counters at the time of the dump (mm/vmstat.c), and
 * /proc/meminfo computed from them as fs/proc/meminfo.c does. */
#ifndef MEMDIAG_VMSTAT_H
#define MEMDIAG_VMSTAT_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/* One zone of one node (every zone of node_zones[], populated or not:
 * for_each_zone() visits them all). */
struct md_vmstat_zone {
	unsigned int nid, index;
	char name[32];
	uint64_t address;		/* struct zone */
	bool read;			/* the struct zone was read: the fields below hold */
	bool populated;			/* present_pages != 0 */
	uint64_t managed;		/* managed_pages */
	uint64_t wmark_low;		/* low_wmark_pages(): _watermark[WMARK_LOW] + boost */
	int64_t *stat;			/* zone->vm_stat[], folded */
	int64_t *pcpu;			/* sum over CPUs of vm_stat_diff[]: not yet folded */
};

struct md_vmstat_node {
	unsigned int nid;
	uint64_t pgdat;
	int64_t *stat;			/* pgdat->vm_stat[], folded */
	int64_t *pcpu;			/* sum over CPUs of vm_node_stat_diff[] */
};

/* Which array an item is in. */
enum md_vmstat_kind { MD_VMSTAT_ZONE, MD_VMSTAT_NODE, MD_VMSTAT_NUMA, MD_VMSTAT_EVENT };

struct md_vmstat {
	unsigned int nr_zone_items;	/* NR_VM_ZONE_STAT_ITEMS */
	unsigned int nr_node_items;	/* NR_VM_NODE_STAT_ITEMS */
	unsigned int nr_numa_items;	/* NR_VM_NUMA_EVENT_ITEMS, 0 without NUMA */
	const char *numa_symbol;	/* their global array: vm_numa_event, or vm_numa_stat before 5.14 */
	unsigned int nr_event_items;	/* NR_VM_EVENT_ITEMS, 0 without VM_EVENT_COUNTERS */
	unsigned int nr_writeback_items;	/* the items /proc/vmstat prints between nodes and events */

	/* The global values meminfo and /proc/vmstat read (vm_zone_stat[],
	 * vm_node_stat[]), and the per-CPU deltas not yet folded into them,
	 * summed over every zone or node and CPU.  NULL when unreadable. */
	int64_t *zone, *zone_pcpu;
	int64_t *node, *node_pcpu;
	uint64_t *numa;			/* vm_numa_event[] plus per-CPU, as /proc/vmstat folds them */
	uint64_t *events;		/* vm_event_states summed over CPUs (all_vm_events()) */

	struct md_vmstat_zone *zones;
	size_t nr_zones;
	struct md_vmstat_node *nodes;
	size_t nr_nodes;

	/* vmstat_text[]: /proc/vmstat's names, zone items first, then NUMA
	 * events, node items, the writeback items and events; NULL entries
	 * where unreadable. */
	char **names;
	size_t nr_names;

	char **errors;			/* problems met; what could be read is kept */
	size_t nr_errors;
};

struct md_error *md_vmstat_read(struct md_session *s, struct md_vmstat **ret);
void md_vmstat_destroy(struct md_vmstat *v);

/* A zone or node item's index from its enumerator ("NR_FREE_PAGES"): MD_ERR_LOOKUP
 * when this kernel has no such item, MD_ERR_CORRUPT when it is out of the
 * array. */
struct md_error *md_vmstat_item(struct md_session *s, const struct md_vmstat *v,
				enum md_vmstat_kind kind, const char *name, unsigned int *ret);

/* Whether this kernel keeps the item /proc/vmstat calls NAME per zone or
 * per node (items move between the two); fallback if it has no such name. */
enum md_vmstat_kind md_vmstat_kind_of(const struct md_vmstat *v, const char *name,
				      enum md_vmstat_kind fallback);

/* /proc/vmstat's name of an item, or NULL. */
const char *md_vmstat_name(const struct md_vmstat *v, enum md_vmstat_kind kind, unsigned int item);

/* One line of /proc/meminfo. */
struct md_meminfo_line {
	char name[24];			/* "MemTotal", "HugePages_Total", ... */
	uint64_t value;			/* kB, or a count when !kb */
	bool kb;
	bool has_delta;			/* a linear function of counters with per-CPU deltas */
	int64_t delta;			/* the unfolded per-CPU deltas, in the line's unit */
	bool bad;			/* from a counter that cannot be right (see errors) */
};

struct md_meminfo {
	struct md_meminfo_line *lines;	/* in /proc/meminfo's order */
	size_t nr_lines, lines_cap;
	/* Socket memory charged to the protocols (net/core/sock.c
	 * proto_memory_allocated()), pages; -1 when the kernel lacks it. */
	int64_t tcp_pages, udp_pages;
	int64_t tcp_pcpu_pages, udp_pcpu_pages;	/* per-CPU forward allocations, -1 if none */
	bool vmap_stack;		/* task stacks are vmalloc'ed (CONFIG_VMAP_STACK) */
	uint64_t percpu_first_chunk_kb;	/* Percpu's boot-time part, outside MemTotal */
	char **errors;			/* lines left out or marked bad, and why */
	size_t nr_errors;
};

/* fs/proc/meminfo.c meminfo_proc_show() from the counters in v. */
struct md_error *md_meminfo_read(struct md_session *s, const struct md_vmstat *v,
				 struct md_meminfo **ret);
void md_meminfo_destroy(struct md_meminfo *m);

/* A line by name, or NULL if this kernel (or the dump) has none. */
const struct md_meminfo_line *md_meminfo_find(const struct md_meminfo *m, const char *name);

#endif
