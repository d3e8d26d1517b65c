/* The standalone program's target (see kdump_target.h): the dump
 * (cli/dumpfile.c) with its types and symbols from one of these sources,
 * side by side here:
 *   types:   the vmlinux's .BTF (cli/vmlinux.c) or its DWARF (where it has
 *            no BTF, or when asked), or the BTF the kernel keeps in memory,
 *            read from the dump (types_from_dump());
 *   symbols: the vmlinux's .symtab (cli/vmlinux.c), a System.map
 *            (cli/system_map.c), or the kernel's own kallsyms, read from
 *            the dump (cli/kallsyms.c).
 * Types are read by lib/btf_types.c and lib/dwarf_types.c behind
 * lib/types.c, symbols kept in cli/symtab.c.
 */
#include "kdump_target.h"
#include "btf_types.h"
#include "dumpfile.h"
#include "kallsyms.h"
#include "symtab.h"
#include "system_map.h"
#include "vmlinux.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kdump_target {
	struct md_target target;
	const char *vmcore_path;	/* the caller's, for messages */
	struct md_dumpfile *dump;
	struct md_vmlinux *vmlinux;	/* NULL: types and symbols from elsewhere */
	const char *vmlinux_path;
	enum md_types_source types_source;	/* the user's choice */
	struct md_types *types;
	const struct md_symtab *symbols;	/* the vmlinux's, or own_symbols */
	struct md_symtab *own_symbols;	/* from kallsyms or a System.map */
	uint64_t symbol_slide;	/* added to image symbols: KERNELOFFSET for
				 * link-time values (vmlinux, System.map), 0 for
				 * kallsyms, which the kernel relocated itself */
	uint64_t image_start, image_end;	/* _text.._end, as in symbols */
};

static volatile sig_atomic_t *interrupt_flag;

void md_kdump_target_set_interrupt_flag(volatile sig_atomic_t *flag)
{
	interrupt_flag = flag;
}

static const struct md_sym *sym_lookup(const struct kdump_target *kt, const char *name)
{
	return md_symtab_lookup(kt->symbols, name);
}

/* The image's bounds, where address_name() will look. */
static void find_image_bounds(struct kdump_target *kt)
{
	const struct md_sym *start = sym_lookup(kt, "_text");
	const struct md_sym *end = sym_lookup(kt, "_end");

	if (!start)
		start = sym_lookup(kt, "_stext");
	kt->image_start = start ? start->value : 0;
	kt->image_end = end ? end->value : UINT64_MAX;
}

static struct md_error *kt_read(void *priv, enum md_addr_space space, uint64_t addr,
				void *buf, size_t len)
{
	return md_dumpfile_read(((struct kdump_target *)priv)->dump, space, addr, buf, len);
}

