/* memdiag [VMLINUX] VMCORE [COMMAND [ARGS...]]: the commands without crash;
 * without a COMMAND, the `memdiag` summary.  Without a VMLINUX, types and
 * symbols come from the dump itself.
 *
 * A thin front end: it opens the dump as a target (cli/kdump_target.c),
 * opens a core session on it and runs one command line. */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdump_target.h"
#include "memdiag.h"
#include "options.h"
#include "recording.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void write_stdout(void *priv, const char *text, size_t len)
{
	fwrite(text, 1, len, stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: memdiag [--json] [--record FILE] [--types SOURCE] [VMLINUX] VMCORE\n"
		   "               [COMMAND [ARGS...]]\n"
		   "       memdiag [--json] --system-map FILE VMCORE [COMMAND [ARGS...]]\n"
		   "       (without a COMMAND: memdiag, the summary; without a VMLINUX,\n"
		   "       types and symbols come from the dump's own BTF and kallsyms,\n"
		   "       or the symbols from a System.map;\n"
		   "       --types btf|dwarf|auto: the vmlinux's BTF, or its DWARF, which\n"
		   "       auto (the default, or $MEMDIAG_TYPES) takes where it has no BTF;\n"
		   "       --record appends what the command read to FILE, for a replay\n"
		   "       with no dump)\n"
		   "       memdiag [--json] diff OLD.json NEW.json\n"
		   "       memdiag --help [COMMAND]   (or: memdiag COMMAND --help)\n"
		   "       memdiag --version\n\ncommands:\n");
	for (const struct md_command *c = md_commands; c->name; c++) {
		char *synopsis = md_command_synopsis(c);

		fprintf(f, "  %-10s %s %s\n             %s\n", c->name, c->name, synopsis ? synopsis : "",
			c->summary);
		free(synopsis);
	}
}

static int help(const char *name)
{
	const struct md_command *c = name ? md_command_find(name) : NULL;
	char *page;

	if (!name) {
		usage(stdout);
		return 0;
	}
	if (!c) {
		fprintf(stderr, "memdiag: no command '%s'\n", name);
		return 2;
	}
	if (!(page = md_command_page(c))) {
		fprintf(stderr, "memdiag: out of memory\n");
		return 1;
	}
	fputs(page, stdout);
	free(page);
	return 0;
}

