/* The dump's own kallsyms (see kallsyms.h).
 *
 * kernel/kallsyms.c keeps, in .rodata:
 *   kallsyms_num_syms     the number of symbols;
 *   kallsyms_names        per symbol, a length and that many token bytes;
 *                         the first character of the expansion is the nm
 *                         type letter;
 *   kallsyms_markers      the byte offset of every 256th name (u32), right
 *                         after the names;
 *   kallsyms_token_table  NUL-terminated token strings;
 *   kallsyms_token_index  u16[256]: each token byte's string;
 *   kallsyms_offsets      s32 per symbol, turned into an address one of
 *                         three ways (address_ways[] below);
 *   kallsyms_relative_base  the base of two of those ways (until v7.0).
 * VMCOREINFO names all but the markers since 5fd8fea935a1 ("vmcoreinfo:
 * include kallsyms symbols") (in v6.0).
 */
#include "kallsyms.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096
/* Far more than any kernel's names (7.3: 2.7 MiB for 197,553 symbols). */
#define MAX_NAMES_BYTES (64u << 20)
#define MAX_SYMS (8u << 20)

struct kallsyms {
	const struct md_target *t;
	const char *path;
	uint64_t num_syms_addr, names_addr, token_table_addr, token_index_addr, offsets_addr;
	uint64_t relative_base, stext;
	bool has_relative_base;
	bool by_shape;		/* found by find_tables_by_shape() */
	uint32_t n;
	char *token_table;	/* as read, every token NUL-terminated */
	const char *tokens[256];
	size_t token_len[256];
	unsigned char *names;	/* kallsyms_names, read in whole pages as needed */
	size_t names_have, names_cap;
	uint32_t *marks;	/* the byte offset of every 256th name, as decoded */
	int32_t *offsets;
	char *strings;		/* every decoded name, type letter first */
	uint32_t *string_at;	/* each symbol's name in strings */
};

static struct md_error *read_kv(struct kallsyms *ks, uint64_t addr, void *buf, size_t len,
				const char *what)
{
	struct md_error *err = ks->t->ops->read(ks->t->priv, MD_KVADDR, addr, buf, len);

	return err ? md_error_wrap(err, "%s: kallsyms: cannot read %s", ks->path, what) : NULL;
}

/* A VMCOREINFO line's hex value; MD_ERR_LOOKUP if absent. */
static struct md_error *vmcoreinfo_hex(struct kallsyms *ks, const char *key, uint64_t *ret)
{
	char buf[64], *end;
	struct md_error *err = ks->t->ops->vmcoreinfo(ks->t->priv, key, buf, sizeof(buf));

	if (err)
		return err;
	*ret = strtoull(buf, &end, 16);
	if (end == buf || *end)
		return md_error_create(MD_ERR_FORMAT, "%s: VMCOREINFO %s=%s is not a hex address",
				       ks->path, key, buf);
	return NULL;
}

/* The tables VMCOREINFO names; MD_ERR_LOOKUP if it names none. */
static struct md_error *find_tables(struct kallsyms *ks)
{
	static const struct {
		const char *key;
		size_t field;
	} named[] = {
		{ "SYMBOL(kallsyms_num_syms)", offsetof(struct kallsyms, num_syms_addr) },
		{ "SYMBOL(kallsyms_names)", offsetof(struct kallsyms, names_addr) },
		{ "SYMBOL(kallsyms_token_table)", offsetof(struct kallsyms, token_table_addr) },
		{ "SYMBOL(kallsyms_token_index)", offsetof(struct kallsyms, token_index_addr) },
		{ "SYMBOL(kallsyms_offsets)", offsetof(struct kallsyms, offsets_addr) },
	};
	uint64_t base_addr;
	struct md_error *err;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		err = vmcoreinfo_hex(ks, named[i].key, (uint64_t *)((char *)ks + named[i].field));
		if (err)
			return err;
	}
	/* a081b5789255 ("kallsyms: Get rid of kallsyms relative base") (in v7.0) */
	err = vmcoreinfo_hex(ks, "SYMBOL(kallsyms_relative_base)", &base_addr);
	if (md_error_catch(&err, MD_ERR_LOOKUP))
		return NULL;
	if (err)
		return err;
	ks->has_relative_base = true;
	return read_kv(ks, base_addr, &ks->relative_base, 8, "kallsyms_relative_base");
}

