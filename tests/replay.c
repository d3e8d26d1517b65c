/* memdiag-replay: run a command on a recording (cli/recording.h), with no
 * dump, and inject faults into its reads.
 *
 *   memdiag-replay --compact OUT RECORDING
 *       RECORDING (appended to by several commands) as one segment in OUT
 *   memdiag-replay [--json] [--repeat N] RECORDING COMMAND [ARGS...]
 *       the command's output, as memdiag prints it (run N times, for a
 *       profile); "reads: N" on stderr
 *   memdiag-replay --fault fail|zero|random --nth N [--seed S] RECORDING COMMAND...
 *       the same with the Nth read failing, zeroed or random
 *   memdiag-replay --fail-symbol NAME RECORDING COMMAND...
 *       every read that covers the kernel variable NAME fails
 *   memdiag-replay --trace RECORDING COMMAND...
 *       also "read N 0xADDR LEN" on stderr for each read: which read to
 *       make fail, for a test that aims at one reader
 *   memdiag-replay --sweep fail|zero|random [--from A] [--to B] [--step K]
 *                  [--timeout S] [--jobs J] RECORDING COMMAND...
 *       one run per read N = A, A+K, ... up to B (all reads by default), each in a child
 *       process (J of them at a time): it must finish within S seconds (60), exit cleanly (no
 *       sanitizer report), and, for fail, an output that differs from the
 *       run without a fault must have a line that the clean run does not
 *       have with a "!", "memdiag:", "unreadable" or "injected fault"
 *       in it (the failure named), or the
 *       command must end with an error.  Ends with the line
 *       "sweep MODE: N runs, N crashes, N hangs, N sanitizer reports, N unnamed"
 *       and exits 1 if any of those is not 0.  --misbehave crash|hang|leak|unnamed
 *       makes every child do that wrong, to test the sweep itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memdiag.h"
#include "recording.h"

/* Exit status of a child whose changed output names nothing. */
#define UNNAMED 100

struct text {
	char *p;
	size_t len, cap;
};

static void collect(void *priv, const char *s, size_t len)
{
	struct text *t = priv;

	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->len + len + 1) * 2;
		char *grown = realloc(t->p, cap);

		if (!grown)
			abort();
		t->p = grown;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, len);
	t->len += len;
	t->p[t->len] = '\0';
}

/* One run of the command on target; output into *text.  False if the
 * command ended with an error (its message is in *text too). */
static bool run(struct md_target *target, bool json, int argc, char **argv, struct text *text)
{
	struct md_session *session = NULL;
	struct md_output *out = NULL;
	struct md_error *err;

	md_replay_reset(target);
	if (!(err = md_session_create(target, &session)) &&
	    !(err = md_output_create(json, collect, text, &out))) {
		err = md_command_run(session, argc, argv, out);
		md_output_destroy(out);
	}
	md_session_destroy(session);
	if (err) {
		char *msg = md_error_string(err);

		collect(text, "memdiag: ", 9);
		collect(text, msg ? msg : "out of memory", msg ? strlen(msg) : 13);
		collect(text, "\n", 1);
		free(msg);
		md_error_destroy(err);
		return false;
	}
	return true;
}

/* Whether text has a line that base lacks with a "!", "memdiag:",
 * "unreadable" or the injected error's own words in it (JSON has no "!"). */
