/* Unreferenced slab objects, found the way mm/kmemleak.c kmemleak_scan()
 * finds them, but from the dump and without kmemleak's own bookkeeping.
 *
 * Roots (scanned first, as kmemleak_scan() does):
 *   - the kernel's .data, .bss and .data..ro_after_init;
 *   - every CPU's per-CPU unit of the first chunk (pcpu_base_addr +
 *     pcpu_unit_offsets[cpu], pcpu_unit_size bytes);
 *   - the struct page array (vmemmap): page->private holds buffer heads,
 *     page->mapping and memcg_data point at slab objects;
 *   - module memory: every vmap area in the module range.
 * Nodes, scanned when something already reached points into them:
 *   - allocated slab objects (object_size bytes; interior pointers count,
 *     so list_heads and tagged pointers such as xarray and maple tree
 *     nodes keep their objects);
 *   - vmap areas (vmalloc, per-CPU chunks, VMAP_STACK task stacks: a task
 *     is reached through init_task's list, its stack through task->stack);
 *   - other pages of the direct map (kmalloc_large, page-allocator
 *     buffers, memblock tables): a compound allocation as a whole (its
 *     head's order), anything else one page at a time.
 * An allocated object that nothing reached points into is an orphan.  The
 * scan is conservative: any word that looks like a pointer counts, so a
 * leak can hide behind a stale value, but an orphan had no reference from
 * anywhere scanned.  Pages the dump does not hold (makedumpfile filtering)
 * are skipped and counted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "orphans.h"
#include "output.h"
#include "sparse.h"
#include "vmalloc.h"

#define CHUNK (1 << 20)		/* bytes read at once from a root */
/* Objects on the gray stack at most (24 bytes each).  On 7.5 million
 * objects on one list the stack grew to 8 million entries (200 MB): each
 * pushed its neighbour, though the neighbour's slab was being scanned from
 * one copy anyway; and a hash table of millions of buckets (the dentry
 * cache's) reaches millions of objects at once.  So an object reached in
 * the slab being scanned is not pushed, and past STACK_MAX one is only
 * marked reached, for sweep() to find. */
#define STACK_MAX (1 << 20)
#define VM_IOREMAP 0x1		/* include/linux/vmalloc.h: device memory, never in a dump */

/* A node reached and not yet scanned. */
enum node_kind { NODE_OBJECT, NODE_AREA, NODE_PAGE };
struct gray {
	uint64_t addr, len;
	enum node_kind kind;
};

struct scan {
	struct md_session *s;
	struct md_compound_layout page;
	bool page_known;		/* else every page is scanned alone */
	struct md_output *out;
	struct md_orphans *o;
	struct md_vmalloc *vmalloc;	/* NULL if the areas could not be read */
	uint8_t *area_reached;		/* per vmalloc area */
	uint64_t *page_reached;		/* a bit per pfn of the direct map */
	struct gray *stack;
	size_t depth, cap;
	/* The stack holds at most STACK_MAX objects; one reached beyond is
	 * only marked (reached and not scanned), and a sweep of the slots
	 * finds it later (overflow). */
	size_t objects_on_stack, stack_max;
	bool overflow;
	/* The slab scan_object() is scanning from its copy: an object reached
	 * in it is scanned by its loop, not pushed. */
	uint64_t slab_start, slab_end;
	double started;			/* of the object scan, for its rate */
	unsigned char *buf;		/* CHUNK bytes */
	uint64_t *scanned;		/* a bit per object slot: its words followed */
	uint64_t direct_end;		/* end of the direct map (max_pfn) */
};

static bool test_and_set(uint64_t *bits, uint64_t i)
{
	uint64_t mask = 1ULL << (i % 64);
	bool was = bits[i / 64] & mask;

	bits[i / 64] |= mask;
	return was;
}

static bool test_bit(const uint64_t *bits, uint64_t i)
{
	return bits[i / 64] & (1ULL << (i % 64));
}

