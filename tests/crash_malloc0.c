/*
 * LD_PRELOAD for crash 8.0.2 in the tests: malloc(0) returns a 64 KiB block.
 *
 * crash 8.0.2's x86_64_per_cpu_init() returns before it sets
 * machdep->machspec->stkinfo.isize when the kernel has no per-CPU
 * cpu_number (6.2 moved it into pcpu_hot), so on Debian 6.12
 * x86_64_init() mallocs the irqstack buffer with size 0 (`help -m`:
 * "stkinfo: isize: 0"), and x86_64_ist_init()'s NMI check then reads
 * each CPU's 8 KiB NMI stack into it (valgrind: read_netdump() and
 * read_diskdump() writing past "a block of size 0").  The heap crash runs
 * on afterwards is corrupt: on the 6.12 kdump leak-tracked dump 7 sessions
 * of 8 ended in SIGSEGV.  With this, 8 of 8 ran to the end.  crash calls
 * malloc(0) 5 times in a session, so the padding costs nothing.
 */
#include <stddef.h>

extern void *__libc_malloc(size_t size);

void *malloc(size_t size)
{
	return __libc_malloc(size ? size : 65536);
}
