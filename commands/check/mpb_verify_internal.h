/* Shared by mpb_verify*.c only. */
#ifndef MPB_VERIFY_INTERNAL_H
#define MPB_VERIFY_INTERNAL_H

#include "mpb_config.h"
#include "mpb_index.h"
#include "mpb_merge_setup.h"
#include "mpb_store.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

struct mpb_verify {
    const char *out_path;
    mpb_index out_idx;
    char *stored_checksum; /* mpiblend_checksum, or NULL */
    char *input_checksums; /* mpiblend_input_checksums (JSON), or NULL */
    char *stored_config;   /* mpiblend_config, or NULL */
    char *stored_inputs;   /* mpiblend_inputs (JSON), or NULL */
    mpb_config *config;    /* with --config, or the recorded one */
    mpb_merge_recipe r;
    bool have_recipe;
    const char *input_paths[MPB_MAX_INPUTS];
    mpb_store out; /* opened on MPI_COMM_SELF */
    mpb_store inputs[MPB_MAX_INPUTS];
    int rank, nranks;
    MPI_Comm comm;
};

/* This rank's share of the tensors. */
static inline bool mpb_verify_mine(const struct mpb_verify *v, size_t t)
{
    return (int)(t % (size_t)v->nranks) == v->rank;
}

/* Collective: the output's data checksum, recomputed now. */
int mpb_verify_output_checksum(struct mpb_verify *v, uint32_t *computed, mpb_error *err);

/* Collective.  computed[i]: the checksum of what the merge read from input
 * i, recomputed now. */
int mpb_verify_input_checksums(struct mpb_verify *v, uint32_t *computed, mpb_error *err);

/* Collective: recomputes `sample` elements of every tensor.  Returns the
 * agreed status; a mismatch fails with a message naming the first tensor
 * (in index order) and element that differ.  *checked and *bad count
 * elements over all ranks. */
int mpb_verify_samples(struct mpb_verify *v, uint64_t sample, uint64_t *checked, uint64_t *bad,
                       mpb_error *err);

/* Whether the sample check knows the method. */
bool mpb_verify_method_supported(mpb_method m);

#endif
