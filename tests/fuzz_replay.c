/* libFuzzer over a recording (cli/recording.h): each input picks a command
 * and changes bytes of what its reads return.
 *
 * Input: one byte choosing the command line (its low 7 bits, modulo the
 * table below, where the quick commands come more often) and text or JSON
 * (its top bit), then
 * records of 7 bytes: u32 read (modulo the command's reads in the clean
 * run, from 1), u16 offset (modulo that read's length), u8 value.  So
 * every mutation lands on bytes the command really reads (a slab's
 * freelist pointer, a list_head, a counter, a name) rather than somewhere
 * in the dump that it never looks at.
 *
 *   MEMDIAG_FUZZ_RECORDING=FILE build/fuzz/memdiag-fuzz [libFuzzer options] [CORPUS]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memdiag.h"
#include "recording.h"

static char *const command_lines[][8] = {
	{ "oomstate", NULL },
	{ "buddyfrag", NULL },
	{ "vmalloc", NULL },
	{ "slableak", "-n", "20", NULL },
	{ "oomstate", NULL },
	{ "buddyfrag", NULL },
	{ "vmalloc", NULL },
	{ "slableak", "-n", "20", NULL },
	{ "slableak", "kmalloc-128", NULL },
	{ "memdiag", NULL },
	/* tests/lab.py WHATIS_LINE */
	{ "whatis", "init_task", "jiffies", "*slab_caches", "*node_data", "*__per_cpu_offset", NULL },
};
#define NCOMMANDS (sizeof(command_lines) / sizeof(command_lines[0]))

static struct md_target *target;
static uint64_t clean_reads[NCOMMANDS];

static void discard(void *priv, const char *text, size_t len)
{
}

static void run(size_t cmd, bool json)
{
	struct md_session *session = NULL;
	struct md_output *out = NULL;
	struct md_error *err;
	int argc = 0;

	while (command_lines[cmd][argc])
		argc++;
	md_replay_reset(target);
	if (!(err = md_session_create(target, &session)) &&
	    !(err = md_output_create(json, discard, NULL, &out))) {
		err = md_command_run(session, argc, (char **)command_lines[cmd], out);
		md_output_destroy(out);
	}
	md_error_destroy(err);
	md_session_destroy(session);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("MEMDIAG_FUZZ_RECORDING");
	struct md_error *err;

	if (!path) {
		fprintf(stderr, "memdiag-fuzz: set MEMDIAG_FUZZ_RECORDING to a recording\n");
		exit(2);
	}
	if ((err = md_replay_target_open(path, &target))) {
		char *msg = md_error_string(err);

		fprintf(stderr, "memdiag-fuzz: %s\n", msg ? msg : "out of memory");
		exit(2);
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		run(i, false);
		clean_reads[i] = md_replay_reads(target);
	}
	return 0;
}

static int by_read(const void *a, const void *b)
{
	const struct md_replay_patch *x = a, *y = b;

	return x->read < y->read ? -1 : x->read > y->read;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_replay_patch *patches;
	size_t cmd, n;

	if (size < 1)
		return 0;
	cmd = (data[0] & 0x7f) % NCOMMANDS;
	n = (size - 1) / 7;
	if (!(patches = calloc(n ? n : 1, sizeof(*patches))))
		return 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = data + 1 + 7 * i;
		uint32_t read;
		uint16_t offset;

		memcpy(&read, p, 4);
		memcpy(&offset, p + 4, 2);
		patches[i].read = 1 + read % (clean_reads[cmd] ? clean_reads[cmd] : 1);
		patches[i].offset = offset;
		patches[i].value = p[6];
	}
	qsort(patches, n, sizeof(*patches), by_read);
	md_replay_set_patches(target, patches, n);
	run(cmd, data[0] & 0x80);
	md_replay_set_patches(target, NULL, 0);
	free(patches);
	return 0;
}
