/* The dentry cache by what holds it.  fs/dcache.c: a dentry whose
 * d_lockref.count is 0 sits on its superblock's LRU, and the shrinker
 * (prune_dcache_sb(), dentry_lru_isolate()) or drop_caches frees it; one
 * with a count is in use: an open file, a cwd, a mount point, or a file on
 * tmpfs, which mm/shmem.c shmem_mknod() pins with an extra dget() until it
 * is unlinked. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcache.h"
#include "array.h"
#include "error.h"
#include "output.h"

struct dcache_layout {
	uint64_t d_lockref, lockref_count, d_inode, d_sb, s_type, fs_name;
};

/* A superblock and its filesystem type, read once. */
struct sb_name {
	uint64_t sb;
	size_t fs;		/* index into walk.all, or SIZE_MAX: unread */
};

struct md_dcache_walk {
	struct md_session *s;
	struct dcache_layout l;
	struct md_dcache_census *d;
	struct sb_name *sbs;
	size_t nr_sbs, cap_sbs;
	struct md_dcache_fs *all;	/* every type seen, sorted at the end */
	size_t nr_all, cap_all;
};

static struct md_error *resolve(struct md_session *s, struct dcache_layout *l)
{
	const struct md_field fields[] = {
		{ "struct dentry", "d_lockref", &l->d_lockref },
		{ "struct lockref", "count", &l->lockref_count },
		{ "struct dentry", "d_inode", &l->d_inode },
		{ "struct dentry", "d_sb", &l->d_sb },
		{ "struct super_block", "s_type", &l->s_type },
		{ "struct file_system_type", "name", &l->fs_name },
	};

	return md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]));
}

/* *ret: the index in w->all of the type of superblock sb, or SIZE_MAX when
 * it cannot be read (said once per superblock; counted "elsewhere"). */
static struct md_error *fs_of(struct md_dcache_walk *w, uint64_t sb, size_t *ret)
{
	struct sb_name *n;
	struct md_error *err;
	uint64_t type, name;
	char buf[32];
	size_t i;

	for (i = 0; i < w->nr_sbs; i++)
		if (w->sbs[i].sb == sb) {
			*ret = w->sbs[i].fs;
			return NULL;
		}
	if (!md_array_reserve(&w->sbs, &w->cap_sbs, w->nr_sbs, sizeof(*w->sbs), 16))
		return md_error_nomem();
	n = &w->sbs[w->nr_sbs++];
	n->sb = sb;
	n->fs = *ret = SIZE_MAX;
	if ((err = md_read_u64(w->s, sb + w->l.s_type, &type)) ||
	    (err = md_read_u64(w->s, type + w->l.fs_name, &name)) ||
	    (err = md_read_cstring(w->s, name, buf, sizeof(buf)))) {
		md_messages_add_error(&w->d->errors, &w->d->nr_errors,
				      md_error_wrap(err, "the filesystem type of super_block 0x%" PRIx64, sb));
		return NULL;
	}
	for (i = 0; i < w->nr_all && strcmp(w->all[i].name, buf); i++)
		;
	if (i == w->nr_all) {
		if (!md_array_reserve(&w->all, &w->cap_all, w->nr_all, sizeof(*w->all), 8))
			return md_error_nomem();
		memset(&w->all[i], 0, sizeof(w->all[i]));
		snprintf(w->all[i].name, sizeof(w->all[i].name), "%s", buf);
		w->nr_all++;
	}
	n->fs = *ret = i;
	return NULL;
}

struct md_error *md_dcache_walk_object(struct md_dcache_walk *w, const unsigned char *obj)
{
	const struct dcache_layout *l = &w->l;
	int32_t count = (int32_t)md_get_u32(obj, l->d_lockref + l->lockref_count);

	w->d->dentries++;
	if (count > 0) {
		struct md_error *err;
		size_t fs = SIZE_MAX;

		if ((err = fs_of(w, md_get_u64(obj, l->d_sb), &fs)))
			return err;
		w->d->in_use++;
		if (fs == SIZE_MAX)
			w->d->other_fs_in_use++;
		else
			w->all[fs].in_use++;
	} else if (md_get_u64(obj, l->d_inode)) {
		w->d->unused++;
	} else {
		w->d->negative++;	/* a dead dentry (count < 0) too: being freed */
	}
	return NULL;
}

static struct md_error *one_dentry(void *arg, const struct md_slab_cache *c, uint64_t addr,
				   const unsigned char *obj, size_t len)
{
	struct md_dcache_walk *w = arg;
	struct md_error *err = md_dcache_walk_object(w, obj);

	if (!err && md_interrupted(w->s))
		err = md_error_create(MD_ERR_INTERRUPTED, "interrupted");
	return err;
}

static int compare_in_use(const void *a, const void *b)
{
	const struct md_dcache_fs *x = a, *y = b;

	return x->in_use < y->in_use ? 1 : x->in_use > y->in_use ? -1 : strcmp(x->name, y->name);
}

