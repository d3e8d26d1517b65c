/* The printk ring buffer (kernel/printk/printk_ringbuffer.[ch], since 5.10):
 * a ring of descriptors, each with a state and the logical positions of its
 * text in a data ring, and a parallel array of struct printk_info.  The
 * descriptors from tail_id to head_id are read in one piece each (descs,
 * infos, data), and every record whose state says it is complete and whose
 * id matches is decoded as get_data() does.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "printk.h"

#define DESC_STATE_SHIFT 62			/* DESC_FLAGS_SHIFT: BITS_PER_LONG - 2 */
#define DESC_ID_MASK ((1ULL << DESC_STATE_SHIFT) - 1)
enum { DESC_COMMITTED = 1, DESC_FINALIZED = 2 };	/* enum desc_state */
#define MAX_RING_BITS 31			/* log_buf_len is at most 2 GiB */

struct printk_layout {
	uint64_t descs, infos, count_bits, head_id, tail_id;
	uint64_t data, size_bits;
	uint64_t desc_size, state_var, text_begin, text_next;
	uint64_t info_size, seq, ts_nsec, text_len;
};

static struct md_error *resolve_layout(struct md_session *s, struct printk_layout *l)
{
	uint64_t desc_ring, data_ring;
	struct md_error *err;

	const struct md_field fields[] = {
		{ "struct printk_ringbuffer", "desc_ring", &desc_ring },
		{ "struct printk_ringbuffer", "text_data_ring", &data_ring },
		{ "struct prb_desc_ring", "count_bits", &l->count_bits },
		{ "struct prb_desc_ring", "descs", &l->descs },
		{ "struct prb_desc_ring", "infos", &l->infos },
		{ "struct prb_desc_ring", "head_id", &l->head_id },
		{ "struct prb_desc_ring", "tail_id", &l->tail_id },
		{ "struct prb_data_ring", "size_bits", &l->size_bits },
		{ "struct prb_data_ring", "data", &l->data },
		{ "struct prb_desc", "state_var", &l->state_var },
		{ "struct prb_desc", "text_blk_lpos.begin", &l->text_begin },
		{ "struct prb_desc", "text_blk_lpos.next", &l->text_next },
		{ "struct printk_info", "seq", &l->seq },
		{ "struct printk_info", "ts_nsec", &l->ts_nsec },
		{ "struct printk_info", "text_len", &l->text_len },
	};
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_type_size(s, "struct prb_desc", &l->desc_size)) ||
	    (err = md_type_size(s, "struct printk_info", &l->info_size)))
		return err;
	l->count_bits += desc_ring;
	l->descs += desc_ring;
	l->infos += desc_ring;
	l->head_id += desc_ring;
	l->tail_id += desc_ring;
	l->size_bits += data_ring;
	l->data += data_ring;
	return NULL;
}

/* Where a record's text is in the data ring, as get_data() finds it: a
 * block in one wrap, or one that wrapped and starts again at index 0;
 * each block starts with the descriptor's id. */
static bool text_span(uint64_t begin, uint64_t next, unsigned int size_bits,
		      uint64_t *index, uint64_t *len)
{
	uint64_t size = 1ULL << size_bits;

	if ((begin & 1) && (next & 1))	/* BLK_DATALESS() */
		return false;
	if (begin >> size_bits == next >> size_bits && begin < next) {
		*index = begin & (size - 1);
		*len = next - begin;
	} else if ((begin + size) >> size_bits == next >> size_bits) {
		*index = 0;
		*len = next & (size - 1);
	} else {
		return false;
	}
	if (*len < 8 || *index + *len > size)
		return false;
	*index += 8;
	*len -= 8;
	return true;
}

struct ring {
	unsigned char *descs, *infos;
	char *data;
};

static void ring_free(struct ring *r)
{
	free(r->descs);
	free(r->infos);
	free(r->data);
}

static struct md_error *read_ring(struct md_session *s, uint64_t addr, size_t len, void **ret)
{
	void *buf = malloc(len ? len : 1);
	struct md_error *err;

	if (!buf)
		return md_error_nomem();
	if ((err = md_read(s, addr, buf, len))) {
		free(buf);
		return err;
	}
	*ret = buf;
	return NULL;
}

static struct md_error *add_record(struct md_log *log, size_t *cap, uint64_t seq, uint64_t ts,
				   const char *text, size_t len)
{
	char *copy;

	if (!md_array_reserve(&log->records, cap, log->nr_records, sizeof(*log->records), 1024) ||
	    !(copy = strndup(text, len)))
		return md_error_nomem();
	log->records[log->nr_records++] = (struct md_log_record){ seq, ts, copy };
	return NULL;
}

