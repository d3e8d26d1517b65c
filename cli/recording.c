/* Recordings of a target's answers, and a target that replays them
 * (see recording.h for the file's format). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "hash.h"
#include "recording.h"

#define MAGIC "memdiag recording 1\n"
#define CHUNK 4096

/* ------------------------------------------------------------------------ */
/* What both sides keep: chunks of memory and answers, in hash tables       */

/* 4096 bytes of one address space, and which of them were read: in own
 * (the recorder's, or chunks merged from several segments), or in the
 * replay's mapping of the file, which a fork() shares rather than copies. */
struct chunk {
	uint64_t key;			/* address | space (addresses are 4096-aligned) */
	unsigned char *valid;		/* CHUNK / 8 bytes, a bit per byte */
	unsigned char *data;		/* CHUNK bytes */
	unsigned char *own;		/* valid and data, or NULL */
	bool full;			/* every byte read (replay: a quick check) */
};

/* An open-addressing hash table of pointers, NULL for an empty slot;
 * chunks and answers each keep one, with their own hash and compare. */
struct table {
	void **slot;
	size_t mask, n;
};

typedef size_t table_hash_fn(const void *item);

/* Takes item (whose key the table must not hold); false if out of memory. */
static bool table_insert(struct table *t, void *item, table_hash_fn *hash)
{
	if (!t->slot || 2 * (t->n + 1) > t->mask + 1) {
		size_t mask = t->slot ? 2 * t->mask + 1 : 1023;
		void **slot = calloc(mask + 1, sizeof(*slot));

		if (!slot)
			return false;
		for (size_t i = 0; t->slot && i <= t->mask; i++) {
			size_t j;

			if (!t->slot[i])
				continue;
			for (j = hash(t->slot[i]) & mask; slot[j]; j = (j + 1) & mask)
				;
			slot[j] = t->slot[i];
		}
		free(t->slot);
		t->slot = slot;
		t->mask = mask;
	}
	size_t i;

	for (i = hash(item) & t->mask; t->slot[i]; i = (i + 1) & t->mask)
		;
	t->slot[i] = item;
	t->n++;
	return true;
}

static void table_free(struct table *t, void (*free_item)(void *))
{
	for (size_t i = 0; t->slot && i <= t->mask; i++)
		if (t->slot[i])
			free_item(t->slot[i]);
	free(t->slot);
}

/* One answer: op is the operation's letter, key its question. */
struct answer {
	char *key;			/* op letter, then the question */
	uint8_t code;			/* 0, or the error's enum md_error_code */
	uint64_t v[3];			/* the value (member: offset, bit size, size) */
	char *text;			/* an error's message, a VMCOREINFO value, a name */
};

static uint64_t chunk_key(enum md_addr_space space, uint64_t addr)
{
	return (addr & ~(uint64_t)(CHUNK - 1)) | (space == MD_PHYSADDR);
}

static size_t chunk_hash(const void *c)
{
	uint64_t key = ((const struct chunk *)c)->key;

	return (size_t)((key >> 12 ^ key) * 0x9e3779b97f4a7c15ULL >> 20);
}

static struct chunk *chunk_find(const struct table *t, uint64_t key)
{
	struct chunk probe = { .key = key };

	if (!t->slot)
		return NULL;
	for (size_t i = chunk_hash(&probe) & t->mask;; i = (i + 1) & t->mask) {
		struct chunk *c = t->slot[i];

		if (!c || c->key == key)
			return c;
	}
}

/* Gives c bytes of its own, with what it held so far. */
static bool chunk_own(struct chunk *c)
{
	unsigned char *own;

	if (c->own)
		return true;
	if (!(own = calloc(1, CHUNK / 8 + CHUNK)))
		return false;
	if (c->valid) {
		memcpy(own, c->valid, CHUNK / 8);
		memcpy(own + CHUNK / 8, c->data, CHUNK);
	}
	c->own = c->valid = own;
	c->data = own + CHUNK / 8;
	return true;
}

/* The chunk for key, with bytes of its own, made (all bytes unread) if
 * there is none. */