static struct md_error *push(struct scan *sc, enum node_kind kind, uint64_t addr, uint64_t len)
{
	if (kind == NODE_OBJECT && sc->objects_on_stack >= sc->stack_max) {
		sc->overflow = true;
		return NULL;
	}
	sc->objects_on_stack += kind == NODE_OBJECT;
	if (!md_array_reserve(&sc->stack, &sc->cap, sc->depth, sizeof(*sc->stack), 4096))
		return md_error_nomem();
	sc->stack[sc->depth++] = (struct gray){ addr, len, kind };
	return NULL;
}

/* A read whose failure only means "no answer". */
static bool read_ok(struct md_session *s, uint64_t addr, void *buf, size_t len)
{
	struct md_error *err = md_read(s, addr, buf, len);

	md_error_destroy(err);
	return !err;
}

/* The pages of the allocation holding pfn: its compound page, else pfn.
 * False when its struct page could not be read or made no sense: pfn is
 * then scanned alone, and another page of its allocation may hold the
 * only reference to an object. */
static bool page_extent(struct scan *sc, uint64_t pfn, uint64_t *first, uint64_t *count)
{
	const struct md_kernel *k = &sc->s->kernel;
	uint64_t page = k->vmemmap + pfn * k->page_struct_size, flags, head;
	bool tail;
	uint8_t order;

	*first = pfn;
	*count = 1;
	if (!sc->page_known || !read_ok(sc->s, page + sc->page.compound_head, &head, 8) ||
	    !read_ok(sc->s, page + sc->page.flags, &flags, 8))
		return false;
	if ((tail = head & 1)) {
		/* A tail page: compound_head is the head | 1.  7.1's
		 * compound_info may instead hold a mask for the tail's own
		 * address, all high bits set (include/linux/page-flags.h
		 * _compound_head()): seen in Debian 7.2's dumps. */
		page = head - 1 >= k->vmemmap && head - 1 < MD_MODULES_VADDR ? head - 1 : page & head;
		if (page < k->vmemmap || !read_ok(sc->s, page + sc->page.flags, &flags, 8))
			return false;
	}
	if (!(flags & sc->page.pg_head))
		return !tail;	/* a tail whose head is no head: corrupt */
	if (!read_ok(sc->s, page + sc->page.order, &order, 1) || order > 20)
		return false;
	*first = (page - k->vmemmap) / k->page_struct_size;
	*count = 1ULL << order;
	if (*first > pfn || *first + *count <= pfn || *first + *count > k->max_pfn) {
		*first = pfn;
		*count = 1;
		return false;
	}
	return true;
}

/* One word that may point somewhere: mark what it reaches, once. */
static struct md_error *follow(struct scan *sc, uint64_t v)
{
	const struct md_kernel *k = &sc->s->kernel;
	struct md_slab_hit hit;

	if (v >= k->page_offset && v < sc->direct_end) {
		switch (md_slab_index_find(sc->o->index, v, &hit)) {
		case MD_SLAB_OBJECT:
			if (!test_bit(sc->o->allocated, hit.slot) ||
			    test_and_set(sc->o->reached, hit.slot) ||
			    (hit.object >= sc->slab_start && hit.object < sc->slab_end))
				return NULL;
			return push(sc, NODE_OBJECT, hit.object, hit.cache->object_size);
		case MD_SLAB_PADDING:
			return NULL;
		case MD_SLAB_MISS:
			break;
		}
		uint64_t pfn = (v - k->page_offset) >> k->page_shift, first, count;

		if (test_bit(sc->page_reached, pfn))
			return NULL;
		if (!page_extent(sc, pfn, &first, &count))
			sc->o->pages_alone++;
		for (uint64_t i = first; i < first + count; i++)
			test_and_set(sc->page_reached, i);
		return push(sc, NODE_PAGE, k->page_offset + (first << k->page_shift),
			    count << k->page_shift);
	}
	if (sc->vmalloc && v >= k->vmalloc_start && v - k->vmalloc_start < k->vmalloc_size) {
		const struct md_vmap_area *a = md_vmalloc_find(sc->vmalloc, v);

		if (!a || sc->area_reached[a - sc->vmalloc->areas]++)
			return NULL;
		if (a->vm_flags & VM_IOREMAP)
			return NULL;
		return push(sc, NODE_AREA, a->start, a->end - a->start);
	}
	return NULL;
}

