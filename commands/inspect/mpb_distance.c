#include "mpb_distance.h"

#include "mpb_comm.h"
#include "mpb_convert.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_progress.h"

#include <stdlib.h>
#include <string.h>

/* Row sums held at once: tensors are taken in batches of at most this many
 * doubles (64 MiB), a tensor with more rows forming a batch of its own.
 * Test-only: MPB_TEST_DISTANCE_BATCH=n sets n, to exercise many batches on
 * small models (docs/OPERATIONS.md). */
#define BATCH_SLOTS (8u << 20)

static size_t batch_slots(void)
{
    const char *text = getenv("MPB_TEST_DISTANCE_BATCH");
    long n = text ? strtol(text, NULL, 10) : 0;
    return n > 0 ? (size_t)n : BATCH_SLOTS;
}
/* Doubles per MPI_Reduce call: well inside an int count. */
#define REDUCE_CHUNK (1u << 26)

struct distance_run {
    mpb_distance_result *res;
    const mpb_plan *plan;
    mpb_store stores[MPB_DISTANCE_MAX_INPUTS];
    void *raw[MPB_DISTANCE_MAX_INPUTS];      /* one round per input, as stored */
    double *values[MPB_DISTANCE_MAX_INPUTS]; /* one row per input, widened */
    float *scratch;
    size_t first; /* the batch's tensors: [first, last) */
    size_t last;
    uint64_t *slot_row; /* per tensor of the batch: its first row's slot */
    double *slots;      /* stride doubles per row of the batch */
    size_t n_slots;
    mpb_progress progress;
    uint64_t plan_bytes;   /* every rank's, the whole run */
    uint64_t rank0_before; /* rank 0's bytes in earlier batches */
};

static bool is_float(mpb_dtype dt)
{
    return mpb_dtype_is_blendable(dt) || dt == MPB_DT_F64;
}

static void widen_row(mpb_dtype dt, const unsigned char *src, uint64_t m, double *dst,
                      float *scratch)
{
    if (dt == MPB_DT_F64) {
        memcpy(dst, src, m * sizeof *dst);
        return;
    }
    mpb_convert_to_f32(dt, src, scratch, (size_t)m);
    for (uint64_t k = 0; k < m; k++)
        dst[k] = scratch[k];
}

static int distance_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct distance_run *d = ctx;
    mpb_distance_result *res = d->res;
    for (size_t j = 0; j < round->n && err->code == MPB_OK; j++) {
        const mpb_item *it = round->items[j];
        for (size_t i = 0; i < res->n_inputs; i++)
            mpb_drive_read(&d->stores[i], it, mpb_round_buf(d->raw[i], round, j), err);
    }
    mpb_store_flush(d->stores, res->n_inputs, err);
    for (size_t j = 0; j < round->n && err->code == MPB_OK; j++) {
        const mpb_item *it = round->items[j];
        const mpb_tensor *t = &res->idx.tensors[it->tensor];
        uint64_t row_bytes = mpb_tensor_row_bytes(t);
        uint64_t m = row_bytes / mpb_dtype_size(t->dtype);
        for (uint64_t r = 0; r < it->nrows; r++) {
            for (size_t i = 0; i < res->n_inputs; i++)
                widen_row(t->dtype,
                          (const unsigned char *)mpb_round_buf(d->raw[i], round, j) +
                              r * row_bytes,
                          m, d->values[i], d->scratch);
            double *slot =
                d->slots + (d->slot_row[it->tensor - d->first] + it->row0 + r) * res->stride;
            mpb_distance_row(res->n_inputs, (const double *const *)d->values, m, slot);
        }
    }
    return err->code;
}

/* The driver reports one batch; the progress shows the whole run. */
static void batch_progress(void *ctx, uint64_t done, uint64_t total, uint64_t plan_total,
                           size_t tensors_done, size_t tensors_total)
{
    (void)total;
    (void)plan_total;
    struct distance_run *d = ctx;
    mpb_progress_update(&d->progress, d->rank0_before + done, d->plan->rank_bytes[0],
                        d->plan_bytes, tensors_done, tensors_total);
}

