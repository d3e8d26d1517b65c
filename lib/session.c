/* The session: one dump seen through one target, and the kernel facts every
 * subsystem needs (page size, direct map, vmemmap, CPUs, nodes). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "sparse.h"
#include "slab.h"
#include "modules.h"
#include "stackdepot.h"
#include "vmalloc.h"
#include "orphans.h"
#include "tasks.h"

/* The lowest kernel address of x86-64 (5-level paging's half of the
 * address space, Documentation/arch/x86/x86_64/mm.rst): anything below is a
 * NULL, user or garbage pointer that a read through the page tables could
 * turn into a real but wrong page (QEMU's ELF dumps map physical 0). */
#define KERNEL_SPACE_START 0xff00000000000000ULL

struct md_error *md_read(struct md_session *s, uint64_t addr, void *buf, size_t len)
{
	if (addr < KERNEL_SPACE_START)
		return md_error_create(MD_ERR_FAULT, "0x%" PRIx64 " is not a kernel address "
				       "(a NULL or corrupt pointer)", addr);
	return s->target.ops->read(s->target.priv, MD_KVADDR, addr, buf, len);
}

struct md_error *md_read_zone_name(struct md_session *s, uint64_t name, unsigned int index,
				   char *buf, size_t len)
{
	struct md_error *err = md_read_cstring(s, name, buf, len);

	if (!err)
		return NULL;
	snprintf(buf, len, "zone%u", index);
	return md_error_wrap(err, "name unreadable, called %s here", buf);
}

void md_read_partial(struct md_session *s, uint64_t addr, void *buf, size_t len, bool *missing,
		     struct md_error **first)
{
	size_t done = 0;

	*first = NULL;
	while (done < len) {
		size_t chunk = s->kernel.page_size - ((addr + done) & (s->kernel.page_size - 1));
		struct md_error *err;

		if (chunk > len - done)
			chunk = len - done;
		err = md_read(s, addr + done, (char *)buf + done, chunk);
		memset(missing + done, err != NULL, chunk);
		if (err) {
			memset((char *)buf + done, 0, chunk);
			md_error_keep_first(first, err);
		}
		done += chunk;
	}
}

bool md_bytes_read(const bool *missing, uint64_t off, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++)
		if (missing[off + i])
			return false;
	return true;
}

struct md_error *md_read_phys(struct md_session *s, uint64_t addr, void *buf, size_t len)
{
	return s->target.ops->read(s->target.priv, MD_PHYSADDR, addr, buf, len);
}

struct md_error *md_read_u64(struct md_session *s, uint64_t addr, uint64_t *ret)
{
	return md_read(s, addr, ret, sizeof(*ret));
}

struct md_error *md_read_u32(struct md_session *s, uint64_t addr, uint32_t *ret)
{
	return md_read(s, addr, ret, sizeof(*ret));
}

struct md_error *md_read_cstring(struct md_session *s, uint64_t addr, char *buf, size_t len)
{
	size_t done = 0;

	while (done + 1 < len) {
		/* Stay inside one page: the next one may not be in the dump. */
		size_t chunk = s->kernel.page_size - ((addr + done) & (s->kernel.page_size - 1));
		struct md_error *err;
		char *nul;

		if (chunk > len - 1 - done)
			chunk = len - 1 - done;
		err = md_read(s, addr + done, buf + done, chunk);
		if (err)
			return err;
		nul = memchr(buf + done, '\0', chunk);
		if (nul)
			return NULL;
		done += chunk;
	}
	buf[done] = '\0';
	return NULL;
}

struct md_error *md_symbol(struct md_session *s, const char *name, uint64_t *ret)
{
	return s->target.ops->symbol_address(s->target.priv, name, ret);
}

struct md_error *md_address_name(struct md_session *s, uint64_t addr, char *buf, size_t len)
{
	struct md_error *err = s->target.ops->address_name(s->target.priv, addr, buf, len);
	struct md_modules *m;

	if (!err || md_error_root_code(err) != MD_ERR_LOOKUP)
		return err;
	md_error_destroy(err);
	if (s->modules_unreadable)	/* said in full the first time */
		return md_error_create(MD_ERR_FAULT, "no symbol at 0x%" PRIx64 ": module symbols "
				       "unreadable", addr);
	if ((err = md_modules_get(s, &m))) {
		s->modules_unreadable = true;
		return err;
	}
	return md_modules_address_name(m, addr, buf, len);
}

