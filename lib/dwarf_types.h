/* Kernel types from a vmlinux's DWARF (.debug_info), read with elfutils
 * libdw: the type half of a target (lib/target.h) for a vmlinux without
 * BTF, and an independent check of every BTF answer (issue 17). */
#ifndef MEMDIAG_DWARF_TYPES_H
#define MEMDIAG_DWARF_TYPES_H

#include "target.h"

struct md_dwarf_types;

/* Indexes the file's DWARF: MD_ERR_LOOKUP if it has none (no .debug_info),
 * MD_ERR_FORMAT if it is damaged, MD_ERR_OS if it cannot be read. */
struct md_error *md_dwarf_types_open(const char *path, struct md_dwarf_types **ret);
void md_dwarf_types_destroy(struct md_dwarf_types *dt);

/* The target operations of the same names (lib/target.h), uncached
 * (lib/types.c caches): MD_ERR_LOOKUP when absent. */
struct md_error *md_dwarf_type_size(struct md_dwarf_types *dt, const char *type, uint64_t *ret);
struct md_error *md_dwarf_member(struct md_dwarf_types *dt, const char *type, const char *member,
				 struct md_member *ret);
struct md_error *md_dwarf_enumerator(struct md_dwarf_types *dt, const char *name, int64_t *ret);

#endif
