/* The standalone program's target (see kdump_target.h).
 *
 * Memory comes from libkdumpfile.  Types come from the vmlinux's .BTF
 * section (lib/btf_types.c) and symbols from its .symtab through libelf: a few
 * MB of a vmlinux of hundreds, so opening never touches DWARF and stays
 * well under a second.
 */
#include "kdump_target.h"
#include "btf_types.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A symbol of the vmlinux; name points into libelf's string table. */
struct ksym {
	const char *name;
	uint64_t value;		/* link-time address */
	uint64_t size;
	unsigned char info;	/* st_info: type and binding */
	bool relocated;		/* in the kernel image, so it moves with KASLR */
};

struct kdump_target {
	struct md_target target;
	const char *vmlinux_path, *vmcore_path;	/* the caller's, for messages */

	int vmlinux_fd;
	Elf *elf;
	struct md_btf_types *types;
	struct ksym *syms;	/* every named symbol */
	size_t nsyms;
	uint32_t *by_name;	/* hash table: index + 1 into syms, 0 empty */
	size_t by_name_mask;
	uint32_t *by_addr;	/* image symbols, sorted by value then rank */
	size_t naddr;
	uint64_t image_start, image_end;	/* link-time _text.._end */
	bool kernel_space_high;			/* 64-bit: kernel is the top half */
	char *banner;		/* vmlinux's linux_banner, as in the file */
	size_t banner_len;	/* with its NUL */
	uint64_t banner_addr;

	int vmcore_fd;
	kdump_ctx_t *kd;
	/* kdump-compressed files: the pages the file holds (the second
	 * bitmap), a bit per pfn, so that libkdumpfile is never asked for a
	 * page makedumpfile left out (see kt_read()).  NULL for ELF. */
	unsigned char *dumped;
	uint64_t dumped_pfns, dumped_page_size;	/* the header's block_size */
	/* A file cut short in its page data (an incomplete copy): the pages
	 * past its end, a bit per pfn of cut_page_size, so that a read of one
	 * says so instead of reading past the end.  NULL if the file is whole;
	 * a file cut in its headers is refused. */
	unsigned char *cut;
	uint64_t cut_pfns, cut_page_size, cut_pages;
	uint64_t file_size, file_need;
	char *truncation;	/* the warning, for md_kdump_target_truncation() */
	addrxlat_ctx_t *xlat_ctx;
	addrxlat_sys_t *xlat_sys;
	addrxlat_cb_t *cut_guard;	/* in xlat_ctx, for a cut file: cut_guard_get_page() */
	char *vmcoreinfo;	/* raw text, NULL if the dump has none */
	uint64_t kaslr_offset;

};

static volatile sig_atomic_t *interrupt_flag;

void md_kdump_target_set_interrupt_flag(volatile sig_atomic_t *flag)
{
	interrupt_flag = flag;
}