static struct md_error *read_records(struct md_session *s, const struct printk_layout *l,
				     uint64_t prb, struct md_log *log)
{
	uint32_t count_bits, size_bits;
	uint64_t descs, infos, data, head, tail, nr_descs;
	struct ring r = { 0 };
	size_t cap = 0;
	struct md_error *err;

	if ((err = md_read_u32(s, prb + l->count_bits, &count_bits)) ||
	    (err = md_read_u32(s, prb + l->size_bits, &size_bits)) ||
	    (err = md_read_u64(s, prb + l->descs, &descs)) ||
	    (err = md_read_u64(s, prb + l->infos, &infos)) ||
	    (err = md_read_u64(s, prb + l->data, &data)) ||
	    (err = md_read_u64(s, prb + l->head_id, &head)) ||
	    (err = md_read_u64(s, prb + l->tail_id, &tail)))
		return err;
	/* kernel/printk/printk.c: a descriptor per PRB_AVGBITS (5) bits of text,
	 * in the static ring (_DEFINE_PRINTKRB) and the one setup_log_buf()
	 * makes; other sizes would be allocations of up to 48 GB */
	if (size_bits > MAX_RING_BITS || count_bits + 5 != size_bits)
		return md_error_create(MD_ERR_CORRUPT, "ring sizes 2^%u descriptors, 2^%u bytes",
				       count_bits, size_bits);
	nr_descs = 1ULL << count_bits;
	if ((err = read_ring(s, descs, nr_descs * l->desc_size, (void **)&r.descs)) ||
	    (err = read_ring(s, infos, nr_descs * l->info_size, (void **)&r.infos)) ||
	    (err = read_ring(s, data, 1ULL << size_bits, (void **)&r.data)))
		goto out;
	head &= DESC_ID_MASK;
	tail &= DESC_ID_MASK;
	if (((head - tail) & DESC_ID_MASK) >= nr_descs) {
		err = md_error_create(MD_ERR_CORRUPT, "tail id %" PRIu64 " and head id %" PRIu64
				      " are more than the ring apart", tail, head);
		goto out;
	}
	for (uint64_t id = tail;; id = (id + 1) & DESC_ID_MASK) {
		const unsigned char *desc = r.descs + (id & (nr_descs - 1)) * l->desc_size;
		const unsigned char *info = r.infos + (id & (nr_descs - 1)) * l->info_size;
		uint64_t sv = md_get_u64(desc, l->state_var), index, len;
		unsigned int state = sv >> DESC_STATE_SHIFT;
		uint16_t text_len;

		uint64_t begin = md_get_u64(desc, l->text_begin), next = md_get_u64(desc, l->text_next);
		bool done = state == DESC_COMMITTED || state == DESC_FINALIZED;

		memcpy(&text_len, info + l->text_len, sizeof(text_len));
		/* every descriptor from tail to head carries its own id
		 * (desc_reserve()); a done one with data has it in the ring */
		if ((sv & DESC_ID_MASK) != id ||
		    (done && !((begin & 1) && (next & 1)) && !text_span(begin, next, size_bits, &index, &len)))
			log->nr_corrupt++;
		if ((sv & DESC_ID_MASK) == id && done && text_span(begin, next, size_bits, &index, &len)) {
			if (text_len > len)
				text_len = len;
			while (text_len && r.data[index + text_len - 1] == '\n')
				text_len--;
			if ((err = add_record(log, &cap, md_get_u64(info, l->seq),
					      md_get_u64(info, l->ts_nsec), r.data + index, text_len)))
				goto out;
		}
		if (id == head)
			break;
	}
out:
	ring_free(&r);
	return err;
}

struct md_error *md_log_read(struct md_session *s, struct md_log **ret)
{
	struct printk_layout l;
	uint64_t prb_ptr, prb;
	struct md_log *log;
	struct md_error *err;

	if ((err = resolve_layout(s, &l)) || (err = md_symbol(s, "prb", &prb_ptr)) ||
	    (err = md_read_u64(s, prb_ptr, &prb)))
		return md_error_wrap(err, "the kernel log (printk ring buffer)");
	if (!(log = calloc(1, sizeof(*log))))
		return md_error_nomem();
	if ((err = read_records(s, &l, prb, log))) {
		md_log_destroy(log);
		return md_error_wrap(err, "the kernel log at 0x%" PRIx64, prb);
	}
	*ret = log;
	return NULL;
}

void md_log_destroy(struct md_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->nr_records; i++)
		free(log->records[i].text);
	free(log->records);
	free(log);
}
