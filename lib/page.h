/* One struct page (include/linux/mm_types.h), read as `whatis` shows it. */
#ifndef MEMDIAG_PAGE_H
#define MEMDIAG_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "flagnames.h"
#include "session.h"

struct md_page_layout {
	uint64_t flags, refcount, mapcount, mapping, index, private, compound_head;
	uint64_t nr_pageflags;		/* __NR_PAGEFLAGS: the flag bits below the node/zone fields */
	int64_t pg_reserved;		/* PG_reserved */
	struct md_flag_names names;	/* mm/debug.c pageflag_names[] (n 0 if unread) */
	struct md_error *names_error;	/* why not, the caller's to report */
};

struct md_page {
	uint64_t page, pfn;
	uint64_t flags;		/* page->flags, whole */
	int32_t refcount, mapcount;	/* _refcount, _mapcount (page_type on typed pages) */
	uint64_t mapping, index, private;
	uint64_t head;		/* the compound head's struct page; page itself if no tail */
};

/* MD_ERR_LOOKUP where this kernel's struct page lacks what is needed. */
struct md_error *md_page_layout(struct md_session *s, struct md_page_layout *ret);
void md_page_layout_release(struct md_page_layout *l);
struct md_error *md_page_read(struct md_session *s, const struct md_page_layout *l, uint64_t pfn,
			      struct md_page *ret);
/* The page flag bits by the kernel's names, as %pGp prints them (without
 * the node and zone fields above them). */
void md_page_flags_text(const struct md_page_layout *l, uint64_t flags, char *buf, size_t len);
bool md_page_reserved(const struct md_page_layout *l, const struct md_page *p);

/* include/linux/page-flags.h PAGE_MAPPING_ANON, PAGE_MAPPING_MOVABLE:
 * the low bits of page->mapping. */
#define MD_PAGE_MAPPING_ANON 0x1
#define MD_PAGE_MAPPING_FLAGS 0x3

#endif