void md_address_text(struct md_session *s, uint64_t addr, char *buf, size_t len)
{
	struct md_error *err = md_address_name(s, addr, buf, len);

	if (err && md_error_catch(&err, MD_ERR_LOOKUP))
		snprintf(buf, len, "0x%" PRIx64, addr);
	else if (err)	/* NOMEM too: the address still stands */
		snprintf(buf, len, "0x%" PRIx64 " (symbols unreadable)", addr);
	md_error_destroy(err);
}

struct md_error *md_type_size(struct md_session *s, const char *type, uint64_t *ret)
{
	return s->target.ops->type_size(s->target.priv, type, ret);
}

struct md_error *md_enumerator(struct md_session *s, const char *name, int64_t *ret)
{
	return s->target.ops->enumerator(s->target.priv, name, ret);
}

int64_t md_enumerator_or(struct md_session *s, const char *name, int64_t absent)
{
	int64_t v;
	struct md_error *err = md_enumerator(s, name, &v);

	md_error_destroy(err);
	return err ? absent : v;
}

struct md_error *md_member(struct md_session *s, const char *type, const char *member,
			   struct md_member *ret)
{
	return s->target.ops->member(s->target.priv, type, member, ret);
}

uint64_t md_get_bits(const void *buf, const struct md_member *m)
{
	uint64_t bits = m->bit_size ? m->bit_size : m->size * 8;
	uint64_t v = md_get_u64(buf, m->bit_offset / 8) >> (m->bit_offset % 8);

	return bits >= 64 ? v : v & ((1ULL << bits) - 1);
}

struct md_error *md_member_offset(struct md_session *s, const char *type, const char *member,
				  uint64_t *ret)
{
	struct md_member m;
	struct md_error *err = md_member(s, type, member, &m);

	if (err)
		return err;
	if (m.bit_size || m.bit_offset % 8)
		return md_error_create(MD_ERR_LOOKUP, "%s.%s is a bit-field", type, member);
	*ret = m.bit_offset / 8;
	return NULL;
}

struct md_error *md_resolve_fields(struct md_session *s, const struct md_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct md_error *err = md_member_offset(s, fields[i].type, fields[i].member,
							fields[i].offset);

		if (!err)
			continue;
		if (md_error_root_code(err) != MD_ERR_LOOKUP)
			return md_error_wrap(err, "looking up %s.%s", fields[i].type, fields[i].member);
		if (fields[i].optional) {
			md_error_destroy(err);
			*fields[i].offset = MD_NO_OFFSET;
			continue;
		}
		return md_error_wrap(err, "this kernel lacks %s.%s, which memdiag needs",
				     fields[i].type, fields[i].member);
	}
	return NULL;
}

/* A pointer-sized variable, or a default where the kernel has no such
 * variable (e.g. page_offset_base without CONFIG_DYNAMIC_MEMORY_LAYOUT). */
static struct md_error *read_variable(struct md_session *s, const char *name, uint64_t fallback,
				      uint64_t *ret)
{
	uint64_t addr;
	struct md_error *err = md_symbol(s, name, &addr);

	if (err) {
		md_error_destroy(err);
		*ret = fallback;
		return NULL;
	}
	err = md_read_u64(s, addr, ret);
	return err ? md_error_wrap(err, "reading %s", name) : NULL;
}

/* arch/x86/include/asm/pgtable_64_types.h VMALLOC_SIZE_TB: 32 TiB with
 * 4-level page tables, 12800 TiB with 5-level ones (__pgtable_l5_enabled,
 * CONFIG_X86_5LEVEL; a kernel without the variable has 4 levels). */
static struct md_error *read_vmalloc_size(struct md_session *s)
{
	uint64_t addr;
	uint32_t l5 = 0;
	struct md_error *err = md_symbol(s, "__pgtable_l5_enabled", &addr);

	if (err && md_error_root_code(err) == MD_ERR_LOOKUP) {
		md_error_destroy(err);
		err = NULL;
	} else if (!err && (err = md_read_u32(s, addr, &l5))) {
		return md_error_wrap(err, "reading __pgtable_l5_enabled");
	}
	if (err)
		return err;
	s->kernel.vmalloc_size = (l5 ? 12800ULL : 32ULL) << 40;
	/* arch/x86/include/asm/sparsemem.h MAX_PHYSMEM_BITS */
	s->kernel.phys_bits = l5 ? 52 : 46;
	return NULL;
}

