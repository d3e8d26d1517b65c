/* The `memdiag` command: where the memory went, and what to run next. */
#ifndef MEMDIAG_SUMMARY_H
#define MEMDIAG_SUMMARY_H

#include "session.h"

struct md_output;
struct md_args;
struct md_error *md_cmd_memdiag(struct md_session *s, const struct md_args *a, struct md_output *out);

#endif