static struct md_error *chunk_get(struct table *t, uint64_t key, struct chunk **ret)
{
	struct chunk *c = chunk_find(t, key);

	if (c && !chunk_own(c))
		return md_error_nomem();
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return md_error_nomem();
		c->key = key;
		if (!chunk_own(c) || !table_insert(t, c, chunk_hash)) {
			free(c->own);
			free(c);
			return md_error_nomem();
		}
	}
	*ret = c;
	return NULL;
}

static void chunk_free(void *p)
{
	struct chunk *c = p;

	free(c->own);
	free(c);
}

static size_t answer_hash(const void *a)
{
	const char *key = ((const struct answer *)a)->key;

	return md_hash_bytes(key, strlen(key));
}

static struct answer *answer_find(const struct table *t, const char *key)
{
	if (!t->slot)
		return NULL;
	for (size_t i = md_hash_bytes(key, strlen(key)) & t->mask;; i = (i + 1) & t->mask) {
		struct answer *a = t->slot[i];

		if (!a || !strcmp(a->key, key))
			return a;
	}
}

static void answer_free(void *p)
{
	struct answer *a = p;

	if (a) {
		free(a->key);
		free(a->text);
		free(a);
	}
}

/* Takes a into the table unless its question is there already (the first
 * answer is kept; a target answers the same question the same way). */
static struct md_error *answer_add(struct table *t, struct answer *a)
{
	if (answer_find(t, a->key)) {
		answer_free(a);
		return NULL;
	}
	if (!table_insert(t, a, answer_hash)) {
		answer_free(a);
		return md_error_nomem();
	}
	return NULL;
}

/* The question's key: the op letter, then its parts separated by 0x1f. */
static char *question(char op, const char *a, const char *b)
{
	char *key;

	if (asprintf(&key, "%c%s%s%s", op, a, b ? "\x1f" : "", b ? b : "") < 0)
		return NULL;
	return key;
}

static void address_text(uint64_t addr, char buf[19])
{
	snprintf(buf, 19, "0x%" PRIx64, addr);
}

static const char *space_name(enum md_addr_space space)
{
	return space == MD_PHYSADDR ? "physical" : "kernel virtual";
}

/* ------------------------------------------------------------------------ */
/* The recorder                                                             */

struct record_target {
	struct md_target target;
	const struct md_target *inner;
	char *path;
	struct table chunks;
	struct table answers;
	struct md_error *failed;	/* the first allocation failure, for close */
};

/* Keep the first error of the recorder itself; the inner target's answer
 * still goes back to the core. */
static void record_failed(struct record_target *r, struct md_error *err)
{
	if (!err)
		return;
	if (r->failed)
		md_error_destroy(err);
	else
		r->failed = err;
}

static struct md_error *keep_bytes(struct record_target *r, enum md_addr_space space,
				   uint64_t addr, const unsigned char *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		uint64_t a = addr + done;
		size_t off = a & (CHUNK - 1), piece = CHUNK - off;
		struct chunk *c;
		struct md_error *err;

		if (piece > len - done)
			piece = len - done;
		if ((err = chunk_get(&r->chunks, chunk_key(space, a), &c)))
			return err;
		memcpy(c->data + off, buf + done, piece);
		for (size_t i = off; i < off + piece; i++)
			c->valid[i / 8] |= 1 << (i % 8);
		done += piece;
	}
	return NULL;
}

static struct md_error *rec_read(void *priv, enum md_addr_space space, uint64_t addr, void *buf,
				 size_t len)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->read(r->inner->priv, space, addr, buf, len);

	if (!err)
		record_failed(r, keep_bytes(r, space, addr, buf, len));
	return err;
}

/* Keep the answer to question key (freed here); err is the inner target's
 * answer, returned as it is. */
