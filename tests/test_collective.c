/* The collective primitives under mpiexec with 1-4 ranks (tests/core.cmake),
 * the way HDF5's parallel tests run: mpb_comm_agree hands the lowest failing
 * rank's error to every rank, and mpb_drive's collective rounds reach every
 * rank in every round (empty ones included), cover each item once, stay
 * within the round budget, number about bytes / (ranks x slab), and stop on
 * every rank when one rank's step fails. */
#include "mpb_comm.h"
#include "mpb_driver.h"

#include <mpi.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int rank, size;

static void test_agree_all_clear(void **state)
{
    (void)state;
    mpb_error err = {0};
    assert_int_equal(mpb_comm_agree(&err, MPI_COMM_WORLD), MPB_OK);
    assert_int_equal(err.code, MPB_OK);
}

/* Every nonempty set of failing ranks: each fails with its own code and
 * message; every rank ends with the lowest one's. */
static void test_agree_lowest_failing_rank(void **state)
{
    (void)state;
    for (unsigned set = 1; set < (1u << size); set++) {
        int lowest = __builtin_ctz(set);
        mpb_error err = {0};
        if (set & (1u << rank))
            mpb_fail(&err, 10 + rank, "rank %d failed", rank);
        assert_int_equal(mpb_comm_agree(&err, MPI_COMM_WORLD), 10 + lowest);
        assert_int_equal(err.code, 10 + lowest);
        char want[32];
        snprintf(want, sizeof want, "rank %d failed", lowest);
        assert_string_equal(err.msg, want);
    }
}

/* Tensors of varied sizes and dtypes, empty and scalar ones included. */
static void make_index(mpb_index *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%03zu", i);
        uint64_t shape[2] = {i % 7 == 3 ? 0 : 1 + (i * 37) % 200, 1 + (i * 11) % 50};
        int ndim = i % 9 == 5 ? 0 : 2;
        mpb_dtype dt = i % 2 ? MPB_DT_BF16 : MPB_DT_F32;
        assert_int_equal(mpb_index_add(idx, name, dt, ndim, shape, NULL), MPB_OK);
    }
    mpb_index_sort(idx);
}

struct record {
    const mpb_plan *plan;
    const mpb_index *idx;
    uint64_t budget;
    size_t calls, empty_calls;
    int *seen;     /* per plan item: times this rank's step got it */
    int fail_rank; /* this rank's step fails in round fail_round */
    size_t fail_round;
    int bad; /* a round broke a rule (checked after the collective) */
};

static int record_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct record *r = ctx;
    uint64_t fill = 0;
    r->bad |= err->code != MPB_OK && round->n > 0; /* nothing moves after a failure */
    for (size_t k = 0; k < round->n; k++) {
        const mpb_item *it = round->items[k];
        r->seen[it - r->plan->items]++;
        r->bad |= (int)it->rank != rank || round->at[k] != fill;
        fill += mpb_item_bytes(r->idx, it, 0);
    }
    r->bad |= fill > r->budget;
    r->empty_calls += round->n == 0;
    if (rank == r->fail_rank && r->calls == r->fail_round)
        mpb_fail(err, 40 + rank, "step failed on rank %d", rank);
    r->calls++;
    return err->code;
}

static int drive(const mpb_plan *plan, const mpb_index *idx, bool collective, struct record *r,
                 mpb_error *err)
{
    *r = (struct record){.plan = plan,
                         .idx = idx,
                         .fail_rank = r->fail_rank,
                         .fail_round = r->fail_round,
                         .budget = mpb_plan_round_budget(plan, idx, 0),
                         .seen = calloc(plan->n_items + 1, sizeof(int))};
    assert_non_null(r->seen);
    mpb_drive_opts opts = {.collective = collective};
    return mpb_drive(plan, idx, MPI_COMM_WORLD, &opts, record_round, r, err);
}

