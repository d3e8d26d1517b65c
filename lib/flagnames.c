/* The kernel's flag name tables (see flagnames.h). */
#include "flagnames.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct md_error *md_flag_names_read(struct md_session *s, const char *symbol, struct md_flag_names *ret)
{
	uint64_t table, entry[2];	/* struct trace_print_flags { unsigned long mask; const char *name; } */
	struct md_error *err;

	memset(ret, 0, sizeof(*ret));
	if ((err = md_symbol(s, symbol, &table)))
		return err;
	for (size_t i = 0; i < MD_MAX_FLAG_NAMES; i++) {
		if ((err = md_read(s, table + i * sizeof(entry), entry, sizeof(entry))))
			return err;
		if (!entry[1])
			return NULL;
		if ((err = md_read_cstring(s, entry[1], ret->v[i].name, sizeof(ret->v[i].name))))
			return err;
		ret->v[i].mask = entry[0];
		ret->known |= entry[0];
		ret->n = i + 1;
	}
	return md_error_create(MD_ERR_CORRUPT, "%s[]: no end within %d entries", symbol, MD_MAX_FLAG_NAMES);
}

void md_flag_names_format(const struct md_flag_names *f, uint64_t value, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->n && value; i++) {
		uint64_t mask = f->v[i].mask;

		if (!mask || (value & mask) != mask)
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", f->v[i].name);
		value &= ~mask;
	}
	if (value)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s0x%" PRIx64, n ? "|" : "", value);
	if (!n)
		snprintf(buf, len, "none");
}
