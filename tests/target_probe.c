/* target_probe [-t] VMLINUX VMCORE: ask the standalone target questions.
 * VMLINUX "-": none, types and symbols from the dump itself; "map=FILE":
 * symbols from that System.map, types from the dump.
 *
 * A test tool, not part of memdiag: tests/test_target.py compares its
 * answers with crash, pahole and nm.  Commands on stdin, one per line, one
 * result line each (or "error: CHAIN (MD_ERR_CODE)"):
 *   size TYPE            member TYPE MEMBER       enum NAME
 *   sym NAME             name ADDR                vmcoreinfo KEY
 *   read ADDR LEN        pread ADDR LEN           (kernel virtual / physical, hex out)
 *   digest ADDR LEN      pdigest ADDR LEN         (the same, up to 256 MiB in one read,
 *                                                  its FNV-1a 64-bit hash out)
 * -t prints the time the open took to stderr.  A failed open prints
 * "target_probe: error: ..." to stderr and exits 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kdump_target.h"

#define MAX_READ (1 << 20)
#define MAX_DIGEST (256 << 20)

static volatile sig_atomic_t stop;

static const char *code_name(enum md_error_code code)
{
	static const char *const names[] = {
		[MD_ERR_NOMEM] = "MD_ERR_NOMEM", [MD_ERR_FAULT] = "MD_ERR_FAULT",
		[MD_ERR_LOOKUP] = "MD_ERR_LOOKUP", [MD_ERR_CORRUPT] = "MD_ERR_CORRUPT",
		[MD_ERR_MISMATCH] = "MD_ERR_MISMATCH", [MD_ERR_FORMAT] = "MD_ERR_FORMAT",
		[MD_ERR_INVALID] = "MD_ERR_INVALID", [MD_ERR_INTERRUPTED] = "MD_ERR_INTERRUPTED",
		[MD_ERR_OS] = "MD_ERR_OS",
	};

	return code < sizeof(names) / sizeof(names[0]) && names[code] ? names[code] : "?";
}

static void print_error(FILE *f, const char *prefix, struct md_error *err)
{
	char *msg = md_error_string(err);

	fprintf(f, "%serror: %s (%s)\n", prefix, msg ? msg : "out of memory",
		code_name(md_error_root_code(err)));
	free(msg);
	md_error_destroy(err);
}

/* One read of LEN bytes; printed as hex, or digested (large reads, which
 * a kdump-compressed file splits among threads). */
static struct md_error *do_read(const struct md_target *t, enum md_addr_space space, char *args,
				bool digest)
{
	char *end;
	uint64_t addr = strtoull(args, &end, 16), hash = 0xcbf29ce484222325ull;
	unsigned long long len = strtoull(end, &end, 0), max = digest ? MAX_DIGEST : MAX_READ;
	unsigned char *buf;
	struct md_error *err;

	if (len == 0 || len > max)
		return md_error_create(MD_ERR_INVALID, "usage: %s ADDR LEN (LEN 1..%llu)",
				       digest ? "digest" : "read", max);
	buf = malloc(len);
	if (!buf)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	err = t->ops->read(t->priv, space, addr, buf, len);
	if (!err && digest) {
		for (size_t i = 0; i < len; i++)
			hash = (hash ^ buf[i]) * 0x100000001b3ull;
		printf("%016llx\n", (unsigned long long)hash);
	} else if (!err) {
		for (size_t i = 0; i < len; i++)
			printf("%02x", buf[i]);
		printf("\n");
	}
	free(buf);
	return err;
}

/* "member struct kmem_cache cpu_slab": the member is the last word. */
static struct md_error *do_member(const struct md_target *t, char *args)
{
	char *sp = strrchr(args, ' ');
	struct md_member m;
	struct md_error *err;

