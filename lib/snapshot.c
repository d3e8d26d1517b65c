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

#include "output.h"
#include "slableak.h"
#include "snapshot.h"

#define SNAPSHOT_FORMAT "memdiag-snapshot-1"
#define SOURCES_PER_CACHE 20	/* callers and signatures kept per cache */
#define DIFF_ROWS 15

static struct json_object *sources_json(const struct md_leak_suspect *v, size_t n,
					const char *key)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n && i < SOURCES_PER_CACHE; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, key, json_object_new_string(v[i].what));
		json_object_object_add(o, "objects", json_object_new_int64(v[i].objects));
		json_object_array_add(a, o);
	}
	return a;
}

static struct md_error *take_snapshot(struct md_session *s, struct json_object *doc)
{
	struct json_object *caches = json_object_new_array();
	struct md_slab_state *st;
	struct md_error *err;
	char release[128] = "";

	if ((err = md_slab_walk(s, &st))) {
		json_object_put(caches);
		return err;
	}
	err = s->target.ops->vmcoreinfo(s->target.priv, "OSRELEASE", release, sizeof(release));
	md_error_destroy(err);
	for (size_t i = 0; i < st->nr_caches; i++) {
		struct md_slab_cache *c = &st->caches[i];
		struct json_object *o = json_object_new_object();
		struct md_leak_report *r = NULL;

		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "allocated", json_object_new_int64(c->allocated));
		json_object_object_add(o, "bytes", json_object_new_int64(c->bytes));
		json_object_object_add(o, "reclaimable", json_object_new_boolean(c->reclaimable));
		if (!c->unreadable && c->allocated) {
			err = md_leak_analyze(s, c, NULL, &r);
			if (err && (md_error_root_code(err) == MD_ERR_INTERRUPTED ||
				    md_error_root_code(err) == MD_ERR_NOMEM)) {
				json_object_put(o);
				json_object_put(caches);
				return err;
			}
			md_error_destroy(err);
		}
		if (r) {
			json_object_object_add(o, "callers", sources_json(r->callers, r->nr_callers, "caller"));
			json_object_object_add(o, "signatures",
					       sources_json(r->signatures, r->nr_signatures, "signature"));
			md_leak_report_destroy(r);
		}
		json_object_array_add(caches, o);
	}
	json_object_object_add(doc, "format", json_object_new_string(SNAPSHOT_FORMAT));
	json_object_object_add(doc, "release", json_object_new_string(release));
	json_object_object_add(doc, "caches", caches);
	return NULL;
}

struct md_error *md_cmd_snapshot(struct md_session *s, int argc, char **argv, struct md_output *out)
{
	struct json_object *doc;
	struct md_error *err;

	if (argc > 1)
		return md_error_create(MD_ERR_INVALID, "snapshot: takes no arguments");
	if (md_output_is_json(out))
		return take_snapshot(s, md_output_doc(out));
	/* A snapshot is JSON whatever the output mode: it is meant for a file. */
	doc = json_object_new_object();
	json_object_object_add(doc, "command", json_object_new_string("snapshot"));
	if (!(err = take_snapshot(s, doc)))
		md_printf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
	json_object_put(doc);
	return err;
}

/* ------------------------------------------------------------------ diff */

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *get_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static struct json_object *find_named(struct json_object *array, const char *key, const char *name)
{
	size_t n = array ? json_object_array_length(array) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(array, i);
		const char *v = get_string(o, key);

		if (v && !strcmp(v, name))
			return o;
	}
	return NULL;
}

static struct json_object *get_array(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ?
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

static struct md_error *load_snapshot(const char *path, struct json_object **ret)
{
	struct json_object *doc = json_object_from_file(path);
	const char *format;

	if (!doc) {
		const char *why = json_util_get_last_err();
		size_t n = why ? strcspn(why, "\n") : 0;

		return md_error_create(MD_ERR_FORMAT, "%s: not a JSON file (%.*s)", path, (int)n,
				       why ? why : "");
	}
	format = get_string(doc, "format");
	if (!format || strcmp(format, SNAPSHOT_FORMAT) || !get_array(doc, "caches")) {
		json_object_put(doc);
		return md_error_create(MD_ERR_FORMAT, "%s: not a memdiag snapshot "
				       "(make one with: memdiag VMLINUX VMCORE snapshot > FILE)", path);
	}
	*ret = doc;
	return NULL;
}

/* Growth of every source (callers, then signatures) of one cache. */
static size_t source_growth(struct json_object *old_cache, struct json_object *new_cache,
			    const char *name, const char *list, const char *key, struct growth *out)
{
	struct json_object *now = get_array(new_cache, list), *before = get_array(old_cache, list);
	size_t n = now ? json_object_array_length(now) : 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(now, i);
		const char *what = get_string(o, key);
		struct json_object *was = what ? find_named(before, key, what) : NULL;

		if (!what)
			continue;
		out[k++] = (struct growth){ name, what, key, was ? get_int(was, "objects") : 0,
					    get_int(o, "objects") };
	}
	return k;
}

