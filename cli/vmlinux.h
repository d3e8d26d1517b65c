/* A vmlinux: the ELF symbol table, the .BTF section and the banner of the
 * kernel a dump was taken from.  For the standalone target
 * (cli/kdump_target.c), beside the dump's own kallsyms and BTF. */
#ifndef MEMDIAG_VMLINUX_H
#define MEMDIAG_VMLINUX_H

#include <gelf.h>

#include "symtab.h"

struct md_vmlinux;

/* MD_ERR_OS (cannot open), MD_ERR_FORMAT (not a vmlinux: not ELF, a core
 * dump, no .symtab, no linux_banner). */
struct md_error *md_vmlinux_open(const char *path, struct md_vmlinux **ret);
void md_vmlinux_close(struct md_vmlinux *vm);

/* Link-time values: a KASLR kernel's are moved by KERNELOFFSET. */
const struct md_symtab *md_vmlinux_symbols(const struct md_vmlinux *vm);
/* linux_banner as in the file (*len with its NUL), at link-time *addr. */
const char *md_vmlinux_banner(const struct md_vmlinux *vm, uint64_t *addr, size_t *len);
/* The .BTF section's bytes, valid until md_vmlinux_close(); NULL if it
 * has none. */
void md_vmlinux_btf(const struct md_vmlinux *vm, const void **data, size_t *size);
/* libkdumpfile's name for its machine (KDUMP_ARCH_*), or NULL. */
const char *md_vmlinux_arch(const struct md_vmlinux *vm);

#endif
