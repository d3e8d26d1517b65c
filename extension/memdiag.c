/* memdiag.so: the memdiag commands inside crash 8.x.
 *
 *   crash> extend memdiag.so
 *   crash> slableak -n 10
 *
 * One file, every symbol static (crash loads extensions RTLD_GLOBAL, so a
 * global name here could clash with crash's or another extension's).  It has
 * three parts:
 *
 *   - the target (lib/target.h) over crash's own API: readmem(), the symbol
 *     table, gdb's type information (datatype_info(), and `ptype /o` for
 *     bit-fields, which datatype_info() cannot place), enumerator_value(),
 *     VMCOREINFO and value_search();
 *   - a cache of every type answer, since each one is a trip into gdb;
 *   - the commands: one command_table entry per md_commands[] entry, their
 *     crash help pages built from the same table, and a run wrapper that
 *     keeps crash's longjmp-based error handling away from the core.
 *
 * crash aborts a command by longjmp()ing to its main loop: on the first
 * Ctrl-C, on SIGPIPE (`slableak | head -3` once head has exited), on a
 * SIGSEGV, and on any error(FATAL).  A longjmp through the core would leave
 * its state half-built.  So while a command runs:
 *   - SIGINT sets a flag that the core polls through interrupted(); a second
 *     Ctrl-C is left to crash (a hard abort);
 *   - SIGPIPE is ignored: a failed write marks the output broken, which also
 *     reads as interrupted(), and the command ends quietly;
 *   - SIGINT is blocked across each gdb call, so gdb never sees it (gdb would
 *     fail the look-up, which would then read as "no such member");
 *   - pc->cmd_cleanup is set: if crash longjmps out anyway, restore_sanity()
 *     calls it, and it puts the signals back and abandons the session (it
 *     may be half-updated, so it is leaked rather than freed).
 * crash 8.0.2's gdb can segfault in a look-up: opening a 6.2+ kernel's dump,
 * crash corrupts its own heap (an 8 KiB NMI stack read into a malloc(0)
 * IRQ stack buffer in x86_64_init()), and gdb meets the damage first.
 * crash survives that by the same longjmp; the look-up it died in is then
 * remembered as failed, so the next command gets an error, not a segfault.
 */
#define GDB_10_2	/* crash 8.0.x embeds gdb 10.2: gets defs.h's type codes right */
#include <crash/defs.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "types.h"
#include "memdiag.h"
#include "options.h"
#include "symbol_names.h"

/* Longest type or member name we pass to crash, whose look-ups copy names
 * into BUFSIZE (1500-byte) buffers with sprintf. */
#define NAME_MAX_LEN 256

/* ------------------------------------------------------------------------ */
/* Run state: signals and crash's abort path                                */

static struct {
	bool active;			/* a command is between begin and end */
	volatile sig_atomic_t sigint;	/* Ctrl-C seen during this command */
	bool output_broken;		/* a write to fp failed */
	int write_errno;
	struct sigaction old_int, old_pipe;
	void (*old_cleanup)(void *);
	void *old_cleanup_arg;
} run;

static struct md_session *session;
/* Sessions abandoned by an aborted command: never freed (see above). */
static unsigned int abandoned_sessions;

static void on_sigint(int sig)
{
	run.sigint = 1;
	/* A second Ctrl-C goes to crash's own handler: a hard abort, for a
	 * walk that does not poll. */
	sigaction(SIGINT, &run.old_int, NULL);
}

static void install_run_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;	/* no EINTR from the dump file's reads */
	if (!run.sigint) {
		sa.sa_handler = on_sigint;
		sigaction(SIGINT, &sa, NULL);
	} else {
		sigaction(SIGINT, &run.old_int, NULL);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void restore_signals(void)
{
	sigset_t set;

	sigaction(SIGINT, &run.old_int, NULL);
	sigaction(SIGPIPE, &run.old_pipe, NULL);
	/* A longjmp out of a gdb call leaves SIGINT blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void pending_abort(bool in_gdb);

/* Called by crash's restore_sanity() when it aborted our command (or, if
 * the command returned normally, never: run_end() unhooks it).  It may run
 * inside crash's signal handler, after a fault anywhere: no malloc or free
 * here, only flags, pointers and async-signal-safe calls. */
static void run_abort_cleanup(void *arg)
{
	void (*old)(void *) = run.old_cleanup;
	void *old_arg = run.old_cleanup_arg;

	pc->cmd_cleanup = NULL;
	pc->cmd_cleanup_arg = NULL;
	if (run.active) {
		restore_signals();
		run.active = false;
		if (session) {
			session = NULL;
			abandoned_sessions++;
		}
		/* IN_GDB is still set when gdb itself faulted (or failed
		 * fatally): crash clears it only after restore_sanity(). */
		pending_abort(pc->flags & IN_GDB);
	}
	if (old)
		old(old_arg);
}

static void pending_free(void);

static void run_begin(void)
{
	pending_free();		/* left by a command crash aborted outside gdb */
	run.sigint = 0;
	run.output_broken = false;
	run.write_errno = 0;
	sigaction(SIGINT, NULL, &run.old_int);
	sigaction(SIGPIPE, NULL, &run.old_pipe);
	run.old_cleanup = pc->cmd_cleanup;
	run.old_cleanup_arg = pc->cmd_cleanup_arg;
	pc->cmd_cleanup = run_abort_cleanup;
	pc->cmd_cleanup_arg = NULL;
	run.active = true;
	install_run_signals();
}

static void run_end(void)
{
	restore_signals();
	pc->cmd_cleanup = run.old_cleanup;
	pc->cmd_cleanup_arg = run.old_cleanup_arg;
	run.active = false;
}

/* Around every call into gdb: gdb_interface() resets SIGINT to crash's
 * handler when it returns, and a SIGINT while inside would fail the
 * look-up.  Blocked, the signal waits and reaches on_sigint() after. */
static void gdb_enter(sigset_t *saved)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, saved);
}

