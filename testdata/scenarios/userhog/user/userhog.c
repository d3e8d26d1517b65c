/* userhog: hold ~60% of RAM in touched anonymous memory, then sleep.
 * Writes "pid=N bytes=B" to /tmp/userhog.ready once every page is dirty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static unsigned long memtotal_bytes(void)
{
	char line[256];
	unsigned long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib << 10;
}

int main(int argc, char **argv)
{
	int percent = argc > 1 ? atoi(argv[1]) : 60;
	unsigned long bytes = memtotal_bytes() / 100 * percent;
	FILE *f;
	char *p;

	bytes &= ~((2UL << 20) - 1);	/* whole 2 MiB units */
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("userhog: mmap");
		return 1;
	}
	memset(p, 'U', bytes);	/* dirty every page: all of it is resident */
	f = fopen("/tmp/userhog.ready.tmp", "w");
	if (!f)
		return 1;
	fprintf(f, "pid=%d bytes=%lu\n", getpid(), bytes);
	fclose(f);
	rename("/tmp/userhog.ready.tmp", "/tmp/userhog.ready");
	for (;;)
		pause();
}