static struct md_error *read_tokens(struct kallsyms *ks)
{
	uint16_t index[256];
	size_t size = 0;
	struct md_error *err;

	if ((err = read_kv(ks, ks->token_index_addr, index, sizeof(index), "kallsyms_token_index")))
		return err;
	for (int i = 0; i < 256; i++)
		if (index[i] > size)
			size = index[i];
	/* the last token ends within a few bytes of the highest index */
	size += 256;
	if (!(ks->token_table = malloc(size + 1)))
		return md_error_nomem();
	if ((err = read_kv(ks, ks->token_table_addr, ks->token_table, size, "kallsyms_token_table")))
		return err;
	ks->token_table[size] = '\0';
	/* Every token ends inside what was read, or the table is damaged.  A
	 * token may be empty: one that no name uses. */
	for (int i = 0; i < 256; i++) {
		ks->tokens[i] = ks->token_table + index[i];
		ks->token_len[i] = strlen(ks->tokens[i]);
		if (index[i] + ks->token_len[i] >= size)
			return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: token %d is unterminated "
					       "(the token table at 0x%" PRIx64 " is damaged)", ks->path,
					       i, ks->token_table_addr);
	}
	return NULL;
}

/* kallsyms_names up to byte end, in whole pages, read in one go. */
static struct md_error *names_upto(struct kallsyms *ks, size_t end)
{
	uint64_t addr = ks->names_addr + ks->names_have;
	size_t want;
	struct md_error *err;

	if (end <= ks->names_have)
		return NULL;
	/* whole pages, read in one go */
	want = ((ks->names_addr + end + PAGE - 1) & ~(uint64_t)(PAGE - 1)) - ks->names_addr;
	if (want > MAX_NAMES_BYTES)
		return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: the names of %" PRIu32
				       " symbols run past %u MiB (a damaged table?)",
				       ks->path, ks->n, MAX_NAMES_BYTES >> 20);
	if (want > ks->names_cap) {
		size_t cap = ks->names_cap ? ks->names_cap : 1 << 20;
		unsigned char *grown;

		while (cap < want)
			cap *= 2;
		if (!(grown = realloc(ks->names, cap)))
			return md_error_nomem();
		ks->names = grown;
		ks->names_cap = cap;
	}
	if ((err = read_kv(ks, addr, ks->names + ks->names_have, want - ks->names_have,
			   "kallsyms_names")))
		return err;
	ks->names_have = want;
	return NULL;
}

/* The length of the name at *pos, which moves past it.  A length with bit
 * 7 set takes a second byte since 73bbb94466fd ("kallsyms: support "big"
 * kernel symbols") (in v6.1); before it no compressed name reached 128
 * bytes, so one rule reads both. */
static struct md_error *name_length(struct kallsyms *ks, size_t *pos, size_t *len)
{
	struct md_error *err;

	if ((err = names_upto(ks, *pos + 2)))
		return err;
	*len = ks->names[(*pos)++];
	if (*len & 0x80)
		*len = (*len & 0x7f) | (size_t)ks->names[(*pos)++] << 7;
	return names_upto(ks, *pos + *len);
}

/* Every name, expanded: a first walk measures them (and reads the table),
 * the second writes them into one block of the right size. */
static struct md_error *decode_names(struct kallsyms *ks, size_t *names_end)
{
	size_t pos = 0, len, total = 0, out = 0;
	struct md_error *err;

	ks->marks = malloc(((ks->n + 255) / 256) * sizeof(*ks->marks));
	ks->string_at = malloc(ks->n * sizeof(*ks->string_at));
	if (!ks->marks || !ks->string_at)
		return md_error_nomem();
	/* The token table follows the names in every layout: read to it at once. */
	if (ks->token_table_addr > ks->names_addr &&
	    ks->token_table_addr - ks->names_addr <= MAX_NAMES_BYTES &&
	    (err = names_upto(ks, ks->token_table_addr - ks->names_addr)))
		return err;
	for (uint32_t i = 0; i < ks->n; i++, pos += len) {
		if (i % 256 == 0)
			ks->marks[i / 256] = pos;
		if ((err = name_length(ks, &pos, &len)))
			return err;
		for (size_t j = 0; j < len; j++)
			total += ks->token_len[ks->names[pos + j]];
		if (++total > UINT32_MAX)
			return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: names too long", ks->path);
	}
	*names_end = pos;
	if (!(ks->strings = malloc(total)))
		return md_error_nomem();
	pos = 0;
	for (uint32_t i = 0; i < ks->n; i++, pos += len) {
		const char *name = ks->strings + out;

		if ((err = name_length(ks, &pos, &len)))
			return err;
		ks->string_at[i] = out;
		for (size_t j = 0; j < len; j++) {
			const unsigned char tok = ks->names[pos + j];

			memcpy(ks->strings + out, ks->tokens[tok], ks->token_len[tok]);
			out += ks->token_len[tok];
		}
		ks->strings[out++] = '\0';
		/* a name is a type letter and at least one character */
		if (len == 0 || !name[0] || !name[1] || !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
			return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: symbol %" PRIu32 " of %"
					       PRIu32 " has no valid name (kallsyms_names at 0x%"
					       PRIx64 " is damaged at +0x%zx)", ks->path, i, ks->n,
					       ks->names_addr, pos);
	}
	return NULL;
}

