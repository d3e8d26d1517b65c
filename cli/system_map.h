/* Symbols from a System.map: `nm -n vmlinux` as scripts/mksysmap writes
 * it, "ADDRESS TYPE NAME" per line, link-time addresses.  For dumps whose
 * own kallsyms cannot be read. */
#ifndef MEMDIAG_SYSTEM_MAP_H
#define MEMDIAG_SYSTEM_MAP_H

#include "symtab.h"

/* MD_ERR_OS if the file cannot be read, MD_ERR_FORMAT if it is not a
 * System.map (Debian's stub, which points at the -dbg package, is named
 * as such). */
struct md_error *md_system_map_load(const char *path, struct md_symtab **ret);

#endif
