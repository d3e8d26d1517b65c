/* One option parser for every command, in both front ends, driven by the
 * command table (struct md_command in memdiag.h): each command declares its
 * options and operands once, and from that one declaration come the
 * parsing, the usage errors, the SYNOPSIS line and the OPTIONS part of its
 * help page.
 *
 * Every command also takes --json (its result as one JSON document, inside
 * crash too), --wide (text tables with every column, past 80 columns) and
 * -h/--help (its own help page).  Short options follow
 * getopt's conventions: "-n 10" or "-n10", flags grouped ("-lu"), options
 * and operands in any order, "--" ends the options. */
#ifndef MEMDIAG_OPTIONS_H
#define MEMDIAG_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "memdiag.h"

#define MD_MAX_OPTIONS 16

/* A parsed command line. */
struct md_args {
	const struct md_command *command;
	bool json;			/* --json */
	bool help;			/* -h or --help: print the page, run nothing */
	bool wide;			/* --wide: every column, past 80 if need be */
	unsigned int given;		/* bit i: the command's options[i] was given */
	int64_t number[MD_MAX_OPTIONS];	/* an integer option's value */
	const char *string[MD_MAX_OPTIONS];	/* a string option's value */
	int nr_operands;
	char **operands;		/* into argv; malloc()ed array */
};

/* Parses argv[1..argc-1] for command c.  A usage error is MD_ERR_INVALID,
 * its message naming the command, what is wrong, and the synopsis. */
struct md_error *md_args_parse(const struct md_command *c, int argc, char **argv,
			       struct md_args *ret);
void md_args_release(struct md_args *a);

/* Whether option -letter was given; its value, or dflt where not given. */
bool md_arg_given(const struct md_args *a, char letter);
int64_t md_arg_number(const struct md_args *a, char letter, int64_t dflt);
const char *md_arg_string(const struct md_args *a, char letter);

/* The arguments after the name, "[-n N] [-l] [-u] [--json] [CACHE]" for
 * slableak (crash prints its own name before them): malloc()ed, NULL when
 * out of memory. */
char *md_command_synopsis(const struct md_command *c);

/* The help page after its DESCRIPTION heading: the description, every
 * option and operand with its help, the common options, the examples.
 * A NULL-terminated array of malloc()ed lines (md_strings_free()), NULL
 * when out of memory. */
char **md_command_help(const struct md_command *c);
void md_strings_free(char **lines);

/* The whole page (NAME, SYNOPSIS, DESCRIPTION and the above) as text, for
 * `memdiag --help COMMAND` and `COMMAND -h`: one malloc()ed string. */
char *md_command_page(const struct md_command *c);

const struct md_command *md_command_find(const char *name);

#endif
