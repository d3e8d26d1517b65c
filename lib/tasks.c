/* Tasks, walked the way for_each_process() and for_each_thread() walk them
 * (include/linux/sched/signal.h): init_task.tasks links the thread-group
 * leaders, each group's signal->thread_head links its threads through
 * task->thread_node.  crash 8.0.2's own task table misses tasks on these
 * kernels, so this does not lean on the front end's.
 *
 * Each link is checked against its back pointer, so a corrupt list ends
 * with a message and the tasks before it, never a loop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "list.h"
#include "tasks.h"
#include "vmalloc.h"

#define MAX_TASKS (1u << 22)	/* PID_MAX_LIMIT: more means a cycle */

struct tasks_layout {
	uint64_t task_size;
	uint64_t tasks, pid, tgid, comm, flags, exit_state, mm, signal, stack, thread_sp;
	uint64_t thread_node, on_cpu, cpu, cred;
	uint64_t signal_thread_head, oom_score_adj, oom_mm;
	uint64_t cred_uid;
	uint64_t mm_flags, pgtables_bytes, total_vm;
	uint64_t rss_stat;		/* mm_struct.rss_stat */
	bool rss_percpu;		/* an array of struct percpu_counter */
	uint64_t pcpu_counter_size, pcpu_count, pcpu_counters;
	int64_t rss_item[MD_RSS_NR];	/* MM_FILEPAGES, ... */
	uint64_t nr_mm_counters;
};

static struct md_error *resolve_layout(struct md_session *s, struct tasks_layout *l)
{
	static const char *const items[MD_RSS_NR] = {
		[MD_RSS_FILE] = "MM_FILEPAGES", [MD_RSS_ANON] = "MM_ANONPAGES",
		[MD_RSS_SWAP] = "MM_SWAPENTS", [MD_RSS_SHMEM] = "MM_SHMEMPAGES",
	};
	int64_t nr_counters;
	uint64_t old_cpu = MD_NO_OFFSET;
	struct md_error *err;

	const struct md_field fields[] = {
		{ "struct task_struct", "tasks", &l->tasks },
		{ "struct task_struct", "pid", &l->pid },
		{ "struct task_struct", "tgid", &l->tgid },
		{ "struct task_struct", "comm", &l->comm },
		{ "struct task_struct", "flags", &l->flags },
		{ "struct task_struct", "exit_state", &l->exit_state },
		{ "struct task_struct", "mm", &l->mm },
		{ "struct task_struct", "signal", &l->signal },
		{ "struct task_struct", "stack", &l->stack },
		{ "struct task_struct", "thread.sp", &l->thread_sp },
		{ "struct task_struct", "thread_node", &l->thread_node },
		{ "struct task_struct", "cred", &l->cred },
		{ "struct task_struct", "on_cpu", &l->on_cpu, 1 },	/* CONFIG_SMP */
		/* Linux kernel commit bcf9033e5449 ("sched: move CPU field back
		 * into thread_info if THREAD_INFO_IN_TASK") (in v5.16): before
		 * it, task_struct.cpu. */
		{ "struct task_struct", "thread_info.cpu", &l->cpu, 1 },
		{ "struct task_struct", "cpu", &old_cpu, 1 },
		{ "struct signal_struct", "thread_head", &l->signal_thread_head },
		{ "struct signal_struct", "oom_score_adj", &l->oom_score_adj },
		{ "struct signal_struct", "oom_mm", &l->oom_mm },
		{ "struct cred", "uid", &l->cred_uid },
		{ "struct mm_struct", "flags", &l->mm_flags },
		{ "struct mm_struct", "pgtables_bytes", &l->pgtables_bytes },
		{ "struct mm_struct", "total_vm", &l->total_vm },
		{ "struct mm_struct", "rss_stat", &l->rss_stat },
	};
	if ((err = md_resolve_fields(s, fields, sizeof(fields) / sizeof(fields[0]))) ||
	    (err = md_type_size(s, "struct task_struct", &l->task_size)) ||
	    (err = md_enumerator(s, "NR_MM_COUNTERS", &nr_counters)))
		return err;
	if (l->cpu == MD_NO_OFFSET)
		l->cpu = old_cpu;
	l->nr_mm_counters = nr_counters;
	for (int i = 0; i < MD_RSS_NR; i++)
		if ((err = md_enumerator(s, items[i], &l->rss_item[i])))
			return err;
	/* 6.2 made the mm's counters percpu_counters (f1a7941243c1 "mm:
	 * convert mm's rss stats into percpu_counter"); before, rss_stat
	 * was a struct mm_rss_stat of atomic_long_t count[]. */
	err = md_member_offset(s, "struct percpu_counter", "counters", &l->pcpu_counters);
	if (!err) {
		struct md_member rss;

		if ((err = md_member(s, "struct mm_struct", "rss_stat", &rss)) ||
		    (err = md_type_size(s, "struct percpu_counter", &l->pcpu_counter_size)) ||
		    (err = md_member_offset(s, "struct percpu_counter", "count", &l->pcpu_count)))
			return err;
		l->rss_percpu = rss.size == l->pcpu_counter_size * l->nr_mm_counters;
	}
	md_error_destroy(err);
	if (!l->rss_percpu) {
		uint64_t count;

		if ((err = md_member_offset(s, "struct mm_rss_stat", "count", &count)))
			return md_error_wrap(err, "mm_struct.rss_stat is neither percpu_counters "
					     "nor struct mm_rss_stat");
		l->rss_stat += count;
	}
	return NULL;
}

