/* A kernel's symbol table, whichever source filled it: the vmlinux's
 * .symtab (cli/kdump_target.c), the dump's own kallsyms (cli/kallsyms.c) or
 * a System.map (cli/system_map.c).  Looked up by name, and by address for
 * "symbol+0xoff".
 */
#ifndef MEMDIAG_SYMTAB_H
#define MEMDIAG_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct md_sym {
	const char *name;
	uint64_t value;		/* as the source gives it (link-time or run-time) */
	/* Among same-named symbols (statics repeat) the lowest name_rank is
	 * the one a name means. */
	uint8_t name_rank;
	bool weak;
	bool in_image;		/* in the kernel image: per-CPU offsets and absolute
				 * values are not, and never name an address */
};

struct md_symtab;

/* name_rank and weak from an nm type letter (kallsyms, System.map):
 * upper case global, lower case local, w/v weak. */
void md_symtab_nm_ranks(char type, struct md_sym *sym);

struct md_error *md_symtab_create(struct md_symtab **ret);
void md_symtab_destroy(struct md_symtab *st);

/* Room for n more symbols, when the source knows how many (optional). */
struct md_error *md_symtab_reserve(struct md_symtab *st, size_t n);
/* Adds a symbol.  name must outlive the table, unless the table owns it:
 * see md_symtab_own(). */
struct md_error *md_symtab_add(struct md_symtab *st, const struct md_sym *sym);
/* Hands the table a malloc'd block (such as the names of its symbols) to
 * free with it; on error the block is freed. */
struct md_error *md_symtab_own(struct md_symtab *st, void *block);
/* Builds the indexes; call once, after the last md_symtab_add(). */
struct md_error *md_symtab_index(struct md_symtab *st);

/* The symbol a name means, or NULL. */
const struct md_sym *md_symtab_lookup(const struct md_symtab *st, const char *name);
/* The symbol that names value as the kernel's %pS does
 * (kernel/kallsyms.c get_symbol_pos()): the image symbol at the highest
 * address at or below it, whatever its size (kallsyms keeps none), the
 * first of its aliases in scripts/kallsyms.c's order; or NULL. */
const struct md_sym *md_symtab_floor(const struct md_symtab *st, uint64_t value);

#endif