/* An ELF file that is not a core dump: what a vmlinux looks like. */
static bool looks_like_vmlinux(const char *path)
{
	unsigned char ident[EI_NIDENT + 2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf;

	if (fd < 0)
		return false;
	elf = read(fd, ident, sizeof(ident)) == (ssize_t)sizeof(ident) &&
	      !memcmp(ident, ELFMAG, SELFMAG);
	close(fd);
	/* e_type is the first field after e_ident, in the file's byte order */
	return elf && (ident[EI_DATA] == ELFDATA2MSB ? ident[EI_NIDENT + 1] : ident[EI_NIDENT]) != ET_CORE;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && !S_ISDIR(st.st_mode);
}

/* Exit status: 2 for a usage error (MD_ERR_INVALID: the command line
 * itself is wrong), 1 for a dump that cannot be read or analysed. */
static int fail(const char *what, struct md_error *err)
{
	char *msg = md_error_string(err);
	int status = md_error_root_code(err) == MD_ERR_INVALID ? 2 : 1;

	fprintf(stderr, "memdiag: %s%s%s\n", what, *what ? ": " : "", msg ? msg : "out of memory");
	free(msg);
	md_error_destroy(err);
	return status;
}

int main(int argc, char **argv)
{
	struct md_target *target = NULL, *dump = NULL;
	const char *record = NULL, *vmlinux = NULL, *system_map = NULL;
	struct md_session *session = NULL;
	struct md_output *out = NULL;
	struct md_error *err;
	bool json = false;
	int first = 1, status = 0;	/* argv[first]: the dump */
	const char *types = getenv("MEMDIAG_TYPES"), *types_from = "MEMDIAG_TYPES";
	enum md_types_source source = MD_TYPES_AUTO;


	/* memdiag's own options come before the command; after its name, the
	 * command's (lib/options.h), --json and --help among them.  --json
	 * anywhere: `memdiag V C slableak --json` reads naturally. */
	int nargs = 0;
	const char *command = NULL;	/* the command's name, once seen */

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (command) {
			argv[1 + nargs++] = argv[i];
		} else if (!strcmp(argv[i], "--record") && i + 1 < argc) {
			record = argv[++i];
		} else if (!strcmp(argv[i], "--system-map") && i + 1 < argc) {
			system_map = argv[++i];
		} else if (!strcmp(argv[i], "--types") && i + 1 < argc) {
			types = argv[++i];
			types_from = "--types";
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			return help(i + 1 < argc ? argv[i + 1] : NULL);
		} else if (!strcmp(argv[i], "--version")) {
			printf("memdiag %s\n", md_version);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "memdiag: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			/* a command is never a path: "memdiag" the file is a dump */
			if (!is_file(argv[i]) && md_command_find(argv[i]))
				command = argv[i];
			argv[1 + nargs++] = argv[i];
		}
	}
	/* `memdiag slableak --help`, with or without the dump: the command's
	 * own parser says whether its line asks for help */
	if (command) {
		int at = 1;
		struct md_args a;

		while (argv[at] != command)
			at++;
		err = md_args_parse(md_command_find(command), nargs - at + 1, argv + at, &a);
		if (!err) {
			bool wants_help = a.help;

			md_args_release(&a);
			if (wants_help)
				return help(command);
		} else if (!md_error_catch(&err, MD_ERR_INVALID)) {
			return fail("", err);
		}
		/* a usage error is said once the dump is open, as for any command */
	}
	if (nargs >= 1 && command == argv[1]) {
		fprintf(stderr, "memdiag: the dump comes before the command: memdiag [VMLINUX] VMCORE "
				"%s ...\n", command);
		return 2;
	}
	argc = 1 + nargs;
	if (nargs == 3 && !strcmp(argv[1], "diff")) {
		if ((err = md_output_create(json, write_stdout, NULL, &out)))
			return fail("", err);
		err = md_diff_run(argv[2], argv[3], out);
		md_output_destroy(out);
		fflush(stdout);
		return err ? fail("diff", err) : 0;
	}
	if (nargs < 1) {
		usage(stderr);
		return 2;
	}
	/* Told apart by what the files are: VMLINUX VMCORE (either order) when
	 * the second argument is a file too, else VMCORE alone.  A command is
	 * never a path. */
	if (nargs >= 2 && is_file(argv[2])) {
		if (!looks_like_vmlinux(argv[1]) && looks_like_vmlinux(argv[2])) {
			char *swap = argv[1];

			argv[1] = argv[2];
			argv[2] = swap;
		}
		vmlinux = argv[1];
		first = 2;
	} else if (looks_like_vmlinux(argv[1])) {
		fprintf(stderr, "memdiag: %s is a vmlinux: give the dump too\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (vmlinux && system_map) {
		fprintf(stderr, "memdiag: a vmlinux or a System.map, not both: the vmlinux's "
				"own symbols are the better\n");
		return 2;
	}
	signal(SIGINT, on_sigint);
	md_kdump_target_set_interrupt_flag(&interrupted);
	if (types && *types && (err = md_types_source_parse(types, types_from, &source)))
		return fail("", err);
	if ((err = md_kdump_target_open(vmlinux, system_map, argv[first], source, &dump)))
		return fail("", err);
	if (md_kdump_target_truncation(dump))
		fprintf(stderr, "memdiag: warning: %s\n", md_kdump_target_truncation(dump));
	target = dump;
	if (record && (err = md_record_target_open(dump, record, &target))) {
		status = fail(record, err);
		goto out;
	}
	if ((err = md_session_create(target, &session))) {
		status = fail(argv[first], err);
		goto out;
	}
	if ((err = md_output_create(json, write_stdout, NULL, &out))) {
		status = fail("", err);
		goto out;
	}
	if (argc == first + 1) {
		static char summary[] = "memdiag";	/* the default command */
		char *cmd[] = { summary, NULL };

		err = md_command_run(session, 1, cmd, out);
	} else {
		err = md_command_run(session, argc - first - 1, argv + first + 1, out);
	}
	md_output_destroy(out);
	fflush(stdout);
	if (err)
		status = fail("", err);
out:
	md_session_destroy(session);
	if (target != dump && (err = md_record_target_close(target)))
		status = fail("--record", err);
	md_kdump_target_close(dump);
	return status;
}
