/* verify's sample check: single elements recomputed from single input rows
 * with the merge's recipe and kernels, no plan, no slabs, no MPI-IO. */
#include "mpb_audit.h"
#include "mpb_comm.h"
#include "mpb_kernel.h"
#include "mpb_method.h"
#include "mpb_random.h"
#include "mpb_verify_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mpb_verify_method_supported(mpb_method m)
{
    return mpb_method_get(m)->verifiable;
}

struct sampler {
    struct mpb_verify *v;
    unsigned char *out_row;
    unsigned char *in_rows[MPB_MAX_INPUTS];
    size_t first_bad; /* tensor of this rank's first mismatch, or SIZE_MAX */
    char first_msg[512];
    uint64_t checked, bad;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The first and last element (where slabs start and end) and random others,
 * ascending; every element when the tensor is small. */
static uint64_t *pick(const mpb_tensor *t, uint64_t sample, size_t *n)
{
    uint64_t numel = mpb_tensor_numel(t);
    *n = (size_t)(numel <= sample ? numel : sample);
    uint64_t *at = malloc((*n + 1) * sizeof *at);
    if (at == NULL)
        return NULL;
    uint64_t key = mpb_random_key(0x76657269667921ull, 0, t->name);
    for (size_t k = 0; k < *n; k++)
        at[k] = numel <= sample ? k
                : k == 0        ? 0
                : k == 1        ? numel - 1
                                : mpb_random_bits(key, k) % numel;
    qsort(at, *n, sizeof *at, cmp_u64);
    return at;
}

static int load_row(struct sampler *s, size_t t, uint64_t row, mpb_error *err)
{
    struct mpb_verify *v = s->v;
    int rc = v->out.ops->read_rows(v->out.handle, t, row, 1, s->out_row, err);
    for (size_t i = 0; i < v->r.n_inputs && rc == MPB_OK; i++)
        if (mpb_audit_reads(&v->r, t, i))
            rc =
                v->inputs[i].ops->read_rows(v->inputs[i].handle, t, row, 1, s->in_rows[i], err);
    return rc;
}

/* Element e (column col of its row) as the merge computes it. */
static void recompute(struct sampler *s, size_t t, uint64_t e, uint64_t col, void *want)
{
    const mpb_merge_recipe *r = &s->v->r;
    mpb_dtype in_dt = r->in_idx.tensors[t].dtype, out_dt = r->out_idx.tensors[t].dtype;
    size_t in_size = mpb_dtype_size(in_dt);
    const void *at[MPB_MAX_INPUTS];
    for (size_t i = 0; i < r->n_inputs; i++)
        at[i] = s->in_rows[i] + col * in_size;
    int src = r->copy_from[t];
    static const float one = 1.0f;
    if (src >= 0 && in_dt == out_dt) {
        memcpy(want, at[src], in_size);
    } else if (src >= 0) { /* a dtype change: 1 * x, exact in fp32 */
        mpb_blend_linear(1, &at[src], in_dt, &one, want, out_dt, 1);
    } else if (mpb_method_get(r->method)->blend == MPB_BLEND_ELEMENTWISE) {
        mpb_method_get(r->method)->kernel(
            &r->coef[t * r->n_inputs], (size_t)mpb_config_base_index(r->config),
            mpb_merge_recipe_inputs(r, t), at, in_dt, want, out_dt, 1);
    } else if (r->task != NULL && r->task[t].spec.n_models > 0) {
        mpb_task_pos pos = {.index = e};
        mpb_blend_task(&r->task[t].spec, at, in_dt, want, out_dt, 1, &pos);
    } else {
        mpb_blend_linear(mpb_merge_recipe_inputs(r, t), at, in_dt, &r->coef[t * r->n_inputs],
                         want, out_dt, 1);
    }
}

static uint64_t bits_of(const unsigned char *p, size_t size)
{
    uint64_t b = 0;
    memcpy(&b, p, size);
    return b;
}

static void note_mismatch(struct sampler *s, size_t t, uint64_t e, uint64_t row,
                          const unsigned char *got, const unsigned char *want)
{
    s->bad++;
    if (s->first_bad != SIZE_MAX)
        return;
    const mpb_tensor *ot = &s->v->out_idx.tensors[t];
    size_t size = mpb_dtype_size(ot->dtype);
    s->first_bad = t;
    snprintf(s->first_msg, sizeof s->first_msg,
             "tensor '%s' element %llu (row %llu): stored bits 0x%0*llx, but the inputs give "
             "0x%0*llx (%s)",
             ot->name, (unsigned long long)e, (unsigned long long)row, (int)(2 * size),
             (unsigned long long)bits_of(got, size), (int)(2 * size),
             (unsigned long long)bits_of(want, size), mpb_dtype_name(ot->dtype));
}

static int check_tensor(struct sampler *s, size_t t, uint64_t sample, mpb_error *err)
{
    const mpb_tensor *ot = &s->v->out_idx.tensors[t];
    uint64_t per_row = mpb_tensor_numel(ot) / (mpb_tensor_rows(ot) ? mpb_tensor_rows(ot) : 1);
    size_t out_size = mpb_dtype_size(ot->dtype), n;
    uint64_t *at = pick(ot, sample, &n);
    if (at == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory sampling '%s'", ot->name);
    uint64_t loaded = UINT64_MAX;
    unsigned char want[8];
    int rc = MPB_OK;
    for (size_t k = 0; k < n && rc == MPB_OK; k++) {
        uint64_t row = at[k] / per_row, col = at[k] % per_row;
        if (row != loaded && (rc = load_row(s, t, row, err)) != MPB_OK)
            break;
        loaded = row;
        recompute(s, t, at[k], col, want);
        const unsigned char *got = s->out_row + col * out_size;
        if (memcmp(got, want, out_size) != 0)
            note_mismatch(s, t, at[k], row, got, want);
        s->checked++;
    }
    free(at);
    return rc;
}

static int alloc_rows(struct sampler *s, mpb_error *err)
{
    uint64_t out_max = 1, in_max = 1;
    const mpb_merge_recipe *r = &s->v->r;
    for (size_t t = 0; t < r->in_idx.n; t++) {
        uint64_t in_b = mpb_tensor_row_bytes(&r->in_idx.tensors[t]);
        uint64_t out_b = mpb_tensor_row_bytes(&s->v->out_idx.tensors[t]);
        in_max = in_b > in_max ? in_b : in_max;
        out_max = out_b > out_max ? out_b : out_max;
    }
    s->out_row = malloc(out_max);
    bool ok = s->out_row != NULL;
    for (size_t i = 0; i < r->n_inputs; i++)
        ok &= (s->in_rows[i] = malloc(in_max)) != NULL;
    return ok ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory for one row per input");
}

static void free_rows(struct sampler *s)
{
    free(s->out_row);
    for (size_t i = 0; i < s->v->r.n_inputs; i++)
        free(s->in_rows[i]);
}

int mpb_verify_samples(struct mpb_verify *v, uint64_t sample, uint64_t *checked, uint64_t *bad,
                       mpb_error *err)
{
    struct sampler s = {.v = v, .first_bad = SIZE_MAX};
    if (alloc_rows(&s, err) == MPB_OK)
        for (size_t t = 0; t < v->out_idx.n && err->code == MPB_OK; t++)
            if (mpb_verify_mine(v, t))
                check_tensor(&s, t, sample, err);
    free_rows(&s);
    int rc = mpb_comm_agree(err, v->comm);
    if (rc != MPB_OK)
        return rc;
    /* Signed, with a sentinel below 2^63: MPICH 4.0 (Debian 12) takes the
     * minimum of unsigned 64-bit values as if they were signed. */
    long long first = s.first_bad == SIZE_MAX ? LLONG_MAX : (long long)s.first_bad;
    uint64_t counts[2] = {s.checked, s.bad};
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_LONG_LONG, MPI_MIN, v->comm);
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_UINT64_T, MPI_SUM, v->comm);
    *checked = counts[0];
    *bad = counts[1];
    /* The tensor that fails first in index order names the failure. */
    if (first != LLONG_MAX && s.first_bad == (size_t)first)
        mpb_fail(err, MPB_EINVAL, "'%s': %s; %llu of %llu sampled elements differ", v->out_path,
                 s.first_msg, (unsigned long long)counts[1], (unsigned long long)counts[0]);
    return mpb_comm_agree(err, v->comm);
}