/* kernel/smp.c setup_nr_cpu_ids() (on x86, prefill_possible_map() or
 * topology_init_possible_cpus()) makes nr_cpu_ids one past the last
 * possible CPU.  The two are checked against each other, the mask read whole
 * (NR_CPUS bits: the size of struct cpumask), since a corrupt nr_cpu_ids
 * would have every per-CPU walk run over thousands of CPUs that never were. */
static struct md_error *read_cpus(struct md_session *s)
{
	struct md_kernel *k = &s->kernel;
	uint64_t nr_addr, mask_addr, offsets_addr, mask_size;
	uint32_t nr_cpu_ids, last = 0;
	struct md_error *err;
	size_t words;

	if ((err = md_symbol(s, "nr_cpu_ids", &nr_addr)) ||
	    (err = md_read_u32(s, nr_addr, &nr_cpu_ids)) ||
	    (err = md_symbol(s, "__cpu_possible_mask", &mask_addr)) ||
	    (err = md_symbol(s, "__per_cpu_offset", &offsets_addr)))
		return md_error_wrap(err, "reading the CPU set");
	if (nr_cpu_ids == 0 || nr_cpu_ids > 65536)
		return md_error_create(MD_ERR_CORRUPT, "nr_cpu_ids is %u", nr_cpu_ids);
	if ((err = md_type_size(s, "struct cpumask", &mask_size))) {
		if (!md_error_catch(&err, MD_ERR_LOOKUP))
			return md_error_wrap(err, "reading the CPU set");
		mask_size = (nr_cpu_ids + 63) / 64 * 8;
	}
	words = mask_size > 65536 / 8 ? 65536 / 64 : (mask_size + 7) / 8;
	if (words < (nr_cpu_ids + 63) / 64)	/* md_cpu_possible() reads up to nr_cpus */
		words = (nr_cpu_ids + 63) / 64;
	if (!(k->cpu_possible = calloc(words, sizeof(uint64_t))))
		return md_error_nomem();
	if ((err = md_read(s, mask_addr, k->cpu_possible, mask_size < words * 8 ? mask_size : words * 8)))
		return md_error_wrap(err, "reading the CPU set");
	for (size_t i = words; i-- > 0;)
		if (k->cpu_possible[i]) {
			last = i * 64 + 64 - __builtin_clzll(k->cpu_possible[i]);
			break;
		}
	if (!last)
		return md_error_create(MD_ERR_CORRUPT, "cpu_possible_mask is empty");
	if (last != nr_cpu_ids) {
		md_messages_add(&s->problems, &s->nr_problems, "nr_cpu_ids is %u but the last possible "
				"CPU is %u: corrupt; CPUs 0 to %u are used", nr_cpu_ids, last - 1,
				(last < nr_cpu_ids ? last : nr_cpu_ids) - 1);
		if (last < nr_cpu_ids)
			nr_cpu_ids = last;
	}
	k->nr_cpus = nr_cpu_ids;
	if (!(k->per_cpu_offset = calloc(nr_cpu_ids, sizeof(uint64_t))))
		return md_error_nomem();
	if ((err = md_read(s, offsets_addr, k->per_cpu_offset, nr_cpu_ids * sizeof(uint64_t))))
		return md_error_wrap(err, "reading the CPU set");
	return NULL;
}

static struct md_error *read_nodes(struct md_session *s)
{
	struct md_kernel *k = &s->kernel;
	uint64_t addr, nr_addr;
	uint32_t nr_node_ids = 1;
	struct md_error *err;