struct md_error *md_snapshot_diff(const char *old_path, const char *new_path, struct md_output *out)
{
	struct json_object *old_doc = NULL, *new_doc = NULL, *old_caches, *new_caches;
	struct growth *caches = NULL, *sources = NULL;
	size_t nc = 0, ns = 0, n;
	struct md_error *err;
	char b1[32], b2[32], b3[32];

	if ((err = load_snapshot(old_path, &old_doc)) || (err = load_snapshot(new_path, &new_doc)))
		goto out;
	old_caches = get_array(old_doc, "caches");
	new_caches = get_array(new_doc, "caches");
	n = json_object_array_length(new_caches);
	caches = calloc(n ? n : 1, sizeof(*caches));
	sources = calloc(n ? 2 * n * SOURCES_PER_CACHE : 1, sizeof(*sources));
	if (!caches || !sources) {
		err = md_error_create(MD_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(new_caches, i);
		const char *name = get_string(c, "name");
		struct json_object *was;

		if (!name)
			continue;
		was = find_named(old_caches, "name", name);
		caches[nc++] = (struct growth){ name, NULL, "cache", was ? get_int(was, "bytes") : 0,
						get_int(c, "bytes") };
		ns += source_growth(was, c, name, "callers", "caller", sources + ns);
		ns += source_growth(was, c, name, "signatures", "signature", sources + ns);
	}
	qsort(caches, nc, sizeof(*caches), compare_growth);
	qsort(sources, ns, sizeof(*sources), compare_growth);
	if (md_output_is_json(out)) {
		struct json_object *doc = md_output_doc(out);
		struct json_object *jc = json_object_new_array(), *js = json_object_new_array();

		for (size_t i = 0; i < nc; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "cache", json_object_new_string(caches[i].cache));
			json_object_object_add(o, "old_bytes", json_object_new_int64(caches[i].old_value));
			json_object_object_add(o, "new_bytes", json_object_new_int64(caches[i].new_value));
			json_object_array_add(jc, o);
		}
		for (size_t i = 0; i < ns; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "cache", json_object_new_string(sources[i].cache));
			json_object_object_add(o, sources[i].kind, json_object_new_string(sources[i].source));
			json_object_object_add(o, "old_objects", json_object_new_int64(sources[i].old_value));
			json_object_object_add(o, "new_objects", json_object_new_int64(sources[i].new_value));
			json_object_array_add(js, o);
		}
		json_object_object_add(doc, "caches", jc);
		json_object_object_add(doc, "sources", js);
	} else {
		md_printf(out, "caches by growth in memory (%s -> %s):\n", old_path, new_path);
		md_printf(out, "  %12s %12s %12s  CACHE\n", "OLD", "NEW", "GROWTH");
		for (size_t i = 0; i < nc && i < DIFF_ROWS; i++) {
			int64_t d = caches[i].new_value - caches[i].old_value;

			md_printf(out, "  %12s %12s %s%11s  %s\n", md_human_bytes(caches[i].old_value, b1),
				  md_human_bytes(caches[i].new_value, b2), d < 0 ? "-" : "+",
				  md_human_bytes(d < 0 ? -d : d, b3), caches[i].cache);
		}
		md_printf(out, "\nallocation sources by growth in objects:\n");
		md_printf(out, "  %10s %10s %10s  %-18s SOURCE\n", "OLD", "NEW", "GROWTH", "CACHE");
		for (size_t i = 0; i < ns && i < DIFF_ROWS; i++)
			md_printf(out, "  %10" PRId64 " %10" PRId64 " %+10" PRId64 "  %-18s %s: %s\n",
				  sources[i].old_value, sources[i].new_value,
				  sources[i].new_value - sources[i].old_value, sources[i].cache,
				  sources[i].kind, sources[i].source);
	}
out:
	free(caches);
	free(sources);
	json_object_put(old_doc);
	json_object_put(new_doc);
	return err;
}
