/* The kernel log: the records of the printk ring buffer still in the dump,
 * as dmesg would print them. */
#ifndef MEMDIAG_PRINTK_H
#define MEMDIAG_PRINTK_H

#include <stdint.h>

#include "session.h"

struct md_log_record {
	uint64_t seq;
	uint64_t ts_nsec;	/* local_clock() when it was logged */
	char *text;		/* without the trailing newline */
};

struct md_log {
	struct md_log_record *records;	/* oldest first */
	size_t nr_records;
	/* Descriptors between tail and head that hold no record they could:
	 * another wrap's id, or a committed record whose text is not in the
	 * data ring (a scribbled ring); their records are lost. */
	size_t nr_corrupt;
};

/* Every finalized or committed record (kernel/printk/printk_ringbuffer.c). */
struct md_error *md_log_read(struct md_session *s, struct md_log **ret);
void md_log_destroy(struct md_log *log);

#endif
