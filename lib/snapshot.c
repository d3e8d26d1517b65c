/* Snapshots of the slab state and their comparison: the post-mortem form of
 * watching /proc/slabinfo's active_objs climb between samples.
 *
 *   memdiag VMLINUX VMCORE snapshot > old.json     (and later new.json)
 *   memdiag diff old.json new.json
 *
 * A snapshot holds, per cache, its allocated objects and memory and its
 * largest allocation callers and content signatures (lib/slableak.c); the
 * diff ranks caches by growth in memory, then (cache, source) pairs by
 * growth in objects.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "output.h"
#include "slableak.h"
#include "snapshot.h"

/* 2: a cache's memory is "memory_bytes" (schema 2's units); 1, its
 * "bytes", is still read. */
#define SNAPSHOT_FORMAT "memdiag-snapshot-2"
#define SNAPSHOT_FORMAT_1 "memdiag-snapshot-1"
#define SOURCES_PER_CACHE 20	/* callers and signatures kept per cache */
#define DIFF_ROWS 15

static struct md_json *sources_json(const struct md_leak_suspect *v, size_t n,
				    const char *key)
{
	struct md_json *a = md_json_array();

	for (size_t i = 0; i < n && i < SOURCES_PER_CACHE; i++) {
		struct md_json *o = md_json_object();

		md_json_object_add(o, key, md_json_string(v[i].what));
		md_json_object_add(o, "objects", md_json_int64(v[i].objects));
		md_json_array_add(a, o);
	}
	return a;
}

static struct md_error *take_snapshot(struct md_session *s, struct md_json *doc)
{
	struct md_json *caches = md_json_array();
	struct md_slab_state *st;
	struct md_error *err;

	if ((err = md_slab_walk(s, &st))) {
		md_json_put(caches);
		return err;
	}
	for (size_t i = 0; i < st->nr_caches; i++) {
		struct md_slab_cache *c = &st->caches[i];
		struct md_json *o = md_json_object();
		struct md_leak_report *r = NULL;
		char **errors = NULL;
		size_t nr_errors = 0;

		md_json_object_add(o, "name", md_json_string(c->name));
		md_json_object_add(o, "allocated", md_json_int64(c->allocated));
		md_json_object_add(o, "memory_bytes", md_json_int64(c->bytes));
		md_json_object_add(o, "reclaimable", md_json_bool(c->reclaimable));
		if (!c->unreadable && c->allocated) {
			err = md_leak_analyze(s, NULL, c, NULL, &r);
			if (err && (md_error_root_code(err) == MD_ERR_INTERRUPTED ||
				    md_error_root_code(err) == MD_ERR_NOMEM)) {
				md_json_put(o);
				md_json_put(caches);
				return err;
			}
			if (err)	/* the cache's figures stand, with why its sources do not */
				md_messages_add_error(&errors, &nr_errors,
						      md_error_wrap(err, "its allocation sources"));
		}
		if (r) {
			md_json_object_add(o, "callers", sources_json(r->callers, r->nr_callers, "caller"));
			md_json_object_add(o, "signatures",
					   sources_json(r->signatures, r->nr_signatures, "signature"));
			for (size_t j = 0; j < r->nr_errors; j++)
				md_messages_add(&errors, &nr_errors, "%s", r->errors[j]);
			md_leak_report_destroy(r);
		}
		/* what could not be read: a diff of such a cache is to be doubted */
		for (size_t j = 0; j < c->nr_errors; j++)
			md_messages_add(&errors, &nr_errors, "%s", c->errors[j]);
		if (nr_errors)
			md_json_object_add(o, "errors", md_json_strings(errors, nr_errors));
		md_messages_free(errors, nr_errors);
		md_json_array_add(caches, o);
	}
	md_json_object_add(doc, "format", md_json_string(SNAPSHOT_FORMAT));
	md_json_object_add(doc, "release", md_json_string(s->kernel.release));
	md_json_object_add(doc, "caches", caches);
	return NULL;
}

struct md_error *md_cmd_snapshot(struct md_session *s, const struct md_args *a, struct md_output *out)
{
	struct md_json *doc;
	struct md_error *err;
	char *text;

