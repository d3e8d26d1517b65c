/* Kernel types from a vmlinux's DWARF (see dwarf_types.h).
 *
 * Two steps, as drgn takes them (libdrgn/dwarf_info.c):
 *
 *   The index, at open: one pass over the top level of every unit records
 *   where each struct, union, enum, typedef and base type of a name is
 *   defined, and which enum holds each enumerator.  Debian's vmlinux files
 *   carry no index of their own (no .debug_names, .gdb_index or
 *   .debug_pubtypes), and libdw 0.188 reads none but .debug_pubnames, so
 *   the pass is ours: each unit's abbreviations become small programs that
 *   skip what is not wanted, and every subtree but an enum's is jumped
 *   over by its DW_AT_sibling.  4-7 M DIEs take 0.1-0.2 s of CPU, 2.5 times
 *   less than the same walk through libdw's API, and the units are shared
 *   among threads.  A unit the programs cannot read (a form they do not
 *   know) is walked through libdw instead, after the threads.
 *
 *   The answers, on demand: from the indexed DIE, through libdw.
 *
 * Where a name has several definitions (a file-local struct), the first in
 * the file is taken: the lowest offset, whichever thread met it.  Units
 * are read with pread(), not through a mapping, whose pages would count
 * in the process's size (100+ MB of a 140-240 MB .debug_info).  The
 * figures are in doc/issue17-dwarf-research.md.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "dwarf_types.h"
#include "hash.h"
#include "readahead.h"
#include "types.h"

/* Bounds no real kernel comes near, against a damaged file. */
#define MAX_CHAIN	64	/* typedefs and qualifiers in a row */
#define MAX_NESTING	32	/* anonymous members within each other */
#define MAX_DEPTH	256	/* DIE nesting the scan follows */
#define MAX_THREADS	8

/* ------------------------------------------------------------------------ */
/* The index: (kind, name) -> DIE offset                                    */

enum dkind { DK_STRUCT, DK_UNION, DK_ENUM, DK_TYPEDEF, DK_BASE, DK_ENUMERATOR, DK_NONE };

struct name_entry {
	const char *name;	/* in .debug_str or an arena; NULL: empty slot */
	uint64_t hash;
	uint64_t offset;	/* of the definition (an enumerator's: its enum's) */
	uint8_t kind;
};

struct name_table {
	struct name_entry *slots;
	size_t mask, n;
};

static uint64_t name_hash(const char *name, uint8_t kind)
{
	return md_hash_bytes(name, strlen(name)) ^ kind;
}

static struct name_entry *table_slot(struct name_entry *slots, size_t mask, const char *name,
				     uint64_t hash, uint8_t kind)
{
	size_t i = hash & mask;

	/* The same string in .debug_str is the same pointer: most repeats of
	 * a name, unit after unit, need no strcmp(). */
	while (slots[i].name && (slots[i].hash != hash || slots[i].kind != kind ||
				 (slots[i].name != name && strcmp(slots[i].name, name))))
		i = (i + 1) & mask;
	return &slots[i];
}

/* Keeps the lowest offset of each (kind, name); false if out of memory. */
static bool table_put(struct name_table *t, const char *name, uint64_t hash, uint8_t kind,
		      uint64_t offset)
{
	struct name_entry *e;

	if (2 * (t->n + 1) > (t->slots ? t->mask + 1 : 0)) {
		size_t mask = t->slots ? 2 * t->mask + 1 : 4095;
		struct name_entry *slots = calloc(mask + 1, sizeof(*slots));

		if (!slots)
			return false;
		for (size_t i = 0; t->slots && i <= t->mask; i++)
			if (t->slots[i].name)
				*table_slot(slots, mask, t->slots[i].name, t->slots[i].hash,
					    t->slots[i].kind) = t->slots[i];
		free(t->slots);
		t->slots = slots;
		t->mask = mask;
	}
	e = table_slot(t->slots, t->mask, name, hash, kind);
	if (!e->name) {
		*e = (struct name_entry){ name, hash, offset, kind };
		t->n++;
	} else if (offset < e->offset) {
		e->offset = offset;
	}
	return true;
}

static const struct name_entry *table_get(const struct name_table *t, const char *name,
					  uint8_t kind)
{
	const struct name_entry *e;

	if (!t->slots)
		return NULL;
	e = table_slot(t->slots, t->mask, name, name_hash(name, kind), kind);
	return e->name ? e : NULL;
}

/* Names given inline (DW_FORM_string) live in the unit's bytes, which the
 * next unit overwrites: they are copied into blocks kept to the end. */
struct arena {
	char **blocks;
	size_t n, cap;
	char *next;	/* free room in the last block */
	size_t left;
};

#define ARENA_BLOCK 65536

