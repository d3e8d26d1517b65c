/* Module symbols as kernel/module/kallsyms.c find_kallsyms_symbol() sees
 * them: each struct module on the `modules` list points (mod->kallsyms) at
 * an Elf64_Sym table and its string table in module memory. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "modules.h"

#define MAX_MODULES 4096
#define MAX_MODULE_SYMBOLS 1000000
#define ELF64_SYM_SIZE 24	/* st_name, st_info, st_other, st_shndx, st_value, st_size */
#define STT_OBJECT 1
#define STT_FUNC 2

struct module_symbol {
	uint64_t value, size;
	char *name;
	const char *module;
};

struct md_modules {
	struct module_symbol *syms;	/* sorted by value */
	size_t n, cap;
	char **names;			/* module names */
	size_t nr_names;
	/* modules whose symbols could not all be read, and the first reason */
	size_t nr_unread;
	struct md_error *first_unread;
};

static int compare_symbol(const void *a, const void *b)
{
	uint64_t x = ((const struct module_symbol *)a)->value, y = ((const struct module_symbol *)b)->value;

	return x < y ? -1 : x > y;
}

static struct md_error *add_symbol(struct md_modules *m, uint64_t value, uint64_t size,
				   const char *name, const char *module)
{
	if (!md_array_reserve(&m->syms, &m->cap, m->n, sizeof(*m->syms), 256))
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	if (!(m->syms[m->n].name = strdup(name)))
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	m->syms[m->n].value = value;
	m->syms[m->n].size = size;
	m->syms[m->n].module = module;
	m->n++;
	return NULL;
}

struct kallsyms_layout {
	uint64_t mod_list, mod_name, mod_kallsyms, ks_symtab, ks_num_symtab, ks_strtab;
};

/* One module's function and object symbols. */
static struct md_error *read_module(struct md_session *s, struct md_modules *m,
				    const struct kallsyms_layout *l, uint64_t mod, const char *module)
{
	uint64_t kallsyms, symtab, strtab;
	uint32_t num;
	unsigned char *syms;
	uint32_t skipped = 0;
	struct md_error *err;

	if ((err = md_read_u64(s, mod + l->mod_kallsyms, &kallsyms)) ||
	    (err = md_read_u64(s, kallsyms + l->ks_symtab, &symtab)) ||
	    (err = md_read_u32(s, kallsyms + l->ks_num_symtab, &num)) ||
	    (err = md_read_u64(s, kallsyms + l->ks_strtab, &strtab)))
		return err;
	if (num > MAX_MODULE_SYMBOLS)
		return md_error_create(MD_ERR_CORRUPT, "%u symbols", num);
	if (!(syms = malloc((size_t)num * ELF64_SYM_SIZE + 1)))
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	if ((err = md_read(s, symtab, syms, (size_t)num * ELF64_SYM_SIZE))) {
		free(syms);
		return err;
	}
	for (uint32_t i = 0; i < num && !err; i++) {
		const unsigned char *sym = syms + (size_t)i * ELF64_SYM_SIZE;
		unsigned int type = sym[4] & 0xf;
		uint16_t shndx = (uint16_t)(sym[6] | sym[7] << 8);
		char name[128];

		if ((type != STT_FUNC && type != STT_OBJECT) || shndx == 0)
			continue;
		if ((err = md_read_cstring(s, strtab + md_get_u32(sym, 0), name, sizeof(name)))) {
			if (md_error_root_code(err) != MD_ERR_FAULT)
				break;
			/* a name in a page the dump lacks: that symbol only,
			 * counted as the module's unread symbols */
			skipped++;
			md_error_keep_first(&m->first_unread, md_error_wrap(err, "%s: symbol %u", module, i));
			err = NULL;
			continue;
		}
		if (!name[0])
			continue;
		err = add_symbol(m, md_get_u64(sym, 8), md_get_u64(sym, 16), name, module);
	}
	free(syms);
	if (skipped)
		m->nr_unread++;
	return err;
}

struct md_error *md_modules_get(struct md_session *s, struct md_modules **ret)
{
	struct kallsyms_layout l;
	struct md_modules *m;
	uint64_t head, next;
	struct md_error *err;
	const struct md_field fields[] = {
		{ "struct module", "list", &l.mod_list },
		{ "struct module", "name", &l.mod_name },
		{ "struct module", "kallsyms", &l.mod_kallsyms },	/* CONFIG_KALLSYMS */
		{ "struct mod_kallsyms", "symtab", &l.ks_symtab },
		{ "struct mod_kallsyms", "num_symtab", &l.ks_num_symtab },
		{ "struct mod_kallsyms", "strtab", &l.ks_strtab },
	};

	if (s->modules) {
		*ret = s->modules;
		return NULL;
	}
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_symbol(s, "modules", &head)) || (err = md_read_u64(s, head, &next)))
		return md_error_wrap(err, "module symbols");
	if (!(m = calloc(1, sizeof(*m))))
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	for (size_t count = 0; next != head && count < MAX_MODULES; count++) {
		uint64_t mod = next - l.mod_list;
		char name[64], **grown;

		if ((err = md_read_cstring(s, mod + l.mod_name, name, sizeof(name))))
			break;
		if (!(grown = realloc(m->names, (m->nr_names + 1) * sizeof(*grown))) ||
		    !(grown[m->nr_names] = strdup(name))) {
			if (grown)
				m->names = grown;
			err = md_error_create(MD_ERR_NOMEM, "out of memory");
			break;
		}
		m->names = grown;
		m->nr_names++;
		/* A module whose symbols cannot be read is skipped: an address
		 * in module space that no symbol covers then says why. */
		if ((err = read_module(s, m, &l, mod, m->names[m->nr_names - 1]))) {
			if (md_error_root_code(err) == MD_ERR_NOMEM)
				break;
			md_error_keep_first(&m->first_unread, md_error_wrap(err, "%s", m->names[m->nr_names - 1]));
			m->nr_unread++;
			err = NULL;
		}
		if ((err = md_read_u64(s, next, &next)))
			break;
	}
	if (err) {
		md_modules_destroy(m);
		return md_error_wrap(err, "module symbols");
	}
	if (m->n)
		qsort(m->syms, m->n, sizeof(*m->syms), compare_symbol);
	s->modules = m;
	*ret = m;
	return NULL;
}

void md_modules_destroy(struct md_modules *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->syms[i].name);
	free(m->syms);
	for (size_t i = 0; i < m->nr_names; i++)
		free(m->names[i]);
	free(m->names);
	md_error_destroy(m->first_unread);
	free(m);
}

struct md_error *md_modules_address_name(const struct md_modules *m, uint64_t addr,
					 char *buf, size_t len)
{
	size_t lo = 0, hi = m->n;

	/* the last symbol at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].value <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Of symbols at one address, any whose size covers addr will do. */
	for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
		const struct module_symbol *sym = &m->syms[i];

		if (addr < sym->value + (sym->size ? sym->size : 1)) {
			snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", sym->name, addr - sym->value, sym->module);
			return NULL;
		}
	}
	if (m->nr_unread) {
		char *why = md_error_string(m->first_unread);
		struct md_error *err = md_error_create(MD_ERR_FAULT, "no module symbol at 0x%" PRIx64
						       ": symbols of %zu modules unreadable (%s)", addr,
						       m->nr_unread, why ? why : "out of memory");

		free(why);
		return err;
	}
	return md_error_create(MD_ERR_LOOKUP, "no module symbol at 0x%" PRIx64, addr);
}