struct md_error *md_dcache_is_dentry_cache(struct md_session *s, const struct md_slab_cache *c,
					   bool *ret)
{
	uint64_t size;
	struct md_error *err = md_slab_cache_is(s, c, "dentry_cache", ret);

	if (!err || md_error_root_code(err) != MD_ERR_LOOKUP)
		return err;
	md_error_destroy(err);
	/* fs/dcache.c: later kernels keep the pointer as __dentry_cache
	 * behind runtime_const_ptr() (or the cache itself, a static struct
	 * kmem_cache_opaque), and Debian's 7.2 and 7.3 vmlinux have neither
	 * symbol: then it is the reclaimable cache named "dentry" of struct
	 * dentry's size (dcache_init(): KMEM_CACHE_USERCOPY(dentry, ...)). */
	if (!(err = md_slab_cache_is(s, c, "__dentry_cache", ret)) || md_error_root_code(err) != MD_ERR_LOOKUP)
		return err;
	md_error_destroy(err);
	if ((err = md_type_size(s, "struct dentry", &size)))
		return err;
	*ret = !strcmp(c->name, "dentry") && c->reclaimable && c->object_size == size;
	return NULL;
}

struct md_error *md_dcache_walk_begin(struct md_session *s, const struct md_slab_cache *c,
				      struct md_dcache_walk **ret)
{
	struct md_dcache_walk *w;
	struct md_error *err;

	*ret = NULL;
	if (!(w = calloc(1, sizeof(*w))) || !(w->d = calloc(1, sizeof(*w->d)))) {
		free(w);
		return md_error_nomem();
	}
	w->s = s;
	w->d->slot_size = c->size;
	if ((err = resolve(s, &w->l)))
		goto fail;
	/* read from each object's bytes: the fields must lie in the object */
	if (c->object_size < w->l.d_sb + 8 || c->object_size < w->l.d_inode + 8 ||
	    c->object_size < w->l.d_lockref + w->l.lockref_count + 4) {
		err = md_error_create(MD_ERR_CORRUPT, "%s: objects of %u bytes, smaller than a struct dentry",
				      c->name, c->object_size);
		goto fail;
	}
	*ret = w;
	return NULL;
fail:
	md_dcache_walk_abort(w);
	return md_error_wrap(err, "dentry census");
}

struct md_dcache_census *md_dcache_walk_end(struct md_dcache_walk *w)
{
	struct md_dcache_census *d = w->d;

	if (w->nr_all)
		qsort(w->all, w->nr_all, sizeof(*w->all), compare_in_use);
	for (size_t i = 0; i < w->nr_all; i++) {
		if (!w->all[i].in_use)
			continue;
		if (d->nr_fs < MD_DCACHE_MAX_FS)
			d->fs[d->nr_fs++] = w->all[i];
		else
			d->other_fs_in_use += w->all[i].in_use;
	}
	w->d = NULL;
	md_dcache_walk_abort(w);
	return d;
}

void md_dcache_walk_abort(struct md_dcache_walk *w)
{
	if (!w)
		return;
	md_dcache_census_destroy(w->d);
	free(w->sbs);
	free(w->all);
	free(w);
}

struct md_error *md_dcache_census(struct md_session *s, struct md_slab_cache *c,
				  struct md_dcache_census **ret)
{
	struct md_dcache_walk *w;
	struct md_error *err;

	*ret = NULL;
	if ((err = md_dcache_walk_begin(s, c, &w)))
		return err;
	if ((err = md_slab_for_each_object(s, c, one_dentry, w, &w->d->errors, &w->d->nr_errors))) {
		md_dcache_walk_abort(w);
		return md_error_wrap(err, "dentry census");
	}
	*ret = md_dcache_walk_end(w);
	return NULL;
}

void md_dcache_census_destroy(struct md_dcache_census *d)
{
	if (!d)
		return;
	md_messages_free(d->errors, d->nr_errors);
	free(d);
}

/* Why a filesystem's dentries stay in use where their users do not
 * explain it: a file on tmpfs or ramfs is its dentry (mm/shmem.c
 * shmem_mknod() and fs/ramfs/inode.c ramfs_mknod() take an extra dget()). */
static const char *pinned_by(const char *fs)
{
	if (!strcmp(fs, "tmpfs") || !strcmp(fs, "ramfs") || !strcmp(fs, "devtmpfs"))
		return "pins its dentry until it is deleted";
	return NULL;
}

/* The types named in the text; the rest are "elsewhere". */
#define TEXT_FS 3

char *md_dcache_census_text(const struct md_dcache_census *d)
{
	char a[32], b[32], c[32], m1[32], m2[32], *text = NULL;
	const char *pinning = NULL;
	uint64_t elsewhere = d->other_fs_in_use;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s in use (%s), freed only when their users let go", md_count(d->in_use, a),
		md_human_bytes(d->in_use * d->slot_size, m1));
	for (size_t i = 0; i < d->nr_fs; i++) {
		if (i >= TEXT_FS) {
			elsewhere += d->fs[i].in_use;
			continue;
		}
		fprintf(f, "%s%s on %s", i ? ", " : ": ", md_count(d->fs[i].in_use, a), d->fs[i].name);
		if (!pinning && pinned_by(d->fs[i].name))
			pinning = d->fs[i].name;
	}
	if (elsewhere)
		fprintf(f, "%s%s elsewhere", d->nr_fs ? ", " : ": ", md_count(elsewhere, a));
	if (pinning)
		fprintf(f, " (a file on %s %s)", pinning, pinned_by(pinning));
	fprintf(f, "; %s negative and %s unused (%s), which memory pressure or drop_caches frees",
		md_count(d->negative, b), md_count(d->unused, c),
		md_human_bytes((d->negative + d->unused) * d->slot_size, m2));
	if (d->nr_errors)
		fprintf(f, " (%zu problem%s reading them: slableak dentry lists them)", d->nr_errors,
			d->nr_errors == 1 ? "" : "s");
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