static int64_t clamp_positive(int64_t v)
{
	return v < 0 ? 0 : v;
}

/* Counters no mm can hold are corruption, never figures: a page counter
 * beyond the memory map's pages, swap entries beyond MAX_SWAPFILES areas of
 * 2^50 bytes (far more than any machine has), page tables beyond memory. */
static struct md_error *check_mm(struct md_session *s, struct md_task *t)
{
	static const char *const names[MD_RSS_NR] = {
		[MD_RSS_FILE] = "MM_FILEPAGES", [MD_RSS_ANON] = "MM_ANONPAGES",
		[MD_RSS_SWAP] = "MM_SWAPENTS", [MD_RSS_SHMEM] = "MM_SHMEMPAGES",
	};
	const uint64_t pages = s->kernel.max_pfn;

	for (int i = 0; i < MD_RSS_NR; i++) {
		uint64_t most = i == MD_RSS_SWAP ? 1ULL << (50 + 5 - s->kernel.page_shift) : pages;

		if (t->rss[i] > most || t->rss_sum[i] > most)
			return md_error_create(MD_ERR_CORRUPT, "its %s counter, %" PRIu64 " pages, cannot be "
					       "(more than %" PRIu64 ")", names[i],
					       t->rss[i] > most ? t->rss[i] : t->rss_sum[i], most);
	}
	if (t->pgtables_bytes > pages << s->kernel.page_shift)
		return md_error_create(MD_ERR_CORRUPT, "its page tables, %" PRIu64 " bytes, cannot be "
				       "(more than the memory)", t->pgtables_bytes);
	t->mm_read = true;
	return NULL;
}

/* The mm's counters, read once per mm: get_mm_counter() (include/linux/mm.h),
 * and since 6.2 percpu_counter_sum_positive() too, the per-CPU deltas
 * included, as /proc/PID/status shows them (fs/proc/task_mmu.c task_mem()). */
static struct md_error *read_mm(struct md_session *s, const struct tasks_layout *l,
				struct md_task *t)
{
	uint64_t v;
	struct md_error *err;

	if ((err = md_read_u64(s, t->mm + l->mm_flags, &t->mm_flags)) ||
	    (err = md_read_u64(s, t->mm + l->pgtables_bytes, &t->pgtables_bytes)) ||
	    (err = md_read_u64(s, t->mm + l->total_vm, &t->total_vm)))
		return err;
	for (int i = 0; i < MD_RSS_NR; i++) {
		if (!l->rss_percpu) {
			/* SPLIT_RSS_COUNTING lets a counter go below zero. */
			if ((err = md_read_u64(s, t->mm + l->rss_stat + l->rss_item[i] * 8, &v)))
				return err;
			t->rss[i] = t->rss_sum[i] = clamp_positive((int64_t)v);
			continue;
		}
		uint64_t counter = t->mm + l->rss_stat + l->rss_item[i] * l->pcpu_counter_size;
		uint64_t percpu;
		int64_t sum;

		if ((err = md_read_u64(s, counter + l->pcpu_count, &v)) ||
		    (err = md_read_u64(s, counter + l->pcpu_counters, &percpu)))
			return err;
		t->rss[i] = clamp_positive((int64_t)v);
		sum = (int64_t)v;
		for (unsigned int cpu = 0; cpu < s->kernel.nr_cpus; cpu++) {
			uint32_t delta;

			if (!md_cpu_possible(&s->kernel, cpu))
				continue;
			if ((err = md_read_u32(s, percpu + s->kernel.per_cpu_offset[cpu], &delta)))
				return md_error_wrap(err, "CPU %u's rss counter", cpu);
			sum += (int32_t)delta;
		}
		t->rss_sum[i] = clamp_positive(sum);
	}
	return check_mm(s, t);
}

