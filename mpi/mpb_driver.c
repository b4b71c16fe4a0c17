#include "mpb_driver.h"

#include "mpb_comm.h"

#include <stdlib.h>

/* Test-only fault injection (docs/RELIABILITY.md): MPB_TEST_ABORT_RANK=r and
 * MPB_TEST_ABORT_AFTER=n make rank r abort the job after n items. */
static void maybe_inject_abort(int rank, size_t items_done)
{
    static int armed = -1;
    static long abort_rank, abort_after;
    if (armed < 0) {
        const char *r = getenv("MPB_TEST_ABORT_RANK");
        const char *n = getenv("MPB_TEST_ABORT_AFTER");
        armed = r && n;
        if (armed) {
            abort_rank = strtol(r, NULL, 10);
            abort_after = strtol(n, NULL, 10);
        }
    }
    if (armed && rank == abort_rank && (long)items_done >= abort_after)
        MPI_Abort(MPI_COMM_WORLD, 86);
}

struct walk {
    const mpb_plan *plan;
    const mpb_index *idx;
    const mpb_drive_opts *opts;
    int rank;
    uint64_t done_bytes, plan_bytes;
    size_t done_items;
};

static void item_done(struct walk *w, const mpb_item *it, size_t tensor)
{
    w->done_items++;
    w->done_bytes += mpb_item_bytes(w->idx, it, w->opts->min_elem_size);
    if (w->rank == 0 && w->opts->progress)
        w->opts->progress(w->opts->progress_ctx, w->done_bytes,
                          w->plan->rank_bytes[0], w->plan_bytes, tensor + 1, w->idx->n);
    maybe_inject_abort(w->rank, w->done_items);
}

static int drive_independent(struct walk *w, mpb_step_fn step, void *ctx, mpb_error *err)
{
    for (size_t i = 0; i < w->plan->n_items && err->code == MPB_OK; i++) {
        const mpb_item *it = &w->plan->items[i];
        if ((int)it->rank != w->rank)
            continue;
        if (step(ctx, it->tensor, it, false, err) == MPB_OK)
            item_done(w, it, it->tensor);
    }
    return err->code;
}

/* Items of one tensor are contiguous in the plan; round k of that tensor
 * gives each rank its k-th item there. */
static int drive_collective(struct walk *w, MPI_Comm comm, mpb_step_fn step, void *ctx,
                            mpb_error *err)
{
    int nranks = w->plan->nranks;
    size_t *count = calloc((size_t)nranks, sizeof *count);
    const mpb_item **mine = malloc((w->plan->n_items + 1) * sizeof *mine);
    if (count == NULL || mine == NULL) {
        free(count);
        free(mine);
        mpb_fail(err, MPB_ENOMEM, "out of memory in the driver");
        return mpb_comm_agree(err, comm);
    }
    size_t i = 0;
    int rc = MPB_OK;
    while (i < w->plan->n_items && rc == MPB_OK) {
        size_t tensor = w->plan->items[i].tensor, n_mine = 0, rounds = 0;
        for (int r = 0; r < nranks; r++)
            count[r] = 0;
        for (; i < w->plan->n_items && w->plan->items[i].tensor == tensor; i++) {
            const mpb_item *it = &w->plan->items[i];
            count[it->rank]++;
            if ((int)it->rank == w->rank)
                mine[n_mine++] = it;
        }
        for (int r = 0; r < nranks; r++)
            if (count[r] > rounds)
                rounds = count[r];
        for (size_t k = 0; k < rounds; k++) {
            const mpb_item *it = k < n_mine ? mine[k] : NULL;
            bool failed = err->code != MPB_OK;
            if (step(ctx, tensor, failed ? NULL : it, failed, err) == MPB_OK && it)
                item_done(w, it, tensor);
        }
        rc = mpb_comm_agree(err, comm);
    }
    free(count);
    free(mine);
    return rc;
}

int mpb_drive(const mpb_plan *plan, const mpb_index *idx, MPI_Comm comm,
              const mpb_drive_opts *opts, mpb_step_fn step, void *ctx, mpb_error *err)
{
    struct walk w = {.plan = plan, .idx = idx, .opts = opts};
    MPI_Comm_rank(comm, &w.rank);
    for (int r = 0; r < plan->nranks; r++)
        w.plan_bytes += plan->rank_bytes[r];
    if (opts->collective)
        return drive_collective(&w, comm, step, ctx, err);
    drive_independent(&w, step, ctx, err);
    return mpb_comm_agree(err, comm);
}
