/* Kernel types from a vmlinux's BTF: the type half of a target (lib/target.h)
 * for front ends whose own type source is missing or too slow. */
#ifndef MEMDIAG_BTF_TYPES_H
#define MEMDIAG_BTF_TYPES_H

#include <stddef.h>

#include "target.h"

struct md_btf_types;

/* From a vmlinux file: MD_ERR_LOOKUP if it has no .BTF section. */
struct md_error *md_btf_types_open(const char *path, struct md_btf_types **ret);
/* From .BTF section bytes already in memory (copied); path is for messages. */
struct md_error *md_btf_types_from_data(const void *data, size_t size, const char *path,
					struct md_btf_types **ret);
/* The same from a malloc'd buffer, which it takes (freed on error too). */
struct md_error *md_btf_types_from_buffer(void *data, size_t size, const char *path,
					  struct md_btf_types **ret);
void md_btf_types_destroy(struct md_btf_types *bt);

/* The target operations of the same names (lib/target.h), uncached
 * (lib/types.c caches): MD_ERR_LOOKUP when absent. */
struct md_error *md_btf_type_size(struct md_btf_types *bt, const char *type, uint64_t *ret);
struct md_error *md_btf_member(struct md_btf_types *bt, const char *type, const char *member,
			       struct md_member *ret);
struct md_error *md_btf_enumerator(struct md_btf_types *bt, const char *name, int64_t *ret);

#endif