static struct md_error *keep_answer(struct record_target *r, char *key, struct md_error *err,
				    const uint64_t v[3], const char *text)
{
	struct answer *a;

	if (!key || !(a = calloc(1, sizeof(*a)))) {
		free(key);
		record_failed(r, md_error_nomem());
		return err;
	}
	a->key = key;
	if (err) {
		a->code = md_error_root_code(err);
		a->text = md_error_string(err);
	} else {
		memcpy(a->v, v, sizeof(a->v));
		a->text = text ? strdup(text) : NULL;
	}
	if ((err ? !a->text : text && !a->text)) {
		answer_free(a);
		record_failed(r, md_error_nomem());
		return err;
	}
	record_failed(r, answer_add(&r->answers, a));
	return err;
}

static struct md_error *rec_symbol_address(void *priv, const char *name, uint64_t *ret)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->symbol_address(r->inner->priv, name, ret);
	uint64_t v[3] = { err ? 0 : *ret };

	return keep_answer(r, question('S', name, NULL), err, v, NULL);
}

static struct md_error *rec_type_size(void *priv, const char *type, uint64_t *ret)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->type_size(r->inner->priv, type, ret);
	uint64_t v[3] = { err ? 0 : *ret };

	return keep_answer(r, question('T', type, NULL), err, v, NULL);
}

static struct md_error *rec_member(void *priv, const char *type, const char *member,
				   struct md_member *ret)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->member(r->inner->priv, type, member, ret);
	uint64_t v[3] = { 0 };

	if (!err) {
		v[0] = ret->bit_offset;
		v[1] = ret->bit_size;
		v[2] = ret->size;
	}
	return keep_answer(r, question('M', type, member), err, v, NULL);
}

static struct md_error *rec_enumerator(void *priv, const char *name, int64_t *ret)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->enumerator(r->inner->priv, name, ret);
	uint64_t v[3] = { err ? 0 : (uint64_t)*ret };

	return keep_answer(r, question('E', name, NULL), err, v, NULL);
}

static struct md_error *rec_vmcoreinfo(void *priv, const char *key, char *buf, size_t len)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->vmcoreinfo(r->inner->priv, key, buf, len);
	uint64_t v[3] = { 0 };

	return keep_answer(r, question('V', key, NULL), err, v, err ? NULL : buf);
}

static struct md_error *rec_address_name(void *priv, uint64_t addr, char *buf, size_t len)
{
	struct record_target *r = priv;
	struct md_error *err = r->inner->ops->address_name(r->inner->priv, addr, buf, len);
	uint64_t v[3] = { 0 };
	char a[19];

	address_text(addr, a);
	return keep_answer(r, question('A', a, NULL), err, v, err ? NULL : buf);
}

static bool rec_interrupted(void *priv)
{
	struct record_target *r = priv;

	return r->inner->ops->interrupted(r->inner->priv);
}

static const struct md_target_ops record_ops = {
	.read = rec_read,
	.symbol_address = rec_symbol_address,
	.type_size = rec_type_size,
	.member = rec_member,
	.enumerator = rec_enumerator,
	.vmcoreinfo = rec_vmcoreinfo,
	.address_name = rec_address_name,
	.interrupted = rec_interrupted,
};

struct md_error *md_record_target_open(const struct md_target *inner, const char *path,
				       struct md_target **ret)
{
	struct record_target *r = calloc(1, sizeof(*r));

	if (!r || !(r->path = strdup(path))) {
		free(r);
		return md_error_nomem();
	}
	r->target.ops = &record_ops;
	r->target.priv = r;
	r->inner = inner;
	*ret = &r->target;
	return NULL;
}

static bool put(FILE *f, const void *p, size_t len)
{
	return fwrite(p, 1, len, f) == len;
}

static bool put_text(FILE *f, const char *s)
{
	uint32_t len = s ? strlen(s) : 0;

	return put(f, &len, sizeof(len)) && put(f, s ? s : "", len);
}