static struct md_error *nomem(void)
{
	return md_error_create(MD_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------------ */
/* Symbols                                                                  */

static bool in_kernel_space(const struct kdump_target *kt, uint64_t v)
{
	return kt->kernel_space_high ? v >> 63 : v >= 0xc0000000;
}

static int type_rank(const struct ksym *s)
{
	int type = GELF_ST_TYPE(s->info);

	return type == STT_FUNC || type == STT_OBJECT ? 0 : 1;
}

static int bind_rank(const struct ksym *s)
{
	int bind = GELF_ST_BIND(s->info);

	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

/* Which of two same-named symbols (static ones repeat) a name means. */
static int name_rank(const struct ksym *s)
{
	return bind_rank(s) * 2 + type_rank(s);
}

/* Which of several symbols at one address names it: a function or object
 * over a bare label, a global over a local. */
static int addr_rank(const struct ksym *s)
{
	return type_rank(s) * 3 + bind_rank(s);
}

static const struct ksym *sym_lookup(const struct kdump_target *kt, const char *name)
{
	size_t i = md_hash_bytes(name, strlen(name)) & kt->by_name_mask;

	for (; kt->by_name[i]; i = (i + 1) & kt->by_name_mask) {
		const struct ksym *s = &kt->syms[kt->by_name[i] - 1];

		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}

static void sym_hash_insert(struct kdump_target *kt, uint32_t idx)
{
	const struct ksym *s = &kt->syms[idx];
	size_t i = md_hash_bytes(s->name, strlen(s->name)) & kt->by_name_mask;

	for (; kt->by_name[i]; i = (i + 1) & kt->by_name_mask) {
		const struct ksym *o = &kt->syms[kt->by_name[i] - 1];

		if (!strcmp(o->name, s->name)) {
			if (name_rank(s) < name_rank(o))
				kt->by_name[i] = idx + 1;
			return;
		}
	}
	kt->by_name[i] = idx + 1;
}

static const struct kdump_target *sort_target;	/* for qsort's comparator */

static int by_addr_cmp(const void *a, const void *b)
{
	const struct ksym *x = &sort_target->syms[*(const uint32_t *)a];
	const struct ksym *y = &sort_target->syms[*(const uint32_t *)b];

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (addr_rank(x) != addr_rank(y))
		return addr_rank(x) - addr_rank(y);
	return x < y ? -1 : x > y;	/* symbol table order: the same name every run */
}

static bool wanted_symbol(const GElf_Sym *sym, const char *name)
{
	int type = GELF_ST_TYPE(sym->st_info);

	if (!*name || sym->st_shndx == SHN_UNDEF)
		return false;
	return type == STT_NOTYPE || type == STT_OBJECT || type == STT_FUNC;
}

static struct md_error *index_symbols(struct kdump_target *kt)
{
	size_t cap = 1;

	while (cap < 2 * kt->nsyms)
		cap <<= 1;
	kt->by_name = calloc(cap, sizeof(*kt->by_name));
	kt->by_addr = malloc((kt->nsyms + 1) * sizeof(*kt->by_addr));
	if (!kt->by_name || !kt->by_addr)
		return nomem();
	kt->by_name_mask = cap - 1;
	for (size_t i = 0; i < kt->nsyms; i++) {
		sym_hash_insert(kt, i);
		if (kt->syms[i].relocated && kt->syms[i].value)
			kt->by_addr[kt->naddr++] = i;
	}
	sort_target = kt;
	qsort(kt->by_addr, kt->naddr, sizeof(*kt->by_addr), by_addr_cmp);
	sort_target = NULL;
	return NULL;
}

static struct md_error *load_symbols(struct kdump_target *kt, Elf_Scn *symscn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(symscn, NULL);
	Elf_Scn *strscn = elf_getscn(kt->elf, sh->sh_link);
	Elf_Data *strs = strscn ? elf_getdata(strscn, NULL) : NULL;
	size_t n;

	if (!data || !strs || !strs->d_size || ((char *)strs->d_buf)[strs->d_size - 1])
		return md_error_create(MD_ERR_FORMAT, "%s: unreadable symbol table: %s",
				       kt->vmlinux_path, elf_errmsg(-1));
	n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	kt->syms = malloc((n + 1) * sizeof(*kt->syms));
	if (!kt->syms)
		return nomem();
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		struct ksym *s = &kt->syms[kt->nsyms];

		if (!gelf_getsym(data, i, &sym) || sym.st_name >= strs->d_size)
			continue;
		s->name = (const char *)strs->d_buf + sym.st_name;
		if (!wanted_symbol(&sym, s->name))
			continue;
		s->value = sym.st_value;
		s->size = sym.st_size;
		s->info = sym.st_info;
		/* Per-cpu symbols are offsets (0-based), absolute ones are
		 * constants: neither moves with the kernel image. */
		s->relocated = sym.st_shndx != SHN_ABS && in_kernel_space(kt, sym.st_value);
		kt->nsyms++;
	}
	return index_symbols(kt);
}

/* The image's link-time bounds, where address_name() will look. */
static void find_image_bounds(struct kdump_target *kt)
{
	const struct ksym *start = sym_lookup(kt, "_text");
	const struct ksym *end = sym_lookup(kt, "_end");

	if (!start)
		start = sym_lookup(kt, "_stext");
	kt->image_start = start ? start->value : 0;
	kt->image_end = end ? end->value : UINT64_MAX;
}

/* ------------------------------------------------------------------------ */
/* The vmlinux file                                                         */

/* Bytes of the file behind a link-time address, or NULL. */
static const char *vmlinux_bytes(struct kdump_target *kt, uint64_t addr, size_t *avail)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(kt->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || addr < sh.sh_addr || addr - sh.sh_addr >= sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || addr - sh.sh_addr >= d->d_size)
			return NULL;
		*avail = d->d_size - (addr - sh.sh_addr);
		return (const char *)d->d_buf + (addr - sh.sh_addr);
	}
	return NULL;
}

static struct md_error *load_banner(struct kdump_target *kt)
{
	const struct ksym *s = sym_lookup(kt, "linux_banner");
	const char *text;
	size_t avail, len;

	if (!s)
		return md_error_create(MD_ERR_FORMAT, "%s: not a Linux kernel: no linux_banner symbol",
				       kt->vmlinux_path);
	text = vmlinux_bytes(kt, s->value, &avail);
	if (!text)
		return md_error_create(MD_ERR_FORMAT, "%s: linux_banner is not in the file",
				       kt->vmlinux_path);
	len = strnlen(text, avail < 1024 ? avail : 1024);
	kt->banner = strndup(text, len);
	kt->banner_len = len + 1;
	kt->banner_addr = s->value;
	return kt->banner ? NULL : nomem();
}

static struct md_error *load_btf(struct kdump_target *kt, Elf_Scn *scn)
{
	Elf_Data *d = elf_getdata(scn, NULL);

	if (!d || !d->d_size)
		return md_error_create(MD_ERR_FORMAT, "%s: unreadable .BTF section: %s",
				       kt->vmlinux_path, elf_errmsg(-1));
	return md_btf_types_from_data(d->d_buf, d->d_size, kt->vmlinux_path, &kt->types);
}

static struct md_error *check_vmlinux_header(struct kdump_target *kt)
{
	GElf_Ehdr eh;

	if (elf_kind(kt->elf) != ELF_K_ELF || !gelf_getehdr(kt->elf, &eh))
		return md_error_create(MD_ERR_FORMAT, "%s: not an ELF file, so not a vmlinux",
				       kt->vmlinux_path);
	if (eh.e_type == ET_CORE)
		return md_error_create(MD_ERR_FORMAT,
				       "%s: is a core dump, not a vmlinux (arguments swapped?)",
				       kt->vmlinux_path);
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return md_error_create(MD_ERR_FORMAT, "%s: not a vmlinux (ELF type %u)",
				       kt->vmlinux_path, (unsigned)eh.e_type);
	kt->kernel_space_high = gelf_getclass(kt->elf) == ELFCLASS64;
	return NULL;
}

static struct md_error *open_vmlinux(struct kdump_target *kt)
{
	Elf_Scn *scn = NULL, *symscn = NULL, *btfscn = NULL;
	GElf_Shdr symsh = { 0 };
	struct md_error *err;
	size_t shstrndx;

