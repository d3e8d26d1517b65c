/* Walking a kernel list (include/linux/list.h struct list_head) in a dump,
 * where a link may point at garbage or into a page the dump lacks. */
#ifndef MEMDIAG_LIST_H
#define MEMDIAG_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* The nodes of one circular list, the head excluded, in list order. */
struct md_list {
	uint64_t *nodes;	/* addresses of the nodes' struct list_head */
	size_t nr;
	size_t nr_forward;	/* nodes[0..nr_forward) were reached from the head
				 * by next, the rest by prev from the other end */
	struct md_error *broken;	/* why the walk by next stopped, or NULL: whole */
	uint64_t broken_at;	/* the node whose next is bad (the head if the first) */
	struct md_error *broken_back;	/* why the walk by prev stopped too (the
					 * nodes between the two breaks are lost), or NULL */
	uint64_t gap;	/* when both walks stopped on links to one same node (one
			 * node whose own links cannot be read, e.g. in a page the
			 * dump lacks), that node: nodes[nr_forward - 1] and
			 * nodes[nr_forward] are its neighbours; else 0 */
};

/* Walk the list at head by next, as list_for_each() does, each step checked
 * against the prev of the node it leads to (list_add() and list_del() keep
 * the two consistent).  Where a link breaks, walk from the head by prev up
 * to the node the first walk stopped at, so one bad link costs no node.
 * At most max nodes: a longer list is reported as a cycle in *broken.
 * Errors returned: out of memory, interrupted.  Bad links are not errors:
 * they are in ret, with every node that could be reached. */
struct md_error *md_list_walk(struct md_session *s, uint64_t head, size_t max, struct md_list *ret);
void md_list_release(struct md_list *l);

#endif
