/* Recordings: the answers a target gave, kept in a file, so that the
 * commands can run again with no dump and no vmlinux.
 *
 * `memdiag --record FILE VMLINUX VMCORE COMMAND` wraps the dump's target in a
 * recorder: every byte read, every symbol, type, member, enumerator,
 * VMCOREINFO key and address name asked for is kept and written to FILE
 * (appended, so several commands make one recording).  The replay target
 * answers from such a file alone: a read of bytes that were never read is
 * MD_ERR_FAULT, a question never asked is MD_ERR_LOOKUP.  Replays are how
 * the tests inject faults into every read of every command (build/
 * memdiag-replay) and what the fuzzer mutates (build/memdiag-fuzz); a user
 * can send one instead of a many-GB vmcore.
 *
 * The file is the host's byte order (x86-64: little-endian):
 *   "memdiag recording 1\n", then records, each starting with a kind byte:
 *   'C' chunk: u8 space, u64 address (4096-aligned), u8 valid[512] (a bit
 *       per byte read), u8 data[4096]
 *   'Q' answer: u8 op, u32 key length, key, u8 error code (0: success),
 *       then u64 value(s) or u32 length + text (an error's message, a
 *       VMCOREINFO value or an address name)
 * A file may hold several such segments; the replay takes their union.
 */
#ifndef MEMDIAG_RECORDING_H
#define MEMDIAG_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

/* A target that answers through inner and keeps every answer, for
 * md_record_target_close() to append to path. */
struct md_error *md_record_target_open(const struct md_target *inner, const char *path,
				       struct md_target **ret);
/* Appends the recording to its file and frees; the error says why the
 * file could not be written.  NULL is ignored. */
struct md_error *md_record_target_close(struct md_target *t);

/* A target over a recording file. */
struct md_error *md_replay_target_open(const char *path, struct md_target **ret);
void md_replay_target_close(struct md_target *t);
/* The recording as one segment (each chunk once), written to path: for
 * a recording appended to by several commands, a smaller file that loads
 * as a mapping with no copies. */
struct md_error *md_replay_target_write(const struct md_target *t, const char *path);

/* Faults the replay injects: the nth read (from 1, counted since the last
 * md_replay_reset()) fails with MD_ERR_FAULT, or returns zeroes, or
 * returns random bytes from seed. */
enum md_replay_fault {
	MD_REPLAY_NONE,
	MD_REPLAY_FAIL,
	MD_REPLAY_ZERO,
	MD_REPLAY_RANDOM,
};
void md_replay_set_fault(struct md_target *t, enum md_replay_fault mode, uint64_t nth,
			 uint64_t seed);
/* Every read of a range that holds addr (a kernel virtual address) fails
 * with MD_ERR_FAULT: a variable made unreadable, whatever read it; 0 for none. */
void md_replay_fail_address(struct md_target *t, uint64_t addr);

/* One byte of one read's result replaced (the fuzzer's mutations): read
 * counts from 1 as above, offset is taken modulo the read's length. */
struct md_replay_patch {
	uint64_t read;
	uint32_t offset;
	uint8_t value;
};
/* patches sorted by read; the caller keeps them until the next call. */
void md_replay_set_patches(struct md_target *t, const struct md_replay_patch *patches, size_t n);

/* Called at each read, numbered from 1, of len bytes at addr, before it
 * is served (the fault sweep forks here, so that a run with the fault at
 * read n shares the runs before it; --trace lists them); NULL for none. */
void md_replay_set_read_hook(struct md_target *t,
			     void (*hook)(void *priv, uint64_t n, uint64_t addr, size_t len), void *priv);

/* Reads served since the last reset, and the reset itself. */
uint64_t md_replay_reads(const struct md_target *t);
void md_replay_reset(struct md_target *t);

#endif
