/* After a pass: every rank gets every row sum, column sum and count.  All
 * exchanges are exact: a row's slot is nonzero on one rank only, column
 * sums are exact accumulators, and counts are integers. */
#include "mpb_merge_stats_internal.h"

#include "mpb_comm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int by_slot_then_key_descending(const void *pa, const void *pb)
{
    const stats_rec *a = pa, *b = pb;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? 1 : -1;
    return a->row < b->row ? 1 : a->row > b->row ? -1 : 0;
}

size_t stats_compact(stats_rec *recs, size_t n)
{
    qsort(recs, n, sizeof *recs, by_slot_then_key_descending);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        stats_rec *last = kept ? &recs[kept - 1] : NULL;
        if (last && last->slot == recs[i].slot && last->key == recs[i].key &&
            last->row == recs[i].row)
            last->count += recs[i].count;
        else
            recs[kept++] = recs[i];
    }
    return kept;
}

static void sum_row_sums(stats_run *s, MPI_Comm comm)
{
    const size_t piece_max = (size_t)INT_MAX / 2;
    for (size_t off = 0; off < s->n_sums; off += piece_max) {
        size_t piece = s->n_sums - off < piece_max ? s->n_sums - off : piece_max;
        MPI_Allreduce(MPI_IN_PLACE, s->sums + off, (int)piece, MPI_DOUBLE, MPI_SUM, comm);
    }
}

/* Exact: each rank's accumulators are normalised first (limbs below 2^32),
 * so adding their words over the ranks cannot overflow, and the exact sum
 * of every rank's exact sum is the same for any split of the rows. */
static void sum_column_sums(stats_run *s, MPI_Comm comm)
{
    for (size_t k = 0; k < s->n_cols; k++)
        mpb_exact_sum_normalise(&s->cols[k]);
    int64_t *words = s->cols ? s->cols[0].w : NULL;
    size_t n_words = s->n_cols * MPB_EXACT_WORDS;
    const size_t piece_max = (size_t)INT_MAX / 2;
    for (size_t off = 0; off < n_words; off += piece_max) {
        size_t piece = n_words - off < piece_max ? n_words - off : piece_max;
        MPI_Allreduce(MPI_IN_PLACE, words + off, (int)piece, MPI_INT64_T, MPI_SUM, comm);
    }
    for (size_t k = 0; k < s->n_cols; k++)
        mpb_exact_sum_normalise(&s->cols[k]);
}

int stats_exchange(stats_run *s, MPI_Comm comm, mpb_error *err)
{
    sum_row_sums(s, comm);
    sum_column_sums(s, comm);
    int nranks;
    MPI_Comm_size(comm, &nranks);
    int *counts = malloc((size_t)nranks * sizeof *counts);
    int *displs = malloc((size_t)nranks * sizeof *displs);
    if (counts == NULL || displs == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory exchanging statistics");
    if (s->n_recs > (size_t)INT_MAX)
        mpb_fail(err, MPB_EINTERNAL, "%zu statistics records on one rank", s->n_recs);
    int rc = mpb_comm_agree(err, comm);
    int mine = (int)s->n_recs;
    if (rc == MPB_OK)
        MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, comm);
    size_t total = 0;
    for (int i = 0; rc == MPB_OK && i < nranks; i++) {
        displs[i] = (int)total;
        total += (size_t)counts[i];
    }
    stats_rec *all = NULL;
    if (rc == MPB_OK && total > (size_t)INT_MAX)
        mpb_fail(err, MPB_EINTERNAL, "%zu statistics records in one batch", total);
    else if (rc == MPB_OK && (all = malloc((total ? total : 1) * sizeof *all)) == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for %zu statistics records", total);
    if (rc == MPB_OK)
        rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK) {
        MPI_Datatype rec_type;
        MPI_Type_contiguous(4, MPI_UINT64_T, &rec_type);
        MPI_Type_commit(&rec_type);
        MPI_Allgatherv(s->recs, mine, rec_type, all, counts, displs, rec_type, comm);
        MPI_Type_free(&rec_type);
        free(s->recs);
        s->recs = all;
        s->n_recs = stats_compact(all, total);
        s->cap_recs = total;
        all = NULL;
    }
    free(all);
    free(counts);
    free(displs);
    return rc;
}

