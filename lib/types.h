/* The type half of a target (lib/target.h): kernel types from a vmlinux's
 * or a dump's BTF (lib/btf_types.c) or from a vmlinux's DWARF
 * (lib/dwarf_types.c), behind one door, every answer cached. */
#ifndef MEMDIAG_TYPES_H
#define MEMDIAG_TYPES_H

#include <stdbool.h>

#include "btf_types.h"
#include "target.h"

/* Where types come from: the user's choice (--types, MEMDIAG_TYPES). */
enum md_types_source {
	MD_TYPES_AUTO,	/* BTF, or DWARF where the vmlinux has no BTF */
	MD_TYPES_BTF,
	MD_TYPES_DWARF,
};

/* "btf", "dwarf" or "auto"; MD_ERR_INVALID naming what (e.g. "--types"). */
struct md_error *md_types_source_parse(const char *word, const char *what,
				       enum md_types_source *ret);

/* One thread at a time: the answers are cached, and libdw is not
 * thread-safe. */
struct md_types;

/* A vmlinux's types.  MD_ERR_LOOKUP if it has none of the source asked
 * for (for AUTO: neither .BTF nor .debug_info). */
struct md_error *md_types_open(const char *path, enum md_types_source source,
			       struct md_types **ret);
/* Types from BTF already indexed (a dump's own, or a mapped section):
 * takes bt, freed on error too. */
struct md_error *md_types_from_btf(struct md_btf_types *bt, struct md_types **ret);
void md_types_destroy(struct md_types *t);
/* "BTF" or "DWARF", for messages. */
const char *md_types_name(const struct md_types *t);

/* The target operations of the same names. */
struct md_error *md_types_size(struct md_types *t, const char *type, uint64_t *ret);
struct md_error *md_types_member(struct md_types *t, const char *type, const char *member,
				 struct md_member *ret);
struct md_error *md_types_enumerator(struct md_types *t, const char *name, int64_t *ret);

/* How the core spells a type, for the readers: "struct x", "union y" and
 * "enum z" give the tag and "x"; anything else is a typedef or base type,
 * with C's spellings of base types turned into the names DWARF (and so
 * BTF) gives them ("unsigned long" -> "long unsigned int"). */
enum md_type_tag { MD_TAG_NONE, MD_TAG_STRUCT, MD_TAG_UNION, MD_TAG_ENUM };
const char *md_type_spelling(const char *type, enum md_type_tag *tag);
/* "struct page *": every pointer has the same size. */
bool md_type_is_pointer(const char *type);

#endif
