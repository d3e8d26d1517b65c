/* Which kernel symbols name an address ("sym+0xoff"): the rule both front
 * ends' targets follow, whatever their symbol source (the vmlinux's
 * .symtab, the dump's kallsyms, a System.map, crash's symbol table), so
 * that they name an address alike and as the kernel's own %pS does.
 */
#ifndef MEMDIAG_SYMBOL_NAMES_H
#define MEMDIAG_SYMBOL_NAMES_H

#include <stdbool.h>
#include <string.h>

/* Not the compiler's local labels (.LC0: a string literal) nor the export
 * tables' __kstrtab_* and __crc_*: scripts/mksysmap leaves them out of
 * System.map and, since v6.2, of kallsyms ("kallsyms: ignore __kstrtab_*
 * and __kstrtabns_* symbols"); 5.10's kallsyms still has .LC labels, left
 * out here too.  Nor the kallsyms tables themselves, which
 * scripts/kallsyms.c leaves out of kallsyms before v6.4 (its
 * ignored_symbols[]: they change between its passes). */
static inline bool md_symbol_names_addresses(const char *name)
{
	static const char *const prefixes[] = { ".L", "$", "__crc_", "__kstrtab_", "__kstrtabns_" };
	static const char *const tables[] = {
		"kallsyms_addresses", "kallsyms_offsets", "kallsyms_relative_base",
		"kallsyms_num_syms", "kallsyms_names", "kallsyms_markers",
		"kallsyms_token_table", "kallsyms_token_index", "kallsyms_seqs_of_names",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return false;
	if (!strncmp(name, "kallsyms_", 9))
		for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
			if (!strcmp(name, tables[i]))
				return false;
	return true;
}

#endif
