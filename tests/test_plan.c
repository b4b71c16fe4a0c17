/* Partitioner properties: every element covered exactly once, rounds of
 * about ranks x slab bytes in which each rank's share is one run of
 * consecutive items under a slab plus a row, ranks in each round in rank
 * order (so their file ranges do not interleave), rank loads within a few
 * rows per round of each other, deterministic. */
#include "mpb_plan.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void random_index(mpb_index *idx, uint64_t seed, size_t n)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "t%04zu", i);
        int ndim = (int)(lcg(&s) % 4); /* scalars included */
        uint64_t shape[3];
        for (int d = 0; d < ndim; d++)
            shape[d] = 1 + lcg(&s) % (d == 0 ? 3000 : 300);
        if (lcg(&s) % 17 == 0 && ndim > 0)
            shape[0] = 0; /* an empty tensor */
        mpb_dtype dt = (mpb_dtype[]){MPB_DT_BF16, MPB_DT_F32, MPB_DT_I64}[lcg(&s) % 3];
        assert_int_equal(mpb_index_add(idx, name, dt, ndim, shape, NULL), MPB_OK);
    }
    mpb_index_sort(idx);
}

/* Each rank's share of each round: one run of consecutive items, ranks in
 * increasing order, rounds nondecreasing, under a slab plus the largest
 * row and within the round budget.  Returns the number of rounds. */
static uint64_t check_rounds(const mpb_plan *plan, const mpb_index *idx, size_t min_es,
                             uint64_t slab, uint64_t max_row)
{
    uint64_t budget = mpb_plan_round_budget(plan, idx, min_es), fill = 0, rounds = 0;
    for (size_t k = 0; k < plan->n_items; k++) {
        const mpb_item *it = &plan->items[k], *prev = k ? &plan->items[k - 1] : NULL;
        bool same = prev && prev->round == it->round && prev->rank == it->rank;
        if (prev && !same)
            assert_true(prev->round < it->round ||
                        (prev->round == it->round && prev->rank < it->rank));
        rounds += prev == NULL || prev->round != it->round;
        fill = (same ? fill : 0) + mpb_item_bytes(idx, it, min_es);
        assert_true(fill < slab + max_row || fill == 0);
        assert_true(fill <= budget);
    }
    size_t n_rounds = 99;
    assert_int_equal(mpb_plan_rounds(plan, idx, min_es, NULL, &n_rounds, NULL), MPB_OK);
    assert_int_equal(n_rounds, rounds);
    return rounds;
}

static void check_plan(const mpb_index *idx, int nranks, uint64_t slab, size_t min_es)
{
    mpb_plan plan;
    mpb_error err = {0};
    assert_int_equal(mpb_plan_build(idx, nranks, slab, min_es, &plan, &err), MPB_OK);
    /* Coverage: items of a tensor are consecutive and tile its rows. */
    size_t i = 0;
    uint64_t max_row = 0;
    for (size_t t = 0; t < idx->n; t++) {
        uint64_t next_row = 0;
        uint64_t row =
            mpb_item_bytes(idx, &(mpb_item){.tensor = (uint32_t)t, .nrows = 1}, min_es);
        max_row = row > max_row ? row : max_row;
        for (; i < plan.n_items && plan.items[i].tensor == t; i++) {
            const mpb_item *it = &plan.items[i];
            assert_int_equal(it->row0, next_row);
            assert_true(it->nrows > 0);
            assert_true(it->rank < (uint32_t)nranks);
            next_row += it->nrows;
        }
        uint64_t rows = idx->tensors[t].ndim ? idx->tensors[t].shape[0] : 1;
        assert_int_equal(next_row, rows);
    }
    assert_int_equal(i, plan.n_items);
    uint64_t lo = UINT64_MAX, hi = 0, total = 0;
    uint64_t *recount = calloc((size_t)nranks, sizeof *recount);
    for (size_t k = 0; k < plan.n_items; k++)
        recount[plan.items[k].rank] += mpb_item_bytes(idx, &plan.items[k], min_es);
    for (int r = 0; r < nranks; r++) {
        assert_int_equal(recount[r], plan.rank_bytes[r]);
        lo = recount[r] < lo ? recount[r] : lo;
        hi = recount[r] > hi ? recount[r] : hi;
        total += recount[r];
    }
    /* Rounds bounded by bytes: ceil(total / (ranks x slab)) and at most one
     * more for the last stretch's shortfall. */
    uint64_t rounds = check_rounds(&plan, idx, min_es, slab, max_row);
    uint64_t per_round = (uint64_t)nranks * slab;
    assert_true(rounds <= (total + per_round - 1) / per_round + 1);
    /* Balance: each stretch is its equal share to within two rows (it ends
     * less than a row short of its target, or takes the row straddling it). */
    assert_true(hi - lo <= rounds * (4 * max_row + 1));
    /* Determinism: a second build gives the same plan. */
    mpb_plan again;
    assert_int_equal(mpb_plan_build(idx, nranks, slab, min_es, &again, &err), MPB_OK);
    assert_int_equal(again.n_items, plan.n_items);
    assert_memory_equal(again.items, plan.items, plan.n_items * sizeof *plan.items);
    mpb_plan_free(&again);
    free(recount);
    mpb_plan_free(&plan);
}

