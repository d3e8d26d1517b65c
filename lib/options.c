/* The one command-line parser (lib/options.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "output.h"

static size_t nr_options(const struct md_command *c)
{
	size_t n = 0;

	while (c->options && c->options[n].letter)
		n++;
	return n;
}

static int option_index(const struct md_command *c, char letter)
{
	for (size_t i = 0; c->options && c->options[i].letter; i++)
		if (c->options[i].letter == letter)
			return (int)i;
	return -1;
}

bool md_arg_given(const struct md_args *a, char letter)
{
	int i = option_index(a->command, letter);

	return i >= 0 && (a->given & (1u << i));
}

int64_t md_arg_number(const struct md_args *a, char letter, int64_t dflt)
{
	int i = option_index(a->command, letter);

	return i >= 0 && (a->given & (1u << i)) ? a->number[i] : dflt;
}

const char *md_arg_string(const struct md_args *a, char letter)
{
	int i = option_index(a->command, letter);

	return i >= 0 && (a->given & (1u << i)) ? a->string[i] : NULL;
}

/* A usage error: what is wrong, then the synopsis. */
static struct md_error *usage_error(const struct md_command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct md_error *usage_error(const struct md_command *c, const char *fmt, ...)
{
	char *what = NULL, *synopsis = md_command_synopsis(c);
	struct md_error *err;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (len < 0 || !synopsis)
		err = md_error_nomem();
	else
		err = md_error_create(MD_ERR_INVALID, "%s: %s (usage: %s %s)", c->name, what, c->name,
				      synopsis);
	if (len >= 0)
		free(what);
	free(synopsis);
	return err;
}

static struct md_error *set_value(const struct md_command *c, int i, const char *value,
				  struct md_args *a)
{
	const struct md_option *o = &c->options[i];
	char *end;
	long long v;

	if (!o->what) {
		a->string[i] = value;
		return NULL;
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (!*value || *end || errno || v < o->min || v > o->max)
		return usage_error(c, "-%c wants %s from %" PRId64 " to %" PRId64 ", not '%s'",
				   o->letter, o->what, o->min, o->max, value);
	a->number[i] = v;
	return NULL;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

struct md_error *md_args_parse(const struct md_command *c, int argc, char **argv,
			       struct md_args *ret)
{
	struct md_args a = { .command = c };
	struct md_error *err = NULL;
	bool options_end = false;

	if (nr_options(c) > MD_MAX_OPTIONS)
		return md_error_create(MD_ERR_INVALID, "%s: too many options declared", c->name);
	if (!(a.operands = calloc(argc > 0 ? argc : 1, sizeof(*a.operands))))
		return md_error_nomem();
	/* -h wins over anything else on the line: a user asking what the
	 * options are should not be told first that one is wrong. */
	for (int i = 1; i < argc && !a.help; i++)
		if (!strcmp(argv[i], "--"))
			break;
		else
			a.help = is_help(argv[i]);
	for (int i = 1; i < argc && !err && !a.help; i++) {
		const char *arg = argv[i];

		if (options_end || arg[0] != '-' || !arg[1]) {
			a.operands[a.nr_operands++] = argv[i];
			continue;
		}
		if (!strcmp(arg, "--")) {
			options_end = true;
		} else if (!strcmp(arg, "--json")) {
			a.json = true;
		} else if (!strcmp(arg, "--wide")) {
			a.wide = true;
		} else if (arg[1] == '-') {
			err = usage_error(c, "unknown option '%s'", arg);
		} else {
			/* one or more letters: "-l", "-lu", "-n10", "-n" "10" */
			for (const char *p = arg + 1; *p && !err; p++) {
				int o = option_index(c, *p);

				if (o < 0) {
					err = usage_error(c, "unknown option '-%c'", *p);
				} else if (!c->options[o].value) {
					a.given |= 1u << o;
				} else if (p[1]) {
					a.given |= 1u << o;
					err = set_value(c, o, p + 1, &a);
					break;
				} else if (i + 1 < argc) {
					a.given |= 1u << o;
					err = set_value(c, o, argv[++i], &a);
				} else {
					err = usage_error(c, "-%c needs a value, %s", *p, c->options[o].value);
				}
			}
		}
	}
	if (!err && !a.help && a.nr_operands < c->min_operands)
		err = usage_error(c, "no %s given", c->operand ? c->operand : "operand");
	if (!err && !a.help && a.nr_operands > c->max_operands) {
		if (!c->operand)
			err = usage_error(c, "unexpected '%s'", a.operands[0]);
		else if (c->max_operands == 1)
			err = usage_error(c, "one %s at a time ('%s' and '%s')", c->operand, a.operands[0],
					  a.operands[1]);
		else
			err = usage_error(c, "at most %d %ss at once", c->max_operands, c->operand);
	}
	if (err) {
		free(a.operands);
		return err;
	}
	*ret = a;
	return NULL;
}

void md_args_release(struct md_args *a)
{
	free(a->operands);
	a->operands = NULL;
}

/* ------------------------------------------------------------ help pages */

/* A growing array of malloc()ed lines; on failure it is freed and NULL. */
struct lines {
	char **v;
	size_t n, cap;
	bool failed;
};

static void add_line(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_line(struct lines *l, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (l->failed)
		return;
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->failed = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		l->failed = true;
	else
		l->v[l->n++] = line;
	va_end(ap);
	l->v[l->n] = NULL;
}

static char **lines_finish(struct lines *l)
{
	if (!l->failed && !l->v)
		add_line(l, "%s", "");
	if (l->failed) {
		for (size_t i = 0; i < l->n; i++)
			free(l->v[i]);
		free(l->v);
		return NULL;
	}
	return l->v;
}

void md_strings_free(char **lines)
{
	for (char **p = lines; p && *p; p++)
		free(*p);
	free(lines);
}

char *md_command_synopsis(const struct md_command *c)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; c->options && c->options[i].letter; i++) {
		const struct md_option *o = &c->options[i];

		if (o->value)
			fprintf(f, " [-%c %s]", o->letter, o->value);
		else
			fprintf(f, " [-%c]", o->letter);
	}
	fputs(" [--wide] [--json]", f);
	if (c->operand && c->min_operands > 0)
		fprintf(f, " %s%s", c->operand, c->max_operands > 1 ? "..." : "");
	else if (c->operand)
		fprintf(f, " [%s%s]", c->operand, c->max_operands > 1 ? "..." : "");
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	memmove(s, s + 1, len);	/* the first item's leading space */
	return s;
}

/* The page's width: what a terminal shows without wrapping. */
#define PAGE_COLUMNS 80

/* One item of the OPTIONS list as md_wrap() gives its lines: the label on
 * the first, a bullet's later lines hanging under its text. */
struct item {
	struct lines *l;
	int width;
	const char *label;
	int hang;		/* this paragraph's later lines */
	bool labelled, paragraph_started;
};

static void item_line(void *priv, const char *text, int len)
{
	struct item *it = priv;

	add_line(it->l, "  %-*s  %*s%.*s", it->width, it->labelled ? "" : it->label,
		 it->paragraph_started ? it->hang : 0, "", len, text);
	it->labelled = it->paragraph_started = true;
}

/* "  -n N        help..." with the help re-flowed into the columns left of
 * 80 (crash's help adds the two-space indent of DESCRIPTION's lines, which
 * the CLI's page adds too): each help line starting with "- " begins a
 * bullet, whose next lines hang under its text; other lines continue the
 * paragraph they are in. */
static void add_item(struct lines *l, int width, const char *label, const char *const *help)
{
	const int room = PAGE_COLUMNS - 2 - (2 + width + 2);
	struct item it = { .l = l, .width = width, .label = label };
	char *text = NULL;
	size_t len = 0;
	FILE *f = NULL;

	for (size_t i = 0; !l->failed; i++) {
		const char *h = help && help[i] ? help[i] + strspn(help[i], " ") : NULL;

		/* a paragraph ends at a bullet or at the end */
		if (f && (!h || !strncmp(h, "- ", 2))) {
			if (fclose(f) || md_wrap(text, room, room - it.hang, item_line, &it) < 0)
				l->failed = true;
			free(text);
			f = NULL;
			it.paragraph_started = false;
		}
		if (!h)
			break;
		if (!f) {
			if (!(f = open_memstream(&text, &len))) {
				l->failed = true;
				break;
			}
			if (!strncmp(h, "- ", 2))
				it.hang = 2;
		} else {
			fputc(' ', f);
		}
		fputs(h, f);
	}
	if (f) {		/* out of memory before the paragraph was wrapped */
		fclose(f);
		free(text);
	}
	if (!it.labelled)
		add_line(l, "  %-*s  %s", width, label, "");
}

static const char *const json_help[] = {
	"the result as one JSON document (doc/json.md)", NULL,
};
static const char *const help_help[] = { "this page", NULL };
static const char *const wide_help[] = {
	"tables with every column and lines unwrapped, past 80 columns", NULL,
};

char **md_command_help(const struct md_command *c)
{
	struct lines l = { 0 };
	int width = (int)strlen("-h, --help");
	char label[64];

	for (size_t i = 0; c->options && c->options[i].letter; i++) {
		int w = 3 + (c->options[i].value ? 1 + (int)strlen(c->options[i].value) : 0);

		if (w > width)
			width = w;
	}
	if (c->operand && c->operand_help && (int)strlen(c->operand) > width)
		width = (int)strlen(c->operand);
	for (const char *const *p = c->description; p && *p; p++)
		add_line(&l, "%s", *p);
	add_line(&l, "%s", "");
	add_line(&l, "%s", "OPTIONS");
	for (size_t i = 0; c->options && c->options[i].letter; i++) {
		const struct md_option *o = &c->options[i];

		snprintf(label, sizeof(label), "-%c%s%s", o->letter, o->value ? " " : "",
			 o->value ? o->value : "");
		add_item(&l, width, label, o->help);
	}
	if (c->operand && c->operand_help)
		add_item(&l, width, c->operand, c->operand_help);
	add_item(&l, width, "--wide", wide_help);
	add_item(&l, width, "--json", json_help);
	add_item(&l, width, "-h, --help", help_help);
	if (c->examples && c->examples[0]) {
		add_line(&l, "%s", "");
		add_line(&l, "%s", "EXAMPLES");
		for (const char *const *p = c->examples; *p; p++)
			add_line(&l, "%s", *p);
	}
	return lines_finish(&l);
}

char *md_command_page(const struct md_command *c)
{
	char **body = md_command_help(c), *synopsis = md_command_synopsis(c);
	char *s = NULL;
	size_t len = 0;
	FILE *f = body && synopsis ? open_memstream(&s, &len) : NULL;

	if (f) {
		fprintf(f, "NAME\n  %s - %s\n\nSYNOPSIS\n  %s %s\n\nDESCRIPTION\n", c->name,
			c->summary, c->name, synopsis);
		for (char **p = body; *p; p++)
			fprintf(f, "%s%s\n", **p ? "  " : "", *p);
		if (fclose(f)) {
			free(s);
			s = NULL;
		}
	}
	md_strings_free(body);
	free(synopsis);
	return s;
}

const struct md_command *md_command_find(const char *name)
{
	for (const struct md_command *c = md_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