static bool names_something(const char *text, const char *base)
{
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t len = end - line;
		char *copy = strndup(line, len);
		bool marked = copy && (strchr(copy, '!') || strstr(copy, "memdiag:") ||
				       strstr(copy, "unreadable") || strstr(copy, "injected fault"));
		bool new_line = true;

		for (const char *b = base; marked && *b;) {
			const char *bend = strchrnul(b, '\n');

			if ((size_t)(bend - b) == len && !memcmp(b, line, len)) {
				new_line = false;
				break;
			}
			b = *bend ? bend + 1 : bend;
		}
		free(copy);
		if (marked && new_line)
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

static enum md_replay_fault fault_mode(const char *s)
{
	return !strcmp(s, "fail") ? MD_REPLAY_FAIL : !strcmp(s, "zero") ? MD_REPLAY_ZERO :
	       !strcmp(s, "random") ? MD_REPLAY_RANDOM : MD_REPLAY_NONE;
}

struct number {
	const char *option;
	uint64_t *value;
};

static bool number_option(const struct number *numbers, const char *option, const char *value)
{
	for (; numbers->option; numbers++) {
		if (!strcmp(option, numbers->option)) {
			*numbers->value = strtoull(value, NULL, 0);
			return true;
		}
	}
	return false;
}

/* The error, on stderr; destroys it. */
static void complain(struct md_error *err)
{
	char *msg = md_error_string(err);

	fprintf(stderr, "memdiag-replay: %s\n", msg ? msg : "out of memory");
	free(msg);
	md_error_destroy(err);
}

static int usage(void)
{
	fprintf(stderr, "usage: memdiag-replay --compact OUT RECORDING\n"
			"       memdiag-replay [--json] [--trace] [--fail-symbol NAME] [--fault MODE --nth N [--seed S]] "
			"[--sweep MODE [--from A] [--to B] [--step K] [--timeout S] [--jobs J]] RECORDING COMMAND [ARGS...]\n"
			"       MODE: fail, zero or random\n");
	return 2;
}

/* The sweep: one clean run, which forks at each read n in [from, to];
 * the child takes the fault at n and runs to the end, the parent goes on
 * with up to `jobs` children running.  So the runs share what comes
 * before their fault.  Each child's stderr goes to a file of its own,
 * copied out when it ends, so that reports of parallel children do not mix. */
struct child {
	pid_t pid;
	uint64_t n;
	FILE *err;
};

struct sweep {
	struct md_target *target;
	enum md_replay_fault mode;
	const char *mode_name;
	uint64_t from, to, step;
	uint64_t timeout;
	uint64_t child;		/* in a child: its faulty read; 0 in the parent */
	uint64_t runs, crashes, hangs, reports, unnamed;
	struct child *running;
	size_t jobs, nr_running;
	const char *misbehave;	/* --misbehave: what each child does wrong, to test the sweep */
};

static void judge(struct sweep *sw, const struct child *c, int status)
{
	sw->runs++;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		sw->hangs++;
		fprintf(stderr, "memdiag-replay: %s at read %" PRIu64 ": no end within %" PRIu64 " s\n",
			sw->mode_name, c->n, sw->timeout);
	} else if (WIFSIGNALED(status)) {
		sw->crashes++;
		fprintf(stderr, "memdiag-replay: %s at read %" PRIu64 ": killed by signal %d\n",
			sw->mode_name, c->n, WTERMSIG(status));
	} else if (WEXITSTATUS(status) == UNNAMED) {
		sw->unnamed++;
	} else if (WEXITSTATUS(status)) {
		sw->reports++;
		fprintf(stderr, "memdiag-replay: %s at read %" PRIu64 ": exit status %d "
			"(a sanitizer's report above)\n", sw->mode_name, c->n, WEXITSTATUS(status));
	}
}

/* Wait for one child to end, copy out what it said, and judge it. */
static void reap(struct sweep *sw)
{
	char buf[4096];
	size_t i, len;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, 0)) < 0 && errno == EINTR)
		;
	for (i = 0; i < sw->nr_running && sw->running[i].pid != pid; i++)
		;
	if (pid < 0 || i == sw->nr_running) {
		perror("memdiag-replay: waitpid");
		exit(1);
	}
	struct child c = sw->running[i];

	sw->running[i] = sw->running[--sw->nr_running];
	rewind(c.err);
	while ((len = fread(buf, 1, sizeof(buf), c.err)))
		fwrite(buf, 1, len, stderr);
	fclose(c.err);
	judge(sw, &c, status);
}

static void at_read(void *priv, uint64_t n, uint64_t addr, size_t len)
{
	struct sweep *sw = priv;
	struct child *c;

	if (sw->child || n < sw->from || n > sw->to || (n - sw->from) % sw->step)
		return;
	while (sw->nr_running >= sw->jobs)
		reap(sw);
	c = &sw->running[sw->nr_running];
	c->n = n;
	fflush(NULL);
	if (!(c->err = tmpfile()) || (c->pid = fork()) < 0) {
		perror("memdiag-replay: fork");
		exit(1);
	}
	if (c->pid == 0) {
		dup2(fileno(c->err), STDERR_FILENO);
		sw->child = n;
		alarm(sw->timeout);
		if (!sw->misbehave || strcmp(sw->misbehave, "unnamed"))	/* else no word of it */
			md_replay_set_fault(sw->target, sw->mode, n, n);
		if (sw->misbehave && !strcmp(sw->misbehave, "crash"))
			raise(SIGSEGV);
		if (sw->misbehave && !strcmp(sw->misbehave, "hang"))
			for (;;)
				pause();
		if (sw->misbehave && !strcmp(sw->misbehave, "leak"))
			fprintf(stderr, "leaking %p\n", malloc(64));
		return;
	}
	sw->nr_running++;
}