static void gdb_leave(sigset_t *saved)
{
	if (run.active)
		install_run_signals();
	sigprocmask(SIG_SETMASK, saved, NULL);
}

/* gdb_interface() longjmps (restart(0)) when the output pipe has closed:
 * stop asking gdb once that is so, and let the core wind down instead. */
static struct md_error *gdb_usable(void)
{
	if (run.output_broken)
		return md_error_create(MD_ERR_INTERRUPTED, "output closed");
	if (output_closed()) {
		run.output_broken = true;
		run.write_errno = EPIPE;
		return md_error_create(MD_ERR_INTERRUPTED, "output closed");
	}
	if (run.sigint)
		return md_error_create(MD_ERR_INTERRUPTED, "interrupted");
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* The answer cache: "kind type\0member" -> answer, for the crash session.   */

enum cache_kind { C_SIZE = 'S', C_MEMBER = 'M', C_LAYOUT = 'L', C_ENUM = 'E' };

struct bitfield {
	char *path;		/* "inuse", "kobj.state_initialized" */
	uint64_t bit_offset;
	uint64_t bit_size;
	uint64_t size;
};

struct layout {
	size_t n;
	struct bitfield *v;
};

struct cache_entry {
	struct cache_entry *next;
	uint64_t hash;
	size_t keylen;
	bool found;
	bool gdb_failed;	/* crash aborted the look-up inside gdb */
	union {
		uint64_t size;
		int64_t value;
		struct md_member member;
		struct layout *layout;
	} u;
	char key[];
};

#define CACHE_BUCKETS 1024
static struct cache_entry *cache[CACHE_BUCKETS];
static FILE *scratch;		/* gdb output for `ptype /o` and `printf` */

static size_t cache_key(char *key, size_t size, enum cache_kind kind, const char *a, const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;

	if (2 + la + 1 + lb > size)
		return 0;
	key[0] = (char)kind;
	key[1] = ' ';
	memcpy(key + 2, a, la);
	key[2 + la] = '\0';
	memcpy(key + 3 + la, b ? b : "", lb);
	return 3 + la + lb;
}

static uint64_t cache_hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
	return h;
}

static struct cache_entry *cache_find(const char *key, size_t len)
{
	uint64_t h = cache_hash(key, len);

	for (struct cache_entry *e = cache[h % CACHE_BUCKETS]; e; e = e->next)
		if (e->hash == h && e->keylen == len && !memcmp(e->key, key, len))
			return e;
	return NULL;
}

/* A new entry, linked only once filled in (cache_add). */
static struct cache_entry *cache_new(const char *key, size_t len)
{
	struct cache_entry *e = calloc(1, sizeof(*e) + len);

	if (!e)
		return NULL;
	e->hash = cache_hash(key, len);
	e->keylen = len;
	memcpy(e->key, key, len);
	return e;
}

static void cache_add(struct cache_entry *e)
{
	struct cache_entry **head = &cache[e->hash % CACHE_BUCKETS];

	e->next = *head;
	*head = e;
}

/* Look-ups in progress, their entries allocated beforehand: if crash
 * aborts the command inside gdb, pending_abort() files them as failed. */
#define MAX_PENDING 4
static struct cache_entry *pending[MAX_PENDING];
static int npending;

static void pending_push(struct cache_entry *e)
{
	if (npending < MAX_PENDING)
		pending[npending++] = e;
}

/* A gdb look-up about to start: its cache entry, made and marked pending. */
static struct md_error *cache_start(const char *key, size_t len, struct cache_entry **ret)
{
	struct md_error *err = gdb_usable();

	if (err)
		return err;
	if (!(*ret = cache_new(key, len)))
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	pending_push(*ret);
	return NULL;
}

static void pending_pop(struct cache_entry *e)
{
	for (int i = npending - 1; i >= 0; i--) {
		if (pending[i] == e) {
			memmove(&pending[i], &pending[i + 1], (npending - i - 1) * sizeof(pending[0]));
			npending--;
			return;
		}
	}
}

static void pending_abort(bool in_gdb)
{
	if (!in_gdb)
		return;		/* pending_free() frees them at the next command */
	for (int i = 0; i < npending; i++) {
		pending[i]->found = false;
		pending[i]->gdb_failed = true;
		cache_add(pending[i]);
	}
	npending = 0;
}

static void layout_free(struct layout *l);

static void pending_free(void)
{
	for (int i = 0; i < npending; i++) {
		if (pending[i]->key[0] == C_LAYOUT)
			layout_free(pending[i]->u.layout);
		free(pending[i]);
	}
	npending = 0;
}

/* A look-up gdb gave no answer to: gdb could not be asked (the output pipe
 * closed, an interrupt), or there is no such name. */
static struct md_error *no_such(const char *what, const char *name)
{
	struct md_error *err = gdb_usable();

	return err ? err : md_error_create(MD_ERR_LOOKUP, "no %s %s", what, name);
}

static struct md_error *gdb_failed_error(const char *what, const char *name)
{
	return md_error_create(MD_ERR_FORMAT, "crash's gdb crashed looking up %s %s: "
			       "this crash cannot read this vmlinux's types", what, name);
}

/* Why a cached look-up has no answer, or NULL when it has one: gdb crashed
 * on it, or the name is not there (what: "type", "member", "enumerator"). */
static struct md_error *cache_no_answer(const struct cache_entry *e, const char *what, const char *name)
{
	if (e->gdb_failed)
		return gdb_failed_error(what, name);
	if (!e->found)
		return md_error_create(MD_ERR_LOOKUP, "no %s %s", what, name);
	return NULL;
}

static void layout_free(struct layout *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	free(l);
}

static void cache_scratch_close(void)
{
	if (scratch)
		fclose(scratch);
	scratch = NULL;
}

static void cache_clear(void)
{
	pending_free();
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		while (cache[i]) {
			struct cache_entry *e = cache[i];

			cache[i] = e->next;
			if (e->key[0] == C_LAYOUT)
				layout_free(e->u.layout);
			free(e);
		}
	}
	cache_scratch_close();
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

