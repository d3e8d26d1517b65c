/* The kernel's memory counters (mm/vmstat.c) at the time of the dump.
 *
 * Every zone and node keeps its items in vm_stat[]; each CPU accumulates
 * small changes in per_cpu_zonestats->vm_stat_diff[] and
 * per_cpu_nodestats->vm_node_stat_diff[] (s8) and folds them into the zone
 * or node and into the global vm_zone_stat[]/vm_node_stat[] once they pass
 * a threshold or when vmstat_update runs.  /proc/meminfo and /proc/vmstat
 * read the global arrays only (global_zone_page_state(),
 * global_node_page_state_pages()), so those are the values the machine
 * itself reported; the unfolded deltas are kept beside them.
 *
 * Item numbers come from the enumerators (NR_FREE_PAGES, ...) of this
 * kernel, never from a table of ours.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmstat.h"

#define MAX_ITEMS 1024		/* more than any kernel's enum: a sign of nonsense */

struct vmstat_layout {
	uint64_t zone_size, node_zones, nr_node_zones;
	uint64_t zone_vm_stat, zone_pcp_stats, zone_wmark, zone_boost, zone_present;
	uint64_t zone_managed, zone_name;
	uint64_t node_vm_stat, node_pcp_stats;
	uint64_t pcp_zone_diff, pcp_zone_numa, pcp_node_diff;
	uint64_t event;
	int64_t wmark_low;
};

static struct md_error *resolve_layout(struct md_session *s, struct vmstat_layout *l)
{
	struct md_member node_zones;
	struct md_error *err;
	uint64_t old_pageset = MD_NO_OFFSET, old_diff = MD_NO_OFFSET;
	const struct md_field fields[] = {
		{ "struct zone", "vm_stat", &l->zone_vm_stat },
		{ "struct zone", "per_cpu_zonestats", &l->zone_pcp_stats, 1 },
		{ "struct zone", "_watermark", &l->zone_wmark },
		{ "struct zone", "watermark_boost", &l->zone_boost },
		{ "struct zone", "present_pages", &l->zone_present },
		{ "struct zone", "managed_pages", &l->zone_managed },
		{ "struct zone", "name", &l->zone_name },
		{ "struct pglist_data", "vm_stat", &l->node_vm_stat },
		{ "struct pglist_data", "per_cpu_nodestats", &l->node_pcp_stats },
		/* !CONFIG_SMP keeps no per-CPU deltas. */
		{ "struct per_cpu_zonestat", "vm_stat_diff", &l->pcp_zone_diff, 1 },
		{ "struct per_cpu_zonestat", "vm_numa_event", &l->pcp_zone_numa, 1 },
		/* Linux kernel commit 28f836b6777b ("mm/page_alloc: split per
		 * cpu page lists and zone stats") (in v5.14) moved the zone
		 * deltas out of zone->pageset (struct per_cpu_pageset). */
		{ "struct zone", "pageset", &old_pageset, 1 },
		{ "struct per_cpu_pageset", "vm_stat_diff", &old_diff, 1 },
		{ "struct per_cpu_nodestat", "vm_node_stat_diff", &l->pcp_node_diff, 1 },
		/* !CONFIG_VM_EVENT_COUNTERS: no events. */
		{ "struct vm_event_state", "event", &l->event, 1 },
	};

	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_type_size(s, "struct zone", &l->zone_size)) ||
	    (err = md_member(s, "struct pglist_data", "node_zones", &node_zones)) ||
	    (err = md_enumerator(s, "WMARK_LOW", &l->wmark_low)))
		return err;
	if (l->zone_pcp_stats == MD_NO_OFFSET && old_pageset != MD_NO_OFFSET && old_diff != MD_NO_OFFSET) {
		l->zone_pcp_stats = old_pageset;
		l->pcp_zone_diff = old_diff;
	}
	l->node_zones = node_zones.bit_offset / 8;
	l->nr_node_zones = l->zone_size ? node_zones.size / l->zone_size : 0;
	if (!l->nr_node_zones || l->nr_node_zones > 16 || l->wmark_low < 0 || l->wmark_low > 8)
		return md_error_create(MD_ERR_CORRUPT, "unexpected struct zone geometry: %" PRIu64
				       " zones per node", l->nr_node_zones);
	return NULL;
}

