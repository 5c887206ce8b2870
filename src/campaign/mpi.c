/* `unmask campaign --mpi`: the pair stage of the pipeline split over MPI ranks by object hash
 * (see mpi.h for the scheme). Linked into the CLI only. Mirrors cm_find_pairs step for step:
 * per selected kind, CooRTweet step 4's first pass over owned objects, an OR-reduction of the
 * content marks, the keep set from the global marks, the owned pairs; then the per-kind counts
 * are summed and the pairs gathered to rank 0 and sorted canonically. */
#include "campaign/mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pairs sent per rank and gather round: rounds keep every MPI count and displacement an int. */
#define MPI_PAIRS_PER_ROUND ((size_t)1 << 24)

int cm_mpi_available(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMIX_RANK") != NULL ||
           getenv("PMI_SIZE") != NULL;
}

int cm_mpi_init(int *argc, char ***argv, int *rank, int *size, char *err, size_t errlen)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized && MPI_Init(argc, argv) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Init failed");
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

int cm_mpi_all_ok(int ok)
{
    int mine = ok ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

void cm_mpi_finalize(void)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized)
        MPI_Finalize();
}

/* In-place bitwise OR of a byte array across ranks, in int-sized pieces. */
static void allreduce_or(uint8_t *v, size_t n)
{
    for (size_t off = 0; off < n; off += INT_MAX) {
        size_t len = n - off < (size_t)INT_MAX ? n - off : (size_t)INT_MAX;
        MPI_Allreduce(MPI_IN_PLACE, v + off, (int)len, MPI_BYTE, MPI_BOR, MPI_COMM_WORLD);
    }
}

/* One kind on this rank: the pairs of its objects that survive steps 1-4, step 4 decided on
 * the global content marks. Collective; 0 on every rank or -1 on every rank. */
static int kind_pairs(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                      int rank, int size, struct cm_pairs *out)
{
    if (p->weight == CM_WEIGHT_QUT) /* no step 4 for the QUT weight, as in cm_find_pairs */
        return cm_mpi_all_ok(cm_collect_pairs(pr, p, kind, NULL, rank, size, out) == 0) ? 0
                                                                                        : -1;
    size_t n = (size_t)pr->ncontents + 1;
    uint8_t *in_pairs = calloc(n, 1), *keep = malloc(n);
    int ok = in_pairs && keep && cm_mark_contents(pr, p, kind, rank, size, in_pairs) == 0;
    if (cm_mpi_all_ok(ok)) {
        allreduce_or(in_pairs, n);
        ok = cm_keep_contents(pr, p, kind, in_pairs, keep) == 0 &&
             cm_collect_pairs(pr, p, kind, keep, rank, size, out) == 0;
        ok = cm_mpi_all_ok(ok);
    } else {
        ok = 0;
    }
    free(in_pairs);
    free(keep);
    return ok ? 0 : -1;
}

/* Rank 0 receives every rank's pairs (in rank order, MPI_PAIRS_PER_ROUND per rank and round)
 * into out; the local list is consumed. Collective; 0 or -1 on every rank. */
static int gather_pairs(struct cm_pairs *local, int rank, int size, struct cm_pairs *out)
{
    MPI_Datatype pair_type;
    MPI_Type_contiguous((int)sizeof(struct cm_pair), MPI_BYTE, &pair_type);
    MPI_Type_commit(&pair_type);
    size_t per_round = MPI_PAIRS_PER_ROUND;
    if (per_round > (size_t)INT_MAX / (size_t)size)
        per_round = (size_t)INT_MAX / (size_t)size;
    unsigned long long mine = (local->n + per_round - 1) / per_round, rounds = 0;
    MPI_Allreduce(&mine, &rounds, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    int *counts = calloc((size_t)size, sizeof *counts), *displs = calloc((size_t)size,
                                                                        sizeof *displs);
    int ok = counts && displs;
    size_t sent = 0;
    for (unsigned long long r = 0; r < rounds && cm_mpi_all_ok(ok); r++) {
        int count = (int)(local->n - sent < per_round ? local->n - sent : per_round);
        MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
        size_t total = 0;
        for (int i = 0; rank == 0 && i < size; i++) {
            displs[i] = (int)total;
            total += (size_t)counts[i];
        }
        /* rank 0 grows its list first; a failure there is shared before the transfer */
        if (rank == 0 && total > out->cap - out->n) {
            struct cm_pair *grown = out->n + total <= SIZE_MAX / sizeof *grown
                                        ? realloc(out->v, (out->n + total) * sizeof *grown)
                                        : NULL;
            ok = grown != NULL;
            if (grown) {
                out->v = grown;
                out->cap = out->n + total;
            }
        }
        if (!cm_mpi_all_ok(ok))
            break;
        MPI_Gatherv(local->v + sent, count, pair_type, rank == 0 ? out->v + out->n : NULL,
                    counts, displs, pair_type, 0, MPI_COMM_WORLD);
        if (rank == 0)
            out->n += total;
        sent += (size_t)count;
    }
    ok = cm_mpi_all_ok(ok);
    free(counts);
    free(displs);
    MPI_Type_free(&pair_type);
    cm_pairs_free(local);
    return ok ? 0 : -1;
}

int cm_mpi_find_pairs(const struct cm_dataset *d, const struct cm_params *p, struct cm_pairs *out,
                      uint64_t pair_counts[CM_KIND_COUNT], char *err, size_t errlen)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct cm_prepared pr;
    memset(&pr, 0, sizeof pr);
    int prepared = cm_prepare(d, p, &pr) == 0;
    struct cm_pairs local = {0};
    uint64_t mine[CM_KIND_COUNT] = {0};
    int rc = cm_mpi_all_ok(prepared) ? 0 : -1;
    for (int k = 0; k < CM_KIND_COUNT && rc == 0; k++) {
        size_t before = local.n;
        if (p->kinds & (1u << k))
            rc = kind_pairs(&pr, p, k, rank, size, &local);
        mine[k] = local.n - before;
    }
    if (prepared)
        cm_prepared_free(&pr);
    memset(pair_counts, 0, CM_KIND_COUNT * sizeof *pair_counts);
    if (rc == 0) {
        MPI_Reduce(mine, pair_counts, CM_KIND_COUNT, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank != 0)
            memset(pair_counts, 0, CM_KIND_COUNT * sizeof *pair_counts);
        rc = gather_pairs(&local, rank, size, out);
    }
    cm_pairs_free(&local);
    if (rc != 0) {
        cm_pairs_free(out);
        snprintf(err, errlen, "out of memory on an MPI rank while building pairs");
        return -1;
    }
    if (rank == 0)
        cm_pairs_sort(out);
    return 0;
}