/* One task_struct, read in one piece. */
static struct md_error *read_task(struct md_session *s, const struct tasks_layout *l,
				  uint64_t address, unsigned char *buf, struct md_task *t)
{
	struct md_error *err;

	memset(t, 0, sizeof(*t));
	t->address = address;
	if ((err = md_read(s, address, buf, l->task_size)))
		return err;
	t->pid = (int32_t)md_get_u32(buf, l->pid);
	t->tgid = (int32_t)md_get_u32(buf, l->tgid);
	memcpy(t->comm, buf + l->comm, sizeof(t->comm) - 1);
	t->flags = md_get_u32(buf, l->flags);
	t->exit_state = md_get_u32(buf, l->exit_state);
	t->mm = md_get_u64(buf, l->mm);
	t->signal = md_get_u64(buf, l->signal);
	t->stack = md_get_u64(buf, l->stack);
	t->ksp = md_get_u64(buf, l->thread_sp);
	t->leader = t->pid == t->tgid;
	t->on_cpu = l->on_cpu != MD_NO_OFFSET && md_get_u32(buf, l->on_cpu);
	t->cpu = l->cpu != MD_NO_OFFSET ? (int32_t)md_get_u32(buf, l->cpu) : -1;
	return NULL;
}

/* cred->uid: an unreadable cred is not worth losing the task over, but its
 * uid is unknown, not root. */
static struct md_error *read_uid(struct md_session *s, const struct tasks_layout *l,
				 const unsigned char *buf, struct md_task *t)
{
	uint64_t cred = md_get_u64(buf, l->cred);
	uint32_t uid;
	struct md_error *err;

	if (!cred)
		return md_error_create(MD_ERR_CORRUPT, "NULL cred");
	if ((err = md_read_u32(s, cred + l->cred_uid, &uid)))
		return md_error_wrap(err, "cred 0x%" PRIx64, cred);
	t->uid = uid;
	t->uid_read = true;
	return NULL;
}

static struct md_error *read_signal(struct md_session *s, const struct tasks_layout *l,
				    struct md_task *t)
{
	uint16_t adj;
	struct md_error *err;

	if ((err = md_read(s, t->signal + l->oom_score_adj, &adj, sizeof(adj))) ||
	    (err = md_read_u64(s, t->signal + l->oom_mm, &t->oom_mm)))
		return md_error_wrap(err, "signal_struct 0x%" PRIx64, t->signal);
	t->oom_score_adj = (int16_t)adj;
	t->signal_read = true;
	return NULL;
}

struct walk {
	struct md_session *s;
	const struct tasks_layout *l;
	struct md_tasks *tasks;
	size_t cap;
	unsigned char *buf;
	size_t last_mm_owner;	/* index + 1 of the last task whose mm was read: threads share it */
};

static struct md_error *add_task(struct walk *w, uint64_t address)
{
	struct md_tasks *t = w->tasks;
	struct md_task *task;
	struct md_error *err;

	if (!md_array_reserve(&t->tasks, &w->cap, t->nr_tasks, sizeof(*t->tasks), 256))
		return md_error_nomem();
	task = &t->tasks[t->nr_tasks];
	if ((err = read_task(w->s, w->l, address, w->buf, task)))
		return md_error_wrap(err, "task 0x%" PRIx64, address);
	t->nr_tasks++;
	/* Its list links were read: a part missing from the dump is said,
	 * and the walk goes on. */
	if ((err = read_uid(w->s, w->l, w->buf, task)))
		md_messages_add_error(&t->errors, &t->nr_errors,
				      md_error_wrap(err, "pid %d (%s): uid unknown", task->pid, task->comm));
	if ((err = read_signal(w->s, w->l, task)))
		md_messages_add_error(&t->errors, &t->nr_errors,
				      md_error_wrap(err, "pid %d (%s)", task->pid, task->comm));
	if (!task->mm)
		return NULL;
	if (w->last_mm_owner && t->tasks[w->last_mm_owner - 1].mm == task->mm) {
		const struct md_task *o = &t->tasks[w->last_mm_owner - 1];

		memcpy(task->rss, o->rss, sizeof(task->rss));
		memcpy(task->rss_sum, o->rss_sum, sizeof(task->rss_sum));
		task->mm_flags = o->mm_flags;
		task->pgtables_bytes = o->pgtables_bytes;
		task->total_vm = o->total_vm;
		task->mm_read = o->mm_read;
		return NULL;
	}
	if ((err = read_mm(w->s, w->l, task)))
		md_messages_add_error(&t->errors, &t->nr_errors,
				      md_error_wrap(err, "pid %d (%s): mm 0x%" PRIx64, task->pid,
						    task->comm, task->mm));
	w->last_mm_owner = t->nr_tasks;
	return NULL;
}