static bool is_ident(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* A type as the core names it: "struct x", "union x", "enum x", a typedef
 * or base type ("atomic_long_t", "unsigned long"), possibly a pointer. */
static bool valid_type(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NAME_MAX_LEN || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ' ' || s[i] == '*'))
			return false;
	return true;
}

/* "oo.x": identifiers joined by dots. */
static bool valid_path(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!is_ident(p, n))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* Splits "struct kmem_cache" into kind "struct" and bare "kmem_cache", as
 * datatype_info() wants it.  kind is "" when there was no keyword; bare is
 * the whole string when the rest is not one identifier ("struct page *"). */
static void split_type(const char *type, char *kind, size_t kind_size, char *bare, size_t bare_size)
{
	static const char *const kw[] = { "struct ", "union ", "enum " };

	kind[0] = '\0';
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		size_t n = strlen(kw[i]);
		const char *rest = type + n;

		if (strncmp(type, kw[i], n))
			continue;
		while (*rest == ' ')
			rest++;
		if (is_ident(rest, strlen(rest))) {
			snprintf(kind, kind_size, "%.*s", (int)(n - 1), kw[i]);
			snprintf(bare, bare_size, "%s", rest);
			return;
		}
	}
	snprintf(bare, bare_size, "%s", type);
}

/* ------------------------------------------------------------------------ */
/* gdb commands through a scratch file                                      */

/* Runs a gdb command, output into the scratch file, rewound for reading:
 * 1 if it ran, 0 if gdb failed it, -1 (errno set) if we could not ask. */
static int gdb_run(const char *cmd)
{
	char buf[BUFSIZE];
	sigset_t saved;
	int ok;

	if (strlen(cmd) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!scratch && !(scratch = tmpfile()))
		return -1;
	rewind(scratch);
	if (ftruncate(fileno(scratch), 0) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s", cmd);	/* gdb_pass_through() wants it writable */
	gdb_enter(&saved);
	ok = gdb_pass_through(buf, scratch, GNU_RETURN_ON_ERROR);
	gdb_leave(&saved);
	fflush(scratch);
	rewind(scratch);
	return ok ? 1 : 0;
}

/* `printf "%lu\n", EXPR` through gdb: 1 and *ret, 0 if gdb could not, -1
 * (errno set) if we could not ask. */
static int gdb_ulong(const char *expr, uint64_t *ret)
{
	char cmd[BUFSIZE], line[128], *end;
	int r;

	snprintf(cmd, sizeof(cmd), "printf \"%%lu\\n\", (unsigned long)(%s)", expr);
	if ((r = gdb_run(cmd)) <= 0)
		return r;
	if (!fgets(line, sizeof(line), scratch))
		return 0;
	errno = 0;
	*ret = strtoull(line, &end, 10);
	return errno == 0 && end != line && (*end == '\n' || *end == '\0');
}

/* ------------------------------------------------------------------------ */
/* Bit-fields: `ptype /o TYPE`, parsed once per type                        */

/* gdb 10 prints, for a bit-field,
 *   / *   43: 7   |     4 * /            unsigned int frozen : 1;
 * (byte offset: bit in that byte | size of the field's type), offsets from
 * the start of the outermost type, nested struct and union types expanded
 * inline ("} kobj;" closes a named one, "};" an anonymous one).  Members of
 * a union carry no offset; a bit-field there starts at the union's. */

struct frame {
	size_t first;		/* index of its first bit-field in the layout */
	uint64_t base;		/* byte offset of the struct/union it opens */
};

static int layout_push(struct layout *l, const char *name, uint64_t bit_offset, uint64_t bit_size,
		       uint64_t size)
{
	struct bitfield *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	l->v = v;
	if (!(v[l->n].path = strdup(name)))
		return -1;
	v[l->n].bit_offset = bit_offset;
	v[l->n].bit_size = bit_size;
	v[l->n].size = size;
	l->n++;
	return 0;
}

/* The frame whose bit-fields start at `first` closed with "} NAME;" (or
 * "};"): prefix their paths with "NAME.", or drop them for an array. */
static int layout_close(struct layout *l, size_t first, const char *closing)
{
	const char *p = closing + 1;
	char name[NAME_MAX_LEN + 1];
	size_t n = 0;

	while (*p == ' ')
		p++;
	while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n < NAME_MAX_LEN)
		n++;
	memcpy(name, p, n);
	name[n] = '\0';
	if (p[n] == '[') {	/* an array of structs: not reachable by a dotted path */
		for (size_t i = first; i < l->n; i++)
			free(l->v[i].path);
		l->n = first;
		return 0;
	}
	if (!n)
		return 0;
	for (size_t i = first; i < l->n; i++) {
		char *path;

		if (asprintf(&path, "%s.%s", name, l->v[i].path) < 0)
			return -1;
		free(l->v[i].path);
		l->v[i].path = path;
	}
	return 0;
}

