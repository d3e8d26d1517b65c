/* The OOM killer's state in a dump: every process's badness as
 * mm/oom_kill.c would score it, the victims, any struct oom_control in
 * flight on a kernel stack, and the last OOM report in the kernel log. */
#ifndef MEMDIAG_OOM_H
#define MEMDIAG_OOM_H

#include <stdbool.h>
#include <stdint.h>

#include "tasks.h"

#define MD_OOM_POINTS_MIN INT64_MIN	/* LONG_MIN: never chosen */
#define MD_OOM_POINTS_MAX INT64_MAX	/* LONG_MAX: oom_task_origin() */

/* A process as select_bad_process() sees it. */
struct md_oom_score {
	const struct md_task *task;	/* the thread-group leader */
	const struct md_task *mm_task;	/* find_lock_task_mm(): a thread with an mm, or NULL */
	int64_t points;			/* oom_badness() or one of the limits above */
	const char *why_not;		/* why points is LONG_MIN, or NULL */
	unsigned int rank;		/* 1: the task select_bad_process() would choose; 0: none */
	uint64_t oom_mm_flags;		/* signal->oom_mm's flags, for victims */
	bool tif_memdie;		/* TIF_MEMDIE on the leader (x86 until it goes) */
};

/* A struct oom_control found on a kernel stack. */
struct md_oom_control {
	uint64_t address;
	const struct md_task *owner;	/* whose stack it is on */
	bool dead_frame;		/* below the task's saved stack pointer: stale */
	uint64_t zonelist, nodemask, memcg;
	uint32_t gfp_mask;
	char gfp_flags[256];		/* as the kernel prints it: "GFP_KERNEL|__GFP_ZERO" */
	int32_t order;
	uint64_t totalpages, chosen;
	int64_t chosen_points;
	int32_t constraint;
	const struct md_task *chosen_task;	/* chosen on the task list, or NULL */
	int64_t chosen_badness;		/* recomputed with this totalpages; valid if chosen_task */
	char **notes;			/* what its state means */
	size_t nr_notes;
	char **anomalies;		/* what cannot be right */
	size_t nr_anomalies;
};

/* One row of the kernel's dump_tasks() table, by its own column names. */
struct md_oom_report_row {
	int64_t pid, uid, tgid, total_vm, rss, rss_anon, rss_file, rss_shmem;
	int64_t pgtables_bytes, swapents, oom_score_adj;	/* -1: column absent */
	char name[64];
};

/* The last OOM report in the kernel log. */
struct md_oom_report {
	char *header;			/* "... invoked oom-killer: gfp_mask=..." */
	uint64_t ts_nsec;
	char *constraint_line;		/* "oom-kill:constraint=..." or NULL */
	char *outcome;			/* "Out of memory: Killed process ..." or the panic, or NULL */
	struct md_oom_report_row *rows;
	size_t nr_rows;
	bool has_split_rss;		/* rss_anon/rss_file/rss_shmem columns (6.4+) */
};

struct md_oom {
	struct md_tasks *tasks;		/* the session's */
	uint64_t totalram, total_swap;	/* pages */
	uint64_t totalpages;		/* as constrained_alloc(): RAM + swap, or the memcg's limit */
	uint64_t memcg;			/* -m: the struct mem_cgroup, 0 for the whole machine */
	int64_t panic_on_oom;		/* sysctl_panic_on_oom, -1 if unreadable */
	int64_t oom_victims;		/* atomic oom_victims, -1 if unreadable */
	uint64_t oom_lock_owner;	/* the task holding oom_lock, 0 if free */
	struct md_oom_score *scores;	/* every process, select_bad_process()'s order */
	size_t nr_scores;
	const struct md_task **reaper_list;	/* oom_reaper_list, first to be reaped first */
	size_t nr_reaper_list;
	struct md_oom_control *controls;
	size_t nr_controls;
	size_t nr_stacks_unread;	/* kernel stacks not scanned for them */
	struct md_oom_report *report;	/* NULL if the log holds none */
	bool rss_sums;			/* the OOM killer reads get_mm_counter_sum() (lib/oom.c) */
	char **errors;			/* problems met; the rest is still shown */
	size_t nr_errors;
};

/* memcg: a struct mem_cgroup address, or 0 for a global OOM. */
struct md_error *md_oom_read(struct md_session *s, uint64_t memcg, struct md_oom **ret);
void md_oom_destroy(struct md_oom *o);

/* Whether the OOM killer was at work when the dump was taken, and the
 * evidence in one line (for the summary). */
bool md_oom_in_progress(const struct md_oom *o, char *why, size_t len);

/* The `oomstate` command. */
struct md_output;
struct md_args;
struct md_error *md_cmd_oomstate(struct md_session *s, const struct md_args *a, struct md_output *out);

#endif