static struct md_error *scan_words(struct scan *sc, const unsigned char *buf, size_t len)
{
	const struct md_kernel *k = &sc->s->kernel;
	struct md_error *err;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = md_get_u64(buf, i);

		/* Most words point nowhere: settled here, without follow()'s frame */
		if (!(v >= k->page_offset && v < sc->direct_end) &&
		    !(sc->vmalloc && v >= k->vmalloc_start && v - k->vmalloc_start < k->vmalloc_size))
			continue;
		if ((err = follow(sc, v)))
			return err;
	}
	return NULL;
}

/* Read and scan [addr, addr + len): in large pieces, page by page where a
 * piece is not all in the dump. */
static struct md_error *scan_range(struct scan *sc, uint64_t addr, uint64_t len)
{
	const uint64_t page = sc->s->kernel.page_size;
	struct md_error *err;

	addr &= ~7ULL;
	while (len) {
		uint64_t n = len < CHUNK ? len : CHUNK;

		if (md_interrupted(sc->s))
			return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
		err = md_read(sc->s, addr, sc->buf, n);
		if (!err) {
			if ((err = scan_words(sc, sc->buf, n)))
				return err;
		} else {
			md_error_destroy(err);
			for (uint64_t off = 0; off < n;) {
				uint64_t piece = page - ((addr + off) & (page - 1));

				if (piece > n - off)
					piece = n - off;
				err = md_read(sc->s, addr + off, sc->buf, piece);
				if (err) {
					md_error_destroy(err);
					sc->o->unreadable_bytes += piece;
				} else if ((err = scan_words(sc, sc->buf, piece))) {
					return err;
				}
				off += piece;
			}
		}
		addr += n;
		len -= n;
	}
	return NULL;
}

static void scan_error(struct scan *sc, struct md_error *err, const char *what)
{
	md_messages_add_error(&sc->o->errors, &sc->o->nr_errors,
			      md_error_wrap(err, "%s not scanned", what));
}

/* A root between two symbols, e.g. _sdata .. _edata. */
static struct md_error *scan_section(struct scan *sc, const char *start_sym, const char *end_sym)
{
	uint64_t start, end;
	struct md_error *err;
	char what[96];

	snprintf(what, sizeof(what), "%s..%s", start_sym, end_sym);
	if ((err = md_symbol(sc->s, start_sym, &start)) || (err = md_symbol(sc->s, end_sym, &end))) {
		scan_error(sc, err, what);
		return NULL;
	}
	if (end <= start || end - start > (1ULL << 32)) {
		scan_error(sc, md_error_create(MD_ERR_CORRUPT, "0x%" PRIx64 "-0x%" PRIx64, start, end),
			   what);
		return NULL;
	}
	sc->o->root_bytes += end - start;
	return scan_range(sc, start, end - start);
}

/* mm/percpu.c: a CPU's unit of the first chunk is at pcpu_base_addr +
 * pcpu_unit_offsets[cpu] and pcpu_unit_size long (static, reserved and
 * dynamic per-CPU data).  Later chunks are vmap areas, reached as nodes. */
static struct md_error *scan_percpu(struct scan *sc)
{
	const struct md_kernel *k = &sc->s->kernel;
	uint64_t sym, base, offsets, off;
	uint32_t unit_size;
	struct md_error *err;

	if ((err = md_symbol(sc->s, "pcpu_base_addr", &sym)) || (err = md_read_u64(sc->s, sym, &base)) ||
	    (err = md_symbol(sc->s, "pcpu_unit_offsets", &sym)) ||
	    (err = md_read_u64(sc->s, sym, &offsets)) ||
	    (err = md_symbol(sc->s, "pcpu_unit_size", &sym)) ||
	    (err = md_read_u32(sc->s, sym, &unit_size))) {
		scan_error(sc, err, "per-CPU areas");
		return NULL;
	}
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		char what[48];