/* The batch [first, last): its items are a contiguous run of the plan. */
static int drive_batch(struct distance_run *d, const size_t *first_item,
                       const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err)
{
    const mpb_plan *plan = d->plan;
    mpb_plan sub = {.nranks = plan->nranks,
                    .slab_bytes = plan->slab_bytes,
                    .n_items = first_item[d->last] - first_item[d->first],
                    .items = plan->items + first_item[d->first]};
    sub.rank_bytes = calloc((size_t)plan->nranks, sizeof *sub.rank_bytes);
    sub.rank_items = calloc((size_t)plan->nranks, sizeof *sub.rank_items);
    if (sub.rank_bytes == NULL || sub.rank_items == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the plan of a batch");
    for (size_t i = 0; i < sub.n_items && err->code == MPB_OK; i++) {
        sub.rank_bytes[sub.items[i].rank] += mpb_item_bytes(&d->res->idx, &sub.items[i], 0);
        sub.rank_items[sub.items[i].rank]++;
    }
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK) {
        mpb_drive_opts drive = {
            .collective = opts->io.collective, .progress = batch_progress, .progress_ctx = d};
        rc = mpb_drive(&sub, &d->res->idx, comm, &drive, distance_round, d, err);
    }
    d->rank0_before += sub.rank_bytes ? sub.rank_bytes[0] : 0;
    free(sub.rank_bytes);
    free(sub.rank_items);
    return rc;
}

/* Every row's sums sit on the one rank that read the row, zeros elsewhere,
 * so the sum over ranks is exact. */
static void reduce_slots(struct distance_run *d, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    for (size_t at = 0; at < d->n_slots; at += REDUCE_CHUNK) {
        size_t n = d->n_slots - at < REDUCE_CHUNK ? d->n_slots - at : REDUCE_CHUNK;
        MPI_Reduce(rank == 0 ? MPI_IN_PLACE : d->slots + at, d->slots + at, (int)n, MPI_DOUBLE,
                   MPI_SUM, 0, comm);
    }
}

/* Rank 0: adds each tensor's rows in row order. */
static void fold_rows(struct distance_run *d)
{
    mpb_distance_result *res = d->res;
    for (size_t t = d->first; t < d->last; t++) {
        const mpb_tensor *tensor = &res->idx.tensors[t];
        uint64_t rows = mpb_tensor_rows(tensor);
        uint64_t m = rows ? mpb_tensor_numel(tensor) / rows : 0;
        double *acc = res->tensor_sums + t * res->stride;
        for (uint64_t r = 0; r < rows; r++)
            mpb_distance_merge(res->n_inputs, acc, r * m,
                               d->slots + (d->slot_row[t - d->first] + r) * res->stride, m);
    }
}

/* Picks the next batch from d->last on and lays out its row slots. */
static int next_batch(struct distance_run *d, mpb_error *err)
{
    const mpb_index *idx = &d->res->idx;
    d->first = d->last;
    size_t rows = 0;
    while (d->last < idx->n) {
        size_t more = (size_t)mpb_tensor_rows(&idx->tensors[d->last]);
        if (d->last > d->first && (rows + more) * d->res->stride > batch_slots())
            break;
        d->slot_row[d->last - d->first] = rows;
        rows += more;
        d->last++;
    }
    d->n_slots = rows * d->res->stride;
    free(d->slots);
    d->slots = calloc(d->n_slots ? d->n_slots : 1, sizeof *d->slots);
    if (d->slots == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu row sums", d->n_slots);
    return MPB_OK;
}

static int alloc_buffers(struct distance_run *d, bool collective, mpb_error *err)
{
    const mpb_index *idx = &d->res->idx;
    uint64_t item = mpb_drive_buffer_bytes(d->plan, idx, 0, collective) + 1, row = 1;
    for (size_t t = 0; t < idx->n; t++) {
        const mpb_tensor *tensor = &idx->tensors[t];
        uint64_t m = mpb_tensor_row_bytes(tensor) / mpb_dtype_size(tensor->dtype);
        row = m > row ? m : row;
    }
    bool ok = (d->scratch = malloc(row * sizeof *d->scratch)) != NULL;
    ok = ok && (d->slot_row = calloc(idx->n, sizeof *d->slot_row)) != NULL;
    ok = ok && (d->res->tensor_sums = calloc(idx->n * d->res->stride, sizeof(double))) != NULL;
    for (size_t i = 0; i < d->res->n_inputs && ok; i++)
        ok = (d->raw[i] = malloc(item)) != NULL &&
             (d->values[i] = malloc(row * sizeof *d->values[i])) != NULL;
    if (!ok)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu slabs of %llu bytes",
                        d->res->n_inputs, (unsigned long long)item);
    return MPB_OK;
}

static void free_buffers(struct distance_run *d)
{
    for (size_t i = 0; i < d->res->n_inputs; i++) {
        free(d->raw[i]);
        free(d->values[i]);
    }
    free(d->scratch);
    free(d->slot_row);
    free(d->slots);
}