static struct md_error *item_count(struct md_session *s, const char *name, bool optional,
				   unsigned int *ret)
{
	int64_t n;
	struct md_error *err = md_enumerator(s, name, &n);

	if (err && optional && md_error_root_code(err) == MD_ERR_LOOKUP) {
		md_error_destroy(err);
		*ret = 0;
		return NULL;
	}
	if (err)
		return md_error_wrap(err, "this kernel's counters");
	if (n < 0 || n > MAX_ITEMS)
		return md_error_create(MD_ERR_CORRUPT, "%s is %" PRId64, name, n);
	*ret = n;
	return NULL;
}

static struct md_error *resolve_counts(struct md_session *s, struct md_vmstat *v)
{
	struct md_error *err;

	if ((err = item_count(s, "NR_VM_ZONE_STAT_ITEMS", false, &v->nr_zone_items)) ||
	    (err = item_count(s, "NR_VM_NODE_STAT_ITEMS", false, &v->nr_node_items)) ||
	    /* CONFIG_NUMA.  Linux kernel commit f19298b9516c ("mm/vmstat:
	     * convert NUMA statistics to basic NUMA counters") (in v5.14):
	     * before it they were NR_VM_NUMA_STAT_ITEMS of vm_numa_stat[]. */
	    (err = item_count(s, "NR_VM_NUMA_EVENT_ITEMS", true, &v->nr_numa_items)) ||
	    (!(v->numa_symbol = v->nr_numa_items ? "vm_numa_event" : "vm_numa_stat")) ||
	    (!v->nr_numa_items && (err = item_count(s, "NR_VM_NUMA_STAT_ITEMS", true, &v->nr_numa_items))) ||
	    /* CONFIG_VM_EVENT_COUNTERS */
	    (err = item_count(s, "NR_VM_EVENT_ITEMS", true, &v->nr_event_items)))
		return err;
	/* 6.11 "mm: add system wide stats items category" renamed the end of
	 * the writeback items NR_VM_STAT_ITEMS. */
	if ((err = item_count(s, "NR_VM_STAT_ITEMS", true, &v->nr_writeback_items)) ||
	    (!v->nr_writeback_items &&
	     (err = item_count(s, "NR_VM_WRITEBACK_STAT_ITEMS", true, &v->nr_writeback_items))))
		return err;
	return NULL;
}

/* An array of n atomic_long_t at a symbol, or NULL with the reason recorded. */
static int64_t *read_global(struct md_session *s, struct md_vmstat *v, const char *symbol,
			    unsigned int n)
{
	uint64_t addr;
	int64_t *a = calloc(n ? n : 1, sizeof(*a));
	struct md_error *err;

	if (!a) {
		md_messages_add(&v->errors, &v->nr_errors, "%s: out of memory", symbol);
		return NULL;
	}
	if ((err = md_symbol(s, symbol, &addr)) || (err = md_read(s, addr, a, n * sizeof(*a)))) {
		md_messages_add_error(&v->errors, &v->nr_errors, md_error_wrap(err, "%s[]", symbol));
		free(a);
		return NULL;
	}
	return a;
}

/* Add every possible CPU's s8 deltas at pcp + offset into sum[n]. */
static void add_pcpu_deltas(struct md_session *s, struct md_vmstat *v, uint64_t pcp, uint64_t offset,
			    unsigned int n, int64_t *sum, int64_t *total, const char *what)
{
	const struct md_kernel *k = &s->kernel;
	int8_t diff[MAX_ITEMS];

	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		struct md_error *err;

		if (!md_cpu_possible(k, cpu))
			continue;
		if ((err = md_read(s, pcp + k->per_cpu_offset[cpu] + offset, diff, n))) {
			md_messages_add_error(&v->errors, &v->nr_errors,
					      md_error_wrap(err, "%s: CPU %u's deltas (left out)", what, cpu));
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			sum[i] += diff[i];
			if (total)
				total[i] += diff[i];
		}
	}
}

