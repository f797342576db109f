/* parallel.h - the one parallel-for of mcz (the loader's block decoding, pack's encoders,
 * quantize's and prune's weight passes, mcz-bench). Jobs are handed out in order from a shared
 * counter; the calling thread works too; if a thread cannot start, fewer do the work and the
 * results are the same. Internal to mcz: not installed. */
#ifndef MCZ_PARALLEL_H
#define MCZ_PARALLEL_H

#include <stddef.h>

/* The most threads mcz runs at once. */
#define MCZ_THREADS_MAX 256

/* Job `job` on thread `tid` (0 <= tid < the count mcz_parallel_for was given). Per-thread
 * state is the caller's, indexed by tid. */
typedef void (*mcz_job_fn)(void *ctx, size_t job, unsigned tid);

/* How many threads to run `njobs` jobs on when `want` were asked for (<= 0: one per online
 * processor): between 1 and MCZ_THREADS_MAX, and no more than the jobs. */
unsigned mcz_thread_count(int want, size_t njobs);

/* fn(ctx, j, tid) for every j in [0, njobs), on `threads` threads (a count from
 * mcz_thread_count; no more are started than there are jobs). Returns when every job has
 * run. */
void mcz_parallel_for(size_t njobs, unsigned threads, mcz_job_fn fn, void *ctx);

#endif
