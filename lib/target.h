/* The target: the one narrow door through which the analysis core sees a dump.
 *
 * Each front end implements these operations over its own machinery (crash's
 * readmem() and gdb type look-ups; libkdumpfile, BTF and the ELF symbol table
 * in the standalone program).  The core never includes anything of either.
 * Every operation returns NULL on success or an error (lib/error.h); results
 * come back through out-parameters.
 */
#ifndef MEMDIAG_TARGET_H
#define MEMDIAG_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum md_addr_space {
	MD_KVADDR,	/* kernel virtual address */
	MD_PHYSADDR,	/* physical address */
};

/* Where a member sits in its containing type. */
struct md_member {
	uint64_t bit_offset;	/* from the start of the outermost type */
	uint64_t bit_size;	/* 0 unless the member is a bit-field */
	uint64_t size;		/* bytes of the member's type */
};

struct md_target;

struct md_target_ops {
	/* Read exactly len bytes.  Anything less (unmapped, filtered out of
	 * the dump, beyond its end) is an MD_ERR_FAULT error naming addr. */
	struct md_error *(*read)(void *priv, enum md_addr_space space, uint64_t addr,
				 void *buf, size_t len);
	/* Run-time address of a kernel symbol (KASLR applied). */
	struct md_error *(*symbol_address)(void *priv, const char *name, uint64_t *ret);
	/* sizeof a type: "struct kmem_cache", "union foo", "enum bar", or a
	 * typedef or base type name such as "atomic_long_t". */
	struct md_error *(*type_size)(void *priv, const char *type, uint64_t *ret);
	/* A member of a struct/union type given as in type_size().  member may
	 * be a dotted path ("oo.x"); members of anonymous structs and unions
	 * are found as if they were direct members.  MD_ERR_LOOKUP if absent:
	 * that is how the core detects kernel differences. */
	struct md_error *(*member)(void *priv, const char *type, const char *member,
				   struct md_member *ret);
	/* Value of an enumerator, e.g. "MIGRATE_MOVABLE". */
	struct md_error *(*enumerator)(void *priv, const char *name, int64_t *ret);
	/* A VMCOREINFO value, e.g. "PAGESIZE", "OSRELEASE", as text. */
	struct md_error *(*vmcoreinfo)(void *priv, const char *key, char *buf, size_t len);
	/* "symbol+0xoff" (with " [module]" for module addresses) for an
	 * address inside kernel or module text or data; MD_ERR_LOOKUP if none. */
	struct md_error *(*address_name)(void *priv, uint64_t addr, char *buf, size_t len);
	/* True once the user asked to stop (Ctrl-C); long walks poll it. */
	bool (*interrupted)(void *priv);
	/* Optional: another reader of the same dump, for a thread of its own
	 * (lib/readahead.c).  It shares what the two can share (the file, its
	 * page cache, the tables of types and symbols) and is used by one
	 * thread at a time, for reads only; release() ends it.  NULL: reads
	 * come from one thread only (inside crash, whose readmem() is not
	 * thread-safe). */
	struct md_error *(*clone)(void *priv, struct md_target *ret);
	void (*release)(void *priv);
};

struct md_target {
	const struct md_target_ops *ops;
	void *priv;
};

#endif
