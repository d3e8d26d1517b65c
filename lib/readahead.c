/* Work read ahead by other threads and taken in order: see readahead.h.
 *
 * Job j goes to slot j % nr_slots.  A worker takes the next job once its
 * slot is free (the caller is done with job j - nr_slots), fills it and
 * marks it ready; the caller waits for job `taken` to be ready.  One mutex
 * guards the counters: a job is thousands of objects, so it is rarely
 * contended. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "readahead.h"

#define MAX_WORKERS 8
/* A reader opens the dump again (some 20-40 ms): below this many jobs the
 * caller reads alone, unless MEMDIAG_THREADS asks for threads. */
#define MIN_JOBS 16

struct md_readahead {
	struct md_session *s;
	void *const *slots;
	size_t nr_slots, nr_jobs;
	md_readahead_fill_fn *fill;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t next_job;	/* the next job a worker takes */
	size_t taken;		/* the job the caller waits for (or holds) */
	size_t *ready;		/* per slot: 1 + the job filled in it, 0 if none */
	struct md_error **errors;	/* per slot: the fill's error */
	bool stop;
	size_t nr_workers;
	struct md_session *readers[MAX_WORKERS];
	pthread_t threads[MAX_WORKERS];
};

/* One reader per CPU: inflating pages is the larger half of a walk of a
 * compressed dump (two thirds of the samples on a 30-million-object one),
 * so the caller mostly waits.  MEMDIAG_THREADS=N: N threads in all, the
 * caller and N - 1 readers (1: no read-ahead), whatever the CPUs; the
 * tests compare the two. */
static const char *threads_asked(void)
{
	const char *env = getenv("MEMDIAG_THREADS");

	return env && *env ? env : NULL;
}

size_t md_readahead_workers(void)
{
	const char *asked = threads_asked();
	long n;

	if (asked)
		n = strtol(asked, NULL, 10) - 1;
	else if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 2)
		n = 0;
	return n <= 0 ? 0 : n > MAX_WORKERS ? MAX_WORKERS : (size_t)n;
}

struct worker {
	struct md_readahead *ra;
	struct md_session *reader;
};

static void *work(void *arg)
{
	struct md_readahead *ra = ((struct worker *)arg)->ra;
	struct md_session *reader = ((struct worker *)arg)->reader;

	free(arg);
	pthread_mutex_lock(&ra->lock);
	for (;;) {
		size_t job = ra->next_job;

		/* its slot is free once the caller is past job - nr_slots */
		while (!ra->stop && job < ra->nr_jobs && job >= ra->taken + ra->nr_slots) {
			pthread_cond_wait(&ra->changed, &ra->lock);
			job = ra->next_job;
		}
		if (ra->stop || job >= ra->nr_jobs)
			break;
		ra->next_job++;
		pthread_mutex_unlock(&ra->lock);
		struct md_error *err = ra->fill(reader, ra->arg, job, ra->slots[job % ra->nr_slots]);
		pthread_mutex_lock(&ra->lock);
		ra->errors[job % ra->nr_slots] = err;
		ra->ready[job % ra->nr_slots] = job + 1;
		pthread_cond_broadcast(&ra->changed);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

struct md_error *md_readahead_start(struct md_session *s, size_t nr_jobs, void *const *slots,
				    size_t nr_slots, md_readahead_fill_fn *fill, void *arg,
				    struct md_readahead **ret)
{
	size_t want = md_readahead_workers();
	struct md_readahead *ra;
	struct md_error *err = NULL;

	*ret = NULL;
	if (!want || !nr_slots || !s->target.ops->clone || nr_jobs < (threads_asked() ? 2 : MIN_JOBS))
		return NULL;
	if (!(ra = calloc(1, sizeof(*ra))) || !(ra->ready = calloc(nr_slots, sizeof(*ra->ready))) ||
	    !(ra->errors = calloc(nr_slots, sizeof(*ra->errors)))) {
		if (ra)
			free(ra->ready);
		free(ra);
		return md_error_nomem();
	}
	ra->s = s;
	ra->slots = slots;
	ra->nr_slots = nr_slots;
	ra->nr_jobs = nr_jobs;
	ra->fill = fill;
	ra->arg = arg;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->changed, NULL);
	while (ra->nr_workers < want) {
		struct worker *w = malloc(sizeof(*w));
		struct md_session *reader = NULL;

		if (!w || (err = md_session_reader(s, &reader)) || !reader) {
			free(w);
			break;
		}
		*w = (struct worker){ ra, reader };
		if (pthread_create(&ra->threads[ra->nr_workers], NULL, work, w)) {
			free(w);
			md_session_reader_destroy(reader);
			break;
		}
		ra->readers[ra->nr_workers++] = reader;
	}
	if (!ra->nr_workers) {	/* fewer threads only means the caller reads */
		md_readahead_stop(ra);
		if (err && md_error_root_code(err) == MD_ERR_NOMEM)
			return err;
		md_error_destroy(err);
		return NULL;
	}
	md_error_destroy(err);
	*ret = ra;
	return NULL;
}

struct md_error *md_readahead_next(struct md_readahead *ra, void **slot)
{
	size_t i = ra->taken % ra->nr_slots;
	struct md_error *err;

	*slot = NULL;
	if (ra->taken >= ra->nr_jobs)
		return NULL;
	pthread_mutex_lock(&ra->lock);
	while (ra->ready[i] != ra->taken + 1)
		pthread_cond_wait(&ra->changed, &ra->lock);
	err = ra->errors[i];
	ra->errors[i] = NULL;
	pthread_mutex_unlock(&ra->lock);
	*slot = ra->slots[i];
	return err;
}

void md_readahead_done(struct md_readahead *ra)
{
	pthread_mutex_lock(&ra->lock);
	ra->ready[ra->taken % ra->nr_slots] = 0;
	ra->taken++;
	pthread_cond_broadcast(&ra->changed);
	pthread_mutex_unlock(&ra->lock);
}

void md_readahead_stop(struct md_readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_broadcast(&ra->changed);
	pthread_mutex_unlock(&ra->lock);
	for (size_t i = 0; i < ra->nr_workers; i++) {
		pthread_join(ra->threads[i], NULL);
		md_session_reader_destroy(ra->readers[i]);
	}
	for (size_t i = 0; i < ra->nr_slots; i++)
		md_error_destroy(ra->errors[i]);
	pthread_mutex_destroy(&ra->lock);
	pthread_cond_destroy(&ra->changed);
	free(ra->ready);
	free(ra->errors);
	free(ra);
}
