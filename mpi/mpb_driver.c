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

static void item_done(struct walk *w, const mpb_item *it)
{
    w->done_items++;
    w->done_bytes += mpb_item_bytes(w->idx, it, w->opts->min_elem_size);
    const mpb_drive_opts *o = w->opts;
    if (w->rank == 0 && o->progress)
        o->progress(o->progress_ctx, o->progress_before + w->done_bytes,
                    o->progress_rank0_total ? o->progress_rank0_total : w->plan->rank_bytes[0],
                    o->progress_job_total ? o->progress_job_total : w->plan_bytes,
                    (size_t)it->tensor + 1, w->idx->n);
    maybe_inject_abort(w->rank, w->done_items);
}

static int drive_independent(struct walk *w, mpb_round_fn step, void *ctx, mpb_error *err)
{
    static const uint64_t at0 = 0;
    for (size_t i = 0; i < w->plan->n_items && err->code == MPB_OK; i++) {
        const mpb_item *it = &w->plan->items[i];
        if ((int)it->rank != w->rank)
            continue;
        mpb_round round = {.n = 1, .items = &it, .at = &at0};
        if (step(ctx, &round, err) == MPB_OK)
            item_done(w, it);
    }
    return err->code;
}

/* Plan order keeps each rank's items in nondecreasing rounds (the plan
 * gives every item its round), so one walk over them serves every round;
 * a round's items lie in the buffers in plan order, which for a run of
 * consecutive tensors is also their order in the file. */
static int drive_collective(struct walk *w, MPI_Comm comm, mpb_round_fn step, void *ctx,
                            mpb_error *err)
{
    const mpb_plan *plan = w->plan;
    size_t n_rounds = 0, n_mine = 0;
    uint32_t *round_of = malloc((plan->n_items + 1) * sizeof *round_of);
    const mpb_item **mine = malloc((plan->n_items + 1) * sizeof *mine);
    uint64_t *at = malloc((plan->n_items + 1) * sizeof *at);
    if (round_of == NULL || mine == NULL || at == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory in the driver");
    else
        mpb_plan_rounds(plan, w->idx, w->opts->min_elem_size, round_of, &n_rounds, err);
    int rc = mpb_comm_agree(err, comm);
    size_t next = 0; /* the plan position of this rank's next item */
    /* Round k's vote is counted after round k + MPB_DRIVE_VOTE_LAG: a rank
     * that failed still makes the rounds in between with nothing to move
     * (every step is collective-safe), and all ranks stop after the same
     * round. */
    mpb_comm_ballot ballot[MPB_DRIVE_VOTE_LAG + 1];
    size_t cast = 0, counted = 0;
    for (size_t k = 0; k < n_rounds && rc == MPB_OK; k++) {
        n_mine = 0;
        uint64_t fill = 0;
        for (; next < plan->n_items; next++) {
            const mpb_item *it = &plan->items[next];
            if ((int)it->rank != w->rank)
                continue;
            if (round_of[next] != k)
                break;
            mine[n_mine] = it;
            at[n_mine++] = fill;
            fill += mpb_item_bytes(w->idx, it, w->opts->min_elem_size);
        }
        mpb_round round = {.n = err->code == MPB_OK ? n_mine : 0, .items = mine, .at = at};
        if (step(ctx, &round, err) == MPB_OK)
            for (size_t j = 0; j < round.n; j++)
                item_done(w, mine[j]);
        mpb_comm_ballot_cast(&ballot[cast++ % (MPB_DRIVE_VOTE_LAG + 1)], err, comm);
        if (cast - counted > MPB_DRIVE_VOTE_LAG)
            rc =
                mpb_comm_ballot_count(&ballot[counted++ % (MPB_DRIVE_VOTE_LAG + 1)], err, comm);
    }
    while (counted < cast) {
        int later =
            mpb_comm_ballot_count(&ballot[counted++ % (MPB_DRIVE_VOTE_LAG + 1)], err, comm);
        rc = rc != MPB_OK ? rc : later;
    }
    free(round_of);
    free(mine);
    free(at);
    return rc;
}

int mpb_drive(const mpb_plan *plan, const mpb_index *idx, MPI_Comm comm,
              const mpb_drive_opts *opts, mpb_round_fn step, void *ctx, mpb_error *err)
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

uint64_t mpb_drive_buffer_bytes(const mpb_plan *plan, const mpb_index *idx,
                                size_t min_elem_size, bool collective)
{
    if (collective)
        return mpb_plan_round_budget(plan, idx, min_elem_size);
    return mpb_plan_max_item_bytes(plan, idx, min_elem_size);
}

int mpb_drive_read(mpb_store *in, const mpb_item *it, void *buf, mpb_error *err)
{
    if (err->code != MPB_OK)
        return err->code;
    return in->ops->read_rows(in->handle, it->tensor, it->row0, it->nrows, buf, err);
}

int mpb_drive_write(mpb_store *out, const mpb_item *it, const void *buf, mpb_error *err)
{
    if (err->code != MPB_OK)
        return err->code;
    return out->ops->write_rows(out->handle, it->tensor, it->row0, it->nrows, buf, err);
}