static bool write_recording(const struct table *chunks, const struct table *answers, FILE *f)
{
	bool ok = put(f, MAGIC, strlen(MAGIC));

	for (size_t i = 0; ok && chunks->slot && i <= chunks->mask; i++) {
		const struct chunk *c = chunks->slot[i];
		uint8_t space = c ? c->key & 1 : 0;
		uint64_t addr = c ? c->key & ~(uint64_t)(CHUNK - 1) : 0;

		if (c)
			ok = put(f, "C", 1) && put(f, &space, 1) && put(f, &addr, 8) &&
			     put(f, c->valid, CHUNK / 8) && put(f, c->data, CHUNK);
	}
	for (size_t i = 0; ok && answers->slot && i <= answers->mask; i++) {
		const struct answer *a = answers->slot[i];

		if (!a)
			continue;
		ok = put(f, "Q", 1) && put(f, a->key, 1) && put_text(f, a->key + 1) && put(f, &a->code, 1);
		if (ok && (a->code || a->key[0] == 'V' || a->key[0] == 'A'))
			ok = put_text(f, a->text);
		else if (ok)
			ok = put(f, a->v, a->key[0] == 'M' ? 24 : 8);
	}
	return ok;
}

/* Writes a recording to path: appended, or in place of what was there. */
static struct md_error *write_file(const char *path, const char *mode, const struct table *chunks,
				   const struct table *answers)
{
	FILE *f = fopen(path, mode);

	if (!f)
		return md_error_create(MD_ERR_OS, "%s: %s", path, strerror(errno));
	if (!write_recording(chunks, answers, f) | (fclose(f) != 0))
		return md_error_create(MD_ERR_OS, "%s: write failed: %s", path, strerror(errno));
	return NULL;
}

struct md_error *md_record_target_close(struct md_target *t)
{
	struct record_target *r;
	struct md_error *err;

	if (!t)
		return NULL;
	r = t->priv;
	err = r->failed;
	if (!err)
		err = write_file(r->path, "ab", &r->chunks, &r->answers);
	table_free(&r->chunks, chunk_free);
	table_free(&r->answers, answer_free);
	free(r->path);
	free(r);
	return err;
}

/* ------------------------------------------------------------------------ */
/* The replay                                                               */

struct replay_target {
	struct md_target target;
	char *path;
	struct table chunks;
	struct table answers;
	unsigned char *map;		/* the file */
	size_t map_len;
	uint64_t reads;
	enum md_replay_fault fault;
	uint64_t fault_nth, fault_seed;
	uint64_t fail_address;		/* md_replay_fail_address() */
	const struct md_replay_patch *patches;
	size_t npatches, next_patch;
	void (*hook)(void *priv, uint64_t n, uint64_t addr, size_t len);
	void *hook_priv;
};

static void random_bytes(uint64_t seed, unsigned char *buf, size_t len)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL | 1;	/* xorshift64 */

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x >> 24;
	}
}

static struct md_error *replay_fault(struct replay_target *p, enum md_addr_space space,
				     uint64_t addr, uint64_t at, const char *why)
{
	if (at != addr)
		return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): at 0x%" PRIx64 ": %s",
				       addr, space_name(space), at, why);
	return md_error_create(MD_ERR_FAULT, "reading 0x%" PRIx64 " (%s): %s", addr,
			       space_name(space), why);
}

/* The first byte in [from, to) of c that was not read, or to. */
static size_t valid_until(const struct chunk *c, size_t from, size_t to)
{
	size_t i = from;

	if (c->full)
		return to;
	while (i < to) {
		if (i % 8 == 0 && to - i >= 8 && c->valid[i / 8] == 0xff)
			i += 8;
		else if (c->valid[i / 8] & 1 << (i % 8))
			i++;
		else
			break;
	}
	return i;
}