	if (md_output_is_json(out))
		return take_snapshot(s, md_output_doc(out));
	/* A snapshot is JSON whatever the output mode: it is meant for a file. */
	doc = md_json_object();
	md_json_envelope(doc, "snapshot", s->kernel.release, s->kernel.build_id);
	/* '/' escaped as "\/" here (not in --json output): as snapshot files
	 * have always been written, byte for byte. */
	if (!(err = take_snapshot(s, doc))) {
		if ((text = md_json_to_string(doc, MD_JSON_ESCAPE_SLASH)))
			md_printf(out, "%s\n", text);
		else
			err = md_error_create(MD_ERR_NOMEM, "out of memory");
		free(text);
	}
	md_json_put(doc);
	return err;
}

/* ------------------------------------------------------------------ diff */

static int64_t get_int(struct md_json *o, const char *key)
{
	struct md_json *v;

	return md_json_object_get(o, key, &v) ? md_json_get_int64(v) : 0;
}

static const char *get_string(struct md_json *o, const char *key)
{
	struct md_json *v;

	return md_json_object_get(o, key, &v) && md_json_type(v) == MD_JSON_STRING ?
	       md_json_get_string(v) : NULL;
}

static struct md_json *find_named(struct md_json *array, const char *key, const char *name)
{
	size_t n = array ? md_json_array_length(array) : 0;

	for (size_t i = 0; i < n; i++) {
		struct md_json *o = md_json_array_get(array, i);
		const char *v = get_string(o, key);

		if (v && !strcmp(v, name))
			return o;
	}
	return NULL;
}

static struct md_json *get_array(struct md_json *o, const char *key)
{
	struct md_json *v;

	return md_json_object_get(o, key, &v) && md_json_type(v) == MD_JSON_ARRAY ?
	       v : NULL;
}

struct growth {
	const char *cache, *source, *kind;
	int64_t old_value, new_value;
};

static int compare_growth(const void *a, const void *b)
{
	const struct growth *x = a, *y = b;
	int64_t dx = x->new_value - x->old_value, dy = y->new_value - y->old_value;

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->cache, y->cache);
}

static struct md_error *load_snapshot(const char *path, struct md_json **ret)
{
	char why[256];
	struct md_json *doc = md_json_parse_file(path, why, sizeof(why));
	const char *format;

	if (!doc)
		return md_error_create(MD_ERR_FORMAT, "%s: not a JSON file (%s)", path, why);
	format = get_string(doc, "format");
	if (!format || (strcmp(format, SNAPSHOT_FORMAT) && strcmp(format, SNAPSHOT_FORMAT_1)) ||
	    !get_array(doc, "caches")) {
		md_json_put(doc);
		return md_error_create(MD_ERR_FORMAT, "%s: not a memdiag snapshot "
				       "(make one with: memdiag VMLINUX VMCORE snapshot > FILE)", path);
	}
	*ret = doc;
	return NULL;
}

/* Growth of every source (callers, then signatures) of one cache. */
static size_t source_growth(struct md_json *old_cache, struct md_json *new_cache,
			    const char *name, const char *list, const char *key, struct growth *out)
{
	struct md_json *now = get_array(new_cache, list), *before = get_array(old_cache, list);
	size_t n = now ? md_json_array_length(now) : 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		struct md_json *o = md_json_array_get(now, i);
		const char *what = get_string(o, key);
		struct md_json *was = what ? find_named(before, key, what) : NULL;

		if (!what)
			continue;
		out[k++] = (struct growth){ name, what, key, was ? get_int(was, "objects") : 0,
					    get_int(o, "objects") };
	}
	return k;
}

struct md_error *md_snapshot_diff(const char *old_path, const char *new_path, struct md_output *out)
{
	struct md_json *old_doc = NULL, *new_doc = NULL, *old_caches, *new_caches;
	struct growth *caches = NULL, *sources = NULL;
	size_t nc = 0, ns = 0, n;
	struct md_error *err;
	char b1[32], b2[32], b3[32];
	const char *old_key, *new_key;	/* a cache's memory, by the file's format */