	kt->vmlinux_fd = open(kt->vmlinux_path, O_RDONLY | O_CLOEXEC);
	if (kt->vmlinux_fd < 0)
		return md_error_create(MD_ERR_OS, "%s: %s", kt->vmlinux_path, strerror(errno));
	elf_version(EV_CURRENT);
	/* Mapped, not read: only the sections used below are ever touched. */
	kt->elf = elf_begin(kt->vmlinux_fd, ELF_C_READ_MMAP, NULL);
	if (!kt->elf)
		return md_error_create(MD_ERR_FORMAT, "%s: %s", kt->vmlinux_path, elf_errmsg(-1));
	if ((err = check_vmlinux_header(kt)))
		return err;
	if (elf_getshdrstrndx(kt->elf, &shstrndx))
		return md_error_create(MD_ERR_FORMAT, "%s: %s", kt->vmlinux_path, elf_errmsg(-1));
	while ((scn = elf_nextscn(kt->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(kt->elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB) {
			symscn = scn;
			symsh = sh;
		} else if (name && !strcmp(name, ".BTF")) {
			btfscn = scn;
		}
	}
	if (!symscn)
		return md_error_create(MD_ERR_FORMAT,
				       "%s: has no symbol table (.symtab): a stripped vmlinux?",
				       kt->vmlinux_path);
	if (!btfscn)	/* a DWARF fallback may come one day */
		return md_error_create(MD_ERR_FORMAT, "%s: vmlinux has no .BTF section",
				       kt->vmlinux_path);
	if ((err = load_symbols(kt, symscn, &symsh)) || (err = load_banner(kt)) ||
	    (err = load_btf(kt, btfscn)))
		return err;
	find_image_bounds(kt);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* The dump                                                                 */

static struct md_error *dump_error(struct kdump_target *kt, const char *what);

static const char *space_name(enum md_addr_space space)
{
	return space == MD_PHYSADDR ? "physical" : "kernel virtual";
}

static struct md_error *read_error(struct kdump_target *kt, kdump_status st,
				   enum md_addr_space space, uint64_t addr, size_t got)
{
	const char *why = st == KDUMP_ERR_NODATA ? "page not in the dump: " :
			  st == KDUMP_ERR_ADDRXLAT ? "not mapped: " :
			  st == KDUMP_ERR_EOF ? "dump file ends early: " : "";
	const char *msg = st == KDUMP_OK ? "short read" : kdump_get_err(kt->kd);

	if (!msg)
		msg = kdump_strerror(st);
	if (got)	/* name the page that failed, too */
		return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): at 0x%" PRIx64
				       ": %s%s", addr, space_name(space), addr + got, why, msg);
	return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): %s%s", addr,
			       space_name(space), why, msg);
}

/* Bytes from addr on that are in pages the file holds, up to len.
 *
 * libkdumpfile 0.5.1 (Debian 12) must not be asked for a page that
 * makedumpfile left out of a kdump-compressed file: after such a read
 * fails, a later read can crash inside kdump_read() (a memcpy from a cache
 * entry with no data; seen on the lab's filtered 6.12 dumps, e.g. reading
 * .data page by page after a read that met an excluded page), or fail with
 * a bogus "Decompression failed".  So each page is looked up in the
 * file's own bitmap first, as crash and makedumpfile do. */
static bool bit_set(const unsigned char *bits, uint64_t nbits, uint64_t i)
{
	return i < nbits && bits[i / 8] & (1 << (i % 8));
}

/* libaddrxlat reads page tables through libkdumpfile's page cache too: in a
 * file cut short, a page-table page past the end must fail here, before
 * libkdumpfile decompresses bytes that are not there (`slableak -u` on a
 * filtered 6.1 dump cut at 95% crashed inside kdump_read() so, translating
 * a vmemmap address whose PTE page was past the end). */
static addrxlat_status cut_guard_get_page(const addrxlat_cb_t *cb, addrxlat_buffer_t *buf)
{
	const struct kdump_target *kt = cb->priv;

	if ((buf->addr.as == ADDRXLAT_KPHYSADDR || buf->addr.as == ADDRXLAT_MACHPHYSADDR) &&
	    bit_set(kt->cut, kt->cut_pfns, buf->addr.addr / kt->cut_page_size))
		return addrxlat_ctx_err(kt->xlat_ctx, ADDRXLAT_ERR_NODATA, "page table page 0x%" PRIx64
					" not in the dump: past the end of the truncated file", buf->addr.addr);
	return cb->next->get_page(cb->next, buf);
}

/* How much of [addr, addr + len) the file holds; where it stops, *missing
 * says why (NULL when kdump_read() is left to say it: not mapped). */
