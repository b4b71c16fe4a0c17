#include "mpb_diff.h"

#include "mpb_compare.h"
#include "mpb_comm.h"
#include "mpb_driver.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_merge_setup.h"

#include <stdlib.h>
#include <string.h>

struct diff {
    mpb_index idx;
    mpb_index own[2]; /* each file's own index: where its bytes lie */
    mpb_plan plan;
    mpb_store stores[2];
    void *bufs[2];
    mpb_compare_stats *stats; /* per tensor */
};

static int diff_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct diff *d = ctx;
    for (size_t j = 0; j < round->n; j++)
        for (int k = 0; k < 2; k++)
            mpb_drive_read(&d->stores[k], round->items[j], mpb_round_buf(d->bufs[k], round, j),
                           err);
    mpb_store_flush(d->stores, 2, err);
    for (size_t j = 0; j < round->n && err->code == MPB_OK; j++) {
        const mpb_item *it = round->items[j];
        const mpb_tensor *t = &d->idx.tensors[it->tensor];
        uint64_t n = it->nrows * (mpb_tensor_row_bytes(t) / mpb_dtype_size(t->dtype));
        mpb_compare_add(t->dtype, mpb_round_buf(d->bufs[0], round, j),
                        mpb_round_buf(d->bufs[1], round, j), (size_t)n, &d->stats[it->tensor]);
    }
    return err->code;
}

/* Rank 0 receives every tensor's statistics over all ranks. */
static int reduce_stats(struct diff *d, MPI_Comm comm, mpb_error *err)
{
    size_t n = d->idx.n;
    uint64_t *u = calloc(3 * n + 1, sizeof *u);
    double *x = calloc(n + 1, sizeof *x);
    if (u == NULL || x == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the statistics of %zu tensors", n);
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK) {
        for (size_t t = 0; t < n; t++) {
            u[t] = d->stats[t].differ;
            u[n + t] = d->stats[t].nan_mismatch;
            u[2 * n + t] = d->stats[t].max_ulp;
            x[t] = d->stats[t].max_abs;
        }
        int rank;
        MPI_Comm_rank(comm, &rank);
        uint64_t *ulp = u + 2 * n;
        MPI_Reduce(rank ? u : MPI_IN_PLACE, u, (int)(2 * n), MPI_UINT64_T, MPI_SUM, 0, comm);
        MPI_Reduce(rank ? ulp : MPI_IN_PLACE, ulp, (int)n, MPI_UINT64_T, MPI_MAX, 0, comm);
        MPI_Reduce(rank ? x : MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_MAX, 0, comm);
        for (size_t t = 0; t < n; t++)
            d->stats[t] = (mpb_compare_stats){
                .differ = u[t], .nan_mismatch = u[n + t], .max_ulp = ulp[t], .max_abs = x[t]};
    }
    free(u);
    free(x);
    return rc;
}

static int compare_all(struct diff *d, const char *const *paths, const mpb_run_opts *opts,
                       MPI_Comm comm, mpb_error *err)
{
    int rc = mpb_inputs_share_index(paths, 2, comm, &d->idx, d->own, err);
    if (rc == MPB_OK)
        rc = mpb_job_share_plan(&d->idx, opts->slab_bytes, 0, comm, &d->plan, err);
    if (rc != MPB_OK)
        return rc;
    uint64_t slab = mpb_drive_buffer_bytes(&d->plan, &d->idx, 0, opts->io.collective) + 1;
    d->stats = calloc(d->idx.n + 1, sizeof *d->stats);
    for (int k = 0; k < 2; k++)
        d->bufs[k] = malloc(slab);
    if (d->stats == NULL || d->bufs[0] == NULL || d->bufs[1] == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for two slabs of %llu bytes",
                 (unsigned long long)slab);
    rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_inputs_open(paths, 2, &d->idx, d->own, &opts->io, comm, d->stores, err);
    if (rc == MPB_OK) {
        mpb_drive_opts drive = {.collective = opts->io.collective};
        rc = mpb_drive(&d->plan, &d->idx, comm, &drive, diff_round, d, err);
        mpb_inputs_close(d->stores, 2, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc == MPB_OK)
        rc = reduce_stats(d, comm, err);
    return rc;
}

/* Rank 0: one line per differing tensor, then the verdict. */
static int report(const struct diff *d, const char *const *paths, bool has_tol, double tol,
                  FILE *out, mpb_error *err)
{
    size_t differ = 0, beyond = 0;
    uint64_t elements = 0, numel = 0;
    for (size_t t = 0; t < d->idx.n; t++) {
        const mpb_tensor *tensor = &d->idx.tensors[t];
        const mpb_compare_stats *s = &d->stats[t];
        numel += mpb_tensor_numel(tensor);
        if (s->differ == 0)
            continue;
        if (differ++ == 0)
            fprintf(out, "%-48s %-5s %21s %12s %10s\n", "tensor", "dtype", "differing",
                    "max abs", "max ulp");
        elements += s->differ;
        beyond += has_tol && !mpb_compare_within(s, tol);
        char count[48];
        snprintf(count, sizeof count, "%llu/%llu", (unsigned long long)s->differ,
                 (unsigned long long)mpb_tensor_numel(tensor));
        fprintf(out, "%-48s %-5s %21s %12.5g %10llu%s\n", tensor->name,
                mpb_dtype_name(tensor->dtype), count, s->max_abs,
                (unsigned long long)s->max_ulp, s->nan_mismatch ? "  (NaN vs number)" : "");
    }
    if (differ == 0) {
        fprintf(out, "diff: identical tensor data (%zu tensors, %llu elements)\n", d->idx.n,
                (unsigned long long)numel);
        return MPB_OK;
    }
    fprintf(out, "diff: %zu of %zu tensors differ (%llu of %llu elements)\n", differ, d->idx.n,
            (unsigned long long)elements, (unsigned long long)numel);
    if (has_tol && beyond == 0) {
        fprintf(out, "diff: every difference is within --tolerance %g\n", tol);
        return MPB_OK;
    }
    if (has_tol)
        return mpb_fail(err, MPB_EINVAL,
                        "'%s' and '%s' differ beyond --tolerance %g in %zu "
                        "tensors",
                        paths[0], paths[1], tol, beyond);
    return mpb_fail(err, MPB_EINVAL, "'%s' and '%s' differ in %zu of %zu tensors", paths[0],
                    paths[1], differ, d->idx.n);
}

int mpb_diff_run(const char *a, const char *b, bool has_tolerance, double tolerance,
                 const mpb_run_opts *opts, FILE *out, MPI_Comm comm, mpb_error *err)
{
    const char *paths[2] = {a, b};
    struct diff d = {0};
    int rank;
    MPI_Comm_rank(comm, &rank);
    int rc = compare_all(&d, paths, opts, comm, err);
    if (rc == MPB_OK && rank == 0)
        report(&d, paths, has_tolerance, tolerance, out, err);
    if (rank == 0)
        fflush(out);
    for (int k = 0; k < 2; k++)
        free(d.bufs[k]);
    free(d.stats);
    mpb_plan_free(&d.plan);
    mpb_index_free(&d.idx);
    mpb_index_free(&d.own[0]);
    mpb_index_free(&d.own[1]);
    return mpb_comm_agree(err, comm);
}