	if (!(err = md_symbol(s, "node_data", &addr))) {
		if ((err = md_symbol(s, "nr_node_ids", &nr_addr)) ||
		    (err = md_read_u32(s, nr_addr, &nr_node_ids)))
			return md_error_wrap(err, "reading the node set");
		if (nr_node_ids == 0 || nr_node_ids > 1024)
			return md_error_create(MD_ERR_CORRUPT, "nr_node_ids is %u", nr_node_ids);
		k->node_pgdat = calloc(nr_node_ids, sizeof(uint64_t));
		if (!k->node_pgdat)
			return md_error_create(MD_ERR_NOMEM, "out of memory");
		err = md_read(s, addr, k->node_pgdat, nr_node_ids * sizeof(uint64_t));
		if (err)
			return md_error_wrap(err, "reading node_data[]");
	} else if (md_error_catch(&err, MD_ERR_LOOKUP)) {
		/* !CONFIG_NUMA: one static pglist_data. */
		if ((err = md_symbol(s, "contig_page_data", &addr)))
			return md_error_wrap(err, "no node_data[] and no contig_page_data");
		k->node_pgdat = malloc(sizeof(uint64_t));
		if (!k->node_pgdat)
			return md_error_create(MD_ERR_NOMEM, "out of memory");
		k->node_pgdat[0] = addr;
	} else {
		return md_error_wrap(err, "node_data");
	}
	k->nr_nodes = nr_node_ids;
	return NULL;
}

/* Each node's span, once for the max_pfn check and the vmemmap pass; one
 * that cannot be read is a problem of the session, not its end. */
static struct md_error *read_node_spans(struct md_session *s)
{
	struct md_kernel *k = &s->kernel;
	uint64_t start_off, spanned_off;
	struct md_error *err;

	if (!(k->node_span = calloc(k->nr_nodes, sizeof(*k->node_span))))
		return md_error_nomem();
	if ((err = md_member_offset(s, "struct pglist_data", "node_start_pfn", &start_off)) ||
	    (err = md_member_offset(s, "struct pglist_data", "node_spanned_pages", &spanned_off))) {
		md_messages_add_error(&s->problems, &s->nr_problems, md_error_wrap(err, "node spans unknown"));
		return NULL;
	}
	for (unsigned int nid = 0; nid < k->nr_nodes; nid++) {
		struct md_node_span *span = &k->node_span[nid];

		if (!k->node_pgdat[nid])
			continue;
		if ((err = md_read_u64(s, k->node_pgdat[nid] + start_off, &span->start_pfn)) ||
		    (err = md_read_u64(s, k->node_pgdat[nid] + spanned_off, &span->spanned)))
			md_messages_add_error(&s->problems, &s->nr_problems,
					      md_error_wrap(err, "node %u: pfn range unreadable", nid));
		else
			span->read = true;
	}
	return NULL;
}

/* The end of the highest node's span (include/linux/mmzone.h
 * pgdat_end_pfn()), 0 if a span is unknown: what max_pfn is checked by. */
static uint64_t nodes_end_pfn(const struct md_kernel *k)
{
	uint64_t end = 0;

	for (unsigned int nid = 0; nid < k->nr_nodes; nid++) {
		const struct md_node_span *span = &k->node_span[nid];

		if (!k->node_pgdat[nid])
			continue;
		if (!span->read)
			return 0;
		if (span->start_pfn + span->spanned > end && span->start_pfn + span->spanned >= span->start_pfn)
			end = span->start_pfn + span->spanned;
	}
	return end;
}

/* max_pfn, the end of the direct map every walk is bounded by, checked
 * against the nodes' spans and the memory sections present: a corrupt one
 * would size bitmaps and scans of terabytes.  A span beyond the present
 * sections is corrupt too, and no reference. */
static struct md_error *read_max_pfn(struct md_session *s)
{
	struct md_kernel *k = &s->kernel;
	const uint64_t limit = 1ULL << (k->phys_bits - k->page_shift);
	uint64_t end, present = 0, bound;
	struct md_error *err = read_variable(s, "max_pfn", 0, &k->max_pfn);

	if (err)
		return err;
	if ((err = md_present_end_pfn(s, &present)) && !md_error_catch(&err, MD_ERR_LOOKUP))
		md_messages_add_error(&s->problems, &s->nr_problems,
				      md_error_wrap(err, "max_pfn not checked against the memory sections"));
	bound = present && present <= limit ? present : limit;
	end = nodes_end_pfn(k);
	if (end > bound)
		end = 0;
	if (k->max_pfn && k->max_pfn <= (end ? end : bound))
		return NULL;
	if (end) {
		md_messages_add(&s->problems, &s->nr_problems, "max_pfn 0x%" PRIx64 " cannot be right: "
				"the nodes end at pfn 0x%" PRIx64 ", which is used instead", k->max_pfn, end);
		k->max_pfn = end;
	} else if (bound == present) {
		md_messages_add(&s->problems, &s->nr_problems, "max_pfn 0x%" PRIx64 " cannot be right: "
				"the last present memory section ends at pfn 0x%" PRIx64 ", which is used "
				"instead", k->max_pfn, present);
		k->max_pfn = present;
	} else if (k->max_pfn > limit) {
		return md_error_create(MD_ERR_CORRUPT, "max_pfn 0x%" PRIx64 " is beyond any physical "
				       "address, and the nodes' spans are unreadable", k->max_pfn);
	}
	return NULL;
}

