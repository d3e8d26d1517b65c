/* The standalone program's target: a crash dump read through libkdumpfile,
 * types from the vmlinux's own BTF (or its DWARF: where it has no BTF, or
 * when asked), symbols from its ELF symbol table; or,
 * with no vmlinux, types from the BTF the kernel keeps in memory and
 * symbols from its kallsyms (cli/kallsyms.c), both read from the dump.
 *
 * Opening checks that vmlinux and dump are the same build, so a wrong
 * pairing fails at once with both releases named (MD_ERR_MISMATCH) instead
 * of producing nonsense later.  The target is single-threaded, as the
 * libkdumpfile context under it is.
 */
#ifndef MEMDIAG_KDUMP_TARGET_H
#define MEMDIAG_KDUMP_TARGET_H

#include <signal.h>

#include "target.h"
#include "types.h"

/* Open VMCORE (ELF, kdump-compressed or makedumpfile-filtered) with the
 * VMLINUX it was taken from, or with NULL for none: then the symbols come
 * from SYSTEM_MAP if not NULL, else from the dump's kallsyms.  TYPES says
 * where types come from (lib/types.h; DWARF only from a vmlinux).  Errors:
 * MD_ERR_OS (cannot open a file), MD_ERR_FORMAT (not a dump, truncated in its
 * headers or before the kernel's banner, not a vmlinux, no BTF asked for, damaged
 * DWARF), MD_ERR_LOOKUP (a vmlinux with neither BTF nor DWARF), MD_ERR_INVALID
 * (DWARF asked for without a vmlinux); without a
 * vmlinux also: no kallsyms found), MD_ERR_MISMATCH (different builds),
 * and without a vmlinux MD_ERR_FAULT or MD_ERR_CORRUPT when the dump's
 * kallsyms or BTF is not in the dump or damaged. */
struct md_error *md_kdump_target_open(const char *vmlinux, const char *system_map,
				      const char *vmcore, enum md_types_source types,
				      struct md_target **ret);

/* A file cut short in its page data is opened: the pages past its end
 * read as missing (MD_ERR_FAULT, "past the end of the truncated file").
 * Then this says so, for a warning; NULL for a whole file. */
const char *md_kdump_target_truncation(const struct md_target *t);

/* Frees everything; NULL is ignored. */
void md_kdump_target_close(struct md_target *t);

/* The flag a SIGINT handler sets; the target's interrupted() reports it.
 * Process-wide: one program, one Ctrl-C. */
void md_kdump_target_set_interrupt_flag(volatile sig_atomic_t *flag);

#endif
