/* FNV-1a over bytes: the string hash every hash table in memdiag uses. */
#ifndef MEMDIAG_HASH_H
#define MEMDIAG_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t md_hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

#endif