static struct md_error *read_zone(struct md_session *s, struct md_vmstat *v,
				  const struct vmstat_layout *l, unsigned char *buf,
				  struct md_vmstat_zone *z)
{
	struct md_error *err;
	char what[64];

	if (!(z->stat = calloc(v->nr_zone_items, sizeof(int64_t))) ||
	    !(z->pcpu = calloc(v->nr_zone_items, sizeof(int64_t))))
		return md_error_nomem();
	if ((err = md_read(s, z->address, buf, l->zone_size))) {
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(err, "node %u zone %u", z->nid, z->index));
		return NULL;
	}
	z->read = true;
	z->populated = md_get_u64(buf, l->zone_present) != 0;
	z->managed = md_get_u64(buf, l->zone_managed);
	/* include/linux/mmzone.h low_wmark_pages(): the watermark plus its boost */
	z->wmark_low = md_get_u64(buf, l->zone_wmark + l->wmark_low * 8) + md_get_u64(buf, l->zone_boost);
	if ((err = md_read_zone_name(s, md_get_u64(buf, l->zone_name), z->index, z->name, sizeof(z->name))))
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(err, "node %u zone %u", z->nid, z->index));
	memcpy(z->stat, buf + l->zone_vm_stat, v->nr_zone_items * sizeof(int64_t));
	/* Unpopulated zones have no per-CPU stats of their own (mm/page_alloc.c
	 * setup_per_cpu_pageset() sets up populated zones only). */
	if (!z->populated || l->zone_pcp_stats == MD_NO_OFFSET || l->pcp_zone_diff == MD_NO_OFFSET)
		return NULL;
	snprintf(what, sizeof(what), "node %u zone %s", z->nid, z->name);
	add_pcpu_deltas(s, v, md_get_u64(buf, l->zone_pcp_stats), l->pcp_zone_diff, v->nr_zone_items,
			z->pcpu, v->zone_pcpu, what);
	/* mm/vmstat.c fold_vm_zone_numa_events(): /proc/vmstat folds these
	 * before printing, so they count as the global value's. */
	if (v->numa && l->pcp_zone_numa != MD_NO_OFFSET) {
		const struct md_kernel *k = &s->kernel;
		uint64_t pcp = md_get_u64(buf, l->zone_pcp_stats);

		for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
			uint64_t ev[MAX_ITEMS];
			struct md_error *err;

			if (!md_cpu_possible(k, cpu))
				continue;
			if ((err = md_read(s, pcp + k->per_cpu_offset[cpu] + l->pcp_zone_numa, ev,
					   v->nr_numa_items * sizeof(uint64_t)))) {
				md_messages_add_error(&v->errors, &v->nr_errors, md_error_wrap(err,
					"%s cpu %u: NUMA events left out", what, cpu));
				continue;
			}
			for (unsigned int i = 0; i < v->nr_numa_items; i++)
				v->numa[i] += ev[i];
		}
	}
	return NULL;
}

static struct md_error *read_nodes(struct md_session *s, struct md_vmstat *v,
				   const struct vmstat_layout *l)
{
	const struct md_kernel *k = &s->kernel;
	unsigned char *buf = malloc(l->zone_size);
	struct md_error *err = NULL;
	size_t nodes = 0;

	if (!buf)
		return md_error_nomem();
	for (unsigned int nid = 0; nid < k->nr_nodes; nid++)
		nodes += k->node_pgdat[nid] != 0;
	v->nodes = calloc(nodes ? nodes : 1, sizeof(*v->nodes));
	v->zones = calloc(nodes * l->nr_node_zones + 1, sizeof(*v->zones));
	if (!v->nodes || !v->zones) {
		free(buf);
		return md_error_nomem();
	}
	for (unsigned int nid = 0; nid < k->nr_nodes && !err; nid++) {
		uint64_t pgdat = k->node_pgdat[nid], pcp;
		struct md_vmstat_node *n;
		char what[32];

		if (!pgdat)
			continue;
		n = &v->nodes[v->nr_nodes++];
		n->nid = nid;
		n->pgdat = pgdat;
		if (!(n->stat = calloc(v->nr_node_items, sizeof(int64_t))) ||
		    !(n->pcpu = calloc(v->nr_node_items, sizeof(int64_t)))) {
			err = md_error_nomem();
			break;
		}
		if ((err = md_read(s, pgdat + l->node_vm_stat, n->stat, v->nr_node_items * sizeof(int64_t))) ||
		    (err = md_read_u64(s, pgdat + l->node_pcp_stats, &pcp))) {
			md_messages_add_error(&v->errors, &v->nr_errors, md_error_wrap(err, "node %u", nid));
			err = NULL;
		} else if (l->pcp_node_diff != MD_NO_OFFSET) {
			snprintf(what, sizeof(what), "node %u", nid);
			add_pcpu_deltas(s, v, pcp, l->pcp_node_diff, v->nr_node_items, n->pcpu,
					v->node_pcpu, what);
		}
		for (unsigned int i = 0; i < l->nr_node_zones && !err; i++) {
			struct md_vmstat_zone *z = &v->zones[v->nr_zones++];

			z->nid = nid;
			z->index = i;
			z->address = pgdat + l->node_zones + i * l->zone_size;
			err = read_zone(s, v, l, buf, z);
		}
	}
	free(buf);
	return err;
}