	if ((err = load_snapshot(old_path, &old_doc)) || (err = load_snapshot(new_path, &new_doc)))
		goto out;
	old_key = strcmp(get_string(old_doc, "format"), SNAPSHOT_FORMAT_1) ? "memory_bytes" : "bytes";
	new_key = strcmp(get_string(new_doc, "format"), SNAPSHOT_FORMAT_1) ? "memory_bytes" : "bytes";
	old_caches = get_array(old_doc, "caches");
	new_caches = get_array(new_doc, "caches");
	n = md_json_array_length(new_caches);
	caches = calloc(n ? n : 1, sizeof(*caches));
	sources = calloc(n ? 2 * n * SOURCES_PER_CACHE : 1, sizeof(*sources));
	if (!caches || !sources) {
		err = md_error_create(MD_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct md_json *c = md_json_array_get(new_caches, i);
		const char *name = get_string(c, "name");
		struct md_json *was;

		if (!name)
			continue;
		was = find_named(old_caches, "name", name);
		caches[nc++] = (struct growth){ name, NULL, "cache", was ? get_int(was, old_key) : 0,
						get_int(c, new_key) };
		ns += source_growth(was, c, name, "callers", "caller", sources + ns);
		ns += source_growth(was, c, name, "signatures", "signature", sources + ns);
	}
	qsort(caches, nc, sizeof(*caches), compare_growth);
	qsort(sources, ns, sizeof(*sources), compare_growth);
	if (md_output_is_json(out)) {
		struct md_json *doc = md_output_doc(out);
		struct md_json *jc = md_json_array(), *js = md_json_array();

		for (size_t i = 0; i < nc; i++) {
			struct md_json *o = md_json_object();

			md_json_object_add(o, "cache", md_json_string(caches[i].cache));
			md_json_object_add(o, "old_memory_bytes", md_json_int64(caches[i].old_value));
			md_json_object_add(o, "new_memory_bytes", md_json_int64(caches[i].new_value));
			md_json_array_add(jc, o);
		}
		for (size_t i = 0; i < ns; i++) {
			struct md_json *o = md_json_object();

			md_json_object_add(o, "cache", md_json_string(sources[i].cache));
			md_json_object_add(o, sources[i].kind, md_json_string(sources[i].source));
			md_json_object_add(o, "old_objects", md_json_int64(sources[i].old_value));
			md_json_object_add(o, "new_objects", md_json_int64(sources[i].new_value));
			md_json_array_add(js, o);
		}
		md_json_object_add(doc, "caches", jc);
		md_json_object_add(doc, "sources", js);
	} else {
		md_printf(out, "caches by growth in memory (%s -> %s):\n", old_path, new_path);
		md_printf(out, "  %12s %12s %12s  CACHE\n", "OLD", "NEW", "GROWTH");
		/* rows that did not change say nothing: the text leaves them out */
		for (size_t i = 0, shown = 0; i < nc && shown < DIFF_ROWS; i++) {
			int64_t d = caches[i].new_value - caches[i].old_value;

			if (!d)
				continue;
			shown++;
			md_printf(out, "  %12s %12s %s%11s  %s\n", md_human_bytes(caches[i].old_value, b1),
				  md_human_bytes(caches[i].new_value, b2), d < 0 ? "-" : "+",
				  md_human_bytes(d < 0 ? -d : d, b3), caches[i].cache);
		}
		md_printf(out, "\nallocation sources by growth in objects:\n");
		md_printf(out, "  %10s %10s %10s  %-18s SOURCE\n", "OLD", "NEW", "GROWTH", "CACHE");
		for (size_t i = 0, shown = 0; i < ns && shown < DIFF_ROWS; i++) {
			if (sources[i].new_value == sources[i].old_value)
				continue;
			shown++;
			md_printf(out, "  %10" PRId64 " %10" PRId64 " %+10" PRId64 "  %-18s %s: %s\n",
				  sources[i].old_value, sources[i].new_value,
				  sources[i].new_value - sources[i].old_value, sources[i].cache,
				  sources[i].kind, sources[i].source);
		}
	}
out:
	free(caches);
	free(sources);
	md_json_put(old_doc);
	md_json_put(new_doc);
	return err;
}