static size_t present_prefix(struct kdump_target *kt, enum md_addr_space space, uint64_t addr,
			     size_t len, const char **missing)
{
	/* when both bitmaps exist (a cut kdump file) their pages are the same */
	const uint64_t page = kt->cut ? kt->cut_page_size : kt->dumped_page_size;
	size_t done = 0;

	*missing = NULL;
	while (done < len) {
		addrxlat_fulladdr_t fa = {
			addr + done, space == MD_PHYSADDR ? ADDRXLAT_KPHYSADDR : ADDRXLAT_KVADDR };
		size_t piece = page - ((addr + done) & (page - 1));

		if (space != MD_PHYSADDR &&
		    addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, kt->xlat_ctx, kt->xlat_sys) != ADDRXLAT_OK)
			break;	/* not mapped: kdump_read() says so itself */
		if (kt->cut && bit_set(kt->cut, kt->cut_pfns, fa.addr / kt->cut_page_size)) {
			*missing = "past the end of the truncated file";
			break;
		}
		if (kt->dumped && !bit_set(kt->dumped, kt->dumped_pfns, fa.addr / kt->dumped_page_size)) {
			*missing = "excluded by makedumpfile";
			break;
		}
		done += piece < len - done ? piece : len - done;
	}
	return done;
}

static struct md_error *kt_read(void *priv, enum md_addr_space space, uint64_t addr,
				void *buf, size_t len)
{
	struct kdump_target *kt = priv;
	kdump_addrspace_t as = space == MD_PHYSADDR ? KDUMP_KPHYSADDR : KDUMP_KVADDR;
	size_t got = len, present;
	const char *missing;
	kdump_status st;

	if (len == 0)
		return NULL;
	if ((kt->dumped || kt->cut) && (present = present_prefix(kt, space, addr, len, &missing)) < len &&
	    missing) {
		struct md_error *err;

		if (present && (err = kt_read(priv, space, addr, buf, present)))
			return err;
		if (present)
			return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): at 0x%" PRIx64
					       ": page not in the dump: %s",
					       addr, space_name(space), addr + present, missing);
		return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): page not in the "
				       "dump: %s", addr, space_name(space), missing);
	}
	st = kdump_read(kt->kd, as, addr, buf, &got);
	if (st == KDUMP_OK && got == len)
		return NULL;
	return read_error(kt, st, space, addr, got < len ? got : 0);
}

/* VMCOREINFO's value for key, from the raw text: NULL if absent. */
static const char *vmcoreinfo_value(const struct kdump_target *kt, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = kt->vmcoreinfo;

	if (!p || !klen)
		return NULL;
	for (; *p; p = strchrnul(p, '\n'), p += *p == '\n') {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			*len = strchrnul(p, '\n') - p;
			return p;
		}
	}
	return NULL;
}

static struct md_error *kt_vmcoreinfo(void *priv, const char *key, char *buf, size_t len)
{
	struct kdump_target *kt = priv;
	size_t n;
	const char *v = strchr(key, '=') ? NULL : vmcoreinfo_value(kt, key, &n);

	if (!v)
		return md_error_create(MD_ERR_LOOKUP, "no VMCOREINFO %s%s", key,
				       kt->vmcoreinfo ? "" : " (the dump has no VMCOREINFO)");
	if (n >= len)
		return md_error_create(MD_ERR_INVALID, "VMCOREINFO %s is longer than %zu bytes", key,
				       len ? len - 1 : 0);
	memcpy(buf, v, n);
	buf[n] = '\0';
	return NULL;
}

static struct md_error *truncated(struct kdump_target *kt, uint64_t have, uint64_t need)
{
	return md_error_create(MD_ERR_FORMAT, "%s: truncated dump: the file has %" PRIu64
			       " bytes, its headers need at least %" PRIu64 " (an incomplete copy?)",
			       kt->vmcore_path, have, need);
}

/* A page past the end of a truncated file (cut_page_size pages). */
static void mark_cut(struct kdump_target *kt, uint64_t pfn)
{
	if (pfn < kt->cut_pfns && !bit_set(kt->cut, kt->cut_pfns, pfn)) {
		kt->cut[pfn / 8] |= 1 << (pfn % 8);
		kt->cut_pages++;
	}
}

static struct md_error *new_cut_bitmap(struct kdump_target *kt, uint64_t pfns, uint64_t page_size,
				       uint64_t fsize, uint64_t need)
{
	if (!(kt->cut = calloc(pfns / 8 + 1, 1)))
		return nomem();
	kt->cut_pfns = pfns;
	kt->cut_page_size = page_size;
	kt->file_size = fsize;
	kt->file_need = need;
	return NULL;
}

/* The page size of an ELF dump's segments: x86-64's, the only
 * architecture memdiag reads. */
#define ELF_DUMP_PAGE 4096

/* libkdumpfile opens a cut-off ELF dump and fails later, obscurely:
 * compare what the program headers promise with the file.  Cut in its
 * notes, it is refused; cut in its page data, the pages past the end are
 * marked and the rest is read. */
static struct md_error *check_elf_length(struct kdump_target *kt, uint64_t fsize)
{
	Elf *elf = elf_begin(kt->vmcore_fd, ELF_C_READ_MMAP, NULL);
	uint64_t need = 0, notes = 0, top = 0;
	struct md_error *err = NULL;
	GElf_Phdr ph;
	size_t n = 0;

