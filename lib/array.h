/* Growing arrays: the one way the core makes room for another element. */
#ifndef MEMDIAG_ARRAY_H
#define MEMDIAG_ARRAY_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Room for one more element in the array at *arrayp (a T **), which holds
 * n of *cap elements of elem bytes: *cap doubles, starting at first.
 * False when out of memory, the array untouched. */
static inline bool md_array_reserve(void *arrayp, size_t *cap, size_t n, size_t elem, size_t first)
{
	void *array, *grown;
	size_t want;

	if (n < *cap)
		return true;
	want = *cap ? *cap * 2 : first;
	memcpy(&array, arrayp, sizeof(array));	/* a T **, whatever T is */
	if (!(grown = realloc(array, want * elem)))
		return false;
	memcpy(arrayp, &grown, sizeof(grown));
	*cap = want;
	return true;
}

/* Room for want bytes in the buffer at *bufp (a T **) of *cap bytes: at
 * least twice the old room, so that a buffer grown step by step is copied
 * seldom.  False when out of memory, the buffer untouched. */
static inline bool md_buffer_reserve(void *bufp, size_t *cap, size_t want)
{
	void *buf, *grown;

	if (want <= *cap)
		return true;
	if (want < *cap * 2)
		want = *cap * 2;
	memcpy(&buf, bufp, sizeof(buf));
	if (!(grown = realloc(buf, want)))
		return false;
	memcpy(bufp, &grown, sizeof(grown));
	*cap = want;
	return true;
}

#endif