static void test_properties_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        mpb_index idx = {0};
        random_index(&idx, seed, 40 + seed * 7);
        for (int nranks = 1; nranks <= 9; nranks += 2)
            for (uint64_t slab = 1000; slab <= 4000000; slab *= 7)
                check_plan(&idx, nranks, slab, seed % 2 ? 0 : 4);
        mpb_index_free(&idx);
    }
}

static void test_split_sizes(void **state)
{
    (void)state;
    mpb_index idx = {0};
    uint64_t shape[2] = {1000, 256}; /* bf16 rows of 512 bytes */
    assert_int_equal(mpb_index_add(&idx, "w", MPB_DT_BF16, 2, shape, NULL), MPB_OK);
    mpb_plan plan;
    /* 512,000 bytes, 2 ranks x 100 KiB a round: 3 rounds, 6 stretches of
     * 166 or 167 rows, ranks alternating. */
    assert_int_equal(mpb_plan_build(&idx, 2, 100 * 1024, 0, &plan, NULL), MPB_OK);
    assert_int_equal(plan.n_items, 6);
    for (size_t i = 0; i < plan.n_items; i++) {
        assert_in_range(plan.items[i].nrows, 166, 167);
        assert_int_equal(plan.items[i].rank, i % 2);
        assert_int_equal(plan.items[i].round, i / 2);
    }
    assert_int_equal(plan.rank_items[0] + plan.rank_items[1], 6);
    mpb_plan_free(&plan);
    /* An f32 output doubles the element size: 5 rounds of 2 x 100 rows. */
    assert_int_equal(mpb_plan_build(&idx, 2, 100 * 1024, 4, &plan, NULL), MPB_OK);
    assert_int_equal(plan.n_items, 10);
    for (size_t i = 0; i < plan.n_items; i++)
        assert_int_equal(plan.items[i].nrows, 100);
    mpb_plan_free(&plan);
    /* One row larger than the slab stays whole, alone in its stretch. */
    mpb_index big = {0};
    uint64_t wide[2] = {3, 100000}; /* 200,000-byte rows */
    assert_int_equal(mpb_index_add(&big, "w", MPB_DT_BF16, 2, wide, NULL), MPB_OK);
    assert_int_equal(mpb_plan_build(&big, 2, 100 * 1024, 0, &plan, NULL), MPB_OK);
    assert_int_equal(plan.n_items, 3);
    for (size_t i = 0; i < plan.n_items; i++)
        assert_int_equal(plan.items[i].nrows, 1);
    assert_int_equal(mpb_plan_round_budget(&plan, &big, 0), 200000);
    mpb_plan_free(&plan);
    mpb_index_free(&big);
    mpb_index_free(&idx);
}