static int parse_ptype_offsets(FILE *f, struct layout *l)
{
	struct frame stack[64];
	int depth = 0;
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		char *p = line, *comment = NULL, *code, *end;
		unsigned long off, bit, size;
		int have_off = 0;

		line[strcspn(line, "\n")] = '\0';
		while (*p == ' ')
			p++;
		if (!strncmp(p, "/*", 2)) {
			char *close = strstr(p, "*/");

			if (!close)
				continue;
			*close = '\0';
			comment = p + 2;
			p = close + 2;
		}
		while (*p == ' ')
			p++;
		code = p;
		end = code + strlen(code);
		while (end > code && end[-1] == ' ')
			*--end = '\0';
		if (!*code)
			continue;	/* "XXX padding", "total size" */
		if (!strncmp(code, "type = ", 7))
			code += 7;
		if (comment) {
			if (sscanf(comment, " %lu : %lu | %lu", &off, &bit, &size) == 3)
				have_off = 2;
			else if (sscanf(comment, " %lu | %lu", &off, &size) == 2)
				have_off = 1;
		}
		end = code + strlen(code);
		if (end[-1] == '{') {
			if (depth == (int)(sizeof(stack) / sizeof(stack[0])))
				return 0;	/* deeper than any kernel type: keep what we have */
			stack[depth].first = l->n;
			stack[depth].base = have_off ? off : depth ? stack[depth - 1].base : 0;
			depth++;
			continue;
		}
		if (code[0] == '}') {
			if (depth == 0)
				return 0;
			depth--;
			if (depth == 0)
				break;
			if (layout_close(l, stack[depth].first, code) < 0)
				return -1;
			continue;
		}
		if (depth == 0)
			continue;
		/* A member; a bit-field ends in "NAME : BITS;". */
		if (end[-1] == ';') {
			char *colon = strrchr(code, ':'), *q, *nend;
			unsigned long bits;

			if (!colon || strchr(colon, '(') || strchr(colon, ')'))
				continue;
			bits = strtoul(colon + 1, &nend, 10);
			while (*nend == ' ')
				nend++;
			if (nend == colon + 1 || *nend != ';')
				continue;
			q = colon;
			while (q > code && q[-1] == ' ')
				q--;
			nend = q;
			while (q > code && (isalnum((unsigned char)q[-1]) || q[-1] == '_'))
				q--;
			if (q == nend)
				continue;
			*nend = '\0';
			if (have_off == 1) {
				bit = 0;
			} else if (have_off == 0) {	/* a union's member: at its start */
				off = stack[depth - 1].base;
				bit = 0;
				if (!comment || sscanf(comment, " %lu", &size) != 1)
					size = 0;
			}
			if (layout_push(l, q, off * 8 + bit, bits, size) < 0)
				return -1;
		}
	}
	return 0;
}

static struct md_error *no_layout_error(const char *bare)
{
	return md_error_create(MD_ERR_FORMAT, "gdb cannot print the layout of %s, which tells "
			       "its bit-fields", bare);
}

/* The bit-fields of a struct/union type, from gdb's `ptype /o`; cached. */
static struct md_error *get_layout(const char *kind, const char *bare, struct layout **ret)
{
	char key[2 * NAME_MAX_LEN + 8], cmd[BUFSIZE];
	const char *tries[3];
	size_t len, ntries = 0;
	struct cache_entry *e;
	struct layout *l;
	struct md_error *err;

	len = cache_key(key, sizeof(key), C_LAYOUT, bare, kind);
	if ((e = cache_find(key, len))) {
		if (e->gdb_failed)
			return gdb_failed_error("the layout of", bare);
		if (!e->found)
			return no_layout_error(bare);
		*ret = e->u.layout;
		return NULL;
	}
	if ((err = gdb_usable()))
		return err;
	if (!strcmp(kind, "union")) {
		tries[ntries++] = "union ";
	} else if (!strcmp(kind, "struct")) {
		tries[ntries++] = "struct ";
	} else {
		tries[ntries++] = "struct ";
		tries[ntries++] = "union ";
		tries[ntries++] = "";	/* a typedef */
	}
	if (!(l = calloc(1, sizeof(*l))) || !(e = cache_new(key, len))) {
		free(l);
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	}
	e->u.layout = l;
	pending_push(e);
	for (size_t i = 0; i < ntries; i++) {
		int r;

		snprintf(cmd, sizeof(cmd), "ptype /o %s%s", tries[i], bare);
		if ((r = gdb_run(cmd)) < 0) {
			err = md_error_create(MD_ERR_OS, "a scratch file for gdb's output: %s",
					      strerror(errno));
			pending_pop(e);
			layout_free(l);
			free(e);
			return err;
		}
		if (r == 0)
			continue;
		if (parse_ptype_offsets(scratch, l) < 0) {
			pending_pop(e);
			layout_free(l);
			free(e);
			return md_error_create(MD_ERR_NOMEM, "out of memory");
		}
		e->found = true;
		break;
	}
	pending_pop(e);
	cache_add(e);
	if (!e->found)
		return no_layout_error(bare);
	*ret = l;
	return NULL;
}

