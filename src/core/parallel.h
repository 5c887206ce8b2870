/* A minimal fork-join helper: run fn(ctx, i) for i = 0..n-1 on the machine's cores.
 * Indices are handed out one at a time from an atomic counter, so uneven tasks balance.
 * A call made from inside a worker runs serially in that worker (no nested oversubscription). */
#ifndef UM_CORE_PARALLEL_H
#define UM_CORE_PARALLEL_H

typedef void (*um_task_fn)(void *ctx, int index);

/* threads <= 0: one per online core. Returns 0, or -1 if no thread could be started (then the
 * whole loop has still run, serially, in the caller). */
int um_parallel_for(int n, um_task_fn fn, void *ctx, int threads);

/* Number of online cores (at least 1). */
int um_cpu_count(void);

#endif
