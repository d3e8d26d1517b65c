/* A vmlinux file (see vmlinux.h): its ELF symbol table, its .BTF section
 * and its banner, through libelf.  The file is mapped, not read: a few MB
 * of a vmlinux of hundreds are touched, and never its DWARF (which
 * lib/dwarf_types.c reads where there is no BTF). */
#include "vmlinux.h"

#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct md_vmlinux {
	const char *path;	/* the caller's, for messages */
	int fd;
	Elf *elf;
	bool kernel_space_high;	/* 64-bit: the kernel is the top half */
	struct md_symtab *symbols;	/* names point into libelf's string table */
	char *banner;		/* linux_banner, as in the file */
	size_t banner_len;	/* with its NUL */
	uint64_t banner_addr;
	const void *btf;	/* the .BTF section, in libelf's mapping */
	size_t btf_size;
};

static bool in_kernel_space(const struct md_vmlinux *vm, uint64_t v)
{
	return vm->kernel_space_high ? v >> 63 : v >= 0xc0000000;
}

/* ELF symbol ranks (symtab.h): a function or object over a bare label, a
 * global over a weak over a local. */
static uint8_t elf_type_rank(unsigned char info)
{
	int type = GELF_ST_TYPE(info);

	return type == STT_FUNC || type == STT_OBJECT ? 0 : 1;
}

static uint8_t elf_bind_rank(unsigned char info)
{
	int bind = GELF_ST_BIND(info);

	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

static bool wanted_symbol(const GElf_Sym *sym, const char *name)
{
	int type = GELF_ST_TYPE(sym->st_info);

	if (!*name || sym->st_shndx == SHN_UNDEF)
		return false;
	return type == STT_NOTYPE || type == STT_OBJECT || type == STT_FUNC;
}

static struct md_error *load_symbols(struct md_vmlinux *vm, Elf_Scn *symscn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(symscn, NULL);
	Elf_Scn *strscn = elf_getscn(vm->elf, sh->sh_link);
	Elf_Data *strs = strscn ? elf_getdata(strscn, NULL) : NULL;
	struct md_error *err;
	size_t n;

	if (!data || !strs || !strs->d_size || ((char *)strs->d_buf)[strs->d_size - 1])
		return md_error_create(MD_ERR_FORMAT, "%s: unreadable symbol table: %s",
				       vm->path, elf_errmsg(-1));
	n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	if ((err = md_symtab_create(&vm->symbols)))
		return err;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		struct md_sym s;

		if (!gelf_getsym(data, i, &sym) || sym.st_name >= strs->d_size)
			continue;
		s.name = (const char *)strs->d_buf + sym.st_name;
		if (!wanted_symbol(&sym, s.name))
			continue;
		s.value = sym.st_value;
		s.name_rank = elf_bind_rank(sym.st_info) * 2 + elf_type_rank(sym.st_info);
		s.weak = GELF_ST_BIND(sym.st_info) == STB_WEAK;
		/* Per-cpu symbols are offsets (0-based), absolute ones are
		 * constants: neither moves with the kernel image. */
		s.in_image = sym.st_shndx != SHN_ABS && in_kernel_space(vm, sym.st_value);
		if ((err = md_symtab_add(vm->symbols, &s)))
			return err;
	}
	return md_symtab_index(vm->symbols);
}

