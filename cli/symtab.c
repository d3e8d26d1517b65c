/* A kernel's symbol table (see symtab.h): an open-addressing hash by name,
 * and the image symbols sorted by address. */
#include "symtab.h"
#include "array.h"
#include "hash.h"
#include "symbol_names.h"

#include <stdlib.h>
#include <string.h>

struct md_symtab {
	struct md_sym *syms;
	size_t nsyms, cap;
	uint32_t *by_name;	/* index + 1 into syms, 0 empty */
	size_t by_name_mask;
	uint32_t *by_addr;	/* image symbols that name addresses, in kallsyms' order */
	size_t naddr;
	void **owned;		/* md_symtab_own()'s blocks */
	size_t nowned, owned_cap;
};

void md_symtab_nm_ranks(char type, struct md_sym *sym)
{
	uint8_t bind = type == 'W' || type == 'w' || type == 'V' || type == 'v' ? 1 :
		       type >= 'A' && type <= 'Z' ? 0 : 2;

	/* the ELF ranks (cli/kdump_target.c) with the type unknown */
	sym->name_rank = bind * 2;
	sym->weak = bind == 1;
}

struct md_error *md_symtab_create(struct md_symtab **ret)
{
	if (!(*ret = calloc(1, sizeof(**ret))))
		return md_error_nomem();
	return NULL;
}

void md_symtab_destroy(struct md_symtab *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nowned; i++)
		free(st->owned[i]);
	free(st->owned);
	free(st->by_addr);
	free(st->by_name);
	free(st->syms);
	free(st);
}

struct md_error *md_symtab_reserve(struct md_symtab *st, size_t n)
{
	struct md_sym *grown;

	if (st->nsyms + n <= st->cap)
		return NULL;
	if (!(grown = realloc(st->syms, (st->nsyms + n) * sizeof(*grown))))
		return md_error_nomem();
	st->syms = grown;
	st->cap = st->nsyms + n;
	return NULL;
}

struct md_error *md_symtab_add(struct md_symtab *st, const struct md_sym *sym)
{
	if (st->nsyms >= UINT32_MAX - 1)
		return md_error_create(MD_ERR_FORMAT, "more than %u symbols", UINT32_MAX - 1);
	if (!md_array_reserve(&st->syms, &st->cap, st->nsyms, sizeof(*st->syms), 1024))
		return md_error_nomem();
	st->syms[st->nsyms++] = *sym;
	return NULL;
}

struct md_error *md_symtab_own(struct md_symtab *st, void *block)
{
	if (!md_array_reserve(&st->owned, &st->owned_cap, st->nowned, sizeof(*st->owned), 4)) {
		free(block);
		return md_error_nomem();
	}
	st->owned[st->nowned++] = block;
	return NULL;
}

const struct md_sym *md_symtab_lookup(const struct md_symtab *st, const char *name)
{
	size_t i;

	if (!st->by_name)
		return NULL;
	i = md_hash_bytes(name, strlen(name)) & st->by_name_mask;
	for (; st->by_name[i]; i = (i + 1) & st->by_name_mask) {
		const struct md_sym *s = &st->syms[st->by_name[i] - 1];

		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}

static void hash_insert(struct md_symtab *st, uint32_t idx)
{
	const struct md_sym *s = &st->syms[idx];
	size_t i = md_hash_bytes(s->name, strlen(s->name)) & st->by_name_mask;

	for (; st->by_name[i]; i = (i + 1) & st->by_name_mask) {
		const struct md_sym *o = &st->syms[st->by_name[i] - 1];

		if (!strcmp(o->name, s->name)) {
			if (s->name_rank < o->name_rank)
				st->by_name[i] = idx + 1;
			return;
		}
	}
	st->by_name[i] = idx + 1;
}

/* scripts/kallsyms.c may_be_linker_script_provide_symbol(): __start_X,
 * __stop_X, __end_X, __X_start, __X_end. */
static bool linker_provided(const char *name)
{
	size_t len = strlen(name);

	if (len < 8 || strncmp(name, "__", 2))
		return false;
	return !strncmp(name + 2, "start_", 6) || !strncmp(name + 2, "stop_", 5) ||
	       !strncmp(name + 2, "end_", 4) || !strcmp(name + len - 6, "_start") ||
	       !strcmp(name + len - 4, "_end");
}

static const struct md_symtab *sort_table;	/* for qsort's comparator */

/* scripts/kallsyms.c compare_symbols(): by address, then the kernel's
 * choice among aliases (the first names them): not weak, not a linker
 * script's, fewest leading underscores, then the order of `nm -n`, which
 * it reads (by name: binutils' numeric_forward()).  Every source so names
 * an address as the kernel's own kallsyms does. */
static int by_addr_cmp(const void *a, const void *b)
{
	const struct md_sym *x = &sort_table->syms[*(const uint32_t *)a];
	const struct md_sym *y = &sort_table->syms[*(const uint32_t *)b];
	size_t ux, uy;
	int c;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->weak != y->weak)
		return x->weak - y->weak;
	if (linker_provided(x->name) != linker_provided(y->name))
		return linker_provided(x->name) - linker_provided(y->name);
	ux = strspn(x->name, "_");
	uy = strspn(y->name, "_");
	if (ux != uy)
		return ux < uy ? -1 : 1;
	if ((c = strcmp(x->name, y->name)))
		return c;
	return x < y ? -1 : x > y;	/* the same name every run */
}

struct md_error *md_symtab_index(struct md_symtab *st)
{
	size_t cap = 1;

	while (cap < 2 * st->nsyms)
		cap <<= 1;
	free(st->by_name);
	free(st->by_addr);
	st->by_name = calloc(cap, sizeof(*st->by_name));
	st->by_addr = malloc((st->nsyms + 1) * sizeof(*st->by_addr));
	st->naddr = 0;
	if (!st->by_name || !st->by_addr)
		return md_error_nomem();
	st->by_name_mask = cap - 1;
	for (size_t i = 0; i < st->nsyms; i++) {
		hash_insert(st, i);
		if (st->syms[i].in_image && st->syms[i].value && md_symbol_names_addresses(st->syms[i].name))
			st->by_addr[st->naddr++] = i;
	}
	sort_table = st;
	qsort(st->by_addr, st->naddr, sizeof(*st->by_addr), by_addr_cmp);
	sort_table = NULL;
	return NULL;
}

const struct md_sym *md_symtab_floor(const struct md_symtab *st, uint64_t value)
{
	size_t lo = 0, hi = st->naddr;
	uint64_t at;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->syms[st->by_addr[mid]].value <= value)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	/* back to the first of the aliases */
	at = st->syms[st->by_addr[lo - 1]].value;
	while (lo > 1 && st->syms[st->by_addr[lo - 2]].value == at)
		lo--;
	return &st->syms[st->by_addr[lo - 1]];
}
