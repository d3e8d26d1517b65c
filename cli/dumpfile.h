/* A crash dump file read through libkdumpfile: ELF, kdump-compressed, or
 * makedumpfile-filtered.  Only the dump: the types and symbols to read it
 * with come from elsewhere (cli/kdump_target.c puts them together).
 *
 * A damaged file is opened as far as it can be: pages makedumpfile left
 * out, and pages past the end of a file cut short, read as MD_ERR_FAULT
 * naming why, before libkdumpfile 0.5.1 is asked for them (it can crash
 * on such pages).  Not for concurrent use; a large read of a
 * kdump-compressed file is split among threads internally.
 */
#ifndef MEMDIAG_DUMPFILE_H
#define MEMDIAG_DUMPFILE_H

#include <gelf.h>
#include <libkdumpfile/kdumpfile.h>

#include "target.h"

struct md_dumpfile;

/* arch_hint: libkdumpfile's architecture name (KDUMP_ARCH_*) for a dump
 * that names none, or NULL.  Errors: MD_ERR_OS (cannot open), MD_ERR_FORMAT
 * (not a dump, or cut short in its headers or its page tables). */
struct md_error *md_dumpfile_open(const char *path, const char *arch_hint,
				  struct md_dumpfile **ret);
/* Another reader of the same dump, for a thread of its own: the file
 * opened again (it shares nothing with df); closed with md_dumpfile_close(). */
struct md_error *md_dumpfile_clone(const struct md_dumpfile *df, struct md_dumpfile **ret);
void md_dumpfile_close(struct md_dumpfile *df);

/* The target's read(): exactly len bytes, or MD_ERR_FAULT naming where and why. */
struct md_error *md_dumpfile_read(struct md_dumpfile *df, enum md_addr_space space,
				  uint64_t addr, void *buf, size_t len);
/* The target's vmcoreinfo(). */
struct md_error *md_dumpfile_vmcoreinfo(struct md_dumpfile *df, const char *key, char *buf,
					size_t len);
/* VMCOREINFO's value for key, not NUL-terminated (*len bytes), or NULL. */
const char *md_dumpfile_vmcoreinfo_value(const struct md_dumpfile *df, const char *key,
					 size_t *len);
bool md_dumpfile_has_vmcoreinfo(const struct md_dumpfile *df);
/* KERNELOFFSET, 0 if VMCOREINFO gives none. */
uint64_t md_dumpfile_kaslr_offset(const struct md_dumpfile *df);

/* A file cut short in its page data: the warning to print, else NULL. */
const char *md_dumpfile_truncation(const struct md_dumpfile *df);
/* err, met while opening a target on a file cut short, replaced by the
 * cut (libkdumpfile's own complaint, such as "Decompression failed", would
 * hide it): an MD_ERR_FORMAT naming what the pages past the end were
 * needed for.  err itself if the file is whole; takes ownership. */
struct md_error *md_dumpfile_blame_cut(const struct md_dumpfile *df, struct md_error *err,
				       const char *needed);

#endif