		if (!md_cpu_possible(k, cpu))
			continue;
		snprintf(what, sizeof(what), "per-CPU unit of CPU %u", cpu);
		if ((err = md_read_u64(sc->s, offsets + cpu * 8, &off))) {
			scan_error(sc, err, what);
			continue;
		}
		sc->o->root_bytes += unit_size;
		if ((err = scan_range(sc, base + off, unit_size)))
			return err;
	}
	return NULL;
}

static struct md_error *scan_roots(struct scan *sc)
{
	const struct md_kernel *k = &sc->s->kernel;
	struct md_error *err;

	md_progress(sc->out, "orphan scan: kernel data");
	if ((err = scan_section(sc, "_sdata", "_edata")) ||
	    (err = scan_section(sc, "__bss_start", "__bss_stop")) ||
	    (err = scan_section(sc, "__start_ro_after_init", "__end_ro_after_init")))
		return err;
	md_progress(sc->out, "orphan scan: per-CPU areas");
	if ((err = scan_percpu(sc)))
		return err;
	md_progress(sc->out, "orphan scan: struct pages");
	sc->o->root_bytes += k->max_pfn * k->page_struct_size;
	if ((err = scan_range(sc, k->vmemmap, k->max_pfn * k->page_struct_size)))
		return err;
	md_progress(sc->out, "orphan scan: module memory");
	for (size_t i = 0; sc->vmalloc && i < sc->vmalloc->nr_areas; i++) {
		const struct md_vmap_area *a = &sc->vmalloc->areas[i];

		if (a->start < MD_MODULES_VADDR || a->end > MD_MODULES_END || sc->area_reached[i]++)
			continue;
		sc->o->root_bytes += a->end - a->start;
		if ((err = scan_range(sc, a->start, a->end - a->start)))
			return err;
	}
	return NULL;
}

static void count_object(struct scan *sc)
{
	if (!(++sc->o->objects_scanned & 0xffff))
		md_progress_rate(sc->out, "orphan scan", "objects reached", sc->o->objects_scanned,
				 sc->o->allocated_objects, &sc->started);
}

/* A reached object: its whole slab is read once, and every object of it
 * reached by then is scanned from that copy (the closure does not depend
 * on the order), so a slab costs one read, not one per object.  A slab
 * that cannot be read whole is read object by object, page by page. */
static struct md_error *scan_object(struct scan *sc, uint64_t addr, uint64_t len)
{
	const struct md_slab_index *ix = sc->o->index;
	struct md_slab_hit hit, at;
	struct md_error *err;
	bool more = true;

	if (md_slab_index_find(ix, addr, &hit) != MD_SLAB_OBJECT || test_and_set(sc->scanned, hit.slot))
		return NULL;
	if (hit.slab_end - hit.slab_start > CHUNK ||
	    !read_ok(sc->s, hit.slab_start, sc->buf, hit.slab_end - hit.slab_start)) {
		count_object(sc);
		return scan_range(sc, addr, len);
	}
	count_object(sc);
	sc->slab_start = hit.slab_start;
	sc->slab_end = hit.slab_end;
	if ((err = scan_words(sc, sc->buf + (addr - hit.slab_start), len)))
		goto out;
	/* the others of this slab reached so far, and those they reach in it */
	while (more) {
		more = false;
		for (uint64_t slot = hit.first_slot; slot < hit.first_slot + hit.nr_slots; slot++) {
			if (!test_bit(sc->o->reached, slot) || test_bit(sc->scanned, slot))
				continue;
			uint64_t obj = hit.slab_start + hit.cache->red_left_pad +
				       (slot - hit.first_slot) * hit.cache->size;

			if (md_slab_index_find(ix, obj, &at) != MD_SLAB_OBJECT || at.slot != slot)
				continue;
			test_and_set(sc->scanned, slot);
			more = true;
			count_object(sc);
			if ((err = scan_words(sc, sc->buf + (obj - hit.slab_start), hit.cache->object_size)))
				goto out;
		}
	}
out:
	sc->slab_start = sc->slab_end = 0;
	return err;
}

