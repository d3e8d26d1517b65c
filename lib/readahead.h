/* Work read ahead by other threads and taken in order (issue 16).
 *
 * A long walk of a compressed dump spends half its time inflating pages:
 * that part can run on the other cores while the walk analyses what was
 * read.  Jobs 0..nr_jobs-1 are filled by worker threads, each through its
 * own reader session (md_session_reader(): a clone of the target), into a
 * few slots; the caller takes the filled slots in job order, so what it
 * computes from them is exactly what one thread computes.
 *
 * md_readahead_start() gives NULL (and no error) when the target reads
 * from one thread only (crash), the machine has one CPU or the jobs are
 * too few to pay for the readers: the caller then reads itself. */
#ifndef MEMDIAG_READAHEAD_H
#define MEMDIAG_READAHEAD_H

#include <stddef.h>

#include "session.h"

/* Fills job into slot, reading through reader.  An error here is fatal for
 * the walk (out of memory); what the dump lacks belongs in the slot. */
typedef struct md_error *md_readahead_fill_fn(struct md_session *reader, void *arg, size_t job,
					       void *slot);

struct md_readahead;

struct md_error *md_readahead_start(struct md_session *s, size_t nr_jobs, void *const *slots,
				    size_t nr_slots, md_readahead_fill_fn *fill, void *arg,
				    struct md_readahead **ret);
/* The slot of the next job, in order, once filled: *slot is NULL after the
 * last.  Each slot must be given back with md_readahead_done() before the
 * next call. */
struct md_error *md_readahead_next(struct md_readahead *ra, void **slot);
void md_readahead_done(struct md_readahead *ra);
/* Stops the workers (at any point) and frees ra; the slots stay the caller's. */
void md_readahead_stop(struct md_readahead *ra);
/* Readers worth starting on this machine: one per CPU (none on one CPU),
 * or $MEMDIAG_THREADS - 1. */
size_t md_readahead_workers(void);

#endif