static void check_rounds(uint64_t slab, size_t n_tensors)
{
    mpb_index idx = {0};
    make_index(&idx, n_tensors);
    mpb_plan plan = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_plan_build(&idx, size, slab, 0, &plan, &err), MPB_OK);
    size_t n_rounds = 0;
    assert_int_equal(mpb_plan_rounds(&plan, &idx, 0, NULL, &n_rounds, &err), MPB_OK);
    struct record r = {.fail_rank = -1};
    assert_int_equal(drive(&plan, &idx, true, &r, &err), MPB_OK);
    /* Every rank in every round: the same number of calls everywhere. */
    size_t lo, hi;
    MPI_Allreduce(&r.calls, &lo, 1, MPI_UNSIGNED_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&r.calls, &hi, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
    assert_int_equal(lo, n_rounds);
    assert_int_equal(hi, n_rounds);
    assert_false(r.bad);
    /* Each item once, on its own rank. */
    int *all = calloc(plan.n_items + 1, sizeof *all);
    MPI_Allreduce(r.seen, all, (int)plan.n_items, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (size_t i = 0; i < plan.n_items; i++)
        assert_int_equal(all[i], 1);
    /* The round count is bounded by bytes, not by tensors. */
    uint64_t total = 0;
    for (int k = 0; k < size; k++)
        total += plan.rank_bytes[k];
    assert_true(n_rounds <= total / ((uint64_t)size * slab) + 2);
    if (n_tensors > 0)
        assert_true(n_rounds < plan.n_items || plan.n_items <= 2);
    free(all);
    free(r.seen);
    mpb_plan_free(&plan);
    mpb_index_free(&idx);
}

static void test_rounds(void **state)
{
    (void)state;
    check_rounds(4096, 60);
    check_rounds(1000, 25);
    check_rounds(1 << 20, 60); /* everything in one round */
    check_rounds(4096, 0);     /* no tensors: no rounds */
}

/* One small tensor of one row: one item on one rank, and every other rank
 * still takes part in the one round, with nothing to move. */
static void test_empty_rounds(void **state)
{
    (void)state;
    mpb_index idx = {0};
    uint64_t shape[2] = {1, 4};
    assert_int_equal(mpb_index_add(&idx, "only", MPB_DT_F32, 2, shape, NULL), MPB_OK);
    mpb_plan plan = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_plan_build(&idx, size, 4096, 0, &plan, &err), MPB_OK);
    struct record r = {.fail_rank = -1};
    assert_int_equal(drive(&plan, &idx, true, &r, &err), MPB_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.empty_calls, (int)plan.items[0].rank == rank ? 0 : 1);
    free(r.seen);
    mpb_plan_free(&plan);
    mpb_index_free(&idx);
}

/* A step fails on the last rank in its second round (collective) or on its
 * second item (independent): every rank returns that rank's error.  In
 * collective mode a round's failure is counted MPB_DRIVE_VOTE_LAG rounds
 * later, so every rank stops after that round, and the failing rank joins
 * the rounds in between with nothing to move. */
static void check_failure(bool collective)
{
    mpb_index idx = {0};
    make_index(&idx, 60);
    mpb_plan plan = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_plan_build(&idx, size, 2048, 0, &plan, &err), MPB_OK);
    struct record r = {.fail_rank = size - 1, .fail_round = 1};
    assert_int_equal(drive(&plan, &idx, collective, &r, &err), 40 + size - 1);
    assert_int_equal(err.code, 40 + size - 1);
    char want[48];
    snprintf(want, sizeof want, "step failed on rank %d", size - 1);
    assert_string_equal(err.msg, want);
    if (collective) {
        size_t lo, hi;
        MPI_Allreduce(&r.calls, &lo, 1, MPI_UNSIGNED_LONG, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(&r.calls, &hi, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
        assert_int_equal(lo, 2 + MPB_DRIVE_VOTE_LAG);
        assert_int_equal(hi, 2 + MPB_DRIVE_VOTE_LAG);
        if (rank == size - 1)
            assert_int_equal(r.empty_calls, MPB_DRIVE_VOTE_LAG);
        assert_int_equal(r.bad, 0);
    } else if (rank == size - 1) {
        assert_int_equal(r.calls, 2); /* no item after the failure */
    }
    free(r.seen);
    mpb_plan_free(&plan);
    mpb_index_free(&idx);
}

static void test_failure_collective(void **state)
{
    (void)state;
    check_failure(true);
}

static void test_failure_independent(void **state)
{
    (void)state;
    check_failure(false);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agree_all_clear),
        cmocka_unit_test(test_agree_lowest_failing_rank),
        cmocka_unit_test(test_rounds),
        cmocka_unit_test(test_empty_rounds),
        cmocka_unit_test(test_failure_collective),
        cmocka_unit_test(test_failure_independent),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* A rank whose assertion failed left the others in a collective: end
     * the job rather than hang. */
    int any;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}