static struct md_error *drain_stack(struct scan *sc)
{
	struct md_error *err;

	while (sc->depth) {
		struct gray g = sc->stack[--sc->depth];

		err = NULL;
		switch (g.kind) {
		case NODE_OBJECT:
			sc->objects_on_stack--;
			err = scan_object(sc, g.addr, g.len);
			break;
		case NODE_AREA:
			sc->o->areas_scanned++;
			err = scan_range(sc, g.addr, g.len);
			break;
		case NODE_PAGE:
			sc->o->pages_scanned++;
			err = scan_range(sc, g.addr, g.len);
			break;
		}
		if (err)
			return err;
	}
	return NULL;
}

/* Slab j of c: its first object and that object's slot in the index; false
 * when the index does not know it. */
static bool slab_slots(const struct md_kernel *k, const struct md_orphans *o, const struct md_slab_cache *c,
		       size_t j, uint64_t *first, uint64_t *first_slot)
{
	struct md_slab_hit hit;

	*first = md_page_to_virt(k, c->slabs[j].page) + c->red_left_pad;
	if (md_slab_index_find(o->index, *first, &hit) != MD_SLAB_OBJECT)
		return false;
	*first_slot = hit.slot;
	return true;
}

/* The objects the stack had no room for: every allocated slot reached and
 * not scanned, slab by slab. */
static struct md_error *sweep(struct scan *sc)
{
	const struct md_kernel *k = &sc->s->kernel;
	const struct md_slab_state *st = sc->o->st;
	struct md_error *err;

	for (size_t i = 0; i < st->nr_caches; i++) {
		const struct md_slab_cache *c = &st->caches[i];

		for (size_t j = 0; !c->unreadable && j < c->nr_slabs; j++) {
			uint64_t first, first_slot;

			if (!slab_slots(k, sc->o, c, j, &first, &first_slot))
				continue;
			for (uint64_t slot = first_slot; slot < first_slot + c->slabs[j].objects; slot++) {
				if (!test_bit(sc->o->allocated, slot) || !test_bit(sc->o->reached, slot) ||
				    test_bit(sc->scanned, slot))
					continue;
				if ((err = scan_object(sc, first + (slot - first_slot) * c->size, c->object_size)) ||
				    (err = drain_stack(sc)))
					return err;
			}
		}
	}
	return NULL;
}

static struct md_error *drain(struct scan *sc)
{
	struct md_error *err = drain_stack(sc);

	while (!err && sc->overflow) {
		sc->overflow = false;
		err = sweep(sc);
	}
	return err;
}

static struct md_error *mark_allocated(void *arg, const struct md_slab_cache *c, uint64_t addr,
				       const unsigned char *obj, size_t len)
{
	struct md_orphans *o = arg;
	struct md_slab_hit hit;

	if (md_slab_index_find(o->index, addr, &hit) == MD_SLAB_OBJECT &&
	    !test_and_set(o->allocated, hit.slot))
		o->allocated_objects++;
	return NULL;
}

/* Per cache: allocated slots that were not reached. */
static void count_orphans(struct md_session *s, struct md_orphans *o)
{
	for (size_t i = 0; i < o->st->nr_caches; i++) {
		const struct md_slab_cache *c = &o->st->caches[i];

		for (size_t j = 0; !c->unreadable && j < c->nr_slabs; j++) {
			uint64_t first, first_slot;

			if (!slab_slots(&s->kernel, o, c, j, &first, &first_slot))
				continue;
			for (uint64_t slot = first_slot; slot < first_slot + c->slabs[j].objects; slot++)
				if (test_bit(o->allocated, slot) && !test_bit(o->reached, slot))
					o->cache_orphans[i]++;
		}
		o->orphans += o->cache_orphans[i];
	}
}

