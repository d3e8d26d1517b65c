/* Internal to the core: the session, typed reads, and layout resolution. */
#ifndef MEMDIAG_SESSION_H
#define MEMDIAG_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "memdiag.h"

#define MD_NO_OFFSET UINT64_MAX

/* x86-64 address ranges (Documentation/arch/x86/x86_64/mm.rst): those that
 * KASLR does not move.  The direct map, vmalloc and vmemmap bases are read
 * from the dump (struct md_kernel). */
#define MD_KERNEL_IMAGE_START 0xffffffff80000000ULL	/* __START_KERNEL_map */
#define MD_MODULES_VADDR 0xffffffffc0000000ULL		/* image start + KERNEL_IMAGE_SIZE (1 GiB) */
#define MD_MODULES_END 0xffffffffff000000ULL
#define MD_USER_END 0x0000800000000000ULL

struct md_slab_state;
struct md_stackdepot;
struct md_modules;
struct md_vmalloc;
struct md_orphans;
struct md_tasks;

/* A node's pfns (pgdat->node_start_pfn, ->node_spanned_pages), holes
 * included; not read: the session's problems say why. */
struct md_node_span {
	uint64_t start_pfn, spanned;
	bool read;
};

/* Facts about the dumped kernel that every subsystem needs, read once. */
struct md_kernel {
	char release[65];		/* utsname's release, "" if unknown */
	char build_id[41];		/* VMCOREINFO's BUILD-ID (hex), "" if none */
	uint64_t page_size;
	unsigned int page_shift;
	uint64_t page_offset;		/* start of the direct map */
	uint64_t vmemmap;		/* struct page of pfn 0 */
	uint64_t page_struct_size;	/* sizeof(struct page) */
	unsigned int nr_cpus;		/* bits in cpu_possible_mask we looked at */
	uint64_t *cpu_possible;		/* bitmap */
	uint64_t *per_cpu_offset;	/* __per_cpu_offset[cpu] */
	uint64_t max_pfn;		/* end of the direct map, in pages */
	uint64_t vmalloc_start;		/* VMALLOC_START */
	uint64_t vmalloc_size;		/* VMALLOC_END + 1 - VMALLOC_START */
	unsigned int phys_bits;		/* MAX_PHYSMEM_BITS: 46, or 52 with 5-level paging */
	unsigned int hz;		/* jiffies per second, 0 if unknown */
	uint64_t jiffies;		/* at the dump, if jiffies_known (else the
					 * session's problems say why) */
	bool jiffies_known;
	unsigned int nr_nodes;		/* entries of node_data[] */
	uint64_t *node_pgdat;		/* node_data[nid], 0 when offline */
	struct md_node_span *node_span;	/* [nid], of the nodes in node_pgdat[] */
};

struct md_session {
	struct md_target target;
	struct md_kernel kernel;
	struct md_slab_state *slab;	/* built on first use by slab.c */
	struct md_stackdepot *stackdepot;	/* resolved on first use by stackdepot.c */
	struct md_modules *modules;	/* module symbols, read on first use by modules.c */
	bool modules_unreadable;	/* and reading them failed: do not retry */
	struct md_vmalloc *vmalloc;	/* busy vmap areas, read on first use by vmalloc.c */
	struct md_orphans *orphans;	/* the reference scan, run on first use by orphans.c */
	struct md_tasks *tasks;		/* every task, read on first use by tasks.c */
	/* Facts the session could not read and guessed (HZ unknown, ...):
	 * each command starts by naming them (md_command_run()). */
	char **problems;
	size_t nr_problems;
};

/* A session for another thread, which only reads: the same kernel facts,
 * read through its own clone of the target, and none of the state built on
 * first use (lib/readahead.c's workers call md_read() on it, nothing else).
 * *ret is NULL, and no error, when the target reads from one thread only. */
struct md_error *md_session_reader(struct md_session *s, struct md_session **ret);
void md_session_reader_destroy(struct md_session *r);

