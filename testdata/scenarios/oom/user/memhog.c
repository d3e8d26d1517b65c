/* memhog: allocate and dirty memory in 8 MiB chunks until the OOM killer
 * fires (with vm.panic_on_oom=1 the kernel panics in our page fault). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (8UL << 20)

void *volatile hoard;	/* chain of chunks: keeps the stores observable */

int main(void)
{
	unsigned long total = 0;

	for (;;) {
		char *p = malloc(CHUNK);

		if (!p) {	/* overcommit said no: let the faults do the job */
			sleep(1);
			continue;
		}
		memset(p, 'M', CHUNK);	/* touch every page */
		*(void **)p = hoard;
		hoard = p;
		total += CHUNK;
		if (total % (64UL << 20) == 0)
			fprintf(stderr, "memhog: %lu MiB dirtied\n", total >> 20);
	}
}
