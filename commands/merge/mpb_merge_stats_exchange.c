/* After a pass: every rank gets every row sum and every count.  Both
 * exchanges are exact: a row's slot is nonzero on one rank only, and counts
 * are integers. */
#include "mpb_merge_stats_internal.h"

#include "mpb_comm.h"

#include <limits.h>
#include <stdlib.h>

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

int stats_exchange(stats_run *s, MPI_Comm comm, mpb_error *err)
{
    sum_row_sums(s, comm);
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