static const struct bitfield *layout_find(const struct layout *l, const char *path)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i].path, path))
			return &l->v[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Types from the vmlinux's BTF, when it has one                            */

/* Each gdb answer costs milliseconds, and crash 8.0.2's gdb segfaults on
 * nearly every look-up on a 6.2+ kernel's dump (see the top).  The vmlinux crash
 * loaded carries the same types as BTF (CONFIG_DEBUG_INFO_BTF), which the
 * standalone program reads too, or else as DWARF, which lib/dwarf_types.c
 * reads through libdw: use those (lib/types.c), and gdb only for a vmlinux
 * with neither.  MEMDIAG_TYPES=btf|dwarf|auto chooses, =gdb asks for gdb. */
static struct md_types *session_types_cache;
static bool session_types_tried;

static struct md_types *session_types(void)
{
	const char *files[] = { pc->namelist, pc->namelist_debug };
	const char *choice = getenv("MEMDIAG_TYPES");
	enum md_types_source source = MD_TYPES_AUTO;
	struct md_error *err = NULL;

	if (session_types_tried)
		return session_types_cache;
	session_types_tried = true;
	if (choice && !strcmp(choice, "gdb"))
		return NULL;
	if (choice && *choice && (err = md_types_source_parse(choice, "MEMDIAG_TYPES", &source)))
		files[0] = files[1] = NULL;	/* said below */
	for (size_t i = 0; i < 2 && files[i] && !err && !session_types_cache; i++) {
		err = md_types_open(files[i], source, &session_types_cache);
		/* not in this file: perhaps in the other */
		if (i == 0 && files[1])
			md_error_catch(&err, MD_ERR_LOOKUP);
	}
	if (err) {
		char *msg = md_error_string(err);

		error(INFO, "memdiag: %s: using gdb's types instead\n", msg ? msg : "out of memory");
		free(msg);
		md_error_destroy(err);
	}
	return session_types_cache;
}

/* ------------------------------------------------------------------------ */
/* The target operations                                                    */

static struct md_error *t_read(void *priv, enum md_addr_space space, uint64_t addr, void *buf,
			       size_t len)
{
	if (len == 0)
		return NULL;
	if (len > (size_t)LONG_MAX ||
	    !readmem(addr, space == MD_PHYSADDR ? PHYSADDR : KVADDR, buf, (long)len, "memdiag",
		     RETURN_ON_ERROR | QUIET))
		return md_error_create(MD_ERR_FAULT, "cannot read %zu bytes at %s 0x%" PRIx64, len,
				       space == MD_PHYSADDR ? "physical address" : "address", addr);
	return NULL;
}

static struct md_error *t_symbol_address(void *priv, const char *name, uint64_t *ret)
{
	char buf[NAME_MAX_LEN + 1];

	if (strlen(name) > NAME_MAX_LEN)
		return md_error_create(MD_ERR_LOOKUP, "no symbol %.64s...", name);
	snprintf(buf, sizeof(buf), "%s", name);
	if (!symbol_exists(buf))
		return md_error_create(MD_ERR_LOOKUP, "no symbol %s", name);
	*ret = symbol_value(buf);
	return NULL;
}

static struct md_error *t_type_size(void *priv, const char *type, uint64_t *ret)
{
	char key[NAME_MAX_LEN + 8], kind[8], bare[NAME_MAX_LEN + 1], expr[NAME_MAX_LEN + 16];
	struct cache_entry *e;
	struct md_error *err;
	sigset_t saved;
	uint64_t size;
	long v;
	size_t len;

	if (session_types())
		return md_types_size(session_types_cache, type, ret);
	if (!valid_type(type))
		return md_error_create(MD_ERR_LOOKUP, "no type '%.64s'", type);
	len = cache_key(key, sizeof(key), C_SIZE, type, NULL);
	if ((e = cache_find(key, len)))
		goto answer;
	if ((err = cache_start(key, len, &e)))
		return err;
	split_type(type, kind, sizeof(kind), bare, sizeof(bare));
	/* datatype_info() answers for structs, unions, enums, typedefs,
	 * pointers and 1/2/4/8-byte integers; STRUCT_SIZE() would refuse all
	 * but the first three.  Anything else (bool, __int128, an opaque
	 * declaration that gdb met first) gdb's sizeof can still answer. */
	gdb_enter(&saved);
	v = datatype_info(bare, NULL, NULL);
	gdb_leave(&saved);
	if (v > 0) {
		size = v;
	} else {
		int r;

		/* Through a pointer cast, so that a variable's name is no type. */
		snprintf(expr, sizeof(expr), "sizeof(*(%s *)0)", type);
		if ((r = gdb_ulong(expr, &size)) < 0) {
			pending_pop(e);
			free(e);
			return md_error_create(MD_ERR_OS, "a scratch file for gdb's output: %s",
					       strerror(errno));
		}
		if (r == 0) {
			if ((err = gdb_usable())) {	/* not an answer to cache */
				pending_pop(e);
				free(e);
				return err;
			}
			if (v == 0)
				size = 0;	/* an empty struct */
			else
				size = UINT64_MAX;
		}
	}
	pending_pop(e);
	e->found = size != UINT64_MAX;
	e->u.size = size;
	cache_add(e);
answer:
	if ((err = cache_no_answer(e, "type", type)))
		return err;
	*ret = e->u.size;
	return NULL;
}

/* One member of a struct/union type known to gdb by bare name (a tag or a
 * typedef), as in datatype_info(); -1 if absent. */
static long dt_member(const char *bare, const char *member, struct datatype_member *req)
{
	char t[NAME_MAX_LEN + 1], m[NAME_MAX_LEN + 1];
	sigset_t saved;
	long v;

	snprintf(t, sizeof(t), "%s", bare);
	snprintf(m, sizeof(m), "%s", member);
	gdb_enter(&saved);
	v = datatype_info(t, m, req);
	gdb_leave(&saved);
	return v;
}

static long anon_member(const char *bare, const char *member, bool size)
{
	char t[NAME_MAX_LEN + 1], m[NAME_MAX_LEN + 1];
	sigset_t saved;
	long v;

	snprintf(t, sizeof(t), "%s", bare);
	snprintf(m, sizeof(m), "%s", member);
	gdb_enter(&saved);
	v = size ? ANON_MEMBER_SIZE(t, m) : ANON_MEMBER_OFFSET(t, m);
	gdb_leave(&saved);
	return v;
}

/* A member that cannot be a bit-field: its type is no integer. */
static bool never_bitfield(long code)
{
	return code == TYPE_CODE_PTR || code == TYPE_CODE_ARRAY || code == TYPE_CODE_STRUCT ||
	       code == TYPE_CODE_UNION || code == TYPE_CODE_FUNC;
}

/* Whether path is a bit-field of type (kind, bare) (*found, and *ret if
 * so), or an error when gdb could not list them. */
static struct md_error *find_bitfield(const char *kind, const char *bare, const char *path,
				      uint64_t base_bits, struct md_member *ret, bool *found)
{
	const struct bitfield *bf;
	struct layout *layout = NULL;
	struct md_error *err;

	*found = false;
	if ((err = get_layout(kind, bare, &layout)))
		return err;
	if ((bf = layout_find(layout, path))) {
		ret->bit_offset = base_bits + bf->bit_offset;
		ret->bit_size = bf->bit_size;
		ret->size = bf->size;
		*found = true;
	}
	return NULL;
}

/* path inside type (kind, bare), at base_bits from the outermost type.
 * crash's datatype_info() gives byte offsets only, a bit-field's rounded
 * down, and no bit size: so for a member whose type could be a bit-field
 * the type's `ptype /o` layout decides. */
static struct md_error *resolve_member(const char *kind, const char *bare, const char *path,
				       uint64_t base_bits, struct md_member *ret)
{
	char comp[NAME_MAX_LEN + 1], inner[NAME_MAX_LEN + 1];
	const char *dot, *rest;
	struct md_error *err;
	long off, size, code;
	bool found;
	char *tname;

	dot = strchr(path, '.');
	snprintf(comp, sizeof(comp), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
	rest = dot ? dot + 1 : NULL;

	/* MEMBER_OFFSET() also finds members of anonymous structs and unions
	 * (crash's gdb walks into them); ANON_MEMBER_OFFSET() asks gdb to
	 * evaluate &((struct T *)0)->m, for whatever the first one missed. */
	off = dt_member(bare, comp, NULL);
	if (off < 0)
		off = anon_member(bare, comp, false);
	if (off < 0)
		return no_such("member", comp);
	code = dt_member(bare, comp, MEMBER_TYPE_REQUEST);

	if (!rest) {
		if (!never_bitfield(code)) {
			if ((err = find_bitfield(kind, bare, comp, base_bits, ret, &found)))
				return err;
			if (found)
				return NULL;
		}
		size = dt_member(bare, comp, MEMBER_SIZE_REQUEST);
		if (size < 0)
			size = anon_member(bare, comp, true);
		if (size < 0)
			return no_such("size for member", comp);
		ret->bit_offset = base_bits + (uint64_t)off * 8;
		ret->bit_size = 0;
		ret->size = size;
		return NULL;
	}

	/* A dotted path: on into the member's own type. */
	if (code == TYPE_CODE_PTR || code == TYPE_CODE_ARRAY)
		return md_error_create(MD_ERR_LOOKUP, "%s is %s, not a struct or union", comp,
				       code == TYPE_CODE_PTR ? "a pointer" : "an array");
	tname = (char *)dt_member(bare, comp, MEMBER_TYPE_NAME_REQUEST);
	if (tname && strlen(tname) <= NAME_MAX_LEN && is_ident(tname, strlen(tname))) {
		snprintf(inner, sizeof(inner), "%s", tname);
		err = resolve_member(code == TYPE_CODE_UNION ? "union" :
				     code == TYPE_CODE_STRUCT ? "struct" : "", inner, rest,
				     base_bits + (uint64_t)off * 8, ret);
		return err ? md_error_wrap(err, "in %s", comp) : NULL;
	}
	/* A member of an unnamed type ("struct { ... } comp;"): `ptype /o`
	 * expands it inline, so its bit-fields are this type's "comp.x";
	 * anything else gdb evaluates whole. */
	if ((err = find_bitfield(kind, bare, path, base_bits, ret, &found)))
		return err;
	if (found)
		return NULL;
	off = anon_member(bare, path, false);
	size = off >= 0 ? anon_member(bare, path, true) : -1;
	if (off < 0 || size < 0)
		return no_such("member", path);
	ret->bit_offset = base_bits + (uint64_t)off * 8;
	ret->bit_size = 0;
	ret->size = size;
	return NULL;
}

static struct md_error *t_member(void *priv, const char *type, const char *member,
				 struct md_member *ret)
{
	char key[2 * NAME_MAX_LEN + 8], kind[8], bare[NAME_MAX_LEN + 1];
	struct cache_entry *e;
	struct md_error *err;
	struct md_member m;
	size_t len;

	if (session_types())
		return md_types_member(session_types_cache, type, member, ret);
	if (!valid_type(type) || !valid_path(member))
		return md_error_create(MD_ERR_LOOKUP, "no member '%.64s' in '%.64s'", member, type);
	len = cache_key(key, sizeof(key), C_MEMBER, type, member);
	if ((e = cache_find(key, len)))
		goto answer;
	split_type(type, kind, sizeof(kind), bare, sizeof(bare));
	if (!is_ident(bare, strlen(bare)))
		return md_error_create(MD_ERR_LOOKUP, "%s is not a struct or union", type);
	if ((err = cache_start(key, len, &e)))
		return err;
	memset(&m, 0, sizeof(m));
	err = resolve_member(kind, bare, member, 0, &m);
	pending_pop(e);
	if (err && md_error_root_code(err) != MD_ERR_LOOKUP) {
		free(e);	/* interrupted, out of memory, gdb failed: no answer to keep */
		return md_error_wrap(err, "%s.%s", type, member);
	}
	e->found = !err;
	e->u.member = m;
	cache_add(e);
	md_error_destroy(err);
answer:
	if ((err = cache_no_answer(e, "member", member)))
		return md_error_wrap(err, "%s", type);
	*ret = e->u.member;
	return NULL;
}

static struct md_error *t_enumerator(void *priv, const char *name, int64_t *ret)
{
	char key[NAME_MAX_LEN + 8], buf[NAME_MAX_LEN + 1];
	struct cache_entry *e;
	struct md_error *err;
	sigset_t saved;
	long value = 0;
	size_t len;
	int found;

	if (session_types())
		return md_types_enumerator(session_types_cache, name, ret);
	if (!is_ident(name, strlen(name)) || strlen(name) > NAME_MAX_LEN)
		return md_error_create(MD_ERR_LOOKUP, "no enumerator '%.64s'", name);
	len = cache_key(key, sizeof(key), C_ENUM, name, NULL);
	if ((e = cache_find(key, len)))
		goto answer;
	if ((err = cache_start(key, len, &e)))
		return err;
	snprintf(buf, sizeof(buf), "%s", name);
	gdb_enter(&saved);
	found = enumerator_value(buf, &value);
	gdb_leave(&saved);
	pending_pop(e);
	if (!found && (err = gdb_usable())) {
		free(e);
		return err;
	}
	e->found = found;
	e->u.value = value;
	cache_add(e);
answer:
	if ((err = cache_no_answer(e, "enumerator", name)))
		return err;
	*ret = e->u.value;
	return NULL;
}

/* KEY's value in a VMCOREINFO text ("KEY=value\n" lines); NULL if absent. */
static char *vmcoreinfo_find(const char *text, size_t size, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i + klen < size; i++) {
		if ((i == 0 || text[i - 1] == '\n') && !strncmp(text + i, key, klen) &&
		    text[i + klen] == '=') {
			const char *v = text + i + klen + 1;
			const char *nl = memchr(v, '\n', size - (v - text));

			return strndup(v, nl ? (size_t)(nl - v) : size - (v - text));
		}
	}
	return NULL;
}

/* The kernel's own copy (vmcoreinfo_data, vmcoreinfo_size), for dumps
 * without the ELF note or kdump header that crash reads it from. */
static char *vmcoreinfo_from_memory(const char *key)
{
	uint64_t data_sym, size_sym, data = 0, size = 0;
	struct md_error *err;
	char *text, *value;

	if ((err = t_symbol_address(NULL, "vmcoreinfo_data", &data_sym)) ||
	    (err = t_symbol_address(NULL, "vmcoreinfo_size", &size_sym)) ||
	    (err = t_read(NULL, MD_KVADDR, data_sym, &data, sizeof(data))) ||
	    (err = t_read(NULL, MD_KVADDR, size_sym, &size, sizeof(size)))) {
		md_error_destroy(err);
		return NULL;
	}
	if (!data || !size || size > 65536 || !(text = malloc(size)))
		return NULL;
	if ((err = t_read(NULL, MD_KVADDR, data, text, size))) {
		md_error_destroy(err);
		free(text);
		return NULL;
	}
	value = vmcoreinfo_find(text, size, key);
	free(text);
	return value;
}

static struct md_error *t_vmcoreinfo(void *priv, const char *key, char *buf, size_t len)
{
	char *value = NULL;
	size_t n;

	if (!*key || strchr(key, '=') || strchr(key, '\n'))
		return md_error_create(MD_ERR_LOOKUP, "no VMCOREINFO key '%.64s'", key);
	if (pc->read_vmcoreinfo)
		value = pc->read_vmcoreinfo(key);	/* malloc'd, or NULL */
	if (!value)
		value = vmcoreinfo_from_memory(key);
	if (!value)
		return md_error_create(MD_ERR_LOOKUP, "no VMCOREINFO %s", key);
	n = strlen(value);
	if (n >= len) {
		free(value);
		return md_error_create(MD_ERR_INVALID, "VMCOREINFO %s is longer than %zu bytes", key,
				       len ? len - 1 : 0);
	}
	memcpy(buf, value, n + 1);
	free(value);
	return NULL;
}

static struct md_error *t_address_name(void *priv, uint64_t addr, char *buf, size_t len)
{
	struct load_module *lm = NULL;
	struct syment *sp;
	ulong offset = 0;

	if (len == 0)
		return md_error_create(MD_ERR_INVALID, "no room for a name");
	sp = value_search(addr, &offset);
	/* Named as the standalone target names it (lib/symbol_names.h): past
	 * the symbols that name no address, back to one that does. */
	while (sp && sp->name && !md_symbol_names_addresses(sp->name))
		sp = prev_symbol(NULL, sp);
	if (sp)
		offset = addr - sp->value;
	/* crash marks module boundaries with pseudo-symbols such as
	 * _MODULE_START_name: those name nothing. */
	if (!sp || !sp->name || !strncmp(sp->name, "_MODULE_", 8))
		return md_error_create(MD_ERR_LOOKUP, "no symbol at 0x%" PRIx64, addr);
	/* crash keeps no symbol sizes: far past a symbol is past its end (as
	 * the standalone target decides for symbols without a size). */
	if (offset >= (1UL << 20))
		return md_error_create(MD_ERR_LOOKUP, "no symbol at 0x%" PRIx64 " (1 MiB past %s)",
				       addr, sp->name);
	if (module_symbol(addr, NULL, &lm, NULL, 16) && lm && lm->mod_name[0])
		snprintf(buf, len, "%s+0x%lx [%s]", sp->name, offset, lm->mod_name);
	else
		snprintf(buf, len, "%s+0x%lx", sp->name, offset);
	return NULL;
}

static bool t_interrupted(void *priv)
{
	if (!run.sigint && received_SIGINT())
		run.sigint = 1;
	return run.sigint || run.output_broken;
}

static const struct md_target_ops crash_target_ops = {
	.read = t_read,
	.symbol_address = t_symbol_address,
	.type_size = t_type_size,
	.member = t_member,
	.enumerator = t_enumerator,
	.vmcoreinfo = t_vmcoreinfo,
	.address_name = t_address_name,
	.interrupted = t_interrupted,
};

static const struct md_target crash_target = { &crash_target_ops, NULL };

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */

static struct command_table_entry *command_table;
static size_t ncommands;

static void write_fp(void *priv, const char *text, size_t len)
{
	if (run.output_broken || len == 0)
		return;
	if (fwrite(text, 1, len, fp) != len) {
		run.output_broken = true;
		run.write_errno = errno;
	}
}

/* The error chain, through crash's error(INFO): to fp and, when fp is a
 * pipe or file, to the terminal as well.  crash already starts the line
 * with "NAME: ", so a message that starts so too loses its own. */
static void report(const char *name, struct md_error *err)
{
	char *msg = md_error_string(err);
	const char *text = msg ? msg : "out of memory";
	size_t n = strlen(name);

	if (!strncmp(text, name, n) && !strncmp(text + n, ": ", 2))
		text += n + 2;
	error(INFO, "%s\n", text);
	free(msg);
}

/* The core's name of the command crash ran: the entry registered under
 * args[0] (see build_command_table()). */
static char *core_name(const char *registered)
{
	for (size_t i = 0; i < ncommands; i++)
		if (!strcmp(command_table[i].name, registered))
			return (char *)md_commands[i].name;
	return (char *)registered;
}

static void cmd_memdiag(void)
{
	char *argv[MAXARGS + 1];
	struct md_output *out = NULL;
	struct md_error *err = NULL;
	int argc = argcnt;

	if (argc < 1 || argc > MAXARGS || !args[0]) {
		error(INFO, "no command\n");
		return;
	}
	if (run.active)		/* aborted without crash's cleanup running */
		run_abort_cleanup(NULL);
	for (int i = 0; i < argc; i++)
		argv[i] = args[i];
	argv[0] = core_name(args[0]);
	argv[argc] = NULL;

	run_begin();
	if (!session) {
		err = md_session_create(&crash_target, &session);
		if (err)
			session = NULL;	/* try again next time */
	}
	if (!err)
		err = md_output_create(false, write_fp, NULL, &out);
	if (!err) {
		err = md_command_run(session, argc, argv, out);
		md_output_destroy(out);
	}
	if (!run.output_broken && fflush(fp) != 0) {
		run.output_broken = true;
		run.write_errno = errno;
	}
	/* While SIGPIPE is still ignored: fp may be a closed pipe. */
	if (run.output_broken && run.write_errno != EPIPE)
		error(INFO, "writing the output: %s\n", strerror(run.write_errno));
	if (err && md_error_root_code(err) == MD_ERR_INTERRUPTED) {
		if (!run.output_broken)	/* a closed pipe ends the command quietly */
			error(INFO, "interrupted\n");
	} else if (err) {
		report(argv[0], err);
	}
	md_error_destroy(err);
	run_end();
}

/* crash prints help lines through printf: the summary and synopsis always,
 * a description line when it contains "%s" (otherwise, if it has a '%', it
 * is printed verbatim).  Double the '%'s where printf will see them. */
static char *help_line(const char *prefix, const char *text, bool always_format)
{
	size_t n = strlen(prefix), pct = 0;
	bool format = always_format || strstr(text, "%s");
	char *s, *d;

	for (const char *p = text; *p; p++)
		pct += *p == '%';
	if (!(s = malloc(n + strlen(text) + (format ? pct : 0) + 1)))
		return NULL;
	memcpy(s, prefix, n);
	d = s + n;
	for (const char *p = text; *p; p++) {
		*d++ = *p;
		if (*p == '%' && format)
			*d++ = '%';
	}
	*d = '\0';
	return s;
}

static void free_help(char **help)
{
	for (char **p = help; p && *p; p++)
		free(*p);
	free(help);
}

/* crash's help_x[]: name, summary, argument synopsis, description lines
 * (at least one: crash's help prints the first unconditionally), NULL.
 * The synopsis and lines are the core's (lib/options.h), as the CLI's
 * --help prints them. */
static char **build_help(const struct md_command *c)
{
	char **body = md_command_help(c), *synopsis = md_command_synopsis(c);
	size_t n = 0, i = 0;
	char **help = NULL;

	for (char **l = body; l && *l; l++)
		n++;
	if (!body || !synopsis || !(help = calloc(3 + n + 1, sizeof(char *))))
		goto fail;
	if (!(help[i++] = strdup(c->name)) ||
	    !(help[i++] = help_line("", c->summary ? c->summary : "", true)) ||
	    !(help[i++] = help_line("", synopsis, true)))
		goto fail;
	for (char **l = body; *l; l++)
		if (!(help[i++] = help_line(**l ? "  " : "", *l, false)))
			goto fail;
	md_strings_free(body);
	free(synopsis);
	return help;
fail:
	md_strings_free(body);
	free(synopsis);
	free_help(help);
	return NULL;
}

static void free_command_table(void)
{
	for (size_t i = 0; command_table && i < ncommands; i++) {
		free_help(command_table[i].help_data);
		if (command_table[i].name != md_commands[i].name)
			free(command_table[i].name);
	}
	free(command_table);
	command_table = NULL;
	ncommands = 0;
}

static bool build_command_table(void)
{
	size_t n = 0;

	while (md_commands[n].name)
		n++;
	if (!(command_table = calloc(n + 1, sizeof(*command_table))))
		return false;
	ncommands = n;
	for (size_t i = 0; i < n; i++) {
		struct md_command c = md_commands[i];

		/* crash has its own whatis (a symbol's type): a command whose
		 * name crash already has is registered as "md" + name, and
		 * said so once, rather than the whole object refused. */
		command_table[i].name = (char *)c.name;
		if (get_command_table_entry((char *)c.name)) {
			if (asprintf(&command_table[i].name, "md%s", c.name) < 0) {
				command_table[i].name = (char *)c.name;
				free_command_table();
				return false;
			}
			fprintf(fp ? fp : stdout, "memdiag.so: crash has its own \"%s\": memdiag's is \"%s\"\n",
				c.name, command_table[i].name);
			c.name = command_table[i].name;
		}
		command_table[i].func = cmd_memdiag;
		command_table[i].flags = 0;
		if (!(command_table[i].help_data = build_help(&c))) {
			free_command_table();
			return false;
		}
	}
	return true;
}

static void __attribute__((constructor)) memdiag_init(void)
{
	/* Without a command table, crash reports "no commands registered"
	 * and unloads the object. */
	if (!build_command_table()) {
		fprintf(stderr, "memdiag.so: out of memory\n");
		return;
	}
	register_extension(command_table);
}

/* At `extend -u`, at crash's exit, and when crash refuses the object (a
 * second copy whose command names are taken): every copy owns only its own
 * statics. */
static void __attribute__((destructor)) memdiag_fini(void)
{
	if (pc && pc->cmd_cleanup == run_abort_cleanup) {
		pc->cmd_cleanup = run.old_cleanup;
		pc->cmd_cleanup_arg = run.old_cleanup_arg;
	}
	/* A session in use by a command that never returned (crash exiting
	 * from inside it) may be half-updated: leave it. */
	if (session && !run.active)
		md_session_destroy(session);
	session = NULL;
	md_types_destroy(session_types_cache);
	session_types_cache = NULL;
	session_types_tried = false;
	cache_clear();
	free_command_table();
}
