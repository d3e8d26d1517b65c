/* The dump file, through libkdumpfile (see dumpfile.h): reads, VMCOREINFO,
 * and what a damaged file lacks, found before libkdumpfile trips on it. */
#include "dumpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct md_dumpfile {
	const char *path;	/* the caller's, for messages */
	const char *arch_hint;	/* libkdumpfile's name, for a dump that gives none */
	int fd;
	kdump_ctx_t *kd;
	/* kdump-compressed files: the pages the file holds (the second
	 * bitmap), a bit per pfn, so that libkdumpfile is never asked for a
	 * page makedumpfile left out (see md_dumpfile_read()).  NULL for ELF. */
	unsigned char *dumped;
	uint64_t dumped_pfns, dumped_page_size;	/* the header's block_size */
	/* A file cut short in its page data (an incomplete copy): the pages
	 * past its end, a bit per pfn of cut_page_size, so that a read of one
	 * says so instead of reading past the end.  NULL if the file is whole;
	 * a file cut in its headers is refused. */
	unsigned char *cut;
	uint64_t cut_pfns, cut_page_size, cut_pages;
	uint64_t file_size, file_need;
	char *truncation;	/* the warning, for md_dumpfile_truncation() */
	addrxlat_ctx_t *xlat_ctx;
	addrxlat_sys_t *xlat_sys;
	addrxlat_cb_t *cut_guard;	/* in xlat_ctx, for a cut file: cut_guard_get_page() */
	char *vmcoreinfo;	/* raw text, NULL if the dump has none */
	uint64_t kaslr_offset;
};

static struct md_error *dump_error(struct md_dumpfile *df, const char *what);

static const char *space_name(enum md_addr_space space)
{
	return space == MD_PHYSADDR ? "physical" : "kernel virtual";
}

/* kd: the context whose kdump_read() failed (its own error string). */
static struct md_error *read_error(kdump_ctx_t *kd, kdump_status st,
				   enum md_addr_space space, uint64_t addr, size_t got)
{
	const char *why = st == KDUMP_ERR_NODATA ? "page not in the dump: " :
			  st == KDUMP_ERR_ADDRXLAT ? "not mapped: " :
			  st == KDUMP_ERR_EOF ? "dump file ends early: " : "";
	const char *msg = st == KDUMP_OK ? "short read" : kdump_get_err(kd);

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
	const struct md_dumpfile *df = cb->priv;

	if ((buf->addr.as == ADDRXLAT_KPHYSADDR || buf->addr.as == ADDRXLAT_MACHPHYSADDR) &&
	    bit_set(df->cut, df->cut_pfns, buf->addr.addr / df->cut_page_size))
		return addrxlat_ctx_err(df->xlat_ctx, ADDRXLAT_ERR_NODATA, "page table page 0x%" PRIx64
					" not in the dump: past the end of the truncated file", buf->addr.addr);
	return cb->next->get_page(cb->next, buf);
}

/* How much of [addr, addr + len) the file holds; where it stops, *missing
 * says why (NULL when kdump_read() is left to say it: not mapped). */
static size_t present_prefix(struct md_dumpfile *df, enum md_addr_space space, uint64_t addr,
			     size_t len, const char **missing)
{
	/* when both bitmaps exist (a cut kdump file) their pages are the same */
	const uint64_t page = df->cut ? df->cut_page_size : df->dumped_page_size;
	size_t done = 0;

	*missing = NULL;
	while (done < len) {
		addrxlat_fulladdr_t fa = {
			addr + done, space == MD_PHYSADDR ? ADDRXLAT_KPHYSADDR : ADDRXLAT_KVADDR };
		size_t piece = page - ((addr + done) & (page - 1));

		if (space != MD_PHYSADDR &&
		    addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, df->xlat_ctx, df->xlat_sys) != ADDRXLAT_OK)
			break;	/* not mapped: kdump_read() says so itself */
		if (df->cut && bit_set(df->cut, df->cut_pfns, fa.addr / df->cut_page_size)) {
			*missing = "past the end of the truncated file";
			break;
		}
		if (df->dumped && !bit_set(df->dumped, df->dumped_pfns, fa.addr / df->dumped_page_size)) {
			*missing = "excluded by makedumpfile";
			break;
		}
		done += piece < len - done ? piece : len - done;
	}
	return done;
}

