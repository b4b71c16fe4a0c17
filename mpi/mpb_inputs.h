/* The input checkpoints of a command that reads several of them (merge,
 * distance): one index they all agree on, and the open stores. */
#ifndef MPB_INPUTS_H
#define MPB_INPUTS_H

#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_store.h"

#include <mpi.h>
#include <stdio.h>

/* Collective: own[0 .. n-1] (zeroed first) gets each path's own index on
 * every rank, path i read on rank i mod P (so P ranks read P inputs at once)
 * and broadcast from there; no check that they hold the same tensors
 * (slices' models may differ). */
int mpb_inputs_read_indexes(const char *const *paths, size_t n, MPI_Comm comm, mpb_index *own,
                            mpb_error *err);

/* Collective.  Rank i mod P reads input i's index (serial, through the
 * backend its path calls for), so that P ranks read P inputs at once; every
 * rank receives them all and checks that they hold the same tensor names,
 * shapes and dtypes, naming the tensor and both files otherwise.  idx gets
 * the tensors they share; own[i] (when own is not NULL) input i's own index,
 * which lists the same tensors in the same order and also says where their
 * bytes lie in that file. */
int mpb_inputs_share_index(const char *const *paths, size_t n, MPI_Comm comm, mpb_index *idx,
                           mpb_index *own, mpb_error *err);

/* Collective: opens every input for reading the tensors of idx; with own
 * (from mpb_inputs_share_index, same tensors as idx) input i is opened with
 * own[i], so that its backend can read the bytes where they lie.  On failure
 * the stores already open are closed again and stores[] is cleared. */
int mpb_inputs_open(const char *const *paths, size_t n, const mpb_index *idx,
                    const mpb_index *own, const mpb_io_opts *io, MPI_Comm comm,
                    mpb_store *stores, mpb_error *err);

/* Collective: closes the open stores; the first close error lands in err
 * unless err already holds one. */
void mpb_inputs_close(mpb_store *stores, size_t n, mpb_error *err);

/* Rank 0, for inspect and dry runs: a note listing the *.safetensors files
 * beside a folder input's index that the index does not list (ignored). */
void mpb_inputs_note_ignored(FILE *out, const char *path);

#endif