/* Bytes of the file behind a link-time address, or NULL. */
static const char *vmlinux_bytes(struct md_vmlinux *vm, uint64_t addr, size_t *avail)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(vm->elf, scn))) {
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

static struct md_error *load_banner(struct md_vmlinux *vm)
{
	const struct md_sym *s = md_symtab_lookup(vm->symbols, "linux_banner");
	const char *text;
	size_t avail, len;

	if (!s)
		return md_error_create(MD_ERR_FORMAT, "%s: not a Linux kernel: no linux_banner symbol",
				       vm->path);
	text = vmlinux_bytes(vm, s->value, &avail);
	if (!text)
		return md_error_create(MD_ERR_FORMAT, "%s: linux_banner is not in the file",
				       vm->path);
	len = strnlen(text, avail < 1024 ? avail : 1024);
	vm->banner = strndup(text, len);
	vm->banner_len = len + 1;
	vm->banner_addr = s->value;
	return vm->banner ? NULL : md_error_nomem();
}

static struct md_error *load_btf(struct md_vmlinux *vm, Elf_Scn *scn)
{
	Elf_Data *d = elf_getdata(scn, NULL);

	if (!d || !d->d_size)
		return md_error_create(MD_ERR_FORMAT, "%s: unreadable .BTF section: %s",
				       vm->path, elf_errmsg(-1));
	vm->btf = d->d_buf;
	vm->btf_size = d->d_size;
	return NULL;
}

static struct md_error *check_vmlinux_header(struct md_vmlinux *vm)
{
	GElf_Ehdr eh;

	if (elf_kind(vm->elf) != ELF_K_ELF || !gelf_getehdr(vm->elf, &eh))
		return md_error_create(MD_ERR_FORMAT, "%s: not an ELF file, so not a vmlinux",
				       vm->path);
	if (eh.e_type == ET_CORE)
		return md_error_create(MD_ERR_FORMAT,
				       "%s: is a core dump, not a vmlinux (arguments swapped?)",
				       vm->path);
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return md_error_create(MD_ERR_FORMAT, "%s: not a vmlinux (ELF type %u)",
				       vm->path, (unsigned)eh.e_type);
	vm->kernel_space_high = gelf_getclass(vm->elf) == ELFCLASS64;
	return NULL;
}

static struct md_error *open_vmlinux(struct md_vmlinux *vm)
{
	Elf_Scn *scn = NULL, *symscn = NULL, *btfscn = NULL;
	GElf_Shdr symsh = { 0 };
	struct md_error *err;
	size_t shstrndx;

	vm->fd = open(vm->path, O_RDONLY | O_CLOEXEC);
	if (vm->fd < 0)
		return md_error_create(MD_ERR_OS, "%s: %s", vm->path, strerror(errno));
	elf_version(EV_CURRENT);
	/* Mapped, not read: only the sections used below are ever touched. */
	vm->elf = elf_begin(vm->fd, ELF_C_READ_MMAP, NULL);
	if (!vm->elf)
		return md_error_create(MD_ERR_FORMAT, "%s: %s", vm->path, elf_errmsg(-1));
	if ((err = check_vmlinux_header(vm)))
		return err;
	if (elf_getshdrstrndx(vm->elf, &shstrndx))
		return md_error_create(MD_ERR_FORMAT, "%s: %s", vm->path, elf_errmsg(-1));
	while ((scn = elf_nextscn(vm->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(vm->elf, shstrndx, sh.sh_name);
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
				       vm->path);
	if ((err = load_symbols(vm, symscn, &symsh)) || (err = load_banner(vm)))
		return err;
	/* None: the types come from its DWARF (lib/dwarf_types.c). */
	return btfscn ? load_btf(vm, btfscn) : NULL;
}

/* libkdumpfile's name for the vmlinux's machine, when the dump has none. */
const char *md_vmlinux_arch(const struct md_vmlinux *vm)
{
	Elf *elf = vm->elf;
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


struct md_error *md_vmlinux_open(const char *path, struct md_vmlinux **ret)
{
	struct md_vmlinux *vm = calloc(1, sizeof(*vm));
	struct md_error *err;

	if (!vm)
		return md_error_nomem();
	vm->path = path;
	vm->fd = -1;
	if ((err = open_vmlinux(vm))) {
		md_vmlinux_close(vm);
		return err;
	}
	*ret = vm;
	return NULL;
}

const struct md_symtab *md_vmlinux_symbols(const struct md_vmlinux *vm)
{
	return vm->symbols;
}

const char *md_vmlinux_banner(const struct md_vmlinux *vm, uint64_t *addr, size_t *len)
{
	*addr = vm->banner_addr;
	*len = vm->banner_len;
	return vm->banner;
}

void md_vmlinux_btf(const struct md_vmlinux *vm, const void **data, size_t *size)
{
	*data = vm->btf;
	*size = vm->btf_size;
}

void md_vmlinux_close(struct md_vmlinux *vm)
{
	if (!vm)
		return;
	free(vm->banner);
	md_symtab_destroy(vm->symbols);
	elf_end(vm->elf);
	if (vm->fd >= 0)
		close(vm->fd);
	free(vm);
}