static void test_rejects_bad_slab(void **state)
{
    (void)state;
    mpb_index idx = {0};
    uint64_t shape[1] = {4};
    assert_int_equal(mpb_index_add(&idx, "w", MPB_DT_F32, 1, shape, NULL), MPB_OK);
    mpb_plan plan;
    mpb_error err = {0};
    assert_int_equal(mpb_plan_build(&idx, 2, 0, 0, &plan, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "slab size"));
    mpb_error_clear(&err);
    assert_int_equal(mpb_plan_build(&idx, 2, (1ull << 30) + 1, 0, &plan, &err), MPB_EINVAL);
    mpb_index_free(&idx);
}

static void test_index_pack_roundtrip(void **state)
{
    (void)state;
    mpb_index idx = {0}, back = {0};
    random_index(&idx, 99, 300);
    unsigned char *buf;
    size_t len;
    assert_int_equal(mpb_index_pack(&idx, &buf, &len, NULL), MPB_OK);
    assert_int_equal(mpb_index_unpack(buf, len, &back, NULL), MPB_OK);
    assert_int_equal(back.n, idx.n);
    for (size_t i = 0; i < idx.n; i++) {
        assert_string_equal(back.tensors[i].name, idx.tensors[i].name);
        assert_int_equal(back.tensors[i].dtype, idx.tensors[i].dtype);
        assert_int_equal(back.tensors[i].ndim, idx.tensors[i].ndim);
        assert_memory_equal(back.tensors[i].shape, idx.tensors[i].shape,
                            sizeof(uint64_t) * (size_t)idx.tensors[i].ndim);
    }
    mpb_error err = {0};
    mpb_index trunc = {0};
    assert_int_not_equal(mpb_index_unpack(buf, len - 3, &trunc, &err), MPB_OK);
    free(buf);
    mpb_index_free(&trunc);
    mpb_index_free(&idx);
    mpb_index_free(&back);
}

static void test_index_check_same(void **state)
{
    (void)state;
    mpb_index a = {0}, b = {0};
    uint64_t s1[2] = {4, 8}, s2[2] = {4, 9};
    mpb_index_add(&a, "x", MPB_DT_BF16, 2, s1, NULL);
    mpb_index_add(&a, "y", MPB_DT_BF16, 2, s1, NULL);
    mpb_index_add(&b, "x", MPB_DT_BF16, 2, s2, NULL);
    mpb_index_sort(&a);
    mpb_index_sort(&b);
    mpb_error err = {0};
    assert_int_equal(mpb_index_check_same(&a, "a.h5", &b, "b.h5", &err), MPB_EINVAL);
    assert_string_equal(err.msg, "tensor 'x' has shape [4, 8] in 'a.h5' but [4, 9] in 'b.h5'");
    mpb_index_add(&b, "y", MPB_DT_F16, 2, s1, NULL);
    mpb_index_sort(&b);
    b.tensors[0].shape[1] = 8;
    mpb_error_clear(&err);
    assert_int_equal(mpb_index_check_same(&a, "a.h5", &b, "b.h5", &err), MPB_EINVAL);
    assert_string_equal(err.msg, "tensor 'y' has dtype bf16 in 'a.h5' but f16 in 'b.h5'");
    mpb_index_free(&b);
    mpb_index_add(&b, "x", MPB_DT_BF16, 2, s1, NULL);
    mpb_error_clear(&err);
    assert_int_equal(mpb_index_check_same(&a, "a.h5", &b, "b.h5", &err), MPB_EINVAL);
    assert_string_equal(err.msg, "tensor 'y' is in 'a.h5' but missing from 'b.h5'");
    mpb_index_free(&a);
    mpb_index_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_properties_random), cmocka_unit_test(test_split_sizes),
        cmocka_unit_test(test_rejects_bad_slab),  cmocka_unit_test(test_index_pack_roundtrip),
        cmocka_unit_test(test_index_check_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
