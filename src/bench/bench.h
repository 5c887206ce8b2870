/* `unmask bench`: accuracy and speed of every detector and of the fused verdict on a dataset
 * with ground-truth masks (CASIA v1, CoMoFoD, or a generic images/ + masks/ folder).
 * It is a thin shell over the public API (include/unmask.h); see src/bench/metrics.h for the
 * evaluation protocol and src/bench/datasets.h for the layouts it recognises. */
#ifndef UM_BENCH_BENCH_H
#define UM_BENCH_BENCH_H

/* argv[0] = "bench". Returns the exit status: 0 done, 1 done but some inputs could not be
 * analysed (they are listed) or the result files could not be written, 2 usage error or no
 * recognisable dataset. */
int um_bench_main(int argc, char **argv);

#endif
