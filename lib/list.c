/* Walking a kernel list_head list in a dump, from both ends. */
#include <inttypes.h>
#include <stdbool.h>

#include "array.h"
#include "list.h"

#define LIST_NEXT 0	/* struct list_head { next, prev } */
#define LIST_PREV 8

/* One step from node by next (or prev), checked against the back pointer
 * of where it leads, but for a step to stop: the node where the walk the
 * other way broke, whose own bad link is already known. */
static struct md_error *list_step(struct md_session *s, uint64_t node, bool backward, uint64_t stop,
				  uint64_t *ret)
{
	const char *dir = backward ? "prev" : "next";
	uint64_t back;
	struct md_error *err;

	if ((err = md_read_u64(s, node + (backward ? LIST_PREV : LIST_NEXT), ret))) {
		*ret = 0;	/* not known */
		return md_error_wrap(err, "%s of 0x%" PRIx64, dir, node);
	}
	if (stop && *ret == stop)
		return NULL;
	if ((err = md_read_u64(s, *ret + (backward ? LIST_NEXT : LIST_PREV), &back)))
		return md_error_wrap(err, "%s 0x%" PRIx64, dir, *ret);
	if (back != node)
		return md_error_create(MD_ERR_CORRUPT, "%s 0x%" PRIx64 " points back to 0x%" PRIx64
				       ", not here", dir, *ret, back);
	return NULL;
}

/* Append the nodes from head in one direction, up to head or stop.  A bad
 * link goes to *broken (and its node to *broken_at, where the link led to
 * *broken_to, 0 if unread); only out of memory and an interrupt are returned. */
static struct md_error *walk_one_way(struct md_session *s, uint64_t head, bool backward, uint64_t stop,
				     size_t max, struct md_list *l, size_t *cap,
				     struct md_error **broken, uint64_t *broken_at, uint64_t *broken_to)
{
	uint64_t node = head, next;
	struct md_error *err;

	for (;;) {
		if (md_interrupted(s))
			return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
		if ((err = list_step(s, node, backward, stop, &next))) {
			*broken = err;
			*broken_at = node;
			*broken_to = next;
			return NULL;
		}
		if (next == head || next == stop)
			return NULL;
		if (l->nr >= max) {
			*broken = md_error_create(MD_ERR_CORRUPT, "more than %zu nodes: a cycle", max);
			*broken_at = node;
			*broken_to = 0;
			return NULL;
		}
		if (!md_array_reserve(&l->nodes, cap, l->nr, sizeof(*l->nodes), 256))
			return md_error_nomem();
		l->nodes[l->nr++] = node = next;
	}
}

struct md_error *md_list_walk(struct md_session *s, uint64_t head, size_t max, struct md_list *ret)
{
	struct md_list l = { 0 };
	size_t cap = 0;
	uint64_t back_at, fwd_to, back_to;
	uint64_t links[2];
	struct md_error *err;

	if ((err = md_read(s, head, links, sizeof(links)))) {	/* no end to walk from */
		l.broken = err;
		l.broken_at = head;
		*ret = l;
		return NULL;
	}
	if ((err = walk_one_way(s, head, false, 0, max, &l, &cap, &l.broken, &l.broken_at, &fwd_to)))
		goto fail;
	l.nr_forward = l.nr;
	if (!l.broken || l.nr >= max) {
		*ret = l;
		return NULL;
	}
	/* From the other end, up to the last node the walk by next reached:
	 * gathered in reverse, so turned round after. */
	if ((err = walk_one_way(s, head, true, l.nr ? l.nodes[l.nr - 1] : head, max, &l, &cap,
				&l.broken_back, &back_at, &back_to)))
		goto fail;
	if (l.broken_back && fwd_to && fwd_to == back_to)
		l.gap = fwd_to;
	for (size_t i = l.nr_forward, k = l.nr; i + 1 < k; i++, k--) {
		uint64_t t = l.nodes[i];

		l.nodes[i] = l.nodes[k - 1];
		l.nodes[k - 1] = t;
	}
	*ret = l;
	return NULL;
fail:
	md_list_release(&l);
	return err;
}

void md_list_release(struct md_list *l)
{
	free(l->nodes);
	md_error_destroy(l->broken);
	md_error_destroy(l->broken_back);
	*l = (struct md_list){ 0 };
}