/* kallsyms_markers follows the names (scripts/kallsyms.c write_src(),
 * 8-aligned before v7.0, 4-aligned since): its entries must be the
 * offsets decode_names() met.  A cheap proof that the lengths were read
 * right, with no version test. */
static struct md_error *check_markers(struct kallsyms *ks, size_t names_end)
{
	size_t m = (ks->n + 255) / 256;
	uint32_t *found = malloc(m * sizeof(*found));
	struct md_error *err = NULL;

	if (!found)
		return md_error_nomem();
	for (size_t align = 8; align >= 4; align /= 2) {
		uint64_t at = ks->names_addr + ((names_end + align - 1) & ~(align - 1));

		if ((err = read_kv(ks, at, found, m * sizeof(*found), "kallsyms_markers")))
			break;
		if (!memcmp(found, ks->marks, m * sizeof(*found)))
			break;
		if (align == 4)
			err = md_error_create(MD_ERR_FORMAT, "%s: kallsyms: the names do not end where "
					      "kallsyms_markers begins (0x%" PRIx64 "): a damaged "
					      "table, or a layout memdiag does not know", ks->path,
					      at);
	}
	free(found);
	return err;
}

/* The ways an entry of kallsyms_offsets becomes an address. */
static uint64_t base_relative(const struct kallsyms *ks, uint32_t i)
{
	/* 2213e9a66bb8 ("kallsyms: add support for relative offsets in
	 * kallsyms address table") (in v4.6) */
	return ks->relative_base + (uint32_t)ks->offsets[i];
}

static uint64_t absolute_percpu(const struct kallsyms *ks, uint32_t i)
{
	/* x86-64 until 01157ddc58dc ("kallsyms: Remove
	 * KALLSYMS_ABSOLUTE_PERCPU") (in v6.15): per-CPU offsets as they are */
	return ks->offsets[i] >= 0 ? (uint64_t)ks->offsets[i] :
	       ks->relative_base - 1 - (int64_t)ks->offsets[i];
}

static uint64_t place_relative(const struct kallsyms *ks, uint32_t i)
{
	/* a081b5789255 ("kallsyms: Get rid of kallsyms relative base") (in v7.0) */
	return ks->offsets_addr + 4 * (uint64_t)i + (int64_t)ks->offsets[i];
}

static const struct {
	uint64_t (*address)(const struct kallsyms *ks, uint32_t i);
	bool needs_base;
} address_ways[] = {
	{ absolute_percpu, true },
	{ base_relative, true },
	{ place_relative, false },
};

/* The way that gives _stext the address VMCOREINFO gives it, as drgn does
 * (libdrgn/kallsyms.c). */
static struct md_error *choose_address_way(struct kallsyms *ks,
					   uint64_t (**ret)(const struct kallsyms *, uint32_t))
{
	uint32_t stext = UINT32_MAX;

	for (uint32_t i = 0; i < ks->n && stext == UINT32_MAX; i++) {
		const char *s = ks->strings + ks->string_at[i];

		if ((s[0] == 'T' || s[0] == 't') && !strcmp(s + 1, "_stext"))
			stext = i;
	}
	if (stext == UINT32_MAX)
		return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: no _stext among %" PRIu32
				       " symbols (a damaged table?)", ks->path, ks->n);
	for (size_t w = 0; w < sizeof(address_ways) / sizeof(address_ways[0]); w++) {
		if (address_ways[w].needs_base != ks->has_relative_base)
			continue;
		if (address_ways[w].address(ks, stext) == ks->stext) {
			*ret = address_ways[w].address;
			return NULL;
		}
	}
	return md_error_create(MD_ERR_FORMAT, "%s: kallsyms: _stext does not decode to VMCOREINFO's "
			       "0x%" PRIx64 " (kallsyms_offsets at 0x%" PRIx64 " is damaged, or "
			       "its layout is one memdiag does not know)", ks->path, ks->stext,
			       ks->offsets_addr);
}

