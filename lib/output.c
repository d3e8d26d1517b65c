#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

struct md_error *md_output_create(bool json, md_write_fn *write, void *priv,
				  struct md_output **ret)
{
	struct md_output *out = calloc(1, sizeof(*out));

	if (!out)
		return md_error_create(MD_ERR_NOMEM, "out of memory");
	out->json = json;
	out->write = write;
	out->priv = priv;
	*ret = out;
	return NULL;
}

void md_output_destroy(struct md_output *out)
{
	if (!out)
		return;
	md_output_end(out);
	free(out);
}

bool md_output_is_json(const struct md_output *out)
{
	return out->json;
}

bool md_output_is_wide(const struct md_output *out)
{
	return out->wide;
}

bool md_output_set_json(struct md_output *out, bool json)
{
	bool was = out->json;

	md_output_end(out);
	out->json = json;
	return was;
}

void md_output_text(struct md_output *out, const char *text)
{
	out->write(out->priv, text, strlen(text));
}

static void vwrite_text(struct md_output *out, const char *fmt, va_list ap)
{
	char *text;
	int len = vasprintf(&text, fmt, ap);

	if (len < 0)
		return;
	out->write(out->priv, text, len);
	free(text);
}

void md_printf(struct md_output *out, const char *fmt, ...)
{
	va_list ap;

	if (out->json)
		return;
	va_start(ap, fmt);
	vwrite_text(out, fmt, ap);
	va_end(ap);
}

static void warn_string(struct md_output *out, const char *msg)
{
	if (!out->json) {	/* one line: what scripts grep for */
		md_printf(out, "memdiag: %s\n", msg);
		return;
	}
	if (!out->warnings) {
		out->warnings = md_json_array();
		md_json_object_add(md_output_doc(out), "warnings", out->warnings);
	}
	md_json_array_add(out->warnings, md_json_string(msg));
}

/* fmt's text, malloc'ed; NULL when out of memory. */
static char *vformat(const char *fmt, va_list ap)
{
	char *text;

	return vasprintf(&text, fmt, ap) < 0 ? NULL : text;
}

void md_warn(struct md_output *out, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	if (msg)
		warn_string(out, msg);
	free(msg);
}

void md_warn_error(struct md_output *out, struct md_error *err)
{
	char *msg = md_error_string(err);

	warn_string(out, msg ? msg : "out of memory");
	free(msg);
	md_error_destroy(err);
}

struct md_json *md_output_doc(struct md_output *out)
{
	if (!out->doc)
		out->doc = md_json_object();
	return out->doc;
}

struct md_json *md_json_address(uint64_t addr)
{
	char buf[24];

	if (!addr)
		return NULL;
	snprintf(buf, sizeof(buf), "0x%016" PRIx64, addr);
	return md_json_string(buf);
}

void md_json_envelope(struct md_json *doc, const char *command, const char *release,
		      const char *build_id)
{
	struct md_json *kernel = md_json_object();

	md_json_object_add(doc, "command", md_json_string(command));
	md_json_object_add(doc, "schema_version", md_json_int64(MD_JSON_SCHEMA_VERSION));
	md_json_object_add(doc, "memdiag_version", md_json_string(md_version));
	md_json_object_add(kernel, "release", release && *release ? md_json_string(release) : NULL);
	md_json_object_add(kernel, "build_id", build_id && *build_id ? md_json_string(build_id) : NULL);
	md_json_object_add(doc, "kernel", kernel);
}

void md_output_begin(struct md_output *out, const char *command)
{
	md_output_end(out);
	if (out->json)
		md_json_object_add(md_output_doc(out), "command", md_json_string(command));
}

void md_output_end(struct md_output *out)
{
	if (out->doc) {
		char *text = md_json_to_string(out->doc, 0);

		if (text) {
			out->write(out->priv, text, strlen(text));
			out->write(out->priv, "\n", 1);
		}
		free(text);
		md_json_put(out->doc);
	}
	out->doc = NULL;
	out->warnings = NULL;
}

const char *md_human_bytes(uint64_t bytes, char buf[32])
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