/* A tick in ns from NTP's tick length (a second over NTP_INTERVAL_FREQ,
 * which is HZ, shifted by NTP_SCALE_SHIFT 32: kernel/time/ntp.c
 * ntp_update_frequency()), in tk_ntp_data[0] since "ntp: Introduce struct
 * ntp_data": tick_length_base, or on 7.3, which has none, tick_length
 * (adjtimex's change of it is rounded off with HZ).  0 if none is found. */
static uint64_t ntp_tick_nsec(struct md_session *s)
{
	static const char *const members[] = { "tick_length_base", "tick_length" };
	uint64_t addr, off, length = 0;
	struct md_error *err = md_symbol(s, "tk_ntp_data", &addr);

	for (size_t i = 0; !err && i < sizeof(members) / sizeof(members[0]); i++) {
		if (!(err = md_member_offset(s, "struct ntp_data", members[i], &off))) {
			err = md_read_u64(s, addr + off, &length);
			break;
		}
		if (md_error_root_code(err) == MD_ERR_LOOKUP && i + 1 < sizeof(members) / sizeof(members[0])) {
			md_error_destroy(err);
			err = NULL;
		}
	}
	if (err && !md_error_catch(&err, MD_ERR_LOOKUP))
		md_messages_add_error(&s->problems, &s->nr_problems,
				      md_error_wrap(err, "HZ unknown, no ages: tk_ntp_data"));
	return length >> 32;
}

/* HZ is no variable; kernel/time/ntp.c set tick_nsec to about
 * NSEC_PER_SEC / HZ (exactly, unless adjtimex changed the tick) until Linux
 * kernel commit a849a0273d0f ("ntp: Remove unused tick_nsec") (in v6.13). */
static void read_hz(struct md_session *s)
{
	uint64_t addr, tick_nsec = 0;
	struct md_error *err = md_symbol(s, "tick_nsec", &addr);

	if (!err)
		err = md_read_u64(s, addr, &tick_nsec);
	else if (md_error_catch(&err, MD_ERR_LOOKUP))
		tick_nsec = ntp_tick_nsec(s);
	if (err)
		md_messages_add_error(&s->problems, &s->nr_problems,
				      md_error_wrap(err, "HZ unknown, no ages: tick_nsec"));
	else if (tick_nsec >= 100000 && tick_nsec <= 100000000)	/* HZ 10 .. 10000 */
		s->kernel.hz = (1000000000ULL + tick_nsec / 2) / tick_nsec;
	else
		md_messages_add(&s->problems, &s->nr_problems, "HZ unknown, no ages: a tick of %"
				PRIu64 " ns", tick_nsec);
}

/* jiffies at the dump, once: each age of an object is measured from it. */
static void read_jiffies(struct md_session *s)
{
	uint64_t addr;
	struct md_error *err = md_symbol(s, "jiffies_64", &addr);

	if (err && md_error_catch(&err, MD_ERR_LOOKUP))
		err = md_symbol(s, "jiffies", &addr);
	if (!err)
		err = md_read_u64(s, addr, &s->kernel.jiffies);
	if (err)
		md_messages_add_error(&s->problems, &s->nr_problems,
				      md_error_wrap(err, "jiffies unreadable, no ages"));
	s->kernel.jiffies_known = !err;
}

/* Which kernel this is, for every JSON document: VMCOREINFO's OSRELEASE
 * and BUILD-ID (kernel/vmcore_info.c), else the release from init_uts_ns
 * (a dump with no VMCOREINFO).  Unknown is left empty, not an error. */
