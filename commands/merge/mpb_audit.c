#include "mpb_audit.h"

#include "mpb_comm.h"
#include "mpb_store.h"
#include "mpb_sweep_manifest.h" /* MPB_CHECKSUM_ATTR */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rank 0 reads the data checksums the inputs carry; every rank gets them. */
static void read_stored(mpb_audit *a)
{
    int rank;
    MPI_Comm_rank(a->comm, &rank);
    for (size_t i = 0; rank == 0 && i < a->r->n_inputs; i++) {
        const char *path = mpb_config_input_path(a->r->config, i);
        char text[64];
        a->has_stored[i] = mpb_store_for_path(path) == &mpb_store_hdf5 &&
                           mpb_sweep_read_checksum_attr(path, text, sizeof text) &&
                           mpb_checksum_parse(text, &a->stored[i]);
    }
    MPI_Bcast(a->has_stored, MPB_MAX_INPUTS, MPI_INT, 0, a->comm);
    MPI_Bcast(a->stored, MPB_MAX_INPUTS, MPI_UINT32_T, 0, a->comm);
}

int mpb_audit_init(mpb_audit *a, const mpb_merge_recipe *r, const mpb_plan *plan,
                   mpb_nonfinite_mode mode, mpb_config_warn_fn warn, void *warn_ctx,
                   MPI_Comm comm, mpb_error *err)
{
    *a = (mpb_audit){
        .r = r, .plan = plan, .mode = mode, .warn = warn, .warn_ctx = warn_ctx, .comm = comm};
    if (mpb_checksum_slots_init(&a->out, plan->n_items, err) == MPB_OK &&
        mpb_checksum_slots_init(&a->in, r->n_inputs * plan->n_items, err) == MPB_OK) {
        a->nonfinite = calloc(r->out_idx.n + 1, sizeof *a->nonfinite);
        if (a->nonfinite == NULL)
            mpb_fail(err, MPB_ENOMEM, "out of memory for the merge's audit");
    }
    read_stored(a);
    return mpb_comm_agree(err, comm);
}

bool mpb_audit_reads(const mpb_merge_recipe *r, size_t t, size_t input)
{
    return r->copy_from[t] < 0 ? input < mpb_merge_recipe_inputs(r, t)
                               : (size_t)r->copy_from[t] == input;
}

static uint64_t row_elems(const mpb_tensor *t)
{
    return mpb_tensor_row_bytes(t) / mpb_dtype_size(t->dtype);
}

int mpb_audit_inputs(mpb_audit *a, size_t tensor, const mpb_item *it, void *const *bufs,
                     mpb_error *err)
{
    if (it == NULL || err->code != MPB_OK)
        return err->code;
    const mpb_merge_recipe *r = a->r;
    const mpb_tensor *t = &r->in_idx.tensors[tensor];
    size_t item = mpb_plan_item_index(a->plan, it);
    uint64_t n = it->nrows * row_elems(t);
    for (size_t i = 0; i < r->n_inputs && err->code == MPB_OK; i++) {
        if (!mpb_audit_reads(r, tensor, i))
            continue;
        mpb_checksum_slots_add(&a->in, i * a->plan->n_items + item, bufs[i],
                               n * mpb_dtype_size(t->dtype));
        mpb_nonfinite_check(a->mode, t->dtype, bufs[i], (size_t)n, it->row0 * row_elems(t),
                            t->name, mpb_config_input_path(r->config, i), err);
    }
    return err->code;
}

void mpb_audit_output(mpb_audit *a, size_t tensor, const mpb_item *it, const void *rows,
                      mpb_error *err)
{
    if (it == NULL)
        return;
    const mpb_tensor *t = &a->r->out_idx.tensors[tensor];
    uint64_t n = it->nrows * row_elems(t);
    mpb_checksum_slots_add(&a->out, mpb_plan_item_index(a->plan, it), rows,
                           n * mpb_dtype_size(t->dtype));
    uint64_t bad = mpb_nonfinite_count(t->dtype, rows, (size_t)n);
    a->nonfinite[tensor] += bad;
    /* The inputs were finite (checked first), so the blend overflowed. */
    if (bad > 0 && a->mode == MPB_NONFINITE_ERROR) {
        size_t at = mpb_nonfinite_find(t->dtype, rows, (size_t)n);
        mpb_fail(err, MPB_EINVAL,
                 "the blend of tensor '%s' gives a non-finite value (%s) "
                 "at element %llu from finite inputs (the result overflows %s); stopped by "
                 "--nonfinite error",
                 t->name, mpb_nonfinite_kind(t->dtype, rows, at),
                 (unsigned long long)(it->row0 * row_elems(t) + at), mpb_dtype_name(t->dtype));
    }
}

void mpb_audit_allreduce_slots(mpb_checksum_slots *s, MPI_Comm comm)
{
    if (s->n == 0)
        return;
    MPI_Allreduce(MPI_IN_PLACE, s->crc, (int)s->n, MPI_UINT32_T, MPI_BXOR, comm);
    MPI_Allreduce(MPI_IN_PLACE, s->len, (int)s->n, MPI_UINT64_T, MPI_SUM, comm);
}

/* Reads of at most this much; more than a row when a row is larger. */
#define CHUNK_BYTES (16ull << 20)

