#include "core/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct job {
    um_task_fn fn;
    void *ctx;
    int n;
    atomic_int next;
};

static _Thread_local int inside_worker;

static void *work(void *arg)
{
    struct job *job = arg;
    int was_inside = inside_worker;
    inside_worker = 1;
    for (;;) {
        int i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n)
            break;
        job->fn(job->ctx, i);
    }
    inside_worker = was_inside;
    return NULL;
}

int um_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 256 ? 256 : (int)n);
}

int um_parallel_for(int n, um_task_fn fn, void *ctx, int threads)
{
    if (n <= 0)
        return 0;
    struct job job = {.fn = fn, .ctx = ctx, .n = n};
    atomic_init(&job.next, 0);
    if (threads <= 0)
        threads = um_cpu_count();
    if (threads > n)
        threads = n;
    if (inside_worker || threads <= 1) {
        work(&job);
        return 0;
    }
    pthread_t tid[256];
    int started = 0, failed = 0;
    for (int t = 1; t < threads && t < 256; t++) {
        if (pthread_create(&tid[started], NULL, work, &job) == 0)
            started++;
        else
            failed = 1;
    }
    work(&job); /* the caller is a worker too */
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    return failed && started == 0 ? -1 : 0;
}