	if (!elf || elf_getphdrnum(elf, &n))
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph))
			continue;
		need = ph.p_offset + ph.p_filesz > need ? ph.p_offset + ph.p_filesz : need;
		if (ph.p_type == PT_NOTE && ph.p_offset + ph.p_filesz > notes)
			notes = ph.p_offset + ph.p_filesz;
		if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_memsz > top)
			top = ph.p_paddr + ph.p_memsz;
	}
	if (need <= fsize)
		goto out;
	if (notes > fsize) {
		err = truncated(kt, fsize, need);
		goto out;
	}
	if ((err = new_cut_bitmap(kt, top / ELF_DUMP_PAGE + 1, ELF_DUMP_PAGE, fsize, need)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t first;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || ph.p_offset + ph.p_filesz <= fsize)
			continue;
		/* from the page that holds the file's end to the segment's */
		first = fsize > ph.p_offset ? ph.p_paddr + (fsize - ph.p_offset) : ph.p_paddr;
		for (uint64_t pa = first & ~(uint64_t)(ELF_DUMP_PAGE - 1); pa < ph.p_paddr + ph.p_filesz;
		     pa += ELF_DUMP_PAGE)
			mark_cut(kt, pa / ELF_DUMP_PAGE);
	}
out:
	elf_end(elf);
	return err;
}

/* makedumpfile's kdump-compressed layout (its diskdump_mod.h), as far as
 * needed to know how long a complete file is. */
enum {
	DD_VERSION = 8, DD_SUB_SPLIT = 12,	/* the latter in the sub-header, block 1 */
	DD_STATUS = 424, DD_BLOCK_SIZE = 428, DD_SUB_HDR_SIZE = 432, DD_BITMAP_BLOCKS = 436,
	DD_HEADER_END = 464, DD_INCOMPLETE = 0x8, DD_DESC_SIZE = 24,
};

static uint32_t dd_u32(struct kdump_target *kt, const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return kdump_d32toh(kt->kd, v);
}

/* Set bits of the second (dumped pages) bitmap: one page descriptor each. */
static bool count_dumped(struct kdump_target *kt, uint64_t off, uint64_t len, uint64_t *ret)
{
	unsigned char buf[65536];

	*ret = 0;
	while (len) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);

		if (pread(kt->vmcore_fd, buf, chunk, off) != (ssize_t)chunk)
			return false;
		for (size_t i = 0; i < chunk; i++)
			*ret += __builtin_popcount(buf[i]);
		off += chunk;
		len -= chunk;
	}
	return true;
}

/* Where the page data ends: at the last page written in page order.
 * makedumpfile points every zero page at one shared copy, the first data
 * page, so those say nothing about the end.  0 if unreadable. */
static uint64_t data_end(struct kdump_target *kt, uint64_t descs, uint64_t npages)
{
	unsigned char buf[2048 * DD_DESC_SIZE];
	uint64_t zero_page = descs + npages * DD_DESC_SIZE, off, end = 0;

	while (npages && !end) {
		uint64_t n = npages < 2048 ? npages : 2048;

		npages -= n;
		if (pread(kt->vmcore_fd, buf, n * DD_DESC_SIZE, descs + npages * DD_DESC_SIZE) !=
		    (ssize_t)(n * DD_DESC_SIZE))
			return 0;
		while (n-- && !end) {
			memcpy(&off, buf + n * DD_DESC_SIZE, sizeof(off));
			off = kdump_d64toh(kt->kd, off);
			if (off != zero_page || (!npages && !n))
				end = off + dd_u32(kt, buf + n * DD_DESC_SIZE + 8);
		}
	}
	return end;
}

/* The second bitmap in memory (a bit per pfn, least significant first). */
static struct md_error *load_dumped_bitmap(struct kdump_target *kt, uint64_t off, uint64_t len,
					  uint64_t page_size)
{
	if (!(kt->dumped = malloc(len ? len : 1)))
		return nomem();
	if (pread(kt->vmcore_fd, kt->dumped, len, off) != (ssize_t)len)
		return md_error_create(MD_ERR_FORMAT, "%s: cannot read the page bitmap", kt->vmcore_path);
	kt->dumped_pfns = len * 8;
	kt->dumped_page_size = page_size;
	return NULL;
}

/* A kdump-compressed file cut in its page data (end: where the data
 * should end, data_end()): every dumped page whose data is past the end
 * is marked.  The descriptors follow the dumped
 * pages in pfn order.  (Its page tables are usually among the last pages
 * written, allocated top-down at boot: then libkdumpfile cannot set up
 * the translation, and libkdumpfile 0.5.1 leaks 104 bytes doing so.) */
static struct md_error *mark_cut_pages(struct kdump_target *kt, uint64_t descs, uint64_t npages,
				       uint64_t fsize, uint64_t end)
{
	unsigned char buf[2048 * DD_DESC_SIZE];
	uint64_t pfn = 0, i = 0;
	struct md_error *err;

	if ((err = new_cut_bitmap(kt, kt->dumped_pfns, kt->dumped_page_size, fsize, end)))
		return err;
	while (i < npages) {
		uint64_t n = npages - i < 2048 ? npages - i : 2048;
		ssize_t got = pread(kt->vmcore_fd, buf, n * DD_DESC_SIZE, descs + i * DD_DESC_SIZE);
		uint64_t whole = got > 0 ? (uint64_t)got / DD_DESC_SIZE : 0;

		for (uint64_t k = 0; k < n; k++, i++, pfn++) {
			uint64_t off;

			while (pfn < kt->dumped_pfns && !bit_set(kt->dumped, kt->dumped_pfns, pfn))
				pfn++;
			if (k >= whole) {
				mark_cut(kt, pfn);
				continue;
			}
			memcpy(&off, buf + k * DD_DESC_SIZE, sizeof(off));
			off = kdump_d64toh(kt->kd, off) + dd_u32(kt, buf + k * DD_DESC_SIZE + 8);
			if (off > fsize)
				mark_cut(kt, pfn);
		}
	}
	return NULL;
}