static struct md_error *kt_vmcoreinfo(void *priv, const char *key, char *buf, size_t len)
{
	return md_dumpfile_vmcoreinfo(((struct kdump_target *)priv)->dump, key, buf, len);
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

/* The vmlinux's linux_banner. */
static const char *vmlinux_banner(const struct kdump_target *kt)
{
	uint64_t addr;
	size_t len;

	return md_vmlinux_banner(kt->vmlinux, &addr, &len);
}

static struct md_error *mismatch(struct kdump_target *kt, const char *dump_release,
				 const char *dump_banner)
{
	const char *banner = vmlinux_banner(kt);
	char *mine = banner_release(banner);
	struct md_error *err;

	if (!mine)
		return md_error_nomem();
	if (strcmp(mine, dump_release))
		err = md_error_create(MD_ERR_MISMATCH, "%s and %s are different kernels: "
				      "vmlinux is %s but the dump is %s", kt->vmlinux_path,
				      kt->vmcore_path, mine, dump_release);
	else
		err = md_error_create(MD_ERR_MISMATCH, "%s and %s are different builds of %s: "
				      "vmlinux says \"%.*s\" but the dump \"%.*s\"",
				      kt->vmlinux_path, kt->vmcore_path, mine, line_len(banner),
				      banner, line_len(dump_banner), dump_banner);
	free(mine);
	return err;
}

/* VMCOREINFO's OSRELEASE into buf, NUL-terminated; false if the dump has
 * none (or an impossibly long one). */
static bool dump_release(const struct kdump_target *kt, char *buf, size_t len)
{
	size_t n;
	const char *v = md_dumpfile_vmcoreinfo_value(kt->dump, "OSRELEASE", &n);

	if (!v || n >= len)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

/* VMCOREINFO's OSRELEASE against the vmlinux's: cheap, and it needs no
 * read that a wrong KASLR offset or a different layout would spoil. */
static struct md_error *compare_release(struct kdump_target *kt)
{
	char release[256], *mine = banner_release(vmlinux_banner(kt));
	struct md_error *err = NULL;

	if (!mine)
		return md_error_nomem();
	if (dump_release(kt, release, sizeof(release)) && strcmp(release, mine))
		err = mismatch(kt, release, "");
	free(mine);
	return err;
}

/* The dump's own linux_banner, where the vmlinux says it is (KASLR
 * applied), must be the vmlinux's byte for byte: same release is not
 * same build. */
static struct md_error *compare_banner(struct kdump_target *kt)
{
	uint64_t banner_addr;
	size_t len;
	const char *banner = md_vmlinux_banner(kt->vmlinux, &banner_addr, &len);
	char *theirs = malloc(len), *release;
	struct md_error *err;

	if (!theirs)
		return md_error_nomem();
	err = kt_read(kt, MD_KVADDR, banner_addr + kt->symbol_slide, theirs, len);
	if (err) {
		free(theirs);
		return md_error_wrap(err, "%s: cannot read linux_banner to check it matches %s%s",
				     kt->vmcore_path, kt->vmlinux_path,
				     md_dumpfile_has_vmcoreinfo(kt->dump) ? "" :
				     " (the dump has no VMCOREINFO, so any KASLR offset is unknown)");
	}
	if (!memcmp(theirs, banner, len)) {
		free(theirs);
		return NULL;
	}
	theirs[len - 1] = '\0';
	release = banner_release(theirs);
	err = release ? mismatch(kt, release, theirs) : md_error_nomem();
	free(release);
	free(theirs);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Symbol and type operations                                               */

static struct md_error *kt_symbol_address(void *priv, const char *name, uint64_t *ret)
{
	struct kdump_target *kt = priv;
	const struct md_sym *s = sym_lookup(kt, name);

	if (!s)
		return md_error_create(MD_ERR_LOOKUP, "no symbol %s", name);
	*ret = s->value + (s->in_image ? kt->symbol_slide : 0);
	return NULL;
}

static struct md_error *kt_address_name(void *priv, uint64_t addr, char *buf, size_t len)
{
	struct kdump_target *kt = priv;
	uint64_t v = addr - kt->symbol_slide;
	const struct md_sym *s;

	if (len == 0)
		return md_error_create(MD_ERR_INVALID, "no room for a name");
	/* Modules are the core's business (the dump's own module list). */
	if (v < kt->image_start || v >= kt->image_end || !(s = md_symtab_floor(kt->symbols, v)))
		return md_error_create(MD_ERR_LOOKUP, "no kernel symbol at 0x%" PRIx64, addr);
	/* No source gives sizes the same way (kallsyms none): far past a
	 * symbol is past its end, as the crash extension decides. */
	if (v - s->value >= (1 << 20))
		return md_error_create(MD_ERR_LOOKUP, "no kernel symbol at 0x%" PRIx64
				       " (1 MiB past %s)", addr, s->name);
	snprintf(buf, len, "%s+0x%" PRIx64, s->name, v - s->value);
	return NULL;
}

static bool kt_interrupted(void *priv)
{
	return interrupt_flag && *interrupt_flag;
}

static struct md_error *kt_type_size(void *priv, const char *type, uint64_t *ret)
{
	return md_types_size(((struct kdump_target *)priv)->types, type, ret);
}

static struct md_error *kt_member(void *priv, const char *type, const char *member,
				  struct md_member *ret)
{
	return md_types_member(((struct kdump_target *)priv)->types, type, member, ret);
}

static struct md_error *kt_enumerator(void *priv, const char *name, int64_t *ret)
{
	return md_types_enumerator(((struct kdump_target *)priv)->types, name, ret);
}

static const struct md_target_ops kdump_target_ops;

/* A reader for another thread: the dump opened again (md_dumpfile_clone()),
 * and the original's tables of types and symbols, which do not change while
 * its clones live. */
static struct md_error *kt_clone(void *priv, struct md_target *ret)
{
	struct kdump_target *kt = priv, *c = malloc(sizeof(*c));
	struct md_error *err;

	if (!c)
		return md_error_nomem();
	*c = *kt;
	c->vmlinux = NULL;	/* the original's, which it closes */
	c->types = NULL;
	c->own_symbols = NULL;
	if ((err = md_dumpfile_clone(kt->dump, &c->dump))) {
		free(c);
		return err;
	}
	c->types = kt->types;
	c->target.priv = c;
	*ret = c->target;
	return NULL;
}

static void kt_release(void *priv)
{
	struct kdump_target *c = priv;

	md_dumpfile_close(c->dump);
	free(c);
}

static const struct md_target_ops kdump_target_ops = {
	.clone = kt_clone,
	.release = kt_release,
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
/* Types and symbols without a vmlinux                                      */

/* The dump's own symbols: its kallsyms, already at run-time addresses. */
static struct md_error *symbols_from_dump(struct kdump_target *kt)
{
	struct md_error *err = md_kallsyms_load(&kt->target, kt->vmcore_path, &kt->own_symbols);

	if (err)
		return md_error_wrap(err, "no vmlinux given, and the dump's own symbols cannot be "
				     "read (give the vmlinux with debuginfo)");
	kt->symbols = kt->own_symbols;
	kt->symbol_slide = 0;
	return NULL;
}

/* Symbols from a System.map: link-time addresses, moved by KERNELOFFSET.
 * The map must be the dump's kernel: its _stext must land where VMCOREINFO
 * says, and its linux_banner must name the dump's release. */
static struct md_error *symbols_from_map(struct kdump_target *kt, const char *path)
{
	char release[128], banner[256], *mine;
	uint64_t stext = 0, want, banner_addr = 0;
	struct md_error *err;
	size_t n;
	const char *v;

	if ((err = md_system_map_load(path, &kt->own_symbols)))
		return err;
	kt->symbols = kt->own_symbols;
	kt->symbol_slide = md_dumpfile_kaslr_offset(kt->dump);
	err = kt_symbol_address(kt, "_stext", &stext);
	if (md_error_catch(&err, MD_ERR_LOOKUP))
		return md_error_create(MD_ERR_FORMAT, "%s: not a kernel's System.map: no _stext", path);
	if (err)
		return err;
	if ((v = md_dumpfile_vmcoreinfo_value(kt->dump, "SYMBOL(_stext)", &n)) &&
	    (want = strtoull(v, NULL, 16)) != stext)
		return md_error_create(MD_ERR_MISMATCH, "%s is not %s's System.map: it puts _stext "
				       "at 0x%" PRIx64 ", the dump at 0x%" PRIx64, path,
				       kt->vmcore_path, stext, want);
	if ((err = kt_symbol_address(kt, "linux_banner", &banner_addr)))
		return md_error_wrap(err, "%s: not a kernel's System.map", path);
	if ((err = kt_read(kt, MD_KVADDR, banner_addr, banner, sizeof(banner) - 1)))
		return md_error_wrap(err, "%s: cannot read linux_banner to check %s is its System.map",
				     kt->vmcore_path, path);
	banner[sizeof(banner) - 1] = '\0';
	if (!(mine = banner_release(banner)))
		return md_error_nomem();
	err = NULL;
	if (dump_release(kt, release, sizeof(release)) && strcmp(release, mine))
		err = md_error_create(MD_ERR_MISMATCH, "%s is not %s's System.map: at its "
				      "linux_banner the dump has %s%s, not Linux %s", path,
				      kt->vmcore_path, strncmp(banner, "Linux version ", 14) ?
				      "no banner" : "Linux ", strncmp(banner, "Linux version ", 14) ?
				      "" : mine, release);
	free(mine);
	return err;
}

/* The dump's own types: the kernel keeps its .BTF section in memory,
 * [__start_BTF, __stop_BTF), which /sys/kernel/btf/vmlinux serves
 * (kernel/bpf/sysfs_btf.c). */
static struct md_error *types_from_dump(struct kdump_target *kt)
{
	uint64_t start = 0, stop = 0, size;
	struct md_btf_types *bt;
	struct md_error *err;
	char *btf, *what;

	if (kt->types_source == MD_TYPES_DWARF)
		return md_error_create(MD_ERR_INVALID, "%s: DWARF types come from the vmlinux, "
				       "and none was given (or drop --types dwarf)", kt->vmcore_path);
	err = kt_symbol_address(kt, "__start_BTF", &start);
	if (!err)
		err = kt_symbol_address(kt, "__stop_BTF", &stop);
	if (md_error_catch(&err, MD_ERR_LOOKUP))
		return md_error_create(MD_ERR_FORMAT, "%s: no vmlinux given, and the dump's kernel "
				       "has no BTF of its own (no __start_BTF symbol: built without "
				       "CONFIG_DEBUG_INFO_BTF?); give the vmlinux with debuginfo",
				       kt->vmcore_path);
	if (err)
		return err;
	size = stop - start;
	if (stop <= start || size > (256u << 20))
		return md_error_create(MD_ERR_CORRUPT, "%s: the kernel's BTF [0x%" PRIx64 ", 0x%"
				       PRIx64 ") is not a plausible size; give the vmlinux with "
				       "debuginfo", kt->vmcore_path, start, stop);
	if (!(btf = malloc(size)))
		return md_error_nomem();
	if ((err = kt_read(kt, MD_KVADDR, start, btf, size))) {
		free(btf);
		return md_error_wrap(err, "%s: no vmlinux given, and the kernel's BTF (%" PRIu64
				     " bytes at __start_BTF 0x%" PRIx64 ") is not all in the dump; "
				     "give the vmlinux with debuginfo", kt->vmcore_path, size, start);
	}
	if (asprintf(&what, "%s (the kernel's BTF at 0x%" PRIx64 "; give the vmlinux with "
		     "debuginfo)", kt->vmcore_path, start) < 0) {
		free(btf);
		return md_error_nomem();
	}
	err = md_btf_types_from_buffer(btf, size, what, &bt);
	free(what);
	return err ? err : md_types_from_btf(bt, &kt->types);
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */

/* The vmlinux's types: its .BTF, or its DWARF where it has no BTF or the
 * user asked for DWARF. */
static struct md_error *types_from_vmlinux(struct kdump_target *kt)
{
	struct md_btf_types *bt;
	struct md_error *err;
	const void *btf;
	size_t size;

	md_vmlinux_btf(kt->vmlinux, &btf, &size);
	if (!btf || kt->types_source == MD_TYPES_DWARF) {
		if (kt->types_source == MD_TYPES_BTF)
			return md_error_create(MD_ERR_FORMAT, "%s: vmlinux has no .BTF section "
					       "(--types dwarf reads its DWARF)", kt->vmlinux_path);
		return md_types_open(kt->vmlinux_path, kt->types_source, &kt->types);
	}
	err = md_btf_types_from_data(btf, size, kt->vmlinux_path, &bt);
	return err ? err : md_types_from_btf(bt, &kt->types);
}

/* With a vmlinux: its symbols and types, and it must be the dump's build. */
static struct md_error *open_with_vmlinux(struct kdump_target *kt)
{
	struct md_error *err;

	if ((err = md_vmlinux_open(kt->vmlinux_path, &kt->vmlinux)) ||
	    (err = md_dumpfile_open(kt->vmcore_path, md_vmlinux_arch(kt->vmlinux), &kt->dump)))
		return err;
	kt->symbols = md_vmlinux_symbols(kt->vmlinux);
	kt->symbol_slide = md_dumpfile_kaslr_offset(kt->dump);
	if ((err = compare_release(kt)) || (err = compare_banner(kt)))
		return md_dumpfile_blame_cut(kt->dump, err, "page tables, linux_banner");
	return types_from_vmlinux(kt);
}

/* Without: the dump's own BTF, and its kallsyms or a System.map. */
static struct md_error *open_without_vmlinux(struct kdump_target *kt, const char *system_map)
{
	struct md_error *err;

	if ((err = md_dumpfile_open(kt->vmcore_path, NULL, &kt->dump)))
		return err;
	err = system_map ? symbols_from_map(kt, system_map) : symbols_from_dump(kt);
	if (!err) {
		find_image_bounds(kt);
		err = types_from_dump(kt);
	}
	return err ? md_dumpfile_blame_cut(kt->dump, err, "page tables, kallsyms, BTF") : NULL;
}

struct md_error *md_kdump_target_open(const char *vmlinux, const char *system_map,
				      const char *vmcore, enum md_types_source types,
				      struct md_target **ret)
{
	struct kdump_target *kt = calloc(1, sizeof(*kt));
	struct md_error *err;

	if (!kt)
		return md_error_nomem();
	kt->target.ops = &kdump_target_ops;
	kt->target.priv = kt;
	kt->vmlinux_path = vmlinux;
	kt->vmcore_path = vmcore;
	kt->types_source = types;
	err = vmlinux ? open_with_vmlinux(kt) : open_without_vmlinux(kt, system_map);
	if (!err && vmlinux)
		find_image_bounds(kt);
	if (err) {
		md_kdump_target_close(&kt->target);
		return err;
	}
	*ret = &kt->target;
	return NULL;
}

const char *md_kdump_target_truncation(const struct md_target *t)
{
	return md_dumpfile_truncation(((const struct kdump_target *)t->priv)->dump);
}

void md_kdump_target_close(struct md_target *t)
{
	struct kdump_target *kt;

	if (!t)
		return;
	kt = t->priv;
	md_types_destroy(kt->types);
	md_symtab_destroy(kt->own_symbols);
	md_dumpfile_close(kt->dump);
	md_vmlinux_close(kt->vmlinux);
	free(kt);
}