static int sweep(struct sweep *sw, bool json, int argc, char **argv)
{
	struct text base = { 0 }, text = { 0 };
	uint64_t reads;
	bool ok;

	run(sw->target, json, argc, argv, &base);
	reads = md_replay_reads(sw->target);
	if (sw->to == 0 || sw->to > reads)
		sw->to = reads;
	if (!(sw->running = calloc(sw->jobs, sizeof(*sw->running)))) {
		fprintf(stderr, "memdiag-replay: out of memory\n");
		return 1;
	}
	md_replay_set_read_hook(sw->target, at_read, sw);
	ok = run(sw->target, json, argc, argv, &text);
	if (sw->child) {	/* the run with the fault, at its end */
		if (sw->misbehave && !strcmp(sw->misbehave, "unnamed"))
			collect(&text, "changed\n", 8);
		const char *out = text.p ? text.p : "", *clean = base.p ? base.p : "";
		int status = sw->mode == MD_REPLAY_FAIL && ok && strcmp(out, clean) &&
			     !names_something(out, clean) ? UNNAMED : 0;

		if (status)
			fprintf(stderr, "memdiag-replay: read %" PRIu64 " failed and the output changed "
				"with no \"!\" naming it:\n%s", sw->child, out);
		free(text.p);
		free(base.p);
		free(sw->running);
		md_replay_target_close(sw->target);
		exit(status);	/* exit(), not _exit(): LeakSanitizer checks here */
	}
	while (sw->nr_running)
		reap(sw);
	free(sw->running);
	free(text.p);
	free(base.p);
	printf("reads: %" PRIu64 "\nsweep %s: %" PRIu64 " runs, %" PRIu64 " crashes, %" PRIu64
	       " hangs, %" PRIu64 " sanitizer reports, %" PRIu64 " unnamed\n", reads, sw->mode_name,
	       sw->runs, sw->crashes, sw->hangs, sw->reports, sw->unnamed);
	return sw->crashes || sw->hangs || sw->reports || sw->unnamed;
}

static void trace_read(void *priv, uint64_t n, uint64_t addr, size_t len)
{
	fprintf(stderr, "read %" PRIu64 " 0x%" PRIx64 " %zu\n", n, addr, len);
}

int main(int argc, char **argv)
{
	enum md_replay_fault fault = MD_REPLAY_NONE, sweep_mode = MD_REPLAY_NONE;
	const char *sweep_name = NULL, *compact = NULL, *fail_symbol = NULL, *misbehave = NULL;
	uint64_t nth = 0, seed = 1, from = 1, to = 0, step = 1, timeout = 60, repeat = 1, jobs = 1;
	const struct number numbers[] = {
		{ "--nth", &nth }, { "--seed", &seed }, { "--from", &from }, { "--to", &to },
		{ "--step", &step }, { "--timeout", &timeout }, { "--repeat", &repeat }, { "--jobs", &jobs }, { NULL, NULL },
	};
	bool json = false, trace = false;
	struct md_target *target;
	struct md_error *err;
	int i, status;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(argv[i], "--trace")) {
			trace = true;
			continue;
		}
		if (!value)
			return usage();
		if (!strcmp(argv[i], "--fault") && (fault = fault_mode(value)))
			;
		else if (!strcmp(argv[i], "--sweep") && (sweep_mode = fault_mode(value)))
			sweep_name = value;
		else if (!strcmp(argv[i], "--misbehave"))
			misbehave = value;
		else if (!strcmp(argv[i], "--fail-symbol"))
			fail_symbol = value;
		else if (!strcmp(argv[i], "--compact"))
			compact = value;
		else if (!number_option(numbers, argv[i], value))
			return usage();
		i++;
	}
	if (argc - i < (compact ? 1 : 2))
		return usage();
	if ((err = md_replay_target_open(argv[i], &target))) {
		complain(err);
		return 1;
	}
	if (fail_symbol) {
		uint64_t addr;

		if ((err = target->ops->symbol_address(target->priv, fail_symbol, &addr))) {
			complain(err);
			md_replay_target_close(target);
			return 1;
		}
		md_replay_fail_address(target, addr);
	}
	if (compact) {
		status = (err = md_replay_target_write(target, compact)) != NULL;
		if (err)
			complain(err);
	} else if (sweep_mode) {
		struct sweep sw = { .target = target, .mode = sweep_mode, .mode_name = sweep_name,
				    .from = from ? from : 1, .to = to, .step = step ? step : 1,
				    .timeout = timeout, .jobs = jobs ? jobs : 1,
				    .misbehave = misbehave };

		status = sweep(&sw, json, argc - i - 1, argv + i + 1);
	} else {
		struct text text = { 0 };

		md_replay_set_fault(target, fault, nth, seed);
		if (trace)
			md_replay_set_read_hook(target, trace_read, NULL);
		for (uint64_t k = 1; k < repeat; k++) {	/* for timing */
			run(target, json, argc - i - 1, argv + i + 1, &text);
			text.len = 0;
		}
		status = !run(target, json, argc - i - 1, argv + i + 1, &text);
		fwrite(text.p ? text.p : "", 1, text.len, stdout);
		fprintf(stderr, "reads: %" PRIu64 "\n", md_replay_reads(target));
		free(text.p);
	}
	md_replay_target_close(target);
	return status;
}