void stats_slot_range(const stats_run *s, uint64_t slot, size_t *begin, size_t *end)
{
    size_t lo = 0, hi = s->n_recs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->recs[mid].slot < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    *begin = lo;
    hi = s->n_recs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->recs[mid].slot <= slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    *end = lo;
}

static bool wants_magnitudes(const model_state *m)
{
    return m->cut[0].stage == CUT_HIGH || m->cut[1].stage == CUT_HIGH;
}

static int find_shared(const stats_run *s, size_t tensor, size_t input)
{
    for (size_t k = 0; k < s->n_shared; k++)
        if (s->shared[k].tensor == tensor && s->shared[k].input == input)
            return (int)k;
    return -1;
}

void stats_share_mark(stats_run *s)
{
    for (size_t pos = 0; pos < s->n_ts; pos++) {
        const mpb_merge_task *task = &s->r->task[s->ts[pos].tensor];
        for (size_t k = 0; k < task->spec.n_models; k++)
            s->ts[pos].m[k].shared =
                wants_magnitudes(&s->ts[pos].m[k])
                    ? find_shared(s, s->ts[pos].tensor, task->spec.models[k].input)
                    : -1;
    }
}

/* Keeps a copy of the exchanged magnitudes of slot (sorted records). */
static int keep_magnitudes(stats_run *s, uint64_t slot, size_t tensor, size_t input,
                           mpb_error *err)
{
    size_t begin, end;
    stats_slot_range(s, slot, &begin, &end);
    shared_magnitudes *grown = realloc(s->shared, (s->n_shared + 1) * sizeof *s->shared);
    stats_rec *copy = malloc((end - begin + 1) * sizeof *copy);
    if (grown)
        s->shared = grown;
    if (grown == NULL || copy == NULL) {
        free(copy);
        return mpb_fail(err, MPB_ENOMEM, "out of memory sharing magnitudes");
    }
    memcpy(copy, s->recs + begin, (end - begin) * sizeof *copy);
    s->shared[s->n_shared++] =
        (shared_magnitudes){.tensor = tensor, .input = input, .recs = copy, .n = end - begin};
    return MPB_OK;
}

int stats_share_magnitudes(stats_run *s, mpb_error *err)
{
    /* First keep what this recipe histogrammed (the records are sorted),
     * then add what it took, and sort again. */
    for (int adding = 0; adding < 2; adding++) {
        for (size_t pos = 0; pos < s->n_ts; pos++) {
            const mpb_merge_task *task = &s->r->task[s->ts[pos].tensor];
            for (size_t k = 0; k < task->spec.n_models; k++) {
                const model_state *m = &s->ts[pos].m[k];
                uint64_t slot = stats_slot(pos, k, 0);
                size_t input = task->spec.models[k].input;
                if (!wants_magnitudes(m) || adding != (m->shared >= 0))
                    continue;
                if (!adding && keep_magnitudes(s, slot, s->ts[pos].tensor, input, err))
                    return err->code;
                const shared_magnitudes *sh = adding ? &s->shared[m->shared] : NULL;
                for (size_t i = 0; sh && i < sh->n; i++)
                    if (stats_add_rec(s, slot, sh->recs[i].key, sh->recs[i].row,
                                      sh->recs[i].count, err) != MPB_OK)
                        return err->code;
            }
        }
    }
    s->n_recs = stats_compact(s->recs, s->n_recs);
    return MPB_OK;
}

void stats_share_clear(stats_run *s)
{
    for (size_t k = 0; k < s->n_shared; k++)
        free(s->shared[k].recs);
    free(s->shared);
    s->shared = NULL;
    s->n_shared = 0;
}
