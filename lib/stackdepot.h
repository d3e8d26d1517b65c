/* The stack depot (lib/stackdepot.c): stack traces stored once and named by
 * a 32-bit handle, which SLUB's struct track keeps for each object. */
#ifndef MEMDIAG_STACKDEPOT_H
#define MEMDIAG_STACKDEPOT_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct md_stackdepot;

/* The depot's layout in this kernel, resolved once per session (kept in
 * s->stackdepot).  MD_ERR_LOOKUP when the kernel has no stack depot. */
struct md_error *md_stackdepot_get(struct md_session *s, struct md_stackdepot **ret);
void md_stackdepot_destroy(struct md_stackdepot *d);

/* The return addresses of handle's stack, innermost first: at most max into
 * frames, their number in *nr.  A zero handle is an empty stack. */
struct md_error *md_stackdepot_fetch(struct md_session *s, struct md_stackdepot *d,
				     uint32_t handle, uint64_t *frames, size_t max, size_t *nr);

#endif