/* A list's bad links as errors of the task list, named by what: "task
 * list", "pid 1 (init): thread list". */
static void list_problems(struct md_tasks *t, struct md_list *list, const char *what)
{
	if (list->broken || list->broken_back)
		t->incomplete = true;
	if (list->broken)
		md_messages_add_error(&t->errors, &t->nr_errors,
				      md_error_wrap(list->broken, "%s at 0x%" PRIx64, what, list->broken_at));
	if (list->broken_back)
		md_messages_add_error(&t->errors, &t->nr_errors,
				      md_error_wrap(list->broken_back, "%s, walked from its other end: the "
						    "entries between the two breaks are lost", what));
	list->broken = list->broken_back = NULL;
}

/* include/linux/threads.h PID_MAX_LIMIT on 64-bit. */
#define PID_MAX_LIMIT (4 * 1024 * 1024)

/* A task on the process list (init_task's tasks) is its group's leader
 * with a pid in (0, PID_MAX_LIMIT]: other ids are a corrupt task_struct,
 * named, and the task is still listed as a process, not lost. */
static void check_process_ids(struct md_tasks *t, struct md_task *p)
{
	if (p->pid <= 0 || p->pid > PID_MAX_LIMIT)
		md_messages_add(&t->errors, &t->nr_errors, "task 0x%" PRIx64 " (%s): pid %d cannot be "
				"(a corrupt task_struct?)", p->address, p->comm, p->pid);
	if (!p->leader) {
		md_messages_add(&t->errors, &t->nr_errors, "pid %d (%s): tgid %d, but on the process list, "
				"where only group leaders are (a corrupt pid or tgid?): listed as a process",
				p->pid, p->comm, p->tgid);
		p->leader = true;
	}
}

/* A task that could not be added is reported and skipped; only running
 * out of memory ends the walk. */
static struct md_error *add_or_report(struct walk *w, uint64_t task)
{
	struct md_error *err = add_task(w, task);

	if (!err || md_error_root_code(err) == MD_ERR_NOMEM)
		return err;
	w->tasks->incomplete = true;
	md_messages_add_error(&w->tasks->errors, &w->tasks->nr_errors, err);
	return NULL;
}

/* The threads of the group whose leader was just added, after it
 * (for_each_thread(): signal->thread_head, linked through thread_node). */
static struct md_error *add_threads(struct walk *w, size_t leader_index)
{
	const struct md_task leader = w->tasks->tasks[leader_index];
	struct md_list threads;
	char what[64];
	struct md_error *err;

	if ((err = md_list_walk(w->s, leader.signal + w->l->signal_thread_head, MAX_TASKS, &threads)))
		return err;
	snprintf(what, sizeof(what), "pid %d (%s): thread list", leader.pid, leader.comm);
	list_problems(w->tasks, &threads, what);
	for (size_t i = 0; !err && i < threads.nr; i++) {
		uint64_t task = threads.nodes[i] - w->l->thread_node;

		if (task != leader.address)
			err = add_or_report(w, task);
	}
	md_list_release(&threads);
	return err;
}

/* kernel/sched/core.c init_idle(): each CPU's idle task is its
 * runqueue's idle; only CPU 0's (init_task) is on the task list.  A CPU
 * whose runqueue cannot be read is named and skipped. */
static struct md_error *read_idle_tasks(struct walk *w, uint64_t init_task)
{
	const struct md_kernel *k = &w->s->kernel;
	uint64_t runqueues, idle_off, task;
	struct md_task t;
	size_t cap = 0;
	struct md_error *err;