/* scripts/kallsyms.c sorts the symbols by address (get_symbol_pos()'s
 * binary search needs it): a drop is damage, such as a zeroed page of
 * kallsyms_offsets, which would otherwise move every symbol on it. */
static struct md_error *check_sorted(struct kallsyms *ks,
				     uint64_t (*address)(const struct kallsyms *, uint32_t))
{
	for (uint32_t i = 1; i < ks->n; i++) {
		if (address(ks, i) < address(ks, i - 1))
			return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: symbol %" PRIu32 " (%s) "
					       "decodes below the one before it (kallsyms_offsets at "
					       "0x%" PRIx64 " is damaged near +0x%" PRIx64 ")", ks->path,
					       i, ks->strings + ks->string_at[i] + 1, ks->offsets_addr,
					       4 * (uint64_t)i);
	}
	return NULL;
}

/* Symbols whose address VMCOREINFO also gives (VMCOREINFO_SYMBOL() in
 * kernel/vmcore_info.c and the arch's arch_crash_save_vmcoreinfo(); not
 * mem_section, a VMCOREINFO_SYMBOL_ARRAY(), whose value is given): where
 * both have one, they must agree. */
static struct md_error *check_vmcoreinfo(struct kallsyms *ks, const struct md_symtab *st)
{
	static const char *const names[] = {
		"init_uts_ns", "node_online_map", "swapper_pg_dir", "vmap_area_list",
		"prb", "init_top_pgt", "kallsyms_names", "kallsyms_offsets",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct md_sym *sym = md_symtab_lookup(st, names[i]);
		char key[64];
		uint64_t want;
		struct md_error *err;

		snprintf(key, sizeof(key), "SYMBOL(%s)", names[i]);
		err = vmcoreinfo_hex(ks, key, &want);
		if (md_error_catch(&err, MD_ERR_LOOKUP) || !sym)
			continue;
		if (err)
			return err;
		if (sym->value != want)
			return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms gives %s as 0x%" PRIx64
					       " but VMCOREINFO as 0x%" PRIx64 " (a damaged table?)",
					       ks->path, names[i], sym->value, want);
	}
	return NULL;
}

static struct md_error *fill(struct kallsyms *ks, struct md_symtab *st)
{
	uint64_t (*address)(const struct kallsyms *, uint32_t) = NULL;
	struct md_error *err;

	if ((err = choose_address_way(ks, &address)) || (err = check_sorted(ks, address)) ||
	    (err = md_symtab_reserve(st, ks->n)))
		return err;
	for (uint32_t i = 0; i < ks->n; i++) {
		const char *s = ks->strings + ks->string_at[i];
		struct md_sym sym = {
			.name = s + 1,
			.value = address(ks, i),
		};

		md_symtab_nm_ranks(s[0], &sym);
		/* Per-CPU offsets (before v6.15) are small; absolute symbols
		 * ('A') are constants. */
		sym.in_image = sym.value >> 63 && s[0] != 'A' && s[0] != 'a';
		if ((err = md_symtab_add(st, &sym)))
			return err;
	}
	err = md_symtab_own(st, ks->strings);
	ks->strings = NULL;
	if (err || (err = md_symtab_index(st)))
		return err;
	return check_vmcoreinfo(ks, st);
}

/* ------------------------------------------------------------------------ */
/* Kernels whose VMCOREINFO names no tables (before v6.0): found by shape    */

#define SCAN_BYTES (64u << 20)	/* from _stext: text and rodata of any distro kernel */
#define SCAN_CHUNK (1u << 20)

/* A read of the search: a page not in the dump (MD_ERR_FAULT) only means
 * "not here", *ok false; any other error travels up. */
static struct md_error *probe(struct kallsyms *ks, uint64_t addr, void *buf, size_t len, bool *ok)
{
	struct md_error *err = ks->t->ops->read(ks->t->priv, MD_KVADDR, addr, buf, len);

	*ok = !err;
	md_error_catch(&err, MD_ERR_FAULT);
	return err;
}