/* mm/vmstat.c sum_vm_events(): every CPU's vm_event_states. */
static void read_events(struct md_session *s, struct md_vmstat *v, const struct vmstat_layout *l)
{
	const struct md_kernel *k = &s->kernel;
	uint64_t addr, *ev;
	struct md_error *err;

	if (!v->nr_event_items || l->event == MD_NO_OFFSET)
		return;
	if ((err = md_symbol(s, "vm_event_states", &addr))) {
		md_messages_add_error(&v->errors, &v->nr_errors, md_error_wrap(err, "vm events"));
		return;
	}
	v->events = calloc(v->nr_event_items, sizeof(*v->events));
	ev = calloc(v->nr_event_items, sizeof(*ev));
	if (!v->events || !ev) {
		free(ev);
		return;
	}
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		if (!md_cpu_possible(k, cpu))
			continue;
		if ((err = md_read(s, addr + k->per_cpu_offset[cpu] + l->event, ev,
				   v->nr_event_items * sizeof(*ev)))) {
			md_messages_add_error(&v->errors, &v->nr_errors,
					      md_error_wrap(err, "vm events of CPU %u (left out)", cpu));
			continue;
		}
		for (unsigned int i = 0; i < v->nr_event_items; i++)
			v->events[i] += ev[i];
	}
	free(ev);
}