struct md_error *md_dumpfile_read(struct md_dumpfile *df, enum md_addr_space space, uint64_t addr,
				   void *buf, size_t len)
{
	kdump_addrspace_t as = space == MD_PHYSADDR ? KDUMP_KPHYSADDR : KDUMP_KVADDR;
	size_t got = len, present;
	const char *missing;
	kdump_status st;

	if (len == 0)
		return NULL;
	if ((df->dumped || df->cut) && (present = present_prefix(df, space, addr, len, &missing)) < len &&
	    missing) {
		struct md_error *err;

		if (present && (err = md_dumpfile_read(df, space, addr, buf, present)))
			return err;
		if (present)
			return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): at 0x%" PRIx64
					       ": page not in the dump: %s",
					       addr, space_name(space), addr + present, missing);
		return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): page not in the "
				       "dump: %s", addr, space_name(space), missing);
	}
	st = kdump_read(df->kd, as, addr, buf, &got);
	if (st == KDUMP_OK && got == len)
		return NULL;
	return read_error(df->kd, st, space, addr, got < len ? got : 0);
}

/* VMCOREINFO's value for key, from the raw text: NULL if absent. */
const char *md_dumpfile_vmcoreinfo_value(const struct md_dumpfile *df, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = df->vmcoreinfo;

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

struct md_error *md_dumpfile_vmcoreinfo(struct md_dumpfile *df, const char *key, char *buf, size_t len)
{
	size_t n;
	const char *v = strchr(key, '=') ? NULL : md_dumpfile_vmcoreinfo_value(df, key, &n);

	if (!v)
		return md_error_create(MD_ERR_LOOKUP, "no VMCOREINFO %s%s", key,
				       df->vmcoreinfo ? "" : " (the dump has no VMCOREINFO)");
	if (n >= len)
		return md_error_create(MD_ERR_INVALID, "VMCOREINFO %s is longer than %zu bytes", key,
				       len ? len - 1 : 0);
	memcpy(buf, v, n);
	buf[n] = '\0';
	return NULL;
}

static struct md_error *truncated(struct md_dumpfile *df, uint64_t have, uint64_t need)
{
	return md_error_create(MD_ERR_FORMAT, "%s: truncated dump: the file has %" PRIu64
			       " bytes, its headers need at least %" PRIu64 " (an incomplete copy?)",
			       df->path, have, need);
}

/* A page past the end of a truncated file (cut_page_size pages). */
static void mark_cut(struct md_dumpfile *df, uint64_t pfn)
{
	if (pfn < df->cut_pfns && !bit_set(df->cut, df->cut_pfns, pfn)) {
		df->cut[pfn / 8] |= 1 << (pfn % 8);
		df->cut_pages++;
	}
}

static struct md_error *new_cut_bitmap(struct md_dumpfile *df, uint64_t pfns, uint64_t page_size,
				       uint64_t fsize, uint64_t need)
{
	if (!(df->cut = calloc(pfns / 8 + 1, 1)))
		return md_error_nomem();
	df->cut_pfns = pfns;
	df->cut_page_size = page_size;
	df->file_size = fsize;
	df->file_need = need;
	return NULL;
}

/* The page size of an ELF dump's segments: x86-64's, the only
 * architecture memdiag reads. */
#define ELF_DUMP_PAGE 4096

/* libkdumpfile opens a cut-off ELF dump and fails later, obscurely:
 * compare what the program headers promise with the file.  Cut in its
 * notes, it is refused; cut in its page data, the pages past the end are
 * marked and the rest is read. */
static struct md_error *check_elf_length(struct md_dumpfile *df, uint64_t fsize)
{
	Elf *elf = elf_begin(df->fd, ELF_C_READ_MMAP, NULL);
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
		err = truncated(df, fsize, need);
		goto out;
	}
	if ((err = new_cut_bitmap(df, top / ELF_DUMP_PAGE + 1, ELF_DUMP_PAGE, fsize, need)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t first;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || ph.p_offset + ph.p_filesz <= fsize)
			continue;
		/* from the page that holds the file's end to the segment's */
		first = fsize > ph.p_offset ? ph.p_paddr + (fsize - ph.p_offset) : ph.p_paddr;
		for (uint64_t pa = first & ~(uint64_t)(ELF_DUMP_PAGE - 1); pa < ph.p_paddr + ph.p_filesz;
		     pa += ELF_DUMP_PAGE)
			mark_cut(df, pa / ELF_DUMP_PAGE);
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

static uint32_t dd_u32(struct md_dumpfile *df, const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return kdump_d32toh(df->kd, v);
}

/* Set bits of the second (dumped pages) bitmap: one page descriptor each. */
static bool count_dumped(struct md_dumpfile *df, uint64_t off, uint64_t len, uint64_t *ret)
{
	unsigned char buf[65536];

	*ret = 0;
	while (len) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);

		if (pread(df->fd, buf, chunk, off) != (ssize_t)chunk)
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
static uint64_t data_end(struct md_dumpfile *df, uint64_t descs, uint64_t npages)
{
	unsigned char buf[2048 * DD_DESC_SIZE];
	uint64_t zero_page = descs + npages * DD_DESC_SIZE, off, end = 0;

	while (npages && !end) {
		uint64_t n = npages < 2048 ? npages : 2048;

		npages -= n;
		if (pread(df->fd, buf, n * DD_DESC_SIZE, descs + npages * DD_DESC_SIZE) !=
		    (ssize_t)(n * DD_DESC_SIZE))
			return 0;
		while (n-- && !end) {
			memcpy(&off, buf + n * DD_DESC_SIZE, sizeof(off));
			off = kdump_d64toh(df->kd, off);
			if (off != zero_page || (!npages && !n))
				end = off + dd_u32(df, buf + n * DD_DESC_SIZE + 8);
		}
	}
	return end;
}

/* The second bitmap in memory (a bit per pfn, least significant first). */
static struct md_error *load_dumped_bitmap(struct md_dumpfile *df, uint64_t off, uint64_t len,
					  uint64_t page_size)
{
	if (!(df->dumped = malloc(len ? len : 1)))
		return md_error_nomem();
	if (pread(df->fd, df->dumped, len, off) != (ssize_t)len)
		return md_error_create(MD_ERR_FORMAT, "%s: cannot read the page bitmap", df->path);
	df->dumped_pfns = len * 8;
	df->dumped_page_size = page_size;
	return NULL;
}

/* A kdump-compressed file cut in its page data (end: where the data
 * should end, data_end()): every dumped page whose data is past the end
 * is marked.  The descriptors follow the dumped
 * pages in pfn order.  (Its page tables are usually among the last pages
 * written, allocated top-down at boot: then libkdumpfile cannot set up
 * the translation, and libkdumpfile 0.5.1 leaks 104 bytes doing so.) */
static struct md_error *mark_cut_pages(struct md_dumpfile *df, uint64_t descs, uint64_t npages,
				       uint64_t fsize, uint64_t end)
{
	unsigned char buf[2048 * DD_DESC_SIZE];
	uint64_t pfn = 0, i = 0;
	struct md_error *err;

	if ((err = new_cut_bitmap(df, df->dumped_pfns, df->dumped_page_size, fsize, end)))
		return err;
	while (i < npages) {
		uint64_t n = npages - i < 2048 ? npages - i : 2048;
		ssize_t got = pread(df->fd, buf, n * DD_DESC_SIZE, descs + i * DD_DESC_SIZE);
		uint64_t whole = got > 0 ? (uint64_t)got / DD_DESC_SIZE : 0;

		for (uint64_t k = 0; k < n; k++, i++, pfn++) {
			uint64_t off;

			while (pfn < df->dumped_pfns && !bit_set(df->dumped, df->dumped_pfns, pfn))
				pfn++;
			if (k >= whole) {
				mark_cut(df, pfn);
				continue;
			}
			memcpy(&off, buf + k * DD_DESC_SIZE, sizeof(off));
			off = kdump_d64toh(df->kd, off) + dd_u32(df, buf + k * DD_DESC_SIZE + 8);
			if (off > fsize)
				mark_cut(df, pfn);
		}
	}
	return NULL;
}

static struct md_error *check_diskdump_length(struct md_dumpfile *df, uint64_t fsize)
{
	unsigned char h[DD_HEADER_END], split[4];
	struct md_error *err;
	uint64_t block, bitmap, bitmap_len, descs, npages, end;

	if (pread(df->fd, h, sizeof(h), 0) != sizeof(h) || memcmp(h, "KDUMP   ", 8) ||
	    dd_u32(df, h + DD_STATUS) & DD_INCOMPLETE)
		return NULL;	/* not one we know the layout of: trust libkdumpfile */
	block = dd_u32(df, h + DD_BLOCK_SIZE);
	if (block < 512 || block > (1 << 20) || (block & (block - 1)))
		return NULL;
	/* makedumpfile --split: each file holds a range of pages the bitmap
	 * does not say, so the count below would be wrong. */
	if (dd_u32(df, h + DD_VERSION) >= 2 &&
	    (pread(df->fd, split, 4, block + DD_SUB_SPLIT) != 4 || dd_u32(df, split)))
		return NULL;
	bitmap = (1 + (uint64_t)dd_u32(df, h + DD_SUB_HDR_SIZE)) * block;
	bitmap_len = (uint64_t)dd_u32(df, h + DD_BITMAP_BLOCKS) * block;
	descs = bitmap + bitmap_len;
	if (descs > fsize)
		return truncated(df, fsize, descs);
	if (!count_dumped(df, bitmap + bitmap_len / 2, bitmap_len / 2, &npages))
		return truncated(df, fsize, descs);
	if ((err = load_dumped_bitmap(df, bitmap + bitmap_len / 2, bitmap_len / 2, block)))
		return err;
	/* Cut in its descriptors, nothing past the cut can be found. */
	if (descs + npages * DD_DESC_SIZE > fsize)
		return truncated(df, fsize, descs + npages * DD_DESC_SIZE);
	end = data_end(df, descs, npages);
	return end > fsize ? mark_cut_pages(df, descs, npages, fsize, end) : NULL;
}

static struct md_error *check_dump_length(struct md_dumpfile *df)
{
	const char *format = NULL;
	struct stat st;

	if (fstat(df->fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	if (kdump_get_string_attr(df->kd, KDUMP_ATTR_FILE_FORMAT, &format) != KDUMP_OK)
		return NULL;
	if (!strcmp(format, "elf"))
		return check_elf_length(df, st.st_size);
	if (!strcmp(format, "diskdump"))
		return check_diskdump_length(df, st.st_size);
	return NULL;
}

/* libkdumpfile's name for a kdump-compressed file's utsname.machine.
 * QEMU's dump-guest-memory fills in no other utsname field (qemu
 * dump/dump.c create_header64()), and libkdumpfile 0.5.1 takes none of
 * them without a sysname: without a vmlinux this is all that names the
 * architecture. */
static const char *diskdump_machine(struct md_dumpfile *df)
{
	/* struct disk_dump_header: signature[8], header_version, then struct
	 * new_utsname's six 65-byte fields: machine is the fifth. */
	char machine[65];
	static const char *const known[][2] = {
		{ "x86_64", KDUMP_ARCH_X86_64 }, { "aarch64", KDUMP_ARCH_AARCH64 },
		{ "ppc64le", KDUMP_ARCH_PPC64 }, { "ppc64", KDUMP_ARCH_PPC64 },
		{ "s390x", KDUMP_ARCH_S390X }, { "i686", KDUMP_ARCH_IA32 },
	};
	const char *format;

	if (kdump_get_string_attr(df->kd, KDUMP_ATTR_FILE_FORMAT, &format) != KDUMP_OK ||
	    strcmp(format, "diskdump") ||
	    pread(df->fd, machine, sizeof(machine), 8 + 4 + 4 * 65) != sizeof(machine))
		return NULL;
	machine[sizeof(machine) - 1] = '\0';
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(machine, known[i][0]))
			return known[i][1];
	return NULL;
}

static struct md_error *dump_error(struct md_dumpfile *df, const char *what)
{
	const char *msg = kdump_get_err(df->kd);

	return md_error_create(MD_ERR_FORMAT, "%s: %s: %s", df->path, what,
			       msg ? msg : "unknown error");
}

/* QEMU's kdump files leave utsname blank: libkdumpfile then knows no
 * architecture.  Kernel virtual reads need the OS type set. */
static struct md_error *setup_translation(struct md_dumpfile *df)
{
	const char *arch = NULL;

	if (kdump_get_string_attr(df->kd, KDUMP_ATTR_ARCH_NAME, &arch) != KDUMP_OK || !arch) {
		arch = df->arch_hint ? df->arch_hint : diskdump_machine(df);
		if (!arch)
			return md_error_create(MD_ERR_FORMAT,
					       "%s: the dump does not name its architecture and "
					       "memdiag does not know the %s", df->path,
					       df->arch_hint ? "vmlinux's" : "dump header's machine");
		if (kdump_set_string_attr(df->kd, KDUMP_ATTR_ARCH_NAME, arch) != KDUMP_OK)
			return dump_error(df, "cannot set the architecture");
	}
	if (kdump_set_string_attr(df->kd, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK)
		return dump_error(df, "cannot set up Linux address translation");
	return NULL;
}

static struct md_error *read_vmcoreinfo(struct md_dumpfile *df)
{
	const char *v;
	size_t n;

	/* Absent (no fw_cfg in a QEMU guest) is allowed: no KASLR offset then. */
	if (kdump_vmcoreinfo_raw(df->kd, &df->vmcoreinfo) != KDUMP_OK)
		df->vmcoreinfo = NULL;
	df->kaslr_offset = 0;
	if ((v = md_dumpfile_vmcoreinfo_value(df, "KERNELOFFSET", &n)))
		df->kaslr_offset = strtoull(v, NULL, 16);
	return NULL;
}

#define CACHE_PAGES 64

/* A file libkdumpfile would not open, said in a user's words from what
 * the file is (its type and first bytes), with libkdumpfile's own words
 * last. */
static struct md_error *not_a_dump(struct md_dumpfile *df)
{
	const char *lib = kdump_get_err(df->kd);
	unsigned char head[EI_NIDENT + 2] = { 0 };
	struct stat st;
	ssize_t n;
	int e_type;

	if (!lib)
		lib = "unknown error";
	if (fstat(df->fd, &st) == 0 && S_ISDIR(st.st_mode))
		return md_error_create(MD_ERR_FORMAT, "%s is a directory, not a dump", df->path);
	if (fstat(df->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		return md_error_create(MD_ERR_FORMAT, "%s is empty, not a dump", df->path);
	n = pread(df->fd, head, sizeof(head), 0);
	if (n == (ssize_t)sizeof(head) && !memcmp(head, ELFMAG, SELFMAG)) {
		/* e_type follows e_ident, in the file's byte order */
		e_type = head[EI_DATA] == ELFDATA2MSB ? head[EI_NIDENT + 1] : head[EI_NIDENT];
		if (e_type != ET_CORE)
			return md_error_create(MD_ERR_FORMAT, "%s is an ELF %s, not a core dump (a vmlinux "
					       "goes before the dump: memdiag VMLINUX VMCORE)", df->path,
					       e_type == ET_EXEC ? "executable" : e_type == ET_DYN ?
					       "shared object" : e_type == ET_REL ? "object file" : "file");
		return md_error_create(MD_ERR_FORMAT, "%s: an ELF core file that could not be read as a "
				       "dump (libkdumpfile: %s)", df->path, lib);
	}
	if (n >= 8 && (!memcmp(head, "KDUMP   ", 8) || !memcmp(head, "DISKDUMP", 8) ||
		       !memcmp(head, "makedumpfile", 8)))
		return md_error_create(MD_ERR_FORMAT, "%s: a kdump-compressed file that could not be read "
				       "(libkdumpfile: %s)", df->path, lib);
	return md_error_create(MD_ERR_FORMAT, "%s is not a crash dump: neither an ELF core file "
			       "(/proc/vmcore, virsh dump) nor a kdump-compressed file (makedumpfile)",
			       df->path);
}

/* libkdumpfile up to 0.5.4 keeps 1 << FCACHE_ORDER = 1024 mmap windows of
 * 4 MiB of the file, not FCACHE_SIZE (libkdumpfile commit 7b6a1e61f610
 * ("fcache: Allocate the requested number of elements"), after 0.5.4): a
 * walk of a 30-million-object filtered dump kept 366 MiB of it mapped, in
 * the process's RSS.  A compressed dump is read into copies instead (for
 * 13% more time there); an ELF dump, whose pages are used in place, keeps
 * its mappings: read(2) page by page made a walk 3 times slower, and its
 * mapped pages are page cache, which the kernel reclaims as it needs. */
static void bound_file_mappings(struct md_dumpfile *df)
{
	const char *format = NULL;

	if (kdump_get_string_attr(df->kd, KDUMP_ATTR_FILE_FORMAT, &format) == KDUMP_OK &&
	    strcmp(format, "elf"))	/* if refused: more RSS, the same answers */
		(void)kdump_set_number_attr(df->kd, KDUMP_ATTR_FILE_MMAP_POLICY, KDUMP_MMAP_NEVER);
}

static struct md_error *open_dump(struct md_dumpfile *df)
{
	struct md_error *err;

	df->fd = open(df->path, O_RDONLY | O_CLOEXEC);
	if (df->fd < 0)
		return md_error_create(MD_ERR_OS, "%s: %s", df->path, strerror(errno));
	df->kd = kdump_new();
	if (!df->kd)
		return md_error_nomem();
	/* libkdumpfile finds a cached page by a linear search of its lists,
	 * ghost entries too (src/kdumpfile/cache.c get_ghost_or_missed_entry()),
	 * so each miss costs some 2 x cache.size steps: with its default of
	 * 1024 pages, the open without a vmlinux (some 1,800 pages of BTF
	 * and kallsyms, inflated) took 10% longer, and `slableak -u` on a
	 * kdump-compressed 6.1 dump 459 ms against 343 with 64.  A speed-up
	 * only: if refused, the default stays. */
	(void)kdump_set_number_attr(df->kd, "cache.size", CACHE_PAGES);
	if (kdump_open_fd(df->kd, df->fd) != KDUMP_OK)
		return not_a_dump(df);
	bound_file_mappings(df);
	if ((err = check_dump_length(df)) || (err = setup_translation(df)) ||
	    (err = read_vmcoreinfo(df)))
		return err;
	/* For the dumped-page check: translation as set up above. */
	if ((df->dumped || df->cut) && kdump_get_addrxlat(df->kd, &df->xlat_ctx, &df->xlat_sys) != KDUMP_OK)
		return dump_error(df, "no address translation");
	if (df->cut) {
		if (!(df->cut_guard = addrxlat_ctx_add_cb(df->xlat_ctx)))
			return md_error_nomem();
		df->cut_guard->priv = df;
		df->cut_guard->get_page = cut_guard_get_page;
	}
	return NULL;
}

/* The warning for a file cut in its page data. */
static struct md_error *describe_truncation(struct md_dumpfile *df)
{
	if (!df->cut || !df->cut_pages)
		return NULL;
	if (asprintf(&df->truncation, "%s: truncated dump: the file has %" PRIu64 " bytes of the "
		     "%" PRIu64 " it needs (an incomplete copy?); %" PRIu64 " pages (%" PRIu64 " MiB) "
		     "past its end are missing, the rest is read", df->path, df->file_size,
		     df->file_need, df->cut_pages, (df->cut_pages * df->cut_page_size) >> 20) < 0) {
		df->truncation = NULL;
		return md_error_nomem();
	}
	return NULL;
}


struct md_error *md_dumpfile_open(const char *path, const char *arch_hint, struct md_dumpfile **ret)
{
	struct md_dumpfile *df = calloc(1, sizeof(*df));
	struct md_error *err;

	if (!df)
		return md_error_nomem();
	df->path = path;
	df->arch_hint = arch_hint;
	df->fd = -1;
	if ((err = open_dump(df)) || (err = describe_truncation(df))) {
		err = md_dumpfile_blame_cut(df, err, "page tables");
		md_dumpfile_close(df);
		return err;
	}
	*ret = df;
	return NULL;
}

uint64_t md_dumpfile_kaslr_offset(const struct md_dumpfile *df)
{
	return df->kaslr_offset;
}

bool md_dumpfile_has_vmcoreinfo(const struct md_dumpfile *df)
{
	return df->vmcoreinfo != NULL;
}

const char *md_dumpfile_truncation(const struct md_dumpfile *df)
{
	return df->truncation;
}

struct md_error *md_dumpfile_blame_cut(const struct md_dumpfile *df, struct md_error *err,
				       const char *needed)
{
	if (!df->cut_pages || md_error_root_code(err) == MD_ERR_NOMEM)
		return err;
	md_error_destroy(err);
	return md_error_create(MD_ERR_FORMAT, "%s: truncated dump: the file has %" PRIu64 " bytes "
			       "of the %" PRIu64 " it needs, and the pages needed to open it (%s) "
			       "are past its end (an incomplete copy?)", df->path, df->file_size,
			       df->file_need, needed);
}

/* A reader for another thread is the file opened again, with a libkdumpfile
 * context and page cache of its own.  kdump_clone()'s contexts share one
 * page cache, and in libkdumpfile 0.5.1 (Debian 12) that is not safe:
 * ThreadSanitizer saw a context refill a cache entry another was copying
 * from (the split reads of d5ae061, now gone: twice `slableak -u`, whose
 * reads of 1 MiB they split, gave an answer no rerun gave).  Slower too: a
 * walk of 30 million objects took 8.4 s with two cloned readers, 6.7 s
 * with two opened again. */
struct md_error *md_dumpfile_clone(const struct md_dumpfile *df, struct md_dumpfile **ret)
{
	return md_dumpfile_open(df->path, df->arch_hint, ret);
}

void md_dumpfile_close(struct md_dumpfile *df)
{
	if (!df)
		return;
	free(df->vmcoreinfo);
	free(df->dumped);
	free(df->cut);
	free(df->truncation);
	if (df->cut_guard)
		addrxlat_ctx_del_cb(df->xlat_ctx, df->cut_guard);
	if (df->xlat_ctx)
		addrxlat_ctx_decref(df->xlat_ctx);
	if (df->xlat_sys)
		addrxlat_sys_decref(df->xlat_sys);
	if (df->kd)
		kdump_free(df->kd);
	if (df->fd >= 0)
		close(df->fd);
	free(df);
}