/* Reads through the target. */
struct md_error *md_read(struct md_session *s, uint64_t addr, void *buf, size_t len);
struct md_error *md_read_phys(struct md_session *s, uint64_t addr, void *buf, size_t len);
struct md_error *md_read_u64(struct md_session *s, uint64_t addr, uint64_t *ret);
struct md_error *md_read_u32(struct md_session *s, uint64_t addr, uint32_t *ret);
/* A NUL-terminated string of at most len - 1 bytes, never read past a page. */
struct md_error *md_read_cstring(struct md_session *s, uint64_t addr, char *buf, size_t len);
/* A zone's name from zone->name, which points into mm/page_alloc.c
 * zone_names[]: unreadable, it becomes "zone<index>" and the error says so. */
struct md_error *md_read_zone_name(struct md_session *s, uint64_t name, unsigned int index,
				   char *buf, size_t len);
/* [addr, addr + len) page by page, so a page the dump lacks costs only the
 * bytes in it: those are zeroed and marked in missing[0..len).  *first gets
 * the first page's error (NULL if every byte was read).  Nothing else fails. */
void md_read_partial(struct md_session *s, uint64_t addr, void *buf, size_t len, bool *missing,
		     struct md_error **first);
/* Whether [off, off + size) of a buffer md_read_partial() filled was read. */
bool md_bytes_read(const bool *missing, uint64_t off, uint64_t size);

struct md_error *md_symbol(struct md_session *s, const char *name, uint64_t *ret);
/* "symbol+0xoff" (" [module]" for modules) of a kernel or module address:
 * the front end's answer, else the dump's own module symbol tables. */
struct md_error *md_address_name(struct md_session *s, uint64_t addr, char *buf, size_t len);
/* The same, never failing: a name, or addr in hex when nothing is there,
 * with " (symbols unreadable)" when it could not be told (a module whose
 * symbols the dump lacks). */
void md_address_text(struct md_session *s, uint64_t addr, char *buf, size_t len);
struct md_error *md_type_size(struct md_session *s, const char *type, uint64_t *ret);
struct md_error *md_enumerator(struct md_session *s, const char *name, int64_t *ret);
/* An enumerator's value, or absent where the kernel has no such enumerator
 * (or it cannot be looked up): for optional kernel features. */
int64_t md_enumerator_or(struct md_session *s, const char *name, int64_t absent);
/* Where a member is, bit-fields included. */
struct md_error *md_member(struct md_session *s, const char *type, const char *member,
			   struct md_member *ret);
/* Byte offset of a member that is not a bit-field. */
struct md_error *md_member_offset(struct md_session *s, const char *type, const char *member,
				  uint64_t *ret);

/* A member wanted by a subsystem's layout table.  Optional members that the
 * kernel lacks get MD_NO_OFFSET; a missing required member is an error that
 * names it, so "kernel too old or too new" reads as what is missing. */
struct md_field {
	const char *type;
	const char *member;
	uint64_t *offset;
	int optional;
};
struct md_error *md_resolve_fields(struct md_session *s, const struct md_field *fields, size_t n);

/* A bit-field's value out of a buffer holding the containing type. */
uint64_t md_get_bits(const void *buf, const struct md_member *m);

/* Little-endian fields out of a buffer read in one piece. */
static inline uint64_t md_get_u64(const void *buf, uint64_t off)
{
	uint64_t v;

	__builtin_memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

static inline uint32_t md_get_u32(const void *buf, uint64_t off)
{
	uint32_t v;

	__builtin_memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

static inline int md_cpu_possible(const struct md_kernel *k, unsigned int cpu)
{
	return (k->cpu_possible[cpu / 64] >> (cpu % 64)) & 1;
}

static inline int md_interrupted(struct md_session *s)
{
	return s->target.ops->interrupted && s->target.ops->interrupted(s->target.priv);
}

/* Kernel virtual address of the memory a struct page describes. */
static inline uint64_t md_page_to_virt(const struct md_kernel *k, uint64_t page)
{
	return k->page_offset + ((page - k->vmemmap) / k->page_struct_size << k->page_shift);
}

#endif
