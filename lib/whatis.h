/* whatis: what an address is, as crash's `kmem ADDR` and drgn's
 * identify_address() tell it, from every index memdiag keeps: a slab object
 * (cache, object, allocated or free, its tracks), a page (free block, owner,
 * flags), a vmalloc area and its caller, a task's stack or task_struct, a
 * kernel or module symbol, a per-CPU area. */
#ifndef MEMDIAG_WHATIS_H
#define MEMDIAG_WHATIS_H

#include "session.h"

struct md_args;
struct md_output;

/* The most addresses one command line may ask about. */
#define MD_WHATIS_MAX_ADDRESSES 4096

/* The `whatis` command. */
struct md_error *md_cmd_whatis(struct md_session *s, const struct md_args *a, struct md_output *out);

#endif