	if ((err = md_symbol(w->s, "runqueues", &runqueues)) ||
	    (err = md_member_offset(w->s, "struct rq", "idle", &idle_off))) {
		md_messages_add_error(&w->tasks->idle_errors, &w->tasks->nr_idle_errors,
				      md_error_wrap(err, "the CPUs' idle tasks not read"));
		return NULL;
	}
	for (unsigned int cpu = 0; cpu < k->nr_cpus; cpu++) {
		if (!md_cpu_possible(k, cpu))
			continue;
		err = md_read_u64(w->s, runqueues + k->per_cpu_offset[cpu] + idle_off, &task);
		if (!err && (!task || task == init_task))
			continue;
		if (!err)
			err = read_task(w->s, w->l, task, w->buf, &t);
		if (err) {
			if (md_error_root_code(err) == MD_ERR_NOMEM)
				return err;
			md_messages_add_error(&w->tasks->idle_errors, &w->tasks->nr_idle_errors,
					      md_error_wrap(err, "cpu %u's idle task", cpu));
			continue;
		}
		if (!md_array_reserve(&w->tasks->idle, &cap, w->tasks->nr_idle, sizeof(t), 8))
			return md_error_nomem();
		w->tasks->idle[w->tasks->nr_idle++] = t;
	}
	return NULL;
}

struct md_error *md_tasks_get(struct md_session *s, struct md_tasks **ret)
{
	struct tasks_layout l = { 0 };
	struct walk w = { .s = s, .l = &l };
	struct md_list processes = { 0 };
	uint64_t init_task;
	struct md_error *err;

	if (s->tasks) {
		*ret = s->tasks;
		return NULL;
	}
	if ((err = resolve_layout(s, &l)) || (err = md_symbol(s, "init_task", &init_task)))
		return md_error_wrap(err, "reading tasks");
	if (!(w.tasks = calloc(1, sizeof(*w.tasks))) || !(w.buf = malloc(l.task_size))) {
		free(w.tasks);
		return md_error_nomem();
	}
	/* init_task (the idle task of CPU 0) heads the list (for_each_process()). */
	if ((err = md_list_walk(s, init_task + l.tasks, MAX_TASKS, &processes)))
		goto out;
	list_problems(w.tasks, &processes, "task list");
	err = add_task(&w, init_task);
	if (!err)
		err = add_threads(&w, 0);
	for (size_t i = 0; !err && i < processes.nr; i++) {
		size_t before = w.tasks->nr_tasks;

		if (md_interrupted(s))
			err = md_error_create(MD_ERR_INTERRUPTED, "interrupted");
		else if (!(err = add_or_report(&w, processes.nodes[i] - l.tasks)) && w.tasks->nr_tasks > before) {
			check_process_ids(w.tasks, &w.tasks->tasks[before]);
			err = add_threads(&w, w.tasks->nr_tasks - 1);
		}
	}
	if (!err)
		err = read_idle_tasks(&w, init_task);
out:
	md_list_release(&processes);
	free(w.buf);
	if (err) {
		md_tasks_destroy(w.tasks);
		return err;
	}
	s->tasks = w.tasks;
	*ret = w.tasks;
	return NULL;
}

void md_tasks_destroy(struct md_tasks *t)
{
	if (!t)
		return;
	free(t->tasks);
	free(t->idle);
	md_messages_free(t->idle_errors, t->nr_idle_errors);
	md_messages_free(t->errors, t->nr_errors);
	free(t);
}

const struct md_task *md_tasks_find(const struct md_tasks *t, uint64_t address)
{
	for (size_t i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i].address == address)
			return &t->tasks[i];
	return NULL;
}

#define DEFAULT_THREAD_SIZE 16384	/* x86-64 without KASAN: PAGE_SIZE << 2 */

uint64_t md_task_stack_size(struct md_session *s, const struct md_task *t)
{
	struct md_vmalloc *v;
	const struct md_vmap_area *a;
	struct md_error *err = md_vmalloc_get(s, &v);

	if (err) {
		md_error_destroy(err);
		return DEFAULT_THREAD_SIZE;
	}
	a = md_vmalloc_find(v, t->stack);
	if (!a || a->start != t->stack || !a->nr_pages)
		return DEFAULT_THREAD_SIZE;
	return a->nr_pages * s->kernel.page_size;
}
