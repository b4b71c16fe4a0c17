/* The input checkpoints of a command that reads several of them (merge,
 * distance): one index they all agree on, and the open stores. */
#ifndef MPB_INPUTS_H
#define MPB_INPUTS_H

#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_store.h"

#include <mpi.h>

/* Collective.  Rank 0 reads every input's index (serial, each through the
 * backend its path calls for) and checks that they hold the same tensor
 * names, shapes and dtypes, naming the tensor and both files otherwise;
 * then every rank receives the first input's index in idx. */
int mpb_inputs_share_index(const char *const *paths, size_t n, MPI_Comm comm,
                           mpb_index *idx, mpb_error *err);

/* Collective: opens every input for reading the tensors of idx.  On failure
 * the stores already open are closed again and stores[] is cleared. */
int mpb_inputs_open(const char *const *paths, size_t n, const mpb_index *idx,
                    const mpb_io_opts *io, MPI_Comm comm, mpb_store *stores, mpb_error *err);

/* Collective: closes the open stores; the first close error lands in err
 * unless err already holds one. */
void mpb_inputs_close(mpb_store *stores, size_t n, mpb_error *err);

#endif
