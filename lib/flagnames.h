/* The kernel's own names for flag bits: the struct trace_print_flags
 * tables mm/debug.c keeps for printk's %pGg and %pGp (gfpflag_names[],
 * pageflag_names[]), read from the dump so that every kernel's flags are
 * named as that kernel names them. */
#ifndef MEMDIAG_FLAGNAMES_H
#define MEMDIAG_FLAGNAMES_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define MD_MAX_FLAG_NAMES 80

struct md_flag_names {
	struct {
		uint64_t mask;
		char name[48];
	} v[MD_MAX_FLAG_NAMES];
	size_t n;
	uint64_t known;		/* the bits those names cover */
};

/* The table at symbol, up to its {0, NULL} end.  On error ret keeps the
 * entries read before it. */
struct md_error *md_flag_names_read(struct md_session *s, const char *symbol, struct md_flag_names *ret);
/* "GFP_HIGHUSER_MOVABLE|__GFP_COMP", as lib/vsprintf.c format_flags():
 * the first entry whose whole mask is set, in table order (composite
 * names first), then what is left in hex; "none" for 0. */
void md_flag_names_format(const struct md_flag_names *f, uint64_t value, char *buf, size_t len);

#endif