static void read_identity(struct md_session *s)
{
	struct md_kernel *k = &s->kernel;
	uint64_t uts, name, release;
	struct md_error *err;

	err = s->target.ops->vmcoreinfo(s->target.priv, "OSRELEASE", k->release, sizeof(k->release));
	if (err) {
		md_error_destroy(err);
		k->release[0] = '\0';
		if (!(err = md_symbol(s, "init_uts_ns", &uts)) &&
		    !(err = md_member_offset(s, "struct uts_namespace", "name", &name)) &&
		    !(err = md_member_offset(s, "struct new_utsname", "release", &release)))
			err = md_read_cstring(s, uts + name + release, k->release, sizeof(k->release));
		if (err)
			k->release[0] = '\0';
		md_error_destroy(err);
	}
	err = s->target.ops->vmcoreinfo(s->target.priv, "BUILD-ID", k->build_id, sizeof(k->build_id));
	if (err || strspn(k->build_id, "0123456789abcdef") != strlen(k->build_id))
		k->build_id[0] = '\0';
	md_error_destroy(err);
}

static struct md_error *read_kernel_facts(struct md_session *s)
{
	struct md_kernel *k = &s->kernel;
	char text[32];
	struct md_error *err;

	k->page_size = 4096;	/* x86-64, when the dump carries no VMCOREINFO */
	err = s->target.ops->vmcoreinfo(s->target.priv, "PAGESIZE", text, sizeof(text));
	if (!err)
		k->page_size = strtoull(text, NULL, 10);
	md_error_destroy(err);
	if (k->page_size < 4096 || (k->page_size & (k->page_size - 1)))
		return md_error_create(MD_ERR_CORRUPT, "page size %llu", (unsigned long long)k->page_size);
	k->page_shift = __builtin_ctzll(k->page_size);
	/* x86-64 defaults without KASLR of the memory layout (arch/x86/include/asm/page_64_types.h). */
	if ((err = read_variable(s, "page_offset_base", 0xffff888000000000ULL, &k->page_offset)) ||
	    (err = read_variable(s, "vmemmap_base", 0xffffea0000000000ULL, &k->vmemmap)) ||
	    (err = md_type_size(s, "struct page", &k->page_struct_size)))
		return err;
	if ((err = read_cpus(s)) || (err = read_nodes(s)) || (err = read_node_spans(s)))
		return err;
	/* x86-64 VMALLOC_START without KASLR of the memory layout. */
	if ((err = read_variable(s, "vmalloc_base", 0xffffc90000000000ULL, &k->vmalloc_start)) ||
	    (err = read_vmalloc_size(s)) ||
	    (err = read_max_pfn(s)))
		return err;
	read_hz(s);
	read_jiffies(s);
	read_identity(s);
	return NULL;
}

struct md_error *md_session_create(const struct md_target *target, struct md_session **ret)
{
	struct md_session *s = calloc(1, sizeof(*s));
	struct md_error *err;

	if (!s)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	s->target = *target;
	err = read_kernel_facts(s);
	if (err) {
		md_session_destroy(s);
		return md_error_wrap(err, "reading the kernel's basic facts");
	}
	*ret = s;
	return NULL;
}

struct md_error *md_session_reader(struct md_session *s, struct md_session **ret)
{
	struct md_session *r;
	struct md_error *err;

	*ret = NULL;
	if (!s->target.ops->clone)
		return NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return md_error_nomem();
	r->kernel = s->kernel;	/* its arrays stay the session's */
	if ((err = s->target.ops->clone(s->target.priv, &r->target))) {
		free(r);
		return err;
	}
	*ret = r;
	return NULL;
}

void md_session_reader_destroy(struct md_session *r)
{
	if (!r)
		return;
	r->target.ops->release(r->target.priv);
	free(r);
}

void md_session_destroy(struct md_session *s)
{
	if (!s)
		return;
	md_slab_state_destroy(s->slab);
	md_stackdepot_destroy(s->stackdepot);
	md_modules_destroy(s->modules);
	md_vmalloc_destroy(s->vmalloc);
	md_orphans_destroy(s->orphans);
	md_tasks_destroy(s->tasks);
	free(s->kernel.cpu_possible);
	free(s->kernel.per_cpu_offset);
	free(s->kernel.node_pgdat);
	free(s->kernel.node_span);
	md_messages_free(s->problems, s->nr_problems);
	free(s);
}