static struct md_error *replay_read(void *priv, enum md_addr_space space, uint64_t addr, void *buf,
				    size_t len)
{
	struct replay_target *p = priv;
	unsigned char *out = buf;

	if (len == 0)
		return NULL;
	p->reads++;
	if (p->hook)
		p->hook(p->hook_priv, p->reads, addr, len);
	if (p->fail_address && space == MD_KVADDR && addr <= p->fail_address &&
	    p->fail_address - addr < len)
		return replay_fault(p, space, addr, p->fail_address, "injected fault");
	if (p->fault != MD_REPLAY_NONE && p->reads == p->fault_nth) {
		switch (p->fault) {
		case MD_REPLAY_FAIL:
			return replay_fault(p, space, addr, addr, "injected fault");
		case MD_REPLAY_ZERO:
			memset(buf, 0, len);
			return NULL;
		default:
			random_bytes(p->fault_seed ^ p->reads, buf, len);
			return NULL;
		}
	}
	for (size_t done = 0; done < len;) {
		uint64_t a = addr + done;
		size_t off = a & (CHUNK - 1), piece = CHUNK - off;
		const struct chunk *c = chunk_find(&p->chunks, chunk_key(space, a));

		if (piece > len - done)
			piece = len - done;
		if (a < addr)	/* wrapped past the top of the address space */
			return replay_fault(p, space, addr, a, "not mapped");
		size_t have = c ? valid_until(c, off, off + piece) : off;

		if (have < off + piece)
			return replay_fault(p, space, addr, a - off + have, "not in the recording");
		memcpy(out + done, c->data + off, piece);
		done += piece;
	}
	while (p->next_patch < p->npatches && p->patches[p->next_patch].read <= p->reads) {
		const struct md_replay_patch *patch = &p->patches[p->next_patch++];

		if (patch->read == p->reads)
			out[patch->offset % len] = patch->value;
	}
	return NULL;
}

/* The recorded answer to key (freed here), or MD_ERR_LOOKUP. */
static struct md_error *replay_answer(struct replay_target *p, char *key, const struct answer **ret)
{
	const struct answer *a;

	if (!key)
		return md_error_nomem();
	a = answer_find(&p->answers, key);
	if (!a) {
		struct md_error *err = md_error_create(MD_ERR_LOOKUP, "'%s' is not in the recording %s",
						       key + 1, p->path);
		free(key);
		return err;
	}
	free(key);
	if (a->code)
		return md_error_create(a->code, "%s", a->text ? a->text : "");
	*ret = a;
	return NULL;
}

/* The recorded value of a one-value question (a symbol, a size, an enumerator). */
static struct md_error *replay_value(void *priv, char op, const char *name, uint64_t *ret)
{
	const struct answer *a;
	struct md_error *err = replay_answer(priv, question(op, name, NULL), &a);

	if (!err)
		*ret = a->v[0];
	return err;
}

static struct md_error *replay_symbol_address(void *priv, const char *name, uint64_t *ret)
{
	return replay_value(priv, 'S', name, ret);
}

static struct md_error *replay_type_size(void *priv, const char *type, uint64_t *ret)
{
	return replay_value(priv, 'T', type, ret);
}

static struct md_error *replay_member(void *priv, const char *type, const char *member,
				      struct md_member *ret)
{
	const struct answer *a;
	struct md_error *err = replay_answer(priv, question('M', type, member), &a);

	if (!err) {
		ret->bit_offset = a->v[0];
		ret->bit_size = a->v[1];
		ret->size = a->v[2];
	}
	return err;
}

static struct md_error *replay_enumerator(void *priv, const char *name, int64_t *ret)
{
	uint64_t v;
	struct md_error *err = replay_value(priv, 'E', name, &v);

	if (!err)
		*ret = (int64_t)v;
	return err;
}

static struct md_error *replay_text(const struct answer *a, char *buf, size_t len)
{
	if (len == 0)
		return md_error_create(MD_ERR_INVALID, "no room for '%s'", a->key + 1);
	snprintf(buf, len, "%s", a->text ? a->text : "");
	return NULL;
}

static struct md_error *replay_vmcoreinfo(void *priv, const char *key, char *buf, size_t len)
{
	const struct answer *a;
	struct md_error *err = replay_answer(priv, question('V', key, NULL), &a);

	return err ? err : replay_text(a, buf, len);
}

static struct md_error *replay_address_name(void *priv, uint64_t addr, char *buf, size_t len)
{
	const struct answer *a;
	struct md_error *err;
	char text[19];

	address_text(addr, text);
	err = replay_answer(priv, question('A', text, NULL), &a);
	return err ? err : replay_text(a, buf, len);
}

