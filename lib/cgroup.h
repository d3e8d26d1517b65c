/* Memory cgroups by their path, as /sys/fs/cgroup shows them. */
#ifndef MEMDIAG_CGROUP_H
#define MEMDIAG_CGROUP_H

#include <stdint.h>

#include "session.h"

/* The struct mem_cgroup at path ("/" is root_mem_cgroup, "/a/b" its child
 * a's child b).  A path no cgroup has is MD_ERR_INVALID, naming the part
 * that is missing and what is there instead. */
struct md_error *md_memcg_by_path(struct md_session *s, const char *path, uint64_t *ret);

#endif