int mpb_audit_store_checksum(const mpb_store *store, const mpb_index *idx, MPI_Comm comm,
                             uint32_t *crc, mpb_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    uint64_t bytes = CHUNK_BYTES;
    for (size_t t = 0; t < idx->n; t++)
        if (mpb_tensor_row_bytes(&idx->tensors[t]) > bytes)
            bytes = mpb_tensor_row_bytes(&idx->tensors[t]);
    void *buf = err->code == MPB_OK ? malloc(bytes) : NULL;
    mpb_checksum_slots slots = {0};
    if (err->code == MPB_OK && buf == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte read buffer",
                 (unsigned long long)bytes);
    else if (err->code == MPB_OK)
        mpb_checksum_slots_init(&slots, idx->n, err);
    for (size_t t = (size_t)rank; err->code == MPB_OK && t < idx->n; t += (size_t)nranks)
        mpb_checksum_add_tensor(&slots, t, store, idx, t, buf, bytes, err);
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK) {
        mpb_audit_allreduce_slots(&slots, comm);
        *crc = mpb_checksum_slots_join(&slots, 0, slots.n);
    }
    mpb_checksum_slots_free(&slots);
    free(buf);
    return rc;
}

/* Every tensor read from input i: the whole file's data went through. */
static bool read_whole(const mpb_audit *a, size_t input)
{
    if (a->r->sources != NULL) /* slices: an input is a view, not one file's data */
        return false;
    for (size_t t = 0; t < a->r->in_idx.n; t++)
        if (!mpb_audit_reads(a->r, t, input))
            return false;
    return true;
}

static int check_stored(const mpb_audit *a, mpb_error *err)
{
    size_t n = a->plan->n_items;
    for (size_t i = 0; i < a->r->n_inputs; i++) {
        if (!a->has_stored[i] || !read_whole(a, i))
            continue;
        uint32_t crc = mpb_checksum_slots_join(&a->in, i * n, n);
        if (crc == a->stored[i])
            continue;
        char read[MPB_CHECKSUM_TEXT_MAX], stored[MPB_CHECKSUM_TEXT_MAX];
        mpb_checksum_format(crc, read);
        mpb_checksum_format(a->stored[i], stored);
        return mpb_fail(err, MPB_EINVAL,
                        "input '%s' is damaged: its tensor data reads as %s, but the file "
                        "records %s from when it was written",
                        mpb_config_input_path(a->r->config, i), read, stored);
    }
    return MPB_OK;
}

static char *input_checksums_json(const mpb_audit *a)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < a->r->n_inputs; i++) {
        char text[MPB_CHECKSUM_TEXT_MAX];
        size_t n = a->plan->n_items;
        mpb_checksum_format(mpb_checksum_slots_join(&a->in, i * n, n), text);
        json_array_append_new(list, json_string(text));
    }
    char *s = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    return s;
}

/* The per-tensor counts as JSON; rank 0 also warns about each. */
static char *nonfinite_json(const mpb_audit *a, int rank)
{
    const mpb_index *idx = &a->r->out_idx;
    json_t *counts = json_object();
    for (size_t t = 0; counts && t < idx->n; t++) {
        if (a->nonfinite[t] == 0)
            continue;
        json_object_set_new(counts, idx->tensors[t].name,
                            json_integer((json_int_t)a->nonfinite[t]));
        if (rank == 0 && a->warn) {
            char msg[1024];
            snprintf(msg, sizeof msg,
                     "tensor '%s': %llu of %llu output elements are not finite (NaN or inf)",
                     idx->tensors[t].name, (unsigned long long)a->nonfinite[t],
                     (unsigned long long)mpb_tensor_numel(&idx->tensors[t]));
            a->warn(a->warn_ctx, msg);
        }
    }
    char *s = counts ? json_dumps(counts, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(counts);
    return s;
}

int mpb_audit_seal(void *ctx, mpb_job_output *outs, size_t n_outs, mpb_error *err)
{
    mpb_audit *a = ctx;
    int rank;
    MPI_Comm_rank(a->comm, &rank);
    mpb_audit_allreduce_slots(&a->out, a->comm);
    mpb_audit_allreduce_slots(&a->in, a->comm);
    if (a->r->out_idx.n > 0)
        MPI_Allreduce(MPI_IN_PLACE, a->nonfinite, (int)a->r->out_idx.n, MPI_UINT64_T, MPI_SUM,
                      a->comm);
    check_stored(a, err);
    char checksum[MPB_CHECKSUM_TEXT_MAX];
    mpb_checksum_format(mpb_checksum_slots_join(&a->out, 0, a->plan->n_items), checksum);
    char *inputs = input_checksums_json(a);
    char *nonfinite = nonfinite_json(a, rank);
    if (inputs == NULL || nonfinite == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the output's checksums");
    /* set_attr is collective: every rank reaches it with the same values. */
    int rc = mpb_comm_agree(err, a->comm);
    mpb_store *s = n_outs > 0 ? &outs[0].store : NULL;
    if (rc == MPB_OK && s)
        rc = s->ops->set_attr(s->handle, MPB_CHECKSUM_ATTR, checksum, err);
    if (rc == MPB_OK && s)
        rc = s->ops->set_attr(s->handle, MPB_INPUT_CHECKSUMS_ATTR, inputs, err);
    if (rc == MPB_OK && s)
        rc = s->ops->set_attr(s->handle, MPB_NONFINITE_ATTR, nonfinite, err);
    free(inputs);
    free(nonfinite);
    return rc;
}

void mpb_audit_free(mpb_audit *a)
{
    mpb_checksum_slots_free(&a->out);
    mpb_checksum_slots_free(&a->in);
    free(a->nonfinite);
    a->nonfinite = NULL;
}
