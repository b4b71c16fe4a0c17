/* What a merge records about the data it moves (docs/RELIABILITY.md): the
 * checksum of the output's tensor data, the checksum of the data it read
 * from each input, and the non-finite values (NaN, inf) it met under the
 * --nonfinite policy.  Every rank audits its own items as the step moves
 * them; mpb_audit_seal combines the ranks' parts and stores them as root
 * attributes of the output:
 *
 *   mpiblend_checksum         "crc32c:89abcdef": all output tensor data in
 *                             index order (mpb_checksum.h), as sweeps write it
 *   mpiblend_input_checksums  ["crc32c:...", ...] per input in config order:
 *                             the data read from it (every tensor blended,
 *                             and the tensors copied from it)
 *   mpiblend_nonfinite        {"tensor": count, ...}: non-finite output
 *                             elements per tensor, {} when there are none
 *
 * An input that carries its own mpiblend_checksum (a merge or sweep output)
 * and is read whole is checked against it: a mismatch fails the merge,
 * naming the input, since its data was damaged after it was written.
 *
 * mpb_audit_init, mpb_audit_seal and mpb_audit_free are collective. */
#ifndef MPB_AUDIT_H
#define MPB_AUDIT_H

#include "mpb_checksum.h"
#include "mpb_config.h"
#include "mpb_job.h"
#include "mpb_merge_setup.h"
#include "mpb_nonfinite.h"
#include "mpb_plan.h"

#include <mpi.h>

#define MPB_INPUT_CHECKSUMS_ATTR "mpiblend_input_checksums"
#define MPB_NONFINITE_ATTR "mpiblend_nonfinite"

typedef struct mpb_audit {
    const mpb_merge_recipe *r;
    const mpb_plan *plan;
    mpb_nonfinite_mode mode;
    mpb_checksum_slots out;         /* one slot per plan item */
    mpb_checksum_slots in;          /* n_inputs x n_items: input i, item k at i * n_items + k */
    uint64_t *nonfinite;            /* per tensor: non-finite output elements */
    int has_stored[MPB_MAX_INPUTS]; /* input i carries a data checksum... */
    uint32_t stored[MPB_MAX_INPUTS]; /* ...this one */
    mpb_config_warn_fn warn;         /* rank 0: one line per tensor with non-finite outputs */
    void *warn_ctx;
    MPI_Comm comm;
} mpb_audit;

int mpb_audit_init(mpb_audit *a, const mpb_merge_recipe *r, const mpb_plan *plan,
                   mpb_nonfinite_mode mode, mpb_config_warn_fn warn, void *warn_ctx,
                   MPI_Comm comm, mpb_error *err);

/* After the item's rows of tensor `tensor` were read, bufs[i] holding input
 * i's rows (only the inputs the recipe reads for it), and before anything
 * blends in place: checksums them and, with --nonfinite error, fails on the
 * first non-finite value, naming the tensor, the input and the element.
 * Does nothing for it == NULL or after a failure. */
int mpb_audit_inputs(mpb_audit *a, size_t tensor, const mpb_item *it, void *const *bufs,
                     mpb_error *err);

/* The item's output rows as they are written: checksum and non-finite
 * count; under --nonfinite error a non-finite result (an overflow of the
 * output dtype from finite inputs) fails, naming the tensor and element.
 * Does nothing for it == NULL. */
void mpb_audit_output(mpb_audit *a, size_t tensor, const mpb_item *it, const void *rows,
                      mpb_error *err);

/* An mpb_job_seal_fn (ctx: the audit): combines every rank's part, checks
 * the inputs' own checksums, sets the three attributes on outs[0] and warns
 * on rank 0 about non-finite outputs. */
int mpb_audit_seal(void *ctx, mpb_job_output *outs, size_t n_outs, mpb_error *err);

void mpb_audit_free(mpb_audit *a);

/* Whether the merge reads input `input` for tensor t: a blended tensor from
 * each input it blends (mpb_merge_recipe_inputs), a copied one from its
 * source only.  Input checksums cover
 * exactly these reads. */
bool mpb_audit_reads(const mpb_merge_recipe *r, size_t t, size_t input);

/* Collective: merges every rank's slots (XOR of CRCs, sum of lengths; a
 * slot is filled on one rank only). */
void mpb_audit_allreduce_slots(mpb_checksum_slots *s, MPI_Comm comm);

/* Collective: the data checksum (mpiblend_checksum) of the tensors of idx
 * in an open store, recomputed now.  Tensor t is read by rank t mod P, in
 * whole rows of at most 16 MiB (a row when larger), with independent reads;
 * every rank gets the joined result.  verify and a sweep's resume use it. */
int mpb_audit_store_checksum(const mpb_store *store, const mpb_index *idx, MPI_Comm comm,
                             uint32_t *crc, mpb_error *err);

#endif
