/* Output: text through the front end's writer, or one JSON document per
 * command (lib/json.h).  Commands build their results first, then render them
 * either way; nothing else in the core writes anywhere. */
#ifndef MEMDIAG_OUTPUT_H
#define MEMDIAG_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "memdiag.h"

struct md_output {
	bool json;
	bool wide;		/* --wide: every column, past 80 if need be */
	md_write_fn *write;
	void *priv;
	struct md_json *doc;	/* the current command's document */
	struct md_json *warnings;	/* its "warnings" array, made on first use */
	double progress_at;		/* when md_progress() last wrote, 0: never */
};

bool md_output_is_json(const struct md_output *out);
/* --wide: every column, long lines unwrapped */
bool md_output_is_wide(const struct md_output *out);
/* Switches the mode for the next command (a command's own --json); returns
 * the mode it had. */
bool md_output_set_json(struct md_output *out, bool json);

/* text's words (runs of blanks collapse to one) in lines of at most first
 * columns, then next ones; a word longer than a line is broken after a
 * comma where it has one (the kernel's "a=b,c=d,..."), else gets a line
 * of its own.  line() gets each line, without a newline; an empty text is one
 * empty line.  Returns the number of lines, -1 when out of memory. */
typedef void md_wrap_fn(void *priv, const char *text, int len);
int md_wrap(const char *text, int first, int next, md_wrap_fn *line, void *priv);

/* The width text output keeps to unless --wide. */
#define MD_COLUMNS 80

/* Text mode: text as lines of at most 80 columns (words are not split; one
 * longer than a line gets a line of its own): the first indented by
 * indent spaces, the others by hang.  With --wide, one line. */
void md_print_wrapped(struct md_output *out, int indent, int hang, const char *text);
/* The same after a first line's prefix (a table row's columns): text
 * wrapped in what the prefix leaves, continued at column hang. */
void md_print_wrapped_after(struct md_output *out, const char *prefix, int hang, const char *text);
/* An analysis problem in text output: "! ..." at indent, wrapped into 80
 * columns with the continuation under the text (unwrapped with --wide). */
void md_print_problem(struct md_output *out, int indent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A bar of up to width '#'s for value out of max (at least one for a
 * value above 0): "#####". */
const char *md_bar(uint64_t value, uint64_t max, int width, char buf[64]);

/* Text to the writer whatever the mode: a help page. */
void md_output_text(struct md_output *out, const char *text);

/* Text mode only: formatted text to the writer (a no-op in JSON mode). */
void md_printf(struct md_output *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A problem found in the dump that does not stop the command: a line
 * "memdiag: ..." in text, an entry of "warnings" in JSON. */
void md_warn(struct md_output *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for an error object (its whole chain); destroys it. */
void md_warn_error(struct md_output *out, struct md_error *err);

/* The current command's JSON document (an object with "command"). */
struct md_json *md_output_doc(struct md_output *out);

/* What every JSON document opens with (doc/json.md): "command",
 * "schema_version", "memdiag_version", "kernel": {"release", "build_id"}
 * (null when unknown). */
#define MD_JSON_SCHEMA_VERSION 2
void md_json_envelope(struct md_json *doc, const char *command, const char *release,
		      const char *build_id);

/* Starts and ends one command's output; md_command_run() calls these. */
void md_output_begin(struct md_output *out, const char *command);
void md_output_end(struct md_output *out);

/* Progress of a long walk, for the user at a terminal: one self-overwriting
 * line on stderr, at most a few times a second, and nothing at all when
 * stderr is not a terminal (so pipes, files and tests see only results).
 * md_progress_done() clears the line.  Never part of a command's output. */
void md_progress(struct md_output *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void md_progress_done(struct md_output *out);
/* "WHAT: DONE of TOTAL UNIT, RATE/s, N s left", through md_progress():
 * *started is 0 before the walk's first call, which sets it. */
void md_progress_rate(struct md_output *out, const char *what, const char *unit, uint64_t done,
		      uint64_t total, double *started);

/* A verdict, in every command's JSON: {"kind", "text", "next"}: what
 * was found (a word per command, doc/json.md), the sentence the text
 * output prints, and the command to run next (null: none). */
struct md_json *md_json_verdict(const char *kind, const char *text, const char *next);

/* A JSON array of the strings of a message list (lib/error.h). */
struct md_json *md_json_strings(char **list, size_t n);

/* A kernel address for JSON: "0xffff888004d6b080" (a string, which jq and
 * every JSON reader keep exact; a number above 2^53 they round); NULL
 * (a null pointer) as null. */
struct md_json *md_json_address(uint64_t addr);

/* "12.5 MiB"-style human size for text output. */
const char *md_human_bytes(uint64_t bytes, char buf[32]);
/* "20,143": a count with thousands separators. */
const char *md_count(uint64_t n, char buf[32]);

#endif