const char *md_count(uint64_t n, char buf[32])
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%" PRIu64, n), j = 0;

	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = digits[i];
	}
	buf[j] = '\0';
	return buf;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void md_progress(struct md_output *out, const char *fmt, ...)
{
	double now;
	va_list ap;

	if (!isatty(STDERR_FILENO))
		return;
	now = now_seconds();
	if (out->progress_at && now - out->progress_at < 0.25)
		return;
	out->progress_at = now;
	fputs("\rmemdiag: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);	/* erase the rest of the old line */
	fflush(stderr);
}

void md_progress_rate(struct md_output *out, const char *what, const char *unit, uint64_t done,
		      uint64_t total, double *started)
{
	double now, rate;
	char a[32], b[32], c[32], left[32] = "";

	if (!isatty(STDERR_FILENO))
		return;
	now = now_seconds();
	if (!*started) {
		*started = now;
		return;
	}
	rate = now > *started ? done / (now - *started) : 0;
	if (rate > 0 && total > done)
		snprintf(left, sizeof(left), ", %.0f s left", (total - done) / rate);
	md_progress(out, "%s: %s of %s %s, %s/s%s", what, md_count(done, a), md_count(total, b), unit,
		    md_count((uint64_t)rate, c), left);
}

void md_progress_done(struct md_output *out)
{
	if (!out->progress_at)
		return;
	out->progress_at = 0;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

struct md_json *md_json_strings(char **list, size_t n)
{
	struct md_json *a = md_json_array();

	for (size_t i = 0; i < n; i++)
		md_json_array_add(a, md_json_string(list[i]));
	return a;
}

struct md_json *md_json_verdict(const char *kind, const char *text, const char *next)
{
	struct md_json *o = md_json_object();

	md_json_object_add(o, "kind", md_json_string(kind));
	md_json_object_add(o, "text", md_json_string(text ? text : "(out of memory)"));
	md_json_object_add(o, "next", md_json_string(next));
	return o;
}

int md_wrap(const char *text, int first, int next, md_wrap_fn *line, void *priv)
{
	char *buf = malloc(strlen(text) + 1);
	const char *p = text;
	int len = 0, width = first, lines = 0;

	if (!buf)
		return -1;
	while (*p) {
		const char *end;

		while (*p == ' ')
			p++;
		for (end = p; *end && *end != ' '; end++)
			;
		if (end == p)
			break;
		if (end - p > (len ? next : width)) {
			/* too long for any line (the kernel's "oom-kill:a=b,c=d,..."):
			 * broken after the last comma that fits */
			int room = len ? width - len - 1 : width;
			const char *comma = NULL;

			for (const char *c = p; c < end && c - p < room; c++)
				if (*c == ',')
					comma = c;
			if (comma) {
				if (len)
					buf[len++] = ' ';
				memcpy(buf + len, p, comma + 1 - p);
				line(priv, buf, len + (comma + 1 - p));
				lines++;
				len = 0;
				width = next;
				p = comma + 1;
				continue;
			}
		}
		if (len && len + 1 + (end - p) > width) {
			line(priv, buf, len);
			lines++;
			len = 0;
			width = next;
		}
		if (len)
			buf[len++] = ' ';
		memcpy(buf + len, p, end - p);
		len += end - p;
		p = end;
	}
	if (len || !lines) {
		line(priv, buf, len);
		lines++;
	}
	free(buf);
	return lines;
}

struct wrapped {
	struct md_output *out;
	const char *prefix;	/* the first line's, in place of indent */
	int hang;
	bool more;
};

static void wrapped_line(void *priv, const char *text, int len)
{
	struct wrapped *w = priv;

	if (w->more)
		md_printf(w->out, "%*s%.*s\n", len ? w->hang : 0, "", len, text);
	else
		md_printf(w->out, "%s%.*s\n", len ? w->prefix : "", len, text);
	w->more = true;
}

void md_print_wrapped_after(struct md_output *out, const char *prefix, int hang, const char *text)
{
	struct wrapped w = { out, prefix, hang, false };
	int first = MD_COLUMNS - (int)strlen(prefix);

	if (out->wide ||	/* one line, as long as it is */
	    md_wrap(text, first > 16 ? first : 16, MD_COLUMNS - hang, wrapped_line, &w) < 0)
		md_printf(out, "%s%s\n", prefix, text);
}

void md_print_wrapped(struct md_output *out, int indent, int hang, const char *text)
{
	char prefix[MD_COLUMNS + 1];

	snprintf(prefix, sizeof(prefix), "%*s", indent < MD_COLUMNS ? indent : MD_COLUMNS, "");
	md_print_wrapped_after(out, prefix, hang, text);
}

void md_print_problem(struct md_output *out, int indent, const char *fmt, ...)
{
	char prefix[MD_COLUMNS + 3], *text;
	va_list ap;

	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	snprintf(prefix, sizeof(prefix), "%*s! ", indent < MD_COLUMNS ? indent : MD_COLUMNS, "");
	md_print_wrapped_after(out, prefix, indent + 2, text ? text : "(out of memory)");
	free(text);
}

const char *md_bar(uint64_t value, uint64_t max, int width, char buf[64])
{
	int n = max ? (int)((double)value * width / max + 0.5) : 0;

	if (width > 63)
		width = 63;
	if (n > width)
		n = width;
	if (!n && value)
		n = 1;	/* something is there */
	memset(buf, '#', n);
	buf[n] = '\0';
	return buf;
}