/* Rank 0: per module kind and overall, adding tensors in index order. */
static void fold_scopes(mpb_distance_result *res)
{
    for (size_t t = 0; t < res->idx.n; t++) {
        const mpb_tensor *tensor = &res->idx.tensors[t];
        uint64_t m = mpb_tensor_numel(tensor);
        int scopes[2] = {(int)mpb_module_kind_of(tensor->name), MPB_DISTANCE_OVERALL};
        for (int s = 0; s < 2; s++) {
            int k = scopes[s];
            mpb_distance_merge(res->n_inputs, res->scope_sums[k], res->scope_numel[k],
                               res->tensor_sums + t * res->stride, m);
            res->scope_numel[k] += m;
            res->scope_tensors[k]++;
        }
    }
}

/* Keeps the floating-point tensors of the inputs' common index. */
static int float_tensors(const mpb_index *all, mpb_distance_result *res, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < all->n && rc == MPB_OK; i++) {
        const mpb_tensor *t = &all->tensors[i];
        if (is_float(t->dtype))
            rc = mpb_index_add(&res->idx, t->name, t->dtype, t->ndim, t->shape, err);
        else
            res->n_skipped++;
    }
    if (rc == MPB_OK && res->idx.n == 0)
        rc = mpb_fail(err, MPB_EINVAL, "'%s' holds no floating-point tensors to compare",
                      res->paths[0]);
    return rc;
}

static int measure(struct distance_run *d, const mpb_run_opts *opts, MPI_Comm comm,
                   mpb_error *err)
{
    const mpb_plan *plan = d->plan;
    size_t n = d->res->idx.n;
    size_t *first_item = calloc(n + 1, sizeof *first_item);
    if (first_item == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t i = 0, t = 0; first_item && t <= n; t++) {
        while (i < plan->n_items && plan->items[i].tensor < t)
            i++;
        first_item[t] = i;
    }
    for (int r = 0; r < plan->nranks; r++)
        d->plan_bytes += plan->rank_bytes[r];
    int rank;
    MPI_Comm_rank(comm, &rank);
    int rc = mpb_comm_agree(err, comm);
    while (rc == MPB_OK && d->last < n) {
        next_batch(d, err);
        rc = mpb_comm_agree(err, comm);
        if (rc == MPB_OK)
            rc = drive_batch(d, first_item, opts, comm, err);
        if (rc == MPB_OK)
            reduce_slots(d, comm);
        if (rc == MPB_OK && rank == 0)
            fold_rows(d);
    }
    if (rc == MPB_OK && rank == 0)
        fold_scopes(d->res);
    free(first_item);
    return rc;
}

int mpb_distance_compute(const char *const *paths, size_t n_inputs, const mpb_run_opts *opts,
                         MPI_Comm comm, mpb_distance_result *res, mpb_error *err)
{
    memset(res, 0, sizeof *res);
    res->n_inputs = n_inputs;
    res->paths = paths;
    res->stride = mpb_distance_stride(n_inputs);
    mpb_index all = {0};
    mpb_plan plan = {0};
    struct distance_run d = {.res = res, .plan = &plan};
    int rc = mpb_inputs_share_index(paths, n_inputs, comm, &all, NULL, err);
    if (rc == MPB_OK) {
        float_tensors(&all, res, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc == MPB_OK)
        rc = mpb_job_share_plan(&res->idx, opts->slab_bytes, 0, comm, &plan, err);
    if (rc == MPB_OK) {
        alloc_buffers(&d, opts->io.collective, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc == MPB_OK)
        rc = mpb_inputs_open(paths, n_inputs, &res->idx, NULL, &opts->io, comm, d.stores, err);
    if (rc == MPB_OK) {
        mpb_progress_init(&d.progress, "distance", opts->quiet, opts->progress_secs);
        rc = measure(&d, opts, comm, err);
        mpb_inputs_close(d.stores, n_inputs, err);
        rc = mpb_comm_agree(err, comm);
        if (rc == MPB_OK)
            mpb_progress_finish(&d.progress, comm, n_inputs * mpb_index_total_bytes(&res->idx),
                                0, "-");
    }
    free_buffers(&d);
    mpb_plan_free(&plan);
    mpb_index_free(&all);
    return rc;
}

void mpb_distance_free(mpb_distance_result *res)
{
    mpb_index_free(&res->idx);
    free(res->tensor_sums);
    memset(res, 0, sizeof *res);
}

int mpb_distance_run(const char *const *paths, size_t n_inputs, mpb_distance_format fmt,
                     const mpb_run_opts *opts, FILE *out, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    mpb_distance_result res;
    int rc = mpb_distance_compute(paths, n_inputs, opts, comm, &res, err);
    if (rc == MPB_OK && rank == 0)
        mpb_distance_print(out, &res, fmt, err);
    mpb_distance_free(&res);
    return mpb_comm_agree(err, comm);
}
