/* Error objects: every fallible call in memdiag returns one (NULL is success).
 *
 * An error has a code, a message, and optionally the error that caused it,
 * so a failure deep in a walk reads as a chain from the outermost context in:
 *   "kmalloc-128: node 0 partial list: slab 0xffffea0000123400: read failed: ..."
 */
#ifndef MEMDIAG_ERROR_H
#define MEMDIAG_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum md_error_code {
	MD_ERR_NOMEM = 1,	/* allocation failed */
	MD_ERR_FAULT,		/* address not readable in the dump (unmapped, filtered out) */
	MD_ERR_LOOKUP,		/* no such symbol, type, member or enumerator */
	MD_ERR_CORRUPT,		/* a kernel structure has impossible contents */
	MD_ERR_MISMATCH,	/* vmlinux and dump are from different builds */
	MD_ERR_FORMAT,		/* not a dump or not a vmlinux we can read */
	MD_ERR_INVALID,		/* bad argument from the user */
	MD_ERR_INTERRUPTED,	/* the user pressed Ctrl-C */
	MD_ERR_OS,		/* a system call failed */
};

struct md_error {
	enum md_error_code code;
	char *message;
	struct md_error *cause;
};

/* A new error.  Never returns NULL: on allocation failure a static
 * out-of-memory error is returned, which md_error_destroy() ignores. */
struct md_error *md_error_create(enum md_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A new error with the same code as cause, whose message gives context
 * to cause; takes ownership of cause. */
struct md_error *md_error_wrap(struct md_error *cause, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void md_error_destroy(struct md_error *err);

/* The error for a failed allocation. */
struct md_error *md_error_nomem(void);

/* The expected failure, caught (libdrgn's catch): if *err's root code is
 * code, *err is destroyed and set to NULL and true is returned; any other
 * error is left in *err, to travel up. */
bool md_error_catch(struct md_error **err, enum md_error_code code);

/* For a run of like failures that one message sums up: err becomes *first
 * if that is still NULL (the message's cause), else it is destroyed. */
void md_error_keep_first(struct md_error **first, struct md_error *err);

/* The whole chain, outermost first, joined by ": ".  Caller frees. */
char *md_error_string(const struct md_error *err);

/* The innermost error's code: what really went wrong. */
enum md_error_code md_error_root_code(const struct md_error *err);

/* A list of problems a walk met and went on past (printed with its
 * results): *list grows by one message; on allocation failure it is
 * dropped.  The _error form takes the chain of err and destroys it. */
void md_messages_add(char ***list, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void md_messages_add_error(char ***list, size_t *n, struct md_error *err);
void md_messages_free(char **list, size_t n);

#endif
