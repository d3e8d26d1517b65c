/* Tasks: every thread of every thread group, walked from init_task, with
 * the memory of its mm counted the way the kernel counts it. */
#ifndef MEMDIAG_TASKS_H
#define MEMDIAG_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/* The kernel's mm counters (include/linux/mm_types_task.h enum). */
enum md_rss {
	MD_RSS_FILE,	/* MM_FILEPAGES */
	MD_RSS_ANON,	/* MM_ANONPAGES */
	MD_RSS_SWAP,	/* MM_SWAPENTS */
	MD_RSS_SHMEM,	/* MM_SHMEMPAGES */
	MD_RSS_NR,
};

struct md_task {
	uint64_t address;	/* struct task_struct */
	int32_t pid, tgid;
	char comm[16];
	uint64_t flags;		/* task->flags: PF_KTHREAD, PF_EXITING, ... */
	uint64_t exit_state;
	uint64_t mm;		/* 0 for kernel threads and exited tasks */
	uint64_t signal;	/* struct signal_struct */
	uint64_t stack;		/* task->stack: base of the kernel stack */
	uint64_t ksp;		/* thread.sp: saved stack pointer when switched out */
	bool leader;		/* pid == tgid: the thread group's leader */
	bool on_cpu;		/* task->on_cpu: running when the dump was taken */
	int32_t cpu;		/* task_cpu(), -1 if unknown */
	int16_t oom_score_adj;	/* signal->oom_score_adj */
	uint64_t oom_mm;	/* signal->oom_mm: set when chosen as an OOM victim */
	bool signal_read;	/* oom_score_adj and oom_mm were read */
	uint32_t uid;		/* cred->uid, if uid_read */
	bool uid_read;

	/* Of the mm (identical for every thread that shares it). */
	uint64_t mm_flags;	/* mm->flags: MMF_OOM_SKIP, MMF_OOM_VICTIM, ... */
	uint64_t rss[MD_RSS_NR];	/* pages, as get_mm_counter() returns them */
	uint64_t rss_sum[MD_RSS_NR];	/* with per-CPU deltas (percpu_counter_sum_positive()) */
	uint64_t pgtables_bytes;	/* mm_pgtables_bytes() */
	uint64_t total_vm;	/* pages */
	bool mm_read;		/* the mm's counters above were read */
};

struct md_tasks {
	struct md_task *tasks;	/* thread group by thread group, leader first */
	size_t nr_tasks;
	char **errors;		/* problems met on the way; the rest still listed */
	size_t nr_errors;
	bool incomplete;	/* a task unreadable or a list broken: some may be missing */
	/* The other CPUs' idle tasks (swapper/N), which no task list holds:
	 * each CPU's runqueues.idle but CPU 0's, init_task; and why some
	 * could not be read (apart: no command that lists the task list
	 * misses them). */
	struct md_task *idle;
	size_t nr_idle;
	char **idle_errors;
	size_t nr_idle_errors;
};

/* Every task, read once per session (kept in s->tasks). */
struct md_error *md_tasks_get(struct md_session *s, struct md_tasks **ret);
void md_tasks_destroy(struct md_tasks *t);

/* get_mm_rss(): file + anon + shmem pages. */
static inline uint64_t md_task_rss(const struct md_task *t)
{
	return t->rss[MD_RSS_FILE] + t->rss[MD_RSS_ANON] + t->rss[MD_RSS_SHMEM];
}

/* get_mm_rss_sum(): the same with the per-CPU deltas (/proc/PID/status). */
static inline uint64_t md_task_rss_sum(const struct md_task *t)
{
	return t->rss_sum[MD_RSS_FILE] + t->rss_sum[MD_RSS_ANON] + t->rss_sum[MD_RSS_SHMEM];
}

/* A task's kernel stack size: its VMAP_STACK area's pages, or THREAD_SIZE. */
uint64_t md_task_stack_size(struct md_session *s, const struct md_task *t);

/* The task at a struct task_struct address, or NULL. */
const struct md_task *md_tasks_find(const struct md_tasks *t, uint64_t address);

#endif