static bool replay_interrupted(void *priv)
{
	return false;
}

static const struct md_target_ops replay_ops = {
	.read = replay_read,
	.symbol_address = replay_symbol_address,
	.type_size = replay_type_size,
	.member = replay_member,
	.enumerator = replay_enumerator,
	.vmcoreinfo = replay_vmcoreinfo,
	.address_name = replay_address_name,
	.interrupted = replay_interrupted,
};

/* A cursor over the file's bytes: every take is bounded. */
struct cursor {
	const unsigned char *p, *end;
};

static bool take(struct cursor *c, void *out, size_t len)
{
	if ((size_t)(c->end - c->p) < len)
		return false;
	memcpy(out, c->p, len);
	c->p += len;
	return true;
}

/* A u32-length text, NUL-terminated in a new allocation. */
static bool take_text(struct cursor *c, char **ret)
{
	uint32_t len;

	if (!take(c, &len, sizeof(len)) || (size_t)(c->end - c->p) < len || !(*ret = malloc(len + 1)))
		return false;
	memcpy(*ret, c->p, len);
	(*ret)[len] = '\0';
	c->p += len;
	return true;
}

static bool all_read(const unsigned char *valid)
{
	for (size_t i = 0; i < CHUNK / 8; i++)
		if (valid[i] != 0xff)
			return false;
	return true;
}

static struct md_error *load_chunk(struct replay_target *p, struct cursor *c)
{
	uint8_t space;
	uint64_t addr;
	const unsigned char *valid, *data;
	struct chunk *ch;
	struct md_error *err;

	if (!take(c, &space, 1) || !take(c, &addr, 8) || (size_t)(c->end - c->p) < CHUNK / 8 + CHUNK)
		return md_error_create(MD_ERR_FORMAT, "%s: a chunk is cut short", p->path);
	valid = c->p;
	data = valid + CHUNK / 8;
	c->p += CHUNK / 8 + CHUNK;
	if (space > 1 || addr & (CHUNK - 1))
		return md_error_create(MD_ERR_FORMAT, "%s: a chunk has space %u, address 0x%" PRIx64,
				       p->path, space, addr);
	if (!chunk_find(&p->chunks, addr | space)) {	/* the file's own bytes */
		if (!(ch = calloc(1, sizeof(*ch))))
			return md_error_nomem();
		ch->key = addr | space;
		ch->valid = (unsigned char *)valid;
		ch->data = (unsigned char *)data;
		ch->full = all_read(valid);
		if (!table_insert(&p->chunks, ch, chunk_hash)) {
			free(ch);
			return md_error_nomem();
		}
		return NULL;
	}
	if ((err = chunk_get(&p->chunks, addr | space, &ch)))	/* segments add up */
		return err;
	for (size_t i = 0; i < CHUNK; i++) {
		if (valid[i / 8] & 1 << (i % 8)) {
			ch->data[i] = data[i];
			ch->valid[i / 8] |= 1 << (i % 8);
		}
	}
	ch->full = all_read(ch->valid);
	return NULL;
}

static struct md_error *load_answer(struct replay_target *p, struct cursor *c)
{
	struct answer *a = calloc(1, sizeof(*a));
	char op, *key = NULL;
	bool ok;

	if (!a)
		return md_error_nomem();
	ok = take(c, &op, 1) && strchr("STMEVA", op) && op && take_text(c, &key) &&
	     asprintf(&a->key, "%c%s", op, key) >= 0 && take(c, &a->code, 1);
	free(key);
	if (!ok)
		a->key = NULL;
	else if (a->code || op == 'V' || op == 'A')
		ok = take_text(c, &a->text);
	else
		ok = take(c, a->v, op == 'M' ? 24 : 8);
	if (!ok) {
		answer_free(a);
		return md_error_create(MD_ERR_FORMAT, "%s: an answer is cut short or unknown", p->path);
	}
	return answer_add(&p->answers, a);
}

