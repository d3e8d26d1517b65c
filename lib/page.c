/* One struct page (see page.h). */
#include "page.h"
#include "sparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct md_error *md_page_layout(struct md_session *s, struct md_page_layout *l)
{
	const struct md_field fields[] = {
		{ "struct page", "flags", &l->flags },
		{ "struct page", "_refcount", &l->refcount },
		{ "struct page", "_mapcount", &l->mapcount },
		{ "struct page", "mapping", &l->mapping },
		{ "struct page", "private", &l->private },
		{ "struct page", "index", &l->index, 1 },
	};
	struct md_error *err;
	int64_t n;

	memset(l, 0, sizeof(*l));
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_compound_head_offset(s, &l->compound_head)))
		return md_error_wrap(err, "struct page");
	/* Linux kernel commit acc53a0b4c15 ("mm: rename page->index to
	 * page->__folio_index") (in v6.16) */
	if (l->index == MD_NO_OFFSET &&
	    (err = md_member_offset(s, "struct page", "__folio_index", &l->index)))
		return md_error_wrap(err, "struct page has neither index nor __folio_index");
	/* the flag bits end at __NR_PAGEFLAGS; unknown (0): all 64 shown */
	n = md_enumerator_or(s, "__NR_PAGEFLAGS", 0);
	l->nr_pageflags = n > 0 && n <= 64 ? (uint64_t)n : 0;
	l->pg_reserved = md_enumerator_or(s, "PG_reserved", -1);
	l->names_error = md_flag_names_read(s, "pageflag_names", &l->names);
	return NULL;
}

void md_page_layout_release(struct md_page_layout *l)
{
	md_error_destroy(l->names_error);
	l->names_error = NULL;
}

struct md_error *md_page_read(struct md_session *s, const struct md_page_layout *l, uint64_t pfn,
			      struct md_page *ret)
{
	unsigned char buf[256];
	uint64_t size = s->kernel.page_struct_size, head;
	struct md_error *err;

	memset(ret, 0, sizeof(*ret));
	ret->pfn = pfn;
	ret->page = s->kernel.vmemmap + pfn * size;
	if (size > sizeof(buf))
		return md_error_create(MD_ERR_CORRUPT, "struct page of %" PRIu64 " bytes", size);
	if ((err = md_read(s, ret->page, buf, size)))
		return md_error_wrap(err, "struct page of pfn 0x%" PRIx64, pfn);
	ret->flags = md_get_u64(buf, l->flags);
	ret->refcount = (int32_t)md_get_u32(buf, l->refcount);
	ret->mapcount = (int32_t)md_get_u32(buf, l->mapcount);
	ret->mapping = md_get_u64(buf, l->mapping);
	ret->index = md_get_u64(buf, l->index);
	ret->private = md_get_u64(buf, l->private);
	head = md_get_u64(buf, l->compound_head);
	ret->head = head & 1 ? head - 1 : ret->page;	/* bit 0: a tail page */
	return NULL;
}

void md_page_flags_text(const struct md_page_layout *l, uint64_t flags, char *buf, size_t len)
{
	if (l->nr_pageflags && l->nr_pageflags < 64)
		flags &= (1ULL << l->nr_pageflags) - 1;
	md_flag_names_format(&l->names, flags, buf, len);
}

bool md_page_reserved(const struct md_page_layout *l, const struct md_page *p)
{
	return l->pg_reserved >= 0 && l->pg_reserved < 64 && (p->flags >> l->pg_reserved) & 1;
}
