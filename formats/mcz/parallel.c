/* parallel.c - see shared/parallel.h. */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct pool {
    mcz_job_fn fn;
    void *ctx;
    size_t njobs;
    atomic_size_t next;
} pool;

typedef struct pool_arg {
    pool *p;
    unsigned tid;
} pool_arg;

static void *pool_work(void *arg)
{
    pool_arg *a = arg;
    for (size_t j; (j = atomic_fetch_add(&a->p->next, 1)) < a->p->njobs;)
        a->p->fn(a->p->ctx, j, a->tid);
    return NULL;
}

unsigned mcz_thread_count(int want, size_t njobs)
{
    long n = want > 0 ? want : sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > MCZ_THREADS_MAX ? MCZ_THREADS_MAX : n;
    if ((size_t)n > njobs)
        n = njobs ? (long)njobs : 1;
    return (unsigned)n;
}

void mcz_parallel_for(size_t njobs, unsigned threads, mcz_job_fn fn, void *ctx)
{
    pool p = {.fn = fn, .ctx = ctx, .njobs = njobs};
    atomic_init(&p.next, 0);
    pthread_t tid[MCZ_THREADS_MAX];
    pool_arg args[MCZ_THREADS_MAX];
    unsigned started = 0;
    threads = threads < 1 ? 1 : threads > MCZ_THREADS_MAX ? MCZ_THREADS_MAX : threads;
    if (threads > njobs)
        threads = njobs ? (unsigned)njobs : 1;
    for (unsigned t = 1; t < threads; t++) {
        args[t] = (pool_arg){&p, t};
        if (pthread_create(&tid[started], NULL, pool_work, &args[t]) != 0)
            break; /* fewer threads: the same results */
        started++;
    }
    args[0] = (pool_arg){&p, 0};
    pool_work(&args[0]);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}