static struct md_error *check_diskdump_length(struct kdump_target *kt, uint64_t fsize)
{
	unsigned char h[DD_HEADER_END], split[4];
	struct md_error *err;
	uint64_t block, bitmap, bitmap_len, descs, npages, end;

	if (pread(kt->vmcore_fd, h, sizeof(h), 0) != sizeof(h) || memcmp(h, "KDUMP   ", 8) ||
	    dd_u32(kt, h + DD_STATUS) & DD_INCOMPLETE)
		return NULL;	/* not one we know the layout of: trust libkdumpfile */
	block = dd_u32(kt, h + DD_BLOCK_SIZE);
	if (block < 512 || block > (1 << 20) || (block & (block - 1)))
		return NULL;
	/* makedumpfile --split: each file holds a range of pages the bitmap
	 * does not say, so the count below would be wrong. */
	if (dd_u32(kt, h + DD_VERSION) >= 2 &&
	    (pread(kt->vmcore_fd, split, 4, block + DD_SUB_SPLIT) != 4 || dd_u32(kt, split)))
		return NULL;
	bitmap = (1 + (uint64_t)dd_u32(kt, h + DD_SUB_HDR_SIZE)) * block;
	bitmap_len = (uint64_t)dd_u32(kt, h + DD_BITMAP_BLOCKS) * block;
	descs = bitmap + bitmap_len;
	if (descs > fsize)
		return truncated(kt, fsize, descs);
	if (!count_dumped(kt, bitmap + bitmap_len / 2, bitmap_len / 2, &npages))
		return truncated(kt, fsize, descs);
	if ((err = load_dumped_bitmap(kt, bitmap + bitmap_len / 2, bitmap_len / 2, block)))
		return err;
	/* Cut in its descriptors, nothing past the cut can be found. */
	if (descs + npages * DD_DESC_SIZE > fsize)
		return truncated(kt, fsize, descs + npages * DD_DESC_SIZE);
	end = data_end(kt, descs, npages);
	return end > fsize ? mark_cut_pages(kt, descs, npages, fsize, end) : NULL;
}

static struct md_error *check_dump_length(struct kdump_target *kt)
{
	const char *format = NULL;
	struct stat st;

