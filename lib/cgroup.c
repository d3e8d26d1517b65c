/* Memory cgroups by path: from root_mem_cgroup down the css tree, each
 * child named by its cgroup's kernfs node, as kernel/cgroup/cgroup.c
 * cgroup_name() and css_next_child() see them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "list.h"

/* More children than this under one cgroup is a corrupt list. */
#define MAX_CHILDREN 100000

struct css_layout {
	uint64_t memcg_css, css_cgroup, css_sibling, css_children, cgroup_kn, kn_name;
};

static struct md_error *resolve(struct md_session *s, struct css_layout *l)
{
	const struct md_field fields[] = {
		{ "struct mem_cgroup", "css", &l->memcg_css },
		{ "struct cgroup_subsys_state", "cgroup", &l->css_cgroup },
		{ "struct cgroup_subsys_state", "sibling", &l->css_sibling },
		{ "struct cgroup_subsys_state", "children", &l->css_children },
		{ "struct cgroup", "kn", &l->cgroup_kn },
		{ "struct kernfs_node", "name", &l->kn_name },
	};

	return md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]));
}

/* The name of the cgroup of the css at css: its kernfs node's. */
static struct md_error *css_name(struct md_session *s, const struct css_layout *l, uint64_t css,
				 char *buf, size_t len)
{
	uint64_t cgroup, kn, name;
	struct md_error *err;

	if ((err = md_read_u64(s, css + l->css_cgroup, &cgroup)) ||
	    (err = md_read_u64(s, cgroup + l->cgroup_kn, &kn)) ||
	    (err = md_read_u64(s, kn + l->kn_name, &name)) ||
	    (err = md_read_cstring(s, name, buf, len)))
		return md_error_wrap(err, "the name of cgroup_subsys_state 0x%" PRIx64, css);
	return NULL;
}

/* The child of the css at parent named name (0: none; *names gets the
 * names there are, for the message). */
static struct md_error *find_child(struct md_session *s, const struct css_layout *l, uint64_t parent,
				   const char *name, uint64_t *ret, char *names, size_t names_len)
{
	struct md_list children;
	struct md_error *err;
	char child[256];

	*ret = 0;
	names[0] = '\0';
	if ((err = md_list_walk(s, parent + l->css_children, MAX_CHILDREN, &children)))
		return err;
	if (children.broken) {
		err = md_error_wrap(children.broken, "the children of cgroup_subsys_state 0x%" PRIx64, parent);
		children.broken = NULL;
		md_list_release(&children);
		return err;
	}
	for (size_t i = 0; i < children.nr && !*ret; i++) {
		uint64_t css = children.nodes[i] - l->css_sibling;

		if ((err = css_name(s, l, css, child, sizeof(child))))
			break;
		if (!strcmp(child, name))
			*ret = css;
		else if (strlen(names) + strlen(child) + 3 < names_len)
			snprintf(names + strlen(names), names_len - strlen(names), "%s%s", names[0] ? ", " : "",
				 child);
	}
	md_list_release(&children);
	return err;
}

struct md_error *md_memcg_by_path(struct md_session *s, const char *path, uint64_t *ret)
{
	struct css_layout l;
	uint64_t root, css;
	struct md_error *err;
	char *copy, *part, *save, names[512], at[1024] = "";

	if ((err = resolve(s, &l)) || (err = md_symbol(s, "root_mem_cgroup", &root)) ||
	    (err = md_read_u64(s, root, &root)))
		return md_error_wrap(err, "memory cgroups (CONFIG_MEMCG)");
	if (!root)
		return md_error_create(MD_ERR_INVALID, "root_mem_cgroup is NULL: memory cgroups are off");
	if (!(copy = strdup(path)))
		return md_error_nomem();
	css = root + l.memcg_css;
	for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		uint64_t child;

		if ((err = find_child(s, &l, css, part, &child, names, sizeof(names))))
			break;
		if (!child) {
			err = md_error_create(MD_ERR_INVALID, "no memory cgroup '%s' in '%s' (there: %s)", part,
					      at[0] ? at : "/", names[0] ? names : "none");
			break;
		}
		snprintf(at + strlen(at), sizeof(at) - strlen(at), "/%s", part);
		css = child;
	}
	free(copy);
	if (!err)
		*ret = css - l.memcg_css;
	return err;
}