/* The token table starts at most 4 KiB before the digits' tokens, 8-aligned,
 * and its 256 tokens end (8-aligned) where the token index lists them.  If
 * so (*found), ks->token_table_addr and token_index_addr are set. */
static struct md_error *tokens_around(struct kallsyms *ks, uint64_t digits, bool *found)
{
	char buf[4096 + 256 * 64];
	const uint64_t lo = (digits & ~7ull) - 4096;
	struct md_error *err;
	bool ok;

	*found = false;
	if ((err = probe(ks, lo, buf, sizeof(buf), &ok)) || !ok)
		return err;
	for (uint64_t start = digits & ~7ull; start >= lo; start -= 8) {
		uint16_t want[256], index[256];
		size_t pos = start - lo;
		uint64_t index_addr;
		int i;

		for (i = 0; i < 256; i++) {
			size_t room = sizeof(buf) - pos < 64 ? sizeof(buf) - pos : 64;
			const char *nul = memchr(buf + pos, '\0', room);

			if (!nul || nul == buf + pos)
				break;
			want[i] = pos - (start - lo);
			pos = nul - buf + 1;
		}
		if (i < 256)
			continue;
		index_addr = (lo + pos + 7) & ~7ull;
		if ((err = probe(ks, index_addr, index, sizeof(index), &ok)))
			return err;
		if (ok && !memcmp(index, want, sizeof(want))) {
			ks->token_table_addr = start;
			ks->token_index_addr = index_addr;
			*found = true;
			return NULL;
		}
	}
	return NULL;
}

/* kallsyms_markers ends just before the token table (8-aligned): u32 words
 * that, read backwards, fall to the 0 of the first name.  If so (*found):
 * where they start, how many, and the last. */
static struct md_error *markers_before(struct kallsyms *ks, uint64_t *markers, uint32_t *count,
				       uint32_t *last, bool *found)
{
	uint64_t at = ks->token_table_addr - 4;
	uint32_t v, prev = UINT32_MAX;
	struct md_error *err;
	bool ok;

	*found = false;
	if ((err = probe(ks, at, &v, 4, &ok)) || !ok)
		return err;
	if (v == 0)	/* alignment padding */
		at -= 4;
	for (uint32_t m = 0; m < MAX_SYMS / 256; at -= 4, m++) {
		if ((err = probe(ks, at, &v, 4, &ok)) || !ok || v >= prev)
			return err;
		if (m == 0)
			*last = v;
		prev = v;
		if (v == 0) {
			*markers = at;
			*count = m + 1;
			*found = true;
			return NULL;
		}
	}
	return NULL;
}

/* kallsyms_num_syms: an 8-aligned u32, 8 bytes before the names, whose
 * count fits the markers.  The names after the last marker take at most
 * 255 names of 2 + 255 bytes.  If so (*found), ks->num_syms_addr and
 * names_addr are set. */
static struct md_error *num_syms_before(struct kallsyms *ks, uint64_t markers, uint32_t m,
					uint32_t last, bool *found)
{
	const uint64_t hi = (markers - last - 8) & ~7ull, lo = hi - 8 * (255 * 257 / 8 + 1);
	uint32_t *window = malloc(hi - lo + 8);
	struct md_error *err;
	bool ok;

	*found = false;
	if (!window)
		return md_error_nomem();
	if ((err = probe(ks, lo, window, hi - lo + 8, &ok)) || !ok) {
		free(window);
		return err;
	}
	for (uint64_t at = hi; at >= lo && !*found; at -= 8) {
		uint32_t n = window[(at - lo) / 4];

		if (n > 256 * (m - 1) && n <= 256 * m) {
			ks->num_syms_addr = at;
			ks->names_addr = at + 8;
			*found = true;
		}
	}
	free(window);
	return NULL;
}

/* Whether the digits at addr are in a token table laid out as below. */
static struct md_error *tables_at(struct kallsyms *ks, uint64_t addr, bool *found)
{
	uint64_t markers = 0;
	uint32_t m = 0, last = 0;
	struct md_error *err;

	if ((err = tokens_around(ks, addr, found)) || !*found ||
	    (err = markers_before(ks, &markers, &m, &last, found)) || !*found)
		return err;
	return num_syms_before(ks, markers, m, last, found);
}