	if (fstat(kt->vmcore_fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	if (kdump_get_string_attr(kt->kd, KDUMP_ATTR_FILE_FORMAT, &format) != KDUMP_OK)
		return NULL;
	if (!strcmp(format, "elf"))
		return check_elf_length(kt, st.st_size);
	if (!strcmp(format, "diskdump"))
		return check_diskdump_length(kt, st.st_size);
	return NULL;
}

/* libkdumpfile's name for the vmlinux's machine, when the dump has none. */
static const char *arch_name(Elf *elf)
{
	GElf_Ehdr eh;

	if (!gelf_getehdr(elf, &eh))
		return NULL;
	switch (eh.e_machine) {
	case EM_X86_64: return KDUMP_ARCH_X86_64;
	case EM_386: return KDUMP_ARCH_IA32;
	case EM_AARCH64: return KDUMP_ARCH_AARCH64;
	case EM_PPC64: return KDUMP_ARCH_PPC64;
	case EM_S390: return KDUMP_ARCH_S390X;
	case EM_ARM: return KDUMP_ARCH_ARM;
	default: return NULL;
	}
}

static struct md_error *dump_error(struct kdump_target *kt, const char *what)
{
	const char *msg = kdump_get_err(kt->kd);

	return md_error_create(MD_ERR_FORMAT, "%s: %s: %s", kt->vmcore_path, what,
			       msg ? msg : "unknown error");
}

/* QEMU's kdump files leave utsname blank: libkdumpfile then knows no
 * architecture.  Kernel virtual reads need the OS type set. */
static struct md_error *setup_translation(struct kdump_target *kt)
{
	const char *arch = NULL;

	if (kdump_get_string_attr(kt->kd, KDUMP_ATTR_ARCH_NAME, &arch) != KDUMP_OK || !arch) {
		arch = arch_name(kt->elf);
		if (!arch)
			return md_error_create(MD_ERR_FORMAT,
					       "%s: the dump does not name its architecture and "
					       "memdiag does not know the vmlinux's", kt->vmcore_path);
		if (kdump_set_string_attr(kt->kd, KDUMP_ATTR_ARCH_NAME, arch) != KDUMP_OK)
			return dump_error(kt, "cannot set the architecture");
	}
	if (kdump_set_string_attr(kt->kd, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK)
		return dump_error(kt, "cannot set up Linux address translation");
	return NULL;
}

static struct md_error *read_vmcoreinfo(struct kdump_target *kt)
{
	const char *v;
	size_t n;

	/* Absent (no fw_cfg in a QEMU guest) is allowed: no KASLR offset then. */
	if (kdump_vmcoreinfo_raw(kt->kd, &kt->vmcoreinfo) != KDUMP_OK)
		kt->vmcoreinfo = NULL;
	kt->kaslr_offset = 0;
	if ((v = vmcoreinfo_value(kt, "KERNELOFFSET", &n)))
		kt->kaslr_offset = strtoull(v, NULL, 16);
	return NULL;
}

static struct md_error *open_dump(struct kdump_target *kt)
{
	struct md_error *err;

	kt->vmcore_fd = open(kt->vmcore_path, O_RDONLY | O_CLOEXEC);
	if (kt->vmcore_fd < 0)
		return md_error_create(MD_ERR_OS, "%s: %s", kt->vmcore_path, strerror(errno));
	kt->kd = kdump_new();
	if (!kt->kd)
		return nomem();
	if (kdump_open_fd(kt->kd, kt->vmcore_fd) != KDUMP_OK)
		return dump_error(kt, "not a dump libkdumpfile can read");
	if ((err = check_dump_length(kt)) || (err = setup_translation(kt)) ||
	    (err = read_vmcoreinfo(kt)))
		return err;
	/* For the dumped-page check: translation as set up above. */
	if ((kt->dumped || kt->cut) && kdump_get_addrxlat(kt->kd, &kt->xlat_ctx, &kt->xlat_sys) != KDUMP_OK)
		return dump_error(kt, "no address translation");
	if (kt->cut) {
		if (!(kt->cut_guard = addrxlat_ctx_add_cb(kt->xlat_ctx)))
			return nomem();
		kt->cut_guard->priv = kt;
		kt->cut_guard->get_page = cut_guard_get_page;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Same build?                                                              */

/* The release in a banner, "Linux version RELEASE (...": malloc'd. */
static char *banner_release(const char *banner)
{
	const char *p = strstr(banner, "Linux version ");

	if (!p)
		return strdup("(unknown release)");
	p += strlen("Linux version ");
	return strndup(p, strcspn(p, " \n"));
}

static int line_len(const char *s)
{
	return (int)strcspn(s, "\n");
}

static struct md_error *mismatch(struct kdump_target *kt, const char *dump_release,
				 const char *dump_banner)
{
	char *mine = banner_release(kt->banner);
	struct md_error *err;

	if (!mine)
		return nomem();
	if (strcmp(mine, dump_release))
		err = md_error_create(MD_ERR_MISMATCH, "%s and %s are different kernels: "
				      "vmlinux is %s but the dump is %s", kt->vmlinux_path,
				      kt->vmcore_path, mine, dump_release);
	else
		err = md_error_create(MD_ERR_MISMATCH, "%s and %s are different builds of %s: "
				      "vmlinux says \"%.*s\" but the dump \"%.*s\"",
				      kt->vmlinux_path, kt->vmcore_path, mine, line_len(kt->banner),
				      kt->banner, line_len(dump_banner), dump_banner);
	free(mine);
	return err;
}

/* VMCOREINFO's OSRELEASE against the vmlinux's: cheap, and it needs no
 * read that a wrong KASLR offset or a different layout would spoil. */
static struct md_error *compare_release(struct kdump_target *kt)
{
	char release[256], *mine = banner_release(kt->banner);
	struct md_error *err = NULL;
	size_t n;
	const char *v = vmcoreinfo_value(kt, "OSRELEASE", &n);

	if (!mine)
		return nomem();
	if (v && n < sizeof(release)) {
		memcpy(release, v, n);
		release[n] = '\0';
		if (strcmp(release, mine))
			err = mismatch(kt, release, "");
	}
	free(mine);
	return err;
}

/* The dump's own linux_banner, where the vmlinux says it is (KASLR
 * applied), must be the vmlinux's byte for byte: same release is not
 * same build. */
static struct md_error *compare_banner(struct kdump_target *kt)
{
	char *theirs = malloc(kt->banner_len), *release;
	struct md_error *err;

	if (!theirs)
		return nomem();
	err = kt_read(kt, MD_KVADDR, kt->banner_addr + kt->kaslr_offset, theirs, kt->banner_len);
	if (err) {
		free(theirs);
		return md_error_wrap(err, "%s: cannot read linux_banner to check it matches %s%s",
				     kt->vmcore_path, kt->vmlinux_path, kt->vmcoreinfo ? "" :
				     " (the dump has no VMCOREINFO, so any KASLR offset is unknown)");
	}
	if (!memcmp(theirs, kt->banner, kt->banner_len)) {
		free(theirs);
		return NULL;
	}
	theirs[kt->banner_len - 1] = '\0';
	release = banner_release(theirs);
	err = release ? mismatch(kt, release, theirs) : nomem();
	free(release);
	free(theirs);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Symbol operations                                                        */

static struct md_error *kt_symbol_address(void *priv, const char *name, uint64_t *ret)
{
	struct kdump_target *kt = priv;
	const struct ksym *s = sym_lookup(kt, name);

	if (!s)
		return md_error_create(MD_ERR_LOOKUP, "no symbol %s", name);
	*ret = s->value + (s->relocated ? kt->kaslr_offset : 0);
	return NULL;
}

/* Index into by_addr of the last symbol at or below v, or -1. */
static ssize_t addr_floor(const struct kdump_target *kt, uint64_t v)
{
	size_t lo = 0, hi = kt->naddr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (kt->syms[kt->by_addr[mid]].value <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

static struct md_error *kt_address_name(void *priv, uint64_t addr, char *buf, size_t len)
{
	struct kdump_target *kt = priv;
	uint64_t v = addr - kt->kaslr_offset, size = 0;
	const struct ksym *s;
	ssize_t i;

	if (len == 0)
		return md_error_create(MD_ERR_INVALID, "no room for a name");
	/* Modules are the core's business (the dump's own module list). */
	if (v < kt->image_start || v >= kt->image_end || (i = addr_floor(kt, v)) < 0)
		return md_error_create(MD_ERR_LOOKUP, "no kernel symbol at 0x%" PRIx64, addr);
	/* Aliases sort best first: walk back to the best, keeping the size. */
	s = &kt->syms[kt->by_addr[i]];
	for (; i >= 0 && kt->syms[kt->by_addr[i]].value == s->value; i--) {
		if (kt->syms[kt->by_addr[i]].size > size)
			size = kt->syms[kt->by_addr[i]].size;
	}
	s = &kt->syms[kt->by_addr[i + 1]];
	if (size ? v - s->value >= size : v - s->value >= (1 << 20))
		return md_error_create(MD_ERR_LOOKUP, "no kernel symbol at 0x%" PRIx64
				       " (past the end of %s)", addr, s->name);
	snprintf(buf, len, "%s+0x%" PRIx64, s->name, v - s->value);
	return NULL;
}

static bool kt_interrupted(void *priv)
{
	return interrupt_flag && *interrupt_flag;
}

static struct md_error *kt_type_size(void *priv, const char *type, uint64_t *ret)
{
	return md_btf_type_size(((struct kdump_target *)priv)->types, type, ret);
}

static struct md_error *kt_member(void *priv, const char *type, const char *member,
				  struct md_member *ret)
{
	return md_btf_member(((struct kdump_target *)priv)->types, type, member, ret);
}

static struct md_error *kt_enumerator(void *priv, const char *name, int64_t *ret)
{
	return md_btf_enumerator(((struct kdump_target *)priv)->types, name, ret);
}

static const struct md_target_ops kdump_target_ops = {
	.read = kt_read,
	.symbol_address = kt_symbol_address,
	.type_size = kt_type_size,
	.member = kt_member,
	.enumerator = kt_enumerator,
	.vmcoreinfo = kt_vmcoreinfo,
	.address_name = kt_address_name,
	.interrupted = kt_interrupted,
};

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */

/* The warning for a file cut in its page data. */
static struct md_error *describe_truncation(struct kdump_target *kt)
{
	if (!kt->cut || !kt->cut_pages)
		return NULL;
	if (asprintf(&kt->truncation, "%s: truncated dump: the file has %" PRIu64 " bytes of the "
		     "%" PRIu64 " it needs (an incomplete copy?); %" PRIu64 " pages (%" PRIu64 " MiB) "
		     "past its end are missing, the rest is read", kt->vmcore_path, kt->file_size,
		     kt->file_need, kt->cut_pages, (kt->cut_pages * kt->cut_page_size) >> 20) < 0) {
		kt->truncation = NULL;
		return nomem();
	}
	return NULL;
}

struct md_error *md_kdump_target_open(const char *vmlinux, const char *vmcore,
				      struct md_target **ret)
{
	struct kdump_target *kt = calloc(1, sizeof(*kt));
	struct md_error *err;

	if (!kt)
		return nomem();
	kt->target.ops = &kdump_target_ops;
	kt->target.priv = kt;
	kt->vmlinux_path = vmlinux;
	kt->vmcore_path = vmcore;
	kt->vmlinux_fd = kt->vmcore_fd = -1;
	if ((err = open_vmlinux(kt)) || (err = open_dump(kt)) || (err = compare_release(kt)) ||
	    (err = compare_banner(kt)) || (err = describe_truncation(kt))) {
		if (kt->cut_pages && md_error_root_code(err) != MD_ERR_NOMEM) {
			/* libkdumpfile's own complaint ("Decompression failed")
			 * would hide the cause: the page tables or the banner
			 * are past the end. */
			md_error_destroy(err);
			err = md_error_create(MD_ERR_FORMAT, "%s: truncated dump: the file has %" PRIu64
					      " bytes of the %" PRIu64 " it needs, and the pages needed "
					      "to open it (page tables, linux_banner) are past its end "
					      "(an incomplete copy?)", vmcore, kt->file_size, kt->file_need);
		}
		md_kdump_target_close(&kt->target);
		return err;
	}
	*ret = &kt->target;
	return NULL;
}

const char *md_kdump_target_truncation(const struct md_target *t)
{
	return ((const struct kdump_target *)t->priv)->truncation;
}

void md_kdump_target_close(struct md_target *t)
{
	struct kdump_target *kt;

	if (!t)
		return;
	kt = t->priv;
	free(kt->vmcoreinfo);
	free(kt->dumped);
	free(kt->cut);
	free(kt->truncation);
	if (kt->cut_guard)
		addrxlat_ctx_del_cb(kt->xlat_ctx, kt->cut_guard);
	if (kt->xlat_ctx)
		addrxlat_ctx_decref(kt->xlat_ctx);
	if (kt->xlat_sys)
		addrxlat_sys_decref(kt->xlat_sys);
	if (kt->kd)
		kdump_free(kt->kd);
	if (kt->vmcore_fd >= 0)
		close(kt->vmcore_fd);
	md_btf_types_destroy(kt->types);
	free(kt->banner);
	free(kt->by_addr);
	free(kt->by_name);
	free(kt->syms);
	elf_end(kt->elf);
	if (kt->vmlinux_fd >= 0)
		close(kt->vmlinux_fd);
	free(kt);
}
