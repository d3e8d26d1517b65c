/* A System.map (see system_map.h). */
#include "system_map.h"
#include "array.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for len more bytes of names. */
static bool names_reserve(char **names, size_t *cap, size_t used, size_t len)
{
	size_t want = *cap ? *cap : 1 << 20;
	char *grown;

	while (want < used + len)
		want *= 2;
	if (want == *cap)
		return true;
	if (!(grown = realloc(*names, want)))
		return false;
	*names = grown;
	*cap = want;
	return true;
}

/* A line as scripts/mksysmap writes it: "ADDRESS TYPE NAME". */
static bool parse_line(char *line, uint64_t *value, char *type, char **name, size_t *nlen)
{
	char *end;

	*value = strtoull(line, &end, 16);
	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ' || !end[3] || end[3] == '\n')
		return false;
	*type = end[1];
	*name = end + 3;
	*nlen = strcspn(*name, "\n");
	/* no symbol has a space: Debian's stub line is prose */
	return memchr(*name, ' ', *nlen) == NULL;
}

struct pending {
	uint64_t value;
	size_t name;	/* in the names block */
	char type;
};

static struct md_error *add_all(struct md_symtab *st, const struct pending *syms, size_t n,
				const char *names)
{
	struct md_error *err;

	for (size_t i = 0; i < n; i++) {
		struct md_sym sym = {
			.name = names + syms[i].name,
			.value = syms[i].value,
			/* per-CPU offsets are small; 'A' symbols are constants */
			.in_image = syms[i].value >> 63 && syms[i].type != 'A' && syms[i].type != 'a',
		};

		md_symtab_nm_ranks(syms[i].type, &sym);
		if ((err = md_symtab_add(st, &sym)))
			return err;
	}
	return NULL;
}

static struct md_error *parse(FILE *f, const char *path, struct md_symtab *st)
{
	char *line = NULL, *names = NULL;
	size_t cap = 0, used = 0, names_cap = 0, lineno = 0, n = 0, syms_cap = 0;
	struct pending *syms = NULL;
	struct md_error *err = NULL;

	while (!err && getline(&line, &cap, f) >= 0) {
		uint64_t value;
		char type, *name;
		size_t nlen;

		lineno++;
		if (!parse_line(line, &value, &type, &name, &nlen)) {
			if (strstr(line, "-dbg"))	/* Debian's stub */
				err = md_error_create(MD_ERR_FORMAT, "%s: not a System.map but a stub "
						      "(\"%.*s\"): the real one is in the -dbg package",
						      path, (int)strcspn(line, "\n"), line);
			else
				err = md_error_create(MD_ERR_FORMAT, "%s:%zu: not a System.map line "
						      "(ADDRESS TYPE NAME)", path, lineno);
		} else if (!names_reserve(&names, &names_cap, used, nlen + 1) ||
			   !md_array_reserve(&syms, &syms_cap, n, sizeof(*syms), 1 << 14)) {
			err = md_error_nomem();
		} else {
			memcpy(names + used, name, nlen);
			names[used + nlen] = '\0';
			syms[n++] = (struct pending){ value, used, type };
			used += nlen + 1;
		}
	}
	free(line);
	if (!err && ferror(f))
		err = md_error_create(MD_ERR_OS, "%s: %s", path, strerror(errno));
	if (!err && n == 0)
		err = md_error_create(MD_ERR_FORMAT, "%s: empty: not a System.map", path);
	if (!err)
		err = add_all(st, syms, n, names);
	free(syms);
	if (err) {
		free(names);
		return err;
	}
	if ((err = md_symtab_own(st, names)))
		return err;
	return md_symtab_index(st);
}

struct md_error *md_system_map_load(const char *path, struct md_symtab **ret)
{
	FILE *f = fopen(path, "re");
	struct md_symtab *st = NULL;
	struct md_error *err;

	if (!f)
		return md_error_create(MD_ERR_OS, "%s: %s", path, strerror(errno));
	if (!(err = md_symtab_create(&st)))
		err = parse(f, path, st);
	fclose(f);
	if (err) {
		md_symtab_destroy(st);
		return err;
	}
	*ret = st;
	return NULL;
}