/* mm/vmstat.c vmstat_text[]: the names /proc/vmstat prints. */
static void read_names(struct md_session *s, struct md_vmstat *v)
{
	size_t n = v->nr_zone_items + v->nr_numa_items + v->nr_node_items + v->nr_writeback_items +
		   v->nr_event_items;
	uint64_t addr, *ptrs;
	size_t unnamed = 0;
	struct md_error *err;

	v->names = calloc(n, sizeof(*v->names));
	ptrs = calloc(n, sizeof(*ptrs));
	if (!v->names || !ptrs) {
		free(ptrs);
		return;
	}
	v->nr_names = n;
	if ((err = md_symbol(s, "vmstat_text", &addr)) || (err = md_read(s, addr, ptrs, n * 8))) {
		md_messages_add_error(&v->errors, &v->nr_errors,
				      md_error_wrap(err, "vmstat_text[]: counters are unnamed"));
		free(ptrs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char name[64];

		if (!(err = md_read_cstring(s, ptrs[i], name, sizeof(name)))) {
			v->names[i] = strdup(name);
		} else if (!unnamed++) {	/* that counter stays unnamed: "?" */
			md_messages_add_error(&v->errors, &v->nr_errors,
					      md_error_wrap(err, "vmstat_text[%zu]: a counter unnamed", i));
		} else {
			md_error_destroy(err);
		}
	}
	if (unnamed > 1)
		md_messages_add(&v->errors, &v->nr_errors, "%zu counters unnamed in all", unnamed);
	free(ptrs);
}

struct md_error *md_vmstat_read(struct md_session *s, struct md_vmstat **ret)
{
	struct vmstat_layout l;
	struct md_vmstat *v = calloc(1, sizeof(*v));
	struct md_error *err;

	if (!v)
		return md_error_nomem();
	if ((err = resolve_layout(s, &l)) || (err = resolve_counts(s, v)))
		goto fail;
	v->zone = read_global(s, v, "vm_zone_stat", v->nr_zone_items);
	v->node = read_global(s, v, "vm_node_stat", v->nr_node_items);
	if (v->nr_numa_items)
		v->numa = (uint64_t *)read_global(s, v, v->numa_symbol, v->nr_numa_items);
	v->zone_pcpu = calloc(v->nr_zone_items + 1, sizeof(int64_t));
	v->node_pcpu = calloc(v->nr_node_items + 1, sizeof(int64_t));
	if (!v->zone_pcpu || !v->node_pcpu) {
		err = md_error_nomem();
		goto fail;
	}
	if ((err = read_nodes(s, v, &l)))
		goto fail;
	read_events(s, v, &l);
	read_names(s, v);
	*ret = v;
	return NULL;
fail:
	md_vmstat_destroy(v);
	return md_error_wrap(err, "vmstat");
}

void md_vmstat_destroy(struct md_vmstat *v)
{
	if (!v)
		return;
	free(v->zone);
	free(v->zone_pcpu);
	free(v->node);
	free(v->node_pcpu);
	free(v->numa);
	free(v->events);
	for (size_t i = 0; i < v->nr_zones; i++) {
		free(v->zones[i].stat);
		free(v->zones[i].pcpu);
	}
	free(v->zones);
	for (size_t i = 0; i < v->nr_nodes; i++) {
		free(v->nodes[i].stat);
		free(v->nodes[i].pcpu);
	}
	free(v->nodes);
	for (size_t i = 0; i < v->nr_names; i++)
		free(v->names[i]);
	free(v->names);
	md_messages_free(v->errors, v->nr_errors);
	free(v);
}

struct md_error *md_vmstat_item(struct md_session *s, const struct md_vmstat *v,
				enum md_vmstat_kind kind, const char *name, unsigned int *ret)
{
	unsigned int n = kind == MD_VMSTAT_ZONE ? v->nr_zone_items : v->nr_node_items;
	int64_t i;
	struct md_error *err;

	if (kind != MD_VMSTAT_ZONE && kind != MD_VMSTAT_NODE)
		return md_error_create(MD_ERR_INVALID, "%s: events have no enumerator index here", name);
	if ((err = md_enumerator(s, name, &i)))
		return err;
	if (i < 0 || i >= n)
		return md_error_create(MD_ERR_CORRUPT, "%s is %" PRId64 ", beyond the %u %s items",
				       name, i, n, kind == MD_VMSTAT_ZONE ? "zone" : "node");
	*ret = i;
	return NULL;
}

enum md_vmstat_kind md_vmstat_kind_of(const struct md_vmstat *v, const char *name,
				      enum md_vmstat_kind fallback)
{
	for (size_t i = 0; i < v->nr_names; i++) {
		if (!v->names[i] || strcmp(v->names[i], name))
			continue;
		if (i < v->nr_zone_items)
			return MD_VMSTAT_ZONE;
		if (i >= v->nr_zone_items + v->nr_numa_items &&
		    i < v->nr_zone_items + v->nr_numa_items + v->nr_node_items)
			return MD_VMSTAT_NODE;
	}
	return fallback;
}

const char *md_vmstat_name(const struct md_vmstat *v, enum md_vmstat_kind kind, unsigned int item)
{
	/* vmstat_text[]'s order: zone items, NUMA events, node items,
	 * writeback items, events */
	size_t i = item;

	if (kind == MD_VMSTAT_NUMA || kind == MD_VMSTAT_NODE || kind == MD_VMSTAT_EVENT)
		i += v->nr_zone_items;
	if (kind == MD_VMSTAT_NODE || kind == MD_VMSTAT_EVENT)
		i += v->nr_numa_items;
	if (kind == MD_VMSTAT_EVENT)
		i += v->nr_node_items + v->nr_writeback_items;
	return i < v->nr_names ? v->names[i] : NULL;
}
