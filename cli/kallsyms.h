/* Symbols from the dump alone: the kernel's own kallsyms tables, decoded as
 * kernel/kallsyms.c reads them.  See doc/dump-only-symbols-and-types.md for
 * the layouts and what was measured on the lab's kernels.
 */
#ifndef MEMDIAG_KALLSYMS_H
#define MEMDIAG_KALLSYMS_H

#include "symtab.h"
#include "target.h"

/* Decodes the tables VMCOREINFO names (kernels since v6.0) through t's
 * read() and vmcoreinfo() operations, into a new table of run-time
 * addresses (KASLR applied).  path names the dump in messages.
 * MD_ERR_LOOKUP if VMCOREINFO names no tables; MD_ERR_FORMAT if they do
 * not decode (damaged, or a layout memdiag does not know); MD_ERR_FAULT
 * if a page of them is not in the dump. */
struct md_error *md_kallsyms_load(const struct md_target *t, const char *path,
				  struct md_symtab **ret);

#endif