static const char *arena_copy(struct arena *a, const char *s, size_t len)
{
	char *to;

	if (len + 1 > a->left) {
		size_t size = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;

		if (!md_array_reserve(&a->blocks, &a->cap, a->n, sizeof(*a->blocks), 16) ||
		    !(a->blocks[a->n] = malloc(size)))
			return NULL;
		a->next = a->blocks[a->n++];
		a->left = size;
	}
	to = a->next;
	memcpy(to, s, len);
	to[len] = '\0';
	a->next += len + 1;
	a->left -= len + 1;
	return to;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

struct section {
	const uint8_t *data;	/* in memory (libelf's), or NULL: .debug_info read by pread() */
	uint64_t file_offset;
	uint64_t size;
};

struct unit {
	uint64_t offset;	/* of its header in .debug_info */
	uint64_t end;		/* of its last byte, exclusive */
	uint64_t die;		/* of its first DIE */
	uint64_t abbrev;	/* its abbreviations in .debug_abbrev */
	uint8_t version, addr_size, offset_size;
	bool indexed;		/* by the scan; else through libdw */
};

struct md_dwarf_types {
	char *path;
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct section info, abbrev, str, line_str;
	struct unit *units;
	size_t nr_units, units_cap;
	struct name_table names;
	struct arena *arenas;	/* the threads' */
	size_t nr_arenas;
	uint64_t ptr_size;
};

/* ------------------------------------------------------------------------ */
/* Sections and unit headers                                                */

static struct md_error *damaged(const struct md_dwarf_types *dt, uint64_t unit, const char *what)
{
	return md_error_create(MD_ERR_FORMAT, "%s: damaged DWARF: the unit at .debug_info+0x%" PRIx64
			       " %s", dt->path, unit, what);
}

static struct md_error *unreadable(const struct md_dwarf_types *dt, uint64_t unit)
{
	return md_error_create(MD_ERR_FORMAT, "%s: damaged DWARF: the unit at .debug_info+0x%" PRIx64
			       " cannot be read (libdw: %s)", dt->path, unit, dwarf_errmsg(-1));
}

/* A section's bytes in memory (decompressed if need be). */
static struct md_error *section_in_memory(struct md_dwarf_types *dt, Elf_Scn *scn, const char *name,
					  struct section *ret)
{
	GElf_Shdr sh;
	Elf_Data *d;

	if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return md_error_create(MD_ERR_FORMAT, "%s: cannot decompress %s: %s", dt->path, name,
				       elf_errmsg(-1));
	if (!(d = elf_getdata(scn, NULL)))
		return md_error_create(MD_ERR_FORMAT, "%s: unreadable %s: %s", dt->path, name,
				       elf_errmsg(-1));
	ret->data = d->d_buf;
	ret->size = d->d_buf ? d->d_size : 0;
	return NULL;
}

static struct md_error *find_sections(struct md_dwarf_types *dt)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;
	bool have_info = false;
	struct md_error *err;

	if (elf_kind(dt->elf) != ELF_K_ELF || !gelf_getehdr(dt->elf, &eh) ||
	    elf_getshdrstrndx(dt->elf, &shstrndx))
		return md_error_create(MD_ERR_FORMAT, "%s: not an ELF file", dt->path);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return md_error_create(MD_ERR_FORMAT, "%s: DWARF types are read from little-endian "
				       "kernels only", dt->path);
	dt->ptr_size = gelf_getclass(dt->elf) == ELFCLASS64 ? 8 : 4;
	while ((scn = elf_nextscn(dt->elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(name = elf_strptr(dt->elf, shstrndx, sh.sh_name)))
			continue;
		err = NULL;
		if (!strcmp(name, ".debug_info")) {
			have_info = true;
			dt->info.file_offset = sh.sh_offset;
			dt->info.size = sh.sh_size;
			if (sh.sh_flags & SHF_COMPRESSED)
				err = section_in_memory(dt, scn, name, &dt->info);
		} else if (!strcmp(name, ".debug_abbrev")) {
			err = section_in_memory(dt, scn, name, &dt->abbrev);
		} else if (!strcmp(name, ".debug_str")) {
			err = section_in_memory(dt, scn, name, &dt->str);
		} else if (!strcmp(name, ".debug_line_str")) {
			err = section_in_memory(dt, scn, name, &dt->line_str);
		}
		if (err)
			return err;
	}
	if (!have_info || !dt->info.size)
		return md_error_create(MD_ERR_LOOKUP, "%s has no DWARF (no .debug_info section)",
				       dt->path);
	if (!dt->abbrev.size)
		return md_error_create(MD_ERR_FORMAT, "%s: has .debug_info but no .debug_abbrev",
				       dt->path);
	/* A name is a string up to a NUL: one at the end bounds them all. */
	for (struct section *sec = &dt->str; sec; sec = sec == &dt->str ? &dt->line_str : NULL) {
		const uint8_t *nul = sec->size ? memrchr(sec->data, 0, sec->size) : NULL;

		sec->size = nul ? (uint64_t)(nul + 1 - sec->data) : 0;
	}
	return NULL;
}

/* len bytes of .debug_info at off into buf, or a pointer into memory. */
static struct md_error *info_bytes(const struct md_dwarf_types *dt, uint64_t off, size_t len,
				   uint8_t *buf, const uint8_t **ret)
{
	size_t done = 0;

	if (off > dt->info.size || len > dt->info.size - off)
		return md_error_create(MD_ERR_FORMAT, "%s: .debug_info ends before byte 0x%" PRIx64,
				       dt->path, off + len);
	if (dt->info.data) {
		*ret = dt->info.data + off;
		return NULL;
	}
	while (done < len) {
		ssize_t n = pread(dt->fd, buf + done, len - done, (off_t)(dt->info.file_offset + off + done));

		if (n <= 0)
			return md_error_create(MD_ERR_OS, "%s: reading .debug_info: %s", dt->path,
					       n ? strerror(errno) : "the file ends early");
		done += (size_t)n;
	}
	*ret = buf;
	return NULL;
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* One unit's header (DWARF 2-5, 32- or 64-bit); *next is the next unit. */
static struct md_error *read_unit_header(struct md_dwarf_types *dt, uint64_t off, struct unit *u,
					 uint64_t *next)
{
	uint8_t buf[40] = { 0 };
	const uint8_t *p;
	uint64_t len, avail = dt->info.size - off;
	unsigned head = 4, unit_type = DW_UT_compile;
	struct md_error *err;

	if ((err = info_bytes(dt, off, avail < sizeof(buf) ? avail : sizeof(buf), buf, &p)))
		return err;
	if (avail < 11)
		return damaged(dt, off, "has a header cut short");
	len = rd(p, 4);
	u->offset_size = 4;
	if (len == 0xffffffff) {
		if (avail < 23)
			return damaged(dt, off, "has a header cut short");
		len = rd(p + 4, 8);
		u->offset_size = 8;
		head = 12;
	} else if (len >= 0xfffffff0) {
		return damaged(dt, off, "has a reserved length");
	}
	if (len > avail - head)
		return damaged(dt, off, "is longer than .debug_info");
	u->offset = off;
	u->end = off + head + len;
	*next = u->end;
	u->version = (uint8_t)rd(p + head, 2);
	p += head + 2;
	if (u->version == 5) {
		unit_type = p[0];
		u->addr_size = p[1];
		u->abbrev = rd(p + 2, u->offset_size);
		p += 2 + u->offset_size;
		if (unit_type == DW_UT_skeleton || unit_type == DW_UT_split_compile)
			p += 8;
		else if (unit_type == DW_UT_type || unit_type == DW_UT_split_type)
			p += 8 + u->offset_size;
	} else if (u->version >= 2 && u->version <= 4) {
		u->abbrev = rd(p, u->offset_size);
		u->addr_size = p[u->offset_size];
		p += u->offset_size + 1;
	} else {
		return damaged(dt, off, "has a DWARF version memdiag cannot read");
	}
	u->die = off + (uint64_t)(p - (dt->info.data ? dt->info.data + off : buf));
	u->indexed = false;
	if (u->die > u->end || u->abbrev >= dt->abbrev.size)
		return damaged(dt, off, "has a bad header");
	/* Only compile and partial units define the kernel's types. */
	if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
		u->die = u->end;
	return NULL;
}

static struct md_error *read_unit_headers(struct md_dwarf_types *dt)
{
	struct md_error *err;

	for (uint64_t off = 0, next = 0; off < dt->info.size; off = next) {
		if (!md_array_reserve(&dt->units, &dt->units_cap, dt->nr_units, sizeof(*dt->units), 1024))
			return md_error_nomem();
		if ((err = read_unit_header(dt, off, &dt->units[dt->nr_units], &next)))
			return err;
		dt->nr_units++;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Abbreviations as programs                                                */

enum op {
	OP_END, OP_SKIP, OP_LEB, OP_STRING, OP_BLOCK1, OP_BLOCK2, OP_BLOCK4, OP_BLOCK,
	OP_NAME_STRP, OP_NAME_LINE_STRP, OP_NAME_STRING, OP_SIBLING, OP_SIBLING_LEB, OP_DECL_FLAG,
};

struct insn {
	uint8_t op;
	uint8_t arg;	/* OP_SKIP: bytes; OP_NAME_*, OP_SIBLING: the offset's width */
};

struct abbrev {
	uint32_t first;		/* its program in code[] */
	uint8_t kind;		/* enum dkind */
	bool children;
	bool declaration;	/* DW_AT_declaration with no data to read */
};

struct program {
	struct abbrev *abbrevs;	/* by code - 1 */
	size_t nr, cap;
	struct insn *code;
	size_t len, code_cap;
};

static uint8_t tag_kind(uint64_t tag)
{
	switch (tag) {
	case DW_TAG_structure_type: return DK_STRUCT;
	case DW_TAG_union_type: return DK_UNION;
	case DW_TAG_enumeration_type: return DK_ENUM;
	case DW_TAG_typedef: return DK_TYPEDEF;
	case DW_TAG_base_type: return DK_BASE;
	case DW_TAG_enumerator: return DK_ENUMERATOR;
	default: return DK_NONE;
	}
}

static bool emit(struct program *pr, uint8_t op, uint8_t arg)
{
	struct insn *last = pr->len ? &pr->code[pr->len - 1] : NULL;

	if (op == OP_SKIP && last && last->op == OP_SKIP && last->arg + arg <= UINT8_MAX) {
		last->arg += arg;	/* fixed-size attributes in a row: one skip */
		return true;
	}
	if (!md_array_reserve(&pr->code, &pr->code_cap, pr->len, sizeof(*pr->code), 1024))
		return false;
	pr->code[pr->len++] = (struct insn){ op, arg };
	return true;
}

static const uint8_t *leb(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;

	while (p < end) {
		uint8_t b = *p++;

		if (shift < 64)
			r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			*v = r;
			return p;
		}
	}
	return NULL;
}

/* Bytes of a fixed-size form, 0 for none, -1 for a variable one (op). */
static int form_size(const struct unit *u, uint64_t form, uint8_t *op)
{
	*op = OP_SKIP;
	switch (form) {
	case DW_FORM_flag_present: case DW_FORM_implicit_const:
		return 0;
	case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag: case DW_FORM_strx1:
	case DW_FORM_addrx1:
		return 1;
	case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2: case DW_FORM_addrx2:
		return 2;
	case DW_FORM_strx3: case DW_FORM_addrx3:
		return 3;
	case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_strx4: case DW_FORM_addrx4:
	case DW_FORM_ref_sup4:
		return 4;
	case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8: case DW_FORM_ref_sup8:
		return 8;
	case DW_FORM_data16:
		return 16;
	case DW_FORM_addr:
		return u->addr_size;
	case DW_FORM_sec_offset: case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_strp_sup:
	case DW_FORM_GNU_ref_alt: case DW_FORM_GNU_strp_alt:
		return u->offset_size;
	case DW_FORM_ref_addr:
		return u->version < 3 ? u->addr_size : u->offset_size;
	case DW_FORM_sdata: case DW_FORM_udata: case DW_FORM_ref_udata: case DW_FORM_strx:
	case DW_FORM_addrx: case DW_FORM_loclistx: case DW_FORM_rnglistx:
	case DW_FORM_GNU_addr_index: case DW_FORM_GNU_str_index:
		*op = OP_LEB;
		return -1;
	case DW_FORM_string: *op = OP_STRING; return -1;
	case DW_FORM_block1: *op = OP_BLOCK1; return -1;
	case DW_FORM_block2: *op = OP_BLOCK2; return -1;
	case DW_FORM_block4: *op = OP_BLOCK4; return -1;
	case DW_FORM_block: case DW_FORM_exprloc: *op = OP_BLOCK; return -1;
	default:	/* DW_FORM_indirect and what is yet to come */
		*op = OP_END;
		return -1;
	}
}

/* The instruction for one attribute of an abbreviation of kind; false if
 * the scan cannot read it (the unit goes to libdw). */
static bool attribute_insn(const struct unit *u, struct abbrev *a, uint64_t at, uint64_t form,
			   uint64_t implicit, struct program *pr)
{
	uint8_t op;
	int size = form_size(u, form, &op);

	if (at == DW_AT_sibling) {
		if (form == DW_FORM_ref_udata)
			return emit(pr, OP_SIBLING_LEB, 0);
		if (form != DW_FORM_ref1 && form != DW_FORM_ref2 && form != DW_FORM_ref4 &&
		    form != DW_FORM_ref8)
			return false;
		return emit(pr, OP_SIBLING, (uint8_t)size);
	}
	if (at == DW_AT_name && a->kind != DK_NONE) {
		if (form == DW_FORM_string)
			return emit(pr, OP_NAME_STRING, 0);
		if (form == DW_FORM_strp)
			return emit(pr, OP_NAME_STRP, (uint8_t)size);
		if (form == DW_FORM_line_strp)
			return emit(pr, OP_NAME_LINE_STRP, (uint8_t)size);
		return false;	/* strx: no .debug_str_offsets reader here */
	}
	if (at == DW_AT_declaration) {
		if (form == DW_FORM_flag_present || (form == DW_FORM_implicit_const && implicit))
			a->declaration = true;
		else if (form == DW_FORM_flag)
			return emit(pr, OP_DECL_FLAG, 0);
	}
	if (op == OP_END)
		return false;
	return size < 0 ? emit(pr, op, 0) : size == 0 || emit(pr, OP_SKIP, (uint8_t)size);
}

/* The unit's abbreviation table as programs; false if the scan cannot
 * read it.  An error only for memory. */
static struct md_error *compile_abbrevs(const struct md_dwarf_types *dt, const struct unit *u,
					struct program *pr, bool *ok)
{
	const uint8_t *p = dt->abbrev.data + u->abbrev, *end = dt->abbrev.data + dt->abbrev.size;
	uint64_t code, tag, at, form, implicit;

	*ok = false;
	pr->nr = pr->len = 0;
	while ((p = leb(p, end, &code)) && code) {
		struct abbrev *a;

		/* Codes count from 1, as GCC and clang number them. */
		if (code != pr->nr + 1 || !(p = leb(p, end, &tag)) || p >= end)
			return NULL;
		if (!md_array_reserve(&pr->abbrevs, &pr->cap, pr->nr, sizeof(*pr->abbrevs), 256))
			return md_error_nomem();
		a = &pr->abbrevs[pr->nr++];
		*a = (struct abbrev){ (uint32_t)pr->len, tag_kind(tag), *p++ != 0, false };
		for (;;) {
			if (!(p = leb(p, end, &at)) || !(p = leb(p, end, &form)))
				return NULL;
			if (!at && !form)
				break;
			implicit = 0;
			if (form == DW_FORM_implicit_const && !(p = leb(p, end, &implicit)))
				return NULL;
			/* false for a form the scan cannot read, or for memory:
			 * either way libdw walks the unit, or fails too */
			if (!attribute_insn(u, a, at, form, implicit, pr))
				return NULL;
		}
		if (!emit(pr, OP_END, 0))
			return md_error_nomem();
	}
	*ok = p != NULL;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* The scan                                                                 */

struct scanner {
	struct md_dwarf_types *dt;
	struct name_table names;
	struct arena arena;
	struct program program;
	uint8_t *buf;
	size_t buf_cap;
	struct md_error *err;
};

enum scan_result { SCAN_OK, SCAN_CANNOT, SCAN_ERROR };

static bool record(struct scanner *s, const char *name, uint8_t kind, uint64_t offset)
{
	return table_put(&s->names, name, name_hash(name, kind), kind, offset);
}

/* One DIE's attributes: its name, whether it declares, where its sibling
 * is.  NULL if they overrun the unit. */
static const uint8_t *run_program(const struct md_dwarf_types *dt, const struct insn *in,
				  const uint8_t *p, const uint8_t *base, const uint8_t *end,
				  const char **name, size_t *name_len, bool *decl,
				  const uint8_t **sibling)
{
	uint64_t v;

	for (;; in++) {
		switch (in->op) {
		case OP_END:
			return p;
		case OP_SKIP:
			if (end - p < in->arg)
				return NULL;
			p += in->arg;
			break;
		case OP_LEB:
			if (!(p = leb(p, end, &v)))
				return NULL;
			break;
		case OP_STRING: {
			const uint8_t *nul = memchr(p, 0, (size_t)(end - p));

			if (!nul)
				return NULL;
			p = nul + 1;
			break;
		}
		case OP_BLOCK1: case OP_BLOCK2: case OP_BLOCK4: {
			unsigned w = in->op == OP_BLOCK1 ? 1 : in->op == OP_BLOCK2 ? 2 : 4;

			if (end - p < w || (uint64_t)(end - p - w) < (v = rd(p, w)))
				return NULL;
			p += w + v;
			break;
		}
		case OP_BLOCK:
			if (!(p = leb(p, end, &v)) || (uint64_t)(end - p) < v)
				return NULL;
			p += v;
			break;
		case OP_NAME_STRP: case OP_NAME_LINE_STRP: {
			const struct section *sec = in->op == OP_NAME_STRP ? &dt->str : &dt->line_str;

			if (end - p < in->arg || (v = rd(p, in->arg)) >= sec->size)
				return NULL;
			p += in->arg;
			*name = (const char *)sec->data + v;
			*name_len = 0;	/* lives as long as the section */
			break;
		}
		case OP_NAME_STRING: {
			const uint8_t *nul = memchr(p, 0, (size_t)(end - p));

			if (!nul)
				return NULL;
			*name = (const char *)p;
			*name_len = (size_t)(nul - p);
			p = nul + 1;
			break;
		}
		case OP_SIBLING:
			if (end - p < in->arg || (v = rd(p, in->arg)) > (uint64_t)(end - base))
				return NULL;
			*sibling = base + v;
			p += in->arg;
			break;
		case OP_SIBLING_LEB:
			if (!(p = leb(p, end, &v)) || v > (uint64_t)(end - base))
				return NULL;
			*sibling = base + v;
			break;
		case OP_DECL_FLAG:
			if (p >= end)
				return NULL;
			*decl = *decl || *p;
			p++;
			break;
		}
	}
}

/* The top level of one unit, and the enumerators of its enums. */
static enum scan_result scan_unit(struct scanner *s, struct unit *u)
{
	struct md_dwarf_types *dt = s->dt;
	size_t len = (size_t)(u->end - u->offset);
	const uint8_t *base, *p, *end;
	uint64_t enum_offset = 0;
	int depth = 0, enum_depth = -1;
	bool ok;

	if (u->die >= u->end)
		return SCAN_OK;		/* a type unit, or empty */
	if ((s->err = compile_abbrevs(dt, u, &s->program, &ok)))
		return SCAN_ERROR;
	if (!ok)
		return SCAN_CANNOT;
	if (!dt->info.data && !md_buffer_reserve(&s->buf, &s->buf_cap, len)) {
		s->err = md_error_nomem();
		return SCAN_ERROR;
	}
	if ((s->err = info_bytes(dt, u->offset, len, s->buf, &base)))
		return SCAN_ERROR;
	p = base + (u->die - u->offset);
	end = base + len;
	while (p < end) {
		uint64_t die = u->offset + (uint64_t)(p - base), code;
		const uint8_t *sibling = NULL;
		const char *name = NULL;
		size_t name_len = 0;
		const struct abbrev *a;
		bool decl;

		if (!(p = leb(p, end, &code)))
			return SCAN_CANNOT;
		if (!code) {	/* the end of a list of children */
			if (--depth <= 0)
				break;
			if (depth < enum_depth)
				enum_depth = -1;
			continue;
		}
		if (code > s->program.nr)
			return SCAN_CANNOT;
		a = &s->program.abbrevs[code - 1];
		decl = a->declaration;
		if (!(p = run_program(dt, s->program.code + a->first, p, base, end, &name, &name_len,
				      &decl, &sibling)))
			return SCAN_CANNOT;
		if (name && name_len && !(name = arena_copy(&s->arena, name, name_len))) {
			s->err = md_error_nomem();
			return SCAN_ERROR;
		}
		if (name && *name && !decl &&
		    ((depth == 1 && a->kind != DK_NONE && a->kind != DK_ENUMERATOR) ||
		     (depth == enum_depth && a->kind == DK_ENUMERATOR)) &&
		    !record(s, name, a->kind, a->kind == DK_ENUMERATOR ? enum_offset : die)) {
			s->err = md_error_nomem();
			return SCAN_ERROR;
		}
		if (!a->children) {
			if (depth == 0)
				break;	/* a unit with no DIEs */
			continue;
		}
		if (depth == 0 || (depth == 1 && a->kind == DK_ENUM && !decl)) {
			if (depth == 1) {
				enum_depth = 2;
				enum_offset = die;
			}
			depth++;	/* into the unit, or an enum's enumerators */
		} else if (sibling) {
			if (sibling <= p || sibling > end)
				return SCAN_CANNOT;
			p = sibling;	/* over the whole subtree */
		} else if (++depth > MAX_DEPTH) {
			return SCAN_CANNOT;
		}
	}
	u->indexed = true;
	return SCAN_OK;
}

/* The units, shared among the threads by a counter. */
struct scan_work {
	struct md_dwarf_types *dt;
	atomic_size_t next;
	atomic_bool failed;
};

struct scan_thread {
	struct scan_work *work;
	struct scanner scanner;
	pthread_t thread;
	bool started;
};

static void *scan_thread(void *arg)
{
	struct scan_thread *t = arg;
	struct scan_work *w = t->work;
	size_t i;

	while (!atomic_load(&w->failed) && (i = atomic_fetch_add(&w->next, 1)) < w->dt->nr_units)
		if (scan_unit(&t->scanner, &w->dt->units[i]) == SCAN_ERROR)
			atomic_store(&w->failed, true);
	return NULL;
}

static bool flag(Dwarf_Die *die, unsigned at)
{
	Dwarf_Attribute a;
	bool v = false;

	return dwarf_attr(die, at, &a) && !dwarf_formflag(&a, &v) && v;
}

/* The index of one unit through libdw's API, for a unit the scan cannot
 * read: the same DIEs recorded, at the cost of libdw's own decoding. */
static struct md_error *walk_unit(struct scanner *s, const struct unit *u)
{
	struct md_dwarf_types *dt = s->dt;
	Dwarf_Die cu, die, child;
	int r;

	if (!dwarf_offdie(dt->dw, u->die, &cu) || (r = dwarf_child(&cu, &die)) < 0)
		return unreadable(dt, u->offset);
	for (; r == 0; r = dwarf_siblingof(&die, &die)) {
		uint8_t kind = tag_kind((uint64_t)dwarf_tag(&die));
		const char *name = dwarf_diename(&die);

		if (kind == DK_NONE || kind == DK_ENUMERATOR || flag(&die, DW_AT_declaration))
			continue;
		if (name && *name && !record(s, name, kind, dwarf_dieoffset(&die)))
			return md_error_nomem();
		if (kind != DK_ENUM || dwarf_child(&die, &child))
			continue;
		do {
			name = dwarf_diename(&child);
			if (dwarf_tag(&child) == DW_TAG_enumerator && name && *name &&
			    !record(s, name, DK_ENUMERATOR, dwarf_dieoffset(&die)))
				return md_error_nomem();
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	return r < 0 ? unreadable(dt, u->offset) : NULL;
}

static void scanner_end(struct scanner *s)
{
	free(s->names.slots);
	arena_free(&s->arena);
	free(s->program.abbrevs);
	free(s->program.code);
	free(s->buf);
	md_error_destroy(s->err);
}

/* Every scanner's names into dt's index, and their arenas with them. */
static struct md_error *merge(struct md_dwarf_types *dt, struct scan_thread *t, size_t n)
{
	if (!(dt->arenas = calloc(n, sizeof(*dt->arenas))))
		return md_error_nomem();
	/* the first table becomes the index, the others' entries go into it */
	dt->names = t[0].scanner.names;
	t[0].scanner.names = (struct name_table){ 0 };
	for (size_t i = 0; i < n; i++) {
		const struct name_table *from = &t[i].scanner.names;

		for (size_t j = 0; from->slots && j <= from->mask; j++) {
			const struct name_entry *e = &from->slots[j];

			if (e->name && !table_put(&dt->names, e->name, e->hash, e->kind, e->offset))
				return md_error_nomem();
		}
		dt->arenas[dt->nr_arenas++] = t[i].scanner.arena;
		t[i].scanner.arena = (struct arena){ 0 };
	}
	return NULL;
}

/* The scan on this thread and up to MAX_THREADS - 1 others, then libdw's
 * walk of what it could not read. */
static struct md_error *build_index(struct md_dwarf_types *dt)
{
	size_t n = md_readahead_workers();
	struct scan_work w = { .dt = dt };
	struct scan_thread *t;
	struct md_error *err = NULL;

	n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
	if (n > dt->nr_units)
		n = dt->nr_units ? dt->nr_units : 1;
	if (!(t = calloc(n, sizeof(*t))))
		return md_error_nomem();
	for (size_t i = 0; i < n; i++) {
		t[i].work = &w;
		t[i].scanner.dt = dt;
		/* one fewer thread if the system has no more */
		if (i && !pthread_create(&t[i].thread, NULL, scan_thread, &t[i]))
			t[i].started = true;
	}
	scan_thread(&t[0]);
	for (size_t i = 1; i < n; i++)
		if (t[i].started)
			pthread_join(t[i].thread, NULL);
	for (size_t i = 0; i < n; i++) {
		md_error_keep_first(&err, t[i].scanner.err);
		t[i].scanner.err = NULL;
	}
	for (size_t i = 0; i < dt->nr_units && !err; i++)
		if (!dt->units[i].indexed && dt->units[i].die < dt->units[i].end)
			err = walk_unit(&t[0].scanner, &dt->units[i]);
	if (!err)
		err = merge(dt, t, n);
	for (size_t i = 0; i < n; i++)
		scanner_end(&t[i].scanner);
	free(t);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Answers, through libdw                                                   */

static bool die_of(const struct md_dwarf_types *dt, const char *name, uint8_t kind, Dwarf_Die *ret)
{
	const struct name_entry *e = table_get(&dt->names, name, kind);

	return e && dwarf_offdie(dt->dw, e->offset, ret);
}

/* The DIE of a type spelled as the core spells it (lib/types.h). */
static bool find_type(const struct md_dwarf_types *dt, const char *type, Dwarf_Die *ret)
{
	enum md_type_tag tag;
	const char *name = md_type_spelling(type, &tag);

	switch (tag) {
	case MD_TAG_STRUCT: return die_of(dt, name, DK_STRUCT, ret);
	case MD_TAG_UNION: return die_of(dt, name, DK_UNION, ret);
	case MD_TAG_ENUM: return die_of(dt, name, DK_ENUM, ret);
	case MD_TAG_NONE: break;
	}
	/* a bare tag too, as crash's STRUCT_SIZE("kmem_cache") takes it */
	return die_of(dt, name, DK_TYPEDEF, ret) || die_of(dt, name, DK_BASE, ret) ||
	       die_of(dt, name, DK_STRUCT, ret) || die_of(dt, name, DK_UNION, ret) ||
	       die_of(dt, name, DK_ENUM, ret);
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute a;

	return dwarf_formref_die(dwarf_attr(die, DW_AT_type, &a), ret) != NULL;
}

/* Through typedefs and qualifiers to the type that has the layout, and
 * from a struct, union or enum declared in this unit to its definition.
 * False for void, or a declaration defined nowhere. */
static bool peel(const struct md_dwarf_types *dt, Dwarf_Die *die)
{
	for (int n = 0; n < MAX_CHAIN; n++) {
		int tag = dwarf_tag(die);
		uint8_t kind = tag_kind((uint64_t)tag);
		const char *name;

		switch (tag) {
		case DW_TAG_typedef: case DW_TAG_const_type: case DW_TAG_volatile_type:
		case DW_TAG_restrict_type: case DW_TAG_atomic_type: case DW_TAG_immutable_type:
		case DW_TAG_packed_type: case DW_TAG_shared_type:
			if (!type_of(die, die))
				return false;
			continue;
		}
		if (!flag(die, DW_AT_declaration))
			return true;
		name = dwarf_diename(die);
		return name && (kind == DK_STRUCT || kind == DK_UNION || kind == DK_ENUM) &&
		       die_of(dt, name, kind, die);
	}
	return false;
}

static bool is_composite(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_class_type;
}

/* sizeof, as BTF's btf__resolve_size() gives it: false for void, functions
 * and what exceeds 32 bits. */
static bool size_of(const struct md_dwarf_types *dt, Dwarf_Die *die, uint64_t *ret)
{
	Dwarf_Die t = *die;
	Dwarf_Word size;
	Dwarf_Attribute a;

	if (!peel(dt, &t))
		return false;
	switch (dwarf_tag(&t)) {
	case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_rvalue_reference_type:
		if (!dwarf_attr(&t, DW_AT_byte_size, &a)) {
			*ret = dt->ptr_size;
			return true;
		}
		break;
	case DW_TAG_subroutine_type: case DW_TAG_unspecified_type:
		return false;
	}
	/* byte_size, or for arrays the elements times theirs */
	if (dwarf_aggregate_size(&t, &size) || size > UINT32_MAX)
		return false;
	*ret = size;
	return true;
}

/* A member's bit offset in its struct: DWARF 4+'s DW_AT_data_bit_offset,
 * else DW_AT_data_member_location and, for a DWARF 2-3 bit-field, its
 * DW_AT_bit_offset, which counts from the storage unit's most significant
 * bit (little-endian here).  libdw's dwarf_bitoffset() reads only the
 * latter, so both are read here. */
static bool member_bit_offset(const struct md_dwarf_types *dt, Dwarf_Die *m, uint64_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Word v = 0, storage;
	Dwarf_Block b;
	int bit_offset;

	if (dwarf_attr(m, DW_AT_data_bit_offset, &a))
		return !dwarf_formudata(&a, ret);
	/* DWARF 2: an expression, DW_OP_plus_uconst N */
	if (dwarf_attr(m, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &v) &&
	    (dwarf_formblock(&a, &b) || b.length < 2 || b.data[0] != DW_OP_plus_uconst ||
	     !leb(b.data + 1, b.data + b.length, &v)))
		return false;
	*ret = v * 8;
	if ((bit_offset = dwarf_bitoffset(m)) >= 0) {
		Dwarf_Die t;
		int bytes = dwarf_bytesize(m), bits = dwarf_bitsize(m);

		if (bytes > 0)
			storage = (Dwarf_Word)bytes;
		else if (!type_of(m, &t) || !size_of(dt, &t, &storage))
			return false;
		if (bits < 0 || (uint64_t)bit_offset + (uint64_t)bits > storage * 8)
			return false;
		*ret += storage * 8 - (uint64_t)bit_offset - (uint64_t)bits;
	}
	return true;
}

/* One member look-up's bounds, against a damaged file. */
struct member_walk {
	const struct md_dwarf_types *dt;
	unsigned long visits;
};

#define MAX_MEMBER_VISITS 1000000

/* The dotted path in the struct or union die, looking into unnamed
 * members as C does (lib/btf_types.c find_member() does the same on BTF):
 * 0, -ENOENT, -ENOTDIR (a component before the last is no struct or
 * union), or -ELOOP past the bounds or in damaged DWARF. */
static int find_member(struct member_walk *w, Dwarf_Die *die, const char *path, uint64_t base,
		       int nesting, struct md_member *ret)
{
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	Dwarf_Die m, t;
	int r;

	if (nesting >= MAX_NESTING)
		return -ELOOP;
	if ((r = dwarf_child(die, &m)))
		return r < 0 ? -ELOOP : -ENOENT;
	do {
		const char *name;
		uint64_t bit, size;

		if (++w->visits > MAX_MEMBER_VISITS)
			return -ELOOP;
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		name = dwarf_diename(&m);
		if (name && *name && (strlen(name) != n || memcmp(name, path, n)))
			continue;
		if (!member_bit_offset(w->dt, &m, &bit))
			return -ELOOP;
		bit += base;
		if (!name || !*name) {
			if (type_of(&m, &t) && peel(w->dt, &t) && is_composite(&t) &&
			    (r = find_member(w, &t, path, bit, nesting + 1, ret)) != -ENOENT)
				return r;
			continue;
		}
		if (dot) {
			if (!type_of(&m, &t) || !peel(w->dt, &t) || !is_composite(&t))
				return -ENOTDIR;
			return find_member(w, &t, dot + 1, bit, nesting + 1, ret);
		}
		ret->bit_offset = bit;
		ret->bit_size = dwarf_bitsize(&m) > 0 ? (uint64_t)dwarf_bitsize(&m) : 0;
		ret->size = type_of(&m, &t) && size_of(w->dt, &t, &size) ? size : 0;
		return 0;
	} while ((r = dwarf_siblingof(&m, &m)) == 0);
	return r < 0 ? -ELOOP : -ENOENT;
}

struct md_error *md_dwarf_type_size(struct md_dwarf_types *dt, const char *type, uint64_t *ret)
{
	Dwarf_Die die;

	if (md_type_is_pointer(type)) {
		*ret = dt->ptr_size;
		return NULL;
	}
	if (!find_type(dt, type, &die) || !size_of(dt, &die, ret))
		return md_error_create(MD_ERR_LOOKUP, "no type %s", type);
	return NULL;
}

struct md_error *md_dwarf_member(struct md_dwarf_types *dt, const char *type, const char *member,
				 struct md_member *ret)
{
	struct member_walk w = { dt, 0 };
	Dwarf_Die die;
	int r = -ENOENT;

	if (*member && find_type(dt, type, &die) && peel(dt, &die) && is_composite(&die))
		r = find_member(&w, &die, member, 0, 0, ret);
	if (r == -ELOOP)
		return md_error_create(MD_ERR_FORMAT, "%s: damaged DWARF: cannot find %s in %s",
				       dt->path, member, type);
	if (r)
		return md_error_create(MD_ERR_LOOKUP, "%s has no member %s", type, member);
	return NULL;
}

/* An enumerator's value, signed or not as its enum's underlying type (GCC
 * gives it as DW_AT_type): dwarf_formsdata() sign-extends data1-8, and a
 * data1 0xf5 is 245 in an unsigned enum (7.3's PGTY_slab), not -11. */
static bool enumerator_value(Dwarf_Die *enum_die, Dwarf_Die *e, int64_t *ret)
{
	Dwarf_Attribute a, *v = dwarf_attr(e, DW_AT_const_value, &a);
	Dwarf_Attribute enc;
	Dwarf_Die base;
	Dwarf_Word encoding = DW_ATE_signed, u;
	Dwarf_Sword s;

	if (!v)
		return false;
	if (type_of(enum_die, &base) && dwarf_attr_integrate(&base, DW_AT_encoding, &enc))
		dwarf_formudata(&enc, &encoding);
	if (v->form == DW_FORM_sdata || encoding == DW_ATE_signed ||
	    encoding == DW_ATE_signed_char) {
		if (dwarf_formsdata(v, &s))
			return false;
		*ret = s;
	} else {
		if (dwarf_formudata(v, &u))
			return false;
		*ret = (int64_t)u;
	}
	return true;
}

struct md_error *md_dwarf_enumerator(struct md_dwarf_types *dt, const char *name, int64_t *ret)
{
	const struct name_entry *e = *name ? table_get(&dt->names, name, DK_ENUMERATOR) : NULL;
	Dwarf_Die die, child;

	if (e && dwarf_offdie(dt->dw, e->offset, &die) && !dwarf_child(&die, &child)) {
		do {
			const char *n = dwarf_diename(&child);

			if (dwarf_tag(&child) == DW_TAG_enumerator && n && !strcmp(n, name) &&
			    enumerator_value(&die, &child, ret))
				return NULL;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	return md_error_create(MD_ERR_LOOKUP, "no enumerator %s", name);
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

static struct md_error *open_dwarf(struct md_dwarf_types *dt)
{
	struct md_error *err;

	if ((dt->fd = open(dt->path, O_RDONLY | O_CLOEXEC)) < 0)
		return md_error_create(MD_ERR_OS, "%s: %s", dt->path, strerror(errno));
	elf_version(EV_CURRENT);
	/* Mapped: libdw reads the few DIEs of the answers through it. */
	if (!(dt->elf = elf_begin(dt->fd, ELF_C_READ_MMAP, NULL)))
		return md_error_create(MD_ERR_FORMAT, "%s: %s", dt->path, elf_errmsg(-1));
	if ((err = find_sections(dt)) || (err = read_unit_headers(dt)))
		return err;
	if (!(dt->dw = dwarf_begin_elf(dt->elf, DWARF_C_READ, NULL)))
		return md_error_create(MD_ERR_FORMAT, "%s: libdw cannot read its DWARF: %s", dt->path,
				       dwarf_errmsg(-1));
	return build_index(dt);
}

struct md_error *md_dwarf_types_open(const char *path, struct md_dwarf_types **ret)
{
	struct md_dwarf_types *dt = calloc(1, sizeof(*dt));
	struct md_error *err;

	if (!dt)
		return md_error_nomem();
	dt->fd = -1;
	if (!(dt->path = strdup(path))) {
		free(dt);
		return md_error_nomem();
	}
	if ((err = open_dwarf(dt))) {
		md_dwarf_types_destroy(dt);
		return err;
	}
	*ret = dt;
	return NULL;
}

void md_dwarf_types_destroy(struct md_dwarf_types *dt)
{
	if (!dt)
		return;
	dwarf_end(dt->dw);
	elf_end(dt->elf);
	if (dt->fd >= 0)
		close(dt->fd);
	free(dt->names.slots);
	for (size_t i = 0; i < dt->nr_arenas; i++)
		arena_free(&dt->arenas[i]);
	free(dt->arenas);
	free(dt->units);
	free(dt->path);
	free(dt);
}