static struct md_error *run_scan(struct md_session *s, struct md_output *out, struct md_orphans *o)
{
	struct scan sc = { .s = s, .out = out, .o = o, .stack_max = STACK_MAX };
	const char *env = getenv("MEMDIAG_GRAY_STACK");

	/* the tests make it tiny, to show the sweeps find what a stack would */
	if (env && *env)
		sc.stack_max = strtoull(env, NULL, 10);
	const struct md_kernel *k = &s->kernel;
	uint64_t slots, words;
	struct md_error *err;

	if (!(err = md_compound_layout(s, &sc.page)))
		sc.page_known = true;
	else if (!md_error_catch(&err, MD_ERR_LOOKUP))
		return err;
	if ((err = md_slab_walk(s, &o->st)) || (err = md_slab_index_get(s, o->st, &o->index)))
		return err;
	slots = md_slab_index_nr_slots(o->index);
	words = slots / 64 + 1;
	o->allocated = calloc(words, 8);
	o->reached = calloc(words, 8);
	sc.scanned = calloc(words, 8);
	o->cache_orphans = calloc(o->st->nr_caches + 1, sizeof(*o->cache_orphans));
	sc.page_reached = calloc(k->max_pfn / 64 + 1, 8);
	sc.buf = malloc(CHUNK);
	sc.direct_end = k->page_offset + (k->max_pfn << k->page_shift);
	if (!o->allocated || !o->reached || !o->cache_orphans || !sc.page_reached || !sc.buf ||
	    !sc.scanned) {
		err = md_error_nomem();
		goto out;
	}
	if ((err = md_vmalloc_get(s, &sc.vmalloc))) {
		scan_error(&sc, err, "vmalloc areas (as roots and nodes)");
		sc.vmalloc = NULL;
	} else if (!(sc.area_reached = calloc(sc.vmalloc->nr_areas + 1, 1))) {
		err = md_error_nomem();
		goto out;
	}
	for (size_t i = 0; i < o->st->nr_caches; i++) {
		md_progress(out, "orphan scan: allocated objects of %s (%zu of %zu caches)",
			    o->st->caches[i].name, i + 1, o->st->nr_caches);
		if ((err = md_slab_for_each_object(s, &o->st->caches[i], mark_allocated, o,
						   &o->errors, &o->nr_errors)))
			goto out;
	}
	if ((err = scan_roots(&sc)) || (err = drain(&sc)))
		goto out;
	count_orphans(s, o);
out:
	md_progress_done(out);
	free(sc.area_reached);
	free(sc.page_reached);
	free(sc.stack);
	free(sc.buf);
	free(sc.scanned);
	return err;
}

struct md_error *md_orphans_get(struct md_session *s, struct md_output *out,
				struct md_orphans **ret)
{
	struct md_orphans *o;
	struct md_error *err;

	if (s->orphans) {
		*ret = s->orphans;
		return NULL;
	}
	if (!(o = calloc(1, sizeof(*o))))
		return md_error_nomem();
	if ((err = run_scan(s, out, o))) {
		md_orphans_destroy(o);
		return md_error_wrap(err, "orphan scan");
	}
	s->orphans = o;
	*ret = o;
	return NULL;
}

void md_orphans_destroy(struct md_orphans *o)
{
	if (!o)
		return;
	free(o->allocated);
	free(o->reached);
	free(o->cache_orphans);
	md_messages_free(o->errors, o->nr_errors);
	free(o);
}

bool md_orphans_is_orphan(const struct md_orphans *o, uint64_t addr)
{
	struct md_slab_hit hit;

	return md_slab_index_find(o->index, addr, &hit) == MD_SLAB_OBJECT &&
	       test_bit(o->allocated, hit.slot) && !test_bit(o->reached, hit.slot);
}

uint64_t md_orphans_in_cache(const struct md_orphans *o, const struct md_slab_cache *c)
{
	if (c < o->st->caches || c >= o->st->caches + o->st->nr_caches)
		return 0;
	return o->cache_orphans[c - o->st->caches];
}
