/* `unmask campaign --mpi`: the co-share pairs computed across MPI ranks (issue 7, item 6).
 * Linked into the CLI only (OpenMPI); the library stays free of MPI.
 *
 * Every rank ingests the whole input with the same parameters, so interning gives every rank
 * the same account, content and object ids (campaign.h). Ranks then own the objects with
 * cm_object_owned(object, rank, size): each builds the pairs of its own objects only.
 * CooRTweet step 4 is reduced exactly: each rank marks the contents of the pairs that survive
 * steps 1-3 among its objects, the byte arrays are OR-reduced across ranks (MPI_Allreduce,
 * MPI_BOR), and every rank derives the same keep set from the global marks. The surviving pairs
 * are gathered to rank 0 (MPI_Gatherv of packed struct cm_pair arrays) and put in the canonical
 * order, which makes them - and everything computed from them - byte-identical to
 * cm_find_pairs in one process.
 *
 * Usage in the command (every rank runs the same code):
 *     cm_mpi_init(&argc, &argv, &rank, &size);
 *     ok = cm_ingest_stream(...) == 0;
 *     if (!cm_mpi_all_ok(ok)) -> every rank stops (rank 0 reports)
 *     cm_mpi_find_pairs(&d, &p, &pairs, counts, err, sizeof err)   (collective)
 *     rank 0: cm_network_build + outputs; other ranks: nothing more
 *     cm_mpi_finalize();                                          */
#ifndef UM_CAMPAIGN_MPI_H
#define UM_CAMPAIGN_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/campaign.h"

/* 1 when the process was started by mpirun/mpiexec (OpenMPI or PMI environment), else 0. */
int cm_mpi_available(void);

/* MPI_Init; *rank and *size of MPI_COMM_WORLD. 0, or -1 with err. */
int cm_mpi_init(int *argc, char ***argv, int *rank, int *size, char *err, size_t errlen);

/* Collective: 1 when ok is non-zero on every rank, else 0 (so all ranks stop together). */
int cm_mpi_all_ok(int ok);

/* Collective replacement of cm_find_pairs (same arguments and results). On rank 0, *out and
 * pair_counts are exactly what cm_find_pairs gives in one process; on other ranks *out is left
 * empty and pair_counts zero. Returns 0 on every rank, or -1 on every rank (with err) when any
 * rank failed. */
int cm_mpi_find_pairs(const struct cm_dataset *d, const struct cm_params *p, struct cm_pairs *out,
                      uint64_t pair_counts[CM_KIND_COUNT], char *err, size_t errlen);

void cm_mpi_finalize(void);

#endif
