/* verify's checksum checks: every rank reads its tensors in whole rows. */
#include "mpb_audit.h"
#include "mpb_checksum.h"
#include "mpb_comm.h"
#include "mpb_verify_internal.h"

#include <stdlib.h>

/* Reads of at most this much; more than a row when a row is larger. */
#define CHUNK_BYTES (16ull << 20)

static void *chunk_for(const mpb_index *idx, uint64_t *bytes)
{
    uint64_t size = CHUNK_BYTES;
    for (size_t t = 0; t < idx->n; t++)
        if (mpb_tensor_row_bytes(&idx->tensors[t]) > size)
            size = mpb_tensor_row_bytes(&idx->tensors[t]);
    *bytes = size;
    return malloc(size);
}

int mpb_verify_output_checksum(struct mpb_verify *v, uint32_t *computed, mpb_error *err)
{
    mpb_checksum_slots slots;
    uint64_t bytes;
    void *buf = chunk_for(&v->out_idx, &bytes);
    if (buf == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte read buffer",
                 (unsigned long long)bytes);
    if (mpb_checksum_slots_init(&slots, v->out_idx.n, err) != MPB_OK) {
        free(buf);
        return mpb_comm_agree(err, v->comm);
    }
    for (size_t t = 0; t < v->out_idx.n && err->code == MPB_OK; t++)
        if (mpb_verify_mine(v, t))
            mpb_checksum_add_tensor(&slots, t, &v->out, &v->out_idx, t, buf, bytes, err);
    free(buf);
    int rc = mpb_comm_agree(err, v->comm);
    if (rc == MPB_OK) {
        mpb_audit_allreduce_slots(&slots, v->comm);
        *computed = mpb_checksum_slots_join(&slots, 0, slots.n);
    }
    mpb_checksum_slots_free(&slots);
    return rc;
}

/* As the merge reads: a blended tensor from every input, a copied one from
 * its source only (mpb_audit_inputs). */
static bool reads(const mpb_merge_recipe *r, size_t t, size_t input)
{
    return r->copy_from[t] < 0 || (size_t)r->copy_from[t] == input;
}

int mpb_verify_input_checksums(struct mpb_verify *v, uint32_t *computed, mpb_error *err)
{
    const mpb_merge_recipe *r = &v->r;
    size_t nt = r->in_idx.n;
    mpb_checksum_slots slots;
    uint64_t bytes;
    void *buf = chunk_for(&r->in_idx, &bytes);
    if (buf == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte read buffer",
                 (unsigned long long)bytes);
    if (mpb_checksum_slots_init(&slots, r->n_inputs * nt, err) != MPB_OK) {
        free(buf);
        return mpb_comm_agree(err, v->comm);
    }
    for (size_t t = 0; t < nt && err->code == MPB_OK; t++)
        for (size_t i = 0; i < r->n_inputs && err->code == MPB_OK; i++)
            if (mpb_verify_mine(v, t) && reads(r, t, i))
                mpb_checksum_add_tensor(&slots, i * nt + t, &v->inputs[i], &r->in_idx, t, buf,
                                        bytes, err);
    free(buf);
    int rc = mpb_comm_agree(err, v->comm);
    if (rc == MPB_OK) {
        mpb_audit_allreduce_slots(&slots, v->comm);
        for (size_t i = 0; i < r->n_inputs; i++)
            computed[i] = mpb_checksum_slots_join(&slots, i * nt, nt);
    }
    mpb_checksum_slots_free(&slots);
    return rc;
}
