/* memhog: allocate and dirty memory in 8 MiB chunks until the OOM killer
 * fires in one of our page faults.  The scenario decides how the kernel
 * stops there: oom/ panics when the killer has chosen its victim (a kprobe
 * on __oom_kill_process), oom-panic/ with vm.panic_on_oom=1 before it
 * chooses.  Shared by both scenarios. */
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
