/* The command table and dispatch, shared by both front ends. */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "slab.h"

static const char *const slableak_help[] = {
	"Lists every SLUB cache with its objects counted exactly: allocated,",
	"total and slabs come from the slabs themselves (a pass over the memory map",
	"finds full slabs that no list tracks; freelists and per-CPU freelists are",
	"walked), not from the kernel's counters.  Where those counters, a list or",
	"a freelist disagree with what was found, the cache's row is followed by a",
	"line starting with \"!\" that says so; the other caches are still listed.",
	"Caches are sorted by memory, largest first.",
	"",
	"  -n N    list only the N caches using the most memory",
	"  CACHE   only this cache, with its accounting: slabs on CPUs, partial",
	"          and full lists, and the kernel's counters",
	"",
	"Columns: CACHE (struct kmem_cache address), OBJSIZE (object_size),",
	"ALLOCATED, TOTAL (objects), SLABS, SSIZE (slab size), MEM(KiB) (memory",
	"in slabs), RECLAIM (SLAB_RECLAIM_ACCOUNT: counted as SReclaimable), NAME.",
	"",
	"EXAMPLES",
	"  The ten largest caches:",
	"    crash> slableak -n 10",
	"",
	"  One cache and its accounting:",
	"    crash> slableak kmalloc-128",
	NULL,
};

const struct md_command md_commands[] = {
	{ "slableak", "slab caches by memory, counted exactly", "[-n N] [CACHE]",
	  slableak_help, md_cmd_slableak },
	{ NULL },
};

struct md_error *md_command_run(struct md_session *s, int argc, char **argv, struct md_output *out)
{
	struct md_error *err;

	for (const struct md_command *c = md_commands; c->name; c++) {
		if (strcmp(c->name, argv[0]))
			continue;
		md_output_begin(out, c->name);
		err = c->run(s, argc, argv, out);
		if (err && md_output_is_json(out)) {
			char *msg = md_error_string(err);

			json_object_object_add(md_output_doc(out), "error",
					       json_object_new_string(msg ? msg : "out of memory"));
			free(msg);
		}
		md_output_end(out);
		return err;
	}
	return md_error_create(MD_ERR_INVALID, "no command '%s'", argv[0]);
}