	if (!sp)
		return md_error_create(MD_ERR_INVALID, "usage: member TYPE MEMBER");
	*sp = '\0';
	err = t->ops->member(t->priv, args, sp + 1, &m);
	if (!err)
		printf("offset=%llu bit_offset=%llu bit_size=%llu size=%llu\n",
		       (unsigned long long)(m.bit_offset / 8), (unsigned long long)m.bit_offset,
		       (unsigned long long)m.bit_size, (unsigned long long)m.size);
	return err;
}

static struct md_error *run(const struct md_target *t, char *cmd, char *args)
{
	const struct md_target_ops *ops = t->ops;
	struct md_error *err;
	char text[4096];
	uint64_t u;
	int64_t v;

	if (!strcmp(cmd, "size")) {
		if (!(err = ops->type_size(t->priv, args, &u)))
			printf("%llu\n", (unsigned long long)u);
	} else if (!strcmp(cmd, "member")) {
		err = do_member(t, args);
	} else if (!strcmp(cmd, "enum")) {
		if (!(err = ops->enumerator(t->priv, args, &v)))
			printf("%lld\n", (long long)v);
	} else if (!strcmp(cmd, "sym")) {
		if (!(err = ops->symbol_address(t->priv, args, &u)))
			printf("0x%llx\n", (unsigned long long)u);
	} else if (!strcmp(cmd, "name")) {
		if (!(err = ops->address_name(t->priv, strtoull(args, NULL, 16), text, sizeof(text))))
			printf("%s\n", text);
	} else if (!strcmp(cmd, "vmcoreinfo")) {
		if (!(err = ops->vmcoreinfo(t->priv, args, text, sizeof(text))))
			printf("%s\n", text);
	} else if (!strcmp(cmd, "read") || !strcmp(cmd, "digest")) {
		err = do_read(t, MD_KVADDR, args, cmd[0] == 'd');
	} else if (!strcmp(cmd, "pread") || !strcmp(cmd, "pdigest")) {
		err = do_read(t, MD_PHYSADDR, args, cmd[1] == 'd');
	} else if (!strcmp(cmd, "interrupted")) {
		printf("%s\n", ops->interrupted(t->priv) ? "yes" : "no");
		err = NULL;
	} else {
		err = md_error_create(MD_ERR_INVALID, "unknown command '%s'", cmd);
	}
	return err;
}

static void on_sigint(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct md_target *t;
	struct md_error *err;
	struct timespec t0, t1;
	bool timing = argc > 1 && !strcmp(argv[1], "-t");
	const char *vmlinux, *system_map = NULL, *types = getenv("MEMDIAG_TYPES");
	enum md_types_source source = MD_TYPES_AUTO;
	char line[4096];

	if (argc != 3 + timing) {
		fprintf(stderr, "usage: target_probe [-t] VMLINUX VMCORE < commands\n");
		return 2;
	}
	signal(SIGINT, on_sigint);
	md_kdump_target_set_interrupt_flag(&stop);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vmlinux = argv[1 + timing];
	if (!strncmp(vmlinux, "map=", 4))
		system_map = vmlinux + 4;
	if (!strcmp(vmlinux, "-") || system_map)
		vmlinux = NULL;
	if ((types && (err = md_types_source_parse(types, "MEMDIAG_TYPES", &source))) ||
	    (err = md_kdump_target_open(vmlinux, system_map, argv[2 + timing], source, &t))) {
		print_error(stderr, "target_probe: ", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (timing)
		fprintf(stderr, "open: %.3f s\n",
			(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	while (fgets(line, sizeof(line), stdin)) {
		char *cmd = line, *args;

		line[strcspn(line, "\n")] = '\0';
		cmd += strspn(cmd, " \t");
		if (!*cmd || *cmd == '#')
			continue;
		args = cmd + strcspn(cmd, " ");
		if (*args)
			*args++ = '\0';
		if ((err = run(t, cmd, args)))
			print_error(stdout, "", err);
		fflush(stdout);
	}
	md_kdump_target_close(t);
	return 0;
}
