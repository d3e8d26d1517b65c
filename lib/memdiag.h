/* The analysis core's public interface: what the front ends call.
 *
 * A front end builds a struct md_target over its dump, opens a session on it,
 * and runs command lines through md_command_run().  Output goes through an
 * md_output: text to a write callback (crash's fp, stdout), or one JSON
 * document per command.
 */
#ifndef MEMDIAG_H
#define MEMDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "target.h"

struct md_session;
struct md_output;

/* Where text goes: crash passes a writer to fp, the CLI one to stdout. */
typedef void md_write_fn(void *priv, const char *text, size_t len);

/* "0.16.0": the Makefile's VERSION. */
extern const char md_version[];

struct md_error *md_session_create(const struct md_target *target, struct md_session **ret);
void md_session_destroy(struct md_session *session);

/* json: one JSON document per command instead of text. */
struct md_error *md_output_create(bool json, md_write_fn *write, void *priv,
				  struct md_output **ret);
/* Writes what is pending (the JSON document) and frees. */
void md_output_destroy(struct md_output *out);

/* Run one command: argv[0] is its name ("slableak", ...).  Problems found
 * in the dump are reported in the output and do not fail the command; an
 * error is returned only when the command could not run at all. */
struct md_error *md_command_run(struct md_session *session, int argc, char **argv,
				struct md_output *out);

/* `diff OLD NEW`: compare two snapshot files (made by the `snapshot`
 * command); needs no dump. */
struct md_error *md_diff_run(const char *old_path, const char *new_path, struct md_output *out);

/* The commands, for front ends that register them one by one and print
 * their help pages.  Each declares its options and operands; one parser
 * (lib/options.h) reads every command line, in both front ends, and the
 * synopsis and the help page's OPTIONS come from the same declarations.
 * The table ends with an entry whose name is NULL. */
struct md_option {
	char letter;			/* -n */
	const char *value;		/* its value's name ("N"); NULL: a flag */
	const char *what;		/* an integer value, for errors: "a count";
					 * NULL: the value is any string */
	int64_t min, max;		/* an integer value's range */
	const char *const *help;	/* its lines on the help page */
};

struct md_args;

struct md_command {
	const char *name;
	const char *summary;		/* one line */
	const struct md_option *options;	/* ends with a letter 0; NULL: none */
	const char *operand;		/* "CACHE"; NULL: the command takes none */
	int min_operands, max_operands;
	const char *const *operand_help;	/* its lines on the help page */
	const char *const *description;	/* NULL-terminated lines */
	const char *const *examples;	/* NULL-terminated lines */
	struct md_error *(*run)(struct md_session *s, const struct md_args *a, struct md_output *out);
};
extern const struct md_command md_commands[];

#endif