/* Where scripts/kallsyms.c (v4.6 to v6.3) put the tables: offsets,
 * relative_base, num_syms, names, markers, token_table, token_index,
 * each 8-aligned.  Every single-character token is in the token table,
 * so "0\0" .. "9\0" is too; the rest follows from the layout, and load()
 * checks it all again (the markers, then _stext). */
static struct md_error *find_tables_by_shape(struct kallsyms *ks)
{
	static const char digits[] = "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9";
	const size_t dlen = sizeof(digits);
	char *chunk = malloc(SCAN_CHUNK + dlen);
	struct md_error *err = NULL;
	size_t keep = 0;

	if (!chunk)
		return md_error_nomem();
	for (uint64_t off = 0; off < SCAN_BYTES && !err; off += SCAN_CHUNK) {
		uint64_t base = ks->stext + off;

		/* page by page: a page not in the dump only hides what is on it */
		for (size_t p = 0; p < SCAN_CHUNK && !err; p += PAGE) {
			bool ok;

			err = probe(ks, base + p, chunk + keep + p, PAGE, &ok);
			if (!ok)
				memset(chunk + keep + p, 0, PAGE);
		}
		for (char *hit = chunk; !err && (hit = memmem(hit, SCAN_CHUNK + keep - (hit - chunk),
							      digits, dlen)); hit++) {
			bool found;

			err = tables_at(ks, base - keep + (hit - chunk), &found);
			if (!err && found) {
				ks->by_shape = true;
				free(chunk);
				return NULL;
			}
		}
		/* a match across the chunks' border is found in the next */
		memmove(chunk, chunk + keep + SCAN_CHUNK - (dlen - 1), dlen - 1);
		keep = dlen - 1;
		if (!err && ks->t->ops->interrupted && ks->t->ops->interrupted(ks->t->priv))
			err = md_error_create(MD_ERR_INTERRUPTED, "interrupted");
	}
	free(chunk);
	return err ? err : md_error_create(MD_ERR_LOOKUP, "%s: its VMCOREINFO does not name the "
					   "kallsyms tables (a kernel before 6.0), and none were "
					   "found in the %u MiB from _stext", ks->path,
					   SCAN_BYTES >> 20);
}

static struct md_error *load(struct kallsyms *ks, struct md_symtab *st)
{
	size_t names_end = 0;
	struct md_error *err = vmcoreinfo_hex(ks, "SYMBOL(_stext)", &ks->stext);

	if (err)
		return md_error_wrap(err, "%s: cannot tell where the kernel is", ks->path);
	err = find_tables(ks);
	if (md_error_catch(&err, MD_ERR_LOOKUP))
		err = find_tables_by_shape(ks);
	if (err || (err = read_kv(ks, ks->num_syms_addr, &ks->n, 4, "kallsyms_num_syms")))
		return err;
	if (ks->n == 0 || ks->n > MAX_SYMS)
		return md_error_create(MD_ERR_CORRUPT, "%s: kallsyms: kallsyms_num_syms is %" PRIu32
				       " (a damaged table?)", ks->path, ks->n);
	if (ks->by_shape) {	/* before num_syms: offsets, then relative_base */
		ks->offsets_addr = ks->num_syms_addr - 8 - ((4 * (uint64_t)ks->n + 7) & ~7ull);
		ks->has_relative_base = true;
		if ((err = read_kv(ks, ks->num_syms_addr - 8, &ks->relative_base, 8,
				   "kallsyms_relative_base")))
			return err;
	}
	if ((err = read_tokens(ks)) || (err = decode_names(ks, &names_end)) ||
	    (err = check_markers(ks, names_end)))
		return err;
	if (!(ks->offsets = malloc((size_t)ks->n * 4)))
		return md_error_nomem();
	if ((err = read_kv(ks, ks->offsets_addr, ks->offsets, (size_t)ks->n * 4, "kallsyms_offsets")))
		return err;
	return fill(ks, st);
}

struct md_error *md_kallsyms_load(const struct md_target *t, const char *path,
				  struct md_symtab **ret)
{
	struct kallsyms ks = { .t = t, .path = path };
	struct md_symtab *st = NULL;
	struct md_error *err;

	if (!(err = md_symtab_create(&st)))
		err = load(&ks, st);
	free(ks.token_table);
	free(ks.names);
	free(ks.marks);
	free(ks.offsets);
	free(ks.strings);
	free(ks.string_at);
	if (err) {
		md_symtab_destroy(st);
		return err;
	}
	*ret = st;
	return NULL;
}
