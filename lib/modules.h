/* Loaded modules' symbols, from the dump itself (struct module's
 * kallsyms), for naming module addresses where the front end cannot (the
 * standalone program has only the vmlinux; crash runs without modules on
 * kernels whose module layout it does not know). */
#ifndef MEMDIAG_MODULES_H
#define MEMDIAG_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct md_modules;

/* Read every module's symbols once per session (kept in s->modules). */
struct md_error *md_modules_get(struct md_session *s, struct md_modules **ret);
void md_modules_destroy(struct md_modules *m);

/* "sym+0xoff [module]" for an address inside a module symbol. */
struct md_error *md_modules_address_name(const struct md_modules *m, uint64_t addr,
					 char *buf, size_t len);

#endif
