/* Slab snapshots (`snapshot`) and their comparison (`diff`). */
#ifndef MEMDIAG_SNAPSHOT_H
#define MEMDIAG_SNAPSHOT_H

#include "memdiag.h"

/* The `snapshot` command: caches with their top callers and signatures, as JSON. */
struct md_args;
struct md_error *md_cmd_snapshot(struct md_session *s, const struct md_args *a, struct md_output *out);

/* The comparison behind md_diff_run(). */
struct md_error *md_snapshot_diff(const char *old_path, const char *new_path, struct md_output *out);

#endif
