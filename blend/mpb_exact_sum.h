/* An exact sum of doubles: a fixed-point superaccumulator of 32-bit limbs
 * held in int64 words.  Because nothing is rounded until the end, the sum
 * does not depend on the order of the additions, nor on how they are split
 * between accumulators that are merged afterwards (by adding their words,
 * e.g. MPI_Allreduce(MPI_INT64_T, MPI_SUM)); mpb_exact_sum_value rounds it
 * once, to nearest even.
 *
 * The limbs cover 2^-320 .. 2^320 and beyond: every product of two fp32
 * values (exact in double, a multiple of 2^-298, below 2^256 in magnitude)
 * is exact here.  A finite value outside that range is counted and makes
 * the result NaN; infinities and NaN make it what a double sum of them
 * gives (+inf, -inf, or NaN when both signs or a NaN were added). */
#ifndef MPB_EXACT_SUM_H
#define MPB_EXACT_SUM_H

#include <stddef.h>
#include <stdint.h>

enum {
    MPB_EXACT_LIMBS = 20, /* value = sum of limb[i] * 2^(32 i - 320) */
    MPB_EXACT_POS_INF = MPB_EXACT_LIMBS,
    MPB_EXACT_NEG_INF,
    MPB_EXACT_NAN,
    MPB_EXACT_OUTSIDE, /* finite values the limbs cannot hold */
    MPB_EXACT_PENDING, /* additions since the last normalisation */
    MPB_EXACT_WORDS
};

/* Every word is summable: two normalised accumulators (or n of them, for n
 * below 2^29) merge by adding their words one by one. */
typedef struct mpb_exact_sum {
    int64_t w[MPB_EXACT_WORDS];
} mpb_exact_sum;

void mpb_exact_sum_clear(mpb_exact_sum *a);
void mpb_exact_sum_add(mpb_exact_sum *a, double x);
/* Carries every limb but the top one into [0, 2^32); the value is
 * unchanged and further additions have their full headroom again. */
void mpb_exact_sum_normalise(mpb_exact_sum *a);
/* b's words added to a's (both normalised, or with few enough additions
 * pending); a is normalised after. */
void mpb_exact_sum_merge(mpb_exact_sum *a, const mpb_exact_sum *b);
/* The exact sum rounded once to the nearest double (ties to even). */
double mpb_exact_sum_value(const mpb_exact_sum *a);

#endif
