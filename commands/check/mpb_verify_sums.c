/* verify's checksum checks: every rank reads its tensors in whole rows. */
#include "mpb_audit.h"
#include "mpb_checksum.h"
#include "mpb_comm.h"
#include "mpb_verify_internal.h"

#include <stdlib.h>

/* Reads of at most this much; more than a row when a row is larger. */
#define CHUNK_BYTES (16ull << 20)

struct sums {
    mpb_checksum_slots slots;
    void *buf;
    uint64_t bytes;
};

/* n_slots empty slots and a read buffer for the tensors of idx; agreed. */
static int sums_begin(struct sums *s, const struct mpb_verify *v, const mpb_index *idx,
                      size_t n_slots, mpb_error *err)
{
    s->bytes = CHUNK_BYTES;
    for (size_t t = 0; t < idx->n; t++)
        if (mpb_tensor_row_bytes(&idx->tensors[t]) > s->bytes)
            s->bytes = mpb_tensor_row_bytes(&idx->tensors[t]);
    s->buf = malloc(s->bytes);
    if (s->buf == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte read buffer",
                 (unsigned long long)s->bytes);
    else
        mpb_checksum_slots_init(&s->slots, n_slots, err);
    return mpb_comm_agree(err, v->comm);
}

/* Agrees on the reads, then merges every rank's slots. */
static int sums_end(struct sums *s, const struct mpb_verify *v, mpb_error *err)
{
    free(s->buf);
    s->buf = NULL;
    int rc = mpb_comm_agree(err, v->comm);
    if (rc == MPB_OK)
        mpb_audit_allreduce_slots(&s->slots, v->comm);
    return rc;
}

int mpb_verify_output_checksum(struct mpb_verify *v, uint32_t *computed, mpb_error *err)
{
    return mpb_audit_store_checksum(&v->out, &v->out_idx, v->comm, computed, err);
}

int mpb_verify_input_checksums(struct mpb_verify *v, uint32_t *computed, mpb_error *err)
{
    const mpb_merge_recipe *r = &v->r;
    size_t nt = r->in_idx.n;
    struct sums s = {0};
    int rc = sums_begin(&s, v, &r->in_idx, r->n_inputs * nt, err);
    for (size_t t = 0; rc == MPB_OK && t < nt && err->code == MPB_OK; t++)
        for (size_t i = 0; i < r->n_inputs && err->code == MPB_OK; i++)
            if (mpb_verify_mine(v, t) && mpb_audit_reads(r, t, i))
                mpb_checksum_add_tensor(&s.slots, i * nt + t, &v->inputs[i], &r->in_idx, t,
                                        s.buf, s.bytes, err);
    if (rc == MPB_OK && (rc = sums_end(&s, v, err)) == MPB_OK)
        for (size_t i = 0; i < r->n_inputs; i++)
            computed[i] = mpb_checksum_slots_join(&s.slots, i * nt, nt);
    free(s.buf);
    mpb_checksum_slots_free(&s.slots);
    return rc;
}