static struct md_error *load_recording(struct replay_target *p, const unsigned char *data, size_t len)
{
	struct cursor c = { data, data + len };
	struct md_error *err = NULL;

	if (len < strlen(MAGIC) || memcmp(data, MAGIC, strlen(MAGIC)))
		return md_error_create(MD_ERR_FORMAT, "%s: not a memdiag recording", p->path);
	while (!err && c.p < c.end) {
		char kind;

		if (c.end - c.p >= (ptrdiff_t)strlen(MAGIC) && !memcmp(c.p, MAGIC, strlen(MAGIC))) {
			c.p += strlen(MAGIC);	/* the next segment */
			continue;
		}
		take(&c, &kind, 1);
		if (kind == 'C')
			err = load_chunk(p, &c);
		else if (kind == 'Q')
			err = load_answer(p, &c);
		else
			err = md_error_create(MD_ERR_FORMAT, "%s: unknown record '%c' at byte %zu",
					      p->path, kind, (size_t)(c.p - data - 1));
	}
	return err;
}

/* The file, mapped read-only: chunks point into it. */
static struct md_error *map_file(struct replay_target *p)
{
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct md_error *err = NULL;

	if (fd < 0)
		return md_error_create(MD_ERR_OS, "%s: %s", p->path, strerror(errno));
	if (fstat(fd, &st) < 0)
		err = md_error_create(MD_ERR_OS, "%s: %s", p->path, strerror(errno));
	else if (st.st_size == 0)
		err = md_error_create(MD_ERR_FORMAT, "%s: empty, not a memdiag recording", p->path);
	else if ((p->map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		err = md_error_create(MD_ERR_OS, "%s: mmap: %s", p->path, strerror(errno));
	else
		p->map_len = st.st_size;
	if (!p->map_len)
		p->map = NULL;
	close(fd);
	return err;
}

struct md_error *md_replay_target_open(const char *path, struct md_target **ret)
{
	struct replay_target *p = calloc(1, sizeof(*p));
	struct md_error *err;

	if (!p || !(p->path = strdup(path))) {
		free(p);
		return md_error_nomem();
	}
	p->target.ops = &replay_ops;
	p->target.priv = p;
	if ((err = map_file(p)) || (err = load_recording(p, p->map, p->map_len))) {
		md_replay_target_close(&p->target);
		return err;
	}
	*ret = &p->target;
	return NULL;
}

void md_replay_target_close(struct md_target *t)
{
	struct replay_target *p;

	if (!t)
		return;
	p = t->priv;
	table_free(&p->chunks, chunk_free);
	table_free(&p->answers, answer_free);
	if (p->map)
		munmap(p->map, p->map_len);
	free(p->path);
	free(p);
}

void md_replay_set_fault(struct md_target *t, enum md_replay_fault mode, uint64_t nth,
			 uint64_t seed)
{
	struct replay_target *p = t->priv;

	p->fault = mode;
	p->fault_nth = nth;
	p->fault_seed = seed;
}

void md_replay_set_patches(struct md_target *t, const struct md_replay_patch *patches, size_t n)
{
	struct replay_target *p = t->priv;

	p->patches = patches;
	p->npatches = n;
	p->next_patch = 0;
}

uint64_t md_replay_reads(const struct md_target *t)
{
	return ((const struct replay_target *)t->priv)->reads;
}

void md_replay_reset(struct md_target *t)
{
	struct replay_target *p = t->priv;

	p->reads = 0;
	p->next_patch = 0;
}

struct md_error *md_replay_target_write(const struct md_target *t, const char *path)
{
	const struct replay_target *p = t->priv;

	return write_file(path, "wb", &p->chunks, &p->answers);
}

void md_replay_set_read_hook(struct md_target *t,
			     void (*hook)(void *priv, uint64_t n, uint64_t addr, size_t len), void *priv)
{
	struct replay_target *p = t->priv;

	p->hook = hook;
	p->hook_priv = priv;
}

void md_replay_fail_address(struct md_target *t, uint64_t addr)
{
	((struct replay_target *)t->priv)->fail_address = addr;
}
